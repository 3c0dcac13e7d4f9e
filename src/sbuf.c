/* sbuf.c - a growing string (see sbuf_int.h). */
#include "sbuf_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for @n more bytes and the terminating NUL. */
static int reserve(pp_sbuf *b, size_t n)
{
	size_t ncap;
	char *ns;
	if (b->oom)
		return -1;
	if (b->s && b->cap - b->len > n)
		return 0;
	ncap = b->cap ? b->cap * 2 : 4096;
	while (ncap - b->len <= n)
		ncap *= 2;
	ns = realloc(b->s, ncap);
	if (!ns) {
		b->oom = 1;
		return -1;
	}
	b->s = ns;
	b->cap = ncap;
	return 0;
}

void pp_sb_addn(pp_sbuf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void pp_sb_add(pp_sbuf *b, const char *s)
{
	pp_sb_addn(b, s, strlen(s));
}

void pp_sb_printf(pp_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;
	if (b->oom)
		return;
	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0) {
		b->oom = 1;
		return;
	}
	if (reserve(b, (size_t)k) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)k;
}

void pp_sb_xml(pp_sbuf *b, const char *s)
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

int pp_sb_finish(pp_sbuf *b, char **out, pp_error *err)
{
	if (b->oom || !b->s) {
		free(b->s);
		b->s = NULL;
		*out = NULL;
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	}
	*out = b->s;
	b->s = NULL;
	return 0;
}
