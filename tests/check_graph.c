/* check_graph.c - graph loader, model generator, parameter counts, FLOPs, layer classes. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "graph_int.h"
#include "json_int.h"
#include "parplan/graph.h"
#include "parplan/io.h"

static pp_graph *load(const char *path)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	int rc = pp_graph_load(path, &g, &err);
	ck_assert_msg(rc == 0, "%s: %s: %s", err.file, err.path, err.msg);
	return g;
}

static void assert_params(const char *path, double published)
{
	pp_graph *g = load(path);
	double rel = fabs((double)g->params / published - 1.0);
	ck_assert_msg(rel < 0.01, "%s: %lld parameters vs published %.4g", path, (long long)g->params,
		      published);
	pp_graph_free(g);
}

START_TEST(test_published_parameter_counts)
{
	assert_params("../models/gpt3-175b.json", 175.0e9);
	assert_params("../models/llama2-7b.json", 6.74e9);
	assert_params("../models/llama2-70b.json", 68.98e9);
	assert_params("../models/llama3-8b.json", 8.03e9);
	assert_params("../models/llama3-70b.json", 70.55e9);
	assert_params("../models/llama3-405b.json", 405.85e9);
	/* Narayanan et al. 2021 Table 1 */
	assert_params("../models/gpt-145.6b.json", 145.6e9);
	assert_params("../models/gpt-310.1b.json", 310.1e9);
	assert_params("../models/gpt-1t.json", 1008.0e9);
	assert_params("../models/mt-nlg-530b.json", 529.6e9);
}
END_TEST

START_TEST(test_gpt_parameter_formula)
{
	/* P = 12*l*h^2*(1 + 13/(12h) + (V+s)/(12*l*h)), Narayanan et al. 2021 section 5.1 */
	pp_graph *g = load("../models/gpt3-175b.json");
	double l = 96, h = 12288, V = 51200, s = 2048;
	double P = 12 * l * h * h * (1 + 13 / (12 * h) + (V + s) / (12 * l * h));
	/* the paper's formula leaves out the final LayerNorm's 2h */
	ck_assert_double_eq_tol((double)g->params, P + 2 * h, 0.5);
	ck_assert_int_eq(g->n_layers, 96);
	ck_assert_int_eq(g->n_classes, 1);
	ck_assert_int_eq(g->classes[0].n_layers, 96);
	ck_assert(g->tied_embeddings);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_gpt_flops_per_token)
{
	/* forward GEMM FLOPs per token: 24*l*h^2 + 4*l*s*h + 2*h*V (Narayanan et al. 2021, eq. 3
	 * divided by 3*B*s) */
	pp_graph *g = load("../models/gpt3-175b.json");
	double l = 96, h = 12288, V = 51200, s = 2048;
	double want = 24 * l * h * h + 4 * l * s * h + 2 * h * V;
	ck_assert_double_eq_tol(g->gemm_flops_per_token, want, want * 1e-12);
	ck_assert(g->flops_per_token > g->gemm_flops_per_token);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_korthikanti_saved_bytes)
{
	/* a GPT layer keeps s*b*h*(34 + 5*a*s/h) bytes for backward (Korthikanti et al. 2022, eq. 1) */
	pp_graph *g = load("../models/gpt3-175b.json");
	double s = 2048, h = 12288, a = 96, sum = 0, core = 0;
	int i;
	for (i = g->layer_start[5]; i < g->layer_start[6]; i++) {
		sum += g->ops[g->layer_ops[i]].saved_bytes;
		core += g->ops[g->layer_ops[i]].core_saved_bytes;
	}
	ck_assert_double_eq_tol(sum, s * h * (34 + 5 * a * s / h), 1e-6 * sum);
	ck_assert_double_eq_tol(core, 5 * a * s * s, 1e-6 * core);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_op_shapes)
{
	pp_graph *g = load("../models/llama3-8b.json");
	int qkv = pp_graph_find_op(g, "l3.attn.qkv"), head = pp_graph_find_op(g, "head");
	ck_assert_int_ge(qkv, 0);
	ck_assert_int_eq(g->ops[qkv].gemm_k, 4096);
	ck_assert_int_eq(g->ops[qkv].gemm_n, 4096 + 2 * 8 * 128); /* GQA: q + 2 * kv_heads * hd */
	ck_assert_int_eq(g->ops[qkv].gemm_m, 8192);
	ck_assert_int_eq(g->ops[head].gemm_n, 128256);
	ck_assert(!g->tied_embeddings);
	ck_assert_int_eq(g->n_pre, 1);
	ck_assert_int_eq(g->n_post, 3);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_generator_round_trip)
{
	pp_model_spec s = PP_MODEL_SPEC_INIT;
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	char *text = NULL;
	s.family = PP_MODEL_LLAMA;
	s.name = "t";
	s.layers = 3;
	s.hidden = 64;
	s.heads = 8;
	s.kv_heads = 2;
	s.ffn = 160;
	s.seq = 32;
	s.vocab = 100;
	ck_assert_int_eq(pp_model_generate(&s, &text, &err), 0);
	ck_assert_int_eq(pp_graph_parse("mem", text, &g, &err), 0);
	/* per layer: 2 norms 64 + qkv 64*(64+2*2*8) + o 64*64 + gate_up 64*320 + down 160*64 */
	ck_assert_int_eq(g->params, 3 * (128 + 64 * 96 + 4096 + 64 * 320 + 160 * 64) + 100 * 64 * 2 + 64);
	pp_graph_free(g);
	free(text);
	s.kv_heads = 3; /* does not divide 8 heads */
	ck_assert_int_eq(pp_model_generate(&s, &text, &err), PP_EINVALID);
	ck_assert_ptr_null(text);
}
END_TEST

