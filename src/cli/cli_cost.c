/* cli_cost.c - cost tables, JSON and global-plan options for the CLI. */
#include "cli_cost.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parplan/settings.h"

cJSON *cli_cost_json(const pp_cost *c)
{
	cJSON *o = cJSON_CreateObject(), *t = cJSON_CreateObject(), *m = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "feasible", c->feasible);
	cJSON_AddNumberToObject(o, "iteration_s", c->iteration_s);
	cJSON_AddNumberToObject(o, "tokens_per_s", c->tokens_per_s);
	cJSON_AddNumberToObject(o, "model_tflops_per_gpu", c->model_tflops_per_gpu);
	cJSON_AddNumberToObject(o, "hardware_tflops_per_gpu", c->hardware_tflops_per_gpu);
	cJSON_AddNumberToObject(o, "mfu", c->mfu);
	cJSON_AddNumberToObject(o, "hfu", c->hfu);
	/* what mfu and hfu are against; under fp8 also MFU against the 8-bit peak */
	cJSON_AddStringToObject(o, "precision", c->precision == 2 ? "mxfp8" : c->precision == 1 ? "fp8" : "bf16");
	cJSON_AddStringToObject(o, "flop_convention", "model_flops: no recomputation; hardware_flops: "
				"with recomputation; mfu, hfu: against the dense bf16 peak");
	cJSON_AddNumberToObject(o, "mfu_peak_tflops", c->peak_tflops);
	if (c->lp_peak_tflops > 0) {
		cJSON_AddNumberToObject(o, "mfu_lp", c->mfu_lp);
		cJSON_AddNumberToObject(o, "lp_peak_tflops", c->lp_peak_tflops);
	}
	cJSON_AddNumberToObject(t, "compute_s", c->compute_s);
	cJSON_AddNumberToObject(t, "tp_comm_s", c->tp_comm_s);
	cJSON_AddNumberToObject(t, "pp_comm_s", c->pp_comm_s);
	cJSON_AddNumberToObject(t, "bubble_s", c->bubble_s);
	cJSON_AddNumberToObject(t, "dp_comm_s", c->dp_comm_s);
	cJSON_AddNumberToObject(t, "optimizer_s", c->optimizer_s);
	cJSON_AddItemToObject(o, "time", t);
	/* communication hidden behind compute: not part of iteration_s (the "time" parts are the
	 * exposed ones and add up to it) */
	t = cJSON_CreateObject();
	cJSON_AddNumberToObject(t, "tp_comm_s", c->tp_hidden_s);
	cJSON_AddNumberToObject(t, "pp_comm_s", c->pp_hidden_s);
	cJSON_AddNumberToObject(t, "dp_comm_s", c->dp_hidden_s);
	cJSON_AddItemToObject(o, "hidden", t);
	/* the overlaps in force, each with the exposed time left of what it overlaps */
	t = cJSON_CreateObject();
	if (c->overlaps & PP_OVERLAP_TP_COMM)
		cJSON_AddNumberToObject(t, "tp_comm_exposed_s", c->tp_comm_s);
	if (c->overlaps & PP_OVERLAP_GRAD_REDUCE)
		cJSON_AddNumberToObject(t, "grad_reduce_exposed_s", c->dp_reduce_s);
	if (c->overlaps & PP_OVERLAP_PARAM_GATHER)
		cJSON_AddNumberToObject(t, "param_gather_exposed_s", c->dp_gather_s);
	if (c->overlaps & PP_OVERLAP_P2P)
		cJSON_AddNumberToObject(t, "p2p_exposed_s", c->pp_comm_s);
	if (c->overlaps & PP_OVERLAP_MOE_A2A)
		cJSON_AddNumberToObject(t, "moe_a2a_exposed_s", c->ep_a2a_s);
	cJSON_AddItemToObject(o, "overlaps", t);
	if (c->stack)
		cJSON_AddStringToObject(o, "stack", c->stack);
	cJSON_AddNumberToObject(o, "microbatches", c->microbatches);
	cJSON_AddNumberToObject(o, "stage_f_s", c->stage_f_s);
	cJSON_AddNumberToObject(o, "stage_b_s", c->stage_b_s);
	cJSON_AddNumberToObject(o, "stage_w_s", c->stage_w_s);
	if (c->zero_stage >= 2)
		cJSON_AddNumberToObject(o, "zero_stage", c->zero_stage);
	if (c->cp_comm_s + c->cp_hidden_s > 0) {
		/* of time.tp_comm_s and hidden.tp_comm_s: the context-parallel K/V exchange */
		cJSON_AddNumberToObject(o, "cp_comm_s", c->cp_comm_s);
		cJSON_AddNumberToObject(o, "cp_hidden_s", c->cp_hidden_s);
	}
	if (c->ep_a2a_s + c->ep_a2a_hidden_s > 0) {
		/* of time.tp_comm_s: the expert-parallel all-to-all exposed; of hidden.tp_comm_s:
		 * what the paired forward/backward hides (--overlap-moe-a2a) */
		cJSON_AddNumberToObject(o, "ep_a2a_s", c->ep_a2a_s);
		cJSON_AddNumberToObject(o, "ep_a2a_hidden_s", c->ep_a2a_hidden_s);
	}
	cJSON_AddNumberToObject(m, "weights_gib", c->weights_gib);
	cJSON_AddNumberToObject(m, "grads_gib", c->grads_gib);
	cJSON_AddNumberToObject(m, "optimizer_gib", c->optimizer_gib);
	cJSON_AddNumberToObject(m, "activations_gib", c->activations_gib);
	cJSON_AddNumberToObject(m, "peak_gib", c->peak_gib);
	cJSON_AddNumberToObject(m, "capacity_gib", c->capacity_gib);
	cJSON_AddNumberToObject(m, "headroom_gib", c->headroom_gib);
	cJSON_AddItemToObject(o, "memory", m);
	return o;
}

