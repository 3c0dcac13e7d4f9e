/*
 * emit.c - the table of emit formats, dispatch, writing several into a folder, the launcher
 * rules every emitter checks, and the text buffer they print into.
 */
#include "parplan/emit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checked_int.h"
#include "emit_int.h"
#include "io_int.h"
#include "parplan/io.h"
#include "parplan/name.h"

static int emit_plan(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	(void)opts;
	*out = pp_plan_to_json(plan);
	return *out ? 0 : pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
}

static int emit_exec(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	(void)opts;
	return pp_emit_exec(plan, out, err);
}

#define ZERO PP_EMIT_TAKES_ZERO
#define RECOMPUTE PP_EMIT_TAKES_RECOMPUTE

static const pp_emit_format formats[] = {
	{"megatron", "megatron.sh", "Megatron-LM launch script (torchrun pretrain_gpt.py)",
	 pp_emit_megatron, 1, RECOMPUTE},
	{"megatron-deepspeed", "megatron_deepspeed.sh", "Megatron-DeepSpeed launch script",
	 pp_emit_megatron_deepspeed, 1, ZERO | RECOMPUTE},
	{"megatron-bridge", "megatron_bridge.sh",
	 "Megatron-Bridge launch script (run_recipe.py, recipe + overrides)",
	 pp_emit_megatron_bridge, 1, RECOMPUTE},
	{"deepspeed", "ds_config.json", "DeepSpeed config for Megatron-DeepSpeed",
	 pp_emit_deepspeed, 0, ZERO},
	{"torchtitan", "torchtitan_plan.py", "torchtitan configuration function (Python, current)",
	 pp_emit_torchtitan, 0, 0},
	{"torchtitan-toml", "torchtitan.toml", "torchtitan 0.2 TOML job config",
	 pp_emit_torchtitan_toml, 0, 0},
	{"nemo1", "nemo.yaml", "NeMo 1.x megatron_gpt_config YAML", pp_emit_nemo, 0, RECOMPUTE},
	{"nanotron", "nanotron.yaml", "Nanotron YAML config", pp_emit_nanotron, 0, ZERO},
	{"report", "report.txt", "plain-text summary", pp_emit_report, 0, PP_EMIT_TAKES_COMPARE},
	{"svg", "timeline.svg", "pipeline timeline and time breakdown (SVG)", pp_emit_svg, 0, 0},
	{"plan", "plan.json", "the plan itself (parplan-plan/1)", emit_plan, 0, 0},
	{"exec", "exec.json", "input of the execution stub", emit_exec, 0, 0},
};

#undef ZERO
#undef RECOMPUTE

const pp_emit_format *pp_emit_formats(int *n)
{
	*n = (int)(sizeof(formats) / sizeof(formats[0]));
	return formats;
}

const pp_emit_format *pp_emit_find(const char *name)
{
	size_t i;
	for (i = 0; name && i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

static int unknown_format(const char *name, pp_error *err)
{
	char list[256] = "";
	size_t i;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, formats[i].name, sizeof(list) - strlen(list) - 1);
	}
	return pp_error_set(err, PP_EINVALID, NULL, NULL, "unknown format \"%.40s\" (expected %s)",
			    name, list);
}

/* An option given that @f does not use: PP_EINVALID naming its flag (the launcher would not
 * see it, so a user asking for it would get a file that silently ignores it). */
static int unused_options(const pp_emit_format *f, const pp_emit_opts *opts, pp_error *err)
{
	const char *flag = NULL;
	if (!opts)
		return 0;
	if (opts->zero_stage >= 0 && !(f->takes & PP_EMIT_TAKES_ZERO))
		flag = "--zero-stage";
	else if (opts->recompute_num_layers > 0 && !(f->takes & PP_EMIT_TAKES_RECOMPUTE))
		flag = "--recompute-num-layers";
	else if (opts->n_others > 0 && !(f->takes & PP_EMIT_TAKES_COMPARE))
		flag = "--compare";
	if (!flag)
		return 0;
	return pp_error_set(err, PP_EINVALID, NULL, NULL, "%s: format %s does not use it (%s)",
			    flag, f->name,
			    !strcmp(flag, "--zero-stage") ? "deepspeed, megatron-deepspeed and nanotron do"
			    : !strcmp(flag, "--compare")  ? "report does"
							  : "the Megatron-based formats do");
}

int pp_emit_check_opts(const char *format, const pp_emit_opts *opts, pp_error *err)
{
	const pp_emit_format *f = pp_emit_find(format);
	if (!f)
		return unknown_format(format ? format : "", err);
	return unused_options(f, opts, err);
}

