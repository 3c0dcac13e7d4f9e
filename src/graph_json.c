/*
 * graph_json.c - load and check parplan-graph/1 operator graphs.
 *
 * Reading goes in passes: header and dims, tensors (shapes resolved against dims), ops (names
 * resolved, one producer per activation), a topological sort (cycles rejected), the per-type
 * shape rules with FLOPs / bytes / saved activations, and finally the layer classes.
 */
#include "parplan/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_int.h"
#include "json_int.h"
#include "parplan/io.h"

/* Largest element count of one tensor per sample: keeps every product exact in a double. */
#define PP_MAX_ELEMS ((int64_t)1 << 50)

static const char *const op_type_names[PP_OP_TYPE_COUNT] = {
	"embedding", "layernorm", "rmsnorm", "matmul", "attention",
	"gelu",      "swiglu",    "dropout", "add",    "loss",
	"router",    "dispatch",  "experts", "combine", "mla"};

const char *pp_op_type_name(pp_op_type t)
{
	return (unsigned)t < PP_OP_TYPE_COUNT ? op_type_names[t] : "?";
}

/* ---- name lookup: an open-addressing hash from names to indices ------------------------- */

typedef struct name_map {
	const char **keys;
	int *vals;
	size_t cap;
	uint64_t probes;            /* slots looked at, for pp_graph_parse_counted() */
} name_map;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int map_init(name_map *m, size_t n)
{
	m->cap = 16;
	while (m->cap < 2 * n + 1)
		m->cap *= 2;
	m->keys = calloc(m->cap, sizeof(*m->keys));
	m->vals = calloc(m->cap, sizeof(*m->vals));
	return m->keys && m->vals ? 0 : -1;
}

static void map_release(name_map *m)
{
	free(m->keys);
	free(m->vals);
}

/* Returns the existing value for @k, or inserts @v and returns -1. */
static int map_put(name_map *m, const char *k, int v)
{
	size_t i = hash_str(k) & (m->cap - 1);
	for (; m->probes++, m->keys[i]; ) {
		if (strcmp(m->keys[i], k) == 0)
			return m->vals[i];
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = k;
	m->vals[i] = v;
	return -1;
}

static int map_get(name_map *m, const char *k)
{
	size_t i = hash_str(k) & (m->cap - 1);
	for (; m->probes++, m->keys[i]; ) {
		if (strcmp(m->keys[i], k) == 0)
			return m->vals[i];
		i = (i + 1) & (m->cap - 1);
	}
	return -1;
}

/* map_get() without counting, for lookups in a loaded graph */
static int map_find(const name_map *m, const char *k)
{
	size_t i = hash_str(k) & (m->cap - 1);
	for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], k) == 0)
			return m->vals[i];
	return -1;
}

/* Tensor and op names of a loaded graph; the keys are the graph's own name strings. */
struct pp_graph_names {
	name_map tensors, ops;
};

void pp_graph_free(pp_graph *g)
{
	int i;
	if (!g)
		return;
	for (i = 0; i < g->n_tensors; i++)
		free(g->tensors[i].name);
	for (i = 0; i < g->n_ops; i++)
		free(g->ops[i].name);
	for (i = 0; i < g->n_dims; i++)
		free(g->dim_names[i]);
	free(g->dim_names);
	free(g->dim_values);
	free(g->tensors);
	free(g->ops);
	free(g->ops_topo);
	free(g->layer_ops);
	free(g->layer_start);
	free(g->layer_class);
	free(g->classes);
	free(g->pre_ops);
	free(g->post_ops);
	free(g->name);
	free(g->file);
	if (g->names) {
		map_release(&g->names->tensors);
		map_release(&g->names->ops);
		free(g->names);
	}
	free(g);
}

int pp_graph_find_tensor(const pp_graph *g, const char *name)
{
	int i;
	if (g->names && g->names->tensors.cap)
		return map_find(&g->names->tensors, name);
	for (i = 0; i < g->n_tensors; i++)
		if (strcmp(g->tensors[i].name, name) == 0)
			return i;
	return -1;
}