/* Gemma 2 at 8192 tokens: even layers see a 4096-token window, odd layers everything */
START_TEST(test_sliding_window_and_head_dim)
{
	pp_graph *g = load("../models/hf/gemma-2-9b.json");
	int w = pp_graph_find_op(g, "l0.attn.core"), f = pp_graph_find_op(g, "l1.attn.core");
	double S = 8192, W = 4096, share = (W * (W + 1) / 2 + (S - W) * W) / (S * (S + 1) / 2);
	ck_assert(w >= 0 && f >= 0);
	ck_assert_int_eq(g->head_dim, 256); /* not hidden / heads = 224 */
	ck_assert_int_eq(g->ops[w].window, 4096);
	ck_assert_int_eq(g->ops[f].window, 0);
	/* full attention: 4 s^2 * heads * head_dim per sample */
	ck_assert_double_eq_tol(g->ops[f].gemm_flops, 4.0 * S * S * 16 * 256, 1.0);
	/* the window does that share of the score work, and keeps that share of the scores */
	ck_assert_double_eq_tol(g->ops[w].gemm_flops / g->ops[f].gemm_flops, share, 1e-12);
	ck_assert_double_eq_tol(g->ops[w].core_saved_bytes / g->ops[f].core_saved_bytes, share, 1e-12);
	ck_assert_double_eq_tol(g->ops[w].score_bytes / g->ops[f].score_bytes, share, 1e-12);
	ck_assert_int_eq(g->n_classes, 2); /* windowed and global layers differ */
	ck_assert(g->has_model && g->tied_embeddings && g->model.sandwich_norm && g->model.embed_scale);
	ck_assert_str_eq(g->model.activation, "gelu_pytorch_tanh");
	ck_assert_double_eq_tol(g->model.attn_softcap, 50.0, 1e-12);
	pp_graph_free(g);
	g = load("../models/hf/llama-3.1-8b.json");
	ck_assert_str_eq(g->model.architecture, "LlamaForCausalLM");
	ck_assert_str_eq(g->model.rope_scaling, "llama3");
	ck_assert_double_eq_tol(g->model.rope_theta, 500000.0, 1e-9);
	ck_assert_double_eq_tol(g->model.rope_factor, 8.0, 1e-12);
	ck_assert_int_eq(g->model.rope_original_max_positions, 8192);
	ck_assert(!g->tied_embeddings && !g->model.qkv_bias);
	pp_graph_free(g);
}
END_TEST

START_TEST(test_find_by_name)
{
	pp_graph *g = load("../models/gpt3-175b.json");
	int i;
	for (i = 0; i < g->n_ops; i++)
		ck_assert_int_eq(pp_graph_find_op(g, g->ops[i].name), i);
	for (i = 0; i < g->n_tensors; i++)
		ck_assert_int_eq(pp_graph_find_tensor(g, g->tensors[i].name), i);
	ck_assert_int_eq(pp_graph_find_op(g, "l0.attn.qkv.out"), -1); /* a tensor, not an op */
	ck_assert_int_eq(pp_graph_find_tensor(g, "l0.attn.qkv"), -1);
	ck_assert_int_eq(pp_graph_find_op(g, ""), -1);
	ck_assert_int_eq(pp_graph_find_tensor(g, "no such tensor"), -1);
	pp_graph_free(g);
}
END_TEST

