/*
 * space.c - valid global plans, per-op configs and the memory-pruned walk of the space.
 */
#include "parplan/space.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked_int.h"
#include "parplan/comm.h"
#include "parplan/settings.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

int pp_space_check_opts(const pp_costctx *c, const pp_space_opts *o, pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	const pp_hw *hw = pp_costctx_hw(c);
	if (o->gpus < 1)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "the GPU count must be at least 1");
	if (o->global_batch < 1)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "the global batch must be at least 1");
	if (o->global_batch > PP_SPACE_MAX_GLOBAL_BATCH)
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "a global batch of %d is more than the %d a search takes", o->global_batch,
				    PP_SPACE_MAX_GLOBAL_BATCH);
	if (g->n_layers < 1)
		return pp_error_set(err, PP_EINVALID, g->file, NULL, "model %s has no layers", g->name);
	if (o->precision >= 0) {
		pp_global x = PP_GLOBAL_INIT;
		int rc;
		x.precision = (pp_precision)o->precision;
		if ((rc = pp_cost_check_precision(c, &x, err)) < 0)
			return rc;
	}
	if (o->mem_limit_gib < 0)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "the memory limit must be positive");
	if (o->mem_limit_gib * GIB > pp_hw_usable_bytes(hw) * (1.0 + 1e-9))
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "the memory limit %.6g GiB is more than the %.6g GiB a GPU of %s can use",
				    o->mem_limit_gib, pp_hw_usable_bytes(hw) / GIB, hw->name);
	return 0;
}

int pp_space_valid(const pp_costctx *c, const pp_space_opts *o, const pp_global *gl, pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	const pp_hw *hw = pp_costctx_hw(c);
	int rc;
	if ((rc = pp_global_validate(g, gl, o->gpus, err)) < 0)
		return rc;
	if ((rc = pp_cost_check_precision(c, gl, err)) < 0)
		return rc;
	if (gl->global_batch != o->global_batch)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "global batch %d is not %d",
				    gl->global_batch, o->global_batch);
	/* t may span a scale-up domain (an NVL72 rack), not just a host */
	if (!o->allow_cross_node_tp && gl->t > pp_hw_domain_block(hw))
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "t=%d is more than the %d devices of a scale-up domain (see "
				    "--allow-cross-node-tp)", gl->t, pp_hw_domain_block(hw));
	return 0;
}

int pp_space_layouts(const pp_graph *g, int max_p, int uneven, int (*out)[3], int cap)
{
	int L = g->n_layers, p, f, l, n = 0;
	for (p = 1; p <= max_p && p <= L; p++) {
		if (L % p == 0 && n < cap) {
			out[n][0] = p;
			out[n][1] = 0;
			out[n][2] = 0;
			n++;
		}
		if (!uneven || p < 2)
			continue;
		/* first stage f layers (0 = even), last stage l layers, middle stages mid each with
		 * f < mid and l < mid: the ends hold fewer layers, as the embedding and the LM head
		 * already load them.  For each f, l ascending: l = 0, then only the l > 0 that leave
		 * the inner stages a multiple of their count (a step of inner), stopping where mid has
		 * shrunk to l or f; O(L^2 / p) per p instead of O(L^2) (the O(L^3) walk took seconds
		 * at 2,000 layers, before any search could be stopped) */
		for (f = 0; f < L; f++) {
			int inner = p - (f > 0) - 1, rest, mid;
			if (f > 0 && inner + 1 >= 1 && (rest = L - f) >= inner + 1 && rest % (inner + 1) == 0 &&
			    f < rest / (inner + 1) && n < cap) {
				out[n][0] = p;
				out[n][1] = f;
				out[n][2] = 0;
				n++;
			}
			if (inner < 1)
				continue;
			l = (L - f) % inner;
			for (l = l ? l : inner; l < L; l += inner) {
				rest = L - f - l;
				if (rest < inner)
					break;
				mid = rest / inner;
				if (f >= mid || l >= mid)
					break; /* mid only shrinks as l grows */
				if (n < cap) {
					out[n][0] = p;
					out[n][1] = f;
					out[n][2] = l;
					n++;
				}
			}
		}
	}
	return n;
}

int pp_space_free_ops(const pp_graph *g, int *ops)
{
	int i, n = 0;
	for (i = 0; i < g->n_ops; i++)
		if (pp_space_config_owner(g, i) == i)
			ops[n++] = i;
	return n;
}