int pp_emit(const pp_plan *plan, const char *format, const pp_emit_opts *opts, char **out,
	    pp_error *err)
{
	static const pp_emit_opts defaults = PP_EMIT_OPTS_INIT;
	const pp_emit_format *f = pp_emit_find(format);
	const pp_moe_shape *m;
	int rc;
	*out = NULL;
	if (!f)
		return unknown_format(format ? format : "", err);
	if ((rc = unused_options(f, opts, err)) < 0)
		return rc;
	m = &plan->shape.moe; /* only now: callers check a format with plan == NULL */
	/* mixtures of experts, MLA, MTP and QK-norm / head_dim layers: only the Megatron-LM
	 * emitter writes their flags; the other launchers' files would describe another model */
	if ((m->experts || m->kv_lora || m->mtp || plan->global.ep > 1 || plan->global.etp > 1) &&
	    strcmp(f->name, "megatron") && strcmp(f->name, "report") && strcmp(f->name, "svg") &&
	    strcmp(f->name, "plan"))
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.moe",
				    "%s: parplan writes mixture-of-experts, MLA and MTP models for "
				    "Megatron-LM only (--format megatron)", f->name);
	return f->fn(plan, opts ? opts : &defaults, out, err);
}

/* mkdir -p */
static int make_dir(const char *dir, pp_error *err)
{
	char buf[1024];
	size_t i, n = strlen(dir);
	if (n == 0 || n >= sizeof(buf))
		return pp_error_set(err, PP_EINVALID, dir, NULL, "bad output folder name");
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0777) < 0 && errno != EEXIST)
				return pp_error_set(err, PP_EIO, buf, NULL, "cannot create folder: %s",
						    strerror(errno));
			buf[i] = c;
		}
	}
	{
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return pp_error_set(err, PP_EIO, dir, NULL, "not a folder");
	}
	return 0;
}

#define MAX_DIR_FORMATS 16

/* Write every file of @dir or none.  Each text is staged next to its target (the target's
 * folder: a rename never crosses file systems), each existing target kept aside as a backup,
 * and only then are the staged files renamed over their targets.  Should a rename fail, those
 * renamed before it are rolled back (last first, so that two names of one file end as it was):
 * a backup renamed back, a file that did not exist removed. */
static int commit_files(const char *dir, const pp_emit_format *const *want, char *const *text,
			int n, pp_error *err)
{
	char path[MAX_DIR_FORMATS][1280];
	char *stage[MAX_DIR_FORMATS] = {NULL}, *bak[MAX_DIR_FORMATS] = {NULL};
	pp_io_target t[MAX_DIR_FORMATS];
	int resolved = 0, renamed = 0, i, rc = 0;

	for (; resolved < n; resolved++) {
		i = resolved;
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, want[i]->file);
		if ((rc = pp_io_resolve(path[i], &t[i], err)) < 0)
			goto done;
		if (t[i].exists && !S_ISREG(t[i].st.st_mode)) {
			rc = pp_error_set(err, PP_EIO, path[i], NULL,
					  S_ISDIR(t[i].st.st_mode) ? "is a folder"
								   : "not a regular file");
			resolved++;
			goto done;
		}
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = pp_io_stage(path[i], &t[i], text[i], strlen(text[i]),
				 want[i]->script ? PP_WRITE_SCRIPT : 0, &stage[i], err);
	for (i = 0; i < n && rc == 0; i++)
		if (t[i].exists)
			rc = pp_io_backup(path[i], &t[i], &bak[i], err);
	for (; rc == 0 && renamed < n; renamed++) {
		if (pp_io_rename(stage[renamed], t[renamed].path) < 0) {
			rc = pp_error_set(err, PP_EIO, path[renamed], NULL,
					  "cannot write: %s (the folder's files are left as they were)",
					  strerror(errno));
			break;
		}
		free(stage[renamed]);
		stage[renamed] = NULL;
	}
	if (rc < 0) {
		for (i = renamed - 1; i >= 0; i--) {
			if (!bak[i]) {
				unlink(t[i].path);
			} else if (pp_io_rename(bak[i], t[i].path) < 0) {
				/* keep the backup and say where it is */
				pp_error_set(err, PP_EIO, path[i], NULL,
					     "cannot restore after a failed write: %s (the old file "
					     "is %s)", strerror(errno), bak[i]);
				free(bak[i]);
				bak[i] = NULL;
			}
		}
	}
done:
	for (i = 0; i < n; i++) {
		if (stage[i])
			unlink(stage[i]);
		if (bak[i])
			unlink(bak[i]); /* gone already where it was renamed back */
		free(stage[i]);
		free(bak[i]);
	}
	for (i = 0; i < resolved; i++)
		pp_io_target_release(&t[i]);
	return rc;
}

