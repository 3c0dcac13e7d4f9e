/*
 * cost.c - the analytical cost model (see cost.h and DESIGN.md section 4).
 *
 * Everything that does not depend on the plan is prepared once in pp_costctx_new: per-op edge
 * lists of the representative layer of each layer class, the pre (embedding) and post (LM head,
 * loss) ops, and prefix counts of classes and "layer-input edge sets" over the layers so that a
 * stage's totals are a few multiplications whatever its layer range.  pp_cost_eval then scores
 * each op of each class once under its config and assembles stages, the pipeline schedule, data
 * parallelism, the optimizer step and memory.
 *
 * Units: seconds, bytes, FLOP.  "Per micro-batch" quantities are for gl->micro_batch samples on
 * one device.
 */
#include "parplan/cost.h"
#include "parplan/schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked_int.h"
#include "cost_int.h"
#include "hw_int.h"
#include "parplan/comm.h"
#include "parplan/settings.h"
#include "parplan/stack.h"

/* fmax without the libm call (no NaNs reach here) */
#define MAXD(a, b) ((a) > (b) ? (a) : (b))

/* Bytes of optimizer-side state per parameter (mixed-precision Adam; Rajbhandari et al. 2020,
 * ZeRO section 3.1; Megatron-LM distributed optimizer): bf16 weights 2, fp32 main gradients 4,
 * fp32 master weights + Adam m and v 12. */
#define WEIGHT_BYTES 2.0
#define GRAD_BYTES 4.0
#define ADAM_BYTES 12.0
/* Adam step traffic per parameter: read fp32 param, grad, m, v (16), write param, m, v (12),
 * write the bf16 copy (2). */
#define ADAM_STEP_BYTES 30.0
/* Gradient clipping reads every fp32 gradient once (Megatron-LM clip_grads.py: the L2 norm via
 * multi_tensor_l2norm over the main grads); zero_grad writes the fp32 gradient buffer once
 * (Megatron-LM DistributedDataParallel.zero_grad_buffer: grad_data.zero_()). */
#define GRAD_NORM_BYTES 4.0
#define ZERO_GRAD_BYTES 4.0
/* Megatron-LM DistributedDataParallelConfig: bucket_size = max(40M, 1M * dp) parameters; the
 * last bucket of a backward pass (the first layers) has nothing left to hide behind. */
#define DDP_BUCKET_PARAMS 40e6

/* Backward HBM traffic over forward traffic, per memory-bound op type, from what each kernel
 * reads and writes (x the input, y the output, dy/dx the gradients, e elements of eb bytes):
 *   LayerNorm / RMSNorm  fwd r x w y (2e); bwd r x, dy w dx (3e)          1.5
 *   GELU                 fwd r x w y (2e); bwd r x, dy w dx (3e)          1.5
 *   SwiGLU (f wide)      fwd r 2f w f (3f); bwd r dy, gate, up w 2f (5f)  5/3
 *   dropout              fwd r x w y, mask; bwd r dy, mask w dx           1
 *   residual add         fwd r a, b w y; bwd: the gradient sum at the fork r 2 w 1   1
 *   embedding            fwd gather; bwd scatter-add of dy into the table rows         1
 *   loss                 fwd r logits w stats; bwd r logits w dlogits                  1
 *   unfused attention scores: fwd 13 bytes per score (Korthikanti et al. 2022, Table 2
 *   accounting); bwd softmax r y, dy w dx (6) + dropout r dy, mask w dx (5) + dS read (2)  1
 * (Apex/Transformer Engine layer-norm and Megatron-LM fused GELU/dropout kernels read and
 * write exactly these tensors.) */
/* attention cores: softmax attention and MLA's (selective recompute re-runs them) */
static int is_attention(pp_op_type t)
{
	return t == PP_OP_ATTENTION || t == PP_OP_MLA;
}

static double bwd_traffic_ratio(pp_op_type t)
{
	switch (t) {
	case PP_OP_LAYERNORM:
	case PP_OP_RMSNORM:
	case PP_OP_GELU: return 1.5;
	case PP_OP_SWIGLU: return 5.0 / 3.0;
	default: return 1.0;
	}
}

typedef struct edge {
	int cons, slot, prod;   /* op indices (prod, cons mapped to their class representatives) */
	double elems;           /* elements per sample of the tensor on the edge */
} edge;

typedef struct opset {
	int n_ops, *ops;        /* ops scored for this set (representative ops) */
	int n_edges;
	edge *edges;            /* edges into those ops from ops of the same set */
} opset;

struct pp_costctx {
	const pp_graph *g;
	const pp_hw *hw;
	pp_links links;         /* hw's links as the collectives read them, taken once */
	double peak, vec_peak, mem_bw, eb, capacity, mem_override;
	int *rep;               /* op -> representative op (same position in its class's first layer) */
	opset *cls;             /* per class: the representative layer's ops and internal edges */
	opset pre, post;        /* embedding side / head side (edges include those from layers) */
	int n_ext;              /* distinct sets of edges into a layer from outside it */
	opset *ext;             /* (ops unused) */
	int *layer_ext;         /* layer -> ext set */
	int *cls_prefix;        /* [c * (L+1) + l]: layers of class c in [0, l) */
	int *ext_prefix;        /* [e * (L+1) + l] */
	double *layer_in_elems; /* per class: elements per sample of the layer's input */
	double gemm_flops_sample, layer_gemm_flops_sample, attn_gemm_flops_sample;
	double lin_flops_sample; /* forward FLOPs of the layers' linear GEMMs per sample */
	double exp_flops_sample; /* forward FLOPs of the layers' routed experts per sample (8-bit
				  * with the linear GEMMs outside the legacy model: lp_experts) */
	int n_scored, *scored;  /* every op whose config the evaluation reads */
	double gemm_rate;       /* FLOP/s of any GEMM when the profile has no table, else 0 */
	pp_gemm_memo *gemm_memo; /* with a table: its lookups, each shape interpolated once */
	double mamf;            /* shape-aware model: max achievable matmul FLOP/s x the stack's
				 * gemm efficiency; 0: the profile's table or flat efficiency */
	int sms;
	/* fp8 / mxfp8 linear GEMMs (index pp_precision; [0] unused): the device's peak, and the
	 * rates the three GEMM models above use for them (0 where the device lacks the precision) */
	double lp_peak[3], lp_mamf[3], lp_rate[3];
	double lin_frac;        /* of all parameters, those of the layers' linear GEMMs */
	double *cls_lin_frac;   /* per class: of its parameters, those of its linear GEMMs */
	pp_stack st;            /* the software stack (pp_stack_legacy unless set) */
	unsigned gen;           /* bumped when the stack changes (memos flush: cost_memo.c) */
	unsigned allowed[PP_OP_TYPE_COUNT]; /* bit c: config c allowed for the op type */
};

/* ---- closed forms ------------------------------------------------------------------------ */

double pp_cf_gpt_layer_activation_bytes(double s, double b, double h, double a, int t, int sp,
					pp_recompute r)
{
	double core = 5.0 * a * s / h;
	/* Korthikanti et al. 2022, Table 2 */
	if (r == PP_RECOMPUTE_FULL)
		return 2.0 * s * b * h / (sp ? t : 1);
	if (r == PP_RECOMPUTE_SELECTIVE)
		core = 0;
	if (t <= 1)
		return s * b * h * (34.0 + core);
	if (sp)
		return s * b * h / t * (34.0 + core);
	return s * b * h * (10.0 + 24.0 / t + core / t);
}

double pp_cf_llama_layer_activation_bytes(double s, double b, double h, double a, double kv,
					  double f, int t, int sp, pp_recompute r)
{
	double whole = s * b * (4 * h + 2 * h + 2 * h);
	double split = s * b * (2 * (h + 2 * kv * h / a) + 2 * h + 4 * f + 2 * f);
	double core = 5.0 * a * s * s * b;
	if (r == PP_RECOMPUTE_FULL)
		return 2.0 * s * b * h / (sp ? t : 1);
	if (r == PP_RECOMPUTE_SELECTIVE)
		core = 0;
	if (sp || t <= 1)
		return (whole + split + core) / t;
	return whole + (split + core) / t;
}

double pp_cf_moe_layer_activation_bytes(double s, double b, double h, double a, double kv, double hd,
					double E, double k, double f, int t, int etp, int sp, pp_recompute r)
{
	double norms = s * b * (2 * h + 2 * h + 2 * h);             /* ln1, QKV input, ln2 */
	double route = s * b * (2 * h + 4 * E + 2 * k * h);         /* router input and scores, combine */
	double exp_in = 2 * s * b * k * h, swiglu = 2 * s * b * k * 3 * f;
	double attn = s * b * (2 * (a + 2 * kv) * hd + 2 * a * hd);
	double core = 5.0 * a * s * s * b;
	if (r == PP_RECOMPUTE_FULL)
		return 2.0 * s * b * h / (sp ? t : 1);
	if (r == PP_RECOMPUTE_SELECTIVE)
		core = 0;
	if (etp > 1) /* expert tensor parallelism: every rank keeps every routed row's input */
		return (sp ? (norms + route) / t : norms + route) + exp_in + (attn + core + swiglu) / t;
	/* etp = 1: the t ranks split the tokens of the router, experts and combine */
	return (sp ? norms / t : norms) + (route + exp_in + swiglu + attn + core) / t;
}

double pp_cf_mla_attention_activation_bytes(double s, double b, double h, double H, double q_lora,
					    double kv_lora, double dn, double dr, double dv, int flash,
					    pp_recompute r)
{
	/* DeepSeek-V2 (arXiv:2405.04434) sec. 2.1.2-2.1.3, DeepSeek-V3 report (arXiv:2412.19437)
	 * sec. 2.1.1 eqs. 1-11, by the method of Korthikanti et al. 2022 sec. 4.1: each linear
	 * keeps its input, each RMSNorm its input, the core its q, k, v */
	double down = (q_lora > 0 ? 3.0 : 2.0) * h;           /* x into q_a (or q), kv_a, k_rope */
	double lat = (q_lora > 0 ? 2.0 * q_lora : 0) + 2.0 * kv_lora; /* latents: norm + up-proj */
	double core = H * (dn + dr) + H * (dn + dv) + dr;      /* q, up-projected k|v, k_rope */
	double scores = flash ? 0 : 5.0 * H * s * s * b;
	if (r == PP_RECOMPUTE_FULL)
		return 0; /* the layer keeps its input only (counted with the layer) */
	if (r == PP_RECOMPUTE_SELECTIVE)
		scores = 0;
	return 2.0 * s * b * (down + lat + core + H * dv) + scores;
}

double pp_cf_gpt_layer_activation_bytes_flash(double s, double b, double h, int t, int sp,
					      pp_recompute r)
{
	/* Korthikanti et al. 2022, Table 2 without the 5*a*s/h term: flash attention (Dao et al.
	 * 2022, sec. 3.1) keeps Q, K, V, the output and the row log-sum-exp, never the s x s scores,
	 * softmax output or dropout mask */
	return pp_cf_gpt_layer_activation_bytes(s, b, h, 0, t, sp, r);
}

double pp_cf_llama_layer_activation_bytes_flash(double s, double b, double h, double a, double kv,
						double f, int t, int sp, pp_recompute r)
{
	/* the Llama accounting above without the 5*a*s^2*b attention-core term (flash) */
	double x = pp_cf_llama_layer_activation_bytes(s, b, h, a, kv, f, t, sp, r);
	if (r == PP_RECOMPUTE_NONE)
		x -= 5.0 * a * s * s * b / t;
	return x;
}

double pp_cf_flash_attention_s(double fwd_flops, int causal_skip, double peak_flops, double fwd_eff,
			       double bwd_eff, double *bwd_s)
{
	/* Dao 2023 (FlashAttention-2), sec. 3.1.1: causal masking skips the blocks above the
	 * diagonal, half the work for long sequences; sec. 4.1: the backward runs 5 matmuls to the
	 * forward's 2 (it recomputes the scores), 2.5x the forward FLOPs */
	double f = causal_skip ? 0.5 * fwd_flops : fwd_flops;
	if (bwd_s)
		*bwd_s = 2.5 * f / (peak_flops * bwd_eff);
	return f / (peak_flops * fwd_eff);
}

/* The longest row Megatron-LM's fused causal softmax takes (fused_softmax.py,
 * FusedScaleMaskSoftmax.is_kernel_available: 16 < sk <= 2048 in the 2021-22 releases); longer
 * sequences fall back to torch.softmax, which reads every score. */
#define FUSED_SOFTMAX_MAX_SEQ 2048

double pp_cf_causal_softmax_skip(double eb)
{
	/* Megatron-LM's fused scaled_upper_triang_masked_softmax (fused_kernels/
	 * scaled_upper_triang_masked_softmax.h, 2020 on; the GPT path whenever the fused softmax
	 * applies): the forward loads only the local_seq = row + 1 unmasked elements of a row and
	 * writes the whole row (zeros above the diagonal); the backward loads the gradient and the
	 * output likewise.  Of a score's (6 eb + 1) forward bytes, eb/2 are not read forward, eb
	 * not backward: this returns the forward fraction saved, eb/2 / (6 eb + 1). */
	return 0.5 * eb / (6.0 * eb + 1.0);
}

/* Tile quantization: the output is covered by whole tiles (NVIDIA Deep Learning Performance
 * Guide, Matrix Multiplication Background, "Tile Quantization"); wave quantization: the tiles
 * run in waves of one tile per SM ("Wave Quantization").  Candidate tiles are cuBLAS's large
 * Tensor Core tiles 256x128 and 128x256, and 128x128; a tile's rate scales with its
 * arithmetic intensity m*n/(m+n) relative to the 256x128 tile's (operand bytes per FLOP
 * from shared memory/L2), so a smaller tile pays where quantization does not. */
/* ceil of a positive double below 2^62 without the libm call (the inner loop runs this) */
static inline double pceil(double x)
{
	double c = (double)(long long)x;
	return c < x ? c + 1 : c;
}

static inline double gemm_quant(double sms, double inv_sms, double m, double n, int tm, int tn)
{
	/* tm, tn are powers of two: the divisions are exact multiplications; tiles / sms is a
	 * ratio of integers below 2^40, so taking 1e-9 off before the ceiling only undoes the
	 * rounding of inv_sms on exact multiples */
	double tiles_m = pceil(m * (1.0 / tm)), tiles_n = pceil(n * (1.0 / tn));
	double tiles = tiles_m * tiles_n, waves = pceil(tiles * inv_sms - 1e-9);
	double tile_eff = (m * n) / (tiles_m * tm * tiles_n * tn);
	double wave_eff = tiles / (waves * sms);
	double ai = (double)tm * tn / (tm + tn), ai_ref = 256.0 * 128.0 / 384.0;
	return tile_eff * wave_eff * (ai < ai_ref ? ai / ai_ref : 1.0);
}

/* The small-GEMM regime is the roofline: op_cost takes max(FLOPs / this rate, bytes / HBM
 * bandwidth), so a GEMM too thin to feed the tensor cores is priced by the bytes it moves. */

double pp_cf_gemm_flops(double max_flops, int sms, double m, double n, double k)
{
	double q = 0, x, S = sms, inv;
	if (sms <= 0 || m < 1 || n < 1 || k < 1)
		return max_flops;
	inv = 1.0 / S;
	x = gemm_quant(S, inv, m, n, 256, 128);
	q = x > q ? x : q;
	x = gemm_quant(S, inv, m, n, 128, 256);
	q = x > q ? x : q;
	if (q < 0.75) { /* the 128x128 tile pays 0.75 for its intensity: it can only win below */
		x = gemm_quant(S, inv, m, n, 128, 128);
		q = x > q ? x : q;
	}
	(void)k; /* k only sets the loop length per tile, not the quantization */
	return max_flops * q;
}

double pp_cf_unfused_ce_bytes(double eb, double *fwd_bytes)
{
	/* Megatron-LM tensor_parallel/cross_entropy.py (VocabParallelCrossEntropy), per logit:
	 * forward: cast to fp32 (r eb, w 4), max (r 4), subtract the max in place (r 4, w 4),
	 * exp in place (r 4, w 4), sum (r 4), divide in place to the kept softmax (r 4, w 4);
	 * backward: scale by the incoming gradient in place (r 4, w 4), cast back (r 4, w eb) */
	if (fwd_bytes)
		*fwd_bytes = eb + 4 + 4 + 8 + 8 + 4 + 8;
	return 8 + 4 + eb;
}

