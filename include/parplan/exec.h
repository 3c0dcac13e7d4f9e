/*
 * exec.h - the execution stub's program: one transformer layer's sharded GEMMs and collectives
 * (format "parplan-exec/1", the stub.json that `parplan emit --format exec` writes and
 * `parplan-exec` reads).
 *
 * A layer of a GPT or Llama model at micro-batch b, sequence s, hidden h, a heads (g key/value
 * heads with grouped-query attention), ffn f, split over t tensor-parallel ranks the Megatron
 * way (Shoeybi et al. 2019): QKV and MLP-in (Llama: gate and up together, 2f wide)
 * column-parallel, attention-out and MLP-out row-parallel, attention heads split by groups.  Every rank runs the same GEMM
 * shapes on its own shards; the list below is what one rank runs, forward then backward, each
 * GEMM C[m,n] = A[m,k] B[k,n] repeated @batch times (attention's per-head products).  Rows of
 * activations are ordered (sequence, batch), so a sequence-parallel shard is a block of rows.
 * Backward GEMMs name the forward GEMM they belong to (@of): a forward GEMM's training cost is
 * its own time plus that of its backward GEMMs, twice its FLOPs (the cost model's convention).
 * Invariants after pp_exec_layer_build(): h % a == 0, a % g == 0, g % t == 0, f % t == 0, and
 * s % t == 0 with sequence parallelism.
 */
#ifndef PARPLAN_EXEC_H
#define PARPLAN_EXEC_H

#include <stdint.h>

#include "parplan/error.h"
#include "parplan/hw.h"
#include "parplan/strategy.h"

#define PP_EXEC_FORMAT "parplan-exec/1"
#define PP_EXEC_MAX_GEMMS 24
#define PP_EXEC_MAX_COLLS 12

/* How a rank's piece of a GEMM's output relates to the unsharded layer's. */
typedef enum pp_exec_split {
	PP_EXEC_COLUMN = 0, /* weight split by columns: output columns block r */
	PP_EXEC_ROW,        /* weight split by rows: output is a partial sum over ranks */
	PP_EXEC_HEADS,      /* attention: heads block r */
	PP_EXEC_WGRAD_ROW   /* gradient of a row-split weight: its rows block r */
} pp_exec_split;

typedef enum pp_exec_collop { PP_EXEC_ALLREDUCE = 0, PP_EXEC_ALLGATHER, PP_EXEC_REDUCESCATTER } pp_exec_collop;

typedef struct pp_exec_gemm {
	char name[40];       /* "fwd.qkv", "bwd.qkv.dgrad", ... */
	char of[40];         /* forward GEMM this backward GEMM belongs to; "" when forward */
	int backward;
	int64_t m, n, k;     /* per product */
	int64_t batch;       /* products per call (b * heads per rank for attention, else 1) */
	pp_exec_split split;
	char weight[16];     /* "w_qkv", "w_proj", "w_fc1", "w_fc2"; "" for attention */
	char shard[96];      /* which part of the weight rank r holds, in words */
} pp_exec_gemm;

typedef struct pp_exec_coll {
	char name[40];       /* "fwd.proj.allreduce", ... */
	char after[40];      /* GEMM it follows ("" when it comes before one: all-gather) */
	char before[40];     /* GEMM that waits for it */
	pp_exec_collop op;
	int64_t elems;       /* elements of the whole (unsharded) [b*s, h] buffer */
} pp_exec_coll;

typedef struct pp_exec_layer {
	char model[128];
	pp_dtype dtype;
	int llama;           /* 1: grouped-query attention and SwiGLU MLP (Llama), 0: GPT */
	int64_t b, s, h, heads, kv_heads, ffn;
	int t;
	int sp;              /* sequence parallel */
	int n_gemm, n_coll;
	pp_exec_gemm gemm[PP_EXEC_MAX_GEMMS];
	pp_exec_coll coll[PP_EXEC_MAX_COLLS];
} pp_exec_layer;

/** "allreduce", "allgather", "reducescatter". */
const char *pp_exec_collop_name(pp_exec_collop op);
/** "column", "row", "heads", "wgrad-row". */
const char *pp_exec_split_name(pp_exec_split s);

/**
 * Fill @L with the GEMMs and collectives of one GPT layer (see above).  Fails with PP_EINVALID
 * (message names the rule) when the shape does not divide over t.
 */
int pp_exec_layer_build(pp_exec_layer *L, const char *model, pp_dtype dtype, int llama,
			int64_t b, int64_t s, int64_t h, int64_t heads, int64_t kv_heads,
			int64_t ffn, int t, int sp, pp_error *err);

/**
 * Shrink @L's h, s and ffn by @scale (0 < scale <= 1) keeping every divisibility rule: h to a
 * multiple of heads, ffn and (with sequence parallelism) s to multiples of t, none below that
 * multiple.  Rebuilds the lists.
 */
int pp_exec_layer_scale(pp_exec_layer *L, double scale, pp_error *err);

/** FLOPs of one call of GEMM @g: 2*m*n*k*batch. */
double pp_exec_gemm_flops(const pp_exec_gemm *g);

/** JSON text of @L (parplan-exec/1, byte-stable); caller frees. NULL when out of memory. */
char *pp_exec_layer_to_json(const pp_exec_layer *L);

/**
 * Read a stub file's text.  The GEMM and collective lists must be exactly what the layer shape
 * implies (a hand-edited list is an error naming its JSON path), so the stub never runs a
 * program other than the one it describes.
 */
int pp_exec_layer_parse(const char *name_for_errors, const char *text, pp_exec_layer *L,
			pp_error *err);

/*
 * pp_emit_exec() (declared in parplan/emit.h, defined in src/emit_exec.c) writes this file for a
 * plan: one layer of its model at its micro-batch and sequence length, its t and sequence
 * parallelism.
 */

#endif