void cli_cost_to_predicted(const pp_cost *c, pp_predicted *p)
{
	p->valid = 1;
	p->feasible = c->feasible;
	p->iteration_s = c->iteration_s;
	p->tokens_per_s = c->tokens_per_s;
	p->model_tflops_per_gpu = c->model_tflops_per_gpu;
	p->hardware_tflops_per_gpu = c->hardware_tflops_per_gpu;
	p->mfu = c->mfu;
	p->hfu = c->hfu;
	p->compute_s = c->compute_s;
	p->tp_comm_s = c->tp_comm_s;
	p->pp_comm_s = c->pp_comm_s;
	p->bubble_s = c->bubble_s;
	p->dp_comm_s = c->dp_comm_s;
	p->optimizer_s = c->optimizer_s;
	p->weights_gib = c->weights_gib;
	p->grads_gib = c->grads_gib;
	p->optimizer_gib = c->optimizer_gib;
	p->activations_gib = c->activations_gib;
	p->peak_gib = c->peak_gib;
	p->capacity_gib = c->capacity_gib;
}

static void row(FILE *f, const char *name, double s, double total)
{
	fprintf(f, "  %-22s %10.4f s  %5.1f%%\n", name, s, total > 0 ? 100.0 * s / total : 0.0);
}

void cli_cost_print(FILE *f, const pp_global *gl, const pp_cost *c)
{
	fprintf(f, "plan: t=%d p=%d d=%d micro-batch=%d global-batch=%d (%d micro-batches) v=%d %s, "
		   "recompute %s%s%s%s\n",
		gl->t, gl->p, gl->d, gl->micro_batch, gl->global_batch, c->microbatches, gl->virtual_stages,
		pp_schedule_name(gl->schedule), pp_recompute_name(gl->recompute),
		gl->sequence_parallel ? ", sequence parallel" : "",
		gl->distributed_optimizer ? ", distributed optimizer" : "",
		gl->overlap_grad_reduce ? ", overlapped grad reduce" : "");
	if (c->zero_stage >= 2 || gl->cp > 1 || gl->hsdp_shard > 0) {
		fprintf(f, "sharding:");
		if (c->zero_stage >= 2)
			fprintf(f, " %s (ZeRO stage %d)", gl->fsdp ? "FSDP" : "ZeRO", c->zero_stage);
		if (gl->hsdp_shard > 0)
			fprintf(f, ", HSDP shard %d x replicate %d", gl->hsdp_shard, gl->d / gl->hsdp_shard);
		if (gl->cp > 1)
			fprintf(f, "%scontext parallel cp=%d (%s)", c->zero_stage >= 2 || gl->hsdp_shard > 0 ? ", " : " ",
				gl->cp, pp_setting_value_name(&pp_settings()[PP_SETTING_CP_COMM_TYPE],
							      (int)gl->cp_comm_type));
		fprintf(f, "\n");
	}
	if (c->stack)
		fprintf(f, "stack: %s%s%s%s%s%s\n", c->stack,
			c->overlaps & PP_OVERLAP_TP_COMM ? ", TP comm overlapped" : "",
			c->overlaps & PP_OVERLAP_GRAD_REDUCE ? ", grad reduce overlapped" : "",
			c->overlaps & PP_OVERLAP_PARAM_GATHER ? ", param all-gather overlapped" : "",
			c->overlaps & PP_OVERLAP_P2P ? ", pipeline p2p overlapped" : "",
			c->overlaps & PP_OVERLAP_MOE_A2A ? ", expert all-to-all overlapped" : "");
	fprintf(f, "\ntime per iteration\n");
	row(f, "compute", c->compute_s, c->iteration_s);
	row(f, "tensor-parallel comm", c->tp_comm_s, c->iteration_s);
	if (c->cp_comm_s + c->cp_hidden_s > 0)
		fprintf(f, "    of which context-parallel K/V %10.4f s (%.4f s hidden behind attention)\n",
			c->cp_comm_s, c->cp_hidden_s);
	if (c->ep_a2a_s + c->ep_a2a_hidden_s > 0)
		fprintf(f, "    of which expert all-to-all %10.4f s (MoE dispatch and combine; %.4f s hidden "
			"behind the paired forward/backward)\n", c->ep_a2a_s, c->ep_a2a_hidden_s);
	row(f, "pipeline p2p", c->pp_comm_s, c->iteration_s);
	row(f, "pipeline bubble", c->bubble_s, c->iteration_s);
	row(f, "data-parallel comm", c->dp_comm_s, c->iteration_s);
	row(f, "optimizer step", c->optimizer_s, c->iteration_s);
	fprintf(f, "  %-22s %10.4f s\n", "iteration", c->iteration_s);
	if (c->tp_hidden_s + c->pp_hidden_s + c->dp_hidden_s > 0)
		fprintf(f, "  hidden behind compute: TP %.4f s, pipeline %.4f s, DP %.4f s\n",
			c->tp_hidden_s, c->pp_hidden_s, c->dp_hidden_s);
	if (c->overlaps & (PP_OVERLAP_GRAD_REDUCE | PP_OVERLAP_PARAM_GATHER))
		fprintf(f, "  data-parallel comm exposed: grad reduce %.4f s, param all-gather %.4f s\n",
			c->dp_reduce_s, c->dp_gather_s);
	fprintf(f, "  per micro-batch, slowest stage: F %.4f s, B %.4f s, W %.4f s\n", c->stage_f_s,
		c->stage_b_s, c->stage_w_s);
	fprintf(f, "\nthroughput  %.0f tokens/s, %.1f model TFLOP/s per GPU (MFU %.1f%%), "
		   "%.1f hardware TFLOP/s per GPU (HFU %.1f%%)\n",
		c->tokens_per_s, c->model_tflops_per_gpu, 100 * c->mfu, c->hardware_tflops_per_gpu,
		100 * c->hfu);
	/* the FLOP convention, stated (docs/accuracy.md, "FLOP conventions") */
	fprintf(f, "  model FLOPs count no recomputation, hardware FLOPs count it; MFU and HFU are "
		   "against the dense bf16 peak of %.6g TFLOP/s\n", c->peak_tflops);
	if (c->lp_peak_tflops > 0)
		fprintf(f, "  precision %s (linear GEMMs): MFU %.1f%% against the dense %s peak of %.6g "
			   "TFLOP/s\n", c->precision == 2 ? "mxfp8" : "fp8", 100 * c->mfu_lp,
			c->precision == 2 ? "mxfp8" : "fp8", c->lp_peak_tflops);
	fprintf(f, "\nmemory per GPU (stage %d, the most loaded)\n", c->peak_stage);
	fprintf(f, "  %-22s %10.2f GiB\n", "weights", c->weights_gib);
	fprintf(f, "  %-22s %10.2f GiB\n", "gradients", c->grads_gib);
	fprintf(f, "  %-22s %10.2f GiB\n", "optimizer states", c->optimizer_gib);
	fprintf(f, "  %-22s %10.2f GiB\n", "activations", c->activations_gib);
	if (c->headroom_gib > 0)
		fprintf(f, "  %-22s %10.2f GiB kept free (NCCL buffers, workspaces; --mem-headroom)\n",
			"headroom", c->headroom_gib);
	fprintf(f, "  %-22s %10.2f GiB of %.2f GiB usable%s%s\n", "peak", c->peak_gib, c->capacity_gib,
		c->headroom_gib > 0 ? " after headroom" : "", c->feasible ? "" : "  -- DOES NOT FIT");
	cli_cost_print_infeasible(f, c);
}

