/*
 * cmd_emit.c - `parplan emit --plan P --format F [-o FILE] [--zero-stage N]
 * [--recompute-num-layers N] [--compare PLAN]...`: a launcher config, report or SVG of a plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parplan/emit.h"
#include "parplan/io.h"

#define MAX_COMPARE 16

static const char usage_line[] =
	"usage: parplan emit --plan P --format F [-o FILE] [--zero-stage N] "
	"[--recompute-num-layers N] [--compare PLAN ...]";

int cmd_emit(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_emit_opts opts = PP_EMIT_OPTS_INIT;
	pp_plan plan, others[MAX_COMPARE];
	const pp_plan *other_ptrs[MAX_COMPARE];
	const char *plan_path = NULL, *format = NULL, *output = NULL, *v;
	const char *compare[MAX_COMPARE];
	int i, r, n_compare = 0, loaded = 0, rc = CLI_OK, have_plan = 0;
	long long x;
	char *text = NULL;

	for (i = 1; i < argc; i++) {
		if ((r = cli_opt(argc, argv, &i, "--plan", &v)) < 0)
			return CLI_BAD;
		if (r) {
			plan_path = v;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--format", &v)) < 0)
			return CLI_BAD;
		if (r) {
			format = v;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "-o", &v)) < 0)
			return CLI_BAD;
		if (r) {
			output = v;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--zero-stage", &v)) < 0)
			return CLI_BAD;
		if (r) {
			if (cli_int("--zero-stage", v, 0, 3, &x) < 0)
				return CLI_BAD;
			opts.zero_stage = (int)x;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--recompute-num-layers", &v)) < 0)
			return CLI_BAD;
		if (r) {
			if (cli_int("--recompute-num-layers", v, 1, 1 << 20, &x) < 0)
				return CLI_BAD;
			opts.recompute_num_layers = (int)x;
			continue;
		}
		if ((r = cli_opt_each(argc, argv, &i, "--compare", &v)) < 0)
			return CLI_BAD;
		if (r) {
			if (n_compare == MAX_COMPARE)
				return cli_usage("emit: at most %d --compare plans", MAX_COMPARE);
			compare[n_compare++] = v;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			int n, k;
			const pp_emit_format *f = pp_emit_formats(&n);
			printf("%s\n\nformats:\n", usage_line);
			for (k = 0; k < n; k++)
				printf("  %-19s %-22s %s\n", f[k].name, f[k].file, f[k].summary);
			return CLI_OK;
		}
		return cli_usage("emit: unknown option \"%.40s\"", argv[i]);
	}
	if (!plan_path || !format)
		return cli_usage("%s", usage_line);
	if (!pp_emit_find(format)) {
		pp_emit(NULL, format, NULL, &text, &err); /* fills the "unknown format" error */
		return cli_usage("emit: --format: %s", err.msg);
	}
	opts.n_others = n_compare;
	if (pp_emit_check_opts(format, &opts, &err) < 0)
		return cli_usage("emit: %s", err.msg);
	if (pp_plan_load(plan_path, &plan, &err) < 0)
		return cli_error(&err);
	have_plan = 1;
	for (loaded = 0; loaded < n_compare; loaded++) {
		if (pp_plan_load(compare[loaded], &others[loaded], &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
		other_ptrs[loaded] = &others[loaded];
		if (strcmp(others[loaded].model, plan.model)) {
			loaded++;
			pp_error_set(&err, PP_EINVALID, compare[loaded - 1], "model",
				     "--compare: a plan for model \"%.64s\", not \"%.64s\" like %.200s",
				     others[loaded - 1].model, plan.model, plan_path);
			rc = cli_error(&err);
			goto done;
		}
	}
	opts.others = other_ptrs;
	opts.n_others = n_compare;
	if (pp_emit(&plan, format, &opts, &text, &err) < 0) {
		if (!err.file[0]) /* a rule about the plan: name its file */
			snprintf(err.file, sizeof(err.file), "%s", plan_path);
		rc = cli_error(&err);
		goto done;
	}
	if (pp_write_atomic_flags(output ? output : "-", text, strlen(text),
				  pp_emit_find(format)->script ? PP_WRITE_SCRIPT : 0, &err) < 0)
		rc = cli_error(&err);
done:
	free(text);
	for (i = 0; i < loaded; i++)
		pp_plan_release(&others[i]);
	if (have_plan)
		pp_plan_release(&plan);
	return rc;
}
