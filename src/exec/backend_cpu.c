/*
 * backend_cpu.c - parplan-exec's cpu backend: GEMMs with OpenBLAS cblas_sgemm (bf16: bf16
 * storage, operands widened to fp32, fp32 accumulation, rounded to bf16 on the way out; Debian's
 * OpenBLAS is built without cblas_sbgemm, so that is what a bf16 GEMM costs here), the
 * collectives with MPI (bf16 sums through a user reduction), host memory, wall-clock timing with
 * MPI_Wtime.  One rank is one "device"; keep OpenBLAS at one thread per rank
 * (OPENBLAS_NUM_THREADS=1) so ranks do not fight over cores.
 */
#include "backend.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "parplan/error.h"

struct pp_xdev {
	MPI_Comm comm;
	int rank, size, bf16;
	double t0;
	float *tmp[3];       /* fp32 scratch: bf16 GEMM operands and output, softmax rows */
	size_t tmp_n[3];
	MPI_Op bf16_sum;
	char msg[256];
};

/* bf16 <-> fp32: round to nearest even, NaN kept NaN (a poisoned element must stay poisoned). */
static uint16_t to_bf16(float f)
{
	uint32_t u;
	if (isnan(f))
		return 0x7fc0;
	memcpy(&u, &f, 4);
	return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static float from_bf16(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static void bf16_sum_fn(void *in, void *inout, int *len, MPI_Datatype *dt)
{
	const uint16_t *a = in;
	uint16_t *b = inout;
	int i;
	(void)dt;
	for (i = 0; i < *len; i++)
		b[i] = to_bf16(from_bf16(a[i]) + from_bf16(b[i]));
}

static float *scratch(pp_xdev *d, int which, size_t n)
{
	if (d->tmp_n[which] < n) {
		float *p = realloc(d->tmp[which], (n ? n : 1) * sizeof(float));
		if (!p)
			return NULL;
		d->tmp[which] = p;
		d->tmp_n[which] = n;
	}
	return d->tmp[which];
}

/* Widen a @rows x @cols bf16 matrix with leading dimension @ld into a dense fp32 one. */
static void widen(float *dst, const uint16_t *src, int64_t rows, int64_t cols, int64_t ld)
{
	int64_t r, c;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			dst[r * cols + c] = from_bf16(src[r * ld + c]);
}

/* Element @i of a buffer in the device's dtype, as a float, and back. */
static float ld(const pp_xdev *d, const void *p, size_t i)
{
	return d->bf16 ? from_bf16(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

static void st(const pp_xdev *d, void *p, size_t i, float v)
{
	if (d->bf16)
		((uint16_t *)p)[i] = to_bf16(v);
	else
		((float *)p)[i] = v;
}

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
	if (dtype != PP_DTYPE_FP32 && dtype != PP_DTYPE_BF16) {
		snprintf(msg, msg_n, "the cpu backend runs fp32 or bf16, not %s",
			 pp_dtype_name(dtype));
		return PP_EINVALID;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(msg, msg_n, "out of memory");
		return PP_ENOMEM;
	}
	d->comm = comm;
	d->bf16 = dtype == PP_DTYPE_BF16;
	MPI_Comm_rank(comm, &d->rank);
	MPI_Comm_size(comm, &d->size);
	if (d->bf16 && MPI_Op_create(bf16_sum_fn, 1, &d->bf16_sum) != MPI_SUCCESS) {
		snprintf(msg, msg_n, "MPI_Op_create failed");
		free(d);
		return PP_EBACKEND;
	}
	*out = d;
	return 0;
}

static void cpu_close(pp_xdev *d)
{
	if (!d)
		return;
	if (d->bf16)
		MPI_Op_free(&d->bf16_sum);
	free(d->tmp[0]);
	free(d->tmp[1]);
	free(d->tmp[2]);
	free(d);
}

static const char *cpu_error(const pp_xdev *d)
{
	return d->msg;
}

static void *cpu_alloc(pp_xdev *d, size_t n)
{
	return malloc((n ? n : 1) * (d->bf16 ? 2 : sizeof(float)));
}

static void cpu_release(pp_xdev *d, void *p)
{
	(void)d;
	free(p);
}

static int cpu_upload(pp_xdev *d, void *dst, const float *src, size_t n)
{
	size_t i;
	if (!d->bf16) {
		memcpy(dst, src, n * sizeof(float));
		return 0;
	}
	for (i = 0; i < n; i++)
		st(d, dst, i, src[i]);
	return 0;
}

static int cpu_download(pp_xdev *d, float *dst, const void *src, size_t n)
{
	size_t i;
	if (!d->bf16) {
		memcpy(dst, src, n * sizeof(float));
		return 0;
	}
	for (i = 0; i < n; i++)
		dst[i] = ld(d, src, i);
	return 0;
}

static int cpu_poison(pp_xdev *d, void *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		st(d, p, i, NAN);
	return 0;
}

static int cpu_gemm(pp_xdev *d, const pp_xgemm *g)
{
	int64_t o, j, r, c;

	if (g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX || g->lda > INT32_MAX ||
	    g->ldb > INT32_MAX || g->ldc > INT32_MAX)
		return fail(d, PP_EBACKEND, "gemm dimension above the 32-bit BLAS limit");
	if (d->bf16) {
		const uint16_t *a = (const uint16_t *)g->a + g->a0, *b = (const uint16_t *)g->b + g->b0;
		uint16_t *cc = (uint16_t *)g->c + g->c0;
		int64_t ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
		int64_t br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
		float *ta = scratch(d, 0, (size_t)(ar * ac)), *tb = scratch(d, 1, (size_t)(br * bc));
		float *t = scratch(d, 2, (size_t)(g->m * g->n));
		if (!ta || !tb || !t)
			return fail(d, PP_ENOMEM, "out of memory");
		for (o = 0; o < g->outer; o++)
			for (j = 0; j < g->inner; j++) {
				uint16_t *cp = cc + o * g->c_so + j * g->c_si;
				widen(ta, a + o * g->a_so + j * g->a_si, ar, ac, g->lda);
				widen(tb, b + o * g->b_so + j * g->b_si, br, bc, g->ldb);
				cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
					    g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n,
					    (int)g->k, g->alpha, ta, (int)ac, tb, (int)bc, 0.0f, t,
					    (int)g->n);
				for (r = 0; r < g->m; r++)
					for (c = 0; c < g->n; c++) {
						float v = t[r * g->n + c];
						if (g->beta != 0)
							v += g->beta * from_bf16(cp[r * g->ldc + c]);
						cp[r * g->ldc + c] = to_bf16(v);
					}
			}
		return 0;
	}
	{
		const float *a = (const float *)g->a + g->a0, *b = (const float *)g->b + g->b0;
		float *cf = (float *)g->c + g->c0;
		for (o = 0; o < g->outer; o++)
			for (j = 0; j < g->inner; j++)
				cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
					    g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n,
					    (int)g->k, g->alpha, a + o * g->a_so + j * g->a_si,
					    (int)g->lda, b + o * g->b_so + j * g->b_si, (int)g->ldb,
					    g->beta, cf + o * g->c_so + j * g->c_si, (int)g->ldc);
	}
	return 0;
}

static int cpu_softmax(pp_xdev *d, void *x, int64_t rows, int64_t cols)
{
	float *row = scratch(d, 0, (size_t)cols);
	int64_t r, c;

	if (!row)
		return fail(d, PP_ENOMEM, "out of memory");
	for (r = 0; r < rows; r++) {
		size_t base = (size_t)(r * cols);
		float mx;
		double sum = 0;
		for (c = 0; c < cols; c++)
			row[c] = ld(d, x, base + (size_t)c);
		mx = row[0];
		for (c = 1; c < cols; c++)
			if (row[c] > mx)
				mx = row[c];
		for (c = 0; c < cols; c++) {
			row[c] = expf(row[c] - mx);
			sum += row[c];
		}
		for (c = 0; c < cols; c++)
			st(d, x, base + (size_t)c, (float)(row[c] / sum));
	}
	return 0;
}

static int cpu_softmax_bwd(pp_xdev *d, void *dp, const void *p, int64_t rows, int64_t cols)
{
	int64_t r, c;
	for (r = 0; r < rows; r++) {
		size_t base = (size_t)(r * cols);
		double dot = 0;
		for (c = 0; c < cols; c++)
			dot += (double)ld(d, dp, base + (size_t)c) * ld(d, p, base + (size_t)c);
		for (c = 0; c < cols; c++) {
			size_t i = base + (size_t)c;
			st(d, dp, i, ld(d, p, i) * (ld(d, dp, i) - (float)dot));
		}
	}
	return 0;
}

/* GELU, tanh approximation (Hendrycks & Gimpel 2016), as GPT-2 and Megatron use it. */
#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */

static int cpu_gelu(pp_xdev *d, void *y, const void *x, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		float v = ld(d, x, i);
		st(d, y, i, 0.5f * v * (1.0f + tanhf(GELU_C * (v + 0.044715f * v * v * v))));
	}
	return 0;
}

