/* regress_load.c - parplan-regress/1 case files: read and check them (every error names the file
 * and the JSON path), and free them. */
#include "parplan/regress.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "regress_int.h"
#include "parplan/io.h"
#include "parplan/settings.h"

/* ---- the fields a case may expect --------------------------------------------------------- */

const pp_regress_field pp_regress_cost_fields[PP_REGRESS_N_COST_FIELDS] = {
	{"feasible", PP_REGRESS_BOOL, offsetof(pp_cost, feasible)},
	{"iteration_s", PP_REGRESS_NUMBER, offsetof(pp_cost, iteration_s)},
	{"tokens_per_s", PP_REGRESS_NUMBER, offsetof(pp_cost, tokens_per_s)},
	{"model_tflops_per_gpu", PP_REGRESS_NUMBER, offsetof(pp_cost, model_tflops_per_gpu)},
	{"hardware_tflops_per_gpu", PP_REGRESS_NUMBER, offsetof(pp_cost, hardware_tflops_per_gpu)},
	{"mfu", PP_REGRESS_NUMBER, offsetof(pp_cost, mfu)},
	{"hfu", PP_REGRESS_NUMBER, offsetof(pp_cost, hfu)},
	{"time.compute_s", PP_REGRESS_NUMBER, offsetof(pp_cost, compute_s)},
	{"time.tp_comm_s", PP_REGRESS_NUMBER, offsetof(pp_cost, tp_comm_s)},
	{"time.pp_comm_s", PP_REGRESS_NUMBER, offsetof(pp_cost, pp_comm_s)},
	{"time.bubble_s", PP_REGRESS_NUMBER, offsetof(pp_cost, bubble_s)},
	{"time.dp_comm_s", PP_REGRESS_NUMBER, offsetof(pp_cost, dp_comm_s)},
	{"time.optimizer_s", PP_REGRESS_NUMBER, offsetof(pp_cost, optimizer_s)},
	{"memory.weights_gib", PP_REGRESS_NUMBER, offsetof(pp_cost, weights_gib)},
	{"memory.grads_gib", PP_REGRESS_NUMBER, offsetof(pp_cost, grads_gib)},
	{"memory.optimizer_gib", PP_REGRESS_NUMBER, offsetof(pp_cost, optimizer_gib)},
	{"memory.activations_gib", PP_REGRESS_NUMBER, offsetof(pp_cost, activations_gib)},
	{"memory.peak_gib", PP_REGRESS_NUMBER, offsetof(pp_cost, peak_gib)},
	{"memory.capacity_gib", PP_REGRESS_NUMBER, offsetof(pp_cost, capacity_gib)},
};

_Static_assert(sizeof(pp_regress_cost_fields) / sizeof(pp_regress_cost_fields[0]) ==
		       PP_REGRESS_N_COST_FIELDS, "one entry per cost field");
_Static_assert(PP_SETTING_COUNT + 1 <= 32, "global_keys has a bit per setting and one for gpus");

/*
 * The best plan's settings a search case may expect (expect.search) are the rows of the table of
 * plan settings flagged PP_SETTING_EXPECTABLE, in table order; inline plan keys are every row's
 * key, then "gpus" (regress_int.h).
 */
static pp_regress_kind expect_kind(const pp_setting *s)
{
	return s->type == PP_SETTING_INT ? PP_REGRESS_INT
	       : s->type == PP_SETTING_BOOL ? PP_REGRESS_BOOL : PP_REGRESS_STRING;
}

static const char *const top_keys[] = {"format", "note", "cases", NULL};
static const char *const case_keys[] = {"name", "note", "model", "hw", "stack", "plan",
					"plan_file", "search", "expect", NULL};
static const char *const search_keys[] = {"gpus", "global_batch", "method", "seed",
					  "time_limit_s", NULL};
static const char *const num_keys[] = {"value", "tol", NULL};
static const char *const bool_keys[] = {"value", NULL};

/* ---- small helpers ------------------------------------------------------------------------ */

