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
	int k, n, cap;              /* cap: room in gl, cost and heap, grown as plans come */
	pp_global *gl;              /* the plans kept, in no order (slots) */
	pp_cost *cost;
	int *heap;                  /* their slots as a max-heap in pp_space_cmp order: the worst first */
	int best;                   /* slot of the best */
	const pp_search_opts *o;
	pp_search__watch w;         /* the stop flag and the time limit */
	double t0;
	double seen;
	int nomem;
} topk;

static int cmp_slots(const topk *T, int a, int b)
{
	return pp_space_cmp(&T->gl[a], T->cost[a].iteration_s, &T->gl[b], T->cost[b].iteration_s);
}

static void swap_heap(topk *T, int i, int j)
{
	int x = T->heap[i];
	T->heap[i] = T->heap[j];
	T->heap[j] = x;
}

/* 1 when @gl would come before the worst of a full top K (or the top K is not full) */
static int would_keep(const topk *T, const pp_global *gl, const pp_cost *cost)
{
	int w;
	if (T->n < T->k)
		return 1;
	w = T->heap[0];
	return pp_space_cmp(gl, cost->iteration_s, &T->gl[w], T->cost[w].iteration_s) < 0;
}

/* keep @gl among the K best: a heap of K slots, O(log K) a plan (an array kept sorted moved
 * O(K) pp_costs a plan: minutes for --top 100000); 1 when out of memory */
static int insert(topk *T, const pp_global *gl, const pp_cost *cost)
{
	int i, slot, better;
	if (!would_keep(T, gl, cost))
		return 0;
	if (T->n < T->k && T->n == T->cap) {
		int nc = T->cap < T->k / 2 ? 2 * T->cap : T->k;
		pp_global *ng = realloc(T->gl, sizeof(*ng) * (size_t)nc);
		pp_cost *ncost;
		int *nh;
		if (!ng)
			return T->nomem = 1;
		T->gl = ng;
		if (!(ncost = realloc(T->cost, sizeof(*ncost) * (size_t)nc)))
			return T->nomem = 1;
		T->cost = ncost;
		if (!(nh = realloc(T->heap, sizeof(*nh) * (size_t)nc)))
			return T->nomem = 1;
		T->heap = nh;
		T->cap = nc;
	}
	better = T->n == 0 || pp_space_cmp(gl, cost->iteration_s, &T->gl[T->best], T->cost[T->best].iteration_s) < 0;
	if (T->n < T->k) {
		/* a new slot at the heap's end, sifted up */
		slot = T->n;
		T->heap[T->n] = slot;
		T->gl[slot] = *gl;
		T->cost[slot] = *cost;
		for (i = T->n++; i > 0 && cmp_slots(T, T->heap[(i - 1) / 2], T->heap[i]) < 0; i = (i - 1) / 2)
			swap_heap(T, i, (i - 1) / 2);
	} else {
		/* the worst's slot takes the plan, sifted down */
		slot = T->heap[0];
		T->gl[slot] = *gl;
		T->cost[slot] = *cost;
		for (i = 0;;) {
			int l = 2 * i + 1, r = l + 1, m = i;
			if (l < T->n && cmp_slots(T, T->heap[l], T->heap[m]) > 0)
				m = l;
			if (r < T->n && cmp_slots(T, T->heap[r], T->heap[m]) > 0)
				m = r;
			if (m == i)
				break;
			swap_heap(T, i, m);
			i = m;
		}
	}
	if (better)
		T->best = slot;
	if (T->o->progress && ((long long)T->seen & 1023) == 0)
		T->o->progress(T->o->progress_arg, T->seen, pp_search_now() - T->t0,
			       T->cost[T->best].iteration_s);
	return 0;
}

/* the plans kept, best first */
typedef struct ranked {
	const pp_global *gl;
	double s;
	int slot;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	return pp_space_cmp(x->gl, x->s, y->gl, y->s);
}

static int keep(void *arg, const pp_global *gl, const pp_cost *cost)
{
	topk *T = arg;
	T->seen += 1;
	/* asked only of a plan the top K would keep (the check may emit it) */
	if (T->o->accept && would_keep(T, gl, cost) &&
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
	return T->n == T->k ? T->cost[T->heap[0]].iteration_s : INFINITY;
}

int pp_search_exhaustive(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r,
			 pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	topk T;
	ranked *order = NULL;
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
	T.heap = calloc((size_t)T.cap, sizeof(*T.heap));
	if (!T.gl || !T.cost || !T.heap) {
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
	if (!(order = malloc(sizeof(*order) * (size_t)T.n))) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	for (i = 0; i < T.n; i++) {
		order[i].gl = &T.gl[i];
		order[i].s = T.cost[i].iteration_s;
		order[i].slot = i;
	}
	qsort(order, (size_t)T.n, sizeof(*order), cmp_ranked);
	for (i = 0; i < T.n; i++) {
		pp_candidate *cd = &r->plans[i];
		int j = order[i].slot;
		cd->cfg = malloc((size_t)g->n_ops ? (size_t)g->n_ops : 1);
		if (!cd->cfg) {
			rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		r->n = i + 1;
		cd->global = T.gl[j];
		cd->cost = T.cost[j];
		pp_strategy_megatron(g, &T.gl[j], cd->cfg);
	}
done:
	if (rc < 0)
		pp_search_result_release(r);
	free(order);
	free(T.gl);
	free(T.cost);
	free(T.heap);
	return rc;
}
