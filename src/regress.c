/* regress.c - parplan-regress/1 case files: load, evaluate, update, print, JUnit. */
#include "parplan/regress.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "regress_int.h"
#include "sbuf_int.h"
#include "parplan/cost.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/io.h"

/* ---- the fields a case may expect --------------------------------------------------------- */

typedef struct field_def {
	const char *name;           /* as in `parplan cost --json`, dotted */
	pp_regress_kind kind;
	size_t off;                 /* in pp_cost (int for BOOL, double for NUMBER) */
} field_def;

static const field_def cost_fields[] = {
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
#define N_COST_FIELDS ((int)(sizeof(cost_fields) / sizeof(cost_fields[0])))

/* The best plan's global degrees a search case may expect (expect.search). */
typedef struct search_def {
	const char *name;
	pp_regress_kind kind;
} search_def;

static const search_def search_fields[] = {
	{"t", PP_REGRESS_INT},
	{"p", PP_REGRESS_INT},
	{"d", PP_REGRESS_INT},
	{"micro_batch", PP_REGRESS_INT},
	{"virtual_stages", PP_REGRESS_INT},
	{"schedule", PP_REGRESS_STRING},
	{"recompute", PP_REGRESS_STRING},
	{"sequence_parallel", PP_REGRESS_BOOL},
	{"distributed_optimizer", PP_REGRESS_BOOL},
};
#define N_SEARCH_FIELDS ((int)(sizeof(search_fields) / sizeof(search_fields[0])))

/* Inline plan keys, in the order they are printed; bit i of global_keys = plan_keys[i]. */
enum {
	K_T, K_P, K_D, K_MB, K_GB, K_V, K_SCHED, K_RECOMP, K_SP, K_DOPT, K_OVERLAP, K_FIRST, K_LAST,
	K_GPUS, K_COUNT
};
static const char *const plan_keys[] = {
	"t", "p", "d", "micro_batch", "global_batch", "virtual_stages", "schedule", "recompute",
	"sequence_parallel", "distributed_optimizer", "overlap_grad_reduce", "first_stage_layers",
	"last_stage_layers", "gpus", NULL};

static const char *const top_keys[] = {"format", "note", "cases", NULL};
static const char *const case_keys[] = {"name", "note", "model", "hw", "stack", "plan", "plan_file",
					"search", "expect", NULL};
static const char *const search_keys[] = {"gpus", "global_batch", "method", "seed",
					  "time_limit_s", NULL};
static const char *const num_keys[] = {"value", "tol", NULL};
static const char *const bool_keys[] = {"value", NULL};

/* ---- small helpers ------------------------------------------------------------------------ */

static char *dup_str(const char *s)
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
		return dup_str(rel);
	dn = (size_t)(slash - base) + 1;
	rn = strlen(rel);
	out = malloc(dn + rn + 1);
	if (!out)
		return NULL;
	memcpy(out, base, dn);
	memcpy(out + dn, rel, rn + 1);
	return out;
}

