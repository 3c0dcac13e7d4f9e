/*
 * exec_int.h - what the parts of parplan-exec share.  Private to src/exec/; names carry the
 * tag xe_.  One file per job:
 *
 *   main.c      MPI start and stop, the order of the stages, agreeing on failure across ranks
 *   options.c   the command line, and the layer it names (stub, plan or model; --ranks, --scale,
 *               --dtype, --backend applied)
 *   setup.c     a run's dimensions, its buffers, this rank's inputs and weight shards
 *   layer.c     one layer forward and backward, GEMM by GEMM and collective by collective
 *   validate.c  the unsharded reference on rank 0 and the check of every sharded step against it
 *   timing.c    the timed iterations, their statistics and the collective sweep
 *   output.c    measurements.json and the summary line
 *
 * Stages return an exit status (0, XE_EXIT_VALIDATION, XE_EXIT_BAD, XE_EXIT_BACKEND) that every
 * rank agrees on before it is acted on (xe_agree), and rank 0 prints the message; helpers below
 * a stage return 0 or a negative PP_E* code and leave their message in xe_errbuf.  Only rank 0
 * prints or writes.  The backend table (backend.h) is the only way to the device.
 */
#ifndef PARPLAN_EXEC_INT_H
#define PARPLAN_EXEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "backend.h"
#include "parplan/exec.h"

#define XE_EXIT_VALIDATION 1
#define XE_EXIT_BAD 2
#define XE_EXIT_BACKEND 2 /* the environment: exit 2 like bad input, the message says which */
#define XE_MEAS_FORMAT "parplan-measurements/1"

#if defined(__GNUC__)
#define XE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define XE_PRINTF(f, a)
#endif

/* ---- options (options.c) ------------------------------------------------------------------ */

typedef struct xe_opts {
	const char *stub, *plan, *model, *out, *backend, *dtype;
	const char *input;        /* whichever of stub, plan, model was given */
	int iters, warmup, ranks, t, micro_batch, sp;
	double scale;
	uint64_t seed;
	const char *wrong_shard;  /* test only: the last rank reads this weight one column/row off */
	const char *skip_write;   /* test only: this GEMM leaves its last output row unwritten */
	int fail_sweep;           /* test only: the last rank fails one collective of the sweep */
} xe_opts;

/* "parplan-exec: <message>" on stderr from rank 0; returns XE_EXIT_BAD on every rank. */
int xe_usage(int rank, const char *fmt, ...) XE_PRINTF(2, 3);

/* Parse the command line into @o (defaults first).  0 ok, -1 after --help (exit 0), else the
 * exit status; the same on every rank, since every rank parses the same arguments. */
int xe_parse_opts(int argc, char **argv, int rank, xe_opts *o);

/*
 * Fill @L with the layer @o names on a job of @size ranks, the options applied (--dtype, else
 * the stub's, fp32 on the cpu backend; --ranks; --scale), and set @be to the backend and @dtype
 * to the element type the run computes in.  0 ok, else XE_EXIT_BAD with the message printed.
 */
int xe_layer_resolve(const xe_opts *o, int rank, int size, pp_exec_layer *L,
		     const pp_xbackend **be, int *dtype);

/* ---- a run: one layer on a communicator (setup.c) ---------------------------------------- */

/* How a sharded tensor compares with its reference (validate.c's check). */
enum { XE_CK_FULL = 0, XE_CK_BLOCK, XE_CK_PARTIAL, XE_CK_COL, XE_CK_COL2 };

/* A reference tensor, kept on the host: the unsharded layer's value of step @key. */
typedef struct xe_snap {
	char key[40];
	float *v;
	size_t n;
} xe_snap;

typedef struct xe_run {
	const pp_xbackend *be;
	pp_xdev *dev;
	const pp_exec_layer *L;
	const xe_opts *o;
	MPI_Comm comm;
	int rank, t, sp, llama;
	int64_t b, s, h, M, Ms, hp, ap, d, fp;
	int64_t qw, f1w;     /* QKV and MLP-in columns per rank */
	int64_t qpg, gk, gw; /* query heads per kv group, kv groups per rank, QKV columns a group */
	/* inputs, weights (host, this rank's part) and device buffers */
	void *x, *xs, *wqkv, *wproj, *w1, *w2;
	void *qkv, *scores, *ctx, *proj, *y1s, *y1, *f1, *a1, *fc2, *y2s;
	void *dy2s, *dy2, *da1, *df1, *dw2, *dh, *dhs, *dhf, *dw1, *dctx, *dwproj, *dp, *dqkv, *dx,
	     *dxs, *dwqkv;
	/* mode: 0 plain (timed), 1 validate against @ref (rank 0 holds it), 2 store (reference) */
	int mode;
	xe_snap *ref;
	int n_ref;
	double tol, max_err;
	int checks;
	char fail_msg[512];
	int failed;
	/* timings of the current iteration, seconds; products run per GEMM (checked against the list) */
	double *gemm_s, *coll_s;
	int64_t calls[PP_EXEC_MAX_GEMMS];
} xe_run;

