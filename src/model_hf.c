/*
 * model_hf.c - parplan-graph/1 graphs from Hugging Face `config.json` files.
 *
 * One table row per architecture (hf_archs[]) says how its config's keys map onto the layer
 * that pp_model_generate() writes: which biases it always has, QK-norm, the extra norms of
 * Gemma's "sandwich" layer, how its layers choose a sliding window, which keys name its
 * activation, and which keys it reads at all.  A key that no row and no common list knows is
 * refused by name: a config field parplan does not understand may change the model (experts,
 * quantisation, a vision tower), so it is never ignored silently.  New architectures (issue 18:
 * mixture-of-experts and multi-head latent attention) are new rows with new attn/ffn kinds.
 *
 * Sources: Hugging Face transformers, src/transformers/models/{llama,mistral,qwen2,qwen3,gemma2,
 * gemma3}/configuration_*.py and modeling_*.py at commit d98ac17cc00f337eeee9a1e2380072dc8cafabd4
 * (defaults of each PretrainedConfig, the layers each modeling file builds).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_int.h"
#include "parplan/graph.h"
#include "parplan/name.h"

#define HF_MAX (1LL << 30) /* largest window or context length accepted */

typedef enum hf_windows {
	HF_WIN_NONE = 0,  /* every layer attends to the whole sequence (Llama) */
	HF_WIN_ALL,       /* sliding_window, when set, applies to every layer (Mistral) */
	HF_WIN_QWEN2,     /* use_sliding_window: layers >= max_window_layers are windowed */
	HF_WIN_ALTERNATE, /* even layers windowed, odd layers global (Gemma 2) */
	HF_WIN_PATTERN    /* layer i global when (i + 1) % sliding_window_pattern == 0 (Gemma 3) */
} hf_windows;

typedef enum hf_attn { HF_ATTN_GQA = 0, HF_ATTN_MLA } hf_attn; /* MLA: DeepSeek-V3 */
typedef enum hf_ffn {
	HF_FFN_DENSE = 0,
	HF_FFN_MOE_MIXTRAL, /* num_local_experts of width intermediate_size, softmax top-k */
	HF_FFN_MOE_QWEN3,   /* num_experts of moe_intermediate_size, decoder_sparse_step */
	HF_FFN_MOE_DEEPSEEK /* shared + routed experts, first_k_dense_replace, sigmoid, MTP */
} hf_ffn;

typedef struct hf_arch {
	const char *arch;        /* config "architectures"[0] */
	const char *model_type;  /* config "model_type" */
	const char *act_key;     /* key naming the MLP activation */
	const char *act_default; /* its default in the PretrainedConfig */
	int tied_default;        /* tie_word_embeddings default */
	int qkv_bias_always;     /* q, k, v projections always have biases (Qwen2) */
	int qk_norm, sandwich_norm, embed_scale;
	hf_windows windows;
	hf_attn attn;
	hf_ffn ffn;
	double rope_theta_default;
	const char *const *keys; /* keys this architecture reads beyond hf_common[] */
} hf_arch;

/* keys every row reads */
static const char *const hf_common[] = {
	"architectures", "model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
	"num_attention_heads", "num_key_value_heads", "head_dim", "vocab_size",
	"max_position_embeddings", "rope_theta", "rope_scaling", "rms_norm_eps",
	"tie_word_embeddings", "attention_dropout", NULL};

/* keys that do not change the model's shape, cost or training: tokens, dtypes, inference */
static const char *const hf_ignored[] = {
	"bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "transformers_version",
	"initializer_range", "use_cache", "_name_or_path", "cache_implementation", "pretraining_tp",
	"hidden_act", NULL};

static const char *const keys_llama[] = {"hidden_act", "attention_bias", "mlp_bias", NULL};
static const char *const keys_mistral[] = {"hidden_act", "sliding_window", NULL};
static const char *const keys_qwen2[] = {"hidden_act", "sliding_window", "use_sliding_window",
					 "max_window_layers", "use_mrope", "layer_types", NULL};
