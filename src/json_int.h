/*
 * json_int.h - strict JSON reading on top of cJSON, shared by every loader.
 *
 * Each helper takes a pp_jctx (the file name and the caller's pp_error) and the JSON path of the
 * object it reads, so that every failure is one line naming the file and the path of the value:
 * "models/x.json: ops[3].inputs[1]: unknown tensor \"w9\"".  Objects are checked for unknown and
 * duplicate keys.  Nothing here prints.
 */
#ifndef PARPLAN_JSON_INT_H
#define PARPLAN_JSON_INT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "parplan/error.h"

typedef struct pp_jctx {
	const char *file;
	pp_error *err;
} pp_jctx;

#define PP_JPATH_MAX 256

/** Parse @file (read whole) into a cJSON tree the caller frees with cJSON_Delete(). */
int pp_json_load(const char *file, cJSON **out, pp_error *err);

/** Parse @text (named @file in errors). */
int pp_json_parse(const char *file, const char *text, size_t len, cJSON **out, pp_error *err);

/** @out = @parent + ".key" (or "key" at the root); truncated safely. */
void pp_jpath_key(char *out, const char *parent, const char *key);
/** @out = @parent + "[i]". */
void pp_jpath_idx(char *out, const char *parent, int i);

/** Set ctx->err with the path of @parent.@key; returns PP_EINVALID. */
int pp_json_fail(const pp_jctx *c, const char *parent, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

/**
 * Check that @obj (at @path) is an object whose keys are all in the NULL-terminated @allowed
 * list, with no key twice.
 */
int pp_json_check_object(const pp_jctx *c, const cJSON *obj, const char *path,
			 const char *const *allowed);

/* Typed member getters.  @required 0 leaves *out untouched when the key is absent. */
int pp_json_get_string(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, const char **out);
int pp_json_get_number(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, double min, double max, double *out);
int pp_json_get_int(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		    int required, int64_t min, int64_t max, int64_t *out);
int pp_json_get_bool(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		     int required, int *out);
/** Member that must be an object (type checked) or array; *out NULL when absent and optional. */
int pp_json_get_object(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, const cJSON **out);
int pp_json_get_array(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		      int required, const cJSON **out);

/** Check that a number @v at @path is a whole number in [min, max]. */
int pp_json_as_int(const pp_jctx *c, const cJSON *v, const char *path, int64_t min, int64_t max,
		   int64_t *out);

/** A short name for @v's JSON type ("string", "number", ...). */
const char *pp_json_type_name(const cJSON *v);

/**
 * Print @root as indented JSON with a trailing newline; caller frees.  Numbers that are whole
 * print as integers, others with 17 significant digits trimmed, so output is byte-stable.
 */
char *pp_json_print(const cJSON *root);

#endif
