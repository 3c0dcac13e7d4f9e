/* check_cost.c - the cost model against formulas worked by hand and its own closed forms. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/comm.h"
#include "parplan/cost.h"
#include "parplan/space.h"

#define MAXD0(a) ((a) > 0 ? (a) : 0)
#define REL(a, b) (fabs((a) - (b)) / fmax(fabs(b), 1e-300))

typedef struct fixture {
	pp_graph *g;
	pp_hw *hw;
	pp_costctx *c;
} fixture;

static fixture open_fx(const char *model, const char *hw)
{
	fixture f = {NULL, NULL, NULL};
	pp_error err = PP_ERROR_INIT;
	ck_assert_msg(pp_graph_load(model, &f.g, &err) == 0, "%s", err.msg);
	ck_assert_msg(pp_hw_load(hw, &f.hw, &err) == 0, "%s", err.msg);
	ck_assert_msg(pp_costctx_new(&f.c, f.g, f.hw, &err) == 0, "%s", err.msg);
	return f;
}

static void close_fx(fixture *f)
{
	pp_costctx_free(f->c);
	pp_graph_free(f->g);
	pp_hw_free(f->hw);
}

static pp_global plan(int t, int p, int d, int b, int B)
{
	pp_global gl = PP_GLOBAL_INIT;
	gl.t = t;
	gl.p = p;
	gl.d = d;
	gl.micro_batch = b;
	gl.global_batch = B;
	return gl;
}

static pp_cost eval(const fixture *f, const pp_global *gl)
{
	pp_cost c;
	pp_error err = PP_ERROR_INIT;
	ck_assert_msg(pp_global_validate(f->g, gl, 0, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pp_cost_eval(f->c, gl, NULL, &c), 0);
	return c;
}

#define A100 "../hwprofiles/dgx-a100-80g.json"

START_TEST(test_korthikanti_hand_values)
{
	/* GPT-3 175B layer, s=2048, b=1, h=12288, a=96, no parallelism (seed section 2.2) */
	double want = 2048.0 * 12288 * (34 + 5.0 * 96 * 2048 / 12288);
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes(2048, 1, 12288, 96, 1, 0, PP_RECOMPUTE_NONE),
				want, 1e-3);
	/* with TP t=8: 10 + 24/8 + 5as/(8h); with SP everything / 8 (seed section 3.2) */
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes(2048, 1, 12288, 96, 8, 0, PP_RECOMPUTE_NONE),
				2048.0 * 12288 * (10 + 3 + 5.0 * 96 * 2048 / 12288 / 8), 1e-3);
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes(2048, 1, 12288, 96, 8, 1, PP_RECOMPUTE_NONE),
				want / 8, 1e-3);
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes(2048, 1, 12288, 96, 8, 1, PP_RECOMPUTE_SELECTIVE),
				2048.0 * 12288 * 34 / 8, 1e-3);
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes(2048, 2, 12288, 96, 8, 0, PP_RECOMPUTE_FULL),
				2.0 * 2048 * 2 * 12288, 1e-3);
}
END_TEST

START_TEST(test_collective_formulas)
{
	/* ring all-reduce at n=8 of 1 GB at 100 GB/s, alpha 5 us: 2*7/8*0.01 s + 14*5 us */
	ck_assert_double_eq_tol(pp_ring_allreduce_s(8, 1e9, 100e9, 5e-6), 0.0175 + 70e-6, 1e-12);
	ck_assert_double_eq_tol(pp_ring_allgather_s(8, 1e9, 100e9, 5e-6), 0.00875 + 35e-6, 1e-12);
	ck_assert_double_eq_tol(pp_p2p_s(1e9, 100e9, 5e-6), 0.01 + 5e-6, 1e-12);
	ck_assert_double_eq(pp_ring_allreduce_s(1, 1e9, 100e9, 5e-6), 0);
}
END_TEST

START_TEST(test_hierarchical_groups)
{
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;
	double bi, ai, bn, an, S = 1e9;
	ck_assert_int_eq(pp_hw_load(A100, &hw, &err), 0);
	bi = hw->intra.bw_gbs * hw->intra.efficiency * 1e9;
	ai = hw->intra.latency_us * 1e-6;
	bn = hw->network.bw_gbs * hw->network.efficiency * 1e9;
	an = hw->network.latency_us * 1e-6;
	/* 8 ranks at stride 1: one node, the NVLink ring */
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 8, 1, S), pp_ring_allreduce_s(8, S, bi, ai), 1e-15);
	/* 16 ranks at stride 1: reduce-scatter in node, all-reduce over 2 nodes on S/8, all-gather */
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 16, 1, S),
				2 * pp_ring_allgather_s(8, S, bi, ai) + pp_ring_allreduce_s(2, S / 8, bn, an), 1e-15);
	/* a data-parallel group at stride t=8: every member in another node, the network ring */
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 4, 8, S), pp_ring_allreduce_s(4, S, bn, an), 1e-15);
	/* 12 ranks over 8-GPU nodes fill them unevenly: a flat ring over the network */
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 12, 1, S), pp_ring_allreduce_s(12, S, bn, an), 1e-15);
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 6, 2, S), pp_ring_allreduce_s(6, S, bn, an), 1e-15);
	/* stride 2 on 8-GPU nodes: 4 members per node */
	ck_assert_int_eq(pp_group_per_node(8, 2, 8), 4);
	pp_hw_free(hw);
}
END_TEST

/* GB200 NVL72: 4-GPU hosts in a 72-GPU NVLink domain (aligned blocks of 64).  A 16-wide group is
 * one NVLink ring although it spans 4 hosts; a 128-wide one splits at the domain: reduce-scatter
 * over the 64 in the rack, all-reduce over the 2 racks on 1/64, all-gather; a data-parallel
 * group at stride 16 has 4 members per rack. */
START_TEST(test_scale_up_domain_collectives)
{
	pp_error err = PP_ERROR_INIT;
	pp_hw *hw = NULL;
	double bi, ai, bn, an, S = 1e9;
	ck_assert_int_eq(pp_hw_load("../hwprofiles/gb200-nvl72.json", &hw, &err), 0);
	ck_assert_int_eq(hw->node_devices, 4);
	bi = hw->intra.bw_gbs * hw->intra.efficiency * 1e9;
	ai = hw->intra.latency_us * 1e-6;
	bn = hw->network.bw_gbs * hw->network.efficiency * 1e9;
	an = hw->network.latency_us * 1e-6;
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 16, 1, S), pp_ring_allreduce_s(16, S, bi, ai), 1e-15);
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLGATHER, 64, 1, S), pp_ring_allgather_s(64, S, bi, ai), 1e-15);
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_ALLREDUCE, 128, 1, S),
				2 * pp_ring_allgather_s(64, S, bi, ai) + pp_ring_allreduce_s(2, S / 64, bn, an), 1e-15);
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_REDUCESCATTER, 32, 16, S),
				pp_ring_allgather_s(4, S, bi, ai) + pp_ring_allgather_s(8, S / 4, bn, an), 1e-15);
	/* a pipeline neighbour 16 ranks away is in the same rack: NVLink, not the network */
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_P2P, 2, 16, S), pp_p2p_s(S, bi, ai), 1e-15);
	ck_assert_double_eq_tol(pp_coll_s(hw, PP_COLL_P2P, 2, 64, S), pp_p2p_s(S, bn, an), 1e-15);
	/* the same 16-wide group on 8-GPU DGX B200 nodes crosses the network */
	{
		pp_hw *b = NULL;
		ck_assert_int_eq(pp_hw_load("../hwprofiles/dgx-b200.json", &b, &err), 0);
		ck_assert_double_gt(pp_coll_s(b, PP_COLL_ALLREDUCE, 16, 1, S), 1.5 * pp_coll_s(hw, PP_COLL_ALLREDUCE, 16, 1, S));
		pp_hw_free(b);
	}
	pp_hw_free(hw);
}
END_TEST

/* FP8 by hand on one layer of Llama 3 8B (s = 8192, h = 4096, ffn 14336) on a made-up device:
 * bf16 1000, fp8 2000 TFLOP/s, GEMMs at 0.5 of peak (no matmul object: the flat rate), HBM
 * 2000 GB/s; the built-in legacy stack (forward, input- and weight-gradient GEMMs each at that
 * rate). */
static const char fp8_dev[] =
	"{\"format\": \"parplan-hw/1\", \"name\": \"fp8dev\",\n"
	" \"device\": {\"name\": \"D\", \"peak_tflops\": {\"bf16\": 1000, \"fp32\": 100, \"fp8\": 2000},\n"
	"   \"memory_gib\": 80, \"memory_bw_gbs\": 2000, \"gemm_efficiency\": 0.5, \"source\": \"test\"},\n"
	" \"node\": {\"devices\": 8, \"intra\": {\"name\": \"A\", \"bw_gbs\": 400, \"latency_us\": 2,"
	" \"source\": \"s\"}},\n"
	" \"network\": {\"name\": \"B\", \"bw_gbs\": 50, \"latency_us\": 5, \"source\": \"s\"}}\n";

START_TEST(test_fp8_by_hand)
{
	pp_error err = PP_ERROR_INIT;
	fixture f = {NULL, NULL, NULL};
	pp_global gl = plan(1, 1, 1, 1, 1), g8;
	int down = -1, i;
	double m = 8192, k = 14336, n = 4096, flops, t16, t8, cast_in, cast_out, bytes8;
	double lin = 0, act_lin = 0, GiB = 1073741824.0;
	pp_cost c16, c8;

	ck_assert_int_eq(pp_graph_load("../models/llama3-8b.json", &f.g, &err), 0);
	ck_assert_int_eq(pp_hw_parse("fp8dev.json", fp8_dev, &f.hw, &err), 0);
	ck_assert_int_eq(pp_costctx_new(&f.c, f.g, f.hw, &err), 0);
	down = pp_graph_find_op(f.g, "l0.mlp.down");
	ck_assert_int_ge(down, 0);
	g8 = gl;
	g8.precision = PP_PREC_FP8;

	/* the down projection: Y[8192, 4096] = X[8192, 14336] W[14336, 4096], 2mnk = 962.1 GFLOP */
	flops = 2 * m * n * k;
	ck_assert_double_le(fabs(flops - 962072674304.0), 1);
	/* bf16: three GEMMs at 1000 * 0.5 TFLOP/s = 1.924 ms each (compute-bound: 419 MB of operands
	 * take 0.21 ms) */
	t16 = 3 * flops / 500e12;
	ck_assert_double_le(REL(pp_cost_op_s(f.c, &gl, down, PP_CFG_ROW), t16), 1e-12);
	/* fp8: three GEMMs at 2000 * 0.5 = 1000 TFLOP/s, 0.962 ms each; plus casting X (8192 x
	 * 14336 = 117.4 M elements: read 2 bytes, write the fp8 copy and its transpose, 4 bytes) before
	 * the forward, 0.235 ms, and dY (8192 x 4096 = 33.6 M elements, 4 bytes) before the backward,
	 * 0.067 ms: 3.188 ms in all against bf16's 5.772 */
	cast_in = m * k * (2 + 2) / 2000e9;
	cast_out = m * n * (2 + 2) / 2000e9;
	bytes8 = (m * k + k * n) * 1 + m * n * 2;
	ck_assert_double_lt(bytes8 / 2000e9, flops / 1000e12); /* still compute-bound */
	t8 = 3 * flops / 1000e12 + cast_in + cast_out;
	ck_assert_double_le(REL(pp_cost_op_s(f.c, &g8, down, PP_CFG_ROW), t8), 1e-12);
	ck_assert_double_le(fabs(t8 - 3.1881e-3), 1e-6);
	ck_assert_double_le(fabs(t16 - 5.7724e-3), 1e-6);
	/* mxfp8 needs the block-scaled tensor cores this device lacks: refused */
	g8.precision = PP_PREC_MXFP8;
	ck_assert_int_eq(pp_cost_check_precision(f.c, &g8, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "no device.peak_tflops.mxfp8"));
	ck_assert_int_eq(pp_cost_eval(f.c, &g8, NULL, &c8), PP_EINVALID);
	g8.precision = PP_PREC_FP8;

	/* memory, whole model on one GPU: the linear layers' fp8 weight copies (row-wise and
	 * column-wise, 2 bytes per parameter) add to the weights; their saved inputs are kept in
	 * fp8, 1 byte per element instead of 2.  Per layer the four GEMMs keep X of qkv, proj and
	 * gate_up (8192 x 4096 each) and of down (8192 x 14336) */
	for (i = 0; i < f.g->n_ops; i++)
		if (f.g->ops[i].type == PP_OP_MATMUL && f.g->ops[i].layer >= 0)
			lin += (double)f.g->ops[i].params;
	act_lin = 32.0 * (3 * 8192.0 * 4096 + 8192.0 * 14336); /* elements, all 32 layers */
	c16 = eval(&f, &gl);
	c8 = eval(&f, &g8);
	ck_assert_double_le(REL(c8.weights_gib - c16.weights_gib, lin * 2 / GiB), 1e-9);
	ck_assert_double_le(REL(c16.activations_gib - c8.activations_gib, act_lin * 1 / GiB), 1e-9);
	ck_assert_double_le(REL(lin, 32.0 * (4096.0 * (4096 + 2 * 1024) + 4096.0 * 4096 +
					    2 * 4096.0 * 14336 + 14336.0 * 4096)), 1e-12);
	/* throughput: the same model FLOPs; MFU against bf16's 1000, MFU against fp8's 2000 */
	ck_assert_double_eq(c8.model_flops, c16.model_flops);
	ck_assert_double_le(REL(c8.mfu_lp, c8.mfu / 2), 1e-12);
	ck_assert_double_eq(c16.mfu_lp, 0);
	ck_assert_int_eq(c8.precision, PP_PREC_FP8);
	ck_assert_double_lt(c8.iteration_s, c16.iteration_s);

	/* fp8 parameter gather (distributed optimizer over d = 2): the linear weights all-gathered
	 * in 1 byte; no extra weight memory (the fp8 weight replaces the bf16 one) */
	{
		pp_global a = plan(1, 1, 2, 1, 2), bq;
		pp_cost ca, cb;
		a.precision = PP_PREC_FP8;
		a.distributed_optimizer = 1;
		bq = a;
		bq.fp8_param_gather = 1;
		ca = eval(&f, &a);
		cb = eval(&f, &bq);
		ck_assert_double_lt(cb.dp_comm_s, ca.dp_comm_s);
		ck_assert_double_le(REL(ca.weights_gib - cb.weights_gib, lin * 2 / GiB), 1e-9);
		a.precision = PP_PREC_BF16;
		a.fp8_param_gather = 1;
		ck_assert_int_eq(pp_global_validate(f.g, &a, 0, &err), PP_EINVALID);
	}
	close_fx(&f);
}
END_TEST

