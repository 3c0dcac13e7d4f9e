/*
 * schedule.c - the order of every pipeline schedule (one rule per schedule) and the event
 * simulator that runs it (schedule.h).
 *
 * Orders, per rank r of p, m micro-batches:
 *   GPipe        all forwards, then all backwards (Huang et al. 2019).
 *   1F1B         min(p-1-r, m) warm-up forwards, one forward / one backward in turn, the
 *                remaining backwards (Narayanan et al. 2021, PipeDream-Flush).
 *   interleaved  Megatron-LM's interleaved 1F1B (schedules.py,
 *                forward_backward_pipelining_with_interleaving): virtual micro-batch k runs
 *                chunk (k mod p*v) / p (reversed for backward) of micro-batch
 *                (k / (p*v)) * p + k mod p; warm-up (p-1-r)*2 + (v-1)*p, then 1F1B.
 *   ZB-H1        1F1B with the backward split into B and W, rank r deferring its W by r
 *                micro-batches, so it holds at most p micro-batches like rank 0 of 1F1B (Qi et
 *                al., "Zero Bubble Pipeline Parallelism", ICLR 2024, sec. 3.1; PyTorch
 *                torch/distributed/pipelining/schedules.py _get_1f1b_rank_ops with
 *                enable_zero_bubble, ScheduleInterleavedZeroBubble, commit 00722e64).
 *   ZB-V         two chunks per rank in a V (chunk 0 = stage r, chunk 1 = stage 2p-1-r): warm-up
 *                2(p-r)-1 F0, r x (F1 F0), (p-r) x (F1 B1 W1), steady F0 B0 W0 F1 B1 W1,
 *                cool-down r x (B0 B1), (p-r) x (B0 W0), the rest of the W (Qi et al. 2024,
 *                sec. 6; PyTorch schedules.py ScheduleZBVZeroBubble, commit 00722e64).
 *   DualPipeV    the V of ZB-V run in DualPipe's eight steps (PyTorch schedules.py
 *                ScheduleDualPipeV, commit 00722e64; deepseek-ai/DualPipe).
 *   DualPipe     the same eight steps on p/2 "half ranks": micro-batches 0 .. m/2-1 flow from
 *                rank 0 to p-1, m/2 .. m-1 from rank p-1 to 0; rank r holds stages r and p-1-r
 *                (deepseek-ai/DualPipe dualpipe/dualpipe.py DualPipe.step, commit bb214e82).
 */
#include "parplan/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "checked_int.h"

#define MAX_OPS (1 << 24)

int pp_sched_chunks_per_rank(pp_schedule s, int v)
{
	switch (s) {
	case PP_SCHED_INTERLEAVED:
		return v;
	case PP_SCHED_ZB_V:
	case PP_SCHED_DUALPIPEV:
	case PP_SCHED_DUALPIPE:
		return 2;
	default:
		return 1;
	}
}

int pp_sched_chunks(pp_schedule s, int p, int v)
{
	return s == PP_SCHED_DUALPIPE ? p : p * pp_sched_chunks_per_rank(s, v);
}

void pp_sched_place(pp_schedule s, int p, int v, int m, int mb, int pos, int *rank, int *chunk)
{
	switch (s) {
	case PP_SCHED_INTERLEAVED:
		*rank = pos % p, *chunk = pos / p;
		break;
	case PP_SCHED_ZB_V:
	case PP_SCHED_DUALPIPEV:
		*chunk = pos >= p;
		*rank = pos < p ? pos : 2 * p - 1 - pos;
		break;
	case PP_SCHED_DUALPIPE:
		*chunk = mb >= m / 2;
		*rank = *chunk ? p - 1 - pos : pos;
		break;
	default:
		*rank = pos, *chunk = 0;
	}
	(void)v;
}