int pp_graph_find_op(const pp_graph *g, const char *name)
{
	int i;
	if (g->names && g->names->ops.cap)
		return map_find(&g->names->ops, name);
	for (i = 0; i < g->n_ops; i++)
		if (strcmp(g->ops[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- reading ----------------------------------------------------------------------------- */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int nomem(const pp_jctx *c)
{
	return pp_error_set(c->err, PP_ENOMEM, c->file, NULL, "out of memory");
}

static int read_dims(const pp_jctx *c, pp_graph *g, const cJSON *dims, name_map *dnames)
{
	const cJSON *d;
	int n = cJSON_GetArraySize(dims), i = 0;

	if (n == 0)
		return pp_json_fail(c, "dims", NULL, "no dims given");
	g->dim_names = calloc((size_t)n, sizeof(char *));
	g->dim_values = calloc((size_t)n, sizeof(int64_t));
	if (!g->dim_names || !g->dim_values || map_init(dnames, (size_t)n) < 0)
		return nomem(c);
	for (d = dims->child; d; d = d->next, i++) {
		char p[PP_JPATH_MAX];
		int64_t v;
		int rc;
		pp_jpath_key(p, "dims", d->string);
		if (strcmp(d->string, "b") == 0)
			return pp_json_fail(c, p, NULL, "\"b\" is the micro-batch and cannot be a dim");
		if (map_get(dnames, d->string) >= 0)
			return pp_json_fail(c, p, NULL, "dim given twice");
		if ((rc = pp_json_as_int(c, d, p, 1, PP_MAX_ELEMS, &v)) < 0)
			return rc;
		if (!(g->dim_names[i] = dup_str(d->string)))
			return nomem(c);
		g->dim_values[i] = v;
		g->n_dims = i + 1;
		map_put(dnames, g->dim_names[i], i);
		if (strcmp(d->string, "layers") == 0)
			g->layers = v;
		else if (strcmp(d->string, "hidden") == 0)
			g->hidden = v;
		else if (strcmp(d->string, "heads") == 0)
			g->heads = v;
		else if (strcmp(d->string, "kv_heads") == 0)
			g->kv_heads = v;
		else if (strcmp(d->string, "ffn") == 0)
			g->ffn = v;
		else if (strcmp(d->string, "seq") == 0)
			g->seq = v;
		else if (strcmp(d->string, "vocab") == 0)
			g->vocab = v;
		else if (strcmp(d->string, "head_dim") == 0)
			g->head_dim = v;
	}
	{
		static const char *const need[] = {"layers", "hidden", "heads", "seq", "vocab"};
		size_t k;
		for (k = 0; k < sizeof(need) / sizeof(need[0]); k++)
			if (map_get(dnames, need[k]) < 0)
				return pp_json_fail(c, "dims", NULL, "missing dim \"%s\"", need[k]);
	}
	if (!g->kv_heads)
		g->kv_heads = g->heads;
	if (!g->head_dim && g->hidden % g->heads)
		return pp_json_fail(c, "dims", "heads", "%lld heads do not divide hidden %lld "
				    "(give dims.head_dim when heads * head_dim is not hidden)",
				    (long long)g->heads, (long long)g->hidden);
	if (!g->head_dim)
		g->head_dim = g->hidden / g->heads;
	if (g->heads % g->kv_heads)
		return pp_json_fail(c, "dims", "kv_heads", "%lld kv heads do not divide %lld heads",
				    (long long)g->kv_heads, (long long)g->heads);
	return 0;
}

static int read_tensor(const pp_jctx *c, pp_graph *g, const cJSON *jt, int idx, name_map *names,
		       name_map *dnames)
{
	static const char *const fields[] = {"name", "kind", "shape", NULL};
	char path[PP_JPATH_MAX], sp[PP_JPATH_MAX], dp[PP_JPATH_MAX];
	pp_tensor *t = &g->tensors[idx];
	const char *name = NULL, *kind = NULL;
	const cJSON *shape, *d;
	int rc, i = 0;

	pp_jpath_idx(path, "tensors", idx);
	if ((rc = pp_json_check_object(c, jt, path, fields)) < 0 ||
	    (rc = pp_json_get_string(c, jt, path, "name", 1, &name)) < 0 ||
	    (rc = pp_json_get_string(c, jt, path, "kind", 1, &kind)) < 0 ||
	    (rc = pp_json_get_array(c, jt, path, "shape", 1, &shape)) < 0)
		return rc;
	if (!(t->name = dup_str(name)))
		return nomem(c);
	t->producer = -1;
	if (map_put(names, t->name, idx) >= 0)
		return pp_json_fail(c, path, "name", "duplicate tensor name \"%.64s\"", name);
	if (strcmp(kind, "parameter") == 0)
		t->kind = PP_TENSOR_PARAMETER;
	else if (strcmp(kind, "activation") == 0)
		t->kind = PP_TENSOR_ACTIVATION;
	else if (strcmp(kind, "input") == 0)
		t->kind = PP_TENSOR_INPUT;
	else
		return pp_json_fail(c, path, "kind",
				    "unknown kind \"%.32s\" (parameter, activation or input)", kind);
	t->rank = cJSON_GetArraySize(shape);
	pp_jpath_key(sp, path, "shape");
	if (t->rank < 1 || t->rank > PP_MAX_RANK)
		return pp_json_fail(c, sp, NULL, "shape must have 1 to %d dimensions, has %d",
				    PP_MAX_RANK, t->rank);
	t->elems = 1;
	for (d = shape->child; d; d = d->next, i++) {
		int64_t v = 0;
		pp_jpath_idx(dp, sp, i);
		if (cJSON_IsString(d)) {
			int found = 0;
			if (strcmp(d->valuestring, "b") == 0) {
				if (t->kind == PP_TENSOR_PARAMETER)
					return pp_json_fail(c, dp, NULL,
							    "a parameter cannot have the micro-batch dimension");
				if (t->batch_mask)
					return pp_json_fail(c, dp, NULL, "\"b\" given twice");
				t->batch_mask |= 1u << i;
				v = 1;
				found = 1;
			}
			if (!found) {
				int j = map_get(dnames, d->valuestring);
				if (j >= 0) {
					v = g->dim_values[j];
					found = 1;
				}
			}
			if (!found)
				return pp_json_fail(c, dp, NULL, "undefined dim \"%.64s\"", d->valuestring);
		} else if ((rc = pp_json_as_int(c, d, dp, 1, PP_MAX_ELEMS, &v)) < 0) {
			return rc;
		}
		t->shape[i] = v;
		if (t->elems > PP_MAX_ELEMS / v)
			return pp_json_fail(c, sp, NULL, "shape has more than 2^50 elements per sample");
		t->elems *= v;
	}
	if (t->kind != PP_TENSOR_PARAMETER && !(t->batch_mask & 1u))
		return pp_json_fail(c, sp, NULL, "the first dimension of an %s must be \"b\"", kind);
	return 0;
}

static int parse_op_type(const char *s)
{
	int i;
	for (i = 0; i < PP_OP_TYPE_COUNT; i++)
		if (strcmp(op_type_names[i], s) == 0)
			return i;
	return -1;
}

static int read_names(const pp_jctx *c, const cJSON *arr, const char *path, name_map *names,
		      int *out, int max, int *n_out)
{
	const cJSON *e;
	char p[PP_JPATH_MAX];
	int i = 0, n = cJSON_GetArraySize(arr);

	if (n < 1 || n > max)
		return pp_json_fail(c, path, NULL, "expected 1 to %d tensor names, got %d", max, n);
	for (e = arr->child; e; e = e->next, i++) {
		int t;
		pp_jpath_idx(p, path, i);
		if (!cJSON_IsString(e))
			return pp_json_fail(c, p, NULL, "expected a tensor name, got %s",
					    pp_json_type_name(e));
		t = map_get(names, e->valuestring);
		if (t < 0)
			return pp_json_fail(c, p, NULL, "unknown tensor \"%.64s\"", e->valuestring);
		out[i] = t;
	}
	*n_out = n;
	return 0;
}

static int read_op(const pp_jctx *c, pp_graph *g, const cJSON *jo, int idx, name_map *tnames,
		   name_map *onames)
{
	static const char *const fields[] = {"name", "type", "inputs", "outputs", "layer", "window",
					     "mtp", "scoring", NULL};
	char path[PP_JPATH_MAX], p[PP_JPATH_MAX];
	pp_op *op = &g->ops[idx];
	const char *name = NULL, *type = NULL, *scoring = NULL;
	const cJSON *ins, *outs;
	int64_t layer = -1, mtp = 0;
	int rc, ty, i;

	pp_jpath_idx(path, "ops", idx);
	if ((rc = pp_json_check_object(c, jo, path, fields)) < 0 ||
	    (rc = pp_json_get_string(c, jo, path, "name", 1, &name)) < 0 ||
	    (rc = pp_json_get_string(c, jo, path, "type", 1, &type)) < 0 ||
	    (rc = pp_json_get_array(c, jo, path, "inputs", 1, &ins)) < 0 ||
	    (rc = pp_json_get_array(c, jo, path, "outputs", 1, &outs)) < 0 ||
	    (rc = pp_json_get_int(c, jo, path, "layer", 0, 0, g->layers - 1, &layer)) < 0 ||
	    (rc = pp_json_get_int(c, jo, path, "window", 0, 1, PP_MAX_ELEMS, &op->window)) < 0 ||
	    (rc = pp_json_get_int(c, jo, path, "mtp", 0, 1, 64, &mtp)) < 0 ||
	    (rc = pp_json_get_string(c, jo, path, "scoring", 0, &scoring)) < 0)
		return rc;
	if (!(op->name = dup_str(name)))
		return nomem(c);
	if (map_put(onames, op->name, idx) >= 0)
		return pp_json_fail(c, path, "name", "duplicate op name \"%.64s\"", name);
	if ((ty = parse_op_type(type)) < 0)
		return pp_json_fail(c, path, "type", "unknown op type \"%.32s\"", type);
	op->type = (pp_op_type)ty;
	op->layer = (int)layer;
	op->mtp = (int)mtp;
	if (mtp && layer >= 0)
		return pp_json_fail(c, path, "mtp", "multi-token prediction ops sit outside the layers (no \"layer\")");
	if (scoring && op->type != PP_OP_ROUTER)
		return pp_json_fail(c, path, "scoring", "only router ops have a scoring function");
	if (scoring && strcmp(scoring, "sigmoid") != 0 && strcmp(scoring, "softmax") != 0)
		return pp_json_fail(c, path, "scoring", "unknown scoring \"%.32s\" (softmax or sigmoid)", scoring);
	op->sigmoid = scoring && strcmp(scoring, "sigmoid") == 0;
	if (op->window && op->type != PP_OP_ATTENTION)
		return pp_json_fail(c, path, "window", "only attention ops have a window");
	pp_jpath_key(p, path, "inputs");
	if ((rc = read_names(c, ins, p, tnames, op->inputs, PP_MAX_OP_INPUTS, &op->n_inputs)) < 0)
		return rc;
	pp_jpath_key(p, path, "outputs");
	if ((rc = read_names(c, outs, p, tnames, op->outputs, 1, &op->n_outputs)) < 0)
		return rc;
	for (i = 0; i < op->n_outputs; i++) {
		pp_tensor *t = &g->tensors[op->outputs[i]];
		char q[PP_JPATH_MAX];
		pp_jpath_idx(q, p, i);
		if (t->kind != PP_TENSOR_ACTIVATION)
			return pp_json_fail(c, q, NULL, "op output \"%.64s\" is not an activation",
					    t->name);
		if (t->producer >= 0)
			return pp_json_fail(c, q, NULL,
					    "tensor \"%.64s\" already produced by op \"%.64s\"",
					    t->name, g->ops[t->producer].name);
		t->producer = idx;
	}
	return 0;
}

/*
 * Kahn's algorithm over consumer lists (each edge visited once: O(ops + edges)); the order is
 * stable: among ready ops the lowest index first, consumers in op order.
 */
static int topo_sort(const pp_jctx *c, pp_graph *g, uint64_t *steps)
{
	int n_ops = g->n_ops, i, j, n = 0, rc = 0, head = 0, tail = 0;
	int *indeg = calloc((size_t)n_ops, sizeof(int));
	int *first = calloc((size_t)n_ops + 1, sizeof(int)); /* consumers of o: cons[first[o]..first[o+1]) */
	int *fill = calloc((size_t)n_ops, sizeof(int));
	int *cons = malloc((size_t)n_ops * PP_MAX_OP_INPUTS * sizeof(int) + 1);
	int *ready = malloc((size_t)n_ops * sizeof(int));

	g->ops_topo = malloc((size_t)n_ops * sizeof(int));
	if (!indeg || !first || !fill || !cons || !ready || !g->ops_topo) {
		rc = nomem(c);
		goto done;
	}
	for (i = 0; i < n_ops; i++)
		for (j = 0; j < g->ops[i].n_inputs; j++) {
			int p = g->tensors[g->ops[i].inputs[j]].producer;
			if (p >= 0) {
				indeg[i]++;
				first[p + 1]++;
			}
		}
	for (i = 0; i < n_ops; i++)
		first[i + 1] += first[i];
	for (i = 0; i < n_ops; i++)
		for (j = 0; j < g->ops[i].n_inputs; j++) {
			int p = g->tensors[g->ops[i].inputs[j]].producer;
			if (p >= 0)
				cons[first[p] + fill[p]++] = i;
		}
	for (i = 0; i < n_ops; i++)
		if (!indeg[i])
			ready[tail++] = i;
	while (head < tail) {
		int o = ready[head++], e;
		g->ops_topo[n++] = o;
		for (e = first[o]; e < first[o + 1]; e++) {
			++*steps;
			if (--indeg[cons[e]] == 0)
				ready[tail++] = cons[e];
		}
	}
	if (n != n_ops) {
		for (i = 0; i < n_ops && !indeg[i]; i++)
			;
		{
			char p[PP_JPATH_MAX];
			pp_jpath_idx(p, "ops", i);
			rc = pp_json_fail(c, p, NULL, "op \"%.64s\" is on a cycle", g->ops[i].name);
		}
	}
done:
	free(indeg);
	free(first);
	free(fill);
	free(cons);
	free(ready);
	return rc;
}

/* ---- per-type shape rules, FLOPs and bytes --------------------------------------------- */

static int same_shape(const pp_tensor *a, const pp_tensor *b)
{
	int i;
	if (a->rank != b->rank || a->batch_mask != b->batch_mask)
		return 0;
	for (i = 0; i < a->rank; i++)
		if (a->shape[i] != b->shape[i])
			return 0;
	return 1;
}

static int64_t last_dim(const pp_tensor *t)
{
	return t->shape[t->rank - 1];
}

/* Sequence length of an activation [b, s, ...] (1 when it has no sequence dimension). */
static int64_t seq_of(const pp_tensor *t)
{
	return t->rank >= 3 ? t->shape[1] : 1;
}

static int check_arity(const pp_jctx *c, const pp_graph *g, int idx, int lo, int hi)
{
	const pp_op *op = &g->ops[idx];
	if (op->n_inputs < lo || op->n_inputs > hi)
	{
		char path[PP_JPATH_MAX];
		pp_jpath_idx(path, "ops", idx);
		return pp_json_fail(c, path, "inputs", "%s takes %d to %d inputs, got %d",
				    pp_op_type_name(op->type), lo, hi, op->n_inputs);
	}
	return 0;
}

static int need_kind(const pp_jctx *c, const pp_graph *g, int idx, int in, pp_tensor_kind k)
{
	const pp_tensor *t = &g->tensors[g->ops[idx].inputs[in]];
	static const char *const kinds[] = {"a parameter", "an activation", "an input"};
	char path[PP_JPATH_MAX], p[PP_JPATH_MAX];
	int ok = k == PP_TENSOR_PARAMETER ? t->kind == PP_TENSOR_PARAMETER
					  : t->kind != PP_TENSOR_PARAMETER;
	if (ok)
		return 0;
	pp_jpath_idx(path, "ops", idx);
	pp_jpath_key(p, path, "inputs");
	pp_jpath_idx(path, p, in);
	return pp_json_fail(c, path, NULL, "\"%.64s\" must be %s for %s", t->name, kinds[k],
			    pp_op_type_name(g->ops[idx].type));
}

static int bad_shape(const pp_jctx *c, const pp_graph *g, int idx, const char *why)
{
	char path[PP_JPATH_MAX];
	pp_jpath_idx(path, "ops", idx);
	return pp_json_fail(c, path, NULL, "shapes do not agree for %s: %s",
			    pp_op_type_name(g->ops[idx].type), why);
}

/* ---- mixture of experts and multi-head latent attention ---------------------------------- */

static int param_at(const pp_jctx *c, const pp_graph *g, int idx, int in, int rank, const pp_tensor **t)
{
	int rc;
	if ((rc = need_kind(c, g, idx, in, PP_TENSOR_PARAMETER)) < 0)
		return rc;
	*t = &g->tensors[g->ops[idx].inputs[in]];
	if ((*t)->rank != rank) {
		char why[96];
		snprintf(why, sizeof(why), "input %d must be a %d-D parameter", in, rank);
		return bad_shape(c, g, idx, why);
	}
	return 0;
}

/*
 * Shape rules and per-sample forward costs of the MoE ops and of MLA's attention core.
 *
 * router   x [b, s, h], gate [h, E], optional score-correction bias [E] -> top-k weights
 *          [b, s, k].  Gate GEMM 2*s*h*E; scoring (softmax or sigmoid, 5 FLOPs a score as the
 *          attention softmax), top-k selection and the renormalisation of the k weights
 *          (DeepSeek-V3 report, arXiv:2412.19437, sec. 2.1.2, eqs. 12-16), and the auxiliary
 *          load-balancing loss, sum_i f_i * P_i over the E experts (Fedus et al. 2022, "Switch
 *          Transformers", eq. 4): 2 FLOPs a score.  Keeps x (for the gate's dW) and the fp32
 *          scores.
 * dispatch x [b, s, h], weights [b, s, k] -> [b, s, k, h]: each token copied to its k experts
 *          (a permutation; the all-to-all under expert parallelism is the cost model's).
 * experts  x [b, s, k, h], W1 [E, h, 2f], W2 [E, f, h] -> [b, s, k, h]: E SwiGLU experts of
 *          width f run as a grouped GEMM over the s*k routed rows; per routed row the dense
 *          SwiGLU MLP's work, 6*h*f GEMM FLOPs + 6f for SwiGLU, and what it keeps for backward:
 *          the expert input (h), the SwiGLU input (2f) and the down projection's input (f)
 *          (Korthikanti et al. 2022, sec. 4.1, applied to k copies of each token).
 * combine  y [b, s, k, h], weights [b, s, k] -> [b, s, h]: the weighted sum of a token's k
 *          expert outputs (2*k*h FLOPs); keeps y for the gradient of the routing weights.
 * mla      q [b, s, H*(dn+dr)], kv [b, s, H*(dn+dv)], k_rope [b, s, dr] -> [b, s, H*dv]: the
 *          attention core of multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, sec.
 *          2.1.2-2.1.3): the decoupled rotary key k_rope is shared by the H heads, QK^T is over
 *          dn + dr per head and AV over dv, 2*s*s*H*(dn+dr) + 2*s*s*H*dv FLOPs (the low-rank Q and
 *          KV projections are matmuls and RMSNorms of the graph).
 */
static int moe_rules(const pp_jctx *c, pp_graph *g, int idx)
{
	pp_op *op = &g->ops[idx];
	const pp_tensor *in = &g->tensors[op->inputs[0]];
	const pp_tensor *out = &g->tensors[op->outputs[0]];
	double eb = pp_dtype_bytes(g->dtype), s = (double)seq_of(in);
	int rc, i;

	if ((rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0)
		return rc;
	switch (op->type) {
	case PP_OP_ROUTER: {
		const pp_tensor *w, *bias;
		int64_t h = last_dim(in), E, k;
		if ((rc = check_arity(c, g, idx, 2, 3)) < 0 || (rc = param_at(c, g, idx, 1, 2, &w)) < 0)
			return rc;
		E = w->shape[1];
		k = last_dim(out);
		if (in->rank != 3 || w->shape[0] != h || out->rank != 3 || out->shape[1] != in->shape[1] ||
		    k > E)
			return bad_shape(c, g, idx, "x [b, s, h] and gate [h, E] give the top-k weights [b, s, k], k <= E");
		if (op->n_inputs == 3) {
			if ((rc = param_at(c, g, idx, 2, 1, &bias)) < 0)
				return rc;
			if (bias->shape[0] != E)
				return bad_shape(c, g, idx, "the score-correction bias must be [E]");
		}
		op->experts = E;
		op->topk = k;
		op->gemm_m = in->elems / h;
		op->gemm_n = E;
		op->gemm_k = h;
		op->gemm_flops = 2.0 * s * (double)h * (double)E;
		op->flops = op->gemm_flops + s * (7.0 * (double)E + 3.0 * (double)k);
		op->act_bytes = eb * (double)(in->elems + out->elems) + 4.0 * s * (double)E;
		op->param_bytes = eb * (double)w->elems;
		op->saved_bytes = eb * (double)in->elems + 4.0 * s * (double)E;
		break;
	}
	case PP_OP_DISPATCH:
	case PP_OP_COMBINE: {
		int disp = op->type == PP_OP_DISPATCH;
		const pp_tensor *tok = disp ? in : out, *rows = disp ? out : in, *wts;
		if ((rc = check_arity(c, g, idx, 2, 2)) < 0 || (rc = need_kind(c, g, idx, 1, PP_TENSOR_ACTIVATION)) < 0)
			return rc;
		wts = &g->tensors[op->inputs[1]];
		if (tok->rank != 3 || rows->rank != 4 || wts->rank != 3 || rows->shape[1] != tok->shape[1] ||
		    wts->shape[1] != tok->shape[1] || rows->shape[2] != last_dim(wts) ||
		    last_dim(rows) != last_dim(tok))
			return bad_shape(c, g, idx, disp ? "x [b, s, h] and weights [b, s, k] give [b, s, k, h]"
							 : "y [b, s, k, h] and weights [b, s, k] give [b, s, h]");
		op->topk = last_dim(wts);
		op->act_bytes = eb * (double)(in->elems + out->elems);
		if (!disp) {
			op->flops = 2.0 * (double)in->elems;
			op->saved_bytes = eb * (double)in->elems;
		}
		break;
	}
	case PP_OP_EXPERTS: {
		const pp_tensor *w1, *w2;
		int64_t h = last_dim(in), E, f, k;
		if ((rc = check_arity(c, g, idx, 3, 3)) < 0 || (rc = param_at(c, g, idx, 1, 3, &w1)) < 0 ||
		    (rc = param_at(c, g, idx, 2, 3, &w2)) < 0)
			return rc;
		E = w1->shape[0];
		f = w2->shape[1];
		if (in->rank != 4 || !same_shape(in, out) || w1->shape[1] != h || w1->shape[2] != 2 * f ||
		    w2->shape[0] != E || w2->shape[2] != h)
			return bad_shape(c, g, idx, "x [b, s, k, h], W1 [E, h, 2f] and W2 [E, f, h] give [b, s, k, h]");
		k = in->shape[2];
		op->experts = E;
		op->topk = k;
		op->expert_ffn = f;
		op->gemm_m = in->elems / h;
		op->gemm_n = f;
		op->gemm_k = h;
		op->gemm_flops = 6.0 * (double)op->gemm_m * (double)h * (double)f;
		op->flops = op->gemm_flops + 6.0 * (double)op->gemm_m * (double)f;
		op->act_bytes = eb * (double)op->gemm_m * (2.0 * (double)h + 6.0 * (double)f);
		op->param_bytes = eb * (double)(w1->elems + w2->elems);
		op->saved_bytes = eb * (double)op->gemm_m * ((double)h + 3.0 * (double)f);
		break;
	}
	case PP_OP_MLA: {
		const pp_tensor *kv, *kr;
		int64_t H = g->heads, dqk, dv, dr, dn;
		double scores;
		if ((rc = check_arity(c, g, idx, 3, 3)) < 0)
			return rc;
		for (i = 1; i < 3; i++)
			if ((rc = need_kind(c, g, idx, i, PP_TENSOR_ACTIVATION)) < 0)
				return rc;
		kv = &g->tensors[op->inputs[1]];
		kr = &g->tensors[op->inputs[2]];
		if (in->rank != 3 || kv->rank != 3 || kr->rank != 3 || out->rank != 3 ||
		    kv->shape[1] != in->shape[1] || kr->shape[1] != in->shape[1] || out->shape[1] != in->shape[1] ||
		    last_dim(in) % H || last_dim(out) % H)
			return bad_shape(c, g, idx, "q [b, s, heads*(dn+dr)], kv [b, s, heads*(dn+dv)] and "
					 "k_rope [b, s, dr] give [b, s, heads*dv]");
		dqk = last_dim(in) / H;
		dv = last_dim(out) / H;
		dr = last_dim(kr);
		dn = dqk - dr;
		if (dn < 0 || last_dim(kv) != H * (dn + dv))
			return bad_shape(c, g, idx, "kv must be [b, s, heads*(dn+dv)] with dn = q's head dim - dr");
		op->gemm_k = dqk;
		op->gemm_n = dv;
		op->gemm_flops = 2.0 * s * s * (double)H * (double)(dqk + dv);
		scores = (double)H * s * s;
		op->flops = op->gemm_flops + 5.0 * scores;
		op->core_flops = op->flops;
		op->act_bytes = eb * (double)(in->elems + kv->elems + kr->elems + out->elems);
		op->score_bytes = (6.0 * eb + 1.0) * scores;
		op->core_saved_bytes = (2.0 * eb + 1.0) * scores;
		op->saved_bytes = eb * (double)(in->elems + kv->elems + kr->elems) + op->core_saved_bytes;
		break;
	}
	default:
		return bad_shape(c, g, idx, "unsupported op type");
	}
	return 0;
}

/*
 * Share of full attention's work that a causal sliding window of @w keys does at sequence @s:
 * query i sees min(i + 1, w) keys (Beltagy et al. 2020, "Longformer", section 3.1; Gemma 2
 * report 2024, section 2.2), against i + 1 for full causal attention, so the ratio of the sums
 * scales the score matrix's FLOPs, traffic and memory.  1 when there is no window.
 */
static double window_share(int64_t s, int64_t w)
{
	double S = (double)s, W = (double)w;
	if (w <= 0 || w >= s)
		return 1.0;
	return (W * (W + 1.0) / 2.0 + (S - W) * W) / (S * (S + 1.0) / 2.0);
}

/*
 * Shape rules and per-sample forward costs of op @idx.  Bytes count activations read and written
 * in the graph's dtype; saved_bytes follow Korthikanti et al. 2022 ("Reducing Activation
 * Recomputation in Large Transformer Models", section 4.1): each op keeps what its backward
 * needs, which for a GPT layer sums to s*b*h*(34 + 5*a*s/h) bytes.
 */
static int op_rules(const pp_jctx *c, pp_graph *g, int idx)
{
	pp_op *op = &g->ops[idx];
	const pp_tensor *in = &g->tensors[op->inputs[0]];
	const pp_tensor *out = &g->tensors[op->outputs[0]];
	double eb = pp_dtype_bytes(g->dtype);
	int rc, i;

	op->act_input = 0;
	switch (op->type) {
	case PP_OP_EMBEDDING: {
		const pp_tensor *tab;
		if ((rc = check_arity(c, g, idx, 2, 3)) < 0 || (rc = need_kind(c, g, idx, 0, PP_TENSOR_INPUT)) < 0)
			return rc;
		for (i = 1; i < op->n_inputs; i++)
			if ((rc = need_kind(c, g, idx, i, PP_TENSOR_PARAMETER)) < 0)
				return rc;
		tab = &g->tensors[op->inputs[1]];
		if (in->rank != 2 || tab->rank != 2 || out->rank != 3 || out->shape[1] != in->shape[1] ||
		    out->shape[2] != tab->shape[1])
			return bad_shape(c, g, idx, "tokens [b, s] and table [vocab, h] give [b, s, h]");
		if (op->n_inputs == 3) {
			const pp_tensor *pos = &g->tensors[op->inputs[2]];
			if (pos->rank != 2 || pos->shape[1] != tab->shape[1] || pos->shape[0] < in->shape[1])
				return bad_shape(c, g, idx, "positions must be [>= s, h]");
		}
		/* a gather: read one row per token (and a position row), write the output */
		op->act_bytes = eb * (double)out->elems * (op->n_inputs == 3 ? 3 : 2);
		op->flops = op->n_inputs == 3 ? (double)out->elems : 0;
		break;
	}
	case PP_OP_LAYERNORM:
	case PP_OP_RMSNORM: {
		int np = op->type == PP_OP_LAYERNORM ? 2 : 1;
		if ((rc = check_arity(c, g, idx, 1 + np, 1 + np)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0)
			return rc;
		for (i = 1; i <= np; i++) {
			const pp_tensor *w = &g->tensors[op->inputs[i]];
			if ((rc = need_kind(c, g, idx, i, PP_TENSOR_PARAMETER)) < 0)
				return rc;
			if (w->rank != 1 || w->shape[0] != last_dim(in))
				return bad_shape(c, g, idx, "scale and bias must be [h] of the input's last dim");
		}
		if (!same_shape(in, out))
			return bad_shape(c, g, idx, "output must have the input's shape");
		op->flops = (op->type == PP_OP_LAYERNORM ? 8.0 : 5.0) * (double)in->elems;
		op->act_bytes = eb * 2.0 * (double)in->elems;
		op->saved_bytes = eb * (double)in->elems;
		break;
	}
	case PP_OP_MATMUL: {
		const pp_tensor *w;
		int64_t k = last_dim(in), n;
		if ((rc = check_arity(c, g, idx, 2, 3)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0 ||
		    (rc = need_kind(c, g, idx, 1, PP_TENSOR_PARAMETER)) < 0)
			return rc;
		w = &g->tensors[op->inputs[1]];
		if (w->rank != 2)
			return bad_shape(c, g, idx, "weight must be 2-D");
		n = last_dim(out);
		if (w->shape[0] == k && w->shape[1] == n) {
			op->weight_transposed = 0;
		} else if (w->shape[1] == k && w->shape[0] == n) {
			op->weight_transposed = 1;
		} else {
			char why[160];
			snprintf(why, sizeof(why), "inner dimensions %lld (input) and weight [%lld, %lld] "
				 "with %lld outputs", (long long)k, (long long)w->shape[0],
				 (long long)w->shape[1], (long long)n);
			return bad_shape(c, g, idx, why);
		}
		if (in->rank != out->rank || in->batch_mask != out->batch_mask)
			return bad_shape(c, g, idx, "output must keep the input's leading dimensions");
		for (i = 0; i + 1 < in->rank; i++)
			if (in->shape[i] != out->shape[i])
				return bad_shape(c, g, idx, "output must keep the input's leading dimensions");
		if (op->n_inputs == 3) {
			const pp_tensor *bias = &g->tensors[op->inputs[2]];
			if ((rc = need_kind(c, g, idx, 2, PP_TENSOR_PARAMETER)) < 0)
				return rc;
			if (bias->rank != 1 || bias->shape[0] != n)
				return bad_shape(c, g, idx, "bias must be [n]");
		}
		op->gemm_m = in->elems / k;
		op->gemm_n = n;
		op->gemm_k = k;
		op->gemm_flops = 2.0 * (double)op->gemm_m * (double)n * (double)k;
		op->flops = op->gemm_flops + (op->n_inputs == 3 ? (double)out->elems : 0);
		op->act_bytes = eb * (double)(in->elems + out->elems);
		op->param_bytes = eb * (double)w->elems;
		op->saved_bytes = eb * (double)in->elems; /* X for dW = X^T dY */
		break;
	}
	case PP_OP_ATTENTION: {
		int64_t hd = g->head_dim, h = g->heads * hd, s = seq_of(in);
		int64_t want = h + 2 * g->kv_heads * hd;
		double scores, r = window_share(s, op->window);
		if ((rc = check_arity(c, g, idx, 1, 3)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0)
			return rc;
		if (in->rank != 3 || last_dim(in) != want) {
			char why[160];
			snprintf(why, sizeof(why), "input must be [b, s, %lld] ((heads + 2*kv_heads) * head_dim "
				 "%lld)", (long long)want, (long long)hd);
			return bad_shape(c, g, idx, why);
		}
		if (out->rank != 3 || out->shape[1] != s || last_dim(out) != h)
			return bad_shape(c, g, idx, "output must be [b, s, heads * head_dim]");
		/* optional QK-norm scales, one [head_dim] each for q and k (Qwen3, Gemma 3) */
		for (i = 1; i < op->n_inputs; i++) {
			const pp_tensor *w = &g->tensors[op->inputs[i]];
			if ((rc = need_kind(c, g, idx, i, PP_TENSOR_PARAMETER)) < 0)
				return rc;
			if (w->rank != 1 || w->shape[0] != hd)
				return bad_shape(c, g, idx, "q and k norm scales must be [head_dim]");
		}
		/* QK^T and softmax(.)V, each 2*s*s*h per sample (Narayanan et al. 2021, eq. 2); a
		 * sliding window does the share r of that work (window_share) */
		op->gemm_flops = 4.0 * (double)s * (double)s * (double)h * r;
		scores = (double)g->heads * (double)s * (double)s * r;
		op->flops = op->gemm_flops + 5.0 * scores; /* scale, mask, softmax */
		op->core_flops = op->flops;
		if (op->n_inputs > 1) /* RMSNorm of q and k (5 FLOPs an element, as rmsnorm) */
			op->flops += 5.0 * (double)((g->heads + g->kv_heads) * hd * s);
		op->act_bytes = eb * (double)(in->elems + out->elems);
		/* score traffic: QK^T writes, fused scale-mask-softmax reads and writes, dropout reads,
		 * writes and writes its 1-byte mask, AV reads: 2+4+4+1+2 bytes per score (fp16/bf16). */
		op->score_bytes = (6.0 * eb + 1.0) * scores;
		/* Q, K, V (2 bytes each element of the qkv input), softmax output 2as^2, dropout mask
		 * as^2, dropout output 2as^2: the 5as^2 term is the attention core. */
		op->core_saved_bytes = (2.0 * eb + 1.0) * scores;
		op->saved_bytes = eb * (double)in->elems + op->core_saved_bytes;
		break;
	}
	case PP_OP_GELU:
	case PP_OP_DROPOUT:
		if ((rc = check_arity(c, g, idx, 1, 1)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0)
			return rc;
		if (!same_shape(in, out))
			return bad_shape(c, g, idx, "output must have the input's shape");
		op->flops = (op->type == PP_OP_GELU ? 8.0 : 2.0) * (double)in->elems;
		op->act_bytes = eb * 2.0 * (double)in->elems + (op->type == PP_OP_DROPOUT ? (double)in->elems : 0);
		/* GELU keeps its input; dropout keeps a 1-byte mask */
		op->saved_bytes = op->type == PP_OP_GELU ? eb * (double)in->elems : (double)in->elems;
		break;
	case PP_OP_SWIGLU:
		if ((rc = check_arity(c, g, idx, 1, 1)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0)
			return rc;
		if (in->rank != out->rank || last_dim(in) != 2 * last_dim(out) ||
		    in->elems != 2 * out->elems)
			return bad_shape(c, g, idx, "input [.., 2f] gives output [.., f]");
		op->flops = 6.0 * (double)out->elems;
		op->act_bytes = eb * (double)(in->elems + out->elems);
		op->saved_bytes = eb * (double)in->elems;
		break;
	case PP_OP_ADD:
		if ((rc = check_arity(c, g, idx, 2, 2)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0 ||
		    (rc = need_kind(c, g, idx, 1, PP_TENSOR_ACTIVATION)) < 0)
			return rc;
		if (!same_shape(in, &g->tensors[op->inputs[1]]) || !same_shape(in, out))
			return bad_shape(c, g, idx, "operands and output must have one shape");
		op->flops = (double)in->elems;
		op->act_bytes = eb * 3.0 * (double)in->elems;
		break;
	case PP_OP_LOSS: {
		const pp_tensor *lab;
		if ((rc = check_arity(c, g, idx, 2, 2)) < 0 ||
		    (rc = need_kind(c, g, idx, 0, PP_TENSOR_ACTIVATION)) < 0 ||
		    (rc = need_kind(c, g, idx, 1, PP_TENSOR_INPUT)) < 0)
			return rc;
		lab = &g->tensors[op->inputs[1]];
		if (in->rank != 3 || lab->rank != 2 || lab->shape[1] != in->shape[1])
			return bad_shape(c, g, idx, "logits [b, s, vocab] and labels [b, s]");
		if (out->rank != 1)
			return bad_shape(c, g, idx, "output must be [b]");
		op->flops = 5.0 * (double)in->elems;
		/* softmax cross-entropy reads the logits and keeps them in fp32 (Korthikanti 4sbv) */
		op->act_bytes = eb * (double)in->elems + 4.0 * (double)in->elems;
		op->saved_bytes = 4.0 * (double)in->elems;
		break;
	}
	case PP_OP_ROUTER:
	case PP_OP_DISPATCH:
	case PP_OP_EXPERTS:
	case PP_OP_COMBINE:
	case PP_OP_MLA:
		if ((rc = moe_rules(c, g, idx)) < 0)
			return rc;
		break;
	default:
		return bad_shape(c, g, idx, "unsupported op type");
	}
	/* the first op to read a parameter owns its elements */
	for (i = 0; i < op->n_inputs; i++) {
		pp_tensor *t = &g->tensors[op->inputs[i]];
		if (t->kind == PP_TENSOR_PARAMETER && t->producer == -1) {
			op->params += t->elems;
			t->producer = -2; /* counted */
		}
	}
	return 0;
}

/* ---- layers and classes ------------------------------------------------------------------ */

/*
 * Two layers are identical when their ops, in order, have the same types and shapes and read
 * their inputs from the same places: a parameter of the same shape, the output of the op at the
 * same position in the layer, or the same position of the previous layer's outputs.  @pos gives
 * each layer op's position in its layer.  O(ops of the layer).
 */
static int same_layer(const pp_graph *g, const int *pos, int la, int lb, uint64_t *steps)
{
	int na = g->layer_start[la + 1] - g->layer_start[la];
	int nb = g->layer_start[lb + 1] - g->layer_start[lb];
	int i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		const pp_op *a = &g->ops[g->layer_ops[g->layer_start[la] + i]];
		const pp_op *b = &g->ops[g->layer_ops[g->layer_start[lb] + i]];
		++*steps;
		if (a->type != b->type || a->n_inputs != b->n_inputs || a->window != b->window ||
		    !same_shape(&g->tensors[a->outputs[0]], &g->tensors[b->outputs[0]]))
			return 0;
		for (j = 0; j < a->n_inputs; j++) {
			const pp_tensor *ta = &g->tensors[a->inputs[j]], *tb = &g->tensors[b->inputs[j]];
			int pa = ta->producer, pb = tb->producer;
			if ((ta->kind == PP_TENSOR_PARAMETER) != (tb->kind == PP_TENSOR_PARAMETER) ||
			    !same_shape(ta, tb))
				return 0;
			if (ta->kind != PP_TENSOR_PARAMETER) {
				/* an activation from outside the layer and a graph input are alike */
				int ina = pa >= 0 && g->ops[pa].layer == la, inb = pb >= 0 && g->ops[pb].layer == lb;
				if (ina != inb || (ina && pos[pa] != pos[pb]))
					return 0;
			}
		}
	}
	return 1;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t shape_hash(uint64_t h, const pp_tensor *t)
{
	int i;
	h = mix(mix(h, (uint64_t)t->rank), t->batch_mask);
	for (i = 0; i < t->rank; i++)
		h = mix(h, (uint64_t)t->shape[i]);
	return h;
}

/* A hash of exactly what same_layer() compares: identical layers hash alike. */
static uint64_t layer_hash(const pp_graph *g, const int *pos, int l, uint64_t *steps)
{
	int n = g->layer_start[l + 1] - g->layer_start[l], i, j;
	uint64_t h = mix(0, (uint64_t)n);

	for (i = 0; i < n; i++) {
		const pp_op *a = &g->ops[g->layer_ops[g->layer_start[l] + i]];
		++*steps;
		h = shape_hash(mix(mix(mix(h, (uint64_t)a->type), (uint64_t)a->n_inputs), (uint64_t)a->window),
			       &g->tensors[a->outputs[0]]);
		for (j = 0; j < a->n_inputs; j++) {
			const pp_tensor *t = &g->tensors[a->inputs[j]];
			int p = t->producer;
			h = shape_hash(mix(h, t->kind == PP_TENSOR_PARAMETER), t);
			if (t->kind != PP_TENSOR_PARAMETER)
				h = mix(h, p >= 0 && g->ops[p].layer == l ? (uint64_t)pos[p] + 1 : 0);
		}
	}
	return h;
}

/*
 * Layer l joins the class of the first earlier layer identical to it, or opens a new class.
 * Classes are indexed by layer_hash(), so each layer is compared only with the classes of its
 * hash (as a rule the one it belongs to): O(ops) in all, whatever the number of classes.
 */
static int find_classes(const pp_graph *g, const int *pos, uint64_t *steps)
{
	size_t cap = 16, i;
	uint64_t *keys;
	int *cls, l, n = 0;

	while (cap < 2 * (size_t)g->n_layers + 1)
		cap *= 2;
	keys = malloc(cap * sizeof(*keys));
	cls = malloc(cap * sizeof(*cls));
	if (!keys || !cls) {
		free(keys);
		free(cls);
		return -1;
	}
	for (i = 0; i < cap; i++)
		cls[i] = -1;
	for (l = 0; l < g->n_layers; l++) {
		uint64_t h = layer_hash(g, pos, l, steps);
		int k = -1;
		for (i = h & (cap - 1); cls[i] >= 0; i = (i + 1) & (cap - 1)) {
			++*steps;
			if (keys[i] == h && same_layer(g, pos, g->classes[cls[i]].first_layer, l, steps)) {
				k = cls[i];
				break;
			}
		}
		if (k < 0) {
			k = n++;
			keys[i] = h;
			cls[i] = k;
			g->classes[k].first_layer = l;
			g->classes[k].ops_per_layer = g->layer_start[l + 1] - g->layer_start[l];
		}
		g->classes[k].n_layers++;
		g->layer_class[l] = k;
	}
	free(keys);
	free(cls);
	return n;
}

static int build_layers(const pp_jctx *c, pp_graph *g, uint64_t *steps)
{
	int i, l;
	int *pos = NULL, *post_mark = NULL;

	g->n_layers = (int)g->layers;
	g->layer_start = calloc((size_t)g->n_layers + 1, sizeof(int));
	g->layer_ops = malloc((size_t)g->n_ops * sizeof(int) + 1);
	g->layer_class = calloc((size_t)g->n_layers, sizeof(int));
	g->classes = calloc((size_t)g->n_layers, sizeof(pp_layer_class));
	g->pre_ops = malloc((size_t)g->n_ops * sizeof(int) + 1);
	g->post_ops = malloc((size_t)g->n_ops * sizeof(int) + 1);
	/* pos: ops placed so far per layer, then each op's position in its layer */
	pos = calloc((size_t)g->n_layers + (size_t)g->n_ops + 1, sizeof(int));
	post_mark = calloc((size_t)g->n_ops, sizeof(int));
	if (!g->layer_start || !g->layer_ops || !g->layer_class || !g->classes || !g->pre_ops ||
	    !g->post_ops || !pos || !post_mark) {
		free(pos);
		free(post_mark);
		return nomem(c);
	}
	for (i = 0; i < g->n_ops; i++)
		if (g->ops[i].layer >= 0)
			g->layer_start[g->ops[i].layer + 1]++;
	for (l = 0; l < g->n_layers; l++) {
		if (g->layer_start[l + 1] == 0) {
			free(pos);
			free(post_mark);
			return pp_json_fail(c, "dims", "layers", "dims.layers is %lld but layer %d has no ops",
					    (long long)g->layers, l);
		}
		g->layer_start[l + 1] += g->layer_start[l];
	}
	/* layer ops in execution order */
	for (i = 0; i < g->n_ops; i++) {
		int o = g->ops_topo[i], ly = g->ops[o].layer;
		if (ly >= 0) {
			pos[g->n_layers + o] = pos[ly];
			g->layer_ops[g->layer_start[ly] + pos[ly]++] = o;
		}
	}
	/* an op outside the layers is "post" when it depends on a layer or a post op */
	for (i = 0; i < g->n_ops; i++) {
		int o = g->ops_topo[i], j;
		if (g->ops[o].layer >= 0) {
			post_mark[o] = 1;
			continue;
		}
		for (j = 0; j < g->ops[o].n_inputs; j++) {
			int p = g->tensors[g->ops[o].inputs[j]].producer;
			if (p >= 0 && post_mark[p])
				post_mark[o] = 1;
		}
		if (post_mark[o])
			g->post_ops[g->n_post++] = o;
		else
			g->pre_ops[g->n_pre++] = o;
	}
	g->n_classes = find_classes(g, pos + g->n_layers, steps);
	free(pos);
	free(post_mark);
	if (g->n_classes < 0) {
		g->n_classes = 0;
		return nomem(c);
	}
	for (i = 0; i < g->n_ops; i++) {
		const pp_op *op = &g->ops[i];
		if (op->layer >= 0 && op->layer == g->classes[g->layer_class[op->layer]].first_layer)
			g->classes[g->layer_class[op->layer]].params += (double)op->params;
	}
	return 0;
}

/*
 * Parameters a token uses (active) and those of the multi-token prediction modules.  A tensor
 * read by an op of the main model is the main model's (MTP modules share the embedding and the
 * head: DeepSeek-V3 report, sec. 2.2); a routed-experts op's weights count k/E active, the rest
 * whole: the convention of the published counts (Mixtral 8x7B: 46.7B total, 12.9B active).
 */
static int count_active(const pp_jctx *c, pp_graph *g)
{
	unsigned char *seen = calloc((size_t)g->n_tensors, 1);
	double active = 0;
	int pass, i, j, *moe_layer_seen = NULL;

	if (!seen)
		return nomem(c);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < g->n_ops; i++) {
			const pp_op *op = &g->ops[i];
			if ((op->mtp > 0) != pass)
				continue;
			if (pass && op->mtp > g->mtp_depth)
				g->mtp_depth = op->mtp;
			for (j = 0; j < op->n_inputs; j++) {
				const pp_tensor *t = &g->tensors[op->inputs[j]];
				if (t->kind != PP_TENSOR_PARAMETER || seen[op->inputs[j]])
					continue;
				seen[op->inputs[j]] = 1;
				if (pass)
					g->mtp_params += t->elems;
				else if (op->type == PP_OP_EXPERTS)
					active += (double)t->elems * (double)op->topk / (double)op->experts;
				else
					active += (double)t->elems;
			}
		}
	g->active_params = (int64_t)(active + 0.5);
	free(seen);
	for (i = 0; i < g->n_ops; i++) {
		const pp_op *op = &g->ops[i];
		if (op->type != PP_OP_EXPERTS)
			continue;
		g->expert_params += op->params;
		if (!g->experts) {
			g->experts = op->experts;
			g->topk = op->topk;
			g->expert_ffn = op->expert_ffn;
		}
		if (op->layer >= 0) {
			if (!moe_layer_seen && !(moe_layer_seen = calloc((size_t)g->layers, sizeof(int))))
				return nomem(c);
			if (!moe_layer_seen[op->layer]++)
				g->moe_layers++;
		}
	}
	free(moe_layer_seen);
	return 0;
}

static int get_str_buf(const pp_jctx *c, const cJSON *o, const char *P, const char *key,
		       char *dst, size_t n)
{
	const char *v = NULL;
	int rc;
	if ((rc = pp_json_get_string(c, o, P, key, 0, &v)) < 0)
		return rc;
	if (v && strlen(v) >= n)
		return pp_json_fail(c, P, key, "longer than %zu characters", n - 1);
	if (v)
		memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int pp_model_settings_read(const pp_jctx *c, const cJSON *o, const char *P, pp_model_settings *m,
			   int *tied_out)
{
	static const char *const fields[] = {
		"architecture", "activation", "norm", "norm_eps", "position", "rope_theta",
		"rope_local_theta", "rope_scaling", "max_positions", "qkv_bias", "out_bias", "mlp_bias",
		"qk_norm", "sandwich_norm", "embed_scale", "tied_embeddings", "sliding_window",
		"attn_softcap", "final_softcap", "query_pre_attn_scalar", "source", NULL};
	static const char *const rfields[] = {"type", "factor", "low_freq_factor", "high_freq_factor",
					      "original_max_positions", NULL};
	const cJSON *rs = NULL;
	const char *src = NULL;
	char R[64];
	int rc;

	snprintf(R, sizeof(R), "%s.rope_scaling", P);
	if ((rc = pp_json_check_object(c, o, P, fields)) < 0 ||
	    (rc = get_str_buf(c, o, P, "architecture", m->architecture, sizeof(m->architecture))) < 0 ||
	    (rc = get_str_buf(c, o, P, "activation", m->activation, sizeof(m->activation))) < 0 ||
	    (rc = get_str_buf(c, o, P, "norm", m->norm, sizeof(m->norm))) < 0 ||
	    (rc = get_str_buf(c, o, P, "position", m->position, sizeof(m->position))) < 0 ||
	    (rc = pp_json_get_string(c, o, P, "source", 0, &src)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "norm_eps", 0, 0, 1, &m->norm_eps)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "rope_theta", 0, 0, 1e12, &m->rope_theta)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "rope_local_theta", 0, 0, 1e12, &m->rope_local_theta)) < 0 ||
	    (rc = pp_json_get_int(c, o, P, "max_positions", 0, 1, PP_MAX_ELEMS, &m->max_positions)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "qkv_bias", 0, &m->qkv_bias)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "out_bias", 0, &m->out_bias)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "mlp_bias", 0, &m->mlp_bias)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "qk_norm", 0, &m->qk_norm)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "sandwich_norm", 0, &m->sandwich_norm)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "embed_scale", 0, &m->embed_scale)) < 0 ||
	    (rc = pp_json_get_bool(c, o, P, "tied_embeddings", 0, tied_out)) < 0 ||
	    (rc = pp_json_get_int(c, o, P, "sliding_window", 0, 1, PP_MAX_ELEMS, &m->sliding_window)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "attn_softcap", 0, 0, 1e9, &m->attn_softcap)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "final_softcap", 0, 0, 1e9, &m->final_softcap)) < 0 ||
	    (rc = pp_json_get_number(c, o, P, "query_pre_attn_scalar", 0, 0, 1e9,
				     &m->query_pre_attn_scalar)) < 0 ||
	    (rc = pp_json_get_object(c, o, P, "rope_scaling", 0, &rs)) < 0)
		return rc;
	if (rs) {
		const char *ty = NULL;
		if ((rc = pp_json_check_object(c, rs, R, rfields)) < 0 ||
		    (rc = pp_json_get_string(c, rs, R, "type", 1, &ty)) < 0 ||
		    (rc = pp_json_get_number(c, rs, R, "factor", 0, 0, 1e6, &m->rope_factor)) < 0 ||
		    (rc = pp_json_get_number(c, rs, R, "low_freq_factor", 0, 0, 1e6,
					     &m->rope_low_freq_factor)) < 0 ||
		    (rc = pp_json_get_number(c, rs, R, "high_freq_factor", 0, 0, 1e6,
					     &m->rope_high_freq_factor)) < 0 ||
		    (rc = pp_json_get_int(c, rs, R, "original_max_positions", 0, 1,
					  PP_MAX_ELEMS, &m->rope_original_max_positions)) < 0)
			return rc;
		if (strlen(ty) >= sizeof(m->rope_scaling))
			return pp_json_fail(c, R, "type", "unknown rope scaling \"%.32s\"", ty);
		memcpy(m->rope_scaling, ty, strlen(ty) + 1);
	}
	(void)src; /* where the settings came from (the config file), for people */
	return 0;
}