START_TEST(test_model_flops_175b)
{
	/* GPT-3 175B, global batch 1536: 72*B*s*l*h^2*(1 + s/(6h) + V/(12lh)), Narayanan eq. 3 */
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(8, 16, 8, 1, 1536);
	pp_cost c;
	gl.recompute = PP_RECOMPUTE_FULL;
	c = eval(&f, &gl);
	ck_assert_double_le(REL(c.model_flops, pp_cf_gpt_flops(1536, 2048, 96, 12288, 51200, 0)), 1e-12);
	ck_assert_double_le(REL(c.hardware_flops, pp_cf_gpt_flops(1536, 2048, 96, 12288, 51200, 1)), 1e-12);
	/* MFU = model FLOPs / (iteration * GPUs * peak) */
	ck_assert_double_le(REL(c.mfu, c.model_flops / (c.iteration_s * 1024 * 312e12)), 1e-12);
	ck_assert(c.hfu > c.mfu);
	/* the parts of the time add up */
	ck_assert_double_le(REL(c.compute_s + c.tp_comm_s + c.pp_comm_s + c.bubble_s + c.dp_comm_s + c.optimizer_s,
				c.iteration_s), 1e-12);
	close_fx(&f);
}
END_TEST

/* Per-op engine totals against the closed forms, for several plans of one model. */
static void check_model(const char *path)
{
	fixture f = open_fx(path, A100);
	const pp_graph *g = f.g;
	int ts[] = {1, 2, 4, 8}, llama = 0, mla = 0, i, ti, sp, r;
	double s = (double)g->seq, h = (double)g->hidden, a = (double)g->heads, eb = 2;
	for (i = 0; i < g->n_ops; i++) {
		llama |= g->ops[i].type == PP_OP_RMSNORM;
		mla |= g->ops[i].type == PP_OP_MLA;
	}
	for (ti = 0; ti < 4; ti++) {
		int t = ts[ti];
		if (g->heads % t || g->kv_heads % t)
			continue;
		for (sp = 0; sp <= (t > 1); sp++)
			for (r = 0; r < 3; r++) {
				pp_global gl = plan(t, 1, 2, 2, 8);
				pp_cost c;
				double act, tp;
				gl.sequence_parallel = sp;
				gl.recompute = (pp_recompute)r;
				c = eval(&f, &gl);
				/* model FLOPs from op FLOPs: 3x the forward matrix products (an MoE's
				 * routed experts at top-k) */
				ck_assert(REL(c.model_flops, 3 * g->gemm_flops_per_token * s * 8) < 1e-9);
				if (mla)
					continue; /* DeepSeek-V3's ops: check_graph's test_moe_ops */
				if (g->experts) {
					/* GQA + routed experts (Mixtral, Qwen3-MoE): the MoE closed form */
					act = pp_cf_moe_layer_activation_bytes(s, 2, h, a, (double)g->kv_heads,
						(double)g->head_dim, (double)g->experts, (double)g->topk,
						(double)g->expert_ffn, t, gl.etp, sp, gl.recompute);
					ck_assert_msg(REL(c.layer_act_bytes, act) < 1e-9, "%s t=%d sp=%d r=%d: %.17g vs %.17g",
						      path, t, sp, r, c.layer_act_bytes, act);
					if (t > 1) { /* and under expert tensor parallelism */
						gl.etp = t;
						c = eval(&f, &gl);
						act = pp_cf_moe_layer_activation_bytes(s, 2, h, a, (double)g->kv_heads,
							(double)g->head_dim, (double)g->experts, (double)g->topk,
							(double)g->expert_ffn, t, t, sp, gl.recompute);
						ck_assert_msg(REL(c.layer_act_bytes, act) < 1e-9,
							      "%s t=%d etp=t sp=%d r=%d: %.17g vs %.17g", path, t, sp, r,
							      c.layer_act_bytes, act);
					}
					continue;
				}
				act = llama ? pp_cf_llama_layer_activation_bytes(s, 2, h, a, (double)g->kv_heads,
										  (double)g->ffn, t, sp, gl.recompute)
					    : pp_cf_gpt_layer_activation_bytes(s, 2, h, a, t, sp, gl.recompute);
				ck_assert_msg(REL(c.layer_act_bytes, act) < 1e-9, "%s t=%d sp=%d r=%d: %.17g vs %.17g",
					      path, t, sp, r, c.layer_act_bytes, act);
				tp = pp_cf_tp_elements_per_layer(2, s, h, t) * eb;
				ck_assert_msg(t == 1 ? c.layer_tp_bytes == 0 : REL(c.layer_tp_bytes, tp) < 1e-9,
					      "%s t=%d sp=%d: TP bytes %.17g vs %.17g", path, t, sp, c.layer_tp_bytes, tp);
				if (!llama)
					ck_assert(REL(c.model_flops, pp_cf_gpt_flops(8, s, g->n_layers, h,
										      (double)g->vocab, 0)) < 1e-9);
			}
	}
	close_fx(&f);
}

START_TEST(test_one_engine_every_model)
{
	glob_t gb;
	size_t i;
	ck_assert_int_eq(glob("../models/*.json", 0, NULL, &gb), 0);
	ck_assert_uint_ge(gb.gl_pathc, 18);
	for (i = 0; i < gb.gl_pathc; i++)
		check_model(gb.gl_pathv[i]);
	globfree(&gb);
}
END_TEST

START_TEST(test_pipeline_bubble)
{
	/* equal stages: iteration of the pipeline = (m + (p-1)/v) * (t_f + t_b), bubble (p-1)/(v m) */
	fixture f = open_fx("../models/gpt-145.6b.json", A100);
	int vs[] = {1, 2, 5}, k;
	for (k = 0; k < 3; k++) {
		pp_global gl = plan(8, 8, 4, 1, 256);
		pp_cost c;
		double T;
		gl.virtual_stages = vs[k];
		gl.schedule = vs[k] > 1 ? PP_SCHED_INTERLEAVED : PP_SCHED_1F1B;
		gl.recompute = PP_RECOMPUTE_FULL;
		c = eval(&f, &gl);
		ck_assert_int_eq(c.microbatches, 64);
		/* stages are not equal here (embedding / head), so check the formula's definition:
		 * bubble = pipeline - m * slowest stage, and for the first-order equal-stage case the
		 * fraction stays within 20% of (p-1)/(v m) */
		T = (c.compute_s + c.tp_comm_s + c.pp_comm_s) / c.microbatches;
		ck_assert_double_le(fabs(c.bubble_s / (c.microbatches * T) - 7.0 / (vs[k] * 64)),
				    0.2 * 7.0 / (vs[k] * 64));
		ck_assert_double_le(REL(pp_cf_pipeline_s(64, 8, vs[k], 1.0, 2.0), (64 + 7.0 / vs[k]) * 3), 1e-15);
	}
	close_fx(&f);
}
END_TEST

START_TEST(test_pipeline_equal_stages_exact)
{
	/* without embedding/head imbalance the engine's pipeline time is the closed form exactly:
	 * compare two p values whose difference is only the bubble */
	fixture f = open_fx("../models/gpt-18.4b.json", A100);
	pp_global gl = plan(8, 4, 1, 1, 64);
	pp_cost c = eval(&f, &gl);
	double T = (c.compute_s + c.tp_comm_s + c.pp_comm_s) / c.microbatches;
	/* (m - 1) * max + sum over stages >= (m + p - 1) * min stage */
	ck_assert(c.bubble_s > 0);
	ck_assert_double_le(c.bubble_s, 3 * T + 1e-12);
	close_fx(&f);
}
END_TEST

START_TEST(test_equal_stages_exact)
{
	/* a graph of 8 identical layers and nothing else: every stage is the same, so the engine's
	 * pipeline must be the closed form exactly, and so must in-flight memory, p2p and DP */
	fixture f = open_fx("data/layers-only.json", A100);
	pp_schedule scheds[] = {PP_SCHED_1F1B, PP_SCHED_INTERLEAVED, PP_SCHED_GPIPE};
	int k;
	for (k = 0; k < 3; k++) {
		pp_global gl = plan(2, 4, 2, 1, 16);
		pp_cost c;
		int m = 8, p = 4, v = k == 1 ? 2 : 1;
		double tf, tb, flight, p2p;
		gl.schedule = scheds[k];
		gl.virtual_stages = v;
		c = eval(&f, &gl);
		ck_assert_int_eq(c.microbatches, m);
		/* a stage is L/p layers */
		ck_assert_double_le(REL(c.stage_fwd_s + c.stage_bwd_s, 2 * (c.layer_fwd_s + c.layer_bwd_s)), 1e-12);
		/* point-to-point: b*s*h/t bytes each way per micro-batch, v times with interleaving */
		p2p = pp_coll_s(f.hw, PP_COLL_P2P, 2, 2 * 2, 1.0 * 128 * 256 * 2 / 2);
		ck_assert_double_le(REL(c.pp_comm_s, m * 2.0 * v * p2p), 1e-12);
		/* (m + (p-1)/v) * (t_f + t_b), Narayanan et al. 2021 */
		tf = c.stage_fwd_s + v * p2p;
		tb = c.stage_bwd_s + v * p2p;
		ck_assert_double_le(REL(c.compute_s + c.tp_comm_s + c.pp_comm_s + c.bubble_s,
					pp_cf_pipeline_s(m, p, v, tf, tb)), 1e-12);
		ck_assert_double_le(REL(c.bubble_s / (m * (tf + tb)), (p - 1.0) / (v * m)), 1e-12);
		/* stage 0 holds p micro-batches (1F1B), x (1 + (p-1)/(p v)) interleaved, m with GPipe */
		flight = k == 0 ? p : k == 1 ? p * (1 + (p - 1.0) / (p * v)) : m;
		ck_assert_int_eq(c.peak_stage, 0);
		ck_assert_double_le(REL(c.activations_gib * 1073741824.0, 2 * c.layer_act_bytes * flight), 1e-12);
		/* data parallel: fp32 gradients of the stage's shard, all-reduced over d at stride t */
		ck_assert_double_le(REL(c.dp_comm_s, pp_coll_s(f.hw, PP_COLL_ALLREDUCE, 2, 2, c.stage_params * 4)),
				    1e-12);
	}
	close_fx(&f);
}
END_TEST

