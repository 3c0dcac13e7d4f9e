/*
 * main.c - parplan-exec: run one transformer layer's tensor-parallel GEMMs and collectives, as
 * a parplan-exec/1 stub file lists them, on every rank of an MPI job; check the numbers against
 * the unsharded layer on rank 0; time every GEMM and collective; write measurements.json.
 *
 *   mpirun -np T parplan-exec --stub stub.json [--backend cpu|cuda] [--iters N] [--warmup N]
 *          [--dtype fp32|bf16] [--scale X] [--ranks T] [--seed N] -o measurements.json
 *
 * Exit status (DESIGN.md's three): 0 ok, 1 validation failed (the message names the GEMM), 2 bad
 * usage or input, or an environment that cannot run it (a BLAS, MPI or CUDA failure: no GPU, more
 * ranks than GPUs).  Only rank 0 prints and writes.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mpi.h>

#include "backend.h"
#include "json_int.h"
#include "parplan/emit.h"
#include "parplan/exec.h"
#include "parplan/graph.h"
#include "parplan/strategy.h"
#include "parplan/io.h"
#include "parplan/pcg.h"

#define EXIT_VALIDATION 1
#define EXIT_BAD 2
#define EXIT_BACKEND 2 /* the environment: exit 2 like bad input, the message says which */
#define MEAS_FORMAT "parplan-measurements/1"

/* ---- options --------------------------------------------------------------------------- */

typedef struct opts {
	const char *stub, *plan, *model, *out, *backend, *dtype;
	const char *input;        /* whichever of stub, plan, model was given */
	int iters, warmup, ranks, t, micro_batch, sp;
	double scale;
	uint64_t seed;
	const char *wrong_shard;  /* test only: the last rank reads this weight one column/row off */
	const char *skip_write;   /* test only: this GEMM leaves its last output row unwritten */
	int fail_sweep;           /* test only: the last rank fails one collective of the sweep */
} opts;

/* ---- the run ----------------------------------------------------------------------------- */

enum { CK_FULL = 0, CK_BLOCK, CK_PARTIAL, CK_COL, CK_COL2 };

typedef struct snap {
	char key[40];
	float *v;
	size_t n;
} snap;

typedef struct run {
	const pp_xbackend *be;
	pp_xdev *dev;
	const pp_exec_layer *L;
	const opts *o;
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
	snap *ref;
	int n_ref;
	double tol, max_err;
	int checks;
	char fail_msg[512];
	int failed;
	/* timings of the current iteration, seconds; products run per GEMM (checked against the list) */
	double *gemm_s, *coll_s;
	int64_t calls[PP_EXEC_MAX_GEMMS];
} run;

static char errbuf[768];

static int seterr(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

static int seterr(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return PP_EBACKEND;
}

static int be_fail(run *R, const char *what)
{
	return seterr("%s: %s", what, R->be->error(R->dev));
}

static int find_gemm(const pp_exec_layer *L, const char *name)
{
	int i;
	for (i = 0; i < L->n_gemm; i++)
		if (!strcmp(L->gemm[i].name, name))
			return i;
	return -1;
}

static int find_coll(const pp_exec_layer *L, const char *name)
{
	int i;
	for (i = 0; i < L->n_coll; i++)
		if (!strcmp(L->coll[i].name, name))
			return i;
	return -1;
}

/* ---- validation -------------------------------------------------------------------------- */

static const snap *find_ref(const run *R, const char *key)
{
	int i;
	for (i = 0; i < R->n_ref; i++)
		if (!strcmp(R->ref[i].key, key))
			return &R->ref[i];
	return NULL;
}

static int store(run *R, const char *key, const void *buf, size_t n)
{
	snap *s = realloc(R->ref, (size_t)(R->n_ref + 1) * sizeof(*s));
	if (!s)
		return seterr("out of memory");
	R->ref = s;
	s = &R->ref[R->n_ref];
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->n = n;
	s->v = malloc((n ? n : 1) * sizeof(float));
	if (!s->v)
		return seterr("out of memory");
	R->n_ref++;
	if (R->be->download(R->dev, s->v, buf, n) < 0)
		return be_fail(R, "download");
	return 0;
}

/* Accumulate |a - r|^2 and |r|^2; NaN in @a (a poisoned, unwritten element) stays NaN. */
static void acc(double *num, double *den, float a, float r)
{
	double dv = (double)a - (double)r;
	*num += dv * dv;
	*den += (double)r * (double)r;
}

static double rel(double num, double den)
{
	if (isnan(num))
		return NAN;
	return den > 0 ? sqrt(num / den) : sqrt(num);
}

/*
 * Compare what every rank holds in @buf (@rows x @cols of it, @n = rows*cols elements) with the
 * reference @key as @kind says; in store mode record @buf as reference @step.  Columns of a CK_COL
 * tensor outside [off, off+width) modulo @period are not compared (written by another GEMM).
 */
static int check(run *R, const char *step, const char *key, int kind, const void *buf,
		 int64_t rows, int64_t cols, int64_t period, int64_t off, int64_t width)
{
	size_t n = (size_t)(rows * cols);
	float *mine = NULL, *all = NULL;
	double worst = 0;
	int worst_rank = -1, bad = 0, rc = 0, r;

	if (R->mode == 0 || R->failed)
		return 0;
	if (R->mode == 2)
		return store(R, step, buf, n);
	mine = malloc((n ? n : 1) * sizeof(float));
	if (R->rank == 0)
		all = malloc((n ? n : 1) * (size_t)R->t * sizeof(float));
	if (!mine || (R->rank == 0 && !all)) {
		rc = seterr("out of memory");
		goto done;
	}
	if (R->be->download(R->dev, mine, buf, n) < 0) {
		rc = be_fail(R, "download");
		goto done;
	}
	if (n > INT32_MAX) {
		rc = seterr("validation of %zu elements above MPI's int count", n);
		goto done;
	}
	MPI_Gather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, 0, R->comm);
	if (R->rank == 0) {
		const snap *ref = find_ref(R, key);
		double num = 0, den = 0, e;
		size_t i;
		int64_t c, row;

		if (!ref) {
			rc = seterr("internal: no reference for %s", key);
			goto done;
		}
		R->checks++;
		switch (kind) {
		case CK_FULL:
		case CK_BLOCK:
			for (r = 0; r < R->t; r++) {
				const float *rv = kind == CK_FULL ? ref->v : ref->v + (size_t)r * n;
				double rn = 0, rd = 0;
				if ((kind == CK_FULL && ref->n != n) ||
				    (kind == CK_BLOCK && ref->n != n * (size_t)R->t)) {
					rc = seterr("internal: %s has %zu elements, reference %zu",
						    step, n, ref->n);
					goto done;
				}
				for (i = 0; i < n; i++)
					acc(&rn, &rd, all[(size_t)r * n + i], rv[i]);
				num += rn;
				den += rd;
				e = rel(rn, rd);
				if (!(e <= worst)) {
					worst = e;
					worst_rank = r;
				}
			}
			break;
		case CK_PARTIAL:
			if (ref->n != n) {
				rc = seterr("internal: %s has %zu elements, reference %zu", step, n,
					    ref->n);
				goto done;
			}
			for (i = 0; i < n; i++) {
				double sum = 0;
				for (r = 0; r < R->t; r++)
					sum += all[(size_t)r * n + i];
				acc(&num, &den, (float)sum, ref->v[i]);
			}
			break;
		case CK_COL:
		case CK_COL2:
			if (ref->n != n * (size_t)R->t) {
				rc = seterr("internal: %s has %zu elements, reference %zu", step, n,
					    ref->n);
				goto done;
			}
			for (r = 0; r < R->t; r++) {
				double rn = 0, rd = 0;
				for (row = 0; row < rows; row++)
					for (c = 0; c < cols; c++) {
						if (c % period < off || c % period >= off + width)
							continue;
						/* CK_COL2: two halves ([gate | up]), each split by columns */
						int64_t hw = kind == CK_COL2 ? cols / 2 : cols;
						int64_t rc_ = (c / hw) * hw * R->t + r * hw + c % hw;
						acc(&rn, &rd, all[(size_t)r * n + (size_t)(row * cols + c)],
						    ref->v[(size_t)(row * cols * R->t + rc_)]);
					}
				num += rn;
				den += rd;
				e = rel(rn, rd);
				if (!(e <= worst)) {
					worst = e;
					worst_rank = r;
				}
			}
			break;
		}
		e = rel(num, den);
		if (!(e <= R->tol)) {
			bad = 1;
			if (worst_rank >= 0 && R->t > 1)
				snprintf(R->fail_msg, sizeof(R->fail_msg),
					 "%s disagrees with the unsharded layer: relative error %.3g > "
					 "%.0e (worst on rank %d: %.3g)",
					 step, e, R->tol, worst_rank, worst);
			else
				snprintf(R->fail_msg, sizeof(R->fail_msg),
					 "%s disagrees with the unsharded layer: relative error %.3g > "
					 "%.0e", step, e, R->tol);
		} else if (e > R->max_err) {
			R->max_err = e;
		}
	}
	MPI_Bcast(&bad, 1, MPI_INT, 0, R->comm);
	R->failed = bad;
done:
	free(mine);
	free(all);
	return rc;
}

