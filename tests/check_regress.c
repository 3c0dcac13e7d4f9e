/* check_regress.c - parplan-regress/1: number printing, canonical form, evaluation against the
 * cost model, tolerances, --update, JUnit escaping and error paths.  Runs from tests/. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/pcg.h"
#include "parplan/regress.h"
#include "sbuf_int.h"

/* Case files parsed under this name resolve paths against data/. */
#define NAME "data/regress-check.json"

static pp_regress_file *parse_ok(const char *text)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = NULL;
	int rc = pp_regress_parse(NAME, text, &f, &err);
	ck_assert_msg(rc == 0, "parse failed: %s: %s: %s", err.file, err.path, err.msg);
	return f;
}

static void parse_bad(const char *text, const char *path, const char *msg_part)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = NULL;
	ck_assert_int_eq(pp_regress_parse(NAME, text, &f, &err), PP_EINVALID);
	ck_assert_ptr_null(f);
	ck_assert_str_eq(err.file, NAME);
	ck_assert_msg(strcmp(err.path, path) == 0, "path \"%s\", want \"%s\" (%s)", err.path, path,
		      err.msg);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message \"%s\" lacks \"%s\"", err.msg,
		      msg_part);
}

static pp_regress_expect *find(pp_regress_file *f, int c, const char *field)
{
	int k;
	for (k = 0; k < f->cases[c].n_expect; k++)
		if (strcmp(f->cases[c].expect[k].field, field) == 0)
			return &f->cases[c].expect[k];
	ck_abort_msg("no expectation %s", field);
	return NULL;
}

