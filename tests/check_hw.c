/* check_hw.c - hardware profiles: the shipped ones, GEMM throughput, and rejection of bad input. */
#include <check.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_int.h"
#include "parplan/comm.h"
#include "parplan/hw.h"

#define TOL 1e-9

static int close_rel(double a, double b)
{
	return fabs(a - b) <= TOL * fabs(b);
}

static pp_hw *load_ok(const char *path)
{
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;
	int rc = pp_hw_load(path, &hw, &err);
	ck_assert_msg(rc == 0, "%s: %s: %s", err.file, err.path, err.msg);
	ck_assert_ptr_nonnull(hw);
	return hw;
}

START_TEST(test_dtype)
{
	int d;
	for (d = 0; d < PP_DTYPE_COUNT; d++)
		ck_assert_int_eq(pp_dtype_parse(pp_dtype_name((pp_dtype)d)), d);
	ck_assert_str_eq(pp_dtype_name(PP_DTYPE_BF16), "bf16");
	ck_assert_str_eq(pp_dtype_name(PP_DTYPE_TF32), "tf32");
	ck_assert_int_eq(pp_dtype_parse("fp16"), PP_DTYPE_FP16);
	ck_assert_int_eq(pp_dtype_parse("BF16"), -1);
	ck_assert_int_eq(pp_dtype_parse("int8"), -1);
	ck_assert_int_eq(pp_dtype_parse(""), -1);
	ck_assert_int_eq(pp_dtype_parse(NULL), -1);
	ck_assert_int_eq(pp_dtype_bytes(PP_DTYPE_BF16), 2);
	ck_assert_int_eq(pp_dtype_bytes(PP_DTYPE_FP16), 2);
	ck_assert_int_eq(pp_dtype_bytes(PP_DTYPE_TF32), 4);
	ck_assert_int_eq(pp_dtype_bytes(PP_DTYPE_FP32), 4);
	ck_assert_int_eq(pp_dtype_bytes(PP_DTYPE_COUNT), 0);
	ck_assert_ptr_nonnull(pp_dtype_name(PP_DTYPE_COUNT));
}
END_TEST

START_TEST(test_dgx_a100_80g)
{
	pp_hw *hw = load_ok("../hwprofiles/dgx-a100-80g.json");
	ck_assert_str_eq(hw->name, "dgx-a100-80g");
	ck_assert_str_eq(hw->device_name, "A100-SXM4-80GB");
	ck_assert(hw->peak_tflops[PP_DTYPE_BF16] == 312);
	ck_assert(hw->peak_tflops[PP_DTYPE_FP16] == 312);
	ck_assert(hw->peak_tflops[PP_DTYPE_TF32] == 156);
	ck_assert(hw->peak_tflops[PP_DTYPE_FP32] == 19.5);
	ck_assert(hw->memory_gib == 80);
	ck_assert(hw->memory_bw_gbs == 2039);
	ck_assert(hw->gemm_efficiency == 0.7);
	ck_assert_ptr_null(hw->gemm_table);
	ck_assert_int_eq(hw->n_gemm, 0);
	ck_assert_int_eq(hw->node_devices, 8);
	ck_assert(hw->intra.bw_gbs == 300);
	ck_assert(hw->intra.latency_us == 3);
	ck_assert(hw->intra.efficiency == 0.8);
	ck_assert(hw->network.bw_gbs == 25);
	ck_assert(hw->network.latency_us == 6);
	ck_assert(hw->network.efficiency == 0.9);
	ck_assert(hw->usable_memory_fraction == 0.95);
	/* 80 GiB * 0.95 */
	ck_assert(close_rel(pp_hw_usable_bytes(hw), 80.0 * 1073741824.0 * 0.95));
	/* Default efficiency: peak * eff, in FLOP/s, whatever the shape. */
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 8192, 8192, 8192), 312e12 * 0.7));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 1, 1, 1), 312e12 * 0.7));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_TF32, 4096, 4096, 4096), 156e12 * 0.7));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP32, 4096, 4096, 4096), 19.5e12 * 0.7));
	pp_hw_free(hw);
}
END_TEST

START_TEST(test_dgx_a100_40g)
{
	pp_hw *hw = load_ok("../hwprofiles/dgx-a100-40g.json");
	ck_assert_str_eq(hw->name, "dgx-a100-40g");
	ck_assert_str_eq(hw->device_name, "A100-SXM4-40GB");
	ck_assert(hw->peak_tflops[PP_DTYPE_BF16] == 312);
	ck_assert(hw->memory_gib == 40);
	ck_assert(hw->memory_bw_gbs == 1555);
	ck_assert_int_eq(hw->node_devices, 8);
	ck_assert(hw->intra.bw_gbs == 300);
	ck_assert(hw->network.bw_gbs == 25);
	ck_assert(close_rel(pp_hw_usable_bytes(hw), 40.0 * 1073741824.0 * 0.95));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP16, 4096, 4096, 4096), 312e12 * 0.7));
	pp_hw_free(hw);
}
END_TEST