/* ---- loading is linear: counted steps, not time ------------------------------------------- */

/* Steps of loading @text; the graph must load and have @classes layer classes. */
static uint64_t load_steps(const char *text, int layers, int classes)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	uint64_t steps = 0;
	int rc = pp_graph_parse_counted("mem", text, &g, &steps, &err);
	ck_assert_msg(rc == 0, "%s: %s", err.path, err.msg);
	ck_assert_int_eq(g->n_layers, layers);
	ck_assert_int_eq(g->n_classes, classes);
	pp_graph_free(g);
	return steps;
}

static uint64_t gpt_steps(int layers)
{
	pp_model_spec s = PP_MODEL_SPEC_INIT;
	pp_error err = PP_ERROR_INIT;
	char *text = NULL;
	uint64_t n;
	s.name = "deep";
	s.layers = layers;
	s.hidden = 64;
	s.heads = 4;
	s.seq = 32;
	s.vocab = 100;
	ck_assert_int_eq(pp_model_generate(&s, &text, &err), 0);
	n = load_steps(text, layers, 1);
	free(text);
	return n;
}

START_TEST(test_load_linear_in_layers)
{
	/* the old topological sort scanned every op for the consumers of each op: about 15x the
	 * steps for 2x the layers at these depths */
	uint64_t a = gpt_steps(200), b = gpt_steps(400), c = gpt_steps(800);
	ck_assert_msg(b < 2.5 * a && c < 2.5 * b, "steps %llu, %llu, %llu for 200, 400, 800 layers",
		      (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
}
END_TEST

/* A chain of @layers matmuls, each its own layer class (its weight has its own shape). */
static char *distinct_layers(int layers)
{
	size_t cap = 256 + (size_t)layers * 320, n = 0;
	char *t = malloc(cap);
	int l;
	ck_assert_ptr_nonnull(t);
	n += (size_t)snprintf(t + n, cap - n,
			      "{\"format\": \"parplan-graph/1\", \"name\": \"chain\", \"dims\": "
			      "{\"layers\": %d, \"hidden\": 8, \"heads\": 1, \"seq\": 1, \"vocab\": 2}, "
			      "\"tensors\": [{\"name\": \"x0\", \"kind\": \"input\", \"shape\": [\"b\", 1]}",
			      layers);
	for (l = 0; l < layers; l++)
		n += (size_t)snprintf(t + n, cap - n,
				      ", {\"name\": \"w%d\", \"kind\": \"parameter\", \"shape\": [%d, %d]}"
				      ", {\"name\": \"x%d\", \"kind\": \"activation\", \"shape\": [\"b\", %d]}",
				      l, l + 1, l + 2, l + 1, l + 2);
	n += (size_t)snprintf(t + n, cap - n, "], \"ops\": [");
	for (l = 0; l < layers; l++)
		n += (size_t)snprintf(t + n, cap - n,
				      "%s{\"name\": \"mm%d\", \"type\": \"matmul\", \"layer\": %d, "
				      "\"inputs\": [\"x%d\", \"w%d\"], \"outputs\": [\"x%d\"]}",
				      l ? ", " : "", l, l, l, l, l + 1);
	n += (size_t)snprintf(t + n, cap - n, "]}");
	ck_assert_uint_lt(n, cap);
	return t;
}

START_TEST(test_load_linear_in_distinct_layers)
{
	/* every layer its own class: comparing each layer with every class found so far is
	 * quadratic; hashing each layer's structure is not */
	char *t1 = distinct_layers(500), *t2 = distinct_layers(1000);
	uint64_t a = load_steps(t1, 500, 500), b = load_steps(t2, 1000, 1000);
	ck_assert_msg(b < 2.5 * a, "steps %llu for 500 layers, %llu for 1000",
		      (unsigned long long)a, (unsigned long long)b);
	free(t1);
	free(t2);
}
END_TEST

/* Load tiny-gpt.json, apply @edit to its JSON tree, parse and expect @path in the error. */
typedef void (*edit_fn)(cJSON *root);

static void expect_reject(edit_fn edit, const char *path, const char *msg_part)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	char *text = NULL, *out;
	cJSON *root;
	ck_assert_int_eq(pp_read_file("data/tiny-gpt.json", &text, NULL, &err), 0);
	root = cJSON_Parse(text);
	free(text);
	edit(root);
	out = cJSON_Print(root);
	cJSON_Delete(root);
	ck_assert_int_eq(pp_graph_parse("x.json", out, &g, &err), PP_EINVALID);
	ck_assert_ptr_null(g);
	ck_assert_str_eq(err.file, "x.json");
	ck_assert_msg(strcmp(err.path, path) == 0, "path %s, want %s (%s)", err.path, path, err.msg);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message \"%s\" lacks \"%s\"", err.msg, msg_part);
	free(out);
}

