/*
 * model_gen.c - generate parplan-graph/1 graphs of GPT and Llama models.
 *
 * GPT (Radford et al. 2019; Brown et al. 2020; Megatron-LM's GPT): learned positions, pre-LN
 * blocks with biases, GELU MLP of ffn = 4h by default, dropout after attention and MLP, final
 * LayerNorm, LM head tied to the token embedding.  Parameters 12*l*h^2*(1 + 13/(12h) +
 * (V+s)/(12*l*h)) (Narayanan et al. 2021, section 5.1).
 * Llama (Touvron et al. 2023; Llama 3 Herd of Models 2024): RMSNorm, no biases, SwiGLU MLP,
 * grouped-query attention with kv_heads, rotary positions (no parameters), untied LM head.
 * Llama-family models may carry routed experts, multi-head latent attention and multi-token
 * prediction modules (pp_moe_spec: Mixtral, Qwen3-MoE, DeepSeek-V3).
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
	int mtp;        /* > 0: ops are of this multi-token prediction module ("mtp", no "layer") */
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
	if (G->mtp > 0)
		cJSON_AddNumberToObject(o, "mtp", G->mtp);
	else if (layer >= 0)
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
	if (op && s->windows && l < s->layers && s->windows[l] > 0 && s->windows[l] < s->seq)
		cJSON_AddNumberToObject(op, "window", (double)s->windows[l]);
}

/* ---- mixture of experts, MLA, MTP (pp_moe_spec) ------------------------------------------- */

/* RMSNorm over the last dim @width of activation @x: scale [width], output [b, seq, width] */
static void rmsnorm_w(gen *G, int l, const char *base, const char *x, long long width, char *out, size_t n)
{
	char g[96], opn[96];
	const char *ins[2];
	snprintf(g, sizeof(g), "l%d.%s.g", l, base);
	snprintf(out, n, "l%d.%s.out", l, base);
	snprintf(opn, sizeof(opn), "l%d.%s", l, base);
	param(G, g, NULL, width, NULL, 0, 1);
	act3(G, out, NULL, width);
	ins[0] = x;
	ins[1] = g;
	add_op(G, opn, "rmsnorm", l, ins, 2, out);
}

static int moe_layer(const pp_model_spec *s, int l)
{
	const pp_moe_spec *m = &s->moe;
	return m->experts > 0 && (l >= s->layers || (l >= m->first_k_dense && l % (m->layer_freq > 1 ? m->layer_freq : 1) == 0));
}

/*
 * Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, sec. 2.1; DeepSeek-V3 report,
 * arXiv:2412.19437, sec. 2.1.1, eqs. 1-11): Q through a rank-q_lora bottleneck with its RMSNorm
 * (or one projection when q_lora is 0), K and V through the rank-kv_lora latent c_KV with its
 * RMSNorm, one decoupled rotary key of qk_rope dims shared by the heads (Hugging Face's
 * kv_a_proj_with_mqa, here split into kv_a and k_rope: the same weights), the core, and the
 * output projection from heads * v_head.  Writes the output projection's tensor to @proj.
 */
