/* check_emit.c - emit formats: fixture plans, launcher rules, the pipeline schedule simulation,
 * ds_config parse-back with cJSON, writing several formats into a folder. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "emit_int.h"
#include "io_int.h"
#include "parplan/emit.h"
#include "parplan/io.h"

/* ---- fixture plans (tests/data/plans/, written by tests/data/plans/make-plans with
 * `parplan cost -o`) -------------------------------------------------------------------------
 * Three plans from the issue: gpt3-175b on 1024 A100s, interleaved with sequence parallelism
 * (Narayanan et al. 2021 Table 1: t 8, p 16, batch 1536); llama3-70b with GQA on DGX H100;
 * a p = 1 plan (llama3-8b, full recompute).  Their model shape and op entries must be what
 * pp_plan_init() makes of the graph today. */

static const struct {
	const char *name, *model;
} fixtures[] = {
	{"gpt3-175b-1024", "../models/gpt3-175b.json"},
	{"llama3-70b-h100", "../models/llama3-70b.json"},
	{"llama3-8b-p1", "../models/llama3-8b.json"},
};

START_TEST(test_fixture_plans_current)
{
	size_t i;
	int k;
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		pp_error err = PP_ERROR_INIT;
		pp_graph *g = NULL;
		pp_plan have, want;
		char path[256];
		snprintf(path, sizeof(path), "data/plans/%s.json", fixtures[i].name);
		ck_assert_msg(pp_plan_load(path, &have, &err) == 0, "%s: %s: %s", path, err.path,
			      err.msg);
		ck_assert_int_eq(pp_graph_load(fixtures[i].model, &g, &err), 0);
		ck_assert_int_eq(pp_global_validate(g, &have.global, have.gpus, &err), 0);
		ck_assert_int_eq(pp_plan_init(&want, g, "", have.hw, "", have.node_devices,
					      &have.global, NULL, &err), 0);
		ck_assert_mem_eq(&have.shape, &want.shape, sizeof(have.shape));
		ck_assert_int_eq(have.n_ops, want.n_ops);
		for (k = 0; k < have.n_ops; k++) {
			ck_assert_str_eq(have.op_names[k], want.op_names[k]);
			ck_assert_int_eq(have.op_cfg[k], want.op_cfg[k]);
			ck_assert_int_eq(have.op_stage[k], want.op_stage[k]);
			ck_assert_int_eq(have.op_class_layers[k], want.op_class_layers[k]);
		}
		ck_assert(have.predicted.valid && have.predicted.feasible);
		pp_plan_release(&have);
		pp_plan_release(&want);
		pp_graph_free(g);
	}
}
END_TEST

static pp_plan load_plan(const char *name)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan;
	char path[256];
	snprintf(path, sizeof(path), "data/plans/%s.json", name);
	ck_assert_msg(pp_plan_load(path, &plan, &err) == 0, "%s: %s: %s", err.file, err.path, err.msg);
	return plan;
}

/* ---- ds_config.json read back with cJSON: every number is the plan's ------------------- */

static void check_ds_config(const char *name, int dist_opt, int zero)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan = load_plan(name);
	plan.global.distributed_optimizer = dist_opt;
	char *text = NULL;
	cJSON *root, *z, *bf;
	ck_assert_int_eq(pp_emit(&plan, "deepspeed", NULL, &text, &err), 0);
	root = cJSON_Parse(text);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "train_batch_size")->valueint,
			 plan.global.global_batch);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "train_micro_batch_size_per_gpu")->valueint,
			 plan.global.micro_batch);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "gradient_accumulation_steps")->valueint,
			 plan.global.global_batch / (plan.global.micro_batch * plan.global.d));
	z = cJSON_GetObjectItem(root, "zero_optimization");
	ck_assert_int_eq(cJSON_GetObjectItem(z, "stage")->valueint, zero);
	bf = cJSON_GetObjectItem(root, "bf16");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(bf, "enabled")));
	cJSON_Delete(root);
	free(text);
	pp_plan_release(&plan);
}

