/*
 * space.h - the SOAP strategy space: every valid global plan of a model on a cluster, and the
 * per-op configs each op may take under a global plan.
 *
 * A global plan (t, p, d, micro-batch b, virtual stages v, schedule, recompute, sequence
 * parallelism, distributed optimizer, first/last stage layers) is valid when:
 *   - t divides the heads and kv heads, and t <= devices per node unless cross-node TP is allowed;
 *   - p divides the layers, or the first and/or last stage hold fewer layers than the middle
 *     stages, which share the rest evenly (Megatron's --decoder-first/last-pipeline-num-layers);
 *   - d = gpus / (t * p) is whole, b divides B / d;
 *   - interleaving: p > 1, layers divisible by p*v (with uneven stages, a layout Megatron-LM
 *     builds: pp_global_uneven_form), micro-batches a multiple of p; v = 1 else;
 *   - sequence parallelism only with t > 1.
 * Per op, a config (pp_cfg) fixes its SOAP degrees on its stage's t x d mesh (their product is
 * t*d) and the op sits on the stage that holds its layer (embedding on the first, LM head and
 * loss on the last).  Only the ops of each layer class's representative layer and the ops
 * outside the layers are free: the cost model applies a class's representative configs to all
 * its layers.
 *
 * Walking the space prunes by memory before timing: a static lower bound on the weight and
 * optimizer bytes per device skips whole (t, p) meshes, and since peak memory grows with the
 * micro-batch and shrinks with recompute, sequence parallelism and the distributed optimizer,
 * a micro-batch whose leanest variant does not fit ends the micro-batch loop.  No state is
 * global; the walk allocates nothing per plan.
 */
#ifndef PARPLAN_SPACE_H
#define PARPLAN_SPACE_H

#include <stdint.h>

#include "parplan/cost.h"
#include "parplan/error.h"
#include "parplan/graph.h"
#include "parplan/strategy.h"

/*
 * The largest global batch a search takes: 10^9 samples.  The searches enumerate the divisors
 * of B (up to sqrt(B) steps), never B itself, and the ILP prices activations at twice the
 * micro-batch, which stays an int below this.
 */
#define PP_SPACE_MAX_GLOBAL_BATCH 1000000000

typedef struct pp_space_opts {
	int gpus;                   /* required, >= 1 */
	int global_batch;           /* required, 1 .. PP_SPACE_MAX_GLOBAL_BATCH */
	int allow_cross_node_tp;    /* 1: t may exceed the devices of one node */
	int uneven_stages;          /* 1: also first/last stages with fewer layers */
	int no_prune;               /* 1: time every valid plan (tests of the pruning) */
	double mem_limit_gib;       /* 0: the profile's usable memory; else per device */
	int no_overlaps;            /* 1: leave every overlap off (pp_space_set_overlaps) */
	int precision;              /* pp_precision of every plan, or PP_SPACE_PRECISION_AUTO: the
				     * walk tries each the device has (pp_space_precisions) */
	int fp8_param_gather;       /* 1: fp8 parameter gather where the precision and sharding
				     * allow it */
	int max_zero;               /* 0: the ZeRO stages the stack runs; 1-3: at most this one */
	int max_cp;                 /* 0: any context-parallel degree the stack allows; else at most */
} pp_space_opts;

#define PP_SPACE_PRECISION_AUTO (-1)

#define PP_SPACE_OPTS_INIT {0, 0, 0, 1, 0, 0.0, 0, PP_PREC_BF16, 0, 0, 0}

typedef struct pp_space_stats {
	double valid;               /* valid global plans met (pruned or timed) */
	double evaluated;           /* plans scored by pp_cost_eval */
	double pruned;              /* valid plans skipped by a memory bound (or the time bound) */
	double feasible;            /* scored plans that fit */
	double min_peak_gib;        /* smallest peak memory among scored plans (0: none scored) */
	double capacity_gib;        /* per-device memory the plans had to fit */
	double min_bound_gib;       /* smallest static lower bound among plans pruned unscored */
	double pruned_time;         /* of pruned, skipped by the time bound (pp_space_walk_bar) */
} pp_space_stats;

/**
 * Called with every scored plan that fits (Megatron's per-op configs); @cost is its score.
 * Return 0 to go on, non-zero to stop the walk (pp_space_walk then returns that value).
 */
typedef int (*pp_space_visit_fn)(void *arg, const pp_global *gl, const pp_cost *cost);

/**
 * Check the options against the graph and profile of @c.  PP_EINVALID with a message when the
 * GPU count or batch is out of range, or the memory limit is above the profile's usable memory
 * per device (a limit cannot exceed the hardware).
 */
int pp_space_check_opts(const pp_costctx *c, const pp_space_opts *o, pp_error *err);

/** Validate @gl as a member of the space of @o (pp_global_validate plus the node rule). */
int pp_space_valid(const pp_costctx *c, const pp_space_opts *o, const pp_global *gl, pp_error *err);