static void mla(gen *G, const pp_model_spec *s, int l, const char *x, char *proj, size_t n)
{
	const pp_moe_spec *m = &s->moe;
	long long H = s->heads, dq = m->qk_nope + m->qk_rope;
	char q[96], qa[96], qn[96], kva[96], kvn[96], kvb[96], kr[96], ctx[96], opn[96];
	const char *ins[3];

	if (m->q_lora) {
		linear(G, l, "attn.q_a", x, "hidden", 0, NULL, m->q_lora, 0);
		snprintf(qa, sizeof(qa), "l%d.attn.q_a.out", l);
		rmsnorm_w(G, l, "attn.q_a_norm", qa, m->q_lora, qn, sizeof(qn));
		linear(G, l, "attn.q_b", qn, NULL, m->q_lora, NULL, H * dq, 0);
		snprintf(q, sizeof(q), "l%d.attn.q_b.out", l);
	} else {
		linear(G, l, "attn.q", x, "hidden", 0, NULL, H * dq, 0);
		snprintf(q, sizeof(q), "l%d.attn.q.out", l);
	}
	linear(G, l, "attn.kv_a", x, "hidden", 0, NULL, m->kv_lora, 0);
	snprintf(kva, sizeof(kva), "l%d.attn.kv_a.out", l);
	rmsnorm_w(G, l, "attn.kv_a_norm", kva, m->kv_lora, kvn, sizeof(kvn));
	linear(G, l, "attn.kv_b", kvn, NULL, m->kv_lora, NULL, H * (m->qk_nope + m->v_head), 0);
	snprintf(kvb, sizeof(kvb), "l%d.attn.kv_b.out", l);
	linear(G, l, "attn.k_rope", x, "hidden", 0, NULL, m->qk_rope, 0);
	snprintf(kr, sizeof(kr), "l%d.attn.k_rope.out", l);
	snprintf(ctx, sizeof(ctx), "l%d.attn.core.out", l);
	act3(G, ctx, NULL, H * m->v_head);
	ins[0] = q;
	ins[1] = kvb;
	ins[2] = kr;
	add_op(G, N(opn, "l%d.attn.core", l), "mla", l, ins, 3, ctx);
	linear(G, l, "attn.proj", ctx, NULL, H * m->v_head, "hidden", 0, 0);
	snprintf(proj, n, "l%d.attn.proj.out", l);
}

/*
 * A mixture-of-experts MLP: router (gate GEMM, scores, top-k), dispatch of each token to its k
 * experts, the E routed SwiGLU experts as one grouped GEMM, the weighted combine, and the shared
 * experts as a dense SwiGLU MLP of width shared_ffn added to it (Mixtral, arXiv:2401.04088,
 * sec. 2.1; DeepSeekMoE, arXiv:2401.06066, sec. 3; DeepSeek-V3 report sec. 2.1.2, eq. 12).
 */
