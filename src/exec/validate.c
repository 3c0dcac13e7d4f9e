/*
 * validate.c - the numbers of a sharded layer against the unsharded one.  Rank 0 first runs the
 * whole layer alone (fp32, cpu backend) and keeps every step's output as a reference snapshot;
 * the sharded run then gathers each step's output from every rank and compares it with the
 * snapshot the way the step's split says (whole, a block per rank, partial sums, columns).  A
 * relative error above the tolerance (1e-5 fp32, 2e-2 bf16) names the step and the worst rank.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

static const xe_snap *find_ref(const xe_run *R, const char *key)
{
	int i;
	for (i = 0; i < R->n_ref; i++)
		if (!strcmp(R->ref[i].key, key))
			return &R->ref[i];
	return NULL;
}

int xe_store(xe_run *R, const char *key, const void *buf, size_t n)
{
	xe_snap *s = realloc(R->ref, (size_t)(R->n_ref + 1) * sizeof(*s));
	if (!s)
		return xe_seterr("out of memory");
	R->ref = s;
	s = &R->ref[R->n_ref];
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->n = n;
	s->v = malloc((n ? n : 1) * sizeof(float));
	if (!s->v)
		return xe_seterr("out of memory");
	R->n_ref++;
	if (R->be->download(R->dev, s->v, buf, n) < 0)
		return xe_be_fail(R, "download");
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
 * reference @key as @kind says; in store mode record @buf as reference @step.  Columns of an
 * XE_CK_COL tensor outside [off, off+width) modulo @period are not compared (written by another
 * GEMM).
 */
