/*
 * strategy.h - parallel plans: global degrees, per-op SOAP configs, and the plan file
 * ("parplan-plan/1").
 *
 * A plan's global part (t, p, d, micro-batch, schedule, recompute, ...) is what launchers take.
 * Underneath, every op has a SOAP config on its stage's mesh of t x d devices (Megatron rank
 * order: t innermost, then d, then p): the d axis always splits the sample (batch); the config
 * says what the op does on the t axis.  Megatron's tensor-parallel pattern is one assignment of
 * configs (pp_strategy_megatron); searches may choose others.
 */
#ifndef PARPLAN_STRATEGY_H
#define PARPLAN_STRATEGY_H

#include <stdint.h>

#include "parplan/error.h"
#include "parplan/graph.h"

typedef enum pp_schedule {
	PP_SCHED_1F1B = 0,
	PP_SCHED_GPIPE,
	PP_SCHED_INTERLEAVED,
	PP_SCHED_ZB_H1,     /* zero bubble, 1F1B memory (Qi et al. 2024, ZB-H1) */
	PP_SCHED_ZB_V,      /* zero bubble, two chunks per rank in a V (Qi et al. 2024, sec. 6) */
	PP_SCHED_DUALPIPE,  /* DeepSeek-V3 DualPipe: two directions, F&B overlapped, p even */
	PP_SCHED_DUALPIPEV, /* DualPipe cut in half: a V of two chunks per rank */
	PP_SCHED_COUNT
} pp_schedule;
typedef enum pp_recompute { PP_RECOMPUTE_NONE = 0, PP_RECOMPUTE_SELECTIVE, PP_RECOMPUTE_FULL } pp_recompute;
/* How context-parallel ranks exchange K and V (Megatron-LM --cp-comm-type, Transformer Engine
 * cp_comm_type): a ring of point-to-point sends overlapped with the attention blocks, an
 * all-gather of K/V before attention, or DeepSpeed-Ulysses all-to-alls around it. */
typedef enum pp_cp_comm { PP_CP_P2P = 0, PP_CP_ALLGATHER, PP_CP_A2A } pp_cp_comm;

/* The precision of the transformer layers' linear GEMMs (Transformer Engine's fp8_autocast):
 * bf16, fp8 (e4m3 forward / e5m2 gradients, the "hybrid" format, per-tensor delayed scaling) or
 * mxfp8 (e4m3 with one e8m0 scale per 32 elements).  Attention, norms and the LM head stay in the
 * model's dtype. */
typedef enum pp_precision { PP_PREC_BF16 = 0, PP_PREC_FP8, PP_PREC_MXFP8 } pp_precision;

const char *pp_schedule_name(pp_schedule s);   /* "1f1b", "gpipe", "interleaved", "zb-h1", "zb-v",
						 * "dualpipe", "dualpipev" */
int pp_schedule_parse(const char *s);          /* -1 when unknown */
const char *pp_recompute_name(pp_recompute r); /* "none", "selective", "full" */
int pp_recompute_parse(const char *s);

/*
 * What an op does on the t axis of its stage (n = t devices).  Layouts of activations on that
 * axis: R replicated, S(b) / S(s) / S(h) split along batch, sequence or the last (hidden) dim,
 * P partial sums.
 *   REPLICATE  every device computes the whole op            in R    out R
 *   SAMPLE     batch split over t (data parallel inside t)    in S(b) out S(b)
 *   SEQUENCE   sequence split (attribute)                     in S(s) out S(s)
 *   HIDDEN     last dim / heads split (attribute)             in S(h) out S(h)
 *   COLUMN     weight split by columns (parameter)            in R    out S(h)
 *   ROW        weight split by rows (parameter)               in S(h) out P
 * Which configs an op type allows: pp_cfg_allowed().
 */
typedef enum pp_cfg {
	PP_CFG_REPLICATE = 0,
	PP_CFG_SAMPLE,
	PP_CFG_SEQUENCE,
	PP_CFG_HIDDEN,
	PP_CFG_COLUMN,
	PP_CFG_ROW,
	PP_CFG_COUNT
} pp_cfg;