START_TEST(test_deepspeed_config_numbers)
{
	check_ds_config("llama3-70b-h100", 1, 1); /* distributed optimizer -> ZeRO-1 */
	check_ds_config("llama3-8b-p1", 1, 1);
	check_ds_config("llama3-8b-p1", 0, 0);
}
END_TEST

/* ---- launcher rules: a plan that breaks each, refused naming the rule -------------------- */

static void expect_rule(const pp_plan *plan, const char *format, const pp_emit_opts *o,
			const char *rule, const char *path)
{
	pp_error err = PP_ERROR_INIT;
	char *text = NULL, want[128];
	ck_assert_int_eq(pp_emit(plan, format, o, &text, &err), PP_EINVALID);
	ck_assert_ptr_null(text);
	snprintf(want, sizeof(want), "%s: rule \"%s\"", format, rule);
	ck_assert_msg(strstr(err.msg, want), "%s: \"%s\" lacks \"%s\"", format, err.msg, want);
	ck_assert_msg(!strcmp(err.path, path), "%s: path %s, expected %s", rule, err.path, path);
}

/* an option @format does not use: refused naming its flag, nothing written */
static void expect_unused(const pp_plan *plan, const char *format, const pp_emit_opts *o,
			  const char *flag)
{
	pp_error err = PP_ERROR_INIT;
	char *text = NULL, want[128];
	ck_assert_int_eq(pp_emit(plan, format, o, &text, &err), PP_EINVALID);
	ck_assert_ptr_null(text);
	snprintf(want, sizeof(want), "%s: format %s does not use it", flag, format);
	ck_assert_msg(strstr(err.msg, want), "%s: \"%s\" lacks \"%s\"", format, err.msg, want);
	ck_assert_int_eq(pp_emit_check_opts(format, o, &err), PP_EINVALID);
}

static void expect_ok(const pp_plan *plan, const char *format, const pp_emit_opts *o)
{
	pp_error err = PP_ERROR_INIT;
	char *text = NULL;
	ck_assert_msg(pp_emit(plan, format, o, &text, &err) == 0, "%s: %s", format, err.msg);
	free(text);
}

