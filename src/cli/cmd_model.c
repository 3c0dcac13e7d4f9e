/*
 * cmd_model.c - `parplan model gpt|llama|moe ... -o FILE`: generate an operator graph;
 * `parplan model hf CONFIG.json [--seq N] [--name N] [-o FILE]`: from a Hugging Face config.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parplan/graph.h"
#include "parplan/io.h"

/* write @text (already checked to load) to @out, or stdout when @out is NULL */
static int write_graph(const char *out, char *text)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *check = NULL;
	int rc = CLI_OK;
	if (pp_graph_parse(out ? out : "<stdout>", text, &check, &err) < 0)
		rc = cli_error(&err);
	else if (out && pp_write_atomic(out, text, strlen(text), &err) < 0)
		rc = cli_error(&err);
	else if (!out)
		fputs(text, stdout);
	pp_graph_free(check);
	return rc;
}

static int model_hf(int argc, char **argv)
{
	pp_error err = PP_ERROR_INIT;
	const char *out = NULL, *name = NULL, *config = NULL, *v;
	char *text = NULL;
	long long seq = 0;
	int i, r, rc;

	for (i = 2; i < argc; i++) {
		if ((r = cli_opt(argc, argv, &i, "--seq", &v)) < 0)
			return CLI_BAD;
		if (r) {
			if (cli_int("--seq", v, 1, 1 << 24, &seq) < 0)
				return CLI_BAD;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--name", &v)) < 0)
			return CLI_BAD;
		if (r) {
			name = v;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "-o", &v)) < 0)
			return CLI_BAD;
		if (r) {
			out = v;
			continue;
		}
		if (argv[i][0] == '-' || config)
			return cli_usage("model hf: unknown option \"%.40s\"", argv[i]);
		config = argv[i];
	}
	if (!config)
		return cli_usage("usage: parplan model hf CONFIG.json [--seq N] [--name N] [-o FILE]");
	if (pp_model_hf(config, name, (int64_t)seq, &text, &err) < 0)
		return cli_error(&err);
	rc = write_graph(out, text);
	free(text);
	return rc;
}

int cmd_model(int argc, char **argv)
{
	pp_model_spec s = PP_MODEL_SPEC_INIT;
	pp_error err = PP_ERROR_INIT;
	const char *out = NULL, *v;
	char *text = NULL;
	int i, r, rc = CLI_OK, moe = 0;
	long long n;

	if (argc < 2)
		return cli_usage("usage: parplan model gpt|llama|moe --name N --layers L --hidden H --heads A "
				 "--seq S --vocab V [--ffn F] [--kv-heads K] [--tied-embeddings] -o FILE "
				 "(moe: --experts E --topk K --moe-ffn F ..., docs/formats.md); parplan model hf CONFIG");
	if (!strcmp(argv[1], "hf"))
		return model_hf(argc, argv);
	if (!strcmp(argv[1], "gpt"))
		s.family = PP_MODEL_GPT;
	else if (!strcmp(argv[1], "llama"))
		s.family = PP_MODEL_LLAMA;
	else if (!strcmp(argv[1], "moe"))
		s.family = PP_MODEL_LLAMA, moe = 1; /* a llama-family layer with the MoE options */
	else
		return cli_usage("model: unknown family \"%.40s\" (gpt, llama, moe or hf)", argv[1]);
	for (i = 2; i < argc; i++) {
		/* the generator's limits (pp_model_generate), named per flag here */
		struct { const char *name; int64_t *dst; long long max; } ints[] = {
			{"--layers", &s.layers, 100000},  {"--hidden", &s.hidden, 1 << 24},
			{"--heads", &s.heads, 1 << 24},   {"--seq", &s.seq, 1 << 24},
			{"--vocab", &s.vocab, 1 << 26},   {"--ffn", &s.ffn, 1 << 26},
			{"--kv-heads", &s.kv_heads, 1 << 24},
			/* model moe (pp_moe_spec) */
			{"--head-dim", &s.head_dim, 1 << 16},  {"--experts", &s.moe.experts, 65536},
			{"--topk", &s.moe.topk, 65536},        {"--moe-ffn", &s.moe.moe_ffn, 1 << 24},
			{"--shared-ffn", &s.moe.shared_ffn, 1 << 26},
			{"--first-k-dense", &s.moe.first_k_dense, 100000},
			{"--moe-layer-freq", &s.moe.layer_freq, 100000},
			{"--q-lora-rank", &s.moe.q_lora, 1 << 20}, {"--kv-lora-rank", &s.moe.kv_lora, 1 << 20},
			{"--qk-nope-dim", &s.moe.qk_nope, 1 << 16}, {"--qk-rope-dim", &s.moe.qk_rope, 1 << 16},
			{"--v-head-dim", &s.moe.v_head, 1 << 16}};
		/* on/off flags of model moe */
		struct { const char *name; int *dst; } flags[] = {
			{"--qk-norm", &s.qk_norm}, {"--sigmoid-router", &s.moe.sigmoid},
			{"--router-bias", &s.moe.score_bias}};
		size_t k;
		int matched = 0;
		for (k = 0; k < sizeof(ints) / sizeof(ints[0]) && !matched; k++) {
			if (!moe && k >= 7)
				break; /* the MoE options are model moe's */
			if ((r = cli_opt(argc, argv, &i, ints[k].name, &v)) < 0)
				return CLI_BAD;
			if (r) {
				if (cli_int(ints[k].name, v, 1, ints[k].max, &n) < 0)
					return CLI_BAD;
				*ints[k].dst = n;
				matched = 1;
			}
		}
		for (k = 0; moe && k < sizeof(flags) / sizeof(flags[0]) && !matched; k++) {
			if ((r = cli_flag(argv, i, flags[k].name)) < 0)
				return CLI_BAD;
			if (r) {
				*flags[k].dst = 1;
				matched = 1;
			}
		}
		if (moe && !matched) {
			if ((r = cli_opt(argc, argv, &i, "--mtp", &v)) < 0)
				return CLI_BAD;
			if (r) {
				if (cli_int("--mtp", v, 0, 16, &n) < 0)
					return CLI_BAD;
				s.moe.mtp = (int)n;
				matched = 1;
			}
		}
		if (matched)
			continue;
		if ((r = cli_opt(argc, argv, &i, "--name", &v)) < 0)
			return CLI_BAD;
		if (r) {
			s.name = v;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "-o", &v)) < 0)
			return CLI_BAD;
		if (r) {
			out = v;
			continue;
		}
		if ((r = cli_flag(argv, i, "--tied-embeddings")) != 0) {
			if (r < 0)
				return CLI_BAD;
			s.tied_embeddings = 1;
			continue;
		}
		return cli_usage("model: unknown option \"%.40s\"", argv[i]);
	}
	if (!out)
		return cli_usage("model: -o FILE is required");
	if (!s.name)
		return cli_usage("model: --name is required");
	if (moe && !s.moe.experts)
		return cli_usage("model moe: --experts is required");
	if (pp_model_generate(&s, &text, &err) < 0)
		return cli_error(&err);
	/* what we write must load: check before writing anything */
	rc = write_graph(out, text);
	free(text);
	return rc;
}