double pp_cf_tp_elements_per_layer(double b, double s, double h, int t)
{
	return 8.0 * b * s * h * (t - 1) / t;
}

double pp_cf_gpt_flops(double B, double s, double l, double h, double V, int full_recompute)
{
	if (full_recompute)
		return 96.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * l * h));
	return 72.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (12.0 * l * h));
}

double pp_cf_pipeline_s(int m, int p, int v, double t_f, double t_b)
{
	return (m + (double)(p - 1) / v) * (t_f + t_b);
}

double pp_cf_bytes_per_param(int d, int distributed_optimizer)
{
	return pp_cf_zero_bytes_per_param(distributed_optimizer ? 1 : 0, d, GRAD_BYTES);
}

double pp_cf_zero_bytes_per_param(int stage, int n, double grad_bytes)
{
	/* Rajbhandari et al. 2020 (ZeRO), sec. 5 and Figure 1, with K = 12 bytes of Adam state
	 * (fp32 master weights, momentum, variance) and 2-byte weights: baseline (2 + g + K),
	 * P_os 2 + g + K/Nd, P_os+g 2 + (g + K)/Nd, P_os+g+p (2 + g + K)/Nd; the paper's g is 2
	 * (fp16 gradients), Megatron-LM keeps fp32 main gradients (g = 4) */
	double k = ADAM_BYTES, w = WEIGHT_BYTES, g = grad_bytes;
	if (n < 1)
		n = 1;
	switch (stage) {
	case 0: return w + g + k;
	case 1: return w + g + k / n;
	case 2: return w + (g + k) / n;
	default: return (w + g + k) / n;
	}
}

double pp_cf_sharded_dp_exposed_s(int n, double ag_f_s, double ag_b_s, double rs_s, double fwd_s,
				  double bwd_s)
{
	/* ZeRO-3 / FSDP (Rajbhandari et al. 2020 sec. 5.3 and 7.2.3; Zhao et al. 2023, PyTorch FSDP,
	 * sec. 3.3.2 "backward/forward prefetching"): the stage's n units (layers) are each
	 * all-gathered before their forward and again before their backward, and their gradients
	 * reduce-scattered after it.  The next unit's all-gather is issued while the current unit
	 * computes, so a unit exposes only what its communication exceeds its compute; the first
	 * all-gather of each pass and the last reduce-scatter have nothing to hide behind.  ZeRO-2
	 * is the same with no all-gathers (gradients reduce-scattered bucket by bucket). */
	double au, bu, ru, fu, wu, x = 0;
	if (n < 1)
		n = 1;
	au = ag_f_s / n, bu = ag_b_s / n, ru = rs_s / n, fu = fwd_s / n, wu = bwd_s / n;
	if (ag_f_s > 0)
		x += au + (n - 1) * MAXD(0, au - fu);
	x += bu + (n - 1) * MAXD(0, bu + ru - wu) + ru;
	return x;
}

double pp_cf_cp_kv_bytes(double b, double s, double kv_dim, int t, int cp, double eb)
{
	/* the K and V a context-parallel rank holds: two tensors of b x s/cp x kv_dim/t elements
	 * (Liu et al. 2023, Ring Attention, sec. 3; Megatron-Core context parallelism) */
	return 2.0 * b * (s / cp) * (kv_dim / t) * eb;
}

double pp_cf_cp_exposed_s(pp_cp_comm type, int cp, double comm_s, double attn_s, double *hidden_s)
{
	/* p2p: cp - 1 ring steps, each step's send of the next K/V block runs beside the attention
	 * of the block in hand (Liu et al. 2023, Ring Attention, sec. 3; with causal load balancing,
	 * every rank holding chunks i and 2cp-1-i, the cp steps carry equal work: Megatron-Core
	 * context_parallel.md); only what a step's send exceeds its share of the attention shows.
	 * all_gather and a2a run before (and after) the attention and are all exposed. */
	double hidden = 0, exposed = comm_s;
	if (type == PP_CP_P2P && cp > 1) {
		double step = comm_s / (cp - 1), work = attn_s / cp;
		exposed = (cp - 1) * MAXD(0, step - work);
		hidden = comm_s - exposed;
	}
	if (hidden_s)
		*hidden_s = hidden;
	return exposed;
}

void pp_cf_cp_hier_s(const pp_hw *hw, int t, int cp, int a2a, double kv, double qo, double attn_f_s,
		     double attn_b_s, double *exp_f, double *hid_f, double *exp_b, double *hid_b)
{
	/* Transformer Engine cp_comm_type "a2a+p2p" (Megatron-LM --hierarchical-context-parallel-
	 * sizes a2a r, a2a * r = cp): Q, K, V all-to-all over the a2a ranks of a group (stride t,
	 * Jacobs et al. 2023 sec. 3.1) and the output back, exposed; then the ring of r - 1 steps over
	 * the r groups (stride t*a2a), each step's K/V block (as many bytes as the rank's own K/V, kv)
	 * beside 1/r of the attention (pp_cf_cp_exposed_s); the backward sends K/V and their
	 * gradients.  A ring that leaves the node runs at network speed (its slowest hop). */
	int r = cp / a2a, nd = hw->node_devices;
	int stride = (long long)t * cp > nd ? nd : t * a2a;
	double a = pp_coll_s(hw, PP_COLL_ALLTOALL, a2a, t, (kv + qo) * a2a);
	double rf = (r - 1) * pp_coll_s(hw, PP_COLL_P2P, 2, stride, kv);
	double rb = (r - 1) * pp_coll_s(hw, PP_COLL_P2P, 2, stride, 2 * kv);
	*exp_f = a + pp_cf_cp_exposed_s(PP_CP_P2P, r, rf, attn_f_s, hid_f);
	*exp_b = a + pp_cf_cp_exposed_s(PP_CP_P2P, r, rb, attn_b_s, hid_b);
}

double pp_cf_cp_allgather_ws_bytes(double kv, int cp)
{
	/* Transformer Engine AttnFuncWithCPAndKVAllGather: the forward gathers K and V of the whole
	 * sequence (cp x the rank's own kv bytes) and saves only the local ones; the backward
	 * gathers them again and accumulates dK, dV over the whole sequence before reduce-scattering
	 * them: cp*kv + cp*kv at once (the transient reordered copy of index_select not counted) */
	return 2.0 * cp * kv;
}

/* ---- context ----------------------------------------------------------------------------- */

/* pp_coll_s on the context's hardware */
#define COLL(c, k, n, stride, bytes) pp_coll_links_s(&(c)->links, (k), (n), (stride), (bytes))

static void opset_release(opset *s)
{
	free(s->ops);
	free(s->edges);
}

void pp_costctx_free(pp_costctx *c)
{
	int i;
	if (!c)
		return;
	for (i = 0; c->cls && i < c->g->n_classes; i++)
		opset_release(&c->cls[i]);
	for (i = 0; c->ext && i < c->n_ext; i++)
		opset_release(&c->ext[i]);
	opset_release(&c->pre);
	opset_release(&c->post);
	free(c->cls);
	free(c->ext);
	free(c->rep);
	free(c->layer_ext);
	free(c->cls_prefix);
	free(c->ext_prefix);
	free(c->layer_in_elems);
	free(c->scored);
	free(c->cls_lin_frac);
	pp_gemm_memo_free(c->gemm_memo);
	free(c);
}

const pp_graph *pp_costctx_graph(const pp_costctx *c)
{
	return c->g;
}

const pp_hw *pp_costctx_hw(const pp_costctx *c)
{
	return c->hw;
}

void pp_costctx_set_stack(pp_costctx *c, const pp_stack *st)
{
	const pp_hw *hw = c->hw;
	int i;
	if (st)
		c->st = *st;
	else
		pp_stack_legacy(&c->st);
	c->gen++;
	c->mamf = 0;
	c->sms = hw->sms;
	c->gemm_rate = hw->n_gemm > 0 ? 0 : pp_hw_gemm_flops(hw, c->g->dtype, 1, 1, 1);
	if (!c->st.legacy && c->st.gemm_efficiency > 0 && hw->n_gemm == 0 && hw->matmul_max_tflops > 0) {
		/* the measured maximum, scaled like the peaks when the graph's dtype differs */
		double pk = hw->peak_tflops[hw->gemm_dtype];
		c->mamf = hw->matmul_max_tflops * 1e12 * c->st.gemm_efficiency *
			  (pk > 0 ? c->peak / (pk * 1e12) : 1.0);
		c->gemm_rate = 0;
	}
	for (i = PP_PREC_FP8; i <= PP_PREC_MXFP8; i++) {
		pp_dtype dt = i == PP_PREC_FP8 ? PP_DTYPE_FP8 : PP_DTYPE_MXFP8;
		double pk = hw->peak_tflops[dt] * 1e12, pk8 = hw->peak_tflops[PP_DTYPE_FP8] * 1e12;
		c->lp_peak[i] = pk;
		c->lp_mamf[i] = c->lp_rate[i] = 0;
		if (pk <= 0)
			continue;
		if (c->mamf > 0)
			/* the measured fp8 maximum where the profile has one (mxfp8 scaled by its peak
			 * over fp8's), else the bf16 maximum scaled by the peak ratio (assumption,
			 * docs/formats.md) */
			c->lp_mamf[i] = c->st.gemm_efficiency *
					(hw->matmul_fp8_max_tflops > 0 && pk8 > 0
						 ? hw->matmul_fp8_max_tflops * 1e12 * pk / pk8
						 : c->mamf / c->st.gemm_efficiency * pk / c->peak);
		else if (c->gemm_rate > 0)
			c->lp_rate[i] = pp_hw_gemm_flops(hw, dt, 1, 1, 1);
	}
}

double pp_costctx_headroom_bytes(const pp_costctx *c)
{
	return c->st.mem_headroom_gib * 1073741824.0;
}

const pp_stack *pp_costctx_stack(const pp_costctx *c)
{
	return &c->st;
}

void pp_costctx_set_mem_limit(pp_costctx *c, double gib)
{
	c->mem_override = gib > 0 ? gib * 1073741824.0 : 0;
}

/* Edges into op @o (all its activation inputs with a producer), producers mapped by @rep. */
static int add_edges(const pp_costctx *c, opset *s, int o, int (*keep)(const pp_costctx *, int, int),
		     int arg)
{
	const pp_op *op = &c->g->ops[o];
	int j;
	for (j = 0; j < op->n_inputs; j++) {
		const pp_tensor *t = &c->g->tensors[op->inputs[j]];
		edge *e;
		if (t->producer < 0 || !keep(c, t->producer, arg))
			continue;
		e = realloc(s->edges, (size_t)(s->n_edges + 1) * sizeof(edge));
		if (!e)
			return -1;
		s->edges = e;
		e[s->n_edges].cons = c->rep[o];
		e[s->n_edges].slot = j;
		e[s->n_edges].prod = c->rep[t->producer];
		e[s->n_edges].elems = (double)t->elems;
		s->n_edges++;
	}
	return 0;
}

static int keep_all(const pp_costctx *c, int prod, int arg)
{
	(void)c;
	(void)prod;
	(void)arg;
	return 1;
}

/* producer inside layer @arg */
static int keep_in_layer(const pp_costctx *c, int prod, int arg)
{
	return c->g->ops[prod].layer == arg;
}

/* producer outside layer @arg */
static int keep_outside_layer(const pp_costctx *c, int prod, int arg)
{
	return c->g->ops[prod].layer != arg;
}

static int same_edges(const opset *a, const opset *b)
{
	int i;
	if (a->n_edges != b->n_edges)
		return 0;
	for (i = 0; i < a->n_edges; i++)
		if (a->edges[i].cons != b->edges[i].cons || a->edges[i].slot != b->edges[i].slot ||
		    a->edges[i].prod != b->edges[i].prod || a->edges[i].elems != b->edges[i].elems)
			return 0;
	return 1;
}

int pp_costctx_new(pp_costctx **out, const pp_graph *g, const pp_hw *hw, pp_error *err)
{
	pp_costctx *c = calloc(1, sizeof(*c));
	int L = g->n_layers, i, l, k;

	*out = NULL;
	if (!c)
		goto oom;
	c->g = g;
	c->hw = hw;
	pp_links_of(hw, &c->links);
	c->peak = hw->peak_tflops[g->dtype] * 1e12;
	if (c->peak <= 0)
		c->peak = hw->peak_tflops[PP_DTYPE_BF16] > 0 ? hw->peak_tflops[PP_DTYPE_BF16] * 1e12
							    : hw->peak_tflops[PP_DTYPE_FP16] * 1e12;
	if (c->peak <= 0) {
		free(c);
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "hardware profile %s gives no peak for %s",
				    hw->name, pp_dtype_name(g->dtype));
	}
	/* element-wise FLOPs run on the vector units: the fp32 (non-tensor-core) peak */
	c->vec_peak = hw->peak_tflops[PP_DTYPE_FP32] > 0 ? hw->peak_tflops[PP_DTYPE_FP32] * 1e12 : c->peak;
	c->mem_bw = hw->memory_bw_gbs * 1e9;
	if (hw->n_gemm > 0 && pp_gemm_memo_new(&c->gemm_memo, hw) < 0)
		goto oom;
	pp_costctx_set_stack(c, NULL); /* the legacy model; sets gemm_rate */
	for (i = 0; i < PP_OP_TYPE_COUNT; i++)
		for (k = 0; k < PP_CFG_COUNT; k++)
			if (pp_cfg_allowed((pp_op_type)i, (pp_cfg)k))
				c->allowed[i] |= 1u << k;
	c->eb = pp_dtype_bytes(g->dtype);
	c->capacity = pp_hw_usable_bytes(hw);

	c->rep = malloc((size_t)g->n_ops * sizeof(int));
	c->cls = calloc((size_t)g->n_classes, sizeof(opset));
	c->ext = calloc((size_t)L + 1, sizeof(opset));
	c->layer_ext = calloc((size_t)L + 1, sizeof(int));
	c->cls_prefix = calloc((size_t)g->n_classes * (L + 1), sizeof(int));
	c->ext_prefix = calloc((size_t)(L + 1) * (L + 1), sizeof(int));
	c->layer_in_elems = calloc((size_t)g->n_classes, sizeof(double));
	if (!c->rep || !c->cls || !c->ext || !c->layer_ext || !c->cls_prefix || !c->ext_prefix ||
	    !c->layer_in_elems)
		goto oom;
	for (i = 0; i < g->n_ops; i++)
		c->rep[i] = i;
	for (l = 0; l < L; l++) {
		const pp_layer_class *lc = &g->classes[g->layer_class[l]];
		int r0 = g->layer_start[lc->first_layer];
		for (k = g->layer_start[l]; k < g->layer_start[l + 1]; k++)
			c->rep[g->layer_ops[k]] = g->layer_ops[r0 + (k - g->layer_start[l])];
	}
	/* classes: representative ops and edges inside the layer */
	for (k = 0; k < g->n_classes; k++) {
		int first = g->classes[k].first_layer, n = g->layer_start[first + 1] - g->layer_start[first];
		opset *s = &c->cls[k];
		s->ops = malloc((size_t)n * sizeof(int));
		if (!s->ops)
			goto oom;
		for (i = 0; i < n; i++) {
			int o = g->layer_ops[g->layer_start[first] + i];
			s->ops[s->n_ops++] = o;
			if (add_edges(c, s, o, keep_in_layer, first) < 0)
				goto oom;
		}
	}
	/* edges into each layer from outside it, deduplicated into sets */
	for (l = 0; l < L; l++) {
		opset tmp = {0, NULL, 0, NULL};
		int e;
		for (k = g->layer_start[l]; k < g->layer_start[l + 1]; k++)
			if (add_edges(c, &tmp, g->layer_ops[k], keep_outside_layer, l) < 0) {
				opset_release(&tmp);
				goto oom;
			}
		for (e = 0; e < c->n_ext && !same_edges(&c->ext[e], &tmp); e++)
			;
		if (e == c->n_ext)
			c->ext[c->n_ext++] = tmp;
		else
			opset_release(&tmp);
		c->layer_ext[l] = e;
		/* the layer's input: the first outside tensor it reads */
		if (c->layer_in_elems[g->layer_class[l]] == 0 && c->ext[e].n_edges)
			c->layer_in_elems[g->layer_class[l]] = c->ext[e].edges[0].elems;
	}
	for (l = 0; l < L; l++) {
		for (k = 0; k < g->n_classes; k++)
			c->cls_prefix[k * (L + 1) + l + 1] = c->cls_prefix[k * (L + 1) + l] + (g->layer_class[l] == k);
		for (k = 0; k < c->n_ext; k++)
			c->ext_prefix[k * (L + 1) + l + 1] = c->ext_prefix[k * (L + 1) + l] + (c->layer_ext[l] == k);
	}
	c->pre.ops = malloc((size_t)g->n_pre * sizeof(int) + 1);
	c->post.ops = malloc((size_t)g->n_post * sizeof(int) + 1);
	if (!c->pre.ops || !c->post.ops)
		goto oom;
	for (i = 0; i < g->n_pre; i++) {
		c->pre.ops[c->pre.n_ops++] = g->pre_ops[i];
		if (add_edges(c, &c->pre, g->pre_ops[i], keep_all, 0) < 0)
			goto oom;
	}
	for (i = 0; i < g->n_post; i++) {
		c->post.ops[c->post.n_ops++] = g->post_ops[i];
		if (add_edges(c, &c->post, g->post_ops[i], keep_all, 0) < 0)
			goto oom;
	}
	c->scored = malloc((size_t)g->n_ops * sizeof(int));
	if (!c->scored)
		goto oom;
	for (i = 0; i < g->n_ops; i++)
		if (c->rep[i] == i)
			c->scored[c->n_scored++] = i;
	/* the parameters fp8 weight copies and fp8 parameter gathers apply to */
	c->cls_lin_frac = calloc((size_t)g->n_classes, sizeof(double));
	if (!c->cls_lin_frac)
		goto oom;
	{
		double lin = 0, all = 0;
		for (k = 0; k < g->n_classes; k++) {
			double cl = 0, ca = 0;
			for (i = 0; i < c->cls[k].n_ops; i++) {
				const pp_op *op = &g->ops[c->cls[k].ops[i]];
				ca += (double)op->params;
				if (op->type == PP_OP_MATMUL)
					cl += (double)op->params;
			}
			c->cls_lin_frac[k] = ca > 0 ? cl / ca : 0;
		}
		for (i = 0; i < g->n_ops; i++) {
			all += (double)g->ops[i].params;
			if (g->ops[i].type == PP_OP_MATMUL && g->ops[i].layer >= 0)
				lin += (double)g->ops[i].params;
		}
		c->lin_frac = all > 0 ? lin / all : 0;
	}
	for (i = 0; i < g->n_ops; i++) {
		c->gemm_flops_sample += g->ops[i].gemm_flops;
		if (g->ops[i].layer >= 0)
			c->layer_gemm_flops_sample += g->ops[i].gemm_flops;
		if (is_attention(g->ops[i].type))
			c->attn_gemm_flops_sample += g->ops[i].gemm_flops;
		if (g->ops[i].type == PP_OP_MATMUL && g->ops[i].layer >= 0)
			c->lin_flops_sample += g->ops[i].gemm_flops;
		if (g->ops[i].type == PP_OP_EXPERTS && g->ops[i].layer >= 0)
			c->exp_flops_sample += g->ops[i].gemm_flops;
	}
	*out = c;
	return 0;
