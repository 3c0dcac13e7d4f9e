/*
 * backend_cuda.c - parplan-exec's cuda backend: GEMMs with cuBLAS (bf16 or fp32 storage, fp32
 * accumulation), collectives with NCCL on communicators bootstrapped over MPI (rank 0's
 * ncclUniqueId broadcast), one GPU per rank (its index among its node's ranks; more ranks on a
 * node than GPUs is an error, not sharing), timing with CUDA events on the rank's stream.  Built
 * only by `make exec-cuda`.
 */
#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "parplan/error.h"

/* backend_cuda_kernels.cu */
int ppx_cuda_fill(void *p, int64_t n, float v, int bf16, cudaStream_t s);
int ppx_cuda_from_float(void *dst, const float *src, int64_t n, int bf16, cudaStream_t s);
int ppx_cuda_to_float(float *dst, const void *src, int64_t n, int bf16, cudaStream_t s);
int ppx_cuda_gelu(void *y, const void *x, int64_t n, int bf16, cudaStream_t s);
int ppx_cuda_gelu_bwd(void *dy, const void *x, int64_t n, int bf16, cudaStream_t s);
int ppx_cuda_softmax(void *x, int64_t rows, int64_t cols, int bf16, cudaStream_t s);
int ppx_cuda_swiglu(void *y, const void *x, int64_t rows, int64_t cols, int bf16, cudaStream_t s);
int ppx_cuda_swiglu_bwd(void *dx, const void *dy, const void *x, int64_t rows, int64_t cols,
			int bf16, cudaStream_t s);
int ppx_cuda_softmax_bwd(void *dp, const void *p, int64_t rows, int64_t cols, int bf16,
			 cudaStream_t s);

struct pp_xdev {
	MPI_Comm comm;
	int rank, size, gpu, bf16;
	cudaStream_t stream;
	cublasHandle_t blas;
	ncclComm_t nccl;
	cudaEvent_t e0, e1;
	float *staging;      /* device floats for host <-> device conversion */
	size_t staging_n;
	char msg[256];
};