START_TEST(test_memory_bytes_per_param)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(8, 16, 8, 1, 1536);
	pp_cost c;
	double P;
	gl.recompute = PP_RECOMPUTE_FULL;
	c = eval(&f, &gl);
	P = c.stage_params;
	ck_assert_double_le(REL((c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0, 18 * P), 1e-12);
	gl.distributed_optimizer = 1;
	c = eval(&f, &gl);
	ck_assert_double_le(REL((c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0,
				(6 + 12.0 / 8) * c.stage_params), 1e-12);
	ck_assert_double_eq(pp_cf_bytes_per_param(8, 0), 18);
	ck_assert_double_eq(pp_cf_bytes_per_param(8, 1), 7.5);
	/* 1F1B stage 0 holds p micro-batches: 6 layers * p=16 * (2sbh/t... full recompute keeps
	 * 2*s*b*h per layer, replicated without SP) + embedding, plus one layer's working set */
	gl.distributed_optimizer = 0;
	c = eval(&f, &gl);
	ck_assert_int_eq(c.peak_stage, 0);
	ck_assert(c.activations_gib * 1073741824.0 > 6 * 16 * 2.0 * 2048 * 12288);
	close_fx(&f);
}
END_TEST

START_TEST(test_infeasible_and_interleaved_memory)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(1, 1, 8, 1, 8);
	pp_cost c = eval(&f, &gl), c1, c2;
	ck_assert(!c.feasible); /* 175B on one GPU's 80 GB: 18 bytes/param alone is 3 TB */
	ck_assert(c.peak_gib > c.capacity_gib);
	gl = plan(8, 8, 1, 1, 64);
	c1 = eval(&f, &gl);
	gl.schedule = PP_SCHED_INTERLEAVED;
	gl.virtual_stages = 2;
	c2 = eval(&f, &gl);
	/* interleaving: activations x (1 + (p-1)/(p v)) on stage 0, bubble / v */
	ck_assert(c2.activations_gib > c1.activations_gib);
	ck_assert(c2.bubble_s < c1.bubble_s);
	gl.schedule = PP_SCHED_GPIPE;
	gl.virtual_stages = 1;
	c2 = eval(&f, &gl);
	ck_assert(c2.activations_gib > 7 * c1.activations_gib); /* all 64 micro-batches vs 8 */
	close_fx(&f);
}
END_TEST

START_TEST(test_recompute_and_sequence_parallel)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(8, 16, 8, 1, 1536);
	pp_cost none, full, sel;
	int ln = pp_graph_find_op(f.g, "l0.ln1"), qkv = pp_graph_find_op(f.g, "l0.attn.qkv");
	double rep, seq;
	none = eval(&f, &gl);
	gl.recompute = PP_RECOMPUTE_FULL;
	full = eval(&f, &gl);
	gl.recompute = PP_RECOMPUTE_SELECTIVE;
	sel = eval(&f, &gl);
	/* full: backward re-runs the whole layer forward, collectives included */
	ck_assert_double_le(REL(full.layer_bwd_s - none.layer_bwd_s, none.layer_fwd_s), 1e-12);
	ck_assert(sel.layer_bwd_s > none.layer_bwd_s && sel.layer_bwd_s < full.layer_bwd_s);
	/* sequence parallel: LayerNorm work divided by t */
	gl.recompute = PP_RECOMPUTE_NONE;
	rep = pp_cost_op_s(f.c, &gl, ln, PP_CFG_REPLICATE);
	seq = pp_cost_op_s(f.c, &gl, ln, PP_CFG_SEQUENCE);
	ck_assert_double_le(REL(seq, rep / 8), 1e-12);
	/* a column-parallel matmul does 1/t of the work; a norm cannot split the hidden dim */
	ck_assert(pp_cost_op_s(f.c, &gl, qkv, PP_CFG_COLUMN) < pp_cost_op_s(f.c, &gl, qkv, PP_CFG_REPLICATE) / 7.9);
	ck_assert(pp_cost_op_s(f.c, &gl, ln, PP_CFG_HIDDEN) < 0);
	close_fx(&f);
}
END_TEST

START_TEST(test_compute_time_per_op)
{
	/* time = max(FLOPs / (peak * eff), bytes / bandwidth), backward twice forward */
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(1, 1, 1, 1, 1);
	int qkv = pp_graph_find_op(f.g, "l0.attn.qkv"), gelu = pp_graph_find_op(f.g, "l0.mlp.gelu");
	double flops = 2.0 * 2048 * 12288 * 36864, fwd = flops / (312e12 * 0.7);
	double gb = 2.0 * 2048 * 49152 * 2; /* gelu: read and write b*s*4h in bf16 */
	ck_assert_double_le(REL(pp_cost_op_s(f.c, &gl, qkv, PP_CFG_REPLICATE), 3 * fwd), 1e-12);
	ck_assert_double_le(REL(pp_cost_op_s(f.c, &gl, gelu, PP_CFG_REPLICATE), 3 * gb / 2039e9), 1e-12);
	close_fx(&f);
}
END_TEST

START_TEST(test_gemm_table_shrinks_with_split)
{
	/* with a calibrated table a column-parallel GEMM is looked up at its own smaller shape */
	static const char *hwj =
		"{\"format\": \"parplan-hw/1\", \"name\": \"t\", \"device\": {\"name\": \"x\", "
		"\"peak_tflops\": {\"bf16\": 100}, \"memory_gib\": 80, \"memory_bw_gbs\": 2000, "
		"\"gemm_table\": {\"dtype\": \"bf16\", \"points\": ["
		"{\"m\": 2048, \"n\": 1024, \"k\": 12288, \"tflops\": 40},"
		"{\"m\": 2048, \"n\": 36864, \"k\": 12288, \"tflops\": 80}]}, \"source\": \"test\"},"
		"\"node\": {\"devices\": 8, \"intra\": {\"name\": \"n\", \"bw_gbs\": 300, \"latency_us\": 1, \"source\": \"t\"}},"
		"\"network\": {\"name\": \"ib\", \"bw_gbs\": 25, \"latency_us\": 5, \"source\": \"t\"}}";
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	pp_costctx *c = NULL;
	pp_global gl = plan(8, 1, 1, 1, 1);
	int qkv;
	double full, col;
	ck_assert_int_eq(pp_graph_load("../models/gpt3-175b.json", &g, &err), 0);
	ck_assert_int_eq(pp_hw_parse("mem", hwj, &hw, &err), 0);
	ck_assert_int_eq(pp_costctx_new(&c, g, hw, &err), 0);
	qkv = pp_graph_find_op(g, "l0.attn.qkv");
	full = pp_cost_op_s(c, &gl, qkv, PP_CFG_REPLICATE);
	col = pp_cost_op_s(c, &gl, qkv, PP_CFG_COLUMN);
	/* the 2048 x 4608 x 12288 shard runs below 80 TFLOP/s, so more than 1/8 of the time */
	ck_assert(col > full / 8 * 1.05);
	pp_costctx_free(c);
	pp_hw_free(hw);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_invalid_plans_name_the_rule)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_error err = PP_ERROR_INIT;
	pp_global gl = plan(5, 16, 8, 1, 1536);
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "heads"));
	gl = plan(8, 16, 8, 1, 1536);
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 1000, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "t*p*d"));
	gl = plan(8, 16, 8, 5, 1536);
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "micro-batch*d"));
	gl = plan(8, 16, 8, 1, 1536);
	gl.schedule = PP_SCHED_INTERLEAVED;
	gl.virtual_stages = 4;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "p*v"));
	gl = plan(8, 7, 8, 1, 1536);
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "divisible by p"));
	gl = plan(1, 16, 8, 1, 1536);
	gl.sequence_parallel = 1;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "sequence parallel"));
	/* uneven stages: first and last with fewer layers, the rest even */
	gl = plan(8, 16, 8, 1, 1536);
	gl.first_stage_layers = 5;
	gl.last_stage_layers = 7; /* 84 layers left over 14 stages */
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), 0);
	{
		int layers[16];
		pp_global_stage_layers(f.g, &gl, layers);
		ck_assert_int_eq(layers[0], 5);
		ck_assert_int_eq(layers[1], 6);
		ck_assert_int_eq(layers[15], 7);
	}
	gl.first_stage_layers = 4;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	close_fx(&f);
}
END_TEST

START_TEST(test_data_parallel_overlap)
{
	/* 7.5B on 128 GPUs, d = 32 over 4 nodes: the gradient all-reduce is exposed unless overlapped
	 * with backward; the distributed optimizer turns it into reduce-scatter + all-gather */
	fixture f = open_fx("../models/gpt-7.5b.json", A100);
	pp_global gl = plan(4, 1, 32, 16, 512);
	pp_cost plain, ovl, dist;
	plain = eval(&f, &gl);
	gl.overlap_grad_reduce = 1;
	ovl = eval(&f, &gl);
	gl.overlap_grad_reduce = 0;
	gl.distributed_optimizer = 1;
	dist = eval(&f, &gl);
	ck_assert(plain.dp_comm_s > 0);
	ck_assert_double_le(REL(ovl.dp_comm_s, MAXD0(plain.dp_comm_s - plain.stage_bwd_s)), 1e-12);
	ck_assert(ovl.iteration_s < plain.iteration_s);
	/* fp32 grads reduce-scattered (half an all-reduce) plus bf16 weights all-gathered */
	ck_assert(dist.dp_comm_s < plain.dp_comm_s);
	ck_assert(dist.optimizer_s < plain.optimizer_s / 31);
	close_fx(&f);
}
END_TEST

START_TEST(test_bad_config_rejected)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(8, 16, 8, 1, 1536);
	uint8_t *cfg = malloc((size_t)f.g->n_ops);
	pp_cost c;
	pp_strategy_megatron(f.g, &gl, cfg);
	ck_assert_int_eq(pp_cost_eval(f.c, &gl, cfg, &c), 0);
	cfg[pp_graph_find_op(f.g, "l0.ln1")] = PP_CFG_HIDDEN;
	ck_assert_int_eq(pp_cost_eval(f.c, &gl, cfg, &c), PP_EINVALID);
	/* SAMPLE on the t axis needs the micro-batch divisible by t */
	pp_strategy_megatron(f.g, &gl, cfg);
	cfg[pp_graph_find_op(f.g, "l0.attn.qkv")] = PP_CFG_SAMPLE;
	ck_assert_int_eq(pp_cost_eval(f.c, &gl, cfg, &c), PP_EINVALID);
	free(cfg);
	close_fx(&f);
}
END_TEST

START_TEST(test_eval_refuses_degrees_whose_product_overflows)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = PP_GLOBAL_INIT;
	pp_cost c;
	/* t*d = 2^32 GPUs in a group: refused, not wrapped (make asan would abort on the wrap) */
	gl.t = 65536;
	gl.d = 65536;
	gl.micro_batch = 1;
	gl.global_batch = 65536;
	ck_assert_int_eq(pp_cost_eval(f.c, &gl, NULL, &c), PP_EINVALID);
	gl.t = 0;
	gl.d = 1;
	ck_assert_int_eq(pp_cost_eval(f.c, &gl, NULL, &c), PP_EINVALID);
	close_fx(&f);
}
END_TEST

/* ---- stacks: flash attention, shape-aware GEMMs, overlaps, per-op backward ---------------- */

static void use_stack(fixture *f, const char *name)
{
	pp_stack st;
	pp_error err = PP_ERROR_INIT;
	char path[256];
	snprintf(path, sizeof(path), "../stacks/%s.json", name);
	ck_assert_msg(pp_stack_load(path, &st, &err) == 0, "%s", err.msg);
	pp_costctx_set_stack(f->c, &st);
}