/* path position of local chunk @c on rank @r */
static int position(pp_schedule s, int p, int r, int c)
{
	switch (s) {
	case PP_SCHED_INTERLEAVED:
		return c * p + r;
	case PP_SCHED_ZB_V:
	case PP_SCHED_DUALPIPEV:
		return c ? 2 * p - 1 - r : r;
	case PP_SCHED_DUALPIPE:
		return c ? p - 1 - r : r;
	default:
		return r;
	}
}

int pp_sched_check(pp_schedule s, int p, int v, int m, pp_error *err)
{
#define BAD(...) pp_error_set(err, PP_EINVALID, NULL, "global.schedule", __VA_ARGS__)
	if (p < 1 || v < 1 || m < 1)
		return BAD("no micro-batches to schedule (p=%d, v=%d, m=%d)", p, v, m);
	if ((s == PP_SCHED_INTERLEAVED) != (v > 1) && !(s == PP_SCHED_INTERLEAVED && p == 1))
		return BAD("v=%d chunks per rank need the interleaved schedule (and it needs v > 1)", v);
	switch (s) {
	case PP_SCHED_INTERLEAVED:
		if (m % p)
			return BAD("%d micro-batches are not a multiple of p=%d (interleaved schedule)",
				   m, p);
		break;
	case PP_SCHED_DUALPIPE:
		/* dualpipe.py DualPipe.step: num_ranks % 2 == 0, num_chunks % 2 == 0 and
		 * num_chunks >= num_ranks * 2 */
		if (p % 2)
			return BAD("dualpipe needs an even number of stages (p=%d)", p);
		if (m % 2 || m < 2 * p)
			return BAD("dualpipe needs an even number of micro-batches, at least 2p=%d (m=%d)",
				   2 * p, m);
		break;
	case PP_SCHED_DUALPIPEV:
		/* PyTorch ScheduleDualPipeV: n_microbatches >= num_stages (2 per rank) */
		if (m < 2 * p)
			return BAD("dualpipev needs at least 2p=%d micro-batches (m=%d)", 2 * p, m);
		break;
	default:
		break;
	}
	return 0;
#undef BAD
}

/* ---- the rules ---------------------------------------------------------------------------- */

typedef struct list {
	pp_sched_op *o;
	int n;
} list;

static void put(list *l, pp_sched_kind k, int chunk, int mb)
{
	pp_sched_op *o = &l->o[l->n++];
	memset(o, 0, sizeof(*o));
	o->kind = k, o->chunk = chunk, o->mb = mb;
	o->chunk2 = -1, o->mb2 = -1;
}

static void order_classic(pp_schedule s, int p, int v, int m, int r, list *l)
{
	int n = m * v, i, warm, c;
	if (s == PP_SCHED_GPIPE || (p == 1 && v > 1)) {
		for (c = 0; c < v; c++)
			for (i = 0; i < m; i++)
				put(l, PP_SCHED_OP_F, c, i);
		for (c = v - 1; c >= 0; c--)
			for (i = 0; i < m; i++)
				put(l, PP_SCHED_OP_BW, c, i);
		return;
	}
	if (v == 1) {
		warm = p - 1 - r < m ? p - 1 - r : m;
		for (i = 0; i < warm; i++)
			put(l, PP_SCHED_OP_F, 0, i);
		for (i = 0; i < m - warm; i++) {
			put(l, PP_SCHED_OP_F, 0, warm + i);
			put(l, PP_SCHED_OP_BW, 0, i);
		}
		for (i = m - warm; i < m; i++)
			put(l, PP_SCHED_OP_BW, 0, i);
		return;
	}
	warm = (p - r - 1) * 2 + (v - 1) * p;
	if (warm > n)
		warm = n;
#define VF(j) put(l, PP_SCHED_OP_F, ((j) % (p * v)) / p, ((j) / (p * v)) * p + (j) % p)
#define VB(j) put(l, PP_SCHED_OP_BW, v - 1 - ((j) % (p * v)) / p, ((j) / (p * v)) * p + (j) % p)
	for (i = 0; i < warm; i++)
		VF(i);
	for (i = 0; i < n - warm; i++) {
		VF(warm + i);
		VB(i);
	}
	for (i = n - warm; i < n; i++)
		VB(i);
#undef VF
#undef VB
}

