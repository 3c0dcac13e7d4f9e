/*
 * emit_exec.c - the execution stub's layer program and its file, parplan-exec/1 (see
 * include/parplan/exec.h).
 */
#include "parplan/exec.h"
#include "parplan/emit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_int.h"

/* Dimensions above this are refused: products of three of them must stay exact in a double. */
#define MAX_DIM ((int64_t)1 << 24)

const char *pp_exec_collop_name(pp_exec_collop op)
{
	switch (op) {
	case PP_EXEC_ALLREDUCE: return "allreduce";
	case PP_EXEC_ALLGATHER: return "allgather";
	case PP_EXEC_REDUCESCATTER: return "reducescatter";
	}
	return "unknown";
}

const char *pp_exec_split_name(pp_exec_split s)
{
	switch (s) {
	case PP_EXEC_COLUMN: return "column";
	case PP_EXEC_ROW: return "row";
	case PP_EXEC_HEADS: return "heads";
	case PP_EXEC_WGRAD_ROW: return "wgrad-row";
	}
	return "unknown";
}

double pp_exec_gemm_flops(const pp_exec_gemm *g)
{
	return 2.0 * (double)g->m * (double)g->n * (double)g->k * (double)g->batch;
}

static void add_gemm(pp_exec_layer *L, const char *name, const char *of, int64_t m, int64_t n,
		     int64_t k, int64_t batch, pp_exec_split split, const char *weight,
		     const char *shard)
{
	pp_exec_gemm *g = &L->gemm[L->n_gemm++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->of, sizeof(g->of), "%s", of ? of : "");
	g->backward = of != NULL;
	g->m = m;
	g->n = n;
	g->k = k;
	g->batch = batch;
	g->split = split;
	snprintf(g->weight, sizeof(g->weight), "%s", weight ? weight : "");
	snprintf(g->shard, sizeof(g->shard), "%s", shard ? shard : "");
}

static void add_coll(pp_exec_layer *L, const char *name, pp_exec_collop op, const char *after,
		     const char *before)
{
	pp_exec_coll *c = &L->coll[L->n_coll++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->after, sizeof(c->after), "%s", after ? after : "");
	snprintf(c->before, sizeof(c->before), "%s", before ? before : "");
	c->op = op;
	c->elems = L->b * L->s * L->h;
}

