/*
 * fuzz_exec.c - libFuzzer harness for the execution stub's input (parplan-exec/1, the stub.json
 * that `parplan emit --format exec` writes and parplan-exec reads with pp_exec_layer_parse; a
 * --plan given to parplan-exec goes through pp_plan_parse, see fuzz_plan.c).  A stub that loads
 * is written back (pp_exec_layer_to_json, byte-stable) and must read back as the same bytes.
 */
#include "fuzz_common.h"

#include "parplan/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size), *j1 = NULL, *j2 = NULL;
	pp_exec_layer L, again;
	pp_error err = PP_ERROR_INIT;
	int rc;

	rc = pp_exec_layer_parse("fuzz.json", text, &L, &err);
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	if (rc == 0) {
		j1 = pp_exec_layer_to_json(&L);
		FZ_REQUIRE(j1 != NULL, "a loaded stub serializes");
		rc = pp_exec_layer_parse("again.json", j1, &again, &err);
		if (rc != 0)
			fprintf(stderr, "fuzz: %s: %s\n", err.path, err.msg);
		FZ_REQUIRE(rc == 0, "the stub a loaded stub writes loads");
		j2 = pp_exec_layer_to_json(&again);
		FZ_REQUIRE(j2 != NULL && strcmp(j1, j2) == 0, "a re-read stub writes the same bytes");
	}
	free(j1);
	free(j2);
	free(text);
	return 0;
}