START_TEST(test_dgx_h100)
{
	pp_hw *hw = load_ok("../hwprofiles/dgx-h100.json");
	ck_assert_str_eq(hw->name, "dgx-h100");
	ck_assert(hw->peak_tflops[PP_DTYPE_BF16] == 989);
	ck_assert(hw->peak_tflops[PP_DTYPE_FP16] == 989);
	ck_assert(hw->memory_gib == 80);
	ck_assert(hw->memory_bw_gbs == 3350);
	ck_assert_int_eq(hw->node_devices, 8);
	ck_assert(hw->intra.bw_gbs == 450);
	ck_assert(hw->intra.efficiency == 0.8);
	ck_assert(hw->network.bw_gbs == 50);
	ck_assert(hw->network.efficiency == 0.9);
	ck_assert(hw->network.latency_us == 6);
	ck_assert(hw->usable_memory_fraction == 0.95);
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 8192, 8192, 8192), 989e12 * 0.7));
	/* the measured maximum achievable matmul rate and the SM count (shape-aware GEMM model) */
	ck_assert(hw->matmul_max_tflops == 794.5);
	ck_assert_int_eq(hw->sms, 132);
	pp_hw_free(hw);
}
END_TEST

START_TEST(test_tpu_v4)
{
	pp_hw *hw = load_ok("../hwprofiles/tpu-v4.json");
	ck_assert_str_eq(hw->name, "tpu-v4");
	ck_assert(hw->peak_tflops[PP_DTYPE_BF16] == 275);
	ck_assert(hw->peak_tflops[PP_DTYPE_FP16] == 0);
	ck_assert(hw->peak_tflops[PP_DTYPE_FP32] == 0);
	ck_assert(hw->memory_gib == 32);
	ck_assert(hw->memory_bw_gbs == 1200);
	ck_assert_int_eq(hw->node_devices, 4);
	ck_assert(hw->intra.bw_gbs > 0 && hw->network.bw_gbs > 0);
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 4096, 4096, 4096), 275e12 * 0.7));
	/* A dtype without a peak falls back to the smallest one given, never to 0. */
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP32, 4096, 4096, 4096), 275e12 * 0.7));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP16, 4096, 4096, 4096), 275e12 * 0.7));
	pp_hw_free(hw);
}
END_TEST

/* The 2026 profiles: each loads, its 8-bit peaks are dense (at least the bf16 peak, and exactly
 * twice it where the datasheets say so), the domain holds whole nodes. */
START_TEST(test_profiles_2026)
{
	static const struct {
		const char *name;
		double bf16, fp8, mxfp8;
		int node, domain, block;
	} want[] = {
		{"dgx-h100", 989, 1979, 0, 8, 8, 8},
		{"dgx-h200", 989, 1979, 0, 8, 8, 8},
		{"dgx-b200", 2250, 4500, 4500, 8, 8, 8},
		{"dgx-b300", 2250, 4500, 4500, 8, 8, 8},
		{"gb200-nvl72", 2450, 4900, 4900, 4, 72, 64},
		{"gb300-nvl72", 2450, 4900, 4900, 4, 72, 64},
		{"mi300x", 1307.4, 2614.9, 0, 8, 8, 8},
		{"mi325x", 1307.4, 2614.9, 0, 8, 8, 8},
		{"mi355x", 2516.6, 5033.2, 5033.2, 8, 8, 8},
	};
	size_t i;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char path[256];
		pp_hw *hw;
		snprintf(path, sizeof(path), "../hwprofiles/%s.json", want[i].name);
		hw = load_ok(path);
		ck_assert_str_eq(hw->name, want[i].name);
		ck_assert(hw->peak_tflops[PP_DTYPE_BF16] == want[i].bf16);
		ck_assert(hw->peak_tflops[PP_DTYPE_FP8] == want[i].fp8);
		ck_assert(hw->peak_tflops[PP_DTYPE_MXFP8] == want[i].mxfp8);
		ck_assert_int_eq(pp_hw_supports(hw, PP_DTYPE_FP8), 1);
		ck_assert_int_eq(pp_hw_supports(hw, PP_DTYPE_MXFP8), want[i].mxfp8 > 0);
		ck_assert_int_eq(hw->node_devices, want[i].node);
		ck_assert_int_eq(hw->domain_devices, want[i].domain);
		ck_assert_int_eq(pp_hw_domain_block(hw), want[i].block);
		/* measured matmul rates never above their peaks */
		ck_assert(hw->matmul_max_tflops <= hw->peak_tflops[PP_DTYPE_BF16]);
		ck_assert(hw->matmul_fp8_max_tflops <= hw->peak_tflops[PP_DTYPE_FP8]);
		pp_hw_free(hw);
	}
	/* A100 and TPU v4 have no fp8 tensor cores: the profiles give no fp8 peak */
	{
		pp_hw *a = load_ok("../hwprofiles/dgx-a100-80g.json"), *t = load_ok("../hwprofiles/tpu-v4.json");
		ck_assert_int_eq(pp_hw_supports(a, PP_DTYPE_FP8), 0);
		ck_assert_int_eq(pp_hw_supports(a, PP_DTYPE_BF16), 1);
		ck_assert_int_eq(pp_hw_supports(t, PP_DTYPE_MXFP8), 0);
		ck_assert_int_eq(a->domain_devices, 8);
		pp_hw_free(a);
		pp_hw_free(t);
	}
}
END_TEST

