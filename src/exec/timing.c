/*
 * timing.c - how long the layer's steps take.  After the validated run: --warmup untimed runs,
 * then --iters timed runs of the whole layer, every GEMM and collective timed on its own
 * (outputs poisoned before each run, as in validation); per GEMM the median over iterations
 * (the slowest rank's) and the minimum, per collective the median and minimum over iterations
 * of the shortest time any rank saw.  Then the sweep: all-reduce, all-gather and reduce-scatter
 * at sizes from 256 elements a rank up to four times the layer's activations, growing 4x, the
 * points `parplan calibrate` fits the link's alpha and beta to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of @v[0..n); sorts @v, so v[0] is then the minimum. */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The sweep into T->sweep; @col has room for o->iters times.  Collective; exit status. */
static int sweep(const xe_opts *o, xe_run *R, int size, double *col, xe_times *T)
{
	const pp_xbackend *be = R->be;
	const pp_exec_layer *L = R->L;
	size_t nmax = (size_t)(L->b * L->s * L->h) * 4, ne;
	void *sbuf = be->alloc(R->dev, nmax), *rbuf = be->alloc(R->dev, nmax);
	int op, it, rank = R->rank, rc = 0, reps = o->iters < 10 ? o->iters : 10;

	if (!sbuf || !rbuf || be->poison(R->dev, sbuf, nmax) < 0 ||
	    be->poison(R->dev, rbuf, nmax) < 0) {
		xe_seterr("collective sweep: %s", be->error(R->dev));
		rc = XE_EXIT_BACKEND;
	}
	/*
	 * Failure is agreed on collectively: before each timed collective an all-reduce of every
	 * rank's status stands in for the barrier, and after each message size once more, so no
	 * rank leaves the loops while another waits in a collective.  rc is the same on every
	 * rank wherever it is read.
	 */
	rc = xe_agree(rc, MPI_COMM_WORLD);
	for (op = 0; op < 3 && !rc; op++)
		for (ne = (size_t)size * 256; ne <= nmax && !rc; ne *= 4) {
			size_t per = ne / (size_t)size;
			xe_sweep_point *pt;
			for (it = 0; it < reps + 2; it++) {
				double sec = 0;
				int e = 0;
				if (be->sync(R->dev) < 0) {
					xe_seterr("collective sweep: %s", be->error(R->dev));
					rc = XE_EXIT_BACKEND;
				}
				if ((rc = xe_agree(rc, MPI_COMM_WORLD)))
					break;
				be->tic(R->dev);
				if (op == PP_EXEC_ALLREDUCE)
					e = be->allreduce(R->dev, rbuf, ne);
				else if (op == PP_EXEC_ALLGATHER)
					e = be->allgather(R->dev, sbuf, rbuf, per);
				else
					e = be->reduce_scatter(R->dev, sbuf, rbuf, per);
				if (e < 0 || be->toc(R->dev, &sec) < 0) {
					xe_seterr("collective sweep: %s", be->error(R->dev));
					rc = XE_EXIT_BACKEND;
				}
				if (o->fail_sweep && rank == size - 1 && op == PP_EXEC_ALLGATHER &&
				    it == 1) {
					xe_seterr("collective sweep: test-only failure on rank %d", rank);
					rc = XE_EXIT_BACKEND;
				}
				if (it >= 2)
					col[it - 2] = sec;
			}
			if ((rc = xe_agree(rc, MPI_COMM_WORLD)))
				break;
			MPI_Allreduce(MPI_IN_PLACE, col, reps, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
			if (T->n_sweep == XE_MAX_SWEEP)
				continue; /* not reached: 3 x 32 sizes cover every size_t */
			pt = &T->sweep[T->n_sweep++];
			pt->op = (pp_exec_collop)op;
			pt->elems = (double)ne;
			pt->median_s = median(col, reps);
			pt->min_s = col[0];
		}
	if (sbuf)
		be->release(R->dev, sbuf);
	if (rbuf)
		be->release(R->dev, rbuf);
	return rc;
}

int xe_time(const xe_opts *o, xe_run *R, int size, xe_times *T)
{
	const pp_exec_layer *L = R->L;
	double gtmp[PP_EXEC_MAX_GEMMS];
	double *gs = NULL, *cs = NULL, *col = NULL, membw = 0;
	int rc = 0, i, it, rank = R->rank;

	memset(T, 0, sizeof(*T));
	/* timing: warm-up runs, then --iters runs, each GEMM and collective timed on its own */
	gs = calloc((size_t)o->iters * PP_EXEC_MAX_GEMMS, sizeof(double));
	cs = calloc((size_t)o->iters * PP_EXEC_MAX_COLLS, sizeof(double));
	if (!gs || !cs) {
		rc = XE_EXIT_BACKEND;
		goto done;
	}
	R->mode = 0;
	for (it = 0; it < o->warmup + o->iters; it++) {
		int k = it - o->warmup;
		R->gemm_s = k >= 0 ? gs + (size_t)k * PP_EXEC_MAX_GEMMS : NULL;
		R->coll_s = k >= 0 ? cs + (size_t)k * PP_EXEC_MAX_COLLS : NULL;
		if (xe_poison_all(R) < 0 || xe_run_layer(R) < 0)
			rc = XE_EXIT_BACKEND;
		/* every rank leaves the loop together, or none does (outside the timed regions) */
		if ((rc = xe_agree(rc, MPI_COMM_WORLD)))
			break;
	}
	R->gemm_s = R->coll_s = NULL;
	if (!rc && R->be->membw(R->dev, &membw) < 0) {
		xe_be_fail(R, "memory bandwidth");
		rc = XE_EXIT_BACKEND;
	}
	if ((rc = xe_agree(rc, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", xe_errbuf);
		goto done;
	}

	/* the statistics: GEMMs the slowest rank's median, collectives the median over iterations */
	col = malloc((size_t)o->iters * sizeof(double));
	if ((rc = xe_agree(col ? 0 : XE_EXIT_BACKEND, MPI_COMM_WORLD))) {
		if (rank == 0)
			fprintf(stderr, "parplan-exec: out of memory\n");
		goto done;
	}
	/*
	 * A collective's time in one iteration is the shortest any rank saw: all start from a
	 * barrier, and the last one out of it waits for nobody, so the others' extra is barrier
	 * skew (a rank descheduled on a busy machine), not the collective.
	 */
	MPI_Allreduce(MPI_IN_PLACE, cs, o->iters * PP_EXEC_MAX_COLLS, MPI_DOUBLE, MPI_MIN,
		      MPI_COMM_WORLD);
	for (i = 0; i < L->n_gemm; i++) {
		for (it = 0; it < o->iters; it++)
			col[it] = gs[(size_t)it * PP_EXEC_MAX_GEMMS + i];
		T->gemm_med_s[i] = median(col, o->iters);
		T->gemm_min_s[i] = col[0];
	}
	for (i = 0; i < L->n_coll; i++) {
		for (it = 0; it < o->iters; it++)
			col[it] = cs[(size_t)it * PP_EXEC_MAX_COLLS + i];
		T->coll_med_s[i] = median(col, o->iters);
		T->coll_min_s[i] = col[0];
	}
	MPI_Allreduce(T->gemm_med_s, gtmp, L->n_gemm, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
	memcpy(T->gemm_med_s, gtmp, sizeof(double) * (size_t)L->n_gemm);
	MPI_Allreduce(&membw, &T->membw_gbs, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);

	/* the sweep: every collective at sizes around the layer's, for the alpha-beta fit */
	if (size > 1)
		rc = sweep(o, R, size, col, T);
	if ((rc = xe_agree(rc, MPI_COMM_WORLD))) {
		xe_share_err(MPI_COMM_WORLD);
		if (rank == 0)
			fprintf(stderr, "parplan-exec: %s\n", xe_errbuf[0] ? xe_errbuf :
				"collective sweep: failed on another rank");
	}
done:
	free(col);
	free(gs);
	free(cs);
	return rc;
}
