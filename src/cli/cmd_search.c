/*
 * cmd_search.c - `parplan search`: find the fastest plan that fits (exhaustive, mcmc or ilp),
 * print the top K, optionally write the best as a parplan-plan/1 file.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_cost.h"
#include "plan_int.h"
#include "json_int.h"
#include "parplan/cost.h"
#include "parplan/emit.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/io.h"
#include "parplan/search.h"
#include "parplan/strategy.h"

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct progress {
	int tty;
	int shown;
} progress;

static void show_progress(void *arg, double states, double seconds, double best_s)
{
	progress *pr = arg;
	if (!pr->tty || seconds < 1.0)
		return;
	if (best_s > 0)
		fprintf(stderr, "\rparplan: search: %.0f states, %.1f s, best %.4f s per iteration   ", states,
			seconds, best_s);
	else
		fprintf(stderr, "\rparplan: search: %.0f states, %.1f s, nothing fits yet   ", states, seconds);
	pr->shown = 1;
}

static int print_json(const pp_search_result *r)
{
	cJSON *root = cJSON_CreateObject(), *plans, *s;
	char *txt;
	int i;
	if (!root)
		return -1;
	plans = cJSON_AddArrayToObject(root, "plans");
	for (i = 0; i < r->n; i++) {
		cJSON *o = cli_cost_json(&r->plans[i].cost);
		if (!o)
			break;
		cJSON_AddItemToObject(o, "global", pp_global_json(&r->plans[i].global));
		cJSON_AddItemToArray(plans, o);
	}
	s = cJSON_AddObjectToObject(root, "search");
	cJSON_AddStringToObject(s, "method", pp_search_method_name(r->method));
	cJSON_AddNumberToObject(s, "states", r->states);
	cJSON_AddNumberToObject(s, "seconds", r->seconds);
	cJSON_AddNumberToObject(s, "seed", (double)r->seed);
	cJSON_AddBoolToObject(s, "optimal", r->optimal);
	cJSON_AddNumberToObject(s, "gap", r->gap);
	cJSON_AddBoolToObject(s, "stopped", r->stopped);
	if (r->method == PP_SEARCH_MCMC) {
		/* with --target: the first step whose best plan reached it (-1: never) */
		cJSON_AddNumberToObject(s, "target_step", (double)r->target_step);
		cJSON_AddNumberToObject(s, "target_seconds", r->target_seconds);
	}
	txt = pp_json_print(root);
	cJSON_Delete(root);
	if (!txt)
		return -1;
	fputs(txt, stdout);
	free(txt);
	return 0;
}

static void print_table(const pp_search_result *r)
{
	int i;
	printf("%-3s %3s %9s %5s %4s %3s %-11s %-9s %-3s %-4s %11s %12s %6s %8s\n", "#", "t", "p", "d", "b",
	       "v", "schedule", "recompute", "SP", "DO", "iteration_s", "tokens/s", "MFU", "peak_GiB");
	for (i = 0; i < r->n; i++) {
		const pp_global *gl = &r->plans[i].global;
		const pp_cost *c = &r->plans[i].cost;
		char pdesc[32];
		if (gl->first_stage_layers || gl->last_stage_layers)
			snprintf(pdesc, sizeof(pdesc), "%d(%d,%d)", gl->p, gl->first_stage_layers,
				 gl->last_stage_layers);
		else
			snprintf(pdesc, sizeof(pdesc), "%d", gl->p);
		char it[32];
		/* small models run in milliseconds: keep 4 significant digits there */
		snprintf(it, sizeof(it), c->iteration_s >= 1.0 ? "%.4f" : "%.4g", c->iteration_s);
		printf("%-3d %3d %9s %5d %4d %3d %-11s %-9s %-3s %-4s %11s %12.0f %5.1f%% %8.1f\n", i + 1, gl->t,
		       pdesc, gl->d, gl->micro_batch, gl->virtual_stages, pp_schedule_name(gl->schedule),
		       pp_recompute_name(gl->recompute), gl->sequence_parallel ? "yes" : "no",
		       gl->distributed_optimizer ? "yes" : "no", it, c->tokens_per_s, c->mfu * 100.0,
		       c->peak_gib);
	}
	for (i = 0; i < r->n; i++) {
		const pp_global *gl = &r->plans[i].global;
		if (gl->first_stage_layers || gl->last_stage_layers) {
			printf("p(f,l): uneven stages, f layers on the first stage and l on the last "
			       "(0: as the middle stages)\n");
			break;
		}
	}
	printf("%s: %.0f states in %.3f s", pp_search_method_name(r->method), r->states, r->seconds);
	if (r->method == PP_SEARCH_MCMC)
		printf(", seed %llu", (unsigned long long)r->seed);
	if (r->method == PP_SEARCH_ILP) {
		/* only the MIPs are proven: the global degrees come from a shortlist */
		if (r->optimal)
			printf(", every MIP proven optimal");
		else
			printf(", gap %.2g", r->gap);
	}
	if (r->stopped)
		printf(", stopped early (best so far)");
	printf("\n");
}