/* ---- steps ------------------------------------------------------------------------------- */

static int gemm(run *R, const char *name, pp_xgemm g)
{
	int gi = find_gemm(R->L, name), rc;
	const pp_exec_gemm *e;
	double s = 0;

	if (gi < 0)
		return seterr("internal: GEMM %s is not in the layer's list", name);
	e = &R->L->gemm[gi];
	R->calls[gi] += g.outer * g.inner;
	if (e->m != g.m || e->n != g.n || e->k != g.k || R->calls[gi] > e->batch)
		return seterr("internal: GEMM %s runs %lldx%lldx%lld x%lld, the list says "
			      "%lldx%lldx%lld x%lld", name, (long long)g.m, (long long)g.n,
			      (long long)g.k, (long long)(g.outer * g.inner), (long long)e->m,
			      (long long)e->n, (long long)e->k, (long long)e->batch);
	if (R->o->skip_write && !strcmp(R->o->skip_write, name) && R->mode != 2 && g.m > 1)
		g.m -= 1; /* test only: the last output row stays poisoned */
	if ((rc = R->be->tic(R->dev)) < 0 || (rc = R->be->gemm(R->dev, &g)) < 0 ||
	    (rc = R->be->toc(R->dev, &s)) < 0)
		return be_fail(R, name);
	if (R->gemm_s)
		R->gemm_s[gi] += s;
	return 0;
}

/* An element offset affine in (micro-batch index, kv group, query head within the group). */
typedef struct aff {
	int64_t base, bi, grp, hig;
} aff;

/*
 * An attention product for every (batch, head) of this rank, operands addressed by @A, @B, @C.
 * Without grouped-query attention one batched call over (batch, head); with it one call per
 * batch over (group, head in group), and where heads of a group write the same output (dK, dV:
 * @accumulate) one call per head in the group, adding up.
 */
static int attn_gemm(run *R, const char *name, pp_xgemm g, aff A, aff B, aff C, int accumulate)
{
	int64_t bi, hig;
	int rc;

	if (R->qpg == 1) {
		g.a0 = A.base, g.a_so = A.bi, g.a_si = A.grp;
		g.b0 = B.base, g.b_so = B.bi, g.b_si = B.grp;
		g.c0 = C.base, g.c_so = C.bi, g.c_si = C.grp;
		g.outer = R->b;
		g.inner = R->gk;
		return gemm(R, name, g);
	}
	for (bi = 0; bi < R->b; bi++) {
		g.a_so = A.grp, g.b_so = B.grp, g.c_so = C.grp;
		g.outer = R->gk;
		if (!accumulate) {
			g.a0 = A.base + bi * A.bi, g.a_si = A.hig;
			g.b0 = B.base + bi * B.bi, g.b_si = B.hig;
			g.c0 = C.base + bi * C.bi, g.c_si = C.hig;
			g.inner = R->qpg;
			if ((rc = gemm(R, name, g)) < 0)
				return rc;
			continue;
		}
		g.inner = 1;
		g.a_si = g.b_si = g.c_si = 0;
		for (hig = 0; hig < R->qpg; hig++) {
			g.a0 = A.base + bi * A.bi + hig * A.hig;
			g.b0 = B.base + bi * B.bi + hig * B.hig;
			g.c0 = C.base + bi * C.bi + hig * C.hig;
			g.beta = hig ? 1.0f : 0.0f;
			if ((rc = gemm(R, name, g)) < 0)
				return rc;
		}
	}
	return 0;
}

static int coll(run *R, const char *name, pp_exec_collop op, const void *send, void *recv,
		size_t n)
{
	int ci = find_coll(R->L, name), rc = 0;
	double s = 0;

	if (ci < 0)
		return seterr("internal: collective %s is not in the layer's list", name);
	/* Start together, so the time is the collective's and not a slower rank's GEMM. */
	if (R->be->sync(R->dev) < 0)
		return be_fail(R, name);
	MPI_Barrier(R->comm);
	if (R->be->tic(R->dev) < 0)
		return be_fail(R, name);
	switch (op) {
	case PP_EXEC_ALLREDUCE: rc = R->be->allreduce(R->dev, recv, n); break;
	case PP_EXEC_ALLGATHER: rc = R->be->allgather(R->dev, send, recv, n); break;
	case PP_EXEC_REDUCESCATTER: rc = R->be->reduce_scatter(R->dev, send, recv, n); break;
	}
	if (rc < 0 || R->be->toc(R->dev, &s) < 0)
		return be_fail(R, name);
	if (R->coll_s)
		R->coll_s[ci] = s;
	return 0;
}

#define TRY(x) do { if ((rc = (x)) < 0) return rc; } while (0)

/* A plain GEMM C[m,n] = op(A) op(B) on whole, densely packed matrices. */
static pp_xgemm mm(int ta, int tb, int64_t m, int64_t n, int64_t k, const void *a, const void *b,
		   void *c)
{
	pp_xgemm g;
	memset(&g, 0, sizeof(g));
	g.ta = ta;
	g.tb = tb;
	g.m = m;
	g.n = n;
	g.k = k;
	g.alpha = 1;
	g.a = a;
	g.b = b;
	g.c = c;
	g.lda = ta ? m : k;
	g.ldb = tb ? k : n;
	g.ldc = n;
	g.outer = g.inner = 1;
	return g;
}

/*
 * One layer forward and backward, exactly in the order of the stub's lists (emit_exec.c).
 * Activation rows are (sequence, batch); QKV columns are per head [q | k | v], d each; the
 * attention tensors are [head][batch][s][s].
 */
