/*
 * fuzz_plan.c - libFuzzer harness for the plan loader (parplan-plan/1, pp_plan_parse).
 * A plan that loads is written back (pp_plan_to_json) and read again: the text it writes must
 * load, and writing that second plan gives the same bytes (the writer is byte-stable).
 */
#include "fuzz_common.h"

#include "parplan/strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size), *j1 = NULL, *j2 = NULL;
	pp_plan plan, again;
	pp_error err = PP_ERROR_INIT;
	int rc;

	rc = pp_plan_parse("fuzz.json", text, &plan, &err);
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	if (rc == 0) {
		j1 = pp_plan_to_json(&plan);
		FZ_REQUIRE(j1 != NULL, "a loaded plan serializes");
		rc = pp_plan_parse("again.json", j1, &again, &err);
		if (rc != 0)
			fprintf(stderr, "fuzz: %s: %s\n", err.path, err.msg);
		FZ_REQUIRE(rc == 0, "the plan a loaded plan writes loads");
		j2 = pp_plan_to_json(&again);
		FZ_REQUIRE(j2 != NULL && strcmp(j1, j2) == 0, "writing a re-read plan gives the same bytes");
		pp_plan_release(&again);
		pp_plan_release(&plan);
	}
	free(j1);
	free(j2);
	free(text);
	return 0;
}
