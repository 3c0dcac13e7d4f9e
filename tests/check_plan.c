/* check_plan.c - plans: init, parplan-plan/1 writing and strict reading, per-op configs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parplan/graph.h"
#include "parplan/io.h"
#include "parplan/name.h"
#include "parplan/strategy.h"

static pp_graph *load(const char *path)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	int rc = pp_graph_load(path, &g, &err);
	ck_assert_msg(rc == 0, "%s: %s: %s", err.file, err.path, err.msg);
	return g;
}

static void fill_predicted(pp_plan *plan)
{
	pp_predicted *p = &plan->predicted;
	p->valid = 1;
	p->feasible = 1;
	p->iteration_s = 12.345678901234567;
	p->tokens_per_s = 254876.5;
	p->model_tflops_per_gpu = 163.2;
	p->hardware_tflops_per_gpu = 171.9;
	p->mfu = 0.523;
	p->hfu = 0.551;
	p->compute_s = 9.5;
	p->tp_comm_s = 1.25;
	p->pp_comm_s = 0.1;
	p->bubble_s = 0.9;
	p->dp_comm_s = 0.4;
	p->optimizer_s = 0.195678901234567;
	p->weights_gib = 2.5;
	p->grads_gib = 2.5;
	p->optimizer_gib = 1.875;
	p->activations_gib = 40.25;
	p->peak_gib = 47.125;
	p->capacity_gib = 80;
	plan->search.valid = 1;
	snprintf(plan->search.method, sizeof(plan->search.method), "exhaustive");
	plan->search.seed = 42;
	plan->search.states = 1234;
	plan->search.seconds = 0.75;
	plan->search.optimal = 1;
}

static void init_plan(pp_plan *plan, const pp_graph *g, const char *mpath, const pp_global *gl,
		      const uint8_t *cfg)
{
	pp_error err = PP_ERROR_INIT;
	int rc = pp_plan_init(plan, g, mpath, "dgx-a100-80g", "../hwprofiles/dgx-a100-80g.json", 8,
			      gl, cfg, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
}

static char *round_trip(const pp_plan *plan, pp_plan *back)
{
	pp_error err = PP_ERROR_INIT;
	char *a = pp_plan_to_json(plan), *b;
	int rc;
	ck_assert_ptr_nonnull(a);
	rc = pp_plan_parse("mem.json", a, back, &err);
	ck_assert_msg(rc == 0, "%s: %s: %s\n%s", err.file, err.path, err.msg, a);
	b = pp_plan_to_json(back);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(b);
	return a;
}

/* gpt3-175b on 1024 GPUs, interleaved with v = 2, sequence parallel: bytes survive a round trip,
 * the layer class is written once, stages are the 32 model chunks of 3 layers */