static int run_layer(run *R)
{
	int64_t M = R->M, Ms = R->Ms, h = R->h, hp = R->hp, ap = R->ap, d = R->d, fp = R->fp;
	int64_t s = R->s, b = R->b;
	int sp = R->sp, tp = R->t > 1, rc;
	int64_t qw = R->qw, gw = R->gw, f1w = R->f1w, qpg = R->qpg;
	float sc = 1.0f / sqrtf((float)d);
	/* where head j = (group, head in group) of micro-batch bi finds its operands */
	const aff Q = {0, qw, gw, d}, K = {qpg * d, qw, gw, 0}, V = {(qpg + 1) * d, qw, gw, 0};
	const aff S = {0, s * s, qpg * b * s * s, b * s * s}, O = {0, hp, qpg * d, d};
	void *H, *DH, *DF1 = R->llama ? R->df1 : R->da1;
	pp_xgemm g;
	int i;

	for (i = 0; i < R->L->n_gemm; i++) {
		R->calls[i] = 0;
		if (R->gemm_s)
			R->gemm_s[i] = 0;
	}

	/* ---- forward ---- */
	if (sp) {
		TRY(coll(R, "fwd.qkv.allgather", PP_EXEC_ALLGATHER, R->xs, R->x, (size_t)(Ms * h)));
		TRY(check(R, "fwd.qkv.allgather", "in.x", CK_FULL, R->x, M, h, h, 0, h));
	}
	TRY(gemm(R, "fwd.qkv", mm(0, 0, M, qw, h, R->x, R->wqkv, R->qkv)));
	TRY(check(R, "fwd.qkv", "fwd.qkv", CK_COL, R->qkv, M, qw, qw, 0, qw));

	/* S = Q K^T / sqrt(d), P = softmax(S), O = P V, per (batch, head) */
	g = mm(0, 1, s, s, d, R->qkv, R->qkv, R->scores);
	g.alpha = sc;
	g.lda = g.ldb = b * qw;
	TRY(attn_gemm(R, "fwd.scores", g, Q, K, S, 0));
	TRY(check(R, "fwd.scores", "fwd.scores", CK_BLOCK, R->scores, ap * b * s, s, s, 0, s));
	if (R->be->softmax(R->dev, R->scores, ap * b * s, s) < 0)
		return be_fail(R, "softmax");
	g = mm(0, 0, s, d, s, R->scores, R->qkv, R->ctx);
	g.ldb = b * qw;
	g.ldc = b * hp;
	TRY(attn_gemm(R, "fwd.context", g, S, V, O, 0));
	TRY(check(R, "fwd.context", "fwd.context", CK_COL, R->ctx, M, hp, hp, 0, hp));

	TRY(gemm(R, "fwd.proj", mm(0, 0, M, h, hp, R->ctx, R->wproj, R->proj)));
	TRY(check(R, "fwd.proj", "fwd.proj", CK_PARTIAL, R->proj, M, h, h, 0, h));
	H = R->proj;
	if (sp) {
		TRY(coll(R, "fwd.proj.reducescatter", PP_EXEC_REDUCESCATTER, R->proj, R->y1s,
			 (size_t)(Ms * h)));
		TRY(check(R, "fwd.proj.reducescatter", "fwd.proj", CK_BLOCK, R->y1s, Ms, h, h, 0, h));
		TRY(coll(R, "fwd.fc1.allgather", PP_EXEC_ALLGATHER, R->y1s, R->y1, (size_t)(Ms * h)));
		TRY(check(R, "fwd.fc1.allgather", "fwd.proj", CK_FULL, R->y1, M, h, h, 0, h));
		H = R->y1;
	} else if (tp) {
		TRY(coll(R, "fwd.proj.allreduce", PP_EXEC_ALLREDUCE, NULL, R->proj, (size_t)(M * h)));
		TRY(check(R, "fwd.proj.allreduce", "fwd.proj", CK_FULL, R->proj, M, h, h, 0, h));
	}
	TRY(gemm(R, "fwd.fc1", mm(0, 0, M, f1w, h, H, R->w1, R->f1)));
	TRY(check(R, "fwd.fc1", "fwd.fc1", R->llama ? CK_COL2 : CK_COL, R->f1, M, f1w, f1w, 0, f1w));
	if (R->llama ? R->be->swiglu(R->dev, R->a1, R->f1, M, fp) < 0
		     : R->be->gelu(R->dev, R->a1, R->f1, (size_t)(M * fp)) < 0)
		return be_fail(R, R->llama ? "swiglu" : "gelu");
	TRY(gemm(R, "fwd.fc2", mm(0, 0, M, h, fp, R->a1, R->w2, R->fc2)));
	TRY(check(R, "fwd.fc2", "fwd.fc2", CK_PARTIAL, R->fc2, M, h, h, 0, h));
	if (sp) {
		TRY(coll(R, "fwd.fc2.reducescatter", PP_EXEC_REDUCESCATTER, R->fc2, R->y2s,
			 (size_t)(Ms * h)));
		TRY(check(R, "fwd.fc2.reducescatter", "fwd.fc2", CK_BLOCK, R->y2s, Ms, h, h, 0, h));
	} else if (tp) {
		TRY(coll(R, "fwd.fc2.allreduce", PP_EXEC_ALLREDUCE, NULL, R->fc2, (size_t)(M * h)));
		TRY(check(R, "fwd.fc2.allreduce", "fwd.fc2", CK_FULL, R->fc2, M, h, h, 0, h));
	}

	/* ---- backward ---- */
	if (sp) {
		TRY(coll(R, "bwd.fc2.allgather", PP_EXEC_ALLGATHER, R->dy2s, R->dy2,
			 (size_t)(Ms * h)));
		TRY(check(R, "bwd.fc2.allgather", "in.dy", CK_FULL, R->dy2, M, h, h, 0, h));
	}
	TRY(gemm(R, "bwd.fc2.dgrad", mm(0, 1, M, fp, h, R->dy2, R->w2, R->da1)));
	TRY(check(R, "bwd.fc2.dgrad", "bwd.fc2.dgrad", CK_COL, R->da1, M, fp, fp, 0, fp));
	TRY(gemm(R, "bwd.fc2.wgrad", mm(1, 0, fp, h, M, R->a1, R->dy2, R->dw2)));
	TRY(check(R, "bwd.fc2.wgrad", "bwd.fc2.wgrad", CK_BLOCK, R->dw2, fp, h, h, 0, h));
	if (R->llama ? R->be->swiglu_bwd(R->dev, R->df1, R->da1, R->f1, M, fp) < 0
		     : R->be->gelu_bwd(R->dev, R->da1, R->f1, (size_t)(M * fp)) < 0)
		return be_fail(R, R->llama ? "swiglu backward" : "gelu backward");
	TRY(gemm(R, "bwd.fc1.dgrad", mm(0, 1, M, h, f1w, DF1, R->w1, R->dh)));
	TRY(check(R, "bwd.fc1.dgrad", "bwd.fc1.dgrad", CK_PARTIAL, R->dh, M, h, h, 0, h));
	TRY(gemm(R, "bwd.fc1.wgrad", mm(1, 0, h, f1w, M, H, DF1, R->dw1)));
	TRY(check(R, "bwd.fc1.wgrad", "bwd.fc1.wgrad", R->llama ? CK_COL2 : CK_COL, R->dw1, h, f1w,
		  f1w, 0, f1w));
	DH = R->dh;
	if (sp) {
		TRY(coll(R, "bwd.fc1.reducescatter", PP_EXEC_REDUCESCATTER, R->dh, R->dhs,
			 (size_t)(Ms * h)));
		TRY(check(R, "bwd.fc1.reducescatter", "bwd.fc1.dgrad", CK_BLOCK, R->dhs, Ms, h, h, 0,
			  h));
		TRY(coll(R, "bwd.proj.allgather", PP_EXEC_ALLGATHER, R->dhs, R->dhf,
			 (size_t)(Ms * h)));
		TRY(check(R, "bwd.proj.allgather", "bwd.fc1.dgrad", CK_FULL, R->dhf, M, h, h, 0, h));
		DH = R->dhf;
	} else if (tp) {
		TRY(coll(R, "bwd.fc1.allreduce", PP_EXEC_ALLREDUCE, NULL, R->dh, (size_t)(M * h)));
		TRY(check(R, "bwd.fc1.allreduce", "bwd.fc1.dgrad", CK_FULL, R->dh, M, h, h, 0, h));
	}
	TRY(gemm(R, "bwd.proj.dgrad", mm(0, 1, M, hp, h, DH, R->wproj, R->dctx)));
	TRY(check(R, "bwd.proj.dgrad", "bwd.proj.dgrad", CK_COL, R->dctx, M, hp, hp, 0, hp));
	TRY(gemm(R, "bwd.proj.wgrad", mm(1, 0, hp, h, M, R->ctx, DH, R->dwproj)));
	TRY(check(R, "bwd.proj.wgrad", "bwd.proj.wgrad", CK_BLOCK, R->dwproj, hp, h, h, 0, h));

	/* attention backward: dP = dO V^T, dV = P^T dO, dS = softmax'(dP), dQ = dS K, dK = dS^T Q */
	g = mm(0, 1, s, s, d, R->dctx, R->qkv, R->dp);
	g.lda = b * hp;
	g.ldb = b * qw;
	TRY(attn_gemm(R, "bwd.context.dprobs", g, O, V, S, 0));
	TRY(check(R, "bwd.context.dprobs", "bwd.context.dprobs", CK_BLOCK, R->dp, ap * b * s, s, s,
		  0, s));
	g = mm(1, 0, s, d, s, R->scores, R->dctx, R->dqkv);
	g.lda = s;
	g.ldb = b * hp;
	g.ldc = b * qw;
	TRY(attn_gemm(R, "bwd.context.dv", g, S, O, V, 1));
	TRY(check(R, "bwd.context.dv", "bwd.context.dv", CK_COL, R->dqkv, M, qw, gw,
		  (R->qpg + 1) * d, d));
	if (R->be->softmax_bwd(R->dev, R->dp, R->scores, ap * b * s, s) < 0)
		return be_fail(R, "softmax backward");
	g = mm(0, 0, s, d, s, R->dp, R->qkv, R->dqkv);
	g.alpha = sc;
	g.ldb = b * qw;
	g.ldc = b * qw;
	TRY(attn_gemm(R, "bwd.scores.dq", g, S, K, Q, 0));
	TRY(check(R, "bwd.scores.dq", "bwd.scores.dq", CK_COL, R->dqkv, M, qw, gw, 0, R->qpg * d));
	g = mm(1, 0, s, d, s, R->dp, R->qkv, R->dqkv);
	g.alpha = sc;
	g.lda = s;
	g.ldb = b * qw;
	g.ldc = b * qw;
	TRY(attn_gemm(R, "bwd.scores.dk", g, S, Q, K, 1));
	TRY(check(R, "bwd.scores.dk", "bwd.scores.dk", CK_COL, R->dqkv, M, qw, gw, R->qpg * d, d));

	TRY(gemm(R, "bwd.qkv.dgrad", mm(0, 1, M, h, qw, R->dqkv, R->wqkv, R->dx)));
	TRY(check(R, "bwd.qkv.dgrad", "bwd.qkv.dgrad", CK_PARTIAL, R->dx, M, h, h, 0, h));
	TRY(gemm(R, "bwd.qkv.wgrad", mm(1, 0, h, qw, M, R->x, R->dqkv, R->dwqkv)));
	TRY(check(R, "bwd.qkv.wgrad", "bwd.qkv.wgrad", CK_COL, R->dwqkv, h, qw, qw, 0, qw));
	if (sp) {
		TRY(coll(R, "bwd.qkv.reducescatter", PP_EXEC_REDUCESCATTER, R->dx, R->dxs,
			 (size_t)(Ms * h)));
		TRY(check(R, "bwd.qkv.reducescatter", "bwd.qkv.dgrad", CK_BLOCK, R->dxs, Ms, h, h, 0,
			  h));
	} else if (tp) {
		TRY(coll(R, "bwd.qkv.allreduce", PP_EXEC_ALLREDUCE, NULL, R->dx, (size_t)(M * h)));
		TRY(check(R, "bwd.qkv.allreduce", "bwd.qkv.dgrad", CK_FULL, R->dx, M, h, h, 0, h));
	}
	for (i = 0; i < R->L->n_gemm; i++)
		if (R->calls[i] != R->L->gemm[i].batch)
			return seterr("internal: GEMM %s ran %lld products, the list says %lld",
				      R->L->gemm[i].name, (long long)R->calls[i],
				      (long long)R->L->gemm[i].batch);
	return 0;
}