char *pp_regress_format_number(double v, char *buf, size_t n)
{
	int prec;
	if (!isfinite(v)) {
		snprintf(buf, n, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
		return buf;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

void pp_regress_expect_text(const pp_regress_expect *e, int got, char *buf, size_t n)
{
	if (!got && !e->has_value) {
		snprintf(buf, n, "-");
		return;
	}
	if (got && !e->evaluated) {
		snprintf(buf, n, "-");
		return;
	}
	switch (e->kind) {
	case PP_REGRESS_BOOL:
		snprintf(buf, n, "%s", (got ? e->got : e->value) != 0 ? "true" : "false");
		break;
	case PP_REGRESS_STRING:
		snprintf(buf, n, "%s", got ? e->got_str : e->str);
		break;
	case PP_REGRESS_INT:
		snprintf(buf, n, "%.0f", got ? e->got : e->value);
		break;
	default:
		pp_regress_format_number(got ? e->got : e->value, buf, n);
	}
}

/* ---- a growing string --------------------------------------------------------------------- */

/* A JSON string literal. */
static void sb_json_str(pp_sbuf *b, const char *s)
{
	const unsigned char *p;
	pp_sb_add(b, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[3] = {'\\', (char)*p, 0};
			pp_sb_add(b, e);
		} else if (*p == '\n') {
			pp_sb_add(b, "\\n");
		} else if (*p == '\t') {
			pp_sb_add(b, "\\t");
		} else if (*p == '\r') {
			pp_sb_add(b, "\\r");
		} else if (*p < 0x20) {
			pp_sb_printf(b, "\\u%04x", *p);
		} else {
			pp_sb_addn(b, (const char *)p, 1);
		}
	}
	pp_sb_add(b, "\"");
}

/* Text for an XML attribute or element: markup characters escaped, control characters (not
 * allowed in XML 1.0 other than tab, newline and return) replaced by '?'. */
static void sb_xml(pp_sbuf *b, const char *s)
{
	const unsigned char *p;
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': pp_sb_add(b, "&amp;"); break;
		case '<': pp_sb_add(b, "&lt;"); break;
		case '>': pp_sb_add(b, "&gt;"); break;
		case '"': pp_sb_add(b, "&quot;"); break;
		case '\'': pp_sb_add(b, "&apos;"); break;
		case '\t': pp_sb_add(b, "&#9;"); break;
		case '\n': pp_sb_add(b, "&#10;"); break;
		case '\r': pp_sb_add(b, "&#13;"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				pp_sb_add(b, "?");
			else
				pp_sb_addn(b, (const char *)p, 1);
		}
	}
}

static void sb_num(pp_sbuf *b, double v)
{
	char buf[40];
	pp_sb_add(b, pp_regress_format_number(v, buf, sizeof(buf)));
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
	*out = dup_str(s);
	if (!*out)
		return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	return 0;
}

static int parse_plan(const pp_jctx *c, const cJSON *o, const char *path, pp_regress_case *rc_)
{
	pp_global gl = PP_GLOBAL_INIT;
	int64_t iv[K_COUNT] = {0};
	int k, rc;
	static const int required[] = {K_T, K_P, K_D, K_GB};
	const char *s;

	if ((rc = pp_json_check_object(c, o, path, plan_keys)) < 0)
		return rc;
	for (k = 0; k < (int)(sizeof(required) / sizeof(required[0])); k++)
		if (!cJSON_GetObjectItemCaseSensitive(o, plan_keys[required[k]]))
			return pp_json_fail(c, path, NULL, "missing field \"%s\"",
					    plan_keys[required[k]]);
	rc_->global_keys = 0;
	for (k = 0; k < K_COUNT; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, plan_keys[k]);
		char p[PP_JPATH_MAX];
		int b = 0;
		if (!v)
			continue;
		rc_->global_keys |= 1u << k;
		pp_jpath_key(p, path, plan_keys[k]);
		switch (k) {
		case K_SCHED:
			if ((rc = pp_json_get_string(c, o, path, plan_keys[k], 1, &s)) < 0)
				return rc;
			if (pp_schedule_parse(s) < 0)
				return pp_json_fail(c, p, NULL,
						    "unknown schedule \"%.32s\" (gpipe, 1f1b, interleaved)", s);
			gl.schedule = (pp_schedule)pp_schedule_parse(s);
			break;
		case K_RECOMP:
			if ((rc = pp_json_get_string(c, o, path, plan_keys[k], 1, &s)) < 0)
				return rc;
			if (pp_recompute_parse(s) < 0)
				return pp_json_fail(c, p, NULL,
						    "unknown recompute \"%.32s\" (none, selective, full)", s);
			gl.recompute = (pp_recompute)pp_recompute_parse(s);
			break;
		case K_SP:
		case K_DOPT:
		case K_OVERLAP:
			if ((rc = pp_json_get_bool(c, o, path, plan_keys[k], 1, &b)) < 0)
				return rc;
			if (k == K_SP)
				gl.sequence_parallel = b;
			else if (k == K_DOPT)
				gl.distributed_optimizer = b;
			else
				gl.overlap_grad_reduce = b;
			break;
		default:
			if ((rc = pp_json_as_int(c, v, p, k == K_FIRST || k == K_LAST ? 0 : 1,
						 1 << 24, &iv[k])) < 0)
				return rc;
		}
	}
	gl.t = (int)iv[K_T];
	gl.p = (int)iv[K_P];
	gl.d = (int)iv[K_D];
	gl.global_batch = (int)iv[K_GB];
	if (rc_->global_keys & (1u << K_MB))
		gl.micro_batch = (int)iv[K_MB];
	if (rc_->global_keys & (1u << K_V))
		gl.virtual_stages = (int)iv[K_V];
	gl.first_stage_layers = (int)iv[K_FIRST];
	gl.last_stage_layers = (int)iv[K_LAST];
	rc_->gpus = (int)iv[K_GPUS];
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
			     const field_def *fd, pp_regress_expect *e)
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
 * given (or null) are unset. */
