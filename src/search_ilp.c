/*
 * search_ilp.c - Alpa's two passes (Zheng et al., "Alpa: Automating Inter- and Intra-Operator
 * Parallelism for Distributed Deep Learning", OSDI 2022, sections 4 and 5).
 *
 * Intra-op pass (one GLPK MIP per global plan).  Variables: a binary x[v][c] for every free op v
 * (space.h: ops outside the layers and each layer class's representative layer, so the size does
 * not grow with depth) and config c; for every pair of free ops joined by an edge anywhere in the
 * graph, y[e][a][b] >= x[u][a] + x[w][b] - 1 (>= 0), which is 1 exactly when both configs are
 * chosen; and z, the time of the slowest pipeline stage per micro-batch.  Every op of the graph
 * charges its owner's compute time (pp_cost_op_s) to its stage's row, every edge its resharding
 * time (pp_cost_edge_s) to the consumer's stage row through y, so a layer's input layout is tied
 * to the previous layer's output layout.  Rows: one config per op; z >= each stage's time; per
 * stage, weights and optimizer state plus the in-flight micro-batches' activations
 * (pp_cost_op_bytes split by micro-batch) within the device memory.  Objective: the pipeline
 * multiplier (m + (p-1)/v) times z plus every op's data-parallel gradient time
 * (pp_cost_op_grad_sync_s); terms that do not depend on the configs (optimizer step,
 * point-to-point sends) are added as one constant measured with Megatron's configs, so the
 * objective is in the cost model's seconds.  GLPK's branch and cut solves it under --time-limit;
 * the plan records whether GLPK proved optimality and the gap left.
 *
 * Inter-op pass.  The global degrees come from the space walk under Megatron's configs (its best
 * plans, distinct in (t, p, d, b, schedule, v, recompute, SP, distributed optimizer)); for each,
 * the intra-op MIP gives the per-op configs and, from them, the time of every layer and of the
 * embedding and LM head/loss ops; a dynamic program over layers then places the stage
 * boundaries minimising the slowest stage (embedding on the first, head and loss on the last),
 * projected onto the layouts a plan can express (even middle stages, first/last shorter).  Each
 * result is re-scored with pp_cost_eval.
 */
#include "parplan/schedule.h"
#include "parplan/search.h"
#include "search_int.h"
#include "parplan/comm.h"

#include <float.h>
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MS 1e3                    /* seconds -> ms inside the MIP, for conditioning */
#define GIB (1024.0 * 1024.0 * 1024.0)
#define ILP_CANDIDATES 12

typedef struct pair_e {
	int u, w;                   /* producer var, consumer var */
	int ycol;                   /* first y column (1-based), nc[u]*nc[w] of them */
	double *wt;                 /* [p][a][b] seconds */
} pair_e;

typedef struct imodel {
	const pp_costctx *c;
	const pp_graph *g;
	pp_global gl;
	int p, n_var;
	int *var_ops;               /* var -> op */
	int *var_of;                /* op -> var (its config owner's var) */
	int *stage;                 /* op -> stage */
	int nc[1024];
	pp_cfg cl[1024][PP_CFG_COUNT];
	double *W;                  /* [p][var][6] compute seconds */
	double *G;                  /* [p][var][6] gradient sync seconds, latency terms removed */
	double *Mp, *Ma;            /* [p][var][6] bytes: params+grads+optimizer, activations */
	double *Pd;                 /* [p][var][6] parameters per device */
	double *extra_params;       /* [p] parameters no op owns (the tied LM head's copy) */
	uint8_t *kind;              /* [p][var][6] 1: gradients summed over d, 2: over t*d, 0: none */
	double alpha[3];            /* latency of the gradient collectives of each kind */
	double kappa;               /* optimizer seconds per parameter per device */
	int n_pairs, cap_pairs;
	pair_e *pairs;
	double konst;               /* seconds the configs do not change */
	double cap_bytes;
	double act_scale;           /* per-op activation bytes -> the cost model's (layer-level) */
	double mem_const;           /* bytes no op carries (full recompute's rebuilt layer) */
	int timed_out;              /* GLPK reached the time limit without a solution */
} imodel;

#define IDX(m, k, v, j) (((size_t)(k) * (size_t)(m)->n_var + (size_t)(v)) * PP_CFG_COUNT + (size_t)(j))

static void imodel_free(imodel *m)
{
	int i;
	free(m->var_ops);
	free(m->var_of);
	free(m->stage);
	free(m->W);
	free(m->G);
	free(m->Mp);
	free(m->Ma);
	free(m->Pd);
	free(m->extra_params);
	free(m->kind);
	for (i = 0; i < m->n_pairs; i++)
		free(m->pairs[i].wt);
	free(m->pairs);
}

static int cfg_index(const imodel *m, int v, int cfg)
{
	int j;
	for (j = 0; j < m->nc[v]; j++)
		if ((int)m->cl[v][j] == cfg)
			return j;
	return -1;
}

static pair_e *find_pair(imodel *m, int u, int w)
{
	int i;
	pair_e *pe;
	for (i = 0; i < m->n_pairs; i++)
		if (m->pairs[i].u == u && m->pairs[i].w == w)
			return &m->pairs[i];
	if (m->n_pairs == m->cap_pairs) {
		int nc = m->cap_pairs ? 2 * m->cap_pairs : 32;
		pair_e *np = realloc(m->pairs, sizeof(*np) * (size_t)nc);
		if (!np)
			return NULL;
		m->pairs = np;
		m->cap_pairs = nc;
	}
	pe = &m->pairs[m->n_pairs];
	pe->u = u;
	pe->w = w;
	pe->ycol = 0;
	pe->wt = calloc((size_t)m->p * PP_CFG_COUNT * PP_CFG_COUNT, sizeof(double));
	if (!pe->wt)
		return NULL;
	m->n_pairs++;
	return pe;
}

/* in-flight micro-batches whose activations stage k holds */
static double inflight(const pp_global *gl, int k)
{
	int m = pp_global_microbatches(gl), n;
	if (gl->schedule == PP_SCHED_GPIPE)
		return m;
	if (gl->schedule >= PP_SCHED_ZB_H1) /* every stage holds the peak (schedule.h) */
		return pp_sched_in_flight(gl->schedule, gl->p, m);
	n = gl->p - k;
	return n < m ? n : m;
}

/* stage k's compute + resharding seconds per micro-batch under sel */
static double stage_s(const imodel *m, const int *sel, int k)
{
	double s = 0;
	int v, i;
	for (v = 0; v < m->n_var; v++)
		s += m->W[IDX(m, k, v, sel[v])];
	for (i = 0; i < m->n_pairs; i++) {
		const pair_e *pe = &m->pairs[i];
		s += pe->wt[((size_t)k * PP_CFG_COUNT + (size_t)sel[pe->u]) * PP_CFG_COUNT + (size_t)sel[pe->w]];
	}
	return s;
}

