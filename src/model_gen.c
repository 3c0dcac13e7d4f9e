/*
 * model_gen.c - generate parplan-graph/1 graphs of GPT and Llama models.
 *
 * GPT (Radford et al. 2019; Brown et al. 2020; Megatron-LM's GPT): learned positions, pre-LN
 * blocks with biases, GELU MLP of ffn = 4h by default, dropout after attention and MLP, final
 * LayerNorm, LM head tied to the token embedding.  Parameters 12*l*h^2*(1 + 13/(12h) +
 * (V+s)/(12*l*h)) (Narayanan et al. 2021, section 5.1).
 * Llama (Touvron et al. 2023; Llama 3 Herd of Models 2024): RMSNorm, no biases, SwiGLU MLP,
 * grouped-query attention with kv_heads, rotary positions (no parameters), untied LM head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "graph_int.h"
#include "json_int.h"
#include "parplan/graph.h"
#include "parplan/name.h"

typedef struct gen {
	cJSON *tensors, *ops;
	int oom;
} gen;

/* shape items: a dim name ("b", "seq", ...) or, when NULL, the number in vals[] */
static void add_tensor(gen *G, const char *name, const char *kind, int rank, const char *const *dims,
		       const long long *vals)
{
	cJSON *t = cJSON_CreateObject(), *shape = cJSON_CreateArray();
	int i;
	if (!t || !shape) {
		G->oom = 1;
		cJSON_Delete(t);
		cJSON_Delete(shape);
		return;
	}
	cJSON_AddStringToObject(t, "name", name);
	cJSON_AddStringToObject(t, "kind", kind);
	for (i = 0; i < rank; i++)
		cJSON_AddItemToArray(shape, dims[i] ? cJSON_CreateString(dims[i])
						    : cJSON_CreateNumber((double)vals[i]));
	cJSON_AddItemToObject(t, "shape", shape);
	cJSON_AddItemToArray(G->tensors, t);
}

static void act3(gen *G, const char *name, const char *last, long long n)
{
	const char *d[3] = {"b", "seq", last};
	long long v[3] = {0, 0, n};
	add_tensor(G, name, "activation", 3, d, v);
}

static void param(gen *G, const char *name, const char *d0, long long v0, const char *d1, long long v1,
		  int rank)
{
	const char *d[2] = {d0, d1};
	long long v[2] = {v0, v1};
	add_tensor(G, name, "parameter", rank, d, v);
}

static void add_op(gen *G, const char *name, const char *type, int layer, const char *const *ins,
		   int n_in, const char *out)
{
	cJSON *o = cJSON_CreateObject(), *in = cJSON_CreateArray(), *outs = cJSON_CreateArray();
	int i;
	if (!o || !in || !outs) {
		G->oom = 1;
		cJSON_Delete(o);
		cJSON_Delete(in);
		cJSON_Delete(outs);
		return;
	}
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", type);
	if (layer >= 0)
		cJSON_AddNumberToObject(o, "layer", layer);
	for (i = 0; i < n_in; i++)
		cJSON_AddItemToArray(in, cJSON_CreateString(ins[i]));
	cJSON_AddItemToObject(o, "inputs", in);
	cJSON_AddItemToArray(outs, cJSON_CreateString(out));
	cJSON_AddItemToObject(o, "outputs", outs);
	cJSON_AddItemToArray(G->ops, o);
}

#define N(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

/* A linear layer: weight [in, out] (+ bias [out]) and its matmul op writing [b, seq, out]. */
static void linear(gen *G, int l, const char *base, const char *x, const char *din, long long vin,
		   const char *dout, long long vout, int bias)
{
	char w[96], bb[96], o[96], opn[96];
	const char *ins[3];
	param(G, N(w, "l%d.%s.w", l, base), din, vin, dout, vout, 2);
	if (bias)
		param(G, N(bb, "l%d.%s.bias", l, base), dout, vout, NULL, 0, 1);
	act3(G, N(o, "l%d.%s.out", l, base), dout, vout);
	ins[0] = x;
	ins[1] = w;
	ins[2] = bb;
	add_op(G, N(opn, "l%d.%s", l, base), "matmul", l, ins, bias ? 3 : 2, o);
}