/* The lists in execution order: the stub's program (src/exec/layer.c) runs exactly these. */
static void build_lists(pp_exec_layer *L)
{
	int64_t M = L->b * L->s, t = L->t, hp = L->h / t, ap = L->heads / t, fp = L->ffn / t;
	int64_t d = L->h / L->heads, bh = L->b * ap;
	int64_t qw = (L->heads + 2 * L->kv_heads) * d / t; /* QKV columns per rank */
	int64_t f1 = L->llama ? 2 * fp : fp;                /* MLP-in columns per rank */
	int sp = L->sp && t > 1, tp = t > 1;
	char sh[4][96];

	if (L->llama)
		snprintf(sh[2], sizeof(sh[2]), "columns [r*%lld, (r+1)*%lld) and %lld + those of "
			 "[%lld, %lld]", (long long)fp, (long long)fp, (long long)L->ffn,
			 (long long)L->h, (long long)(2 * L->ffn));
	else
		snprintf(sh[2], sizeof(sh[2]), "columns [r*%lld, (r+1)*%lld) of [%lld, %lld]",
			 (long long)fp, (long long)fp, (long long)L->h, (long long)L->ffn);
	snprintf(sh[0], sizeof(sh[0]), "columns [r*%lld, (r+1)*%lld) of [%lld, %lld]",
		 (long long)qw, (long long)qw, (long long)L->h, (long long)(qw * t));
	snprintf(sh[1], sizeof(sh[1]), "rows [r*%lld, (r+1)*%lld) of [%lld, %lld]", (long long)hp,
		 (long long)hp, (long long)L->h, (long long)L->h);
	snprintf(sh[3], sizeof(sh[3]), "rows [r*%lld, (r+1)*%lld) of [%lld, %lld]", (long long)fp,
		 (long long)fp, (long long)L->ffn, (long long)L->h);
	L->n_gemm = L->n_coll = 0;

	/* forward */
	if (sp)
		add_coll(L, "fwd.qkv.allgather", PP_EXEC_ALLGATHER, NULL, "fwd.qkv");
	add_gemm(L, "fwd.qkv", NULL, M, qw, L->h, 1, PP_EXEC_COLUMN, "w_qkv", sh[0]);
	add_gemm(L, "fwd.scores", NULL, L->s, L->s, d, bh, PP_EXEC_HEADS, NULL, NULL);
	add_gemm(L, "fwd.context", NULL, L->s, d, L->s, bh, PP_EXEC_HEADS, NULL, NULL);
	add_gemm(L, "fwd.proj", NULL, M, L->h, hp, 1, PP_EXEC_ROW, "w_proj", sh[1]);
	if (sp)
		add_coll(L, "fwd.proj.reducescatter", PP_EXEC_REDUCESCATTER, "fwd.proj", NULL);
	else if (tp)
		add_coll(L, "fwd.proj.allreduce", PP_EXEC_ALLREDUCE, "fwd.proj", "fwd.fc1");
	if (sp)
		add_coll(L, "fwd.fc1.allgather", PP_EXEC_ALLGATHER, NULL, "fwd.fc1");
	add_gemm(L, "fwd.fc1", NULL, M, f1, L->h, 1, PP_EXEC_COLUMN, "w_fc1", sh[2]);
	add_gemm(L, "fwd.fc2", NULL, M, L->h, fp, 1, PP_EXEC_ROW, "w_fc2", sh[3]);
	if (sp)
		add_coll(L, "fwd.fc2.reducescatter", PP_EXEC_REDUCESCATTER, "fwd.fc2", NULL);
	else if (tp)
		add_coll(L, "fwd.fc2.allreduce", PP_EXEC_ALLREDUCE, "fwd.fc2", NULL);

	/* backward: data gradient (dgrad) and weight gradient (wgrad) of each linear layer */
	if (sp)
		add_coll(L, "bwd.fc2.allgather", PP_EXEC_ALLGATHER, NULL, "bwd.fc2.dgrad");
	add_gemm(L, "bwd.fc2.dgrad", "fwd.fc2", M, fp, L->h, 1, PP_EXEC_COLUMN, "w_fc2", sh[3]);
	add_gemm(L, "bwd.fc2.wgrad", "fwd.fc2", fp, L->h, M, 1, PP_EXEC_WGRAD_ROW, "w_fc2", sh[3]);
	add_gemm(L, "bwd.fc1.dgrad", "fwd.fc1", M, L->h, f1, 1, PP_EXEC_ROW, "w_fc1", sh[2]);
	add_gemm(L, "bwd.fc1.wgrad", "fwd.fc1", L->h, f1, M, 1, PP_EXEC_COLUMN, "w_fc1", sh[2]);
	if (sp) {
		add_coll(L, "bwd.fc1.reducescatter", PP_EXEC_REDUCESCATTER, "bwd.fc1.dgrad", NULL);
		add_coll(L, "bwd.proj.allgather", PP_EXEC_ALLGATHER, NULL, "bwd.proj.dgrad");
	} else if (tp) {
		add_coll(L, "bwd.fc1.allreduce", PP_EXEC_ALLREDUCE, "bwd.fc1.dgrad", "bwd.proj.dgrad");
	}
	add_gemm(L, "bwd.proj.dgrad", "fwd.proj", M, hp, L->h, 1, PP_EXEC_COLUMN, "w_proj", sh[1]);
	add_gemm(L, "bwd.proj.wgrad", "fwd.proj", hp, L->h, M, 1, PP_EXEC_WGRAD_ROW, "w_proj",
		 sh[1]);
	add_gemm(L, "bwd.context.dprobs", "fwd.context", L->s, L->s, d, bh, PP_EXEC_HEADS, NULL,
		 NULL);
	add_gemm(L, "bwd.context.dv", "fwd.context", L->s, d, L->s, bh, PP_EXEC_HEADS, NULL, NULL);
	add_gemm(L, "bwd.scores.dq", "fwd.scores", L->s, d, L->s, bh, PP_EXEC_HEADS, NULL, NULL);
	add_gemm(L, "bwd.scores.dk", "fwd.scores", L->s, d, L->s, bh, PP_EXEC_HEADS, NULL, NULL);
	add_gemm(L, "bwd.qkv.dgrad", "fwd.qkv", M, L->h, qw, 1, PP_EXEC_ROW, "w_qkv", sh[0]);
	add_gemm(L, "bwd.qkv.wgrad", "fwd.qkv", L->h, qw, M, 1, PP_EXEC_COLUMN, "w_qkv", sh[0]);
	if (sp)
		add_coll(L, "bwd.qkv.reducescatter", PP_EXEC_REDUCESCATTER, "bwd.qkv.dgrad", NULL);
	else if (tp)
		add_coll(L, "bwd.qkv.allreduce", PP_EXEC_ALLREDUCE, "bwd.qkv.dgrad", NULL);
}