START_TEST(test_number_shortest_round_trip)
{
	static const struct {
		double v;
		const char *s;
	} want[] = {{0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"}, {2.0 / 3, "0.6666666666666666"}, {0.1 + 0.2, "0.30000000000000004"}, {2, "2"}, {-0.0, "-0"},
		    {1e300, "1e+300"}, {5e-324, "5e-324"}, {2.2250738585072014e-308, "2.2250738585072014e-308"}, {0.43, "0.43"},
		    {123456789012345678.0, "1.2345678901234568e+17"}};
	char buf[40];
	pp_pcg32 r;
	size_t i;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(pp_regress_format_number(want[i].v, buf, sizeof(buf)), want[i].s);
	pp_pcg32_seed(&r, 17u, 3u);
	for (i = 0; i < 20000; i++) {
		uint64_t bits = ((uint64_t)pp_pcg32_next(&r) << 32) | pp_pcg32_next(&r);
		double v, back;
		char shorter[400];
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		pp_regress_format_number(v, buf, sizeof(buf));
		back = strtod(buf, NULL);
		ck_assert_msg(memcmp(&back, &v, sizeof(v)) == 0, "%s does not read back", buf);
		/* and it is the shortest: no fewer significant digits read back */
		{
			int prec;
			for (prec = 1; prec <= 17; prec++) {
				snprintf(shorter, sizeof(shorter), "%.*g", prec, v);
				if (strtod(shorter, NULL) == v)
					break;
			}
			ck_assert_str_eq(buf, shorter);
		}
	}
}
END_TEST

/* A file already in canonical form prints back byte for byte. */
START_TEST(test_canonical_is_fixed_point)
{
	static const char text[] =
		"{\n"
		"  \"format\": \"parplan-regress/1\",\n"
		"  \"note\": \"a \\\"quoted\\\" note\\twith a tab\",\n"
		"  \"cases\": [\n"
		"    {\n"
		"      \"name\": \"inline <&>\",\n"
		"      \"note\": \"all plan keys\",\n"
		"      \"model\": \"tiny-gpt.json\",\n"
		"      \"hw\": \"../../hwprofiles/dgx-a100-80g.json\",\n"
		"      \"plan\": {\"t\": 2, \"p\": 2, \"d\": 1, \"micro_batch\": 1, \"global_batch\": 4, "
		"\"virtual_stages\": 1, \"schedule\": \"gpipe\", \"recompute\": \"selective\", "
		"\"sequence_parallel\": true, \"distributed_optimizer\": false, \"overlap_grad_reduce\": true, "
		"\"gpus\": 4},\n"
		"      \"expect\": {\n"
		"        \"feasible\": {\"value\": true},\n"
		"        \"mfu\": {\"value\": 0.3333333333333333, \"tol\": 0},\n"
		"        \"time.bubble_s\": {\"value\": null},\n"
		"        \"memory.peak_gib\": {\"value\": 1.5e-05, \"tol\": 0.05}\n"
		"      }\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"from a plan file\",\n"
		"      \"model\": \"tiny-gpt.json\",\n"
		"      \"hw\": \"/abs/hw.json\",\n"
		"      \"plan_file\": \"plans/p.json\",\n"
		"      \"expect\": {\n"
		"        \"iteration_s\": {\"value\": 2}\n"
		"      }\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"search\",\n"
		"      \"model\": \"tiny-gpt.json\",\n"
		"      \"hw\": \"h.json\",\n"
		"      \"search\": {\"gpus\": 8, \"global_batch\": 16, \"method\": \"mcmc\", \"seed\": 7, \"time_limit_s\": 2.5},\n"
		"      \"expect\": {\n"
		"        \"mfu\": {\"value\": 0.5},\n"
		"        \"search\": {\"t\": 2, \"p\": 1, \"d\": 4, \"micro_batch\": 1, \"virtual_stages\": 1, "
		"\"schedule\": \"1f1b\", \"recompute\": \"none\", \"sequence_parallel\": false, "
		"\"distributed_optimizer\": true}\n"
		"      }\n"
		"    }\n"
		"  ]\n"
		"}\n";
	pp_regress_file *f = parse_ok(text);
	char *out = pp_regress_to_json(f);
	ck_assert_str_eq(out, text);
	ck_assert_str_eq(f->cases[0].model_path, "data/tiny-gpt.json");
	ck_assert_str_eq(f->cases[0].hw_path, "data/../../hwprofiles/dgx-a100-80g.json");
	ck_assert_str_eq(f->cases[1].hw_path, "/abs/hw.json");
	ck_assert_str_eq(f->cases[1].plan_file_path, "data/plans/p.json");
	ck_assert_int_eq(f->cases[0].global.schedule, PP_SCHED_GPIPE);
	ck_assert_int_eq(f->cases[0].global.recompute, PP_RECOMPUTE_SELECTIVE);
	ck_assert_int_eq(f->cases[0].gpus, 4);
	ck_assert_int_eq(f->cases[2].search.gpus, 8);
	ck_assert(find(f, 0, "memory.peak_gib")->tol == 0.05);
	ck_assert(find(f, 0, "feasible")->tol == PP_REGRESS_DEFAULT_TOL);
	ck_assert_int_eq(find(f, 0, "time.bubble_s")->has_value, 0);
	ck_assert_int_eq(f->cases[2].n_expect, 10);
	free(out);
	pp_regress_free(f);
}
END_TEST

START_TEST(test_any_layout_becomes_canonical)
{
	/* keys out of order, other spacing, a partial search expectation, numbers as written */
	static const char text[] =
		"{\"cases\":[{\"expect\":{\"memory.peak_gib\":{\"tol\":0.02,\"value\":1.50},"
		"\"feasible\":{\"value\":false},\"search\":{\"schedule\":\"interleaved\",\"t\":4}},"
		"\"search\":{\"global_batch\":64,\"gpus\":16},\"hw\":\"h.json\",\"model\":\"m.json\","
		"\"name\":\"s\"}],\"format\":\"parplan-regress/1\"}";
	static const char want[] =
		"{\n"
		"  \"format\": \"parplan-regress/1\",\n"
		"  \"cases\": [\n"
		"    {\n"
		"      \"name\": \"s\",\n"
		"      \"model\": \"m.json\",\n"
		"      \"hw\": \"h.json\",\n"
		"      \"search\": {\"gpus\": 16, \"global_batch\": 64, \"method\": \"exhaustive\"},\n"
		"      \"expect\": {\n"
		"        \"feasible\": {\"value\": false},\n"
		"        \"memory.peak_gib\": {\"value\": 1.5, \"tol\": 0.02},\n"
		"        \"search\": {\"t\": 4, \"p\": null, \"d\": null, \"micro_batch\": null, "
		"\"virtual_stages\": null, \"schedule\": \"interleaved\", \"recompute\": null, "
		"\"sequence_parallel\": null, \"distributed_optimizer\": null}\n"
		"      }\n"
		"    }\n"
		"  ]\n"
		"}\n";
	pp_regress_file *f = parse_ok(text), *g;
	char *a = pp_regress_to_json(f), *b;
	ck_assert_str_eq(a, want);
	g = parse_ok(a);
	b = pp_regress_to_json(g);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	pp_regress_free(f);
	pp_regress_free(g);
}
END_TEST

/* tiny-gpt on a DGX A100 80GB, through the real cost model. */
static const char tiny[] =
	"{\"format\": \"parplan-regress/1\", \"cases\": ["
	"{\"name\": \"a <\\\"&'\\u0001\", \"model\": \"tiny-gpt.json\", "
	"\"hw\": \"../../hwprofiles/dgx-a100-80g.json\","
	" \"plan\": {\"t\": 2, \"p\": 2, \"d\": 2, \"micro_batch\": 1, \"global_batch\": 8,"
	" \"recompute\": \"selective\", \"sequence_parallel\": true},"
	" \"expect\": {\"feasible\": {\"value\": null}, \"iteration_s\": {\"value\": null},"
	" \"mfu\": {\"value\": null, \"tol\": 0}, \"memory.peak_gib\": {\"value\": null},"
	" \"time.compute_s\": {\"value\": null}}},"
	"{\"name\": \"b\", \"model\": \"tiny-llama.json\", "
	"\"hw\": \"../../hwprofiles/dgx-h100.json\","
	" \"plan\": {\"t\": 2, \"p\": 1, \"d\": 4, \"global_batch\": 16, \"distributed_optimizer\": true},"
	" \"expect\": {\"tokens_per_s\": {\"value\": null}, \"memory.weights_gib\": {\"value\": null}}}"
	"]}";

START_TEST(test_evaluate_update_and_drift)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = parse_ok(tiny);
	pp_regress_expect *mfu, *it;
	int fails, n, k;
	char *text;

	ck_assert_msg(pp_regress_run(f, &err) == 0, "%s: %s: %s", err.file, err.path, err.msg);
	n = pp_regress_count(f, &fails);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(fails, 7); /* all unset */
	for (k = 0; k < f->cases[0].n_expect; k++) {
		ck_assert_int_eq(f->cases[0].expect[k].verdict, PP_REGRESS_UNSET);
		ck_assert(f->cases[0].expect[k].evaluated);
	}
	mfu = find(f, 0, "mfu");
	ck_assert(mfu->got > 0 && mfu->got < 1);
	ck_assert(find(f, 0, "iteration_s")->got > 0);
	ck_assert(find(f, 1, "tokens_per_s")->got > 0);
	ck_assert_int_eq(pp_regress_update(f), 7);
	ck_assert_int_eq(pp_regress_update(f), 0);

	/* printed, read back and run again: everything passes, mfu with tolerance 0 included */
	text = pp_regress_to_json(f);
	pp_regress_free(f);
	f = parse_ok(text);
	free(text);
	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	pp_regress_count(f, &fails);
	ck_assert_int_eq(fails, 0);
	mfu = find(f, 0, "mfu");
	ck_assert(mfu->tol == 0 && mfu->value == mfu->got);

	/* one ulp off with tolerance 0 drifts; within a default 1% tolerance passes */
	mfu->value = nextafter(mfu->value, 1.0);
	it = find(f, 0, "iteration_s");
	it->value *= 1.005;
	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	ck_assert_int_eq(mfu->verdict, PP_REGRESS_DRIFT);
	ck_assert_int_eq(it->verdict, PP_REGRESS_PASS);
	ck_assert(fabs(it->drift - (1 / 1.005 - 1)) < 1e-12);

	/* 10% off drifts, with the drift measured against the expected value */
	it->value = it->got * 1.1;
	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	ck_assert_int_eq(it->verdict, PP_REGRESS_DRIFT);
	ck_assert(fabs(it->drift + 1.0 / 11) < 1e-12);
	pp_regress_count(f, &fails);
	ck_assert_int_eq(fails, 2);

	/* a flipped bool drifts; an expected 0 only matches 0 */
	find(f, 0, "feasible")->value = !find(f, 0, "feasible")->got;
	find(f, 1, "memory.weights_gib")->value = 0;
	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	ck_assert_int_eq(find(f, 0, "feasible")->verdict, PP_REGRESS_DRIFT);
	ck_assert_int_eq(find(f, 1, "memory.weights_gib")->verdict, PP_REGRESS_DRIFT);
	ck_assert(isinf(find(f, 1, "memory.weights_gib")->drift));
	ck_assert_int_eq(pp_regress_update(f), 4);
	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	pp_regress_count(f, &fails);
	ck_assert_int_eq(fails, 0);
	pp_regress_free(f);
}
END_TEST