START_TEST(test_launcher_rules)
{
	static const char *const launchers[] = {"megatron", "megatron-deepspeed", "megatron-bridge",
						"deepspeed", "torchtitan", "torchtitan-toml", "nemo1",
						"nanotron"};
	pp_plan base = load_plan("llama3-70b-h100"), p;
	pp_emit_opts o = PP_EMIT_OPTS_INIT;
	size_t i;

	for (i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++) {
		const char *f = launchers[i];
		if (!strcmp(f, "nanotron")) { /* the base plan recomputes selectively */
			p = base, p.global.recompute = PP_RECOMPUTE_FULL;
			expect_ok(&p, f, NULL);
			expect_rule(&base, f, NULL, "no selective recompute", "global.recompute");
		} else {
			expect_ok(&base, f, NULL);
		}
		p = base, p.gpus = 96;
		expect_rule(&p, f, NULL, "world size = t*p*d", "gpus");
		p = base, p.global.global_batch = 510;
		expect_rule(&p, f, NULL, "global batch divisible by micro-batch*d", "global.global_batch");
		p = base, p.shape.layers = 78;
		expect_rule(&p, f, NULL, "layers divisible by p", "model_shape.layers");
		p = base, p.shape.heads = 60, p.shape.kv_heads = 60;
		expect_rule(&p, f, NULL, "heads divisible by t", "global.t");
		p = base, p.shape.kv_heads = 4, p.global.t = 8;
		if (!strcmp(f, "nanotron")) /* 4 divides 8: Megatron takes it, Nanotron does not */
			expect_rule(&p, f, NULL, "kv heads at least t", "global.t");
		else if (!strncmp(f, "torchtitan", 10)) /* no such llama3 flavor */
			expect_rule(&p, f, NULL, "registered model flavor", "model_shape");
		else
			expect_ok(&p, f, NULL);
		p = base, p.shape.heads = 96, p.shape.kv_heads = 12, p.global.t = 8;
		expect_rule(&p, f, NULL, "query groups a multiple or divisor of t", "global.t");
		p = base, p.global.t = 1, p.global.d = 32;
		expect_rule(&p, f, NULL, "sequence parallel only with t > 1", "global.sequence_parallel");
		p = base, o = (pp_emit_opts)PP_EMIT_OPTS_INIT, o.recompute_num_layers = 2;
		if (pp_emit_find(f)->takes & PP_EMIT_TAKES_RECOMPUTE) {
			expect_rule(&p, f, &o, "recompute flags", "global.recompute");
			p = base, p.global.recompute = PP_RECOMPUTE_FULL, o.recompute_num_layers = 21;
			expect_rule(&p, f, &o, "recompute flags", "global.recompute");
			o.recompute_num_layers = 20;
			expect_ok(&p, f, &o);
		} else { /* torchtitan, Nanotron: whole layers; DeepSpeed's JSON has no layers */
			p.global.recompute = PP_RECOMPUTE_FULL;
			expect_unused(&p, f, &o, "--recompute-num-layers");
		}
		p = base, o = (pp_emit_opts)PP_EMIT_OPTS_INIT, o.zero_stage = 2;
		if (strstr(f, "deepspeed"))
			expect_rule(&p, f, &o, "no ZeRO 2/3 with pipeline parallelism", "global.p");
		else if (!strcmp(f, "nanotron")) { /* ZeRO-1 only (helpers.py) */
			p.global.recompute = PP_RECOMPUTE_FULL;
			expect_rule(&p, f, &o, "ZeRO stage 0 or 1", "global.distributed_optimizer");
		} else {
			expect_unused(&p, f, &o, "--zero-stage");
		}
		p = base, p.node_devices = 6, p.gpus = 128;
		expect_rule(&p, f, NULL, "whole nodes", "gpus");
	}
	/* interleaving: layers by p*v, micro-batches a multiple of p */
	p = base, p.global.schedule = PP_SCHED_INTERLEAVED, p.global.virtual_stages = 3;
	expect_rule(&p, "megatron", NULL, "layers divisible by p*v", "model_shape.layers");
	p.global.virtual_stages = 2, p.global.global_batch = 4 * 1 * 6;
	expect_rule(&p, "megatron", NULL, "micro-batches a multiple of p", "global.global_batch");
	p.global.global_batch = 512;
	expect_ok(&p, "megatron", NULL);
	expect_ok(&p, "megatron-bridge", NULL);
	expect_ok(&p, "nemo1", NULL);
	expect_ok(&p, "torchtitan", NULL);
	expect_rule(&p, "megatron-deepspeed", NULL, "no interleaved schedule", "global.schedule");
	expect_rule(&p, "nanotron", NULL, "no interleaved schedule", "global.schedule");
	/* interleaving with one chunk per stage is not interleaving, in any launcher */
	p.global.virtual_stages = 1;
	for (i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++)
		expect_rule(&p, launchers[i], NULL, "interleaving needs v > 1", "global.virtual_stages");
	p.global.virtual_stages = 2;
	/* torchtitan: v = 2 is its Interleaved1F1B default; v = 4 on p = 4 (16 stages of 80
	 * layers) has no layers-per-stage k with ceil(82 / k) = 16 */
	p.global.virtual_stages = 4;
	expect_rule(&p, "torchtitan", NULL, "stages from layers per stage", "global.virtual_stages");
	expect_ok(&p, "megatron", NULL);
	p.global.virtual_stages = 2;
	/* interleaving with p = 2: NeMo 1.x's Megatron core refuses it; current Megatron-LM takes
	 * it (p2p overlap is on by default) and so does Megatron-Bridge */
	p.global.p = 2, p.global.d = 8;
	expect_ok(&p, "megatron", NULL);
	expect_ok(&p, "megatron-bridge", NULL);
	expect_rule(&p, "nemo1", NULL, "interleaving needs p > 2", "global.p");
	expect_ok(&p, "torchtitan", NULL);
	p.global.p = 1, p.global.d = 16;
	expect_rule(&p, "megatron", NULL, "interleaving needs p > 1", "global.p");
	p.global.micro_batch = 0;
	{
		pp_error err = PP_ERROR_INIT;
		char *text = NULL;
		ck_assert_int_eq(pp_emit(&p, "megatron", NULL, &text, &err), PP_EINVALID);
		ck_assert_ptr_null(text);
	}
	/* uneven stages: Megatron has flags for them, the others split evenly */
	p = base, p.global.first_stage_layers = 18, p.global.last_stage_layers = 20;
	expect_ok(&p, "megatron", NULL);
	expect_rule(&p, "nemo1", NULL, "even pipeline stages", "global.first_stage_layers");
	p.global.first_stage_layers = 19;
	expect_rule(&p, "megatron", NULL, "layers divisible by p", "global.first_stage_layers");
	/* GPipe: Megatron runs 1F1B; Nanotron's afab and torchtitan's GPipe are GPipe */
	p = base, p.global.schedule = PP_SCHED_GPIPE;
	expect_rule(&p, "megatron", NULL, "no GPipe schedule", "global.schedule");
	expect_ok(&p, "torchtitan", NULL);
	p.global.recompute = PP_RECOMPUTE_FULL;
	expect_ok(&p, "nanotron", NULL);
	/* zero-bubble and DualPipe: torchtitan runs ZB-V and DualPipeV by name (two stages per
	 * rank, its multi-stage default: no layers-per-stage key); ZB-H1 and the two-direction
	 * DualPipe it has not; Megatron-LM, NeMo, DeepSpeed, Nanotron run none of them */
	{
		static const pp_schedule zs[] = {PP_SCHED_ZB_V, PP_SCHED_DUALPIPEV, PP_SCHED_ZB_H1,
						 PP_SCHED_DUALPIPE};
		static const char *const names[] = {"ZBVZeroBubble", "DualPipeV"};
		static const char *const others[] = {"megatron", "megatron-deepspeed", "deepspeed",
						     "nemo1", "nanotron", "torchtitan-toml"};
		int k, j;
		for (k = 0; k < 4; k++) {
			pp_error err = PP_ERROR_INIT;
			char *text = NULL;
			p = base, p.global.schedule = zs[k];
			p.global.recompute = PP_RECOMPUTE_FULL;
			if (k < 2) {
				ck_assert_msg(pp_emit(&p, "torchtitan", NULL, &text, &err) == 0, "%s", err.msg);
				ck_assert_ptr_nonnull(strstr(text, names[k]));
				ck_assert_ptr_null(strstr(text, "layers_per_stage"));
				free(text);
			} else {
				expect_rule(&p, "torchtitan", NULL, "ZBVZeroBubble or DualPipeV", "global.schedule");
			}
			for (j = 0; j < 6; j++)
				expect_rule(&p, others[j], NULL, "gpipe, 1f1b or interleaved schedules",
					    "global.schedule");
		}
	}
	/* torchtitan: Llama flavors only, TP always sequence parallel, m >= p*v */
	p = base, p.shape.family_llama = 0;
	expect_rule(&p, "torchtitan", NULL, "llama models only", "model_shape.family");
	expect_rule(&p, "nanotron", NULL, "llama models only", "model_shape.family");
	p = base, p.global.sequence_parallel = 0;
	expect_rule(&p, "torchtitan-toml", NULL, "tensor parallel is sequence parallel",
		    "global.sequence_parallel");
	expect_ok(&p, "torchtitan", NULL); /* enable_sequence_parallel = False */
	p = base, p.global.global_batch = 12;
	expect_rule(&p, "torchtitan-toml", NULL, "micro-batches at least p*v",
		    "global.global_batch");
	expect_ok(&p, "torchtitan", NULL); /* current torchtitan only warns */
	p = base, p.shape.hidden = 4096;
	expect_rule(&p, "torchtitan", NULL, "registered model flavor", "model_shape");
	/* Nanotron recomputes whole layers or nothing */
	p = base, p.global.recompute = PP_RECOMPUTE_SELECTIVE;
	expect_rule(&p, "nanotron", NULL, "no selective recompute", "global.recompute");
	p.global.recompute = PP_RECOMPUTE_FULL;
	expect_ok(&p, "nanotron", NULL);
	/* a p = 1 plan may use ZeRO-3 */
	p = load_plan("llama3-8b-p1"), o = (pp_emit_opts)PP_EMIT_OPTS_INIT, o.zero_stage = 3;
	expect_ok(&p, "deepspeed", &o);
	pp_plan_release(&p);
	pp_plan_release(&base);
}
END_TEST