START_TEST(test_round_trip_gpt3)
{
	pp_graph *g = load("../models/gpt3-175b.json");
	pp_global gl = PP_GLOBAL_INIT;
	pp_plan plan, back;
	char *text;
	uint8_t *a, *b;
	int i;

	gl.t = 8, gl.p = 16, gl.d = 8, gl.global_batch = 1536, gl.virtual_stages = 2;
	gl.schedule = PP_SCHED_INTERLEAVED, gl.recompute = PP_RECOMPUTE_SELECTIVE;
	gl.sequence_parallel = 1, gl.distributed_optimizer = 1;
	init_plan(&plan, g, "../models/gpt3-175b.json", &gl, NULL);
	fill_predicted(&plan);
	ck_assert_int_eq(plan.gpus, 1024);
	ck_assert_int_eq(plan.shape.layers, 96);
	ck_assert_int_eq(plan.shape.family_llama, 0);
	ck_assert_int_eq(plan.shape.tied_embeddings, 1);
	ck_assert_int_eq(plan.n_ops, g->n_pre + g->classes[0].ops_per_layer + g->n_post);
	text = round_trip(&plan, &back);
	ck_assert_ptr_nonnull(strstr(text, "\"class_layers\":\t96"));
	ck_assert_ptr_nonnull(strstr(text, "\"name\":\t\"l0.attn.qkv\",\n\t\t\t\"config\":\t\"column\",\n"
					   "\t\t\t\"sample\":\t8,\n\t\t\t\"attribute\":\t1,\n"
					   "\t\t\t\"parameter\":\t8,\n\t\t\t\"split\":\t\"column\""));
	ck_assert_ptr_null(strstr(text, "\"l1.attn.qkv\""));
	ck_assert_ptr_nonnull(strstr(text, "\"first_layer\":\t93,\n\t\t\t\"layers\":\t3,\n"
					   "\t\t\t\"embedding\":\tfalse,\n\t\t\t\"head\":\ttrue"));
	ck_assert_ptr_nonnull(strstr(text, "\"iteration_s\":\t12.345678901234567"));
	ck_assert_double_eq(back.predicted.optimizer_s, plan.predicted.optimizer_s);
	ck_assert_int_eq(back.search.seed, 42);
	ck_assert_str_eq(back.model_path, "../models/gpt3-175b.json");

	/* the configs map back onto every op of every layer */
	a = malloc((size_t)g->n_ops);
	b = malloc((size_t)g->n_ops);
	pp_strategy_megatron(g, &gl, a);
	memset(b, 0xff, (size_t)g->n_ops);
	{
		pp_error err = PP_ERROR_INIT;
		ck_assert_int_eq(pp_plan_configs(&back, g, b, &err), 0);
	}
	for (i = 0; i < g->n_ops; i++)
		ck_assert_int_eq(a[i], b[i]);
	free(a);
	free(b);
	free(text);
	pp_plan_release(&plan);
	pp_plan_release(&back);
	pp_graph_free(g);
}
END_TEST

/* a per-op strategy where one layer departs from its class: the departing ops get their own
 * entries, and the configs come back exactly; uneven first/last stages on llama3-70b */
START_TEST(test_configs_round_trip_with_overrides)
{
	pp_graph *g = load("../models/llama3-70b.json");
	pp_global gl = PP_GLOBAL_INIT;
	pp_error err = PP_ERROR_INIT;
	pp_plan plan, back;
	uint8_t *cfg, *got;
	char *text;
	int i, l5 = -1, l5b = -1, changed = 0;

	gl.t = 8, gl.p = 4, gl.d = 2, gl.global_batch = 64, gl.micro_batch = 1;
	gl.first_stage_layers = 18, gl.last_stage_layers = 20; /* 18 + 21 + 21 + 20 = 80 */
	gl.recompute = PP_RECOMPUTE_FULL;
	cfg = malloc((size_t)g->n_ops);
	got = malloc((size_t)g->n_ops);
	pp_strategy_megatron(g, &gl, cfg);
	for (i = 0; i < g->n_ops; i++) {
		if (g->ops[i].layer == 5 && g->ops[i].type == PP_OP_MATMUL && !changed) {
			cfg[i] = PP_CFG_SAMPLE, l5 = i, changed = 1;
		} else if (g->ops[i].layer == 57 && g->ops[i].type == PP_OP_ATTENTION) {
			cfg[i] = PP_CFG_REPLICATE, l5b = i;
		}
	}
	ck_assert(l5 >= 0 && l5b >= 0);
	init_plan(&plan, g, "", &gl, cfg);
	ck_assert_int_eq(plan.n_ops, g->n_pre + g->classes[0].ops_per_layer + 2 + g->n_post);
	ck_assert_int_eq(plan.shape.family_llama, 1);
	ck_assert_int_eq(plan.shape.kv_heads, 8);
	text = round_trip(&plan, &back);
	/* stages 18/21/21/20; layer 57 is on rank 2 (layers 39..59) */
	ck_assert_ptr_nonnull(strstr(text, "\"first_layer\":\t18,\n\t\t\t\"layers\":\t21"));
	ck_assert_ptr_nonnull(strstr(text, "\"first_layer\":\t60,\n\t\t\t\"layers\":\t20"));
	ck_assert_ptr_nonnull(strstr(text, "\"first_stage_layers\":\t18"));
	ck_assert_ptr_null(strstr(text, "model_path"));
	ck_assert_int_eq(back.op_stage[g->n_pre + g->classes[0].ops_per_layer + 1], 2);
	ck_assert_int_eq(back.op_class_layers[g->n_pre + g->classes[0].ops_per_layer + 1], 0);
	ck_assert_int_eq(pp_plan_configs(&back, g, got, &err), 0);
	ck_assert_mem_eq(got, cfg, (size_t)g->n_ops);
	free(text);
	free(cfg);
	free(got);
	pp_plan_release(&plan);
	pp_plan_release(&back);
	pp_graph_free(g);
}
END_TEST