static int cpu_gelu_bwd(pp_xdev *d, void *dy, const void *x, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		float v = ld(d, x, i), u = GELU_C * (v + 0.044715f * v * v * v), th = tanhf(u);
		float du = GELU_C * (1.0f + 3.0f * 0.044715f * v * v);
		st(d, dy, i, ld(d, dy, i) * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du));
	}
	return 0;
}

/* SwiGLU (Shazeer 2020): silu(g) = g * sigmoid(g), silu'(g) = s * (1 + g * (1 - s)). */
static int cpu_swiglu(pp_xdev *d, void *y, const void *x, int64_t rows, int64_t cols)
{
	int64_t r, c;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++) {
			float g = ld(d, x, (size_t)(r * 2 * cols + c));
			float u = ld(d, x, (size_t)(r * 2 * cols + cols + c));
			st(d, y, (size_t)(r * cols + c), g / (1.0f + expf(-g)) * u);
		}
	return 0;
}

static int cpu_swiglu_bwd(pp_xdev *d, void *dx, const void *dy, const void *x, int64_t rows,
			  int64_t cols)
{
	int64_t r, c;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++) {
			size_t gi = (size_t)(r * 2 * cols + c), ui = gi + (size_t)cols;
			float g = ld(d, x, gi), u = ld(d, x, ui), e = ld(d, dy, (size_t)(r * cols + c));
			float sg = 1.0f / (1.0f + expf(-g));
			st(d, dx, gi, e * u * sg * (1.0f + g * (1.0f - sg)));
			st(d, dx, ui, e * g * sg);
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
	rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, d->bf16 ? MPI_UINT16_T : MPI_FLOAT,
			   d->bf16 ? d->bf16_sum : MPI_SUM, d->comm);
	return rc == MPI_SUCCESS ? 0 : mpi_fail(d, "MPI_Allreduce", rc);
}