static void norm(gen *G, int l, const char *base, const char *x, int layernorm, char *out, size_t n)
{
	char g[96], b[96], opn[96];
	const char *ins[3];
	if (l >= 0) {
		snprintf(g, sizeof(g), "l%d.%s.g", l, base);
		snprintf(b, sizeof(b), "l%d.%s.b", l, base);
		snprintf(out, n, "l%d.%s.out", l, base);
		snprintf(opn, sizeof(opn), "l%d.%s", l, base);
	} else {
		snprintf(g, sizeof(g), "%s.g", base);
		snprintf(b, sizeof(b), "%s.b", base);
		snprintf(out, n, "%s.out", base);
		snprintf(opn, sizeof(opn), "%s", base);
	}
	param(G, g, "hidden", 0, NULL, 0, 1);
	if (layernorm)
		param(G, b, "hidden", 0, NULL, 0, 1);
	act3(G, out, "hidden", 0);
	ins[0] = x;
	ins[1] = g;
	ins[2] = b;
	add_op(G, opn, layernorm ? "layernorm" : "rmsnorm", l, ins, layernorm ? 3 : 2, out);
}

static void unary(gen *G, int l, const char *base, const char *type, const char *x, const char *last,
		  long long n, char *out, size_t outn)
{
	char opn[96];
	snprintf(out, outn, "l%d.%s.out", l, base);
	snprintf(opn, sizeof(opn), "l%d.%s", l, base);
	act3(G, out, last, n);
	add_op(G, opn, type, l, &x, 1, out);
}

static void add2(gen *G, int l, const char *base, const char *a, const char *b, char *out, size_t n)
{
	char opn[96];
	const char *ins[2] = {a, b};
	snprintf(out, n, "l%d.%s.out", l, base);
	snprintf(opn, sizeof(opn), "l%d.%s", l, base);
	act3(G, out, "hidden", 0);
	add_op(G, opn, "add", l, ins, 2, out);
}

/* the attention core: qkv in, heads * head_dim out; QK-norm scales and a window when given */
static void attention(gen *G, const pp_model_spec *s, int l, const char *qkvo, long long hd, char *ctx,
		      size_t n)
{
	char opn[96], qn[96], kn[96];
	const char *ins[3] = {qkvo, qn, kn};
	long long q = s->heads * hd;
	cJSON *op;

	snprintf(ctx, n, "l%d.attn.core.out", l);
	snprintf(opn, sizeof(opn), "l%d.attn.core", l);
	if (q == s->hidden)
		act3(G, ctx, "hidden", 0);
	else
		act3(G, ctx, NULL, q);
	if (s->qk_norm) {
		param(G, N(qn, "l%d.attn.q_norm.g", l), "head_dim", 0, NULL, 0, 1);
		param(G, N(kn, "l%d.attn.k_norm.g", l), "head_dim", 0, NULL, 0, 1);
	}
	add_op(G, opn, "attention", l, ins, s->qk_norm ? 3 : 1, ctx);
	op = cJSON_GetArrayItem(G->ops, cJSON_GetArraySize(G->ops) - 1);
	if (op && s->windows && s->windows[l] > 0 && s->windows[l] < s->seq)
		cJSON_AddNumberToObject(op, "window", (double)s->windows[l]);
}