START_TEST(test_gemm_model_hand_shapes)
{
	double mx = 800e12;
	/* 4096^3 on 132 SMs: 256x128 tiles 16 x 32 = 512, 4 waves of 132 hold 528: 512/528 */
	ck_assert_double_le(REL(pp_cf_gemm_flops(mx, 132, 4096, 4096, 4096), mx * 512.0 / 528.0), 1e-12);
	/* m = 512 (a TP chunk): 2 x 36 = 72 tiles of 256x128, one wave 72/132 full; 128x128
	 * gives 144 tiles in 2 waves, the same 0.545 times its intensity penalty */
	ck_assert_double_le(REL(pp_cf_gemm_flops(mx, 132, 512, 4608, 12288), mx * 72.0 / 132.0), 1e-12);
	/* m = 4097: 256-row tiles waste 17*256 - 4097 rows (0.9414) in 5 waves of 544 tiles
	 * (544/660); 128x256 tiles: 33 x 16 = 528 tiles, 4 full waves, 4097/(33*128) */
	ck_assert_double_le(REL(pp_cf_gemm_flops(mx, 132, 4097, 4096, 4096), mx * 4097.0 / (33 * 128)), 1e-12);
	/* 108 SMs (A100), 256 x 256 output: 2 tiles of 256x128: one wave 2/108; 128x128: 4 tiles
	 * at 0.75 = 3/108 wins */
	ck_assert_double_le(REL(pp_cf_gemm_flops(mx, 108, 256, 256, 4096), mx * 4.0 / 108.0 * 0.75), 1e-12);
	/* no SM count: the measured maximum */
	ck_assert_double_eq(pp_cf_gemm_flops(mx, 0, 100, 100, 100), mx);
}
END_TEST

START_TEST(test_flash_closed_forms)
{
	double bwd = 0;
	/* 100 TFLOP of QK^T + AV, causal: half of it at 0.5 of a 1000 TFLOP/s peak = 0.1 s; the
	 * backward 2.5x those FLOPs at 0.4: 0.3125 s (Dao 2023) */
	ck_assert_double_eq_tol(pp_cf_flash_attention_s(100e12, 1, 1000e12, 0.5, 0.4, &bwd), 0.1, 1e-15);
	ck_assert_double_eq_tol(bwd, 0.3125, 1e-15);
	ck_assert_double_eq_tol(pp_cf_flash_attention_s(100e12, 0, 1000e12, 0.5, 0.4, NULL), 0.2, 1e-15);
	/* Korthikanti without the 5as/h term: 34 sbh, (10 + 24/t) sbh, 34 sbh / t */
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes_flash(2048, 1, 12288, 1, 0, PP_RECOMPUTE_NONE),
				2048.0 * 12288 * 34, 1e-3);
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes_flash(2048, 1, 12288, 8, 0, PP_RECOMPUTE_NONE),
				2048.0 * 12288 * 13, 1e-3);
	ck_assert_double_eq_tol(pp_cf_gpt_layer_activation_bytes_flash(2048, 1, 12288, 8, 1, PP_RECOMPUTE_NONE),
				2048.0 * 12288 * 34 / 8, 1e-3);
	ck_assert_double_eq_tol(pp_cf_llama_layer_activation_bytes_flash(8192, 1, 8192, 64, 8, 28672, 8, 1,
									 PP_RECOMPUTE_NONE),
				pp_cf_llama_layer_activation_bytes(8192, 1, 8192, 64, 8, 28672, 8, 1,
								   PP_RECOMPUTE_SELECTIVE), 1e-3);
	/* unfused fp32 cross-entropy: 38 bytes per bf16 logit forward, 14 backward */
	ck_assert_double_eq(pp_cf_unfused_ce_bytes(2, &bwd), 14);
	ck_assert_double_eq(bwd, 38);
}
END_TEST

/* The engine under the flash stack keeps what the flash closed forms say, on every model. */
START_TEST(test_flash_engine_memory)
{
	const char *models[] = {"../models/gpt3-175b.json", "../models/llama3-70b.json"};
	int mi, t, sp;
	for (mi = 0; mi < 2; mi++) {
		fixture f = open_fx(models[mi], A100);
		const pp_graph *g = f.g;
		double s = (double)g->seq, h = (double)g->hidden, a = (double)g->heads;
		int llama = strstr(models[mi], "llama") != NULL;
		use_stack(&f, "megatron-core");
		for (t = 1; t <= 8; t *= 2)
			for (sp = 0; sp <= (t > 1); sp++) {
				pp_global gl = plan(t, 1, 2, 2, 8);
				pp_cost c;
				double act;
				gl.sequence_parallel = sp;
				c = eval(&f, &gl);
				act = llama ? pp_cf_llama_layer_activation_bytes_flash(s, 2, h, a, (double)g->kv_heads,
											(double)g->ffn, t, sp, PP_RECOMPUTE_NONE)
					    : pp_cf_gpt_layer_activation_bytes_flash(s, 2, h, t, sp, PP_RECOMPUTE_NONE);
				ck_assert_msg(REL(c.layer_act_bytes, act) < 1e-9, "%s t=%d sp=%d: %.17g vs %.17g",
					      models[mi], t, sp, c.layer_act_bytes, act);
				/* the split of the backward: weight gradients are a real part of it */
				ck_assert(c.stage_w_s > 0 && c.stage_b_s > c.stage_w_s * 0.5);
				ck_assert_double_le(REL(c.stage_b_s + c.stage_w_s, c.stage_bwd_s), 1e-12);
				ck_assert_str_eq(c.stack, "megatron-core");
			}
		close_fx(&f);
	}
}
END_TEST

#define H800 "../hwprofiles/dgx-h800.json"

static void expect_invalid(const fixture *f, const pp_global *gl, const char *part)
{
	pp_error err = PP_ERROR_INIT;
	ck_assert_int_eq(pp_global_validate(f->g, gl, 0, &err), PP_EINVALID);
	ck_assert_msg(strstr(err.msg, part) != NULL, "\"%s\" lacks \"%s\"", err.msg, part);
}

/* Expert parallelism (issue 18): routed experts' memory over ep, Adam over expert-dp, the
 * all-to-all's closed forms in and across nodes, the folding rules, the imbalance factor. */
START_TEST(test_moe_expert_parallel)
{
	fixture f = open_fx("../models/mixtral-8x7b.json", H800), q;
	const pp_graph *g = f.g;
	double Pe = (double)g->expert_params, Pd = (double)g->params - Pe, GiB = 1073741824.0;
	double bi = 200e9 * 0.8, ai = 3e-6, bn = 50e9 * 0.9, an = 6e-6, bytes, one, base;
	int ep;
	pp_global gl;
	pp_cost c;
	ck_assert_double_eq(Pe, 32.0 * 8 * 3 * 4096 * 14336);
	for (ep = 1; ep <= 8; ep *= 2) {
		gl = plan(1, 1, 64, 1, 64);
		gl.ep = ep;
		gl.distributed_optimizer = 1;
		c = eval(&f, &gl);
		ck_assert_double_le(REL(c.stage_params, Pd + Pe / ep), 1e-12);
		/* dense states sharded over d = 64, the experts' Adam over expert-dp = 64 / ep */
		ck_assert_double_le(REL((c.weights_gib + c.grads_gib + c.optimizer_gib) * GiB,
					Pd * pp_cf_zero_bytes_per_param(1, 64, 4) +
						Pe / ep * pp_cf_zero_bytes_per_param(1, 64 / ep, 4)), 1e-9);
		/* model FLOPs do not depend on where the experts sit */
		ck_assert_double_le(REL(c.model_flops, 3 * g->gemm_flops_per_token * 4096 * 64), 1e-9);
		if (ep == 1)
			ck_assert_double_eq(c.ep_a2a_s, 0);
	}
	/* ep = 8 inside a node: 32 layers x (dispatch + combine) x (forward + backward), each moving
	 * the (ep-1)/ep share of s*k*h*2 bytes over NVLink */
	bytes = 4096.0 * 2 * 4096 * 2;
	ck_assert_double_le(REL(c.ep_a2a_s, 32 * 4 * (ai + bytes * 7 / 8 / bi)), 1e-9);
	/* imbalance: the busiest rank's experts run 1.5x the rows */
	base = c.compute_s;
	gl.moe_imbalance = 150;
	c = eval(&f, &gl);
	ck_assert(c.compute_s > base && c.compute_s < 1.5 * base);
	/* rules (Megatron-Core): experts divide over ep, ep * etp divides t * cp * d, etp 1 or t */
	gl = plan(1, 1, 64, 1, 64);
	gl.ep = 3;
	expect_invalid(&f, &gl, "does not divide the 8 experts");
	gl = plan(2, 1, 2, 1, 64);
	gl.ep = 8;
	expect_invalid(&f, &gl, "does not divide t*cp*d");
	gl = plan(1, 1, 64, 1, 64);
	gl.etp = 2;
	expect_invalid(&f, &gl, "is 1 or t=1");
	close_fx(&f);
	q = open_fx("../models/llama3-8b.json", H800);
	gl = plan(1, 1, 8, 1, 8);
	gl.ep = 2;
	expect_invalid(&q, &gl, "no routed experts");
	close_fx(&q);

	/* across nodes: Qwen3-30B-A3B, 128 experts, top-8, ep = 32 over 4 nodes: without a node
	 * limit every routed copy leaving the node crosses the network, 3/4 of them; limited to 2
	 * nodes a token crosses at most twice (bytes / 8 * 2 * 3/4), and NVLink's forwarding, all the
	 * bytes, bounds the time (DeepSeek-V3 report sec. 3.2.2) */
	f = open_fx("../models/qwen3-30b-a3b.json", H800);
	gl = plan(1, 1, 64, 1, 64);
	gl.ep = 32;
	c = eval(&f, &gl);
	bytes = 4096.0 * 8 * 2048 * 2;
	one = an + fmax(bytes * 3 / 4 / bn, bytes / bi);
	ck_assert_double_le(REL(c.ep_a2a_s, 48 * 4 * one), 1e-9);
	gl.moe_max_nodes = 2;
	c = eval(&f, &gl);
	one = an + fmax(bytes / 8 * 2 * 3 / 4 / bn, bytes / bi);
	ck_assert_double_le(REL(c.ep_a2a_s, 48 * 4 * one), 1e-9);
	close_fx(&f);
}
END_TEST

/* Capacity factor (issue 18): the busiest rank's rows min(imbalance, C), C when padded, and the
 * padding travels in the all-to-all (Megatron-Core get_capacity, Switch Transformer sec. 2.2). */
START_TEST(test_moe_capacity)
{
	fixture f = open_fx("../models/mixtral-8x7b.json", H800);
	double bi = 200e9 * 0.8, ai = 3e-6, bytes = 4096.0 * 2 * 4096 * 2;
	pp_global gl = plan(1, 1, 64, 1, 64);
	pp_cost base, c;
	/* the closed forms by hand */
	ck_assert_double_eq(pp_cf_moe_expert_rows(1.5, 0, 0), 1.5);
	ck_assert_double_eq(pp_cf_moe_expert_rows(1.5, 1.25, 0), 1.25);
	ck_assert_double_eq(pp_cf_moe_expert_rows(1.1, 1.25, 0), 1.1);
	ck_assert_double_eq(pp_cf_moe_expert_rows(1.1, 1.25, 1), 1.25);
	ck_assert_double_eq(pp_cf_moe_a2a_rows(0, 0), 1);
	ck_assert_double_eq(pp_cf_moe_a2a_rows(1.25, 0), 1);
	ck_assert_double_eq(pp_cf_moe_a2a_rows(0.5, 0), 0.5);
	ck_assert_double_eq(pp_cf_moe_a2a_rows(1.25, 1), 1.25);
	gl.ep = 8;
	base = eval(&f, &gl);
	/* imbalance 200 dropped at capacity 1.25 costs what imbalance 125 dropless does */
	gl.moe_imbalance = 200;
	gl.moe_capacity = 125;
	c = eval(&f, &gl);
	gl.moe_imbalance = 125;
	gl.moe_capacity = 0;
	ck_assert_double_le(REL(c.compute_s, eval(&f, &gl).compute_s), 1e-12);
	ck_assert(c.compute_s > base.compute_s);
	ck_assert_double_le(REL(c.ep_a2a_s, base.ep_a2a_s), 1e-12);
	/* padded to 1.5: every expert runs 1.5x the balanced rows, whatever the imbalance, and the
	 * all-to-all carries 1.5x the bytes: 32 layers x 4 by hand as in test_moe_expert_parallel */
	gl.moe_imbalance = 100;
	gl.moe_capacity = 150;
	gl.moe_pad_capacity = 1;
	c = eval(&f, &gl);
	ck_assert_double_le(REL(c.ep_a2a_s, 32 * 4 * (ai + 1.5 * bytes * 7 / 8 / bi)), 1e-9);
	gl.moe_pad_capacity = 0;
	gl.moe_imbalance = 150;
	ck_assert_double_le(REL(c.compute_s, eval(&f, &gl).compute_s), 1e-12);
	/* the busiest rank keeps its padded rows: the experts' h + 3f per row, 0.5x more of them */
	ck_assert_double_le(REL(c.layer_act_bytes - base.layer_act_bytes,
				0.5 * 2.0 * 4096 * 2 * (4096 + 3.0 * 14336)), 1e-9);
	/* ZeRO-3 shards the experts' states over expert-dp: the breakdown's parts stay positive and
	 * add up to the peak */
	gl = plan(1, 1, 64, 1, 64);
	gl.ep = 8;
	gl.zero = 3;
	c = eval(&f, &gl);
	ck_assert(c.weights_gib > 0 && c.grads_gib > 0 && c.optimizer_gib > 0);
	ck_assert_double_le(REL(c.weights_gib + c.grads_gib + c.optimizer_gib + c.activations_gib, c.peak_gib), 1e-9);
	/* rules: padding needs a capacity, a capacity needs experts */
	gl = plan(1, 1, 64, 1, 64);
	gl.moe_pad_capacity = 1;
	expect_invalid(&f, &gl, "needs a capacity factor");
	close_fx(&f);
	f = open_fx("../models/llama3-8b.json", H800);
	gl = plan(1, 1, 8, 1, 8);
	gl.moe_capacity = 100;
	expect_invalid(&f, &gl, "needs routed experts");
	close_fx(&f);
}
END_TEST

