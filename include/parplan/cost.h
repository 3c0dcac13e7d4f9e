/*
 * cost.h - the analytical cost model: time, memory, MFU of a parallel plan.
 *
 * One engine serves every search: a plan is a pp_global plus one pp_cfg per op, and is scored op
 * by op (compute as max(FLOPs / (peak * efficiency), bytes / bandwidth), resharding collectives
 * on edges between ops whose layouts differ, pipeline schedule, data-parallel gradient
 * reduction, optimizer step, memory with Korthikanti et al.'s activation accounting).  A layer
 * class is scored once and multiplied by its layer count.  The closed forms the engine must
 * agree with (pp_cf_*) are exported for tests and documentation.
 *
 * What the software stack does (flash or unfused attention, fused kernels, overlaps, per-stack
 * efficiencies; stack.h) is set on the context with pp_costctx_set_stack; a context without one
 * scores as the pre-stack model did (pp_stack_legacy).
 *
 * A pp_costctx holds what does not depend on the plan; it borrows the graph and the profile,
 * which must outlive it.  Evaluation allocates nothing (tests/check_alloc.c; with NULL configs a
 * graph of more than 8,192 ops takes one buffer) and is safe to call from many threads
 * on one context.
 */
#ifndef PARPLAN_COST_H
#define PARPLAN_COST_H

#include <stdint.h>

#include "parplan/error.h"
#include "parplan/graph.h"
#include "parplan/hw.h"
#include "parplan/stack.h"
#include "parplan/strategy.h"

typedef struct pp_costctx pp_costctx;

/** Build a context for @g on @hw.  Free with pp_costctx_free(). */
int pp_costctx_new(pp_costctx **out, const pp_graph *g, const pp_hw *hw, pp_error *err);
void pp_costctx_free(pp_costctx *c);
/** Score plans as software stack @st does (copied); NULL: the built-in legacy model
 * (pp_stack_legacy), which is also what a new context starts with. */
void pp_costctx_set_stack(pp_costctx *c, const pp_stack *st);
/** The context's stack (owned by the context). */
const pp_stack *pp_costctx_stack(const pp_costctx *c);
/** Memory the context's stack keeps free for what the model does not count (bytes). */
double pp_costctx_headroom_bytes(const pp_costctx *c);
/** Override the usable memory per device (GiB); 0 restores the profile's. */
void pp_costctx_set_mem_limit(pp_costctx *c, double gib);
const pp_graph *pp_costctx_graph(const pp_costctx *c);
const pp_hw *pp_costctx_hw(const pp_costctx *c);

/* Overlaps (pp_cost.overlaps), as the launchers' flags name them. */
#define PP_OVERLAP_TP_COMM (1u << 0)      /* --tp-comm-overlap */
#define PP_OVERLAP_GRAD_REDUCE (1u << 1)  /* --overlap-grad-reduce */
#define PP_OVERLAP_PARAM_GATHER (1u << 2) /* --overlap-param-gather */
#define PP_OVERLAP_P2P (1u << 3)          /* pipeline sends behind compute (the stack's) */
#define PP_OVERLAP_MOE_A2A (1u << 4)      /* --overlap-moe-a2a: expert all-to-all behind the
					   * paired forward/backward */

