/*
 * setup.c - a run's dimensions, its device buffers and this rank's data.  Every input and weight
 * element comes from a PCG32 stream per (tensor, row) seeded by --seed, so rank r makes exactly
 * its shard and rank 0's unsharded reference sees the same numbers; output buffers are poisoned
 * (NaN) before every run, so an element no GEMM writes cannot pass validation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "parplan/pcg.h"

typedef struct bufspec {
	void **p;
	int64_t n;
	int output; /* poisoned before every run */
} bufspec;

static int specs(xe_run *R, bufspec *B)
{
	int64_t M = R->M, Ms = R->Ms, h = R->h, hp = R->hp, fp = R->fp, qw = R->qw, f1w = R->f1w;
	int64_t att = R->ap * R->b * R->s * R->s;
	int n = 0, sp = R->sp;
#define ADD(ptr, cnt, out) do { B[n].p = (void **)&R->ptr; B[n].n = (cnt); B[n].output = (out); n++; } while (0)
	ADD(x, M * h, sp);
	if (sp)
		ADD(xs, Ms * h, 0);
	ADD(wqkv, h * qw, 0);
	ADD(wproj, hp * h, 0);
	ADD(w1, h * f1w, 0);
	ADD(w2, fp * h, 0);
	ADD(qkv, M * qw, 1);
	ADD(scores, att, 1);
	ADD(ctx, M * hp, 1);
	ADD(proj, M * h, 1);
	ADD(f1, M * f1w, 1);
	ADD(a1, M * fp, 1);
	ADD(fc2, M * h, 1);
	ADD(dy2, M * h, sp);
	ADD(da1, M * fp, 1);
	ADD(dw2, fp * h, 1);
	ADD(dh, M * h, 1);
	ADD(dw1, h * f1w, 1);
	ADD(dctx, M * hp, 1);
	ADD(dwproj, hp * h, 1);
	ADD(dp, att, 1);
	ADD(dqkv, M * qw, 1);
	ADD(dx, M * h, 1);
	ADD(dwqkv, h * qw, 1);
	if (R->llama)
		ADD(df1, M * f1w, 1);
	if (sp) {
		ADD(y1s, Ms * h, 1);
		ADD(y1, M * h, 1);
		ADD(y2s, Ms * h, 1);
		ADD(dy2s, Ms * h, 0);
		ADD(dhs, Ms * h, 1);
		ADD(dhf, M * h, 1);
		ADD(dxs, Ms * h, 1);
	}
#undef ADD
	return n;
}

#define MAX_BUFS 40

int xe_poison_all(xe_run *R)
{
	bufspec B[MAX_BUFS];
	int n = specs(R, B), i;
	for (i = 0; i < n; i++)
		if (B[i].output && R->be->poison(R->dev, *B[i].p, (size_t)B[i].n) < 0)
			return xe_be_fail(R, "poison");
	return 0;
}

void xe_free_bufs(xe_run *R)
{
	bufspec B[MAX_BUFS];
	int n = specs(R, B), i;
	for (i = 0; i < n; i++) {
		if (*B[i].p)
			R->be->release(R->dev, *B[i].p);
		*B[i].p = NULL;
	}
}

/* Weight @id's rows [r0, r0+nr) x columns [c0, c0+nc) (and [c1, c1+nc) after them when c1 >= 0)
 * of a [rows, cols] matrix, each row from its own PCG32 stream so that any part is cheap to
 * make; @shift moves the part by one row or column (wrapping), the planted test fault.  Values
 * uniform in [-amp, amp), rounded to bf16 when @bf16. */
static void gen(float *out, uint64_t seed, uint64_t id, int64_t rows, int64_t cols, int64_t r0,
		int64_t nr, int64_t c0, int64_t nc, int64_t c1, int shift_row, int shift_col,
		float amp, int bf16, float *rowbuf)
{
	int64_t i, j, w = c1 >= 0 ? 2 * nc : nc;
	for (i = 0; i < nr; i++) {
		int64_t gi = (r0 + i + shift_row) % rows;
		pp_pcg32 g;
		pp_pcg32_seed(&g, seed, (id << 40) ^ (uint64_t)gi);
		for (j = 0; j < cols; j++)
			rowbuf[j] = (float)((2 * pp_pcg32_double(&g) - 1) * amp);
		for (j = 0; j < w; j++) {
			int64_t src = j < nc ? c0 + j : c1 + j - nc;
			float v = rowbuf[(src + shift_col) % cols];
			if (bf16) {
				uint32_t u;
				memcpy(&u, &v, 4);
				u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u;
				memcpy(&v, &u, 4);
			}
			out[i * w + j] = v;
		}
	}
}

enum { W_X = 1, W_DY, W_QKV, W_PROJ, W_FC1, W_FC2 };