static const char *const keys_qwen3[] = {"hidden_act", "attention_bias", "sliding_window",
					 "use_sliding_window", "max_window_layers", "layer_types", NULL};
static const char *const keys_gemma2[] = {"hidden_act", "hidden_activation", "attention_bias",
					  "sliding_window", "sliding_window_size", "layer_types",
					  "query_pre_attn_scalar",
					  "attn_logit_softcapping", "final_logit_softcapping", NULL};
static const char *const keys_gemma3[] = {"hidden_activation", "attention_bias", "sliding_window",
					  "sliding_window_pattern", "layer_types",
					  "query_pre_attn_scalar", "attn_logit_softcapping",
					  "final_logit_softcapping", "rope_local_base_freq", NULL};

/* mixtures of experts (issue 18; transformers models/{mixtral,qwen3_moe,deepseek_v3}/
 * configuration_*.py and modeling_*.py at the commit above): the router's training-time
 * knobs (aux-loss coefficients, jitter, top-k normalisation, the scaling factor, router logits
 * output, DeepSeek's inference ep_size) change no shape or cost and are read and ignored */
static const char *const keys_mixtral[] = {"hidden_act", "sliding_window", "num_local_experts",
					   "num_experts_per_tok", "output_router_logits",
					   "router_aux_loss_coef", "router_jitter_noise", NULL};
static const char *const keys_qwen3_moe[] = {"hidden_act", "attention_bias", "sliding_window",
					     "use_sliding_window", "max_window_layers", "layer_types",
					     "num_experts", "num_experts_per_tok", "moe_intermediate_size",
					     "decoder_sparse_step", "norm_topk_prob", "output_router_logits",
					     "router_aux_loss_coef", "mlp_only_layers", NULL};
static const char *const keys_deepseek_v3[] = {"hidden_act", "attention_bias", "n_routed_experts",
					       "n_shared_experts", "num_experts_per_tok",
					       "moe_intermediate_size", "first_k_dense_replace",
					       "moe_layer_freq", "n_group", "topk_group", "topk_method",
					       "norm_topk_prob", "routed_scaling_factor", "scoring_func",
					       "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
					       "qk_rope_head_dim", "v_head_dim", "num_nextn_predict_layers",
					       "ep_size", "aux_loss_alpha", "seq_aux", "rope_interleave",
					       /* the published checkpoint's FP8 storage and its remote
						* code pointers: neither changes the trained graph */
					       "quantization_config", "auto_map", NULL};

static const hf_arch hf_archs[] = {
	/* arch, model_type, act key, act default, tied, qkv bias, qk norm, sandwich, embed scale */
	{"LlamaForCausalLM", "llama", "hidden_act", "silu", 0, 0, 0, 0, 0, HF_WIN_NONE, HF_ATTN_GQA,
	 HF_FFN_DENSE, 10000.0, keys_llama},
	{"MistralForCausalLM", "mistral", "hidden_act", "silu", 0, 0, 0, 0, 0, HF_WIN_ALL, HF_ATTN_GQA,
	 HF_FFN_DENSE, 10000.0, keys_mistral},
	{"Qwen2ForCausalLM", "qwen2", "hidden_act", "silu", 0, 1, 0, 0, 0, HF_WIN_QWEN2, HF_ATTN_GQA,
	 HF_FFN_DENSE, 10000.0, keys_qwen2},
	{"Qwen3ForCausalLM", "qwen3", "hidden_act", "silu", 0, 0, 1, 0, 0, HF_WIN_QWEN2, HF_ATTN_GQA,
	 HF_FFN_DENSE, 10000.0, keys_qwen3},
	{"Gemma2ForCausalLM", "gemma2", "hidden_activation", "gelu_pytorch_tanh", 1, 0, 0, 1, 1,
	 HF_WIN_ALTERNATE, HF_ATTN_GQA, HF_FFN_DENSE, 10000.0, keys_gemma2},
	{"Gemma3ForCausalLM", "gemma3_text", "hidden_activation", "gelu_pytorch_tanh", 1, 0, 1, 1, 1,
	 HF_WIN_PATTERN, HF_ATTN_GQA, HF_FFN_DENSE, 1000000.0, keys_gemma3},
	{"MixtralForCausalLM", "mixtral", "hidden_act", "silu", 0, 0, 0, 0, 0, HF_WIN_ALL, HF_ATTN_GQA,
	 HF_FFN_MOE_MIXTRAL, 1000000.0, keys_mixtral},
	{"Qwen3MoeForCausalLM", "qwen3_moe", "hidden_act", "silu", 0, 0, 1, 0, 0, HF_WIN_QWEN2,
	 HF_ATTN_GQA, HF_FFN_MOE_QWEN3, 10000.0, keys_qwen3_moe},
	{"DeepseekV3ForCausalLM", "deepseek_v3", "hidden_act", "silu", 0, 0, 0, 0, 0, HF_WIN_NONE,
	 HF_ATTN_MLA, HF_FFN_MOE_DEEPSEEK, 10000.0, keys_deepseek_v3},
};