START_TEST(test_junit_and_json_reports)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = parse_ok(tiny);
	pp_regress_expect *it;
	char *x, *j, *fail, want[256], ex[40], got[40];

	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	pp_regress_update(f);
	it = find(f, 0, "iteration_s");
	it->value = it->got * 1.1;
	ck_assert_int_eq(pp_regress_run(f, &err), 0);
	x = pp_regress_junit(&f, 1);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(strstr(x, "<testsuites name=\"parplan regress\" tests=\"7\" failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"" NAME "\" tests=\"7\" failures=\"1\""));
	/* markup escaped, the control character replaced */
	ck_assert_ptr_nonnull(strstr(x, "classname=\"a &lt;&quot;&amp;&apos;?\" name=\"iteration_s\""));
	ck_assert_ptr_null(strchr(x, '\001'));
	pp_regress_expect_text(it, 0, ex, sizeof(ex));
	pp_regress_expect_text(it, 1, got, sizeof(got));
	snprintf(want, sizeof(want), "<failure type=\"drift\" message=\"expected %s got %s drift -9.091%%\"",
		 ex, got);
	fail = strstr(x, "<failure");
	ck_assert_ptr_nonnull(fail);
	ck_assert_msg(strncmp(fail, want, strlen(want)) == 0, "%.200s", fail);
	ck_assert_ptr_null(strstr(fail + 1, "<failure"));
	/* passing testcases are empty elements */
	ck_assert_ptr_nonnull(strstr(x, "name=\"mfu\" file=\"" NAME "\"/>"));
	free(x);

	j = pp_regress_results_json(&f, 1);
	ck_assert_ptr_nonnull(strstr(j, "\"tests\": 7,\n  \"failures\": 1,"));
	ck_assert_ptr_nonnull(strstr(j, "\"field\": \"iteration_s\""));
	ck_assert_ptr_nonnull(strstr(j, "\"verdict\": \"drift\""));
	ck_assert_ptr_nonnull(strstr(j, "\"case\": \"a <\\\"&'\\u0001\""));
	free(j);
	pp_regress_free(f);
}
END_TEST

