/*
 * layer.c - one transformer layer forward and backward on this rank's shards: every GEMM and
 * collective through the backend table, in the order of the stub's lists (emit_exec.c), each
 * checked against the list's shape and product count, timed on its own, and (in the validating
 * and reference modes) handed to xe_check.
 */
#include <math.h>
#include <string.h>

#include "exec_int.h"

int xe_find_gemm(const pp_exec_layer *L, const char *name)
{
	int i;
	for (i = 0; i < L->n_gemm; i++)
		if (!strcmp(L->gemm[i].name, name))
			return i;
	return -1;
}

static int find_coll(const pp_exec_layer *L, const char *name)
{
	int i;
	for (i = 0; i < L->n_coll; i++)
		if (!strcmp(L->coll[i].name, name))
			return i;
	return -1;
}

static int gemm(xe_run *R, const char *name, pp_xgemm g)
{
	int gi = xe_find_gemm(R->L, name), rc;
	const pp_exec_gemm *e;
	double s = 0;

	if (gi < 0)
		return xe_seterr("internal: GEMM %s is not in the layer's list", name);
	e = &R->L->gemm[gi];
	R->calls[gi] += g.outer * g.inner;
	if (e->m != g.m || e->n != g.n || e->k != g.k || R->calls[gi] > e->batch)
		return xe_seterr("internal: GEMM %s runs %lldx%lldx%lld x%lld, the list says "
				 "%lldx%lldx%lld x%lld", name, (long long)g.m, (long long)g.n,
			      (long long)g.k, (long long)(g.outer * g.inner), (long long)e->m,
			      (long long)e->n, (long long)e->k, (long long)e->batch);
	if (R->o->skip_write && !strcmp(R->o->skip_write, name) && R->mode != 2 && g.m > 1)
		g.m -= 1; /* test only: the last output row stays poisoned */
	if ((rc = R->be->tic(R->dev)) < 0 || (rc = R->be->gemm(R->dev, &g)) < 0 ||
	    (rc = R->be->toc(R->dev, &s)) < 0)
		return xe_be_fail(R, name);
	if (R->gemm_s)
		R->gemm_s[gi] += s;
	return 0;
}

/* An element offset affine in (micro-batch index, kv group, query head within the group). */
typedef struct aff {
	int64_t base, bi, grp, hig;
} aff;

/*
 * An attention product for every (batch, head) of this rank, operands addressed by @A, @B, @C.
 * Without grouped-query attention one batched call over (batch, head); with it one call per
 * batch over (group, head in group), and where heads of a group write the same output (dK, dV:
 * @accumulate) one call per head in the group, adding up.
 */
static int attn_gemm(xe_run *R, const char *name, pp_xgemm g, aff A, aff B, aff C, int accumulate)
{
	int64_t bi, hig;
	int rc;

	if (R->qpg == 1) {
		g.a0 = A.base, g.a_so = A.bi, g.a_si = A.grp;
		g.b0 = B.base, g.b_so = B.bi, g.b_si = B.grp;
		g.c0 = C.base, g.c_so = C.bi, g.c_si = C.grp;
		g.outer = R->b;
		g.inner = R->gk;
		return gemm(R, name, g);
	}
	for (bi = 0; bi < R->b; bi++) {
		g.a_so = A.grp, g.b_so = B.grp, g.c_so = C.grp;
		g.outer = R->gk;
		if (!accumulate) {
			g.a0 = A.base + bi * A.bi, g.a_si = A.hig;
			g.b0 = B.base + bi * B.bi, g.b_si = B.hig;
			g.c0 = C.base + bi * C.bi, g.c_si = C.hig;
			g.inner = R->qpg;
			if ((rc = gemm(R, name, g)) < 0)
				return rc;
			continue;
		}
		g.inner = 1;
		g.a_si = g.b_si = g.c_si = 0;
		for (hig = 0; hig < R->qpg; hig++) {
			g.a0 = A.base + bi * A.bi + hig * A.hig;
			g.b0 = B.base + bi * B.bi + hig * B.hig;
			g.c0 = C.base + bi * C.bi + hig * C.hig;
			g.beta = hig ? 1.0f : 0.0f;
			if ((rc = gemm(R, name, g)) < 0)
				return rc;
		}
	}
	return 0;
}

