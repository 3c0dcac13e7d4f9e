/*
 * cmd_regress.c - `parplan regress FILES... [--update] [--junit report.xml] [--json]`.
 *
 * Evaluates every case of every parplan-regress/1 file through the cost model and prints one
 * row per expectation (case, field, expected, got, drift %, verdict).  Exit 0 when all hold,
 * 1 on any drift (or a value not yet set), 2 on bad input.  --update takes the results as the
 * new expectations, rewrites each file whose text changes (atomically) and lists what moved;
 * --junit writes JUnit XML of the comparison (made before any update).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parplan/io.h"
#include "parplan/regress.h"

static const char *verdict_name(pp_regress_verdict v)
{
	return v == PP_REGRESS_PASS ? "ok" : v == PP_REGRESS_UNSET ? "UNSET" : "DRIFT";
}

static void drift_cell(const pp_regress_expect *e, char *buf, size_t n)
{
	if (!e->evaluated || e->verdict == PP_REGRESS_UNSET)
		snprintf(buf, n, "-");
	else if (e->kind != PP_REGRESS_NUMBER)
		snprintf(buf, n, "%s", e->verdict == PP_REGRESS_PASS ? "0%" : "differs");
	else
		snprintf(buf, n, "%+.3f%%", e->drift * 100);
}

static void print_table(pp_regress_file *const *files, int n)
{
	int i, c, k;
	for (i = 0; i < n; i++) {
		const pp_regress_file *f = files[i];
		printf("== %s\n", f->path);
		printf("%-34s %-29s %-24s %-24s %10s  %s\n", "case", "field", "expected", "got",
		       "drift", "verdict");
		for (c = 0; c < f->n_cases; c++) {
			const pp_regress_case *cs = &f->cases[c];
			for (k = 0; k < cs->n_expect; k++) {
				const pp_regress_expect *e = &cs->expect[k];
				char ex[40], got[40], dr[24];
				pp_regress_expect_text(e, 0, ex, sizeof(ex));
				pp_regress_expect_text(e, 1, got, sizeof(got));
				drift_cell(e, dr, sizeof(dr));
				printf("%-34.80s %-29s %-24s %-24s %10s  %s\n", cs->name, e->field, ex, got,
				       dr, verdict_name(e->verdict));
			}
		}
	}
}

/* List the expectations --update is about to change. */
static int print_moves(const pp_regress_file *f)
{
	int c, k, moved = 0;
	for (c = 0; c < f->n_cases; c++) {
		const pp_regress_case *cs = &f->cases[c];
		for (k = 0; k < cs->n_expect; k++) {
			const pp_regress_expect *e = &cs->expect[k];
			char ex[40], got[40], dr[24];
			int same;
			if (!e->evaluated)
				continue;
			if (e->kind == PP_REGRESS_STRING)
				same = e->has_value && strcmp(e->str, e->got_str) == 0;
			else
				same = e->has_value && memcmp(&e->value, &e->got, sizeof(double)) == 0;
			if (same)
				continue;
			pp_regress_expect_text(e, 0, ex, sizeof(ex));
			pp_regress_expect_text(e, 1, got, sizeof(got));
			drift_cell(e, dr, sizeof(dr));
			printf("%s: %s: %s: %s -> %s (drift %s)\n", f->path, cs->name, e->field,
			       e->has_value ? ex : "unset", got, dr);
			moved++;
		}
	}
	return moved;
}

/* Rewrite @f if its canonical text differs from what the file holds now. */
static int rewrite(const pp_regress_file *f, int *written, pp_error *err)
{
	char *text = pp_regress_to_json(f), *old = NULL;
	size_t len = 0;
	int rc = 0;
	*written = 0;
	if (!text)
		return pp_error_set(err, PP_ENOMEM, f->path, NULL, "out of memory");
	if (pp_read_file(f->path, &old, &len, NULL) == 0 && len == strlen(text) &&
	    memcmp(old, text, len) == 0)
		goto done;
	if ((rc = pp_write_atomic(f->path, text, strlen(text), err)) == 0)
		*written = 1;
done:
	free(old);
	free(text);
	return rc;
}

int cmd_regress(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file **files = NULL;
	const char *junit = NULL, *v;
	int i, r, n = 0, update = 0, json = 0, rc = CLI_OK, tests = 0, fails = 0;

	files = calloc((size_t)argc, sizeof(*files));
	if (!files)
		return cli_usage("out of memory");
	for (i = 1; i < argc; i++) {
		if ((r = cli_opt(argc, argv, &i, "--junit", &v)) < 0) {
			rc = CLI_BAD;
			goto done;
		}
		if (r) {
			junit = v;
			continue;
		}
		if ((r = cli_flag(argv, i, "--update")) != 0) {
			if (r < 0) {
				rc = CLI_BAD;
				goto done;
			}
			update = 1;
		} else if ((r = cli_flag(argv, i, "--json")) != 0) {
			if (r < 0) {
				rc = CLI_BAD;
				goto done;
			}
			json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: parplan regress FILES... [--update] [--junit report.xml] [--json]\n");
			goto done;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			rc = cli_usage("regress: unknown option \"%.40s\"", argv[i]);
			goto done;
		} else {
			/* load each file once; the same path twice would be updated twice */
			int j, dup = 0;
			for (j = 0; j < n; j++)
				dup |= strcmp(files[j]->path, argv[i]) == 0;
			if (dup)
				continue;
			if (pp_regress_load(argv[i], &files[n], &err) < 0) {
				rc = cli_error(&err);
				goto done;
			}
			n++;
		}
	}
	if (n == 0) {
		rc = cli_usage("usage: parplan regress FILES... [--update] [--junit report.xml] [--json]");
		goto done;
	}
	/* evaluate everything before writing anything: bad input leaves every file as it was */
	for (i = 0; i < n; i++)
		if (pp_regress_run(files[i], &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
	for (i = 0; i < n; i++) {
		int bad;
		tests += pp_regress_count(files[i], &bad);
		fails += bad;
	}
	if (junit) {
		char *x = pp_regress_junit(files, n);
		if (!x) {
			rc = cli_usage("out of memory");
			goto done;
		}
		r = pp_write_atomic(junit, x, strlen(x), &err);
		free(x);
		if (r < 0) {
			rc = cli_error(&err);
			goto done;
		}
	}
	if (json) {
		char *s = pp_regress_results_json(files, n);
		if (!s) {
			rc = cli_usage("out of memory");
			goto done;
		}
		fputs(s, stdout);
		free(s);
	} else if (!update) {
		print_table(files, n);
	}
	if (update) {
		int moved = 0, nwritten = 0;
		for (i = 0; i < n; i++) {
			int written;
			if (!json)
				moved += print_moves(files[i]);
			pp_regress_update(files[i]);
			if (rewrite(files[i], &written, &err) < 0) {
				rc = cli_error(&err);
				goto done;
			}
			nwritten += written;
		}
		if (!json)
			printf("regress: %d value%s moved, %d file%s rewritten\n", moved,
			       moved == 1 ? "" : "s", nwritten, nwritten == 1 ? "" : "s");
		goto done;
	}
	if (!json)
		printf("regress: %d checks in %d file%s, %d failed\n", tests, n, n == 1 ? "" : "s",
		       fails);
	rc = fails ? CLI_FAIL : CLI_OK;
done:
	for (i = 0; i < n; i++)
		pp_regress_free(files[i]);
	free(files);
	return rc;
}