static void add_setting_num(cJSON *o, const char *k, double v)
{
	if (v > 0)
		cJSON_AddNumberToObject(o, k, v);
}

static void add_setting_str(cJSON *o, const char *k, const char *v)
{
	if (v && v[0])
		cJSON_AddStringToObject(o, k, v);
}

cJSON *pp_model_settings_to_json(const pp_model_settings *m, int tied)
{
	cJSON *o = cJSON_CreateObject(), *rs;
	if (!o)
		return NULL;
	add_setting_str(o, "architecture", m->architecture);
	add_setting_str(o, "activation", m->activation);
	add_setting_str(o, "norm", m->norm);
	add_setting_num(o, "norm_eps", m->norm_eps);
	add_setting_str(o, "position", m->position);
	add_setting_num(o, "rope_theta", m->rope_theta);
	add_setting_num(o, "rope_local_theta", m->rope_local_theta);
	if (m->rope_scaling[0] && (rs = cJSON_AddObjectToObject(o, "rope_scaling"))) {
		add_setting_str(rs, "type", m->rope_scaling);
		add_setting_num(rs, "factor", m->rope_factor);
		add_setting_num(rs, "low_freq_factor", m->rope_low_freq_factor);
		add_setting_num(rs, "high_freq_factor", m->rope_high_freq_factor);
		add_setting_num(rs, "original_max_positions", (double)m->rope_original_max_positions);
	}
	add_setting_num(o, "max_positions", (double)m->max_positions);
	cJSON_AddBoolToObject(o, "tied_embeddings", tied);
	cJSON_AddBoolToObject(o, "qkv_bias", m->qkv_bias);
	cJSON_AddBoolToObject(o, "out_bias", m->out_bias);
	cJSON_AddBoolToObject(o, "mlp_bias", m->mlp_bias);
	cJSON_AddBoolToObject(o, "qk_norm", m->qk_norm);
	cJSON_AddBoolToObject(o, "sandwich_norm", m->sandwich_norm);
	cJSON_AddBoolToObject(o, "embed_scale", m->embed_scale);
	add_setting_num(o, "sliding_window", (double)m->sliding_window);
	add_setting_num(o, "attn_softcap", m->attn_softcap);
	add_setting_num(o, "final_softcap", m->final_softcap);
	add_setting_num(o, "query_pre_attn_scalar", m->query_pre_attn_scalar);
	return o;
}

