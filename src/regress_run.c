/* regress_run.c - evaluate the cases of a parplan-regress/1 file through the cost model (models
 * and profiles loaded once per run), compare, count and take the results as new expectations. */
#include "parplan/regress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "regress_int.h"
#include "parplan/cost.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/settings.h"
#include "parplan/stack.h"

/* ---- evaluation --------------------------------------------------------------------------- */

/* Graphs and profiles loaded once per run, by resolved path. */
typedef struct loaded {
	char *path;
	pp_graph *g;
	pp_hw *hw;
} loaded;

typedef struct cache {
	loaded *v;
	int n, cap;
} cache;

static void cache_release(cache *c)
{
	int i;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].path);
		pp_graph_free(c->v[i].g);
		pp_hw_free(c->v[i].hw);
	}
	free(c->v);
}

/* Explain a model / profile / plan file that failed to load for case @ci of @f.  A file that
 * cannot be opened is reported against the case file's JSON path naming it; a malformed one
 * keeps its own file and JSON path, the case named in the message. */
static int load_failed(const pp_regress_file *f, int ci, const char *key, const char *target,
		       pp_error *inner, pp_error *err)
{
	char p[PP_JPATH_MAX], q[PP_JPATH_MAX];
	pp_jpath_idx(q, "cases", ci);
	pp_jpath_key(p, q, key);
	if (inner->code == PP_ENOTFOUND || inner->code == PP_EIO)
		return pp_error_set(err, inner->code, f->path, p, "%s \"%.200s\": %.200s", key, target,
				    inner->msg);
	{
		pp_error e = *inner;
		pp_error_set(err, e.code, e.file, e.path[0] ? e.path : NULL,
			     "%.300s (the %s of case \"%.64s\" in %.120s)", e.msg, key,
			     f->cases[ci].name, f->path);
	}
	return err ? err->code : PP_EINVALID;
}

static int cache_get(cache *c, const pp_regress_file *f, int ci, int is_hw, const void **out,
		     pp_error *err)
{
	const pp_regress_case *cs = &f->cases[ci];
	const char *path = is_hw ? cs->hw_path : cs->model_path;
	pp_error inner = PP_ERROR_INIT;
	loaded *l;
	int i, rc;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].path, path) == 0 && (is_hw ? c->v[i].hw != NULL : c->v[i].g != NULL)) {
			*out = is_hw ? (const void *)c->v[i].hw : (const void *)c->v[i].g;
			return 0;
		}
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		loaded *v = realloc(c->v, (size_t)cap * sizeof(*v));
		if (!v)
			return pp_error_set(err, PP_ENOMEM, f->path, NULL, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	l = &c->v[c->n];
	memset(l, 0, sizeof(*l));
	if (!(l->path = pp_regress_strdup(path)))
		return pp_error_set(err, PP_ENOMEM, f->path, NULL, "out of memory");
	rc = is_hw ? pp_hw_load(path, &l->hw, &inner) : pp_graph_load(path, &l->g, &inner);
	if (rc < 0) {
		free(l->path);
		return load_failed(f, ci, is_hw ? "hw" : "model", path, &inner, err);
	}
	c->n++;
	*out = is_hw ? (const void *)l->hw : (const void *)l->g;
	return 0;
}

static void compare(pp_regress_expect *e)
{
	e->drift = 0;
	if (!e->has_value) {
		e->verdict = PP_REGRESS_UNSET;
		return;
	}
	switch (e->kind) {
	case PP_REGRESS_NUMBER:
		if (e->value != 0)
			e->drift = (e->got - e->value) / fabs(e->value);
		else
			e->drift = e->got == 0 ? 0 : e->got > 0 ? INFINITY : -INFINITY;
		/* relative tolerance; NaN never passes */
		e->verdict = fabs(e->got - e->value) <= e->tol * fabs(e->value) ? PP_REGRESS_PASS
										  : PP_REGRESS_DRIFT;
		break;
	case PP_REGRESS_STRING:
		e->verdict = strcmp(e->got_str, e->str) == 0 ? PP_REGRESS_PASS : PP_REGRESS_DRIFT;
		break;
	default:
		e->verdict = e->got == e->value ? PP_REGRESS_PASS : PP_REGRESS_DRIFT;
	}
}