static cJSON *op_named(cJSON *root, const char *name)
{
	cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(root, "ops"))
		if (!strcmp(cJSON_GetObjectItem(o, "name")->valuestring, name))
			return o;
	return NULL;
}

static cJSON *tensor_named(cJSON *root, const char *name)
{
	cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(root, "tensors"))
		if (!strcmp(cJSON_GetObjectItem(o, "name")->valuestring, name))
			return o;
	return NULL;
}

static void e_unknown_tensor(cJSON *r)
{
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(op_named(r, "l0.attn.qkv"), "inputs"), 1,
				 cJSON_CreateString("w9"));
}
static void e_cycle(cJSON *r)
{
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(op_named(r, "l0.ln1"), "inputs"), 0,
				 cJSON_CreateString("l0.res2.out"));
}
static void e_inner(cJSON *r)
{
	cJSON *s = cJSON_CreateIntArray((const int[]){32, 192}, 2);
	cJSON_ReplaceItemInObject(tensor_named(r, "l0.attn.qkv.w"), "shape", s);
}
static void e_add(cJSON *r)
{
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(op_named(r, "l1.res1"), "inputs"), 1,
				 cJSON_CreateString("l1.attn.qkv.out"));
}
static void e_heads(cJSON *r)
{
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "dims"), "heads", cJSON_CreateNumber(6));
}
static void e_two_producers(cJSON *r)
{
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(op_named(r, "l0.attn.proj"), "outputs"), 0,
				 cJSON_CreateString("l0.attn.qkv.out"));
}
static void e_dup_tensor(cJSON *r)
{
	cJSON_AddItemToArray(cJSON_GetObjectItem(r, "tensors"),
			     cJSON_Duplicate(tensor_named(r, "l0.ln1.g"), 1));
}
static void e_unknown_field(cJSON *r)
{
	cJSON_AddNumberToObject(op_named(r, "l0.attn.qkv"), "bias", 1);
}
static void e_format(cJSON *r)
{
	cJSON_ReplaceItemInObject(r, "format", cJSON_CreateString("parplan-graph/9"));
}
static void e_neg_dim(cJSON *r)
{
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "dims"), "ffn", cJSON_CreateNumber(-1));
}
static void e_overflow(cJSON *r)
{
	cJSON *s = cJSON_CreateArray();
	cJSON_AddItemToArray(s, cJSON_CreateNumber(1 << 30));
	cJSON_AddItemToArray(s, cJSON_CreateNumber(1 << 30));
	cJSON_AddItemToArray(s, cJSON_CreateNumber(1 << 30));
	cJSON_ReplaceItemInObject(tensor_named(r, "l0.ln1.g"), "shape", s);
}
static void e_op_type(cJSON *r)
{
	cJSON_ReplaceItemInObject(op_named(r, "l1.mlp.gelu"), "type", cJSON_CreateString("relu"));
}
static void e_dim_name(cJSON *r)
{
	cJSON_ReplaceItemInArray(cJSON_GetObjectItem(tensor_named(r, "l0.ln1.out"), "shape"), 2,
				 cJSON_CreateString("width"));
}