void cli_cost_print_infeasible(FILE *f, const pp_cost *c)
{
	if (!c->feasible)
		fprintf(f, "infeasible: peak memory %.2f GiB exceeds the %.2f GiB usable by %.2f GiB\n",
			c->peak_gib, c->capacity_gib, c->peak_gib - c->capacity_gib);
}

int cli_global_opt(int argc, char **argv, int *i, pp_global *gl, const pp_setting **which)
{
	const pp_setting *t = pp_settings();
	const char *v;
	long long n;
	int k, r;

	for (k = 0; k < PP_SETTING_COUNT; k++) {
		const pp_setting *s = &t[k];
		if (s->type == PP_SETTING_BOOL) {
			/* a bare flag: no value, no "=" form, at most once (cli_flag) */
			if ((r = cli_flag(argv, *i, s->flag)) < 0)
				return -1;
			if (!r)
				continue;
			pp_setting_set(s, gl, 1);
		} else {
			if ((r = cli_opt(argc, argv, i, s->flag, &v)) < 0)
				return -1;
			if (!r)
				continue;
			if (s->type == PP_SETTING_INT) {
				if (cli_int(s->flag, v, s->min, s->cli_max, &n) < 0)
					return -1;
				pp_setting_set(s, gl, (int)n);
			} else {
				char choices[128];
				if ((r = pp_setting_parse_name(s, v)) < 0) {
					pp_setting_choices(s, choices, sizeof(choices));
					cli_usage("%s: unknown %s \"%.40s\" (%s)", s->flag, s->cli_noun, v, choices);
					return -1;
				}
				pp_setting_set(s, gl, r);
			}
		}
		if (which)
			*which = s;
		return 1;
	}
	return 0;
}