/*
 * The MIP's objective for a choice sel[var] (index into cl), without the constant:
 * (m - 1/v) * max_k T_k + (1/v) * sum_k T_k  (pp_cost_eval's pipeline: m*Tmax + (Tsum-Tmax)/v)
 * + max_k gradient sync_k + max_k kappa * params_k.
 */
static double model_s(const imodel *m, const int *sel)
{
	double zmax = 0, tsum = 0, qmax = 0, rmax = 0, vv = m->gl.virtual_stages > 0 ? m->gl.virtual_stages : 1;
	int k, v;
	for (k = 0; k < m->p; k++) {
		double s = stage_s(m, sel, k), q = 0, r = m->extra_params[k];
		int used[3] = {0, 0, 0};
		tsum += s;
		if (s > zmax)
			zmax = s;
		for (v = 0; v < m->n_var; v++) {
			q += m->G[IDX(m, k, v, sel[v])];
			r += m->Pd[IDX(m, k, v, sel[v])];
			used[m->kind[IDX(m, k, v, sel[v])]] = 1;
		}
		q += used[1] * m->alpha[1] + used[2] * m->alpha[2];
		if (q > qmax)
			qmax = q;
		if (r > rmax)
			rmax = r;
	}
	return (pp_global_microbatches(&m->gl) - 1.0 / vv) * zmax + tsum / vv + qmax + m->kappa * rmax;
}

/* latency part of one data-parallel gradient collective set (as the cost model issues them) */
static double sync_alpha(const pp_costctx *c, const pp_global *gl, int td)
{
	const pp_hw *hw = pp_costctx_hw(c);
	int n = td ? gl->t * gl->d : gl->d, stride = td ? 1 : gl->t;
	const double tiny = 1e-30;
	if (gl->distributed_optimizer)
		return pp_coll_s(hw, PP_COLL_REDUCESCATTER, n, stride, tiny) +
		       pp_coll_s(hw, PP_COLL_ALLGATHER, n, stride, tiny);
	return pp_coll_s(hw, PP_COLL_ALLREDUCE, n, stride, tiny);
}

static int build(imodel *m, const pp_costctx *c, const pp_global *gl, pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	pp_global gl2 = *gl;
	int i, j, v, s, n_ops = g->n_ops;
	size_t per;
	double per_param, alpha_d, alpha_td;

	memset(m, 0, sizeof(*m));
	m->c = c;
	m->g = g;
	m->gl = *gl;
	m->p = gl->p;
	m->var_ops = malloc(sizeof(int) * (size_t)(n_ops + 1));
	m->var_of = malloc(sizeof(int) * (size_t)(n_ops + 1));
	m->stage = malloc(sizeof(int) * (size_t)(n_ops + 1));
	if (!m->var_ops || !m->var_of || !m->stage)
		goto nomem;
	m->n_var = pp_space_free_ops(g, m->var_ops);
	if (m->n_var > 1024)
		return pp_error_set(err, PP_EINVALID, g->file, NULL, "too many distinct ops (%d) for the ILP",
				    m->n_var);
	for (i = 0; i < n_ops; i++)
		m->var_of[i] = -1;
	for (v = 0; v < m->n_var; v++) {
		m->var_of[m->var_ops[v]] = v;
		m->nc[v] = pp_space_op_configs(g, gl, m->var_ops[v], m->cl[v]);
	}
	for (i = 0; i < n_ops; i++) {
		m->var_of[i] = m->var_of[pp_space_config_owner(g, i)];
		m->stage[i] = pp_space_op_stage(g, gl, i);
	}
	per = (size_t)m->p * (size_t)m->n_var * PP_CFG_COUNT;
	m->W = calloc(per, sizeof(double));
	m->Mp = calloc(per, sizeof(double));
	m->Ma = calloc(per, sizeof(double));
	m->G = calloc(per, sizeof(double));
	m->Pd = calloc(per, sizeof(double));
	m->extra_params = calloc((size_t)m->p, sizeof(double));
	m->kind = calloc(per, 1);
	if (!m->W || !m->Mp || !m->Ma || !m->G || !m->Pd || !m->extra_params || !m->kind)
		goto nomem;
	/* the tied LM head keeps its own copy of the embedding on the last stage */
	if (m->p > 1 && g->tied_embeddings)
		m->extra_params[m->p - 1] = (double)g->vocab * (double)g->hidden / (gl->t > 1 ? gl->t : 1);
	per_param = pp_cf_bytes_per_param(gl->d, gl->distributed_optimizer);
	alpha_d = m->alpha[1] = sync_alpha(c, gl, 0);
	alpha_td = m->alpha[2] = sync_alpha(c, gl, 1);
	/* activation bytes scale with the micro-batch: measure at b and 2b to split them off */
	gl2.micro_batch *= 2;
	gl2.global_batch *= 2;
	for (i = 0; i < n_ops; i++) {
		int k = m->stage[i];
		v = m->var_of[i];
		if (v < 0)
			continue;
		for (j = 0; j < m->nc[v]; j++) {
			pp_cfg cf = m->cl[v][j];
			double t = pp_cost_op_s(c, gl, i, cf), b1 = pp_cost_op_bytes(c, gl, i, cf);
			double b2 = pp_cost_op_bytes(c, &gl2, i, cf), gs = pp_cost_op_grad_sync_s(c, gl, i, cf);
			if (t < 0 || b1 < 0)
				return pp_error_set(err, PP_EINVALID, g->file, NULL,
						    "the cost model rejects config %s for op %s", pp_cfg_name(cf),
						    g->ops[i].name);
			double act = b2 >= b1 ? b2 - b1 : 0;
			m->W[IDX(m, k, v, j)] += t;
			m->Ma[IDX(m, k, v, j)] += act;
			m->Mp[IDX(m, k, v, j)] += b1 - act;
			m->Pd[IDX(m, k, v, j)] += (b1 - act) / per_param;
			if (gs > 0) {
				/* one collective per stage: drop this op's own latency terms (the cost model
				 * sums a gradient group across SAMPLE / SEQUENCE / HIDDEN over t*d, else d) */
				int td = gl->t > 1 && cf != PP_CFG_REPLICATE && cf != PP_CFG_COLUMN && cf != PP_CFG_ROW;
				double lin = gs - (td ? alpha_td : alpha_d);
				m->G[IDX(m, k, v, j)] += lin > 0 ? lin : 0;
				m->kind[IDX(m, k, v, j)] = (uint8_t)(td ? 2 : 1);
			}
		}
		/* edges into op i */
		for (s = 0; s < g->ops[i].n_inputs; s++) {
			const pp_tensor *tn = &g->tensors[g->ops[i].inputs[s]];
			int pr = tn->producer, u, a, b;
			pair_e *pe;
			if (tn->kind != PP_TENSOR_ACTIVATION || pr < 0 || m->var_of[pr] < 0)
				continue;
			u = m->var_of[pr];
			if (!(pe = find_pair(m, u, v)))
				goto nomem;
			for (a = 0; a < m->nc[u]; a++)
				for (b = 0; b < m->nc[v]; b++) {
					double e = pp_cost_edge_s(c, gl, pr, m->cl[u][a], i, s, m->cl[v][b]);
					if (e > 0)
						pe->wt[((size_t)k * PP_CFG_COUNT + (size_t)a) * PP_CFG_COUNT + (size_t)b] += e;
				}
		}
	}
	return 0;
nomem:
	return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
}