/* Zero @R and derive its dimensions from @L split over @comm's ranks; borrows @L, @o. */
void xe_run_init(xe_run *R, const pp_exec_layer *L, const xe_opts *o, MPI_Comm comm);
/* Release the buffers, close the device, free the reference snapshots.  Safe on a zeroed run. */
void xe_run_release(xe_run *R);
/* Allocate every buffer and upload this rank's inputs and weight shards (rounded to bf16 when
 * @bf16).  In mode 2 the unsharded inputs are also kept as references "in.x", "in.dy". */
int xe_setup(xe_run *R, int bf16);
/* Fill every output buffer with NaN, so an element nobody writes cannot pass validation. */
int xe_poison_all(xe_run *R);
/* Release every buffer (the device stays open). */
void xe_free_bufs(xe_run *R);

/* ---- the layer (layer.c) ------------------------------------------------------------------ */

/* Index of the GEMM called @name in @L's list, or -1. */
int xe_find_gemm(const pp_exec_layer *L, const char *name);
/* One layer forward and backward, exactly in the order of the stub's lists; in mode 1 and 2
 * every step goes through xe_check.  Collective over @R's communicator. */
int xe_run_layer(xe_run *R);

/* ---- validation (validate.c) -------------------------------------------------------------- */

/*
 * Compare what every rank holds in @buf (@rows x @cols of it) with the reference @key as @kind
 * says; in store mode record @buf as reference @step.  Columns of an XE_CK_COL tensor outside
 * [off, off+width) modulo @period are not compared (written by another GEMM).  A disagreement
 * sets R->failed and R->fail_msg on every rank; the return value is for errors only.
 */
int xe_check(xe_run *R, const char *step, const char *key, int kind, const void *buf,
	     int64_t rows, int64_t cols, int64_t period, int64_t off, int64_t width);
/* Copy @n elements of device buffer @buf into a new reference snapshot @key. */
int xe_store(xe_run *R, const char *key, const void *buf, size_t n);

/* Rank 0 runs the unsharded layer of @L in fp32 on the cpu backend, inputs rounded to bf16 when
 * @dtype is bf16, and keeps every step's value in @ref.  Collective; exit status. */
int xe_reference(const xe_opts *o, const pp_exec_layer *L, int dtype, int rank, xe_run *ref);
/* Open @be on MPI_COMM_WORLD as @R and run the sharded layer once against @ref's snapshots
 * (which @R takes over).  Collective; exit status, XE_EXIT_VALIDATION naming the first step
 * that disagrees.  On success @R stays open for timing, its snapshots freed. */
int xe_validate(const xe_opts *o, const pp_exec_layer *L, const pp_xbackend *be, int dtype,
		int rank, xe_run *R, xe_run *ref);

/* ---- timing and the collective sweep (timing.c) ------------------------------------------ */

/* Most sweep points: 3 operations, sizes growing 4x from 256 elements a rank within size_t. */
#define XE_MAX_SWEEP (3 * 32)

typedef struct xe_sweep_point {
	pp_exec_collop op;
	double elems, median_s, min_s;
} xe_sweep_point;

typedef struct xe_times {
	/* GEMMs: the slowest rank's median, rank 0's minimum; collectives: over iterations of the
	 * per-iteration minimum over ranks */
	double gemm_med_s[PP_EXEC_MAX_GEMMS], gemm_min_s[PP_EXEC_MAX_GEMMS];
	double coll_med_s[PP_EXEC_MAX_COLLS], coll_min_s[PP_EXEC_MAX_COLLS];
	double membw_gbs; /* the slowest rank's */
	xe_sweep_point sweep[XE_MAX_SWEEP];
	int n_sweep;
} xe_times;

/* Warm-up runs, then o->iters timed runs of @R's layer, their statistics, and the sweep of
 * every collective at sizes around the layer's.  Collective; exit status, message printed. */
int xe_time(const xe_opts *o, xe_run *R, int size, xe_times *T);

/* ---- output (output.c) -------------------------------------------------------------------- */

/* Rank 0: write measurements.json to o->out and print the summary line.  Exit status. */
int xe_write(const xe_opts *o, const pp_exec_layer *L, const pp_xbackend *be, const xe_run *R,
	     int size, const xe_times *T);

/* ---- failure across ranks (main.c) -------------------------------------------------------- */

/* The last error's message on this rank ("" if none). */
extern char xe_errbuf[768];
/* Set xe_errbuf; returns PP_EBACKEND. */
int xe_seterr(const char *fmt, ...) XE_PRINTF(1, 2);
/* xe_errbuf = "<what>: <the backend's last error>"; returns PP_EBACKEND. */
int xe_be_fail(xe_run *R, const char *what);
/* Every rank's @rc; the worst wins.  Collective over @comm. */
int xe_agree(int rc, MPI_Comm comm);
/* After a failure all ranks agreed on: rank 0 gets the message of the lowest rank that has one
 * (the rank that failed may not be rank 0).  Collective over @comm. */
void xe_share_err(MPI_Comm comm);

#endif
