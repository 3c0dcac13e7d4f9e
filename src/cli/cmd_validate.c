/* cmd_validate.c - `parplan validate --model M --hw H`: check both files, exit 0 or 2. */
#include <string.h>

#include "cli.h"
#include "parplan/graph.h"
#include "parplan/hw.h"

int cmd_validate(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	const char *model = NULL, *hwp = NULL, *v;
	int i, r, rc = CLI_OK;

	for (i = 1; i < argc; i++) {
		if ((r = cli_opt(argc, argv, &i, "--model", &v)) < 0)
			return CLI_BAD;
		if (r) {
			model = v;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--hw", &v)) < 0)
			return CLI_BAD;
		if (r) {
			hwp = v;
			continue;
		}
		return cli_usage("validate: unknown option \"%.40s\"", argv[i]);
	}
	if (!model && !hwp)
		return cli_usage("usage: parplan validate [--model M] [--hw H]");
	if (model && pp_graph_load(model, &g, &err) < 0)
		rc = cli_error(&err);
	else if (hwp && pp_hw_load(hwp, &hw, &err) < 0)
		rc = cli_error(&err);
	if (rc == CLI_OK) {
		if (g)
			printf("%s: ok (%s, %.4g B parameters, %d layers in %d class%s)\n", model, g->name,
			       (double)g->params / 1e9, g->n_layers, g->n_classes, g->n_classes == 1 ? "" : "es");
		if (hw)
			printf("%s: ok (%s, %d x %s per node, %d per scale-up domain)\n", hwp, hw->name,
			       hw->node_devices, hw->device_name, hw->domain_devices);
	}
	pp_graph_free(g);
	pp_hw_free(hw);
	return rc;
}
