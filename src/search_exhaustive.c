/*
 * search_exhaustive.c - score every valid global plan (Megatron's per-op configs), keep the top
 * K; plus what the three searches share (results, method names, the clock).
 */
#include "parplan/search.h"
#include "search_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const method_names[] = {"exhaustive", "mcmc", "ilp"};

const char *pp_search_method_name(pp_search_method m)
{
	return (unsigned)m < 3 ? method_names[m] : "?";
}

int pp_search_method_parse(const char *s)
{
	int i;
	for (i = 0; s && i < 3; i++)
		if (strcmp(s, method_names[i]) == 0)
			return i;
	return -1;
}

double pp_search_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void pp_search_result_release(pp_search_result *r)
{
	int i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->plans[i].cfg);
	free(r->plans);
	memset(r, 0, sizeof(*r));
}

int pp_search__result_init(pp_search_result *r, pp_search_method m, int n_ops, int k, pp_error *err)
{
	memset(r, 0, sizeof(*r));
	r->method = m;
	r->n_ops = n_ops;
	r->target_step = -1;
	r->plans = calloc((size_t)k, sizeof(*r->plans));
	if (!r->plans)
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	return 0;
}

static const char *infeasible_head(pp_search_method m)
{
	return m == PP_SEARCH_EXHAUSTIVE ? "no plan fits" : "found no plan that fits";
}

int pp_search__infeasible_st(pp_error *err, pp_search_method m, const pp_space_stats *st)
{
	if (st->min_peak_gib > 0)
		return pp_search__infeasible(err, m, st->min_peak_gib, st->capacity_gib);
	if (st->min_bound_gib > 0)
		return pp_error_set(err, PP_EINFEASIBLE, NULL, NULL,
				    "%s: every plan needs at least %.1f GiB per GPU for weights, "
				    "gradients and optimizer state, capacity %.1f GiB",
				    infeasible_head(m), st->min_bound_gib, st->capacity_gib);
	return pp_search__infeasible(err, m, 0, 0);
}

int pp_search__infeasible(pp_error *err, pp_search_method m, double min_peak_gib, double capacity_gib)
{
	if (min_peak_gib > 0)
		return pp_error_set(err, PP_EINFEASIBLE, NULL, NULL,
				    "%s: the smallest peak memory found is %.1f GiB per GPU, "
				    "capacity %.1f GiB",
				    infeasible_head(m), min_peak_gib, capacity_gib);
	return pp_error_set(err, PP_EINFEASIBLE, NULL, NULL,
			    "%s: no valid global plan for these GPUs and batch", infeasible_head(m));
}

int pp_search__check(const pp_costctx *c, const pp_search_opts *o, pp_error *err)
{
	int rc;
	if ((rc = pp_space_check_opts(c, &o->space, err)) < 0)
		return rc;
	if (o->top_k < 1)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "top must be at least 1");
	if (o->time_limit_s < 0 || o->max_steps < 0 || o->beta <= 0)
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "time limit and steps must be >= 0, beta > 0");
	return 0;
}

/* ---- exhaustive ----------------------------------------------------------------------- */

typedef struct topk {
	int k, n, cap;              /* cap: room in gl and cost, grown as plans come */
	pp_global *gl;
	pp_cost *cost;
	const pp_search_opts *o;
	double t0;
	double seen;
	int nomem;
} topk;

static int keep(void *arg, const pp_global *gl, const pp_cost *cost)
{
	topk *T = arg;
	int i;
	T->seen += 1;
	if (T->o->stop && *T->o->stop)
		return 1;
	if (T->n == T->k && pp_space_cmp(gl, cost->iteration_s, &T->gl[T->n - 1],
					 T->cost[T->n - 1].iteration_s) >= 0)
		return 0;
	if (T->n < T->k && T->n == T->cap) {
		int nc = T->cap < T->k / 2 ? 2 * T->cap : T->k;
		pp_global *ng = realloc(T->gl, sizeof(*ng) * (size_t)nc);
		pp_cost *ncost;
		if (!ng)
			return T->nomem = 1;
		T->gl = ng;
		if (!(ncost = realloc(T->cost, sizeof(*ncost) * (size_t)nc)))
			return T->nomem = 1;
		T->cost = ncost;
		T->cap = nc;
	}
	i = T->n < T->k ? T->n++ : T->n - 1;
	while (i > 0 && pp_space_cmp(gl, cost->iteration_s, &T->gl[i - 1], T->cost[i - 1].iteration_s) < 0) {
		T->gl[i] = T->gl[i - 1];
		T->cost[i] = T->cost[i - 1];
		i--;
	}
	T->gl[i] = *gl;
	T->cost[i] = *cost;
	if (T->o->progress && ((long long)T->seen & 1023) == 0)
		T->o->progress(T->o->progress_arg, T->seen, pp_search_now() - T->t0,
			       T->cost[0].iteration_s);
	return 0;
}

int pp_search_exhaustive(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r,
			 pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	topk T;
	int rc, i;
	double t0 = pp_search_now();

	memset(&T, 0, sizeof(T));
	memset(r, 0, sizeof(*r));
	if ((rc = pp_search__check(c, o, err)) < 0)
		return rc;
	T.k = o->top_k;
	T.o = o;
	T.t0 = t0;
	T.cap = T.k < 64 ? T.k : 64;
	T.gl = calloc((size_t)T.cap, sizeof(*T.gl));
	T.cost = calloc((size_t)T.cap, sizeof(*T.cost));
	if (!T.gl || !T.cost) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	rc = pp_space_walk(c, &o->space, keep, &T, &r->space, err);
	if (rc < 0)
		goto done;
	if (T.nomem) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	{
		/* room for the plans kept, not for K */
		pp_space_stats keep_st = r->space;
		int rc2 = pp_search__result_init(r, PP_SEARCH_EXHAUSTIVE, g->n_ops, T.n > 0 ? T.n : 1, err);
		r->space = keep_st;
		if (rc2 < 0) {
			rc = rc2;
			goto done;
		}
	}
	r->stopped = rc > 0;
	rc = 0;
	r->states = r->space.evaluated;
	r->optimal = !r->stopped;
	r->seconds = pp_search_now() - t0;
	if (T.n == 0) {
		rc = pp_search__infeasible_st(err, PP_SEARCH_EXHAUSTIVE, &r->space);
		goto done;
	}
	for (i = 0; i < T.n; i++) {
		pp_candidate *cd = &r->plans[i];
		cd->cfg = malloc((size_t)g->n_ops ? (size_t)g->n_ops : 1);
		if (!cd->cfg) {
			rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		r->n = i + 1;
		cd->global = T.gl[i];
		cd->cost = T.cost[i];
		pp_strategy_megatron(g, &T.gl[i], cd->cfg);
	}
done:
	if (rc < 0)
		pp_search_result_release(r);
	free(T.gl);
	free(T.cost);
	return rc;
}

int pp_search_run(const pp_costctx *c, pp_search_method method, const pp_search_opts *o,
		  pp_search_result *r, pp_error *err)
{
	switch (method) {
	case PP_SEARCH_EXHAUSTIVE: return pp_search_exhaustive(c, o, r, err);
	case PP_SEARCH_MCMC: return pp_search_mcmc(c, o, r, err);
	case PP_SEARCH_ILP: return pp_search_ilp(c, o, r, err);
	default: return pp_error_set(err, PP_EINVALID, NULL, NULL, "unknown search method");
	}
}