oom:
	pp_costctx_free(c);
	return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
}

/* ---- layouts ------------------------------------------------------------------------------ */

/* Layout an op's config needs on its activation input (slot 0, and both operands of add). */
static pp_layout in_layout(pp_cfg cfg)
{
	switch (cfg) {
	case PP_CFG_SAMPLE: return PP_LAYOUT_SB;
	case PP_CFG_SEQUENCE: return PP_LAYOUT_SS;
	case PP_CFG_HIDDEN:
	case PP_CFG_ROW: return PP_LAYOUT_SH;
	default: return PP_LAYOUT_R; /* REPLICATE, COLUMN */
	}
}

static pp_layout out_layout(pp_op_type type, pp_cfg cfg)
{
	if (type == PP_OP_EXPERTS && cfg == PP_CFG_COLUMN)
		return PP_LAYOUT_P; /* expert tensor parallelism: W2 row-parallel, partial sums */
	switch (cfg) {
	case PP_CFG_SAMPLE: return PP_LAYOUT_SB;
	case PP_CFG_SEQUENCE: return PP_LAYOUT_SS;
	case PP_CFG_HIDDEN:
	case PP_CFG_COLUMN: return PP_LAYOUT_SH;
	case PP_CFG_ROW: return PP_LAYOUT_P; /* row-parallel matmul, vocab-parallel embedding */
	default: (void)type; return PP_LAYOUT_R;
	}
}

/* Layout in which op @cfg hands back the gradient of its input: a column-parallel matmul (or
 * anything computing from a replicated input with split weights) returns partial sums. */
static pp_layout grad_layout(pp_cfg cfg)
{
	return cfg == PP_CFG_COLUMN ? PP_LAYOUT_P : in_layout(cfg);
}

static int is_split(pp_layout l)
{
	return l == PP_LAYOUT_SB || l == PP_LAYOUT_SS || l == PP_LAYOUT_SH;
}

/* The collective turning layout @from into @to on the t axis (DESIGN.md section 5 table). */
static inline double reshard_s(const pp_costctx *c, int t, pp_layout from, pp_layout to, double bytes,
			double *moved)
{
	pp_coll k;
	if (t <= 1 || from == to || (from == PP_LAYOUT_R && to != PP_LAYOUT_P))
		return 0;
	if (from == PP_LAYOUT_P)
		k = to == PP_LAYOUT_R ? PP_COLL_ALLREDUCE : PP_COLL_REDUCESCATTER;
	else if (to == PP_LAYOUT_R)
		k = PP_COLL_ALLGATHER;
	else if (to == PP_LAYOUT_P)
		return 0; /* a split or replicated gradient is a valid partial sum */
	else
		k = PP_COLL_ALLTOALL;
	/* volume per device, for the closed-form check: ring all-reduce 2(n-1)/n S, others (n-1)/n S */
	if (moved)
		*moved += (k == PP_COLL_ALLREDUCE ? 2.0 : 1.0) * (t - 1) / t * bytes /
			  (k == PP_COLL_ALLTOALL ? t : 1);
	return COLL(c, k, t, 1, bytes);
}

/* ---- ops ---------------------------------------------------------------------------------- */

typedef struct opcost {
	double f_s;          /* forward compute */
	double b_s;          /* backward compute: input gradient (all of it for ops without weights) */
	double w_s;          /* backward compute: weight gradient (matmuls) */
	double comm_f_s;     /* collectives inside the op (vocab-parallel loss) */
	double gemm_s;       /* matrix-product part of f_s */
	double saved;        /* activation bytes kept for backward, per micro-batch */
	double core_saved;   /* of which attention core */
	double params;       /* parameter elements held on the device */
	int grad_group_td;   /* gradients partial over t as well as d (split data, whole weights) */
	int expert;          /* routed experts: params sharded over ep * etp, reduced over expert-dp */
	double a2a_s;        /* of comm_f_s, expert-parallel all-to-all (dispatch, combine) */
} opcost;

static int split_factor(pp_cfg cfg, int t)
{
	return cfg == PP_CFG_REPLICATE ? 1 : t;
}

/* Samples' worth of tokens one device computes per micro-batch: context parallelism splits each
 * sequence over cp ranks, and with causal load balancing (each rank holds chunks i and 2cp-1-i,
 * Megatron-Core context_parallel.md) every rank gets 1/cp of every op's work, attention's
 * included, and keeps 1/cp of its activations. */
static inline double cp_batch(const pp_global *gl)
{
	return gl->cp > 1 ? (double)gl->micro_batch / gl->cp : (double)gl->micro_batch;
}

/* FLOP/s of one [m, k] x [k, n] GEMM: the shape-aware model, the profile's flat rate or table */
static double gemm_rate_at(const pp_costctx *c, double m, double n, double k)
{
	if (c->mamf > 0)
		return pp_cf_gemm_flops(c->mamf, c->sms, m, n, k);
	if (c->gemm_rate > 0)
		return c->gemm_rate;
	return pp_gemm_memo_flops(c->gemm_memo, c->g->dtype, m, n, k);
}

/* one GEMM's time: its FLOPs at the shape's rate, or its bytes at HBM bandwidth */
static double gemm_s_at(const pp_costctx *c, double m, double n, double k)
{
	double fl = 2.0 * m * n * k, by = c->eb * (m * k + m * n + n * k);
	return MAXD(fl / gemm_rate_at(c, m, n, k), by / c->mem_bw);
}

static double lp_gemm_s_at(const pp_costctx *c, const pp_global *gl, double m, double n, double k);

/*
 * Routed experts as a grouped GEMM (Megatron-Core's TEGroupedMLP / CUTLASS grouped GEMM: one
 * launch, one GEMM per local expert at its own token count).  The device's routed rows,
 * tokens x k, spread evenly over the E experts: each expert runs W1 [h, 2f] and W2 [f, h] on
 * m_e = rows / E rows, so the shape model prices each small GEMM at m_e (a fine-grained MoE's
 * experts see few tokens: DeepSeek-V3 with 4096 tokens and k/E = 8/256 gives m_e = 128).
 * Backward: input gradients at (m_e, h, 2f) and (m_e, f, h), weight gradients at (h, 2f, m_e)
 * and (f, h, m_e).  SwiGLU between them is memory-bound (5/3 backward traffic).  COLUMN (expert
 * tensor parallelism over t) splits f; SAMPLE / SEQUENCE split the rows.
 */
static void moe_experts_cost(const pp_costctx *c, const pp_global *gl, const pp_op *op, pp_cfg cfg,
			     int lp, opcost *r)
{
	int t = gl->t;
	double E = (double)op->experts, h = (double)op->gemm_k, ff = (double)op->expert_ffn;
	double rows = (double)op->gemm_m * cp_batch(gl), m, sw;
	if (cfg == PP_CFG_SAMPLE || cfg == PP_CFG_SEQUENCE)
		rows /= t;
	if (cfg == PP_CFG_COLUMN) {
		ff /= t;
		r->params /= t;
	}
	/* expert parallelism: E/ep experts here, fed by the ep ranks' tokens, the same number of
	 * routed rows as balanced; the busiest rank gets moe_imbalance percent of that share,
	 * bounded (or padded) by the capacity factor (pp_cf_moe_expert_rows).  moe_imbalance's
	 * default, 100, is an assumption: the measurements published (Wang et al. 2024,
	 * arXiv:2408.15664, "Auxiliary-Loss-Free Load Balancing", MaxVio = max expert load / mean
	 * - 1; DeepSeek-V3 report sec. 4.5.2 and Fig. 9, relative expert load per domain) are per
	 * expert over a validation set, not the per-step maximum over the EP ranks this factor is;
	 * none gives that quantity (docs/accuracy.md) */
	E /= gl->ep;
	r->params /= gl->ep;
	r->expert = 1;
	rows *= pp_cf_moe_expert_rows(gl->moe_imbalance / 100.0, gl->moe_capacity / 100.0,
				      gl->moe_pad_capacity);
	m = rows / E;
	if (lp) {
		/* 8-bit grouped GEMM (Transformer Engine GroupedLinear under fp8_autocast, as
		 * Megatron-Core's TEGroupedMLP runs it; DeepSeek-V3 report sec. 3.3.1: the expert
		 * GEMMs in FP8): each GEMM at the 8-bit rate of its shape, then the casts of X and
		 * the SwiGLU output before the forward GEMMs, of dY and d(SwiGLU) before the
		 * backward ones (pp_cf_fp8_cast_bytes) */
		int mx = gl->precision == PP_PREC_MXFP8;
		r->gemm_s = E * (lp_gemm_s_at(c, gl, m, 2.0 * ff, h) + lp_gemm_s_at(c, gl, m, h, ff)) +
			    pp_cf_fp8_cast_bytes(rows * (h + ff), c->eb, mx) / c->mem_bw;
		r->b_s = E * (lp_gemm_s_at(c, gl, m, h, 2.0 * ff) + lp_gemm_s_at(c, gl, m, ff, h)) +
			 pp_cf_fp8_cast_bytes(rows * (h + 2.0 * ff), c->eb, mx) / c->mem_bw;
		r->w_s = E * (lp_gemm_s_at(c, gl, h, 2.0 * ff, m) + lp_gemm_s_at(c, gl, ff, h, m));
	} else {
		r->gemm_s = E * (gemm_s_at(c, m, 2.0 * ff, h) + gemm_s_at(c, m, h, ff));
		r->b_s = E * (gemm_s_at(c, m, h, 2.0 * ff) + gemm_s_at(c, m, ff, h));
		r->w_s = E * (gemm_s_at(c, h, 2.0 * ff, m) + gemm_s_at(c, ff, h, m));
	}
	/* SwiGLU: 6 FLOPs per output element; reads 2f, writes f per row */
	sw = MAXD(6.0 * rows * ff / c->vec_peak, 3.0 * c->eb * rows * ff / c->mem_bw);
	r->f_s = r->gemm_s + sw;
	r->b_s += sw * bwd_traffic_ratio(PP_OP_SWIGLU);
}

/*
 * pp_cf_moe_expert_rows: routed rows on the busiest expert-parallel rank, as a multiple of the
 * balanced share.  Dropless (capacity 0) the load imbalance @imbalance; with a capacity factor
 * C each expert takes at most ceil(tokens * k / E * C) rows (Megatron-LM d98e8a64dd,
 * megatron/core/transformer/moe/moe_utils.py get_capacity; Fedus et al. 2022, "Switch
 * Transformers", sec. 2.2, eq. 3: expert capacity = tokens per batch / experts x capacity
 * factor), the rest dropped, so min(imbalance, C); padded to capacity
 * (--moe-pad-expert-input-to-capacity) every expert runs exactly C.
 */
double pp_cf_moe_expert_rows(double imbalance, double capacity, int pad)
{
	if (capacity <= 0)
		return imbalance;
	if (pad)
		return capacity;
	return imbalance < capacity ? imbalance : capacity;
}

/* pp_cf_moe_a2a_rows: the dispatched (and combined) rows a rank sends, as a multiple of its
 * tokens x k: padded to capacity C the all-to-all carries C of them (the padding travels);
 * dropping at C < 1 sends at most C; otherwise all of them. */
double pp_cf_moe_a2a_rows(double capacity, int pad)
{
	if (capacity <= 0)
		return 1;
	if (pad || capacity < 1)
		return capacity;
	return 1;
}

/*
 * pp_cf_ep_a2a_hidden_s: the expert all-to-all hidden when a forward (time @f, of which @fx
 * all-to-all) runs paired with another micro-batch's backward (@b, of which @bx): each one's
 * dispatch and combine run while the other computes, so the pair takes
 * max(f - fx + b - bx, fx + bx) instead of f + b (DeepSeek-V3 report, arXiv:2412.19437, sec.
 * 3.2.1 and Fig. 4: DualPipe's paired chunks; Megatron-Core combined 1F1B,
 * --overlap-moe-expert-parallel-comm, Megatron-LM d98e8a64dd).  Exposed all-to-all =
 * max(0, fx + bx - (f - fx + b - bx)); returns the hidden part, fx + bx minus that.
 */
double pp_cf_ep_a2a_hidden_s(double f, double b, double fx, double bx)
{
	double comp = f - fx + b - bx, a2a = fx + bx;
	if (comp < 0)
		comp = 0;
	return a2a < comp ? a2a : comp;
}

/*
 * Expert-parallel all-to-all of @bytes per device (the k routed copies of its tokens, h wide),
 * dispatch or combine, over ep ranks at stride etp (Megatron-Core's rank order tp-ep-dp: each
 * stage's t*cp*d ranks folded into etp x ep x expert-dp).  Inside one node: a (ep-1)/ep share
 * of the bytes over NVLink.  Across nodes it is hierarchical, as DeepSeek-V3's kernels run it
 * (report arXiv:2412.19437 sec. 3.2.2): a token crosses the network once per destination node
 * and NVLink forwards it to the experts there, the two links working at once, so the time is
 * the larger of the network's and NVLink's shares.  Each routed copy leaves the node with
 * probability (n-1)/n over n nodes; with node-limited routing (@max_nodes M, sec. 2.1.2) a token
 * reaches at most min(M, k, n) nodes, so the network carries bytes/k * min(M, k, n) * (n-1)/n;
 * without the limit every copy travels on its own: bytes * (n-1)/n.
 */
