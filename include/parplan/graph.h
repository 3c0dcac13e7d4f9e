/*
 * graph.h - operator graphs of transformer models (format "parplan-graph/1").
 *
 * A graph is a list of tensors (parameters, activations, inputs) and of ops that read and write
 * them; edges are implied by tensor names.  Shapes are given for one sample: a dimension named
 * "b" is the micro-batch and is stored as 1, with its bit set in batch_mask, so every per-sample
 * quantity below scales linearly with the micro-batch.
 *
 * Invariants after a successful load: every activation has exactly one producer, parameters and
 * inputs have none, the graph is acyclic, every op's shapes agree with its type, and ops_topo
 * lists the ops in a valid execution order.  Layers (ops carrying a "layer" number) that are
 * identical up to their numbering share a layer class, so per-layer work is done once per class.
 */
#ifndef PARPLAN_GRAPH_H
#define PARPLAN_GRAPH_H

#include <stdint.h>

#include "parplan/error.h"
#include "parplan/hw.h"

#define PP_MAX_RANK 4
#define PP_MAX_OP_INPUTS 4

typedef enum pp_op_type {
	PP_OP_EMBEDDING = 0,
	PP_OP_LAYERNORM,
	PP_OP_RMSNORM,
	PP_OP_MATMUL,
	PP_OP_ATTENTION,
	PP_OP_GELU,
	PP_OP_SWIGLU,
	PP_OP_DROPOUT,
	PP_OP_ADD,
	PP_OP_LOSS,
	/* mixture of experts (docs/formats.md, "Mixture of experts") */
	PP_OP_ROUTER,               /* gate GEMM, softmax or sigmoid scores, top-k */
	PP_OP_DISPATCH,             /* token permutation to the experts (all-to-all under EP) */
	PP_OP_EXPERTS,              /* routed SwiGLU experts as a grouped GEMM */
	PP_OP_COMBINE,              /* un-permutation and weighted sum of the k expert outputs */
	PP_OP_MLA,                  /* multi-head latent attention core (DeepSeek-V2/V3) */
	PP_OP_TYPE_COUNT
} pp_op_type;

typedef enum pp_tensor_kind {
	PP_TENSOR_PARAMETER = 0,
	PP_TENSOR_ACTIVATION,
	PP_TENSOR_INPUT
} pp_tensor_kind;

/** "matmul", "attention", ... */
const char *pp_op_type_name(pp_op_type t);

typedef struct pp_tensor {
	char *name;
	pp_tensor_kind kind;
	int rank;
	int64_t shape[PP_MAX_RANK]; /* "b" stored as 1 */
	unsigned batch_mask;        /* bit i: dimension i is the micro-batch */
	int64_t elems;              /* elements per sample (product of shape) */
	int producer;               /* op index, -1 for parameters and inputs */
} pp_tensor;

/* Per-op quantities are for one sample (micro-batch 1) in the graph's dtype, forward pass. */
typedef struct pp_op {
	char *name;
	pp_op_type type;
	int layer;                  /* -1 outside the repeated layers */
	int n_inputs, n_outputs;
	int inputs[PP_MAX_OP_INPUTS];
	int outputs[1];
	double flops;               /* forward FLOPs per sample */
	double gemm_flops;          /* of which matrix products (model FLOPs count these) */
	double act_bytes;           /* activation bytes read + written per sample (forward) */
	double param_bytes;         /* parameter bytes read (independent of the batch) */
	double saved_bytes;         /* activations kept for backward per sample (Korthikanti) */
	double core_saved_bytes;    /* of which attention core (dropped by selective recompute) */
	double core_flops;          /* attention-core FLOPs (re-run by selective recompute) */
	double score_bytes;         /* attention score traffic per sample (softmax, mask, dropout) */
	int64_t window;             /* attention: keys each query sees (sliding window); 0 = all */
	int64_t params;             /* parameter elements first used by this op */
	int64_t gemm_m, gemm_n, gemm_k; /* matmul: rows per sample (m), out features, in features */
	int weight_transposed;      /* matmul weight given as [n, k] (tied LM head) */
	int act_input;              /* index in inputs[] of the main activation input, -1 if none */
	/* mixture of experts: router, dispatch, experts, combine (0 elsewhere) */
	int64_t experts, topk;      /* routed experts E and experts per token k */
	int64_t expert_ffn;         /* experts: each expert's SwiGLU width */
	int sigmoid;                /* router: sigmoid scores (DeepSeek-V3) rather than softmax */
	int mtp;                    /* multi-token prediction depth the op belongs to, 0: main model */
} pp_op;