/* A small profile with a calibrated bf16 table, points given out of m*n*k order on purpose. */
static const char table_profile[] =
	"{\"format\": \"parplan-hw/1\", \"name\": \"tab\",\n"
	" \"device\": {\"name\": \"D\", \"peak_tflops\": {\"bf16\": 400, \"fp32\": 25},\n"
	"   \"memory_gib\": 64, \"memory_bw_gbs\": 2000, \"source\": \"test\",\n"
	"   \"gemm_table\": {\"dtype\": \"bf16\", \"points\": [\n"
	"     {\"m\": 4096, \"n\": 4096, \"k\": 4096, \"tflops\": 300, \"source\": \"bench\"},\n"
	"     {\"m\": 1024, \"n\": 1024, \"k\": 1024, \"tflops\": 100},\n"
	"     {\"m\": 2048, \"n\": 2048, \"k\": 2048, \"tflops\": 200},\n"
	"     {\"m\": 8192, \"n\": 1024, \"k\": 64, \"tflops\": 50}]}},\n"
	" \"node\": {\"devices\": 2, \"intra\": {\"name\": \"A\", \"bw_gbs\": 100, \"latency_us\": 2,"
	" \"source\": \"s\"}},\n"
	" \"network\": {\"name\": \"B\", \"bw_gbs\": 10, \"latency_us\": 0, \"source\": \"s\"}}\n";

START_TEST(test_gemm_table)
{
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;
	double lo, mid, hi, near_lo, near_hi, f;
	int i, rc;

	rc = pp_hw_parse("tab.json", table_profile, &hw, &err);
	ck_assert_msg(rc == 0, "%s: %s", err.path, err.msg);
	ck_assert_int_eq(hw->n_gemm, 4);
	ck_assert_int_eq(hw->gemm_dtype, PP_DTYPE_BF16);
	/* Sorted by m*n*k: 8192*1024*64 = 2^29 < 1024^3 = 2^30 < 2048^3 < 4096^3. */
	for (i = 1; i < hw->n_gemm; i++) {
		const pp_gemm_point *a = &hw->gemm_table[i - 1], *b = &hw->gemm_table[i];
		ck_assert(a->m * a->n * a->k < b->m * b->n * b->k);
	}
	ck_assert(hw->gemm_table[0].m == 8192 && hw->gemm_table[0].tflops == 50);
	ck_assert(hw->gemm_table[3].m == 4096 && hw->gemm_table[3].tflops == 300);
	/* No explicit default: the largest GEMM's fraction of peak, 300/400. */
	ck_assert(close_rel(hw->gemm_efficiency, 0.75));
	/* No usable_memory_fraction: 1. */
	ck_assert(hw->usable_memory_fraction == 1.0);
	ck_assert(close_rel(pp_hw_usable_bytes(hw), 64.0 * 1073741824.0));
	ck_assert(hw->network.efficiency == 1.0 && hw->intra.efficiency == 1.0);

	/* Exact shapes return their own measurement, in FLOP/s. */
	lo = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 1024, 1024, 1024);
	hi = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 2048, 2048, 2048);
	ck_assert(close_rel(lo, 100e12));
	ck_assert(close_rel(hi, 200e12));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 8192, 1024, 64), 50e12));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 4096, 4096, 4096), 300e12));

	/* Between two neighbours: strictly between them, and monotone in the distance to each. */
	mid = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 1448, 1448, 1448);
	ck_assert_msg(mid > lo && mid < hi, "mid %g not in (%g, %g)", mid, lo, hi);
	near_lo = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 1100, 1100, 1100);
	near_hi = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 1900, 1900, 1900);
	ck_assert(near_lo > lo && near_lo < mid);
	ck_assert(near_hi > mid && near_hi < hi);
	/* Not just the nearest point: the mix of 100, 200 and the farther ones is not 100 or 200. */
	ck_assert(fabs(mid - lo) > 1e12 && fabs(hi - mid) > 1e12);

	/* Dtype scaling by peak[dtype] / peak[gemm_dtype] = 25/400. */
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP32, 2048, 2048, 2048), 200e12 / 16));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP32, 1448, 1448, 1448), mid / 16));
	/* fp16 has no peak: the smallest given (fp32, 25) stands in. */
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP16, 2048, 2048, 2048), 200e12 / 16));

	/* Degenerate shapes stay finite and within the table's range. */
	{
		static const double odd[][3] = {{0, 0, 0}, {-5, 3, 2}, {1, 1, 1}, {1e300, 1e300, 1e300},
						{1e40, 1, 1}, {0.5, 1e9, 7}};
		for (i = 0; i < (int)(sizeof(odd) / sizeof(odd[0])); i++) {
			f = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, odd[i][0], odd[i][1], odd[i][2]);
			ck_assert_msg(isfinite(f) && f >= 50e12 * (1 - TOL) && f <= 300e12 * (1 + TOL),
				      "shape %d gave %g", i, f);
		}
		f = pp_hw_gemm_flops(hw, PP_DTYPE_BF16, NAN, INFINITY, -INFINITY);
		ck_assert(isfinite(f) && f > 0);
		f = pp_hw_gemm_flops(hw, (pp_dtype)99, 1024, 1024, 1024);
		ck_assert(isfinite(f) && f > 0);
	}
	ck_assert(pp_hw_gemm_flops(NULL, PP_DTYPE_BF16, 1, 1, 1) == 0);
	ck_assert(pp_hw_usable_bytes(NULL) == 0);
	pp_hw_free(hw);
	pp_hw_free(NULL);
}
END_TEST