typedef enum pp_layout { PP_LAYOUT_R = 0, PP_LAYOUT_SB, PP_LAYOUT_SS, PP_LAYOUT_SH, PP_LAYOUT_P } pp_layout;

const char *pp_cfg_name(pp_cfg c);  /* "replicate", "sample", "sequence", "hidden", "column", "row" */
int pp_cfg_parse(const char *s);
/** True when op type @t may take config @c. */
int pp_cfg_allowed(pp_op_type t, pp_cfg c);

/** SOAP degrees of config @c for an op on a t x d stage mesh (FlexFlow's S, A, P). */
void pp_cfg_degrees(pp_cfg c, int t, int d, int *sample, int *attribute, int *parameter);

/*
 * The global plan.  Every member is one row of the table of plan settings (parplan/settings.h):
 * its key, flag, range, default and rules are there; a new member needs a row.
 */
typedef struct pp_global {
	int t, p, d;
	int micro_batch, global_batch;
	int virtual_stages;          /* v >= 1; > 1 only with the interleaved schedule */
	pp_schedule schedule;
	pp_recompute recompute;
	int sequence_parallel;
	int distributed_optimizer;
	int overlap_grad_reduce;
	int first_stage_layers;      /* 0: even split; else layers on the first stage */
	int last_stage_layers;       /* 0: even split; else layers on the last stage */
	int tp_comm_overlap;         /* --tp-comm-overlap (needs sequence parallelism and a stack
				      * that has it) */
	int overlap_param_gather;    /* --overlap-param-gather (distributed optimizer) */
	int zero;                    /* ZeRO stage 0-3 (Rajbhandari et al. 2020); 1 is the distributed
				      * optimizer, which distributed_optimizer also asks for */
	int fsdp;                    /* PyTorch FSDP2: ZeRO stage 3 as FSDP2 runs it */
	int hsdp_shard;              /* > 0: shard over this many of the d replicas (HSDP), replicate
				      * over d / hsdp_shard; 0: shard over all d */
	int cp;                      /* context-parallel degree: the sequence split over cp ranks */
	pp_cp_comm cp_comm_type;
	pp_precision precision;      /* linear-layer GEMM precision (needs the profile's peak) */
	int fp8_param_gather;        /* all-gather parameters in fp8 (Megatron --fp8-param-gather) */
	/* mixture of experts (MoE parallel folding: ep * etp * expert-dp = t * cp * d per stage) */
	int ep;                      /* expert-parallel degree: routed experts spread over ep ranks */
	int etp;                     /* expert tensor-parallel degree: 1 or t */
	int moe_max_nodes;           /* node-limited routing: a token reaches at most this many nodes
				      * (DeepSeek-V3's M = 4); 0: no limit */
	int moe_imbalance;           /* busiest expert-parallel rank's routed tokens, percent of the
				      * balanced share (100: balanced, the default: an assumption, no
				      * published per-step per-rank measurement; docs/accuracy.md) */
	int moe_capacity;            /* expert capacity, percent of the balanced share s*k/E per
				      * expert (Megatron --moe-expert-capacity-factor x 100); 0:
				      * dropless */
	int moe_pad_capacity;        /* pad every expert's input to its capacity (Megatron
				      * --moe-pad-expert-input-to-capacity) */
	int overlap_moe_a2a;         /* hide the expert all-to-all of one micro-batch behind the
				      * paired forward/backward of another (Megatron
				      * --overlap-moe-expert-parallel-comm; DualPipe's F&B chunks) */
} pp_global;

#define PP_GLOBAL_INIT                                                                              \
	{1, 1, 1, 1, 1, 1, PP_SCHED_1F1B, PP_RECOMPUTE_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, PP_CP_P2P, \
	 PP_PREC_BF16, 0, 1, 1, 0, 100, 0, 0, 0}