static int fail(pp_xdev *d, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static int fail(pp_xdev *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return PP_EBACKEND;
}

#define CU(d, x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) return fail(d, "%s: %s", #x, cudaGetErrorString(e_)); } while (0)
#define KR(d, x) do { int e_ = (x); if (e_) return fail(d, "%s: %s", #x, cudaGetErrorString((cudaError_t)e_)); } while (0)
#define BL(d, x) do { cublasStatus_t e_ = (x); if (e_ != CUBLAS_STATUS_SUCCESS) return fail(d, "%s: cuBLAS status %d", #x, (int)e_); } while (0)
#define NC(d, x) do { ncclResult_t e_ = (x); if (e_ != ncclSuccess) return fail(d, "%s: %s", #x, ncclGetErrorString(e_)); } while (0)

static void cuda_close(pp_xdev *d);

/*
 * Opening is collective and never leaves a rank waiting: every rank does its local setup (its
 * GPU, stream, events, cuBLAS; rank 0 also the NCCL unique id), then all agree on whether every
 * rank succeeded (MPI_Allreduce) before anyone calls the collective ncclCommInitRank; rank 0's
 * id is always broadcast, with a flag saying whether it is good.  On any failure every rank
 * returns PP_EBACKEND with the same message: the lowest failing rank's (prefixed with its rank
 * when there are several).
 */
static int cuda_open(pp_xdev **out, MPI_Comm comm, pp_dtype dtype, char *msg, size_t msg_n)
{
	struct {
		int ok;
		ncclUniqueId id;
	} boot;
	pp_xdev *d;
	MPI_Comm local;
	char why[256] = "";
	int lrank = 0, lsize = 1, ngpu = 0, ok = 1, rank = 0, size = 1;
	struct {
		int ok, rank;
	} mine, first;

	*out = NULL;
	if (dtype != PP_DTYPE_FP32 && dtype != PP_DTYPE_BF16) {
		/* the same on every rank: the dtype is the run's */
		snprintf(msg, msg_n, "the cuda backend runs fp32 or bf16, not %s",
			 pp_dtype_name(dtype));
		return PP_EINVALID;
	}
	memset(&boot, 0, sizeof(boot));
	MPI_Comm_rank(comm, &rank);
	MPI_Comm_size(comm, &size);
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(why, sizeof(why), "out of memory");
		ok = 0;
	} else {
		d->comm = comm;
		d->bf16 = dtype == PP_DTYPE_BF16;
		d->rank = rank;
		d->size = size;
	}
	/* one GPU per rank: the rank's index among the ranks of its node */
	MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
	MPI_Comm_rank(local, &lrank);
	MPI_Comm_size(local, &lsize);
	MPI_Comm_free(&local);
	if (ok && (cudaGetDeviceCount(&ngpu) != cudaSuccess || ngpu < 1)) {
		snprintf(why, sizeof(why), "no CUDA device visible");
		ok = 0;
	}
	if (ok && lrank >= ngpu) {
		snprintf(why, sizeof(why), "%d ranks on this node but %d GPU%s visible (one GPU per "
			 "rank: start at most %d rank%s per node)", lsize, ngpu, ngpu > 1 ? "s" : "",
			 ngpu, ngpu > 1 ? "s" : "");
		ok = 0;
	}
	if (ok) {
		d->gpu = lrank;
		if (cudaSetDevice(d->gpu) != cudaSuccess ||
		    cudaStreamCreate(&d->stream) != cudaSuccess ||
		    cudaEventCreate(&d->e0) != cudaSuccess || cudaEventCreate(&d->e1) != cudaSuccess ||
		    cublasCreate(&d->blas) != CUBLAS_STATUS_SUCCESS ||
		    cublasSetStream(d->blas, d->stream) != CUBLAS_STATUS_SUCCESS) {
			snprintf(why, sizeof(why), "cannot set up GPU %d (CUDA or cuBLAS)", d->gpu);
			ok = 0;
		}
	}
	if (ok && rank == 0) {
		ncclResult_t e = ncclGetUniqueId(&boot.id);
		if (e != ncclSuccess) {
			snprintf(why, sizeof(why), "ncclGetUniqueId: %s", ncclGetErrorString(e));
			ok = 0;
		}
	}
	boot.ok = ok;
	/* always: every rank takes part in both, whatever happened to it */
	MPI_Bcast(&boot, sizeof(boot), MPI_BYTE, 0, comm);
	mine.ok = ok;
	mine.rank = rank;
	MPI_Allreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, comm);
	if (first.ok && boot.ok) {
		ncclResult_t e = ncclCommInitRank(&d->nccl, d->size, boot.id, rank);
		if (e != ncclSuccess) {
			d->nccl = NULL;
			snprintf(why, sizeof(why), "ncclCommInitRank: %s", ncclGetErrorString(e));
			ok = 0;
		}
		/* and agree once more: a communicator some rank lacks is no communicator */
		mine.ok = ok;
		MPI_Allreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, comm);
	}
	if (!first.ok) {
		/* the lowest failing rank's reason, the same on every rank */
		MPI_Bcast(why, sizeof(why), MPI_CHAR, first.rank, comm);
		why[sizeof(why) - 1] = '\0';
		if (size > 1)
			snprintf(msg, msg_n, "rank %d: %s", first.rank, why);
		else
			snprintf(msg, msg_n, "%s", why);
		cuda_close(d);
		return PP_EBACKEND;
	}
	*out = d;
	return 0;
}

static void cuda_close(pp_xdev *d)
{
	if (!d)
		return;
	if (d->nccl)
		ncclCommDestroy(d->nccl);
	if (d->blas)
		cublasDestroy(d->blas);
	cudaFree(d->staging);
	if (d->e0)
		cudaEventDestroy(d->e0);
	if (d->e1)
		cudaEventDestroy(d->e1);
	if (d->stream)
		cudaStreamDestroy(d->stream);
	free(d);
}

static const char *cuda_error(const pp_xdev *d)
{
	return d->msg;
}

static size_t esize(const pp_xdev *d)
{
	return d->bf16 ? 2 : 4;
}

static void *cuda_alloc(pp_xdev *d, size_t n)
{
	void *p = NULL;
	if (cudaMalloc(&p, (n ? n : 1) * esize(d)) != cudaSuccess) {
		fail(d, "cudaMalloc of %zu elements failed", n);
		return NULL;
	}
	return p;
}

static void cuda_release(pp_xdev *d, void *p)
{
	(void)d;
	cudaFree(p);
}

static int staging(pp_xdev *d, size_t n)
{
	if (d->staging_n >= n)
		return 0;
	cudaFree(d->staging);
	d->staging = NULL;
	d->staging_n = 0;
	CU(d, cudaMalloc((void **)&d->staging, n * sizeof(float)));
	d->staging_n = n;
	return 0;
}