/* ZB-H1: 1F1B order with B for the backward and W deferred by r micro-batches */
static void order_zbh1(int p, int m, int r, list *l)
{
	int warm = p - 1 - r < m ? p - 1 - r : m, i, nb = 0, nw = 0, nf = 0;
	for (i = 0; i < warm; i++)
		put(l, PP_SCHED_OP_F, 0, nf++);
	for (i = 0; i < m; i++) {
		if (nf < m)
			put(l, PP_SCHED_OP_F, 0, nf++);
		put(l, PP_SCHED_OP_B, 0, nb++);
		if (i >= r)
			put(l, PP_SCHED_OP_W, 0, nw++);
	}
	while (nw < m)
		put(l, PP_SCHED_OP_W, 0, nw++);
}

/* put, unless the micro-batch is one of those ZB-V counts past m (dropped there too) */
static void put_below(list *l, int m, pp_sched_kind k, int chunk, int mb)
{
	if (mb < m)
		put(l, k, chunk, mb);
}

/* ZB-V (PyTorch ScheduleZBVZeroBubble): the order of max(m, 2p-1) micro-batches, those past m
 * dropped */
static void order_zbv(int p, int m, int r, list *l)
{
	int n = m > 2 * p - 1 ? m : 2 * p - 1, f0 = 0, f1 = 0, b0 = 0, b1 = 0, w0, w1, i;
	for (i = 0; i < 2 * (p - r) - 1; i++)
		put_below(l, m, PP_SCHED_OP_F, 0, f0), f0++;
	for (i = 0; i < r; i++) {
		put_below(l, m, PP_SCHED_OP_F, 1, f1), f1++;
		put_below(l, m, PP_SCHED_OP_F, 0, f0), f0++;
	}
	for (i = 0; i < p - r; i++) {
		put_below(l, m, PP_SCHED_OP_F, 1, f1), f1++;
		put_below(l, m, PP_SCHED_OP_B, 1, b1);
		put_below(l, m, PP_SCHED_OP_W, 1, b1), b1++;
	}
	while (f1 < f0 || f0 < n) {
		if (f0 < n)
			put_below(l, m, PP_SCHED_OP_F, 0, f0), f0++;
		put_below(l, m, PP_SCHED_OP_B, 0, b0);
		put_below(l, m, PP_SCHED_OP_W, 0, b0), b0++;
		put_below(l, m, PP_SCHED_OP_F, 1, f1), f1++;
		put_below(l, m, PP_SCHED_OP_B, 1, b1);
		put_below(l, m, PP_SCHED_OP_W, 1, b1), b1++;
	}
	w0 = b0, w1 = b1;
	for (i = 0; i < r; i++) {
		put_below(l, m, PP_SCHED_OP_B, 0, b0), b0++;
		put_below(l, m, PP_SCHED_OP_B, 1, b1), b1++;
	}
	for (i = 0; i < p - r; i++) {
		put_below(l, m, PP_SCHED_OP_B, 0, b0), b0++;
		put_below(l, m, PP_SCHED_OP_W, 0, w0), w0++;
	}
	while (w1 < b1)
		put_below(l, m, PP_SCHED_OP_W, 1, w1), w1++;
	while (w0 < b0)
		put_below(l, m, PP_SCHED_OP_W, 0, w0), w0++;
}

/* DualPipe's eight steps on half rank @hr of @nh with @nc micro-batches per phase; phase 0 is
 * the direction in which the rank sits in the first half of the path.  @map turns (phase,
 * index) into (local chunk, micro-batch). */