/* ---- pipeline schedules ------------------------------------------------------------------ */

static double makespan(const pp_global *gl, double f, double b, pp_pipe_slot **slots, int *n)
{
	pp_error err = PP_ERROR_INIT;
	double end = 0;
	int i;
	ck_assert_msg(pp_pipe_simulate(gl, f, b, slots, n, &err) == 0, "%s", err.msg);
	for (i = 0; i < *n; i++)
		end = fmax(end, (*slots)[i].end_s);
	return end;
}

START_TEST(test_pipeline_schedules)
{
	pp_global gl = PP_GLOBAL_INIT;
	pp_pipe_slot *s = NULL;
	int n, i, fw = 0;
	double f = 1.0, b = 2.0;

	/* 1F1B and GPipe: (m + p - 1)(t_f + t_b) (DESIGN.md section 4) */
	gl.p = 4, gl.d = 1, gl.global_batch = 8;
	ck_assert_double_eq_tol(makespan(&gl, f, b, &s, &n), (8 + 3) * 3.0, 1e-9);
	ck_assert_int_eq(n, 2 * 8 * 4);
	/* stage 0 of 1F1B: p - 1 = 3 warm-up forwards, then alternate */
	for (i = 0; i < n && s[i].stage == 0 && !s[i].backward; i++)
		fw++;
	ck_assert_int_eq(fw, 4); /* 3 warm-up + the first steady forward */
	ck_assert_int_eq(s[4].backward, 1);
	ck_assert_int_eq(s[5].backward, 0);
	free(s);
	gl.schedule = PP_SCHED_GPIPE;
	ck_assert_double_eq_tol(makespan(&gl, f, b, &s, &n), (8 + 3) * 3.0, 1e-9);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(s[i].backward, 0);
	free(s);
	/* interleaved, v chunks: bubble (p - 1)/v of a micro-batch (Narayanan et al. 2021) */
	gl.schedule = PP_SCHED_INTERLEAVED, gl.virtual_stages = 2;
	ck_assert_double_eq_tol(makespan(&gl, f, b, &s, &n), 8 * 3.0 + 3 * 3.0 / 2, 1e-9);
	ck_assert_int_eq(n, 2 * 8 * 4 * 2);
	free(s);
	gl.virtual_stages = 3;
	ck_assert_double_eq_tol(makespan(&gl, f, b, &s, &n), 8 * 3.0 + 3 * 3.0 / 3, 1e-9);
	free(s);
	/* m not a multiple of p cannot be interleaved */
	{
		pp_error err = PP_ERROR_INIT;
		gl.global_batch = 6;
		ck_assert_int_eq(pp_pipe_simulate(&gl, f, b, &s, &n, &err), PP_EINVALID);
	}
	/* p = 1: no bubble */
	gl = (pp_global)PP_GLOBAL_INIT, gl.global_batch = 5;
	ck_assert_double_eq_tol(makespan(&gl, f, b, &s, &n), 5 * 3.0, 1e-9);
	free(s);
}
END_TEST

