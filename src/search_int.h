/*
 * search_int.h - helpers the three searches share, defined in src/search.c (src/search*.c only).
 */
#ifndef PARPLAN_SEARCH_INT_H
#define PARPLAN_SEARCH_INT_H

#include "parplan/search.h"

/** Zero @r, set its method and allocate room for @k plans (cfg pointers NULL). */
int pp_search__result_init(pp_search_result *r, pp_search_method m, int n_ops, int k, pp_error *err);
/**
 * PP_EINFEASIBLE with the smallest peak found and the capacity.  The exhaustive search says
 * "no plan fits" (it scored every plan); mcmc and ilp, which are not exhaustive, say "found no
 * plan that fits".
 */
int pp_search__infeasible(pp_error *err, pp_search_method m, double min_peak_gib, double capacity_gib);
/** PP_EINFEASIBLE from a space walk's counts (smallest peak scored, else the static bound). */
int pp_search__infeasible_st(pp_error *err, pp_search_method m, const pp_space_stats *st);
/**
 * When a search must end early, checked in every phase that can run long (the space walk's
 * visits, each MIP through GLPK's callback, the stage DP's rows, the chains' steps): the caller's
 * stop flag at every check (one volatile read), the clock at every @every-th (so a check costs
 * about nothing next to what it guards).  Once it fires it stays fired, and @why says why.
 */
typedef struct pp_search__watch {
	volatile sig_atomic_t *stop;
	double t0;                  /* pp_search_now() at the search's start */
	double limit_s;             /* seconds after t0; 0: none */
	unsigned long calls;
	int why;                    /* pp_search_stop, 0 until it fires */
} pp_search__watch;

/** Watch @o's stop flag and time limit, counting from @t0. */
void pp_search__watch_init(pp_search__watch *w, const pp_search_opts *o, double t0);
/** Nonzero (the reason, sticky) when the search must end now; the clock is read 1 in @every. */
int pp_search__watch_check(pp_search__watch *w, unsigned every);
/**
 * PP_ESTOPPED: "search interrupted before any plan was found" or "time limit (S s) reached
 * before any plan was found", after @why.
 */
int pp_search__stopped_empty(pp_error *err, int why, double time_limit_s);
/** Check the options shared by every search. */
int pp_search__check(const pp_costctx *c, const pp_search_opts *o, pp_error *err);

#endif
