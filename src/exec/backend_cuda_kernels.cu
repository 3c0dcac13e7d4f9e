// backend_cuda_kernels.cu - the element-wise kernels of parplan-exec's cuda backend (fp32 and
// bf16 storage, fp32 arithmetic), behind plain C entry points that backend_cuda.c calls.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

namespace {

__device__ inline float ld(const float *p, int64_t i) { return p[i]; }
__device__ inline float ld(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
__device__ inline void st(float *p, int64_t i, float v) { p[i] = v; }
__device__ inline void st(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16(v); }

template <typename T> __global__ void k_fill(T *p, int64_t n, float v)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x)
		st(p, i, v);
}

template <typename T> __global__ void k_from_float(T *dst, const float *src, int64_t n)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x)
		st(dst, i, src[i]);
}

template <typename T> __global__ void k_to_float(float *dst, const T *src, int64_t n)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x)
		dst[i] = ld(src, i);
}

#define GELU_C 0.7978845608028654f

template <typename T> __global__ void k_gelu(T *y, const T *x, int64_t n)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x) {
		float v = ld(x, i);
		st(y, i, 0.5f * v * (1.0f + tanhf(GELU_C * (v + 0.044715f * v * v * v))));
	}
}

template <typename T> __global__ void k_gelu_bwd(T *dy, const T *x, int64_t n)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x) {
		float v = ld(x, i), u = GELU_C * (v + 0.044715f * v * v * v), th = tanhf(u);
		float du = GELU_C * (1.0f + 3.0f * 0.044715f * v * v);
		st(dy, i, ld(dy, i) * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du));
	}
}

template <typename T> __global__ void k_swiglu(T *y, const T *x, int64_t rows, int64_t cols)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < rows * cols;
	     i += (int64_t)gridDim.x * blockDim.x) {
		int64_t r = i / cols, c = i % cols;
		float g = ld(x, r * 2 * cols + c), u = ld(x, r * 2 * cols + cols + c);
		st(y, i, g / (1.0f + expf(-g)) * u);
	}
}

template <typename T>
__global__ void k_swiglu_bwd(T *dx, const T *dy, const T *x, int64_t rows, int64_t cols)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < rows * cols;
	     i += (int64_t)gridDim.x * blockDim.x) {
		int64_t r = i / cols, c = i % cols, gi = r * 2 * cols + c, ui = gi + cols;
		float g = ld(x, gi), u = ld(x, ui), e = ld(dy, i), sg = 1.0f / (1.0f + expf(-g));
		st(dx, gi, e * u * sg * (1.0f + g * (1.0f - sg)));
		st(dx, ui, e * g * sg);
	}
}

// One block per row; 256 threads reduce with shared memory.
template <typename T> __global__ void k_softmax(T *x, int64_t rows, int64_t cols)
{
	__shared__ float red[256];
	for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
		T *row = x + r * cols;
		float mx = -INFINITY, sum = 0;
		for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
			mx = fmaxf(mx, ld(row, c));
		red[threadIdx.x] = mx;
		__syncthreads();
		for (int s = blockDim.x / 2; s > 0; s >>= 1) {
			if ((int)threadIdx.x < s)
				red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
			__syncthreads();
		}
		mx = red[0];
		__syncthreads();
		for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
			sum += expf(ld(row, c) - mx);
		red[threadIdx.x] = sum;
		__syncthreads();
		for (int s = blockDim.x / 2; s > 0; s >>= 1) {
			if ((int)threadIdx.x < s)
				red[threadIdx.x] += red[threadIdx.x + s];
			__syncthreads();
		}
		sum = red[0];
		__syncthreads();
		for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
			st(row, c, expf(ld(row, c) - mx) / sum);
	}
}

template <typename T> __global__ void k_softmax_bwd(T *dp, const T *p, int64_t rows, int64_t cols)
{
	__shared__ float red[256];
	for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
		T *g = dp + r * cols;
		const T *y = p + r * cols;
		float dot = 0;
		for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
			dot += ld(g, c) * ld(y, c);
		red[threadIdx.x] = dot;
		__syncthreads();
		for (int s = blockDim.x / 2; s > 0; s >>= 1) {
			if ((int)threadIdx.x < s)
				red[threadIdx.x] += red[threadIdx.x + s];
			__syncthreads();
		}
		dot = red[0];
		__syncthreads();
		for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
			st(g, c, ld(y, c) * (ld(g, c) - dot));
	}
}

inline int grid(int64_t n)
{
	int64_t g = (n + 255) / 256;
	return (int)(g > 65535 ? 65535 : g < 1 ? 1 : g);
}

} // namespace