typedef struct pp_layer_class {
	int n_layers;
	int first_layer;            /* representative layer */
	int ops_per_layer;
	double params;              /* parameter elements of one layer */
} pp_layer_class;

/*
 * Model settings a launcher needs beyond the dims: graph key "model" (docs/formats.md), written
 * by `parplan model hf` from a Hugging Face config.  Strings are "" and numbers 0 when absent.
 */
typedef struct pp_model_settings {
	char architecture[64];      /* Hugging Face class, e.g. "LlamaForCausalLM" */
	char activation[32];        /* MLP activation as the config names it: "silu", "gelu_pytorch_tanh" */
	char norm[16];              /* "rmsnorm" or "layernorm" */
	double norm_eps;
	char position[16];          /* "rope" or "learned" */
	double rope_theta;
	double rope_local_theta;    /* base of the sliding-window layers (Gemma 3) */
	char rope_scaling[16];      /* rope_type: "llama3", "linear", "yarn", "dynamic" */
	double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
	int64_t rope_original_max_positions;
	int64_t max_positions;      /* max_position_embeddings */
	int qkv_bias, out_bias, mlp_bias, qk_norm, sandwich_norm, embed_scale;
	int64_t sliding_window;     /* window of the windowed layers; 0 = none */
	double attn_softcap, final_softcap, query_pre_attn_scalar;
} pp_model_settings;

typedef struct pp_graph {
	char *name;
	char *file;                 /* path it was loaded from ("" when parsed from text) */
	pp_dtype dtype;
	/* well-known dims; 0 when absent */
	int64_t layers, hidden, heads, kv_heads, ffn, seq, vocab;
	int64_t head_dim;           /* dims.head_dim, else hidden / heads */
	int n_dims;
	char **dim_names;
	int64_t *dim_values;

	int n_tensors;
	pp_tensor *tensors;
	int n_ops;
	pp_op *ops;
	int *ops_topo;              /* n_ops op indices in execution order */

	int n_layers;
	int *layer_ops;             /* ops of layer l: layer_ops[layer_start[l] .. layer_start[l+1]) */
	int *layer_start;           /* n_layers + 1 entries */
	int *layer_class;           /* class of each layer */
	int n_classes;
	pp_layer_class *classes;
	int n_pre, n_post;          /* ops before the first layer (embedding) and after (head, loss) */
	int *pre_ops, *post_ops;

	int64_t params;             /* every parameter element, each tensor once */
	int64_t active_params;      /* of the main model, those one token uses: routed experts count
				     * k/E of their weights (MTP modules excluded) */
	int64_t mtp_params;         /* parameters first used by multi-token prediction ops */
	int mtp_depth;              /* MTP modules (DeepSeek-V3: 1) */
	int64_t experts, topk, expert_ffn; /* of the first routed-experts op; 0: a dense model */
	int moe_layers;             /* layers holding a routed-experts op */
	int64_t expert_params;      /* routed experts' parameters (MTP modules' included) */
	double pre_params, post_params; /* parameters first used outside layers, before / after */
	double flops_per_token;     /* forward FLOPs per token, all ops */
	double gemm_flops_per_token;/* forward matrix-product FLOPs per token */
	int tied_embeddings;        /* the LM head reads the embedding table */
	int has_model;              /* the graph carries a "model" object */
	pp_model_settings model;
	struct pp_graph_names *names; /* private: name indexes of pp_graph_find_*(), owned; NULL
				       * in a graph not made by the loader (then they scan) */
} pp_graph;

/** Load @path.  *out is a new graph to free with pp_graph_free(); NULL on failure. */
int pp_graph_load(const char *path, pp_graph **out, pp_error *err);

