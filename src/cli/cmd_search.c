/*
 * cmd_search.c - `parplan search`: find the fastest plan that fits (exhaustive, mcmc or ilp),
 * print the top K, optionally write the best as a parplan-plan/1 file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
#include "parplan/settings.h"
#include "parplan/strategy.h"

/* the plans merge_equal_rows folded into the rows kept: folded[i] went into row row[i] */
typedef struct folded {
	int n;
	pp_global *gl;
	int *row;
} folded;

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

static int print_json(const pp_search_result *r, const folded *fo, const cli_training *tr,
		      int gpus, double tdp_w)
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
		{
			/* plans equal to this one in every effect, folded into its row */
			cJSON *eq = NULL;
			int j;
			for (j = 0; j < fo->n; j++) {
				if (fo->row[j] != i)
					continue;
				if (!eq)
					eq = cJSON_AddArrayToObject(o, "same_effect");
				cJSON_AddItemToArray(eq, pp_global_json(&fo->gl[j]));
			}
		}
		if (tr->tokens > 0)
			cJSON_AddItemToObject(o, "training", cli_training_json(tr, &r->plans[i].cost, gpus, tdp_w));
		cJSON_AddItemToArray(plans, o);
	}
	s = cJSON_AddObjectToObject(root, "search");
	cJSON_AddStringToObject(s, "method", pp_search_method_name(r->method));
	cJSON_AddStringToObject(s, "objective", tr->objective_cost ? "cost" : "time");
	cJSON_AddNumberToObject(s, "states", r->states);
	cJSON_AddNumberToObject(s, "seconds", r->seconds);
	cJSON_AddNumberToObject(s, "seed", (double)r->seed);
	cJSON_AddBoolToObject(s, "optimal", r->optimal);
	cJSON_AddNumberToObject(s, "gap", r->gap);
	cJSON_AddBoolToObject(s, "stopped", r->stopped);
	if (r->stopped)
		cJSON_AddStringToObject(s, "stop_reason", pp_search_stop_name(r->stopped));
	else
		cJSON_AddNullToObject(s, "stop_reason");
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