extern "C" {

int ppx_cuda_fill(void *p, int64_t n, float v, int bf16, cudaStream_t s)
{
	if (bf16)
		k_fill<__nv_bfloat16><<<grid(n), 256, 0, s>>>((__nv_bfloat16 *)p, n, v);
	else
		k_fill<float><<<grid(n), 256, 0, s>>>((float *)p, n, v);
	return (int)cudaGetLastError();
}

int ppx_cuda_from_float(void *dst, const float *src, int64_t n, int bf16, cudaStream_t s)
{
	if (bf16)
		k_from_float<__nv_bfloat16><<<grid(n), 256, 0, s>>>((__nv_bfloat16 *)dst, src, n);
	else
		k_from_float<float><<<grid(n), 256, 0, s>>>((float *)dst, src, n);
	return (int)cudaGetLastError();
}

int ppx_cuda_to_float(float *dst, const void *src, int64_t n, int bf16, cudaStream_t s)
{
	if (bf16)
		k_to_float<__nv_bfloat16><<<grid(n), 256, 0, s>>>(dst, (const __nv_bfloat16 *)src, n);
	else
		k_to_float<float><<<grid(n), 256, 0, s>>>(dst, (const float *)src, n);
	return (int)cudaGetLastError();
}

int ppx_cuda_gelu(void *y, const void *x, int64_t n, int bf16, cudaStream_t s)
{
	if (bf16)
		k_gelu<__nv_bfloat16><<<grid(n), 256, 0, s>>>((__nv_bfloat16 *)y,
							      (const __nv_bfloat16 *)x, n);
	else
		k_gelu<float><<<grid(n), 256, 0, s>>>((float *)y, (const float *)x, n);
	return (int)cudaGetLastError();
}

int ppx_cuda_gelu_bwd(void *dy, const void *x, int64_t n, int bf16, cudaStream_t s)
{
	if (bf16)
		k_gelu_bwd<__nv_bfloat16><<<grid(n), 256, 0, s>>>((__nv_bfloat16 *)dy,
								  (const __nv_bfloat16 *)x, n);
	else
		k_gelu_bwd<float><<<grid(n), 256, 0, s>>>((float *)dy, (const float *)x, n);
	return (int)cudaGetLastError();
}

int ppx_cuda_swiglu(void *y, const void *x, int64_t rows, int64_t cols, int bf16, cudaStream_t s)
{
	if (bf16)
		k_swiglu<__nv_bfloat16><<<grid(rows * cols), 256, 0, s>>>(
			(__nv_bfloat16 *)y, (const __nv_bfloat16 *)x, rows, cols);
	else
		k_swiglu<float><<<grid(rows * cols), 256, 0, s>>>((float *)y, (const float *)x, rows,
								 cols);
	return (int)cudaGetLastError();
}

int ppx_cuda_swiglu_bwd(void *dx, const void *dy, const void *x, int64_t rows, int64_t cols,
			int bf16, cudaStream_t s)
{
	if (bf16)
		k_swiglu_bwd<__nv_bfloat16><<<grid(rows * cols), 256, 0, s>>>(
			(__nv_bfloat16 *)dx, (const __nv_bfloat16 *)dy, (const __nv_bfloat16 *)x, rows,
			cols);
	else
		k_swiglu_bwd<float><<<grid(rows * cols), 256, 0, s>>>(
			(float *)dx, (const float *)dy, (const float *)x, rows, cols);
	return (int)cudaGetLastError();
}

int ppx_cuda_softmax(void *x, int64_t rows, int64_t cols, int bf16, cudaStream_t s)
{
	int g = (int)(rows > 65535 ? 65535 : rows);
	if (bf16)
		k_softmax<__nv_bfloat16><<<g, 256, 0, s>>>((__nv_bfloat16 *)x, rows, cols);
	else
		k_softmax<float><<<g, 256, 0, s>>>((float *)x, rows, cols);
	return (int)cudaGetLastError();
}

int ppx_cuda_softmax_bwd(void *dp, const void *p, int64_t rows, int64_t cols, int bf16,
			 cudaStream_t s)
{
	int g = (int)(rows > 65535 ? 65535 : rows);
	if (bf16)
		k_softmax_bwd<__nv_bfloat16><<<g, 256, 0, s>>>((__nv_bfloat16 *)dp,
							       (const __nv_bfloat16 *)p, rows, cols);
	else
		k_softmax_bwd<float><<<g, 256, 0, s>>>((float *)dp, (const float *)p, rows, cols);
	return (int)cudaGetLastError();
}

} // extern "C"
