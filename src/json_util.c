/* json_util.c - strict, path-reporting JSON helpers over cJSON (see json_int.h). */
#include "json_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/io.h"

int pp_json_parse(const char *file, const char *text, size_t len, cJSON **out, pp_error *err)
{
	const char *end = NULL;
	cJSON *root;
	size_t i, line = 1, col = 1;

	*out = NULL;
	if (len == 0 || strspn(text, " \t\r\n") == len)
		return pp_error_set(err, PP_EINVALID, file, NULL, "empty file, expected a JSON object");
	if (memchr(text, '\0', len))
		return pp_error_set(err, PP_EINVALID, file, NULL, "not a text file (NUL byte)");
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root && end && strspn(end, " \t\r\n") != (size_t)(text + len - end)) {
		cJSON_Delete(root);
		root = NULL; /* trailing garbage after the value */
	}
	if (!root) {
		/* cJSON reports where it stopped; turn that into a line and column, and tell a
		 * nesting limit apart from a syntax error by the depth reached there. */
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
		int depth = 0, maxdepth = 0, in_str = 0;
		for (i = 0; i < at; i++) {
			char ch = text[i];
			if (ch == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
			if (in_str) {
				if (ch == '\\')
					i++;
				else if (ch == '"')
					in_str = 0;
			} else if (ch == '"') {
				in_str = 1;
			} else if (ch == '[' || ch == '{') {
				if (++depth > maxdepth)
					maxdepth = depth;
			} else if (ch == ']' || ch == '}') {
				depth--;
			}
		}
		if (maxdepth >= CJSON_NESTING_LIMIT)
			return pp_error_set(err, PP_EINVALID, file, NULL,
					    "JSON nested deeper than %d levels", CJSON_NESTING_LIMIT);
		if (at + 1 >= len) /* cJSON points at the last byte when the input ends early */
			return pp_error_set(err, PP_EINVALID, file, NULL,
					    "invalid JSON: unexpected end of input at line %zu", line);
		return pp_error_set(err, PP_EINVALID, file, NULL,
				    "invalid JSON at line %zu column %zu", line, col);
	}
	*out = root;
	return 0;
}

int pp_json_load(const char *file, cJSON **out, pp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = pp_read_file(file, &text, &len, err)) < 0)
		return rc;
	if (memchr(text, '\0', len)) {
		free(text);
		return pp_error_set(err, PP_EINVALID, file, NULL, "not a text file (NUL byte)");
	}
	rc = pp_json_parse(file, text, len, out, err);
	free(text);
	return rc;
}

/* at most @max bytes of @s into @out at @n; returns the new length.  The loaders build a path
 * for every tensor, op and dimension before they know whether it is needed, so these two are
 * written out by hand instead of through snprintf (a third of a large graph's load time). */
static size_t put_str(char *out, size_t n, const char *s, size_t max)
{
	size_t k = 0;
	while (k < max && s[k])
		out[n + k] = s[k], k++;
	return n + k;
}

void pp_jpath_key(char *out, const char *parent, const char *key)
{
	size_t n;
	/* as snprintf "%.200s", or "%.180s.%.60s" below a parent */
	if (!parent || !parent[0]) {
		n = put_str(out, 0, key, 200);
	} else {
		n = put_str(out, 0, parent, 180);
		out[n++] = '.';
		n = put_str(out, n, key, 60);
	}
	out[n] = '\0';
}

void pp_jpath_idx(char *out, const char *parent, int i)
{
	/* as snprintf "%.200s[%d]" */
	char digits[16];
	unsigned u = i < 0 ? 0u - (unsigned)i : (unsigned)i;
	size_t n = put_str(out, 0, parent ? parent : "", 200), k = 0;
	do
		digits[k++] = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	out[n++] = '[';
	if (i < 0)
		out[n++] = '-';
	while (k > 0)
		out[n++] = digits[--k];
	out[n++] = ']';
	out[n] = '\0';
}