/* Expert all-to-all overlap (issue 18): exposed = max(0, a2a - the paired chunk's compute);
 * combined 1F1B pairs all but the first forward without pipelining; DualPipe's F&B chunks. */
START_TEST(test_moe_a2a_overlap)
{
	fixture f = open_fx("../models/mixtral-8x7b.json", H800);
	pp_global gl = plan(1, 1, 64, 1, 256);
	pp_cost off, on;
	double ax, hid;
	/* by hand: 2 + 2 s of all-to-all beside 8 + 18 s of other work hide whole; beside 1 + 1 s
	 * only 2 s of it hides */
	ck_assert_double_eq(pp_cf_ep_a2a_hidden_s(10, 20, 2, 2), 4);
	ck_assert_double_eq(pp_cf_ep_a2a_hidden_s(3, 3, 2, 2), 2);
	ck_assert_double_eq(pp_cf_ep_a2a_hidden_s(1, 1, 1, 1), 0);
	use_stack(&f, "megatron-core");
	gl.ep = 8;
	gl.distributed_optimizer = 1;
	off = eval(&f, &gl);
	gl.overlap_moe_a2a = 1;
	on = eval(&f, &gl);
	/* 4 micro-batches, no pipelining: 3 forwards paired with the backward before them */
	ck_assert_int_eq(on.microbatches, 4);
	ax = off.ep_a2a_s / 4 / 2;
	hid = 3 * pp_cf_ep_a2a_hidden_s(off.stage_fwd_s, off.stage_bwd_s, ax, ax);
	ck_assert(hid > 0);
	ck_assert_double_le(REL(on.ep_a2a_hidden_s, hid), 1e-12);
	ck_assert_double_le(REL(on.ep_a2a_s, off.ep_a2a_s - hid), 1e-12);
	ck_assert_double_le(REL(on.iteration_s, off.iteration_s - hid), 1e-12);
	ck_assert(on.overlaps & PP_OVERLAP_MOE_A2A);
	ck_assert_double_le(REL(on.compute_s + on.tp_comm_s + on.pp_comm_s + on.bubble_s + on.dp_comm_s +
				on.optimizer_s, on.iteration_s), 1e-12);
	/* a stack without the overlap ignores it */
	use_stack(&f, "deepspeed");
	off = eval(&f, &gl);
	ck_assert_double_eq(off.ep_a2a_hidden_s, 0);
	ck_assert_uint_eq(off.overlaps & PP_OVERLAP_MOE_A2A, 0);
	/* DualPipe: the F&B pairs hide each other's all-to-all, the parts still add up */
	use_stack(&f, "megatron-core");
	gl = plan(1, 4, 16, 1, 16 * 16);
	gl.ep = 8;
	gl.schedule = PP_SCHED_DUALPIPE;
	off = eval(&f, &gl);
	gl.overlap_moe_a2a = 1;
	on = eval(&f, &gl);
	ck_assert(on.ep_a2a_hidden_s > 0 && on.iteration_s < off.iteration_s);
	ck_assert_double_le(REL(on.ep_a2a_s + on.ep_a2a_hidden_s, off.ep_a2a_s), 1e-9);
	/* the pairs of the fill and drain shorten the bubble as well (pp_sched_pipeline_s) */
	ck_assert(off.iteration_s - on.iteration_s >= on.ep_a2a_hidden_s * (1 - 1e-12));
	ck_assert(on.bubble_s <= off.bubble_s);
	ck_assert_double_le(REL(on.compute_s + on.tp_comm_s + on.pp_comm_s + on.bubble_s + on.dp_comm_s +
				on.optimizer_s, on.iteration_s), 1e-12);
	/* rules (Megatron-Core transformer_config.py): expert parallelism, no full recomputation,
	 * with p > 1 the interleaved schedule (or DualPipe here) */
	gl.recompute = PP_RECOMPUTE_FULL;
	expect_invalid(&f, &gl, "full recomputation");
	gl.recompute = PP_RECOMPUTE_NONE;
	gl.schedule = PP_SCHED_1F1B;
	expect_invalid(&f, &gl, "interleaved schedule");
	gl = plan(1, 1, 64, 1, 256);
	gl.overlap_moe_a2a = 1;
	expect_invalid(&f, &gl, "needs expert parallelism");
	close_fx(&f);
}
END_TEST

/* MLA's closed form against the engine (issue 18): DeepSeek-V3's dense MLA layer is the Llama
 * form (MHA, flash) with its QKV input, Q/K/V and attention-out input replaced by MLA's. */
START_TEST(test_mla_closed_form)
{
	fixture f = open_fx("../models/deepseek-v3.json", H800);
	const pp_graph *g = f.g;
	double s = (double)g->seq, h = (double)g->hidden, a = (double)g->heads, ff = (double)g->ffn;
	int b;
	use_stack(&f, "megatron-core");
	ck_assert_double_eq(h, 7168);
	for (b = 1; b <= 2; b++) {
		pp_global gl = plan(1, 1, 64, b, 64 * b);
		pp_cost c = eval(&f, &gl);
		double llama = pp_cf_llama_layer_activation_bytes_flash(s, b, h, a, a, ff, 1, 0, PP_RECOMPUTE_NONE);
		double gqa = 2.0 * s * b * (h + 3.0 * h + h); /* QKV input, Q|K|V, attention-out input */
		double mla = pp_cf_mla_attention_activation_bytes(s, b, h, a, 1536, 512, 128, 64, 128, 1,
								  PP_RECOMPUTE_NONE);
		ck_assert_msg(REL(c.layer_act_bytes, llama - gqa + mla) < 1e-9, "b=%d: %.17g vs %.17g", b,
			      c.layer_act_bytes, llama - gqa + mla);
	}
	/* by hand, one token of DeepSeek-V3: 3h + 2(1536 + 512) + 128(192) + 128(256) + 64 + 128(128)
	 * elements of 2 bytes; without flash the 5Hs^2 scores; nothing under full recompute */
	ck_assert_double_eq(pp_cf_mla_attention_activation_bytes(1, 1, h, a, 1536, 512, 128, 64, 128, 1,
								 PP_RECOMPUTE_NONE),
			    2.0 * (3 * 7168 + 2 * 2048 + 128 * 192 + 128 * 256 + 64 + 128 * 128));
	ck_assert_double_eq(pp_cf_mla_attention_activation_bytes(4, 1, h, a, 0, 512, 128, 64, 128, 0,
								 PP_RECOMPUTE_NONE) -
				    pp_cf_mla_attention_activation_bytes(4, 1, h, a, 0, 512, 128, 64, 128, 1,
									 PP_RECOMPUTE_NONE),
			    5.0 * 128 * 16);
	ck_assert_double_eq(pp_cf_mla_attention_activation_bytes(s, 1, h, a, 1536, 512, 128, 64, 128, 0,
								 PP_RECOMPUTE_FULL), 0);
	close_fx(&f);
}
END_TEST

START_TEST(test_flash_faster_and_smaller_than_unfused)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(8, 8, 1, 1, 64);
	pp_cost un, fl;
	gl.sequence_parallel = 1;
	use_stack(&f, "megatron-sc21");
	un = eval(&f, &gl);
	use_stack(&f, "megatron-core");
	fl = eval(&f, &gl);
	ck_assert(fl.layer_act_bytes < un.layer_act_bytes);
	ck_assert(fl.layer_fwd_s < un.layer_fwd_s);
	close_fx(&f);
}
END_TEST

START_TEST(test_tp_overlap)
{
	double hidden = 0;
	/* 8 ms of TP traffic in 8 chunks behind 20 ms of GEMMs: 1 ms exposed, 7 ms hidden, slowed
	 * by 10% of the hidden time */
	ck_assert_double_eq_tol(pp_cf_tp_overlap_exposed_s(8e-3, 8, 20e-3, 0.1, &hidden), 1e-3 + 0.7e-3, 1e-15);
	ck_assert_double_eq_tol(hidden, 7e-3, 1e-15);
	/* more traffic than GEMMs: the excess stays exposed */
	ck_assert_double_eq_tol(pp_cf_tp_overlap_exposed_s(8e-3, 8, 2e-3, 0, &hidden), 6e-3, 1e-15);
	{
		fixture f = open_fx("../models/gpt3-175b.json", A100);
		pp_global gl = plan(8, 4, 2, 1, 64);
		pp_cost off, on;
		gl.sequence_parallel = 1;
		gl.distributed_optimizer = 1;
		use_stack(&f, "megatron-core");
		off = eval(&f, &gl);
		gl.tp_comm_overlap = 1;
		gl.overlap_grad_reduce = 1;
		gl.overlap_param_gather = 1;
		on = eval(&f, &gl);
		/* without --tp-comm-overlap only the asynchronous dgrad collectives hide (behind
		 * their weight gradients); with it the userbuffers overlap hides more */
		ck_assert(on.tp_comm_s < off.tp_comm_s && on.tp_hidden_s > off.tp_hidden_s &&
			  off.tp_hidden_s > 0);
		ck_assert(on.dp_comm_s < off.dp_comm_s && on.dp_hidden_s > 0);
		ck_assert(on.iteration_s < off.iteration_s);
		/* the overlaps in force, and the exposed DP time by overlap */
		ck_assert_uint_eq(on.overlaps & (PP_OVERLAP_TP_COMM | PP_OVERLAP_GRAD_REDUCE | PP_OVERLAP_PARAM_GATHER),
				  PP_OVERLAP_TP_COMM | PP_OVERLAP_GRAD_REDUCE | PP_OVERLAP_PARAM_GATHER);
		ck_assert_uint_eq(off.overlaps & (PP_OVERLAP_TP_COMM | PP_OVERLAP_GRAD_REDUCE | PP_OVERLAP_PARAM_GATHER), 0);
		ck_assert(on.dp_reduce_s < off.dp_reduce_s && on.dp_gather_s < off.dp_gather_s);
		ck_assert_double_le(on.dp_reduce_s + on.dp_gather_s, on.dp_comm_s * (1 + 1e-12));
		/* the exposed parts still add up to the iteration */
		ck_assert_double_le(REL(on.compute_s + on.tp_comm_s + on.pp_comm_s + on.bubble_s + on.dp_comm_s +
					on.optimizer_s, on.iteration_s), 1e-12);
		/* a stack without TP overlap ignores the flag */
		use_stack(&f, "deepspeed");
		on = eval(&f, &gl);
		ck_assert(on.tp_hidden_s == 0);
		ck_assert_uint_eq(on.overlaps & (PP_OVERLAP_TP_COMM | PP_OVERLAP_PARAM_GATHER), 0);
		ck_assert(on.overlaps & PP_OVERLAP_GRAD_REDUCE);
		close_fx(&f);
	}
}
END_TEST

/* ---- ZeRO stages, FSDP, HSDP and context parallelism (issue 16) ---------------------------- */

/* Llama 2 7B by hand: 32 layers of 4h^2 (q, k, v, o: 32 kv heads) + 3hf (SwiGLU) + 2h (two
 * RMSNorms), the untied embedding and LM head V*h each, the final norm h. */
#define L7_LAYER (4.0 * 4096 * 4096 + 3.0 * 4096 * 11008 + 2.0 * 4096)
#define L7_PARAMS (32 * L7_LAYER + 2.0 * 32000 * 4096 + 4096)