/* Allocate every buffer and upload this rank's inputs and weight shards. */
int xe_setup(xe_run *R, int bf16)
{
	bufspec B[MAX_BUFS];
	int n = specs(R, B), i, rc = 0, last = R->rank == R->t - 1 && R->mode != 2;
	int64_t h = R->h, M = R->M, Ms = R->Ms, hp = R->hp, fp = R->fp, r = R->rank;
	int64_t qw = R->qw, f = R->L->ffn, f1 = R->llama ? 2 * f : f, maxn = 0;
	int64_t maxc = qw * R->t > f1 ? qw * R->t : f1;
	float *host = NULL, *row = NULL;
	const char *ws = R->o->wrong_shard ? R->o->wrong_shard : "";
	uint64_t seed = R->o->seed;

	for (i = 0; i < n; i++) {
		*B[i].p = R->be->alloc(R->dev, (size_t)B[i].n);
		if (!*B[i].p)
			return xe_seterr("cannot allocate %lld elements on the device", (long long)B[i].n);
		if (B[i].n > maxn)
			maxn = B[i].n;
	}
	host = malloc((size_t)maxn * sizeof(float));
	row = malloc((size_t)(maxc > h ? maxc : h) * sizeof(float));
	if (!host || !row) {
		rc = xe_seterr("out of memory");
		goto done;
	}
#define UP(buf, cnt) do { if (R->be->upload(R->dev, R->buf, host, (size_t)(cnt)) < 0) { rc = xe_be_fail(R, "upload"); goto done; } } while (0)
	gen(host, seed, W_X, M, h, R->sp ? r * Ms : 0, R->sp ? Ms : M, 0, h, -1, 0, 0, 1.0f, bf16,
	    row);
	if (R->sp)
		UP(xs, Ms * h);
	else
		UP(x, M * h);
	gen(host, seed, W_DY, M, h, R->sp ? r * Ms : 0, R->sp ? Ms : M, 0, h, -1, 0, 0, 1.0f, bf16,
	    row);
	if (R->sp)
		UP(dy2s, Ms * h);
	else
		UP(dy2, M * h);
	/* QKV columns are kv-group major, so rank r's groups are one block of columns */
	gen(host, seed, W_QKV, h, qw * R->t, 0, h, r * qw, qw, -1, 0,
	    last && !strcmp(ws, "w_qkv"), 1.0f / sqrtf((float)h), bf16, row);
	UP(wqkv, h * qw);
	gen(host, seed, W_PROJ, h, h, r * hp, hp, 0, h, -1, last && !strcmp(ws, "w_proj"), 0,
	    1.0f / sqrtf((float)h), bf16, row);
	UP(wproj, hp * h);
	/* Llama's MLP-in is [gate | up], 2f wide: rank r holds block r of each half */
	gen(host, seed, W_FC1, h, f1, 0, h, r * fp, fp, R->llama ? f + r * fp : -1, 0,
	    last && !strcmp(ws, "w_fc1"), 1.0f / sqrtf((float)h), bf16, row);
	UP(w1, h * R->f1w);
	gen(host, seed, W_FC2, f, h, r * fp, fp, 0, h, -1, last && !strcmp(ws, "w_fc2"), 0,
	    1.0f / sqrtf((float)f), bf16, row);
	UP(w2, fp * h);
#undef UP
	if (R->mode == 2) {
		/* the reference keeps the unsharded inputs under their own names */
		if ((rc = xe_store(R, "in.x", R->x, (size_t)(M * h))) < 0 ||
		    (rc = xe_store(R, "in.dy", R->dy2, (size_t)(M * h))) < 0)
			goto done;
	}
done:
	free(host);
	free(row);
	return rc;
}

void xe_run_init(xe_run *R, const pp_exec_layer *L, const xe_opts *o, MPI_Comm comm)
{
	memset(R, 0, sizeof(*R));
	R->L = L;
	R->o = o;
	R->comm = comm;
	MPI_Comm_rank(comm, &R->rank);
	MPI_Comm_size(comm, &R->t);
	R->sp = L->sp && L->t > 1;
	R->b = L->b;
	R->s = L->s;
	R->h = L->h;
	R->M = L->b * L->s;
	R->Ms = R->sp ? R->M / L->t : R->M;
	R->hp = L->h / L->t;
	R->ap = L->heads / L->t;
	R->d = L->h / L->heads;
	R->fp = L->ffn / L->t;
	R->llama = L->llama;
	R->qpg = L->heads / L->kv_heads;
	R->gk = L->kv_heads / L->t;
	R->gw = (R->qpg + 2) * R->d;
	R->qw = R->gk * R->gw;
	R->f1w = L->llama ? 2 * R->fp : R->fp;
}

void xe_run_release(xe_run *R)
{
	int i;
	if (R->dev) {
		xe_free_bufs(R);
		R->be->close(R->dev);
	}
	for (i = 0; i < R->n_ref; i++)
		free(R->ref[i].v);
	free(R->ref);
	R->dev = NULL;
	R->ref = NULL;
	R->n_ref = 0;
}
