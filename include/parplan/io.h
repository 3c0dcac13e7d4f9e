/*
 * io.h - whole-file reads and atomic writes.
 *
 * Every output file parplan writes goes through pp_write_atomic(): the bytes go to a temporary
 * file in the same folder, which is renamed over the target only once it is complete, so a failed
 * command never leaves a half-written file.
 */
#ifndef PARPLAN_IO_H
#define PARPLAN_IO_H

#include <stddef.h>

#include "parplan/error.h"

/** Largest file pp_read_file() accepts (bytes). */
#define PP_READ_MAX ((size_t)256 << 20)

/**
 * Read all of @path into a NUL-terminated buffer the caller frees with free().  @len (may be
 * NULL) receives the length.  Fails with PP_ENOTFOUND, PP_EIO or PP_EINVALID (too large).
 */
int pp_read_file(const char *path, char **out, size_t *len, pp_error *err);

/** Write @len bytes to @path atomically (temp file + rename).  "-" writes to stdout. */
int pp_write_atomic(const char *path, const char *data, size_t len, pp_error *err);

#endif
