/*
 * cmd_cost.c - `parplan cost`: time, memory and MFU of one plan, given by options or a plan file.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_cost.h"
#include "json_int.h"
#include "parplan/cost.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/settings.h"
#include "parplan/strategy.h"
#include "plan_int.h"

static int usage(void)
{
	return cli_usage("usage: parplan cost --model M --hw H (--plan plan.json | --t T --p P --d D "
			 "--micro-batch b --global-batch B [--gpus N] [--virtual-stages v] "
			 "[--schedule 1f1b|gpipe|interleaved|zb-h1|zb-v|dualpipe|dualpipev] "
			 "[--recompute none|selective|full] "
			 "[--sequence-parallel] [--distributed-optimizer] [--overlap-grad-reduce] "
			 "[--tp-comm-overlap] [--overlap-param-gather] [--zero 0-3] [--fsdp] [--hsdp-shard N] "
			 "[--cp N] [--cp-comm-type p2p|all_gather|a2a|a2a+p2p] [--cp-a2a N]) [--stack NAME|FILE] "
			 "[--mem-limit GIB] [--mem-headroom GIB] [--tokens N] [--price-per-gpu-hour P] [--json] "
			 "[-o plan.json]");
}

int cmd_cost(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_global gl = PP_GLOBAL_INIT;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	pp_costctx *ctx = NULL;
	pp_plan plan, from;
	pp_cost cost;
	uint8_t *cfg = NULL;
	const char *model = NULL, *hwp = NULL, *planp = NULL, *outp = NULL, *v, *stackp = NULL;
	char flags[256];
	pp_stack stack;
	double mem_limit = 0;
	cli_training tr = {0, 0, 0};
	double headroom = -1;
	long long gpus = 0;
	int i, r, json = 0, rc = CLI_OK, have_plan = 0, have_from = 0, sched_given = 0, plan_opts = 0;

	memset(&plan, 0, sizeof(plan));
	memset(&from, 0, sizeof(from));
	cli_global_required(&gl);
	for (i = 1; i < argc; i++) {
		const pp_setting *which = NULL;
		if ((r = cli_global_opt(argc, argv, &i, &gl, &which)) < 0)
			return CLI_BAD;
		if (r) {
			sched_given |= which == &pp_settings()[PP_SETTING_SCHEDULE];
			plan_opts = 1;
			continue;
		}
		if ((r = cli_training_opt(argc, argv, &i, &tr, 0)) != 0 ||
		    (r = cli_headroom_opt(argc, argv, &i, &headroom)) != 0) {
			if (r < 0)
				return CLI_BAD;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--model", &model)) < 0 ||
		    (!r && (r = cli_opt(argc, argv, &i, "--hw", &hwp)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "--plan", &planp)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "--stack", &stackp)) < 0) ||
		    (!r && (r = cli_opt(argc, argv, &i, "-o", &outp)) < 0))
			return CLI_BAD;
		if (r)
			continue;
		if ((r = cli_opt(argc, argv, &i, "--gpus", &v)) != 0) {
			if (r < 0 || cli_int("--gpus", v, 1, 1 << 24, &gpus) < 0)
				return CLI_BAD;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--mem-limit", &v)) != 0) {
			if (r < 0 || cli_num("--mem-limit", v, 1e-3, 1e6, &mem_limit) < 0)
				return CLI_BAD;
			continue;
		}
		if ((r = cli_flag(argv, i, "--json")) != 0) {
			if (r < 0)
				return CLI_BAD;
			json = 1;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return CLI_OK;
		}
		return cli_usage("cost: unknown option \"%.40s\"", argv[i]);
	}
	if (planp && plan_opts)
		return cli_usage("cost: give either --plan or the plan's options, not both");
	if (planp) {
		if (pp_plan_load(planp, &from, &err) < 0)
			return cli_error(&err);
		have_from = 1;
		if (!model && from.model_path[0])
			model = from.model_path;
		if (!hwp && from.hw_path[0])
			hwp = from.hw_path;
		gl = from.global;
		if (!stackp && from.stack[0])
			stackp = from.stack;
		if (!gpus)
			gpus = from.gpus;
	}
	if (!model || !hwp) {
		rc = usage();
		goto done;
	}
	if (cli_global_missing(&gl, flags, sizeof(flags))) {
		rc = cli_usage("cost: %s are required (or --plan)", flags);
		goto done;
	}
	if (!have_from && !sched_given && gl.virtual_stages > 1)
		gl.schedule = PP_SCHED_INTERLEAVED;
	if (pp_graph_load(model, &g, &err) < 0 || pp_hw_load(hwp, &hw, &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	if (pp_global_validate(g, &gl, (int)gpus, &err) < 0) {
		rc = cli_usage("cost: invalid plan: %s", err.msg);
		goto done;
	}
	if (pp_costctx_new(&ctx, g, hw, &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	if (cli_stack_load(stackp, &stack, &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	if (headroom >= 0)
		stack.mem_headroom_gib = headroom;
	pp_costctx_set_stack(ctx, &stack);
	pp_costctx_set_mem_limit(ctx, mem_limit);
	if (pp_cost_check_precision(ctx, &gl, &err) < 0) {
		rc = cli_usage("cost: %s: %s", hwp, err.msg);
		goto done;
	}
	if (have_from) {
		cfg = malloc((size_t)g->n_ops);
		if (!cfg || pp_plan_configs(&from, g, cfg, &err) < 0) {
			rc = cfg ? cli_error(&err) : cli_usage("out of memory");
			goto done;
		}
	}
	if (pp_cost_eval(ctx, &gl, cfg, &cost) < 0) {
		rc = cli_usage("cost: the plan cannot be scored: a per-op config does not suit its op, or it "
			       "passes parplan's limits (64 layer classes, 1024 stages)");
		goto done;
	}
	if (outp) {
		if (pp_plan_init(&plan, g, model, hw->name, hwp, hw->node_devices, &gl, cfg, &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
		have_plan = 1;
		snprintf(plan.stack, sizeof(plan.stack), "%s", stack.name);
		cli_cost_to_predicted(&cost, &plan.predicted);
		if (have_from)
			plan.search = from.search;
		if (pp_plan_save(&plan, outp, &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
	}
	if (json) {
		cJSON *o = cli_cost_json(&cost), *glo = pp_global_json(&gl);
		cJSON *trj = cli_training_json(&tr, &cost, gl.t * gl.p * gl.d, hw->tdp_w);
		char *s;
		if (o && trj)
			cJSON_AddItemToObject(o, "training", trj);
		/* the plan's settings, as the plan file's "global" writes them (the settings table) */
		if (!o || !glo || !cJSON_AddItemToObject(o, "global", glo)) {
			cJSON_Delete(o);
			cJSON_Delete(glo);
			rc = cli_usage("out of memory");
			goto done;
		}
		s = pp_json_print(o);
		if (s)
			fputs(s, stdout);
		free(s);
		cJSON_Delete(o);
	} else {
		printf("model %s on %lld x %s (%s)\n", g->name, (long long)gl.t * gl.p * gl.d, hw->device_name,
		       hw->name);
		cli_cost_print(stdout, &gl, &cost);
		if (cost.feasible)
			cli_training_print(stdout, &tr, &cost, gl.t * gl.p * gl.d, hw->tdp_w);
	}
done:
	if (have_plan)
		pp_plan_release(&plan);
	if (have_from)
		pp_plan_release(&from);
	free(cfg);
	pp_costctx_free(ctx);
	pp_graph_free(g);
	pp_hw_free(hw);
	return rc;
}
