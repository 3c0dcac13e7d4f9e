/*
 * cli.h - shared helpers of the parplan subcommands (src/cli/cmd_*.c).
 *
 * Only the CLI prints and chooses exit codes: 0 ok, 1 no feasible plan / regression drift,
 * 2 bad usage or bad input.  Every error is one line on stderr: "parplan: <message>".
 */
#ifndef PARPLAN_CLI_H
#define PARPLAN_CLI_H

#include <signal.h>
#include <stdio.h>

#include "parplan/error.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_BAD 2

typedef int (*cli_fn)(int argc, char **argv);

/* Every subcommand, defined in its cmd_<name>.c. */
int cmd_model(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_regress(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

/** Print @err as one line and return the exit code for its code (1 for infeasible, else 2). */
int cli_error(const pp_error *err);

/** Print "parplan: <message>" and return 2. */
int cli_usage(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/**
 * Option matching: if argv[*i] is @name, take its value from argv[*i + 1] (or "--name=value"),
 * advance *i and return 1; return 0 when it is another option; -1 (after printing one line
 * naming the option) when the option was given before, its value is missing, empty, or an
 * argument that looks like an option ("--json", "-o"; write --name=-x for such a value).
 */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
/** cli_opt for an option that may be given more than once (emit --compare). */
int cli_opt_each(int argc, char **argv, int *i, const char *name, const char **val);
/**
 * A boolean flag: 1 when argv[i] is @name, 0 when it is another argument, -1 (after printing)
 * when it was given before or given a value ("--json=1").
 */
int cli_flag(char **argv, int i, const char *name);

/**
 * Parse an integer option value in [min, max]: decimal digits with an optional sign, nothing
 * else (no blanks, no hex); prints and returns -1 on error.
 */
int cli_int(const char *name, const char *val, long long min, long long max, long long *out);
/** Parse a finite decimal number in [min, max] (no blanks, hex, inf or nan). */
int cli_num(const char *name, const char *val, double min, double max, double *out);

/** True when @f is a terminal (progress lines go to stderr only then). */
int cli_isatty(FILE *f);

/**
 * Catch SIGINT, SIGTERM and SIGHUP (Ctrl-C; a batch scheduler's time limit, a closed terminal)
 * until cli_stop_release(): each sets the returned flag, zeroed here, to its signal number, for
 * a long search (pp_search_opts.stop) to return its best plan so far.  SIGTERM and SIGHUP
 * ignored on entry (nohup) stay ignored.  The flag is the CLI's one piece of global state (a
 * signal handler can reach nothing else).
 */
volatile sig_atomic_t *cli_stop_catch(void);
/** Restore what cli_stop_catch() replaced (a no-op when nothing is caught); the flag keeps its value. */
void cli_stop_release(void);
/** "SIGINT", "SIGTERM", "SIGHUP", or "a signal" for any other number. */
const char *cli_signal_name(int sig);

#endif
