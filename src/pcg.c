/* pcg.c - PCG32 (XSH-RR, 64-bit state), after the reference pcg32_random_r / pcg32_srandom_r. */
#include "parplan/pcg.h"

#define PCG_MULT 6364136223846793005ULL

uint32_t pp_pcg32_next(pp_pcg32 *r)
{
	uint64_t old = r->state;
	uint32_t xorshifted, rot;

	r->state = old * PCG_MULT + r->inc;
	xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
	rot = (uint32_t)(old >> 59u);
	return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

void pp_pcg32_seed(pp_pcg32 *r, uint64_t seed, uint64_t stream)
{
	r->state = 0u;
	r->inc = (stream << 1u) | 1u;
	pp_pcg32_next(r);
	r->state += seed;
	pp_pcg32_next(r);
}

uint32_t pp_pcg32_bounded(pp_pcg32 *r, uint32_t bound)
{
	/* Reject the values below 2^32 mod bound so every residue is equally likely. */
	uint32_t threshold;
	if (bound == 0)
		return 0;
	threshold = (uint32_t)(-bound) % bound;
	for (;;) {
		uint32_t x = pp_pcg32_next(r);
		if (x >= threshold)
			return x % bound;
	}
}

double pp_pcg32_double(pp_pcg32 *r)
{
	uint64_t hi = pp_pcg32_next(r) >> 5;  /* 27 bits */
	uint64_t lo = pp_pcg32_next(r) >> 6;  /* 26 bits */
	return (double)((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}
