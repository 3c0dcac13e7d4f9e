/*
 * sbuf_int.h - a string that grows as it is printed into, shared by the emitters and regress,
 * and the one XML escaper (JUnit reports, SVG timelines).
 *
 * An allocation failure is remembered and reported once by pp_sb_finish(); the text is always
 * NUL-terminated once anything was added.
 *
 * Why not POSIX open_memstream(): the text is built by the library's own realloc(), so a test
 * build with a failing allocator reaches every out-of-memory path (inside libc's stream it could
 * not), the failure surfaces in one place (pp_sb_finish) rather than at every fprintf and at
 * fclose, the finished text is handed over without a copy, and the library stays within C11 plus
 * the little POSIX it already needs (open_memstream is missing on Windows and older macOS).  It
 * is 70 lines.
 */
#ifndef PARPLAN_SBUF_INT_H
#define PARPLAN_SBUF_INT_H

#include <stddef.h>

#include "parplan/error.h"

typedef struct pp_sbuf {
	char *s;
	size_t len, cap;
	int oom;
} pp_sbuf;

#define PP_SBUF_INIT {NULL, 0, 0, 0}

/** Append @n bytes of @s. */
void pp_sb_addn(pp_sbuf *b, const char *s, size_t n);
/** Append a NUL-terminated string. */
void pp_sb_add(pp_sbuf *b, const char *s);
/** Append printf-style text of any length. */
void pp_sb_printf(pp_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/**
 * Append @s escaped for XML text or a double-quoted attribute: & < > " ' as entities, tab,
 * newline and return as character references, other control bytes (not allowed in XML 1.0) as
 * '?'.
 */
void pp_sb_xml(pp_sbuf *b, const char *s);
/** Hand the text to *out (0), or free it and fail with PP_ENOMEM. */
int pp_sb_finish(pp_sbuf *b, char **out, pp_error *err);

#endif