typedef struct cbinfo {
	double gap;
	volatile sig_atomic_t *stop; /* the search's stop flag (NULL: none) */
} cbinfo;

static void mip_cb(glp_tree *T, void *info)
{
	cbinfo *ci = info;
	/* GLPK calls back at every node of the branch-and-cut tree: end the MIP when asked, keeping
	 * its incumbent if it has one (glp_intopt then returns GLP_ESTOP) */
	if (ci->stop && *ci->stop) {
		glp_ios_terminate(T);
		return;
	}
	if (glp_ios_reason(T) == GLP_IBINGO || glp_ios_reason(T) == GLP_IBRANCH) {
		double gp = glp_ios_mip_gap(T);
		if (gp < DBL_MAX)
			ci->gap = gp;
	}
}

static int solve(imodel *m, double time_limit_s, volatile sig_atomic_t *stop, int *sel, int *optimal,
		 double *gap, pp_error *err)
{
	glp_prob *P = NULL;
	glp_iocp parm;
	cbinfo ci = {0, NULL};
	int *xcol = NULL, *ia = NULL, *ja = NULL;
	double *ar = NULL;
	double vv = m->gl.virtual_stages > 0 ? m->gl.virtual_stages : 1;
	double mz = pp_global_microbatches(&m->gl) - 1.0 / vv;
	int v, j, k, i, a, b, ncol, nz = 0, rc = 0, row, zcol, qcol, rcol, dcol, ret, st;
	size_t cap;

	xcol = malloc(sizeof(int) * (size_t)(m->n_var + 1));
	if (!xcol)
		goto nomem;
	glp_term_out(GLP_OFF);
	P = glp_create_prob();
	glp_set_obj_dir(P, GLP_MIN);
	/* columns: x, then y per pair, then z (slowest stage), q (slowest gradient sync), r (most
	 * parameters per device, for the optimizer step) */
	ncol = 0;
	for (v = 0; v < m->n_var; v++) {
		xcol[v] = ncol + 1;
		ncol += m->nc[v];
	}
	for (i = 0; i < m->n_pairs; i++) {
		m->pairs[i].ycol = ncol + 1;
		ncol += m->nc[m->pairs[i].u] * m->nc[m->pairs[i].w];
	}
	zcol = ncol + 1;
	qcol = ncol + 2;
	rcol = ncol + 3;
	ncol += 3;
	dcol = ncol + 1;            /* per stage: delta_d, delta_td (a gradient group is used) */
	ncol += 2 * m->p;
	glp_add_cols(P, ncol);
	for (v = 0; v < m->n_var; v++)
		for (j = 0; j < m->nc[v]; j++) {
			double w = 0;
			for (k = 0; k < m->p; k++)
				w += m->W[IDX(m, k, v, j)];
			glp_set_col_kind(P, xcol[v] + j, GLP_BV);
			glp_set_obj_coef(P, xcol[v] + j, w / vv * MS);
		}
	for (i = 0; i < m->n_pairs; i++) {
		pair_e *pe = &m->pairs[i];
		int nu = m->nc[pe->u], nw = m->nc[pe->w];
		for (a = 0; a < nu; a++)
			for (b = 0; b < nw; b++) {
				double w = 0;
				for (k = 0; k < m->p; k++)
					w += pe->wt[((size_t)k * PP_CFG_COUNT + (size_t)a) * PP_CFG_COUNT + (size_t)b];
				glp_set_col_bnds(P, pe->ycol + a * nw + b, GLP_LO, 0.0, 0.0);
				glp_set_obj_coef(P, pe->ycol + a * nw + b, w / vv * MS);
			}
	}
	glp_set_col_bnds(P, zcol, GLP_LO, 0.0, 0.0);
	glp_set_obj_coef(P, zcol, mz);
	glp_set_col_bnds(P, qcol, GLP_LO, 0.0, 0.0);
	glp_set_obj_coef(P, qcol, 1.0);
	glp_set_col_bnds(P, rcol, GLP_LO, 0.0, 0.0);
	glp_set_obj_coef(P, rcol, 1.0);
	for (k = 0; k < 2 * m->p; k++)
		glp_set_col_kind(P, dcol + k, GLP_BV);

	cap = (size_t)ncol * 4 + (size_t)(m->p * 6 + 1) * (size_t)ncol + 16;
	ia = malloc(sizeof(int) * (cap + 1));
	ja = malloc(sizeof(int) * (cap + 1));
	ar = malloc(sizeof(double) * (cap + 1));
	if (!ia || !ja || !ar)
		goto nomem;
#define NZ(r, col, val) (nz++, ia[nz] = (r), ja[nz] = (col), ar[nz] = (val))
	/* one config per op */
	for (v = 0; v < m->n_var; v++) {
		row = glp_add_rows(P, 1);
		glp_set_row_bnds(P, row, GLP_FX, 1.0, 1.0);
		for (j = 0; j < m->nc[v]; j++)
			NZ(row, xcol[v] + j, 1.0);
	}
	/* y_ab >= x_a + x_b - 1: 1 exactly when both ends take a and b */
	for (i = 0; i < m->n_pairs; i++) {
		pair_e *pe = &m->pairs[i];
		int nu = m->nc[pe->u], nw = m->nc[pe->w];
		for (a = 0; a < nu; a++)
			for (b = 0; b < nw; b++) {
				int used = 0;
				for (k = 0; k < m->p; k++)
					if (pe->wt[((size_t)k * PP_CFG_COUNT + (size_t)a) * PP_CFG_COUNT + (size_t)b] > 0)
						used = 1;
				if (!used || (pe->u == pe->w && a != b))
					continue;
				row = glp_add_rows(P, 1);
				glp_set_row_bnds(P, row, GLP_LO, -1.0, 0.0);
				NZ(row, pe->ycol + a * nw + b, 1.0);
				if (pe->u == pe->w) {
					NZ(row, xcol[pe->u] + a, -2.0);
				} else {
					NZ(row, xcol[pe->u] + a, -1.0);
					NZ(row, xcol[pe->w] + b, -1.0);
				}
			}
	}
	for (k = 0; k < m->p; k++) {
		double infl = inflight(&m->gl, k);
		/* z >= T_k */
		row = glp_add_rows(P, 1);
		glp_set_row_bnds(P, row, GLP_LO, 0.0, 0.0);
		NZ(row, zcol, 1.0);
		for (v = 0; v < m->n_var; v++)
			for (j = 0; j < m->nc[v]; j++) {
				double w = m->W[IDX(m, k, v, j)];
				if (w != 0)
					NZ(row, xcol[v] + j, -w * MS);
			}
		for (i = 0; i < m->n_pairs; i++) {
			pair_e *pe = &m->pairs[i];
			int nu = m->nc[pe->u], nw = m->nc[pe->w];
			for (a = 0; a < nu; a++)
				for (b = 0; b < nw; b++) {
					double w = pe->wt[((size_t)k * PP_CFG_COUNT + (size_t)a) * PP_CFG_COUNT + (size_t)b];
					if (w != 0 && !(pe->u == pe->w && a != b))
						NZ(row, pe->ycol + a * nw + b, -w * MS);
				}
		}
		/* q >= gradient sync of stage k; r >= kappa * parameters of stage k */
		row = glp_add_rows(P, 1);
		glp_set_row_bnds(P, row, GLP_LO, 0.0, 0.0);
		NZ(row, qcol, 1.0);
		NZ(row, dcol + 2 * k, -m->alpha[1] * MS);
		NZ(row, dcol + 2 * k + 1, -m->alpha[2] * MS);
		for (v = 0; v < m->n_var; v++)
			for (j = 0; j < m->nc[v]; j++)
				if (m->G[IDX(m, k, v, j)] != 0)
					NZ(row, xcol[v] + j, -m->G[IDX(m, k, v, j)] * MS);
		/* delta >= x for every config that puts gradients in that group */
		for (v = 0; v < m->n_var; v++)
			for (j = 0; j < m->nc[v]; j++) {
				int kd = m->kind[IDX(m, k, v, j)];
				if (!kd)
					continue;
				row = glp_add_rows(P, 1);
				glp_set_row_bnds(P, row, GLP_LO, 0.0, 0.0);
				NZ(row, dcol + 2 * k + (kd - 1), 1.0);
				NZ(row, xcol[v] + j, -1.0);
			}
		row = glp_add_rows(P, 1);
		glp_set_row_bnds(P, row, GLP_LO, m->kappa * m->extra_params[k] * MS, 0.0);
		NZ(row, rcol, 1.0);
		for (v = 0; v < m->n_var; v++)
			for (j = 0; j < m->nc[v]; j++)
				if (m->Pd[IDX(m, k, v, j)] != 0)
					NZ(row, xcol[v] + j, -m->kappa * m->Pd[IDX(m, k, v, j)] * MS);
		/* memory of stage k */
		if (m->cap_bytes > 0) {
			row = glp_add_rows(P, 1);
			double fixed = m->mem_const + m->extra_params[k] *
				       pp_cf_bytes_per_param(m->gl.d, m->gl.distributed_optimizer);
			glp_set_row_bnds(P, row, GLP_UP, 0.0, (m->cap_bytes - fixed) / GIB);
			for (v = 0; v < m->n_var; v++)
				for (j = 0; j < m->nc[v]; j++) {
					double by = m->Mp[IDX(m, k, v, j)] + infl * m->act_scale * m->Ma[IDX(m, k, v, j)];
					if (by != 0)
						NZ(row, xcol[v] + j, by / GIB);
				}
		}
		if ((size_t)nz + (size_t)ncol * 4 > cap)
			goto nomem;
	}
#undef NZ
	glp_load_matrix(P, nz, ia, ja, ar);
	glp_init_iocp(&parm);
	parm.presolve = GLP_ON;
	parm.msg_lev = GLP_MSG_OFF;
	parm.cb_func = mip_cb;
	parm.cb_info = &ci;
	ci.stop = stop;
	if (time_limit_s > 0)
		parm.tm_lim = time_limit_s * 1e3 > 2e9 ? 2000000000 : (int)(time_limit_s * 1e3) + 1;
	ret = glp_intopt(P, &parm);
	st = glp_mip_status(P);
	if (st == GLP_NOFEAS || ret == GLP_ENOPFS) {
		rc = pp_error_set(err, PP_EINFEASIBLE, NULL, NULL,
				  "no per-op configs fit %.1f GiB per GPU (t=%d p=%d d=%d b=%d)",
				  m->cap_bytes / GIB, m->gl.t, m->gl.p, m->gl.d, m->gl.micro_batch);
		goto done;
	}
	if (st != GLP_OPT && st != GLP_FEAS) {
		if (ret == GLP_ETMLIM || ret == GLP_ESTOP)
			m->timed_out = 1;
		if (ret == GLP_ESTOP)
			rc = pp_error_set(err, PP_EBACKEND, NULL, NULL, "GLPK stopped before any solution");
		else if (ret == GLP_ETMLIM)
			rc = pp_error_set(err, PP_EBACKEND, NULL, NULL,
					  "GLPK found no solution within the time limit (%.3f s)", time_limit_s);
		else
			rc = pp_error_set(err, PP_EBACKEND, NULL, NULL, "GLPK failed (glp_intopt %d, status %d)",
					  ret, st);
		goto done;
	}
	*optimal = st == GLP_OPT && ret == 0;
	*gap = *optimal ? 0.0 : ci.gap;
	for (v = 0; v < m->n_var; v++) {
		sel[v] = 0;
		for (j = 0; j < m->nc[v]; j++)
			if (glp_mip_col_val(P, xcol[v] + j) > 0.5)
				sel[v] = j;
	}
	goto done;
nomem:
	rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
done:
	if (P)
		glp_delete_prob(P);
	free(xcol);
	free(ia);
	free(ja);
	free(ar);
	return rc;
}

