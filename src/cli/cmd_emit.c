/*
 * cmd_emit.c - `parplan emit --plan P --format F [-o FILE] [--zero-stage N]
 * [--recompute-num-layers N] [--compare PLAN]... [--nearest]`: a launcher config, report or SVG
 * of a plan.  Every launcher writes Megatron's per-op layout, so a plan with other per-op configs
 * (mcmc, ilp) is refused for a launcher format, or with --nearest replaced by Megatron's configs
 * under the same global plan, scored anew and said so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_cost.h"
#include "parplan/cost.h"
#include "parplan/emit.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/io.h"

#define MAX_COMPARE 16

static const char usage_line[] =
	"usage: parplan emit --plan P --format F [-o FILE] [--zero-stage N] "
	"[--recompute-num-layers N] [--compare PLAN ...] [--nearest]\n"
	"  --nearest  a per-op plan a launcher cannot express: emit Megatron's per-op configs under\n"
	"             the same global plan (its own predicted time and memory) instead of refusing";

/* a file of the plan: as written, else next to the plan file */
static int load_beside(const char *plan_path, const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(plan_path, '/');
	FILE *f;
	if (!path[0])
		return -1;
	if ((f = fopen(path, "r")) || path[0] == '/' || !slash) {
		if (f)
			fclose(f);
		snprintf(buf, n, "%s", path);
		return 0;
	}
	snprintf(buf, n, "%.*s/%s", (int)(slash - plan_path), plan_path, path);
	return 0;
}

/*
 * A launcher format and a plan whose per-op configs are not Megatron's: refuse (PP_EINVALID,
 * the first op that differs), or with @nearest replace *@plan by Megatron's configs under the
 * same global plan, scored by the cost model (its hardware profile and stack), and say so on
 * stderr.  Plans whose model cannot be read are left alone (nothing to compare with).
 */
static int megatron_ops(const char *plan_path, pp_plan *plan, const char *format, int nearest,
			pp_error *err)
{
	char mpath[1100], hpath[1100];
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	pp_costctx *ctx = NULL;
	pp_stack stack;
	pp_cost cost;
	pp_plan near;
	uint8_t *cfg = NULL, *mega = NULL;
	int rc = 0, i;
	const pp_emit_format *f = pp_emit_find(format);

	if (!f || !strcmp(format, "report") || !strcmp(format, "svg") || !strcmp(format, "plan"))
		return 0;
	if (load_beside(plan_path, plan->model_path, mpath, sizeof(mpath)) < 0 ||
	    pp_graph_load(mpath, &g, NULL) < 0)
		return 0;
	cfg = malloc((size_t)g->n_ops + 1);
	mega = malloc((size_t)g->n_ops + 1);
	if (!cfg || !mega) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	if (pp_plan_configs(plan, g, cfg, NULL) < 0)
		goto done; /* not this graph's plan (its shape differs): the launcher rules speak */
	pp_strategy_megatron(g, &plan->global, mega);
	for (i = 0; i < g->n_ops && cfg[i] == mega[i]; i++)
		;
	if (i == g->n_ops)
		goto done;
	if (!nearest) {
		rc = pp_error_set(err, PP_EINVALID, NULL, "ops",
				  "%s: rule \"Megatron per-op configs\": op %.64s is %s where Megatron's "
				  "layout, the only one %s writes, has %s (--nearest emits that layout "
				  "with its own predicted time and memory)", format, g->ops[i].name,
				  pp_cfg_name((pp_cfg)cfg[i]), format, pp_cfg_name((pp_cfg)mega[i]));
		goto done;
	}
	if (load_beside(plan_path, plan->hw_path, hpath, sizeof(hpath)) < 0) {
		rc = pp_error_set(err, PP_EINVALID, NULL, "hw_path",
				  "--nearest: the plan names no hardware profile to score with");
		goto done;
	}
	if ((rc = pp_hw_load(hpath, &hw, err)) < 0 || (rc = pp_costctx_new(&ctx, g, hw, err)) < 0 ||
	    (rc = cli_stack_load(plan->stack[0] ? plan->stack : NULL, &stack, err)) < 0)
		goto done;
	pp_costctx_set_stack(ctx, &stack);
	if ((rc = pp_cost_eval(ctx, &plan->global, mega, &cost)) < 0) {
		rc = pp_error_set(err, PP_EINVALID, NULL, "global", "--nearest: cannot score the plan");
		goto done;
	}
	if (!cost.feasible) {
		rc = pp_error_set(err, PP_EINFEASIBLE, NULL, "global",
				  "--nearest: Megatron's per-op configs under this global plan do not fit "
				  "(peak %.1f of %.1f GiB per GPU)", cost.peak_gib, cost.capacity_gib);
		goto done;
	}
	if ((rc = pp_plan_init(&near, g, plan->model_path, plan->hw, plan->hw_path,
			       plan->node_devices, &plan->global, NULL, err)) < 0)
		goto done;
	snprintf(near.stack, sizeof(near.stack), "%s", plan->stack);
	cli_cost_to_predicted(&cost, &near.predicted);
	fprintf(stderr,
		"parplan: emit: --nearest: %s writes Megatron's per-op configs, not the plan's (op "
		"%.64s: %s, not %s); emitted that plan under the same global settings: %.4g s per "
		"iteration, peak %.1f GiB (the plan: %.4g s, %.1f GiB)\n",
		format, g->ops[i].name, pp_cfg_name((pp_cfg)mega[i]), pp_cfg_name((pp_cfg)cfg[i]),
		cost.iteration_s, cost.peak_gib, plan->predicted.iteration_s,
		plan->predicted.peak_gib);
	pp_plan_release(plan);
	*plan = near;
done:
	free(cfg);
	free(mega);
	pp_costctx_free(ctx);
	pp_hw_free(hw);
	pp_graph_free(g);
	return rc;
}

int cmd_emit(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_emit_opts opts = PP_EMIT_OPTS_INIT;
	pp_plan plan, others[MAX_COMPARE];
	const pp_plan *other_ptrs[MAX_COMPARE];
	const char *plan_path = NULL, *format = NULL, *output = NULL, *v;
	const char *compare[MAX_COMPARE];
	int i, r, n_compare = 0, loaded = 0, rc = CLI_OK, have_plan = 0, nearest = 0;
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
		if (!strcmp(argv[i], "--nearest")) {
			nearest = 1;
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
	if (megatron_ops(plan_path, &plan, format, nearest, &err) < 0 ||
	    pp_emit(&plan, format, &opts, &text, &err) < 0) {
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
