/*
 * emit_pipe.c - one iteration of a pipeline schedule, simulated op by op.
 *
 * Orders (per pipeline rank r of p, m micro-batches, v model chunks per rank):
 *   GPipe        all forwards, then all backwards (Huang et al. 2019).
 *   1F1B         min(p-1-r, m) warm-up forwards, then one forward / one backward in turn, then
 *                the remaining backwards (Narayanan et al. 2021, PipeDream-Flush).
 *   interleaved  Megatron-LM's interleaved 1F1B (schedules.py,
 *                forward_backward_pipelining_with_interleaving): virtual micro-batch k runs
 *                chunk (k mod p*v) / p (reversed for backward) of micro-batch
 *                (k / (p*v)) * p + k mod p; warm-up (p-1-r)*2 + (v-1)*p, then 1F1B.
 * Dependencies: a forward of global stage s = chunk*p + r waits for the forward of s-1, a
 * backward for the backward of s+1 (the last stage's for its own forward).  Point-to-point
 * transfer time is left out (the cost model folds it into the stage times).
 */
#include <stdlib.h>
#include <string.h>

#include "checked_int.h"
#include "parplan/emit.h"

#define MAX_SLOTS (1 << 22)

typedef struct op3 {
	int bwd, mb, chunk;
} op3;

static void order_rank(const pp_global *gl, int m, int r, op3 *ops)
{
	int p = gl->p, v = gl->virtual_stages, n = m * v, i, k = 0, warm;
	if (gl->schedule == PP_SCHED_GPIPE || (p == 1 && v > 1)) {
		int c;
		for (c = 0; c < v; c++)
			for (i = 0; i < m; i++)
				ops[k].bwd = 0, ops[k].mb = i, ops[k].chunk = c, k++;
		for (c = v - 1; c >= 0; c--)
			for (i = 0; i < m; i++)
				ops[k].bwd = 1, ops[k].mb = i, ops[k].chunk = c, k++;
		return;
	}
	if (v == 1) {
		warm = p - 1 - r < m ? p - 1 - r : m;
		for (i = 0; i < warm; i++)
			ops[k].bwd = 0, ops[k].mb = i, ops[k].chunk = 0, k++;
		for (i = 0; i < m - warm; i++) {
			ops[k].bwd = 0, ops[k].mb = warm + i, ops[k].chunk = 0, k++;
			ops[k].bwd = 1, ops[k].mb = i, ops[k].chunk = 0, k++;
		}
		for (i = m - warm; i < m; i++)
			ops[k].bwd = 1, ops[k].mb = i, ops[k].chunk = 0, k++;
		return;
	}
	warm = (p - r - 1) * 2 + (v - 1) * p;
	if (warm > n)
		warm = n;
#define VF(j) (ops[k].bwd = 0, ops[k].chunk = ((j) % (p * v)) / p,                             \
	       ops[k].mb = ((j) / (p * v)) * p + (j) % p, k++)
#define VB(j) (ops[k].bwd = 1, ops[k].chunk = v - 1 - ((j) % (p * v)) / p,                     \
	       ops[k].mb = ((j) / (p * v)) * p + (j) % p, k++)
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

int pp_pipe_simulate(const pp_global *gl, double fwd_s, double bwd_s, pp_pipe_slot **out, int *n,
		     pp_error *err)
{
	int p = gl->p, v = gl->virtual_stages, m = pp_global_microbatches(gl), S, per, r, rc = 0;
	int64_t total;
	op3 *ops = NULL;
	int *ptr = NULL;
	double *fend = NULL, *bend = NULL, *free_at = NULL;
	pp_pipe_slot *slots = NULL;
	int done = 0, progress;

	*out = NULL;
	*n = 0;
	if (p < 1 || v < 1 || m < 1)
		return pp_error_set(err, PP_EINVALID, NULL, "global", "no micro-batches to schedule");
	if (v > 1 && m % p)
		return pp_error_set(err, PP_EINVALID, NULL, "global.global_batch",
				    "%d micro-batches are not a multiple of p = %d (interleaved schedule)",
				    m, p);
	if (pp_mul_i64(2 * (int64_t)m, p, &total) < 0 || pp_mul_i64(total, v, &total) < 0 ||
	    total > MAX_SLOTS)
		return pp_error_set(err, PP_EINVALID, NULL, "global",
				    "2*m*p*v = 2*%d*%d*%d pipeline slots are too many to draw (at most %d)",
				    m, p, v, MAX_SLOTS);
	S = p * v;
	per = 2 * m * v;
	ops = malloc(sizeof(op3) * (size_t)total);
	ptr = calloc((size_t)p, sizeof(int));
	free_at = calloc((size_t)p, sizeof(double));
	fend = malloc(sizeof(double) * (size_t)m * (size_t)S);
	bend = malloc(sizeof(double) * (size_t)m * (size_t)S);
	slots = malloc(sizeof(pp_pipe_slot) * (size_t)total);
	if (!ops || !ptr || !free_at || !fend || !bend || !slots) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	for (r = 0; r < m * S; r++)
		fend[r] = bend[r] = -1;
	for (r = 0; r < p; r++)
		order_rank(gl, m, r, ops + (size_t)r * (size_t)per);

	do {
		progress = 0;
		for (r = 0; r < p; r++) {
			while (ptr[r] < per) {
				const op3 *o = &ops[(size_t)r * (size_t)per + (size_t)ptr[r]];
				int s = o->chunk * p + r;
				double ready, start, dur;
				pp_pipe_slot *sl;
				if (!o->bwd)
					ready = s == 0 ? 0 : fend[o->mb * S + s - 1];
				else
					ready = s == S - 1 ? fend[o->mb * S + s] : bend[o->mb * S + s + 1];
				if (ready < 0)
					break;
				start = ready > free_at[r] ? ready : free_at[r];
				dur = (o->bwd ? bwd_s : fwd_s) / v;
				free_at[r] = start + dur;
				(o->bwd ? bend : fend)[o->mb * S + s] = start + dur;
				sl = &slots[(size_t)r * (size_t)per + (size_t)ptr[r]];
				sl->stage = r;
				sl->microbatch = o->mb;
				sl->chunk = o->chunk;
				sl->backward = o->bwd;
				sl->start_s = start;
				sl->end_s = start + dur;
				ptr[r]++;
				done++;
				progress = 1;
			}
		}
	} while (progress);
	if (done != total) {
		rc = pp_error_set(err, PP_EINVALID, NULL, "global.schedule",
				  "the %s schedule deadlocks with p = %d, v = %d, %d micro-batches",
				  pp_schedule_name(gl->schedule), p, v, m);
		goto done;
	}
	*out = slots;
	*n = (int)total;
	slots = NULL;
done:
	free(ops);
	free(ptr);
	free(free_at);
	free(fend);
	free(bend);
	free(slots);
	return rc;
}
