/*
 * search_exhaustive.c - score every valid global plan (Megatron's per-op configs), keep the top
 * K.
 */
#include "parplan/search.h"
#include "search_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct topk {
	int k, n, cap;              /* cap: room in gl and cost, grown as plans come */
	pp_global *gl;
	pp_cost *cost;
	const pp_search_opts *o;
	pp_search__watch w;         /* the stop flag and the time limit */
	double t0;
	double seen;
	int nomem;
} topk;

/* keep @gl among the K best; 1 when out of memory */
static int insert(topk *T, const pp_global *gl, const pp_cost *cost)
{
	int i;
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

static int keep(void *arg, const pp_global *gl, const pp_cost *cost)
{
	topk *T = arg;
	T->seen += 1;
	/* asked only of a plan the top K would keep (the check may emit it) */
	if (T->o->accept && (T->n < T->k || pp_space_cmp(gl, cost->iteration_s, &T->gl[T->n - 1],
							  T->cost[T->n - 1].iteration_s) < 0) &&
	    !T->o->accept(T->o->accept_arg, gl, NULL))
		return pp_search__watch_check(&T->w, 16) != 0;
	if (insert(T, gl, cost))
		return 1;
	/* after the plan is kept: stopped, the plans met so far are the answer */
	return pp_search__watch_check(&T->w, 16) != 0;
}

/* the K-th best kept so far: a plan slower than it is not kept (pp_space_walk_bar) */
static double kth(void *arg)
{
	const topk *T = arg;
	return T->n == T->k ? T->cost[T->n - 1].iteration_s : INFINITY;
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
	pp_search__watch_init(&T.w, o, t0);
	T.cap = T.k < 64 ? T.k : 64;
	T.gl = calloc((size_t)T.cap, sizeof(*T.gl));
	T.cost = calloc((size_t)T.cap, sizeof(*T.cost));
	if (!T.gl || !T.cost) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	rc = pp_space_walk_bar(c, &o->space, keep, kth, &T, &r->space, err);
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
	r->stopped = rc > 0 ? T.w.why : PP_SEARCH_RAN;
	rc = 0;
	r->states = r->space.evaluated;
	r->optimal = !r->stopped;
	r->seconds = pp_search_now() - t0;
	if (T.n == 0 && r->stopped) {
		rc = pp_search__stopped_empty(err, r->stopped, o->time_limit_s);
		goto done;
	}
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