static void take_cost(pp_regress_case *cs, const pp_cost *cost)
{
	int i, k;
	for (i = 0; i < cs->n_expect; i++) {
		pp_regress_expect *e = &cs->expect[i];
		for (k = 0; k < PP_REGRESS_N_COST_FIELDS; k++)
			if (strcmp(e->field, pp_regress_cost_fields[k].name) == 0)
				break;
		if (k == PP_REGRESS_N_COST_FIELDS)
			continue;
		if (pp_regress_cost_fields[k].kind == PP_REGRESS_BOOL)
			e->got = *(const int *)(const void *)((const char *)cost + pp_regress_cost_fields[k].off) != 0;
		else
			e->got = *(const double *)(const void *)((const char *)cost + pp_regress_cost_fields[k].off);
		e->evaluated = 1;
	}
}

static void take_search(pp_regress_case *cs, const pp_global *gl)
{
	int i;
	for (i = 0; i < cs->n_expect; i++) {
		pp_regress_expect *e = &cs->expect[i];
		const pp_setting *s;
		int v;
		if (strncmp(e->field, "search.", 7) != 0)
			continue;
		s = pp_setting_find(e->field + 7);
		e->evaluated = s && (s->flags & PP_SETTING_EXPECTABLE);
		if (!e->evaluated)
			continue;
		v = pp_setting_get(s, gl);
		if (s->type == PP_SETTING_ENUM)
			snprintf(e->got_str, sizeof(e->got_str), "%s", pp_setting_value_name(s, v));
		else
			e->got = s->type == PP_SETTING_BOOL ? v != 0 : v;
	}
}

static int run_case(cache *cc, pp_regress_file *f, int ci, pp_error *err)
{
	pp_regress_case *cs = &f->cases[ci];
	const pp_graph *g = NULL;
	const pp_hw *hw = NULL;
	pp_costctx *ctx = NULL;
	pp_plan plan;
	int have_plan = 0, gpus = cs->gpus, rc, i;
	pp_global gl = cs->global;
	uint8_t *cfg = NULL;
	pp_cost cost;
	pp_error inner = PP_ERROR_INIT;
	char p[PP_JPATH_MAX], q[PP_JPATH_MAX];

	memset(&plan, 0, sizeof(plan));
	for (i = 0; i < cs->n_expect; i++)
		cs->expect[i].evaluated = 0;
	pp_jpath_idx(q, "cases", ci);
	if ((rc = cache_get(cc, f, ci, 0, (const void **)&g, err)) < 0 ||
	    (rc = cache_get(cc, f, ci, 1, (const void **)&hw, err)) < 0)
		goto done;
	if ((rc = pp_costctx_new(&ctx, g, hw, &inner)) < 0) {
		pp_jpath_key(p, q, "hw");
		rc = pp_error_set(err, rc, f->path, p, "%.400s", inner.msg);
		goto done;
	}
	if (cs->stack_path) {
		pp_stack st;
		if ((rc = pp_stack_load(cs->stack_path, &st, &inner)) < 0) {
			rc = load_failed(f, ci, "stack", cs->stack_path, &inner, err);
			goto done;
		}
		pp_costctx_set_stack(ctx, &st);
	}
	if (cs->source == PP_REGRESS_PLAN_FILE) {
		if ((rc = pp_plan_load(cs->plan_file_path, &plan, &inner)) < 0) {
			rc = load_failed(f, ci, "plan_file", cs->plan_file_path, &inner, err);
			goto done;
		}
		have_plan = 1;
		if (g->name && strcmp(plan.model, g->name) != 0) {
			pp_jpath_key(p, q, "plan_file");
			rc = pp_error_set(err, PP_EINVALID, f->path, p,
					  "plan \"%.200s\" is for model \"%.64s\", the case's model is \"%.64s\"",
					  cs->plan_file, plan.model, g->name);
			goto done;
		}
		gl = plan.global;
		gpus = plan.gpus;
		cfg = malloc((size_t)(g->n_ops > 0 ? g->n_ops : 1));
		if (!cfg) {
			rc = pp_error_set(err, PP_ENOMEM, f->path, q, "out of memory");
			goto done;
		}
		if ((rc = pp_plan_configs(&plan, g, cfg, &inner)) < 0) {
			rc = load_failed(f, ci, "plan_file", cs->plan_file_path, &inner, err);
			goto done;
		}
	} else if (cs->source == PP_REGRESS_SEARCH) {
		pp_jpath_key(p, q, "search");
		if ((rc = pp_regress_search_best(ctx, &cs->search, &gl, &cfg, &inner)) < 0) {
			if (rc == PP_EINFEASIBLE) {
				/* no plan fits: a result, not bad input; "feasible" is false and
				 * every other field has no value */
				memset(&cost, 0, sizeof(cost));
				for (i = 0; i < cs->n_expect; i++)
					if (strcmp(cs->expect[i].field, "feasible") == 0) {
						cs->expect[i].got = 0;
						cs->expect[i].evaluated = 1;
					}
				goto done_ok;
			}
			rc = pp_error_set(err, rc, f->path, p, "%.400s", inner.msg);
			goto done;
		}
		gpus = cs->search.gpus;
	}
	if ((rc = pp_global_validate(g, &gl, gpus, &inner)) < 0) {
		pp_jpath_key(p, q, cs->source == PP_REGRESS_PLAN_FILE ? "plan_file"
			     : cs->source == PP_REGRESS_SEARCH ? "search" : "plan");
		rc = pp_error_set(err, rc, f->path, p, "%.400s", inner.msg);
		goto done;
	}
	if ((rc = pp_cost_check_precision(ctx, &gl, &inner)) < 0) { /* fp8 on a device without it */
		pp_jpath_key(p, q, cs->source == PP_REGRESS_PLAN_FILE ? "plan_file" : "plan");
		rc = pp_error_set(err, rc, f->path, p, "%.400s", inner.msg);
		goto done;
	}
	if ((rc = pp_cost_eval(ctx, &gl, cfg, &cost)) < 0) {
		pp_jpath_key(p, q, cs->source == PP_REGRESS_PLAN_FILE ? "plan_file" : "plan");
		rc = pp_error_set(err, rc, f->path, p, "the cost model rejects this plan");
		goto done;
	}
	take_cost(cs, &cost);
	if (cs->source == PP_REGRESS_SEARCH)
		take_search(cs, &gl);
done_ok:
	rc = 0;
	for (i = 0; i < cs->n_expect; i++) {
		pp_regress_expect *e = &cs->expect[i];
		if (e->evaluated) {
			compare(e);
		} else {
			e->got = NAN;
			e->got_str[0] = '\0';
			e->drift = 0;
			e->verdict = e->has_value ? PP_REGRESS_DRIFT : PP_REGRESS_UNSET;
		}
	}
done:
	free(cfg);
	if (have_plan)
		pp_plan_release(&plan);
	pp_costctx_free(ctx);
	return rc;
}