static int cpu_allgather(pp_xdev *d, const void *send, void *recv, size_t n)
{
	int rc;
	if (n > INT32_MAX)
		return fail(d, PP_EBACKEND, "all-gather of %zu elements above MPI's int count", n);
	rc = MPI_Allgather(send, (int)n, d->bf16 ? MPI_UINT16_T : MPI_FLOAT, recv, (int)n,
			   d->bf16 ? MPI_UINT16_T : MPI_FLOAT, d->comm);
	return rc == MPI_SUCCESS ? 0 : mpi_fail(d, "MPI_Allgather", rc);
}

static int cpu_reduce_scatter(pp_xdev *d, const void *send, void *recv, size_t n)
{
	int rc;
	if (n > INT32_MAX)
		return fail(d, PP_EBACKEND, "reduce-scatter of %zu elements above MPI's int count",
			    n);
	rc = MPI_Reduce_scatter_block(send, recv, (int)n, d->bf16 ? MPI_UINT16_T : MPI_FLOAT,
				      d->bf16 ? d->bf16_sum : MPI_SUM, d->comm);
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
	int rep, ok = a && b && c, all_ok = 0;

	/* the barriers below are collective: every rank learns whether every rank can take part */
	MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, d->comm);
	if (!all_ok) {
		free(a);
		free(b);
		free(c);
		return fail(d, PP_ENOMEM, ok ? "out of memory on another rank" : "out of memory");
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
	cpu_swiglu,
	cpu_swiglu_bwd,
	cpu_allreduce,
	cpu_allgather,
	cpu_reduce_scatter,
	cpu_tic,
	cpu_toc,
	cpu_sync,
	cpu_membw,
	cpu_describe,
};