/* the committed fixture is what the code writes for tiny-gpt (the bad plans derive from it) */
START_TEST(test_fixture_and_save)
{
	pp_graph *g = load("data/tiny-gpt.json");
	pp_global gl = PP_GLOBAL_INIT;
	pp_error err = PP_ERROR_INIT;
	pp_plan plan, back;
	char *text, *file = NULL, tmp[] = "/tmp/check_plan_XXXXXX";
	int fd;

	gl.t = 2, gl.p = 2, gl.d = 2, gl.global_batch = 16, gl.micro_batch = 2;
	gl.sequence_parallel = 1, gl.recompute = PP_RECOMPUTE_SELECTIVE;
	init_plan(&plan, g, "data/tiny-gpt.json", &gl, NULL);
	fill_predicted(&plan);
	text = pp_plan_to_json(&plan);
	if (getenv("PP_UPDATE_FIXTURES"))
		ck_assert_int_eq(pp_write_atomic("data/plan-tiny-gpt.json", text, strlen(text), &err), 0);
	ck_assert_int_eq(pp_read_file("data/plan-tiny-gpt.json", &file, NULL, &err), 0);
	ck_assert_str_eq(text, file);

	fd = mkstemp(tmp);
	ck_assert(fd >= 0);
	close(fd);
	ck_assert_int_eq(pp_plan_save(&plan, tmp, &err), 0);
	ck_assert_int_eq(pp_plan_load(tmp, &back, &err), 0);
	unlink(tmp);
	ck_assert_int_eq(back.global.micro_batch, 2);
	ck_assert_int_eq(back.node_devices, 8);
	ck_assert_str_eq(back.hw, "dgx-a100-80g");
	free(text);
	free(file);
	pp_plan_release(&plan);
	pp_plan_release(&back);
	pp_graph_free(g);
}
END_TEST

static void expect_reject(const char *file, const char *path, const char *msg_part)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan;
	char full[256];
	snprintf(full, sizeof(full), "data/bad-plans/%s", file);
	ck_assert_msg(pp_plan_load(full, &plan, &err) == PP_EINVALID, "%s loaded", file);
	ck_assert_str_eq(err.file, full);
	ck_assert_msg(!strcmp(err.path, path), "%s: path \"%s\", expected \"%s\" (%s)", file,
		      err.path, path, err.msg);
	ck_assert_msg(strstr(err.msg, msg_part), "%s: message \"%s\" lacks \"%s\"", file, err.msg,
		      msg_part);
	ck_assert_int_eq(plan.n_ops, 0);
}

