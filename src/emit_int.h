/*
 * emit_int.h - what the emitters (src/emit_*.c) share: a growing text buffer and the launcher
 * rules.
 */
#ifndef PARPLAN_EMIT_INT_H
#define PARPLAN_EMIT_INT_H

#include <stddef.h>

#include "parplan/emit.h"
#include "sbuf_int.h"


/* Launcher rules (see emit.h); each emitter passes the set its launcher enforces.  Each rule's
 * source (file and commit of the launcher it comes from) is next to its check in emit.c. */
enum {
	PP_RULE_WORLD = 1 << 0,        /* gpus = t*p*d */
	PP_RULE_NODES = 1 << 1,        /* whole nodes: gpus <= node or a multiple of it */
	PP_RULE_BATCH = 1 << 2,        /* global batch divisible by micro-batch*d */
	PP_RULE_LAYERS = 1 << 3,       /* layers divisible by p (uneven: by the middle stages),
					* by p*v interleaved with micro-batches a multiple of p */
	PP_RULE_HEADS = 1 << 4,        /* heads divisible by t */
	PP_RULE_GROUPS = 1 << 5,       /* query groups a multiple or divisor of t */
	PP_RULE_SP = 1 << 6,           /* sequence parallelism only with t > 1 */
	PP_RULE_RECOMPUTE = 1 << 7,    /* full: method + layer count; selective: neither */
	PP_RULE_ZERO = 1 << 8,         /* no ZeRO 2/3 with pipeline parallelism */
	PP_RULE_KV_AT_LEAST_T = 1 << 9,/* Nanotron: kv heads >= t */
	PP_RULE_NO_INTERLEAVE = 1 << 10,
	PP_RULE_NO_UNEVEN = 1 << 11,
	PP_RULE_LLAMA_ONLY = 1 << 12,
	PP_RULE_TP_NEEDS_SP = 1 << 13, /* torchtitan: tensor parallelism is always sequence parallel */
	PP_RULE_MB_PER_STAGE = 1 << 14,/* torchtitan: micro-batches >= p*v */
	PP_RULE_NO_GPIPE = 1 << 15,    /* Megatron, NeMo, DeepSpeed: no GPipe schedule with p > 1 */
	PP_RULE_INTERLEAVE_P3 = 1 << 16,/* Megatron core without p2p overlap (NeMo 1.x's default):
					* interleaving needs p > 2 */
	PP_RULE_NO_SELECTIVE = 1 << 17,/* Nanotron: full-layer recompute only */
	PP_RULE_ZERO1_ONLY = 1 << 18,  /* Nanotron: ZeRO stage 0 or 1 */
	PP_RULE_OVERLAPS = 1 << 19,    /* Megatron, NeMo: TP overlap needs SP, param-gather overlap
					* the distributed optimizer and the grad-reduce overlap */
	PP_RULE_NO_CP = 1 << 20,       /* no context parallelism written (DeepSpeed, Nanotron) */
	PP_RULE_CP_P2P = 1 << 21,      /* context parallelism with the ring (p2p) exchange only */
	PP_RULE_CP_SEQ = 1 << 22,      /* Megatron: seq a multiple of 2*cp */
	PP_RULE_NO_FP8 = 1 << 23,      /* DeepSpeed, Megatron-DeepSpeed, Nanotron, NeMo 1: bf16 only */
	PP_RULE_NO_MXFP8 = 1 << 24,    /* torchtitan: fp8 (rowwise) but not mxfp8 here */
	PP_RULE_NO_FP8_GATHER = 1 << 25,/* torchtitan: rowwise float8 communicates in bf16 */
	PP_RULE_TT_SCHEDULES = 1 << 26 /* current torchtitan: ZB-V and DualPipeV run by name; every
					* other launcher runs GPipe / 1F1B / interleaved only */
};

#define PP_RULES_LAUNCHER                                                                      \
	(PP_RULE_WORLD | PP_RULE_NODES | PP_RULE_BATCH | PP_RULE_LAYERS | PP_RULE_HEADS |       \
	 PP_RULE_GROUPS | PP_RULE_SP | PP_RULE_RECOMPUTE)

/** Check @rules for @plan as format @fmt; on a broken one PP_EINVALID naming it. */
int pp_emit_check_rules(const char *fmt, const pp_plan *plan, const pp_emit_opts *opts,
			unsigned rules, pp_error *err);

/** The ZeRO stage a DeepSpeed launcher gets: opts->zero_stage, else 1 with the distributed
 * optimizer, else 0. */