static double moe_a2a_s(const pp_hw *hw, int ep, int etp, double k, int max_nodes, double bytes)
{
	int nd = hw->node_devices, span = ep * etp, n;
	double bi = hw->intra.bw_gbs * 1e9 * hw->intra.efficiency, ai = hw->intra.latency_us * 1e-6;
	double bn = hw->network.bw_gbs * 1e9 * hw->network.efficiency, an = hw->network.latency_us * 1e-6;
	double net, nodes;
	if (ep <= 1)
		return 0;
	if (span <= nd)
		return ai + bytes * (ep - 1) / ep / bi;
	n = span / nd;
	nodes = k;
	if (max_nodes > 0 && max_nodes < nodes)
		nodes = max_nodes;
	if (nodes > n)
		nodes = n;
	net = (max_nodes > 0 ? bytes / k * nodes : bytes) * (n - 1) / n;
	return an + MAXD(net / bn, bytes / bi);
}

/*
 * Precision (pp_precision): Transformer Engine runs the layers' linear GEMMs in fp8 or mxfp8
 * under fp8_autocast; attention's batched GEMMs, norms, element-wise ops and the LM head (the
 * output layer sits outside the layers) stay in the model's dtype (Megatron-LM
 * core/transformer: only TE linear modules take the fp8 recipe; Micikevicius et al. 2022,
 * "FP8 Formats for Deep Learning", sec. 4: first and last layers in higher precision).
 */
static inline int lp_op(const pp_costctx *c, const pp_global *gl, const pp_op *op)
{
	return gl->precision != PP_PREC_BF16 && (unsigned)gl->precision <= PP_PREC_MXFP8 &&
	       op->type == PP_OP_MATMUL && op->layer >= 0 && c->lp_peak[gl->precision] > 0;
}

/* Bytes per element of an 8-bit tensor: 1, plus mxfp8's one e8m0 scale per 32 elements (OCP
 * Microscaling Formats (MX) v1.0 spec, sec. 5.3: block size 32, 8-bit shared scale). */
static inline double lp_bytes(const pp_global *gl)
{
	return gl->precision == PP_PREC_MXFP8 ? 1.0 + 1.0 / 32.0 : 1.0;
}

/* FLOP/s of an 8-bit GEMM: the same three models as bf16 (shape-aware MAMF, flat rate, table),
 * at the 8-bit rates pp_costctx_set_stack derived. */
static inline double lp_rate(const pp_costctx *c, const pp_global *gl, double m, double n, double k)
{
	int pr = gl->precision;
	if (c->lp_mamf[pr] > 0)
		return pp_cf_gemm_flops(c->lp_mamf[pr], c->sms, m, n, k);
	if (c->lp_rate[pr] > 0)
		return c->lp_rate[pr];
	return pp_gemm_memo_flops(c->gemm_memo, pr == PP_PREC_FP8 ? PP_DTYPE_FP8 : PP_DTYPE_MXFP8,
				  m, n, k);
}

/* one 8-bit GEMM's time: 8-bit operands, output in the model's dtype */
static double lp_gemm_s_at(const pp_costctx *c, const pp_global *gl, double m, double n, double k)
{
	double fl = 2.0 * m * n * k, by = lp_bytes(gl) * (m * k + n * k) + c->eb * m * n;
	return MAXD(fl / lp_rate(c, gl, m, n, k), by / c->mem_bw);
}

/* the routed experts' grouped GEMM in 8 bits: as the layers' linear GEMMs (lp_op) */
static inline int lp_experts(const pp_costctx *c, const pp_global *gl, const pp_op *op)
{
	return gl->precision != PP_PREC_BF16 && (unsigned)gl->precision <= PP_PREC_MXFP8 &&
	       op->type == PP_OP_EXPERTS && op->layer >= 0 && c->lp_peak[gl->precision] > 0 &&
	       !c->st.legacy;
}

double pp_cf_fp8_weight_extra_bytes(int mx, int param_gather)
{
	if (param_gather)
		return 0; /* fp8 weight (1) + column-wise copy (1) = bf16's 2 */
	return 2.0 * (mx ? 1.0 + 1.0 / 32.0 : 1.0);
}

double pp_cf_fp8_cast_bytes(double elems, double eb, int mx)
{
	/* Transformer Engine's fused cast-transpose (transformer_engine/common/transpose/
	 * cast_transpose.cu): one read of the high-precision tensor, two 8-bit writes (the
	 * row-wise copy for this GEMM, the column-wise / transposed copy for the weight-gradient
	 * GEMM), the amax taken in the same pass (delayed scaling: the scale comes from the amax
	 * history, no extra pass) */
	return elems * (eb + 2.0 * (mx ? 1.0 + 1.0 / 32.0 : 1.0));
}

/* Score op @o under @cfg for micro-batch b on one device.  Returns -1 when the config is not
 * allowed or does not fit. */
static inline int op_cost(const pp_costctx *c, const pp_global *gl, int o, pp_cfg cfg, opcost *r)
{
	const pp_op *op = &c->g->ops[o];
	const pp_hw *hw = c->hw;
	int t = gl->t, f = split_factor(cfg, t);
	double b = cp_batch(gl), bytes, flops;

	if ((unsigned)cfg >= PP_CFG_COUNT || !(c->allowed[op->type] >> cfg & 1u))
		return -1;
	if (cfg == PP_CFG_SAMPLE && t > 1 && gl->micro_batch % t)
		return -1;
	if (cfg == PP_CFG_HIDDEN && op->type == PP_OP_ATTENTION && (c->g->heads % t || c->g->kv_heads % t))
		return -1;
	if (cfg == PP_CFG_HIDDEN && op->type == PP_OP_MLA && c->g->heads % t)
		return -1;
	if (cfg == PP_CFG_COLUMN && op->type == PP_OP_EXPERTS && op->expert_ffn % t)
		return -1;
	/* expert tensor parallelism is the COLUMN config: etp = t exactly when the experts take it */
	if (op->type == PP_OP_EXPERTS && t > 1 && (cfg == PP_CFG_COLUMN) != (gl->etp > 1))
		return -1;
	memset(r, 0, sizeof(*r));
	r->params = (double)op->params;
	switch (op->type) {
	case PP_OP_MATMUL: {
		double m = (double)op->gemm_m * b, n = (double)op->gemm_n, k = (double)op->gemm_k;
		double in = m * k, out = m * n, w = n * k;
		switch (cfg) {
		case PP_CFG_COLUMN: n /= t; out /= t; w /= t; break;
		case PP_CFG_ROW: k /= t; in /= t; w /= t; break;
		case PP_CFG_SAMPLE:
		case PP_CFG_SEQUENCE: m /= t; in /= t; out /= t; break;
		default: break;
		}
		flops = 2.0 * m * n * k;
		bytes = c->eb * (in + out + w);
		if (lp_op(c, gl, op)) {
			/* 8-bit operands, output in the model's dtype; then the casts: X before the
			 * forward GEMM, dY before the backward ones (pp_cf_fp8_cast_bytes) */
			int mx = gl->precision == PP_PREC_MXFP8;
			double rf = lp_rate(c, gl, m, n, k), rb = rf, rw = rf;
			bytes = lp_bytes(gl) * (in + w) + c->eb * out;
			if (!c->st.legacy) {
				rb = lp_rate(c, gl, m, k, n);
				rw = lp_rate(c, gl, k, n, m);
			}
			r->f_s = MAXD(flops / rf, bytes / c->mem_bw) +
				 pp_cf_fp8_cast_bytes(in, c->eb, mx) / c->mem_bw;
			r->b_s = MAXD(flops / rb, bytes / c->mem_bw) +
				 pp_cf_fp8_cast_bytes(out, c->eb, mx) / c->mem_bw;
			r->w_s = MAXD(flops / rw, bytes / c->mem_bw);
			if (!c->st.legacy && op->n_inputs == 3 && !c->st.fused_bias_act)
				r->f_s += 2.0 * c->eb * out / c->mem_bw;
		} else if (c->st.legacy) {
			r->gemm_s = flops / (c->gemm_rate > 0 ? c->gemm_rate : pp_gemm_memo_flops(c->gemm_memo, c->g->dtype, m, n, k));
			r->f_s = MAXD(r->gemm_s, bytes / c->mem_bw);
			r->b_s = r->w_s = r->f_s;
		} else {
			/* forward Y[m,n] = X[m,k] W[k,n]; input gradient dX[m,k] = dY W^T; weight
			 * gradient dW[k,n] = X^T dY: the same FLOPs at three shapes, each at its own
			 * shape-aware rate (pp_cf_gemm_flops) or the profile's table */
			double rf, rb, rw;
			if (c->mamf > 0) {
				rf = pp_cf_gemm_flops(c->mamf, c->sms, m, n, k);
				rb = pp_cf_gemm_flops(c->mamf, c->sms, m, k, n);
				rw = pp_cf_gemm_flops(c->mamf, c->sms, k, n, m);
			} else if (c->gemm_rate > 0) {
				rf = rb = rw = c->gemm_rate;
			} else {
				rf = pp_gemm_memo_flops(c->gemm_memo, c->g->dtype, m, n, k);
				rb = pp_gemm_memo_flops(c->gemm_memo, c->g->dtype, m, k, n);
				rw = pp_gemm_memo_flops(c->gemm_memo, c->g->dtype, k, n, m);
			}
			r->f_s = MAXD(flops / rf, bytes / c->mem_bw);
			r->b_s = MAXD(flops / rb, bytes / c->mem_bw);
			r->w_s = MAXD(flops / rw, bytes / c->mem_bw);
			/* a bias the stack does not fuse into the activation is one more pass over Y */
			if (op->n_inputs == 3 && !c->st.fused_bias_act)
				r->f_s += 2.0 * c->eb * out / c->mem_bw;
		}
		r->gemm_s = r->f_s;
		if (cfg == PP_CFG_COLUMN || cfg == PP_CFG_ROW)
			r->params /= t;
		break;
	}
	case PP_OP_EXPERTS:
		moe_experts_cost(c, gl, op, cfg, lp_experts(c, gl, op), r);
		break;
	case PP_OP_MLA:
	case PP_OP_ATTENTION: {
		/* QK^T and AV: batched GEMMs of (s x s x head_dim) per head; the score traffic of
		 * scale/mask/softmax/dropout runs as separate memory-bound kernels (MLA: the QK head
		 * dim, dn + dr, in gemm_k) */
		double s = (double)c->g->seq;
		double hd = (double)(op->type == PP_OP_MLA ? op->gemm_k : c->g->head_dim);
		double gemm = op->gemm_flops * b / f;
		if (c->st.attention == PP_ATTN_FLASH) {
			double bw;
			r->f_s = pp_cf_flash_attention_s(gemm, c->st.causal_skip, c->peak,
							 c->st.flash_fwd_eff, c->st.flash_bwd_eff, &bw);
			r->f_s = MAXD(r->f_s, op->act_bytes * b / f / c->mem_bw);
			r->b_s = MAXD(bw, 2.0 * op->act_bytes * b / f / c->mem_bw);
			r->gemm_s = r->f_s;
			break;
		}
		if (c->mamf > 0)
			r->gemm_s = gemm / pp_cf_gemm_flops(c->mamf, c->sms, s, s, hd);
		else
			r->gemm_s = gemm / (c->gemm_rate > 0 ? c->gemm_rate : pp_gemm_memo_flops(c->gemm_memo, c->g->dtype, s, s, hd));
		r->gemm_s = MAXD(r->gemm_s, op->act_bytes * b / f / c->mem_bw);
		{
			/* the score traffic, (6 eb + 1) bytes a score forward (graph_json.c); a causal
			 * fused softmax reads only the unmasked lower triangle: half of its eb-byte
			 * input forward, half of its two eb-byte inputs backward (pp_cf_causal_softmax_
			 * skip) */
			double sk = c->st.causal_skip && !c->st.legacy && c->g->seq <= FUSED_SOFTMAX_MAX_SEQ
					    ? pp_cf_causal_softmax_skip(c->eb)
					    : 0;
			r->f_s = r->gemm_s + op->score_bytes * (1.0 - sk) * b / f / c->mem_bw +
				 (op->flops - op->gemm_flops) * b / f / c->vec_peak;
			if (!c->st.legacy) /* 2x the GEMMs, the score traffic once more (bwd_traffic_ratio) */
				r->b_s = 2.0 * r->gemm_s + op->score_bytes * (1.0 - 2.0 * sk) * b / f / c->mem_bw +
					 2.0 * (op->flops - op->gemm_flops) * b / f / c->vec_peak;
		}
		break;
	}
	default:
		bytes = (op->act_bytes * b + op->param_bytes) / f;
		r->f_s = MAXD((op->flops - op->gemm_flops) * b / f / c->vec_peak, bytes / c->mem_bw);
		if (!c->st.legacy) {
			double fb = bytes;
			/* fused bias-dropout-add (Megatron-LM fused_bias_dropout.py): the dropout's
			 * output never reaches HBM, the kernel writes only the 1-byte mask; the add
			 * reads the branch and the residual and writes the sum as before */
			if (op->type == PP_OP_DROPOUT && c->st.fused_bias_dropout_add && op->layer >= 0)
				fb = (op->act_bytes * b - 2.0 * c->eb * (op->act_bytes * b) / (2.0 * c->eb + 1.0)) / f;
			r->f_s = MAXD((op->flops - op->gemm_flops) * b / f / c->vec_peak, fb / c->mem_bw);
			r->b_s = MAXD(2.0 * (op->flops - op->gemm_flops) * b / f / c->vec_peak,
				      bwd_traffic_ratio(op->type) * bytes / c->mem_bw);
			if (op->type == PP_OP_LOSS && !c->st.fused_cross_entropy) {
				/* pp_cf_unfused_ce_bytes: Megatron-LM's vocab-parallel cross-entropy
				 * as separate PyTorch ops on the fp32 logits */
				double logits = op->saved_bytes / 4.0 * b / f;
				double fwdb, bwdb = pp_cf_unfused_ce_bytes(c->eb, &fwdb);
				r->f_s = MAXD(r->f_s, fwdb * logits / c->mem_bw);
				r->b_s = MAXD(r->b_s, bwdb * logits / c->mem_bw);
			}
		}
		if (op->type == PP_OP_ROUTER) {
			/* the gate GEMM [tokens, h] x [h, E] and its two backward GEMMs */
			double m = (double)op->gemm_m * b / f, n = (double)op->gemm_n, k = (double)op->gemm_k;
			r->gemm_s = 2.0 * m * n * k / gemm_rate_at(c, m, n, k);
			r->f_s += r->gemm_s;
			r->b_s += 2.0 * m * n * k / gemm_rate_at(c, m, k, n);
			r->w_s += 2.0 * m * n * k / gemm_rate_at(c, k, n, m);
		}
		if ((op->type == PP_OP_DISPATCH || op->type == PP_OP_COMBINE) && gl->ep > 1) {
			/* the routed copies of this rank's tokens: 1/t of them per rank when t > 1
			 * (split by sequence, or, under expert tensor parallelism, gathered over etp
			 * after the exchange: the edges' resharding) */
			double rows = (double)(op->type == PP_OP_DISPATCH ? c->g->tensors[op->outputs[0]].elems
									   : c->g->tensors[op->inputs[0]].elems);
			double by = rows * b * c->eb / t *
				    pp_cf_moe_a2a_rows(gl->moe_capacity / 100.0, gl->moe_pad_capacity);
			r->a2a_s = moe_a2a_s(hw, gl->ep, gl->etp, (double)op->topk, gl->moe_max_nodes, by);
			r->comm_f_s += r->a2a_s;
		}
		if (op->type == PP_OP_EMBEDDING && cfg == PP_CFG_ROW)
			r->params /= t;
		if (op->type == PP_OP_LOSS && cfg == PP_CFG_HIDDEN && t > 1) {
			/* vocab-parallel cross-entropy: all-reduces of the max, the sum of exponentials
			 * and the target logit, b*s fp32 each (Megatron-LM cross_entropy.py) */
			double n = b * (double)c->g->seq * 4.0;
			r->comm_f_s = 3.0 * COLL(c, PP_COLL_ALLREDUCE, t, 1, n);
		}
		break;
	}
	if (c->st.legacy && op->type != PP_OP_MATMUL)
		r->b_s = 2.0 * r->f_s; /* the pre-stack model: backward twice the forward */
	/* what an op keeps is its input, split when the input's layout is (a column-parallel matmul
	 * keeps its whole replicated input; Korthikanti et al. 2022, Table 2's "10" term) */
	f = is_split(in_layout(cfg)) ? t : 1;
	r->saved = op->saved_bytes * b / f;
	if (lp_op(c, gl, op))
		r->saved *= lp_bytes(gl) / c->eb; /* TE keeps the fp8 (transposed) input for dW */
	r->core_saved = op->core_saved_bytes * b / f;
	if (op->type == PP_OP_EXPERTS && cfg == PP_CFG_COLUMN && t > 1) {
		/* expert tensor parallelism keeps the whole routed input but 1/t of the SwiGLU
		 * intermediates (3f of the h + 3f per routed row, graph_json.c moe_rules) */
		double rows = (double)op->gemm_m * b, h = (double)op->gemm_k, ff = (double)op->expert_ffn;
		r->saved = c->eb * rows * (h + 3.0 * ff / t);
	}
	if (op->type == PP_OP_EXPERTS) {
		/* the busiest rank keeps its rows (pp_cf_moe_expert_rows); in 8 bits the two GEMM
		 * inputs (h and f of the h + 3f a row keeps) are the fp8 copies TE saves for dW */
		double h = (double)op->gemm_k, ff = (double)op->expert_ffn / (cfg == PP_CFG_COLUMN ? t : 1);
		r->saved *= pp_cf_moe_expert_rows(gl->moe_imbalance / 100.0, gl->moe_capacity / 100.0,
						  gl->moe_pad_capacity);
		if (lp_experts(c, gl, op))
			r->saved *= (lp_bytes(gl) * (h + ff) + c->eb * 2.0 * ff) / (c->eb * (h + 3.0 * ff));
	}
	if (is_attention(op->type) && c->st.attention == PP_ATTN_FLASH) {
		/* no scores stored (pp_cf_gpt_layer_activation_bytes_flash) */
		r->saved -= r->core_saved;
		r->core_saved = 0;
	}
	/* data split over t with whole weights: the t copies' gradients differ and must be summed */
	r->grad_group_td = t > 1 && op->params > 0 && cfg != PP_CFG_REPLICATE && cfg != PP_CFG_COLUMN &&
			   cfg != PP_CFG_ROW && !r->expert;
	return 0;
}