static void layer(gen *G, const pp_model_spec *s, int l, const char *x, char *out, size_t outn)
{
	int gpt = s->family == PP_MODEL_GPT;
	long long hd = s->head_dim ? s->head_dim : s->hidden / s->heads;
	long long qkv = (s->heads + 2 * s->kv_heads) * hd, q = s->heads * hd;
	int bqkv = gpt || s->qkv_bias, bout = gpt || s->out_bias, bmlp = gpt || s->mlp_bias;
	char ln1[96], qkvo[96], ctx[96], proj[96], d1[96], r1[96], ln2[96], t[96], act[96], f2[96], d2[96];
	char pn[96];

	norm(G, l, "ln1", x, gpt, ln1, sizeof(ln1));
	linear(G, l, "attn.qkv", ln1, "hidden", 0, NULL, qkv, bqkv);
	snprintf(qkvo, sizeof(qkvo), "l%d.attn.qkv.out", l);
	attention(G, s, l, qkvo, hd, ctx, sizeof(ctx));
	linear(G, l, "attn.proj", ctx, q == s->hidden ? "hidden" : NULL, q, "hidden", 0, bout);
	snprintf(proj, sizeof(proj), "l%d.attn.proj.out", l);
	if (gpt)
		unary(G, l, "attn.drop", "dropout", proj, "hidden", 0, d1, sizeof(d1));
	else if (s->sandwich_norm)
		norm(G, l, "post_attn_norm", proj, 0, d1, sizeof(d1));
	else
		snprintf(d1, sizeof(d1), "%s", proj);
	add2(G, l, "res1", x, d1, r1, sizeof(r1));
	norm(G, l, "ln2", r1, gpt, ln2, sizeof(ln2));
	if (gpt) {
		linear(G, l, "mlp.fc1", ln2, "hidden", 0, "ffn", 0, 1);
		snprintf(t, sizeof(t), "l%d.mlp.fc1.out", l);
		unary(G, l, "mlp.gelu", "gelu", t, "ffn", 0, act, sizeof(act));
		linear(G, l, "mlp.fc2", act, "ffn", 0, "hidden", 0, 1);
		snprintf(f2, sizeof(f2), "l%d.mlp.fc2.out", l);
		unary(G, l, "mlp.drop", "dropout", f2, "hidden", 0, d2, sizeof(d2));
	} else {
		linear(G, l, "mlp.gate_up", ln2, "hidden", 0, NULL, 2 * s->ffn, bmlp);
		snprintf(t, sizeof(t), "l%d.mlp.gate_up.out", l);
		unary(G, l, "mlp.swiglu", "swiglu", t, "ffn", 0, act, sizeof(act));
		linear(G, l, "mlp.down", act, "ffn", 0, "hidden", 0, bmlp);
		if (s->sandwich_norm) {
			snprintf(pn, sizeof(pn), "l%d.mlp.down.out", l);
			norm(G, l, "post_mlp_norm", pn, 0, d2, sizeof(d2));
		} else {
			snprintf(d2, sizeof(d2), "l%d.mlp.down.out", l);
		}
	}
	add2(G, l, "res2", r1, d2, out, outn);
}

/* the graph's "model" object (pp_model_settings; docs/formats.md): the settings, with the
 * biases, norms and tying the spec builds */
static int add_settings(cJSON *root, const pp_model_settings *m, const pp_model_spec *s)
{
	pp_model_settings k = *m;
	cJSON *o;
	k.qkv_bias = s->qkv_bias;
	k.out_bias = s->out_bias;
	k.mlp_bias = s->mlp_bias;
	k.qk_norm = s->qk_norm;
	k.sandwich_norm = s->sandwich_norm;
	if (!(o = pp_model_settings_to_json(&k, s->tied_embeddings)))
		return -1;
	cJSON_AddItemToObject(root, "model", o);
	return 0;
}