static void sel_to_cfg(const imodel *m, const int *sel, uint8_t *cfg)
{
	int v;
	pp_strategy_megatron(m->g, &m->gl, cfg);
	for (v = 0; v < m->n_var; v++)
		cfg[m->var_ops[v]] = (uint8_t)m->cl[v][sel[v]];
	pp_space_spread_configs(m->g, cfg);
}

/* intra-op pass for one global plan */
static int intra(const pp_costctx *c, const pp_global *gl, double cap_bytes, double time_limit_s,
		 volatile sig_atomic_t *stop, uint8_t *cfg, double *objective_s, int *optimal, double *gap,
		 pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	imodel m;
	int *sel = NULL, *ref_sel = NULL, v, rc;
	pp_cost ref, now;

	if ((rc = build(&m, c, gl, err)) < 0)
		goto done;
	m.cap_bytes = cap_bytes;
	sel = calloc((size_t)m.n_var + 1, sizeof(int));
	ref_sel = calloc((size_t)m.n_var + 1, sizeof(int));
	if (!sel || !ref_sel) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	/* the constant: what the cost model adds to the modelled terms, with Megatron's configs */
	pp_strategy_megatron(g, gl, cfg);
	for (v = 0; v < m.n_var; v++) {
		int j = cfg_index(&m, v, cfg[m.var_ops[v]]);
		sel[v] = j < 0 ? 0 : j;
	}
	sel_to_cfg(&m, sel, cfg);
	if ((rc = pp_cost_eval(c, gl, cfg, &ref)) < 0) {
		pp_error_set(err, rc, NULL, NULL, "the cost model rejects the reference plan");
		goto done;
	}
	{
		/* optimizer step: seconds per parameter on the most loaded device (pp_cost_eval's
		 * optimizer_s over its parameter count) */
		double rmax = 0;
		int k;
		for (k = 0; k < m.p; k++) {
			double r = m.extra_params[k];
			for (v = 0; v < m.n_var; v++)
				r += m.Pd[IDX(&m, k, v, sel[v])];
			if (r > rmax)
				rmax = r;
		}
		m.kappa = rmax > 0 ? ref.optimizer_s / rmax : 0;
	}
	m.konst = ref.iteration_s - model_s(&m, sel);
	{
		/* activations: the cost model counts a layer's kept tensors once (Korthikanti et al.),
		 * the per-op bytes count some twice; scale them so that the reference plan's peak
		 * stage has the cost model's peak */
		int k = ref.peak_stage, j2;
		double mp = 0, ma = 0, peak = ref.peak_gib * GIB;
		for (v = 0; v < m.n_var; v++) {
			j2 = sel[v];
			mp += m.Mp[IDX(&m, k, v, j2)];
			ma += m.Ma[IDX(&m, k, v, j2)];
		}
		ma *= inflight(gl, k);
		m.act_scale = ma > 0 && peak > mp ? (peak - mp) / ma : 1.0;
		if (m.act_scale > 1.0)
			m.act_scale = 1.0;
		m.mem_const = peak - mp - m.act_scale * ma;
		if (m.mem_const < 0)
			m.mem_const = 0;
	}
	memcpy(ref_sel, sel, sizeof(int) * (size_t)m.n_var);
	rc = solve(&m, time_limit_s, stop, sel, optimal, gap, err);
	if (rc == PP_EINFEASIBLE && ref.feasible) {
		/* the memory rows are a model: GLPK proved them infeasible, yet Megatron's configs fit
		 * under the cost model, so keep those */
		*optimal = 1;
		*gap = 0;
		rc = 0;
		memcpy(sel, ref_sel, sizeof(int) * (size_t)m.n_var);
	} else if (rc < 0 && m.timed_out && ref.feasible) {
		/* out of time (or stopped) before GLPK found any solution: Megatron's configs, nothing
		 * proven */
		*optimal = 0;
		*gap = 1.0;
		rc = 0;
		memcpy(sel, ref_sel, sizeof(int) * (size_t)m.n_var);
	}
	if (rc < 0)
		goto done;
	sel_to_cfg(&m, sel, cfg);
	*objective_s = model_s(&m, sel) + m.konst;
	/* the cost model is the judge: a MIP answer (e.g. one cut short by the time limit) that it
	 * scores worse than Megatron's configs, or that does not fit, loses to those */
	if (ref.feasible && (pp_cost_eval(c, gl, cfg, &now) < 0 || !now.feasible ||
			     now.iteration_s > ref.iteration_s)) {
		sel_to_cfg(&m, ref_sel, cfg);
		*objective_s = model_s(&m, ref_sel) + m.konst;
	}
done:
	imodel_free(&m);
	free(sel);
	free(ref_sel);
	return rc;
}

