/*
 * search.c - the search front: the dispatcher pp_search_run and what the three searches share
 * (results, method names, option checks, infeasibility messages, the clock).  Exhaustive, MCMC
 * and ILP (src/search_*.c) each depend on this file and search_int.h, never on one another.
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

const char *pp_search_stop_name(int stopped)
{
	switch (stopped) {
	case PP_SEARCH_STOP_FLAG: return "interrupted";
	case PP_SEARCH_STOP_TIME: return "time limit reached";
	default: return "";
	}
}

void pp_search__watch_init(pp_search__watch *w, const pp_search_opts *o, double t0)
{
	memset(w, 0, sizeof(*w));
	w->stop = o->stop;
	w->t0 = t0;
	w->limit_s = o->time_limit_s > 0 ? o->time_limit_s : 0;
}

int pp_search__watch_check(pp_search__watch *w, unsigned every)
{
	if (w->why)
		return w->why;
	if (w->stop && *w->stop)
		return w->why = PP_SEARCH_STOP_FLAG;
	if (w->limit_s > 0 && (every <= 1 || ++w->calls % every == 0) &&
	    pp_search_now() - w->t0 >= w->limit_s)
		return w->why = PP_SEARCH_STOP_TIME;
	return 0;
}

int pp_search__stopped_empty(pp_error *err, int why, double time_limit_s)
{
	if (why == PP_SEARCH_STOP_TIME)
		return pp_error_set(err, PP_ESTOPPED, NULL, NULL,
				    "time limit (%g s) reached before any plan was found", time_limit_s);
	return pp_error_set(err, PP_ESTOPPED, NULL, NULL, "search interrupted before any plan was found");
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
