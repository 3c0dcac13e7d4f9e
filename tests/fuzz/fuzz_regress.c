/*
 * fuzz_regress.c - libFuzzer harness for the regression case loader (parplan-regress/1,
 * pp_regress_parse).  Only the case file is read: the models, profiles and plans it names are
 * loaded by pp_regress_run(), which this harness does not call.  A case file that loads is
 * written back (pp_regress_to_json) and read again: that text must load and print the same
 * bytes (regress.h: a file that was just printed and read changes no byte).
 */
#include "fuzz_common.h"

#include "parplan/regress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size), *j1 = NULL, *j2 = NULL;
	pp_regress_file *f = NULL, *again = NULL;
	pp_error err = PP_ERROR_INIT;
	int rc;

	rc = pp_regress_parse("tests/regress/fuzz.json", text, &f, &err);
	FZ_REQUIRE(rc == 0 ? f != NULL : f == NULL, "cases exactly when the loader succeeds");
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	if (rc == 0) {
		j1 = pp_regress_to_json(f);
		FZ_REQUIRE(j1 != NULL, "a loaded case file serializes");
		rc = pp_regress_parse("tests/regress/fuzz.json", j1, &again, &err);
		if (rc != 0)
			fprintf(stderr, "fuzz: %s: %s\n", err.path, err.msg);
		FZ_REQUIRE(rc == 0, "the case file a loaded one writes loads");
		j2 = pp_regress_to_json(again);
		FZ_REQUIRE(j2 != NULL && strcmp(j1, j2) == 0, "a printed and read case file changes no byte");
	}
	pp_regress_free(again);
	pp_regress_free(f);
	free(j1);
	free(j2);
	free(text);
	return 0;
}