char *pp_regress_strdup(const char *s)
{
	size_t n;
	char *d;
	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* @rel resolved against the folder of @base ("a/b/c.json" + "../m.json" -> "a/b/../m.json"). */
static char *resolve(const char *base, const char *rel)
{
	const char *slash = strrchr(base, '/');
	size_t dn, rn;
	char *out;
	if (rel[0] == '/' || !slash)
		return pp_regress_strdup(rel);
	dn = (size_t)(slash - base) + 1;
	rn = strlen(rel);
	out = malloc(dn + rn + 1);
	if (!out)
		return NULL;
	memcpy(out, base, dn);
	memcpy(out + dn, rel, rn + 1);
	return out;
}

/* ---- loading ------------------------------------------------------------------------------ */

static void case_release(pp_regress_case *c)
{
	free(c->name);
	free(c->note);
	free(c->model);
	free(c->hw);
	free(c->model_path);
	free(c->hw_path);
	free(c->stack);
	free(c->stack_path);
	free(c->plan_file);
	free(c->plan_file_path);
	free(c->expect);
}

void pp_regress_free(pp_regress_file *f)
{
	int i;
	if (!f)
		return;
	for (i = 0; i < f->n_cases; i++)
		case_release(&f->cases[i]);
	free(f->cases);
	free(f->path);
	free(f->note);
	free(f);
}

static int get_str_dup(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, char **out)
{
	const char *s = NULL;
	int rc = pp_json_get_string(c, obj, path, key, required, &s);
	if (rc < 0 || !s)
		return rc;
	*out = pp_regress_strdup(s);
	if (!*out)
		return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	return 0;
}

static int parse_plan(const pp_jctx *c, const cJSON *o, const char *path, pp_regress_case *rc_)
{
	const pp_setting *t = pp_settings();
	const char *keys[PP_SETTING_COUNT + 2];
	pp_global gl;
	int k, rc;

	for (k = 0; k < PP_SETTING_COUNT; k++)
		keys[k] = t[k].key;
	keys[PP_REGRESS_K_GPUS] = "gpus";
	keys[PP_REGRESS_K_GPUS + 1] = NULL;
	if ((rc = pp_json_check_object(c, o, path, keys)) < 0)
		return rc;
	for (k = 0; k < PP_SETTING_COUNT; k++)
		if ((t[k].flags & PP_SETTING_REGRESS_REQUIRED) &&
		    !cJSON_GetObjectItemCaseSensitive(o, t[k].key))
			return pp_json_fail(c, path, NULL, "missing field \"%s\"", t[k].key);
	pp_settings_defaults(&gl);
	rc_->global_keys = 0;
	rc_->gpus = 0;
	for (k = 0; k <= PP_REGRESS_K_GPUS; k++) {
		const pp_setting *s = k < PP_REGRESS_K_GPUS ? &t[k] : NULL;
		const char *key = s ? s->key : "gpus";
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
		char p[PP_JPATH_MAX];
		const char *str;
		int64_t iv;
		int b = 0, x;
		if (!v)
			continue;
		rc_->global_keys |= 1u << k;
		pp_jpath_key(p, path, key);
		if (!s) {
			if ((rc = pp_json_as_int(c, v, p, 1, PP_REGRESS_INT_MAX, &iv)) < 0)
				return rc;
			rc_->gpus = (int)iv;
			continue;
		}
		switch (s->type) {
		case PP_SETTING_ENUM:
			if ((rc = pp_json_get_string(c, o, path, key, 1, &str)) < 0)
				return rc;
			if ((x = pp_setting_parse_name(s, str)) < 0)
				return pp_json_fail(c, p, NULL, "unknown %s \"%.32s\" (%s)", key, str,
						    s->regress_choices);
			pp_setting_set(s, &gl, x);
			break;
		case PP_SETTING_BOOL:
			if ((rc = pp_json_get_bool(c, o, path, key, 1, &b)) < 0)
				return rc;
			pp_setting_set(s, &gl, b);
			break;
		default:
			/* a case may also give the default (0: an even split) */
			if ((rc = pp_json_as_int(c, v, p, s->def < s->min ? s->def : s->min,
						 PP_REGRESS_INT_MAX, &iv)) < 0)
				return rc;
			pp_setting_set(s, &gl, (int)iv);
		}
	}
	rc_->global = gl;
	return 0;
}

static int parse_search(const pp_jctx *c, const cJSON *o, const char *path, pp_regress_search *s)
{
	int64_t v;
	const char *m = "exhaustive";
	int rc;
	if ((rc = pp_json_check_object(c, o, path, search_keys)) < 0)
		return rc;
	if ((rc = pp_json_get_int(c, o, path, "gpus", 1, 1, 1 << 24, &v)) < 0)
		return rc;
	s->gpus = (int)v;
	if ((rc = pp_json_get_int(c, o, path, "global_batch", 1, 1, 1 << 24, &v)) < 0)
		return rc;
	s->global_batch = (int)v;
	if ((rc = pp_json_get_string(c, o, path, "method", 0, &m)) < 0)
		return rc;
	if (strcmp(m, "exhaustive") && strcmp(m, "mcmc") && strcmp(m, "ilp"))
		return pp_json_fail(c, path, "method", "unknown method \"%.32s\" (exhaustive, mcmc, ilp)",
				    m);
	snprintf(s->method, sizeof(s->method), "%s", m);
	if (cJSON_GetObjectItemCaseSensitive(o, "seed")) {
		if ((rc = pp_json_get_int(c, o, path, "seed", 1, 0, (int64_t)1 << 53, &v)) < 0)
			return rc;
		s->seed = (unsigned long long)v;
		s->has_seed = 1;
	}
	return pp_json_get_number(c, o, path, "time_limit_s", 0, 0, 1e6, &s->time_limit_s);
}

/* One expectation of a cost field: {"value": V or null, "tol": T}. */
static int parse_cost_expect(const pp_jctx *c, const cJSON *o, const char *path,
			     const pp_regress_field *fd, pp_regress_expect *e)
{
	const cJSON *v;
	char p[PP_JPATH_MAX];
	int rc;

	memset(e, 0, sizeof(*e));
	snprintf(e->field, sizeof(e->field), "%s", fd->name);
	e->kind = fd->kind;
	e->tol = PP_REGRESS_DEFAULT_TOL;
	if ((rc = pp_json_check_object(c, o, path, fd->kind == PP_REGRESS_BOOL ? bool_keys
									     : num_keys)) < 0)
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(o, "value");
	if (!v)
		return pp_json_fail(c, path, NULL, "missing field \"value\" (null to have --update fill it)");
	pp_jpath_key(p, path, "value");
	if (cJSON_IsNull(v)) {
		e->has_value = 0;
	} else if (fd->kind == PP_REGRESS_BOOL) {
		if (!cJSON_IsBool(v))
			return pp_json_fail(c, p, NULL, "expected true, false or null, got %s",
					    pp_json_type_name(v));
		e->has_value = 1;
		e->value = cJSON_IsTrue(v);
	} else {
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
			return pp_json_fail(c, p, NULL, "expected a number or null, got %s",
					    pp_json_type_name(v));
		e->has_value = 1;
		e->value = v->valuedouble;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "tol")) {
		if ((rc = pp_json_get_number(c, o, path, "tol", 1, 0, 1, &e->tol)) < 0)
			return rc;
		e->has_tol = 1;
	}
	return 0;
}

