/* cmd_info.c - `parplan info --model M [--json]`: name, parameters (total and active), layers,
 * classes, FLOPs. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "json_int.h"
#include "parplan/graph.h"

int cmd_info(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	const char *model = NULL, *v;
	int i, r, json = 0;

	for (i = 1; i < argc; i++) {
		if ((r = cli_opt(argc, argv, &i, "--model", &v)) < 0)
			return CLI_BAD;
		if (r) {
			model = v;
			continue;
		}
		if ((r = cli_flag(argv, i, "--json")) != 0) {
			if (r < 0)
				return CLI_BAD;
			json = 1;
			continue;
		}
		return cli_usage("info: unknown option \"%.40s\"", argv[i]);
	}
	if (!model)
		return cli_usage("usage: parplan info --model M [--json]");
	if (pp_graph_load(model, &g, &err) < 0)
		return cli_error(&err);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;
		cJSON_AddStringToObject(o, "name", g->name);
		/* params: the main model as published counts it (MTP modules apart, in mtp_params) */
		cJSON_AddNumberToObject(o, "params", (double)(g->params - g->mtp_params));
		cJSON_AddNumberToObject(o, "active_params", (double)g->active_params);
		cJSON_AddNumberToObject(o, "mtp_params", (double)g->mtp_params);
		cJSON_AddNumberToObject(o, "experts", (double)g->experts);
		cJSON_AddNumberToObject(o, "topk", (double)g->topk);
		cJSON_AddNumberToObject(o, "moe_layers", g->moe_layers);
		cJSON_AddNumberToObject(o, "layers", g->n_layers);
		cJSON_AddNumberToObject(o, "layer_classes", g->n_classes);
		cJSON_AddNumberToObject(o, "flops_per_token", g->flops_per_token);
		cJSON_AddNumberToObject(o, "gemm_flops_per_token", g->gemm_flops_per_token);
		cJSON_AddNumberToObject(o, "hidden", (double)g->hidden);
		cJSON_AddNumberToObject(o, "heads", (double)g->heads);
		cJSON_AddNumberToObject(o, "kv_heads", (double)g->kv_heads);
		cJSON_AddNumberToObject(o, "seq", (double)g->seq);
		cJSON_AddNumberToObject(o, "vocab", (double)g->vocab);
		s = pp_json_print(o);
		if (s)
			fputs(s, stdout);
		free(s);
		cJSON_Delete(o);
	} else {
		int c;
		printf("model            %s\n", g->name);
		printf("parameters       %.4g B (%lld)\n", (double)(g->params - g->mtp_params) / 1e9,
		       (long long)(g->params - g->mtp_params));
		if (g->experts || g->mtp_params)
			printf("active           %.4g B per token (%lld)\n", (double)g->active_params / 1e9,
			       (long long)g->active_params);
		if (g->experts)
			printf("experts          %lld routed, top-%lld, in %d of %d layers\n", (long long)g->experts,
			       (long long)g->topk, g->moe_layers, g->n_layers);
		if (g->mtp_params)
			printf("MTP modules      %d, %.4g B more parameters\n", g->mtp_depth, (double)g->mtp_params / 1e9);
		printf("layers           %d\n", g->n_layers);
		printf("layer classes    %d", g->n_classes);
		for (c = 0; c < g->n_classes; c++)
			printf("%s%d x %d ops", c ? ", " : " (", g->classes[c].n_layers, g->classes[c].ops_per_layer);
		printf(")\n");
		printf("hidden / heads   %lld / %lld (kv %lld), ffn %lld\n", (long long)g->hidden,
		       (long long)g->heads, (long long)g->kv_heads, (long long)g->ffn);
		printf("seq / vocab      %lld / %lld\n", (long long)g->seq, (long long)g->vocab);
		printf("ops / tensors    %d / %d\n", g->n_ops, g->n_tensors);
		printf("forward FLOPs    %.4g GFLOP per token (%.4g of them in matrix products)\n",
		       g->flops_per_token / 1e9, g->gemm_flops_per_token / 1e9);
		printf("training FLOPs   %.4g GFLOP per token (forward + backward, 3x matrix products)\n",
		       3 * g->gemm_flops_per_token / 1e9);
	}
	pp_graph_free(g);
	return CLI_OK;
}