START_TEST(test_zero_closed_forms_paper)
{
	/* Rajbhandari et al. 2020, Figure 1: Psi = 7.5B, Nd = 64, K = 12, fp16 gradients: 120 GB,
	 * 31.4 GB, 16.6 GB, 1.9 GB */
	ck_assert_double_le(fabs(pp_cf_zero_bytes_per_param(0, 64, 2) * 7.5 - 120.0), 1e-9);
	ck_assert_double_le(fabs(pp_cf_zero_bytes_per_param(1, 64, 2) * 7.5 - 31.40625), 1e-9);
	ck_assert_double_le(fabs(pp_cf_zero_bytes_per_param(2, 64, 2) * 7.5 - 16.640625), 1e-9);
	ck_assert_double_le(fabs(pp_cf_zero_bytes_per_param(3, 64, 2) * 7.5 - 1.875), 1e-9);
	/* the distributed optimizer of before is stage 1 with fp32 gradients */
	ck_assert_double_eq(pp_cf_bytes_per_param(8, 1), pp_cf_zero_bytes_per_param(1, 8, 4));
	/* prefetch overlap by hand: 4 units, all-gathers 4 s (1 per unit) forward and backward,
	 * reduce-scatter 8 s (2), compute 2 s forward (0.5) and 4 s backward (1): forward 1 + 3 *
	 * (1 - 0.5); backward 1 + 3 * (1 + 2 - 1) + 2 */
	ck_assert_double_eq_tol(pp_cf_sharded_dp_exposed_s(4, 4, 4, 8, 2, 4), 2.5 + 9.0, 1e-12);
	/* ZeRO-2: the reduce-scatter alone, hidden but for the last unit's when compute is ample */
	ck_assert_double_eq_tol(pp_cf_sharded_dp_exposed_s(4, 0, 0, 8, 2, 40), 2.0, 1e-12);
}
END_TEST

START_TEST(test_zero_memory_by_hand)
{
	fixture f = open_fx("../models/llama2-7b.json", A100);
	pp_global gl = plan(1, 1, 8, 1, 64);
	pp_cost c;
	double P = L7_PARAMS, unit = L7_LAYER, states;
	/* the largest unit in flight is a layer (the embedding and the head are 131M each) */
	gl.recompute = PP_RECOMPUTE_FULL;
	c = eval(&f, &gl);
	ck_assert_double_le(REL(c.stage_params, P), 1e-12);
	states = (c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0;
	ck_assert_double_le(REL(states, 18 * P), 1e-12); /* (2 + 4 + 12) Psi */
	gl.zero = 1;
	c = eval(&f, &gl);
	states = (c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0;
	ck_assert_double_le(REL(states, (6 + 12.0 / 8) * P), 1e-12); /* 2Psi + 4Psi + 12Psi/Nd */
	gl.zero = 2;
	c = eval(&f, &gl);
	states = (c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0;
	/* 2Psi + (4 + 12)Psi/Nd, plus one layer's fp32 gradients before their reduce-scatter */
	ck_assert_double_le(REL(states, (2 + 16.0 / 8) * P + 4 * unit), 1e-12);
	ck_assert_double_le(REL(c.weights_gib * 1073741824.0, 2 * P), 1e-12);
	gl.zero = 3;
	c = eval(&f, &gl);
	states = (c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0;
	/* (2 + 4 + 12)Psi/Nd, plus two layers' bf16 weights in flight (the one computing and the
	 * prefetched next) and one layer's gradients */
	ck_assert_double_le(REL(states, 18.0 / 8 * P + 2 * 2 * unit + 4 * unit), 1e-12);
	ck_assert_int_eq(c.zero_stage, 3);
	/* FSDP is stage 3 */
	gl.zero = 0;
	gl.fsdp = 1;
	ck_assert_double_le(REL(eval(&f, &gl).peak_gib, c.peak_gib), 1e-12);
	/* HSDP: shard over 4, replicate over 2: the states of stage 3 over 4 ranks */
	gl.hsdp_shard = 4;
	c = eval(&f, &gl);
	states = (c.weights_gib + c.grads_gib + c.optimizer_gib) * 1073741824.0;
	ck_assert_double_le(REL(states, 18.0 / 4 * P + 8 * unit), 1e-12);
	close_fx(&f);
}
END_TEST

START_TEST(test_zero_comm_by_hand)
{
	fixture f = open_fx("../models/llama2-7b.json", A100);
	pp_global gl = plan(1, 1, 16, 1, 64);
	pp_cost c;
	double P = L7_PARAMS, ag, rs, rs_h;
	int m = 4;
	gl.fsdp = 1;
	c = eval(&f, &gl);
	/* 16 ranks over two nodes of 8: hierarchical all-gather of the bf16 weights and
	 * reduce-scatter of the fp32 gradients (the legacy stack's 4 bytes), per micro-batch the
	 * weights gathered twice, 32 layer units */
	ag = pp_coll_s(f.hw, PP_COLL_ALLGATHER, 16, 1, P * 2);
	rs = pp_coll_s(f.hw, PP_COLL_REDUCESCATTER, 16, 1, P * 4);
	ck_assert_int_eq(c.microbatches, m);
	ck_assert_double_le(REL(c.dp_comm_s, m * pp_cf_sharded_dp_exposed_s(32, ag, ag, rs, c.stage_fwd_s,
									   c.stage_bwd_s)),
			    1e-12);
	ck_assert_double_le(REL(c.dp_comm_s + c.dp_hidden_s, m * (2 * ag + rs)), 1e-12);
	/* HSDP, a node per shard group: all-gather and reduce-scatter inside the node, the two
	 * replicas all-reduce an eighth of the gradients across nodes */
	gl.hsdp_shard = 8;
	c = eval(&f, &gl);
	ag = pp_coll_s(f.hw, PP_COLL_ALLGATHER, 8, 1, P * 2);
	rs_h = pp_coll_s(f.hw, PP_COLL_REDUCESCATTER, 8, 1, P * 4) +
	       pp_coll_s(f.hw, PP_COLL_ALLREDUCE, 2, 8, P * 4 / 8);
	ck_assert_double_le(REL(c.dp_comm_s + c.dp_hidden_s, m * (2 * ag + rs_h)), 1e-12);
	ck_assert_double_lt(ag, pp_coll_s(f.hw, PP_COLL_ALLGATHER, 16, 1, P * 2));
	close_fx(&f);
}
END_TEST

START_TEST(test_cp_by_hand)
{
	fixture f = open_fx("../models/llama3-8b-128k.json", "../hwprofiles/dgx-h100.json");
	pp_global gl = plan(8, 1, 1, 1, 8);
	pp_cost c1, c;
	double kv, s = 131072, want;
	int cp = 8;
	use_stack(&f, "megatron-core");
	gl.sequence_parallel = 1;
	gl.recompute = PP_RECOMPUTE_SELECTIVE;
	gl.zero = 1;
	c1 = eval(&f, &gl);
	gl.cp = cp;
	c = eval(&f, &gl);
	/* activations of a layer divided by cp */
	ck_assert_double_le(REL(c.layer_act_bytes * cp, c1.layer_act_bytes), 1e-12);
	/* K and V of a rank: 2 x (s/cp) x (kv heads 8 x head dim 128)/t x 2 bytes = 8 MiB; the
	 * ring sends them cp - 1 times forward, and K/V plus their gradients cp - 1 times backward */
	kv = 2.0 * (s / cp) * (8 * 128 / 8) * 2;
	ck_assert_double_eq(kv, 8388608.0);
	ck_assert_double_eq(pp_cf_cp_kv_bytes(1, s, 1024, 8, cp, 2), kv);
	ck_assert_double_le(REL(c.layer_cp_bytes, (cp - 1) * 3 * kv), 1e-12);
	/* t*cp = 64 > 8 devices a node: the ring crosses nodes and each step runs at network speed */
	want = 32.0 * c.microbatches *
	       ((cp - 1) * pp_coll_s(f.hw, PP_COLL_P2P, 2, 8, kv) + (cp - 1) * pp_coll_s(f.hw, PP_COLL_P2P, 2, 8, 2 * kv));
	ck_assert_double_le(REL(c.cp_comm_s + c.cp_hidden_s, want), 1e-9);
	ck_assert(c.cp_hidden_s > 0); /* attention over 16K tokens hides part of the ring */
	/* all-gather and a2a are exposed whole */
	gl.cp_comm_type = PP_CP_ALLGATHER;
	c = eval(&f, &gl);
	ck_assert_double_eq(c.cp_hidden_s, 0);
	ck_assert_double_le(REL(c.cp_comm_s, 32.0 * c.microbatches *
					       (2 * pp_coll_s(f.hw, PP_COLL_ALLGATHER, cp, 8, kv * cp) +
						pp_coll_s(f.hw, PP_COLL_REDUCESCATTER, cp, 8, kv * cp))),
			    1e-9);
	close_fx(&f);
}
END_TEST

/* Hierarchical context parallelism (a2a+p2p, Megatron-LM --hierarchical-context-parallel-sizes
 * 2 4) and all_gather's working memory, worked by hand on Llama 3 8B at 128K tokens, t = 2,
 * cp = 8 over two DGX H100 nodes. */
START_TEST(test_cp_hier_and_allgather_by_hand)
{
	fixture f = open_fx("../models/llama3-8b-128k.json", "../hwprofiles/dgx-h100.json");
	pp_global gl = plan(2, 1, 1, 1, 8);
	pp_cost c, c_p2p, c_ag;
	pp_error err = PP_ERROR_INIT;
	double s = 131072, kv, qo, a2a, ring_f, ring_b, hf, hb, ef, eb, want;
	int cp = 8, A = 2, R = 4;
	use_stack(&f, "megatron-core");
	gl.sequence_parallel = 1;
	gl.recompute = PP_RECOMPUTE_SELECTIVE;
	gl.zero = 1;
	gl.cp = cp;
	c_p2p = eval(&f, &gl);
	/* a rank's K and V: 2 x s/cp x (8 kv heads x 128)/t x 2 bytes = 32 MiB; its Q and output
	 * the same with 32 heads: 128 MiB */
	kv = 2.0 * (s / cp) * (8 * 128 / 2) * 2;
	qo = 2.0 * (s / cp) * (4096 / 2) * 2;
	ck_assert_double_eq(kv, 33554432.0);
	ck_assert_double_eq(qo, 134217728.0);
	gl.cp_comm_type = PP_CP_A2A_P2P;
	gl.cp_a2a = A;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 16, &err), 0);
	c = eval(&f, &gl);
	/* the all-to-all inside pairs of ranks (stride t = 2, one node): Q, K, V and the output,
	 * forward and backward, exposed; the ring over R = 4 groups leaves the node (t*cp = 16 >
	 * 8): R - 1 network steps of the rank's K/V forward, K/V and gradients backward */
	a2a = pp_coll_s(f.hw, PP_COLL_ALLTOALL, A, 2, (kv + qo) * A);
	ring_f = (R - 1) * pp_coll_s(f.hw, PP_COLL_P2P, 2, 8, kv);
	ring_b = (R - 1) * pp_coll_s(f.hw, PP_COLL_P2P, 2, 8, 2 * kv);
	ck_assert(ring_f > pp_coll_s(f.hw, PP_COLL_P2P, 2, 2, kv) * (R - 1)); /* network, not NVLink */
	want = 32.0 * c.microbatches * (2 * a2a + ring_f + ring_b);
	ck_assert_double_le(REL(c.cp_comm_s + c.cp_hidden_s, want), 1e-9);
	ck_assert(c.cp_hidden_s > 0);
	ck_assert_double_le(c.cp_hidden_s, 32.0 * c.microbatches * (ring_f + ring_b) * (1 + 1e-12));
	/* the closed form gives the same split */
	pp_cf_cp_hier_s(f.hw, 2, cp, A, kv, qo, 1e9, 1e9, &ef, &hf, &eb, &hb);
	ck_assert_double_le(REL(ef, a2a), 1e-12); /* all of the ring hidden behind long attention */
	ck_assert_double_le(REL(hf + hb, ring_f + ring_b), 1e-12);
	pp_cf_cp_hier_s(f.hw, 2, cp, A, kv, qo, 0, 0, &ef, &hf, &eb, &hb);
	ck_assert_double_le(REL(ef + eb, 2 * a2a + ring_f + ring_b), 1e-12);
	ck_assert_double_eq(hf + hb, 0);
	ck_assert_double_le(REL(c.layer_cp_bytes, (R - 1) * 3 * kv + 2.0 * (A - 1) / A * (kv + qo)), 1e-12);
	/* activations as with the ring */
	ck_assert_double_le(REL(c.peak_gib, c_p2p.peak_gib), 1e-12);
	/* the rules: the a2a degree divides cp and the heads of a TP rank, two levels at least */
	gl.cp_a2a = 3;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 16, &err), PP_EINVALID);
	gl.cp_a2a = 8;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 16, &err), PP_EINVALID);
	gl.cp_a2a = 0;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 16, &err), PP_EINVALID);
	gl.t = 8;
	gl.cp_a2a = 2; /* 1 kv head per TP rank */
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 64, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "a2a+p2p"));
	gl.t = 2;
	gl.cp_comm_type = PP_CP_P2P; /* cp_a2a only with a2a+p2p */
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 16, &err), PP_EINVALID);
	gl.cp_a2a = 0;
	/* all_gather: while attention runs a rank holds the whole sequence's K/V, and in backward
	 * their gradients too: 2 x cp x 32 MiB = 512 MiB more at the peak, nothing else changes */
	gl.cp_comm_type = PP_CP_ALLGATHER;
	c_ag = eval(&f, &gl);
	ck_assert_double_eq(pp_cf_cp_allgather_ws_bytes(kv, cp), 2.0 * cp * kv);
	ck_assert_double_le(fabs((c_ag.peak_gib - c_p2p.peak_gib) * 1073741824.0 - 2.0 * cp * kv), 1.0);
	ck_assert_double_le(fabs((c_ag.activations_gib - c_p2p.activations_gib) * 1073741824.0 - 2.0 * cp * kv), 1.0);
	close_fx(&f);
}
END_TEST

