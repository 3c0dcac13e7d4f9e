/* fuzz_graph.c - libFuzzer harness for the graph loader (parplan-graph/1, pp_graph_parse). */
#include "fuzz_common.h"

#include "parplan/graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size);
	pp_graph *g = NULL;
	pp_error err = PP_ERROR_INIT;
	int rc;

	rc = pp_graph_parse("fuzz.json", text, &g, &err);
	FZ_REQUIRE(rc == 0 ? g != NULL : g == NULL, "a graph exactly when the loader succeeds");
	FZ_REQUIRE(rc == 0 || err.msg[0], "a failure says why");
	pp_graph_free(g);
	free(text);
	return 0;
}