static const char usage_text[] =
	"usage: parplan search --model M --hw H --gpus N --global-batch B [--method exhaustive|mcmc|ilp]\n"
	"       [--seed S] [--time-limit S] [--max-steps N] [--top K] [--mem-limit GIB] [--beta X] [--target S]\n"
	"       [--allow-cross-node-tp] [--even-stages] [--stack NAME|FILE] [--json] [-o plan.json]\n"
	"       [--emit FORMAT,FORMAT... --out-dir DIR]";

int cmd_search(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	pp_costctx *ctx = NULL;
	pp_search_opts o = PP_SEARCH_OPTS_INIT;
	pp_search_result res;
	pp_plan plan;
	int plan_ok = 0;
	const char *model = NULL, *hwp = NULL, *out = NULL, *emit = NULL, *out_dir = NULL, *v;
	const char *stackp = NULL;
	pp_stack stack;
	int i, r, json = 0, method = PP_SEARCH_EXHAUSTIVE, rc = CLI_OK, have_res = 0;
	long long n;
	double x;
	progress pr = {0, 0};
	struct sigaction sa, old_sa;

	memset(&res, 0, sizeof(res));
	memset(&plan, 0, sizeof(plan));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = 1;
			continue;
		}
		if (!strcmp(a, "--allow-cross-node-tp")) {
			o.space.allow_cross_node_tp = 1;
			continue;
		}
		if (!strcmp(a, "--even-stages")) {
			o.space.uneven_stages = 0;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			puts(usage_text);
			return CLI_OK;
		}
#define OPT(name) ((r = cli_opt(argc, argv, &i, name, &v)) < 0 ? -1 : r)
		if ((r = OPT("--model")) != 0) {
			if (r < 0)
				return CLI_BAD;
			model = v;
		} else if ((r = OPT("--hw")) != 0) {
			if (r < 0)
				return CLI_BAD;
			hwp = v;
		} else if ((r = OPT("--stack")) != 0) {
			if (r < 0)
				return CLI_BAD;
			stackp = v;
		} else if ((r = OPT("-o")) != 0) {
			if (r < 0)
				return CLI_BAD;
			out = v;
		} else if ((r = OPT("--emit")) != 0) {
			if (r < 0)
				return CLI_BAD;
			emit = v;
		} else if ((r = OPT("--out-dir")) != 0) {
			if (r < 0)
				return CLI_BAD;
			out_dir = v;
		} else if ((r = OPT("--method")) != 0) {
			if (r < 0)
				return CLI_BAD;
			if ((method = pp_search_method_parse(v)) < 0)
				return cli_usage("search: --method must be exhaustive, mcmc or ilp, got \"%.40s\"", v);
		} else if ((r = OPT("--gpus")) != 0) {
			if (r < 0 || cli_int("--gpus", v, 1, 1 << 20, &n) < 0)
				return CLI_BAD;
			o.space.gpus = (int)n;
		} else if ((r = OPT("--global-batch")) != 0) {
			if (r < 0 || cli_int("--global-batch", v, 1, 1 << 24, &n) < 0)
				return CLI_BAD;
			o.space.global_batch = (int)n;
		} else if ((r = OPT("--seed")) != 0) {
			if (r < 0 || cli_int("--seed", v, 0, (long long)1 << 62, &n) < 0)
				return CLI_BAD;
			o.seed = (uint64_t)n;
		} else if ((r = OPT("--time-limit")) != 0) {
			if (r < 0 || cli_num("--time-limit", v, 0.001, 1e6, &x) < 0)
				return CLI_BAD;
			o.time_limit_s = x;
		} else if ((r = OPT("--max-steps")) != 0) {
			if (r < 0 || cli_int("--max-steps", v, 1, (long long)1 << 40, &n) < 0)
				return CLI_BAD;
			o.max_steps = n;
		} else if ((r = OPT("--top")) != 0) {
			if (r < 0 || cli_int("--top", v, 1, 1000000, &n) < 0)
				return CLI_BAD;
			o.top_k = (int)n;
		} else if ((r = OPT("--mem-limit")) != 0) {
			if (r < 0 || cli_num("--mem-limit", v, 0.001, 1e6, &x) < 0)
				return CLI_BAD;
			o.space.mem_limit_gib = x;
		} else if ((r = OPT("--target")) != 0) {
			if (r < 0 || cli_num("--target", v, 1e-9, 1e12, &x) < 0)
				return CLI_BAD;
			o.target_s = x;
		} else if ((r = OPT("--beta")) != 0) {
			if (r < 0 || cli_num("--beta", v, 1e-6, 1e9, &x) < 0)
				return CLI_BAD;
			o.beta = x;
		} else {
			return cli_usage("search: unknown option \"%.40s\" (see parplan search --help)", a);
		}