void cli_global_required(pp_global *gl)
{
	const pp_setting *t = pp_settings();
	int k;
	for (k = 0; k < PP_SETTING_COUNT; k++)
		if (t[k].flags & PP_SETTING_CLI_REQUIRED)
			pp_setting_set(&t[k], gl, 0);
}

int cli_global_missing(const pp_global *gl, char *buf, size_t n)
{
	const pp_setting *t = pp_settings();
	int k, missing = 0, total = 0, seen = 0;
	size_t used = 0;
	for (k = 0; k < PP_SETTING_COUNT; k++)
		if (t[k].flags & PP_SETTING_CLI_REQUIRED) {
			total++;
			missing |= pp_setting_get(&t[k], gl) == 0;
		}
	if (n)
		buf[0] = '\0';
	for (k = 0; k < PP_SETTING_COUNT && used < n; k++) {
		const char *sep;
		int w;
		if (!(t[k].flags & PP_SETTING_CLI_REQUIRED))
			continue;
		sep = seen == 0 ? "" : seen == total - 1 ? " and " : ", ";
		seen++;
		w = snprintf(buf + used, n - used, "%s%s", sep, t[k].flag);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return missing;
}

/* Where shipped data (stacks/, ...) lives when it is not below the current folder: the source
 * tree the binary was built from (Makefile: -DPP_DATADIR). */
#ifndef PP_DATADIR
#define PP_DATADIR "."
#endif

int cli_stack_load(const char *name, pp_stack *st, pp_error *err)
{
	char exe[PATH_MAX], dirs[2][PATH_MAX + 16], p[2 * PATH_MAX + 128];
	ssize_t n;
	char *slash;
	FILE *f;
	int rc, k, nd = 0;

	if (!name)
		name = PP_STACK_DEFAULT;
	/* a bare name: ./stacks/NAME.json, then <dir of the binary>/../stacks/NAME.json, then the
	 * source tree's stacks/NAME.json */
	rc = pp_stack_resolve(name, "stacks", st, err);
	if (rc != PP_ENOTFOUND)
		return rc;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		if ((slash = strrchr(exe, '/'))) {
			*slash = 0;
			snprintf(dirs[nd++], sizeof(dirs[0]), "%s/../stacks", exe);
		}
	}
	snprintf(dirs[nd++], sizeof(dirs[0]), "%s/stacks", PP_DATADIR);
	for (k = 0; k < nd; k++) {
		snprintf(p, sizeof(p), "%s/%s.json", dirs[k], name);
		if (!(f = fopen(p, "r")))
			continue;
		fclose(f);
		return pp_stack_resolve(name, dirs[k], st, err);
	}
	return rc;
}