int pp_regress_run(pp_regress_file *f, pp_error *err)
{
	cache cc = {NULL, 0, 0};
	int i, rc = 0;
	for (i = 0; i < f->n_cases && rc == 0; i++)
		rc = run_case(&cc, f, i, err);
	cache_release(&cc);
	return rc;
}

int pp_regress_count(const pp_regress_file *f, int *failures)
{
	int i, k, n = 0, bad = 0;
	for (i = 0; i < f->n_cases; i++)
		for (k = 0; k < f->cases[i].n_expect; k++) {
			n++;
			bad += f->cases[i].expect[k].verdict != PP_REGRESS_PASS;
		}
	if (failures)
		*failures = bad;
	return n;
}

int pp_regress_update(pp_regress_file *f)
{
	int i, k, moved = 0;
	for (i = 0; i < f->n_cases; i++)
		for (k = 0; k < f->cases[i].n_expect; k++) {
			pp_regress_expect *e = &f->cases[i].expect[k];
			int same;
			if (!e->evaluated || (e->kind != PP_REGRESS_STRING && !isfinite(e->got))) {
				moved += e->has_value;
				e->has_value = 0;
				e->verdict = PP_REGRESS_UNSET;
				continue;
			}
			if (e->kind == PP_REGRESS_STRING)
				same = e->has_value && strcmp(e->str, e->got_str) == 0;
			else
				same = e->has_value && memcmp(&e->value, &e->got, sizeof(double)) == 0;
			moved += !same;
			e->has_value = 1;
			e->value = e->got;
			snprintf(e->str, sizeof(e->str), "%s", e->got_str);
			e->drift = 0;
			e->verdict = PP_REGRESS_PASS;
		}
	return moved;
}