/* Forward and backward resharding on edge @e under configs @cfg (rep-indexed). */
static inline void edge_cost(const pp_costctx *c, const pp_global *gl, const edge *e, pp_cfg pc, pp_cfg cc,
		      double *fwd, double *bwd, double *moved)
{
	const pp_graph *g = c->g;
	double bytes = e->elems * cp_batch(gl) * c->eb;
	pp_layout lp = out_layout(g->ops[e->prod].type, pc), lc = in_layout(cc);
	pp_layout need = lp == PP_LAYOUT_P ? PP_LAYOUT_R : lp;
	*fwd = reshard_s(c, gl->t, lp, lc, bytes, moved);
	*bwd = reshard_s(c, gl->t, grad_layout(cc), need, bytes, moved);
}

/* Totals of a set of ops (a layer class, or the pre / post ops) under @cfg. */
typedef struct settot {
	double f_s, b_s, tp_f_s, tp_b_s, gemm_s, attn_f_s;
	double w_s;             /* of b_s, the weight gradients */
	double tp_async_s;      /* of tp_b_s, what runs beside column-parallel weight gradients
				 * (pp_cf_tp_async_dgrad_hidden_s; taken off where the stack has it
				 * and no --tp-comm-overlap supersedes it) */
	double mm_f_s, mm_b_s;  /* matmul forward, backward (input + weight grads): what TP hides behind */
	double at_f_s, at_b_s;  /* attention forward, backward: what the CP ring hides behind */
	int n_attn;             /* attention ops in the set */
	double saved, core_saved, params, params_td, tp_moved;
	double params_e;        /* routed experts' parameters (expert-dp reduced) */
	double a2a_s;           /* expert-parallel all-to-all, forward + backward */
	double a2a_rc_s;        /* the same under full recomputation (the layers' forward again):
				 * both kept so that the totals do not read the recompute setting */
	double a2a_f_s;         /* of which one forward pass (the backward moves as much) */
	pp_layout out;          /* layout of the set's last op's output */
	int last_split;
} settot;

static int set_cost(const pp_costctx *c, const pp_global *gl, const uint8_t *cfg, const opset *s,
		    settot *r)
{
	/* accumulate in locals: the compiler cannot keep r's fields in registers across calls */
	double f_s = 0, b_s = 0, w_s = 0, mm_f = 0, mm_b = 0, at_f = 0, at_b = 0;
	int n_attn = 0;
	double tp_f = 0, tp_b = 0, gemm = 0, attn = 0, saved = 0, core = 0;
	double params = 0, params_td = 0, moved = 0, async = 0, params_e = 0, a2a = 0, a2a_f = 0;
	double a2a_rc = 0;
	int i, t = gl->t;

	for (i = 0; i < s->n_ops; i++) {
		int o = s->ops[i];
		opcost oc;
		if (op_cost(c, gl, o, (pp_cfg)cfg[o], &oc) < 0)
			return -1;
		f_s += oc.f_s;
		b_s += oc.b_s + oc.w_s;
		w_s += oc.w_s;
		if (c->g->ops[o].type == PP_OP_MATMUL) {
			mm_f += oc.f_s;
			mm_b += oc.b_s + oc.w_s;
		}
		tp_f += oc.comm_f_s;
		tp_b += oc.comm_f_s;
		gemm += 3.0 * oc.gemm_s;
		if (is_attention(c->g->ops[o].type)) {
			at_f += oc.f_s;
			at_b += oc.b_s + oc.w_s;
			n_attn++;
		}
		if (is_attention(c->g->ops[o].type) && c->st.attention != PP_ATTN_FLASH)
			attn += oc.f_s; /* flash recomputes the scores in its backward already */
		saved += oc.saved;
		core += oc.core_saved;
		if (oc.grad_group_td)
			params_td += oc.params;
		else if (oc.expert)
			params_e += oc.params;
		else
			params += oc.params;
		/* forward and backward, and the forward again under full recomputation */
		a2a += 2.0 * oc.a2a_s;
		a2a_rc += (c->g->ops[o].layer >= 0 ? 3.0 : 2.0) * oc.a2a_s;
		a2a_f += oc.a2a_s;
	}
	for (i = 0; i < s->n_edges && t > 1; i++) {
		const edge *e = &s->edges[i];
		const pp_op *cons = &c->g->ops[e->cons];
		pp_cfg pc = (pp_cfg)cfg[e->prod], cc = (pp_cfg)cfg[e->cons];
		double f, b;
		edge_cost(c, gl, e, pc, cc, &f, &b, &moved);
		tp_f += f;
		tp_b += b;
		if (c->st.tp_async_dgrad && b > 0 && cons->type == PP_OP_MATMUL &&
		    grad_layout(cc) == PP_LAYOUT_P) {
			opcost oc;
			if (op_cost(c, gl, e->cons, cc, &oc) == 0)
				async += pp_cf_tp_async_dgrad_hidden_s(b, oc.w_s);
		}
		/* with sequence parallelism a matmul fed by an all-gather keeps the sequence shard and
		 * gathers it again in backward (Korthikanti et al. 2022, sec. 4.2.2) */
		if (cons->type == PP_OP_MATMUL && e->slot == 0 &&
		    is_split(out_layout(c->g->ops[e->prod].type, pc)) && !is_split(in_layout(cc)))
			saved -= cons->saved_bytes * cp_batch(gl) * (1.0 - 1.0 / t) *
				 (lp_op(c, gl, cons) ? lp_bytes(gl) / c->eb : 1.0);
	}
	r->f_s = f_s;
	r->b_s = b_s;
	r->w_s = w_s;
	r->mm_f_s = mm_f;
	r->mm_b_s = mm_b;
	r->at_f_s = at_f;
	r->at_b_s = at_b;
	r->n_attn = n_attn;
	r->tp_f_s = tp_f;
	r->tp_b_s = tp_b;
	r->tp_async_s = async;
	r->gemm_s = gemm;
	r->attn_f_s = attn;
	r->saved = saved;
	r->core_saved = core;
	r->params = params;
	r->params_td = params_td;
	r->params_e = params_e;
	r->a2a_s = a2a;
	r->a2a_rc_s = a2a_rc;
	r->a2a_f_s = a2a_f;
	r->tp_moved = moved;
	r->out = PP_LAYOUT_R;
	if (s->n_ops) {
		int last = s->ops[s->n_ops - 1];
		r->out = out_layout(c->g->ops[last].type, (pp_cfg)cfg[last]);
	}
	return 0;
}

/* ---- the memo's view (cost_int.h, cost_memo.c) ------------------------------------------ */

static const opset *set_of(const pp_costctx *c, int set)
{
	int nc = c->g->n_classes;
	if (set < nc)
		return &c->cls[set];
	if (set == nc)
		return &c->pre;
	if (set == nc + 1)
		return &c->post;
	return &c->ext[set - nc - 2];
}

int pp_cost__n_sets(const pp_costctx *c)
{
	return c->g->n_classes + 2 + c->n_ext;
}

int pp_cost__set_max_ops(const pp_costctx *c, int set)
{
	const opset *s = set_of(c, set);
	return s->n_ops + 2 * s->n_edges;
}

static int add_op_once(int *ops, int n, int o)
{
	int i;
	for (i = 0; i < n; i++)
		if (ops[i] == o)
			return n;
	ops[n] = o;
	return n + 1;
}

unsigned pp_cost__set_types(const pp_costctx *c, int set)
{
	const opset *s = set_of(c, set);
	unsigned m = 0;
	int i;
	for (i = 0; i < s->n_ops; i++)
		m |= PP_OPMASK(c->g->ops[s->ops[i]].type);
	for (i = 0; i < s->n_edges; i++)
		m |= PP_OPMASK(c->g->ops[s->edges[i].prod].type) | PP_OPMASK(c->g->ops[s->edges[i].cons].type);
	return m;
}

int pp_cost__set_ops(const pp_costctx *c, int set, int *ops)
{
	const opset *s = set_of(c, set);
	int i, n = 0;
	for (i = 0; i < s->n_ops; i++)
		n = add_op_once(ops, n, s->ops[i]);
	for (i = 0; i < s->n_edges; i++) {
		n = add_op_once(ops, n, s->edges[i].prod);
		n = add_op_once(ops, n, s->edges[i].cons);
	}
	return n;
}

size_t pp_cost__set_size(void)
{
	return sizeof(settot) + sizeof(int);
}

size_t pp_cost__all_size(const pp_costctx *c)
{
	return (size_t)pp_cost__n_sets(c) * sizeof(settot) + sizeof(int);
}

unsigned pp_cost__generation(const pp_costctx *c)
{
	return c->gen;
}

/* set_cost through memo @m (NULL: none); the memo stores set_cost's return code with the totals */
static int set_cost_m(const pp_costctx *c, pp_cost_memo *m, const pp_global *gl, const uint8_t *cfg,
		      int set, settot *r)
{
	int hit, rc;
	unsigned char *slot;
	if (!m)
		return set_cost(c, gl, cfg, set_of(c, set), r);
	slot = pp_cost__memo_lookup(m, set, cfg, &hit);
	if (hit) {
		memcpy(r, slot, sizeof(*r));
		memcpy(&rc, slot + sizeof(*r), sizeof(rc));
		return rc;
	}
	rc = set_cost(c, gl, cfg, set_of(c, set), r);
	memcpy(slot, r, sizeof(*r));
	memcpy(slot + sizeof(*r), &rc, sizeof(rc));
	pp_cost__memo_store(m, set);
	return rc;
}

/* ---- per-op pieces (ILP) ------------------------------------------------------------------ */

double pp_cost_op_s(const pp_costctx *c, const pp_global *gl, int op, pp_cfg cfg)
{
	opcost oc;
	double t;
	if (op < 0 || op >= c->g->n_ops || op_cost(c, gl, op, cfg, &oc) < 0)
		return -1;
	t = oc.f_s + oc.b_s + oc.w_s + 2 * oc.comm_f_s;
	if (c->g->ops[op].layer >= 0 && (gl->recompute == PP_RECOMPUTE_FULL ||
					 (gl->recompute == PP_RECOMPUTE_SELECTIVE &&
					  is_attention(c->g->ops[op].type) &&
					  c->st.attention != PP_ATTN_FLASH)))
		t += oc.f_s + oc.comm_f_s;
	return t;
}

double pp_cost_edge_s(const pp_costctx *c, const pp_global *gl, int prod, pp_cfg pc, int cons,
		      int slot, pp_cfg cc)
{
	const pp_graph *g = c->g;
	edge e;
	double f, b;
	if (prod < 0 || prod >= g->n_ops || cons < 0 || cons >= g->n_ops || slot < 0 ||
	    slot >= g->ops[cons].n_inputs || !pp_cfg_allowed(g->ops[prod].type, pc) ||
	    !pp_cfg_allowed(g->ops[cons].type, cc))
		return -1;
	e.prod = prod;
	e.cons = cons;
	e.slot = slot;
	e.elems = (double)g->tensors[g->ops[cons].inputs[slot]].elems;
	edge_cost(c, gl, &e, pc, cc, &f, &b, NULL);
	if (g->ops[cons].layer >= 0 && gl->recompute == PP_RECOMPUTE_FULL)
		f *= 2;
	return f + b;
}

double pp_cost_op_bytes(const pp_costctx *c, const pp_global *gl, int op, pp_cfg cfg)
{
	opcost oc;
	int zs = pp_global_zero_stage(gl);
	double per_param = pp_cf_zero_bytes_per_param(zs, pp_global_shard_ranks(gl),
						       zs >= 2 ? c->st.grad_reduce_bytes : GRAD_BYTES),
	       act;
	if (op < 0 || op >= c->g->n_ops || op_cost(c, gl, op, cfg, &oc) < 0)
		return -1;
	act = oc.saved;
	if (c->g->ops[op].layer >= 0) {
		if (gl->recompute == PP_RECOMPUTE_SELECTIVE)
			act -= oc.core_saved;
		else if (gl->recompute == PP_RECOMPUTE_FULL)
			act = 0; /* the layer keeps only its input, counted once per layer */
	}
	if (lp_op(c, gl, &c->g->ops[op])) /* the cached fp8 weight copies */
		act += oc.params * pp_cf_fp8_weight_extra_bytes(gl->precision == PP_PREC_MXFP8,
								gl->fp8_param_gather) / (zs == 3 ? pp_global_shard_ranks(gl) : 1);
	return oc.params * per_param + act;
}

/* Data-parallel gradient traffic per iteration; *ag_s gets the parameter all-gather part (the
 * distributed optimizer's), the return value includes it. */
/*
 * A data-parallel collective over the group of n ranks at @stride (the d*cp data-parallel ranks
 * at stride t: Megatron-LM parallel_state builds the gradient group over data and context
 * parallelism, rank order t < cp < d < p; torchtitan's dp_shard_cp mesh).  HSDP (@nr > 1
 * replica groups): the all-gather and reduce-scatter run inside the shard group of n/nr ranks,
 * and the replica groups all-reduce each rank's 1/(n/nr) shard of the reduced gradients (PyTorch
 * fully_shard on a 2-D mesh, HSDP; Zhao et al. 2023, PyTorch FSDP, sec. 3.2.2).
 */
static double dp_coll_s(const pp_costctx *c, pp_coll k, int n, int stride, int nr, double bytes)
{
	int ns;
	double s;
	if (nr <= 1 || n % nr)
		return COLL(c, k, n, stride, bytes);
	ns = n / nr;
	s = COLL(c, k, ns, stride, bytes);
	if (k == PP_COLL_REDUCESCATTER)
		s += COLL(c, PP_COLL_ALLREDUCE, nr, stride * ns, bytes / ns);
	return s;
}

/* Replica groups of HSDP (1 without it). */
static int hsdp_replicas(const pp_global *gl)
{
	return gl->hsdp_shard > 0 && pp_global_zero_stage(gl) > 0 ? gl->d / gl->hsdp_shard : 1;
}