START_TEST(test_rejections_name_file_and_path)
{
	/* tiny-gpt: ops[3] is l0.attn.qkv, ops[2] l0.ln1, ops[5] l0.attn.proj */
	expect_reject(e_unknown_tensor, "ops[3].inputs[1]", "unknown tensor \"w9\"");
	expect_reject(e_cycle, "ops[2]", "cycle");
	expect_reject(e_inner, "ops[3]", "inner dimensions");
	expect_reject(e_add, "ops[19]", "operands");
	expect_reject(e_heads, "dims.heads", "do not divide hidden");
	expect_reject(e_two_producers, "ops[5].outputs[0]", "already produced");
	expect_reject(e_dup_tensor, "tensors[59].name", "duplicate tensor");
	expect_reject(e_unknown_field, "ops[3].bias", "unknown field");
	expect_reject(e_format, "format", "parplan-graph/1");
	expect_reject(e_neg_dim, "dims.ffn", "out of range");
	expect_reject(e_overflow, "tensors[6].shape", "2^50");
	expect_reject(e_op_type, "ops[22].type", "unknown op type");
	expect_reject(e_dim_name, "tensors[8].shape[2]", "undefined dim");
}
END_TEST

static int op_index(const pp_graph *g, const char *name)
{
	int i = pp_graph_find_op(g, name);
	ck_assert_msg(i >= 0, "no op %s", name);
	return i;
}

/* DeepSeek-V3's MoE, MLA and MTP ops against their closed forms (graph_json.c moe_rules) */
START_TEST(test_moe_ops)
{
	pp_graph *g = load("../models/deepseek-v3.json");
	const pp_op *r = &g->ops[op_index(g, "l3.moe.router")];
	const pp_op *e = &g->ops[op_index(g, "l3.moe.experts")];
	const pp_op *m = &g->ops[op_index(g, "l3.attn.core")];
	const pp_op *c = &g->ops[op_index(g, "l3.moe.combine")];
	double s = 4096, h = 7168, E = 256, k = 8, f = 2048, H = 128;
	ck_assert_int_eq(r->type, PP_OP_ROUTER);
	ck_assert(r->sigmoid && r->experts == 256 && r->topk == 8);
	ck_assert_double_eq(r->gemm_flops, 2 * s * h * E);
	ck_assert_int_eq(r->params, (int64_t)(h * E + E)); /* gate and score-correction bias */
	ck_assert_int_eq(e->type, PP_OP_EXPERTS);
	ck_assert(e->experts == 256 && e->topk == 8 && e->expert_ffn == 2048);
	/* FLOPs from top-k: 6hf per routed row, s*k rows */
	ck_assert_double_eq(e->gemm_flops, 6 * s * k * h * f);
	ck_assert_double_eq(e->saved_bytes, 2 * s * k * (h + 3 * f));
	ck_assert_int_eq(e->params, (int64_t)(E * 3 * h * f));
	ck_assert_double_eq(c->saved_bytes, 2 * s * k * h);
	/* MLA core: QK^T over 128 + 64, AV over 128 */
	ck_assert_int_eq(m->type, PP_OP_MLA);
	ck_assert_double_eq(m->gemm_flops, 2 * s * s * H * (192 + 128));
	/* 3 dense layers then 58 MoE layers: two classes; one MTP module outside the layers */
	ck_assert_int_eq(g->n_classes, 2);
	ck_assert_int_eq(g->classes[g->layer_class[0]].n_layers, 3);
	ck_assert_int_eq(g->classes[g->layer_class[3]].n_layers, 58);
	ck_assert_int_eq(g->moe_layers, 58);
	ck_assert_int_eq(g->mtp_depth, 1);
	ck_assert_int_eq(g->ops[op_index(g, "l61.moe.experts")].layer, -1);
	ck_assert_int_eq(g->ops[op_index(g, "l61.moe.experts")].mtp, 1);
	/* active: the main model less (E - k)/E of the routed experts' weights */
	ck_assert_int_eq(g->active_params, g->params - g->mtp_params - (int64_t)(58 * (E - k) * 3 * h * f));
	pp_graph_free(g);
}
END_TEST