int pp_ilp_configs(const pp_costctx *c, const pp_global *gl, double time_limit_s, uint8_t *cfg,
		   double *objective_s, int *optimal, double *gap, pp_error *err)
{
	pp_cost ref;
	double cap = 0;
	int rc;
	uint8_t *tmp = malloc((size_t)pp_costctx_graph(c)->n_ops + 1);
	if (!tmp)
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	pp_strategy_megatron(pp_costctx_graph(c), gl, tmp);
	if ((rc = pp_cost_eval(c, gl, tmp, &ref)) == 0)
		cap = ref.capacity_gib * GIB;
	free(tmp);
	if (rc < 0)
		return pp_error_set(err, rc, NULL, NULL, "the cost model rejects t=%d p=%d d=%d", gl->t, gl->p, gl->d);
	return intra(c, gl, cap, time_limit_s, NULL, cfg, objective_s, optimal, gap, err);
}

/* ---- inter-op pass ---------------------------------------------------------------------- */

/* time per micro-batch of each layer, and of the ops before and after the layers, under cfg */
static void layer_times(const pp_costctx *c, const pp_global *gl, const uint8_t *cfg, double *lt,
			double *pre_s, double *post_s)
{
	const pp_graph *g = pp_costctx_graph(c);
	int i, s;
	*pre_s = *post_s = 0;
	for (i = 0; i < g->n_layers; i++)
		lt[i] = 0;
	for (i = 0; i < g->n_ops; i++) {
		const pp_op *op = &g->ops[i];
		double t = pp_cost_op_s(c, gl, i, (pp_cfg)cfg[i]);
		for (s = 0; s < op->n_inputs; s++) {
			const pp_tensor *tn = &g->tensors[op->inputs[s]];
			if (tn->kind == PP_TENSOR_ACTIVATION && tn->producer >= 0) {
				double e = pp_cost_edge_s(c, gl, tn->producer, (pp_cfg)cfg[tn->producer], i, s,
							  (pp_cfg)cfg[i]);
				if (e > 0)
					t += e;
			}
		}
		if (t < 0)
			t = 0;
		if (op->layer >= 0 && op->layer < g->n_layers) {
			lt[op->layer] += t;
		} else {
			int k, pre = 0;
			for (k = 0; k < g->n_pre; k++)
				if (g->pre_ops[k] == i)
					pre = 1;
			if (pre)
				*pre_s += t;
			else
				*post_s += t;
		}
	}
}