/** Parse JSON text; @name_for_errors stands for the file in error messages. */
int pp_graph_parse(const char *name_for_errors, const char *text, pp_graph **out, pp_error *err);

/** NULL-safe. */
void pp_graph_free(pp_graph *g);

/** Index of the tensor called @name, or -1.  Expected O(1) in a loaded graph. */
int pp_graph_find_tensor(const pp_graph *g, const char *name);
/** Index of the op called @name, or -1.  Expected O(1) in a loaded graph. */
int pp_graph_find_op(const pp_graph *g, const char *name);

/* ---- model generator ------------------------------------------------------------------ */

typedef enum pp_model_family { PP_MODEL_GPT = 0, PP_MODEL_LLAMA } pp_model_family;

/*
 * Mixture of experts, multi-head latent attention and multi-token prediction of a llama-family
 * model (all 0: a dense Llama).  Layer l has routed experts when experts > 0, l >= first_k_dense
 * and l % layer_freq == 0 (Hugging Face DeepseekV3 "first_k_dense_replace", "moe_layer_freq";
 * Qwen3-MoE "decoder_sparse_step" 1).
 */
typedef struct pp_moe_spec {
	int64_t experts, topk;      /* routed experts E, experts per token k */
	int64_t moe_ffn;            /* each routed expert's SwiGLU width */
	int64_t shared_ffn;         /* width of the shared experts together (0: none) */
	int64_t first_k_dense;      /* leading dense layers */
	int64_t layer_freq;         /* 0 or 1: every layer from first_k_dense on */
	int sigmoid;                /* sigmoid router scores (DeepSeek-V3), else softmax */
	int score_bias;             /* a score-correction bias [E] (DeepSeek-V3's aux-loss-free balancing) */
	int64_t q_lora, kv_lora;    /* MLA when kv_lora > 0; q_lora 0: a full-rank Q projection */
	int64_t qk_nope, qk_rope, v_head; /* MLA per-head dims */
	int mtp;                    /* multi-token prediction modules (DeepSeek-V3: 1) */
} pp_moe_spec;

typedef struct pp_model_spec {
	pp_model_family family;
	const char *name;
	int64_t layers, hidden, heads, kv_heads, ffn, seq, vocab;
	int tied_embeddings;        /* gpt: always tied; llama: only when asked */
	/* llama family only (all 0 by default: Llama's layer) */
	int64_t head_dim;           /* 0: hidden / heads */
	int qkv_bias, out_bias, mlp_bias; /* biases of the QKV, output and MLP projections */
	int qk_norm;                /* RMSNorm of q and k per head (Qwen3, Gemma 3) */
	int sandwich_norm;          /* norms after attention and MLP too (Gemma 2/3) */
	const int64_t *windows;     /* per layer: sliding-window size, 0 = full; NULL: all full */
	const pp_model_settings *settings; /* written as the graph's "model" object when set */
	pp_moe_spec moe;            /* llama family only */
} pp_model_spec;

#define PP_MODEL_SPEC_INIT {PP_MODEL_GPT, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, {0}}

/**
 * Write the parplan-graph/1 JSON text of a GPT (LayerNorm, GELU MLP, learned positions, biases,
 * tied embeddings) or Llama (RMSNorm, SwiGLU, grouped-query attention, rotary positions, untied
 * embeddings) model.  Missing ffn defaults to 4*hidden (gpt); kv_heads to heads.  *out is a
 * malloc'd NUL-terminated string the caller frees.
 */
int pp_model_generate(const pp_model_spec *spec, char **out, pp_error *err);

/**
 * The graph of the model a Hugging Face config.json at @path describes (Llama, Mistral, Qwen2,
 * Qwen3, Gemma 2, Gemma 3 causal LMs), trained at sequence length @seq (0: the config's original
 * context length).  @name NULL: the file's name without its extension.  Unknown architectures and
 * config keys parplan cannot honour are refused by name.  *out as pp_model_generate().
 */
int pp_model_hf(const char *path, const char *name, int64_t seq, char **out, pp_error *err);

#endif