int pp_model_generate(const pp_model_spec *spec, char **out, pp_error *err)
{
	pp_model_spec s = *spec;
	cJSON *root = NULL, *dims;
	gen G = {0};
	char x[96], nx[96], lnf[96];
	const char *ins[3];
	int l, gpt, rc = 0;

	*out = NULL;
	if (!s.name || !s.name[0])
		return pp_error_set(err, PP_EINVALID, NULL, "--name", "a model name is required");
	if ((rc = pp_name_check(s.name, NULL, "--name", err)) < 0)
		return rc; /* plans made of this graph carry its name */
	if (s.layers < 1 || s.hidden < 1 || s.heads < 1 || s.seq < 1 || s.vocab < 1)
		return pp_error_set(err, PP_EINVALID, NULL, NULL,
				    "--layers, --hidden, --heads, --seq and --vocab must be positive");
	if (s.layers > 100000 || s.hidden > (1 << 24) || s.seq > (1 << 24) || s.vocab > (1 << 26))
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "model dimensions are too large");
	gpt = s.family == PP_MODEL_GPT;
	if (!s.kv_heads)
		s.kv_heads = s.heads;
	if (!s.ffn) {
		if (!gpt)
			return pp_error_set(err, PP_EINVALID, NULL, "--ffn", "llama models need --ffn");
		s.ffn = 4 * s.hidden;
	}
	if (!gpt && (s.head_dim < 0 || s.head_dim > (1 << 16)))
		return pp_error_set(err, PP_EINVALID, NULL, "--head-dim", "head_dim %lld is out of range",
				    (long long)s.head_dim);
	if (gpt && (s.head_dim || s.qkv_bias || s.out_bias || s.mlp_bias || s.qk_norm || s.sandwich_norm ||
		    s.windows))
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "gpt models have Megatron's fixed layer");
	if (!s.head_dim && s.hidden % s.heads)
		return pp_error_set(err, PP_EINVALID, NULL, "--heads", "%lld heads do not divide hidden %lld",
				    (long long)s.heads, (long long)s.hidden);
	if (s.kv_heads < 1 || s.heads % s.kv_heads)
		return pp_error_set(err, PP_EINVALID, NULL, "--kv-heads",
				    "%lld kv heads do not divide %lld heads", (long long)s.kv_heads,
				    (long long)s.heads);
	if (gpt && s.kv_heads != s.heads)
		return pp_error_set(err, PP_EINVALID, NULL, "--kv-heads", "gpt models have no grouped-query attention");
	if (gpt)
		s.tied_embeddings = 1;
	if (s.qk_norm && !s.head_dim)
		s.head_dim = s.hidden / s.heads; /* the norm scales are [head_dim] */

	root = cJSON_CreateObject();
	dims = cJSON_CreateObject();
	G.tensors = cJSON_CreateArray();
	G.ops = cJSON_CreateArray();
	if (!root || !dims || !G.tensors || !G.ops) {
		cJSON_Delete(root);
		cJSON_Delete(dims);
		cJSON_Delete(G.tensors);
		cJSON_Delete(G.ops);
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	}
	cJSON_AddStringToObject(root, "format", "parplan-graph/1");
	cJSON_AddStringToObject(root, "name", s.name);
	cJSON_AddStringToObject(root, "dtype", "bf16");
	cJSON_AddNumberToObject(dims, "layers", (double)s.layers);
	cJSON_AddNumberToObject(dims, "hidden", (double)s.hidden);
	cJSON_AddNumberToObject(dims, "heads", (double)s.heads);
	if (!gpt)
		cJSON_AddNumberToObject(dims, "kv_heads", (double)s.kv_heads);
	if (s.head_dim)
		cJSON_AddNumberToObject(dims, "head_dim", (double)s.head_dim);
	cJSON_AddNumberToObject(dims, "ffn", (double)s.ffn);
	cJSON_AddNumberToObject(dims, "seq", (double)s.seq);
	cJSON_AddNumberToObject(dims, "vocab", (double)s.vocab);
	cJSON_AddItemToObject(root, "dims", dims);
	if (s.settings && add_settings(root, s.settings, &s) < 0) {
		cJSON_Delete(root);
		cJSON_Delete(G.tensors);
		cJSON_Delete(G.ops);
		return pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	}
	cJSON_AddItemToObject(root, "tensors", G.tensors);
	cJSON_AddItemToObject(root, "ops", G.ops);

	{
		const char *d[2] = {"b", "seq"};
		long long v[2] = {0, 0};
		add_tensor(&G, "tokens", "input", 2, d, v);
		add_tensor(&G, "labels", "input", 2, d, v);
	}
	param(&G, "embed.wte", "vocab", 0, "hidden", 0, 2);
	ins[0] = "tokens";
	ins[1] = "embed.wte";
	if (gpt) {
		param(&G, "embed.wpe", "seq", 0, "hidden", 0, 2);
		ins[2] = "embed.wpe";
	}
	act3(&G, "embed.out", "hidden", 0);
	add_op(&G, "embed", "embedding", -1, ins, gpt ? 3 : 2, "embed.out");
	snprintf(x, sizeof(x), "embed.out");
	if (gpt) {
		act3(&G, "embed.drop.out", "hidden", 0);
		ins[0] = "embed.out";
		add_op(&G, "embed.drop", "dropout", -1, ins, 1, "embed.drop.out");
		snprintf(x, sizeof(x), "embed.drop.out");
	}
	for (l = 0; l < s.layers; l++) {
		layer(&G, &s, l, x, nx, sizeof(nx));
		memcpy(x, nx, sizeof(x));
	}
	norm(&G, -1, "final_norm", x, gpt, lnf, sizeof(lnf));
	act3(&G, "logits", "vocab", 0);
	ins[0] = lnf;
	if (s.tied_embeddings) {
		ins[1] = "embed.wte";
	} else {
		param(&G, "head.w", "hidden", 0, "vocab", 0, 2);
		ins[1] = "head.w";
	}
	add_op(&G, "head", "matmul", -1, ins, 2, "logits");
	{
		const char *d[1] = {"b"};
		long long v[1] = {0};
		add_tensor(&G, "loss.out", "activation", 1, d, v);
	}
	ins[0] = "logits";
	ins[1] = "labels";
	add_op(&G, "loss", "loss", -1, ins, 2, "loss.out");

	if (G.oom || !(*out = pp_json_print(root)))
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	cJSON_Delete(root);
	return rc;
}