/* pp_stage_dp, checking @w (may be NULL) at each (k, j) before its i loop: -2 when it fired */
static double stage_dp(const double *layer_s, int n_layers, int p, double pre_s, double post_s,
		       int *bounds, double *cells, pp_search__watch *w)
{
	int L = n_layers, k, i, j;
	size_t W = (size_t)L + 1;
	double *F, *pref, best;
	int *arg;
	if (p < 1 || L < p)
		return -1;
	F = malloc(sizeof(double) * ((size_t)(p + 1) * W + W));
	arg = malloc(sizeof(int) * (size_t)(p + 1) * W);
	if (!F || !arg) {
		free(F);
		free(arg);
		return -1;
	}
	pref = F + (size_t)(p + 1) * W;
	pref[0] = 0;
	for (i = 0; i < L; i++)
		pref[i + 1] = pref[i] + layer_s[i];
	for (k = 0; k <= p; k++)
		for (j = 0; j <= L; j++) {
			F[(size_t)k * W + (size_t)j] = DBL_MAX;
			arg[(size_t)k * W + (size_t)j] = -1;
		}
	F[0] = 0;
	/* F[k][j]: the smallest slowest-stage time putting layers 0..j-1 on stages 0..k-1, each
	 * stage at least one layer; stage 0 also runs the ops before the layers, stage p-1 those
	 * after */
	for (k = 1; k <= p; k++)
		for (j = k; j <= L - (p - k); j++) {
			if (w && pp_search__watch_check(w, 64)) {
				free(F);
				free(arg);
				return -2;
			}
			for (i = k - 1; i < j; i++) {
				double prev = F[(size_t)(k - 1) * W + (size_t)i], st, w2;
				if (prev == DBL_MAX)
					continue;
				st = pref[j] - pref[i] + (k == 1 ? pre_s : 0) + (k == p ? post_s : 0);
				w2 = prev > st ? prev : st;
				if (cells)
					*cells += 1;
				if (w2 < F[(size_t)k * W + (size_t)j]) {
					F[(size_t)k * W + (size_t)j] = w2;
					arg[(size_t)k * W + (size_t)j] = i;
				}
			}
		}
	best = F[(size_t)p * W + (size_t)L];
	if (bounds) {
		bounds[p] = L;
		for (k = p, j = L; k >= 1; k--) {
			j = arg[(size_t)k * W + (size_t)j];
			bounds[k - 1] = j;
		}
	}
	free(F);
	free(arg);
	return best;
}

double pp_stage_dp(const double *layer_s, int n_layers, int p, double pre_s, double post_s,
		   int *bounds, double *cells)
{
	return stage_dp(layer_s, n_layers, p, pre_s, post_s, bounds, cells, NULL);
}

static double layout_bottleneck(const double *lt, int L, int p, int f, int l, double pre_s, double post_s)
{
	int k, start = 0, inner = p - (f > 0) - (l > 0), mid = inner > 0 ? (L - f - l) / inner : 0;
	double worst = 0;
	for (k = 0; k < p; k++) {
		int n = k == 0 && f ? f : (k == p - 1 && l ? l : mid), i;
		double s = (k == 0 ? pre_s : 0) + (k == p - 1 ? post_s : 0);
		if (p == 1)
			n = L;
		for (i = start; i < start + n && i < L; i++)
			s += lt[i];
		start += n;
		if (s > worst)
			worst = s;
	}
	return worst;
}

typedef struct glist {
	pp_global gl[ILP_CANDIDATES];
	double s[ILP_CANDIDATES];
	int n, cap;
	int ign_layout;             /* one entry per plan up to the stage layout */
} glist;

typedef struct gather {
	int n_layers;
	glist all, plain;           /* best even-stage plans; best without interleaving (the DP's) */
	glist odd;                  /* best uneven plans whose p no even layout has (no DP reaches them) */
	glist uneven;               /* best uneven plans: tried only when nothing else fits */
	pp_global gl[2 * ILP_CANDIDATES];
	int n;
	pp_search__watch *w;        /* ends the walk early: the stop flag, the time limit */
} gather;

/*
 * Two plans are one candidate when they differ only in sequence parallelism (the MIP chooses the
 * norm and dropout configs, and the flag follows from them) or, for @ign_layout, only in the
 * first/last stage layers.
 */
static int same_candidate(const pp_global *a, const pp_global *b, int ign_layout)
{
	pp_global x = *a, y = *b;
	x.sequence_parallel = y.sequence_parallel = 0;
	if (ign_layout)
		x.first_stage_layers = x.last_stage_layers = y.first_stage_layers = y.last_stage_layers = 0;
	return pp_space_cmp(&x, 0, &y, 0) == 0;
}

static void glist_offer(glist *G, const pp_global *gl, double s)
{
	int i;
	for (i = 0; i < G->n; i++)
		if (same_candidate(&G->gl[i], gl, G->ign_layout))
			break;
	if (i < G->n) {
		/* keep the better of the two */
		if (pp_space_cmp(gl, s, &G->gl[i], G->s[i]) >= 0)
			return;
		for (; i + 1 < G->n; i++) {
			G->gl[i] = G->gl[i + 1];
			G->s[i] = G->s[i + 1];
		}
		G->n--;
	}
	if (G->n == G->cap && pp_space_cmp(gl, s, &G->gl[G->n - 1], G->s[G->n - 1]) >= 0)
		return;
	i = G->n < G->cap ? G->n++ : G->n - 1;
	while (i > 0 && pp_space_cmp(gl, s, &G->gl[i - 1], G->s[i - 1]) < 0) {
		G->gl[i] = G->gl[i - 1];
		G->s[i] = G->s[i - 1];
		i--;
	}
	G->gl[i] = *gl;
	G->s[i] = s;
}

/*
 * The global degrees the ILP refines, from Megatron-config plans: the best even-stage plans
 * (the inter-op DP then moves their stage boundaries, uneven layouts included), the best
 * uneven plans with a p that no even layout has, and, in reserve, the best uneven plans.
 */
static int gather_fn(void *arg, const pp_global *gl, const pp_cost *cost)
{
	gather *G = arg;
	if (gl->first_stage_layers || gl->last_stage_layers) {
		glist_offer(&G->uneven, gl, cost->iteration_s);
		if (G->n_layers % gl->p)
			glist_offer(&G->odd, gl, cost->iteration_s);
	} else {
		glist_offer(&G->all, gl, cost->iteration_s);
		if (gl->schedule != PP_SCHED_INTERLEAVED)
			glist_offer(&G->plain, gl, cost->iteration_s);
	}
	/* after the offer: stopped, the plans met so far are the answer */
	return pp_search__watch_check(G->w, 16) != 0;
}

static void gather_add(gather *G, const pp_global *gl)
{
	int j;
	for (j = 0; j < G->n; j++)
		if (same_candidate(&G->gl[j], gl, 0))
			return;
	if (G->n < 2 * ILP_CANDIDATES)
		G->gl[G->n++] = *gl;
}