typedef struct dualctx {
	list *l;
	int r, p, m, dualpipe;
	int f[2], b[2];
	int *wq; /* pending W as (chunk, micro-batch) pairs, FIFO */
	int wq_head, wq_tail;
} dualctx;

static void dual_map(const dualctx *d, int phase, int idx, int *chunk, int *mb)
{
	if (d->dualpipe) {
		int dir = phase ^ (d->r >= d->p / 2);
		*chunk = dir;
		*mb = dir * (d->m / 2) + idx;
	} else {
		*chunk = phase;
		*mb = idx;
	}
}

static void dual_op(dualctx *d, pp_sched_kind k, int phase)
{
	int chunk, mb, idx = k == PP_SCHED_OP_F ? d->f[phase]++ : d->b[phase]++;
	dual_map(d, phase, idx, &chunk, &mb);
	put(d->l, k, chunk, mb);
	if (k == PP_SCHED_OP_B) {
		d->wq[2 * d->wq_tail] = chunk;
		d->wq[2 * d->wq_tail + 1] = mb;
		d->wq_tail++;
	}
}

static void dual_fb(dualctx *d, int fphase, int bphase)
{
	int fc, fm, bc, bm;
	pp_sched_op *o;
	dual_map(d, fphase, d->f[fphase]++, &fc, &fm);
	dual_map(d, bphase, d->b[bphase]++, &bc, &bm);
	put(d->l, PP_SCHED_OP_FB, fc, fm);
	o = &d->l->o[d->l->n - 1];
	o->chunk2 = bc, o->mb2 = bm;
}

static void dual_w(dualctx *d)
{
	if (d->wq_head == d->wq_tail)
		return;
	put(d->l, PP_SCHED_OP_W, d->wq[2 * d->wq_head], d->wq[2 * d->wq_head + 1]);
	d->wq_head++;
}

static void order_dual(int dualpipe, int p, int m, int r, list *l, int *wq)
{
	dualctx d;
	int nh = dualpipe ? p / 2 : p, hr = dualpipe ? (r < p - 1 - r ? r : p - 1 - r) : r;
	int nc = dualpipe ? m / 2 : m, middle = hr == nh - 1, i, zb = 0, step;
	memset(&d, 0, sizeof(d));
	d.l = l, d.r = r, d.p = p, d.m = m, d.dualpipe = dualpipe, d.wq = wq;
	for (i = 0; i < (nh - hr - 1) * 2; i++) /* 1: nF0 */
		dual_op(&d, PP_SCHED_OP_F, 0);
	for (i = 0; i < hr + 1; i++) { /* 2: nF0F1 */
		dual_op(&d, PP_SCHED_OP_F, 0);
		dual_op(&d, PP_SCHED_OP_F, 1);
	}
	for (i = 0; i < nh - hr - 1; i++) { /* 3: nB1W1F1, zero bubble */
		dual_op(&d, PP_SCHED_OP_B, 1);
		dual_w(&d);
		dual_op(&d, PP_SCHED_OP_F, 1);
	}
	for (i = 0; i < nc - 2 * nh + hr + 1; i++) { /* 4: nF0B1F1B0, the main step */
		if (i == 0 && middle) { /* not overlapped, to shrink the bubble */
			dual_op(&d, PP_SCHED_OP_F, 0);
			dual_op(&d, PP_SCHED_OP_BW, 1);
		} else {
			dual_fb(&d, 0, 1);
		}
		dual_fb(&d, 1, 0);
	}
	for (i = 0; i < nh - hr - 1; i++) { /* 5: nB1F1B0 */
		dual_op(&d, PP_SCHED_OP_BW, 1);
		dual_fb(&d, 1, 0);
	}
	step = hr + 1;
	for (i = 0; i < step; i++) { /* 6: nB1B0, the second half zero bubble */
		if (i == step / 2 && hr % 2 == 1)
			zb = 1;
		dual_op(&d, zb ? PP_SCHED_OP_B : PP_SCHED_OP_BW, 1);
		if (i == step / 2 && hr % 2 == 0)
			zb = 1;
		dual_op(&d, zb ? PP_SCHED_OP_B : PP_SCHED_OP_BW, 0);
	}
	for (i = 0; i < nh - hr - 1; i++) { /* 7: nWB0 */
		dual_w(&d);
		dual_op(&d, zb ? PP_SCHED_OP_B : PP_SCHED_OP_BW, 0);
	}
	for (i = 0; i < hr + 1; i++) /* 8: nW */
		dual_w(&d);
	while (d.wq_head < d.wq_tail) /* nothing should be left; never drop a W */
		dual_w(&d);
}

