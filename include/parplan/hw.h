/*
 * hw.h - hardware profiles (format "parplan-hw/1").
 *
 * A profile describes one accelerator model, how many sit in a node and how they are linked:
 * peak throughput per dtype, memory size and bandwidth, GEMM efficiency (one default number or a
 * calibrated table of (m, n, k) -> TFLOP/s), the intra-node link and the network, each link with
 * bandwidth per direction per device, latency and the fraction of nominal bandwidth collectives
 * reach.  Invariants after a successful load: every bandwidth, peak and memory size is > 0,
 * 0 < efficiencies <= 1, node_devices >= 1, the GEMM table (if any) is sorted by m*n*k.
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
	PP_DTYPE_COUNT
} pp_dtype;

/** "bf16", "fp16", "tf32", "fp32". */
const char *pp_dtype_name(pp_dtype d);
/** Parse a dtype name; returns -1 when unknown. */
int pp_dtype_parse(const char *s);
/** Bytes per element of @d as stored in memory (tf32 is stored as 4 bytes). */
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
	int sms;                  /* streaming multiprocessors (wave quantization); 0: unknown */
	double tdp_w;             /* thermal design power per device, W; 0: unknown */
	int n_gemm;
	int node_devices;       /* devices per node */
	pp_link intra;          /* link inside a node */
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

/** Usable bytes of device memory: memory_gib * 2^30 * usable_memory_fraction. */
double pp_hw_usable_bytes(const pp_hw *hw);

#endif