static void moe_mlp(gen *G, const pp_model_spec *s, int l, const char *x, char *out, size_t n)
{
	const pp_moe_spec *m = &s->moe;
	char gw[96], gb[96], route[96], disp[96], w1[96], w2[96], exo[96], comb[96], opn[96];
	char t[96], act[96], sh[96];
	const char *ins[4];
	cJSON *op;

	param(G, N(gw, "l%d.moe.router.w", l), "hidden", 0, "experts", 0, 2);
	if (m->score_bias)
		param(G, N(gb, "l%d.moe.router.bias", l), "experts", 0, NULL, 0, 1);
	{
		const char *d[3] = {"b", "seq", "topk"};
		long long v[3] = {0, 0, 0};
		add_tensor(G, N(route, "l%d.moe.router.out", l), "activation", 3, d, v);
	}
	ins[0] = x;
	ins[1] = gw;
	ins[2] = gb;
	add_op(G, N(opn, "l%d.moe.router", l), "router", l, ins, m->score_bias ? 3 : 2, route);
	op = cJSON_GetArrayItem(G->ops, cJSON_GetArraySize(G->ops) - 1);
	if (op)
		cJSON_AddStringToObject(op, "scoring", m->sigmoid ? "sigmoid" : "softmax");
	{
		const char *d[4] = {"b", "seq", "topk", "hidden"};
		long long v[4] = {0, 0, 0, 0};
		add_tensor(G, N(disp, "l%d.moe.dispatch.out", l), "activation", 4, d, v);
		add_tensor(G, N(exo, "l%d.moe.experts.out", l), "activation", 4, d, v);
	}
	ins[0] = x;
	ins[1] = route;
	add_op(G, N(opn, "l%d.moe.dispatch", l), "dispatch", l, ins, 2, disp);
	{
		const char *d1[3] = {"experts", "hidden", NULL}, *d2[3] = {"experts", "moe_ffn", "hidden"};
		long long v1[3] = {0, 0, 2 * m->moe_ffn}, v2[3] = {0, 0, 0};
		add_tensor(G, N(w1, "l%d.moe.experts.w1", l), "parameter", 3, d1, v1);
		add_tensor(G, N(w2, "l%d.moe.experts.w2", l), "parameter", 3, d2, v2);
	}
	ins[0] = disp;
	ins[1] = w1;
	ins[2] = w2;
	add_op(G, N(opn, "l%d.moe.experts", l), "experts", l, ins, 3, exo);
	act3(G, N(comb, "l%d.moe.combine.out", l), "hidden", 0);
	ins[0] = exo;
	ins[1] = route;
	add_op(G, N(opn, "l%d.moe.combine", l), "combine", l, ins, 2, comb);
	if (!m->shared_ffn) {
		snprintf(out, n, "%s", comb);
		return;
	}
	linear(G, l, "moe.shared.gate_up", x, "hidden", 0, NULL, 2 * m->shared_ffn, 0);
	snprintf(t, sizeof(t), "l%d.moe.shared.gate_up.out", l);
	unary(G, l, "moe.shared.swiglu", "swiglu", t, "shared_ffn", 0, act, sizeof(act));
	linear(G, l, "moe.shared.down", act, "shared_ffn", 0, "hidden", 0, 0);
	snprintf(sh, sizeof(sh), "l%d.moe.shared.down.out", l);
	add2(G, l, "moe.sum", comb, sh, out, n);
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
	if (s->moe.kv_lora > 0) {
		mla(G, s, l, ln1, proj, sizeof(proj));
	} else {
		linear(G, l, "attn.qkv", ln1, "hidden", 0, NULL, qkv, bqkv);
		snprintf(qkvo, sizeof(qkvo), "l%d.attn.qkv.out", l);
		attention(G, s, l, qkvo, hd, ctx, sizeof(ctx));
		linear(G, l, "attn.proj", ctx, q == s->hidden ? "hidden" : NULL, q, "hidden", 0, bout);
		snprintf(proj, sizeof(proj), "l%d.attn.proj.out", l);
	}
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
	} else if (moe_layer(s, l)) {
		moe_mlp(G, s, l, ln2, d2, sizeof(d2));
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

/*
 * Multi-token prediction module @k (DeepSeek-V3 report, sec. 2.2, eqs. 21-23): the shared
 * embedding of the tokens k ahead and the previous depth's hidden state @h, each RMSNorm'ed,
 * concatenated and projected from 2h to h (here two [h, h] halves added: the same weights and
 * FLOPs), one more transformer block (layer number @l, after the main layers), its own final
 * RMSNorm, the shared output head and its own cross-entropy loss.  *hout: the block's output.
 */
static void mtp_module(gen *G, const pp_model_spec *s, int k, int l, const char *h, char *hout, size_t n)
{
	char emb[96], en[96], hn[96], pe[96], ph[96], x[96], fn[96], lg[96], ls[96], opn[96];
	const char *ins[2];

	G->mtp = k;
	act3(G, N(emb, "l%d.mtp.embed.out", l), "hidden", 0);
	ins[0] = "tokens";
	ins[1] = "embed.wte";
	add_op(G, N(opn, "l%d.mtp.embed", l), "embedding", -1, ins, 2, emb);
	norm(G, l, "mtp.enorm", emb, 0, en, sizeof(en));
	norm(G, l, "mtp.hnorm", h, 0, hn, sizeof(hn));
	linear(G, l, "mtp.eh_proj_e", en, "hidden", 0, "hidden", 0, 0);
	linear(G, l, "mtp.eh_proj_h", hn, "hidden", 0, "hidden", 0, 0);
	add2(G, l, "mtp.eh_proj", N(pe, "l%d.mtp.eh_proj_e.out", l), N(ph, "l%d.mtp.eh_proj_h.out", l), x,
	     sizeof(x));
	layer(G, s, l, x, hout, n);
	norm(G, l, "mtp.final_norm", hout, 0, fn, sizeof(fn));
	act3(G, N(lg, "l%d.mtp.logits", l), "vocab", 0);
	ins[0] = fn;
	ins[1] = s->tied_embeddings ? "embed.wte" : "head.w";
	add_op(G, N(opn, "l%d.mtp.head", l), "matmul", -1, ins, 2, lg);
	{
		const char *d[1] = {"b"};
		long long v[1] = {0};
		add_tensor(G, N(ls, "l%d.mtp.loss.out", l), "activation", 1, d, v);
	}
	ins[0] = lg;
	ins[1] = "labels";
	add_op(G, N(opn, "l%d.mtp.loss", l), "loss", -1, ins, 2, ls);
	G->mtp = 0;
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

/* pp_moe_spec's rules; its fields are 0 in a dense model */
static int moe_check(pp_model_spec *s, pp_error *err)
{
	pp_moe_spec *m = &s->moe;
	int gpt = s->family == PP_MODEL_GPT;
	if (m->experts < 0 || m->topk < 0 || m->moe_ffn < 0 || m->shared_ffn < 0 || m->first_k_dense < 0 ||
	    m->layer_freq < 0 || m->q_lora < 0 || m->kv_lora < 0 || m->qk_nope < 0 || m->qk_rope < 0 ||
	    m->v_head < 0 || m->mtp < 0 || m->experts > 65536 || m->moe_ffn > (1 << 24) ||
	    m->shared_ffn > (1 << 26) || m->q_lora > (1 << 20) || m->kv_lora > (1 << 20) ||
	    m->qk_nope > (1 << 16) || m->qk_rope > (1 << 16) || m->v_head > (1 << 16) || m->mtp > 16 ||
	    m->first_k_dense > s->layers || m->layer_freq > s->layers)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "mixture-of-experts settings out of range");
	if (gpt && (m->experts || m->kv_lora || m->mtp))
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "gpt models have Megatron's fixed layer");
	if (m->experts) {
		if (m->topk < 1 || m->topk > m->experts)
			return pp_error_set(err, PP_EINVALID, NULL, "--topk", "top-k must be 1 to %lld experts",
					    (long long)m->experts);
		if (m->moe_ffn < 1)
			return pp_error_set(err, PP_EINVALID, NULL, "--moe-ffn", "routed experts need --moe-ffn");
	} else if (m->topk || m->moe_ffn || m->shared_ffn || m->first_k_dense || m->sigmoid || m->score_bias) {
		return pp_error_set(err, PP_EINVALID, NULL, "--experts", "expert settings need --experts");
	}
	if (m->kv_lora) {
		if (m->qk_rope < 1 || m->v_head < 1)
			return pp_error_set(err, PP_EINVALID, NULL, "--qk-rope-dim",
					    "MLA needs --qk-rope-dim and --v-head-dim");
		int64_t l, win = 0;
		for (l = 0; s->windows && l < s->layers; l++)
			win |= s->windows[l];
		if (win || s->qk_norm)
			return pp_error_set(err, PP_EINVALID, NULL, "--kv-lora-rank",
					    "MLA layers have no sliding window or QK-norm");
	} else if (m->q_lora || m->qk_nope || m->qk_rope || m->v_head) {
		return pp_error_set(err, PP_EINVALID, NULL, "--kv-lora-rank", "MLA settings need --kv-lora-rank");
	}
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
	if ((rc = moe_check(&s, err)) < 0)
		return rc;

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
	if (s.moe.experts) {
		cJSON_AddNumberToObject(dims, "experts", (double)s.moe.experts);
		cJSON_AddNumberToObject(dims, "topk", (double)s.moe.topk);
		cJSON_AddNumberToObject(dims, "moe_ffn", (double)s.moe.moe_ffn);
		if (s.moe.shared_ffn)
			cJSON_AddNumberToObject(dims, "shared_ffn", (double)s.moe.shared_ffn);
	}
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
	for (l = 0; l < s.moe.mtp; l++) {
		mtp_module(&G, &s, l + 1, (int)s.layers + l, x, nx, sizeof(nx));
		memcpy(x, nx, sizeof(x));
	}

	if (G.oom || !(*out = pp_json_print(root)))
		rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
	cJSON_Delete(root);
	return rc;
}