START_TEST(test_missing_and_bad_referenced_files)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = parse_ok(
		"{\"format\": \"parplan-regress/1\", \"cases\": [{\"name\": \"x\", "
		"\"model\": \"tiny-gpt.json\", \"hw\": \"../../hwprofiles/dgx-a100-80g.json\", "
		"\"plan\": {\"t\": 1, \"p\": 1, \"d\": 1, \"global_batch\": 1}, "
		"\"expect\": {\"mfu\": {\"value\": 1}}}, {\"name\": \"y\", "
		"\"model\": \"no-such-model.json\", \"hw\": \"../../hwprofiles/dgx-a100-80g.json\", "
		"\"plan\": {\"t\": 1, \"p\": 1, \"d\": 1, \"global_batch\": 1}, "
		"\"expect\": {\"mfu\": {\"value\": 1}}}]}");
	ck_assert_int_eq(pp_regress_run(f, &err), PP_ENOTFOUND);
	ck_assert_str_eq(err.file, NAME);
	ck_assert_str_eq(err.path, "cases[1].model");
	ck_assert_ptr_nonnull(strstr(err.msg, "data/no-such-model.json"));
	pp_regress_free(f);

	/* a malformed graph keeps the graph's own file name; the case is named in the message */
	f = parse_ok("{\"format\": \"parplan-regress/1\", \"cases\": [{\"name\": \"z\", "
		     "\"model\": \"bad/graph-cycle.json\", \"hw\": \"../../hwprofiles/dgx-a100-80g.json\", "
		     "\"plan\": {\"t\": 1, \"p\": 1, \"d\": 1, \"global_batch\": 1}, "
		     "\"expect\": {\"mfu\": {\"value\": 1}}}]}");
	ck_assert_int_eq(pp_regress_run(f, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "data/bad/graph-cycle.json");
	ck_assert_ptr_nonnull(strstr(err.msg, "case \"z\" in " NAME));
	pp_regress_free(f);

	/* a plan that breaks a rule */
	f = parse_ok("{\"format\": \"parplan-regress/1\", \"cases\": [{\"name\": \"z\", "
		     "\"model\": \"tiny-gpt.json\", \"hw\": \"../../hwprofiles/dgx-a100-80g.json\", "
		     "\"plan\": {\"t\": 3, \"p\": 1, \"d\": 1, \"global_batch\": 1}, "
		     "\"expect\": {\"mfu\": {\"value\": 1}}}]}");
	ck_assert_int_eq(pp_regress_run(f, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, NAME);
	ck_assert_str_eq(err.path, "cases[0].plan");
	ck_assert_ptr_nonnull(strstr(err.msg, "t=3"));
	pp_regress_free(f);
}
END_TEST

/* A plan file and the same global settings inline give the same numbers, bit for bit (the
 * committed plan holds Megatron's configs); a plan for another model is bad input. */
START_TEST(test_plan_file_matches_inline)
{
	static const char text[] =
		"{\"format\": \"parplan-regress/1\", \"cases\": ["
		"{\"name\": \"file\", \"model\": \"../../models/llama3-70b.json\", "
		"\"hw\": \"../../hwprofiles/dgx-h100.json\", \"plan_file\": \"plans/llama3-70b-full.json\", "
		"\"expect\": {\"mfu\": {\"value\": null}, \"memory.peak_gib\": {\"value\": null}}},"
		"{\"name\": \"inline\", \"model\": \"../../models/llama3-70b.json\", "
		"\"hw\": \"../../hwprofiles/dgx-h100.json\", \"plan\": {\"t\": 8, \"p\": 4, \"d\": 4, "
		"\"global_batch\": 256, \"recompute\": \"full\", \"sequence_parallel\": true}, "
		"\"expect\": {\"mfu\": {\"value\": null}, \"memory.peak_gib\": {\"value\": null}}}]}";
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = NULL;
	ck_assert_int_eq(pp_regress_parse("regress/plan-check.json", text, &f, &err), 0);
	ck_assert_msg(pp_regress_run(f, &err) == 0, "%s: %s: %s", err.file, err.path, err.msg);
	ck_assert(find(f, 0, "mfu")->got > 0.2 && find(f, 0, "mfu")->got < 0.7);
	ck_assert(find(f, 0, "mfu")->got == find(f, 1, "mfu")->got);
	ck_assert(find(f, 0, "memory.peak_gib")->got == find(f, 1, "memory.peak_gib")->got);
	pp_regress_free(f);

	/* the same plan against another model */
	ck_assert_int_eq(pp_regress_parse("regress/plan-check.json",
		"{\"format\": \"parplan-regress/1\", \"cases\": ["
		"{\"name\": \"file\", \"model\": \"../../models/llama2-70b.json\", "
		"\"hw\": \"../../hwprofiles/dgx-h100.json\", \"plan_file\": \"plans/llama3-70b-full.json\", "
		"\"expect\": {\"mfu\": {\"value\": null}}}]}", &f, &err), 0);
	ck_assert_int_eq(pp_regress_run(f, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "regress/plan-check.json");
	ck_assert_str_eq(err.path, "cases[0].plan_file");
	ck_assert_ptr_nonnull(strstr(err.msg, "llama3-70b"));
	pp_regress_free(f);

	/* a plan file that is not there */
	ck_assert_int_eq(pp_regress_parse("regress/plan-check.json",
		"{\"format\": \"parplan-regress/1\", \"cases\": ["
		"{\"name\": \"file\", \"model\": \"../../models/llama3-70b.json\", "
		"\"hw\": \"../../hwprofiles/dgx-h100.json\", \"plan_file\": \"plans/none.json\", "
		"\"expect\": {\"mfu\": {\"value\": null}}}]}", &f, &err), 0);
	ck_assert_int_eq(pp_regress_run(f, &err), PP_ENOTFOUND);
	ck_assert_str_eq(err.path, "cases[0].plan_file");
	ck_assert_ptr_nonnull(strstr(err.msg, "regress/plans/none.json"));
	pp_regress_free(f);
}
END_TEST

#define HEAD "{\"format\": \"parplan-regress/1\", \"cases\": [{\"name\": \"a\", \"model\": \"m\", \"hw\": \"h\", "
#define PLAN "\"plan\": {\"t\": 1, \"p\": 1, \"d\": 1, \"global_batch\": 1}"

START_TEST(test_parse_errors_name_the_path)
{
	pp_error err = PP_ERROR_INIT;
	pp_regress_file *f = NULL;
	parse_bad("{\"format\": \"parplan-regress/9\", \"cases\": []}", "format", "parplan-regress/1");
	parse_bad("{\"format\": \"parplan-regress/1\", \"cases\": []}", "cases", "no cases");
	parse_bad(HEAD PLAN ", \"expect\": {\"mfu\": {\"value\": 1, \"tol\": 1.5}}}]}",
		  "cases[0].expect.mfu.tol", "out of range");
	parse_bad(HEAD PLAN ", \"expect\": {\"mfu\": {\"value\": true}}}]}",
		  "cases[0].expect.mfu.value", "expected a number or null");
	parse_bad(HEAD PLAN ", \"expect\": {\"hbm\": {\"value\": 1}}}]}", "cases[0].expect.hbm",
		  "unknown field");
	parse_bad(HEAD PLAN ", \"expect\": {\"mfu\": {\"value\": 1}, \"mfu\": {\"value\": 2}}}]}",
		  "cases[0].expect.mfu", "twice");
	parse_bad(HEAD PLAN ", \"search\": {\"gpus\": 1, \"global_batch\": 1}, \"expect\": {}}]}",
		  "cases[0]", "exactly one");
	parse_bad(HEAD "\"plan\": {\"t\": 1, \"p\": 1, \"d\": 1, \"global_batch\": 1, "
		  "\"recompute\": \"most\"}, \"expect\": {\"mfu\": {\"value\": 1}}}]}",
		  "cases[0].plan.recompute", "unknown recompute");
	parse_bad(HEAD "\"plan\": {\"t\": 1, \"p\": 1, \"d\": 1, \"global_batch\": 1, "
		  "\"micro_batch\": 0}, \"expect\": {\"mfu\": {\"value\": 1}}}]}",
		  "cases[0].plan.micro_batch", "out of range");
	/* text with a NUL byte is refused by the file loader; plain parse of broken JSON fails */
	ck_assert_int_eq(pp_regress_parse(NAME, "{\"format\": ", &f, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, NAME);
	ck_assert_int_eq(pp_regress_load("data/no-such-cases.json", &f, &err), PP_ENOTFOUND);
	ck_assert_str_eq(err.file, "data/no-such-cases.json");
	ck_assert_ptr_null(f);
}
END_TEST

/* The one XML escaper (JUnit here, SVG titles in the emitters): markup and quotes as entities,
 * whitespace controls as references, other control bytes as '?'. */
START_TEST(test_xml_escaper)
{
	pp_sbuf b = PP_SBUF_INIT;
	char *out = NULL;
	pp_sb_xml(&b, "a<b>&\"c'\t\n\r\x01\x7f\xc3\xa9");
	ck_assert_int_eq(pp_sb_finish(&b, &out, NULL), 0);
	ck_assert_str_eq(out, "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;??\xc3\xa9");
	free(out);
}
END_TEST

static Suite *regress_suite(void)
{
	Suite *s = suite_create("regress");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_number_shortest_round_trip);
	tcase_add_test(tc, test_canonical_is_fixed_point);
	tcase_add_test(tc, test_any_layout_becomes_canonical);
	tcase_add_test(tc, test_evaluate_update_and_drift);
	tcase_add_test(tc, test_junit_and_json_reports);
	tcase_add_test(tc, test_missing_and_bad_referenced_files);
	tcase_add_test(tc, test_parse_errors_name_the_path);
	tcase_add_test(tc, test_plan_file_matches_inline);
	tcase_add_test(tc, test_xml_escaper);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(regress_suite());
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