int pp_space_config_owner(const pp_graph *g, int op)
{
	int l = g->ops[op].layer, rep, pos, k;
	if (l < 0 || l >= g->n_layers)
		return op;
	rep = g->classes[g->layer_class[l]].first_layer;
	if (rep == l)
		return op;
	for (k = g->layer_start[l]; k < g->layer_start[l + 1]; k++)
		if (g->layer_ops[k] == op)
			break;
	pos = k - g->layer_start[l];
	if (g->layer_start[rep] + pos >= g->layer_start[rep + 1])
		return op;
	return g->layer_ops[g->layer_start[rep] + pos];
}

void pp_space_spread_configs(const pp_graph *g, uint8_t *cfg)
{
	int l, k;
	for (l = 0; l < g->n_layers; l++) {
		int rep = g->classes[g->layer_class[l]].first_layer;
		int n = g->layer_start[l + 1] - g->layer_start[l];
		if (rep == l || n != g->layer_start[rep + 1] - g->layer_start[rep])
			continue;
		for (k = 0; k < n; k++)
			cfg[g->layer_ops[g->layer_start[l] + k]] = cfg[g->layer_ops[g->layer_start[rep] + k]];
	}
}

int pp_space_op_configs(const pp_graph *g, const pp_global *gl, int op, pp_cfg *out)
{
	int c, n = 0;
	if (gl->t <= 1) {
		out[0] = PP_CFG_REPLICATE;
		return 1;
	}
	for (c = 0; c < PP_CFG_COUNT; c++) {
		if (!pp_cfg_allowed(g->ops[op].type, (pp_cfg)c))
			continue;
		if (c == PP_CFG_SAMPLE && gl->micro_batch % gl->t)
			continue;
		/* routed experts: COLUMN is expert tensor parallelism, exactly when etp = t */
		if (g->ops[op].type == PP_OP_EXPERTS &&
		    ((c == PP_CFG_COLUMN) != (gl->etp > 1) || (c == PP_CFG_COLUMN && g->ops[op].expert_ffn % gl->t)))
			continue;
		out[n++] = (pp_cfg)c;
	}
	return n;
}

int pp_space_sequence_parallel(const pp_graph *g, const pp_global *gl, const uint8_t *cfg)
{
	int i, n = 0;
	if (gl->t <= 1)
		return 0;
	for (i = 0; i < g->n_ops; i++) {
		pp_op_type ty = g->ops[i].type;
		int l = g->ops[i].layer;
		if (ty != PP_OP_LAYERNORM && ty != PP_OP_RMSNORM && ty != PP_OP_DROPOUT && ty != PP_OP_ADD)
			continue;
		/* a layer's ops take their class representative's configs */
		if (l >= 0 && l < g->n_layers && g->classes[g->layer_class[l]].first_layer != l)
			continue;
		if (cfg[i] != PP_CFG_SEQUENCE)
			return 0;
		n++;
	}
	return n > 0;
}

void pp_space_set_overlaps(const pp_costctx *c, const pp_space_opts *o, pp_global *gl)
{
	const pp_stack *st = pp_costctx_stack(c);
	int on = !o->no_overlaps && !st->legacy;
	gl->tp_comm_overlap = on && st->tp_comm_overlap && gl->t > 1 && gl->sequence_parallel;
	gl->overlap_grad_reduce = on && st->grad_reduce_overlap && (long long)gl->d * gl->cp > 1;
	gl->overlap_param_gather = gl->overlap_grad_reduce && st->param_gather_overlap && gl->distributed_optimizer;
	/* the expert all-to-all overlap where its rules hold (settings.c rule_overlap_moe_a2a) */
	gl->overlap_moe_a2a = on && st->moe_a2a_overlap && gl->ep > 1 && gl->recompute != PP_RECOMPUTE_FULL &&
			      (gl->p == 1 || gl->schedule == PP_SCHED_DUALPIPE || gl->schedule == PP_SCHED_DUALPIPEV ||
			       (gl->schedule == PP_SCHED_INTERLEAVED && gl->virtual_stages > 1));
	/* the precision: fixed by the options, else left as the walk set it */
	if (o->precision >= 0)
		gl->precision = (pp_precision)o->precision;
	gl->fp8_param_gather = o->fp8_param_gather && gl->precision != PP_PREC_BF16 &&
			       pp_global_zero_stage(gl) >= 1;
}