/* The optional "model" object: settings a launcher needs (pp_model_settings, docs/formats.md). */
static int read_model(const pp_jctx *c, const cJSON *o, pp_graph *g, int *tied_out)
{
	int rc;
	if ((rc = pp_model_settings_read(c, o, "model", &g->model, tied_out)) < 0)
		return rc;
	g->has_model = 1;
	return 0;
}

static int parse_root(const pp_jctx *c, const cJSON *root, pp_graph *g, uint64_t *steps)
{
	static const char *const fields[] = {"format", "name", "dtype", "dims", "tensors", "ops",
					     "description", "model", NULL};
	const cJSON *model = NULL;
	int model_tied = -1;
	const char *format = NULL, *name = NULL, *dtype = "bf16", *desc = NULL;
	const cJSON *dims, *tensors, *ops, *e;
	name_map dnames = {0}, *tnames = NULL, *onames = NULL;
	int rc, i, dt, n_tensors, n_ops;
	double tokens;

	if ((rc = pp_json_check_object(c, root, "", fields)) < 0 ||
	    (rc = pp_json_get_string(c, root, "", "format", 1, &format)) < 0)
		return rc;
	if (strcmp(format, "parplan-graph/1") != 0)
		return pp_json_fail(c, "format", NULL, "unsupported format \"%.64s\", expected \"parplan-graph/1\"",
				    format);
	if ((rc = pp_json_get_string(c, root, "", "name", 1, &name)) < 0 ||
	    (rc = pp_json_get_string(c, root, "", "description", 0, &desc)) < 0 ||
	    (rc = pp_json_get_string(c, root, "", "dtype", 0, &dtype)) < 0 ||
	    (rc = pp_json_get_object(c, root, "", "dims", 1, &dims)) < 0 ||
	    (rc = pp_json_get_array(c, root, "", "tensors", 1, &tensors)) < 0 ||
	    (rc = pp_json_get_array(c, root, "", "ops", 1, &ops)) < 0 ||
	    (rc = pp_json_get_object(c, root, "", "model", 0, &model)) < 0)
		return rc;
	if (model && (rc = read_model(c, model, g, &model_tied)) < 0)
		return rc;
	if (!(g->name = dup_str(name)) || !(g->names = calloc(1, sizeof(*g->names))))
		return nomem(c);
	tnames = &g->names->tensors;
	onames = &g->names->ops;
	if ((dt = pp_dtype_parse(dtype)) < 0)
		return pp_json_fail(c, "dtype", NULL, "unknown dtype \"%.32s\" (bf16, fp16, tf32 or fp32)", dtype);
	if (!PP_DTYPE_IS_STORAGE(dt))
		return pp_json_fail(c, "dtype", NULL,
				    "%s is a GEMM precision, not a storage dtype (bf16, fp16, tf32 or "
				    "fp32; see the plan setting \"precision\")", dtype);
	g->dtype = (pp_dtype)dt;
	if ((rc = read_dims(c, g, dims, &dnames)) < 0)
		goto done;
	/* each cJSON_GetArraySize() walks the whole list: count once */
	n_tensors = cJSON_GetArraySize(tensors);
	n_ops = cJSON_GetArraySize(ops);
	if (n_tensors == 0) {
		rc = pp_json_fail(c, "tensors", NULL, "no tensors");
		goto done;
	}
	if (n_ops == 0) {
		rc = pp_json_fail(c, "ops", NULL, "no ops");
		goto done;
	}
	g->tensors = calloc((size_t)n_tensors, sizeof(pp_tensor));
	g->ops = calloc((size_t)n_ops, sizeof(pp_op));
	if (g->tensors)
		g->n_tensors = n_tensors;
	if (g->ops)
		g->n_ops = n_ops;
	if (!g->tensors || !g->ops || map_init(tnames, (size_t)g->n_tensors) < 0 ||
	    map_init(onames, (size_t)g->n_ops) < 0) {
		rc = nomem(c);
		goto done;
	}
	for (i = 0, e = tensors->child; e; e = e->next, i++)
		if ((rc = read_tensor(c, g, e, i, tnames, &dnames)) < 0)
			goto done;
	for (i = 0, e = ops->child; e; e = e->next, i++)
		if ((rc = read_op(c, g, e, i, tnames, onames)) < 0)
			goto done;
	for (i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].kind == PP_TENSOR_ACTIVATION && g->tensors[i].producer < 0) {
			char p[PP_JPATH_MAX];
			pp_jpath_idx(p, "tensors", i);
			rc = pp_json_fail(c, p, NULL, "activation \"%.64s\" has no producer", g->tensors[i].name);
			goto done;
		}
	if ((rc = topo_sort(c, g, steps)) < 0)
		goto done;
	for (i = 0; i < g->n_ops; i++)
		if ((rc = op_rules(c, g, g->ops_topo[i])) < 0)
			goto done;
	for (i = 0; i < g->n_tensors; i++) {
		pp_tensor *t = &g->tensors[i];
		if (t->kind == PP_TENSOR_PARAMETER) {
			if (t->producer == -2)
				t->producer = -1;
			g->params += t->elems;
		}
	}
	if ((rc = build_layers(c, g, steps)) < 0)
		goto done;
	if ((rc = count_active(c, g)) < 0)
		goto done;
	tokens = (double)g->seq;
	for (i = 0; i < g->n_ops; i++) {
		g->flops_per_token += g->ops[i].flops / tokens;
		g->gemm_flops_per_token += g->ops[i].gemm_flops / tokens;
	}
	for (i = 0; i < g->n_pre; i++)
		g->pre_params += (double)g->ops[g->pre_ops[i]].params;
	for (i = 0; i < g->n_post; i++) {
		const pp_op *op = &g->ops[g->post_ops[i]];
		g->post_params += (double)op->params;
		if (op->type == PP_OP_MATMUL && op->weight_transposed && op->params == 0)
			g->tied_embeddings = 1;
	}
	if (model_tied >= 0 && model_tied != g->tied_embeddings)
		rc = pp_json_fail(c, "model", "tied_embeddings", "is %s but the LM head %s the embedding table",
				  model_tied ? "true" : "false", g->tied_embeddings ? "reads" : "does not read");
