/*
 * pcg.h - PCG32 random numbers (O'Neill 2014, "PCG: A Family of Simple Fast Space-Efficient
 * Statistically Good Algorithms for Random Number Generation"): 64-bit LCG state, XSH-RR output.
 *
 * Every search owns its generator; there is no global state.  The same seed and stream give the
 * same sequence on every platform.
 */
#ifndef PARPLAN_PCG_H
#define PARPLAN_PCG_H

#include <stdint.h>

typedef struct pp_pcg32 {
	uint64_t state;
	uint64_t inc; /* always odd */
} pp_pcg32;

/** Seed @r with @seed on stream @stream (pcg32_srandom_r of the reference implementation). */
void pp_pcg32_seed(pp_pcg32 *r, uint64_t seed, uint64_t stream);

/** Next uniformly distributed 32-bit value. */
uint32_t pp_pcg32_next(pp_pcg32 *r);

/** Uniform integer in [0, bound), without modulo bias (rejection); bound 0 returns 0. */
uint32_t pp_pcg32_bounded(pp_pcg32 *r, uint32_t bound);

/** Uniform double in [0, 1) with 53 random bits (two outputs). */
double pp_pcg32_double(pp_pcg32 *r);

#endif