static int parse_search_expect(const pp_jctx *c, const cJSON *o, const char *path,
			       pp_regress_expect *slots)
{
	const char *keys[N_SEARCH_FIELDS + 1];
	int k, rc;
	for (k = 0; k < N_SEARCH_FIELDS; k++)
		keys[k] = search_fields[k].name;
	keys[N_SEARCH_FIELDS] = NULL;
	if ((rc = pp_json_check_object(c, o, path, keys)) < 0)
		return rc;
	for (k = 0; k < N_SEARCH_FIELDS; k++) {
		pp_regress_expect *e = &slots[k];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, search_fields[k].name);
		char p[PP_JPATH_MAX];
		memset(e, 0, sizeof(*e));
		snprintf(e->field, sizeof(e->field), "search.%s", search_fields[k].name);
		e->kind = search_fields[k].kind;
		if (!v || cJSON_IsNull(v))
			continue;
		pp_jpath_key(p, path, search_fields[k].name);
		e->has_value = 1;
		switch (e->kind) {
		case PP_REGRESS_INT: {
			int64_t iv;
			if ((rc = pp_json_as_int(c, v, p, 1, 1 << 24, &iv)) < 0)
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
			if (k == 5 ? pp_schedule_parse(v->valuestring) < 0
				   : pp_recompute_parse(v->valuestring) < 0)
				return pp_json_fail(c, p, NULL, "unknown %s \"%.32s\"",
						    search_fields[k].name, v->valuestring);
			snprintf(e->str, sizeof(e->str), "%s", v->valuestring);
		}
	}
	return 0;
}