START_TEST(test_gemm_table_fp16_scaling)
{
	/* A table measured in fp16 answers bf16 and tf32 questions scaled by peak ratios. */
	static const char text[] =
		"{\"format\": \"parplan-hw/1\", \"name\": \"t16\",\n"
		" \"device\": {\"name\": \"D\", \"peak_tflops\": {\"bf16\": 300, \"fp16\": 200,"
		" \"tf32\": 100}, \"memory_gib\": 1, \"memory_bw_gbs\": 1, \"source\": \"s\","
		" \"gemm_efficiency\": 0.5,"
		" \"gemm_table\": {\"dtype\": \"fp16\", \"source\": \"sweep\", \"points\": ["
		"   {\"m\": 512, \"n\": 512, \"k\": 512, \"tflops\": 80}]}},\n"
		" \"node\": {\"devices\": 1, \"intra\": {\"name\": \"A\", \"bw_gbs\": 1, \"latency_us\": 0,"
		" \"source\": \"s\"}},\n"
		" \"network\": {\"name\": \"B\", \"bw_gbs\": 1, \"latency_us\": 0, \"source\": \"s\"}}\n";
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;
	ck_assert_int_eq(pp_hw_parse("t16.json", text, &hw, &err), 0);
	ck_assert_int_eq(hw->gemm_dtype, PP_DTYPE_FP16);
	/* An explicit default is kept even with a table. */
	ck_assert(hw->gemm_efficiency == 0.5);
	/* One point: every shape gets it. */
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP16, 512, 512, 512), 80e12));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_FP16, 9999, 3, 77), 80e12));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_BF16, 512, 512, 512), 120e12));
	ck_assert(close_rel(pp_hw_gemm_flops(hw, PP_DTYPE_TF32, 512, 512, 512), 40e12));
	pp_hw_free(hw);
}
END_TEST

/*
 * Rejections.  Each case edits one spot of a valid profile (replacing the first occurrence of
 * @from by @to) and names the JSON path and a piece of the message the error must carry.
 */
static const char base_profile[] =
	"{\"format\": \"parplan-hw/1\", \"name\": \"base\",\n"
	" \"device\": {\"name\": \"D\", \"peak_tflops\": {\"bf16\": 100, \"fp32\": 10},\n"
	"   \"memory_gib\": 16, \"memory_bw_gbs\": 1000, \"gemm_efficiency\": 0.5,"
	" \"source\": \"s\"},\n"
	" \"node\": {\"devices\": 4, \"intra\": {\"name\": \"L1\", \"bw_gbs\": 150,"
	" \"latency_us\": 1, \"source\": \"s\"}},\n"
	" \"network\": {\"name\": \"L2\", \"bw_gbs\": 12.5, \"latency_us\": 5, \"efficiency\": 0.9,"
	" \"source\": \"s\"}}\n";

struct bad_case {
	const char *from, *to;
	const char *path, *msg;
};

static const char long_name[] = "\"name\": \"0123456789012345678901234567890123456789"
				"012345678901234567890123\"";