int pp_emit_to_dir(const pp_plan *plan, const char *formats_csv, const char *dir, pp_error *err)
{
	const pp_emit_format *want[MAX_DIR_FORMATS];
	char *text[MAX_DIR_FORMATS] = {NULL};
	char name[64];
	int n = 0, i, rc = 0;
	const char *s = formats_csv, *e;

	if (!formats_csv || !*formats_csv)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "no formats given");
	for (; s; s = e ? e + 1 : NULL) {
		size_t len;
		const pp_emit_format *f;
		e = strchr(s, ',');
		len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0 || len >= sizeof(name))
			return pp_error_set(err, PP_EINVALID, NULL, NULL,
					    "bad format list \"%.80s\"", formats_csv);
		memcpy(name, s, len);
		name[len] = '\0';
		if (!(f = pp_emit_find(name)))
			return unknown_format(name, err);
		for (i = 0; i < n; i++)
			if (want[i] == f)
				break;
		if (i < n)
			continue; /* given twice */
		if (n == MAX_DIR_FORMATS)
			return pp_error_set(err, PP_EINVALID, NULL, NULL, "too many formats");
		want[n++] = f;
	}
	/* everything first, so that a broken rule writes nothing */
	for (i = 0; i < n && rc == 0; i++)
		rc = pp_emit(plan, want[i]->name, NULL, &text[i], err);
	if (rc == 0)
		rc = make_dir(dir, err);
	if (rc == 0)
		rc = commit_files(dir, want, text, n, err);
	for (i = 0; i < n; i++)
		free(text[i]);
	return rc;
}

/* ---- launcher rules ------------------------------------------------------------------------ */

int pp_emit_runs(const pp_plan *plan, const char *formats_csv, pp_error *err)
{
	char name[64];
	const char *s = formats_csv, *e;
	for (; s && *s; s = e ? e + 1 : NULL) {
		size_t len;
		const pp_emit_format *f;
		char *text = NULL;
		int rc;
		e = strchr(s, ',');
		len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0 || len >= sizeof(name))
			return pp_error_set(err, PP_EINVALID, NULL, NULL, "bad format list \"%.80s\"",
					    formats_csv);
		memcpy(name, s, len);
		name[len] = '\0';
		if (!(f = pp_emit_find(name)))
			return unknown_format(name, err);
		if (f->fn == emit_plan || f->fn == pp_emit_report || f->fn == pp_emit_svg)
			continue;
		rc = f->fn(plan, &(const pp_emit_opts)PP_EMIT_OPTS_INIT, &text, err);
		free(text);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int pp_emit_zero_stage(const pp_plan *plan, const pp_emit_opts *opts)
{
	if (opts && opts->zero_stage >= 0)
		return opts->zero_stage;
	return pp_global_zero_stage(&plan->global);
}

int pp_emit_recompute_layers(const pp_plan *plan, const pp_emit_opts *opts)
{
	if (plan->global.recompute != PP_RECOMPUTE_FULL)
		return opts ? opts->recompute_num_layers : 0;
	return opts && opts->recompute_num_layers > 0 ? opts->recompute_num_layers : 1;
}

const char *pp_emit_float(char *buf, size_t n, double x)
{
	char tmp[64], *e;
	snprintf(tmp, sizeof(tmp), "%.10g", x);
	e = strpbrk(tmp, "eE");
	if (strchr(tmp, '.') || strpbrk(tmp, "ni")) /* has a point, or nan / inf */
		snprintf(buf, n, "%s", tmp);
	else if (e) /* 1e-05 -> 1.0e-05: YAML 1.1 (PyYAML) reads a float only with a point */
		snprintf(buf, n, "%.*s.0%s", (int)(e - tmp), tmp, e);
	else /* 500000 -> 500000.0 */
		snprintf(buf, n, "%s.0", tmp);
	return buf;
}

void pp_emit_model_settings(const pp_plan *plan, pp_emit_model *m)
{
	const pp_model_shape *sh = &plan->shape;
	const pp_model_settings *g = &sh->model;
	int llama = sh->family_llama;
	memset(m, 0, sizeof(*m));
	m->rmsnorm = m->gated = m->rope = llama;
	m->norm_eps = 1e-5;
	m->rope_theta = llama ? 500000 : 0;
	m->linear_bias = m->qkv_bias = !llama;
	m->dropout = llama ? 0.0 : 0.1;
	m->activation = llama ? "silu" : "gelu";
	if (!sh->has_model)
		return;
	/* the graph's settings (parplan model hf: the Hugging Face config); models with them train
	 * without dropout (model_hf.c refuses a non-zero attention_dropout) */
	m->dropout = 0.0;
	if (g->norm[0])
		m->rmsnorm = !strcmp(g->norm, "rmsnorm");
	if (g->norm_eps > 0)
		m->norm_eps = g->norm_eps;
	if (g->activation[0])
		m->activation = g->activation;
	if (g->position[0])
		m->rope = !strcmp(g->position, "rope");
	if (g->rope_theta > 0)
		m->rope_theta = g->rope_theta;
	if (!strcmp(g->rope_scaling, "llama3")) {
		m->rope_llama3 = 1;
		m->rope_factor = g->rope_factor;
		m->rope_low_freq_factor = g->rope_low_freq_factor;
		m->rope_high_freq_factor = g->rope_high_freq_factor;
		m->rope_original_max_positions = (long long)g->rope_original_max_positions;
	} else if (g->rope_scaling[0]) {
		m->rope_other = g->rope_scaling;
	}
	m->qkv_bias = g->qkv_bias;
	m->linear_bias = g->out_bias || g->mlp_bias;
	m->unwritten = g->qk_norm ? "qk_norm" : g->sandwich_norm ? "sandwich_norm"
		       : g->sliding_window ? "sliding_window" : g->embed_scale ? "embed_scale"
		       : g->attn_softcap > 0 ? "attn_softcap" : g->final_softcap > 0 ? "final_softcap"
		       : g->query_pre_attn_scalar > 0 ? "query_pre_attn_scalar" : NULL;
	m->split_bias = g->out_bias != g->mlp_bias || (m->linear_bias && !g->qkv_bias);
}

int pp_emit_model_refuse(const char *fmt, const pp_emit_model *m, unsigned can, pp_error *err)
{
	char path[64];
	if (m->unwritten) {
		snprintf(path, sizeof(path), "model_shape.model.%s", m->unwritten);
		return pp_error_set(err, PP_EINVALID, NULL, path,
				    "%s: rule \"model settings\": parplan does not write %s for %s yet",
				    fmt, m->unwritten, fmt);
	}
	if (m->rope_other)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.rope_scaling",
				    "%s: rule \"model settings\": rope scaling \"%s\" is not one %s "
				    "writes", fmt, m->rope_other, fmt);
	/* Megatron core's _apply_scaling (rotary_pos_embedding.py, d98e8a64) and NeMo 1.x's
	 * apply_rope_scaling take the factor only: low 1, high 4, original 8192 (Llama 3.1's) */
	if (m->rope_llama3 && (m->rope_low_freq_factor != 1 || m->rope_high_freq_factor != 4 ||
			       m->rope_original_max_positions != 8192))
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.rope_scaling",
				    "%s: rule \"model settings\": llama3 rope scaling with low/high "
				    "frequency factors %g/%g and %lld original positions (%s fixes 1/4/8192)",
				    fmt, m->rope_low_freq_factor, m->rope_high_freq_factor,
				    m->rope_original_max_positions, fmt);
	if (m->gated && strcmp(m->activation, "silu"))
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.activation",
				    "%s: rule \"model settings\": a gated %s MLP (%s writes SwiGLU)", fmt,
				    m->activation, fmt);
	if (m->rope_llama3 && !(can & PP_EMIT_CAN_ROPE_LLAMA3))
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.rope_scaling",
				    "%s: rule \"model settings\": %s has no Llama 3.1 rope scaling", fmt,
				    fmt);
	/* Megatron's add_bias_linear covers the attention output and the MLP (and turns the QKV
	 * bias on: Megatron-LM arguments.py), add_qkv_bias the QKV projection alone */
	if (m->split_bias || (m->qkv_bias && !m->linear_bias && !(can & PP_EMIT_CAN_QKV_BIAS)))
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.qkv_bias",
				    "%s: rule \"model settings\": %s cannot put biases on these "
				    "projections only (qkv %d, output and MLP %d)", fmt, fmt, m->qkv_bias,
				    m->linear_bias);
	return 0;
}

