/*
 * emit_int.h - what the emitters (src/emit_*.c) share: a growing text buffer and the launcher
 * rules.
 */
#ifndef PARPLAN_EMIT_INT_H
#define PARPLAN_EMIT_INT_H

#include <stddef.h>

#include "parplan/emit.h"
#include "sbuf_int.h"


/* Launcher rules (see emit.h); each emitter passes the set its launcher enforces. */
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
	PP_RULE_INTERLEAVE_P3 = 1 << 16,/* Megatron core: interleaving needs p > 2 */
	PP_RULE_NO_SELECTIVE = 1 << 17,/* Nanotron: full-layer recompute only */
	PP_RULE_OVERLAPS = 1 << 18     /* Megatron, NeMo: TP overlap needs SP, param-gather overlap
					* the distributed optimizer and the grad-reduce overlap */
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

/* Megatron-LM's model-shape and batch flags as bash array lines, shared with
 * Megatron-DeepSpeed (@deepspeed: its older spellings). */
void pp_emit_megatron_model_args(pp_sbuf *b, const pp_plan *plan, int deepspeed);
/* --recompute-* array lines of the plan's recompute mode. */
void pp_emit_megatron_recompute_args(pp_sbuf *b, const pp_plan *plan, const pp_emit_opts *opts);
/* The launcher preamble of both Megatron scripts (nodes, rendezvous, data: Megatron-LM falls
 * back to mock data, Megatron-DeepSpeed (@deepspeed) requires DATA_ARGS). */
void pp_emit_megatron_preamble(pp_sbuf *b, const pp_plan *plan, int deepspeed);

#endif