static const struct bad_case bad_cases[] = {
	/* the matmul object: unknown field, above the peak, no SMs, no source */
	{"\"gemm_efficiency\": 0.5,", "\"gemm_efficiency\": 0.5, \"matmul\": {\"max_tflops\": 80, \"sms\": 4, \"tiles\": 1, \"source\": \"s\"},",
	 "device.matmul.tiles", "unknown field \"tiles\""},
	{"\"gemm_efficiency\": 0.5,", "\"gemm_efficiency\": 0.5, \"matmul\": {\"max_tflops\": 120, \"sms\": 4, \"source\": \"s\"},",
	 "device.matmul.max_tflops", "above the bf16 peak"},
	{"\"gemm_efficiency\": 0.5,", "\"gemm_efficiency\": 0.5, \"matmul\": {\"max_tflops\": 80, \"sms\": 0, \"source\": \"s\"},",
	 "device.matmul.sms", "out of range"},
	{"\"gemm_efficiency\": 0.5,", "\"gemm_efficiency\": 0.5, \"matmul\": {\"max_tflops\": 80, \"sms\": 4},",
	 "device.matmul", "missing field \"source\""},
	/* 8-bit peaks and the scale-up domain */
	{"\"fp32\": 10", "\"fp32\": 10, \"fp8\": 50", "device.peak_tflops.fp8",
	 "50 is below the bf16 peak of 100"},
	{"\"gemm_efficiency\": 0.5,", "\"gemm_efficiency\": 0.5, \"matmul\": {\"max_tflops\": 80, \"fp8_max_tflops\": 90, \"sms\": 4, \"source\": \"s\"},",
	 "device.matmul.fp8_max_tflops", "above the fp8 peak of 0"},
	{"\"name\": \"base\"", "\"name\": \"base\", \"scale_up_domain\": {\"devices\": 6, \"source\": \"s\"}",
	 "scale_up_domain.devices", "6 is not a whole number of 4-device nodes"},
	{"\"name\": \"base\"", "\"name\": \"base\", \"scale_up_domain\": {\"devices\": 8}",
	 "scale_up_domain", "missing field \"source\""},
	{"\"name\": \"base\"", "\"name\": \"base\", \"scale_up_domain\": {\"devices\": 0, \"source\": \"s\"}",
	 "scale_up_domain.devices", "out of range [1,"},
	{"\"name\": \"base\"", "\"name\": \"base\", \"scale_up_domain\": {\"devices\": 8, \"link\": 1, \"source\": \"s\"}",
	 "scale_up_domain.link", "unknown field"},
	/* unknown fields, at the top, in the device, in a link, in the peaks */
	{"\"name\": \"base\"", "\"name\": \"base\", \"colour\": \"red\"", "colour",
	 "unknown field \"colour\""},
	{"\"memory_gib\": 16", "\"memory_gib\": 16, \"hbm\": 3", "device.hbm", "unknown field"},
	{"\"latency_us\": 1,", "\"latency_us\": 1, \"mtu\": 4096,", "node.intra.mtu",
	 "unknown field \"mtu\""},
	{"\"fp32\": 10", "\"int8\": 10", "device.peak_tflops.int8", "unknown field"},
	/* wrong types */
	{"\"memory_gib\": 16", "\"memory_gib\": \"16\"", "device.memory_gib",
	 "expected a number, got a string"},
	{"{\"bf16\": 100, \"fp32\": 10}", "[100, 10]", "device.peak_tflops",
	 "expected an object, got an array"},
	{"{\"name\": \"L1\", \"bw_gbs\": 150, \"latency_us\": 1, \"source\": \"s\"}", "null",
	 "node.intra", "expected an object, got null"},
	{"\"name\": \"L1\"", "\"name\": 7", "node.intra.name", "expected a string"},
	{"\"devices\": 4", "\"devices\": 4.5", "node.devices", "expected an integer"},
	{"\"devices\": 4", "\"devices\": true", "node.devices", "expected an integer"},
	/* ranges */
	{"\"bw_gbs\": 12.5", "\"bw_gbs\": -12.5", "network.bw_gbs", "-12.5 is out of range"},
	{"\"bw_gbs\": 150", "\"bw_gbs\": 0", "node.intra.bw_gbs", "0 is out of range (0,"},
	{"\"devices\": 4", "\"devices\": 0", "node.devices", "0 is out of range [1,"},
	{"\"devices\": 4", "\"devices\": 1e12", "node.devices", "out of range [1, 65536]"},
	{"\"efficiency\": 0.9", "\"efficiency\": 1.5", "network.efficiency",
	 "1.5 is out of range (0, 1]"},
	{"\"gemm_efficiency\": 0.5", "\"gemm_efficiency\": 0", "device.gemm_efficiency",
	 "out of range (0, 1]"},
	{"\"latency_us\": 1", "\"latency_us\": -1", "node.intra.latency_us",
	 "-1 is out of range [0,"},
	{"\"bf16\": 100", "\"bf16\": -3", "device.peak_tflops.bf16", "-3 is out of range"},
	{"\"memory_bw_gbs\": 1000", "\"memory_bw_gbs\": 1e400", "device.memory_bw_gbs",
	 "inf is out of range (0,"},
	{"\"name\": \"base\"", "\"name\": \"base\", \"usable_memory_fraction\": 0",
	 "usable_memory_fraction", "out of range (0, 1]"},
	/* missing required fields */
	{"\"efficiency\": 0.9, \"source\": \"s\"}", "\"efficiency\": 0.9}", "network",
	 "missing field \"source\""},
	{"\"bf16\": 100, ", "", "device.peak_tflops", "\"bf16\" or \"fp16\""},
	{"\"gemm_efficiency\": 0.5,", "", "device", "\"gemm_efficiency\" or \"gemm_table\""},
	{"\"devices\": 4, ", "", "node", "missing field \"devices\""},
	{"\"format\": \"parplan-hw/1\", ", "", "(root)", "missing field \"format\""},
	/* format */
	{"parplan-hw/1", "parplan-hw/2", "format", "expected \"parplan-hw/1\""},
	{"\"parplan-hw/1\"", "1", "format", "expected a string"},
	/* duplicates and lengths */
	{"\"memory_gib\": 16", "\"memory_gib\": 16, \"memory_gib\": 16", "device.memory_gib",
	 "given twice"},
	{"\"name\": \"base\"", long_name, "name", "longer than 63 characters"},
	{"\"name\": \"base\"", "\"name\": \"\"", "name", "empty string"},
	/* gemm tables */
	{"\"gemm_efficiency\": 0.5", "\"gemm_table\": {\"points\": []}", "device.gemm_table.points",
	 "empty"},
	{"\"gemm_efficiency\": 0.5",
	 "\"gemm_table\": {\"points\": [{\"m\": 8, \"n\": 8, \"k\": 8, \"tflops\": 1e3}]}",
	 "device.gemm_table.points[0].tflops", "above the bf16 peak"},
	{"\"gemm_efficiency\": 0.5",
	 "\"gemm_table\": {\"points\": [{\"m\": 8, \"n\": 8, \"k\": 8, \"tflops\": 1},"
	 " {\"m\": 0, \"n\": 8, \"k\": 8, \"tflops\": 1}]}",
	 "device.gemm_table.points[1].m", "out of range"},
	{"\"gemm_efficiency\": 0.5",
	 "\"gemm_table\": {\"points\": [{\"m\": 8, \"n\": 8, \"k\": 8, \"tflops\": 1},"
	 " {\"m\": 2, \"n\": 2, \"k\": 2, \"tflops\": 1}, {\"m\": 8, \"n\": 8, \"k\": 8, \"tflops\": 2}]}",
	 "device.gemm_table.points[2]", "already measured at points[0]"},
	{"\"gemm_efficiency\": 0.5",
	 "\"gemm_table\": {\"dtype\": \"fp16\", \"points\": [{\"m\": 8, \"n\": 8, \"k\": 8,"
	 " \"tflops\": 1}]}",
	 "device.gemm_table.dtype", "no fp16 peak"},
	{"\"gemm_efficiency\": 0.5",
	 "\"gemm_table\": {\"dtype\": \"int4\", \"points\": [{\"m\": 8, \"n\": 8, \"k\": 8,"
	 " \"tflops\": 1}]}",
	 "device.gemm_table.dtype", "unknown dtype \"int4\""},
	{"\"gemm_efficiency\": 0.5",
	 "\"gemm_table\": {\"points\": [{\"m\": 8, \"n\": 8, \"k\": 8, \"tflops\": 1, \"x\": 1}]}",
	 "device.gemm_table.points[0].x", "unknown field"},
	{"\"gemm_efficiency\": 0.5", "\"gemm_table\": {\"points\": [3]}",
	 "device.gemm_table.points[0]", "expected an object, got a number"},
};

