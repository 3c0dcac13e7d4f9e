/*
 * cost_memo.c - memoized evaluation (issue 13, point 1): the totals of each op set of the cost
 * model (src/cost.c, set_cost) kept under exactly the plan settings they read and the configs of
 * the set's ops.
 *
 * The key is derived from the plan-settings table (include/parplan/settings.h): a set is keyed on
 * every row whose `invalidates` mask has PP_COST_OPS and whose op types (pp_setting_op_types:
 * every op unless the row narrows it with PP_COST_OPS_OF) include a type of the set's ops, so a
 * new setting that changes per-op costs is keyed by declaring so in its row, and the dense layers
 * of a mixture of experts are not re-costed for each expert-parallel degree.  The whole plan under
 * Megatron's configs (PP_COST_MEMO_ALL) is keyed on every PP_COST_OPS row.  Each set has a
 * direct-mapped table indexed by a hash of the key; an entry holds the whole key (compared byte
 * for byte, so a hash collision only costs a recomputation) and the totals.  Costs are what
 * set_cost computes, so the memoized evaluation is bit-for-bit the plain one (tests/check_cost.c
 * walks whole search spaces both ways).
 */
#include "cost_int.h"

#include <stdlib.h>
#include <string.h>

#include "parplan/settings.h"

/* entries per set, a power of two: a walk meets every micro-batch x expert-parallel pair x
 * precision of a (t, cp) before it comes back to the first (DeepSeek-V3 on 2048 GPUs: a few hundred
 * keys per set, thousands of whole plans) */
#define MEMO_WAYS 1024
#define MEMO_WAYS_ALL 4096

typedef struct mset {
	int n_ops, *ops;       /* the ops whose configs the set's totals read */
	int grp;               /* its settings part: the memo's group grp */
	unsigned ways;         /* entries, a power of two */
	size_t klen;           /* key bytes: the settings part, then one byte per op */
	size_t stride;         /* bytes per entry: header, key (padded), totals */
	unsigned char *ent;    /* MEMO_WAYS entries */
	unsigned char *last;   /* the entry of the last lookup */
} mset;

struct pp_cost_memo {
	const pp_costctx *c;
	unsigned gen;
	int n_keys;                        /* settings rows with PP_COST_OPS */
	size_t key_off[PP_SETTING_COUNT];  /* their members' offsets in pp_global */
	/* the distinct subsets of those rows that sets are keyed on: bit i for key row i; for the
	 * current evaluation, their values packed and the FNV-1a state after them */
	int n_grp;
	uint32_t *grp_rows;
	int *grp_n;
	int (*grp_val)[PP_SETTING_COUNT];
	uint64_t *grp_hash;
	int n_sets;
	mset *sets;
	unsigned char *kbuf;               /* scratch key */
	double hits, misses;
};

/* entry header: 0 empty or pending, 1 valid; then the hash */
typedef struct entry_hdr {
	uint64_t hash;
	int valid;
} entry_hdr;

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)
#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull
#define GOLDEN64 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd: a bijective multiply */

void pp_cost_memo_free(pp_cost_memo *m)
{
	int i;
	if (!m)
		return;
	for (i = 0; m->sets && i < m->n_sets; i++) {
		free(m->sets[i].ops);
		free(m->sets[i].ent);
	}
	free(m->sets);
	free(m->grp_rows);
	free(m->grp_n);
	free(m->grp_val);
	free(m->grp_hash);
	free(m->kbuf);
	free(m);
}

_Static_assert(PP_SETTING_COUNT <= 32, "a group of key rows is a 32-bit mask");

/* the group of the key rows @rows, added when new */
static int group_of(pp_cost_memo *m, uint32_t rows)
{
	int g, i;
	for (g = 0; g < m->n_grp; g++)
		if (m->grp_rows[g] == rows)
			return g;
	m->grp_rows[g] = rows;
	m->grp_n[g] = 0;
	for (i = 0; i < m->n_keys; i++)
		m->grp_n[g] += (int)(rows >> i & 1u);
	m->n_grp++;
	return g;
}

