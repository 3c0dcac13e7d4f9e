/*
 * calib.h - calibrate a hardware profile from parplan-exec's measurements
 * (format "parplan-measurements/1").
 *
 * GEMMs: one gemm_table point per forward GEMM shape (m, n, k) of the measured layer, its
 * TFLOP/s being the training throughput the cost model charges there: the FLOPs of the forward
 * GEMM and of its backward GEMMs (twice the forward's) over the sum of their median times.  The
 * attention core (QK^T and AV, batched over heads, forward and backward) becomes one point at
 * (s, s, head_dim), the shape the cost model asks for it.  Link: alpha (latency per ring step)
 * and beta (seconds per byte) of the ring formulas (all-reduce 2(n-1)/n*S*beta + 2(n-1)*alpha,
 * all-gather and reduce-scatter (n-1)/n*S*beta + (n-1)*alpha) fitted by least squares on the
 * relative error over every measured collective.  Every entry says in "source" where it came from.
 */
#ifndef PARPLAN_CALIB_H
#define PARPLAN_CALIB_H

#include "parplan/error.h"
#include "parplan/graph.h"
#include "parplan/hw.h"

#define PP_MEAS_FORMAT "parplan-measurements/1"

typedef struct pp_calib_summary {
	int n_points;           /* gemm_table points written */
	int n_coll;             /* collective timings fitted (0: link left as it was) */
	double alpha_s;         /* fitted latency per ring step */
	double bw_gbs;          /* fitted bandwidth (1 / beta), GB/s */
	double fit_rms;         /* root mean square relative error of the fit */
	double memory_bw_gbs;   /* measured, 0 when not measured */
	double min_tflops, max_tflops;
} pp_calib_summary;

/**
 * Write a new profile: @hw_text (the base profile, read from @hw_path) with its gemm_table,
 * memory bandwidth and intra-node link replaced by what @meas_text (from @meas_path) measured;
 * @name (may be NULL: keep the base's) names it.  *out is malloc'd JSON text that pp_hw_parse()
 * accepts; the caller frees it.  Errors name the file and JSON path at fault.
 */
int pp_calibrate(const char *meas_path, const char *meas_text, const char *hw_path,
		 const char *hw_text, const char *name, char **out, pp_calib_summary *sum,
		 pp_error *err);

typedef struct pp_calib_layer {
	double measured_s;      /* GEMM medians + collective medians, one layer fwd + bwd */
	double measured_gemm_s, measured_coll_s;
	double predicted_s;     /* pp_cost_eval's layer_gemm_s + layer_tp_s */
	double predicted_gemm_s, predicted_tp_s;
	double rel_error;       /* (predicted - measured) / measured */
} pp_calib_layer;

/**
 * Closing the loop: price the layer the measurements ran (their t, micro-batch, sequence
 * parallelism) with the cost model on graph @g and profile @hw, and compare with what was
 * measured.  @g must have the measured shape (hidden, heads, ffn, seq) and dtype.
 */
int pp_calib_layer_check(const char *meas_path, const char *meas_text, const pp_graph *g,
			 const pp_hw *hw, pp_calib_layer *out, pp_error *err);

#endif