int pp_json_fail(const pp_jctx *c, const char *parent, const char *key, const char *fmt, ...)
{
	char path[PP_JPATH_MAX], msg[PP_ERROR_MSG_MAX];
	va_list ap;

	if (key)
		pp_jpath_key(path, parent, key);
	else
		snprintf(path, sizeof(path), "%s", parent ? parent : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pp_error_set(c->err, PP_EINVALID, c->file, path[0] ? path : "(root)", "%s", msg);
}

const char *pp_json_type_name(const cJSON *v)
{
	if (!v)
		return "nothing";
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "an unknown value";
}

int pp_json_check_object(const pp_jctx *c, const cJSON *obj, const char *path,
			 const char *const *allowed)
{
	const cJSON *m, *o;

	if (!cJSON_IsObject(obj))
		return pp_json_fail(c, path, NULL, "expected an object, got %s",
				    pp_json_type_name(obj));
	for (m = obj->child; m; m = m->next) {
		const char *const *a;
		int ok = 0;
		for (a = allowed; *a; a++)
			if (strcmp(*a, m->string) == 0)
				ok = 1;
		if (!ok)
			return pp_json_fail(c, path, m->string, "unknown field \"%.64s\"", m->string);
		for (o = obj->child; o != m; o = o->next)
			if (strcmp(o->string, m->string) == 0)
				return pp_json_fail(c, path, m->string, "field given twice");
	}
	return 0;
}

static const cJSON *member(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
			   int required, int *rc)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*rc = 0;
	if (!v && required)
		*rc = pp_json_fail(c, path, NULL, "missing field \"%s\"", key);
	return v;
}

int pp_json_get_string(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, const char **out)
{
	int rc;
	const cJSON *v = member(c, obj, path, key, required, &rc);
	if (!v)
		return rc;
	if (!cJSON_IsString(v))
		return pp_json_fail(c, path, key, "expected a string, got %s", pp_json_type_name(v));
	if (!v->valuestring[0])
		return pp_json_fail(c, path, key, "empty string");
	if (strlen(v->valuestring) > 4096)
		return pp_json_fail(c, path, key, "string longer than 4096 characters");
	*out = v->valuestring;
	return 0;
}

int pp_json_get_number(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, double min, double max, double *out)
{
	int rc;
	const cJSON *v = member(c, obj, path, key, required, &rc);
	if (!v)
		return rc;
	if (!cJSON_IsNumber(v))
		return pp_json_fail(c, path, key, "expected a number, got %s", pp_json_type_name(v));
	if (!isfinite(v->valuedouble) || v->valuedouble < min || v->valuedouble > max)
		return pp_json_fail(c, path, key, "%g is out of range [%g, %g]", v->valuedouble,
				    min, max);
	*out = v->valuedouble;
	return 0;
}

int pp_json_as_int(const pp_jctx *c, const cJSON *v, const char *path, int64_t min, int64_t max,
		   int64_t *out)
{
	double d;
	if (!cJSON_IsNumber(v))
		return pp_json_fail(c, path, NULL, "expected an integer, got %s",
				    pp_json_type_name(v));
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d))
		return pp_json_fail(c, path, NULL, "expected an integer, got %g", d);
	if (d < (double)min || d > (double)max)
		return pp_json_fail(c, path, NULL, "%g is out of range [%lld, %lld]", d,
				    (long long)min, (long long)max);
	*out = (int64_t)d;
	return 0;
}

int pp_json_get_int(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		    int required, int64_t min, int64_t max, int64_t *out)
{
	char p[PP_JPATH_MAX];
	int rc;
	const cJSON *v = member(c, obj, path, key, required, &rc);
	if (!v)
		return rc;
	pp_jpath_key(p, path, key);
	return pp_json_as_int(c, v, p, min, max, out);
}

int pp_json_get_bool(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		     int required, int *out)
{
	int rc;
	const cJSON *v = member(c, obj, path, key, required, &rc);
	if (!v)
		return rc;
	if (!cJSON_IsBool(v))
		return pp_json_fail(c, path, key, "expected true or false, got %s",
				    pp_json_type_name(v));
	*out = cJSON_IsTrue(v);
	return 0;
}

int pp_json_get_object(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, const cJSON **out)
{
	int rc;
	const cJSON *v = member(c, obj, path, key, required, &rc);
	*out = NULL;
	if (!v)
		return rc;
	if (!cJSON_IsObject(v))
		return pp_json_fail(c, path, key, "expected an object, got %s", pp_json_type_name(v));
	*out = v;
	return 0;
}

int pp_json_get_array(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		      int required, const cJSON **out)
{
	int rc;
	const cJSON *v = member(c, obj, path, key, required, &rc);
	*out = NULL;
	if (!v)
		return rc;
	if (!cJSON_IsArray(v))
		return pp_json_fail(c, path, key, "expected an array, got %s", pp_json_type_name(v));
	*out = v;
	return 0;
}

char *pp_json_print(const cJSON *root)
{
	char *s = cJSON_Print(root), *t;
	size_t n;
	if (!s)
		return NULL;
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}
