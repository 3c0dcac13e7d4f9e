/*
 * io.h - whole-file reads and atomic writes.
 *
 * Every output file parplan writes goes through pp_write_atomic(): the bytes go to a temporary
 * file in the target's folder, which is renamed over the target only once it is complete, so a
 * failed command never leaves a half-written file.  The rules (docs/reliability.md):
 *   - modes: a file that exists keeps its permission bits; a new one gets 0666 less the umask,
 *     0777 less the umask for a script (PP_WRITE_SCRIPT), as open(2) would give it;
 *   - symbolic links are followed: the file a link names is replaced (created, for a dangling
 *     link whose folder exists) and the link stays; a loop of links is refused (PP_EINVALID);
 *   - an existing device or FIFO is written into, not replaced; a folder is refused (PP_EIO).
 */
#ifndef PARPLAN_IO_H
#define PARPLAN_IO_H

#include <stddef.h>

#include "parplan/error.h"

/** Largest file pp_read_file() accepts (bytes). */
#define PP_READ_MAX ((size_t)256 << 20)

/** pp_write_atomic_flags(): the file is a script to run (a new one is created executable). */
#define PP_WRITE_SCRIPT 1u

/**
 * Read all of @path into a NUL-terminated buffer the caller frees with free().  @len (may be
 * NULL) receives the length.  Fails with PP_ENOTFOUND, PP_EIO or PP_EINVALID (too large).
 */
int pp_read_file(const char *path, char **out, size_t *len, pp_error *err);

/** Write @len bytes to @path atomically (temp file + rename).  "-" writes to stdout. */
int pp_write_atomic(const char *path, const char *data, size_t len, pp_error *err);

/** pp_write_atomic() with PP_WRITE_* @flags. */
int pp_write_atomic_flags(const char *path, const char *data, size_t len, unsigned flags,
			  pp_error *err);

#endif