static void order_rank(pp_schedule s, int p, int v, int m, int r, list *l, int *wq)
{
	switch (s) {
	case PP_SCHED_ZB_H1:
		order_zbh1(p, m, r, l);
		break;
	case PP_SCHED_ZB_V:
		order_zbv(p, m, r, l);
		break;
	case PP_SCHED_DUALPIPE:
	case PP_SCHED_DUALPIPEV:
		order_dual(s == PP_SCHED_DUALPIPE, p, m, r, l, wq);
		break;
	default:
		order_classic(s, p, v, m, r, l);
	}
}

/* ---- the simulator ------------------------------------------------------------------------- */

void pp_sched_run_release(pp_sched_run *r)
{
	if (!r)
		return;
	free(r->ops);
	memset(r, 0, sizeof(*r));
}

static double at(const double *a, int i)
{
	return a ? a[i] : 0;
}

int pp_sched_simulate(pp_schedule s, int p, int v, int m, const pp_sched_times *t,
		      pp_sched_run *out, pp_error *err)
{
	int S, c = pp_sched_chunks_per_rank(s, v), per, r, rc = 0, done = 0, progress, total = 0;
	int64_t cap, fb_n;
	pp_sched_op *ops = NULL;
	int *cnt = NULL, *ptr = NULL, *wq = NULL;
	double *fend = NULL, *bend = NULL, *free_at = NULL, *busy = NULL;

	memset(out, 0, sizeof(*out));
	if ((rc = pp_sched_check(s, p, v, m, err)) < 0)
		return rc;
	S = pp_sched_chunks(s, p, v);
	/* at most 3 ops (F, B, W) per micro-batch and local chunk */
	if (pp_mul_i64(3 * (int64_t)m, c, &cap) < 0 || pp_mul_i64(cap, p, &fb_n) < 0 ||
	    fb_n > MAX_OPS || pp_mul_i64((int64_t)m, S, &fb_n) < 0 || fb_n > MAX_OPS)
		return pp_error_set(err, PP_EINVALID, NULL, "global",
				    "p=%d ranks x %d chunks x %d micro-batches are too many to simulate",
				    p, c, m);
	per = (int)cap;
	ops = malloc(sizeof(*ops) * (size_t)per * (size_t)p);
	cnt = calloc((size_t)p, sizeof(int));
	ptr = calloc((size_t)p, sizeof(int));
	wq = malloc(sizeof(int) * 2 * (size_t)per);
	free_at = calloc((size_t)p, sizeof(double));
	busy = calloc((size_t)p, sizeof(double));
	fend = malloc(sizeof(double) * (size_t)m * (size_t)S);
	bend = malloc(sizeof(double) * (size_t)m * (size_t)S);
	if (!ops || !cnt || !ptr || !wq || !free_at || !busy || !fend || !bend) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	for (r = 0; r < m * S; r++)
		fend[r] = bend[r] = -1;
	for (r = 0; r < p; r++) {
		list l = {ops + (size_t)r * (size_t)per, 0};
		int k;
		order_rank(s, p, v, m, r, &l, wq);
		for (k = 0; k < l.n; k++) {
			l.o[k].rank = r;
			l.o[k].pos = position(s, p, r, l.o[k].chunk);
			l.o[k].pos2 = l.o[k].chunk2 >= 0 ? position(s, p, r, l.o[k].chunk2) : -1;
		}
		cnt[r] = l.n;
		total += l.n;
	}

	do {
		progress = 0;
		for (r = 0; r < p; r++) {
			while (ptr[r] < cnt[r]) {
				pp_sched_op *o = &ops[(size_t)r * (size_t)per + (size_t)ptr[r]];
				int i = o->mb * S + o->pos, j;
				double ready = 0, dur, f, bw;
				if (o->kind == PP_SCHED_OP_F || o->kind == PP_SCHED_OP_FB) {
					if (o->pos > 0 && (ready = fend[i - 1]) < 0)
						break;
				} else if (o->kind == PP_SCHED_OP_W) {
					if ((ready = bend[i]) < 0)
						break;
				} else {
					ready = o->pos == S - 1 ? fend[i] : bend[i + 1];
					if (ready < 0)
						break;
				}
				if (o->kind == PP_SCHED_OP_FB) {
					double rb;
					j = o->mb2 * S + o->pos2;
					rb = o->pos2 == S - 1 ? fend[j] : bend[j + 1];
					if (rb < 0)
						break;
					if (rb > ready)
						ready = rb;
				}
				switch (o->kind) {
				case PP_SCHED_OP_F:
					dur = t->f[o->pos];
					break;
				case PP_SCHED_OP_B:
					dur = t->b[o->pos];
					break;
				case PP_SCHED_OP_W:
					dur = t->w[o->pos];
					break;
				case PP_SCHED_OP_BW:
					dur = t->b[o->pos] + t->w[o->pos];
					break;
				default:
					f = t->f[o->pos] - at(t->fx, o->pos);
					bw = t->b[o->pos2] + t->w[o->pos2] - at(t->bx, o->pos2);
					dur = f + bw;
					if (at(t->fx, o->pos) + at(t->bx, o->pos2) > dur)
						dur = at(t->fx, o->pos) + at(t->bx, o->pos2);
				}
				o->start_s = ready > free_at[r] ? ready : free_at[r];
				o->end_s = o->start_s + dur;
				free_at[r] = o->end_s;
				busy[r] += dur;
				if (o->kind == PP_SCHED_OP_F || o->kind == PP_SCHED_OP_FB)
					fend[i] = o->end_s;
				else if (o->kind != PP_SCHED_OP_W)
					bend[i] = o->end_s;
				if (o->kind == PP_SCHED_OP_FB)
					bend[o->mb2 * S + o->pos2] = o->end_s;
				ptr[r]++;
				done++;
				progress = 1;
			}
		}
	} while (progress);
	if (done != total) {
		rc = pp_error_set(err, PP_EINVALID, NULL, "global.schedule",
				  "the %s schedule deadlocks with p=%d, v=%d, %d micro-batches",
				  pp_schedule_name(s), p, v, m);
		goto done;
	}

	/* compact, and the columns: makespan, busy time, activations held, transfers */
	{
		int k = 0, mb, pos;
		long long xfer = 0;
		out->busy_min_s = -1;
		for (r = 0; r < p; r++) {
			int held = 0, peak = 0, q;
			for (q = 0; q < cnt[r]; q++) {
				pp_sched_op *o = &ops[(size_t)r * (size_t)per + (size_t)q];
				if (o->kind == PP_SCHED_OP_F || o->kind == PP_SCHED_OP_FB)
					held++;
				if (held > peak)
					peak = held;
				if (o->kind == PP_SCHED_OP_W || o->kind == PP_SCHED_OP_BW ||
				    o->kind == PP_SCHED_OP_FB)
					held--;
				if (o->end_s > out->makespan_s)
					out->makespan_s = o->end_s;
				ops[k++] = *o;
			}
			if (cnt[r] && ops[k - 1].end_s - ops[k - cnt[r]].start_s > out->span_s)
				out->span_s = ops[k - 1].end_s - ops[k - cnt[r]].start_s;
			if (peak > out->peak_act)
				out->peak_act = peak, out->peak_act_rank = r;
			if (busy[r] > out->busy_max_s)
				out->busy_max_s = busy[r];
			if (out->busy_min_s < 0 || busy[r] < out->busy_min_s)
				out->busy_min_s = busy[r];
		}
		for (mb = 0; mb < m; mb++)
			for (pos = 1; pos < S; pos++) {
				int r0, c0, r1, c1;
				pp_sched_place(s, p, v, m, mb, pos - 1, &r0, &c0);
				pp_sched_place(s, p, v, m, mb, pos, &r1, &c1);
				xfer += r0 != r1;
			}
		out->p2p_per_rank = 2.0 * (double)xfer / ((double)m * p);
		out->ops = ops;
		out->n = k;
		out->p = p;
		out->chunks = c;
		ops = NULL;
	}
done:
	free(ops);
	free(cnt);
	free(ptr);
	free(wq);
	free(free_at);
	free(busy);
	free(fend);
	free(bend);
	return rc;
}