typedef struct pp_cost {
	int feasible;               /* peak memory within capacity */
	double iteration_s, tokens_per_s;
	double model_tflops_per_gpu, hardware_tflops_per_gpu, mfu, hfu;
	/* time breakdown; the parts add up to iteration_s */
	double compute_s, tp_comm_s, pp_comm_s, bubble_s, dp_comm_s, optimizer_s;
	/* memory of the most loaded device (GiB, 2^30 bytes) */
	double weights_gib, grads_gib, optimizer_gib, activations_gib, peak_gib, capacity_gib;
	double headroom_gib;        /* the stack's allowance for what is not modelled, already
				     * taken off capacity_gib */
	int peak_stage;
	/* detail used by tests, reports and the execution stub */
	int microbatches;
	double stage_fwd_s, stage_bwd_s;    /* per micro-batch, slowest stage */
	double stage_f_s, stage_b_s, stage_w_s; /* the same stage: forward, input-gradient and
					     * weight-gradient parts (stage_b_s + stage_w_s =
					     * stage_bwd_s) */
	/* communication hidden behind compute (not part of iteration_s); the exposed parts are
	 * tp_comm_s, pp_comm_s and dp_comm_s */
	double tp_hidden_s, pp_hidden_s, dp_hidden_s;
	/* the overlaps in force (PP_OVERLAP_*): switched on, offered by the stack, their
	 * prerequisites met and something to hide */
	unsigned overlaps;
	/* dp_comm_s by overlap: the exposed gradient reduction (reduce-scatter, or all-reduce
	 * without the distributed optimizer) and parameter all-gather; with the tied-embedding
	 * all-reduce they make dp_comm_s.  Both 0 under ZeRO-3 / FSDP, whose per-unit exchange is
	 * one figure. */
	double dp_reduce_s, dp_gather_s;
	const char *stack;                  /* the stack's name (owned by the context) */
	double layer_fwd_s, layer_bwd_s;    /* one layer of the first class, per micro-batch */
	double layer_gemm_s;                /* matrix products (incl. attention's) of that layer,
					     * forward + backward, per micro-batch */
	double layer_tp_s;                  /* its tensor-parallel collectives, forward + backward */
	double layer_tp_bytes;              /* TP collective bytes per device, one layer fwd+bwd */
	double layer_act_bytes;             /* activations kept per layer per micro-batch */
	double model_flops, hardware_flops; /* per iteration, all devices */
	double stage_params;                /* parameters per device on the peak stage */
	double cp_comm_s;                   /* of tp_comm_s, the context-parallel K/V exchange */
	double ep_a2a_s;                    /* of tp_comm_s, the expert-parallel all-to-all (MoE
					     * dispatch and combine, forward and backward), exposed */
	double ep_a2a_hidden_s;             /* of tp_hidden_s, the all-to-all hidden behind a paired
					     * forward/backward (--overlap-moe-a2a) */
	double cp_hidden_s;                 /* of tp_hidden_s, the ring exchange hidden behind attention */
	double layer_cp_bytes;              /* K/V bytes a CP rank sends for one layer, fwd + bwd */
	int zero_stage;                     /* the ZeRO stage scored (pp_global_zero_stage) */
	/* FLOP conventions (docs/accuracy.md): model_flops count no recomputation, hardware_flops
	 * count it; mfu and hfu are against the dense peak of the model's dtype (bf16) always;
	 * under fp8/mxfp8 mfu_lp is model FLOPs against the 8-bit dense peak (0 under bf16) */
	int precision;                      /* pp_precision scored */
	double mfu_lp;
	double peak_tflops;                 /* the dense bf16 peak mfu is against */
	double lp_peak_tflops;              /* the 8-bit dense peak mfu_lp is against (0: bf16) */
	double lin_flops;                   /* of hardware_flops, the layers' linear GEMMs (the part
					     * that runs at lp_peak_tflops under fp8) */
} pp_cost;

/**
 * Score @gl with per-op configs @cfg (g->n_ops entries; NULL = Megatron's).  The plan must have
 * passed pp_global_validate().  Returns 0, or PP_EINVALID when a config does not suit its op.
 */
int pp_cost_eval(const pp_costctx *c, const pp_global *gl, const uint8_t *cfg, pp_cost *out);

/* ---- memoized evaluation (src/cost_memo.c) -------------------------------------------------
 * A memo keeps the totals of each layer class and op set (compute, tensor-parallel collectives,
 * activations, parameters) under exactly what they depend on: the values of the plan settings
 * whose rows invalidate PP_COST_OPS (include/parplan/settings.h; a new setting that changes
 * per-op costs says so in its row and is part of the key) and the configs of the set's ops.
 * pp_cost_eval_memo gives bit-for-bit the pp_cost that pp_cost_eval gives; searches keep one
 * memo each (a memo is not shared between threads).  A memo belongs to one context; changing
 * the context's stack flushes it. */
typedef struct pp_cost_memo pp_cost_memo;

