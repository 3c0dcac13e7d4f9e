/*
 * plan_json.c - plans in memory and the "parplan-plan/1" file.
 *
 * A plan keeps what a launcher needs without the graph: names and paths, the model's shape, the
 * global degrees, and the per-op SOAP configs compressed by layer class.  Op entries are, in
 * order: the ops before the layers, then for each layer class the ops of its representative
 * (first) layer with class_layers = the class's layer count, then any op of another layer whose
 * config differs from its representative's (class_layers = 0, overrides), then the ops after the
 * layers.  DESIGN.md section 3: "Per-op entries of a repeated layer class may be given once for
 * the class".
 *
 * Documented additions to DESIGN's plan schema: "model_path", "hw_path", "node_devices",
 * "model_shape", optional "global.first_stage_layers" / "global.last_stage_layers", and per-op
 * "config" and "class_layers".  Stages are written for every model chunk: p entries, or p*v with
 * the interleaved schedule (chunk c runs on pipeline rank c mod p).
 *
 * The loader checks the schema, enums and ranges and the plan's internal consistency (stages
 * cover the layers, op degrees agree with their config); launcher rules (divisibility, world
 * size, ...) are left to pp_global_validate() and to each emitter, which name the broken rule.
 */
#include "parplan/strategy.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked_int.h"
#include "graph_int.h"
#include "json_int.h"
#include "plan_int.h"
#include "parplan/io.h"
#include "parplan/name.h"
#include "parplan/settings.h"

#define PLAN_FORMAT "parplan-plan/1"
#define MAX_DEGREE ((int64_t)1 << 20)
#define MAX_DIM ((int64_t)1 << 40)
#define MAX_OPS 1000000