/* ---- several formats into a folder -------------------------------------------------------- */

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) /* staged files count too */
			n++;
	closedir(d);
	return n;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

START_TEST(test_emit_to_dir)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan = load_plan("gpt3-175b-1024");
	char tmp[] = "/tmp/check_emit_XXXXXX", dir[256], path[512], *text = NULL, *direct = NULL;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/out/a", tmp);
	ck_assert_msg(pp_emit_to_dir(&plan, "megatron,nemo1,report,svg,plan,megatron", dir, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(count_files(dir), 5);
	snprintf(path, sizeof(path), "%s/megatron.sh", dir);
	ck_assert_int_eq(pp_read_file(path, &text, NULL, &err), 0);
	ck_assert_int_eq(pp_emit(&plan, "megatron", NULL, &direct, &err), 0);
	ck_assert_str_eq(text, direct);
	free(text);
	free(direct);
	snprintf(path, sizeof(path), "%s/timeline.svg", dir);
	ck_assert_int_eq(access(path, R_OK), 0);
	rm_dir(dir);

	/* an unknown format or a broken rule (nanotron: no interleaving) writes nothing */
	snprintf(dir, sizeof(dir), "%s/b", tmp);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron,bogus", dir, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown format \"bogus\""));
	ck_assert_int_eq(count_files(dir), -1);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron,nanotron", dir, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "nanotron: rule"));
	ck_assert_int_eq(count_files(dir), -1);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron,,svg", dir, &err), PP_EINVALID);
	ck_assert_int_eq(count_files(dir), -1);
	/* the execution stub's input is one more format */
	ck_assert_int_eq(pp_emit_to_dir(&plan, "exec", dir, &err), 0);
	ck_assert_int_eq(count_files(dir), 1);
	rm_dir(dir);
	snprintf(dir, sizeof(dir), "%s/out", tmp);
	rmdir(dir);
	rmdir(tmp);
	pp_plan_release(&plan);
}
END_TEST