int pp_space_precisions(const pp_costctx *c, const pp_space_opts *o, int *out)
{
	const pp_hw *hw = pp_costctx_hw(c);
	int n = 0;
	if (o->precision >= 0) {
		out[0] = o->precision;
		return 1;
	}
	out[n++] = PP_PREC_BF16;
	if (pp_hw_supports(hw, PP_DTYPE_FP8))
		out[n++] = PP_PREC_FP8;
	if (pp_hw_supports(hw, PP_DTYPE_MXFP8))
		out[n++] = PP_PREC_MXFP8;
	return n;
}

int pp_space_op_stage(const pp_graph *g, const pp_global *gl, int op)
{
	int l = g->ops[op].layer, s, acc = 0;
	int layers[1024];
	if (gl->p <= 1)
		return 0;
	if (l < 0) {
		/* ops before the layers sit on the first stage, after them on the last */
		int k;
		for (k = 0; k < g->n_pre; k++)
			if (g->pre_ops[k] == op)
				return 0;
		return gl->p - 1;
	}
	if (gl->p > 1024)
		return 0;
	pp_global_stage_layers(g, gl, layers);
	for (s = 0; s < gl->p; s++) {
		acc += layers[s];
		if (l < acc)
			return s;
	}
	return gl->p - 1;
}

int pp_space_cmp(const pp_global *a, double a_s, const pp_global *b, double b_s)
{
	if (a_s < b_s)
		return -1;
	if (a_s > b_s)
		return 1;
	/* ties: the settings the search varies, in the order of the table of plan settings */
	return pp_settings_cmp_searched(a, b);
}

/* ---- the walk ------------------------------------------------------------------------- */

int pp_space_interleave_candidates(int L, int p, int first, int last, int *vs)
{
	int inner = p - (first > 0) - (last > 0), rest = L - first - last, n = 0, k, hi = 0;
	int top[PP_SPACE_MAX_V / 2];
	long long q;
	if (p < 2 || rest < 0)
		return 0;
	if (inner > 0) {
		if (rest % inner)
			return 0;
		q = rest / inner;
	} else {
		int a = first, b = last;
		while (b) {
			int r = a % b;
			a = b;
			b = r;
		}
		q = a;
	}
	for (k = 2; (long long)k * k <= q; k++)
		if (q % k == 0) {
			vs[n++] = k;
			if ((long long)k * k != q)
				top[hi++] = (int)(q / k);
		}
	while (hi > 0)
		vs[n++] = top[--hi];
	if (q >= 2)
		vs[n++] = (int)q;
	return n;
}

typedef struct walk {
	const pp_costctx *c;
	const pp_space_opts *o;
	pp_space_visit_fn fn;
	pp_space_bar_fn bar;    /* NULL: no time bound */
	void *arg;
	pp_space_stats st;
	pp_cost_memo *memo;     /* per-set totals shared by the plans of the walk (cost_memo.c) */
	int n_ep, ep[64], etp[64]; /* expert-parallel (ep, etp) pairs of the current (t, d) */
} walk;

static void note(walk *w, const pp_cost *cost)
{
	w->st.evaluated += 1;
	if (w->st.min_peak_gib == 0 || cost->peak_gib < w->st.min_peak_gib)
		w->st.min_peak_gib = cost->peak_gib;
	if (cost->capacity_gib > 0)
		w->st.capacity_gib = cost->capacity_gib;
}

/*
 * The data-parallel sharding variants of a mesh: the distributed optimizer (ZeRO-1) first, then
 * ZeRO-3 (and HSDP with a node per shard group, @hsdp > 0) and ZeRO-2, then plain data
 * parallelism.  With one data-parallel rank (d*cp = 1) ZeRO-2/3 only add their working set to
 * stage 0, so only the two of before are tried.  With p > 1 ZeRO-3 gathers a stage's weights
 * once and keeps them (torchtitan), which is ZeRO-2's communication with the sharded weights'
 * 2/N bytes on top: dominated, not tried.  Returns how many, written to @zs and @hs.
 */
