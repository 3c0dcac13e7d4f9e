/*
 * regress_report.c - what regress prints: a case file in its one canonical form (after --update),
 * the results as JSON (`regress --json`) and as JUnit XML.
 *
 * The JSON documents are built as cJSON trees and printed by one layout printer (print_item): the
 * containers a document names are spread over lines with two-space indents, the others are kept
 * on one line ("plan": {"t": 8, "p": 16}), so that a case file reads as a table of expectations.
 * Numbers go into the tree as raw text already in their canonical form: the shortest %g that
 * reads back to the same double (pp_regress_format_number), integers as integers.  Nothing here
 * prints.
 */
#include "parplan/regress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "regress_int.h"
#include "sbuf_int.h"
#include "parplan/settings.h"

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

/* ---- building the trees ------------------------------------------------------------------- */

/* Raw number items: the text is what the file shows. */
static cJSON *num_item(double v)
{
	char buf[40];
	return cJSON_CreateRaw(pp_regress_format_number(v, buf, sizeof(buf)));
}

static cJSON *int_item(long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	return cJSON_CreateRaw(buf);
}

/* Add @item under @key (a NULL item, out of memory, makes the tree incomplete: *ok = 0). */
static void add(cJSON *o, const char *key, cJSON *item, int *ok)
{
	if (!o || !item || !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		*ok = 0;
	}
}

static void push(cJSON *a, cJSON *item, int *ok)
{
	if (!a || !item || !cJSON_AddItemToArray(a, item)) {
		cJSON_Delete(item);
		*ok = 0;
	}
}

/* ---- the layout printer ------------------------------------------------------------------- */

/* Which containers are spread over lines: @depth counts the containers above @it. */
typedef int (*expand_fn)(const cJSON *it, int depth);

/* A JSON string literal: '"', '\\', \n, \t and \r escaped, other control bytes as \u00XX. */
static void put_string(pp_sbuf *b, const char *s)
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

/*
 * Print @it.  A spread container puts each member on its own line, indented two spaces per
 * spread container around it (@level of them outside @it), and its closing bracket on a line of
 * its own; a container on one line separates its members with ", ".
 */
static void print_item(pp_sbuf *b, const cJSON *it, int depth, int level, expand_fn expand)
{
	const cJSON *m;
	int spread, is_obj = cJSON_IsObject(it);
	if (cJSON_IsRaw(it)) {
		pp_sb_add(b, it->valuestring);
		return;
	}
	if (cJSON_IsString(it)) {
		put_string(b, it->valuestring);
		return;
	}
	if (cJSON_IsBool(it)) {
		pp_sb_add(b, cJSON_IsTrue(it) ? "true" : "false");
		return;
	}
	if (cJSON_IsNumber(it)) {
		char buf[40];
		pp_sb_add(b, pp_regress_format_number(it->valuedouble, buf, sizeof(buf)));
		return;
	}
	if (!is_obj && !cJSON_IsArray(it)) {
		pp_sb_add(b, "null");
		return;
	}
	spread = expand(it, depth);
	pp_sb_add(b, is_obj ? "{" : "[");
	for (m = it->child; m; m = m->next) {
		if (spread)
			pp_sb_printf(b, "%s\n%*s", m == it->child ? "" : ",", 2 * (level + 1), "");
		else if (m != it->child)
			pp_sb_add(b, ", ");
		if (is_obj) {
			put_string(b, m->string);
			pp_sb_add(b, ": ");
		}
		print_item(b, m, depth + 1, level + spread, expand);
	}
	if (spread)
		pp_sb_printf(b, "\n%*s", 2 * level, "");
	pp_sb_add(b, is_obj ? "}" : "]");
}

/* Print @root (NULL: out of memory) with a final newline; the caller frees the text. */
static char *print_doc(cJSON *root, int ok, expand_fn expand)
{
	pp_sbuf b = PP_SBUF_INIT;
	char *out = NULL;
	if (root && ok) {
		print_item(&b, root, 0, 0, expand);
		pp_sb_add(&b, "\n");
		if (pp_sb_finish(&b, &out, NULL) < 0)
			out = NULL;
	}
	cJSON_Delete(root);
	return out;
}

/* ---- the canonical case file -------------------------------------------------------------- */