static int parse_expect(const pp_jctx *c, const cJSON *o, const char *path, pp_regress_case *cs)
{
	const char *keys[N_COST_FIELDS + 2];
	pp_regress_expect slots[N_COST_FIELDS + N_SEARCH_FIELDS];
	int given[N_COST_FIELDS] = {0};
	const cJSON *m;
	int k, n = 0, rc;

	for (k = 0; k < N_COST_FIELDS; k++)
		keys[k] = cost_fields[k].name;
	keys[N_COST_FIELDS] = "search";
	keys[N_COST_FIELDS + 1] = NULL;
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
			if ((rc = parse_search_expect(c, m, p, slots + N_COST_FIELDS)) < 0)
				return rc;
			cs->has_search_expect = 1;
			continue;
		}
		for (k = 0; k < N_COST_FIELDS; k++)
			if (strcmp(m->string, cost_fields[k].name) == 0)
				break;
		if ((rc = parse_cost_expect(c, m, p, &cost_fields[k], &slots[k])) < 0)
			return rc;
		given[k] = 1;
	}
	/* canonical order: the cost fields as listed, then the search degrees */
	cs->expect = calloc(N_COST_FIELDS + N_SEARCH_FIELDS, sizeof(*cs->expect));
	if (!cs->expect)
		return pp_error_set(c->err, PP_ENOMEM, c->file, path, "out of memory");
	for (k = 0; k < N_COST_FIELDS; k++)
		if (given[k])
			cs->expect[n++] = slots[k];
	if (cs->has_search_expect)
		for (k = 0; k < N_SEARCH_FIELDS; k++)
			cs->expect[n++] = slots[N_COST_FIELDS + k];
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
	if (!f || !(f->path = dup_str(name_for_errors))) {
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
	if (!(l->path = dup_str(path)))
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
		for (k = 0; k < N_COST_FIELDS; k++)
			if (strcmp(e->field, cost_fields[k].name) == 0)
				break;
		if (k == N_COST_FIELDS)
			continue;
		if (cost_fields[k].kind == PP_REGRESS_BOOL)
			e->got = *(const int *)(const void *)((const char *)cost + cost_fields[k].off) != 0;
		else
			e->got = *(const double *)(const void *)((const char *)cost + cost_fields[k].off);
		e->evaluated = 1;
	}
}

