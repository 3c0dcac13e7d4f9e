/* cli.c - option parsing and error printing shared by the subcommands. */
#include "cli.h"

#include <ctype.h>
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
	/* no plan: none fits, or the search was stopped before it found one */
	return err->code == PP_EINFEASIBLE || err->code == PP_ESTOPPED ? CLI_FAIL : CLI_BAD;
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

/* True when argv[j] for j < i already named option @name (as "name" or "name=value").  Values
 * given as separate arguments never look like options (cli_opt refuses those), so every earlier
 * argument that matches was the option itself. */
static int given_before(char **argv, int i, const char *name)
{
	size_t n = strlen(name);
	int j;
	for (j = 1; j < i; j++)
		if (strncmp(argv[j], name, n) == 0 && (argv[j][n] == '\0' || argv[j][n] == '='))
			return 1;
	return 0;
}

/* An argument that is an option, not a value: "--x", "-o"; "-" (stdout), "-1" and "-inf" are
 * values. */
static int looks_like_option(const char *a)
{
	char *end;
	if (a[0] != '-' || a[1] == '\0')
		return 0;
	if (a[1] == '-')
		return 1;
	(void)strtod(a, &end);
	return *end != '\0' && !isdigit((unsigned char)a[1]) && a[1] != '.';
}

static int opt_match(int argc, char **argv, int *i, const char *name, const char **val, int once)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0 || (a[n] != '=' && a[n] != '\0'))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
	} else {
		if (*i + 1 >= argc) {
			cli_usage("option %s needs a value", name);
			return -1;
		}
		if (looks_like_option(argv[*i + 1])) {
			cli_usage("option %s needs a value, not the option \"%.40s\" (write %s=VALUE for a "
				  "value that starts with '-')", name, argv[*i + 1], name);
			return -1;
		}
		*val = argv[++*i];
	}
	if (!**val) {
		cli_usage("option %s needs a value, got an empty string", name);
		return -1;
	}
	if (once && given_before(argv, *i - (a[n] != '='), name)) {
		cli_usage("option %s given twice", name);
		return -1;
	}
	return 1;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	return opt_match(argc, argv, i, name, val, 1);
}

int cli_opt_each(int argc, char **argv, int *i, const char *name, const char **val)
{
	return opt_match(argc, argv, i, name, val, 0);
}

int cli_flag(char **argv, int i, const char *name)
{
	const char *a = argv[i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0 || (a[n] != '=' && a[n] != '\0'))
		return 0;
	if (a[n] == '=') {
		cli_usage("option %s takes no value, got \"%.40s\"", name, a);
		return -1;
	}
	if (given_before(argv, i, name)) {
		cli_usage("option %s given twice", name);
		return -1;
	}
	return 1;
}

/* strtoll and strtod skip leading blanks and strtod reads hex, "inf" and "nan": an option value
 * is a plain decimal number or nothing. */
static int plain_number(const char *val, int real)
{
	const char *q = val;
	if (*q == '-' || *q == '+')
		q++;
	if (!isdigit((unsigned char)*q) && !(real && *q == '.'))
		return 0;
	for (; *q; q++)
		if (!isdigit((unsigned char)*q) &&
		    !(real && (*q == '.' || *q == 'e' || *q == 'E' || *q == '-' || *q == '+')))
			return 0;
	return 1;
}

int cli_int(const char *name, const char *val, long long min, long long max, long long *out)
{
	char *end;
	long long v = 0;
	errno = 0;
	if (plain_number(val, 0))
		v = strtoll(val, &end, 10);
	if (!plain_number(val, 0) || errno || end == val || *end || v < min || v > max) {
		cli_usage("%s: expected an integer in [%lld, %lld], got \"%.40s\"", name, min, max, val);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_num(const char *name, const char *val, double min, double max, double *out)
{
	char *end;
	double v = 0;
	errno = 0;
	if (plain_number(val, 1))
		v = strtod(val, &end);
	if (!plain_number(val, 1) || errno || end == val || *end || !isfinite(v) || v < min ||
	    v > max) {
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

static volatile sig_atomic_t stop_flag;
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_STOP_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))
static struct sigaction stop_old[N_STOP_SIGNALS];
static int stop_caught;

static void on_stop_signal(int sig)
{
	stop_flag = sig;
}

volatile sig_atomic_t *cli_stop_catch(void)
{
	struct sigaction sa;
	size_t i;
	stop_flag = 0;
	if (stop_caught)
		return &stop_flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESTART; /* a file being read or written goes on: only the search stops */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_STOP_SIGNALS; i++)
		sigaddset(&sa.sa_mask, stop_signals[i]);
	for (i = 0; i < N_STOP_SIGNALS; i++) {
		sigaction(stop_signals[i], &sa, &stop_old[i]);
		/* SIGTERM or SIGHUP ignored on entry (nohup) stays ignored; SIGINT is caught all the
		 * same, as shells start background jobs with it ignored and `kill -INT` is still meant */
		if (stop_signals[i] != SIGINT && stop_old[i].sa_handler == SIG_IGN)
			sigaction(stop_signals[i], &stop_old[i], NULL);
	}
	stop_caught = 1;
	return &stop_flag;
}

void cli_stop_release(void)
{
	size_t i;
	if (!stop_caught)
		return;
	for (i = 0; i < N_STOP_SIGNALS; i++)
		sigaction(stop_signals[i], &stop_old[i], NULL);
	stop_caught = 0;
}

const char *cli_signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}