static double grad_sync_split_s(const pp_costctx *c, const pp_global *gl, double params_d,
				double params_td, double *ag_s)
{
	double s = 0, ag = 0, gb = c->st.grad_reduce_bytes, wb = WEIGHT_BYTES;
	int t = gl->t, d = gl->d * gl->cp, nr = hsdp_replicas(gl);
	/* --fp8-param-gather: the linear weights travel as 1-byte fp8 (mxfp8 with its scales) */
	if (gl->fp8_param_gather && gl->precision != PP_PREC_BF16)
		wb = WEIGHT_BYTES * (1.0 - c->lin_frac) + lp_bytes(gl) * c->lin_frac;
	if (pp_global_zero_stage(gl) > 0) {
		/* reduce-scatter fp32 gradients, all-gather the updated bf16 weights (summed in this
		 * order so that the legacy model's numbers stay bit-identical) */
		double ag_d = dp_coll_s(c, PP_COLL_ALLGATHER, d, t, nr, params_d * wb);
		double ag_td = dp_coll_s(c, PP_COLL_ALLGATHER, t * d, 1, nr, params_td * wb);
		s += dp_coll_s(c, PP_COLL_REDUCESCATTER, d, t, nr, params_d * gb) + ag_d;
		s += dp_coll_s(c, PP_COLL_REDUCESCATTER, t * d, 1, nr, params_td * gb) + ag_td;
		ag = ag_d + ag_td;
	} else {
		s += COLL(c, PP_COLL_ALLREDUCE, d, t, params_d * gb);
		s += COLL(c, PP_COLL_ALLREDUCE, t * d, 1, params_td * gb);
	}
	if (ag_s)
		*ag_s = ag;
	return s;
}

/* expert-data-parallel ranks: each stage's t*cp*d ranks folded into etp x ep x expert-dp */
static int moe_expert_dp(const pp_global *gl)
{
	long long n = (long long)gl->t * gl->cp * gl->d / ((long long)gl->ep * gl->etp);
	return n > 0 ? (int)n : 1;
}

/* Routed experts' gradient reduction over expert-dp (ranks ep*etp apart): reduce-scatter and
 * all-gather with a sharded optimizer, else all-reduce.  *ag_s: the all-gather part. */
static double moe_expert_sync_s(const pp_costctx *c, const pp_global *gl, double params_e, double *ag_s)
{
	int n = moe_expert_dp(gl), stride = gl->ep * gl->etp;
	double gb = c->st.grad_reduce_bytes;
	*ag_s = 0;
	if (params_e <= 0 || n <= 1)
		return 0;
	if (pp_global_zero_stage(gl) > 0) {
		*ag_s = COLL(c, PP_COLL_ALLGATHER, n, stride, params_e * WEIGHT_BYTES);
		return COLL(c, PP_COLL_REDUCESCATTER, n, stride, params_e * gb) + *ag_s;
	}
	return COLL(c, PP_COLL_ALLREDUCE, n, stride, params_e * gb);
}

static double grad_sync_s(const pp_costctx *c, const pp_global *gl, double params_d, double params_td)
{
	return grad_sync_split_s(c, gl, params_d, params_td, NULL);
}

/* pp_cf_tp_async_dgrad_hidden_s: Megatron-LM's column-parallel linear
 * (tensor_parallel/layers.py, LinearWithGradAccumulationAndAsyncCommunication.backward, 2022 on;
 * Korthikanti et al. 2022, sec. 6.2) launches the collective on its input gradient (all-reduce,
 * or reduce-scatter with sequence parallelism) asynchronously, computes its weight gradient, then
 * waits: the collective hides behind that one weight-gradient GEMM, no further. */
double pp_cf_tp_async_dgrad_hidden_s(double comm_s, double wgrad_s)
{
	return comm_s < wgrad_s ? comm_s : wgrad_s;
}

/* pp_cf_tp_overlap_exposed_s: tensor-parallel collectives split into t chunks and pipelined
 * with the GEMM chunks they feed or drain (Wang et al. 2022, "Overlap communication with
 * dependent computation via decomposition"; Transformer Engine userbuffers, --tp-comm-overlap):
 * one chunk stays exposed, the rest hides behind up to @gemm_s of GEMMs, and while hidden the
 * communication kernels hold @sm_fraction of the SMs, slowing those GEMMs by that share of the
 * hidden time.  What does not fit behind the GEMMs stays exposed.  *hidden_s: the hidden part. */
double pp_cf_tp_overlap_exposed_s(double comm_s, int t, double gemm_s, double sm_fraction,
				  double *hidden_s)
{
	double chunked = t > 1 ? comm_s * (t - 1) / t : 0;
	double hidden = chunked < gemm_s ? chunked : gemm_s;
	if (hidden_s)
		*hidden_s = hidden;
	return comm_s - hidden + sm_fraction * hidden;
}

double pp_cost_op_grad_sync_s(const pp_costctx *c, const pp_global *gl, int op, pp_cfg cfg)
{
	opcost oc;
	if (op < 0 || op >= c->g->n_ops || op_cost(c, gl, op, cfg, &oc) < 0)
		return -1;
	return oc.grad_group_td ? grad_sync_s(c, gl, 0, oc.params) : grad_sync_s(c, gl, oc.params, 0);
}

/* ---- the whole plan ----------------------------------------------------------------------- */

#define MAX_CLASSES 64
#define MAX_EXT 64
#define MAX_STAGES 1024

/* Micro-batches in flight on stage @s (activations held at the peak of the schedule). */
static double in_flight(const pp_global *gl, int s, int m)
{
	double n;
	if (gl->p == 1)
		return 1;
	if (gl->schedule == PP_SCHED_GPIPE)
		return m;
	/* 1F1B: stage s holds p - s micro-batches (Narayanan et al. 2021, sec. 2.2); interleaving
	 * adds (1 + (p-1)/(p*v)) on the first stage (Korthikanti et al. 2022, sec. 4.2.3) */
	n = gl->p - s < m ? gl->p - s : m;
	if (gl->schedule == PP_SCHED_INTERLEAVED)
		n *= 1.0 + (double)(gl->p - 1) / ((double)gl->p * gl->virtual_stages);
	else if (gl->schedule != PP_SCHED_1F1B)
		n = pp_sched_in_flight(gl->schedule, gl->p, m);
	return n;
}

int pp_cost_check_precision(const pp_costctx *c, const pp_global *gl, pp_error *err)
{
	static const char *const names[] = {"bf16", "fp8", "mxfp8"};
	if ((unsigned)gl->precision > PP_PREC_MXFP8)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "unknown precision %d", (int)gl->precision);
	if (gl->precision != PP_PREC_BF16 && !(c->lp_peak[gl->precision] > 0))
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "precision %s: hardware profile %s (%s) gives no "
				    "device.peak_tflops.%s: the device has no %s tensor cores",
				    names[gl->precision], c->hw->name, c->hw->device_name,
				    names[gl->precision], names[gl->precision]);
	return 0;
}

/*
 * The totals of every set of @gl under @cfg (NULL: Megatron's configs) into @cls, @pre, @post and
 * @ext, through @memo (NULL: none): under Megatron's configs one lookup of the whole plan's sets.
 * Returns 0, PP_EINVALID when a config does not suit its op, or PP_ENOMEM.
 */
static int plan_sets(const pp_costctx *c, pp_cost_memo *memo, const pp_global *gl, const uint8_t *cfg,
		     settot *cls, settot *pre, settot *post, settot *ext)
{
	const pp_graph *g = c->g;
	uint8_t stack_cfg[8192], *mcfg = NULL;
	unsigned char *all = NULL; /* the memo's entry of this plan under Megatron's configs */
	int all_hit = 0, rc = 0, k;
	size_t z = sizeof(settot);
	if (memo)
		pp_cost__memo_begin(memo, gl);
	if (memo && !cfg) {
		/* Megatron's configs follow from the settings: the whole plan's sets at once */
		all = pp_cost__memo_lookup(memo, pp_cost__n_sets(c), NULL, &all_hit);
		if (all_hit) {
			memcpy(cls, all, z * (size_t)g->n_classes);
			memcpy(pre, all + z * (size_t)g->n_classes, z);
			memcpy(post, all + z * (size_t)(g->n_classes + 1), z);
			memcpy(ext, all + z * (size_t)(g->n_classes + 2), z * (size_t)c->n_ext);
			memcpy(&rc, all + z * (size_t)pp_cost__n_sets(c), sizeof(rc));
			return rc < 0 ? PP_EINVALID : 0;
		}
	}
	if (!cfg) {
		/* Megatron's configs, only for the ops the evaluation reads */
		uint8_t *w = stack_cfg;
		if (g->n_ops > (int)sizeof(stack_cfg) && !(w = mcfg = malloc((size_t)g->n_ops)))
			return PP_ENOMEM;
		for (k = 0; k < c->n_scored; k++)
			w[c->scored[k]] = (uint8_t)pp_strategy_megatron_op(g, gl, c->scored[k]);
		cfg = w;
	}
	for (k = 0; k < g->n_classes; k++)
		if (set_cost_m(c, memo, gl, cfg, k, &cls[k]) < 0)
			goto invalid;
	if (set_cost_m(c, memo, gl, cfg, g->n_classes, pre) < 0 ||
	    set_cost_m(c, memo, gl, cfg, g->n_classes + 1, post) < 0)
		goto invalid;
	for (k = 0; k < c->n_ext; k++)
		set_cost_m(c, memo, gl, cfg, g->n_classes + 2 + k, &ext[k]);
	if (all) {
		memcpy(all, cls, z * (size_t)g->n_classes);
		memcpy(all + z * (size_t)g->n_classes, pre, z);
		memcpy(all + z * (size_t)(g->n_classes + 1), post, z);
		memcpy(all + z * (size_t)(g->n_classes + 2), ext, z * (size_t)c->n_ext);
		memcpy(all + z * (size_t)pp_cost__n_sets(c), &rc, sizeof(rc));
		pp_cost__memo_store(memo, pp_cost__n_sets(c));
	}
	free(mcfg);
	return 0;
invalid:
	free(mcfg);
	return PP_EINVALID;
}

int pp_cost_eval(const pp_costctx *c, const pp_global *gl, const uint8_t *cfg, pp_cost *out)
{
	return pp_cost_eval_memo(c, NULL, gl, cfg, out);
}