static int shardings(const pp_stack *st, int cap, const pp_global *gl, int hsdp, int *zs, int *hs)
{
	int n = 0, top = cap > 0 && cap < st->max_zero ? cap : st->max_zero;
	zs[n] = 1, hs[n++] = 0;
	if ((long long)gl->d * gl->cp > 1 && top >= 2) {
		if (gl->p == 1 && top >= 3) {
			zs[n] = 3, hs[n++] = 0;
			if (hsdp > 1 && hsdp < gl->d && gl->d % hsdp == 0)
				zs[n] = 3, hs[n++] = hsdp;
		}
		zs[n] = 2, hs[n++] = 0;
	}
	zs[n] = 0, hs[n++] = 0;
	return n;
}

/* HSDP's shard group in the walk: the data-parallel ranks of one node (t*cp*shard = a node). */
static int node_shard(const pp_hw *hw, const pp_global *gl)
{
	long long tc = (long long)gl->t * gl->cp;
	return tc < hw->node_devices && hw->node_devices % tc == 0 ? (int)(hw->node_devices / tc) : 0;
}

/* How context-parallel ranks may exchange K/V: the p2p ring and, where the heads of a TP rank
 * divide over cp, Ulysses all-to-all.  all_gather moves what the ring moves without hiding any
 * of it behind the attention, so the ring dominates it. */
static int cp_comms(const pp_graph *g, const pp_global *gl)
{
	long long h = g->heads / gl->t, kv = (g->kv_heads ? g->kv_heads : g->heads) / gl->t;
	return gl->cp > 1 && h % gl->cp == 0 && kv % gl->cp == 0 ? 2 : 1;
}

/* the variants of one precision */
static int count_variants_at(const pp_costctx *c, const pp_space_opts *o, const pp_global *gl)
{
	int zs[8], hs[8];
	return cp_comms(pp_costctx_graph(c), gl) * 3 * (gl->t > 1 ? 2 : 1) *
	       shardings(pp_costctx_stack(c), o->max_zero, gl, node_shard(pp_costctx_hw(c), gl), zs, hs);
}

/*
 * The variants of one (t, cp, p, layout, schedule, v, b): K/V exchange x recompute x sequence
 * parallelism x sharding, leanest first.  ZeRO-2/3 trade communication for memory (Rajbhandari
 * et al. 2020, sec. 7: the stage that fits with the least communication), so they are scored only
 * where the distributed optimizer does not fit with the same recompute and sequence parallelism;
 * the ones skipped count as pruned.
 */
static int variants_at(walk *w, pp_global gl, int *fits_any)
{
	static const int rc_order[3] = {PP_RECOMPUTE_FULL, PP_RECOMPUTE_SELECTIVE, PP_RECOMPUTE_NONE};
	int ri, sp, zi, rc, zs[8], hs[8], ct, k = 0, one_fits = 0, lean_fits = 0, z3_fits = 0;
	int n_sp = gl.t > 1 ? 2 : 1, n_z = shardings(pp_costctx_stack(w->c), w->o->max_zero, &gl, node_shard(pp_costctx_hw(w->c), &gl), zs, hs);
	int n_ct = cp_comms(pp_costctx_graph(w->c), &gl);
	pp_cost cost;
	*fits_any = 0;
	for (ct = 0; ct < n_ct; ct++) {
		for (ri = 0; ri < 3; ri++) {
			for (sp = n_sp - 1; sp >= 0; sp--) {
				int lean = ct == 0 && ri == 0 && sp == n_sp - 1;
				for (zi = 0; zi < n_z; zi++) {
					if (k == n_z && w->bar && !w->o->no_prune) {
						/* the leanest variants, scored first, decided what fits; the
						 * others are no faster than the compute of the pipeline */
						double bar = w->bar(w->arg);
						if (bar < INFINITY && pp_cost_time_bound(w->c, w->memo, &gl) > bar) {
							double rest = (double)n_ct * 3 * n_sp * n_z - k;
							w->st.valid += rest;
							w->st.pruned += rest;
							w->st.pruned_time += rest;
							return 0;
						}
					}
					k++;
					w->st.valid += 1;
					/* HSDP holds more than ZeRO-3 over all d: tried where that fits */
					if ((zs[zi] >= 2 && one_fits) || (hs[zi] > 0 && !z3_fits)) {
						w->st.pruned += 1;
						continue;
					}
					gl.cp_comm_type = ct ? PP_CP_A2A : PP_CP_P2P;
					gl.recompute = (pp_recompute)rc_order[ri];
					gl.sequence_parallel = gl.t > 1 ? sp : 0;
					/* stage 1 as the distributed optimizer, as plans of before spell it */
					gl.distributed_optimizer = zs[zi] == 1;
					gl.zero = zs[zi] >= 2 ? zs[zi] : 0;
					gl.hsdp_shard = hs[zi];
					pp_space_set_overlaps(w->c, w->o, &gl);
					if (pp_cost_eval_memo(w->c, w->memo, &gl, NULL, &cost) < 0) {
						one_fits = zs[zi] == 1 ? 0 : one_fits;
						continue;
					}
					note(w, &cost);
					if (zs[zi] == 1)
						one_fits = cost.feasible;
					if (zs[zi] == 3 && !hs[zi])
						z3_fits = cost.feasible;
					lean_fits |= lean && zs[zi] >= 1 && cost.feasible;
					if (lean && zi == n_z - 2 && !lean_fits && !w->o->no_prune) {
						/* the leanest variants do not fit: neither does any other
						 * (the K/V exchange does not change the memory) */
						double rest = (double)n_ct * 3 * n_sp * n_z - k;
						w->st.valid += rest;
						w->st.pruned += rest;
						return 0;
					}
					if (!cost.feasible)
						continue;
					*fits_any = 1;
					w->st.feasible += 1;
					if (w->fn && (rc = w->fn(w->arg, &gl, &cost)) != 0)
						return rc;
				}
			}
		}
	}
	return 0;
}