void pp_plan_release(pp_plan *plan)
{
	int i;
	if (!plan)
		return;
	for (i = 0; i < plan->n_ops; i++)
		free(plan->op_names ? plan->op_names[i] : NULL);
	free(plan->op_names);
	free(plan->op_cfg);
	free(plan->op_stage);
	free(plan->op_class_layers);
	memset(plan, 0, sizeof(*plan));
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/*
 * Layers of each model chunk (p, or p*v interleaved, chunk c on rank c % p); returns the chunk
 * count.  Interleaved, each rank's layers are split over its v chunks as Megatron-Core builds
 * them (pp_global_chunk_layers); @layers holds p*v ints.
 */
static int chunk_layers(const pp_plan *plan, int *layers)
{
	const pp_global *gl = &plan->global;
	pp_global_chunk_layers((int)plan->shape.layers, gl, layers);
	return gl->p * (gl->virtual_stages > 1 ? gl->virtual_stages : 1);
}

/* Pipeline rank that holds layer @l (p-1 when the split leaves it past the last chunk). */
static int layer_rank(const pp_plan *plan, const int *layers, int n_chunks, int l)
{
	int c, first = 0;
	for (c = 0; c < n_chunks; c++) {
		if (l < first + layers[c])
			return c % plan->global.p;
		first += layers[c];
	}
	return plan->global.p - 1;
}

static int alloc_ops(pp_plan *plan, int n)
{
	size_t k = n > 0 ? (size_t)n : 1;
	plan->op_names = calloc(k, sizeof(char *));
	plan->op_cfg = calloc(k, 1);
	plan->op_stage = calloc(k, sizeof(int));
	plan->op_class_layers = calloc(k, sizeof(int));
	return plan->op_names && plan->op_cfg && plan->op_stage && plan->op_class_layers ? 0
											: PP_ENOMEM;
}

static int add_op(pp_plan *plan, const char *name, int cfg, int stage, int class_layers)
{
	char *s = malloc(strlen(name) + 1);
	if (!s)
		return PP_ENOMEM;
	strcpy(s, name);
	plan->op_names[plan->n_ops] = s;
	plan->op_cfg[plan->n_ops] = (uint8_t)cfg;
	plan->op_stage[plan->n_ops] = stage;
	plan->op_class_layers[plan->n_ops] = class_layers;
	plan->n_ops++;
	return 0;
}

/* The MoE / MLA / MTP shape of @g a launcher needs, read off its ops (graph_json.c moe_rules) */
static void moe_shape(const pp_graph *g, pp_moe_shape *m)
{
	int i;
	memset(m, 0, sizeof(*m));
	m->experts = g->experts;
	m->topk = g->topk;
	m->moe_ffn = g->expert_ffn;
	m->mtp = g->mtp_depth;
	if (g->head_dim * g->heads != g->hidden)
		m->head_dim = g->head_dim; /* 0: hidden / heads */
	m->dense_layers = -1;
	for (i = 0; i < g->n_ops; i++) {
		const pp_op *op = &g->ops[i];
		if (op->type == PP_OP_EXPERTS && op->layer >= 0 && (m->dense_layers < 0 || op->layer < m->dense_layers))
			m->dense_layers = op->layer;
		if (op->type == PP_OP_ATTENTION && op->n_inputs > 1)
			m->qk_norm = 1;
		if (op->type == PP_OP_ROUTER && op->layer >= 0) {
			m->sigmoid = op->sigmoid;
			m->expert_bias = op->n_inputs == 3;
		}
		if (op->type == PP_OP_MLA && !m->kv_lora) {
			int pq = g->tensors[op->inputs[0]].producer, pkv = g->tensors[op->inputs[1]].producer;
			const pp_tensor *kr = &g->tensors[op->inputs[2]];
			m->qk_rope = kr->shape[kr->rank - 1];
			m->qk_nope = op->gemm_k - m->qk_rope;
			m->v_head = op->gemm_n;
			m->kv_lora = pkv >= 0 ? g->ops[pkv].gemm_k : 0;
			m->q_lora = pq >= 0 && g->ops[pq].gemm_k != g->hidden ? g->ops[pq].gemm_k : 0;
		}
	}
	if (m->dense_layers < 0)
		m->dense_layers = 0;
	for (i = 0; i < g->n_dims; i++)
		if (!strcmp(g->dim_names[i], "shared_ffn"))
			m->shared_ffn = g->dim_values[i];
}

int pp_plan_init(pp_plan *plan, const pp_graph *g, const char *model_path, const char *hw_name,
		 const char *hw_path, int node_devices, const pp_global *gl, const uint8_t *cfg,
		 pp_error *err)
{
	uint8_t *own = NULL;
	int *layers = NULL;
	int rc = 0, i, c, k, n_chunks, is_llama = 0;

	memset(plan, 0, sizeof(*plan));
	if (gl->t < 1 || gl->p < 1 || gl->d < 1 || gl->virtual_stages < 1)
		return pp_error_set(err, PP_EINVALID, NULL, "global", "t, p, d and v must be at least 1");
	if (gl->cp < 1)
		return pp_error_set(err, PP_EINVALID, NULL, "global", "cp must be at least 1");
	if (pp_mul_int(gl->t, gl->p, &plan->gpus) < 0 || pp_mul_int(plan->gpus, gl->d, &plan->gpus) < 0 ||
	    pp_mul_int(plan->gpus, gl->cp, &plan->gpus) < 0 || plan->gpus > MAX_DEGREE)
		return pp_error_set(err, PP_EINVALID, NULL, "global", "t*p*d = %d*%d*%d is more than %lld",
				    gl->t, gl->p, gl->d, (long long)MAX_DEGREE);
	/* a plan's names must be ones its loader and the emitters take (name.h) */
	if ((rc = pp_name_check(g->name, model_path, "name", err)) < 0 ||
	    (rc = pp_name_check(hw_name, hw_path, "name", err)) < 0)
		return rc;
	copy_str(plan->model, sizeof(plan->model), g->name);
	copy_str(plan->hw, sizeof(plan->hw), hw_name);
	copy_str(plan->model_path, sizeof(plan->model_path), model_path);
	copy_str(plan->hw_path, sizeof(plan->hw_path), hw_path);
	for (i = 0; i < g->n_ops; i++)
		if (g->ops[i].type == PP_OP_RMSNORM)
			is_llama = 1;
	plan->shape.layers = g->n_layers;
	plan->shape.hidden = g->hidden;
	plan->shape.heads = g->heads;
	plan->shape.kv_heads = g->kv_heads ? g->kv_heads : g->heads;
	plan->shape.ffn = g->ffn;
	plan->shape.seq = g->seq;
	plan->shape.vocab = g->vocab;
	plan->shape.family_llama = is_llama;
	plan->shape.tied_embeddings = g->tied_embeddings;
	plan->shape.params = g->params;
	moe_shape(g, &plan->shape.moe);
	plan->shape.has_model = g->has_model;
	plan->shape.model = g->model;
	plan->node_devices = node_devices > 0 ? node_devices : 1;
	plan->global = *gl;

	if (!cfg) {
		own = malloc(g->n_ops > 0 ? (size_t)g->n_ops : 1);
		if (!own) {
			rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		pp_strategy_megatron(g, gl, own);
		cfg = own;
	}
	layers = malloc(sizeof(int) * (size_t)gl->p * (size_t)gl->virtual_stages);
	if (!layers || alloc_ops(plan, g->n_ops) < 0) {
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	n_chunks = chunk_layers(plan, layers);

	for (i = 0; i < g->n_pre && rc == 0; i++)
		rc = add_op(plan, g->ops[g->pre_ops[i]].name, cfg[g->pre_ops[i]], 0, 0);
	for (c = 0; c < g->n_classes && rc == 0; c++) {
		int rep = g->classes[c].first_layer, l;
		int stage = layer_rank(plan, layers, n_chunks, rep);
		for (k = g->layer_start[rep]; k < g->layer_start[rep + 1] && rc == 0; k++)
			rc = add_op(plan, g->ops[g->layer_ops[k]].name, cfg[g->layer_ops[k]], stage,
				    g->classes[c].n_layers);
		/* ops of the other layers of the class that do not follow their representative */
		for (l = 0; l < g->n_layers && rc == 0; l++) {
			if (g->layer_class[l] != c || l == rep)
				continue;
			for (k = 0; k < g->layer_start[l + 1] - g->layer_start[l] && rc == 0; k++) {
				int op = g->layer_ops[g->layer_start[l] + k];
				int rop = g->layer_ops[g->layer_start[rep] + k];
				if (cfg[op] != cfg[rop])
					rc = add_op(plan, g->ops[op].name, cfg[op],
						    layer_rank(plan, layers, n_chunks, l), 0);
			}
		}
	}
	for (i = 0; i < g->n_post && rc == 0; i++)
		rc = add_op(plan, g->ops[g->post_ops[i]].name, cfg[g->post_ops[i]], gl->p - 1, 0);
	if (rc < 0)
		pp_error_set(err, rc, NULL, NULL, "out of memory");
done:
	free(own);
	free(layers);
	if (rc < 0)
		pp_plan_release(plan);
	return rc;
}

/* ---- writing ----------------------------------------------------------------------------- */

static const char *split_name(pp_cfg c)
{
	return c == PP_CFG_COLUMN ? "column" : c == PP_CFG_ROW ? "row" : "none";
}

#define NUM(o, k, v) ok = ok && cJSON_AddNumberToObject((o), (k), (double)(v))
#define STR(o, k, v) ok = ok && cJSON_AddStringToObject((o), (k), (v))
#define BOOL(o, k, v) ok = ok && cJSON_AddBoolToObject((o), (k), (v) ? 1 : 0)

cJSON *pp_global_json(const pp_global *gl)
{
	const pp_setting *t = pp_settings();
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL, i;
	for (i = 0; ok && i < PP_SETTING_COUNT; i++) {
		const pp_setting *s = &t[i];
		int v = pp_setting_get(s, gl);
		if ((s->flags & PP_SETTING_OPTIONAL) && v == s->def)
			continue;
		switch (s->type) {
		case PP_SETTING_ENUM: STR(o, s->key, pp_setting_value_name(s, v)); break;
		case PP_SETTING_BOOL: BOOL(o, s->key, v); break;
		default: NUM(o, s->key, v);
		}
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *pp_plan_to_json(const pp_plan *plan)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	cJSON *root = cJSON_CreateObject(), *o, *a, *e;
	int *layers = NULL, ok = root != NULL, i, n_chunks, first = 0;
	char *out = NULL;

	layers = malloc(sizeof(int) * (size_t)(gl->p > 0 ? gl->p : 1) *
			(size_t)(gl->virtual_stages > 0 ? gl->virtual_stages : 1));
	if (!layers || gl->p < 1 || gl->virtual_stages < 1)
		goto done;
	STR(root, "format", PLAN_FORMAT);
	STR(root, "model", plan->model);
	STR(root, "hw", plan->hw);
	if (plan->model_path[0])
		STR(root, "model_path", plan->model_path);
	if (plan->hw_path[0])
		STR(root, "hw_path", plan->hw_path);
	if (plan->stack[0])
		STR(root, "stack", plan->stack);
	NUM(root, "gpus", plan->gpus);
	NUM(root, "node_devices", plan->node_devices);

	ok = ok && (o = cJSON_AddObjectToObject(root, "model_shape")) != NULL;
	if (ok) {
		NUM(o, "layers", sh->layers);
		NUM(o, "hidden", sh->hidden);
		NUM(o, "heads", sh->heads);
		NUM(o, "kv_heads", sh->kv_heads);
		NUM(o, "ffn", sh->ffn);
		NUM(o, "seq", sh->seq);
		NUM(o, "vocab", sh->vocab);
		STR(o, "family", sh->family_llama ? "llama" : "gpt");
		BOOL(o, "tied_embeddings", sh->tied_embeddings);
		NUM(o, "params", sh->params);
		if (sh->moe.experts || sh->moe.kv_lora || sh->moe.mtp || sh->moe.head_dim || sh->moe.qk_norm) {
			const pp_moe_shape *m = &sh->moe;
			cJSON *mo = cJSON_AddObjectToObject(o, "moe");
			ok = mo != NULL;
			if (ok) {
				NUM(mo, "experts", m->experts);
				NUM(mo, "topk", m->topk);
				NUM(mo, "moe_ffn", m->moe_ffn);
				NUM(mo, "shared_ffn", m->shared_ffn);
				NUM(mo, "dense_layers", m->dense_layers);
				BOOL(mo, "sigmoid", m->sigmoid);
				BOOL(mo, "expert_bias", m->expert_bias);
				NUM(mo, "q_lora", m->q_lora);
				NUM(mo, "kv_lora", m->kv_lora);
				NUM(mo, "qk_nope", m->qk_nope);
				NUM(mo, "qk_rope", m->qk_rope);
				NUM(mo, "v_head", m->v_head);
				NUM(mo, "mtp", m->mtp);
				NUM(mo, "head_dim", m->head_dim);
				BOOL(mo, "qk_norm", m->qk_norm);
			}
		}
		if (sh->has_model) { /* the graph's launcher settings (graph_int.h) */
			cJSON *m = pp_model_settings_to_json(&sh->model, sh->tied_embeddings);
			ok = m && cJSON_AddItemToObject(o, "model", m);
		}
	}

	ok = ok && (o = pp_global_json(gl)) != NULL;
	if (ok)
		cJSON_AddItemToObject(root, "global", o);

	n_chunks = chunk_layers(plan, layers);
	ok = ok && (a = cJSON_AddArrayToObject(root, "stages")) != NULL;
	for (i = 0; ok && i < n_chunks; i++) {
		ok = (e = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(a, e);
		NUM(e, "first_layer", first);
		NUM(e, "layers", layers[i]);
		BOOL(e, "embedding", i == 0);
		BOOL(e, "head", i == n_chunks - 1);
		first += layers[i];
	}

	ok = ok && (a = cJSON_AddArrayToObject(root, "ops")) != NULL;
	for (i = 0; ok && i < plan->n_ops; i++) {
		int s, at, pa;
		pp_cfg c = (pp_cfg)plan->op_cfg[i];
		pp_cfg_degrees(c, gl->t, gl->d, &s, &at, &pa);
		ok = (e = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(a, e);
		STR(e, "name", plan->op_names[i]);
		STR(e, "config", pp_cfg_name(c));
		NUM(e, "sample", s);
		NUM(e, "attribute", at);
		NUM(e, "parameter", pa);
		STR(e, "split", split_name(c));
		NUM(e, "stage", plan->op_stage[i]);
		if (plan->op_class_layers[i] > 0)
			NUM(e, "class_layers", plan->op_class_layers[i]);
	}

	if (ok && plan->predicted.valid) {
		const pp_predicted *p = &plan->predicted;
		ok = (o = cJSON_AddObjectToObject(root, "predicted")) != NULL;
		BOOL(o, "feasible", p->feasible);
		NUM(o, "iteration_s", p->iteration_s);
		NUM(o, "tokens_per_s", p->tokens_per_s);
		NUM(o, "model_tflops_per_gpu", p->model_tflops_per_gpu);
		NUM(o, "hardware_tflops_per_gpu", p->hardware_tflops_per_gpu);
		NUM(o, "mfu", p->mfu);
		NUM(o, "hfu", p->hfu);
		NUM(o, "compute_s", p->compute_s);
		NUM(o, "tp_comm_s", p->tp_comm_s);
		NUM(o, "pp_comm_s", p->pp_comm_s);
		NUM(o, "bubble_s", p->bubble_s);
		NUM(o, "dp_comm_s", p->dp_comm_s);
		NUM(o, "optimizer_s", p->optimizer_s);
		NUM(o, "weights_gib", p->weights_gib);
		NUM(o, "grads_gib", p->grads_gib);
		NUM(o, "optimizer_gib", p->optimizer_gib);
		NUM(o, "activations_gib", p->activations_gib);
		NUM(o, "peak_gib", p->peak_gib);
		NUM(o, "capacity_gib", p->capacity_gib);
	}
	if (ok && plan->search.valid) {
		const pp_search_info *s = &plan->search;
		ok = (o = cJSON_AddObjectToObject(root, "search")) != NULL;
		STR(o, "method", s->method);
		NUM(o, "seed", s->seed);
		NUM(o, "states", s->states);
		NUM(o, "seconds", s->seconds);
		BOOL(o, "optimal", s->optimal);
		NUM(o, "gap", s->gap);
	}
	if (ok)
		out = pp_json_print(root);
done:
	free(layers);
	cJSON_Delete(root);
	return out;
}

int pp_plan_save(const pp_plan *plan, const char *path, pp_error *err)
{
	char *s = pp_plan_to_json(plan);
	int rc;
	if (!s)
		return pp_error_set(err, PP_ENOMEM, path, NULL, "cannot serialize the plan");
	rc = pp_write_atomic(path, s, strlen(s), err);
	free(s);
	return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

static int get_i(const pp_jctx *c, const cJSON *o, const char *path, const char *key, int req,
		 int64_t min, int64_t max, int64_t *out)
{
	return pp_json_get_int(c, o, path, key, req, min, max, out);
}

static int get_enum(const pp_jctx *c, const cJSON *o, const char *path, const char *key,
		    int (*parse)(const char *), const char *choices, int *out)
{
	const char *s = NULL;
	int rc, v;
	if ((rc = pp_json_get_string(c, o, path, key, 1, &s)) < 0)
		return rc;
	if ((v = parse(s)) < 0)
		return pp_json_fail(c, path, key, "unknown value \"%.40s\" (expected %s)", s, choices);
	*out = v;
	return 0;
}

static int parse_family(const char *s)
{
	return !strcmp(s, "gpt") ? 0 : !strcmp(s, "llama") ? 1 : -1;
}

static int parse_split(const char *s)
{
	return !strcmp(s, "none") ? 0 : !strcmp(s, "column") ? 1 : !strcmp(s, "row") ? 2 : -1;
}

/* "model_shape"."moe": every key required, numbers in range, the router's k at most E */
static int read_moe_shape(const pp_jctx *c, const cJSON *o, pp_model_shape *sh)
{
	static const char *const keys[] = {"experts", "topk", "moe_ffn", "shared_ffn", "dense_layers",
					   "sigmoid", "expert_bias", "q_lora", "kv_lora", "qk_nope",
					   "qk_rope", "v_head", "mtp", "head_dim", "qk_norm", NULL};
	const char *P = "model_shape.moe";
	pp_moe_shape *m = &sh->moe;
	int64_t v;
	int rc;
	if ((rc = pp_json_check_object(c, o, P, keys)) < 0)
		return rc;
#define DIM(k, field, max)                                                                      \
	do {                                                                                    \
		if ((rc = get_i(c, o, P, k, 1, 0, max, &v)) < 0)                                \
			return rc;                                                              \
		m->field = v;                                                                   \
	} while (0)
	DIM("experts", experts, 1 << 16);
	DIM("topk", topk, 1 << 16);
	DIM("moe_ffn", moe_ffn, MAX_DIM);
	DIM("shared_ffn", shared_ffn, MAX_DIM);
	DIM("dense_layers", dense_layers, sh->layers);
	DIM("q_lora", q_lora, MAX_DIM);
	DIM("kv_lora", kv_lora, MAX_DIM);
	DIM("qk_nope", qk_nope, MAX_DIM);
	DIM("qk_rope", qk_rope, MAX_DIM);
	DIM("v_head", v_head, MAX_DIM);
	DIM("mtp", mtp, 64);
	DIM("head_dim", head_dim, MAX_DIM);
#undef DIM
	if ((rc = pp_json_get_bool(c, o, P, "qk_norm", 1, &m->qk_norm)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "sigmoid", 1, &m->sigmoid)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "expert_bias", 1, &m->expert_bias)) < 0)
		return rc;
	if (m->topk > m->experts)
		return pp_json_fail(c, P, "topk", "top-%lld of %lld experts", (long long)m->topk,
				    (long long)m->experts);
	return 0;
}

static int read_shape(const pp_jctx *c, const cJSON *o, pp_model_shape *sh)
{
	static const char *const keys[] = {"layers", "hidden", "heads", "kv_heads", "ffn", "seq",
					   "vocab", "family", "tied_embeddings", "params", "model", "moe",
					   NULL};
	const cJSON *moe = NULL;
	const char *P = "model_shape";
	const cJSON *m = NULL;
	int64_t v;
	int rc, tied = -1;
	if ((rc = pp_json_check_object(c, o, P, keys)) < 0)
		return rc;
#define DIM(k, field, max)                                                                      \
	do {                                                                                    \
		if ((rc = get_i(c, o, P, k, 1, 1, max, &v)) < 0)                                \
			return rc;                                                              \
		sh->field = v;                                                                  \
	} while (0)
	DIM("layers", layers, 1 << 20);
	DIM("hidden", hidden, MAX_DIM);
	DIM("heads", heads, MAX_DIM);
	DIM("kv_heads", kv_heads, MAX_DIM);
	DIM("ffn", ffn, MAX_DIM);
	DIM("seq", seq, MAX_DIM);
	DIM("vocab", vocab, MAX_DIM);
	DIM("params", params, (int64_t)1 << 53);
#undef DIM
	if ((rc = get_enum(c, o, P, "family", parse_family, "gpt or llama", &sh->family_llama)) < 0)
		return rc;
	if ((rc = pp_json_get_bool(c, o, P, "tied_embeddings", 1, &sh->tied_embeddings)) < 0)
		return rc;
	if ((rc = pp_json_get_object(c, o, P, "model", 0, &m)) < 0)
		return rc;
	if (m) {
		if ((rc = pp_model_settings_read(c, m, "model_shape.model", &sh->model, &tied)) < 0)
			return rc;
		if (tied >= 0 && tied != sh->tied_embeddings)
			return pp_json_fail(c, "model_shape.model", "tied_embeddings",
					    "disagrees with model_shape.tied_embeddings");
		sh->has_model = 1;
	}
	if (sh->kv_heads > sh->heads || sh->heads % sh->kv_heads)
		return pp_json_fail(c, P, "kv_heads", "%lld kv heads do not divide %lld heads",
				    (long long)sh->kv_heads, (long long)sh->heads);
	if ((rc = pp_json_get_object(c, o, P, "moe", 0, &moe)) < 0)
		return rc;
	if (moe)
		return read_moe_shape(c, moe, sh);
	return 0;
}

/*
 * The "global" object, read by walking the table of plan settings: integers first (in table
 * order), then enums, then booleans, then the rules a plan file adds to pp_global_validate's.
 */
static int read_global(const pp_jctx *c, const cJSON *o, const pp_model_shape *sh, pp_global *gl)
{
	static const pp_setting_type passes[] = {PP_SETTING_INT, PP_SETTING_ENUM, PP_SETTING_BOOL};
	const pp_setting *t = pp_settings();
	const char *keys[PP_SETTING_COUNT + 1];
	const char *P = "global";
	int64_t v;
	int rc, x, i, k;
	for (i = 0; i < PP_SETTING_COUNT; i++)
		keys[i] = t[i].key;
	keys[PP_SETTING_COUNT] = NULL;
	if ((rc = pp_json_check_object(c, o, P, keys)) < 0)
		return rc;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < PP_SETTING_COUNT; i++) {
			const pp_setting *s = &t[i];
			int req = !(s->flags & PP_SETTING_OPTIONAL);
			if (s->type != passes[k])
				continue;
			switch (s->type) {
			case PP_SETTING_INT:
				v = s->def;
				if ((rc = get_i(c, o, P, s->key, req, s->min,
						s->file_max == PP_SETTING_MAX_LAYERS ? sh->layers : s->file_max,
						&v)) < 0)
					return rc;
				x = (int)v;
				break;
			case PP_SETTING_ENUM: {
				char choices[128];
				const char *name = NULL;
				pp_setting_choices(s, choices, sizeof(choices));
				if ((rc = pp_json_get_string(c, o, P, s->key, req, &name)) < 0)
					return rc;
				if (!name)
					x = s->def;
				else if ((x = pp_setting_parse_name(s, name)) < 0)
					return pp_json_fail(c, P, s->key, "unknown value \"%.40s\" (expected %s)",
							    name, choices);
				break;
			}
			default:
				x = s->def;
				if ((rc = pp_json_get_bool(c, o, P, s->key, req, &x)) < 0)
					return rc;
			}
			pp_setting_set(s, gl, x);
		}
		if (passes[k] == PP_SETTING_INT && (long long)gl->t * gl->p * gl->d > MAX_DEGREE)
			return pp_json_fail(c, P, NULL, "t*p*d is more than %lld", (long long)MAX_DEGREE);
		if (passes[k] == PP_SETTING_INT && (long long)gl->t * gl->p * gl->d * gl->cp > MAX_DEGREE)
			return pp_json_fail(c, P, "cp", "t*cp*p*d is more than %lld", (long long)MAX_DEGREE);
	}
	if (gl->virtual_stages > 1 && gl->schedule != PP_SCHED_INTERLEAVED)
		return pp_json_fail(c, P, "virtual_stages", "virtual stages > 1 need the interleaved schedule");
	if ((long long)gl->p * gl->virtual_stages > sh->layers)
		return pp_json_fail(c, P, "p", "p*v = %lld model chunks for %lld layers",
				    (long long)gl->p * gl->virtual_stages, (long long)sh->layers);
	/* Megatron-Core builds an uneven first (last) rank's layers as v equal chunks too, or, with
	 * the account-for flags, one layer fewer than a middle rank (pp_global_uneven_form); a
	 * split that is wrong whatever v is left to the rule checks that name it */
	if (gl->virtual_stages > 1 && (gl->first_stage_layers || gl->last_stage_layers) &&
	    sh->layers <= INT_MAX) {
		pp_global plain = *gl;
		const char *why = NULL;
		plain.schedule = PP_SCHED_1F1B;
		plain.virtual_stages = 1;
		if (pp_global_uneven_form((int)sh->layers, &plain, NULL) > 0 &&
		    pp_global_uneven_form((int)sh->layers, gl, &why) < 0)
			return pp_json_fail(c, P, gl->first_stage_layers ? "first_stage_layers" : "last_stage_layers",
					    "uneven first/last stages with v=%d: %s", gl->virtual_stages, why);
	}
	return 0;
}

static int read_stages(const pp_jctx *c, const cJSON *a, const pp_plan *plan)
{
	static const char *const keys[] = {"first_layer", "layers", "embedding", "head", NULL};
	const pp_global *gl = &plan->global;
	int n = gl->p * gl->virtual_stages, i = 0, rc, emb, head;
	int64_t first, layers, next = 0;
	const cJSON *e;
	char p[PP_JPATH_MAX];

	int *want;
	if (cJSON_GetArraySize(a) != n)
		return pp_json_fail(c, "stages", NULL, "%d stages, expected p*v = %d",
				    cJSON_GetArraySize(a), n);
	/* the cost model splits layers by the global settings: the ranges must be that split */
	if (n < 1 || plan->shape.layers < n ||
	    !(want = calloc((size_t)n + (size_t)plan->shape.layers, sizeof(int))))
		return pp_json_fail(c, "stages", NULL, "%d stages for %lld layers", n,
				    (long long)plan->shape.layers);
	chunk_layers(plan, want);
	{
		/* only a well-defined split can be compared with; an invalid one (layers not
		 * divisible by p, ...) is left to the rule checks that name it */
		int64_t sum = 0;
		for (i = 0; i < n; i++)
			sum += want[i] > 0 ? want[i] : -plan->shape.layers;
		if (sum != plan->shape.layers)
			for (i = 0; i < n; i++)
				want[i] = -1;
		i = 0;
	}
	cJSON_ArrayForEach(e, a)
	{
		pp_jpath_idx(p, "stages", i);
		if ((rc = pp_json_check_object(c, e, p, keys)) < 0 ||
		    (rc = get_i(c, e, p, "first_layer", 1, 0, plan->shape.layers, &first)) < 0 ||
		    (rc = get_i(c, e, p, "layers", 1, 1, plan->shape.layers, &layers)) < 0 ||
		    (rc = pp_json_get_bool(c, e, p, "embedding", 1, &emb)) < 0 ||
		    (rc = pp_json_get_bool(c, e, p, "head", 1, &head)) < 0)
			goto fail;
		rc = 0;
		if (first != next)
			rc = pp_json_fail(c, p, "first_layer", "stage starts at layer %lld, expected %lld",
					  (long long)first, (long long)next);
		else if (want[i] >= 0 && layers != want[i])
			rc = pp_json_fail(c, p, "layers", "stage has %lld layers but the global settings "
					  "give %d (first_stage_layers / last_stage_layers set uneven stages)",
					  (long long)layers, want[i]);
		else if (emb != (i == 0))
			rc = pp_json_fail(c, p, "embedding", "only the first stage holds the embedding");
		else if (head != (i == n - 1))
			rc = pp_json_fail(c, p, "head", "only the last stage holds the head");
		if (rc < 0)
			goto fail;
		next = first + layers;
		i++;
	}
	free(want);
	if (next != plan->shape.layers)
		return pp_json_fail(c, "stages", NULL, "stages cover %lld of the %lld layers",
				    (long long)next, (long long)plan->shape.layers);
	return 0;
fail:
	free(want);
	return rc;
}

static int read_ops(const pp_jctx *c, const cJSON *a, pp_plan *plan)
{
	static const char *const keys[] = {"name", "config", "sample", "attribute", "parameter",
					   "split", "stage", "class_layers", NULL};
	const pp_global *gl = &plan->global;
	int n = cJSON_GetArraySize(a), i = 0, rc, cfg = 0, split = 0, j;
	const cJSON *e;
	char p[PP_JPATH_MAX];

	if (n > MAX_OPS)
		return pp_json_fail(c, "ops", NULL, "more than %d ops", MAX_OPS);
	if (alloc_ops(plan, n) < 0)
		return pp_error_set(c->err, PP_ENOMEM, c->file, "ops", "out of memory");
	cJSON_ArrayForEach(e, a)
	{
		const char *name = NULL;
		int64_t s, at, pa, stage, cl = 0;
		int ws, wa, wp;
		pp_jpath_idx(p, "ops", i);
		if ((rc = pp_json_check_object(c, e, p, keys)) < 0 ||
		    (rc = pp_json_get_string(c, e, p, "name", 1, &name)) < 0 ||
		    (rc = get_enum(c, e, p, "config", pp_cfg_parse,
				   "replicate, sample, sequence, hidden, column or row", &cfg)) < 0 ||
		    (rc = get_i(c, e, p, "sample", 1, 1, MAX_DEGREE, &s)) < 0 ||
		    (rc = get_i(c, e, p, "attribute", 1, 1, MAX_DEGREE, &at)) < 0 ||
		    (rc = get_i(c, e, p, "parameter", 1, 1, MAX_DEGREE, &pa)) < 0 ||
		    (rc = get_enum(c, e, p, "split", parse_split, "none, column or row", &split)) < 0 ||
		    (rc = get_i(c, e, p, "stage", 1, 0, gl->p - 1, &stage)) < 0 ||
		    (rc = get_i(c, e, p, "class_layers", 0, 1, plan->shape.layers, &cl)) < 0)
			return rc;
		pp_cfg_degrees((pp_cfg)cfg, gl->t, gl->d, &ws, &wa, &wp);
		if (s != ws)
			return pp_json_fail(c, p, "sample", "%lld does not match config %s (%d)",
					    (long long)s, pp_cfg_name((pp_cfg)cfg), ws);
		if (at != wa)
			return pp_json_fail(c, p, "attribute", "%lld does not match config %s (%d)",
					    (long long)at, pp_cfg_name((pp_cfg)cfg), wa);
		if (pa != wp)
			return pp_json_fail(c, p, "parameter", "%lld does not match config %s (%d)",
					    (long long)pa, pp_cfg_name((pp_cfg)cfg), wp);
		if (split != (cfg == PP_CFG_COLUMN ? 1 : cfg == PP_CFG_ROW ? 2 : 0))
			return pp_json_fail(c, p, "split", "does not match config %s",
					    pp_cfg_name((pp_cfg)cfg));
		for (j = 0; j < plan->n_ops; j++)
			if (!strcmp(plan->op_names[j], name))
				return pp_json_fail(c, p, "name", "op \"%.64s\" listed twice", name);
		if (add_op(plan, name, cfg, (int)stage, (int)cl) < 0)
			return pp_error_set(c->err, PP_ENOMEM, c->file, p, "out of memory");
		i++;
	}
	return 0;
}

static int read_predicted(const pp_jctx *c, const cJSON *o, pp_predicted *pr)
{
	static const char *const keys[] = {
		"feasible",  "iteration_s", "tokens_per_s",  "model_tflops_per_gpu",
		"hardware_tflops_per_gpu", "mfu", "hfu", "compute_s", "tp_comm_s", "pp_comm_s",
		"bubble_s", "dp_comm_s", "optimizer_s", "weights_gib", "grads_gib",
		"optimizer_gib", "activations_gib", "peak_gib", "capacity_gib", NULL};
	static const size_t offs[] = {
		offsetof(pp_predicted, iteration_s),   offsetof(pp_predicted, tokens_per_s),
		offsetof(pp_predicted, model_tflops_per_gpu),
		offsetof(pp_predicted, hardware_tflops_per_gpu), offsetof(pp_predicted, mfu),
		offsetof(pp_predicted, hfu),           offsetof(pp_predicted, compute_s),
		offsetof(pp_predicted, tp_comm_s),     offsetof(pp_predicted, pp_comm_s),
		offsetof(pp_predicted, bubble_s),      offsetof(pp_predicted, dp_comm_s),
		offsetof(pp_predicted, optimizer_s),   offsetof(pp_predicted, weights_gib),
		offsetof(pp_predicted, grads_gib),     offsetof(pp_predicted, optimizer_gib),
		offsetof(pp_predicted, activations_gib), offsetof(pp_predicted, peak_gib),
		offsetof(pp_predicted, capacity_gib)};
	const char *P = "predicted";
	size_t i;
	int rc;
	if ((rc = pp_json_check_object(c, o, P, keys)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "feasible", 1, &pr->feasible)) < 0)
		return rc;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		double *dst = (double *)(void *)((char *)pr + offs[i]);
		/* tokens/s and TFLOP/s can be large; times, fractions and GiB are non-negative */
		if ((rc = pp_json_get_number(c, o, P, keys[i + 1], 1, 0, 1e18, dst)) < 0)
			return rc;
	}
	pr->valid = 1;
	return 0;
}

static int read_search(const pp_jctx *c, const cJSON *o, pp_search_info *si)
{
	static const char *const keys[] = {"method", "seed", "states", "seconds", "optimal", "gap",
					   NULL};
	const char *P = "search", *m = NULL;
	double seed = 0;
	int rc;
	if ((rc = pp_json_check_object(c, o, P, keys)) < 0 ||
	    (rc = pp_json_get_string(c, o, P, "method", 1, &m)) < 0)
		return rc;
	if (strcmp(m, "exhaustive") && strcmp(m, "mcmc") && strcmp(m, "ilp") && strcmp(m, "manual"))
		return pp_json_fail(c, P, "method",
				    "unknown method \"%.40s\" (expected exhaustive, mcmc, ilp or manual)", m);
	copy_str(si->method, sizeof(si->method), m);
	if ((rc = pp_json_get_number(c, o, P, "seed", 1, 0, 9007199254740992.0, &seed)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "states", 1, 0, 1e300, &si->states)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "seconds", 1, 0, 1e12, &si->seconds)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "optimal", 1, &si->optimal)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "gap", 0, 0, 1e300, &si->gap)) < 0)
		return rc;
	if (seed != floor(seed))
		return pp_json_fail(c, P, "seed", "expected an integer, got %g", seed);
	si->seed = (uint64_t)seed;
	si->valid = 1;
	return 0;
}

