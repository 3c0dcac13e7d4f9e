/*
 * emit_torchtitan.c - a TOML job config for torchtitan 0.2 (torchtitan/config/job_config.py):
 * [job], [model], [training], [parallelism], [activation_checkpoint].
 *
 * torchtitan builds models by name and flavor, so the plan's shape must be a registered Llama 3
 * flavor (8B, 70B, 405B).  Data parallelism: data_parallel_replicate_degree = d (DDP) for a
 * pure data-parallel plan without the distributed optimizer; otherwise
 * data_parallel_shard_degree = d (FSDP2, which torchtitan requires to combine data parallelism
 * with TP or PP; it shards weights and gradients as well as the optimizer states).  With PP, the
 * local batch (global / d) is split into micro-batches of pipeline_parallel_microbatch_size;
 * without PP the local batch is one micro-batch and torchtitan accumulates gradients up to
 * global_batch_size.  Tensor parallelism in torchtitan always shards norms along the sequence.
 *
 * Pipeline stages: torchtitan's pipeline_llm makes one stage per rank for the single-stage
 * schedules (1F1B, GPipe) and two per rank for Interleaved1F1B unless
 * pipeline_parallel_layers_per_stage = k is given; then it makes ceil((L + 2) / k) stages (the
 * embedding and the output layer count as one layer each: pipeline_parallel_first/last_
 * stage_less_layers default to 1) and refuses a count that is not a multiple of p, or not p for
 * a single-stage schedule.  So the key is left out where the default is the plan's p*v stages,
 * set to the k with ceil((L + 2) / k) = p*v otherwise, and a plan with no such k is refused.
 */
#include <stdlib.h>

#include "emit_int.h"

#define TT_RULES                                                                                \
	(PP_RULES_LAUNCHER | PP_RULE_LLAMA_ONLY | PP_RULE_NO_UNEVEN | PP_RULE_TP_NEEDS_SP |     \
	 PP_RULE_MB_PER_STAGE)

static const struct {
	const char *flavor;
	long long layers, hidden, heads, kv_heads, vocab;
} flavors[] = {
	/* torchtitan/models/llama3/__init__.py llama3_configs */
	{"8B", 32, 4096, 32, 8, 128256},
	{"70B", 80, 8192, 64, 8, 128256},
	{"405B", 126, 16384, 128, 8, 128256},
};

/* pipeline_parallel_layers_per_stage for @stages stages of @L layers: 0 where torchtitan's
 * default makes them (@def_stages), -1 where no k makes exactly that many. */
static long long layers_per_stage(long long L, long long stages, long long def_stages)
{
	long long k;
	if (stages == def_stages)
		return 0;
	for (k = 1; k <= L + 2; k++)
		if ((L + 2 + k - 1) / k == stages)
			return k;
	return -1;
}

int pp_emit_torchtitan(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	const char *flavor = NULL, *sched;
	pp_sbuf b = PP_SBUF_INIT;
	size_t i;
	int rc, shard, local;
	long long k = 0, stages = (long long)gl->p * gl->virtual_stages;
	char model[sizeof(plan->model)], hw[sizeof(plan->hw)];

	*out = NULL;
	if ((rc = pp_emit_check_rules("torchtitan", plan, opts, TT_RULES, err)) < 0)
		return rc;
	for (i = 0; i < sizeof(flavors) / sizeof(flavors[0]); i++)
		if (flavors[i].layers == sh->layers && flavors[i].hidden == sh->hidden &&
		    flavors[i].heads == sh->heads && flavors[i].kv_heads == sh->kv_heads &&
		    flavors[i].vocab == sh->vocab)
			flavor = flavors[i].flavor;
	if (!flavor)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape",
				    "torchtitan: rule \"registered model flavor\": no llama3 flavor has "
				    "%lld layers, hidden %lld, %lld heads (%lld kv), vocab %lld",
				    (long long)sh->layers, (long long)sh->hidden, (long long)sh->heads,
				    (long long)sh->kv_heads, (long long)sh->vocab);
	if (gl->p > 1) {
		long long def = gl->schedule == PP_SCHED_INTERLEAVED ? 2LL * gl->p : gl->p;
		if ((k = layers_per_stage((long long)sh->layers, stages, def)) < 0)
			return pp_error_set(err, PP_EINVALID, NULL, "global.virtual_stages",
					    "torchtitan: rule \"stages from layers per stage\": no "
					    "pipeline_parallel_layers_per_stage k gives ceil((%lld layers + "
					    "2) / k) = p*v = %lld stages",
					    (long long)sh->layers, stages);
	}
	shard = gl->distributed_optimizer || gl->t > 1 || gl->p > 1;
	local = gl->p > 1 ? gl->global_batch / gl->d : gl->micro_batch;
	sched = gl->schedule == PP_SCHED_INTERLEAVED ? "Interleaved1F1B"
		: gl->schedule == PP_SCHED_GPIPE     ? "GPipe"
						     : "1F1B";

	pp_emit_header(&b, "torchtitan job config", plan);
	pp_sb_printf(&b, "# torchrun --nproc_per_node %d --nnodes %d -m torchtitan.train "
			 "--job.config_file torchtitan.toml\n\n",
		     plan->gpus < plan->node_devices ? plan->gpus : plan->node_devices,
		     plan->gpus < plan->node_devices ? 1 : plan->gpus / plan->node_devices);
	pp_sb_printf(&b, "[job]\ndump_folder = \"./outputs\"\ndescription = \"%s on %s (parplan)\"\n\n",
		     pp_emit_safe_name(model, sizeof(model), plan->model),
		     pp_emit_safe_name(hw, sizeof(hw), plan->hw));
	pp_sb_printf(&b, "[model]\nname = \"llama3\"\nflavor = \"%s\"\n\n", flavor);
	pp_sb_printf(&b, "[training]\nlocal_batch_size = %d\nglobal_batch_size = %d\nseq_len = %lld\n"
			 "steps = 100\nmixed_precision_param = \"bfloat16\"\n\n",
		     local, gl->global_batch, (long long)sh->seq);
	pp_sb_printf(&b, "[parallelism]\ndata_parallel_replicate_degree = %d\n"
			 "data_parallel_shard_degree = %d\ntensor_parallel_degree = %d\n"
			 "context_parallel_degree = 1\npipeline_parallel_degree = %d\n",
		     shard ? 1 : gl->d, shard ? gl->d : 1, gl->t, gl->p);
	if (gl->p > 1)
		pp_sb_printf(&b, "pipeline_parallel_schedule = \"%s\"\n"
				 "pipeline_parallel_microbatch_size = %d\n",
			     sched, gl->micro_batch);
	if (k > 0)
		pp_sb_printf(&b, "# ceil((%lld layers + embedding + output) / %lld) = %lld stages, %d per "
				 "rank\npipeline_parallel_layers_per_stage = %lld\n",
			     (long long)sh->layers, k, stages, gl->virtual_stages, k);
	pp_sb_printf(&b, "\n[activation_checkpoint]\nmode = \"%s\"\n",
		     pp_recompute_name(gl->recompute));
	if (gl->recompute == PP_RECOMPUTE_SELECTIVE)
		pp_sb_printf(&b, "selective_ac_option = \"op\"\n");
	return pp_sb_finish(&b, out, err);
}