/* expect.search: {"t": 8, ..., "schedule": "1f1b", ...}; every degree gets a slot, those not
 * given (or null) are unset; an optional setting only when given.  Returns the slots filled. */
static int parse_search_expect(const pp_jctx *c, const cJSON *o, const char *path,
			       pp_regress_expect *slots)
{
	const pp_setting *t = pp_settings();
	const char *keys[PP_SETTING_COUNT + 1];
	int k, n = 0, rc;
	for (k = 0; k < PP_SETTING_COUNT; k++)
		if (t[k].flags & PP_SETTING_EXPECTABLE)
			keys[n++] = t[k].key;
	keys[n] = NULL;
	if ((rc = pp_json_check_object(c, o, path, keys)) < 0)
		return rc;
	for (k = 0, n = 0; k < PP_SETTING_COUNT; k++) {
		const pp_setting *s = &t[k];
		pp_regress_expect *e;
		const cJSON *v;
		char p[PP_JPATH_MAX];
		if (!(s->flags & PP_SETTING_EXPECTABLE))
			continue;
		v = cJSON_GetObjectItemCaseSensitive(o, s->key);
		/* an optional setting (zero, cp, ...) gets a slot only when the case names it */
		if ((s->flags & PP_SETTING_OPTIONAL) && (!v || cJSON_IsNull(v)))
			continue;
		e = &slots[n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->field, sizeof(e->field), "search.%s", s->key);
		e->kind = expect_kind(s);
		if (!v || cJSON_IsNull(v))
			continue;
		pp_jpath_key(p, path, s->key);
		e->has_value = 1;
		switch (e->kind) {
		case PP_REGRESS_INT: {
			int64_t iv;
			if ((rc = pp_json_as_int(c, v, p, 1, PP_REGRESS_INT_MAX, &iv)) < 0)
				return rc;
			e->value = (double)iv;
			break;
		}
		case PP_REGRESS_BOOL:
			if (!cJSON_IsBool(v))
				return pp_json_fail(c, p, NULL, "expected true, false or null, got %s",
						    pp_json_type_name(v));
			e->value = cJSON_IsTrue(v);
			break;
		default:
			if (!cJSON_IsString(v))
				return pp_json_fail(c, p, NULL, "expected a string or null, got %s",
						    pp_json_type_name(v));
			if (pp_setting_parse_name(s, v->valuestring) < 0)
				return pp_json_fail(c, p, NULL, "unknown %s \"%.32s\"", s->key,
						    v->valuestring);
			snprintf(e->str, sizeof(e->str), "%s", v->valuestring);
		}
	}
	return n;
}