void pp_emit_nodes(const pp_plan *plan, int *nnodes, int *per_node)
{
	int nd = plan->node_devices > 0 ? plan->node_devices : 1;
	if (plan->gpus <= nd) {
		*nnodes = 1;
		*per_node = plan->gpus;
	} else {
		*nnodes = (plan->gpus + nd - 1) / nd;
		*per_node = nd;
	}
}

int pp_emit_min_chunk_layers(const pp_plan *plan)
{
	const pp_global *gl = &plan->global;
	int L = (int)plan->shape.layers, p = gl->p, v = gl->virtual_stages, m;
	int inner = p - (gl->first_stage_layers > 0) - (gl->last_stage_layers > 0);
	if (p == 1 || (v > 1 && !gl->first_stage_layers && !gl->last_stage_layers))
		return L / (p * v);
	/* the middle stages' share, unless there are none (p = 2, both ends set) */
	m = inner > 0 ? (L - gl->first_stage_layers - gl->last_stage_layers) / inner : L;
	if (v > 1 && pp_global_uneven_form(L, gl, NULL) == PP_UNEVEN_ACCOUNT)
		return m / v - 1; /* the embedding's and the loss's chunks build one layer fewer */
	if (gl->first_stage_layers && gl->first_stage_layers < m)
		m = gl->first_stage_layers;
	if (gl->last_stage_layers && gl->last_stage_layers < m)
		m = gl->last_stage_layers;
	return m / v; /* interleaved: each rank's layers over its v chunks */
}

#define BROKEN(path, rule, ...) broken(err, fmt, path, rule, __VA_ARGS__)