START_TEST(test_cp_makes_128k_fit)
{
	/* Llama 3 8B at 128K tokens on 64 H100s, t = 8: with d = 8 a GPU keeps a whole 128K
	 * sequence's activations and does not fit; cp = 8 splits it and fits */
	fixture f = open_fx("../models/llama3-8b-128k.json", "../hwprofiles/dgx-h100.json");
	pp_global gl = plan(8, 1, 8, 1, 64);
	pp_cost c;
	pp_error err = PP_ERROR_INIT;
	use_stack(&f, "megatron-core");
	gl.sequence_parallel = 1;
	gl.recompute = PP_RECOMPUTE_SELECTIVE;
	gl.zero = 1;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 64, &err), 0);
	c = eval(&f, &gl);
	ck_assert(!c.feasible);
	gl.d = 1;
	gl.cp = 8;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 64, &err), 0);
	c = eval(&f, &gl);
	ck_assert(c.feasible);
	/* Ulysses needs the 4 heads of a TP rank to divide over cp */
	gl.cp_comm_type = PP_CP_A2A;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 64, &err), PP_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "a2a"));
	close_fx(&f);
}
END_TEST

START_TEST(test_interleaved_uneven_stages)
{
	fixture f = open_fx("../models/gpt3-175b.json", A100);
	pp_global gl = plan(8, 8, 2, 1, 64), ev;
	pp_cost cu, ce;
	pp_error err = PP_ERROR_INIT;
	gl.schedule = PP_SCHED_INTERLEAVED;
	gl.virtual_stages = 2;
	gl.sequence_parallel = 1;
	gl.recompute = PP_RECOMPUTE_SELECTIVE;
	gl.distributed_optimizer = 1;
	ev = gl;
	gl.first_stage_layers = 6;
	gl.last_stage_layers = 6;
	cu = eval(&f, &gl);
	ce = eval(&f, &ev);
	/* the middle stages carry 14 layers instead of 12: the steady state is set by them */
	ck_assert(cu.compute_s > ce.compute_s * 1.1);
	ck_assert(cu.feasible && cu.iteration_s > ce.iteration_s);
	/* each rank's layers must split over its v chunks (Megatron-Core get_num_layers_to_build),
	 * unless an end stage holds one layer fewer than a middle one (the account-for form) */
	gl.first_stage_layers = 5;
	gl.last_stage_layers = 7;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_msg(strstr(err.msg, "not divisible by v=2") != NULL, "%s", err.msg);
	gl.virtual_stages = 4; /* 6 layers on the ends, 14 on a middle stage */
	gl.first_stage_layers = gl.last_stage_layers = 6;
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	ck_assert_msg(strstr(err.msg, "middle stages' 14 layers are not divisible by v=4") != NULL, "%s", err.msg);
	/* p = 7: 13 on the ends, 14 on each of the 5 middle stages (96 - 26 = 70), 7 chunks of
	 * 7 layers on a middle rank, 6 + 7 on the first and 7 + 6 on the last */
	gl.virtual_stages = 2;
	gl.p = 7;
	gl.global_batch = 56;
	gl.first_stage_layers = gl.last_stage_layers = 13;
	ck_assert_int_eq(pp_global_uneven_form(96, &gl, NULL), PP_UNEVEN_ACCOUNT);
	ck_assert_msg(pp_global_validate(f.g, &gl, 0, &err) == 0, "%s", err.msg);
	{
		int chunks[14], i, sum = 0;
		pp_global_chunk_layers(96, &gl, chunks);
		for (i = 0; i < 14; i++) {
			ck_assert_int_eq(chunks[i], i == 0 || i == 13 ? 6 : 7);
			sum += chunks[i];
		}
		ck_assert_int_eq(sum, 96);
		cu = eval(&f, &gl);
		ck_assert(cu.iteration_s > 0);
	}
	gl.first_stage_layers = 7; /* 7 + 13 + 5 * 14: decoder flags, 7 is no multiple of 2 */
	ck_assert_int_eq(pp_global_validate(f.g, &gl, 0, &err), PP_EINVALID);
	gl.p = 8;
	gl.global_batch = 64;
	gl.first_stage_layers = gl.last_stage_layers = 6;
	ck_assert_int_eq(pp_global_uneven_form(96, &gl, NULL), PP_UNEVEN_DECODER);
	close_fx(&f);
}
END_TEST

/* ---- memoized evaluation (issue 13, point 1) ---------------------------------------------- */

typedef struct memo_walk {
	const fixture *f;
	pp_cost_memo *memo;     /* the test's own, shared by everything it evaluates */
	int *free_ops, n_free;
	uint8_t *cfg;
	unsigned long long rng;
	long compared, distinct_cfg;
	int walk_only;          /* compare the walk's plans (and a config assignment) only */
} memo_walk;

/* @a and @b bit for bit (pp_cost_eval zeroes the whole struct first, padding included) */
static void same_cost(const pp_cost *a, const pp_cost *b, const pp_global *gl)
{
	ck_assert_msg(memcmp(a, b, sizeof(*a)) == 0,
		      "memo and plain evaluation differ: t=%d p=%d d=%d b=%d v=%d sched=%d rc=%d sp=%d "
		      "dopt=%d: %.17g s vs %.17g s, peak %.17g vs %.17g GiB",
		      gl->t, gl->p, gl->d, gl->micro_batch, gl->virtual_stages, gl->schedule, gl->recompute,
		      gl->sequence_parallel, gl->distributed_optimizer, a->iteration_s, b->iteration_s,
		      a->peak_gib, b->peak_gib);
}

static void compare_both(memo_walk *w, const pp_global *gl, const uint8_t *cfg)
{
	pp_cost a, b;
	int ra = pp_cost_eval_memo(w->f->c, w->memo, gl, cfg, &a), rb = pp_cost_eval(w->f->c, gl, cfg, &b);
	ck_assert_int_eq(ra, rb);
	if (ra == 0)
		same_cost(&a, &b, gl);
	w->compared++;
}

/* every plan the walk scores comes here (the walk's own memo scored it): the plain evaluation
 * must give the same bytes; then every recompute / SP / distributed-optimizer variant of the
 * plan, fitting or not, and a per-op config assignment, through the test's memo and without */
static int memo_visit(void *arg, const pp_global *gl0, const pp_cost *cost)
{
	memo_walk *w = arg;
	pp_cost plain;
	pp_global gl = *gl0;
	int r, sp, dopt, i;
	ck_assert_int_eq(pp_cost_eval(w->f->c, gl0, NULL, &plain), 0);
	same_cost(cost, &plain, gl0);
	w->compared++;
	for (r = 0; r < 3 * !w->walk_only; r++)
		for (sp = 0; sp <= (gl.t > 1); sp++)
			for (dopt = 0; dopt <= 1; dopt++) {
				gl.recompute = (pp_recompute)r;
				gl.sequence_parallel = sp;
				gl.distributed_optimizer = dopt;
				compare_both(w, &gl, NULL);
			}
	/* MCMC-like: Megatron's configs with two free ops moved to another allowed config */
	gl = *gl0;
	pp_strategy_megatron(w->f->g, &gl, w->cfg);
	for (i = 0; i < 2; i++) {
		pp_cfg opts[PP_CFG_COUNT];
		int op, n;
		w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
		op = w->free_ops[(w->rng >> 33) % (unsigned)w->n_free];
		n = pp_space_op_configs(w->f->g, &gl, op, opts);
		if (n > 0)
			w->cfg[op] = (uint8_t)opts[(w->rng >> 17) % (unsigned)n];
	}
	pp_space_spread_configs(w->f->g, w->cfg);
	compare_both(w, &gl, w->cfg);
	return 0;
}

static void memo_whole_space(const char *model, const char *hw, const char *stack, int gpus, int B,
			     long min_plans, int walk_only)
{
	fixture f = open_fx(model, hw);
	pp_space_opts o = PP_SPACE_OPTS_INIT;
	pp_space_stats st;
	pp_error err = PP_ERROR_INIT;
	memo_walk w;
	double hits, misses;
	memset(&w, 0, sizeof(w));
	if (stack)
		use_stack(&f, stack);
	w.f = &f;
	w.rng = 13;
	w.walk_only = walk_only;
	ck_assert_int_eq(pp_cost_memo_new(&w.memo, f.c, &err), 0);
	w.free_ops = malloc(sizeof(int) * (size_t)f.g->n_ops);
	w.cfg = malloc((size_t)f.g->n_ops);
	ck_assert(w.free_ops && w.cfg);
	w.n_free = pp_space_free_ops(f.g, w.free_ops);
	o.gpus = gpus;
	o.global_batch = B;
	o.no_prune = 1;
	ck_assert_msg(pp_space_walk(f.c, &o, memo_visit, &w, &st, &err) == 0, "%s", err.msg);
	ck_assert_msg(st.feasible >= min_plans, "%.0f plans fit", st.feasible);
	/* 1 + 6 (t = 1) or 12 variants + 1; 2 when walk_only */
	ck_assert(w.compared >= (walk_only ? 2 : 8) * (long)st.feasible);
	/* the memo was used, not bypassed: most set lookups hit */
	pp_cost_memo_stats(w.memo, &hits, &misses);
	ck_assert_msg(hits > 4 * misses, "hits %.0f misses %.0f", hits, misses);
	/* a stack set after the memo was filled: nothing stale comes back */
	if (!stack) {
		pp_global gl = plan(8, 16, 8, 1, 1536);
		pp_cost a, b;
		ck_assert_int_eq(pp_cost_eval_memo(f.c, w.memo, &gl, NULL, &a), 0);
		use_stack(&f, "megatron-core");
		ck_assert_int_eq(pp_cost_eval_memo(f.c, w.memo, &gl, NULL, &a), 0);
		ck_assert_int_eq(pp_cost_eval(f.c, &gl, NULL, &b), 0);
		same_cost(&a, &b, &gl);
	}
	pp_cost_memo_free(w.memo);
	free(w.free_ops);
	free(w.cfg);
	close_fx(&f);
}

START_TEST(test_memo_whole_space_gpt3)
{
	/* every plan the unpruned exhaustive walk of GPT-3 175B on 1024 A100s keeps (13,912 fit) */
	memo_whole_space("../models/gpt3-175b.json", A100, NULL, 1024, 1536, 10000, 0);
}
END_TEST

START_TEST(test_memo_whole_space_llama_stack)
{
	/* a Llama graph under Megatron-Core's stack (shape-aware GEMMs, overlaps, flash) */
	memo_whole_space("../models/llama2-7b.json", A100, "megatron-core", 64, 512, 1000, 0);
}
END_TEST

