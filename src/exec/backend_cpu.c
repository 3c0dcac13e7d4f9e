/*
 * backend_cpu.c - parplan-exec's cpu backend: fp32 GEMMs with OpenBLAS (cblas_sgemm), the
 * collectives with MPI, host memory, wall-clock timing with MPI_Wtime.  One rank is one
 * "device"; keep OpenBLAS at one thread per rank (OPENBLAS_NUM_THREADS=1) so ranks do not fight
 * over cores.
 */
#include "backend.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "parplan/error.h"

struct pp_xdev {
	MPI_Comm comm;
	int rank, size;
	double t0;
	char msg[256];
};

static int fail(pp_xdev *d, int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static int fail(pp_xdev *d, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return code;
}

static int cpu_open(pp_xdev **out, MPI_Comm comm, pp_dtype dtype, char *msg, size_t msg_n)
{
	pp_xdev *d;

	*out = NULL;
	if (dtype != PP_DTYPE_FP32) {
		snprintf(msg, msg_n, "the cpu backend computes in fp32 only, not %s "
			 "(bf16 GEMMs need --backend cuda)", pp_dtype_name(dtype));
		return PP_EINVALID;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(msg, msg_n, "out of memory");
		return PP_ENOMEM;
	}
	d->comm = comm;
	MPI_Comm_rank(comm, &d->rank);
	MPI_Comm_size(comm, &d->size);
	*out = d;
	return 0;
}

static void cpu_close(pp_xdev *d)
{
	free(d);
}

static const char *cpu_error(const pp_xdev *d)
{
	return d->msg;
}

static void *cpu_alloc(pp_xdev *d, size_t n)
{
	(void)d;
	return malloc((n ? n : 1) * sizeof(float));
}

static void cpu_release(pp_xdev *d, void *p)
{
	(void)d;
	free(p);
}

static int cpu_upload(pp_xdev *d, void *dst, const float *src, size_t n)
{
	(void)d;
	memcpy(dst, src, n * sizeof(float));
	return 0;
}

static int cpu_download(pp_xdev *d, float *dst, const void *src, size_t n)
{
	(void)d;
	memcpy(dst, src, n * sizeof(float));
	return 0;
}

static int cpu_poison(pp_xdev *d, void *p, size_t n)
{
	float *x = p;
	size_t i;
	(void)d;
	for (i = 0; i < n; i++)
		x[i] = NAN;
	return 0;
}

static int cpu_gemm(pp_xdev *d, const pp_xgemm *g)
{
	const float *a = (const float *)g->a + g->a0, *b = (const float *)g->b + g->b0;
	float *c = (float *)g->c + g->c0;
	int64_t o, j;

	if (g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX || g->lda > INT32_MAX ||
	    g->ldb > INT32_MAX || g->ldc > INT32_MAX)
		return fail(d, PP_EBACKEND, "gemm dimension above the 32-bit BLAS limit");
	for (o = 0; o < g->outer; o++)
		for (j = 0; j < g->inner; j++)
			cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
				    g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n,
				    (int)g->k, g->alpha, a + o * g->a_so + j * g->a_si, (int)g->lda,
				    b + o * g->b_so + j * g->b_si, (int)g->ldb, g->beta,
				    c + o * g->c_so + j * g->c_si, (int)g->ldc);
	return 0;
}

static int cpu_softmax(pp_xdev *d, void *xv, int64_t rows, int64_t cols)
{
	float *x = xv;
	int64_t r, c;
	(void)d;
	for (r = 0; r < rows; r++) {
		float *row = x + r * cols, mx = row[0];
		double sum = 0;
		for (c = 1; c < cols; c++)
			if (row[c] > mx)
				mx = row[c];
		for (c = 0; c < cols; c++) {
			row[c] = expf(row[c] - mx);
			sum += row[c];
		}
		for (c = 0; c < cols; c++)
			row[c] = (float)(row[c] / sum);
	}
	return 0;
}

static int cpu_softmax_bwd(pp_xdev *d, void *dpv, const void *pv, int64_t rows, int64_t cols)
{
	float *dp = dpv;
	const float *p = pv;
	int64_t r, c;
	(void)d;
	for (r = 0; r < rows; r++) {
		float *g = dp + r * cols;
		const float *y = p + r * cols;
		double dot = 0;
		for (c = 0; c < cols; c++)
			dot += (double)g[c] * y[c];
		for (c = 0; c < cols; c++)
			g[c] = y[c] * (g[c] - (float)dot);
	}
	return 0;
}

/* GELU, tanh approximation (Hendrycks & Gimpel 2016), as GPT-2 and Megatron use it. */
#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */

