/* main.c - the parplan command: one table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	cli_fn fn;
	const char *summary;
} commands[] = {
	{"model", cmd_model, "generate a GPT or Llama operator graph"},
	{"info", cmd_info, "summarise a model graph"},
	{"validate", cmd_validate, "check a model graph and a hardware profile"},
	{"cost", cmd_cost, "time, memory and MFU of one parallel plan"},
	{"calibrate", cmd_calibrate, "hardware profile from parplan-exec measurements"},
	{"search", cmd_search, "find the fastest plan that fits (exhaustive, mcmc, ilp)"},
	{"emit", cmd_emit, "write launcher configs, a report or an SVG timeline of a plan"},
	{"regress", cmd_regress, "check cost predictions against regression cases (CI)"},
};

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: parplan <command> [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nexit codes: 0 ok, 1 no feasible plan or regression drift, 2 bad usage or input\n");
}

int main(int argc, char **argv)
{
	size_t i;
	if (argc < 2) {
		usage(stderr);
		return CLI_BAD;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	return cli_usage("unknown command \"%.40s\" (see parplan --help)", argv[1]);
}