/* ---- buffers ----------------------------------------------------------------------------- */

typedef struct bufspec {
	void **p;
	int64_t n;
	int output; /* poisoned before every run */
} bufspec;

static int specs(run *R, bufspec *B)
{
	int64_t M = R->M, Ms = R->Ms, h = R->h, hp = R->hp, fp = R->fp, qw = R->qw, f1w = R->f1w;
	int64_t att = R->ap * R->b * R->s * R->s;
	int n = 0, sp = R->sp;
#define ADD(ptr, cnt, out) do { B[n].p = (void **)&R->ptr; B[n].n = (cnt); B[n].output = (out); n++; } while (0)
	ADD(x, M * h, sp);
	if (sp)
		ADD(xs, Ms * h, 0);
	ADD(wqkv, h * qw, 0);
	ADD(wproj, hp * h, 0);
	ADD(w1, h * f1w, 0);
	ADD(w2, fp * h, 0);
	ADD(qkv, M * qw, 1);
	ADD(scores, att, 1);
	ADD(ctx, M * hp, 1);
	ADD(proj, M * h, 1);
	ADD(f1, M * f1w, 1);
	ADD(a1, M * fp, 1);
	ADD(fc2, M * h, 1);
	ADD(dy2, M * h, sp);
	ADD(da1, M * fp, 1);
	ADD(dw2, fp * h, 1);
	ADD(dh, M * h, 1);
	ADD(dw1, h * f1w, 1);
	ADD(dctx, M * hp, 1);
	ADD(dwproj, hp * h, 1);
	ADD(dp, att, 1);
	ADD(dqkv, M * qw, 1);
	ADD(dx, M * h, 1);
	ADD(dwqkv, h * qw, 1);
	if (R->llama)
		ADD(df1, M * f1w, 1);
	if (sp) {
		ADD(y1s, Ms * h, 1);
		ADD(y1, M * h, 1);
		ADD(y2s, Ms * h, 1);
		ADD(dy2s, Ms * h, 0);
		ADD(dhs, Ms * h, 1);
		ADD(dhf, M * h, 1);
		ADD(dxs, Ms * h, 1);
	}
#undef ADD
	return n;
}

#define MAX_BUFS 40

static int poison_all(run *R)
{
	bufspec B[MAX_BUFS];
	int n = specs(R, B), i;
	for (i = 0; i < n; i++)
		if (B[i].output && R->be->poison(R->dev, *B[i].p, (size_t)B[i].n) < 0)
			return be_fail(R, "poison");
	return 0;
}

static void free_bufs(run *R)
{
	bufspec B[MAX_BUFS];
	int n = specs(R, B), i;
	for (i = 0; i < n; i++) {
		if (*B[i].p)
			R->be->release(R->dev, *B[i].p);
		*B[i].p = NULL;
	}
}

/* Weight @id's rows [r0, r0+nr) x columns [c0, c0+nc) (and [c1, c1+nc) after them when c1 >= 0)
 * of a [rows, cols] matrix, each row from its own PCG32 stream so that any part is cheap to
 * make; @shift moves the part by one row or column (wrapping), the planted test fault.  Values
 * uniform in [-amp, amp), rounded to bf16 when @bf16. */
static void gen(float *out, uint64_t seed, uint64_t id, int64_t rows, int64_t cols, int64_t r0,
		int64_t nr, int64_t c0, int64_t nc, int64_t c1, int shift_row, int shift_col,
		float amp, int bf16, float *rowbuf)
{
	int64_t i, j, w = c1 >= 0 ? 2 * nc : nc;
	for (i = 0; i < nr; i++) {
		int64_t gi = (r0 + i + shift_row) % rows;
		pp_pcg32 g;
		pp_pcg32_seed(&g, seed, (id << 40) ^ (uint64_t)gi);
		for (j = 0; j < cols; j++)
			rowbuf[j] = (float)((2 * pp_pcg32_double(&g) - 1) * amp);
		for (j = 0; j < w; j++) {
			int64_t src = j < nc ? c0 + j : c1 + j - nc;
			float v = rowbuf[(src + shift_col) % cols];
			if (bf16) {
				uint32_t u;
				memcpy(&u, &v, 4);
				u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u;
				memcpy(&v, &u, 4);
			}
			out[i * w + j] = v;
		}
	}
}

