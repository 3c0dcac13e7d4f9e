/*
 * strategy.c - global plan rules, SOAP config tables and Megatron-LM's per-op strategy.
 */
#include "parplan/strategy.h"

#include <string.h>

static const char *const sched_names[] = {"1f1b", "gpipe", "interleaved"};
static const char *const recompute_names[] = {"none", "selective", "full"};
static const char *const cfg_names[PP_CFG_COUNT] = {"replicate", "sample", "sequence",
						    "hidden",    "column", "row"};

static int parse_name(const char *const *names, int n, const char *s)
{
	int i;
	for (i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *pp_schedule_name(pp_schedule s)
{
	return (unsigned)s < 3 ? sched_names[s] : "?";
}

int pp_schedule_parse(const char *s)
{
	return parse_name(sched_names, 3, s);
}

const char *pp_recompute_name(pp_recompute r)
{
	return (unsigned)r < 3 ? recompute_names[r] : "?";
}

int pp_recompute_parse(const char *s)
{
	return parse_name(recompute_names, 3, s);
}

const char *pp_cfg_name(pp_cfg c)
{
	return (unsigned)c < PP_CFG_COUNT ? cfg_names[c] : "?";
}

int pp_cfg_parse(const char *s)
{
	return parse_name(cfg_names, PP_CFG_COUNT, s);
}

/*
 * Which t-axis configs each op type has.  Norms normalise over the hidden dim, so they cannot be
 * HIDDEN; element-wise ops take any split but not partial sums; matmuls take the two parameter
 * splits besides replicate, sample and sequence; attention splits heads (HIDDEN) but not the sequence (that would be context
 * parallelism, not modelled); the embedding splits its table by vocabulary rows (ROW, Megatron's
 * VocabParallelEmbedding, output partial); the loss is vocab-parallel on HIDDEN logits.
 */
int pp_cfg_allowed(pp_op_type t, pp_cfg c)
{
	switch (t) {
	case PP_OP_MATMUL:
		return c != PP_CFG_HIDDEN;
	case PP_OP_ATTENTION:
		return c == PP_CFG_REPLICATE || c == PP_CFG_SAMPLE || c == PP_CFG_HIDDEN;
	case PP_OP_LAYERNORM:
	case PP_OP_RMSNORM:
		return c == PP_CFG_REPLICATE || c == PP_CFG_SAMPLE || c == PP_CFG_SEQUENCE;
	case PP_OP_GELU:
	case PP_OP_SWIGLU:
	case PP_OP_DROPOUT:
	case PP_OP_ADD:
	case PP_OP_LOSS:
		return c <= PP_CFG_HIDDEN;
	case PP_OP_EMBEDDING:
		return c == PP_CFG_REPLICATE || c == PP_CFG_SAMPLE || c == PP_CFG_ROW;
	default:
		return 0;
	}
}

void pp_cfg_degrees(pp_cfg c, int t, int d, int *sample, int *attribute, int *parameter)
{
	*sample = d;
	*attribute = 1;
	*parameter = 1;
	switch (c) {
	case PP_CFG_SAMPLE: *sample = t * d; break;
	case PP_CFG_SEQUENCE:
	case PP_CFG_HIDDEN: *attribute = t; break;
	case PP_CFG_COLUMN:
	case PP_CFG_ROW: *parameter = t; break;
	default: break;
	}
}

int pp_global_microbatches(const pp_global *gl)
{
	long long per = (long long)gl->micro_batch * gl->d;
	return per > 0 ? (int)(gl->global_batch / per) : 0;
}

void pp_global_stage_layers(const pp_graph *g, const pp_global *gl, int *layers)
{
	int p = gl->p, i, rest = g->n_layers, inner = p;
	int first = gl->first_stage_layers, last = gl->last_stage_layers;
	if (p == 1) {
		layers[0] = g->n_layers;
		return;
	}
	if (first) {
		rest -= first;
		inner--;
	}
	if (last) {
		rest -= last;
		inner--;
	}
	for (i = 0; i < p; i++)
		layers[i] = inner > 0 ? rest / inner : 0;
	if (first)
		layers[0] = first;
	if (last)
		layers[p - 1] = last;
}

#define RULE(...) pp_error_set(err, PP_EINVALID, NULL, NULL, __VA_ARGS__)

int pp_global_validate(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	int t = gl->t, p = gl->p, d = gl->d, v = gl->virtual_stages, m;
	long long world = (long long)t * p * d;

	if (t < 1 || p < 1 || d < 1)
		return RULE("t, p and d must be at least 1 (t=%d p=%d d=%d)", t, p, d);
	if (gpus && world != gpus)
		return RULE("t*p*d = %lld is not the %d GPUs", world, gpus);
	if (g->heads % t)
		return RULE("t=%d does not divide %lld heads", t, (long long)g->heads);
	if (g->kv_heads % t)
		return RULE("t=%d does not divide %lld kv heads", t, (long long)g->kv_heads);
	if (gl->micro_batch < 1 || gl->global_batch < 1)
		return RULE("micro-batch and global batch must be at least 1");
	if (gl->global_batch % ((long long)gl->micro_batch * d))
		return RULE("global batch %d is not divisible by micro-batch*d = %lld", gl->global_batch,
			    (long long)gl->micro_batch * d);
	m = pp_global_microbatches(gl);
	if (v < 1)
		return RULE("virtual stages must be at least 1");
	if (gl->sequence_parallel && t == 1)
		return RULE("sequence parallelism needs t > 1");
	if (gl->schedule == PP_SCHED_INTERLEAVED) {
		if (p < 2)
			return RULE("the interleaved schedule needs p > 1");
		if (v < 2)
			return RULE("the interleaved schedule needs virtual stages v > 1");
		if (gl->first_stage_layers || gl->last_stage_layers) {
			/* Megatron-Core get_num_layers_to_build: the first (last) rank's layers are
			 * split evenly over its v chunks, like every other rank's */
			int inner = p - (gl->first_stage_layers > 0) - (gl->last_stage_layers > 0);
			int rest = g->n_layers - gl->first_stage_layers - gl->last_stage_layers;
			if (gl->first_stage_layers % v || gl->last_stage_layers % v)
				return RULE("first/last stage layers (%d, %d) are not divisible by v=%d",
					    gl->first_stage_layers, gl->last_stage_layers, v);
			if (inner > 0 && rest > 0 && rest % ((long long)inner * v))
				return RULE("the %d layers left are not divisible by the %d middle stages x v=%d",
					    rest, inner, v);
		} else if (g->n_layers % ((long long)p * v))
			return RULE("%d layers are not divisible by p*v = %d", g->n_layers, p * v);
		if (m % p)
			return RULE("%d micro-batches are not a multiple of p=%d (interleaved schedule)", m, p);
	} else {
		if (v != 1)
			return RULE("virtual stages > 1 need the interleaved schedule");
	}
	if (p > g->n_layers)
		return RULE("p=%d is more than the %d layers", p, g->n_layers);
	if (gl->first_stage_layers || gl->last_stage_layers) {
		int inner = p - (gl->first_stage_layers > 0) - (gl->last_stage_layers > 0);
		int rest = g->n_layers - gl->first_stage_layers - gl->last_stage_layers;
		if (p < 2)
			return RULE("uneven stages need p > 1");
		if (gl->first_stage_layers < 0 || gl->last_stage_layers < 0 || rest < 0)
			return RULE("first/last stage layers exceed the %d layers", g->n_layers);
		if (inner == 0 ? rest != 0 : (rest < inner || rest % inner))
			return RULE("the %d layers left are not divisible by the %d middle stages", rest, inner);
	} else if (g->n_layers % p) {
		return RULE("%d layers are not divisible by p=%d", g->n_layers, p);
	}
	return 0;
}

static int is_norm_or_elementwise(pp_op_type t)
{
	return t == PP_OP_LAYERNORM || t == PP_OP_RMSNORM || t == PP_OP_DROPOUT || t == PP_OP_ADD;
}

pp_cfg pp_strategy_megatron_op(const pp_graph *g, const pp_global *gl, int i)
{
	const pp_op *op = &g->ops[i];
	if (gl->t <= 1)
		return PP_CFG_REPLICATE;
	switch (op->type) {
	case PP_OP_EMBEDDING:
		return PP_CFG_ROW;
	case PP_OP_ATTENTION:
	case PP_OP_GELU:
	case PP_OP_SWIGLU:
	case PP_OP_LOSS:
		return PP_CFG_HIDDEN;
	case PP_OP_MATMUL: {
		/* the input's producer decides: a HIDDEN-split input makes a row-parallel matmul
		 * (attention-out, MLP-out), anything else column-parallel */
		int p = g->tensors[op->inputs[0]].producer;
		pp_op_type pt = p >= 0 ? g->ops[p].type : PP_OP_LAYERNORM;
		return pt == PP_OP_ATTENTION || pt == PP_OP_GELU || pt == PP_OP_SWIGLU ? PP_CFG_ROW
											 : PP_CFG_COLUMN;
	}
	default:
		return is_norm_or_elementwise(op->type) && gl->sequence_parallel ? PP_CFG_SEQUENCE
										 : PP_CFG_REPLICATE;
	}
}

void pp_strategy_megatron(const pp_graph *g, const pp_global *gl, uint8_t *cfg)
{
	int i;
	for (i = 0; i < g->n_ops; i++)
		cfg[i] = (uint8_t)pp_strategy_megatron_op(g, gl, i);
}