static int check_shape(pp_exec_layer *L, pp_error *err)
{
	const int64_t v[6] = {L->b, L->s, L->h, L->heads, L->ffn, L->kv_heads};
	static const char *const nm[6] = {"micro_batch", "seq", "hidden", "heads", "ffn",
					  "kv_heads"};
	int i;

	for (i = 0; i < 6; i++)
		if (v[i] < 1 || v[i] > MAX_DIM)
			return pp_error_set(err, PP_EINVALID, NULL, nm[i],
					    "%lld is out of range [1, %lld]", (long long)v[i],
					    (long long)MAX_DIM);
	if (L->t < 1 || L->t > 4096)
		return pp_error_set(err, PP_EINVALID, NULL, "t", "%d is out of range [1, 4096]",
				    L->t);
	if (L->h % L->heads)
		return pp_error_set(err, PP_EINVALID, NULL, "heads",
				    "%lld heads do not divide hidden %lld", (long long)L->heads,
				    (long long)L->h);
	if (L->heads % L->t)
		return pp_error_set(err, PP_EINVALID, NULL, "t", "t=%d does not divide %lld heads",
				    L->t, (long long)L->heads);
	if (L->heads % L->kv_heads)
		return pp_error_set(err, PP_EINVALID, NULL, "kv_heads",
				    "%lld key/value heads do not divide %lld heads",
				    (long long)L->kv_heads, (long long)L->heads);
	if (!L->llama && L->kv_heads != L->heads)
		return pp_error_set(err, PP_EINVALID, NULL, "kv_heads",
				    "a gpt layer has as many key/value heads as heads");
	if (L->kv_heads % L->t)
		return pp_error_set(err, PP_EINVALID, NULL, "t",
				    "t=%d does not divide %lld key/value heads", L->t,
				    (long long)L->kv_heads);
	if (L->ffn % L->t)
		return pp_error_set(err, PP_EINVALID, NULL, "t", "t=%d does not divide ffn %lld",
				    L->t, (long long)L->ffn);
	if (L->sp && L->s % L->t)
		return pp_error_set(err, PP_EINVALID, NULL, "t",
				    "t=%d does not divide seq %lld (sequence parallel)", L->t,
				    (long long)L->s);
	if ((double)L->b * (double)L->s * (double)L->h > (double)((int64_t)1 << 40))
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "layer too large");
	build_lists(L);
	return 0;
}

int pp_exec_layer_build(pp_exec_layer *L, const char *model, pp_dtype dtype, int llama,
			int64_t b, int64_t s, int64_t h, int64_t heads, int64_t kv_heads,
			int64_t ffn, int t, int sp, pp_error *err)
{
	char name[sizeof(L->model)];

	snprintf(name, sizeof(name), "%s", model ? model : ""); /* @model may be L->model */
	memset(L, 0, sizeof(*L));
	memcpy(L->model, name, sizeof(name));
	L->dtype = dtype;
	L->llama = llama != 0;
	L->kv_heads = kv_heads;
	L->b = b;
	L->s = s;
	L->h = h;
	L->heads = heads;
	L->ffn = ffn;
	L->t = t;
	L->sp = sp != 0;
	return check_shape(L, err);
}

/* @x * @scale rounded to a multiple of @q, at least @q. */
static int64_t scale_to(int64_t x, double scale, int64_t q)
{
	double v = floor((double)x * scale / (double)q + 0.5);
	if (v < 1)
		v = 1;
	return (int64_t)v * q;
}

int pp_exec_layer_scale(pp_exec_layer *L, double scale, pp_error *err)
{
	if (!(scale > 0 && scale <= 1))
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "scale %g is out of range (0, 1]", scale);
	if (scale == 1)
		return 0;
	L->h = scale_to(L->h, scale, L->heads);
	L->ffn = scale_to(L->ffn, scale, L->t);
	L->s = scale_to(L->s, scale, L->sp ? L->t : 1);
	return check_shape(L, err);
}

static cJSON *gemm_json(const pp_exec_gemm *g)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", g->name);
	cJSON_AddStringToObject(o, "pass", g->backward ? "backward" : "forward");
	if (g->backward)
		cJSON_AddStringToObject(o, "of", g->of);
	cJSON_AddNumberToObject(o, "m", (double)g->m);
	cJSON_AddNumberToObject(o, "n", (double)g->n);
	cJSON_AddNumberToObject(o, "k", (double)g->k);
	cJSON_AddNumberToObject(o, "batch", (double)g->batch);
	cJSON_AddStringToObject(o, "split", pp_exec_split_name(g->split));
	if (g->weight[0]) {
		cJSON_AddStringToObject(o, "weight", g->weight);
		cJSON_AddStringToObject(o, "shard", g->shard);
	}
	return o;
}