/* How many settings a search case may expect. */
static int n_search_fields(void)
{
	const pp_setting *t = pp_settings();
	int k, n = 0;
	for (k = 0; k < PP_SETTING_COUNT; k++)
		n += (t[k].flags & PP_SETTING_EXPECTABLE) != 0;
	return n;
}

static int parse_expect(const pp_jctx *c, const cJSON *o, const char *path, pp_regress_case *cs)
{
	const char *keys[PP_REGRESS_N_COST_FIELDS + 2];
	pp_regress_expect slots[PP_REGRESS_N_COST_FIELDS + PP_SETTING_COUNT];
	int n_search = n_search_fields();
	int given[PP_REGRESS_N_COST_FIELDS] = {0};
	const cJSON *m;
	int k, n = 0, rc;

	for (k = 0; k < PP_REGRESS_N_COST_FIELDS; k++)
		keys[k] = pp_regress_cost_fields[k].name;
	keys[PP_REGRESS_N_COST_FIELDS] = "search";
	keys[PP_REGRESS_N_COST_FIELDS + 1] = NULL;
	if ((rc = pp_json_check_object(c, o, path, keys)) < 0)
		return rc;
	if (!o->child)
		return pp_json_fail(c, path, NULL, "no expectations");
	for (m = o->child; m; m = m->next) {
		char p[PP_JPATH_MAX];
		pp_jpath_key(p, path, m->string);
		if (strcmp(m->string, "search") == 0) {
			if (cs->source != PP_REGRESS_SEARCH)
				return pp_json_fail(c, p, NULL,
						    "search results can only be expected of a search case");
			if ((rc = parse_search_expect(c, m, p, slots + PP_REGRESS_N_COST_FIELDS)) < 0)
				return rc;
			n_search = rc;
			cs->has_search_expect = 1;
			continue;
		}
		for (k = 0; k < PP_REGRESS_N_COST_FIELDS; k++)
			if (strcmp(m->string, pp_regress_cost_fields[k].name) == 0)
				break;
		if ((rc = parse_cost_expect(c, m, p, &pp_regress_cost_fields[k], &slots[k])) < 0)
			return rc;
		given[k] = 1;
	}
	/* canonical order: the cost fields as listed, then the search degrees */
	cs->expect = calloc((size_t)(PP_REGRESS_N_COST_FIELDS + n_search), sizeof(*cs->expect));
	if (!cs->expect)
		return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	for (k = 0; k < PP_REGRESS_N_COST_FIELDS; k++)
		if (given[k])
			cs->expect[n++] = slots[k];
	if (cs->has_search_expect)
		for (k = 0; k < n_search; k++)
			cs->expect[n++] = slots[PP_REGRESS_N_COST_FIELDS + k];
	cs->n_expect = n;
	return 0;
}