static void print_table(const pp_search_result *r, const folded *fo)
{
	int i;
	printf("%-3s %3s %9s %5s %4s %3s %-11s %-9s %-3s %-4s %-5s %11s %12s %9s %8s %-6s %s\n", "#", "t", "p",
	       "d", "b", "v", "schedule", "recompute", "SP", "DO", "prec", "iteration_s", "tokens/s",
	       "MFU(bf16)", "peak_GiB", "ZeRO", "cp");
	for (i = 0; i < r->n; i++) {
		const pp_global *gl = &r->plans[i].global;
		const pp_cost *c = &r->plans[i].cost;
		char pdesc[32];
		if (gl->first_stage_layers || gl->last_stage_layers)
			snprintf(pdesc, sizeof(pdesc), "%d(%d,%d)", gl->p, gl->first_stage_layers,
				 gl->last_stage_layers);
		else
			snprintf(pdesc, sizeof(pdesc), "%d", gl->p);
		char it[32], zero[32], cp[32];
		/* ZeRO stage (HSDP: /h and the shard group) and the context-parallel degree */
		if (gl->hsdp_shard > 0)
			snprintf(zero, sizeof(zero), "%d/h%d", pp_global_zero_stage(gl), gl->hsdp_shard);
		else
			snprintf(zero, sizeof(zero), "%d", pp_global_zero_stage(gl));
		snprintf(cp, sizeof(cp), "%d%s", gl->cp, gl->cp > 1 && gl->cp_comm_type == PP_CP_A2A ? " a2a" :
						       gl->cp > 1 && gl->cp_comm_type == PP_CP_ALLGATHER ? " all_gather" : "");
		/* small models run in milliseconds: keep 4 significant digits there */
		snprintf(it, sizeof(it), c->iteration_s >= 1.0 ? "%.4f" : "%.4g", c->iteration_s);
		printf("%-3d %3d %9s %5d %4d %3d %-11s %-9s %-3s %-4s %-5s %11s %12.0f %8.1f%% %8.1f %-6s %s\n", i + 1,
		       gl->t, pdesc, gl->d, gl->micro_batch, gl->virtual_stages,
		       pp_schedule_name(gl->schedule), pp_recompute_name(gl->recompute),
		       gl->sequence_parallel ? "yes" : "no", gl->distributed_optimizer ? "yes" : "no",
		       pp_setting_value_name(&pp_settings()[PP_SETTING_PRECISION], gl->precision), it,
		       c->tokens_per_s, c->mfu * 100.0, c->peak_gib, zero, cp);
	}
	/* the FLOP convention, stated (docs/accuracy.md) */
	if (r->n > 0) {
		const pp_cost *c = &r->plans[0].cost;
		printf("MFU(bf16): model FLOPs (no recomputation) per GPU over the dense bf16 peak of "
		       "%.6g TFLOP/s", c->peak_tflops);
		if (c->lp_peak_tflops > 0)
			printf("; plan 1 against the dense %s peak of %.6g TFLOP/s: MFU %.1f%%",
			       pp_setting_value_name(&pp_settings()[PP_SETTING_PRECISION], c->precision),
			       c->lp_peak_tflops, 100 * c->mfu_lp);
		printf("\n");
	}
	for (i = 0; i < r->n; i++) {
		const pp_global *gl = &r->plans[i].global;
		if (gl->first_stage_layers || gl->last_stage_layers) {
			printf("p(f,l): uneven stages, f layers on the first stage and l on the last "
			       "(0: as the middle stages)\n");
			break;
		}
	}
	if (fo->n > 0)
		printf("folded: %d more plan%s equal to a row in every effect (same degrees, time and "
		       "memory; --json lists them as same_effect)\n", fo->n, fo->n > 1 ? "s" : "");
	for (i = 0; i < r->n; i++) {
		const pp_global *gl = &r->plans[i].global;
		if (gl->ep > 1 || gl->etp > 1) {
			/* a mixture of experts: its expert-parallel folding, plan by plan */
			int j;
			printf("expert parallelism:");
			for (j = 0; j < r->n; j++) {
				const pp_global *q = &r->plans[j].global;
				printf("%s #%d ep=%d etp=%d", j ? "," : "", j + 1, q->ep, q->etp);
			}
			printf("\n");
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
		printf(", stopped early: %s (best so far)", pp_search_stop_name(r->stopped));
	printf("\n");
}

/*
 * --launcher / --emit: keep only plans every named launcher runs.  The check is pp_emit_runs(),
 * the launcher rules `parplan emit` enforces, asked of each plan the search would keep; a plan
 * whose per-op configs are not Megatron's is refused too, since every launcher format writes
 * Megatron's layout (tensor parallelism as Megatron splits each op).
 */
typedef struct launcher_filter {
	const pp_graph *g;
	const pp_hw *hw;
	const char *formats;     /* comma-separated */
	uint8_t *megatron;       /* n_ops scratch */
	long long refused;
	char first_reason[PP_ERROR_MSG_MAX];
} launcher_filter;

static void filter_refused(launcher_filter *f, const char *why)
{
	if (!f->refused++)
		snprintf(f->first_reason, sizeof(f->first_reason), "%s", why);
}

static int launcher_accepts(void *arg, const pp_global *gl, const uint8_t *cfg)
{
	launcher_filter *f = arg;
	pp_error err = PP_ERROR_INIT;
	pp_plan p;
	int rc;
	if (cfg && f->g->n_ops > 0) {
		pp_strategy_megatron(f->g, gl, f->megatron);
		if (memcmp(cfg, f->megatron, (size_t)f->g->n_ops)) {
			filter_refused(f, "per-op configs other than Megatron's (launchers write "
					  "Megatron's layout)");
			return 0;
		}
	}
	if (pp_plan_init(&p, f->g, "", f->hw->name, "", f->hw->node_devices, gl, NULL, &err) < 0) {
		filter_refused(f, err.msg);
		return 0;
	}
	rc = pp_emit_runs(&p, f->formats, &err);
	pp_plan_release(&p);
	if (rc < 0) {
		filter_refused(f, err.msg);
		return 0;
	}
	return 1;
}

/* --emit's list: known format names, none empty (no ",," or trailing comma) */
static int check_emit_list(const char *flag, const char *emit)
{
	char buf[64];
	const char *q = emit;
	for (;;) {
		size_t k = strcspn(q, ",");
		if (k == 0 || k >= sizeof(buf))
			return cli_usage("search: %s: bad format list \"%.40s\" (names separated by single commas)",
					 flag, emit);
		memcpy(buf, q, k);
		buf[k] = 0;
		if (!pp_emit_find(buf))
			return cli_usage("search: %s: unknown format \"%.40s\"", flag, buf);
		q += k;
		if (!*q)
			return 0;
		q++; /* the comma: a name must follow */
	}
}

/* the folder part of @path ("." when it has none) into @buf */
static void folder_of(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, n, ".");
	else if (slash == path)
		snprintf(buf, n, "/");
	else
		snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

/* -o F: not a folder, and its folder exists (checked before searching, so that a search is never
 * thrown away for want of a place to put its plan) */
static int check_out_file(const char *path)
{
	char dir[1024];
	struct stat st;
	if (!*path)
		return cli_usage("search: -o: empty file name");
	if (!strcmp(path, "-"))
		return 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return cli_usage("search: -o: '%.200s' is a folder", path);
	folder_of(path, dir, sizeof(dir));
	if (stat(dir, &st) < 0)
		return cli_usage("search: -o: cannot write into '%.200s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cli_usage("search: -o: '%.200s' is not a folder", dir);
	return 0;
}

/* --out-dir D: a folder, or made (mkdir -p) under the nearest existing folder above it */
static int check_out_dir(const char *path)
{
	char buf[1024];
	struct stat st;
	if (!*path || strlen(path) >= sizeof(buf))
		return cli_usage("search: --out-dir: bad folder name \"%.40s\"", path);
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		char up[1024];
		if (stat(buf, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return cli_usage("search: --out-dir: '%.200s' is not a folder", buf);
			return 0;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return cli_usage("search: --out-dir: cannot use '%.200s': %s", buf, strerror(errno));
		folder_of(buf, up, sizeof(up));
		if (!strcmp(up, buf))
			return 0;
		snprintf(buf, sizeof(buf), "%s", up);
	}
}

static const char usage_text[] =
	"usage: parplan search --model M --hw H --gpus N --global-batch B [--method exhaustive|mcmc|ilp]\n"
	"       [--seed S] [--time-limit S] [--max-steps N] [--top K] [--mem-limit GIB] [--mem-headroom GIB] [--beta X] [--target S]\n"
	"       [--allow-cross-node-tp] [--even-stages] [--no-overlap] [--precision bf16|fp8|mxfp8|auto]\n"
	"       [--fp8-param-gather] [--max-zero 1-3] [--max-cp N] [--stack NAME|FILE] [--json] [-o plan.json]\n"
	"       [--emit FORMAT,FORMAT... --out-dir DIR] [--tokens N] [--price-per-gpu-hour P]\n"
	"       [--objective time|cost] [--launcher FORMAT,FORMAT...]\n"
	"  --launcher F,...  only plans every named launcher format runs (its emit rules; --emit's\n"
	"                    formats are added to these)";

/*
 * --objective cost: rank by the cost of the token budget, GPUs x seconds x price.  At one GPU
 * count that is the time order (every plan of a search uses all --gpus), so the sort below is
 * stable and changes nothing there; `parplan sweep` compares cluster sizes by it.
 */
static void rank_by_cost(pp_search_result *r, int gpus, double price)
{
	int i, j;
	for (i = 1; i < r->n; i++) {
		pp_candidate c = r->plans[i];
		double k = gpus * price / c.cost.tokens_per_s;
		for (j = i; j > 0 && gpus * price / r->plans[j - 1].cost.tokens_per_s > k; j--)
			r->plans[j] = r->plans[j - 1];
		r->plans[j] = c;
	}
}

/*
 * Plans equal in every effect are one row: the same degrees, micro-batch, chunks and stage
 * layout, with the same time and peak memory to the last bit, differ only in settings that change
 * nothing there (the schedule at p = 1, the distributed optimizer at d = 1, a recompute mode that
 * recomputes nothing the model counts).  The first (the search's own order) stays; at most @k
 * rows are kept.
 */
static int same_effect(const pp_candidate *a, const pp_candidate *b)
{
	const pp_global *x = &a->global, *y = &b->global;
	return x->t == y->t && x->p == y->p && x->d == y->d && x->cp == y->cp && x->ep == y->ep &&
	       x->etp == y->etp &&
	       x->micro_batch == y->micro_batch && x->virtual_stages == y->virtual_stages &&
	       x->first_stage_layers == y->first_stage_layers &&
	       x->last_stage_layers == y->last_stage_layers &&
	       a->cost.iteration_s == b->cost.iteration_s && a->cost.peak_gib == b->cost.peak_gib;
}

static int merge_equal_rows(pp_search_result *r, int k, folded *f)
{
	int i, j, n = 0;
	f->n = 0;
	f->gl = malloc(sizeof(*f->gl) * (size_t)(r->n + 1));
	f->row = malloc(sizeof(*f->row) * (size_t)(r->n + 1));
	if (!f->gl || !f->row)
		return -1;
	for (i = 0; i < r->n; i++) {
		for (j = 0; j < n && !same_effect(&r->plans[j], &r->plans[i]); j++)
			;
		if (j < n || n == k) {
			if (j < n) {
				f->gl[f->n] = r->plans[i].global;
				f->row[f->n++] = j;
			}
			free(r->plans[i].cfg);
			continue;
		}
		r->plans[n++] = r->plans[i];
	}
	r->n = n;
	return 0;
}

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
	const char *stackp = NULL, *launcher = NULL;
	char formats[512];
	launcher_filter lf;
	folded fold = {0, NULL, NULL};
	pp_stack stack;
	int i, r, json = 0, method = PP_SEARCH_EXHAUSTIVE, rc = CLI_OK, catching = 0, top;
	long long n;
	double x;
	progress pr = {0, 0};
	volatile sig_atomic_t *stop = NULL;
	cli_training tr = {0, 0, 0};
	double headroom = -1;

	memset(&res, 0, sizeof(res));
	memset(&plan, 0, sizeof(plan));
	memset(&lf, 0, sizeof(lf));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((r = cli_flag(argv, i, "--json")) != 0) {
			if (r < 0)
				return CLI_BAD;
			json = 1;
			continue;
		}
		if ((r = cli_flag(argv, i, "--allow-cross-node-tp")) != 0) {
			if (r < 0)
				return CLI_BAD;
			o.space.allow_cross_node_tp = 1;
			continue;
		}
		if ((r = cli_flag(argv, i, "--even-stages")) != 0) {
			if (r < 0)
				return CLI_BAD;
			o.space.uneven_stages = 0;
			continue;
		}
		if ((r = cli_flag(argv, i, "--no-overlap")) != 0) {
			if (r < 0)
				return CLI_BAD;
			o.space.no_overlaps = 1;
			continue;
		}
		if ((r = cli_flag(argv, i, "--fp8-param-gather")) != 0) {
			if (r < 0)
				return CLI_BAD;
			o.space.fp8_param_gather = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			puts(usage_text);
			return CLI_OK;
		}
		if ((r = cli_training_opt(argc, argv, &i, &tr, 1)) != 0 ||
		    (r = cli_headroom_opt(argc, argv, &i, &headroom)) != 0) {
			if (r < 0)
				return CLI_BAD;
			continue;
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
		} else if ((r = OPT("--precision")) != 0) {
			/* one precision, or auto: every precision the device has is searched */
			if (r < 0)
				return CLI_BAD;
			if (!strcmp(v, "auto"))
				o.space.precision = PP_SPACE_PRECISION_AUTO;
			else if ((o.space.precision = pp_setting_parse_name(
					  &pp_settings()[PP_SETTING_PRECISION], v)) < 0)
				return cli_usage("--precision: unknown precision \"%.40s\" (bf16, fp8, "
						 "mxfp8 or auto)", v);
		} else if ((r = OPT("-o")) != 0) {
			if (r < 0)
				return CLI_BAD;
			out = v;
		} else if ((r = OPT("--emit")) != 0) {
			if (r < 0)
				return CLI_BAD;
			emit = v;
		} else if ((r = OPT("--launcher")) != 0) {
			if (r < 0)
				return CLI_BAD;
			launcher = v;
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
			if (r < 0 || cli_int("--global-batch", v, 1, PP_SPACE_MAX_GLOBAL_BATCH, &n) < 0)
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
		} else if ((r = OPT("--max-zero")) != 0) {
			if (r < 0 || cli_int("--max-zero", v, 1, 3, &n) < 0)
				return CLI_BAD;
			o.space.max_zero = (int)n;
		} else if ((r = OPT("--max-cp")) != 0) {
			if (r < 0 || cli_int("--max-cp", v, 1, 1 << 20, &n) < 0)
				return CLI_BAD;
			o.space.max_cp = (int)n;
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
	if (tr.objective_cost && (tr.price <= 0 || tr.tokens <= 0))
		return cli_usage("search: --objective cost needs --tokens and --price-per-gpu-hour");
	if (emit && !out_dir)
		return cli_usage("search: --emit needs --out-dir DIR");
	if (out_dir && !emit)
		return cli_usage("search: --out-dir needs --emit FORMATS");
	if (!model || !hwp || !o.space.gpus || !o.space.global_batch)
		return cli_usage("search: --model, --hw, --gpus and --global-batch are required (see parplan search --help)");
	/* every option value before any work: a search is never run only to be refused after */
	if (emit && (check_emit_list("--emit", emit) != 0 || check_out_dir(out_dir) != 0))
		return CLI_BAD;
	if (launcher && check_emit_list("--launcher", launcher) != 0)
		return CLI_BAD;
	snprintf(formats, sizeof(formats), "%.250s%s%.250s", launcher ? launcher : "",
		 launcher && emit ? "," : "", emit ? emit : "");
	if (out && check_out_file(out) != 0)
		return CLI_BAD;

	/* from here on SIGINT, SIGTERM and SIGHUP end the search with its best plan so far */
	stop = cli_stop_catch();
	catching = 1;

	if (pp_graph_load(model, &g, &err) < 0 || pp_hw_load(hwp, &hw, &err) < 0 ||
	    pp_costctx_new(&ctx, g, hw, &err) < 0) {
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
	if (o.space.mem_limit_gib > 0)
		pp_costctx_set_mem_limit(ctx, o.space.mem_limit_gib);

	if (*stop) {
		/* the signal came while the inputs were loading */
		fprintf(stderr, "parplan: search interrupted before any plan was found\n");
		rc = CLI_FAIL;
		goto done;
	}

	pr.tty = cli_isatty(stderr);
	o.progress = show_progress;
	o.progress_arg = &pr;
	o.stop = stop;
	if (formats[0]) {
		lf.g = g;
		lf.hw = hw;
		lf.formats = formats;
		if (!(lf.megatron = malloc((size_t)g->n_ops + 1))) {
			fprintf(stderr, "parplan: search: out of memory\n");
			rc = CLI_BAD;
			goto done;
		}
		o.accept = launcher_accepts;
		o.accept_arg = &lf;
	}
	top = o.top_k;
	/* room for the rows merge_equal_rows folds together */
	o.top_k = top <= 250000 ? 4 * top : 1000000;
	r = pp_search_run(ctx, (pp_search_method)method, &o, &res, &err);
	if (r == PP_EINFEASIBLE && lf.refused > 0 && !launcher) {
		/* --emit alone: no plan its formats all run; the search's own best is still the
		 * answer (table, -o), and --emit below names the rule that refuses it (exit 2) */
		o.accept = NULL;
		r = pp_search_run(ctx, (pp_search_method)method, &o, &res, &err);
	}
	if (r == PP_EINFEASIBLE && lf.refused > 0 && launcher) {
		/* plans fit, but none the launchers run: say why the first was refused */
		fprintf(stderr, "parplan: search: no plan that fits runs on %s (%lld refused; first: %s)\n",
			formats, lf.refused, lf.first_reason);
		rc = CLI_FAIL;
		goto done;
	}
	if (pr.shown)
		fprintf(stderr, "\r%79s\r", "");
	if (r < 0) {
		/* PP_ESTOPPED: "search interrupted before any plan was found", exit 1 */
		rc = cli_error(&err);
		goto done;
	}
	if (tr.objective_cost)
		rank_by_cost(&res, o.space.gpus, tr.price);
	if (merge_equal_rows(&res, top, &fold) < 0) {
		fprintf(stderr, "parplan: search: out of memory\n");
		rc = CLI_BAD;
		goto done;
	}
	if (res.stopped == PP_SEARCH_STOP_FLAG)
		fprintf(stderr, "parplan: search interrupted by %s: the best plan found so far, not proven "
				"optimal\n", cli_signal_name(*stop));
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
	}
	/* the plan file and the table first: a format that refuses the plan (below) never takes the
	 * search's result with it */
	if (out && pp_plan_save(&plan, out, &err) < 0)
		rc = cli_error(&err);
	if (json) {
		if (print_json(&res, &fold, &tr, o.space.gpus, hw->tdp_w) < 0) {
			fprintf(stderr, "parplan: search: out of memory\n");
			rc = CLI_BAD;
		}
	} else {
		print_table(&res, &fold);
		if (res.n > 0)
			cli_training_print(stdout, &tr, &res.plans[0].cost, o.space.gpus, hw->tdp_w);
	}
	fflush(stdout);
	if (emit && pp_emit_to_dir(&plan, emit, out_dir, &err) < 0) {
		char buf[PP_ERROR_MSG_MAX + PP_ERROR_FILE_MAX + PP_ERROR_PATH_MAX + 8];
		fprintf(stderr, "parplan: search: --emit: %s; nothing written to '%.200s'\n",
			pp_error_format(&err, buf, sizeof(buf)), out_dir);
		rc = CLI_BAD;
	}
done:
	if (catching)
		cli_stop_release();
	if (plan_ok)
		pp_plan_release(&plan);
	pp_search_result_release(&res);
	free(lf.megatron);
	free(fold.gl);
	free(fold.row);
	pp_costctx_free(ctx);
	pp_hw_free(hw);
	pp_graph_free(g);
	return rc;
}