static cJSON *coll_json(const pp_exec_coll *c, pp_dtype dtype)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "op", pp_exec_collop_name(c->op));
	if (c->after[0])
		cJSON_AddStringToObject(o, "after", c->after);
	if (c->before[0])
		cJSON_AddStringToObject(o, "before", c->before);
	cJSON_AddNumberToObject(o, "elements", (double)c->elems);
	cJSON_AddNumberToObject(o, "bytes", (double)c->elems * pp_dtype_bytes(dtype));
	return o;
}

static cJSON *layer_json(const pp_exec_layer *L)
{
	cJSON *root = cJSON_CreateObject(), *lay, *ga, *ca;
	int i;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", PP_EXEC_FORMAT);
	cJSON_AddStringToObject(root, "model", L->model);
	cJSON_AddStringToObject(root, "family", L->llama ? "llama" : "gpt");
	cJSON_AddStringToObject(root, "dtype", pp_dtype_name(L->dtype));
	lay = cJSON_AddObjectToObject(root, "layer");
	ga = cJSON_AddArrayToObject(root, "gemms");
	ca = cJSON_AddArrayToObject(root, "collectives");
	if (!lay || !ga || !ca)
		goto oom;
	cJSON_AddNumberToObject(lay, "micro_batch", (double)L->b);
	cJSON_AddNumberToObject(lay, "seq", (double)L->s);
	cJSON_AddNumberToObject(lay, "hidden", (double)L->h);
	cJSON_AddNumberToObject(lay, "heads", (double)L->heads);
	cJSON_AddNumberToObject(lay, "kv_heads", (double)L->kv_heads);
	cJSON_AddNumberToObject(lay, "ffn", (double)L->ffn);
	cJSON_AddNumberToObject(lay, "t", L->t);
	cJSON_AddBoolToObject(lay, "sequence_parallel", L->sp);
	for (i = 0; i < L->n_gemm; i++) {
		cJSON *g = gemm_json(&L->gemm[i]);
		if (!g)
			goto oom;
		cJSON_AddItemToArray(ga, g);
	}
	for (i = 0; i < L->n_coll; i++) {
		cJSON *c = coll_json(&L->coll[i], L->dtype);
		if (!c)
			goto oom;
		cJSON_AddItemToArray(ca, c);
	}
	return root;
oom:
	cJSON_Delete(root);
	return NULL;
}

char *pp_exec_layer_to_json(const pp_exec_layer *L)
{
	cJSON *root = layer_json(L);
	char *s;
	if (!root)
		return NULL;
	s = pp_json_print(root);
	cJSON_Delete(root);
	return s;
}

/* Compare the file's list @arr (at @key) with the one the shape implies, entry by entry. */
static int check_list(const pp_jctx *c, const cJSON *root, const cJSON *want, const char *key)
{
	const cJSON *arr = NULL, *w = cJSON_GetObjectItemCaseSensitive(want, key), *e;
	char path[PP_JPATH_MAX];
	int rc, i = 0, n_want = cJSON_GetArraySize(w);

	if ((rc = pp_json_get_array(c, root, "", key, 1, &arr)) < 0)
		return rc;
	cJSON_ArrayForEach(e, arr) {
		const cJSON *we = cJSON_GetArrayItem(w, i);
		pp_jpath_idx(path, key, i);
		if (!we)
			return pp_json_fail(c, path, NULL,
					    "the layer shape implies %d entries, not more", n_want);
		if (!cJSON_Compare(e, we, 1)) {
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(we, "name");
			return pp_json_fail(c, path, NULL,
					    "does not match the layer shape (expected %s \"%s\" "
					    "as emitted by parplan emit --format exec)",
					    key, cJSON_IsString(nm) ? nm->valuestring : "?");
		}
		i++;
	}
	if (i != n_want)
		return pp_json_fail(c, key, NULL, "%d entries, the layer shape implies %d", i, n_want);
	return 0;
}

