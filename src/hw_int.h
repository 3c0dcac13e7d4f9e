/*
 * hw_int.h - hardware-profile internals: a memo of GEMM throughput lookups.
 *
 * pp_hw_gemm_flops() interpolates over every point of a calibrated gemm_table (inverse-distance
 * weighting, see hw.h), so one lookup costs O(points).  A search asks for the same few shapes
 * (an op's GEMM under each tensor-parallel degree and micro-batch) millions of times; the memo
 * answers a repeated shape in O(1) with the very number pp_hw_gemm_flops() returned for it.
 */
#ifndef PARPLAN_HW_INT_H
#define PARPLAN_HW_INT_H

#include <stdint.h>

#include "parplan/comm.h"
#include "parplan/hw.h"

/** Fill @logs (4 * hw->n_gemm doubles) with log m, log n, log k, log tflops of each point. */
void pp_hw_gemm_logs(const pp_hw *hw, double *logs);

/** pp_hw_gemm_flops() with the table's logarithms from pp_hw_gemm_logs() (or NULL): the same
 * value, bit for bit, without one log() per point and call. */
double pp_hw_gemm_flops_logs(const pp_hw *hw, const double *logs, pp_dtype dtype, double m,
			     double n, double k);

typedef struct pp_gemm_memo pp_gemm_memo;

/**
 * A new, empty memo for @hw, which it borrows (@hw must outlive it).  Returns 0, or PP_ENOMEM
 * with *out NULL.  Free with pp_gemm_memo_free().  A memo is not safe to share between threads.
 */
int pp_gemm_memo_new(pp_gemm_memo **out, const pp_hw *hw);

/** NULL-safe. */
void pp_gemm_memo_free(pp_gemm_memo *memo);

/**
 * pp_hw_gemm_flops(hw, dtype, m, n, k), bit for bit: computed on the first request for these
 * exact arguments, remembered and returned from then on (expected O(1)).  Never fails: when the
 * memo is full (2^20 shapes) or cannot grow, it computes without remembering.
 */
double pp_gemm_memo_flops(pp_gemm_memo *memo, pp_dtype dtype, double m, double n, double k);

/** Lookups so far that were computed (not remembered): for tests. */
uint64_t pp_gemm_memo_computed(const pp_gemm_memo *memo);

/*
 * The links of @hw as pp_coll_s reads them (bytes/s and seconds per step, intra and network;
 * the domain block), taken once: the cost model's collectives per plan then skip re-deriving
 * them on each call (src/cost.c keeps one in its context).
 */
typedef struct pp_links {
	double bi, ai, bn, an;
	int block;
} pp_links;
void pp_links_of(const pp_hw *hw, pp_links *l);
/** pp_coll_s on the links @l, bit for bit. */
double pp_coll_links_s(const pp_links *l, pp_coll c, int n, int stride, double bytes);

#endif