int pp_cost_eval_memo(const pp_costctx *c, pp_cost_memo *memo, const pp_global *gl,
		      const uint8_t *cfg_in, pp_cost *out)
{
	const pp_graph *g = c->g;
	const pp_hw *hw = c->hw;
	const uint8_t *cfg = cfg_in;
	settot cls[MAX_CLASSES], ext[MAX_EXT], pre, post;
	double ext_f[MAX_EXT], ext_b[MAX_EXT];
	int stage_layers[MAX_STAGES];
	int p = gl->p, t = gl->t, d = gl->d, L = g->n_layers, m = pp_global_microbatches(gl);
	int k, s, first = 0, rc = 0, v = gl->virtual_stages, td, cp = gl->cp > 1 ? gl->cp : 1;
	int zs = pp_global_zero_stage(gl), nshard = pp_global_shard_ranks(gl), max_units = 1;
	/* model chunks a rank sends across per micro-batch (schedule.c: 2 on a V) */
	int xv = pp_sched_chunks_per_rank(gl->schedule, v) / (gl->schedule == PP_SCHED_DUALPIPE ? 2 : 1);
	/* the V placements (ZB-V, DualPipeV) end the model on rank 0 (Qi et al. 2024, sec. 6) */
	int last_rank = gl->schedule == PP_SCHED_ZB_V || gl->schedule == PP_SCHED_DUALPIPEV ? 0 : p - 1;
	double Zsum = 0, Zmax = 0, Z;
	double gbs = zs >= 2 ? c->st.grad_reduce_bytes : GRAD_BYTES;
	double cp_exp[MAX_CLASSES], cp_hid[MAX_CLASSES], cp_moved = 0;
	double b = cp_batch(gl), per_param, p2p = 0, boundary_bytes;
	double Tmax = -1, Tsum = 0, Tmax_comp = 0, Tmax_tp = 0, Tmax_pp = 0, Tmax_b = 0, Tmax_f = 0;
	double Tmax_w = 0, Tmax_tph = 0, tp_hidden[MAX_CLASSES], pp_exposed = 0, pp_hidden = 0;
	double sync_ag_max = 0, sync_ag = 0, headroom = c->st.mem_headroom_gib * 1073741824.0;
	int tp_overlap = gl->tp_comm_overlap && c->st.tp_comm_overlap && gl->sequence_parallel && t > 1;
	double sync_max = 0, opt_params_max = 0, peak = -1, capacity;
	double last_params = -1, last_params_td = -1, sync = 0;
	int cnt[MAX_CLASSES + MAX_EXT];
	double Tmax_cp = 0, Tmax_cph = 0;
	double T_prev = 0, Z_prev = 0, flight_prev = 0; /* of the last stage scored in full */
	struct {
		double F, B, tpF, tpB, act, params, params_td, W, tpH, cpX, cpH, unit, params_e, a2a;
		double lin;             /* linear-GEMM parameters (their fp8 copies) */
	} mid = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	double per_param_e = 0, Tmax_a2a = 0;
	int lp = gl->precision != PP_PREC_BF16 && (unsigned)gl->precision <= PP_PREC_MXFP8;
	double fp8_extra = lp ? pp_cf_fp8_weight_extra_bytes(gl->precision == PP_PREC_MXFP8,
							       gl->fp8_param_gather) : 0;
	double lin_max = 0;
	double ws_full = 0; /* one layer's full activations, rebuilt by full recomputation */
	double ws_cp = 0;   /* all_gather context parallelism's gathered K/V and their gradients */

	memset(out, 0, sizeof(*out));
	out->stack = c->st.legacy ? NULL : c->st.name;
	if (g->n_classes > MAX_CLASSES || c->n_ext > MAX_EXT || p > MAX_STAGES || m < 1 || t < 1 ||
	    v < 1 || pp_mul_int(t, d, &td) < 0 || pp_mul_int(td, cp, &td) < 0) /* t*cp*d groups below */
		return PP_EINVALID;
	if (pp_cost_check_precision(c, gl, NULL) < 0)
		return PP_EINVALID;
	if ((rc = plan_sets(c, memo, gl, cfg, cls, &pre, &post, ext)) < 0)
		goto done;
	if (gl->recompute == PP_RECOMPUTE_FULL) {
		for (k = 0; k < g->n_classes; k++)
			cls[k].a2a_s = cls[k].a2a_rc_s;
		pre.a2a_s = pre.a2a_rc_s;
		post.a2a_s = post.a2a_rc_s;
	}
	for (k = 0; k < c->n_ext; k++) {
		ext_f[k] = ext[k].tp_f_s;
		ext_b[k] = ext[k].tp_b_s;
	}
	/* tensor-parallel overlap: each class's collectives hide behind its own matmuls, forward
	 * behind forward and backward behind backward (pp_cf_tp_overlap_exposed_s) */
	for (k = 0; k < g->n_classes; k++) {
		double hf = 0, hb = 0;
		tp_hidden[k] = 0;
		if (!tp_overlap) {
			/* asynchronous dgrad collectives; while hidden, NCCL's kernels hold
			 * @tp_overlap_sm_fraction of the SMs, slowing the weight GEMMs */
			double h = cls[k].tp_async_s;
			cls[k].tp_b_s -= h * (1.0 - c->st.tp_overlap_sm_fraction);
			tp_hidden[k] = h;
			continue;
		}
		/* the expert all-to-all is no tensor-parallel collective: it stays exposed */
		cls[k].tp_f_s = pp_cf_tp_overlap_exposed_s(cls[k].tp_f_s - cls[k].a2a_f_s, t, cls[k].mm_f_s,
							   c->st.tp_overlap_sm_fraction, &hf) + cls[k].a2a_f_s;
		cls[k].tp_b_s = pp_cf_tp_overlap_exposed_s(cls[k].tp_b_s - cls[k].a2a_f_s, t, cls[k].mm_b_s,
							   c->st.tp_overlap_sm_fraction, &hb) + cls[k].a2a_f_s;
		tp_hidden[k] = hf + hb;
		if (gl->recompute == PP_RECOMPUTE_FULL)
			tp_hidden[k] += hf;
	}
	/* context parallelism: each attention op exchanges the K/V of its sequence chunk over the
	 * cp group (cp ranks at stride t: rank order t < cp < d < p as Megatron-LM and torchtitan
	 * build their meshes), forward and backward (pp_cf_cp_exposed_s) */
	for (k = 0; k < g->n_classes; k++) {
		double kv, cf = 0, cb = 0, hf = 0, hb = 0, kvd, nd = hw->node_devices;
		cp_exp[k] = cp_hid[k] = 0;
		if (cp <= 1 || !cls[k].n_attn)
			continue;
		kvd = (double)g->hidden * (g->kv_heads ? g->kv_heads : g->heads) / g->heads;
		kv = cls[k].n_attn * pp_cf_cp_kv_bytes(gl->micro_batch, (double)g->seq, kvd, t, cp, c->eb);
		switch (gl->cp_comm_type) {
		case PP_CP_P2P: {
			/* a ring: a step is as slow as its slowest hop, the network once the ring
			 * leaves the node; backward sends K/V and their gradients */
			int stride = (long long)t * cp > nd ? (int)nd : t;
			cf = (cp - 1) * COLL(c, PP_COLL_P2P, 2, stride, kv);
			cb = (cp - 1) * COLL(c, PP_COLL_P2P, 2, stride, 2 * kv);
			if (k == 0)
				cp_moved = (cp - 1) * 3.0 * kv;
			break;
		}
		case PP_CP_ALLGATHER:
			/* all-gather K/V before attention; backward gathers them again and
			 * reduce-scatters their gradients */
			cf = COLL(c, PP_COLL_ALLGATHER, cp, t, kv * cp);
			cb = cf + COLL(c, PP_COLL_REDUCESCATTER, cp, t, kv * cp);
			if (k == 0)
				cp_moved = 3.0 * (cp - 1) * kv;
			break;
		case PP_CP_A2A_P2P: {
			/* hierarchical (Transformer Engine AttnFuncWithCPAndKVP2P with a two-level
			 * cp group; Megatron-LM --hierarchical-context-parallel-sizes A R): Ulysses
			 * all-to-alls inside each group of A ranks (stride t) turn the A sequence
			 * chunks into one of s/R tokens on heads/A heads, then a ring over the R
			 * groups (stride t*A) passes K/V blocks of the same bytes as a rank's own
			 * (s/R tokens x kv/A): (pp_cf_cp_hier_s) */
			double qo = 2.0 * cls[k].n_attn * gl->micro_batch * ((double)g->seq / cp) *
				    ((double)g->hidden / t) * c->eb;
			double ef, eb2;
			pp_cf_cp_hier_s(hw, t, cp, gl->cp_a2a, kv, qo, cls[k].at_f_s, cls[k].at_b_s, &ef, &hf,
					&eb2, &hb);
			if (k == 0)
				cp_moved = (cp / gl->cp_a2a - 1) * 3.0 * kv +
					   2.0 * (gl->cp_a2a - 1) / gl->cp_a2a * (kv + qo);
			cf = ef;
			cb = eb2;
			break;
		}
		default: {
			/* Ulysses: all-to-all Q, K, V to a head split before attention and the output
			 * back after it, the same in backward (Jacobs et al. 2023, sec. 3.1) */
			double qo = 2.0 * cls[k].n_attn * gl->micro_batch * ((double)g->seq / cp) *
				    ((double)g->hidden / t) * c->eb;
			cf = COLL(c, PP_COLL_ALLTOALL, cp, t, (kv + qo) * cp);
			cb = cf;
			if (k == 0)
				cp_moved = 2.0 * (cp - 1) / cp * (kv + qo);
			break;
		}
		}
		if (gl->cp_comm_type != PP_CP_A2A_P2P) { /* (a2a+p2p: exposed and hidden above) */
			cf = pp_cf_cp_exposed_s(gl->cp_comm_type, cp, cf, cls[k].at_f_s, &hf);
			cb = pp_cf_cp_exposed_s(gl->cp_comm_type, cp, cb, cls[k].at_b_s, &hb);
		}
		/* all_gather: the rank holds the whole sequence's K/V while attention runs, and in
		 * backward also their gradients before the reduce-scatter (pp_cf_cp_allgather_ws_bytes);
		 * one attention op at a time, so once per stage like a recomputed layer */
		if (gl->cp_comm_type == PP_CP_ALLGATHER) {
			double ws = pp_cf_cp_allgather_ws_bytes(
				pp_cf_cp_kv_bytes(gl->micro_batch, (double)g->seq, kvd, t, cp, c->eb), cp);
			if (ws > ws_cp)
				ws_cp = ws;
		}
		cls[k].tp_f_s += cf;
		cls[k].tp_b_s += cb;
		tp_hidden[k] += hf + hb;
		cp_exp[k] = cf + cb;
		cp_hid[k] = hf + hb;
		if (gl->recompute == PP_RECOMPUTE_FULL) {
			tp_hidden[k] += hf;
			cp_exp[k] += cf;
			cp_hid[k] += hf;
		}
	}
	/* recomputation: full re-runs each layer's forward (and its forward collectives) during
	 * backward and keeps only the layer input; selective re-runs the attention core and drops
	 * its activations (Korthikanti et al. 2022, sections 4.2 and 5) */
	for (k = 0; k < g->n_classes; k++) {
		settot *x = &cls[k];
		double full_act = x->saved;
		if (gl->recompute == PP_RECOMPUTE_FULL) {
			x->b_s += x->f_s;
			x->tp_b_s += x->tp_f_s;
			x->gemm_s += x->gemm_s / 3.0;
			x->saved = c->layer_in_elems[k] * b * c->eb / (is_split(x->out) ? t : 1);
			x->core_saved = 0;
			if (full_act > ws_full)
				ws_full = full_act;
		} else if (gl->recompute == PP_RECOMPUTE_SELECTIVE) {
			x->b_s += x->attn_f_s;
			x->saved -= x->core_saved;
		}
	}
	if (gl->recompute == PP_RECOMPUTE_FULL)
		for (k = 0; k < c->n_ext; k++)
			ext_b[k] += ext_f[k];

	/* stage-boundary activations, b*s*h point-to-point (b*s*h/t with Megatron's scatter/gather
	 * optimisation, Narayanan et al. 2021 sec. 4.1) */
	boundary_bytes = c->layer_in_elems[0] * b * c->eb / (t > 1 ? t : 1);
	if (p > 1) {
		p2p = COLL(c, PP_COLL_P2P, 2, td, boundary_bytes);
		/* without sequence parallelism the receiver all-gathers the t slices it was sent
		 * (Narayanan et al. 2021, sec. 4.1, Fig. 9); with it the layer wants them split */
		if (!c->st.legacy && t > 1 && !gl->sequence_parallel)
			p2p += COLL(c, PP_COLL_ALLGATHER, t, 1, boundary_bytes * t);
		/* a stage sends forward and receives backward once per chunk and micro-batch;
		 * a stack that overlaps the sends with compute (Megatron-Core: the p2p of the next
		 * micro-batch is posted before the current one computes) leaves only the latency */
		pp_exposed = 2.0 * xv * p2p;
		if (c->st.p2p_overlap) {
			pp_hidden = pp_exposed;
			pp_exposed = 2.0 * xv * (hw->network.latency_us * 1e-6);
			pp_hidden -= pp_exposed;
		}
	}

	per_param = pp_cf_zero_bytes_per_param(zs, nshard, gbs);
	/* routed experts' states: weights and gradients whole on each expert-dp replica, Adam's
	 * sharded over expert-dp by the distributed optimizer (ZeRO-1); deeper ZeRO stages are
	 * applied to them as to the rest (Megatron-Core shards expert states over the
	 * expert-data-parallel group: megatron/core/distributed, expert_data_parallel_group) */
	per_param_e = pp_cf_zero_bytes_per_param(zs, moe_expert_dp(gl), gbs);
	capacity = c->mem_override > 0 ? c->mem_override : c->capacity;
	capacity -= headroom;
	pp_global_stage_layers(g, gl, stage_layers);
	for (s = 0; s < p; s++) {
		int last = first + stage_layers[s], same = s >= 2 && s < p - 1;
		double F, B, W, tpF, tpB, act, params, params_td, T, mem, unit, ws_w = 0, ws_g = 0;
		double params_e, a2a, sync_e, ag_e;
		double flight = in_flight(gl, s, m);
		for (k = 0; k < g->n_classes; k++) {
			int n = c->cls_prefix[k * (L + 1) + last] - c->cls_prefix[k * (L + 1) + first];
			same &= n == cnt[k];
			cnt[k] = n;
		}
		for (k = 0; k < c->n_ext; k++) {
			int n = c->ext_prefix[k * (L + 1) + last] - c->ext_prefix[k * (L + 1) + first];
			same &= n == cnt[MAX_CLASSES + k];
			cnt[MAX_CLASSES + k] = n;
		}
		if (same && mid.act >= 0 && flight <= flight_prev) {
			/* a middle stage made of the same layers as the last one scored, holding no more
			 * micro-batches: the same time, parameters and gradient reduction and no more
			 * memory (only the activations' share grows with the micro-batches in flight), so
			 * no maximum moves; only the sums over stages take it, in the same order */
			Tsum += T_prev;
			Zsum += Z_prev;
			first = last;
			continue;
		}
		if (!same) {
			/* middle stages made of the same layers as the one before are not re-added */
			mid.F = mid.B = mid.tpF = mid.tpB = mid.act = mid.params = mid.params_td = 0;
			mid.W = mid.tpH = mid.cpX = mid.cpH = mid.unit = mid.params_e = mid.a2a = mid.lin = 0;
			for (k = 0; k < g->n_classes; k++) {
				int n = cnt[k];
				if (n > 0 && cls[k].params + cls[k].params_td > mid.unit)
					mid.unit = cls[k].params + cls[k].params_td;
				mid.cpX += n * cp_exp[k];
				mid.cpH += n * cp_hid[k];
				mid.F += n * cls[k].f_s;
				mid.B += n * cls[k].b_s;
				mid.W += n * cls[k].w_s;
				mid.tpH += n * tp_hidden[k];
				mid.tpF += n * cls[k].tp_f_s;
				mid.tpB += n * cls[k].tp_b_s;
				mid.act += n * cls[k].saved;
				mid.params += n * cls[k].params;
				mid.params_td += n * cls[k].params_td;
				mid.params_e += n * cls[k].params_e;
				mid.a2a += n * cls[k].a2a_s;
				mid.lin += n * (cls[k].params + cls[k].params_td) * c->cls_lin_frac[k];
			}
			for (k = 0; k < c->n_ext; k++) {
				mid.tpF += cnt[MAX_CLASSES + k] * ext_f[k];
				mid.tpB += cnt[MAX_CLASSES + k] * ext_b[k];
			}
		}
		F = mid.F;
		B = mid.B;
		tpF = mid.tpF;
		tpB = mid.tpB;
		act = mid.act;
		params = mid.params;
		params_td = mid.params_td;
		params_e = mid.params_e;
		a2a = mid.a2a;
		act *= flight;
		W = mid.W;
		unit = mid.unit;
		if (stage_layers[s] > max_units)
			max_units = stage_layers[s];
		if (s == 0) {
			if (pre.params + pre.params_td > unit)
				unit = pre.params + pre.params_td;
			F += pre.f_s;
			B += pre.b_s;
			W += pre.w_s;
			tpF += pre.tp_f_s;
			tpB += pre.tp_b_s;
			act += pre.saved * flight;
			params += pre.params;
			params_td += pre.params_td;
			params_e += pre.params_e;
			a2a += pre.a2a_s;
		}
		if (s == last_rank) {
			if (post.params + post.params_td > unit)
				unit = post.params + post.params_td;
			F += post.f_s;
			B += post.b_s;
			W += post.w_s;
			tpF += post.tp_f_s;
			tpB += post.tp_b_s;
			/* the head's logits live from its forward to its backward, which follows at
			 * once on the path's last chunk: one micro-batch in the zero-bubble and DualPipe
			 * schedules, whose deferred W keep only the head's input (Qi et al. 2024,
			 * sec. 3: W needs the layer input and the output gradient) */
			act += post.saved * (gl->schedule >= PP_SCHED_ZB_H1 ? 1 : in_flight(gl, s, m));
			params += post.params;
			params_td += post.params_td;
			params_e += post.params_e; /* multi-token prediction's MoE block */
			a2a += post.a2a_s;
			if (p > 1 && g->tied_embeddings && last_rank)
				params += (double)g->vocab * g->hidden / (t > 1 ? t : 1); /* LM head's copy */
		}
		act += ws_full + ws_cp;
		T = F + B + tpF + tpB + pp_exposed;
		Tsum += T;
		{
			/* ZB-H1's share of the fill and drain: max(F + B - W, F, B) per stage
			 * (pp_sched_pipeline_s) */
			double zb = B + tpB - W + pp_exposed / 2, zf = F + tpF + pp_exposed / 2;
			Z = MAXD(zf + zb - W, MAXD(zf, zb));
			Zsum += Z;
		}
		T_prev = T;
		Z_prev = Z;
		flight_prev = flight;
		if (gl->schedule == PP_SCHED_DUALPIPE) {
			/* rank s holds stages s and p-1-s (DeepSeek-V3 report sec. 3.2.1: 2x parameters) */
			params *= 2;
			params_td *= 2;
		}
		if (T > Tmax) {
			Zmax = Z;
			Tmax = T;
			Tmax_comp = F + B;
			Tmax_tp = tpF + tpB;
			Tmax_pp = pp_exposed;
			Tmax_f = F + tpF;
			Tmax_b = B + tpB;
			Tmax_w = W;
			Tmax_a2a = a2a;
			Tmax_tph = mid.tpH;
			Tmax_cp = mid.cpX;
			Tmax_cph = mid.cpH;
		}
		if (params != last_params || params_td != last_params_td) /* middle stages repeat */
			sync = grad_sync_split_s(c, gl, params, params_td, &sync_ag);
		sync_e = moe_expert_sync_s(c, gl, params_e, &ag_e);
		if (sync_ag + ag_e > sync_ag_max)
			sync_ag_max = sync_ag + ag_e;
		last_params = params;
		last_params_td = params_td;
		if (sync + sync_e > sync_max)
			sync_max = sync + sync_e;
		if (params + params_td > opt_params_max)
			opt_params_max = params + params_td;
		if (zs >= 2) {
			/* the unsharded working set: ZeRO-2 reduces one unit's (layer's) gradients
			 * at a time; ZeRO-3 / FSDP also holds the unit in compute and the prefetched
			 * next one (Zhao et al. 2023, PyTorch FSDP, sec. 3.3.2; DeepSpeed
			 * stage3_prefetch_bucket_size), or with p > 1 the whole stage's parameters
			 * gathered once per iteration (torchtitan parallelize.py: no resharding after
			 * forward when pipeline parallel, so micro-batches do not re-gather) */
			ws_g = unit * gbs;
			if (zs == 3)
				ws_w = p > 1 ? (params + params_td) * WEIGHT_BYTES : 2.0 * unit * WEIGHT_BYTES;
		}
		mem = (params + params_td) * per_param + ws_w + ws_g + act + params_e * per_param_e;
		/* fp8: the cached 8-bit weight copies (pp_cf_fp8_weight_extra_bytes), the routed
		 * experts' too where their grouped GEMM runs in 8 bits (lp_experts) */
		mem += mid.lin * fp8_extra / (zs == 3 ? nshard : 1);
		if (!c->st.legacy)
			mem += params_e * fp8_extra / (zs == 3 ? moe_expert_dp(gl) : 1);
		if (mid.lin > lin_max)
			lin_max = mid.lin;
		if (mem > peak) {
			peak = mem;
			out->peak_stage = s;
			out->weights_gib = (params + params_td) * WEIGHT_BYTES / 1073741824.0;
			out->grads_gib = (params + params_td) * GRAD_BYTES / 1073741824.0;
			out->optimizer_gib = (params + params_td) * (per_param - WEIGHT_BYTES - GRAD_BYTES) /
					     1073741824.0;
			if (zs >= 2) {
				double P = params + params_td;
				out->weights_gib = (P * WEIGHT_BYTES / (zs == 3 ? nshard : 1) + ws_w) / 1073741824.0;
				out->grads_gib = (P * gbs / nshard + ws_g) / 1073741824.0;
				out->optimizer_gib = P * ADAM_BYTES / nshard / 1073741824.0;
			}
			/* routed experts: their states sharded over expert-dp (moe_expert_dp) as the
			 * ZeRO stage shards the rest, so the parts add up to params_e * per_param_e */
			if (zs >= 2) {
				int ne = moe_expert_dp(gl);
				out->weights_gib += params_e * WEIGHT_BYTES / (zs == 3 ? ne : 1) / 1073741824.0;
				out->grads_gib += params_e * gbs / ne / 1073741824.0;
				out->optimizer_gib += params_e * ADAM_BYTES / ne / 1073741824.0;
			} else {
				out->weights_gib += params_e * WEIGHT_BYTES / 1073741824.0;
				out->grads_gib += params_e * GRAD_BYTES / 1073741824.0;
				out->optimizer_gib += params_e * (per_param_e - WEIGHT_BYTES - GRAD_BYTES) /
						      1073741824.0;
			}
			out->weights_gib += (mid.lin * fp8_extra / (zs == 3 ? nshard : 1) +
					     (c->st.legacy ? 0 : params_e * fp8_extra / (zs == 3 ? moe_expert_dp(gl) : 1))) /
					    1073741824.0;
			out->activations_gib = act / 1073741824.0;
			out->stage_params = params + params_td + params_e;
		}
		first = last;
	}
	{
		/* 1F1B / GPipe: (m - 1) * slowest stage + the sum over stages, which for equal stages is
		 * (m + p - 1)(t_f + t_b); interleaving cuts the fill and drain to 1/v (Narayanan et al.
		 * 2021, sec. 2.2) */
		double pipe = m * Tmax + (Tsum - Tmax) / v, dp, opt, emb = 0, pipe_busy = m * Tmax;
		/* expert all-to-all overlap (--overlap-moe-a2a, where the stack runs it): the forward
		 * all-to-all of the slowest stage per micro-batch and as much again in backward
		 * (the rules exclude full recomputation) */
		int a2a_ov = gl->overlap_moe_a2a && c->st.moe_a2a_overlap && Tmax_a2a > 0;
		double ax = a2a_ov ? Tmax_a2a / 2 : 0, a2a_hid = 0;
		if (gl->schedule == PP_SCHED_ZB_H1) {
			pipe = m * Tmax + (Zsum - Zmax);
		} else if (gl->schedule >= PP_SCHED_ZB_V) {
			/* the slowest stage's closed form (schedule.c), the point-to-point time split
			 * evenly between forward and backward.  DualPipe's F&B hides one chunk's
			 * all-to-all behind the other's compute (DeepSeek-V3 report sec. 3.2.1) when the
			 * plan asks for it and the stack runs the pairing (ax); else F&B is scored as
			 * F + B: PyTorch's ScheduleDualPipeV hands an OVERLAP_F_B pair to a hook that
			 * only torchtitan's experimental graph_trainer fills (torchtitan b5bcd76c
			 * experiments/graph_trainer/graph_pp/runner.py) */
			pipe = pp_sched_pipeline_s(gl->schedule, p, m, Tmax_f + Tmax_pp / 2,
						   Tmax_b - Tmax_w + Tmax_pp / 2, Tmax_w, ax, ax, &pipe_busy);
			if (a2a_ov)
				a2a_hid = m * Tmax - pipe_busy;
		}
		if (a2a_ov && gl->schedule < PP_SCHED_ZB_V && gl->schedule != PP_SCHED_GPIPE) {
			/* Megatron-Core's combined 1F1B pairs the forward of one micro-batch (model
			 * chunk) with the backward of another in the steady state; the warm-up forwards
			 * of the rank with the most of them run alone: (p-1)*2 + (v-1)*p chunks
			 * interleaved, p-1 in 1F1B (Megatron-LM pipeline_parallel/schedules.py
			 * get_pp_rank_microbatches / forward_backward_pipelining_without_interleaving),
			 * and at least the first forward without pipelining */
			double warm = v > 1 ? 2.0 * (p - 1) + (double)(v - 1) * p : (double)(p - 1);
			double pairs = (double)m * v - (warm < 1 ? 1 : warm);
			if (pairs > 0)
				a2a_hid = pairs / v * pp_cf_ep_a2a_hidden_s(Tmax_f, Tmax_b, ax, ax);
			pipe -= a2a_hid;
			pipe_busy -= a2a_hid;
		}
		if (a2a_hid < 0)
			a2a_hid = 0;
		if (a2a_hid > 0)
			out->overlaps |= PP_OVERLAP_MOE_A2A;
		double gpus = (double)t * cp * p * d, B = gl->global_batch, peak_flops = c->peak;
		double shard = opt_params_max / (zs > 0 ? nshard : 1), dp_total = sync_max;
		dp = sync_max;
		if (zs >= 2) {
			/* ZeRO-2/3, FSDP: gradients reduce-scattered every micro-batch (the shard
			 * owner accumulates them: Rajbhandari et al. 2020 sec. 5.2; FSDP2 reduces in
			 * every backward), parameters all-gathered per unit (pp_cf_sharded_dp_exposed_s);
			 * ZeRO-2 all-gathers the updated weights after the step as ZeRO-1 does */
			double rs = sync_max - sync_ag_max, ag = sync_ag_max;
			if (zs == 2) {
				double bucket = opt_params_max > 0 ? DDP_BUCKET_PARAMS / opt_params_max : 1;
				if (bucket > 1)
					bucket = 1;
				dp = out->dp_reduce_s = m * pp_cf_sharded_dp_exposed_s(max_units, 0, 0, rs, Tmax_f, Tmax_b);
				out->dp_gather_s = gl->overlap_param_gather && c->st.param_gather_overlap
							   ? MAXD(ag * bucket, ag - Tmax_f)
							   : ag;
				dp += out->dp_gather_s;
				if (gl->overlap_param_gather && c->st.param_gather_overlap && ag > 0)
					out->overlaps |= PP_OVERLAP_PARAM_GATHER;
				dp_total = m * rs + ag;
			} else if (p == 1) {
				dp = m * pp_cf_sharded_dp_exposed_s(max_units, ag, ag, rs, Tmax_f, Tmax_b);
				dp_total = m * (2 * ag + rs);
			} else {
				dp = pp_cf_sharded_dp_exposed_s(max_units, ag, 0, 0, Tmax_f, 0) +
				     m * pp_cf_sharded_dp_exposed_s(max_units, 0, 0, rs, Tmax_f, Tmax_b);
				dp_total = ag + m * rs;
			}
			opt = shard * (ADAM_STEP_BYTES + (c->st.grad_norm_pass ? GRAD_NORM_BYTES : 0) +
				       (c->st.zero_grad_pass ? ZERO_GRAD_BYTES : 0)) /
			      (c->mem_bw * (c->st.legacy ? 1.0 : c->st.optimizer_hbm_eff));
			if (!c->st.legacy && p > 1 && g->tied_embeddings)
				emb = COLL(c, PP_COLL_ALLREDUCE, 2, td * (p - 1),
						(double)g->vocab * g->hidden / t * GRAD_BYTES);
			dp += emb;
		} else if (c->st.legacy) {
			if (gl->overlap_grad_reduce)
				dp = MAXD(0, sync_max - Tmax_b); /* hidden behind the last backward passes */
			if (gl->overlap_grad_reduce && sync_max > 0)
				out->overlaps |= PP_OVERLAP_GRAD_REDUCE;
			out->dp_reduce_s = dp;
			opt = shard * ADAM_STEP_BYTES / c->mem_bw;
		} else {
			/* gradient reduce-scatter (all-reduce) bucket by bucket behind the last
			 * micro-batch's backward, the parameter all-gather behind the next
			 * iteration's first forward (Megatron-LM --overlap-grad-reduce,
			 * --overlap-param-gather); the bucket reduced last has nothing to hide behind */
			double rs = sync_max - sync_ag_max, ag = sync_ag_max;
			double bucket = opt_params_max > 0 ? DDP_BUCKET_PARAMS / opt_params_max : 1;
			if (bucket > 1)
				bucket = 1;
			if (gl->overlap_grad_reduce && c->st.grad_reduce_overlap) {
				out->overlaps |= rs > 0 ? PP_OVERLAP_GRAD_REDUCE : 0;
				rs = MAXD(rs * bucket, rs - Tmax_b);
			}
			if (gl->overlap_param_gather && c->st.param_gather_overlap && zs > 0) {
				out->overlaps |= ag > 0 ? PP_OVERLAP_PARAM_GATHER : 0;
				ag = MAXD(ag * bucket, ag - Tmax_f);
			}
			dp = rs + ag;
			out->dp_reduce_s = rs;
			out->dp_gather_s = ag;
			/* Adam over the local shard at the stack's HBM efficiency, the gradient-norm
			 * pass over the same shard, zeroing of the whole local gradient buffer */
			opt = shard * (ADAM_STEP_BYTES + (c->st.grad_norm_pass ? GRAD_NORM_BYTES : 0)) /
				      (c->mem_bw * c->st.optimizer_hbm_eff) +
			      (c->st.zero_grad_pass ? opt_params_max * ZERO_GRAD_BYTES / (c->mem_bw * c->st.optimizer_hbm_eff) : 0);
			/* tied embeddings with p > 1: the first and last stage all-reduce the word
			 * embedding gradient (Megatron-LM _allreduce_word_embedding_grads), fp32 */
			if (p > 1 && g->tied_embeddings && last_rank)
				emb = COLL(c, PP_COLL_ALLREDUCE, 2, td * (p - 1),
						(double)g->vocab * g->hidden / t * GRAD_BYTES);
			dp += emb;
		}
		if (lp) /* the weights' 8-bit copies, cast once per iteration (TE is_first_microbatch):
			 * read the bf16 weight, write both copies; with fp8 parameter gather the
			 * optimizer writes the fp8 weight itself and only the column-wise copy is made */
			opt += lin_max * (gl->fp8_param_gather ? 2.0 * lp_bytes(gl)
							      : c->eb + 2.0 * lp_bytes(gl)) /
			       (c->mem_bw * (c->st.legacy ? 1.0 : c->st.optimizer_hbm_eff));
		out->compute_s = m * Tmax_comp;
		out->tp_comm_s = m * Tmax_tp - a2a_hid;
		out->ep_a2a_s = m * Tmax_a2a - a2a_hid;
		out->ep_a2a_hidden_s = a2a_hid;
		out->pp_comm_s = m * Tmax_pp;
		out->bubble_s = pipe - pipe_busy; /* pipe_busy = m * Tmax: F&B scored as F + B */
		out->dp_comm_s = dp;
		out->optimizer_s = opt;
		out->iteration_s = pipe + dp + opt;
		out->microbatches = m;
		out->stage_fwd_s = Tmax_f;
		out->stage_bwd_s = Tmax_b;
		out->stage_f_s = Tmax_f;
		out->stage_b_s = Tmax_b - Tmax_w;
		out->stage_w_s = Tmax_w;
		out->tp_hidden_s = m * Tmax_tph + a2a_hid;
		if (tp_overlap)
			out->overlaps |= PP_OVERLAP_TP_COMM;
		if (pp_hidden > 0)
			out->overlaps |= PP_OVERLAP_P2P;
		out->pp_hidden_s = m * pp_hidden;
		out->dp_hidden_s = dp_total + emb - dp;
		out->cp_comm_s = m * Tmax_cp;
		out->cp_hidden_s = m * Tmax_cph;
		out->zero_stage = zs;
		out->tokens_per_s = B * (double)g->seq / out->iteration_s;
		out->model_flops = 3.0 * c->gemm_flops_sample * B;
		out->hardware_flops = out->model_flops;
		if (gl->recompute == PP_RECOMPUTE_FULL)
			out->hardware_flops += c->layer_gemm_flops_sample * B;
		else if (gl->recompute == PP_RECOMPUTE_SELECTIVE)
			out->hardware_flops += c->attn_gemm_flops_sample * B;
		out->model_tflops_per_gpu = out->model_flops / (out->iteration_s * gpus) / 1e12;
		out->hardware_tflops_per_gpu = out->hardware_flops / (out->iteration_s * gpus) / 1e12;
		out->mfu = out->model_flops / (out->iteration_s * gpus * peak_flops);
		out->hfu = out->hardware_flops / (out->iteration_s * gpus * peak_flops);
		out->precision = lp ? gl->precision : PP_PREC_BF16;
		out->peak_tflops = peak_flops / 1e12;
		out->lin_flops = (3.0 + (gl->recompute == PP_RECOMPUTE_FULL)) *
				 (c->lin_flops_sample + (c->st.legacy ? 0 : c->exp_flops_sample)) * B;
		if (lp && c->lp_peak[gl->precision] > 0) {
			out->lp_peak_tflops = c->lp_peak[gl->precision] / 1e12;
			out->mfu_lp = out->model_flops / (out->iteration_s * gpus * c->lp_peak[gl->precision]);
		}
	}
	out->layer_fwd_s = cls[0].f_s + cls[0].tp_f_s;
	out->layer_bwd_s = cls[0].b_s + cls[0].tp_b_s;
	out->layer_gemm_s = cls[0].gemm_s;
	out->layer_tp_s = cls[0].tp_f_s + cls[0].tp_b_s;
	out->layer_tp_bytes = cls[0].tp_moved;
	if (c->n_ext)
		out->layer_tp_bytes += ext[c->n_ext > 1 ? 1 : 0].tp_moved;
	out->layer_act_bytes = cls[0].saved;
	out->layer_cp_bytes = cp_moved;
	out->peak_gib = peak / 1073741824.0;
	out->capacity_gib = capacity / 1073741824.0;
	out->headroom_gib = headroom / 1073741824.0;
	out->feasible = peak <= capacity;
done:
	return rc;
}