static int broken(pp_error *err, const char *fmt, const char *path, const char *rule,
		  const char *detail, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

static int broken(pp_error *err, const char *fmt, const char *path, const char *rule,
		  const char *detail, ...)
{
	char msg[PP_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, detail);
	vsnprintf(msg, sizeof(msg), detail, ap);
	va_end(ap);
	return pp_error_set(err, PP_EINVALID, NULL, path, "%s: rule \"%s\": %s", fmt, rule, msg);
}

int pp_emit_check_rules(const char *fmt, const pp_plan *plan, const pp_emit_opts *opts,
			unsigned rules, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	long long t = gl->t, p = gl->p, d = gl->d, v = gl->virtual_stages, L = sh->layers;
	int64_t world;
	int m = pp_global_microbatches(gl);

	if (t < 1 || p < 1 || d < 1 || v < 1 || gl->micro_batch < 1 || gl->global_batch < 1 ||
	    plan->node_devices < 1 || L < 1 || sh->heads < 1 || sh->kv_heads < 1)
		return pp_error_set(err, PP_EINVALID, NULL, "global",
				    "%s: degrees, batch sizes and model shape must be at least 1", fmt);
	/* Megatron-LM d98e8a64 arguments.py: one virtual stage per rank is no virtual pipeline
	 * (virtual_pipeline_model_parallel_size set to None); torchtitan's Interleaved1F1B needs 2
	 * stages per rank (pipeline_parallel.py) */
	if (gl->schedule == PP_SCHED_INTERLEAVED && v < 2)
		return BROKEN("global.virtual_stages", "interleaving needs v > 1",
			      "the interleaved schedule needs at least 2 model chunks per stage "
			      "(virtual_stages = %lld)", v);
	/* torchtitan b5bcd76 registers llama3 flavors (models/llama3/__init__.py), Nanotron 2411b02
	 * a LlamaConfig model_config (config/models_config.py): no GPT block */
	if ((rules & PP_RULE_LLAMA_ONLY) && !sh->family_llama)
		return BROKEN("model_shape.family", "llama models only",
			      "%s has no GPT (LayerNorm, GELU, learned positions) model", fmt);
	/* Megatron core parallel_state.initialize_model_parallel, torchtitan parallel_dims.py
	 * (dp_replicate * dp_shard * cp * tp * pp == world), DeepSpeed's and Nanotron's meshes */
	if (pp_mul_i64(t, p, &world) < 0 || pp_mul_i64(world, d, &world) < 0 ||
	    pp_mul_i64(world, gl->cp > 1 ? gl->cp : 1, &world) < 0)
		return BROKEN("gpus", "world size = t*cp*p*d", "t*cp*p*d = %lld*%d*%lld*%lld overflows", t,
			      gl->cp, p, d);
	if ((rules & PP_RULE_WORLD) && world != plan->gpus)
		return BROKEN("gpus", gl->cp > 1 ? "world size = t*cp*p*d" : "world size = t*p*d",
			      "%s = %lld but the plan has %d GPUs", gl->cp > 1 ? "t*cp*p*d" : "t*p*d",
			      (long long)world, plan->gpus);
	/* torchrun --nproc_per_node is one count for every node */
	if ((rules & PP_RULE_NODES) && plan->gpus > plan->node_devices &&
	    plan->gpus % plan->node_devices)
		return BROKEN("gpus", "whole nodes", "%d GPUs do not fill nodes of %d", plan->gpus,
			      plan->node_devices);
	/* NVIDIA/Megatron-LM d98e8a64 megatron/core/num_microbatches_calculator.py ("global batch
	 * size is not divisible by micro batch size times data parallel size"); DeepSpeed's
	 * train_batch_size identity; torchtitan trainer.py b5bcd76 (whole gradient accumulation) */
	if ((rules & PP_RULE_BATCH) && gl->global_batch % (gl->micro_batch * d))
		return BROKEN("global.global_batch", "global batch divisible by micro-batch*d",
			      "global batch %d is not divisible by micro-batch*d = %lld",
			      gl->global_batch, gl->micro_batch * d);
	/* zero-bubble and DualPipe schedules: PyTorch's pipelining (torchtitan) runs ZBVZeroBubble
	 * and DualPipeV (torch/distributed/pipelining/schedules.py get_schedule_class, commit
	 * 00722e64), both with two stages per rank in a V (torchtitan b5bcd76c
	 * distributed/pipeline_parallel.py: "v" style for them); its InterleavedZeroBubble wants at
	 * least two stages per rank, so one-stage ZB-H1 is not it, and DualPipe's two directions
	 * are in deepseek-ai/DualPipe only.  Megatron-LM (d98e8a64 core/pipeline_parallel/
	 * schedules.py get_forward_backward_func) has no pipelining, 1F1B and interleaved 1F1B. */
	if (gl->schedule >= PP_SCHED_ZB_H1 && p > 1) {
		if (!(rules & PP_RULE_TT_SCHEDULES))
			return BROKEN("global.schedule", "gpipe, 1f1b or interleaved schedules",
				      "%s cannot run the %s schedule (it runs gpipe, 1f1b and interleaved "
				      "only)", fmt, pp_schedule_name(gl->schedule));
		if (gl->schedule == PP_SCHED_ZB_H1 || gl->schedule == PP_SCHED_DUALPIPE)
			return BROKEN("global.schedule", "ZBVZeroBubble or DualPipeV",
				      "%s runs zero-bubble and DualPipe schedules as ZBVZeroBubble and "
				      "DualPipeV (two chunks per rank), not %s", fmt,
				      pp_schedule_name(gl->schedule));
	}
	/* DeepSpeed edaa722 runtime/pipe/schedule.py (TrainSchedule, one stage per rank); Nanotron
	 * 2411b02 config/parallelism_config.py pp_engine "1f1b" or "afab" */
	if ((rules & PP_RULE_NO_INTERLEAVE) && (gl->schedule == PP_SCHED_INTERLEAVED || v > 1))
		return BROKEN("global.schedule", "no interleaved schedule",
			      "%s has no interleaved (virtual stage) pipeline schedule", fmt);
	/* Megatron core schedules.py get_forward_backward_func (1F1B or interleaved only);
	 * DeepSpeed runtime/pipe/schedule.py TrainSchedule (1F1B) */
	if ((rules & PP_RULE_NO_GPIPE) && p > 1 && gl->schedule == PP_SCHED_GPIPE)
		return BROKEN("global.schedule", "no GPipe schedule",
			      "%s runs 1F1B, not GPipe, with pipeline parallelism", fmt);
	/* formats with no per-stage layer count: DeepSpeed edaa722 runtime/pipe/module.py
	 * partition_method (what Megatron-DeepSpeed passes splits evenly), Nanotron's even split,
	 * NeMo 1.x's megatron_gpt_config (no first/last stage keys), torchtitan's
	 * layers-per-stage split (the first/last-stage-less-layers it writes are the defaults) */
	if ((rules & PP_RULE_NO_UNEVEN) && (gl->first_stage_layers || gl->last_stage_layers))
		return BROKEN("global.first_stage_layers", "even pipeline stages",
			      "%s cannot give the first or last stage a different layer count", fmt);
	/* layers: Megatron-LM d98e8a64 arguments.py validate_args ("Number of layers should be
	 * divisible by the pipeline-model-parallel size"; with virtual stages "divisible number of
	 * layers per virtual pipeline stage"), transformer_config.py for uneven first/last stages;
	 * micro-batches a multiple of p interleaved: megatron/core/pipeline_parallel/schedules.py
	 * (microbatch_group_size_per_vp_stage defaults to p; M must be at least it and leave no
	 * remainder below p) */
	if (rules & PP_RULE_LAYERS) {
		if (gl->schedule == PP_SCHED_INTERLEAVED) {
			if (p < 2)
				return BROKEN("global.p", "interleaving needs p > 1",
					      "the interleaved schedule needs pipeline parallelism");
			/* NeMo 1.x's Megatron-LM (megatron/training/arguments.py of its era asserted
			 * p > 2 with virtual stages, before the p2p-overlap exception of d98e8a64);
			 * current Megatron-LM requires it only without p2p overlap (emit_megatron.c) */
			if ((rules & PP_RULE_INTERLEAVE_P3) && p < 3)
				return BROKEN("global.p", "interleaving needs p > 2",
					      "Megatron core refuses the interleaved schedule with p = %lld "
					      "(pipeline-model-parallel size should be greater than 2)", p);
			if (gl->first_stage_layers || gl->last_stage_layers) {
				/* Megatron-Core: the decoder flags split each rank's layers evenly over its
				 * v chunks; the account-for flags count the embedding and loss as layers
				 * (pp_global_uneven_form) */
				const char *why = NULL;
				if (L > INT_MAX || pp_global_uneven_form((int)L, gl, &why) < 0)
					return BROKEN("global.first_stage_layers", "uneven stages a Megatron layout",
						      "first/last stage layers (%d, %d) with v = %lld over %lld "
						      "layers: %s", gl->first_stage_layers, gl->last_stage_layers, v,
						      L, why ? why : "too many layers");
			} else if (L % (p * v)) {
				return BROKEN("model_shape.layers", "layers divisible by p*v",
					      "%lld layers are not divisible by p*v = %lld", L, p * v);
			}
			if (m % p)
				return BROKEN("global.global_batch", "micro-batches a multiple of p",
					      "%d micro-batches are not a multiple of p = %lld "
					      "(interleaved schedule)", m, p);
		} else if (gl->first_stage_layers || gl->last_stage_layers) {
			long long inner = p - (gl->first_stage_layers > 0) - (gl->last_stage_layers > 0);
			long long rest = L - gl->first_stage_layers - gl->last_stage_layers;
			if (p < 2 || rest < 0 || (inner == 0 ? rest != 0 : (rest < inner || rest % inner)))
				return BROKEN("global.first_stage_layers", "layers divisible by p",
					      "the %lld layers left after the first/last stages are not "
					      "divisible by the %lld middle stages", rest, inner);
		} else if (L % p) {
			return BROKEN("model_shape.layers", "layers divisible by p",
				      "%lld layers are not divisible by p = %lld", L, p);
		}
	}
	if ((rules & PP_RULE_OVERLAPS) && gl->tp_comm_overlap && !gl->sequence_parallel)
		return BROKEN("global.tp_comm_overlap", "tp comm overlap needs sequence parallelism",
			      "%s overlaps tensor-parallel communication only with sequence parallelism", fmt);
	if ((rules & PP_RULE_OVERLAPS) && gl->overlap_param_gather &&
	    (!gl->distributed_optimizer || !gl->overlap_grad_reduce))
		return BROKEN("global.overlap_param_gather",
			      "param gather overlap needs the distributed optimizer and grad reduce overlap",
			      "%s overlaps the parameter all-gather only with the distributed optimizer and "
			      "the gradient reduce overlapped", fmt);
	/* precision: which launchers can run the plan's fp8 (docs/formats.md, "Launchers and fp8") */
	if ((rules & PP_RULE_NO_FP8) && gl->precision != PP_PREC_BF16)
		return BROKEN("global.precision", "bf16 only",
			      "%s trains in bf16 here: no fp8 (Transformer Engine) path in the config "
			      "it reads; emit megatron or torchtitan, or plan with --precision bf16", fmt);
	if ((rules & PP_RULE_NO_MXFP8) && gl->precision == PP_PREC_MXFP8)
		return BROKEN("global.precision", "no mxfp8",
			      "%s is emitted with float8 rowwise scaling only, not mxfp8", fmt);
	if ((rules & PP_RULE_NO_FP8_GATHER) && gl->fp8_param_gather)
		return BROKEN("global.fp8_param_gather", "no fp8 parameter gather",
			      "%s's rowwise float8 does all communication in high precision "
			      "(torchtitan float8.md)", fmt);
	/* Megatron core transformer_config.py __post_init__ (d98e8a64): heads a multiple of t,
	 * query groups a multiple or divisor of t */
	if ((rules & PP_RULE_HEADS) && sh->heads % t)
		return BROKEN("global.t", "heads divisible by t", "t = %lld does not divide %lld heads",
			      t, (long long)sh->heads);
	if ((rules & PP_RULE_GROUPS) && sh->kv_heads % t && t % sh->kv_heads)
		return BROKEN("global.t", "query groups a multiple or divisor of t",
			      "%lld query groups are neither a multiple nor a divisor of t = %lld",
			      (long long)sh->kv_heads, t);
	/* huggingface/nanotron 2411b02 src/nanotron/config/config.py ("num_key_value_heads must be
	 * >= tp") */
	if ((rules & PP_RULE_KV_AT_LEAST_T) && sh->kv_heads < t)
		return BROKEN("global.t", "kv heads at least t", "%lld kv heads are fewer than t = %lld",
			      (long long)sh->kv_heads, t);
	/* Megatron-LM d98e8a64 arguments.py turns sequence parallelism off with t = 1 (a warning):
	 * the file would not do what the plan says */
	if ((rules & PP_RULE_SP) && gl->sequence_parallel && t == 1)
		return BROKEN("global.sequence_parallel", "sequence parallel only with t > 1",
			      "sequence parallelism needs tensor parallelism (t = 1)");
	/* torchtitan 0.2 parallelize_llama (current torchtitan has enable_sequence_parallel) */
	if ((rules & PP_RULE_TP_NEEDS_SP) && t > 1 && !gl->sequence_parallel)
		return BROKEN("global.sequence_parallel", "tensor parallel is sequence parallel",
			      "%s always shards norms along the sequence with t > 1", fmt);
	/* torchtitan 0.2 build_pipeline_schedule (current torchtitan only warns) */
	if ((rules & PP_RULE_MB_PER_STAGE) && p > 1 && m < p * v)
		return BROKEN("global.global_batch", "micro-batches at least p*v",
			      "%d micro-batches for %lld pipeline stages", m, p * v);
	/* Megatron core transformer_config.py (d98e8a64): full recompute needs method uniform or
	 * block and 1 .. layers-per-chunk layers; selective takes neither */
	if (rules & PP_RULE_RECOMPUTE) {
		int n = opts ? opts->recompute_num_layers : 0;
		if (gl->recompute != PP_RECOMPUTE_FULL && n > 0)
			return BROKEN("global.recompute", "recompute flags",
				      "%s recompute takes no method or layer count (got %d layers)",
				      pp_recompute_name(gl->recompute), n);
		if (gl->recompute == PP_RECOMPUTE_FULL) {
			int k = pp_emit_recompute_layers(plan, opts), lo = pp_emit_min_chunk_layers(plan);
			if (k < 1 || k > lo)
				return BROKEN("global.recompute", "recompute flags",
					      "full recompute needs a method and 1 to %d layers per group "
					      "(got %d)", lo, k);
		}
	}
	/* nanotron 2411b02 parallelism_config.py: recompute_layer (whole layers) only */
	if ((rules & PP_RULE_NO_SELECTIVE) && gl->recompute == PP_RECOMPUTE_SELECTIVE)
		return BROKEN("global.recompute", "no selective recompute",
			      "%s recomputes whole layers (recompute_layer) or nothing", fmt);
	/* deepspeedai/DeepSpeed edaa722 deepspeed/runtime/pipe/engine.py ("ZeRO-2 and ZeRO-3 are
	 * incompatible with pipeline parallelism") */
	if ((rules & PP_RULE_ZERO) && p > 1 && pp_emit_zero_stage(plan, opts) >= 2)
		return BROKEN("global.p", "no ZeRO 2/3 with pipeline parallelism",
			      "DeepSpeed ZeRO stage %d cannot run with p = %lld",
			      pp_emit_zero_stage(plan, opts), p);
	/* context parallelism: where the format writes it (cp > 1 would otherwise change the
	 * launcher's data-parallel size silently); Megatron-LM d98e8a64 arguments.py: "seq-length
	 * should be a multiple of 2 * context-parallel-size" (load balancing splits it in 2*cp) */
	if ((rules & PP_RULE_NO_CP) && gl->cp > 1)
		return BROKEN("global.cp", "no context parallelism",
			      "parplan does not write context parallelism (cp = %d) for %s", gl->cp, fmt);
	if ((rules & PP_RULE_CP_P2P) && gl->cp > 1 && gl->cp_comm_type != PP_CP_P2P)
		return BROKEN("global.cp_comm_type", "ring context parallelism only",
			      "parplan writes %s's context parallelism with the ring (p2p) exchange only",
			      fmt);
	if ((rules & PP_RULE_CP_SEQ) && gl->cp > 1 && sh->seq % (2LL * gl->cp))
		return BROKEN("global.cp", "seq a multiple of 2*cp",
			      "sequence %lld is not a multiple of 2*cp = %d", (long long)sh->seq,
			      2 * gl->cp);
	/* nanotron 2411b02 src/nanotron/helpers.py init_optimizer_and_grad_accumulator: any
	 * zero_stage > 0 is ZeRO-1 (optimizer states sharded); 2 and 3 would silently be 1.  Also
	 * the Megatron-LM and NeMo 1.x formats, which write the distributed optimizer (ZeRO-1) and
	 * not Megatron FSDP */
	if ((rules & PP_RULE_ZERO1_ONLY) && pp_emit_zero_stage(plan, opts) > 1)
		return BROKEN("global.distributed_optimizer", "ZeRO stage 0 or 1",
			      "%s shards optimizer states only (ZeRO-1), not stage %d", fmt,
			      pp_emit_zero_stage(plan, opts));
	return 0;
}

const char *pp_emit_safe_name(char *buf, size_t n, const char *s)
{
	size_t i;
	for (i = 0; n > 0 && i + 1 < n && s[i]; i++) {
		buf[i] = pp_name_char_ok((unsigned char)s[i]) ? s[i] : '_';
	}
	if (n > 0)
		buf[i] = '\0';
	return buf;
}

void pp_emit_header(pp_sbuf *b, const char *what, const pp_plan *plan)
{
	const pp_global *gl = &plan->global;
	char model[sizeof(plan->model)], hw[sizeof(plan->hw)];
	pp_sb_printf(b, "# %s generated by parplan emit from a parplan-plan/1 plan\n", what);
	pp_sb_printf(b, "# model %s (%.4g B parameters) on %s: %d GPUs = t %d x p %d x d %d\n",
		     pp_emit_safe_name(model, sizeof(model), plan->model),
		     (double)plan->shape.params / 1e9, pp_emit_safe_name(hw, sizeof(hw), plan->hw),
		     plan->gpus, gl->t, gl->p, gl->d);
	pp_sb_printf(b, "# schedule %s, v %d, micro-batch %d, global batch %d, recompute %s%s%s\n",
		     pp_schedule_name(gl->schedule), gl->virtual_stages, gl->micro_batch,
		     gl->global_batch, pp_recompute_name(gl->recompute),
		     gl->sequence_parallel ? ", sequence parallel" : "",
		     gl->distributed_optimizer ? ", distributed optimizer" : "");
	if (plan->predicted.valid)
		pp_sb_printf(b, "# predicted: %.4g s per iteration, %.4g tokens/s, MFU %.1f%%, "
			     "peak %.1f of %.1f GiB per GPU\n",
			     plan->predicted.iteration_s, plan->predicted.tokens_per_s,
			     100 * plan->predicted.mfu, plan->predicted.peak_gib,
			     plan->predicted.capacity_gib);
}