static int parse_case(const pp_jctx *c, const char *file, const cJSON *o, const char *path,
		      pp_regress_case *cs)
{
	const cJSON *plan = NULL, *search = NULL, *expect = NULL;
	int rc, sources;

	if ((rc = pp_json_check_object(c, o, path, case_keys)) < 0)
		return rc;
	if ((rc = get_str_dup(c, o, path, "name", 1, &cs->name)) < 0 ||
	    (rc = get_str_dup(c, o, path, "note", 0, &cs->note)) < 0 ||
	    (rc = get_str_dup(c, o, path, "model", 1, &cs->model)) < 0 ||
	    (rc = get_str_dup(c, o, path, "hw", 1, &cs->hw)) < 0 ||
	    (rc = get_str_dup(c, o, path, "stack", 0, &cs->stack)) < 0 ||
	    (rc = get_str_dup(c, o, path, "plan_file", 0, &cs->plan_file)) < 0 ||
	    (rc = pp_json_get_object(c, o, path, "plan", 0, &plan)) < 0 ||
	    (rc = pp_json_get_object(c, o, path, "search", 0, &search)) < 0 ||
	    (rc = pp_json_get_object(c, o, path, "expect", 1, &expect)) < 0)
		return rc;
	sources = (plan != NULL) + (search != NULL) + (cs->plan_file != NULL);
	if (sources != 1)
		return pp_json_fail(c, path, NULL, "give exactly one of \"plan\", \"plan_file\" and "
				    "\"search\" (got %d)", sources);
	cs->model_path = resolve(file, cs->model);
	cs->hw_path = resolve(file, cs->hw);
	if (!cs->model_path || !cs->hw_path)
		return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	/* a stack file, resolved like hw; none: the legacy (pre-stack) model */
	if (cs->stack && !(cs->stack_path = resolve(file, cs->stack)))
		return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	if (plan) {
		char p[PP_JPATH_MAX];
		cs->source = PP_REGRESS_INLINE;
		pp_jpath_key(p, path, "plan");
		if ((rc = parse_plan(c, plan, p, cs)) < 0)
			return rc;
	} else if (search) {
		char p[PP_JPATH_MAX];
		cs->source = PP_REGRESS_SEARCH;
		pp_jpath_key(p, path, "search");
		if ((rc = parse_search(c, search, p, &cs->search)) < 0)
			return rc;
	} else {
		cs->source = PP_REGRESS_PLAN_FILE;
		cs->plan_file_path = resolve(file, cs->plan_file);
		if (!cs->plan_file_path)
			return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	}
	{
		char p[PP_JPATH_MAX];
		pp_jpath_key(p, path, "expect");
		return parse_expect(c, expect, p, cs);
	}
}

static int parse_root(const pp_jctx *c, const char *file, const cJSON *root,
		      pp_regress_file *f)
{
	const char *fmt = NULL;
	const cJSON *cases = NULL, *it;
	int rc, i = 0, j;

	if ((rc = pp_json_check_object(c, root, "", top_keys)) < 0)
		return rc;
	if ((rc = pp_json_get_string(c, root, "", "format", 1, &fmt)) < 0)
		return rc;
	if (strcmp(fmt, PP_REGRESS_FORMAT) != 0)
		return pp_json_fail(c, "", "format", "expected \"%s\", got \"%.40s\"",
				    PP_REGRESS_FORMAT, fmt);
	if ((rc = get_str_dup(c, root, "", "note", 0, &f->note)) < 0)
		return rc;
	if ((rc = pp_json_get_array(c, root, "", "cases", 1, &cases)) < 0)
		return rc;
	f->n_cases = cJSON_GetArraySize(cases);
	if (f->n_cases == 0)
		return pp_json_fail(c, "", "cases", "no cases");
	if (f->n_cases > 100000)
		return pp_json_fail(c, "", "cases", "more than 100000 cases");
	f->cases = calloc((size_t)f->n_cases, sizeof(*f->cases));
	if (!f->cases) {
		f->n_cases = 0;
		return pp_error_set(c->err, PP_ENOMEM, file, "cases", "out of memory");
	}
	for (it = cases->child; it; it = it->next, i++) {
		char p[PP_JPATH_MAX];
		pp_jpath_idx(p, "cases", i);
		if ((rc = parse_case(c, file, it, p, &f->cases[i])) < 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(f->cases[j].name, f->cases[i].name) == 0)
				return pp_json_fail(c, p, "name", "case \"%.64s\" given twice (also cases[%d])",
						    f->cases[i].name, j);
	}
	return 0;
}

int pp_regress_parse(const char *name_for_errors, const char *text, pp_regress_file **out,
		     pp_error *err)
{
	pp_regress_file *f = NULL;
	cJSON *root = NULL;
	pp_jctx c;
	int rc;

	*out = NULL;
	c.file = name_for_errors;
	c.err = err;
	if ((rc = pp_json_parse(name_for_errors, text, strlen(text), &root, err)) < 0)
		goto done;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = pp_regress_strdup(name_for_errors))) {
		rc = pp_error_set(err, PP_ENOMEM, name_for_errors, NULL, "out of memory");
		goto done;
	}
	if ((rc = parse_root(&c, name_for_errors, root, f)) < 0)
		goto done;
	*out = f;
	f = NULL;
done:
	pp_regress_free(f);
	cJSON_Delete(root);
	return rc;
}

int pp_regress_load(const char *path, pp_regress_file **out, pp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;
	*out = NULL;
	if ((rc = pp_read_file(path, &text, &len, err)) < 0)
		return rc;
	if (strlen(text) != len)
		rc = pp_error_set(err, PP_EINVALID, path, NULL, "file holds a NUL byte");
	else
		rc = pp_regress_parse(path, text, out, err);
	free(text);
	return rc;
}