START_TEST(test_memo_whole_space_moe)
{
	/* DeepSeek-V3 (dense and MoE layer classes, MLA, MTP) on H800s: the walk varies ep, etp and
	 * the precision (bf16, fp8) and the recompute modes, and the dense sets are keyed without
	 * the expert settings (pp_setting_op_types), so one memo serves every expert-parallel pair:
	 * each plan the walk's memo scored (28,733 fit) against the plain evaluation, and a per-op
	 * config assignment through the test's memo and without */
	memo_whole_space("../models/deepseek-v3.json", H800, "megatron-core", 256, 256, 20000, 1);
}
END_TEST

/* ---- Korthikanti et al. 2022, Table 4: per-layer forward and backward of the 22B model ------
 * The published times are in data/korthikanti2022-table4.md (with their source); the 22B
 * model (Table 3) at t=8, micro-batch 4 on a DGX A100 80 GB with the SC21-era stack (unfused
 * attention, as Megatron-LM ran in 2022).  What holds: the mechanisms, i.e. what sequence
 * parallelism saves in the forward and what full and selective recomputation add to the
 * backward, each within 10% of the published difference.  What does not yet: the forward, 4-5%
 * above the table (docs/accuracy.md); its bound below is a ratchet at today's error, not the
 * issue's few-percent target. */

typedef struct t4row {
	int sp;
	pp_recompute rc;
	double fwd_ms, bwd_ms;
} t4row;

static int read_table4(t4row *rows, int cap)
{
	FILE *fp = fopen("data/korthikanti2022-table4.md", "r");
	char line[512];
	int n = 0;
	ck_assert_ptr_nonnull(fp);
	while (n < cap && fgets(line, sizeof(line), fp)) {
		char name[64], sp[8], rc[16];
		double f, b;
		if (sscanf(line, "| %63[^|]| %7s | %15s | %lf | %lf |", name, sp, rc, &f, &b) != 5)
			continue;
		rows[n].sp = strcmp(sp, "yes") == 0;
		rows[n].rc = (pp_recompute)pp_recompute_parse(rc);
		ck_assert_int_ge((int)rows[n].rc, 0);
		rows[n].fwd_ms = f;
		rows[n].bwd_ms = b;
		n++;
	}
	fclose(fp);
	return n;
}

/* Evaluate @gl with the stack flag @flag of @st off, then on. */
static void eval_flag_off_on(fixture *f, pp_stack *st, int *flag, const pp_global *gl, pp_cost *off,
			     pp_cost *on)
{
	*flag = 0;
	pp_costctx_set_stack(f->c, st);
	*off = eval(f, gl);
	*flag = 1;
	pp_costctx_set_stack(f->c, st);
	*on = eval(f, gl);
}

/* The 2022 stack's asynchronous input-gradient all-reduce (pp_cf_tp_async_dgrad_hidden_s): on
 * the 22B layer (t = 8, no sequence parallelism) the backward loses exactly the hidden part net
 * of the SMs NCCL takes, the forward is untouched, and --tp-comm-overlap supersedes it. */
START_TEST(test_tp_async_dgrad)
{
	fixture f = open_fx("../models/gpt-22b.json", A100);
	pp_global gl = plan(8, 1, 1, 4, 4);
	pp_cost off, on;
	pp_stack st;
	pp_error err;
	double saved;

	ck_assert_double_eq(pp_cf_tp_async_dgrad_hidden_s(1.0, 3.0), 1.0);
	ck_assert_double_eq(pp_cf_tp_async_dgrad_hidden_s(3.0, 1.0), 1.0);
	ck_assert_int_eq(pp_stack_load("../stacks/megatron-2022.json", &st, &err), 0);
	ck_assert(st.tp_async_dgrad);
	ck_assert_double_eq_tol(st.tp_overlap_sm_fraction, 0.15, 1e-12);
	eval_flag_off_on(&f, &st, &st.tp_async_dgrad, &gl, &off, &on);
	ck_assert_double_eq_tol(on.layer_fwd_s, off.layer_fwd_s, 1e-15);
	saved = off.layer_bwd_s - on.layer_bwd_s;
	/* per layer: the all-reduces at the QKV and MLP-in inputs, each hidden behind its own
	 * weight gradient (the all-reduce is shorter here), net of 15% of the SMs */
	ck_assert_double_gt(saved, 0);
	ck_assert_double_lt(saved, off.layer_bwd_s);
	/* one stage of 48 layers, one micro-batch: the hidden time is 48 layers' worth */
	ck_assert_int_eq(pp_global_microbatches(&gl), 1);
	ck_assert_double_eq_tol(on.tp_hidden_s - off.tp_hidden_s, 48 * saved / (1 - 0.15), 1e-9);
	close_fx(&f);
}
END_TEST

/* Megatron-LM's fused causal softmax reads only the unmasked scores (pp_cf_causal_softmax_skip):
 * on the 22B layer (t = 8, micro-batch 4, s = 2048: 4 x 64/8 x 2048^2 scores of 2 bytes per
 * rank) the forward moves 1 byte a score less and the backward 2, at the profile's HBM
 * bandwidth; past the kernel's 2048-token limit nothing changes. */
START_TEST(test_causal_softmax_half_read)
{
	fixture f = open_fx("../models/gpt-22b.json", A100);
	pp_global gl = plan(8, 1, 1, 4, 4);
	pp_cost off, on;
	pp_stack st;
	pp_error err = PP_ERROR_INIT;
	double scores = 4.0 * 8 * 2048.0 * 2048.0, bw = f.hw->memory_bw_gbs * 1e9;
	ck_assert_double_eq(pp_cf_causal_softmax_skip(2), 1.0 / 13.0);
	ck_assert_int_eq(pp_stack_load("../stacks/megatron-2022.json", &st, &err), 0);
	ck_assert(st.causal_skip);
	eval_flag_off_on(&f, &st, &st.causal_skip, &gl, &off, &on);
	ck_assert_double_le(REL(off.layer_fwd_s - on.layer_fwd_s, scores * 1.0 / bw), 1e-9);
	ck_assert_double_le(REL(off.layer_bwd_s - on.layer_bwd_s, scores * 2.0 / bw), 1e-9);
	close_fx(&f);
	/* 4096 tokens: torch.softmax, every score read */
	f = open_fx("../models/gpt-h100-1.7b.json", A100);
	gl = plan(1, 1, 1, 1, 1);
	eval_flag_off_on(&f, &st, &st.causal_skip, &gl, &off, &on);
	ck_assert_double_eq(on.layer_fwd_s, off.layer_fwd_s);
	ck_assert_double_eq(on.layer_bwd_s, off.layer_bwd_s);
	close_fx(&f);
}
END_TEST

START_TEST(test_korthikanti_table4_per_layer)
{
	fixture f = open_fx("../models/gpt-22b.json", A100);
	t4row rows[8];
	double F[8], B[8];
	int n = read_table4(rows, 8), i, base = -1, sp = -1, full = -1, sel = -1, selsp = -1;
	ck_assert_int_eq(n, 5);
	use_stack(&f, "megatron-2022");
	for (i = 0; i < n; i++) {
		pp_global gl = plan(8, 1, 1, 4, 4);
		pp_cost c;
		gl.sequence_parallel = rows[i].sp;
		gl.recompute = rows[i].rc;
		c = eval(&f, &gl);
		F[i] = c.layer_fwd_s * 1e3;
		B[i] = c.layer_bwd_s * 1e3;
		fprintf(stderr, "korthikanti table 4, sp %d recompute %s: forward %.2f ms (published %.1f, %+.1f%%), "
				"backward %.2f ms (published %.1f, %+.1f%%)\n",
			rows[i].sp, pp_recompute_name(rows[i].rc), F[i], rows[i].fwd_ms,
			100 * (F[i] / rows[i].fwd_ms - 1), B[i], rows[i].bwd_ms, 100 * (B[i] / rows[i].bwd_ms - 1));
		/* forward: a ratchet at today's +4.2..4.8% (see above); backward: within 4% with
		 * the asynchronous input-gradient all-reduce of the 2022 stack and the causal
		 * softmax's half read (pp_cf_causal_softmax_skip) */
		ck_assert_double_le(fabs(F[i] / rows[i].fwd_ms - 1), 0.05);
		ck_assert_double_le(fabs(B[i] / rows[i].bwd_ms - 1), 0.04);
		if (!rows[i].sp && rows[i].rc == PP_RECOMPUTE_NONE)
			base = i;
		else if (rows[i].sp && rows[i].rc == PP_RECOMPUTE_NONE)
			sp = i;
		else if (rows[i].rc == PP_RECOMPUTE_FULL)
			full = i;
		else if (!rows[i].sp)
			sel = i;
		else
			selsp = i;
	}
	ck_assert(base >= 0 && sp >= 0 && full >= 0 && sel >= 0 && selsp >= 0);
#define DELTA_OK(pred, pub) (fabs((pred) - (pub)) <= 0.10 * fabs(pub))
	/* sequence parallelism: layer norms and dropouts on 1/t of the data (7.7 -> 7.2 ms) */
	ck_assert_msg(DELTA_OK(F[base] - F[sp], rows[base].fwd_ms - rows[sp].fwd_ms), "SP saves %.3f ms",
		      F[base] - F[sp]);
	/* full recomputation re-runs the forward in the backward (+7.6 ms) */
	ck_assert_msg(DELTA_OK(B[full] - B[base], rows[full].bwd_ms - rows[base].bwd_ms),
		      "full recompute adds %.3f ms", B[full] - B[base]);
	/* selective recomputation re-runs the attention core only (+1.3 ms), with or without SP */
	ck_assert_msg(DELTA_OK(B[sel] - B[base], rows[sel].bwd_ms - rows[base].bwd_ms),
		      "selective adds %.3f ms", B[sel] - B[base]);
	ck_assert_msg(DELTA_OK(B[selsp] - B[sp], rows[selsp].bwd_ms - rows[sp].bwd_ms),
		      "selective with SP adds %.3f ms", B[selsp] - B[sp]);
#undef DELTA_OK
	close_fx(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cost");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_korthikanti_hand_values);
	tcase_add_test(tc, test_collective_formulas);
	tcase_add_test(tc, test_hierarchical_groups);
	tcase_add_test(tc, test_scale_up_domain_collectives);
	tcase_add_test(tc, test_fp8_by_hand);
	tcase_add_test(tc, test_model_flops_175b);
	tcase_add_test(tc, test_one_engine_every_model);
	tcase_add_test(tc, test_pipeline_bubble);
	tcase_add_test(tc, test_pipeline_equal_stages_exact);
	tcase_add_test(tc, test_equal_stages_exact);
	tcase_add_test(tc, test_memory_bytes_per_param);
	tcase_add_test(tc, test_infeasible_and_interleaved_memory);
	tcase_add_test(tc, test_recompute_and_sequence_parallel);
	tcase_add_test(tc, test_compute_time_per_op);
	tcase_add_test(tc, test_gemm_table_shrinks_with_split);
	tcase_add_test(tc, test_invalid_plans_name_the_rule);
	tcase_add_test(tc, test_data_parallel_overlap);
	tcase_add_test(tc, test_bad_config_rejected);
	tcase_add_test(tc, test_eval_refuses_degrees_whose_product_overflows);
	tcase_add_test(tc, test_gemm_model_hand_shapes);
	tcase_add_test(tc, test_flash_closed_forms);
	tcase_add_test(tc, test_flash_engine_memory);
	tcase_add_test(tc, test_flash_faster_and_smaller_than_unfused);
	tcase_add_test(tc, test_tp_overlap);
	tcase_add_test(tc, test_interleaved_uneven_stages);
	tcase_add_test(tc, test_korthikanti_table4_per_layer);
	tcase_add_test(tc, test_causal_softmax_half_read);
	tcase_add_test(tc, test_tp_async_dgrad);
	tcase_add_test(tc, test_memo_whole_space_gpt3);
	tcase_add_test(tc, test_memo_whole_space_llama_stack);
	tcase_add_test(tc, test_memo_whole_space_moe);
	tcase_add_test(tc, test_zero_closed_forms_paper);
	tcase_add_test(tc, test_zero_memory_by_hand);
	tcase_add_test(tc, test_zero_comm_by_hand);
	tcase_add_test(tc, test_cp_by_hand);
	tcase_add_test(tc, test_cp_makes_128k_fit);
	tcase_add_test(tc, test_cp_hier_and_allgather_by_hand);
	tcase_add_test(tc, test_moe_expert_parallel);
	tcase_add_test(tc, test_moe_capacity);
	tcase_add_test(tc, test_moe_a2a_overlap);
	tcase_add_test(tc, test_mla_closed_form);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