enum { W_X = 1, W_DY, W_QKV, W_PROJ, W_FC1, W_FC2 };

/* Allocate every buffer and upload this rank's inputs and weight shards. */
static int setup(run *R, int bf16)
{
	bufspec B[MAX_BUFS];
	int n = specs(R, B), i, rc = 0, last = R->rank == R->t - 1 && R->mode != 2;
	int64_t h = R->h, M = R->M, Ms = R->Ms, hp = R->hp, fp = R->fp, r = R->rank;
	int64_t qw = R->qw, f = R->L->ffn, f1 = R->llama ? 2 * f : f, maxn = 0;
	int64_t maxc = qw * R->t > f1 ? qw * R->t : f1;
	float *host = NULL, *row = NULL;
	const char *ws = R->o->wrong_shard ? R->o->wrong_shard : "";
	uint64_t seed = R->o->seed;

	for (i = 0; i < n; i++) {
		*B[i].p = R->be->alloc(R->dev, (size_t)B[i].n);
		if (!*B[i].p)
			return seterr("cannot allocate %lld elements on the device", (long long)B[i].n);
		if (B[i].n > maxn)
			maxn = B[i].n;
	}
	host = malloc((size_t)maxn * sizeof(float));
	row = malloc((size_t)(maxc > h ? maxc : h) * sizeof(float));
	if (!host || !row) {
		rc = seterr("out of memory");
		goto done;
	}
#define UP(buf, cnt) do { if (R->be->upload(R->dev, R->buf, host, (size_t)(cnt)) < 0) { rc = be_fail(R, "upload"); goto done; } } while (0)
	gen(host, seed, W_X, M, h, R->sp ? r * Ms : 0, R->sp ? Ms : M, 0, h, -1, 0, 0, 1.0f, bf16,
	    row);
	if (R->sp)
		UP(xs, Ms * h);
	else
		UP(x, M * h);
	gen(host, seed, W_DY, M, h, R->sp ? r * Ms : 0, R->sp ? Ms : M, 0, h, -1, 0, 0, 1.0f, bf16,
	    row);
	if (R->sp)
		UP(dy2s, Ms * h);
	else
		UP(dy2, M * h);
	/* QKV columns are kv-group major, so rank r's groups are one block of columns */
	gen(host, seed, W_QKV, h, qw * R->t, 0, h, r * qw, qw, -1, 0,
	    last && !strcmp(ws, "w_qkv"), 1.0f / sqrtf((float)h), bf16, row);
	UP(wqkv, h * qw);
	gen(host, seed, W_PROJ, h, h, r * hp, hp, 0, h, -1, last && !strcmp(ws, "w_proj"), 0,
	    1.0f / sqrtf((float)h), bf16, row);
	UP(wproj, hp * h);
	/* Llama's MLP-in is [gate | up], 2f wide: rank r holds block r of each half */
	gen(host, seed, W_FC1, h, f1, 0, h, r * fp, fp, R->llama ? f + r * fp : -1, 0,
	    last && !strcmp(ws, "w_fc1"), 1.0f / sqrtf((float)h), bf16, row);
	UP(w1, h * R->f1w);
	gen(host, seed, W_FC2, f, h, r * fp, fp, 0, h, -1, last && !strcmp(ws, "w_fc2"), 0,
	    1.0f / sqrtf((float)f), bf16, row);
	UP(w2, fp * h);
#undef UP
	if (R->mode == 2) {
		/* the reference keeps the unsharded inputs under their own names */
		if ((rc = store(R, "in.x", R->x, (size_t)(M * h))) < 0 ||
		    (rc = store(R, "in.dy", R->dy2, (size_t)(M * h))) < 0)
			goto done;
	}
done:
	free(host);
	free(row);
	return rc;
}

static void run_init(run *R, const pp_exec_layer *L, const opts *o, MPI_Comm comm)
{
	memset(R, 0, sizeof(*R));
	R->L = L;
	R->o = o;
	R->comm = comm;
	MPI_Comm_rank(comm, &R->rank);
	MPI_Comm_size(comm, &R->t);
	R->sp = L->sp && L->t > 1;
	R->b = L->b;
	R->s = L->s;
	R->h = L->h;
	R->M = L->b * L->s;
	R->Ms = R->sp ? R->M / L->t : R->M;
	R->hp = L->h / L->t;
	R->ap = L->heads / L->t;
	R->d = L->h / L->heads;
	R->fp = L->ffn / L->t;
	R->llama = L->llama;
	R->qpg = L->heads / L->kv_heads;
	R->gk = L->kv_heads / L->t;
	R->gw = (R->qpg + 2) * R->d;
	R->qw = R->gk * R->gw;
	R->f1w = L->llama ? 2 * R->fp : R->fp;
}

static void run_release(run *R)
{
	int i;
	if (R->dev) {
		free_bufs(R);
		R->be->close(R->dev);
	}
	for (i = 0; i < R->n_ref; i++)
		free(R->ref[i].v);
	free(R->ref);
	R->dev = NULL;
	R->ref = NULL;
	R->n_ref = 0;
}

/* ---- statistics and output --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* nccl-tests' bus bandwidth factor (PERFORMANCE.md of NVIDIA/nccl-tests). */
static double bus_factor(pp_exec_collop op, int n)
{
	if (op == PP_EXEC_ALLREDUCE)
		return 2.0 * (n - 1) / n;
	return (double)(n - 1) / n;
}

static cJSON *coll_entry(const char *name, pp_exec_collop op, int ranks, double elems, int esize,
			 double med, double mn)
{
	cJSON *o = cJSON_CreateObject();
	double bytes = elems * esize, alg = med > 0 ? bytes / med / 1e9 : 0;
	if (!o)
		return NULL;
	if (name)
		cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "op", pp_exec_collop_name(op));
	cJSON_AddNumberToObject(o, "ranks", ranks);
	cJSON_AddNumberToObject(o, "elements", elems);
	cJSON_AddNumberToObject(o, "bytes", bytes);
	cJSON_AddNumberToObject(o, "median_s", med);
	cJSON_AddNumberToObject(o, "min_s", mn);
	cJSON_AddNumberToObject(o, "algbw_gbs", alg);
	cJSON_AddNumberToObject(o, "busbw_gbs", alg * bus_factor(op, ranks));
	return o;
}

/* ---- main -------------------------------------------------------------------------------- */