/* ... at each precision searched (pp_space_precisions) */
static int variants_prec(walk *w, pp_global gl, int *fits_any)
{
	int prec[3], n = pp_space_precisions(w->c, w->o, prec), i, rc, f;
	*fits_any = 0;
	for (i = 0; i < n; i++) {
		gl.precision = (pp_precision)prec[i];
		if ((rc = variants_at(w, gl, &f)) != 0)
			return rc;
		*fits_any |= f;
	}
	return 0;
}

/*
 * Expert parallelism, searched with the rest (issue 18.5): every ep dividing the experts with
 * ep * etp dividing t * cp * d, etp 1 or t (pp_global_validate's rule_expert_parallel), the
 * largest ep (leanest) first.  A dense model has the one pair (1, 1).
 */
static void ep_pairs(walk *w, const pp_graph *g, int t, int cp, int d)
{
	long long fold = (long long)t * cp * d;
	int e, k;
	w->n_ep = 0;
	for (k = 0; k < (t > 1 && g->experts ? 2 : 1); k++) {
		int etp = k ? t : 1;
		for (e = (int)(g->experts ? g->experts : 1); e >= 1; e--) {
			if ((g->experts && g->experts % e) || fold % ((long long)e * etp) || w->n_ep >= 64 ||
			    (g->expert_ffn && g->expert_ffn % etp))
				continue;
			w->ep[w->n_ep] = e;
			w->etp[w->n_ep++] = etp;
		}
	}
}

static int variants(walk *w, pp_global gl, int *fits_any, double lb_dense, double cap_bytes)
{
	const pp_graph *g = pp_costctx_graph(w->c);
	int i, rc, fits, prec[3];
	int n = count_variants_at(w->c, w->o, &gl) * pp_space_precisions(w->c, w->o, prec);
	*fits_any = 0;
	for (i = 0; i < w->n_ep; i++) {
		/* static bound as pp_space_walk's, the routed experts' weights and gradients split
		 * over ep * etp and Adam's states over t * d */
		double lb = lb_dense + (double)g->expert_params / gl.p *
					       (6.0 / ((double)w->ep[i] * w->etp[i]) + 12.0 / ((double)gl.t * gl.d * gl.cp));
		/* ZeRO-2/3 shard the experts' gradients (and weights) too: at least 16 bytes over all */
		if (pp_costctx_stack(w->c)->max_zero >= 2 && (long long)gl.d * gl.cp > 1)
			lb = lb_dense + (double)g->expert_params / gl.p * 16.0 / ((double)gl.t * gl.d * gl.cp);
		if (g->expert_params && lb > cap_bytes && !w->o->no_prune) {
			w->st.valid += n;
			w->st.pruned += n;
			continue;
		}
		gl.ep = w->ep[i];
		gl.etp = w->etp[i];
		if ((rc = variants_prec(w, gl, &fits)) != 0)
			return rc;
		*fits_any |= fits;
		if (!fits && !w->o->no_prune) {
			/* memory never shrinks with a smaller ep at the same etp (the experts' weights
			 * and gradients grow as 1/ep, their Adam states over t*cp*d/etp do not move, the
			 * rest is the same): none of the smaller ones fits either */
			while (i + 1 < w->n_ep && w->etp[i + 1] == gl.etp) {
				i++;
				w->st.valid += n;
				w->st.pruned += n;
			}
		}
	}
	return 0;
}