int cli_training_opt(int argc, char **argv, int *i, cli_training *tr, int objective)
{
	const char *v;
	int r;
	if ((r = cli_opt(argc, argv, i, "--tokens", &v)) != 0) {
		if (r < 0 || cli_num("--tokens", v, 1, 1e18, &tr->tokens) < 0)
			return -1;
		return 1;
	}
	if ((r = cli_opt(argc, argv, i, "--price-per-gpu-hour", &v)) != 0) {
		if (r < 0 || cli_num("--price-per-gpu-hour", v, 1e-6, 1e6, &tr->price) < 0)
			return -1;
		return 1;
	}
	if (objective && (r = cli_opt(argc, argv, i, "--objective", &v)) != 0) {
		if (r < 0)
			return -1;
		if (!strcmp(v, "time") || !strcmp(v, "cost")) {
			tr->objective_cost = !strcmp(v, "cost");
			return 1;
		}
		cli_usage("--objective: \"%.20s\" is not time or cost", v);
		return -1;
	}
	return 0;
}

double cli_training_seconds(const cli_training *tr, const pp_cost *c)
{
	if (tr->tokens <= 0 || !(c->tokens_per_s > 0))
		return 0;
	return tr->tokens / c->tokens_per_s;
}

cJSON *cli_training_json(const cli_training *tr, const pp_cost *c, int gpus, double tdp_w)
{
	double s = cli_training_seconds(tr, c), gh = s * gpus / 3600.0;
	cJSON *o;
	if (tr->tokens <= 0 || !(o = cJSON_CreateObject()))
		return NULL;
	cJSON_AddNumberToObject(o, "tokens", tr->tokens);
	cJSON_AddNumberToObject(o, "days", s / 86400.0);
	cJSON_AddNumberToObject(o, "gpu_hours", gh);
	if (tr->price > 0)
		cJSON_AddNumberToObject(o, "cost", gh * tr->price);
	else
		cJSON_AddNullToObject(o, "cost");
	/* every GPU at its thermal design power for the whole run: an upper bound on the GPUs'
	 * energy (host, network and cooling not counted) */
	if (tdp_w > 0)
		cJSON_AddNumberToObject(o, "energy_kwh", gh * tdp_w / 1000.0);
	else
		cJSON_AddNullToObject(o, "energy_kwh");
	return o;
}

void cli_training_print(FILE *f, const cli_training *tr, const pp_cost *c, int gpus, double tdp_w)
{
	double s = cli_training_seconds(tr, c), gh = s * gpus / 3600.0;
	if (tr->tokens <= 0 || s <= 0)
		return;
	fprintf(f, "training %.4g tokens: %.2f days, %.4g GPU-hours", tr->tokens, s / 86400.0, gh);
	if (tr->price > 0)
		fprintf(f, ", cost %.4g at %.4g per GPU-hour", gh * tr->price, tr->price);
	if (tdp_w > 0)
		fprintf(f, ", %.4g MWh at %.0f W TDP", gh * tdp_w / 1e6, tdp_w);
	fputc('\n', f);
}

int cli_headroom_opt(int argc, char **argv, int *i, double *gib)
{
	const char *v;
	int r;
	if ((r = cli_opt(argc, argv, i, "--mem-headroom", &v)) == 0)
		return 0;
	if (r < 0 || cli_num("--mem-headroom", v, 0, 1e6, gib) < 0)
		return -1;
	return 1;
}