int xe_check(xe_run *R, const char *step, const char *key, int kind, const void *buf,
	     int64_t rows, int64_t cols, int64_t period, int64_t off, int64_t width)
{
	size_t n = (size_t)(rows * cols);
	float *mine = NULL, *all = NULL;
	double worst = 0;
	int worst_rank = -1, bad = 0, rc = 0, r;

	if (R->mode == 0 || R->failed)
		return 0;
	if (R->mode == 2)
		return xe_store(R, step, buf, n);
	mine = malloc((n ? n : 1) * sizeof(float));
	if (R->rank == 0)
		all = malloc((n ? n : 1) * (size_t)R->t * sizeof(float));
	if (!mine || (R->rank == 0 && !all)) {
		rc = xe_seterr("out of memory");
		goto done;
	}
	if (R->be->download(R->dev, mine, buf, n) < 0) {
		rc = xe_be_fail(R, "download");
		goto done;
	}
	if (n > INT32_MAX) {
		rc = xe_seterr("validation of %zu elements above MPI's int count", n);
		goto done;
	}
	MPI_Gather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, 0, R->comm);
	if (R->rank == 0) {
		const xe_snap *ref = find_ref(R, key);
		double num = 0, den = 0, e;
		size_t i;
		int64_t c, row;

		if (!ref) {
			rc = xe_seterr("internal: no reference for %s", key);
			goto done;
		}
		R->checks++;
		switch (kind) {
		case XE_CK_FULL:
		case XE_CK_BLOCK:
			for (r = 0; r < R->t; r++) {
				const float *rv = kind == XE_CK_FULL ? ref->v : ref->v + (size_t)r * n;
				double rn = 0, rd = 0;
				if ((kind == XE_CK_FULL && ref->n != n) ||
				    (kind == XE_CK_BLOCK && ref->n != n * (size_t)R->t)) {
					rc = xe_seterr("internal: %s has %zu elements, reference %zu",
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
		case XE_CK_PARTIAL:
			if (ref->n != n) {
				rc = xe_seterr("internal: %s has %zu elements, reference %zu", step, n,
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
		case XE_CK_COL:
		case XE_CK_COL2:
			if (ref->n != n * (size_t)R->t) {
				rc = xe_seterr("internal: %s has %zu elements, reference %zu", step, n,
					       ref->n);
				goto done;
			}
			for (r = 0; r < R->t; r++) {
				double rn = 0, rd = 0;
				for (row = 0; row < rows; row++)
					for (c = 0; c < cols; c++) {
						if (c % period < off || c % period >= off + width)
							continue;
						/* XE_CK_COL2: two halves ([gate | up]), each split by columns */
						int64_t hw = kind == XE_CK_COL2 ? cols / 2 : cols;
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


int xe_reference(const xe_opts *o, const pp_exec_layer *L, int dtype, int rank, xe_run *ref)
{
	pp_error err = PP_ERROR_INIT;
	char msg[512];
	int rc = 0;

	/* the reference: rank 0 alone runs the unsharded layer in fp32 on the cpu backend */
	if (rank == 0) {
		pp_exec_layer *L1 = malloc(sizeof(*L1));
		if (!L1 || pp_exec_layer_build(L1, L->model, PP_DTYPE_FP32, L->llama, L->b, L->s,
						L->h, L->heads, L->kv_heads, L->ffn, 1, 0,
						&err) < 0) {
			rc = xe_seterr("reference layer: %s", L1 ? err.msg : "out of memory");
		} else {
			xe_run_init(ref, L1, o, MPI_COMM_SELF);
			ref->be = &pp_xbackend_cpu;
			ref->mode = 2;
			if (ref->be->open(&ref->dev, MPI_COMM_SELF, PP_DTYPE_FP32, msg, sizeof(msg)) < 0)
				rc = xe_seterr("reference: %s", msg);
			else if ((rc = xe_setup(ref, dtype == PP_DTYPE_BF16)) == 0 &&
				 (rc = xe_poison_all(ref)) == 0)
				rc = xe_run_layer(ref);
			/* keep the snapshots, drop the buffers */
			if (ref->dev) {
				xe_free_bufs(ref);
				ref->be->close(ref->dev);
				ref->dev = NULL;
			}
		}
		free(L1);
		ref->L = NULL;
	}
	if ((rc = xe_agree(rc < 0 ? XE_EXIT_BACKEND : 0, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", xe_errbuf);
	}
	return rc;
}

int xe_validate(const xe_opts *o, const pp_exec_layer *L, const pp_xbackend *be, int dtype,
		int rank, xe_run *R, xe_run *ref)
{
	char msg[512];
	int rc, i;

	/* the sharded run */
	xe_run_init(R, L, o, MPI_COMM_WORLD);
	R->be = be;
	R->ref = ref->ref;
	R->n_ref = ref->n_ref;
	ref->ref = NULL;
	ref->n_ref = 0;
	R->tol = dtype == PP_DTYPE_BF16 ? 2e-2 : 1e-5;
	i = be->open(&R->dev, MPI_COMM_WORLD, L->dtype, msg, sizeof(msg));
	rc = i == PP_EINVALID ? XE_EXIT_BAD : i < 0 ? XE_EXIT_BACKEND : 0;
	if ((rc = xe_agree(rc, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: --backend %s: %s\n", be->name,
				i < 0 ? msg : "failed to open on another rank");
		return rc;
	}
	rc = xe_setup(R, dtype == PP_DTYPE_BF16) < 0 ? XE_EXIT_BACKEND : 0;
	if (!rc) {
		R->mode = 1;
		rc = xe_poison_all(R) < 0 || xe_run_layer(R) < 0 ? XE_EXIT_BACKEND : 0;
	}
	if ((rc = xe_agree(rc, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", xe_errbuf[0] ? xe_errbuf :
				"backend failure on another rank");
		return rc;
	}
	if (R->failed) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: validation failed: %s\n", R->fail_msg);
		return XE_EXIT_VALIDATION;
	}
	for (i = 0; i < R->n_ref; i++)
		free(R->ref[i].v);
	free(R->ref);
	R->ref = NULL;
	R->n_ref = 0;
	return 0;
}
