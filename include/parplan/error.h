/*
 * error.h - parplan's one error type.
 *
 * Every library function that can fail returns int (0 = ok, a negative PP_E* code on failure)
 * and, when given a non-NULL pp_error *, fills it with a one-line message, the file it concerns
 * and the JSON path of the offending value.  The library never prints; the CLI formats the
 * error with pp_error_format():  "models/x.json: ops[3].inputs[1]: unknown tensor \"w9\"".
 * pp_error is a plain caller-owned struct: nothing to free.
 */
#ifndef PARPLAN_ERROR_H
#define PARPLAN_ERROR_H

#include <stddef.h>

enum {
	PP_OK = 0,
	PP_EINVALID = -1,    /* malformed input or invalid plan */
	PP_ENOTFOUND = -2,   /* a file or a name that does not exist */
	PP_EINFEASIBLE = -3, /* no plan fits */
	PP_ENOMEM = -4,
	PP_EIO = -5,
	PP_EBACKEND = -6,    /* BLAS / MPI / CUDA failure */
	PP_ESTOPPED = -7     /* a search stopped (signal, time limit) before it found any plan */
};

#define PP_ERROR_MSG_MAX 512
#define PP_ERROR_FILE_MAX 256
#define PP_ERROR_PATH_MAX 256

typedef struct pp_error {
	int code;                        /* PP_E*, 0 when no error is set */
	char msg[PP_ERROR_MSG_MAX];      /* lowercase, no full stop */
	char file[PP_ERROR_FILE_MAX];    /* "" when not about a file */
	char path[PP_ERROR_PATH_MAX];    /* JSON path, "" when not about a value */
} pp_error;

#define PP_ERROR_INIT {0, "", "", ""}

/** Reset @err to "no error".  NULL-safe. */
void pp_error_clear(pp_error *err);

/**
 * Set @err (NULL-safe) to @code with a printf-style message; @file and @path may be NULL.
 * Returns @code so that callers can write `return pp_error_set(err, PP_EINVALID, ...)`.
 */
int pp_error_set(pp_error *err, int code, const char *file, const char *path,
		 const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

/**
 * Write "file: path: message" (parts that are empty left out) into @buf of @n bytes, with
 * control characters replaced so that the result is always one line.  Returns @buf.
 */
char *pp_error_format(const pp_error *err, char *buf, size_t n);

/** A short name for a PP_E* code ("invalid input", ...); never NULL. */
const char *pp_error_name(int code);

#endif