static void take_search(pp_regress_case *cs, const pp_global *gl)
{
	int i;
	for (i = 0; i < cs->n_expect; i++) {
		pp_regress_expect *e = &cs->expect[i];
		const char *n = e->field;
		if (strncmp(n, "search.", 7) != 0)
			continue;
		n += 7;
		e->evaluated = 1;
		if (!strcmp(n, "t"))
			e->got = gl->t;
		else if (!strcmp(n, "p"))
			e->got = gl->p;
		else if (!strcmp(n, "d"))
			e->got = gl->d;
		else if (!strcmp(n, "micro_batch"))
			e->got = gl->micro_batch;
		else if (!strcmp(n, "virtual_stages"))
			e->got = gl->virtual_stages;
		else if (!strcmp(n, "schedule"))
			snprintf(e->got_str, sizeof(e->got_str), "%s", pp_schedule_name(gl->schedule));
		else if (!strcmp(n, "recompute"))
			snprintf(e->got_str, sizeof(e->got_str), "%s", pp_recompute_name(gl->recompute));
		else if (!strcmp(n, "sequence_parallel"))
			e->got = gl->sequence_parallel != 0;
		else if (!strcmp(n, "distributed_optimizer"))
			e->got = gl->distributed_optimizer != 0;
		else
			e->evaluated = 0;
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

/* ---- printing ----------------------------------------------------------------------------- */

static void print_plan(pp_sbuf *b, const pp_regress_case *cs)
{
	const pp_global *gl = &cs->global;
	int k, first = 1;
	pp_sb_add(b, "{");
	for (k = 0; k < K_COUNT; k++) {
		if (!(cs->global_keys & (1u << k)))
			continue;
		pp_sb_add(b, first ? "" : ", ");
		first = 0;
		sb_json_str(b, plan_keys[k]);
		pp_sb_add(b, ": ");
		switch (k) {
		case K_T: pp_sb_printf(b, "%d", gl->t); break;
		case K_P: pp_sb_printf(b, "%d", gl->p); break;
		case K_D: pp_sb_printf(b, "%d", gl->d); break;
		case K_MB: pp_sb_printf(b, "%d", gl->micro_batch); break;
		case K_GB: pp_sb_printf(b, "%d", gl->global_batch); break;
		case K_V: pp_sb_printf(b, "%d", gl->virtual_stages); break;
		case K_SCHED: sb_json_str(b, pp_schedule_name(gl->schedule)); break;
		case K_RECOMP: sb_json_str(b, pp_recompute_name(gl->recompute)); break;
		case K_SP: pp_sb_add(b, gl->sequence_parallel ? "true" : "false"); break;
		case K_DOPT: pp_sb_add(b, gl->distributed_optimizer ? "true" : "false"); break;
		case K_OVERLAP: pp_sb_add(b, gl->overlap_grad_reduce ? "true" : "false"); break;
		case K_FIRST: pp_sb_printf(b, "%d", gl->first_stage_layers); break;
		case K_LAST: pp_sb_printf(b, "%d", gl->last_stage_layers); break;
		default: pp_sb_printf(b, "%d", cs->gpus);
		}
	}
	pp_sb_add(b, "}");
}

static void print_search(pp_sbuf *b, const pp_regress_search *s)
{
	pp_sb_printf(b, "{\"gpus\": %d, \"global_batch\": %d, \"method\": ", s->gpus, s->global_batch);
	sb_json_str(b, s->method);
	if (s->has_seed)
		pp_sb_printf(b, ", \"seed\": %llu", s->seed);
	if (s->time_limit_s > 0) {
		pp_sb_add(b, ", \"time_limit_s\": ");
		sb_num(b, s->time_limit_s);
	}
	pp_sb_add(b, "}");
}

static void print_value(pp_sbuf *b, const pp_regress_expect *e)
{
	if (!e->has_value) {
		pp_sb_add(b, "null");
		return;
	}
	switch (e->kind) {
	case PP_REGRESS_BOOL: pp_sb_add(b, e->value != 0 ? "true" : "false"); break;
	case PP_REGRESS_STRING: sb_json_str(b, e->str); break;
	case PP_REGRESS_INT: pp_sb_printf(b, "%.0f", e->value); break;
	default: sb_num(b, e->value);
	}
}

static void print_expect(pp_sbuf *b, const pp_regress_case *cs)
{
	int k, first = 1, search_done = 0;
	pp_sb_add(b, "{");
	for (k = 0; k < cs->n_expect; k++) {
		const pp_regress_expect *e = &cs->expect[k];
		int is_search = strncmp(e->field, "search.", 7) == 0;
		if (is_search && search_done)
			continue;
		pp_sb_add(b, first ? "\n" : ",\n");
		first = 0;
		if (is_search) {
			int j, sf = 1;
			search_done = 1;
			pp_sb_add(b, "        \"search\": {");
			for (j = k; j < cs->n_expect; j++) {
				const pp_regress_expect *s = &cs->expect[j];
				pp_sb_add(b, sf ? "" : ", ");
				sf = 0;
				sb_json_str(b, s->field + 7);
				pp_sb_add(b, ": ");
				print_value(b, s);
			}
			pp_sb_add(b, "}");
			continue;
		}
		pp_sb_add(b, "        ");
		sb_json_str(b, e->field);
		pp_sb_add(b, ": {\"value\": ");
		print_value(b, e);
		if (e->has_tol) {
			pp_sb_add(b, ", \"tol\": ");
			sb_num(b, e->tol);
		}
		pp_sb_add(b, "}");
	}
	pp_sb_add(b, "\n      }");
}

char *pp_regress_to_json(const pp_regress_file *f)
{
	pp_sbuf b = PP_SBUF_INIT;
	char *out;
	int i;
	pp_sb_add(&b, "{\n  \"format\": \"" PP_REGRESS_FORMAT "\",\n");
	if (f->note) {
		pp_sb_add(&b, "  \"note\": ");
		sb_json_str(&b, f->note);
		pp_sb_add(&b, ",\n");
	}
	pp_sb_add(&b, "  \"cases\": [");
	for (i = 0; i < f->n_cases; i++) {
		const pp_regress_case *cs = &f->cases[i];
		pp_sb_add(&b, i ? ",\n    {\n" : "\n    {\n");
		pp_sb_add(&b, "      \"name\": ");
		sb_json_str(&b, cs->name);
		if (cs->note) {
			pp_sb_add(&b, ",\n      \"note\": ");
			sb_json_str(&b, cs->note);
		}
		pp_sb_add(&b, ",\n      \"model\": ");
		sb_json_str(&b, cs->model);
		pp_sb_add(&b, ",\n      \"hw\": ");
		sb_json_str(&b, cs->hw);
		if (cs->stack) {
			pp_sb_add(&b, ",\n      \"stack\": ");
			sb_json_str(&b, cs->stack);
		}
		switch (cs->source) {
		case PP_REGRESS_INLINE:
			pp_sb_add(&b, ",\n      \"plan\": ");
			print_plan(&b, cs);
			break;
		case PP_REGRESS_PLAN_FILE:
			pp_sb_add(&b, ",\n      \"plan_file\": ");
			sb_json_str(&b, cs->plan_file);
			break;
		default:
			pp_sb_add(&b, ",\n      \"search\": ");
			print_search(&b, &cs->search);
		}
		pp_sb_add(&b, ",\n      \"expect\": ");
		print_expect(&b, cs);
		pp_sb_add(&b, "\n    }");
	}
	pp_sb_add(&b, "\n  ]\n}\n");
	return pp_sb_finish(&b, &out, NULL) < 0 ? NULL : out;
}

static void drift_text(const pp_regress_expect *e, char *buf, size_t n)
{
	if (e->verdict == PP_REGRESS_UNSET || !e->evaluated)
		snprintf(buf, n, "-");
	else if (e->kind != PP_REGRESS_NUMBER)
		snprintf(buf, n, "%s", e->verdict == PP_REGRESS_PASS ? "0%" : "differs");
	else if (!isfinite(e->drift))
		snprintf(buf, n, "%s", isnan(e->drift) ? "nan" : e->drift > 0 ? "+inf%" : "-inf%");
	else
		snprintf(buf, n, "%+.4g%%", e->drift * 100);
}

char *pp_regress_junit(pp_regress_file *const *files, int n)
{
	pp_sbuf b = PP_SBUF_INIT;
	char *out;
	int i, c, k, tests = 0, fails = 0;
	for (i = 0; i < n; i++) {
		int bad;
		tests += pp_regress_count(files[i], &bad);
		fails += bad;
	}
	pp_sb_add(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	pp_sb_printf(&b, "<testsuites name=\"parplan regress\" tests=\"%d\" failures=\"%d\" errors=\"0\">\n",
		  tests, fails);
	for (i = 0; i < n; i++) {
		const pp_regress_file *f = files[i];
		int bad, t = pp_regress_count(f, &bad);
		pp_sb_add(&b, "  <testsuite name=\"");
		sb_xml(&b, f->path);
		pp_sb_printf(&b, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\">\n", t, bad);
		for (c = 0; c < f->n_cases; c++) {
			const pp_regress_case *cs = &f->cases[c];
			for (k = 0; k < cs->n_expect; k++) {
				const pp_regress_expect *e = &cs->expect[k];
				char ex[64], got[64], dr[32], msg[256];
				pp_sb_add(&b, "    <testcase classname=\"");
				sb_xml(&b, cs->name);
				pp_sb_add(&b, "\" name=\"");
				sb_xml(&b, e->field);
				pp_sb_add(&b, "\" file=\"");
				sb_xml(&b, f->path);
				if (e->verdict == PP_REGRESS_PASS) {
					pp_sb_add(&b, "\"/>\n");
					continue;
				}
				pp_regress_expect_text(e, 0, ex, sizeof(ex));
				pp_regress_expect_text(e, 1, got, sizeof(got));
				drift_text(e, dr, sizeof(dr));
				if (e->verdict == PP_REGRESS_UNSET)
					snprintf(msg, sizeof(msg), "no expected value (got %s): run parplan regress --update", got);
				else
					snprintf(msg, sizeof(msg), "expected %s got %s drift %s", ex, got, dr);
				pp_sb_add(&b, "\">\n      <failure type=\"");
				pp_sb_add(&b, e->verdict == PP_REGRESS_UNSET ? "unset" : "drift");
				pp_sb_add(&b, "\" message=\"");
				sb_xml(&b, msg);
				pp_sb_add(&b, "\">");
				sb_xml(&b, cs->name);
				pp_sb_add(&b, ": ");
				sb_xml(&b, e->field);
				pp_sb_add(&b, ": ");
				sb_xml(&b, msg);
				if (e->kind == PP_REGRESS_NUMBER && e->verdict == PP_REGRESS_DRIFT)
					pp_sb_printf(&b, " (tolerance %.4g%%)", e->tol * 100);
				pp_sb_add(&b, "</failure>\n    </testcase>\n");
			}
		}
		pp_sb_add(&b, "  </testsuite>\n");
	}
	pp_sb_add(&b, "</testsuites>\n");
	return pp_sb_finish(&b, &out, NULL) < 0 ? NULL : out;
}

static void json_num_or_null(pp_sbuf *b, double v)
{
	if (isfinite(v))
		sb_num(b, v);
	else
		pp_sb_add(b, "null");
}

static void json_value(pp_sbuf *b, const pp_regress_expect *e, int got)
{
	if (got ? !e->evaluated : !e->has_value) {
		pp_sb_add(b, "null");
		return;
	}
	switch (e->kind) {
	case PP_REGRESS_BOOL: pp_sb_add(b, (got ? e->got : e->value) != 0 ? "true" : "false"); break;
	case PP_REGRESS_STRING: sb_json_str(b, got ? e->got_str : e->str); break;
	default: json_num_or_null(b, got ? e->got : e->value);
	}
}

char *pp_regress_results_json(pp_regress_file *const *files, int n)
{
	static const char *const verdicts[] = {"pass", "drift", "unset"};
	pp_sbuf b = PP_SBUF_INIT;
	char *out;
	int i, c, k, tests = 0, fails = 0;
	for (i = 0; i < n; i++) {
		int bad;
		tests += pp_regress_count(files[i], &bad);
		fails += bad;
	}
	pp_sb_printf(&b, "{\n  \"tests\": %d,\n  \"failures\": %d,\n  \"files\": [", tests, fails);
	for (i = 0; i < n; i++) {
		const pp_regress_file *f = files[i];
		pp_sb_add(&b, i ? ",\n    {\"file\": " : "\n    {\"file\": ");
		sb_json_str(&b, f->path);
		pp_sb_add(&b, ", \"results\": [");
		for (c = 0; c < f->n_cases; c++) {
			const pp_regress_case *cs = &f->cases[c];
			for (k = 0; k < cs->n_expect; k++) {
				const pp_regress_expect *e = &cs->expect[k];
				pp_sb_add(&b, (c || k) ? ",\n      {\"case\": " : "\n      {\"case\": ");
				sb_json_str(&b, cs->name);
				pp_sb_add(&b, ", \"field\": ");
				sb_json_str(&b, e->field);
				pp_sb_add(&b, ", \"expected\": ");
				json_value(&b, e, 0);
				pp_sb_add(&b, ", \"got\": ");
				json_value(&b, e, 1);
				pp_sb_add(&b, ", \"tol\": ");
				if (e->kind == PP_REGRESS_NUMBER)
					sb_num(&b, e->tol);
				else
					pp_sb_add(&b, "0");
				pp_sb_add(&b, ", \"drift_pct\": ");
				if (e->kind == PP_REGRESS_NUMBER && e->verdict != PP_REGRESS_UNSET &&
				    e->evaluated)
					json_num_or_null(&b, e->drift * 100);
				else
					pp_sb_add(&b, "null");
				pp_sb_add(&b, ", \"verdict\": ");
				sb_json_str(&b, verdicts[e->verdict]);
				pp_sb_add(&b, "}");
			}
		}
		pp_sb_add(&b, "\n    ]}");
	}
	pp_sb_add(&b, "\n  ]\n}\n");
	return pp_sb_finish(&b, &out, NULL) < 0 ? NULL : out;
}