static int cuda_upload(pp_xdev *d, void *dst, const float *src, size_t n)
{
	if (!d->bf16) {
		CU(d, cudaMemcpyAsync(dst, src, n * 4, cudaMemcpyHostToDevice, d->stream));
		CU(d, cudaStreamSynchronize(d->stream));
		return 0;
	}
	if (staging(d, n) < 0)
		return PP_EBACKEND;
	CU(d, cudaMemcpyAsync(d->staging, src, n * 4, cudaMemcpyHostToDevice, d->stream));
	KR(d, ppx_cuda_from_float(dst, d->staging, (int64_t)n, 1, d->stream));
	CU(d, cudaStreamSynchronize(d->stream));
	return 0;
}

static int cuda_download(pp_xdev *d, float *dst, const void *src, size_t n)
{
	if (!d->bf16) {
		CU(d, cudaMemcpyAsync(dst, src, n * 4, cudaMemcpyDeviceToHost, d->stream));
		CU(d, cudaStreamSynchronize(d->stream));
		return 0;
	}
	if (staging(d, n) < 0)
		return PP_EBACKEND;
	KR(d, ppx_cuda_to_float(d->staging, src, (int64_t)n, 1, d->stream));
	CU(d, cudaMemcpyAsync(dst, d->staging, n * 4, cudaMemcpyDeviceToHost, d->stream));
	CU(d, cudaStreamSynchronize(d->stream));
	return 0;
}

static int cuda_poison(pp_xdev *d, void *p, size_t n)
{
	KR(d, ppx_cuda_fill(p, (int64_t)n, __builtin_nanf(""), d->bf16, d->stream));
	return 0;
}

/*
 * Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets (n, m, k) with
 * B first.  The inner batch level is one strided-batched call; the outer one a loop.
 */