static int in_list(const char *const *l, const char *k)
{
	for (; l && *l; l++)
		if (!strcmp(*l, k))
			return 1;
	return 0;
}

typedef struct hf_ctx {
	const char *file;
	const cJSON *root;
	pp_error *err;
} hf_ctx;

static int bad(const hf_ctx *c, const char *key, const char *msg)
{
	return pp_error_set(c->err, PP_EINVALID, c->file, key, "%s", msg);
}

/* integer key: 0 when absent or null and not required */
static int get_int(const hf_ctx *c, const cJSON *o, const char *key, int req, int64_t max, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v)) {
		if (req)
			return bad(c, key, "is required");
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
	    v->valuedouble > (double)max)
		return pp_error_set(c->err, PP_EINVALID, c->file, key, "must be a whole number from 1 to %lld",
				    (long long)max);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int get_num(const hf_ctx *c, const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e12)
		return bad(c, key, "must be a number from 0 to 1e12");
	*out = v->valuedouble;
	return 0;
}

static int get_bool(const hf_ctx *c, const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return bad(c, key, "must be true or false");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int get_str(const hf_ctx *c, const cJSON *o, const char *key, char *dst, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
		return bad(c, key, "must be a short string");
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

/*
 * rope_scaling: "llama3" (Llama 3.1: factor, low/high_freq_factor, original context), "linear"
 * (Gemma 3), "yarn" and "dynamic" change only the rotary frequencies, not the cost; they are kept
 * for the launcher.  Anything else is refused.
 */
static int read_rope(const hf_ctx *c, pp_model_settings *m)
{
	static const char *const known[] = {"rope_type", "type", "factor", "low_freq_factor",
					    "high_freq_factor", "original_max_position_embeddings",
					    "beta_fast", "beta_slow", "attention_factor", "mrope_section",
					    "mscale", "mscale_all_dim", NULL};
	static const char *const types[] = {"llama3", "linear", "yarn", "dynamic", "default", NULL};
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(c->root, "rope_scaling"), *e;
	char ty[16] = "";
	int rc;

	if (!rs || cJSON_IsNull(rs))
		return 0;
	if (!cJSON_IsObject(rs))
		return bad(c, "rope_scaling", "must be an object or null");
	for (e = rs->child; e; e = e->next)
		if (!in_list(known, e->string)) {
			char p[PP_JPATH_MAX];
			pp_jpath_key(p, "rope_scaling", e->string);
			return pp_error_set(c->err, PP_EINVALID, c->file, p, "parplan cannot honour this key");
		}
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rs, "rope_type")))
		rc = get_str(c, rs, "rope_type", ty, sizeof(ty));
	else
		rc = get_str(c, rs, "type", ty, sizeof(ty));
	if (rc < 0)
		return rc;
	if (!in_list(types, ty))
		return pp_error_set(c->err, PP_EINVALID, c->file, "rope_scaling.rope_type",
				    "unknown rope scaling \"%.16s\" (llama3, linear, yarn, dynamic)", ty);
	if (cJSON_GetObjectItemCaseSensitive(rs, "mrope_section"))
		return pp_error_set(c->err, PP_EINVALID, c->file, "rope_scaling.mrope_section",
				    "multimodal rotary positions are not modelled");
	if (!strcmp(ty, "default"))
		return 0;
	memcpy(m->rope_scaling, ty, sizeof(ty));
	if ((rc = get_num(c, rs, "factor", &m->rope_factor)) < 0 ||
	    (rc = get_num(c, rs, "low_freq_factor", &m->rope_low_freq_factor)) < 0 ||
	    (rc = get_num(c, rs, "high_freq_factor", &m->rope_high_freq_factor)) < 0 ||
	    (rc = get_int(c, rs, "original_max_position_embeddings", 0, HF_MAX,
			  &m->rope_original_max_positions)) < 0)
		return rc;
	return 0;
}