/** A memo for evaluations on @c (which must outlive it).  Free with pp_cost_memo_free(). */
int pp_cost_memo_new(pp_cost_memo **out, const pp_costctx *c, pp_error *err);
void pp_cost_memo_free(pp_cost_memo *m);
/** pp_cost_eval through @m (NULL: no memo).  Same result, same return codes. */
int pp_cost_eval_memo(const pp_costctx *c, pp_cost_memo *m, const pp_global *gl, const uint8_t *cfg,
		      pp_cost *out);
/**
 * A lower bound on the iteration_s pp_cost_eval gives @gl under Megatron's configs, and any plan
 * that differs from it only in the recompute mode, sequence parallelism, the data-parallel
 * sharding (ZeRO stage, HSDP), the K/V exchange and the overlaps: the pipeline's compute alone.
 * Through @m (NULL: none).  0 where @gl cannot be scored.  The exhaustive walk skips the variants
 * of a plan whose bound is above its K-th best so far (pp_space_walk_bar).
 */
double pp_cost_time_bound(const pp_costctx *c, pp_cost_memo *m, const pp_global *gl);
/** Set lookups answered from @m and computed, since it was made. */
void pp_cost_memo_stats(const pp_cost_memo *m, double *hits, double *misses);

/* ---- per-op pieces, for searches that assemble a plan's cost themselves (ILP) -------------
 * All are per micro-batch of gl->micro_batch on one device of the op's stage, forward +
 * backward (+ recompute as gl->recompute asks), and return a negative value when @cfg is not
 * allowed for the op (pp_cfg_allowed) or does not fit the plan (e.g. SAMPLE with b % t != 0). */

/** Compute time of op @op under @cfg. */
double pp_cost_op_s(const pp_costctx *c, const pp_global *gl, int op, pp_cfg cfg);
/** Resharding time on the edge from op @prod (config @pc) into input @slot of op @cons (config
 * @cc): the forward collective plus the backward one of the gradient. */
double pp_cost_edge_s(const pp_costctx *c, const pp_global *gl, int prod, pp_cfg pc, int cons,
		      int slot, pp_cfg cc);
/** Bytes on one device for op @op under @cfg: its parameters' weights + gradients + optimizer
 * state, plus the activations it keeps for one micro-batch. */
double pp_cost_op_bytes(const pp_costctx *c, const pp_global *gl, int op, pp_cfg cfg);
/** Data-parallel gradient reduction time of op @op's parameters under @cfg, per iteration. */
double pp_cost_op_grad_sync_s(const pp_costctx *c, const pp_global *gl, int op, pp_cfg cfg);

/* ---- closed forms ------------------------------------------------------------------------ */

/**
 * Activation bytes one transformer layer keeps per micro-batch (Korthikanti et al. 2022,
 * Table 2): none s*b*h*(34 + 5*a*s/h); TP s*b*h*(10 + 24/t + 5*a*s/(h*t)); TP+SP
 * s*b*h/t*(34 + 5*a*s/h); selective drops the 5*a*s/h term; full keeps 2*s*b*h (/t with SP).
 */
double pp_cf_gpt_layer_activation_bytes(double s, double b, double h, double a, int t, int sp,
					pp_recompute r);

/**
 * The same accounting for a Llama layer (RMSNorm, grouped-query attention with kv heads, SwiGLU
 * MLP of width f, no dropout): 2 bytes per element kept of both norm inputs (4sbh), the QKV and
 * gate/up inputs (2sbh each), Q, K, V (2*s*b*(h + 2*kv*h/a)), the attention-out input (2sbh),
 * the SwiGLU input (4sbf) and the down-projection input (2sbf), plus the attention core
 * 5*a*s^2*b as in Korthikanti et al.  With TP the norm, QKV-input and gate/up-input terms stay
 * whole and the rest is divided by t; SP divides everything by t.
 */
double pp_cf_llama_layer_activation_bytes(double s, double b, double h, double a, double kv,
					  double f, int t, int sp, pp_recompute r);