int pp_cost_memo_new(pp_cost_memo **out, const pp_costctx *c, pp_error *err)
{
	const pp_setting *rows = pp_settings();
	pp_cost_memo *m = calloc(1, sizeof(*m));
	unsigned key_types[PP_SETTING_COUNT];
	size_t kmax = 0;
	int i, k;

	*out = NULL;
	if (!m)
		goto oom;
	m->c = c;
	m->gen = pp_cost__generation(c);
	for (i = 0; i < PP_SETTING_COUNT; i++)
		if (rows[i].invalidates & PP_COST_OPS) {
			key_types[m->n_keys] = pp_setting_op_types(&rows[i]);
			m->key_off[m->n_keys++] = rows[i].off;
		}
	/* the sets, then the whole plan under Megatron's configs (PP_COST_MEMO_ALL) */
	m->n_sets = pp_cost__n_sets(c) + 1;
	m->sets = calloc((size_t)m->n_sets, sizeof(mset));
	m->grp_rows = calloc((size_t)m->n_sets, sizeof(*m->grp_rows));
	m->grp_n = calloc((size_t)m->n_sets, sizeof(*m->grp_n));
	m->grp_val = calloc((size_t)m->n_sets, sizeof(*m->grp_val));
	m->grp_hash = calloc((size_t)m->n_sets, sizeof(*m->grp_hash));
	if (!m->sets || !m->grp_rows || !m->grp_n || !m->grp_val || !m->grp_hash)
		goto oom;
	for (i = 0; i < m->n_sets; i++) {
		mset *s = &m->sets[i];
		int all = i == m->n_sets - 1;
		size_t vsize = all ? pp_cost__all_size(c) : pp_cost__set_size();
		unsigned types = all ? ~0u : pp_cost__set_types(c, i);
		uint32_t grows = 0;
		s->ops = malloc((all ? 0 : (size_t)pp_cost__set_max_ops(c, i)) * sizeof(int) + sizeof(int));
		if (!s->ops)
			goto oom;
		s->n_ops = all ? 0 : pp_cost__set_ops(c, i, s->ops);
		for (k = 0; k < m->n_keys; k++)
			if (all || (key_types[k] & types))
				grows |= 1u << k;
		s->grp = group_of(m, grows);
		s->ways = all ? MEMO_WAYS_ALL : MEMO_WAYS;
		s->klen = (size_t)m->grp_n[s->grp] * sizeof(int) + (size_t)s->n_ops;
		s->stride = ALIGN8(sizeof(entry_hdr)) + ALIGN8(s->klen) + ALIGN8(vsize);
		/* calloc: every entry starts empty (valid = 0) */
		if (!(s->ent = calloc(s->ways, s->stride)))
			goto oom;
		if (s->klen > kmax)
			kmax = s->klen;
	}
	if (!(m->kbuf = malloc(kmax + 1)))
		goto oom;
	*out = m;
	return 0;
oom:
	pp_cost_memo_free(m);
	return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
}

void pp_cost_memo_stats(const pp_cost_memo *m, double *hits, double *misses)
{
	*hits = m ? m->hits : 0;
	*misses = m ? m->misses : 0;
}

void pp_cost__memo_begin(pp_cost_memo *m, const pp_global *gl)
{
	int skey[PP_SETTING_COUNT];
	int i, g;
	unsigned gen = pp_cost__generation(m->c);
	if (gen != m->gen) {
		/* the context's stack changed: nothing stored holds */
		for (i = 0; i < m->n_sets; i++)
			memset(m->sets[i].ent, 0, m->sets[i].ways * m->sets[i].stride);
		m->gen = gen;
	}
	for (i = 0; i < m->n_keys; i++)
		memcpy(&skey[i], (const char *)gl + m->key_off[i], sizeof(int));
	/* one multiply per setting, not per byte: the settings part is hashed on every evaluation */
	for (g = 0; g < m->n_grp; g++) {
		uint64_t h = FNV_OFFSET;
		int n = 0;
		for (i = 0; i < m->n_keys; i++)
			if (m->grp_rows[g] >> i & 1u) {
				m->grp_val[g][n++] = skey[i];
				h = (h ^ (uint32_t)skey[i]) * GOLDEN64;
			}
		m->grp_hash[g] = h;
	}
}

void *pp_cost__memo_lookup(pp_cost_memo *m, int set, const uint8_t *cfg, int *hit)
{
	mset *s = &m->sets[set];
	size_t sk = (size_t)m->grp_n[s->grp] * sizeof(int);
	unsigned char *k = m->kbuf, *e, *ekey;
	uint64_t h = m->grp_hash[s->grp];
	entry_hdr *hdr;
	int i;

	memcpy(k, m->grp_val[s->grp], sk);
	for (i = 0; i < s->n_ops; i++) {
		k[sk + (size_t)i] = cfg[s->ops[i]];
		h = (h ^ cfg[s->ops[i]]) * FNV_PRIME;
	}
	e = s->ent + (size_t)((h ^ (h >> 29)) & (s->ways - 1)) * s->stride;
	hdr = (entry_hdr *)e;
	ekey = e + ALIGN8(sizeof(entry_hdr));
	s->last = e;
	if (hdr->valid && hdr->hash == h && memcmp(ekey, k, s->klen) == 0) {
		m->hits += 1;
		*hit = 1;
	} else {
		m->misses += 1;
		*hit = 0;
		hdr->valid = 0;
		hdr->hash = h;
		memcpy(ekey, k, s->klen);
	}
	return ekey + ALIGN8(s->klen);
}

void pp_cost__memo_store(pp_cost_memo *m, int set)
{
	((entry_hdr *)m->sets[set].last)->valid = 1;
}