static char *replace_once(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n, a, f, t;
	char *out;
	ck_assert_msg(at != NULL, "\"%s\" not in the base profile", from);
	ck_assert_msg(strstr(at + 1, from) == NULL, "\"%s\" twice in the base profile", from);
	n = strlen(s), a = (size_t)(at - s), f = strlen(from), t = strlen(to);
	out = malloc(n - f + t + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, s, a);
	memcpy(out + a, to, t);
	memcpy(out + a + t, at + f, n - a - f + 1);
	return out;
}

START_TEST(test_base_is_valid)
{
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;
	ck_assert_int_eq(pp_hw_parse("case.json", base_profile, &hw, &err), 0);
	ck_assert(hw->network.bw_gbs == 12.5 && hw->intra.bw_gbs == 150);
	pp_hw_free(hw);
}
END_TEST

START_TEST(test_reject)
{
	const struct bad_case *bc = &bad_cases[_i];
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = (pp_hw *)&err; /* must come back NULL */
	char *text = replace_once(base_profile, bc->from, bc->to);
	char line[1024];
	int rc = pp_hw_parse("case.json", text, &hw, &err);

	ck_assert_msg(rc == PP_EINVALID, "case %d (%s): rc %d", _i, bc->path, rc);
	ck_assert_ptr_null(hw);
	ck_assert_int_eq(err.code, PP_EINVALID);
	ck_assert_str_eq(err.file, "case.json");
	ck_assert_msg(strcmp(err.path, bc->path) == 0, "case %d: path \"%s\", want \"%s\" (%s)", _i,
		      err.path, bc->path, err.msg);
	ck_assert_msg(strstr(err.msg, bc->msg) != NULL, "case %d: message \"%s\" lacks \"%s\"", _i,
		      err.msg, bc->msg);
	pp_error_format(&err, line, sizeof(line));
	ck_assert(strchr(line, '\n') == NULL);
	ck_assert(strncmp(line, "case.json: ", 11) == 0);
	free(text);
}
END_TEST

START_TEST(test_reject_text)
{
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;

	ck_assert_int_eq(pp_hw_parse("t.json", "", &hw, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "t.json");
	ck_assert_ptr_null(hw);
	ck_assert_int_eq(pp_hw_parse("t.json", "{\"format\": \"parplan-hw/1\"", &hw, &err),
			 PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "end of input"));
	ck_assert_int_eq(pp_hw_parse("t.json", "[1, 2]", &hw, &err), PP_EINVALID);
	ck_assert_str_eq(err.path, "(root)");
	ck_assert_int_eq(pp_hw_parse("t.json", NULL, &hw, &err), PP_EINVALID);
	ck_assert_int_eq(pp_hw_parse("t.json", "{}", NULL, &err), PP_EINVALID);
	ck_assert_int_eq(pp_hw_parse("t.json", "{}", &hw, NULL), PP_EINVALID);
	ck_assert_int_eq(pp_hw_load("data/no-such-profile.json", &hw, &err), PP_ENOTFOUND);
	ck_assert_ptr_null(hw);
	ck_assert_int_eq(pp_hw_load(NULL, &hw, &err), PP_EINVALID);
}
END_TEST

