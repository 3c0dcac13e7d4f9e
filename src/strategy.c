/*
 * strategy.c - SOAP config tables, stage split and Megatron-LM's per-op strategy.  The global
 * plan's names and validity rules live with the table of plan settings (settings.c).
 */
#include "parplan/strategy.h"

#include <string.h>

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
	case PP_OP_MLA:
		return c == PP_CFG_REPLICATE || c == PP_CFG_SAMPLE || c == PP_CFG_HIDDEN;
	case PP_OP_ROUTER:
	case PP_OP_DISPATCH:
	case PP_OP_COMBINE:
		return c == PP_CFG_REPLICATE || c == PP_CFG_SAMPLE || c == PP_CFG_SEQUENCE;
	case PP_OP_EXPERTS:
		/* COLUMN: expert tensor parallelism over t (each expert's W1 split by columns and W2
		 * by rows, Megatron-Core's ETP), replicated tokens in, partial sums out */
		return c == PP_CFG_REPLICATE || c == PP_CFG_SAMPLE || c == PP_CFG_SEQUENCE ||
		       c == PP_CFG_COLUMN;
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

int pp_global_zero_stage(const pp_global *gl)
{
	if (gl->fsdp)
		return 3;
	return gl->zero > 0 ? gl->zero : (gl->distributed_optimizer ? 1 : 0);
}

int pp_global_shard_ranks(const pp_global *gl)
{
	int n = gl->hsdp_shard > 0 ? gl->hsdp_shard : gl->d;
	return pp_global_zero_stage(gl) > 0 ? n * (gl->cp > 1 ? gl->cp : 1) : 1;
}

long long pp_global_world(const pp_global *gl)
{
	return (long long)gl->t * (gl->cp > 1 ? gl->cp : 1) * gl->p * gl->d;
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

int pp_global_uneven_form(int n_layers, const pp_global *gl, const char **why)
{
	int p = gl->p, v = gl->schedule == PP_SCHED_INTERLEAVED && gl->virtual_stages > 1 ? gl->virtual_stages : 1;
	int first = gl->first_stage_layers, last = gl->last_stage_layers;
	int inner = p - (first > 0) - (last > 0);
	long long rest = (long long)n_layers - first - last;
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!first && !last)
		return PP_UNEVEN_NONE;
	if (p < 2 || first < 0 || last < 0 || rest < 0) {
		*why = "first/last stage layers must leave p > 1 stages their layers";
		return -1;
	}
	/* Megatron-Core: "Mismatch: ... middle layers remaining but ... middle PP stages", and the
	 * middle layers divisible by the middle stages */
	if (inner == 0 ? rest != 0 : (rest < inner || rest % inner)) {
		*why = "the layers left are not divisible by the middle stages";
		return -1;
	}
	if (first % v == 0 && last % v == 0 && (inner == 0 || (rest / inner) % v == 0))
		return PP_UNEVEN_DECODER;
	/* every chunk builds at least one layer (Megatron-LM would build an empty first chunk
	 * around the embedding; parplan's plan files list no empty chunk) */
	if (inner > 0 && (rest / inner) % v == 0 && (v == 1 || rest / inner / v >= 2) &&
	    (!first || first == rest / inner - 1) &&
	    (!last || last == rest / inner - 1))
		return PP_UNEVEN_ACCOUNT;
	*why = inner > 0 && (rest / inner) % v ? "the middle stages' layers are not divisible by v"
					       : "first/last stage layers are not divisible by v (nor one "
						 "fewer than a middle stage's)";
	return -1;
}

void pp_global_chunk_layers(int n_layers, const pp_global *gl, int *layers)
{
	int p = gl->p, v = gl->virtual_stages > 1 ? gl->virtual_stages : 1;
	int i, n = p * v, form = pp_global_uneven_form(n_layers, gl, NULL);
	pp_graph fake;
	memset(&fake, 0, sizeof(fake));
	fake.n_layers = n_layers;
	pp_global_stage_layers(&fake, gl, layers); /* per rank, into layers[0..p-1] */
	if (v == 1)
		return;
	if (form == PP_UNEVEN_ACCOUNT) {
		/* every chunk builds (L + accounted) / (p v) layers, less the embedding's and the
		 * loss's slot (transformer_block.py get_num_layers_to_build) */
		int mid = layers[p > 2 ? 1 : gl->first_stage_layers ? p - 1 : 0];
		for (i = 0; i < n; i++)
			layers[i] = mid / v;
		if (gl->first_stage_layers)
			layers[0] -= 1;
		if (gl->last_stage_layers)
			layers[n - 1] -= 1;
		return;
	}
	/* back to front, so that a rank's count is read before its slot is overwritten */
	for (i = n - 1; i >= 0; i--)
		layers[i] = layers[i % p] / v;
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
	case PP_OP_MLA:
	case PP_OP_GELU:
	case PP_OP_SWIGLU:
	case PP_OP_LOSS:
		return PP_CFG_HIDDEN;
	case PP_OP_EXPERTS:
		/* expert tensor parallelism over t, or (etp = 1) each of the t ranks its own share of
		 * the tokens: MoE parallel folding (Megatron-Core moe README) */
		return gl->etp > 1 ? PP_CFG_COLUMN : PP_CFG_SEQUENCE;
	case PP_OP_ROUTER:
	case PP_OP_DISPATCH:
	case PP_OP_COMBINE:
		return gl->sequence_parallel || gl->etp <= 1 ? PP_CFG_SEQUENCE : PP_CFG_REPLICATE;
	case PP_OP_MATMUL: {
		/* the input's producer decides: a HIDDEN-split input makes a row-parallel matmul
		 * (attention-out, MLP-out), anything else column-parallel */
		int p = g->tensors[op->inputs[0]].producer;
		pp_op_type pt = p >= 0 ? g->ops[p].type : PP_OP_LAYERNORM;
		return pt == PP_OP_ATTENTION || pt == PP_OP_MLA || pt == PP_OP_GELU || pt == PP_OP_SWIGLU ? PP_CFG_ROW
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