/* the window of each layer, in @win (spec.layers entries); sets m->sliding_window */
static int read_windows(const hf_ctx *c, const hf_arch *a, int64_t L, pp_model_settings *m, int64_t *win)
{
	const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c->root, "layer_types");
	int64_t w = 0, pattern = 0, max_window_layers = 0, l;
	int use = 0, rc;

	if ((rc = get_int(c, c->root, "sliding_window", 0, HF_MAX, &w)) < 0 ||
	    (rc = get_int(c, c->root, "sliding_window_pattern", 0, 1 << 20, &pattern)) < 0 ||
	    (rc = get_int(c, c->root, "max_window_layers", 0, 1 << 20, &max_window_layers)) < 0 ||
	    (rc = get_bool(c, c->root, "use_sliding_window", &use)) < 0)
		return rc;
	if (lt && !cJSON_IsNull(lt)) {
		const cJSON *e;
		if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != L)
			return pp_error_set(c->err, PP_EINVALID, c->file, "layer_types",
					    "must list one type for each of the %lld layers", (long long)L);
		for (l = 0, e = lt->child; e; e = e->next, l++) {
			if (cJSON_IsString(e) && !strcmp(e->valuestring, "full_attention")) {
				win[l] = 0;
			} else if (cJSON_IsString(e) && !strcmp(e->valuestring, "sliding_attention")) {
				if (!w)
					return bad(c, "layer_types", "sliding layers need sliding_window");
				win[l] = w;
			} else {
				char p[PP_JPATH_MAX];
				pp_jpath_idx(p, "layer_types", (int)l);
				return pp_error_set(c->err, PP_EINVALID, c->file, p,
						    "unknown layer type (full_attention or sliding_attention)");
			}
		}
		m->sliding_window = w;
		for (l = 0; l < L && !win[l]; l++)
			;
		if (l == L)
			m->sliding_window = 0;
		return 0;
	}
	for (l = 0; l < L; l++) {
		switch (a->windows) {
		case HF_WIN_NONE:
			win[l] = 0;
			break;
		case HF_WIN_ALL:
			win[l] = w;
			break;
		case HF_WIN_QWEN2:
			win[l] = use && w && l >= max_window_layers ? w : 0;
			break;
		case HF_WIN_ALTERNATE:
			win[l] = l % 2 == 0 ? w : 0;
			break;
		case HF_WIN_PATTERN:
			win[l] = pattern > 0 && (l + 1) % pattern == 0 ? 0 : w;
			break;
		}
	}
	if (a->windows == HF_WIN_NONE && w)
		return pp_error_set(c->err, PP_EINVALID, c->file, "sliding_window",
				    "%s does not use a sliding window", a->arch);
	for (l = 0; l < L && !win[l]; l++)
		;
	m->sliding_window = l < L ? w : 0;
	return 0;
}