START_TEST(test_rejections_name_file_and_path)
{
	expect_reject("wrong-format.json", "format", "parplan-plan/1");
	expect_reject("unknown-top-field.json", "extra", "unknown field");
	expect_reject("unknown-global-field.json", "global.pipeline", "unknown field");
	expect_reject("unknown-op-field.json", "ops[3].layer", "unknown field");
	expect_reject("missing-global.json", "(root)", "missing field \"global\"");
	expect_reject("missing-t.json", "global", "missing field \"t\"");
	expect_reject("zero-t.json", "global.t", "out of range");
	expect_reject("fractional-d.json", "global.d", "expected an integer");
	expect_reject("bad-schedule.json", "global.schedule", "unknown value");
	expect_reject("bad-recompute.json", "global.recompute", "unknown value");
	expect_reject("sp-not-bool.json", "global.sequence_parallel", "expected true or false");
	expect_reject("virtual-without-interleave.json", "global.virtual_stages", "interleaved");
	expect_reject("bad-family.json", "model_shape.family", "unknown value");
	expect_reject("kv-heads-not-dividing.json", "model_shape.kv_heads", "do not divide");
	expect_reject("stage-gap.json", "stages[1].first_layer", "expected 1");
	expect_reject("stage-count.json", "stages", "expected p*v = 2");
	expect_reject("stages-short.json", "stages[1].layers", "out of range");
	expect_reject("head-on-first.json", "stages[0].head", "last stage");
	expect_reject("bad-config.json", "ops[0].config", "unknown value");
	expect_reject("degree-mismatch.json", "ops[3].parameter", "does not match config column");
	expect_reject("split-mismatch.json", "ops[3].split", "does not match");
	expect_reject("stage-out-of-range.json", "ops[2].stage", "out of range");
	expect_reject("duplicate-op.json", "ops[17].name", "listed twice");
	expect_reject("bad-predicted.json", "predicted.mfu", "out of range");
	expect_reject("bad-search-method.json", "search.method", "unknown method");
	expect_reject("duplicate-key.json", "gpus", "given twice");
	expect_reject("truncated.json", "", "unexpected end");
	expect_reject("not-object.json", "(root)", "expected an object");
	expect_reject("nul-byte.json", "", "NUL byte");
	/* names end up in launcher comments and quoted strings */
	expect_reject("model-newline.json", "model", "not allowed in a name");
	expect_reject("hw-quote.json", "hw", "not allowed in a name");
}
END_TEST

/* entries that do not fit the graph: unknown name, class count, class on a non-layer op */
START_TEST(test_configs_rejections)
{
	pp_graph *g = load("data/tiny-gpt.json");
	pp_error err = PP_ERROR_INIT;
	pp_plan plan;
	uint8_t cfg[256];
	char *text = NULL, *p;

	ck_assert_int_lt(g->n_ops, 256);
	ck_assert_int_eq(pp_read_file("data/plan-tiny-gpt.json", &text, NULL, &err), 0);
	ck_assert_int_eq(pp_plan_parse("x.json", text, &plan, &err), 0);
	ck_assert_int_eq(pp_plan_configs(&plan, g, cfg, &err), 0);
	free(plan.op_names[2]);
	plan.op_names[2] = strdup("l0.no.such.op");
	ck_assert_int_eq(pp_plan_configs(&plan, g, cfg, &err), PP_EINVALID);
	ck_assert_str_eq(err.path, "ops[2]");
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown op \"l0.no.such.op\""));
	pp_plan_release(&plan);

	p = strstr(text, "\"class_layers\":\t2");
	ck_assert_ptr_nonnull(p);
	p[strlen("\"class_layers\":\t")] = '1'; /* tiny-gpt has 2 layers in its class */
	ck_assert_int_eq(pp_plan_parse("x.json", text, &plan, &err), 0);
	ck_assert_int_eq(pp_plan_configs(&plan, g, cfg, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "class has 2 layers"));
	pp_plan_release(&plan);
	free(text);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_missing_file)
{
	pp_error err = PP_ERROR_INIT;
	pp_plan plan;
	ck_assert_int_eq(pp_plan_load("data/no-such-plan.json", &plan, &err), PP_ENOTFOUND);
	ck_assert_str_eq(err.file, "data/no-such-plan.json");
	pp_plan_release(&plan); /* released and zeroed plans may be released again */
}
END_TEST

/* Names are checked where a model or a plan is made, by the loader's one rule (name.h), so that
 * what `parplan model` and `cost -o` accept, the plan loader and `emit` accept too */