/* Names go into launcher scripts and configs: the one rule of name.h. */
static int check_name(const pp_jctx *c, const char *key, const char *s)
{
	return pp_name_check(s, c->file, key, c->err);
}

static int read_plan(const pp_jctx *c, const cJSON *root, pp_plan *plan)
{
	static const char *const keys[] = {"format", "model", "hw", "model_path", "hw_path", "stack", "gpus",
					   "node_devices", "model_shape", "global", "stages", "ops",
					   "predicted", "search", NULL};
	const char *s = NULL;
	const cJSON *o = NULL;
	int64_t v;
	int rc, check_names;

	if ((rc = pp_json_check_object(c, root, "", keys)) < 0)
		return rc;
	if ((rc = pp_json_get_string(c, root, "", "format", 1, &s)) < 0)
		return rc;
	if (strcmp(s, PLAN_FORMAT))
		return pp_json_fail(c, "", "format", "expected \"%s\", got \"%.40s\"", PLAN_FORMAT, s);
#define NAME(k, field, req)                                                                     \
	do {                                                                                    \
		s = NULL;                                                                       \
		if ((rc = pp_json_get_string(c, root, "", k, req, &s)) < 0)                     \
			return rc;                                                              \
		if (s && strlen(s) >= sizeof(plan->field))                                      \
			return pp_json_fail(c, "", k, "longer than %zu characters",             \
					    sizeof(plan->field) - 1);                           \
		if (s && check_names && (rc = check_name(c, k, s)) < 0)                         \
			return rc;                                                              \
		copy_str(plan->field, sizeof(plan->field), s);                                  \
	} while (0)
	check_names = 1;
	NAME("model", model, 1);
	NAME("hw", hw, 1);
	check_names = 0;
	NAME("model_path", model_path, 0);
	NAME("hw_path", hw_path, 0);
	NAME("stack", stack, 0);
#undef NAME
	if ((rc = get_i(c, root, "", "gpus", 1, 1, MAX_DEGREE, &v)) < 0)
		return rc;
	plan->gpus = (int)v;
	if ((rc = get_i(c, root, "", "node_devices", 1, 1, 1 << 16, &v)) < 0)
		return rc;
	plan->node_devices = (int)v;
	if ((rc = pp_json_get_object(c, root, "", "model_shape", 1, &o)) < 0 ||
	    (rc = read_shape(c, o, &plan->shape)) < 0)
		return rc;
	if ((rc = pp_json_get_object(c, root, "", "global", 1, &o)) < 0 ||
	    (rc = read_global(c, o, &plan->shape, &plan->global)) < 0)
		return rc;
	if ((rc = pp_json_get_array(c, root, "", "stages", 1, &o)) < 0 ||
	    (rc = read_stages(c, o, plan)) < 0)
		return rc;
	if ((rc = pp_json_get_array(c, root, "", "ops", 1, &o)) < 0 || (rc = read_ops(c, o, plan)) < 0)
		return rc;
	if ((rc = pp_json_get_object(c, root, "", "predicted", 0, &o)) < 0 ||
	    (o && (rc = read_predicted(c, o, &plan->predicted)) < 0))
		return rc;
	if ((rc = pp_json_get_object(c, root, "", "search", 0, &o)) < 0 ||
	    (o && (rc = read_search(c, o, &plan->search)) < 0))
		return rc;
	return 0;
}