/* The MoE, MLA and MTP settings of @a's config into @s->moe (pp_moe_spec). */
static int read_moe(const hf_ctx *c, const hf_arch *a, pp_model_spec *s)
{
	pp_moe_spec *m = &s->moe;
	const cJSON *r = c->root, *mlp_only = cJSON_GetObjectItemCaseSensitive(r, "mlp_only_layers");
	int64_t step = 1, shared = 0;
	char scoring[16] = "softmax", method[16] = "";
	int rc;
	switch (a->ffn) {
	case HF_FFN_DENSE:
		return 0;
	case HF_FFN_MOE_MIXTRAL:
		m->moe_ffn = s->ffn;
		if ((rc = get_int(c, r, "num_local_experts", 1, 65536, &m->experts)) < 0 ||
		    (rc = get_int(c, r, "num_experts_per_tok", 1, 65536, &m->topk)) < 0)
			return rc;
		break;
	case HF_FFN_MOE_QWEN3:
		if ((rc = get_int(c, r, "num_experts", 1, 65536, &m->experts)) < 0 ||
		    (rc = get_int(c, r, "num_experts_per_tok", 1, 65536, &m->topk)) < 0 ||
		    (rc = get_int(c, r, "moe_intermediate_size", 1, 1 << 24, &m->moe_ffn)) < 0 ||
		    (rc = get_int(c, r, "decoder_sparse_step", 0, 1 << 20, &step)) < 0)
			return rc;
		/* Qwen3MoeDecoderLayer: sparse when (layer + 1) % step == 0 and not in mlp_only_layers */
		if (step != 1)
			return bad(c, "decoder_sparse_step", "must be 1: every layer a mixture of experts");
		if (mlp_only && !cJSON_IsNull(mlp_only) && (!cJSON_IsArray(mlp_only) || cJSON_GetArraySize(mlp_only)))
			return bad(c, "mlp_only_layers", "must be empty: dense layers among MoE ones are not modelled");
		break;
	case HF_FFN_MOE_DEEPSEEK:
		if ((rc = get_int(c, r, "n_routed_experts", 1, 65536, &m->experts)) < 0 ||
		    (rc = get_int(c, r, "num_experts_per_tok", 1, 65536, &m->topk)) < 0 ||
		    (rc = get_int(c, r, "moe_intermediate_size", 1, 1 << 24, &m->moe_ffn)) < 0 ||
		    (rc = get_int(c, r, "n_shared_experts", 0, 1024, &shared)) < 0 ||
		    (rc = get_int(c, r, "first_k_dense_replace", 0, 100000, &m->first_k_dense)) < 0 ||
		    (rc = get_int(c, r, "moe_layer_freq", 0, 100000, &m->layer_freq)) < 0 ||
		    (rc = get_str(c, r, "scoring_func", scoring, sizeof(scoring))) < 0 ||
		    (rc = get_str(c, r, "topk_method", method, sizeof(method))) < 0)
			return rc;
		if (strcmp(scoring, "sigmoid") && strcmp(scoring, "softmax"))
			return bad(c, "scoring_func", "must be sigmoid or softmax");
		/* DeepseekV3TopkRouter: the score-correction bias of aux-loss-free balancing */
		m->sigmoid = !strcmp(scoring, "sigmoid");
		m->score_bias = !strcmp(method, "noaux_tc");
		m->shared_ffn = shared * m->moe_ffn;
		{
			int64_t mtp = 0;
			if ((rc = get_int(c, r, "num_nextn_predict_layers", 0, 16, &mtp)) < 0)
				return rc;
			m->mtp = (int)mtp;
		}
		break;
	}
	if (a->attn == HF_ATTN_MLA &&
	    ((rc = get_int(c, r, "q_lora_rank", 0, 1 << 20, &m->q_lora)) < 0 ||
	     (rc = get_int(c, r, "kv_lora_rank", 1, 1 << 20, &m->kv_lora)) < 0 ||
	     (rc = get_int(c, r, "qk_nope_head_dim", 1, 1 << 16, &m->qk_nope)) < 0 ||
	     (rc = get_int(c, r, "qk_rope_head_dim", 1, 1 << 16, &m->qk_rope)) < 0 ||
	     (rc = get_int(c, r, "v_head_dim", 1, 1 << 16, &m->v_head)) < 0))
		return rc;
	return 0;
}