static void gather_merge(gather *G)
{
	int i;
	G->n = 0;
	for (i = 0; i < G->all.n; i++)
		gather_add(G, &G->all.gl[i]);
	for (i = 0; i < G->plain.n; i++)
		gather_add(G, &G->plain.gl[i]);
	/* uneven plans out of the DP's reach, where they beat every even one */
	for (i = 0; i < G->odd.n; i++)
		if (G->all.n == 0 || G->odd.s[i] < G->all.s[0])
			gather_add(G, &G->odd.gl[i]);
}

/* nothing fitted: try the best uneven plans too; returns how many were added */
static int gather_reserve(gather *G)
{
	int i, n0 = G->n;
	for (i = 0; i < G->uneven.n; i++)
		gather_add(G, &G->uneven.gl[i]);
	return G->n - n0;
}

/* keep @cd in cand[0..*n) sorted best first, taking its cfg, unless a plan equal in global and
 * time is there (then cd->cfg is freed) */
static void cand_add(pp_candidate *cand, int *n, pp_candidate *cd)
{
	int i;
	for (i = 0; i < *n; i++)
		if (pp_space_cmp(&cd->global, cd->cost.iteration_s, &cand[i].global, cand[i].cost.iteration_s) == 0) {
			free(cd->cfg);
			cd->cfg = NULL;
			return;
		}
	i = (*n)++;
	cand[i] = *cd;
	cd->cfg = NULL;
	while (i > 0 && pp_space_cmp(&cand[i].global, cand[i].cost.iteration_s, &cand[i - 1].global,
				     cand[i - 1].cost.iteration_s) < 0) {
		pp_candidate tmp = cand[i];
		cand[i] = cand[i - 1];
		cand[i - 1] = tmp;
		i--;
	}
}

/*
 * Stopped before any MIP gave a plan: the best so far are the walk's shortlist under Megatron's
 * configs (what the walk scored), each re-scored; cand has room for 2 * ILP_CANDIDATES.
 * PP_ENOMEM, else 0 (*n_cand may stay 0).
 */
static int megatron_candidates(const pp_costctx *c, gather *G, pp_candidate *cand, int *n_cand)
{
	const pp_graph *g = pp_costctx_graph(c);
	int i;
	if (G->n == 0)
		gather_reserve(G);
	for (i = 0; i < G->n; i++) {
		pp_candidate cd;
		cd.global = G->gl[i];
		if (!(cd.cfg = malloc((size_t)g->n_ops + 1)))
			return PP_ENOMEM;
		pp_strategy_megatron(g, &cd.global, cd.cfg);
		if (pp_cost_eval(c, &cd.global, cd.cfg, &cd.cost) < 0 || !cd.cost.feasible) {
			free(cd.cfg);
			continue;
		}
		cand_add(cand, n_cand, &cd);
	}
	return 0;
}