static int count_variants(const walk *w, const pp_global *gl)
{
	int prec[3];
	return count_variants_at(w->c, w->o, gl) * pp_space_precisions(w->c, w->o, prec) * w->n_ep;
}

int pp_space_walk(const pp_costctx *c, const pp_space_opts *o, pp_space_visit_fn fn, void *arg,
		  pp_space_stats *st, pp_error *err)
{
	return pp_space_walk_bar(c, o, fn, NULL, arg, st, err);
}

int pp_space_walk_bar(const pp_costctx *c, const pp_space_opts *o, pp_space_visit_fn fn,
		      pp_space_bar_fn bar, void *arg, pp_space_stats *st, pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	const pp_hw *hw = pp_costctx_hw(c);
	int (*layouts)[3] = NULL;
	int n_layouts, cap, li, t, rc = 0, bi, n_b;
	int *bs = NULL, *divs = NULL, n_div = 0;
	double cap_bytes;
	walk w;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.o = o;
	w.fn = fn;
	w.bar = bar;
	w.arg = arg;
	if ((rc = pp_space_check_opts(c, o, err)) < 0 || (rc = pp_cost_memo_new(&w.memo, c, err)) < 0)
		goto done;
	cap_bytes = (o->mem_limit_gib > 0 ? o->mem_limit_gib * GIB : pp_hw_usable_bytes(hw)) -
		    pp_costctx_headroom_bytes(c);
	w.st.capacity_gib = cap_bytes / GIB;
	if (pp_mul_int(g->n_layers, g->n_layers, &cap) < 0 || cap > INT_MAX - g->n_layers - 1) {
		rc = pp_error_set(err, PP_EINVALID, NULL, NULL,
				  "layers*layers = %d*%d pipeline layouts overflow", g->n_layers,
				  g->n_layers);
		goto done;
	}
	cap += g->n_layers + 1;
	layouts = malloc(sizeof(*layouts) * (size_t)cap);
	/* the divisors of B, ascending: every micro-batch dividing B/d is one */
	for (bi = 1; (long long)bi * bi <= o->global_batch; bi++)
		if (o->global_batch % bi == 0)
			n_div += bi * bi == o->global_batch ? 1 : 2;
	bs = malloc(sizeof(int) * (size_t)(n_div + 1));
	divs = malloc(sizeof(int) * (size_t)(n_div + 1));
	if (!layouts || !bs || !divs) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	n_layouts = pp_space_layouts(g, o->gpus, o->uneven_stages, layouts, cap);
	{
		int lo = 0, hi = n_div - 1;
		for (bi = 1; (long long)bi * bi <= o->global_batch; bi++)
			if (o->global_batch % bi == 0) {
				divs[lo++] = bi;
				if (bi * bi != o->global_batch)
					divs[hi--] = o->global_batch / bi;
			}
	}

	for (t = 1; t <= o->gpus; t++) {
		if (o->gpus % t || g->heads % t || (g->kv_heads && g->kv_heads % t))
			continue;
		if (!o->allow_cross_node_tp && t > pp_hw_domain_block(hw))
			continue;
		for (li = 0; li < n_layouts; li++) {
			int p = layouts[li][0], d, B = o->global_batch, per, sched, v, n_v;
			int vs[PP_SPACE_MAX_V];
			pp_global gl = PP_GLOBAL_INIT;
			double lb, lb_dense;
			int R, cp, fit_cp1 = 0;
			if ((long long)t * p > o->gpus || o->gpus % (t * p))
				continue;
			R = o->gpus / (t * p);
			/* context parallelism: cp divides the ranks left after t and p, and 2*cp the
			 * sequence (two chunks per rank for causal load balancing).  It splits a
			 * sequence's work and activations at the price of the K/V exchange, so the walk
			 * tries cp > 1 on a mesh only where cp = 1 cannot serve: no plan fits, or the
			 * batch leaves fewer micro-batches than pipeline stages (B/d < p at b = 1) */
			for (cp = 1; cp <= R; cp++) {
				if (R % cp || (cp > 1 && g->seq % (2LL * cp)))
					continue;
				if (cp > 1 && (!pp_costctx_stack(c)->context_parallel || (o->max_cp > 0 && cp > o->max_cp) ||
					       (fit_cp1 && o->global_batch % R == 0 && o->global_batch / R >= p)))
					break;
				d = R / cp;
				if (B % d)
					continue;
				ep_pairs(&w, g, t, cp, d);
				per = B / d;
				n_b = 0;
				for (bi = 0; bi < n_div; bi++)
					if (per % divs[bi] == 0)
						bs[n_b++] = divs[bi];
				gl.t = t;
				gl.p = p;
				gl.d = d;
				gl.cp = cp;
				gl.global_batch = B;
				gl.first_stage_layers = layouts[li][1];
				gl.last_stage_layers = layouts[li][2];
				/* static bound: the most loaded stage holds at least params/p, each parameter
				 * split over at most t devices for weights and gradients (6 bytes) and over
				 * t*d*cp for Adam's 12 bytes; with ZeRO-2 (tried when d*cp > 1) only the
				 * weights' 2 bytes stay whole and gradients may be as few as 2 bytes; ZeRO-3
				 * (p = 1) shards the weights too */
				lb_dense = (double)(g->params - g->expert_params) / p *
					   (6.0 / t + 12.0 / ((double)t * d * cp));
				if ((long long)d * cp > 1)
					lb_dense = (double)(g->params - g->expert_params) / p *
						   (p == 1 ? 16.0 / ((double)t * d * cp) : 2.0 / t + 14.0 / ((double)t * d * cp));
				lb = lb_dense + (double)g->expert_params / p * 16.0 / ((double)t * d * cp); /* ep*etp <= t*cp*d */
				/* interleaving: v > 1 divides the layers of a middle stage (of each of the ends
				 * when p = 2 with both set: their gcd), so only those divisors are tried, each
				 * checked by the layout rule (pp_global_uneven_form) */
				n_v = pp_space_interleave_candidates(g->n_layers, p, gl.first_stage_layers, gl.last_stage_layers,
							    vs);
				for (sched = 0; sched < PP_SCHED_COUNT; sched++) {
					int vi, nv = sched == PP_SCHED_INTERLEAVED ? n_v : 1;
					for (vi = 0; vi < nv; vi++) {
						v = sched == PP_SCHED_INTERLEAVED ? vs[vi] : 1;
						gl.schedule = (pp_schedule)sched;
						gl.virtual_stages = v;
						for (bi = 0; bi < n_b; bi++) {
							int fits;
							gl.micro_batch = bs[bi];
							if (pp_space_valid(c, o, &gl, NULL) < 0)
								continue;
							if (cp > 1 && gl.micro_batch % cp == 0) {
								/* dominated: the same mesh with d*cp replicas and
								 * micro-batch b/cp does the same work on the same
								 * activations without the K/V exchange */
								w.st.valid += count_variants(&w, &gl);
								w.st.pruned += count_variants(&w, &gl);
								continue;
							}
							if (lb > cap_bytes && !o->no_prune) {
								if (w.st.min_bound_gib == 0 || lb / GIB < w.st.min_bound_gib)
									w.st.min_bound_gib = lb / GIB;
								w.st.valid += count_variants(&w, &gl);
								w.st.pruned += count_variants(&w, &gl);
								continue;
							}
							if ((rc = variants(&w, gl, &fits, lb_dense, cap_bytes)) != 0)
								goto done;
							fit_cp1 |= cp == 1 && fits;
							if (!fits && !o->no_prune) {
								/* peak memory grows with the micro-batch: skip the larger ones,
								 * counting the valid plans skipped */
								int bj;
								for (bj = bi + 1; bj < n_b; bj++) {
									gl.micro_batch = bs[bj];
									if (pp_space_valid(c, o, &gl, NULL) == 0) {
										w.st.valid += count_variants(&w, &gl);
										w.st.pruned += count_variants(&w, &gl);
									}
								}
								break;
							}
						}
					}
				}
			}
		}
	}
done:
	if (st)
		*st = w.st;
	free(layouts);
	free(bs);
	free(divs);
	pp_cost_memo_free(w.memo);
	return rc;
}