int pp_model_hf(const char *path, const char *name, int64_t seq, char **out, pp_error *err)
{
	pp_model_spec s = PP_MODEL_SPEC_INIT;
	pp_model_settings m;
	cJSON *root = NULL;
	const cJSON *archs, *e;
	const hf_arch *a = NULL;
	hf_ctx c;
	int64_t *win = NULL, v = 0;
	char base[128], mt[64] = "";
	int rc, tied, bias = 0, mlp_bias = 0, mrope = 0;
	double dropout = 0;
	size_t k;

	*out = NULL;
	memset(&m, 0, sizeof(m));
	if ((rc = pp_json_load(path, &root, err)) < 0)
		return rc;
	c.file = path;
	c.root = root;
	c.err = err;
	if (!cJSON_IsObject(root)) {
		rc = pp_error_set(err, PP_EINVALID, path, NULL, "a Hugging Face config must be a JSON object");
		goto done;
	}
	archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
	if (!cJSON_IsArray(archs) || cJSON_GetArraySize(archs) != 1 || !cJSON_IsString(archs->child)) {
		rc = bad(&c, "architectures", "must list one architecture");
		goto done;
	}
	for (k = 0; k < sizeof(hf_archs) / sizeof(hf_archs[0]); k++)
		if (!strcmp(hf_archs[k].arch, archs->child->valuestring))
			a = &hf_archs[k];
	if (!a) {
		rc = pp_error_set(err, PP_EINVALID, path, "architectures[0]",
				  "unsupported architecture \"%.64s\" (LlamaForCausalLM, MistralForCausalLM, "
				  "Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, "
				  "MixtralForCausalLM, Qwen3MoeForCausalLM, DeepseekV3ForCausalLM)",
				  archs->child->valuestring);
		goto done;
	}
	if ((rc = get_str(&c, root, "model_type", mt, sizeof(mt))) < 0)
		goto done;
	if (mt[0] && strcmp(mt, a->model_type)) {
		rc = pp_error_set(err, PP_EINVALID, path, "model_type", "\"%.32s\" is not %s's \"%s\"", mt,
				  a->arch, a->model_type);
		goto done;
	}
	for (e = root->child; e; e = e->next)
		if (!in_list(hf_common, e->string) && !in_list(a->keys, e->string) &&
		    !in_list(hf_ignored, e->string)) {
			rc = pp_error_set(err, PP_EINVALID, path, e->string,
					  "parplan cannot honour this key for %s", a->arch);
			goto done;
		}
	s.family = PP_MODEL_LLAMA;
	if ((rc = get_int(&c, root, "num_hidden_layers", 1, 100000, &s.layers)) < 0 ||
	    (rc = get_int(&c, root, "hidden_size", 1, 1 << 24, &s.hidden)) < 0 ||
	    (rc = get_int(&c, root, "intermediate_size", 1, 1 << 26, &s.ffn)) < 0 ||
	    (rc = get_int(&c, root, "num_attention_heads", 1, 1 << 24, &s.heads)) < 0 ||
	    (rc = get_int(&c, root, "num_key_value_heads", 0, 1 << 24, &s.kv_heads)) < 0 ||
	    (rc = get_int(&c, root, "head_dim", 0, 1 << 16, &s.head_dim)) < 0 ||
	    (rc = get_int(&c, root, "vocab_size", 1, 1 << 26, &s.vocab)) < 0 ||
	    (rc = get_int(&c, root, "max_position_embeddings", 0, 1 << 24, &m.max_positions)) < 0 ||
	    (rc = get_num(&c, root, "rope_theta", &m.rope_theta)) < 0 ||
	    (rc = get_num(&c, root, "rope_local_base_freq", &m.rope_local_theta)) < 0 ||
	    (rc = get_num(&c, root, "rms_norm_eps", &m.norm_eps)) < 0 ||
	    (rc = get_num(&c, root, "attn_logit_softcapping", &m.attn_softcap)) < 0 ||
	    (rc = get_num(&c, root, "final_logit_softcapping", &m.final_softcap)) < 0 ||
	    (rc = get_num(&c, root, "query_pre_attn_scalar", &m.query_pre_attn_scalar)) < 0 ||
	    (rc = get_num(&c, root, "attention_dropout", &dropout)) < 0 ||
	    (rc = get_bool(&c, root, "attention_bias", &bias)) < 0 ||
	    (rc = get_bool(&c, root, "mlp_bias", &mlp_bias)) < 0 ||
	    (rc = get_bool(&c, root, "use_mrope", &mrope)) < 0 ||
	    (rc = get_int(&c, root, "pretraining_tp", 0, 1 << 20, &v)) < 0 ||
	    (rc = read_rope(&c, &m)) < 0)
		goto done;
	if (dropout > 0) {
		rc = bad(&c, "attention_dropout", "must be 0: attention dropout is not modelled");
		goto done;
	}
	if (mrope) {
		rc = bad(&c, "use_mrope", "must be false: multimodal rotary positions are not modelled");
		goto done;
	}
	snprintf(m.architecture, sizeof(m.architecture), "%s", a->arch);
	snprintf(m.activation, sizeof(m.activation), "%s", a->act_default);
	if ((rc = get_str(&c, root, a->act_key, m.activation, sizeof(m.activation))) < 0)
		goto done;
	if (!m.rope_theta)
		m.rope_theta = a->rope_theta_default;
	snprintf(m.norm, sizeof(m.norm), "rmsnorm");
	snprintf(m.position, sizeof(m.position), "rope");
	tied = a->tied_default;
	if ((rc = get_bool(&c, root, "tie_word_embeddings", &tied)) < 0)
		goto done;
	s.tied_embeddings = tied;
	s.qkv_bias = a->qkv_bias_always || bias;
	s.out_bias = bias;
	s.mlp_bias = mlp_bias;
	s.qk_norm = a->qk_norm;
	s.sandwich_norm = a->sandwich_norm;
	m.embed_scale = a->embed_scale;
	if (!s.head_dim) {
		if (s.hidden % s.heads) {
			rc = pp_error_set(err, PP_EINVALID, path, "num_attention_heads",
					  "%lld heads do not divide hidden_size %lld and no head_dim is given",
					  (long long)s.heads, (long long)s.hidden);
			goto done;
		}
		s.head_dim = s.hidden / s.heads;
	}
	if (!seq)
		seq = m.rope_original_max_positions ? m.rope_original_max_positions : m.max_positions;
	if (!seq) {
		rc = pp_error_set(err, PP_EINVALID, path, "max_position_embeddings",
				  "no context length in the config: give --seq");
		goto done;
	}
	if (m.max_positions && seq > m.max_positions) {
		rc = pp_error_set(err, PP_EINVALID, NULL, "--seq", "%lld is longer than the model's "
				  "max_position_embeddings %lld", (long long)seq, (long long)m.max_positions);
		goto done;
	}
	s.seq = seq;
	if (!(win = calloc((size_t)s.layers, sizeof(*win)))) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	if ((rc = read_windows(&c, a, s.layers, &m, win)) < 0)
		goto done;
	s.windows = win;
	s.settings = &m;
	if ((rc = read_moe(&c, a, &s)) < 0)
		goto done;
	if (!name) {
		/* the file's name without folder and extension; a Hub checkout's "config.json" is
		 * named by its folder */
		const char *b = strrchr(path, '/'), *dot;
		b = b ? b + 1 : path;
		if (!strcmp(b, "config.json") && b > path + 1) {
			const char *f = b - 1;
			while (f > path && f[-1] != '/')
				f--;
			snprintf(base, sizeof(base), "%.*s", (int)(b - 1 - f), f);
		} else {
			snprintf(base, sizeof(base), "%s", b);
			if ((dot = strrchr(base, '.')) && dot != base)
				base[dot - base] = '\0';
		}
		name = base;
	}
	s.name = name;
	rc = pp_model_generate(&s, out, err);
	if (rc < 0 && !err->file[0] && !err->path[0])
		snprintf(err->file, sizeof(err->file), "%s", path);
done:
	free(win);
	cJSON_Delete(root);
	return rc;
}
