/*
 * hw.h - hardware profiles (format "parplan-hw/1").
 *
 * A profile describes one accelerator model, how many sit in a node and how they are linked:
 * peak throughput per dtype, memory size and bandwidth, GEMM efficiency (one default number or a
 * calibrated table of (m, n, k) -> TFLOP/s), the node (GPUs per host), the scale-up domain (GPUs
 * joined by the intra link: the node, or a whole NVL72 rack), the intra link and the network, each link with
 * bandwidth per direction per device, latency and the fraction of nominal bandwidth collectives
 * reach.  Invariants after a successful load: every bandwidth, peak and memory size is > 0,
 * 0 < efficiencies <= 1, node_devices >= 1, domain_devices a multiple of node_devices, the GEMM
 * table (if any) is sorted by m*n*k.
 */
#ifndef PARPLAN_HW_H
#define PARPLAN_HW_H

#include <stdint.h>

#include "parplan/error.h"

typedef enum pp_dtype {
	PP_DTYPE_BF16 = 0,
	PP_DTYPE_FP16,
	PP_DTYPE_TF32,
	PP_DTYPE_FP32,
	PP_DTYPE_FP8,    /* E4M3/E5M2 with per-tensor scales (Hopper, Blackwell, CDNA3/4 tensor cores) */
	PP_DTYPE_MXFP8,  /* OCP MX FP8: E4M3 with one E8M0 scale per 32 elements (Blackwell, CDNA4) */
	PP_DTYPE_COUNT
} pp_dtype;

/* The dtypes a model's graph may be stored in (the 1-byte ones are GEMM precisions only, chosen
 * by the plan's "precision" setting). */
#define PP_DTYPE_IS_STORAGE(d) ((d) >= PP_DTYPE_BF16 && (d) <= PP_DTYPE_FP32)

/** "bf16", "fp16", "tf32", "fp32", "fp8", "mxfp8". */
const char *pp_dtype_name(pp_dtype d);
/** Parse a dtype name; returns -1 when unknown. */
int pp_dtype_parse(const char *s);
/** Bytes per element of @d as stored in memory (tf32 is stored as 4 bytes, fp8 and mxfp8 as 1,
 * mxfp8's block scales not counted). */
int pp_dtype_bytes(pp_dtype d);

typedef struct pp_link {
	char name[64];
	double bw_gbs;      /* GB/s per direction per device (1 GB = 1e9 bytes) */
	double latency_us;  /* alpha of the alpha-beta model, per step */
	double efficiency;  /* achieved bus bandwidth / nominal, (0, 1]; 1 when not given */
} pp_link;

/** One measured GEMM: C[m,n] = A[m,k] B[k,n] at @tflops. */
typedef struct pp_gemm_point {
	double m, n, k;
	double tflops;
} pp_gemm_point;

typedef struct pp_hw {
	char name[64];          /* profile name, e.g. "dgx-a100-80g" */
	char device_name[64];   /* e.g. "A100-SXM4-80GB" */
	double peak_tflops[PP_DTYPE_COUNT]; /* 0 where the profile gives none */
	double memory_gib;      /* per device */
	double memory_bw_gbs;   /* HBM bandwidth, GB/s */
	double gemm_efficiency; /* default fraction of peak a large GEMM reaches, (0, 1] */
	double usable_memory_fraction; /* of memory_gib a job may use, (0, 1]; default 1 */
	pp_dtype gemm_dtype;    /* dtype the gemm_table was measured in (bf16 default) */
	pp_gemm_point *gemm_table; /* owned; NULL when none */
	double matmul_max_tflops; /* maximum achievable dense matmul rate of gemm_dtype at the best
				   * shape (measured); 0 when the profile gives none */
	double matmul_fp8_max_tflops; /* the same measured for fp8 (e4m3) GEMMs; 0: not measured
				       * (fp8 GEMMs then scale matmul_max_tflops by the peak ratio) */
	int sms;                  /* streaming multiprocessors (wave quantization); 0: unknown */
	double tdp_w;             /* thermal design power per device, W; 0: unknown */
	int n_gemm;
	int node_devices;       /* devices per node (the host: what launchers count as a node) */
	int domain_devices;     /* devices of one scale-up domain, joined by @intra: a multiple of
				 * node_devices (8 in a DGX, 72 in an NVL72 rack); node_devices when
				 * the profile gives no "scale_up_domain" */
	pp_link intra;          /* scale-up link (NVLink / Infinity Fabric) inside a domain */
	pp_link network;        /* link between nodes, per device */
} pp_hw;

/**
 * Load a parplan-hw/1 profile from @path.  On success *out is a new profile the caller frees
 * with pp_hw_free().  On failure *out is NULL and @err names the file and JSON path.
 */
int pp_hw_load(const char *path, pp_hw **out, pp_error *err);

/** Same from JSON text; @name_for_errors is used as the file name in errors. */
int pp_hw_parse(const char *name_for_errors, const char *text, pp_hw **out, pp_error *err);

/** Free a profile; NULL-safe. */
void pp_hw_free(pp_hw *hw);

/**
 * Throughput of a GEMM of shape (m, n, k) in @dtype, in FLOP/s.  With a calibrated table:
 * inverse-distance-squared interpolation of log(TFLOP/s) in (log m, log n, log k) space (an exact
 * shape returns its own measurement), scaled by peak[dtype]/peak[gemm_dtype] when the dtypes
 * differ.  Without one: peak[dtype] * gemm_efficiency.
 */
double pp_hw_gemm_flops(const pp_hw *hw, pp_dtype dtype, double m, double n, double k);

/** 1 when the device has a peak for @precision (bf16: bf16 or fp16), else 0. */
int pp_hw_supports(const pp_hw *hw, pp_dtype precision);

/** Usable bytes of device memory: memory_gib * 2^30 * usable_memory_fraction. */
double pp_hw_usable_bytes(const pp_hw *hw);

#endif
