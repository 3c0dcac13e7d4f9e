/*
 * search.h - the three strategy searches over the SOAP space (space.h), scored by the one cost
 * model (cost.h):
 *   exhaustive  every valid global plan with Megatron's per-op configs, memory-pruned; the ground
 *               truth for the other two;
 *   mcmc        FlexFlow's Metropolis-Hastings over per-op configs and global degrees
 *               (Jia et al. 2019, section 4.1), PCG32-seeded, anytime;
 *   ilp         Alpa's intra-op pass as a GLPK MIP (one binary per (op, config), linearised edge
 *               variables charging resharding, a memory row per stage, each layer class solved
 *               once) under an inter-op dynamic program placing stage boundaries.
 * Every result is re-scored by pp_cost_eval, so the three report times on one scale.  Nothing
 * here prints; nothing is global: each search owns its RNG and buffers.
 */
#ifndef PARPLAN_SEARCH_H
#define PARPLAN_SEARCH_H

#include <signal.h>
#include <stdint.h>

#include "parplan/cost.h"
#include "parplan/error.h"
#include "parplan/space.h"
#include "parplan/strategy.h"

typedef enum pp_search_method { PP_SEARCH_EXHAUSTIVE = 0, PP_SEARCH_MCMC, PP_SEARCH_ILP } pp_search_method;

const char *pp_search_method_name(pp_search_method m); /* "exhaustive", "mcmc", "ilp" */
int pp_search_method_parse(const char *s);             /* -1 when unknown */

/** Called now and then by long searches (progress lines); @best_s is 0 before a plan fits. */
typedef void (*pp_search_progress_fn)(void *arg, double states, double seconds, double best_s);

/** Why a search ended before its end (pp_search_result.stopped). */
typedef enum pp_search_stop {
	PP_SEARCH_RAN = 0,          /* it ran to its end */
	PP_SEARCH_STOP_FLAG = 1,    /* *opts.stop was set */
	PP_SEARCH_STOP_TIME = 2     /* opts.time_limit_s was reached */
} pp_search_stop;

/** "interrupted", "time limit reached", or "" for PP_SEARCH_RAN. */
const char *pp_search_stop_name(int stopped);

/** Whether a plan (global part and per-op configs) may be returned; 0 drops it (e.g. a launcher
 * refuses it: `parplan search --launcher`). */
typedef int (*pp_search_accept_fn)(void *arg, const pp_global *gl, const uint8_t *cfg);

typedef struct pp_search_opts {
	pp_space_opts space;
	int top_k;                  /* plans to return, >= 1 */
	uint64_t seed;              /* mcmc */
	double time_limit_s;        /* 0: none; else every method returns its best so far by then
	                             * (mcmc: its budget; ilp: the walk, then GLPK's tm_lim in total) */
	long long max_steps;        /* mcmc, all chains; 0: 50000 unless a time limit is given */
	double beta;                /* mcmc: accept a relative slowdown x with exp(-beta*x) */
	const pp_global *fixed;     /* mcmc, ilp: search per-op configs for this global plan only */
	double target_s;            /* mcmc: record the step the best first reaches this time */
	volatile sig_atomic_t *stop;/* set (e.g. by a signal handler) to return the best so far; read
	                             * in every phase (walk, MIP, stage DP, chains) */
	pp_search_progress_fn progress;
	void *progress_arg;
	pp_search_accept_fn accept; /* NULL: every plan; else only plans it accepts are kept (exhaustive
	                             * and mcmc drop the others; ilp maps a refused per-op plan to
	                             * Megatron's configs under its global plan, kept if accepted) */
	void *accept_arg;
} pp_search_opts;

#define PP_SEARCH_OPTS_INIT {PP_SPACE_OPTS_INIT, 5, 0, 0.0, 0, 100.0, NULL, 0.0, NULL, NULL, NULL, NULL, NULL}

/** One plan found: its global part, every op's config (n_ops entries, owned) and its score. */
typedef struct pp_candidate {
	pp_global global;
	uint8_t *cfg;
	pp_cost cost;
} pp_candidate;

typedef struct pp_search_result {
	pp_search_method method;
	int n_ops;
	int n;                      /* plans found, best first */
	pp_candidate *plans;
	double states;              /* plans (exhaustive), steps (mcmc) or MIPs+DP cells (ilp) */
	double seconds;
	uint64_t seed;
	int optimal;                /* exhaustive: 1; ilp: every MIP proven optimal; mcmc: 0 */
	double gap;                 /* ilp: largest relative MIP gap left, 0 when optimal */
	int stopped;                /* pp_search_stop: what cut the search short (0: nothing) */
	long long target_step;      /* mcmc: first step whose best reached target_s, -1 never */
	double target_seconds;
	double ilp_objective_s;     /* ilp: the MIP's objective for the best plan */
	pp_space_stats space;       /* exhaustive: the walk's counts */
} pp_search_result;

/** Release what a search put in @r (NULL-safe); @r may be searched into again after. */
void pp_search_result_release(pp_search_result *r);

/**
 * Run @method on @c with @o.  On success @r holds at least one feasible plan (caller releases);
 * cut short by the stop flag or the time limit, the best found so far, @r->stopped saying why
 * and @r->optimal 0.  PP_EINFEASIBLE when no plan fits (message: the smallest peak memory found
 * vs capacity), PP_ESTOPPED when stopped before any plan was found, PP_EINVALID for bad
 * options, PP_ENOMEM, PP_EBACKEND (GLPK failure).
 */
int pp_search_run(const pp_costctx *c, pp_search_method method, const pp_search_opts *o,
		  pp_search_result *r, pp_error *err);

int pp_search_exhaustive(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r,
			 pp_error *err);
int pp_search_mcmc(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r, pp_error *err);
int pp_search_ilp(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r, pp_error *err);

/**
 * The ILP's intra-op pass alone: the per-op configs of @gl minimising the per-iteration time
 * as the MIP models it (written to @cfg, n_ops entries, representative configs spread to every
 * layer).  *@objective_s gets the MIP objective, *@optimal whether GLPK proved it, *@gap the
 * relative gap.  PP_EINFEASIBLE when no assignment fits the memory rows.
 */
int pp_ilp_configs(const pp_costctx *c, const pp_global *gl, double time_limit_s, uint8_t *cfg,
		   double *objective_s, int *optimal, double *gap, pp_error *err);

/**
 * Alpa's inter-op pass for one mesh shape: split @n_layers layers with times @layer_s into @p
 * contiguous stages of at least one layer, stage 0 also running @pre_s (embedding) and stage p-1
 * @post_s (LM head, loss), minimising the slowest stage, by dynamic programming in
 * O(p * n_layers^2).  @bounds (may be NULL; p+1 ints) receives each stage's first layer and
 * n_layers last; @cells (may be NULL) is increased by the DP cells visited.  Returns the slowest
 * stage's time, or -1 when p is not in [1, n_layers] or memory runs out.
 */
double pp_stage_dp(const double *layer_s, int n_layers, int p, double pre_s, double post_s,
		   int *bounds, double *cells);

/** Seconds of a monotonic clock (for timings; never part of a result). */
double pp_search_now(void);

#endif
