/*
 * backend.h - what parplan-exec needs from a compute backend: device buffers in the run's dtype,
 * GEMMs, a few element-wise kernels, collectives over the tensor-parallel ranks, a timer.
 *
 * Two backends fill this table: cpu (OpenBLAS + MPI, backend_cpu.c) and cuda (cuBLAS + NCCL
 * bootstrapped over MPI, backend_cuda.c + backend_cuda_kernels.cu).  The stub's program
 * (layer.c) only calls through the table; #ifdef lives in the backend files alone.  Every
 * function returns 0 or a negative PP_E* code and leaves a message in the device's msg buffer.
 * Buffers belong to the device that allocated them and are released by it.  Matrices are
 * row-major; element offsets and strides count elements, not bytes.
 */
#ifndef PARPLAN_EXEC_BACKEND_H
#define PARPLAN_EXEC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "parplan/hw.h"

typedef struct pp_xdev pp_xdev;

/*
 * C[i] = alpha * op(A[i]) op(B[i]) + beta * C[i] for a two-level batch: product (o, j) for
 * o < outer, j < inner reads A at element a0 + o*a_so + j*a_si of buffer @a (likewise B, C).
 * op(X) is X or X^T.
 */
typedef struct pp_xgemm {
	int ta, tb;
	int64_t m, n, k;
	float alpha, beta;
	const void *a, *b;
	void *c;
	int64_t lda, ldb, ldc;
	int64_t a0, b0, c0;
	int64_t outer, inner;
	int64_t a_so, a_si, b_so, b_si, c_so, c_si;
} pp_xgemm;

typedef struct pp_xbackend {
	const char *name;
	/** Open rank @rank of @comm's group on its device, computing in @dtype. */
	int (*open)(pp_xdev **out, MPI_Comm comm, pp_dtype dtype, char *msg, size_t msg_n);
	void (*close)(pp_xdev *d);
	/** Last error message (never NULL). */
	const char *(*error)(const pp_xdev *d);
	/** @n elements of the run's dtype, or NULL. */
	void *(*alloc)(pp_xdev *d, size_t n);
	void (*release)(pp_xdev *d, void *p);
	/** Host floats in, converted to the dtype; host floats out. */
	int (*upload)(pp_xdev *d, void *dst, const float *src, size_t n);
	int (*download)(pp_xdev *d, float *dst, const void *src, size_t n);
	/** Fill with NaN, so an element nobody writes fails validation. */
	int (*poison)(pp_xdev *d, void *p, size_t n);
	int (*gemm)(pp_xdev *d, const pp_xgemm *g);
	/** Row-wise softmax of @rows x @cols, in place. */
	int (*softmax)(pp_xdev *d, void *x, int64_t rows, int64_t cols);
	/** dp := p * (dp - rowsum(dp * p)), the softmax backward, in place in @dp. */
	int (*softmax_bwd)(pp_xdev *d, void *dp, const void *p, int64_t rows, int64_t cols);
	/** y = gelu(x) (tanh form). */
	int (*gelu)(pp_xdev *d, void *y, const void *x, size_t n);
	/** dy := dy * gelu'(x), in place. */
	int (*gelu_bwd)(pp_xdev *d, void *dy, const void *x, size_t n);
	/** SwiGLU of @rows rows of @x = [gate | up] (2 * @cols wide): y = silu(gate) * up. */
	int (*swiglu)(pp_xdev *d, void *y, const void *x, int64_t rows, int64_t cols);
	/** Its backward: dx = [dy * up * silu'(gate) | dy * silu(gate)]. */
	int (*swiglu_bwd)(pp_xdev *d, void *dx, const void *dy, const void *x, int64_t rows,
			  int64_t cols);
	/** Sum over the group, in place, @n elements. */
	int (*allreduce)(pp_xdev *d, void *buf, size_t n);
	/** Each rank gives @n elements; every rank gets all, rank-ordered. */
	int (*allgather)(pp_xdev *d, const void *send, void *recv, size_t n);
	/** Sum of the ranks' @n * ranks elements; rank r keeps block r of @n. */
	int (*reduce_scatter)(pp_xdev *d, const void *send, void *recv, size_t n);
	/** Start and stop a timer around work queued on the device; stop returns seconds. */
	int (*tic)(pp_xdev *d);
	int (*toc)(pp_xdev *d, double *seconds);
	/** Wait for everything queued. */
	int (*sync)(pp_xdev *d);
	/** Sustained memory bandwidth of this rank's device in GB/s (all ranks measuring at once). */
	int (*membw)(pp_xdev *d, double *gbs);
	/** Device name and library versions, as one line each into @buf. */
	void (*describe)(pp_xdev *d, char *device, size_t dn, char *libs, size_t ln);
} pp_xbackend;

extern const pp_xbackend pp_xbackend_cpu;
/** The cuda backend, or NULL in a build without it (then @why says how to get it). */
const pp_xbackend *pp_xbackend_cuda(const char **why);

#endif
