/* cli.c - option parsing and error printing shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_error(const pp_error *err)
{
	char buf[PP_ERROR_MSG_MAX + PP_ERROR_FILE_MAX + PP_ERROR_PATH_MAX + 8];
	fprintf(stderr, "parplan: %s\n", pp_error_format(err, buf, sizeof(buf)));
	return err->code == PP_EINFEASIBLE ? CLI_FAIL : CLI_BAD;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("parplan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_BAD;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		cli_usage("option %s needs a value", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int cli_int(const char *name, const char *val, long long min, long long max, long long *out)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(val, &end, 10);
	if (errno || end == val || *end || v < min || v > max) {
		cli_usage("%s: expected an integer in [%lld, %lld], got \"%.40s\"", name, min, max, val);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_num(const char *name, const char *val, double min, double max, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(val, &end);
	if (errno || end == val || *end || !isfinite(v) || v < min || v > max) {
		cli_usage("%s: expected a number in [%g, %g], got \"%.40s\"", name, min, max, val);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_isatty(FILE *f)
{
	return isatty(fileno(f));
}