static int cuda_gemm(pp_xdev *d, const pp_xgemm *g)
{
	cudaDataType_t t = d->bf16 ? CUDA_R_16BF : CUDA_R_32F;
	size_t es = esize(d);
	int64_t o;

	for (o = 0; o < g->outer; o++) {
		const char *a = (const char *)g->a + (size_t)(g->a0 + o * g->a_so) * es;
		const char *b = (const char *)g->b + (size_t)(g->b0 + o * g->b_so) * es;
		char *c = (char *)g->c + (size_t)(g->c0 + o * g->c_so) * es;
		BL(d, cublasGemmStridedBatchedEx(
			      d->blas, g->tb ? CUBLAS_OP_T : CUBLAS_OP_N,
			      g->ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)g->n, (int)g->m, (int)g->k,
			      &g->alpha, b, t, (int)g->ldb, g->b_si, a, t, (int)g->lda, g->a_si,
			      &g->beta, c, t, (int)g->ldc, g->c_si, (int)g->inner,
			      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
	}
	return 0;
}

static int cuda_softmax(pp_xdev *d, void *x, int64_t rows, int64_t cols)
{
	KR(d, ppx_cuda_softmax(x, rows, cols, d->bf16, d->stream));
	return 0;
}

static int cuda_softmax_bwd(pp_xdev *d, void *dp, const void *p, int64_t rows, int64_t cols)
{
	KR(d, ppx_cuda_softmax_bwd(dp, p, rows, cols, d->bf16, d->stream));
	return 0;
}

static int cuda_gelu(pp_xdev *d, void *y, const void *x, size_t n)
{
	KR(d, ppx_cuda_gelu(y, x, (int64_t)n, d->bf16, d->stream));
	return 0;
}

static int cuda_gelu_bwd(pp_xdev *d, void *dy, const void *x, size_t n)
{
	KR(d, ppx_cuda_gelu_bwd(dy, x, (int64_t)n, d->bf16, d->stream));
	return 0;
}

static int cuda_swiglu(pp_xdev *d, void *y, const void *x, int64_t rows, int64_t cols)
{
	KR(d, ppx_cuda_swiglu(y, x, rows, cols, d->bf16, d->stream));
	return 0;
}

static int cuda_swiglu_bwd(pp_xdev *d, void *dx, const void *dy, const void *x, int64_t rows,
			   int64_t cols)
{
	KR(d, ppx_cuda_swiglu_bwd(dx, dy, x, rows, cols, d->bf16, d->stream));
	return 0;
}

static ncclDataType_t ntype(const pp_xdev *d)
{
	return d->bf16 ? ncclBfloat16 : ncclFloat;
}

static int cuda_allreduce(pp_xdev *d, void *buf, size_t n)
{
	NC(d, ncclAllReduce(buf, buf, n, ntype(d), ncclSum, d->nccl, d->stream));
	return 0;
}

static int cuda_allgather(pp_xdev *d, const void *send, void *recv, size_t n)
{
	NC(d, ncclAllGather(send, recv, n, ntype(d), d->nccl, d->stream));
	return 0;
}

static int cuda_reduce_scatter(pp_xdev *d, const void *send, void *recv, size_t n)
{
	NC(d, ncclReduceScatter(send, recv, n, ntype(d), ncclSum, d->nccl, d->stream));
	return 0;
}

static int cuda_tic(pp_xdev *d)
{
	CU(d, cudaEventRecord(d->e0, d->stream));
	return 0;
}

static int cuda_toc(pp_xdev *d, double *s)
{
	float ms = 0;
	CU(d, cudaEventRecord(d->e1, d->stream));
	CU(d, cudaEventSynchronize(d->e1));
	CU(d, cudaEventElapsedTime(&ms, d->e0, d->e1));
	*s = ms * 1e-3;
	return 0;
}

static int cuda_sync(pp_xdev *d)
{
	CU(d, cudaStreamSynchronize(d->stream));
	return 0;
}

/* Device-to-device copy of 1 GiB: 2 bytes moved (read + write) per byte copied; best of 5. */
static int cuda_membw(pp_xdev *d, double *gbs)
{
	size_t n = (size_t)1 << 30;
	void *a = NULL, *b = NULL;
	double best = 1e30;
	int i;

	CU(d, cudaMalloc(&a, n));
	if (cudaMalloc(&b, n) != cudaSuccess) {
		cudaFree(a);
		return fail(d, "cudaMalloc of 1 GiB failed");
	}
	for (i = 0; i < 6; i++) {
		double s = 0;
		if (cuda_tic(d) < 0 ||
		    cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice, d->stream) != cudaSuccess ||
		    cuda_toc(d, &s) < 0) {
			cudaFree(a);
			cudaFree(b);
			return fail(d, "memory bandwidth copy failed");
		}
		if (i > 0 && s < best)
			best = s;
	}
	cudaFree(a);
	cudaFree(b);
	*gbs = 2.0 * (double)n / best / 1e9;
	return 0;
}

static void cuda_describe(pp_xdev *d, char *device, size_t dn, char *libs, size_t ln)
{
	struct cudaDeviceProp p;
	int rt = 0, drv = 0, nv = 0, bv = 0;
	char mpiv[MPI_MAX_LIBRARY_VERSION_STRING], *nl;
	int len = 0;

	if (cudaGetDeviceProperties(&p, d->gpu) == cudaSuccess)
		snprintf(device, dn, "%s", p.name);
	else
		snprintf(device, dn, "cuda device %d", d->gpu);
	cudaRuntimeGetVersion(&rt);
	cudaDriverGetVersion(&drv);
	ncclGetVersion(&nv);
	cublasGetVersion(d->blas, &bv);
	MPI_Get_library_version(mpiv, &len);
	if ((nl = strchr(mpiv, '\n')))
		*nl = '\0';
	if ((nl = strchr(mpiv, ',')))
		*nl = '\0';
	snprintf(libs, ln, "CUDA runtime %d, driver %d; cuBLAS %d; NCCL %d; %s", rt, drv, bv, nv,
		 mpiv);
}

static const pp_xbackend cuda_backend = {
	"cuda",
	cuda_open,
	cuda_close,
	cuda_error,
	cuda_alloc,
	cuda_release,
	cuda_upload,
	cuda_download,
	cuda_poison,
	cuda_gemm,
	cuda_softmax,
	cuda_softmax_bwd,
	cuda_gelu,
	cuda_gelu_bwd,
	cuda_swiglu,
	cuda_swiglu_bwd,
	cuda_allreduce,
	cuda_allgather,
	cuda_reduce_scatter,
	cuda_tic,
	cuda_toc,
	cuda_sync,
	cuda_membw,
	cuda_describe,
};

const pp_xbackend *pp_xbackend_cuda(const char **why)
{
	(void)why;
	return &cuda_backend;
}