int pp_search_ilp(const pp_costctx *c, const pp_search_opts *o, pp_search_result *r, pp_error *err)
{
	const pp_graph *g = pp_costctx_graph(c);
	const pp_hw *hw = pp_costctx_hw(c);
	gather G;
	pp_space_stats st;
	int rc, gi, L = g->n_layers, n_layouts, lcap, li, kept = 0, all_opt = 1, k = o->top_k;
	double t0 = pp_search_now(), worst_gap = 0, cap_bytes, *lt = NULL;
	int (*layouts)[3] = NULL;
	uint8_t *cfg = NULL;
	pp_candidate *cand = NULL;
	int n_cand = 0, n_first = 0, reserve = 0;
	pp_space_opts so = o->space;
	pp_search__watch w;

	memset(r, 0, sizeof(*r));
	memset(&G, 0, sizeof(G));
	G.n_layers = L;
	G.all.cap = ILP_CANDIDATES - ILP_CANDIDATES / 3;
	G.plain.cap = ILP_CANDIDATES / 3;
	G.odd.cap = G.uneven.cap = ILP_CANDIDATES / 3;
	G.odd.ign_layout = G.uneven.ign_layout = 1;
	pp_search__watch_init(&w, o, t0);
	G.w = &w;
	if ((rc = pp_search__check(c, o, err)) < 0)
		return rc;
	/* at most one plan per MIP comes back */
	if ((rc = pp_search__result_init(r, PP_SEARCH_ILP, g->n_ops, k < 2 * ILP_CANDIDATES ? k : 2 * ILP_CANDIDATES,
					 err)) < 0)
		return rc;
	cap_bytes = (o->space.mem_limit_gib > 0 ? o->space.mem_limit_gib * GIB : pp_hw_usable_bytes(hw)) -
		    pp_costctx_headroom_bytes(c);
	lcap = L * L + L + 1;
	lt = malloc(sizeof(double) * (size_t)(L + 1));
	layouts = malloc(sizeof(*layouts) * (size_t)lcap);
	cfg = malloc((size_t)g->n_ops + 1);
	cand = calloc(2 * ILP_CANDIDATES + 1, sizeof(*cand));
	if (!lt || !layouts || !cfg || !cand) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	n_layouts = pp_space_layouts(g, o->space.gpus, o->space.uneven_stages, layouts, lcap);
	if (o->fixed) {
		if ((rc = pp_space_valid(c, &o->space, o->fixed, err)) < 0)
			goto done;
		G.gl[0] = *o->fixed;
		G.n = 1;
	} else {
		if ((rc = pp_space_walk(c, &so, gather_fn, &G, &st, err)) < 0)
			goto done;
		r->stopped = w.why;
		gather_merge(&G);
		n_first = G.n;
		r->space = st;
		if (G.n == 0 && G.uneven.n == 0 && w.why) {
			rc = pp_search__stopped_empty(err, w.why, o->time_limit_s);
			goto done;
		}
		if (G.n == 0 && G.uneven.n == 0) {
			rc = pp_search__infeasible_st(err, PP_SEARCH_ILP, &st);
			goto done;
		}
	}
	for (gi = 0;; gi++) {
		pp_global gl, best_gl;
		double obj, gap, pre_s, post_s, best_b;
		int opt, bi = -1, dup = 0;
		pp_cost cost;
		pp_error e2 = PP_ERROR_INIT;
		double left = 0;
		if (gi == G.n && (n_cand > 0 || o->fixed || reserve || !gather_reserve(&G)))
			break;
		if (gi == n_first)
			reserve = 1;
		gl = G.gl[gi];
		if (o->stop && *o->stop) {
			r->stopped = PP_SEARCH_STOP_FLAG;
			break;
		}
		if (w.why == PP_SEARCH_STOP_TIME) {
			/* the time limit fired in the walk, a stage DP or its layouts: no MIP starts (with
			 * none answered yet, Megatron's configs below) */
			r->stopped = PP_SEARCH_STOP_TIME;
			break;
		}
		if (o->time_limit_s > 0) {
			left = o->time_limit_s - (pp_search_now() - t0);
			if (left <= 0.001) {
				r->stopped = PP_SEARCH_STOP_TIME;
				break;
			}
		}
		rc = intra(c, &gl, cap_bytes, left, o->stop, cfg, &obj, &opt, &gap, &e2);
		r->states += 1;
		if (rc == PP_EINFEASIBLE)
			continue;
		if (rc < 0 && o->time_limit_s > 0 && n_cand > 0 &&
		    pp_search_now() - t0 >= o->time_limit_s) {
			/* out of time inside GLPK: keep what the earlier MIPs found */
			r->stopped = PP_SEARCH_STOP_TIME;
			break;
		}
		if (rc < 0 && o->stop && *o->stop) {
			/* stopped inside GLPK before it had any solution (Megatron's configs not fitting) */
			r->stopped = PP_SEARCH_STOP_FLAG;
			break;
		}
		if (rc < 0) {
			*err = e2;
			goto done;
		}
		if (!opt)
			all_opt = 0;
		if (gap > worst_gap)
			worst_gap = gap;
		best_gl = gl;
		/* inter-op pass: stage boundaries for these configs */
		/* (the V and DualPipe placements take no uneven ends) */
		if (gl.p > 1 && !o->fixed && gl.schedule != PP_SCHED_INTERLEAVED &&
		    gl.schedule < PP_SCHED_ZB_V) {
			double opt_b;
			layer_times(c, &gl, cfg, lt, &pre_s, &post_s);
			/* the DP's optimum bounds every layout; a plan expresses even middle stages with
			 * shorter ends, so take the best of those, stopping once one reaches the bound */
			opt_b = stage_dp(lt, L, gl.p, pre_s, post_s, NULL, &r->states, &w);
			best_b = layout_bottleneck(lt, L, gl.p, gl.first_stage_layers, gl.last_stage_layers,
						   pre_s, post_s);
			/* stopped inside the DP (opt_b -2): the candidate's own stages */
			for (li = 0; li < n_layouts && opt_b != -2 && best_b > opt_b * (1 + 1e-12); li++) {
				double b;
				if (pp_search__watch_check(&w, 256))
					break;
				if (layouts[li][0] != gl.p || (layouts[li][1] == gl.first_stage_layers &&
							       layouts[li][2] == gl.last_stage_layers))
					continue;
				b = layout_bottleneck(lt, L, gl.p, layouts[li][1], layouts[li][2], pre_s, post_s);
				if (b < best_b * (1 - 1e-12)) {
					pp_global t2 = gl;
					pp_cost c2;
					t2.first_stage_layers = layouts[li][1];
					t2.last_stage_layers = layouts[li][2];
					if (pp_space_valid(c, &o->space, &t2, NULL) < 0)
						continue;
					if (pp_cost_eval(c, &t2, cfg, &c2) < 0 || !c2.feasible)
						continue;
					best_b = b;
					bi = li;
				}
			}
			if (bi >= 0) {
				best_gl.first_stage_layers = layouts[bi][1];
				best_gl.last_stage_layers = layouts[bi][2];
			}
		}
		if (pp_cost_eval(c, &best_gl, cfg, &cost) < 0 || !cost.feasible) {
			/* the MIP's memory rows are a model: fall back to the candidate's own stages */
			best_gl = gl;
			if (pp_cost_eval(c, &best_gl, cfg, &cost) < 0 || !cost.feasible)
				continue;
		}
		/* with per-op configs the flag says what the norm and dropout configs do, and the
		 * overlaps follow it (a fixed plan keeps its own) */
		best_gl.sequence_parallel = pp_space_sequence_parallel(g, &best_gl, cfg);
		if (!o->fixed) {
			pp_global was = best_gl;
			pp_space_set_overlaps(c, &o->space, &best_gl);
			if (memcmp(&was, &best_gl, sizeof(was)) &&
			    (pp_cost_eval(c, &best_gl, cfg, &cost) < 0 || !cost.feasible))
				continue;
		}
		for (li = 0; li < n_cand; li++)
			dup |= pp_space_cmp(&best_gl, cost.iteration_s, &cand[li].global, cand[li].cost.iteration_s) == 0;
		if (dup)
			continue;
		if (n_cand == 0 || pp_space_cmp(&best_gl, cost.iteration_s, &cand[0].global, cand[0].cost.iteration_s) < 0)
			r->ilp_objective_s = best_gl.first_stage_layers == gl.first_stage_layers &&
						     best_gl.last_stage_layers == gl.last_stage_layers
					     ? obj
					     : cost.iteration_s;
		{
			/* dup was ruled out above: cand_add keeps it, sorted best first */
			pp_candidate cd;
			cd.global = best_gl;
			cd.cost = cost;
			if (!(cd.cfg = malloc((size_t)g->n_ops + 1))) {
				rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
				goto done;
			}
			memcpy(cd.cfg, cfg, (size_t)g->n_ops);
			cand_add(cand, &n_cand, &cd);
		}
		if (o->progress)
			o->progress(o->progress_arg, r->states, pp_search_now() - t0, cand[0].cost.iteration_s);
	}
	rc = 0;
	if (w.why && !r->stopped)
		r->stopped = w.why; /* the time limit cut a stage DP or its layouts short */
	if (n_cand == 0 && r->stopped) {
		/* no MIP answered: Megatron's configs, nothing proven (gap 1, as for a MIP cut short
		 * before any incumbent) */
		if (megatron_candidates(c, &G, cand, &n_cand) < 0) {
			rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		all_opt = 0;
		worst_gap = 1.0;
	}
	if (n_cand == 0 && r->stopped) {
		rc = pp_search__stopped_empty(err, r->stopped, o->time_limit_s);
		goto done;
	}
	if (n_cand == 0) {
		rc = pp_search__infeasible_st(err, PP_SEARCH_ILP, &r->space);
		goto done;
	}
	for (kept = 0; kept < n_cand && kept < k; kept++) {
		r->plans[kept] = cand[kept];
		cand[kept].cfg = NULL;
		r->n = kept + 1;
	}
	r->optimal = all_opt && !r->stopped;
	r->gap = worst_gap;
	r->seconds = pp_search_now() - t0;
done:
	if (cand)
		for (gi = 0; gi < n_cand; gi++)
			free(cand[gi].cfg);
	if (rc < 0)
		pp_search_result_release(r);
	free(cand);
	free(lt);
	free(layouts);
	free(cfg);
	return rc;
}