static cJSON *plan_json(const pp_regress_case *cs)
{
	const pp_setting *t = pp_settings();
	cJSON *o = cJSON_CreateObject();
	int k, ok = 1;
	for (k = 0; k <= PP_REGRESS_K_GPUS; k++) {
		const pp_setting *s = k < PP_REGRESS_K_GPUS ? &t[k] : NULL;
		int v;
		if (!(cs->global_keys & (1u << k)))
			continue;
		if (!s) {
			add(o, "gpus", int_item(cs->gpus), &ok);
			continue;
		}
		v = pp_setting_get(s, &cs->global);
		switch (s->type) {
		case PP_SETTING_ENUM: add(o, s->key, cJSON_CreateString(pp_setting_value_name(s, v)), &ok); break;
		case PP_SETTING_BOOL: add(o, s->key, cJSON_CreateBool(v), &ok); break;
		default: add(o, s->key, int_item(v), &ok);
		}
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *search_json(const pp_regress_search *s)
{
	cJSON *o = cJSON_CreateObject();
	int ok = 1;
	add(o, "gpus", int_item(s->gpus), &ok);
	add(o, "global_batch", int_item(s->global_batch), &ok);
	add(o, "method", cJSON_CreateString(s->method), &ok);
	if (s->has_seed)
		add(o, "seed", int_item((long long)s->seed), &ok);
	if (s->time_limit_s > 0)
		add(o, "time_limit_s", num_item(s->time_limit_s), &ok);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *value_json(const pp_regress_expect *e)
{
	if (!e->has_value)
		return cJSON_CreateNull();
	switch (e->kind) {
	case PP_REGRESS_BOOL: return cJSON_CreateBool(e->value != 0);
	case PP_REGRESS_STRING: return cJSON_CreateString(e->str);
	case PP_REGRESS_INT: return int_item((long long)e->value);
	default: return num_item(e->value);
	}
}

/* expect: the cost fields in order, each {"value": V, "tol": T}; the search degrees as one
 * object after them. */
static cJSON *expect_json(const pp_regress_case *cs)
{
	cJSON *o = cJSON_CreateObject(), *search = NULL;
	int k, ok = 1;
	for (k = 0; k < cs->n_expect; k++) {
		const pp_regress_expect *e = &cs->expect[k];
		cJSON *x;
		if (strncmp(e->field, "search.", 7) == 0) {
			if (!search && !(search = cJSON_CreateObject()))
				ok = 0;
			add(search, e->field + 7, value_json(e), &ok);
			continue;
		}
		x = cJSON_CreateObject();
		add(x, "value", value_json(e), &ok);
		if (e->has_tol)
			add(x, "tol", num_item(e->tol), &ok);
		add(o, e->field, x, &ok);
	}
	/* the search degrees come after every cost field */
	if (search)
		add(o, "search", search, &ok);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Spread: the root, its cases, each case, and each case's expectations. */
static int expand_case_file(const cJSON *it, int depth)
{
	return depth < 3 || (depth == 3 && it->string && strcmp(it->string, "expect") == 0);
}

char *pp_regress_to_json(const pp_regress_file *f)
{
	cJSON *root = cJSON_CreateObject(), *cases = cJSON_CreateArray();
	int i, ok = 1;
	for (i = 0; ok && i < f->n_cases; i++) {
		const pp_regress_case *cs = &f->cases[i];
		cJSON *c = cJSON_CreateObject();
		add(c, "name", cJSON_CreateString(cs->name), &ok);
		if (cs->note)
			add(c, "note", cJSON_CreateString(cs->note), &ok);
		add(c, "model", cJSON_CreateString(cs->model), &ok);
		add(c, "hw", cJSON_CreateString(cs->hw), &ok);
		if (cs->stack)
			add(c, "stack", cJSON_CreateString(cs->stack), &ok);
		switch (cs->source) {
		case PP_REGRESS_INLINE: add(c, "plan", plan_json(cs), &ok); break;
		case PP_REGRESS_PLAN_FILE: add(c, "plan_file", cJSON_CreateString(cs->plan_file), &ok); break;
		default: add(c, "search", search_json(&cs->search), &ok);
		}
		add(c, "expect", expect_json(cs), &ok);
		push(cases, c, &ok);
	}
	add(root, "format", cJSON_CreateString(PP_REGRESS_FORMAT), &ok);
	if (f->note)
		add(root, "note", cJSON_CreateString(f->note), &ok);
	add(root, "cases", cases, &ok);
	return print_doc(root, ok, expand_case_file);
}

/* ---- results ------------------------------------------------------------------------------- */

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
		pp_sb_xml(&b, f->path);
		pp_sb_printf(&b, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\">\n", t, bad);
		for (c = 0; c < f->n_cases; c++) {
			const pp_regress_case *cs = &f->cases[c];
			for (k = 0; k < cs->n_expect; k++) {
				const pp_regress_expect *e = &cs->expect[k];
				char ex[64], got[64], dr[32], msg[256];
				pp_sb_add(&b, "    <testcase classname=\"");
				pp_sb_xml(&b, cs->name);
				pp_sb_add(&b, "\" name=\"");
				pp_sb_xml(&b, e->field);
				pp_sb_add(&b, "\" file=\"");
				pp_sb_xml(&b, f->path);
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
				pp_sb_xml(&b, msg);
				pp_sb_add(&b, "\">");
				pp_sb_xml(&b, cs->name);
				pp_sb_add(&b, ": ");
				pp_sb_xml(&b, e->field);
				pp_sb_add(&b, ": ");
				pp_sb_xml(&b, msg);
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

/* A number, or null when it is not finite (JSON has no NaN). */
static cJSON *num_or_null(double v)
{
	return isfinite(v) ? num_item(v) : cJSON_CreateNull();
}

static cJSON *result_value(const pp_regress_expect *e, int got)
{
	if (got ? !e->evaluated : !e->has_value)
		return cJSON_CreateNull();
	switch (e->kind) {
	case PP_REGRESS_BOOL: return cJSON_CreateBool((got ? e->got : e->value) != 0);
	case PP_REGRESS_STRING: return cJSON_CreateString(got ? e->got_str : e->str);
	default: return num_or_null(got ? e->got : e->value);
	}
}

/* Spread: the root, its list of files, and each file's results. */
static int expand_results(const cJSON *it, int depth)
{
	return depth < 2 || (depth == 3 && it->string && strcmp(it->string, "results") == 0);
}

char *pp_regress_results_json(pp_regress_file *const *files, int n)
{
	static const char *const verdicts[] = {"pass", "drift", "unset"};
	cJSON *root = cJSON_CreateObject(), *arr;
	int i, c, k, ok = 1, tests = 0, fails = 0;
	for (i = 0; i < n; i++) {
		int bad;
		tests += pp_regress_count(files[i], &bad);
		fails += bad;
	}
	add(root, "tests", int_item(tests), &ok);
	add(root, "failures", int_item(fails), &ok);
	arr = cJSON_CreateArray();
	for (i = 0; ok && i < n; i++) {
		const pp_regress_file *f = files[i];
		cJSON *fo = cJSON_CreateObject(), *res = cJSON_CreateArray();
		for (c = 0; ok && c < f->n_cases; c++) {
			const pp_regress_case *cs = &f->cases[c];
			for (k = 0; k < cs->n_expect; k++) {
				const pp_regress_expect *e = &cs->expect[k];
				cJSON *r = cJSON_CreateObject();
				int num = e->kind == PP_REGRESS_NUMBER;
				add(r, "case", cJSON_CreateString(cs->name), &ok);
				add(r, "field", cJSON_CreateString(e->field), &ok);
				add(r, "expected", result_value(e, 0), &ok);
				add(r, "got", result_value(e, 1), &ok);
				add(r, "tol", num ? num_item(e->tol) : int_item(0), &ok);
				add(r, "drift_pct",
				    num && e->verdict != PP_REGRESS_UNSET && e->evaluated ? num_or_null(e->drift * 100)
											   : cJSON_CreateNull(),
				    &ok);
				add(r, "verdict", cJSON_CreateString(verdicts[e->verdict]), &ok);
				push(res, r, &ok);
			}
		}
		add(fo, "file", cJSON_CreateString(f->path), &ok);
		add(fo, "results", res, &ok);
		push(arr, fo, &ok);
	}
	add(root, "files", arr, &ok);
	return print_doc(root, ok, expand_results);
}