/**
 * Activation bytes one mixture-of-experts layer keeps per micro-batch (parplan's accounting, by
 * the method of Korthikanti et al. 2022 sec. 4.1 applied to the MoE ops; bf16, no dropout), in
 * Megatron's layout: grouped-query attention (a heads, kv heads of head dim hd), E routed SwiGLU
 * experts of width f, top-k.  Kept: both norm inputs and the QKV input (2sbh each), Q, K, V
 * (2sb(a + 2kv)hd), the attention-out input (2sb*a*hd), the core 5as^2b, the router's input
 * (2sbh) and fp32 scores (4sbE), k copies of each token into the experts (2sbkh) and out of
 * them into the combine (2sbkh), the experts' SwiGLU and down-projection inputs (2sbk*3f).
 * etp = t (expert tensor parallelism): the attention and SwiGLU terms divide by t, the experts'
 * input stays whole, the norm, router and combine terms divide by t with SP only.  etp = 1:
 * the t ranks split the tokens of the router, experts and combine (MoE parallel folding), the
 * norms divide by t with SP only.  Full recompute keeps the layer input.
 */
/*
 * pp_cf_mla_attention_activation_bytes: what multi-head latent attention keeps per micro-batch
 * (bf16, t = 1 as DeepSeek-V3 trained), from the attention norm's output to the output
 * projection's input (the part of a layer that the Llama form's QKV input 2sbh, Q, K, V and
 * attention-out input stand for): x into each down projection (q_a, kv_a and the decoupled
 * rotary key k_rope: 3 x 2sbh, 2 without q_lora), the compressed latents c_Q (rank q_lora) and
 * c_KV (rank kv_lora) into their RMSNorms and up projections (2 x 2sb x rank each), the core's
 * q (H(dn+dr)), up-projected k_nope|v (H(dn+dv)) and the shared k_rope (dr), the output
 * projection's input (H dv), and without flash the 5Hs^2b score terms.  DeepSeek-V2 sec.
 * 2.1.2-2.1.3, DeepSeek-V3 report sec. 2.1.1; the per-op accounting of Korthikanti et al. 2022
 * sec. 4.1 (each linear keeps its own input: x counts once per down projection, as Transformer
 * Engine keeps one copy per module under fp8; in bf16 PyTorch would share one storage, 2 x 2sbh
 * less).  Full recompute: 0 (the layer's input is the layer's).
 */
double pp_cf_mla_attention_activation_bytes(double s, double b, double h, double H, double q_lora,
					    double kv_lora, double dn, double dr, double dv, int flash,
					    pp_recompute r);
double pp_cf_moe_layer_activation_bytes(double s, double b, double h, double a, double kv, double hd,
					double E, double k, double f, int t, int etp, int sp, pp_recompute r);

/** The GPT form above for flash attention: Korthikanti et al. 2022, Table 2 without the
 * 5*a*s/h term (no scores, softmax output or dropout mask stored; Dao et al. 2022). */
double pp_cf_gpt_layer_activation_bytes_flash(double s, double b, double h, int t, int sp,
					      pp_recompute r);
/** The Llama form without its 5*a*s^2*b attention-core term (flash attention). */
double pp_cf_llama_layer_activation_bytes_flash(double s, double b, double h, double a, double kv,
						double f, int t, int sp, pp_recompute r);

/** Flash attention forward time of @fwd_flops (QK^T + AV, full square) at @fwd_eff of
 * @peak_flops; causal block skipping halves the work (Dao 2023, sec. 3.1.1); *bwd_s gets the
 * backward, 2.5x the forward FLOPs at @bwd_eff (Dao 2023, sec. 4.1: 5 matmuls to 2). */
/** Unfused attention with a causal fused softmax: the fraction of the (6 eb + 1) bytes of score
 * traffic per score that its forward does not read (its backward skips twice that). */
double pp_cf_causal_softmax_skip(double eb);
double pp_cf_flash_attention_s(double fwd_flops, int causal_skip, double peak_flops, double fwd_eff,
			       double bwd_eff, double *bwd_s);

