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
/** Check the options shared by every search. */
int pp_search__check(const pp_costctx *c, const pp_search_opts *o, pp_error *err);

#endif