static int usage(int rank, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static int usage(int rank, const char *fmt, ...)
{
	va_list ap;
	if (rank != 0)
		return EXIT_BAD;
	fputs("parplan-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_BAD;
}

static int parse_int(int rank, const char *name, const char *v, long lo, long hi, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (end == v || *end || x < lo || x > hi)
		return usage(rank, "%s: expected an integer in [%ld, %ld], got \"%.40s\"", name, lo,
			     hi, v);
	*out = (int)x;
	return 0;
}

static int parse_opts(int argc, char **argv, int rank, opts *o)
{
	int i;
	memset(o, 0, sizeof(*o));
	o->backend = "cpu";
	o->iters = 20;
	o->warmup = 3;
	o->scale = 1;
	o->seed = 1234;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			if (rank == 0)
				printf("usage: mpirun -np T parplan-exec (--stub stub.json | --plan "
				       "plan.json | --model graph.json --t T [--micro-batch b] "
				       "[--sequence-parallel])\n       [--backend cpu|cuda] [--iters N] "
				       "[--warmup N] [--dtype fp32|bf16] [--scale X] [--ranks T] "
				       "[--seed N] -o measurements.json\n"
				       "exit: 0 ok, 1 validation failed, 2 bad usage or input or a "
				       "backend failure\n");
			return -1;
		}
		if (!strcmp(a, "--sequence-parallel")) {
			o->sp = 1;
			continue;
		}
		if (!strcmp(a, "--test-fail-sweep")) {
			o->fail_sweep = 1;
			continue;
		}
		if (a[0] != '-')
			return usage(rank, "unexpected argument \"%.40s\"", a);
		if (!v)
			return usage(rank, "option %s needs a value", a);
		i++;
		if (!strcmp(a, "--stub"))
			o->stub = v;
		else if (!strcmp(a, "--plan"))
			o->plan = v;
		else if (!strcmp(a, "--model"))
			o->model = v;
		else if (!strcmp(a, "--t")) {
			if ((rc = parse_int(rank, a, v, 1, 4096, &o->t)))
				return rc;
		} else if (!strcmp(a, "--micro-batch")) {
			if ((rc = parse_int(rank, a, v, 1, 1 << 20, &o->micro_batch)))
				return rc;
		}
		else if (!strcmp(a, "-o"))
			o->out = v;
		else if (!strcmp(a, "--backend"))
			o->backend = v;
		else if (!strcmp(a, "--dtype"))
			o->dtype = v;
		else if (!strcmp(a, "--iters")) {
			if ((rc = parse_int(rank, a, v, 1, 100000, &o->iters)))
				return rc;
		} else if (!strcmp(a, "--warmup")) {
			if ((rc = parse_int(rank, a, v, 0, 100000, &o->warmup)))
				return rc;
		} else if (!strcmp(a, "--ranks")) {
			if ((rc = parse_int(rank, a, v, 1, 4096, &o->ranks)))
				return rc;
		} else if (!strcmp(a, "--seed")) {
			int sd;
			if ((rc = parse_int(rank, a, v, 0, 2147483647, &sd)))
				return rc;
			o->seed = (uint64_t)sd;
		} else if (!strcmp(a, "--scale")) {
			char *end;
			o->scale = strtod(v, &end);
			if (end == v || *end || !(o->scale > 0 && o->scale <= 1))
				return usage(rank, "--scale: expected a number in (0, 1], got "
					     "\"%.40s\"", v);
		} else if (!strcmp(a, "--test-wrong-shard")) {
			if (strcmp(v, "w_qkv") && strcmp(v, "w_proj") && strcmp(v, "w_fc1") &&
			    strcmp(v, "w_fc2"))
				return usage(rank, "--test-wrong-shard: expected w_qkv, w_proj, "
					     "w_fc1 or w_fc2");
			o->wrong_shard = v;
		} else if (!strcmp(a, "--test-skip-write")) {
			o->skip_write = v;
		} else {
			return usage(rank, "unknown option \"%.40s\"", a);
		}
	}
	if (!!o->stub + !!o->plan + !!o->model != 1 || !o->out)
		return usage(rank, "one of --stub, --plan or --model, and -o FILE, are required "
			     "(see --help)");
	if (o->model && !o->t)
		return usage(rank, "--model needs --t");
	if (!o->model && (o->t || o->micro_batch || o->sp))
		return usage(rank, "--t, --micro-batch and --sequence-parallel go with --model");
	o->input = o->stub ? o->stub : o->plan ? o->plan : o->model;
	if (strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda"))
		return usage(rank, "--backend: expected cpu or cuda, got \"%.40s\"", o->backend);
	return 0;
}

/* A Llama graph: its MLP is SwiGLU (the generator's only other family is GPT). */
static int is_llama(const pp_graph *g)
{
	int i;
	for (i = 0; i < g->n_ops; i++)
		if (g->ops[i].type == PP_OP_SWIGLU)
			return 1;
	return 0;
}

/* The layer from a stub file, a plan (through pp_emit_exec) or a model graph's dimensions. */
static int read_layer(const opts *o, pp_exec_layer *L, pp_error *err)
{
	char *text = NULL;
	int rc;

	if (o->model) {
		pp_graph *g = NULL;
		if ((rc = pp_graph_load(o->model, &g, err)) < 0)
			return rc;
		rc = pp_exec_layer_build(L, g->name, g->dtype, is_llama(g),
					 o->micro_batch ? o->micro_batch : 1, g->seq, g->hidden,
					 g->heads, g->kv_heads ? g->kv_heads : g->heads, g->ffn, o->t,
					 o->sp, err);
		if (rc < 0 && err && !err->file[0])
			snprintf(err->file, sizeof(err->file), "%s", o->model);
		pp_graph_free(g);
		return rc;
	}
	if (o->plan) {
		pp_plan plan;
		if ((rc = pp_plan_load(o->plan, &plan, err)) < 0)
			return rc;
		rc = pp_emit_exec(&plan, &text, err);
		pp_plan_release(&plan);
		if (rc < 0) {
			if (err && !err->file[0])
				snprintf(err->file, sizeof(err->file), "%s", o->plan);
			return rc;
		}
		rc = pp_exec_layer_parse(o->plan, text, L, err);
		free(text);
		return rc;
	}
	if ((rc = pp_read_file(o->stub, &text, NULL, err)) == 0)
		rc = pp_exec_layer_parse(o->stub, text, L, err);
	free(text);
	return rc;
}

/* Every rank's rc; the worst wins (validation 1 < bad 2 < backend 3). */
static int agree(int rc, MPI_Comm comm)
{
	int worst = 0;
	MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, comm);
	return worst;
}

/*
 * After a failure all ranks agreed on: rank 0 gets the message of the lowest rank that has one
 * (the rank that failed may not be rank 0).  Collective.
 */
static void share_err(MPI_Comm comm)
{
	struct {
		int none, rank;
	} mine, first;
	MPI_Comm_rank(comm, &mine.rank);
	mine.none = errbuf[0] == '\0';
	MPI_Allreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, comm);
	if (!first.none)
		MPI_Bcast(errbuf, (int)sizeof(errbuf), MPI_CHAR, first.rank, comm);
	errbuf[sizeof(errbuf) - 1] = '\0';
}