/*
 * Where each bad file must fail, so that a fixture cannot pass for the wrong reason (an edit
 * that broke the JSON instead of the field it meant to break).  "" = no JSON path (the file
 * as a whole: empty, not JSON, NUL byte).  Files not listed only have to fail.
 */
static const struct {
	const char *file, *path;
} bad_file_paths[] = {
	{"hw-binary.json", ""},
	{"hw-deep-nesting.json", ""},
	{"hw-deep-nesting-in-field.json", ""},
	{"hw-devices-huge.json", "node.devices"},
	{"hw-duplicate-key.json", "node.devices"},
	{"hw-efficiency-above-one.json", "network.efficiency"},
	{"hw-empty.json", ""},
	{"hw-empty-points.json", "device.gemm_table.points"},
	{"hw-huge-number.json", "device.memory_bw_gbs"},
	{"hw-long-name.json", "name"},
	{"hw-missing-device.json", "(root)"},
	{"hw-missing-format.json", "(root)"},
	{"hw-missing-link-source.json", "network"},
	{"hw-nan-literal.json", ""},
	{"hw-negative-bw.json", "network.bw_gbs"},
	{"hw-no-efficiency-or-table.json", "device"},
	{"hw-no-peak.json", "device.peak_tflops"},
	{"hw-nul-byte.json", ""},
	{"hw-null-network.json", "network"},
	{"hw-root-array.json", "(root)"},
	{"hw-string-number.json", "network.latency_us"},
	{"hw-tflops-above-peak.json", "device.gemm_table.points[0].tflops"},
	{"hw-trailing-garbage.json", ""},
	{"hw-truncated.json", ""},
	{"hw-unknown-field.json", "node.intra.mtu"},
	{"hw-unterminated-string.json", ""},
	{"hw-whitespace-only.json", ""},
	{"hw-wrong-format.json", "format"},
	{"hw-wrong-type-memory.json", "device.memory_gib"},
	{"hw-zero-devices.json", "node.devices"},
};

START_TEST(test_bad_files)
{
	glob_t g;
	size_t i, j;
	int n_bad = 0, n_checked = 0;

	ck_assert_int_eq(glob("data/bad/hw-*.json", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i], *base = strrchr(path, '/') + 1;
		pp_error err = PP_ERROR_INIT;
		pp_hw *hw = NULL;
		char line[1024];
		int rc = pp_hw_load(path, &hw, &err);

		ck_assert_msg(rc == PP_EINVALID, "%s: rc %d (%s)", path, rc, err.msg);
		ck_assert_ptr_null(hw);
		ck_assert_int_eq(err.code, PP_EINVALID);
		ck_assert_msg(err.msg[0] != '\0', "%s: empty message", path);
		ck_assert_str_eq(err.file, path);
		pp_error_format(&err, line, sizeof(line));
		ck_assert_msg(strstr(line, path) != NULL, "%s: \"%s\"", path, line);
		ck_assert(strchr(line, '\n') == NULL);
		for (j = 0; j < sizeof(bad_file_paths) / sizeof(bad_file_paths[0]); j++)
			if (strcmp(base, bad_file_paths[j].file) == 0) {
				ck_assert_msg(strcmp(err.path, bad_file_paths[j].path) == 0,
					      "%s: failed at \"%s\" (%s), want \"%s\"", path,
					      err.path, err.msg, bad_file_paths[j].path);
				n_checked++;
			}
		n_bad++;
	}
	globfree(&g);
	ck_assert_int_ge(n_bad, 16);
	/* Every listed fixture exists (a rename would otherwise drop its check silently). */
	ck_assert_int_eq(n_checked, (int)(sizeof(bad_file_paths) / sizeof(bad_file_paths[0])));
}
END_TEST

/* ---- the GEMM memo answers exactly what the table interpolation answers -------------------- */

/* The lookup as it was before the memo (hw_json.c, table_tflops and pp_hw_gemm_flops): a linear
 * scan of the table per call.  Test-only reference. */
static double ref_log_dim(double x)
{
	if (!(x >= 1))
		return 0;
	if (x > 1e30)
		x = 1e30;
	return log(x);
}