int pp_emit_zero_stage(const pp_plan *plan, const pp_emit_opts *opts);
/** Layers per recompute group with full recompute (opts, default 1); 0 without. */
int pp_emit_recompute_layers(const pp_plan *plan, const pp_emit_opts *opts);
/*
 * The model settings a launcher takes beyond the dims (point 3 of issue 19: each emitter writes
 * all of them under its own keys; docs/formats.md has the table).  Family defaults: Llama 3's
 * (RMSNorm eps 1e-5, SwiGLU, RoPE base 500000 without scaling as in Meta-Llama-3-*'s
 * config.json, no biases, no dropout) or GPT-2/3's (LayerNorm eps 1e-5, GELU, learned
 * positions, biases, dropout 0.1).
 */
typedef struct pp_emit_model {
	int rmsnorm;           /* else LayerNorm */
	double norm_eps;
	int gated;             /* SwiGLU (gated MLP) else GELU */
	int rope;              /* else learned absolute positions */
	double rope_theta;
	int rope_llama3;       /* Llama 3.1 frequency scaling (rope_type "llama3") */
	double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
	long long rope_original_max_positions;
	const char *rope_other;/* another rope scaling the graph names ("yarn", ...), else NULL */
	int linear_bias;       /* biases of the linear layers (attention output, MLP) */
	int qkv_bias;          /* bias of the QKV projection */
	int split_bias;        /* biases Megatron's switches cannot express (output xor MLP, or
				* output and MLP without QKV) */
	double dropout;        /* hidden and attention dropout */
	const char *activation;/* MLP activation as Hugging Face names it ("silu", "gelu", ...) */
	const char *unwritten; /* a graph setting no emitter writes yet (QK norm, sandwich norms,
				* sliding windows, Gemma's scalings), else NULL */
} pp_emit_model;

/* What a launcher can express beyond the family defaults (pp_emit_model_refuse). */
enum {
	PP_EMIT_CAN_ROPE_LLAMA3 = 1 << 0, /* Llama 3.1 rope scaling */
	PP_EMIT_CAN_QKV_BIAS = 1 << 1     /* a QKV bias apart from the other biases */
};

/** PP_EINVALID, rule "model settings", where @m has what @fmt cannot write (@can). */
int pp_emit_model_refuse(const char *fmt, const pp_emit_model *m, unsigned can, pp_error *err);

/** @x in @buf (size @n) as a float literal YAML 1.1, TOML and Python all read as a float:
 * always with a point ("0.0", "1.0e-05", "500000.0").  Returns @buf. */
const char *pp_emit_float(char *buf, size_t n, double x);

/** The model settings of @plan: its graph's (model_shape.model) over its family's defaults. */
void pp_emit_model_settings(const pp_plan *plan, pp_emit_model *m);

/** Nodes and devices per node of the plan's world. */
void pp_emit_nodes(const pp_plan *plan, int *nnodes, int *per_node);
/** Layers on the smallest model chunk. */
int pp_emit_min_chunk_layers(const pp_plan *plan);

/** @s in @buf (size @n) with every character outside [A-Za-z0-9._+-] replaced by '_': safe in a
 * comment line and inside any quoted string of bash, TOML and YAML.  Returns @buf. */
const char *pp_emit_safe_name(char *buf, size_t n, const char *s);

/* The "#" comment lines opening every launcher file: what the plan is and what it predicts
 * (names through pp_emit_safe_name()). */
void pp_emit_header(pp_sbuf *b, const char *what, const pp_plan *plan);

/* Megatron-LM's model-shape, model-setting and batch flags as bash array lines, shared with
 * Megatron-DeepSpeed (@deepspeed: its older spellings); pp_emit_megatron_model_check() first
 * refuses settings the launcher has no flag for. */
int pp_emit_megatron_model_check(const pp_plan *plan, int deepspeed, pp_error *err);
void pp_emit_megatron_model_args(pp_sbuf *b, const pp_plan *plan, int deepspeed);
/* --recompute-* array lines of the plan's recompute mode. */
void pp_emit_megatron_recompute_args(pp_sbuf *b, const pp_plan *plan, const pp_emit_opts *opts);
/* The launcher preamble of both Megatron scripts (nodes, rendezvous, data: Megatron-LM falls
 * back to mock data, Megatron-DeepSpeed (@deepspeed) requires DATA_ARGS). */
void pp_emit_megatron_preamble(pp_sbuf *b, const pp_plan *plan, int deepspeed);

#endif