static int parse_len(const char *name_for_errors, const char *text, size_t len, pp_plan *plan,
		     pp_error *err)
{
	pp_jctx c;
	cJSON *root = NULL;
	int rc;

	memset(plan, 0, sizeof(*plan));
	c.file = name_for_errors;
	c.err = err;
	if ((rc = pp_json_parse(name_for_errors, text, len, &root, err)) < 0)
		return rc;
	rc = read_plan(&c, root, plan);
	cJSON_Delete(root);
	if (rc < 0)
		pp_plan_release(plan);
	return rc;
}

int pp_plan_parse(const char *name_for_errors, const char *text, pp_plan *plan, pp_error *err)
{
	return parse_len(name_for_errors, text, strlen(text), plan, err);
}

int pp_plan_load(const char *path, pp_plan *plan, pp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;
	memset(plan, 0, sizeof(*plan));
	if ((rc = pp_read_file(path, &text, &len, err)) < 0)
		return rc;
	rc = parse_len(path, text, len, plan, err); /* the length, so that a NUL byte is caught */
	free(text);
	return rc;
}

/* ---- mapping entries onto a graph -------------------------------------------------------- */

int pp_plan_configs(const pp_plan *plan, const pp_graph *g, uint8_t *cfg, pp_error *err)
{
	char path[64];
	int pass, i;

	const pp_model_shape *sh = &plan->shape;
	if (sh->layers != g->n_layers || sh->hidden != g->hidden || sh->heads != g->heads ||
	    sh->kv_heads != g->kv_heads || sh->seq != g->seq || sh->vocab != g->vocab)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape",
				    "the plan is for model \"%.64s\" (%lld layers, hidden %lld), not the "
				    "graph \"%.64s\" (%d layers, hidden %lld)", plan->model,
				    (long long)sh->layers, (long long)sh->hidden, g->name, g->n_layers,
				    (long long)g->hidden);
	pp_strategy_megatron(g, &plan->global, cfg);
	/* class entries first, so that single-op entries (overrides) win */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < plan->n_ops; i++) {
			int op = pp_graph_find_op(g, plan->op_names[i]), cl = plan->op_class_layers[i];
			const pp_op *o;
			snprintf(path, sizeof(path), "ops[%d]", i);
			if (op < 0)
				return pp_error_set(err, PP_EINVALID, NULL, path,
						    "unknown op \"%.64s\" in model \"%.64s\"",
						    plan->op_names[i], g->name);
			o = &g->ops[op];
			if (!pp_cfg_allowed(o->type, (pp_cfg)plan->op_cfg[i]))
				return pp_error_set(err, PP_EINVALID, NULL, path,
						    "config %s is not allowed for a %s op",
						    pp_cfg_name((pp_cfg)plan->op_cfg[i]),
						    pp_op_type_name(o->type));
			if ((cl > 0) != (pass == 0))
				continue;
			if (cl == 0) {
				cfg[op] = plan->op_cfg[i];
				continue;
			}
			{
				int cls, rep, k, l;
				if (o->layer < 0)
					return pp_error_set(err, PP_EINVALID, NULL, path,
							    "class_layers given for op \"%.64s\" outside the layers",
							    o->name);
				cls = g->layer_class[o->layer];
				rep = g->classes[cls].first_layer;
				if (o->layer != rep)
					return pp_error_set(err, PP_EINVALID, NULL, path,
							    "op \"%.64s\" is not in layer %d, the first of its class",
							    o->name, rep);
				if (cl != g->classes[cls].n_layers)
					return pp_error_set(err, PP_EINVALID, NULL, path,
							    "class_layers %d, but the class has %d layers",
							    cl, g->classes[cls].n_layers);
				for (k = g->layer_start[rep]; k < g->layer_start[rep + 1]; k++)
					if (g->layer_ops[k] == op)
						break;
				k -= g->layer_start[rep];
				for (l = 0; l < g->n_layers; l++)
					if (g->layer_class[l] == cls)
						cfg[g->layer_ops[g->layer_start[l] + k]] = plan->op_cfg[i];
			}
		}
	}
	return 0;
}