/*
 * Lower bound of pp_cost_time_bound at one sequence-parallel setting: the compute of every stage
 * (its layers' forward and backward without recomputation, the embedding's on the first stage,
 * the head's on the last) summed as pp_cost_eval_memo sums it, then the pipeline's
 * m * slowest + (sum - slowest) / v for GPipe, 1F1B and interleaving, m * slowest for the others.
 */
static double compute_bound(const pp_costctx *c, pp_cost_memo *memo, const pp_global *gl)
{
	const pp_graph *g = c->g;
	settot cls[MAX_CLASSES], ext[MAX_EXT], pre, post;
	int stage_layers[MAX_STAGES];
	int p = gl->p, L = g->n_layers, m = pp_global_microbatches(gl), s, k, first = 0;
	int last_rank = gl->schedule == PP_SCHED_ZB_V || gl->schedule == PP_SCHED_DUALPIPEV ? 0 : p - 1;
	double Cmax = 0, Csum = 0;
	if (g->n_classes > MAX_CLASSES || c->n_ext > MAX_EXT || p > MAX_STAGES || m < 1 ||
	    gl->virtual_stages < 1 || plan_sets(c, memo, gl, NULL, cls, &pre, &post, ext) < 0)
		return 0;
	pp_global_stage_layers(g, gl, stage_layers);
	for (s = 0; s < p; s++) {
		int last = first + stage_layers[s];
		double F = 0, B = 0;
		for (k = 0; k < g->n_classes; k++) {
			int n = c->cls_prefix[k * (L + 1) + last] - c->cls_prefix[k * (L + 1) + first];
			F += n * cls[k].f_s;
			B += n * cls[k].b_s;
		}
		if (s == 0) {
			F += pre.f_s;
			B += pre.b_s;
		}
		if (s == last_rank) {
			F += post.f_s;
			B += post.b_s;
		}
		Cmax = MAXD(Cmax, F + B);
		Csum += F + B;
		first = last;
	}
	if (gl->schedule <= PP_SCHED_INTERLEAVED)
		return m * Cmax + (Csum - Cmax) / gl->virtual_stages;
	return m * Cmax;
}

double pp_cost_time_bound(const pp_costctx *c, pp_cost_memo *memo, const pp_global *gl)
{
	pp_global x = *gl;
	double lb = INFINITY, b;
	int sp;
	/* the stage times of pp_cost_eval_memo are F + B + their collectives (never negative) and
	 * recomputation only adds to B; the pipeline, gradient reduction and optimizer step add
	 * non-negative terms to m * the slowest (and, for GPipe / 1F1B / interleaving, the rest of
	 * the stages over v).  The configs, so F and B, change with sequence parallelism only */
	/* the expert all-to-all overlap takes hidden all-to-all off the pipeline, which may then
	 * be less than m * the slowest stage's compute: no bound where it may apply */
	if (c->st.moe_a2a_overlap && c->g->experts)
		return 0;
	x.recompute = PP_RECOMPUTE_NONE;
	for (sp = 0; sp <= (gl->t > 1); sp++) {
		x.sequence_parallel = gl->t > 1 ? sp : gl->sequence_parallel;
		b = compute_bound(c, memo, &x);
		if (b < lb)
			lb = b;
	}
	/* rounding: the evaluation sums the same terms in other orders (a few ulps) */
	return lb * (1.0 - 1e-9);
}