/* A plan made in code (not loaded) may carry any name: every emitter writes it only through
 * pp_emit_safe_name(), so no newline ends a comment line and no quote ends a quoted value. */
START_TEST(test_hostile_names)
{
	static const char *const formats[] = {"megatron", "megatron-deepspeed", "deepspeed",
					      "megatron-bridge", "torchtitan", "torchtitan-toml",
					      "nemo1", "nanotron", "report", "svg"};
	pp_plan plan = load_plan("llama3-8b-p1");
	size_t i;
	char safe[16];

	snprintf(plan.model, sizeof(plan.model), "x\ntouch /tmp/PWNED\n#\"'\\");
	snprintf(plan.hw, sizeof(plan.hw), "h\"w\n$(id)");
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		pp_error err = PP_ERROR_INIT;
		char *text = NULL;
		ck_assert_msg(pp_emit(&plan, formats[i], NULL, &text, &err) == 0, "%s: %s", formats[i],
			      err.msg);
		ck_assert_msg(!strstr(text, "\ntouch") && !strstr(text, "PWNED\n") &&
				      !strstr(text, "$(id)") && !strstr(text, "\"'"),
			      "%s carries the raw name", formats[i]);
		if (strcmp(formats[i], "deepspeed") && strcmp(formats[i], "svg"))
			ck_assert_msg(strstr(text, "x_touch__tmp_PWNED_____"), "%s: no safe name",
				      formats[i]);
		free(text);
	}
	ck_assert_str_eq(pp_emit_safe_name(safe, sizeof(safe), "a b\"c.d+e-f_g"), "a_b_c.d+e-f_g");
	ck_assert_str_eq(pp_emit_safe_name(safe, 4, "abcdef"), "abc");
	pp_plan_release(&plan);
}
END_TEST

/* pp_emit_to_dir writes all or nothing: a target it cannot write (here a folder in the way of
 * the second file) leaves neither a new first file nor a changed old one, nor staged files */
START_TEST(test_emit_to_dir_all_or_nothing)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan = load_plan("llama3-8b-p1");
	char tmp[] = "/tmp/check_emit_XXXXXX", path[512], *text = NULL;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/nemo.yaml", tmp);
	ck_assert_int_eq(mkdir(path, 0777), 0);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron,nemo1,report", tmp, &err), PP_EIO);
	ck_assert_ptr_nonnull(strstr(err.file, "nemo.yaml"));
	ck_assert_int_eq(count_files(tmp), 1); /* the folder only */
	/* an old megatron.sh stays as it was */
	snprintf(path, sizeof(path), "%s/megatron.sh", tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "old\n", 4), 4);
	close(fd);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron,nemo1", tmp, &err), PP_EIO);
	ck_assert_int_eq(pp_read_file(path, &text, NULL, &err), 0);
	ck_assert_str_eq(text, "old\n");
	free(text);
	ck_assert_int_eq(count_files(tmp), 2);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nemo.yaml", tmp);
	rmdir(path);
	/* with the way clear, all of them */
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron,nemo1,report", tmp, &err), 0);
	ck_assert_int_eq(count_files(tmp), 3);
	rm_dir(tmp);
	pp_plan_release(&plan);
}
END_TEST