/* A small MoE graph from the generator, edited, must be refused naming the op. */
static void expect_moe_reject(const char *op, const char *key, cJSON *value, const char *msg_part)
{
	pp_model_spec sp = PP_MODEL_SPEC_INIT;
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	char *text = NULL, *out, want[64];
	cJSON *root, *o;
	int i = 0;
	sp.family = PP_MODEL_LLAMA;
	sp.name = "m";
	sp.layers = 2;
	sp.hidden = 64;
	sp.heads = 4;
	sp.ffn = 128;
	sp.seq = 16;
	sp.vocab = 100;
	sp.moe.experts = 8;
	sp.moe.topk = 2;
	sp.moe.moe_ffn = 32;
	ck_assert_int_eq(pp_model_generate(&sp, &text, &err), 0);
	root = cJSON_Parse(text);
	free(text);
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(root, "ops")) {
		if (!strcmp(cJSON_GetObjectItem(o, "name")->valuestring, op))
			break;
		i++;
	}
	ck_assert_ptr_nonnull(o);
	if (cJSON_GetObjectItem(o, key))
		cJSON_ReplaceItemInObject(o, key, value);
	else
		cJSON_AddItemToObject(o, key, value);
	out = cJSON_Print(root);
	cJSON_Delete(root);
	ck_assert_int_eq(pp_graph_parse("x.json", out, &g, &err), PP_EINVALID);
	ck_assert_ptr_null(g);
	snprintf(want, sizeof(want), "ops[%d]", i);
	ck_assert_msg(!strncmp(err.path, want, strlen(want)), "path %s, want %s (%s)", err.path, want, err.msg);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message \"%s\" lacks \"%s\"", err.msg, msg_part);
	free(out);
}

START_TEST(test_moe_rejections)
{
	const char *swap[] = {"l0.moe.dispatch.out", "l0.moe.experts.w2", "l0.moe.experts.w1"};
	expect_moe_reject("l0.moe.experts", "inputs", cJSON_CreateStringArray(swap, 3),
			  "shapes do not agree for experts");
	expect_moe_reject("l0.moe.experts", "scoring", cJSON_CreateString("sigmoid"), "only router ops");
	expect_moe_reject("l0.moe.router", "scoring", cJSON_CreateString("relu"), "unknown scoring");
	expect_moe_reject("l0.moe.router", "mtp", cJSON_CreateNumber(1), "outside the layers");
	{
		const char *two[] = {"l0.ln2.out", "l0.moe.router.out"};
		expect_moe_reject("l0.moe.combine", "inputs", cJSON_CreateStringArray(two, 2),
				  "shapes do not agree for combine");
	}
}
END_TEST

START_TEST(test_missing_file)
{
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	ck_assert_int_eq(pp_graph_load("data/no-such-file.json", &g, &err), PP_ENOTFOUND);
	ck_assert_str_eq(err.file, "data/no-such-file.json");
}
END_TEST

START_TEST(test_jpath_as_snprintf)
{
	/* the hand-written JSON path builders (issue 13, point 4) write what snprintf's
	 * "%.200s[%d]", "%.200s" and "%.180s.%.60s" write, truncation included */
	static const int iv[] = {0, 7, 10, 99, 12345, 2147483647, -1, -2147483647 - 1};
	char a[PP_JPATH_MAX], b[PP_JPATH_MAX], big[400];
	const char *ps[5], *ks[3];
	int p, i, k;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ps[0] = NULL, ps[1] = "", ps[2] = "tensors", ps[3] = "ops[3].inputs", ps[4] = big;
	ks[0] = "name", ks[1] = big, ks[2] = "";
	for (p = 0; p < 5; p++) {
		for (i = 0; i < 8; i++) {
			pp_jpath_idx(a, ps[p], iv[i]);
			snprintf(b, sizeof(b), "%.200s[%d]", ps[p] ? ps[p] : "", iv[i]);
			ck_assert_str_eq(a, b);
		}
		for (k = 0; k < 3; k++) {
			pp_jpath_key(a, ps[p], ks[k]);
			if (!ps[p] || !ps[p][0])
				snprintf(b, sizeof(b), "%.200s", ks[k]);
			else
				snprintf(b, sizeof(b), "%.180s.%.60s", ps[p], ks[k]);
			ck_assert_str_eq(a, b);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("graph");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_published_parameter_counts);
	tcase_add_test(tc, test_jpath_as_snprintf);
	tcase_add_test(tc, test_gpt_parameter_formula);
	tcase_add_test(tc, test_gpt_flops_per_token);
	tcase_add_test(tc, test_korthikanti_saved_bytes);
	tcase_add_test(tc, test_op_shapes);
	tcase_add_test(tc, test_generator_round_trip);
	tcase_add_test(tc, test_rejections_name_file_and_path);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_moe_ops);
	tcase_add_test(tc, test_moe_rejections);
	tcase_add_test(tc, test_find_by_name);
	tcase_add_test(tc, test_sliding_window_and_head_dim);
	tcase_add_test(tc, test_load_linear_in_layers);
	tcase_add_test(tc, test_load_linear_in_distinct_layers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