/** Shape-aware GEMM rate (FLOP/s) of C[m,n] = A[m,k] B[k,n] on a GPU of @sms SMs whose best
 * shape reaches @max_flops: reduced by tile quantization and wave quantization (NVIDIA Deep
 * Learning Performance Guide, Matrix Multiplication Background), best of the 256x128,
 * 128x256 and 128x128 tiles (smaller tiles at their lower arithmetic intensity). */
double pp_cf_gemm_flops(double max_flops, int sms, double m, double n, double k);

/** HBM bytes per logit of the unfused fp32 cross-entropy (Megatron-LM cross_entropy.py as
 * separate PyTorch ops); returns the backward's, *fwd_bytes gets the forward's. */
double pp_cf_unfused_ce_bytes(double eb, double *fwd_bytes);

/**
 * PP_EINVALID naming the profile when @gl asks for a precision the device lacks (fp8 on an A100,
 * mxfp8 on Hopper or CDNA 3); pp_cost_eval refuses such a plan the same way.
 */
int pp_cost_check_precision(const pp_costctx *c, const pp_global *gl, pp_error *err);

/**
 * HBM bytes of quantizing @elems elements of @eb bytes to fp8 (mx: mxfp8) for a linear GEMM:
 * one read, a row-wise and a column-wise 8-bit copy written (Transformer Engine cast-transpose):
 * elems * (eb + 2) for fp8, elems * (eb + 2 * (1 + 1/32)) for mxfp8.
 */
double pp_cf_fp8_cast_bytes(double elems, double eb, int mx);

/**
 * Extra bytes per linear-layer parameter that fp8 training keeps beside the bf16 weight: the
 * fp8 row-wise and column-wise copies Transformer Engine caches for the iteration (2, or
 * 2 * (1 + 1/32) for mxfp8); with @param_gather the fp8 copy is the weight itself (Megatron
 * --fp8-param-gather: no bf16 weight, 1 byte + its column-wise copy), 0 extra over bf16's 2.
 */
double pp_cf_fp8_weight_extra_bytes(int mx, int param_gather);

/** Megatron-LM's asynchronous input-gradient collective of a column-parallel linear (all-reduce,
 *  or reduce-scatter with sequence parallelism) hides behind that linear's weight-gradient GEMM
 *  (tensor_parallel/layers.py; Korthikanti et al. 2022 sec. 6.2): min(comm, wgrad). */
double pp_cf_tp_async_dgrad_hidden_s(double comm_s, double wgrad_s);

/** Exposed time of @comm_s of tensor-parallel collectives overlapped chunk by chunk (t chunks)
 * with @gemm_s of the GEMMs they feed: one chunk, what does not fit, and the GEMMs' slowdown
 * @sm_fraction x the hidden time (*hidden_s). */
/**
 * Routed rows on the busiest expert-parallel rank, a multiple of the balanced share: dropless
 * (@capacity 0) @imbalance, with capacity factor C min(@imbalance, C), padded (@pad) C
 * (Megatron-Core get_capacity; Fedus et al. 2022, sec. 2.2).
 */
double pp_cf_moe_expert_rows(double imbalance, double capacity, int pad);
/** Rows the expert all-to-all carries, a multiple of tokens x k: C padded, min(1, C) dropping. */
double pp_cf_moe_a2a_rows(double capacity, int pad);
/**
 * Expert all-to-all hidden when a forward (@f, of which @fx all-to-all) is paired with another
 * micro-batch's backward (@b, of which @bx): min(fx + bx, f - fx + b - bx) (DeepSeek-V3 report
 * sec. 3.2.1, DualPipe; Megatron-Core --overlap-moe-expert-parallel-comm).
 */
double pp_cf_ep_a2a_hidden_s(double f, double b, double fx, double bx);
double pp_cf_tp_overlap_exposed_s(double comm_s, int t, double gemm_s, double sm_fraction,
				  double *hidden_s);

/** Tensor-parallel elements moved per layer per device per micro-batch: 8*b*s*h*(t-1)/t
 * (Narayanan et al. 2021, section 3.2: 2 all-reduces forward, 2 backward). */
double pp_cf_tp_elements_per_layer(double b, double s, double h, int t);