/** The ZeRO stage @gl runs: 3 with FSDP, else the larger of zero and the distributed optimizer's 1. */
int pp_global_zero_stage(const pp_global *gl);
/** Ranks the sharded states are split over: (hsdp_shard or d) * cp (Megatron's data-parallel
 * group with context parallelism; torchtitan's dp_shard_cp mesh); 1 below stage 1. */
int pp_global_shard_ranks(const pp_global *gl);
/** GPUs of the plan: t * cp * p * d. */
long long pp_global_world(const pp_global *gl);

/**
 * Check @gl against @g and a GPU count (0: t*p*d): the rules of the table of plan settings, in
 * table order (settings.c).  On a broken rule returns PP_EINVALID and names it in @err, e.g.
 * "t=3 does not divide 96 heads".
 */
int pp_global_validate(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err);

/** Layers on each of the p stages (array of p ints the caller provides). */
void pp_global_stage_layers(const pp_graph *g, const pp_global *gl, int *layers);

/*
 * How Megatron-LM builds uneven first/last stages (the layers of every model chunk), from
 * Megatron-LM d98e8a64 megatron/core/transformer/transformer_config.py (__post_init__, "Uneven
 * PP") and transformer_block.py (get_num_layers_to_build):
 *   PP_UNEVEN_DECODER  --decoder-first/last-pipeline-num-layers: the first (last) rank holds
 *                      that many layers, the middle ranks share the rest evenly; interleaved,
 *                      each rank's layers split evenly over its v chunks, so the first, the last
 *                      and the middle ranks' layers must each be divisible by v.
 *   PP_UNEVEN_ACCOUNT  --account-for-embedding-in-pipeline-split / --account-for-loss-in-
 *                      pipeline-split: the embedding (loss) counts as one layer, (L + 1 or 2)
 *                      layers split evenly over p ranks and their v chunks, and the chunk that
 *                      holds the embedding (the first rank's first chunk) or the loss (the last
 *                      rank's last chunk) builds one transformer layer fewer.  In plan terms the
 *                      first (last) stage holds one layer fewer than a middle stage; the middle
 *                      stages' layers must be divisible by v.  This is how the interleaved
 *                      Llama 3 405B layout (126 layers on 16 ranks, 7 on the first and last) is
 *                      written: 7 is no multiple of any v > 1, so the decoder flags cannot say it.
 * Interleaved plans may take either; plain 1F1B and GPipe always take the decoder form.
 */
typedef enum pp_uneven_form {
	PP_UNEVEN_NONE = 0, /* even stages */
	PP_UNEVEN_DECODER,
	PP_UNEVEN_ACCOUNT
} pp_uneven_form;

/** The form @gl's first/last stage layers take over @n_layers layers, or -1 when no Megatron-LM
 * layout builds them (with @why, when not NULL, set to a static phrase naming the rule). */
int pp_global_uneven_form(int n_layers, const pp_global *gl, const char **why);

/** Layers of each model chunk, chunk c on rank c % p (p*v ints the caller provides), as
 * Megatron-LM builds them for the plan's form.  Meaningful for plans that passed
 * pp_global_validate(). */
void pp_global_chunk_layers(int n_layers, const pp_global *gl, int *layers);

/** Micro-batches per iteration: global_batch / (micro_batch * d). */
int pp_global_microbatches(const pp_global *gl);

/**
 * Megatron-LM's configs for every op of @g under @gl (n_ops entries in @cfg): column-parallel
 * QKV / MLP-in / LM head, row-parallel attention-out / MLP-out, heads split in attention,
 * vocab-parallel embedding (ROW) and loss (HIDDEN); norms, dropout and residual adds SEQUENCE
 * with sequence parallelism, else REPLICATE.
 */
void pp_strategy_megatron(const pp_graph *g, const pp_global *gl, uint8_t *cfg);
/** Megatron-LM's config of op @i alone. */
pp_cfg pp_strategy_megatron_op(const pp_graph *g, const pp_global *gl, int i);

/* ---- plan file ------------------------------------------------------------------------ */