/**
 * Walk every valid global plan of @o on @c in a fixed order, prune by memory, score the rest and
 * call @fn for each that fits.  @st (may be NULL) receives the counts.  Returns 0, @fn's non-zero
 * value, or a negative PP_E* code.
 */
int pp_space_walk(const pp_costctx *c, const pp_space_opts *o, pp_space_visit_fn fn, void *arg,
		  pp_space_stats *st, pp_error *err);

/**
 * The time a plan must beat to matter to the visitor (@arg): its K-th best so far, or INFINITY
 * while it keeps every plan.
 */
typedef double (*pp_space_bar_fn)(void *arg);

/**
 * pp_space_walk that also skips, unless o->no_prune, the variants (recompute, sequence
 * parallelism, sharding, K/V exchange) of a plan whose time bound (pp_cost_time_bound) is above
 * @bar's answer: after its leanest variants, which decide what fits, are scored.  The plans it
 * skips could not come before the visitor's K-th best, so a top K kept by the visitor is the
 * one pp_space_walk gives; @st counts them in pruned and pruned_time.
 */
int pp_space_walk_bar(const pp_costctx *c, const pp_space_opts *o, pp_space_visit_fn fn,
		      pp_space_bar_fn bar, void *arg, pp_space_stats *st, pp_error *err);

/**
 * Stage layouts (p, first-stage layers, last-stage layers) of @g for up to @max_p stages, as
 * triples in @out (caller's array of @cap triples); returns how many, at most @cap.
 */
int pp_space_layouts(const pp_graph *g, int max_p, int uneven, int (*out)[3], int cap);

/**
 * Ops whose configs are free: ops outside the layers and the ops of each layer class's
 * representative layer, in graph order, written to @ops (caller's array of g->n_ops ints).
 * Returns their count.
 */
int pp_space_free_ops(const pp_graph *g, int *ops);

/**
 * The op of @g that carries the config of op @op: itself for ops outside the layers and in a
 * representative layer, else the same position in its class's representative layer.
 */
int pp_space_config_owner(const pp_graph *g, int op);

/** Copy each representative layer's configs to every layer of its class (in place). */
void pp_space_spread_configs(const pp_graph *g, uint8_t *cfg);

/**
 * Configs op @op may take under @gl, written to @out (PP_CFG_COUNT entries); returns how many.
 * With t = 1 every config is the same placement, so only REPLICATE is listed; SAMPLE needs the
 * micro-batch divisible by t.
 */
int pp_space_op_configs(const pp_graph *g, const pp_global *gl, int op, pp_cfg *out);

/**
 * Whether the per-op configs @cfg are sequence parallel: t > 1 and every norm, dropout and
 * residual-add op of @g takes PP_CFG_SEQUENCE (in a layer, the op of its class's representative
 * layer, whose config the cost model applies).  With per-op configs given the cost model reads
 * the configs, not the flag, so searches over configs derive the flag from them with this.
 */
int pp_space_sequence_parallel(const pp_graph *g, const pp_global *gl, const uint8_t *cfg);

/**
 * The overlaps a search turns on for @gl, where the context's stack has them and they have
 * something to hide: --tp-comm-overlap with t > 1 and sequence parallelism (Megatron-LM asserts
 * it needs SP), --overlap-grad-reduce with d > 1, --overlap-param-gather where that is on and the
 * optimizer is distributed (Megatron-LM asserts both).  The cost model never prices an overlap
 * above its exposed time without it (pp_cf_tp_overlap_exposed_s leaves comm - (1 - sm) * hidden,
 * the data-parallel ones max(bucket, rest) of their collective) and none changes memory, so
 * turning every available one on is the best choice for every plan; the legacy stack (no stack
 * set) and @o->no_overlaps leave all three off.
 */
void pp_space_set_overlaps(const pp_costctx *c, const pp_space_opts *o, pp_global *gl);

/**
 * The precisions @o searches on the device of @c, in ascending order (bf16 first), into @out (3
 * entries); returns their count.  A fixed precision is its own list; auto lists bf16 and every
 * 8-bit precision the profile gives a peak for.  The mcmc search, which has no precision move,
 * runs the last (the fastest the device has).
 */
int pp_space_precisions(const pp_costctx *c, const pp_space_opts *o, int *out);

#define PP_SPACE_MAX_V 2048 /* divisors of one int: at most 1,536 below 2^31 */

/**
 * The v > 1, ascending, an interleaved schedule may take on layout (p, @first, @last) of @L
 * layers, into @vs (PP_SPACE_MAX_V ints): the divisors of a middle stage's layers (of
 * gcd(first, last) when p = 2 and both are set); the layout rule (pp_global_uneven_form) then
 * keeps those Megatron-LM builds.  O(sqrt(L)).  Returns how many.
 */
int pp_space_interleave_candidates(int L, int p, int first, int last, int *vs);

/** Pipeline stage of op @op under @gl (0 .. p-1). */
int pp_space_op_stage(const pp_graph *g, const pp_global *gl, int op);

/** Compare two plans for a deterministic order: iteration time, then the global fields. */
int pp_space_cmp(const pp_global *a, double a_s, const pp_global *b, double b_s);

#endif