static int cpu_gelu(pp_xdev *d, void *yv, const void *xv, size_t n)
{
	float *y = yv;
	const float *x = xv;
	size_t i;
	(void)d;
	for (i = 0; i < n; i++)
		y[i] = 0.5f * x[i] * (1.0f + tanhf(GELU_C * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
	return 0;
}

static int cpu_gelu_bwd(pp_xdev *d, void *dyv, const void *xv, size_t n)
{
	float *dy = dyv;
	const float *x = xv;
	size_t i;
	(void)d;
	for (i = 0; i < n; i++) {
		float u = GELU_C * (x[i] + 0.044715f * x[i] * x[i] * x[i]), th = tanhf(u);
		float du = GELU_C * (1.0f + 3.0f * 0.044715f * x[i] * x[i]);
		dy[i] *= 0.5f * (1.0f + th) + 0.5f * x[i] * (1.0f - th * th) * du;
	}
	return 0;
}

static int mpi_fail(pp_xdev *d, const char *what, int rc)
{
	char s[MPI_MAX_ERROR_STRING];
	int n = 0;
	MPI_Error_string(rc, s, &n);
	return fail(d, PP_EBACKEND, "%s failed: %.*s", what, n, s);
}

static int cpu_allreduce(pp_xdev *d, void *buf, size_t n)
{
	int rc;
	if (n > INT32_MAX)
		return fail(d, PP_EBACKEND, "all-reduce of %zu elements above MPI's int count", n);
	rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, d->comm);
	return rc == MPI_SUCCESS ? 0 : mpi_fail(d, "MPI_Allreduce", rc);
}

static int cpu_allgather(pp_xdev *d, const void *send, void *recv, size_t n)
{
	int rc;
	if (n > INT32_MAX)
		return fail(d, PP_EBACKEND, "all-gather of %zu elements above MPI's int count", n);
	rc = MPI_Allgather(send, (int)n, MPI_FLOAT, recv, (int)n, MPI_FLOAT, d->comm);
	return rc == MPI_SUCCESS ? 0 : mpi_fail(d, "MPI_Allgather", rc);
}

static int cpu_reduce_scatter(pp_xdev *d, const void *send, void *recv, size_t n)
{
	int rc;
	if (n > INT32_MAX)
		return fail(d, PP_EBACKEND, "reduce-scatter of %zu elements above MPI's int count",
			    n);
	rc = MPI_Reduce_scatter_block(send, recv, (int)n, MPI_FLOAT, MPI_SUM, d->comm);
	return rc == MPI_SUCCESS ? 0 : mpi_fail(d, "MPI_Reduce_scatter_block", rc);
}

static int cpu_tic(pp_xdev *d)
{
	d->t0 = MPI_Wtime();
	return 0;
}

static int cpu_toc(pp_xdev *d, double *s)
{
	*s = MPI_Wtime() - d->t0;
	return 0;
}

static int cpu_sync(pp_xdev *d)
{
	(void)d;
	return 0;
}

/* STREAM triad (McCalpin 1995) a = b + q*c on 3 arrays well beyond the caches, every rank at
 * once so that ranks sharing a socket see their share; best of 5, 12 bytes moved per element. */
static int cpu_membw(pp_xdev *d, double *gbs)
{
	const size_t n = (size_t)4 << 20;
	float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)),
	      *c = malloc(n * sizeof(float));
	double best = 1e30;
	size_t i;
	int rep;

	if (!a || !b || !c) {
		free(a);
		free(b);
		free(c);
		return fail(d, PP_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		a[i] = 0;
		b[i] = (float)(i & 255);
		c[i] = 1;
	}
	for (rep = 0; rep < 5; rep++) {
		double t0, t;
		MPI_Barrier(d->comm);
		t0 = MPI_Wtime();
		for (i = 0; i < n; i++)
			a[i] = b[i] + 3.0f * c[i];
		t = MPI_Wtime() - t0;
		if (t < best)
			best = t;
		b[rep] = a[n - 1 - (size_t)rep]; /* keep the loop from being optimised away */
	}
	*gbs = 12.0 * (double)n / best / 1e9;
	free(a);
	free(b);
	free(c);
	return 0;
}

static void cpu_describe(pp_xdev *d, char *device, size_t dn, char *libs, size_t ln)
{
	char line[512], mpiv[MPI_MAX_LIBRARY_VERSION_STRING], *nl;
	FILE *f = fopen("/proc/cpuinfo", "r");
	int len = 0;

	(void)d;
	snprintf(device, dn, "cpu");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "model name", 10)) {
				char *v = strchr(line, ':');
				if (v) {
					v += 1 + (v[1] == ' ');
					if ((nl = strchr(v, '\n')))
						*nl = '\0';
					snprintf(device, dn, "%s", v);
				}
				break;
			}
		fclose(f);
	}
	MPI_Get_library_version(mpiv, &len);
	if ((nl = strchr(mpiv, '\n')))
		*nl = '\0';
	if ((nl = strchr(mpiv, ',')))
		*nl = '\0';
	snprintf(libs, ln, "OpenBLAS %s; %s", openblas_get_config(), mpiv);
}

const pp_xbackend pp_xbackend_cpu = {
	"cpu",
	cpu_open,
	cpu_close,
	cpu_error,
	cpu_alloc,
	cpu_release,
	cpu_upload,
	cpu_download,
	cpu_poison,
	cpu_gemm,
	cpu_softmax,
	cpu_softmax_bwd,
	cpu_gelu,
	cpu_gelu_bwd,
	cpu_allreduce,
	cpu_allgather,
	cpu_reduce_scatter,
	cpu_tic,
	cpu_toc,
	cpu_sync,
	cpu_membw,
	cpu_describe,
};
