/*
 * emit_pipe.c - pp_pipe_simulate(): the schedule simulator (schedule.c) seen as the boxes of
 * one iteration, forward and backward per micro-batch and model chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "parplan/emit.h"
#include "parplan/schedule.h"

int pp_pipe_simulate(const pp_global *gl, double fwd_s, double bwd_s, pp_pipe_slot **out, int *n,
		     pp_error *err)
{
	int p = gl->p, v = gl->virtual_stages, m = pp_global_microbatches(gl), S, k, i, j = 0, rc;
	int c = pp_sched_chunks_per_rank(gl->schedule, v);
	double *t = NULL;
	pp_sched_run run;
	pp_sched_times tm;
	pp_pipe_slot *slots = NULL;

	*out = NULL;
	*n = 0;
	if ((rc = pp_sched_check(gl->schedule, p, v, m, err)) < 0)
		return rc;
	S = pp_sched_chunks(gl->schedule, p, v);
	if (!(t = calloc(3 * (size_t)S, sizeof(double))))
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	/* a chunk takes its share of the rank's time; DualPipe's chunk is a whole stage */
	if (gl->schedule == PP_SCHED_DUALPIPE)
		c = 1;
	for (k = 0; k < S; k++)
		t[k] = fwd_s / c, t[S + k] = bwd_s / c;
	tm.f = t, tm.b = t + S, tm.w = t + 2 * S, tm.fx = NULL, tm.bx = NULL;
	if ((rc = pp_sched_simulate(gl->schedule, p, v, m, &tm, &run, err)) < 0)
		goto done;
	if (!(slots = malloc(sizeof(*slots) * 2 * (size_t)run.n))) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	for (i = 0; i < run.n; i++) {
		const pp_sched_op *o = &run.ops[i];
		if (o->kind == PP_SCHED_OP_W)
			continue; /* zero time here: the backward is one box */
		slots[j].stage = o->rank;
		slots[j].microbatch = o->mb;
		slots[j].chunk = o->chunk;
		slots[j].backward = o->kind != PP_SCHED_OP_F && o->kind != PP_SCHED_OP_FB;
		slots[j].start_s = o->start_s;
		slots[j].end_s = o->end_s;
		j++;
		if (o->kind == PP_SCHED_OP_FB) {
			slots[j] = slots[j - 1];
			slots[j].microbatch = o->mb2;
			slots[j].chunk = o->chunk2;
			slots[j].backward = 1;
			j++;
		}
	}
	*out = slots;
	*n = j;
	slots = NULL;
done:
	pp_sched_run_release(&run);
	free(slots);
	free(t);
	return rc;
}
