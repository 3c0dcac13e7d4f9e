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
 *
 * This file holds the order of the stages and how ranks agree on failure; exec_int.h lists the
 * files that do each stage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

char xe_errbuf[768];

int xe_seterr(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(xe_errbuf, sizeof(xe_errbuf), fmt, ap);
	va_end(ap);
	return PP_EBACKEND;
}

int xe_be_fail(xe_run *R, const char *what)
{
	return xe_seterr("%s: %s", what, R->be->error(R->dev));
}

/* Every rank's rc; the worst wins (validation 1 < bad 2 < backend 3). */
int xe_agree(int rc, MPI_Comm comm)
{
	int worst = 0;
	MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, comm);
	return worst;
}

void xe_share_err(MPI_Comm comm)
{
	struct {
		int none, rank;
	} mine, first;
	MPI_Comm_rank(comm, &mine.rank);
	mine.none = xe_errbuf[0] == '\0';
	MPI_Allreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, comm);
	if (!first.none)
		MPI_Bcast(xe_errbuf, (int)sizeof(xe_errbuf), MPI_CHAR, first.rank, comm);
	xe_errbuf[sizeof(xe_errbuf) - 1] = '\0';
}

/*
 * The stages, each ending in a status every rank agrees on: options and the layer (options.c),
 * the unsharded reference on rank 0 and the validated sharded run (validate.c), the timed runs
 * and the sweep (timing.c), measurements.json (output.c, rank 0).
 */
static int exec_main(int argc, char **argv, int rank, int size)
{
	xe_opts o;
	pp_exec_layer *L = NULL;
	const pp_xbackend *be = &pp_xbackend_cpu;
	xe_run R, ref;
	xe_times T;
	int rc, dt = PP_DTYPE_FP32;

	memset(&R, 0, sizeof(R));
	memset(&ref, 0, sizeof(ref));
	rc = xe_parse_opts(argc, argv, rank, &o);
	if (rc < 0)
		return 0; /* --help */
	if ((rc = xe_agree(rc, MPI_COMM_WORLD)))
		return rc;
	L = malloc(sizeof(*L));
	if (!L)
		return XE_EXIT_BACKEND;
	if ((rc = xe_layer_resolve(&o, rank, size, L, &be, &dt)) ||
	    (rc = xe_reference(&o, L, dt, rank, &ref)) ||
	    (rc = xe_validate(&o, L, be, dt, rank, &R, &ref)) ||
	    (rc = xe_time(&o, &R, size, &T)))
		goto out;
	if (rank == 0)
		rc = xe_write(&o, L, be, &R, size, &T);
out:
	xe_run_release(&R);
	xe_run_release(&ref);
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
	rc = xe_agree(rc, MPI_COMM_WORLD);
	MPI_Finalize();
	return rc;
}
