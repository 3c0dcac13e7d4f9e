/* check_exec.c - the execution stub's layer program and file (emit_exec.c) and calibration
 * (calib.c): golden stub file, shape rules, hand-edited lists, exact recovery of known GEMM
 * throughputs and link alpha/beta from synthetic measurements. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/calib.h"
#include "parplan/emit.h"
#include "parplan/exec.h"
#include "parplan/io.h"
#include "parplan/strategy.h"

/* pp_emit_exec of a t=2 plan of data/exec-gpt.json is byte for byte data/exec-gpt-t2.json,
 * the stub tests/cli/exec.sh runs. */
START_TEST(test_emit_golden)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	pp_plan plan;
	pp_global gl = PP_GLOBAL_INIT;
	char *out = NULL, *want = NULL;

	ck_assert_int_eq(pp_graph_load("data/exec-gpt.json", &g, &err), 0);
	gl.t = 2;
	ck_assert_int_eq(pp_plan_init(&plan, g, "data/exec-gpt.json", "cpu-base", NULL, 64, &gl,
				      NULL, &err), 0);
	ck_assert_int_eq(pp_emit_exec(&plan, &out, &err), 0);
	ck_assert_int_eq(pp_read_file("data/exec-gpt-t2.json", &want, NULL, &err), 0);
	ck_assert_str_eq(out, want);
	free(out);
	free(want);
	/* sequence parallel: all-gather + reduce-scatter instead of the 4 all-reduces */
	plan.global.sequence_parallel = 1;
	ck_assert_int_eq(pp_emit_exec(&plan, &out, &err), 0);
	ck_assert_ptr_null(strstr(out, "allreduce"));
	ck_assert_ptr_nonnull(strstr(out, "fwd.qkv.allgather"));
	ck_assert_ptr_nonnull(strstr(out, "bwd.qkv.reducescatter"));
	free(out);
	pp_plan_release(&plan);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_layer_lists)
{
	pp_exec_layer L;
	pp_error err = PP_ERROR_INIT;
	double fwd = 0, bwd = 0;
	int i, nar = 0;

	ck_assert_int_eq(pp_exec_layer_build(&L, "m", PP_DTYPE_BF16, 0, 2, 128, 256, 4, 4, 1024, 2, 0,
					     &err), 0);
	ck_assert_int_eq(L.n_gemm, 18);
	for (i = 0; i < L.n_gemm; i++)
		*(L.gemm[i].backward ? &bwd : &fwd) += pp_exec_gemm_flops(&L.gemm[i]);
	/* backward is twice forward; forward = 2*b*s*(12h^2)/t + 4*b*s^2*h/t */
	ck_assert(fabs(bwd / fwd - 2) < 1e-12);
	ck_assert(fabs(fwd - (2.0 * 256 * 12 * 256 * 256 / 2 + 4.0 * 2 * 128 * 128 * 256 / 2)) < 1);
	for (i = 0; i < L.n_coll; i++)
		nar += L.coll[i].op == PP_EXEC_ALLREDUCE && L.coll[i].elems == 2 * 128 * 256;
	ck_assert_int_eq(nar, 4);
	/* rules */
	ck_assert_int_eq(pp_exec_layer_build(&L, "m", PP_DTYPE_BF16, 0, 1, 128, 256, 4, 4, 1024, 3, 0,
					     &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not divide 4 heads"));
	ck_assert_int_eq(pp_exec_layer_build(&L, "m", PP_DTYPE_BF16, 0, 1, 129, 256, 4, 4, 1024, 2, 1,
					     &err), PP_EINVALID);
	/* scale keeps the rules */
	ck_assert_int_eq(pp_exec_layer_build(&L, "m", PP_DTYPE_BF16, 0, 1, 2048, 12288, 96, 96, 49152,
					     8, 1, &err), 0);
	ck_assert_int_eq(pp_exec_layer_scale(&L, 0.125, &err), 0);
	ck_assert_int_eq(L.h, 1536);
	ck_assert_int_eq(L.s, 256);
	ck_assert_int_eq(L.ffn, 6144);
	ck_assert_int_eq(pp_exec_layer_scale(&L, 1.5, &err), PP_EINVALID);
}
END_TEST

START_TEST(test_parse_rejects_edits)
{
	pp_exec_layer L;
	pp_error err = PP_ERROR_INIT;
	char *text = NULL, *p;

	ck_assert_int_eq(pp_read_file("data/exec-gpt-t2.json", &text, NULL, &err), 0);
	ck_assert_int_eq(pp_exec_layer_parse("s.json", text, &L, &err), 0);
	ck_assert_int_eq(L.t, 2);
	ck_assert_int_eq(L.h, 1024);
	/* a GEMM list that is not what the shape implies */
	p = strstr(text, "\"m\":\t512");
	ck_assert_ptr_nonnull(p);
	p[6] = '3';
	ck_assert_int_eq(pp_exec_layer_parse("s.json", text, &L, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "s.json");
	ck_assert_str_eq(err.path, "gemms[0]");
	free(text);
	ck_assert_int_eq(pp_exec_layer_parse("s.json", "{\"format\": \"parplan-exec/1\", \"x\": 1}",
					     &L, &err), PP_EINVALID);
	ck_assert_str_eq(err.path, "x");
}
END_TEST

/* Synthetic measurements: one forward GEMM with its two backward GEMMs, the attention pair,
 * and collectives timed exactly by the ring formulas with alpha 5 us, 10 GB/s. */
static char *synthetic(int passed)
{
	const double alpha = 5e-6, bw = 10e9;
	char *buf = malloc(1 << 16);
	size_t n = 0;
	int i;

	n += (size_t)snprintf(buf + n, (1 << 16) - n,
		"{\"format\": \"parplan-measurements/1\", \"backend\": \"cpu\", \"dtype\": \"fp32\","
		" \"ranks\": 4, \"iters\": 5, \"warmup\": 1,"
		" \"layer\": {\"micro_batch\": 1, \"seq\": 256, \"hidden\": 512, \"heads\": 8,"
		" \"ffn\": 2048, \"t\": 4, \"sequence_parallel\": false},"
		" \"machine\": {\"device\": \"test\", \"memory_bw_gbs\": 20},"
		" \"validation\": {\"passed\": %s},"
		" \"layer_time\": {\"gemm_s\": 1, \"collective_s\": 0, \"total_s\": 1},"
		" \"gemms\": ["
		"{\"name\": \"fwd.qkv\", \"pass\": \"forward\", \"m\": 256, \"n\": 384, \"k\": 512,"
		" \"batch\": 1, \"median_s\": 0.001},"
		"{\"name\": \"bwd.qkv.dgrad\", \"pass\": \"backward\", \"of\": \"fwd.qkv\", \"m\": 256,"
		" \"n\": 512, \"k\": 384, \"batch\": 1, \"median_s\": 0.002},"
		"{\"name\": \"bwd.qkv.wgrad\", \"pass\": \"backward\", \"of\": \"fwd.qkv\", \"m\": 512,"
		" \"n\": 384, \"k\": 256, \"batch\": 1, \"median_s\": 0.003},"
		"{\"name\": \"fwd.scores\", \"pass\": \"forward\", \"m\": 256, \"n\": 256, \"k\": 64,"
		" \"batch\": 2, \"median_s\": 0.001},"
		"{\"name\": \"fwd.context\", \"pass\": \"forward\", \"m\": 256, \"n\": 64, \"k\": 256,"
		" \"batch\": 2, \"median_s\": 0.001}],"
		" \"collectives\": [], \"sweep\": [", passed ? "true" : "false");
	for (i = 0; i < 12; i++) {
		double S = 4096.0 * pow(2, i), r = 4;
		int op = i % 3;
		double t = op == 0 ? 2 * (r - 1) / r * S / bw + 2 * (r - 1) * alpha
				   : (r - 1) / r * S / bw + (r - 1) * alpha;
		n += (size_t)snprintf(buf + n, (1 << 16) - n,
			"%s{\"op\": \"%s\", \"ranks\": 4, \"elements\": %g, \"bytes\": %.17g,"
			" \"median_s\": %.17g}", i ? ", " : "",
			op == 0 ? "allreduce" : op == 1 ? "allgather" : "reducescatter", S / 4, S, t);
	}
	snprintf(buf + n, (1 << 16) - n, "]}");
	return buf;
}

START_TEST(test_calibrate_exact)
{
	pp_error err = PP_ERROR_INIT;
	pp_calib_summary sum;
	pp_hw *hw = NULL;
	char *meas = synthetic(1), *base = NULL, *out = NULL;
	double qkv = 3 * 2.0 * 256 * 384 * 512 / 0.006, attn = 2 * 2.0 * 256 * 256 * 64 * 2 / 0.002;

	ck_assert_int_eq(pp_read_file("data/cpu-base.json", &base, NULL, &err), 0);
	ck_assert_int_eq(pp_calibrate("m.json", meas, "data/cpu-base.json", base, "x", &out, &sum,
				      &err), 0);
	ck_assert_int_eq(pp_hw_parse("out", out, &hw, &err), 0);
	ck_assert_str_eq(hw->name, "x");
	ck_assert_int_eq(sum.n_points, 2);
	ck_assert_int_eq(hw->gemm_dtype, PP_DTYPE_FP32);
	/* forward + backward FLOPs over forward + backward time, at the forward shape */
	ck_assert(fabs(pp_hw_gemm_flops(hw, PP_DTYPE_FP32, 256, 384, 512) / qkv - 1) < 1e-9);
	/* the attention pair at (s, s, head_dim) */
	ck_assert(fabs(pp_hw_gemm_flops(hw, PP_DTYPE_FP32, 256, 256, 64) / attn - 1) < 1e-9);
	/* alpha and beta recovered */
	ck_assert_int_eq(sum.n_coll, 12);
	ck_assert(fabs(hw->intra.latency_us - 5) < 1e-6);
	ck_assert(fabs(hw->intra.bw_gbs * hw->intra.efficiency - 10) < 1e-6);
	ck_assert(sum.fit_rms < 1e-9);
	ck_assert(fabs(hw->memory_bw_gbs - 20) < 1e-12);
	ck_assert_ptr_nonnull(strstr(out, "fwd.qkv 256x384x512 x1 1 ms + bwd.qkv.dgrad 2 ms"));
	pp_hw_free(hw);
	free(out);
	free(meas);
	/* a run that did not validate calibrates nothing */
	meas = synthetic(0);
	ck_assert_int_eq(pp_calibrate("m.json", meas, "data/cpu-base.json", base, NULL, &out, &sum,
				      &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "m.json");
	ck_assert_str_eq(err.path, "validation.passed");
	ck_assert_ptr_null(out);
	free(meas);
	free(base);
}
END_TEST

/* the loop check prices only the layer that was measured, in the dtype it was measured in */
START_TEST(test_layer_check_rules)
{
	pp_error err = PP_ERROR_INIT;
	pp_calib_layer lay;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	char *meas = synthetic(1);

	ck_assert_int_eq(pp_hw_load("data/cpu-base.json", &hw, &err), 0);
	ck_assert_int_eq(pp_graph_load("data/exec-gpt.json", &g, &err), 0);
	/* data/exec-gpt.json has hidden 1024, the measurements 512 */
	ck_assert_int_eq(pp_calib_layer_check("m.json", meas, g, hw, &lay, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "m.json");
	ck_assert_str_eq(err.path, "layer");
	ck_assert_ptr_nonnull(strstr(err.msg, "measured hidden 512"));
	pp_graph_free(g);
	pp_hw_free(hw);
	free(meas);
}
END_TEST

/* a Llama plan: grouped-query QKV ((a + 2g) * d / t columns), SwiGLU MLP-in 2f/t wide */
START_TEST(test_emit_llama)
{
	pp_error err = PP_ERROR_INIT;
	pp_exec_layer L;
	pp_plan plan;
	char *out = NULL;

	memset(&plan, 0, sizeof(plan));
	snprintf(plan.model, sizeof(plan.model), "llama3-8b");
	plan.shape.family_llama = 1;
	plan.shape.hidden = 4096;
	plan.shape.heads = 32;
	plan.shape.kv_heads = 8;
	plan.shape.seq = 8192;
	plan.shape.ffn = 14336;
	plan.global.t = 4;
	plan.global.micro_batch = 1;
	ck_assert_int_eq(pp_emit_exec(&plan, &out, &err), 0);
	ck_assert_int_eq(pp_exec_layer_parse("s.json", out, &L, &err), 0);
	ck_assert(L.llama);
	ck_assert_int_eq(L.gemm[0].n, (32 + 2 * 8) * 128 / 4);
	ck_assert_str_eq(L.gemm[4].name, "fwd.fc1");
	ck_assert_int_eq(L.gemm[4].n, 2 * 14336 / 4);
	free(out);
	/* t must divide the key/value heads */
	plan.global.t = 16;
	ck_assert_int_eq(pp_emit_exec(&plan, &out, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not divide 8 key/value heads"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_emit_golden);
	tcase_add_test(tc, test_layer_lists);
	tcase_add_test(tc, test_parse_rejects_edits);
	tcase_add_test(tc, test_calibrate_exact);
	tcase_add_test(tc, test_layer_check_rules);
	tcase_add_test(tc, test_emit_llama);
	/* a hang guard, not a speed test: Check's default of 4 s fails on a busy machine */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