#undef OPT
	}
	if (emit && !out_dir)
		return cli_usage("search: --emit needs --out-dir DIR");
	if (out_dir && !emit)
		return cli_usage("search: --out-dir needs --emit FORMATS");
	if (emit) {
		/* check the format names before searching */
		char buf[256];
		const char *q = emit;
		while (*q) {
			size_t k = strcspn(q, ",");
			if (k == 0 || k >= sizeof(buf))
				return cli_usage("search: --emit: bad format list \"%.40s\"", emit);
			memcpy(buf, q, k);
			buf[k] = 0;
			if (!pp_emit_find(buf))
				return cli_usage("search: --emit: unknown format \"%.40s\"", buf);
			q += k;
			if (*q == ',')
				q++;
		}
	}
	if (!model || !hwp || !o.space.gpus || !o.space.global_batch)
		return cli_usage("search: --model, --hw, --gpus and --global-batch are required (see parplan search --help)");

	if (pp_graph_load(model, &g, &err) < 0 || pp_hw_load(hwp, &hw, &err) < 0 ||
	    pp_costctx_new(&ctx, g, hw, &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	if (cli_stack_load(stackp, &stack, &err) < 0) {
		rc = cli_error(&err);
		goto done;
	}
	pp_costctx_set_stack(ctx, &stack);
	if (o.space.mem_limit_gib > 0)
		pp_costctx_set_mem_limit(ctx, o.space.mem_limit_gib);

	pr.tty = cli_isatty(stderr);
	o.progress = show_progress;
	o.progress_arg = &pr;
	stop_flag = 0;
	o.stop = &stop_flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	r = pp_search_run(ctx, (pp_search_method)method, &o, &res, &err);
	sigaction(SIGINT, &old_sa, NULL);
	if (pr.shown)
		fprintf(stderr, "\r%79s\r", "");
	if (r < 0) {
		rc = cli_error(&err);
		goto done;
	}
	have_res = 1;
	if (out || emit) {
		const pp_candidate *best = &res.plans[0];
		if (pp_plan_init(&plan, g, model, hw->name, hwp, hw->node_devices, &best->global, best->cfg,
				 &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
		plan_ok = 1;
		cli_cost_to_predicted(&best->cost, &plan.predicted);
		snprintf(plan.stack, sizeof(plan.stack), "%s", stack.name);
		plan.search.valid = 1;
		snprintf(plan.search.method, sizeof(plan.search.method), "%s", pp_search_method_name(res.method));
		plan.search.seed = res.seed;
		plan.search.states = res.states;
		/* the plan file must depend on the inputs alone (same seed, same bytes): no wall time */
		plan.search.seconds = 0;
		plan.search.optimal = res.optimal;
		plan.search.gap = res.gap;
		if (emit && pp_emit_to_dir(&plan, emit, out_dir, &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
		if (out && pp_plan_save(&plan, out, &err) < 0) {
			rc = cli_error(&err);
			goto done;
		}
	}
	if (json) {
		if (print_json(&res) < 0) {
			fprintf(stderr, "parplan: search: out of memory\n");
			rc = CLI_BAD;
		}
	} else {
		print_table(&res);
	}
done:
	(void)have_res;
	if (plan_ok)
		pp_plan_release(&plan);
	pp_search_result_release(&res);
	pp_costctx_free(ctx);
	pp_hw_free(hw);
	pp_graph_free(g);
	return rc;
}