static int exec_main(int argc, char **argv, int rank, int size)
{
	opts o;
	pp_error err = PP_ERROR_INIT;
	pp_exec_layer *L = NULL;
	const pp_xbackend *be = &pp_xbackend_cpu;
	run R, ref;
	char *text = NULL, *json = NULL, msg[512];
	double *gs = NULL, *cs = NULL, membw = 0;
	cJSON *root = NULL;
	int rc, i, it, dt, t_run;

	memset(&R, 0, sizeof(R));
	memset(&ref, 0, sizeof(ref));
	rc = parse_opts(argc, argv, rank, &o);
	if (rc < 0)
		return 0; /* --help */
	if ((rc = agree(rc, MPI_COMM_WORLD)))
		return rc;
	L = malloc(sizeof(*L));
	if (!L)
		return EXIT_BACKEND;
	rc = 0;
	if ((rc = read_layer(&o, L, &err)) < 0) {
		char line[1100];
		usage(rank, "%s", pp_error_format(&err, line, sizeof(line)));
		rc = EXIT_BAD;
		goto out;
	}
	/* dtype: the option, else the stub's; the cpu backend computes fp32 only */
	dt = o.dtype ? pp_dtype_parse(o.dtype) : (int)L->dtype;
	if (o.dtype && dt != PP_DTYPE_FP32 && dt != PP_DTYPE_BF16) {
		rc = usage(rank, "--dtype: expected fp32 or bf16, got \"%.40s\"", o.dtype);
		goto out;
	}
	if (!o.dtype && !strcmp(o.backend, "cpu"))
		dt = PP_DTYPE_FP32;
	L->dtype = (pp_dtype)dt;
	t_run = o.ranks ? o.ranks : L->t;
	if (t_run != size) {
		rc = usage(rank, "%s: the layer is split over t=%d ranks but the job has %d (start "
			   "it with mpirun -np %d, or pass --ranks %d to split it over %d)",
			   o.input, t_run, size, t_run, size, size);
		goto out;
	}
	if (t_run != L->t &&
	    pp_exec_layer_build(L, L->model, L->dtype, L->llama, L->b, L->s, L->h, L->heads,
				L->kv_heads, L->ffn, t_run, L->sp, &err) < 0) {
		rc = usage(rank, "--ranks %d: %s", t_run, err.msg);
		goto out;
	}
	if (pp_exec_layer_scale(L, o.scale, &err) < 0) {
		rc = usage(rank, "--scale: %s", err.msg);
		goto out;
	}
	if (o.skip_write && find_gemm(L, o.skip_write) < 0) {
		rc = usage(rank, "--test-skip-write: no GEMM \"%.40s\" in the layer", o.skip_write);
		goto out;
	}
	if (!strcmp(o.backend, "cuda")) {
		const char *why = "";
		be = pp_xbackend_cuda(&why);
		if (!be) {
			rc = usage(rank, "--backend cuda: %s", why);
			goto out;
		}
	}

	/* the reference: rank 0 alone runs the unsharded layer in fp32 on the cpu backend */
	rc = 0;
	if (rank == 0) {
		pp_exec_layer *L1 = malloc(sizeof(*L1));
		if (!L1 || pp_exec_layer_build(L1, L->model, PP_DTYPE_FP32, L->llama, L->b, L->s,
						L->h, L->heads, L->kv_heads, L->ffn, 1, 0,
						&err) < 0) {
			rc = seterr("reference layer: %s", L1 ? err.msg : "out of memory");
		} else {
			run_init(&ref, L1, &o, MPI_COMM_SELF);
			ref.be = &pp_xbackend_cpu;
			ref.mode = 2;
			if (ref.be->open(&ref.dev, MPI_COMM_SELF, PP_DTYPE_FP32, msg, sizeof(msg)) < 0)
				rc = seterr("reference: %s", msg);
			else if ((rc = setup(&ref, dt == PP_DTYPE_BF16)) == 0 &&
				 (rc = poison_all(&ref)) == 0)
				rc = run_layer(&ref);
			/* keep the snapshots, drop the buffers */
			if (ref.dev) {
				free_bufs(&ref);
				ref.be->close(ref.dev);
				ref.dev = NULL;
			}
		}
		free(L1);
		ref.L = NULL;
	}
	if ((rc = agree(rc < 0 ? EXIT_BACKEND : 0, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", errbuf);
		goto out;
	}

	/* the sharded run */
	run_init(&R, L, &o, MPI_COMM_WORLD);
	R.be = be;
	R.ref = ref.ref;
	R.n_ref = ref.n_ref;
	ref.ref = NULL;
	ref.n_ref = 0;
	R.tol = dt == PP_DTYPE_BF16 ? 2e-2 : 1e-5;
	i = be->open(&R.dev, MPI_COMM_WORLD, L->dtype, msg, sizeof(msg));
	rc = i == PP_EINVALID ? EXIT_BAD : i < 0 ? EXIT_BACKEND : 0;
	if ((rc = agree(rc, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: --backend %s: %s\n", be->name,
				i < 0 ? msg : "failed to open on another rank");
		goto out;
	}
	rc = setup(&R, dt == PP_DTYPE_BF16) < 0 ? EXIT_BACKEND : 0;
	if (!rc) {
		R.mode = 1;
		rc = poison_all(&R) < 0 || run_layer(&R) < 0 ? EXIT_BACKEND : 0;
	}
	if ((rc = agree(rc, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", errbuf[0] ? errbuf :
				"backend failure on another rank");
		goto out;
	}
	if (R.failed) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: validation failed: %s\n", R.fail_msg);
		rc = EXIT_VALIDATION;
		goto out;
	}
	for (i = 0; i < R.n_ref; i++)
		free(R.ref[i].v);
	free(R.ref);
	R.ref = NULL;
	R.n_ref = 0;

	/* timing: warm-up runs, then --iters runs, each GEMM and collective timed on its own */
	gs = calloc((size_t)o.iters * PP_EXEC_MAX_GEMMS, sizeof(double));
	cs = calloc((size_t)o.iters * PP_EXEC_MAX_COLLS, sizeof(double));
	if (!gs || !cs) {
		rc = EXIT_BACKEND;
		goto out;
	}
	R.mode = 0;
	rc = 0;
	for (it = 0; it < o.warmup + o.iters; it++) {
		int k = it - o.warmup;
		R.gemm_s = k >= 0 ? gs + (size_t)k * PP_EXEC_MAX_GEMMS : NULL;
		R.coll_s = k >= 0 ? cs + (size_t)k * PP_EXEC_MAX_COLLS : NULL;
		if (poison_all(&R) < 0 || run_layer(&R) < 0)
			rc = EXIT_BACKEND;
		/* every rank leaves the loop together, or none does (outside the timed regions) */
		if ((rc = agree(rc, MPI_COMM_WORLD)))
			break;
	}
	if (!rc && be->membw(R.dev, &membw) < 0)
		{
		be_fail(&R, "memory bandwidth");
		rc = EXIT_BACKEND;
	}
	if ((rc = agree(rc, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", errbuf);
		goto out;
	}

	/* the output: GEMMs the slowest rank's median, collectives the median over iterations */
	{
		double gmed[PP_EXEC_MAX_GEMMS], gmin[PP_EXEC_MAX_GEMMS], cmed[PP_EXEC_MAX_COLLS],
		       cmin[PP_EXEC_MAX_COLLS], tmp[PP_EXEC_MAX_GEMMS > PP_EXEC_MAX_COLLS ?
							PP_EXEC_MAX_GEMMS : PP_EXEC_MAX_COLLS];
		double *col = malloc((size_t)o.iters * sizeof(double));
		double gsum = 0, csum = 0, membw_min = 0;
		int esize = pp_dtype_bytes(L->dtype);
		char host[256] = "", device[256] = "", libs[512] = "";
		cJSON *arr, *sweep, *m, *v;

		if ((rc = agree(col ? 0 : EXIT_BACKEND, MPI_COMM_WORLD))) {
			if (rank == 0)
				fprintf(stderr, "parplan-exec: out of memory\n");
			free(col);
			goto out;
		}
		/*
		 * A collective's time in one iteration is the shortest any rank saw: all start
		 * from a barrier, and the last one out of it waits for nobody, so the others' extra
		 * is barrier skew (a rank descheduled on a busy machine), not the collective.
		 */
		MPI_Allreduce(MPI_IN_PLACE, cs, o.iters * PP_EXEC_MAX_COLLS, MPI_DOUBLE, MPI_MIN,
			      MPI_COMM_WORLD);
		for (i = 0; i < L->n_gemm; i++) {
			for (it = 0; it < o.iters; it++)
				col[it] = gs[(size_t)it * PP_EXEC_MAX_GEMMS + i];
			gmed[i] = median(col, o.iters);
			gmin[i] = col[0];
		}
		for (i = 0; i < L->n_coll; i++) {
			for (it = 0; it < o.iters; it++)
				col[it] = cs[(size_t)it * PP_EXEC_MAX_COLLS + i];
			cmed[i] = median(col, o.iters);
			cmin[i] = col[0];
		}
		MPI_Allreduce(gmed, tmp, L->n_gemm, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		memcpy(gmed, tmp, sizeof(double) * (size_t)L->n_gemm);
		MPI_Allreduce(&membw, &membw_min, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);

		/* the sweep: every collective at sizes around the layer's, for the alpha-beta fit */
		sweep = cJSON_CreateArray();
		if (size > 1) {
			size_t nmax = (size_t)(L->b * L->s * L->h) * 4, ne;
			void *sbuf = be->alloc(R.dev, nmax), *rbuf = be->alloc(R.dev, nmax);
			int op, reps = o.iters < 10 ? o.iters : 10;
			if (!sbuf || !rbuf || be->poison(R.dev, sbuf, nmax) < 0 ||
			    be->poison(R.dev, rbuf, nmax) < 0) {
				seterr("collective sweep: %s", be->error(R.dev));
				rc = EXIT_BACKEND;
			}
			/*
			 * Failure is agreed on collectively: before each timed collective an
			 * all-reduce of every rank's status stands in for the barrier, and after
			 * each message size once more, so no rank leaves the loops while another
			 * waits in a collective.  rc is the same on every rank wherever it is read.
			 */
			rc = agree(rc, MPI_COMM_WORLD);
			for (op = 0; op < 3 && !rc; op++)
				for (ne = (size_t)size * 256; ne <= nmax && !rc; ne *= 4) {
					size_t per = ne / (size_t)size;
					double med;
					for (it = 0; it < reps + 2; it++) {
						double sec = 0;
						int e = 0;
						if (be->sync(R.dev) < 0) {
							seterr("collective sweep: %s",
							       be->error(R.dev));
							rc = EXIT_BACKEND;
						}
						if ((rc = agree(rc, MPI_COMM_WORLD)))
							break;
						be->tic(R.dev);
						if (op == PP_EXEC_ALLREDUCE)
							e = be->allreduce(R.dev, rbuf, ne);
						else if (op == PP_EXEC_ALLGATHER)
							e = be->allgather(R.dev, sbuf, rbuf, per);
						else
							e = be->reduce_scatter(R.dev, sbuf, rbuf, per);
						if (e < 0 || be->toc(R.dev, &sec) < 0) {
							seterr("collective sweep: %s",
							       be->error(R.dev));
							rc = EXIT_BACKEND;
						}
						if (o.fail_sweep && rank == size - 1 &&
						    op == PP_EXEC_ALLGATHER && it == 1) {
							seterr("collective sweep: test-only "
							       "failure on rank %d", rank);
							rc = EXIT_BACKEND;
						}
						if (it >= 2)
							col[it - 2] = sec;
					}
					if ((rc = agree(rc, MPI_COMM_WORLD)))
						break;
					MPI_Allreduce(MPI_IN_PLACE, col, reps, MPI_DOUBLE, MPI_MIN,
						      MPI_COMM_WORLD);
					med = median(col, reps);
					cJSON_AddItemToArray(sweep, coll_entry(NULL, (pp_exec_collop)op,
									      size, (double)ne, esize,
									      med, col[0]));
				}
			if (sbuf)
				be->release(R.dev, sbuf);
			if (rbuf)
				be->release(R.dev, rbuf);
		}
		if ((rc = agree(rc, MPI_COMM_WORLD))) {
			share_err(MPI_COMM_WORLD);
			if (rank == 0)
				fprintf(stderr, "parplan-exec: %s\n", errbuf[0] ? errbuf :
					"collective sweep: failed on another rank");
			free(col);
			cJSON_Delete(sweep);
			goto out;
		}
		free(col);
		if (rank != 0) {
			cJSON_Delete(sweep);
			goto out;
		}
		gethostname(host, sizeof(host) - 1);
		be->describe(R.dev, device, sizeof(device), libs, sizeof(libs));
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "format", MEAS_FORMAT);
		cJSON_AddStringToObject(root, "stub", o.input);
		cJSON_AddStringToObject(root, "model", L->model);
		cJSON_AddStringToObject(root, "family", L->llama ? "llama" : "gpt");
		cJSON_AddStringToObject(root, "backend", be->name);
		cJSON_AddStringToObject(root, "dtype", pp_dtype_name(L->dtype));
		cJSON_AddNumberToObject(root, "ranks", size);
		cJSON_AddNumberToObject(root, "iters", o.iters);
		cJSON_AddNumberToObject(root, "warmup", o.warmup);
		cJSON_AddNumberToObject(root, "scale", o.scale);
		m = cJSON_AddObjectToObject(root, "layer");
		cJSON_AddNumberToObject(m, "micro_batch", (double)L->b);
		cJSON_AddNumberToObject(m, "seq", (double)L->s);
		cJSON_AddNumberToObject(m, "hidden", (double)L->h);
		cJSON_AddNumberToObject(m, "heads", (double)L->heads);
		cJSON_AddNumberToObject(m, "kv_heads", (double)L->kv_heads);
		cJSON_AddNumberToObject(m, "ffn", (double)L->ffn);
		cJSON_AddNumberToObject(m, "t", L->t);
		cJSON_AddBoolToObject(m, "sequence_parallel", L->sp);
		m = cJSON_AddObjectToObject(root, "machine");
		cJSON_AddStringToObject(m, "host", host);
		cJSON_AddStringToObject(m, "device", device);
		cJSON_AddStringToObject(m, "libraries", libs);
		cJSON_AddNumberToObject(m, "memory_bw_gbs", membw_min);
		m = cJSON_AddObjectToObject(root, "validation");
		cJSON_AddBoolToObject(m, "passed", 1);
		cJSON_AddNumberToObject(m, "checks", R.checks);
		cJSON_AddNumberToObject(m, "tolerance", R.tol);
		cJSON_AddNumberToObject(m, "max_rel_error", R.max_err);
		cJSON_AddStringToObject(m, "reference", "unsharded layer on rank 0, fp32, OpenBLAS");
		arr = cJSON_AddArrayToObject(root, "gemms");
		for (i = 0; i < L->n_gemm; i++) {
			const pp_exec_gemm *g = &L->gemm[i];
			double fl = pp_exec_gemm_flops(g);
			v = cJSON_CreateObject();
			cJSON_AddStringToObject(v, "name", g->name);
			cJSON_AddStringToObject(v, "pass", g->backward ? "backward" : "forward");
			if (g->backward)
				cJSON_AddStringToObject(v, "of", g->of);
			cJSON_AddNumberToObject(v, "m", (double)g->m);
			cJSON_AddNumberToObject(v, "n", (double)g->n);
			cJSON_AddNumberToObject(v, "k", (double)g->k);
			cJSON_AddNumberToObject(v, "batch", (double)g->batch);
			cJSON_AddNumberToObject(v, "flops", fl);
			cJSON_AddNumberToObject(v, "median_s", gmed[i]);
			cJSON_AddNumberToObject(v, "min_s", gmin[i]);
			cJSON_AddNumberToObject(v, "tflops", gmed[i] > 0 ? fl / gmed[i] / 1e12 : 0);
			cJSON_AddItemToArray(arr, v);
			gsum += gmed[i];
		}
		arr = cJSON_AddArrayToObject(root, "collectives");
		for (i = 0; i < L->n_coll; i++) {
			cJSON_AddItemToArray(arr, coll_entry(L->coll[i].name, L->coll[i].op, size,
							     (double)L->coll[i].elems, esize, cmed[i],
							     cmin[i]));
			csum += cmed[i];
		}
		cJSON_AddItemToObject(root, "sweep", sweep);
		m = cJSON_AddObjectToObject(root, "layer_time");
		cJSON_AddNumberToObject(m, "gemm_s", gsum);
		cJSON_AddNumberToObject(m, "collective_s", csum);
		cJSON_AddNumberToObject(m, "total_s", gsum + csum);
		json = pp_json_print(root);
		if (!json || pp_write_atomic(o.out, json, strlen(json), &err) < 0) {
			char line[1100];
			if (!json)
				pp_error_set(&err, PP_ENOMEM, o.out, NULL, "out of memory");
			fprintf(stderr, "parplan-exec: %s\n", pp_error_format(&err, line, sizeof(line)));
			rc = EXIT_BAD;
			goto out;
		}
		printf("parplan-exec: %s layer, t=%d, %s on %s: validated (%d checks, max relative "
		       "error %.2g), layer %.3f ms (GEMMs %.3f ms, collectives %.3f ms) -> %s\n",
		       L->model, L->t, pp_dtype_name(L->dtype), be->name, R.checks, R.max_err,
		       1e3 * (gsum + csum), 1e3 * gsum, 1e3 * csum, o.out);
	}
out:
	cJSON_Delete(root);
	free(json);
	free(gs);
	free(cs);
	run_release(&R);
	run_release(&ref);
	free(text);
	free(L);
	return rc;
}

int main(int argc, char **argv)
{
	int rank = 0, size = 1, rc;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	rc = exec_main(argc, argv, rank, size);
	rc = agree(rc, MPI_COMM_WORLD);
	MPI_Finalize();
	return rc;
}