int pp_exec_layer_parse(const char *name_for_errors, const char *text, pp_exec_layer *L,
			pp_error *err)
{
	static const char *const keys[] = {"format", "model", "family", "dtype", "layer", "gemms",
					   "collectives", "hw", "plan", NULL};
	static const char *const lkeys[] = {"micro_batch", "seq", "hidden", "heads", "kv_heads",
					    "ffn", "t", "sequence_parallel", NULL};
	const char *file = name_for_errors ? name_for_errors : "(text)";
	pp_jctx c = {file, err};
	cJSON *root = NULL, *want = NULL;
	const cJSON *lay = NULL;
	const char *fmt = NULL, *model = NULL, *family = NULL, *dtype = NULL;
	int64_t v[7];
	int sp = 0, rc, i, dt;
	static const char *const lk[7] = {"micro_batch", "seq", "hidden", "heads", "ffn", "t",
					  "kv_heads"};

	memset(L, 0, sizeof(*L));
	if (!text)
		return pp_error_set(err, PP_EINVALID, file, NULL, "no text given");
	if ((rc = pp_json_parse(file, text, strlen(text), &root, err)) < 0)
		return rc;
	if ((rc = pp_json_check_object(&c, root, "", keys)) < 0 ||
	    (rc = pp_json_get_string(&c, root, "", "format", 1, &fmt)) < 0)
		goto done;
	if (strcmp(fmt, PP_EXEC_FORMAT) != 0) {
		rc = pp_json_fail(&c, "format", NULL, "\"%.40s\" is not %s", fmt, PP_EXEC_FORMAT);
		goto done;
	}
	if ((rc = pp_json_get_string(&c, root, "", "model", 1, &model)) < 0 ||
	    (rc = pp_json_get_string(&c, root, "", "family", 1, &family)) < 0 ||
	    (rc = pp_json_get_string(&c, root, "", "dtype", 1, &dtype)) < 0)
		goto done;
	if (strcmp(family, "gpt") != 0 && strcmp(family, "llama") != 0) {
		rc = pp_json_fail(&c, "family", NULL, "\"%.40s\" is not gpt or llama", family);
		goto done;
	}
	dt = pp_dtype_parse(dtype);
	if (dt != PP_DTYPE_BF16 && dt != PP_DTYPE_FP32 && dt != PP_DTYPE_FP16) {
		rc = pp_json_fail(&c, "dtype", NULL, "\"%.40s\" is not bf16, fp16 or fp32", dtype);
		goto done;
	}
	if ((rc = pp_json_get_object(&c, root, "", "layer", 1, &lay)) < 0 ||
	    (rc = pp_json_check_object(&c, lay, "layer", lkeys)) < 0)
		goto done;
	for (i = 0; i < 7; i++)
		if ((rc = pp_json_get_int(&c, lay, "layer", lk[i], 1, 1,
					  i == 5 ? 4096 : MAX_DIM, &v[i])) < 0)
			goto done;
	if ((rc = pp_json_get_bool(&c, lay, "layer", "sequence_parallel", 1, &sp)) < 0)
		goto done;
	if ((rc = pp_exec_layer_build(L, model, (pp_dtype)dt, !strcmp(family, "llama"), v[0],
				      v[1], v[2], v[3], v[6], v[4], (int)v[5], sp, err)) < 0) {
		/* the builder names the field; put it under "layer" in this file */
		char p[PP_JPATH_MAX];
		if (err && err->path[0])
			pp_jpath_key(p, "layer", err->path);
		else
			snprintf(p, sizeof(p), "layer");
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", file);
			snprintf(err->path, sizeof(err->path), "%s", p);
		}
		goto done;
	}
	want = layer_json(L);
	if (!want) {
		rc = pp_error_set(err, PP_ENOMEM, file, NULL, "out of memory");
		goto done;
	}
	if ((rc = check_list(&c, root, want, "gemms")) < 0 ||
	    (rc = check_list(&c, root, want, "collectives")) < 0)
		goto done;
	rc = 0;
done:
	cJSON_Delete(want);
	cJSON_Delete(root);
	return rc;
}

int pp_emit_exec(const pp_plan *plan, char **out, pp_error *err)
{
	pp_exec_layer *L;
	const pp_model_shape *s;
	int rc;

	if (!out)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "no place for the output");
	*out = NULL;
	if (!plan)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "no plan given");
	s = &plan->shape;
	L = malloc(sizeof(*L));
	if (!L)
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	rc = pp_exec_layer_build(L, plan->model, PP_DTYPE_BF16, s->family_llama,
				 plan->global.micro_batch, s->seq, s->hidden, s->heads,
				 s->kv_heads ? s->kv_heads : s->heads,
				 s->ffn ? s->ffn : 4 * s->hidden, plan->global.t,
				 plan->global.sequence_parallel, err);
	if (rc == 0) {
		*out = pp_exec_layer_to_json(L);
		if (!*out)
			rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	}
	free(L);
	return rc;
}