/* ---- closed forms ---------------------------------------------------------------------------- */

static double maxd(double a, double b)
{
	return a > b ? a : b;
}

/* F&B of a forward and a full backward: each one's communication behind the other's compute */
static double overlapped(double f, double bw, double fx, double bx)
{
	return maxd(f - fx + bw - bx, fx + bx);
}

double pp_sched_pipeline_s(pp_schedule s, int p, int m, double f, double b, double w, double fx,
			   double bx, double *busy_s)
{
	double T = f + b + w, busy = m * T, bubble = 0;
	switch (s) {
	case PP_SCHED_ZB_H1:
		bubble = (p - 1) * maxd(f + b - w, maxd(f, b));
		break;
	case PP_SCHED_ZB_V: {
		double cf = f / 2, cb = b / 2, cw = w / 2;
		bubble = (p - 1) * (maxd(cf, cb) + maxd(cf - cb, 0) + maxd(cb - 2 * cw, 0));
		break;
	}
	case PP_SCHED_DUALPIPE:
	case PP_SCHED_DUALPIPEV: {
		/* per chunk op: DualPipe runs one stage per micro-batch, DualPipeV two half chunks */
		int dv = s == PP_SCHED_DUALPIPEV, n = dv ? p : p / 2, nc = dv ? m : m / 2;
		double k = dv ? 2 : 1, cf = f / k, cb = b / k, cw = w / k, cx = fx / k, cy = bx / k;
		double fb = overlapped(cf, cb + cw, cx, cy);
		/* F&B steps of half rank 0 and of the middle one (step 4 twice per round, step 5
		 * once; the middle rank runs its first pair apart): 2nc - 3n + hr + 1 - [middle] */
		double pairs0 = 2.0 * nc - 3 * n + 1 - (n == 1), pairsm = 2.0 * nc - 2 * n - 1;
		double pairs = pairs0 < pairsm ? pairs0 : pairsm;
		busy = k * m * (cf + cb + cw) - maxd(pairs, 0) * (cf + cb + cw - fb);
		bubble = (n - 1) * maxd(fb + maxd(cf, cb) - 2 * cw, 0);
		break;
	}
	default:
		bubble = (p - 1) * T;
	}
	if (busy_s)
		*busy_s = busy;
	return busy + bubble;
}

double pp_sched_in_flight(pp_schedule s, int p, int m)
{
	switch (s) {
	case PP_SCHED_GPIPE:
		return m;
	case PP_SCHED_ZB_V:
		return p < m ? p : m;
	case PP_SCHED_DUALPIPE:
		return p + 1;
	case PP_SCHED_DUALPIPEV:
		return p + 0.5;
	default:
		return p < m ? p : m;
	}
}
