/*
 * fuzz_measurements.c - libFuzzer harness for calibrate's input (parplan-measurements/1, the
 * measurements.json parplan-exec writes).  The public functions that read it are
 * pp_calibrate() (with a base profile, here a fixed copy of tests/data/cpu-base.json) and
 * pp_calib_layer_check() (with a model, here a generated GPT layer of the shape the seed
 * corpus measured: hidden 256, 8 heads, ffn 1024, seq 128, bf16).  A profile that
 * pp_calibrate() writes must load (calib.h: "JSON text that pp_hw_parse() accepts").
 */
#include "fuzz_common.h"

#include "parplan/calib.h"
#include "parplan/graph.h"
#include "parplan/hw.h"

static const char base_hw[] =
	"{\"format\": \"parplan-hw/1\", \"name\": \"cpu-base\","
	" \"source\": \"placeholder profile for fuzzing\","
	" \"device\": {\"name\": \"cpu-core\", \"peak_tflops\": {\"bf16\": 10, \"fp32\": 10},"
	"  \"memory_gib\": 4, \"memory_bw_gbs\": 10, \"gemm_efficiency\": 0.5, \"source\": \"placeholder\"},"
	" \"node\": {\"devices\": 64, \"source\": \"placeholder\","
	"  \"intra\": {\"name\": \"shared memory (MPI)\", \"bw_gbs\": 100, \"latency_us\": 1,"
	"   \"source\": \"placeholder\"}},"
	" \"network\": {\"name\": \"none\", \"bw_gbs\": 1, \"latency_us\": 10, \"source\": \"placeholder\"}}";

static pp_graph *model;  /* read-only after LLVMFuzzerInitialize */
static pp_hw *hw;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pp_model_spec spec = PP_MODEL_SPEC_INIT;
	pp_error err = PP_ERROR_INIT;
	char *text = NULL;

	(void)argc;
	(void)argv;
	spec.name = "fuzz-gpt";
	spec.layers = 2;
	spec.hidden = 256;
	spec.heads = 8;
	spec.ffn = 1024;
	spec.seq = 128;
	spec.vocab = 1000;
	if (pp_model_generate(&spec, &text, &err) < 0 || pp_graph_parse("fuzz-gpt", text, &model, &err) < 0 ||
	    pp_hw_parse("cpu-base", base_hw, &hw, &err) < 0) {
		fprintf(stderr, "fuzz_measurements: setup: %s: %s\n", err.path, err.msg);
		abort();
	}
	free(text);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size), *out = NULL;
	pp_calib_summary sum;
	pp_calib_layer layer;
	pp_error err = PP_ERROR_INIT;
	pp_hw *check = NULL;
	int rc;

	rc = pp_calibrate("fuzz.json", text, "cpu-base.json", base_hw, NULL, &out, &sum, &err);
	FZ_REQUIRE(rc == 0 ? out != NULL : out == NULL, "a profile exactly when calibration succeeds");
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	if (rc == 0) {
		rc = pp_hw_parse("calibrated.json", out, &check, &err);
		if (rc != 0)
			fprintf(stderr, "fuzz: %s: %s\n", err.path, err.msg);
		FZ_REQUIRE(rc == 0, "a calibrated profile loads");
		pp_hw_free(check);
	}
	free(out);
	memset(&err, 0, sizeof(err));
	rc = pp_calib_layer_check("fuzz.json", text, model, hw, &layer, &err);
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	free(text);
	return 0;
}
