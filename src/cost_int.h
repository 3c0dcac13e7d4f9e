/*
 * cost_int.h - what the evaluation memo (src/cost_memo.c) and the cost model (src/cost.c) share.
 *
 * The cost model scores a plan as a few "sets" of ops (each layer class's representative layer,
 * the ops before and after the layers, the edges into a layer from outside it) and then
 * assembles stages, the pipeline, data parallelism and memory.  A set's totals depend only on
 * the settings whose rows invalidate PP_COST_OPS and on the configs of the set's ops, so the
 * memo keeps them under exactly that key.  Internal to the library (src/cost*.c only).
 */
#ifndef PARPLAN_COST_INT_H
#define PARPLAN_COST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parplan/cost.h"

/** Sets of @c: classes 0..n_classes-1, then the pre ops, the post ops, then the edge sets. */
int pp_cost__n_sets(const pp_costctx *c);
/** The ops whose configs set @set's totals read (its ops, both ends of its edges), each once,
 * into @ops (room for pp_cost__set_max_ops(c, set)); returns how many. */
int pp_cost__set_ops(const pp_costctx *c, int set, int *ops);
int pp_cost__set_max_ops(const pp_costctx *c, int set);
/** The op types of those ops (a mask of PP_OPMASK): the settings rows that name one of them
 * (pp_setting_op_types) are the set's key. */
unsigned pp_cost__set_types(const pp_costctx *c, int set);
/** Bytes of one set's totals (what the memo stores per entry). */
size_t pp_cost__set_size(void);
/** Bytes of every set's totals together: the memo's entry for a whole plan under Megatron's
 * configs, which are a function of the plan's settings (pp_strategy_megatron_op reads only
 * settings that change op costs, so their rows invalidate PP_COST_OPS), looked up as set
 * pp_cost__n_sets(c) with no configs (@cfg NULL). */
size_t pp_cost__all_size(const pp_costctx *c);
/** Changes whenever something the totals read changes on @c (the stack): memos then flush. */
unsigned pp_cost__generation(const pp_costctx *c);

/** Start one evaluation of @gl: take its key settings (flushing the memo when @c changed). */
void pp_cost__memo_begin(pp_cost_memo *m, const pp_global *gl);
/**
 * The stored totals of set @set under the current settings and @cfg (pp_cost__set_size() bytes):
 * *hit = 1 and the totals, or *hit = 0 and the slot to fill, which pp_cost__memo_store then marks
 * valid (a slot not stored stays invalid).  Valid until the next lookup in the same set.
 */
void *pp_cost__memo_lookup(pp_cost_memo *m, int set, const uint8_t *cfg, int *hit);
void pp_cost__memo_store(pp_cost_memo *m, int set);

#endif