done:
	*steps += dnames.probes + (tnames ? tnames->probes + onames->probes : 0);
	map_release(&dnames);
	return rc;
}

int pp_graph_parse(const char *name_for_errors, const char *text, pp_graph **out, pp_error *err)
{
	return pp_graph_parse_counted(name_for_errors, text, out, NULL, err);
}

int pp_graph_parse_counted(const char *name_for_errors, const char *text, pp_graph **out,
			   uint64_t *steps, pp_error *err)
{
	pp_jctx c = {name_for_errors, err};
	uint64_t own_steps = 0;
	cJSON *root = NULL;
	pp_graph *g;
	int rc;

	*out = NULL;
	if ((rc = pp_json_parse(name_for_errors, text, strlen(text), &root, err)) < 0)
		return rc;
	g = calloc(1, sizeof(*g));
	if (!g) {
		cJSON_Delete(root);
		return nomem(&c);
	}
	rc = parse_root(&c, root, g, steps ? steps : &own_steps);
	cJSON_Delete(root);
	if (rc == 0 && !(g->file = dup_str(name_for_errors)))
		rc = nomem(&c);
	if (rc < 0) {
		pp_graph_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int pp_graph_load(const char *path, pp_graph **out, pp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = pp_read_file(path, &text, &len, err)) < 0)
		return rc;
	if (memchr(text, '\0', len))
		rc = pp_error_set(err, PP_EINVALID, path, NULL, "not a text file (NUL byte)");
	else
		rc = pp_graph_parse(path, text, out, err);
	free(text);
	return rc;
}