static int coll(xe_run *R, const char *name, pp_exec_collop op, const void *send, void *recv,
		size_t n)
{
	int ci = find_coll(R->L, name), rc = 0;
	double s = 0;

	if (ci < 0)
		return xe_seterr("internal: collective %s is not in the layer's list", name);
	/* Start together, so the time is the collective's and not a slower rank's GEMM. */
	if (R->be->sync(R->dev) < 0)
		return xe_be_fail(R, name);
	MPI_Barrier(R->comm);
	if (R->be->tic(R->dev) < 0)
		return xe_be_fail(R, name);
	switch (op) {
	case PP_EXEC_ALLREDUCE: rc = R->be->allreduce(R->dev, recv, n); break;
	case PP_EXEC_ALLGATHER: rc = R->be->allgather(R->dev, send, recv, n); break;
	case PP_EXEC_REDUCESCATTER: rc = R->be->reduce_scatter(R->dev, send, recv, n); break;
	}
	if (rc < 0 || R->be->toc(R->dev, &s) < 0)
		return xe_be_fail(R, name);
	if (R->coll_s)
		R->coll_s[ci] = s;
	return 0;
}

#define TRY(x) do { if ((rc = (x)) < 0) return rc; } while (0)

/* A plain GEMM C[m,n] = op(A) op(B) on whole, densely packed matrices. */
static pp_xgemm mm(int ta, int tb, int64_t m, int64_t n, int64_t k, const void *a, const void *b,
		   void *c)
{
	pp_xgemm g;
	memset(&g, 0, sizeof(g));
	g.ta = ta;
	g.tb = tb;
	g.m = m;
	g.n = n;
	g.k = k;
	g.alpha = 1;
	g.a = a;
	g.b = b;
	g.c = c;
	g.lda = ta ? m : k;
	g.ldb = tb ? k : n;
	g.ldc = n;
	g.outer = g.inner = 1;
	return g;
}

/*
 * One layer forward and backward, exactly in the order of the stub's lists (emit_exec.c).
 * Activation rows are (sequence, batch); QKV columns are per head [q | k | v], d each; the
 * attention tensors are [head][batch][s][s].
 */