/* the SVG needs predicted times; the report says when there are none */
START_TEST(test_unpredicted_plan)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan = load_plan("llama3-8b-p1");
	char *text = NULL;
	plan.predicted.valid = 0;
	ck_assert_int_eq(pp_emit(&plan, "svg", NULL, &text, &err), PP_EINVALID);
	ck_assert_str_eq(err.path, "predicted");
	ck_assert_int_eq(pp_emit(&plan, "report", NULL, &text, &err), 0);
	ck_assert_ptr_nonnull(strstr(text, "predicted: none in this plan"));
	free(text);
	pp_plan_release(&plan);
}
END_TEST

/* ---- fault injection: renames that fail (pp_io_rename, io_int.h) ------------------------- */

static int rename_calls, rename_fail[2];

/* rename(2), except that of the renames onto an output file's own name (megatron.sh, ...: not
 * temporary files), numbers rename_fail[0] and rename_fail[1] fail with EBUSY, as renaming
 * over a file that is a mount point does; rename_calls counts them */
static int failing_rename(const char *from, const char *to)
{
	const char *base = strrchr(to, '/') ? strrchr(to, '/') + 1 : to;
	const pp_emit_format *f;
	int n, i, onto_output = 0;
	for (f = pp_emit_formats(&n), i = 0; i < n; i++)
		onto_output |= !strcmp(base, f[i].file);
	if (onto_output) {
		rename_calls++;
		if (rename_calls == rename_fail[0] || rename_calls == rename_fail[1]) {
			errno = EBUSY;
			return -1;
		}
	}
	return rename(from, to);
}

static void put_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	int fd;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* @dir/@name holds @text (NULL: anything but "old...") with permissions @mode */
static void expect_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	pp_error err = PP_ERROR_INIT;
	char path[512], *got = NULL;
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(stat(path, &st) == 0, "%s is missing", path);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %o, expected %o", path,
		      (unsigned)(st.st_mode & 07777), (unsigned)mode);
	ck_assert_int_eq(pp_read_file(path, &got, NULL, &err), 0);
	if (text)
		ck_assert_str_eq(got, text);
	else
		ck_assert_msg(strncmp(got, "old", 3), "%s was not rewritten", path);
	free(got);
}

static int run_failing(const pp_plan *plan, const char *formats, const char *dir, int fail0,
		       int fail1, pp_error *err)
{
	int rc;
	rename_calls = 0;
	rename_fail[0] = fail0;
	rename_fail[1] = fail1;
	pp_io_rename = failing_rename;
	rc = pp_emit_to_dir(plan, formats, dir, err);
	pp_io_rename = rename;
	return rc;
}

/* --out-dir is all or nothing also when a rename fails midway: the files renamed before it are
 * rolled back (old contents and modes), a file that did not exist is removed again, and neither
 * staged files nor backups are left */
