/* error.c - the pp_error helpers. */
#include "parplan/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pp_error_clear(pp_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = err->file[0] = err->path[0] = '\0';
}

static void copy_str(char *dst, size_t n, const char *src)
{
	if (!src)
		src = "";
	snprintf(dst, n, "%s", src);
}

int pp_error_set(pp_error *err, int code, const char *file, const char *path,
		 const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	copy_str(err->file, sizeof(err->file), file);
	copy_str(err->path, sizeof(err->path), path);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

char *pp_error_format(const pp_error *err, char *buf, size_t n)
{
	size_t i;

	if (!n)
		return buf;
	buf[0] = '\0';
	if (!err)
		return buf;
	snprintf(buf, n, "%s%s%s%s%s", err->file, err->file[0] ? ": " : "", err->path,
		 err->path[0] ? ": " : "", err->msg[0] ? err->msg : pp_error_name(err->code));
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

const char *pp_error_name(int code)
{
	switch (code) {
	case PP_OK: return "ok";
	case PP_EINVALID: return "invalid input";
	case PP_ENOTFOUND: return "not found";
	case PP_EINFEASIBLE: return "infeasible";
	case PP_ENOMEM: return "out of memory";
	case PP_EIO: return "input/output error";
	case PP_EBACKEND: return "backend failure";
	case PP_ESTOPPED: return "stopped";
	default: return "unknown error";
	}
}
