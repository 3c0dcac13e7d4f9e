/*
 * hw_gemm.c - a memo of pp_hw_gemm_flops() keyed on the exact (dtype, m, n, k) (see hw_int.h).
 *
 * Open addressing with linear probing over a power-of-two table kept at most half full; keys are
 * compared by their bits, so every value (also -0.0 or NaN) is remembered as given.
 */
#include "hw_int.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_MAX ((size_t)1 << 20) /* shapes remembered at most */

typedef struct memo_slot {
	double key[3];
	int dtype;                  /* -1: empty */
	double flops;
} memo_slot;

struct pp_gemm_memo {
	const pp_hw *hw;
	double *logs;               /* pp_hw_gemm_logs() of the table, NULL without one */
	memo_slot *slots;
	size_t cap, used;
	uint64_t computed;
};

static uint64_t hash_key(const double *key, int dtype)
{
	uint64_t h = (uint64_t)dtype * 0x9e3779b97f4a7c15ULL, x;
	int i;
	for (i = 0; i < 3; i++) {
		memcpy(&x, &key[i], sizeof(x));
		h = (h ^ x) * 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return h;
}

static memo_slot *find(memo_slot *slots, size_t cap, const double *key, int dtype)
{
	size_t i = (size_t)hash_key(key, dtype) & (cap - 1);
	while (slots[i].dtype >= 0 &&
	       (slots[i].dtype != dtype || memcmp(slots[i].key, key, sizeof(slots[i].key)) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static memo_slot *new_slots(size_t cap)
{
	memo_slot *s = malloc(cap * sizeof(*s));
	size_t i;
	if (s)
		for (i = 0; i < cap; i++)
			s[i].dtype = -1;
	return s;
}

int pp_gemm_memo_new(pp_gemm_memo **out, const pp_hw *hw)
{
	pp_gemm_memo *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m)
		return PP_ENOMEM;
	m->hw = hw;
	m->cap = 256;
	if (hw->n_gemm > 0 && (m->logs = malloc(4 * (size_t)hw->n_gemm * sizeof(double))))
		pp_hw_gemm_logs(hw, m->logs);
	if (!(m->slots = new_slots(m->cap)) || (hw->n_gemm > 0 && !m->logs)) {
		pp_gemm_memo_free(m);
		return PP_ENOMEM;
	}
	*out = m;
	return 0;
}

void pp_gemm_memo_free(pp_gemm_memo *memo)
{
	if (!memo)
		return;
	free(memo->slots);
	free(memo->logs);
	free(memo);
}

/* Double the table; on failure keep the old one (the memo then stops remembering). */
static int grow(pp_gemm_memo *m)
{
	size_t cap = m->cap * 2, i;
	memo_slot *s = new_slots(cap);
	if (!s)
		return -1;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].dtype >= 0)
			*find(s, cap, m->slots[i].key, m->slots[i].dtype) = m->slots[i];
	free(m->slots);
	m->slots = s;
	m->cap = cap;
	return 0;
}

double pp_gemm_memo_flops(pp_gemm_memo *memo, pp_dtype dtype, double m, double n, double k)
{
	double key[3], flops;
	memo_slot *s;

	if ((int)dtype < 0)
		return pp_hw_gemm_flops_logs(memo->hw, memo->logs, dtype, m, n, k);
	key[0] = m;
	key[1] = n;
	key[2] = k;
	s = find(memo->slots, memo->cap, key, (int)dtype);
	if (s->dtype >= 0)
		return s->flops;
	memo->computed++;
	flops = pp_hw_gemm_flops_logs(memo->hw, memo->logs, dtype, m, n, k);
	if (memo->used >= MEMO_MAX)
		return flops;
	if (2 * (memo->used + 1) > memo->cap) {
		if (grow(memo) < 0)
			return flops;
		s = find(memo->slots, memo->cap, key, (int)dtype);
	}
	memcpy(s->key, key, sizeof(key));
	s->dtype = (int)dtype;
	s->flops = flops;
	memo->used++;
	return flops;
}

uint64_t pp_gemm_memo_computed(const pp_gemm_memo *memo)
{
	return memo->computed;
}