START_TEST(test_names_checked_where_made)
{
	static const char *const bad[] = {"x\ny", "a\"b", "a'b", "a b", "$(id)", "a#b", "a\\b", ""};
	pp_model_spec s = PP_MODEL_SPEC_INIT;
	pp_graph *g = load("data/tiny-gpt.json");
	pp_global gl = PP_GLOBAL_INIT;
	pp_error err = PP_ERROR_INIT;
	pp_plan plan, back;
	char *text = NULL, *own = g->name, long_name[PP_NAME_MAX + 1];
	char newline[] = "tiny\ngpt", allowed[] = "Tiny.gpt_2+x-9";
	size_t i;

	/* the rule */
	ck_assert_int_eq(pp_name_check("gpt3-175b_v1.2+x", NULL, NULL, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pp_name_check(bad[i], "f.json", "name", &err) == PP_EINVALID,
			      "\"%s\" passes", bad[i]);
	ck_assert_str_eq(err.file, "f.json");
	ck_assert_str_eq(err.path, "name");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[PP_NAME_MAX - 1] = '\0'; /* the longest a plan holds */
	ck_assert_int_eq(pp_name_check(long_name, NULL, NULL, &err), 0);
	long_name[PP_NAME_MAX - 1] = 'a';
	long_name[PP_NAME_MAX] = '\0';
	ck_assert_int_eq(pp_name_check(long_name, NULL, NULL, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than 127"));

	/* parplan model --name */
	s.family = PP_MODEL_GPT, s.layers = 2, s.hidden = 64, s.heads = 4, s.seq = 32, s.vocab = 100;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]) - 1; i++) {
		s.name = bad[i];
		ck_assert_msg(pp_model_generate(&s, &text, &err) == PP_EINVALID, "\"%s\" made", bad[i]);
		ck_assert_ptr_null(text);
		ck_assert_str_eq(err.path, "--name");
		ck_assert_ptr_nonnull(strstr(err.msg, "not allowed in a name"));
	}

	/* a plan made of a graph or a hardware profile with a bad name: refused, naming its file */
	gl.t = 2, gl.p = 2, gl.d = 2, gl.global_batch = 16, gl.micro_batch = 2;
	g->name = newline;
	ck_assert_int_eq(pp_plan_init(&plan, g, "data/tiny-gpt.json", "dgx-a100-80g", "hw.json", 8,
				      &gl, NULL, &err),
			 PP_EINVALID);
	ck_assert_str_eq(err.file, "data/tiny-gpt.json");
	ck_assert_str_eq(err.path, "name");
	ck_assert_ptr_nonnull(strstr(err.msg, "character 10 at offset 4"));
	ck_assert_int_eq(plan.n_ops, 0);
	g->name = long_name;
	ck_assert_int_eq(pp_plan_init(&plan, g, "data/tiny-gpt.json", "dgx-a100-80g", "hw.json", 8,
				      &gl, NULL, &err),
			 PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	g->name = own;
	ck_assert_int_eq(pp_plan_init(&plan, g, "data/tiny-gpt.json", "dgx \"a100\"", "hw.json", 8,
				      &gl, NULL, &err),
			 PP_EINVALID);
	ck_assert_str_eq(err.file, "hw.json");
	ck_assert_str_eq(err.path, "name");

	/* every character the rule allows survives a round trip through the loader */
	g->name = allowed;
	ck_assert_int_eq(pp_plan_init(&plan, g, "data/tiny-gpt.json", "h.w_1+x-y", "hw.json", 8, &gl,
				      NULL, &err),
			 0);
	g->name = own;
	free(round_trip(&plan, &back));
	ck_assert_str_eq(back.model, "Tiny.gpt_2+x-9");
	pp_plan_release(&back);
	pp_plan_release(&plan);
	pp_graph_free(g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip_gpt3);
	tcase_add_test(tc, test_configs_round_trip_with_overrides);
	tcase_add_test(tc, test_fixture_and_save);
	tcase_add_test(tc, test_rejections_name_file_and_path);
	tcase_add_test(tc, test_configs_rejections);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_names_checked_where_made);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
