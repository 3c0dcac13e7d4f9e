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
