/*
 * schedule.h - pipeline schedules as tables of rules, run by one event simulator.
 *
 * Every schedule (pp_schedule) is a rule that lists, for each pipeline rank, the order of its
 * operations: F (forward of one model chunk and micro-batch), B (input gradient), W (weight
 * gradient), BW (full backward: B and W together) and FB (DualPipe: a forward and a full
 * backward of two chunks run overlapped).  The simulator runs the lists: an op starts when its
 * rank is free and its inputs are ready (F: the forward of the chunk before it on the
 * micro-batch's path; B/BW: the backward of the chunk after it, or its own forward on the last
 * chunk; W: its own B).  The SVG timeline, the tests of the cost model's closed forms and the
 * schedule memory / communication columns all read this one simulation.
 *
 * Model chunks are numbered along a micro-batch's path, 0 .. pp_sched_chunks()-1; which rank and
 * local chunk runs each is pp_sched_place().  Transfer time is not simulated (the cost model folds
 * point-to-point time into the stage times).
 */
#ifndef PARPLAN_SCHEDULE_H
#define PARPLAN_SCHEDULE_H

#include "parplan/error.h"
#include "parplan/strategy.h"

typedef enum pp_sched_kind {
	PP_SCHED_OP_F = 0, /* forward */
	PP_SCHED_OP_B,     /* input gradient (zero-bubble split) */
	PP_SCHED_OP_W,     /* weight gradient */
	PP_SCHED_OP_BW,    /* full backward, B and W in one op */
	PP_SCHED_OP_FB     /* a forward and a full backward overlapped (DualPipe's F&B) */
} pp_sched_kind;

/** Time of each model chunk per micro-batch (arrays of pp_sched_chunks() entries, borrowed):
 * forward @f, input gradient @b, weight gradient @w (b + w is the full backward), and the
 * communication parts @fx of f and @bx of b + w (NULL: none).  An FB op of forward chunk i and
 * backward chunk j takes max(f_i - fx_i + b_j + w_j - bx_j, fx_i + bx_j): each chunk's
 * communication runs behind the other's computation (DeepSeek-V3 technical report, sec. 3.2.1,
 * Figure 4). */
typedef struct pp_sched_times {
	const double *f, *b, *w, *fx, *bx;
} pp_sched_times;

/** One simulated op.  FB has its backward half in mb2 / chunk2 / pos2. */
typedef struct pp_sched_op {
	pp_sched_kind kind;
	int rank, mb, chunk, pos;  /* chunk: local model chunk on the rank; pos: along the path */
	int mb2, chunk2, pos2;
	double start_s, end_s;
} pp_sched_op;

/** A simulated iteration (pp_sched_run_release frees it). */
typedef struct pp_sched_run {
	pp_sched_op *ops;       /* rank by rank, each rank's in time order */
	int n;
	int p, chunks;          /* ranks; model chunks per rank */
	double makespan_s;      /* last op's end */
	double busy_max_s;      /* the busiest rank's summed op time */
	double busy_min_s;
	double span_s;          /* the longest rank's span, first op's start to last op's end: the
				 * period of back-to-back iterations whose next one starts on each
				 * rank as soon as the rank is done (Qi et al. 2024, sec. 3.1:
				 * ZB-H2's parallelogram needs the post-validation optimizer step) */
	int peak_act;           /* most micro-batch chunks held on one rank (forward started,
				 * weight gradient not finished), in chunk units */
	int peak_act_rank;
	double p2p_per_rank;    /* boundary transfers (forward + backward) sent per rank, per
				 * micro-batch, averaged over ranks */
} pp_sched_run;

/** Model chunks along one micro-batch's path: p (GPipe, 1F1B, ZB-H1, DualPipe), p*v
 * (interleaved), 2p (ZB-V, DualPipeV). */
int pp_sched_chunks(pp_schedule s, int p, int v);
/** Local chunks per rank whose parameters a rank holds: 1, v, 2 (ZB-V, DualPipeV, and
 * DualPipe, whose rank r holds stages r and p-1-r). */
int pp_sched_chunks_per_rank(pp_schedule s, int v);
/** Rank and local chunk of path position @pos for micro-batch @mb (DualPipe: micro-batches
 * m/2 .. m-1 run the reverse direction). */
void pp_sched_place(pp_schedule s, int p, int v, int m, int mb, int pos, int *rank, int *chunk);

/** Why @s cannot run p ranks, v chunks, m micro-batches, or 0 (the rules each schedule's
 * source states; message in @err). */
int pp_sched_check(pp_schedule s, int p, int v, int m, pp_error *err);

/** Simulate one iteration of schedule @s (p ranks, v chunks per rank for interleaved, m
 * micro-batches) with chunk times @t.  Fills *out (caller releases).  Returns 0, PP_EINVALID
 * (pp_sched_check, or a deadlock) or PP_ENOMEM. */
int pp_sched_simulate(pp_schedule s, int p, int v, int m, const pp_sched_times *t,
		      pp_sched_run *out, pp_error *err);
void pp_sched_run_release(pp_sched_run *r);

/* ---- closed forms (the cost model's; tests hold them against the simulation) ------------- */

/**
 * Pipeline time of @m micro-batches under schedule @s on @p equal ranks whose work per
 * micro-batch is forward @f, input gradient @b and weight gradient @w (the whole rank: its
 * chunks together), @fx and @bx the communication parts of f and b + w.  *busy_s (optional)
 * gets the rank's summed op time; the rest is the bubble.
 *   GPipe, 1F1B     (m + p - 1)(f + b + w)                         (Narayanan et al. 2021)
 *   ZB-H1           m(f+b+w) + (p-1) max(f + b - w, f, b)          (Qi et al. 2024: (p-1)(F+B-W)
 *                                                                   while W <= F, B)
 *   ZB-V            m(f+b+w) + (p-1)(max(f,b) + max(f-b,0) + max(b-2w,0)) of a chunk (f/2 ...):
 *                   (p-1) chunk forwards with f = b = w, the fill of the last rank a flush
 *                   cannot hide
 *   DualPipe(V)     busy - pairs*(f+b+w - F&B) + (n-1)(F&B + max(f,b) - 2w), n = p/2
 *                   (DualPipe, stage times) or p (DualPipeV, chunk times), pairs the F&B
 *                   steps of the rank with fewest; with f = b: (PP/2-1)(F&B + B - 3W), B the
 *                   full backward (deepseek-ai/DualPipe README)
 * v is not an argument: the interleaved schedule is (m + (p-1)/v)(f + b + w) (pp_cf_pipeline_s).
 */
double pp_sched_pipeline_s(pp_schedule s, int p, int m, double f, double b, double w, double fx,
			   double bx, double *busy_s);

/** Activations a rank holds at its peak, in micro-batches of the whole rank's layers, for
 * schedules other than 1F1B / interleaved (whose cost model counts per stage): GPipe m; ZB-H1
 * min(p, m) on every rank (rank r defers r weight gradients); ZB-V p; DualPipe p + 1 stages;
 * DualPipeV p + 1/2 (2p + 1 chunks).  The memory columns of the DualPipe and zero-bubble
 * READMEs. */
double pp_sched_in_flight(pp_schedule s, int p, int m);

#endif
