/* fuzz_hw.c - libFuzzer harness for the hardware profile loader (parplan-hw/1, pp_hw_parse). */
#include "fuzz_common.h"

#include "parplan/hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size);
	pp_hw *hw = NULL;
	pp_error err = PP_ERROR_INIT;
	int rc;

	rc = pp_hw_parse("fuzz.json", text, &hw, &err);
	FZ_REQUIRE(rc == 0 ? hw != NULL : hw == NULL, "a profile exactly when the loader succeeds");
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	pp_hw_free(hw);
	free(text);
	return 0;
}