int xe_run_layer(xe_run *R)
{
	int64_t M = R->M, Ms = R->Ms, h = R->h, hp = R->hp, ap = R->ap, d = R->d, fp = R->fp;
	int64_t s = R->s, b = R->b;
	int sp = R->sp, tp = R->t > 1, rc;
	int64_t qw = R->qw, gw = R->gw, f1w = R->f1w, qpg = R->qpg;
	float sc = 1.0f / sqrtf((float)d);
	/* where head j = (group, head in group) of micro-batch bi finds its operands */
	const aff Q = {0, qw, gw, d}, K = {qpg * d, qw, gw, 0}, V = {(qpg + 1) * d, qw, gw, 0};
	const aff S = {0, s * s, qpg * b * s * s, b * s * s}, O = {0, hp, qpg * d, d};
	void *H, *DH, *DF1 = R->llama ? R->df1 : R->da1;
	pp_xgemm g;
	int i;

	for (i = 0; i < R->L->n_gemm; i++) {
		R->calls[i] = 0;
		if (R->gemm_s)
			R->gemm_s[i] = 0;
	}

	/* ---- forward ---- */
	if (sp) {
		TRY(coll(R, "fwd.qkv.allgather", PP_EXEC_ALLGATHER, R->xs, R->x, (size_t)(Ms * h)));
		TRY(xe_check(R, "fwd.qkv.allgather", "in.x", XE_CK_FULL, R->x, M, h, h, 0, h));
	}
	TRY(gemm(R, "fwd.qkv", mm(0, 0, M, qw, h, R->x, R->wqkv, R->qkv)));
	TRY(xe_check(R, "fwd.qkv", "fwd.qkv", XE_CK_COL, R->qkv, M, qw, qw, 0, qw));

	/* S = Q K^T / sqrt(d), P = softmax(S), O = P V, per (batch, head) */
	g = mm(0, 1, s, s, d, R->qkv, R->qkv, R->scores);
	g.alpha = sc;
	g.lda = g.ldb = b * qw;
	TRY(attn_gemm(R, "fwd.scores", g, Q, K, S, 0));
	TRY(xe_check(R, "fwd.scores", "fwd.scores", XE_CK_BLOCK, R->scores, ap * b * s, s, s, 0, s));
	if (R->be->softmax(R->dev, R->scores, ap * b * s, s) < 0)
		return xe_be_fail(R, "softmax");
	g = mm(0, 0, s, d, s, R->scores, R->qkv, R->ctx);
	g.ldb = b * qw;
	g.ldc = b * hp;
	TRY(attn_gemm(R, "fwd.context", g, S, V, O, 0));
	TRY(xe_check(R, "fwd.context", "fwd.context", XE_CK_COL, R->ctx, M, hp, hp, 0, hp));

	TRY(gemm(R, "fwd.proj", mm(0, 0, M, h, hp, R->ctx, R->wproj, R->proj)));
	TRY(xe_check(R, "fwd.proj", "fwd.proj", XE_CK_PARTIAL, R->proj, M, h, h, 0, h));
	H = R->proj;
	if (sp) {
		TRY(coll(R, "fwd.proj.reducescatter", PP_EXEC_REDUCESCATTER, R->proj, R->y1s,
			 (size_t)(Ms * h)));
		TRY(xe_check(R, "fwd.proj.reducescatter", "fwd.proj", XE_CK_BLOCK, R->y1s, Ms, h, h, 0, h));
		TRY(coll(R, "fwd.fc1.allgather", PP_EXEC_ALLGATHER, R->y1s, R->y1, (size_t)(Ms * h)));
		TRY(xe_check(R, "fwd.fc1.allgather", "fwd.proj", XE_CK_FULL, R->y1, M, h, h, 0, h));
		H = R->y1;
	} else if (tp) {
		TRY(coll(R, "fwd.proj.allreduce", PP_EXEC_ALLREDUCE, NULL, R->proj, (size_t)(M * h)));
		TRY(xe_check(R, "fwd.proj.allreduce", "fwd.proj", XE_CK_FULL, R->proj, M, h, h, 0, h));
	}
	TRY(gemm(R, "fwd.fc1", mm(0, 0, M, f1w, h, H, R->w1, R->f1)));
	TRY(xe_check(R, "fwd.fc1", "fwd.fc1", R->llama ? XE_CK_COL2 : XE_CK_COL, R->f1, M, f1w, f1w,
		     0, f1w));
	if (R->llama ? R->be->swiglu(R->dev, R->a1, R->f1, M, fp) < 0
		     : R->be->gelu(R->dev, R->a1, R->f1, (size_t)(M * fp)) < 0)
		return xe_be_fail(R, R->llama ? "swiglu" : "gelu");
	TRY(gemm(R, "fwd.fc2", mm(0, 0, M, h, fp, R->a1, R->w2, R->fc2)));
	TRY(xe_check(R, "fwd.fc2", "fwd.fc2", XE_CK_PARTIAL, R->fc2, M, h, h, 0, h));
	if (sp) {
		TRY(coll(R, "fwd.fc2.reducescatter", PP_EXEC_REDUCESCATTER, R->fc2, R->y2s,
			 (size_t)(Ms * h)));
		TRY(xe_check(R, "fwd.fc2.reducescatter", "fwd.fc2", XE_CK_BLOCK, R->y2s, Ms, h, h, 0, h));
	} else if (tp) {
		TRY(coll(R, "fwd.fc2.allreduce", PP_EXEC_ALLREDUCE, NULL, R->fc2, (size_t)(M * h)));
		TRY(xe_check(R, "fwd.fc2.allreduce", "fwd.fc2", XE_CK_FULL, R->fc2, M, h, h, 0, h));
	}

	/* ---- backward ---- */
	if (sp) {
		TRY(coll(R, "bwd.fc2.allgather", PP_EXEC_ALLGATHER, R->dy2s, R->dy2,
			 (size_t)(Ms * h)));
		TRY(xe_check(R, "bwd.fc2.allgather", "in.dy", XE_CK_FULL, R->dy2, M, h, h, 0, h));
	}
	TRY(gemm(R, "bwd.fc2.dgrad", mm(0, 1, M, fp, h, R->dy2, R->w2, R->da1)));
	TRY(xe_check(R, "bwd.fc2.dgrad", "bwd.fc2.dgrad", XE_CK_COL, R->da1, M, fp, fp, 0, fp));
	TRY(gemm(R, "bwd.fc2.wgrad", mm(1, 0, fp, h, M, R->a1, R->dy2, R->dw2)));
	TRY(xe_check(R, "bwd.fc2.wgrad", "bwd.fc2.wgrad", XE_CK_BLOCK, R->dw2, fp, h, h, 0, h));
	if (R->llama ? R->be->swiglu_bwd(R->dev, R->df1, R->da1, R->f1, M, fp) < 0
		     : R->be->gelu_bwd(R->dev, R->da1, R->f1, (size_t)(M * fp)) < 0)
		return xe_be_fail(R, R->llama ? "swiglu backward" : "gelu backward");
	TRY(gemm(R, "bwd.fc1.dgrad", mm(0, 1, M, h, f1w, DF1, R->w1, R->dh)));
	TRY(xe_check(R, "bwd.fc1.dgrad", "bwd.fc1.dgrad", XE_CK_PARTIAL, R->dh, M, h, h, 0, h));
	TRY(gemm(R, "bwd.fc1.wgrad", mm(1, 0, h, f1w, M, H, DF1, R->dw1)));
	TRY(xe_check(R, "bwd.fc1.wgrad", "bwd.fc1.wgrad", R->llama ? XE_CK_COL2 : XE_CK_COL, R->dw1,
		     h, f1w, f1w, 0, f1w));
	DH = R->dh;
	if (sp) {
		TRY(coll(R, "bwd.fc1.reducescatter", PP_EXEC_REDUCESCATTER, R->dh, R->dhs,
			 (size_t)(Ms * h)));
		TRY(xe_check(R, "bwd.fc1.reducescatter", "bwd.fc1.dgrad", XE_CK_BLOCK, R->dhs, Ms, h, h, 0,
			     h));
		TRY(coll(R, "bwd.proj.allgather", PP_EXEC_ALLGATHER, R->dhs, R->dhf,
			 (size_t)(Ms * h)));
		TRY(xe_check(R, "bwd.proj.allgather", "bwd.fc1.dgrad", XE_CK_FULL, R->dhf, M, h, h, 0, h));
		DH = R->dhf;
	} else if (tp) {
		TRY(coll(R, "bwd.fc1.allreduce", PP_EXEC_ALLREDUCE, NULL, R->dh, (size_t)(M * h)));
		TRY(xe_check(R, "bwd.fc1.allreduce", "bwd.fc1.dgrad", XE_CK_FULL, R->dh, M, h, h, 0, h));
	}
	TRY(gemm(R, "bwd.proj.dgrad", mm(0, 1, M, hp, h, DH, R->wproj, R->dctx)));
	TRY(xe_check(R, "bwd.proj.dgrad", "bwd.proj.dgrad", XE_CK_COL, R->dctx, M, hp, hp, 0, hp));
	TRY(gemm(R, "bwd.proj.wgrad", mm(1, 0, hp, h, M, R->ctx, DH, R->dwproj)));
	TRY(xe_check(R, "bwd.proj.wgrad", "bwd.proj.wgrad", XE_CK_BLOCK, R->dwproj, hp, h, h, 0, h));

	/* attention backward: dP = dO V^T, dV = P^T dO, dS = softmax'(dP), dQ = dS K, dK = dS^T Q */
	g = mm(0, 1, s, s, d, R->dctx, R->qkv, R->dp);
	g.lda = b * hp;
	g.ldb = b * qw;
	TRY(attn_gemm(R, "bwd.context.dprobs", g, O, V, S, 0));
	TRY(xe_check(R, "bwd.context.dprobs", "bwd.context.dprobs", XE_CK_BLOCK, R->dp, ap * b * s, s, s,
		     0, s));
	g = mm(1, 0, s, d, s, R->scores, R->dctx, R->dqkv);
	g.lda = s;
	g.ldb = b * hp;
	g.ldc = b * qw;
	TRY(attn_gemm(R, "bwd.context.dv", g, S, O, V, 1));
	TRY(xe_check(R, "bwd.context.dv", "bwd.context.dv", XE_CK_COL, R->dqkv, M, qw, gw,
		     (R->qpg + 1) * d, d));
	if (R->be->softmax_bwd(R->dev, R->dp, R->scores, ap * b * s, s) < 0)
		return xe_be_fail(R, "softmax backward");
	g = mm(0, 0, s, d, s, R->dp, R->qkv, R->dqkv);
	g.alpha = sc;
	g.ldb = b * qw;
	g.ldc = b * qw;
	TRY(attn_gemm(R, "bwd.scores.dq", g, S, K, Q, 0));
	TRY(xe_check(R, "bwd.scores.dq", "bwd.scores.dq", XE_CK_COL, R->dqkv, M, qw, gw, 0, R->qpg * d));
	g = mm(1, 0, s, d, s, R->dp, R->qkv, R->dqkv);
	g.alpha = sc;
	g.lda = s;
	g.ldb = b * qw;
	g.ldc = b * qw;
	TRY(attn_gemm(R, "bwd.scores.dk", g, S, Q, K, 1));
	TRY(xe_check(R, "bwd.scores.dk", "bwd.scores.dk", XE_CK_COL, R->dqkv, M, qw, gw, R->qpg * d, d));

	TRY(gemm(R, "bwd.qkv.dgrad", mm(0, 1, M, h, qw, R->dqkv, R->wqkv, R->dx)));
	TRY(xe_check(R, "bwd.qkv.dgrad", "bwd.qkv.dgrad", XE_CK_PARTIAL, R->dx, M, h, h, 0, h));
	TRY(gemm(R, "bwd.qkv.wgrad", mm(1, 0, h, qw, M, R->x, R->dqkv, R->dwqkv)));
	TRY(xe_check(R, "bwd.qkv.wgrad", "bwd.qkv.wgrad", XE_CK_COL, R->dwqkv, h, qw, qw, 0, qw));
	if (sp) {
		TRY(coll(R, "bwd.qkv.reducescatter", PP_EXEC_REDUCESCATTER, R->dx, R->dxs,
			 (size_t)(Ms * h)));
		TRY(xe_check(R, "bwd.qkv.reducescatter", "bwd.qkv.dgrad", XE_CK_BLOCK, R->dxs, Ms, h, h, 0,
			     h));
	} else if (tp) {
		TRY(coll(R, "bwd.qkv.allreduce", PP_EXEC_ALLREDUCE, NULL, R->dx, (size_t)(M * h)));
		TRY(xe_check(R, "bwd.qkv.allreduce", "bwd.qkv.dgrad", XE_CK_FULL, R->dx, M, h, h, 0, h));
	}
	for (i = 0; i < R->L->n_gemm; i++)
		if (R->calls[i] != R->L->gemm[i].batch)
			return xe_seterr("internal: GEMM %s ran %lld products, the list says %lld",
					 R->L->gemm[i].name, (long long)R->calls[i],
				      (long long)R->L->gemm[i].batch);
	return 0;
}