/**
 * Model FLOPs per iteration of a GPT (Narayanan et al. 2021, eq. 3):
 * 72*B*s*l*h^2*(1 + s/(6h) + V/(12*l*h)), or with full recomputation counted
 * 96*B*s*l*h^2*(1 + s/(6h) + V/(16*l*h)).
 */
double pp_cf_gpt_flops(double B, double s, double l, double h, double V, int full_recompute);

/** Pipeline time of m micro-batches over p equal stages with v chunks each:
 * (m + (p-1)/v) * (t_f + t_b); bubble fraction (p-1)/(v*m) (Narayanan et al. 2021, sec. 2.2). */
double pp_cf_pipeline_s(int m, int p, int v, double t_f, double t_b);

/** Bytes per parameter of weights + gradients + Adam: 18, or 6 + 12/d with the distributed
 * optimizer (Rajbhandari et al. 2020 ZeRO-1; Megatron-LM distributed optimizer). */
double pp_cf_bytes_per_param(int d, int distributed_optimizer);

/**
 * Model-state bytes per parameter under ZeRO stage @stage over @n ranks (Rajbhandari et al. 2020,
 * ZeRO, sec. 5 and Figure 1; K = 12 bytes of Adam state, 2-byte weights, @grad_bytes per
 * gradient): stage 0 2 + g + K; 1 2 + g + K/n; 2 2 + (g + K)/n; 3 (2 + g + K)/n.  With g = 2
 * these are the paper's (2+2+K)Psi, 2Psi+2Psi+K*Psi/Nd, 2Psi+(2+K)Psi/Nd and (2+2+K)Psi/Nd.
 * The unsharded working set of stages 2 and 3 (units in flight) comes on top.
 */
double pp_cf_zero_bytes_per_param(int stage, int n, double grad_bytes);

/**
 * Exposed data-parallel time of one micro-batch under ZeRO-3 / FSDP on a stage of @n units
 * (layers): @ag_f_s and @ag_b_s all-gather the parameters before the forward and the backward,
 * @rs_s reduce-scatters the gradients, against @fwd_s and @bwd_s of compute; each unit's
 * prefetched communication hides behind the previous unit's compute (first all-gather and last
 * reduce-scatter exposed).  ZeRO-2: @ag_f_s = @ag_b_s = 0.
 */
double pp_cf_sharded_dp_exposed_s(int n, double ag_f_s, double ag_b_s, double rs_s, double fwd_s,
				  double bwd_s);

/** K and V bytes one context-parallel rank holds for one layer: 2*b*(s/cp)*(kv_dim/t)*eb. */
double pp_cf_cp_kv_bytes(double b, double s, double kv_dim, int t, int cp, double eb);

/**
 * Exposed part of @comm_s of context-parallel K/V exchange against @attn_s of attention compute
 * (one pass): p2p rings cp - 1 steps each hidden behind 1/cp of the attention (causal load
 * balancing makes the steps equal); all_gather and a2a are exposed.  *hidden_s: the rest.
 */
double pp_cf_cp_exposed_s(pp_cp_comm type, int cp, double comm_s, double attn_s, double *hidden_s);
/** Hierarchical context parallelism (cp_comm_type a2a+p2p, @a2a ranks per all-to-all group, a
 * ring over cp/@a2a groups): exposed and hidden K/V communication of one forward (@exp_f,
 * @hid_f) and one backward (@exp_b, @hid_b); @kv the rank's K/V bytes (pp_cf_cp_kv_bytes, all
 * attention ops), @qo its Q and output bytes, @attn_f_s/@attn_b_s the attention time they hide
 * behind. */
void pp_cf_cp_hier_s(const pp_hw *hw, int t, int cp, int a2a, double kv, double qo, double attn_f_s,
		     double attn_b_s, double *exp_f, double *hid_f, double *exp_b, double *hid_b);
/** all_gather context parallelism's transient bytes on a rank: the gathered K/V of the whole
 * sequence and, in backward, their gradients (@kv: one attention op's own K/V bytes). */
double pp_cf_cp_allgather_ws_bytes(double kv, int cp);

#endif