START_TEST(test_emit_to_dir_rename_fails)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan = load_plan("llama3-8b-p1");
	char tmp[] = "/tmp/check_emit_XXXXXX", path[512], back[512], *text = NULL;
	mode_t old_umask = umask(027);
	int k;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	put_file(tmp, "megatron.sh", "old script\n", 0700);
	put_file(tmp, "report.txt", "old report\n", 0604);
	/* the first, the second (a new file) or the last of three renames fails */
	for (k = 1; k <= 3; k++) {
		ck_assert_int_eq(run_failing(&plan, "megatron,nemo1,report", tmp, k, 0, &err), PP_EIO);
		ck_assert_int_ge(rename_calls, k);
		ck_assert_msg(strstr(err.msg, strerror(EBUSY)), "%s", err.msg);
		ck_assert_ptr_nonnull(strstr(err.msg, "left as they were"));
		ck_assert_int_eq(count_files(tmp), 2); /* no nemo.yaml, no staged files, no backups */
		expect_file(tmp, "megatron.sh", "old script\n", 0700);
		expect_file(tmp, "report.txt", "old report\n", 0604);
	}
	/* the same through pp_write_atomic: the target as it was, no temporary file */
	rename_calls = 0, rename_fail[0] = 1, rename_fail[1] = 0;
	pp_io_rename = failing_rename;
	snprintf(path, sizeof(path), "%s/report.txt", tmp);
	ck_assert_int_eq(pp_write_atomic(path, "new\n", 4, &err), PP_EIO);
	pp_io_rename = rename;
	ck_assert_str_eq(err.file, path);
	ck_assert_int_eq(count_files(tmp), 2);
	expect_file(tmp, "report.txt", "old report\n", 0604);

	/* a roll-back that fails in turn says where the old file is, and keeps it there */
	ck_assert_int_eq(run_failing(&plan, "megatron,nemo1,report", tmp, 2, 3, &err), PP_EIO);
	ck_assert_ptr_nonnull(strstr(err.file, "megatron.sh"));
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot restore"));
	text = strstr(err.msg, "the old file is ");
	ck_assert_ptr_nonnull(text);
	snprintf(path, sizeof(path), "%s", text + strlen("the old file is "));
	ck_assert_int_gt(strlen(path), 0);
	path[strlen(path) - 1] = '\0'; /* ")" */
	ck_assert_int_eq(count_files(tmp), 3); /* the new megatron.sh, the backup, report.txt */
	ck_assert_int_eq(pp_read_file(path, &text, NULL, &err), 0);
	ck_assert_str_eq(text, "old script\n");
	free(text);
	snprintf(back, sizeof(back), "%s/megatron.sh", tmp);
	ck_assert_int_eq(rename(path, back), 0);

	/* with renames that work: every file new, the old ones' modes kept, a new one 0666 less
	 * the umask, a new script 0777 less the umask */
	ck_assert_int_eq(run_failing(&plan, "megatron,nemo1,report", tmp, 0, 0, &err), 0);
	ck_assert_int_eq(rename_calls, 3);
	ck_assert_int_eq(count_files(tmp), 3);
	expect_file(tmp, "megatron.sh", NULL, 0700);
	expect_file(tmp, "report.txt", NULL, 0604);
	expect_file(tmp, "nemo.yaml", NULL, 0640);
	snprintf(path, sizeof(path), "%s/new", tmp);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "megatron-deepspeed,deepspeed", path, &err), 0);
	expect_file(path, "megatron_deepspeed.sh", NULL, 0750);
	expect_file(path, "ds_config.json", NULL, 0640);
	rm_dir(path);
	rm_dir(tmp);
	umask(old_umask);
	pp_plan_release(&plan);
}
END_TEST

/* In an output folder too, a symbolic link is written through (the link stays) and a loop is
 * refused before anything is written */
START_TEST(test_emit_to_dir_links)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan = load_plan("llama3-8b-p1");
	char tmp[] = "/tmp/check_emit_XXXXXX", path[512], link[512];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	put_file(tmp, "real-report", "old report\n", 0600);
	snprintf(link, sizeof(link), "%s/report.txt", tmp);
	ck_assert_int_eq(symlink("real-report", link), 0);
	snprintf(path, sizeof(path), "%s/megatron.sh", tmp);
	ck_assert_int_eq(symlink("megatron.sh", path), 0); /* a loop */
	ck_assert_int_eq(pp_emit_to_dir(&plan, "report,megatron", tmp, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, path);
	ck_assert_ptr_nonnull(strstr(err.msg, "loop"));
	ck_assert_int_eq(count_files(tmp), 3);
	expect_file(tmp, "real-report", "old report\n", 0600);
	unlink(path);
	ck_assert_int_eq(pp_emit_to_dir(&plan, "report,megatron", tmp, &err), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	expect_file(tmp, "real-report", NULL, 0600);
	ck_assert_int_eq(count_files(tmp), 3);
	rm_dir(tmp);
	pp_plan_release(&plan);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("emit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fixture_plans_current);
	tcase_add_test(tc, test_deepspeed_config_numbers);
	tcase_add_test(tc, test_launcher_rules);
	tcase_add_test(tc, test_pipeline_schedules);
	tcase_add_test(tc, test_emit_to_dir);
	tcase_add_test(tc, test_unpredicted_plan);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_test(tc, test_emit_to_dir_all_or_nothing);
	tcase_add_test(tc, test_emit_to_dir_rename_fails);
	tcase_add_test(tc, test_emit_to_dir_links);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