typedef struct pp_predicted {
	int valid;
	int feasible;
	double iteration_s, tokens_per_s, model_tflops_per_gpu, hardware_tflops_per_gpu, mfu, hfu;
	double compute_s, tp_comm_s, pp_comm_s, bubble_s, dp_comm_s, optimizer_s;
	double weights_gib, grads_gib, optimizer_gib, activations_gib, peak_gib, capacity_gib;
} pp_predicted;

typedef struct pp_search_info {
	int valid;
	char method[16];
	uint64_t seed;
	double states;
	double seconds;
	int optimal;
	double gap;                 /* relative MIP gap (ilp), 0 when proven optimal */
} pp_search_info;

/* A mixture of experts' shape, for launchers (plan file "model_shape"."moe"; all 0: dense) */
typedef struct pp_moe_shape {
	int64_t experts, topk, moe_ffn, shared_ffn;
	int64_t dense_layers;       /* leading dense layers (DeepSeek-V3: 3) */
	int sigmoid, expert_bias;   /* router scores; score-correction bias */
	int64_t q_lora, kv_lora, qk_nope, qk_rope, v_head; /* MLA when kv_lora > 0 */
	int64_t mtp;                /* multi-token prediction modules */
	int64_t head_dim;           /* attention head dim (Qwen3: not hidden / heads) */
	int qk_norm;                /* per-head RMSNorm of q and k (Qwen3) */
} pp_moe_shape;

typedef struct pp_model_shape {
	int64_t layers, hidden, heads, kv_heads, ffn, seq, vocab;
	int family_llama;           /* 1: RMSNorm/SwiGLU/GQA graph, 0: GPT */
	int tied_embeddings;
	int64_t params;
	pp_moe_shape moe;
	int has_model;              /* the graph's "model" settings, carried for the launchers */
	pp_model_settings model;    /* (plan file: "model_shape.model"; graph.h) */
} pp_model_shape;

typedef struct pp_plan {
	char model[128];            /* model name */
	char hw[128];               /* hardware profile name */
	char model_path[512];       /* where the graph was read (may be "") */
	char hw_path[512];
	char stack[128];            /* software stack name or file ("" : the default) */
	pp_model_shape shape;       /* so launchers can be emitted without the graph */
	int gpus;
	int node_devices;
	pp_global global;
	int n_ops;                  /* per-op config entries (names owned by the plan) */
	char **op_names;
	uint8_t *op_cfg;
	int *op_stage;              /* pipeline rank of each entry */
	int *op_class_layers;       /* > 0: the entry stands for its op in every one of this many
				     * layers of its layer class; 0: this one op only */
	pp_predicted predicted;
	pp_search_info search;
} pp_plan;

/** Fill a plan from a graph, a hardware profile name/paths and a global plan; cfg may be NULL
 * (Megatron's).  The plan copies what it needs; free with pp_plan_release(). */
int pp_plan_init(pp_plan *plan, const pp_graph *g, const char *model_path, const char *hw_name,
		 const char *hw_path, int node_devices, const pp_global *gl, const uint8_t *cfg,
		 pp_error *err);
void pp_plan_release(pp_plan *plan);

/** Serialize to parplan-plan/1 JSON text (malloc'd, caller frees).  Byte-stable. */
char *pp_plan_to_json(const pp_plan *plan);
/** Write atomically. */
int pp_plan_save(const pp_plan *plan, const char *path, pp_error *err);
/** Load and check a plan file; on success the caller releases it with pp_plan_release(). */
int pp_plan_load(const char *path, pp_plan *plan, pp_error *err);
int pp_plan_parse(const char *name_for_errors, const char *text, pp_plan *plan, pp_error *err);

/** Per-op configs of @plan mapped onto graph @g's ops (ops the plan does not list: Megatron's;
 * a layer-class entry given once for the class applies to all its layers). */
int pp_plan_configs(const pp_plan *plan, const pp_graph *g, uint8_t *cfg, pp_error *err);

#endif