static double ref_gemm_flops(const pp_hw *hw, pp_dtype dtype, double m, double n, double k)
{
	double lm = ref_log_dim(m), ln_ = ref_log_dim(n), lk = ref_log_dim(k);
	double wsum = 0, acc = 0, t, peak = hw->peak_tflops[dtype], tpeak = hw->peak_tflops[hw->gemm_dtype];
	int i;

	for (i = 0; i < hw->n_gemm; i++) {
		const pp_gemm_point *p = &hw->gemm_table[i];
		double dm = lm - log(p->m), dn = ln_ - log(p->n), dk = lk - log(p->k);
		double d2 = dm * dm + dn * dn + dk * dk, w;
		if (d2 < 1e-200)
			break;
		w = 1.0 / d2;
		wsum += w;
		acc += w * log(p->tflops);
	}
	t = i < hw->n_gemm ? hw->gemm_table[i].tflops : exp(acc / wsum);
	if (tpeak > 0 && peak != tpeak)
		t *= peak / tpeak;
	return t * 1e12;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

START_TEST(test_gemm_memo_matches_linear_scan)
{
	enum { POINTS = 1000, SHAPES = 600, QUERIES = 20000 };
	pp_hw hw;
	pp_gemm_memo *memo = NULL;
	double (*shape)[3] = malloc(sizeof(*shape) * SHAPES);
	uint64_t rng = 0x2545f4914f6cdd1dULL;
	int i, distinct = 0;
	char *seen = calloc(SHAPES, 1);
	double *want_of = calloc(SHAPES, sizeof(double)); /* the scan's answer per (shape, dtype) */

	ck_assert_ptr_nonnull(shape);
	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_nonnull(want_of);
	memset(&hw, 0, sizeof(hw));
	hw.peak_tflops[PP_DTYPE_BF16] = hw.peak_tflops[PP_DTYPE_FP16] = 312;
	hw.peak_tflops[PP_DTYPE_TF32] = 156;
	hw.peak_tflops[PP_DTYPE_FP32] = 19.5;
	hw.gemm_dtype = PP_DTYPE_BF16;
	hw.n_gemm = POINTS;
	hw.gemm_table = malloc(sizeof(pp_gemm_point) * POINTS);
	ck_assert_ptr_nonnull(hw.gemm_table);
	for (i = 0; i < POINTS; i++) {
		hw.gemm_table[i].m = (double)(1 + rng_next(&rng) % 65536);
		hw.gemm_table[i].n = (double)(1 + rng_next(&rng) % 65536);
		hw.gemm_table[i].k = (double)(1 + rng_next(&rng) % 65536);
		hw.gemm_table[i].tflops = 1 + (double)(rng_next(&rng) % 300000) / 1000.0;
	}
	/* queries: table points (exact answers), fractions and odd values (0, below 1, huge),
	 * and random shapes, each asked many times over in four dtypes */
	for (i = 0; i < SHAPES; i++) {
		int j;
		if (i % 5 == 0) {
			const pp_gemm_point *p = &hw.gemm_table[rng_next(&rng) % POINTS];
			shape[i][0] = p->m, shape[i][1] = p->n, shape[i][2] = p->k;
			continue;
		}
		for (j = 0; j < 3; j++)
			shape[i][j] = (double)(rng_next(&rng) % 200000) / (i % 3 ? 1.0 : 7.0);
		if (i % 7 == 0)
			shape[i][i % 3] = i % 2 ? 0.5 : 1e40;
	}
	ck_assert_int_eq(pp_gemm_memo_new(&memo, &hw), 0);
	for (i = 0; i < QUERIES; i++) {
		int q = (int)(rng_next(&rng) % (SHAPES / 4));  /* SHAPES/4 shapes x 4 dtypes */
		pp_dtype dt = (pp_dtype)(rng_next(&rng) % 4);
		int key = q * 4 + (int)dt;
		double want, got;
		if (!seen[key]) { /* scan once per key (the scan is what is slow) */
			want_of[key] = ref_gemm_flops(&hw, dt, shape[q][0], shape[q][1], shape[q][2]);
			got = pp_hw_gemm_flops(&hw, dt, shape[q][0], shape[q][1], shape[q][2]);
			ck_assert(memcmp(&got, &want_of[key], sizeof(got)) == 0);
		}
		want = want_of[key];
		got = pp_gemm_memo_flops(memo, dt, shape[q][0], shape[q][1], shape[q][2]);
		ck_assert_msg(memcmp(&got, &want, sizeof(got)) == 0,
			      "query %d (%g, %g, %g) %s: memo %.17g, linear scan %.17g", i, shape[q][0],
			      shape[q][1], shape[q][2], pp_dtype_name(dt), got, want);
		if (!seen[key]) {
			/* distinct unless an earlier index had the same shape in the same dtype */
			int r, dup = 0;
			for (r = 0; r < SHAPES / 4 && !dup; r++)
				dup = r != q && seen[r * 4 + (int)dt] &&
				      memcmp(shape[r], shape[q], sizeof(shape[q])) == 0;
			seen[key] = 1;
			distinct += !dup;
		}
	}
	/* each distinct (shape, dtype) interpolated once, every repeat answered from the memo */
	ck_assert_uint_eq(pp_gemm_memo_computed(memo), (uint64_t)distinct);
	ck_assert_int_gt(distinct, 100);
	pp_gemm_memo_free(memo);
	free(hw.gemm_table);
	free(shape);
	free(seen);
	free(want_of);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hw");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_add_test(tc, test_dtype);
	tcase_add_test(tc, test_dgx_a100_80g);
	tcase_add_test(tc, test_dgx_a100_40g);
	tcase_add_test(tc, test_dgx_h100);
	tcase_add_test(tc, test_tpu_v4);
	tcase_add_test(tc, test_profiles_2026);
	tcase_add_test(tc, test_gemm_table);
	tcase_add_test(tc, test_gemm_table_fp16_scaling);
	tcase_add_test(tc, test_base_is_valid);
	tcase_add_loop_test(tc, test_reject, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_reject_text);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_gemm_memo_matches_linear_scan);
	/* a hang guard, not a speed test: Check's default of 4 s fails on a busy machine */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
