/*
 * emit_torchtitan.c - torchtitan configurations, in two forms:
 *
 *   torchtitan       a Python module with one configuration function returning Trainer.Config,
 *                    for current torchtitan (pytorch/torchtitan b5bcd76c66d0acb1a08b176d9639425bc55e0b2a,
 *                    torchtitan/config/README.md: a run is a function chosen with --module and
 *                    --config; torchtitan/trainer.py Trainer.Config; torchtitan/config/configs.py
 *                    TrainingConfig, ParallelismConfig, CompileConfig).  The function starts from
 *                    torchtitan's baseline for the Llama 3 flavor (torchtitan/models/llama3/
 *                    config_registry.py llama3_8b / llama3_70b / llama3_405b) and sets every
 *                    setting the plan decides.
 *   torchtitan-toml  the TOML job file of torchtitan 0.2 (0.2.2 is the last release that reads
 *                    one: torchtitan/config/job_config.py of that release).
 *
 * torchtitan builds models by name and flavor, so the plan's shape must be a registered Llama 3
 * flavor (torchtitan/models/llama3/__init__.py llama3_configs: 8B, 70B, 405B).
 *
 * Data parallelism.  Current torchtitan always wraps the model in FSDP2 (llama3/parallelize.py
 * apply_fsdp_to_decoder, over the dp_replicate x fsdp mesh): data_parallel_shard_degree shards
 * weights, gradients and optimizer states (the plan's ZeRO stage >= 1: over all d, or over
 * hsdp_shard with data_parallel_replicate_degree = d / hsdp_shard, HSDP), and
 * data_parallel_replicate_degree = d replicates them (stage 0); any mix with TP, PP and CP is
 * allowed (distributed/parallel_dims.py: dp_replicate * dp_shard * cp * tp * pp =
 * world).  torchtitan 0.2 had DDP only without TP/PP, so the TOML shards whenever t or p > 1.
 *
 * Batch.  Current torchtitan counts tokens (trainer.py): num_tokens_per_microbatch_per_dp_rank
 * = micro-batch x seq per forward, num_pp_microbatches of them per pipeline step, and
 * gradient accumulation up to num_tokens_per_train_step = global batch x seq.  0.2 counted
 * sequences (local_batch_size, global_batch_size, pipeline_parallel_microbatch_size).
 *
 * Pipeline stages (distributed/pipeline_parallel.py, both versions): one stage per rank for the
 * single-stage schedules (1F1B, GPipe) and two per rank for Interleaved1F1B unless
 * pipeline_parallel_layers_per_stage = k is given; then ceil((L + 2) / k) stages (embedding and
 * output count as one layer each: pipeline_parallel_first/last_stage_less_layers default to 1),
 * refused unless a multiple of p, and p for a single-stage schedule.  So the key is left out
 * where the default is the plan's p*v stages, set to the k with ceil((L + 2) / k) = p*v
 * otherwise, and a plan with no such k is refused.
 *
 * Rules by version: 0.2 always shards norms along the sequence with t > 1 and refused fewer
 * micro-batches than stages; current torchtitan has enable_sequence_parallel (configs.py) and
 * only warns about fewer micro-batches than stages (pipeline_parallel.py build_pipeline_schedule).
 */
#include <stdlib.h>

#include "emit_int.h"
#include "parplan/schedule.h"

#define TT_RULES                                                                                   \
	(PP_RULES_LAUNCHER | PP_RULE_LLAMA_ONLY | PP_RULE_NO_UNEVEN | PP_RULE_CP_P2P |              \
	 PP_RULE_NO_MXFP8 | PP_RULE_NO_FP8_GATHER)
/* torchtitan 0.2 (its parallelize_llama and build_pipeline_schedule); its schedules are not
 * checked here for ZB-V / DualPipeV, so they are refused */
/* the 0.2 TOML is emitted for bf16 plans only: its [float8] section is not written */
#define TT_TOML_RULES (TT_RULES | PP_RULE_TP_NEEDS_SP | PP_RULE_MB_PER_STAGE | PP_RULE_NO_FP8)

static const struct {
	const char *flavor, *baseline;
	long long layers, hidden, heads, kv_heads, vocab;
} flavors[] = {
	/* torchtitan/models/llama3/__init__.py llama3_configs; baselines in config_registry.py */
	{"8B", "llama3_8b", 32, 4096, 32, 8, 128256},
	{"70B", "llama3_70b", 80, 8192, 64, 8, 128256},
	{"405B", "llama3_405b", 126, 16384, 128, 8, 128256},
};

/* What both forms take from the plan. */
typedef struct tt_job {
	const char *flavor, *baseline, *schedule;
	long long k;      /* pipeline_parallel_layers_per_stage; 0: torchtitan's default */
	long long stages; /* p*v */
} tt_job;

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

static int tt_prepare(const char *fmt, const pp_plan *plan, const pp_emit_opts *opts,
		      unsigned rules, tt_job *j, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	size_t i;
	int rc;

	if ((rc = pp_emit_check_rules(fmt, plan, opts, rules, err)) < 0)
		return rc;
	j->flavor = j->baseline = NULL;
	for (i = 0; i < sizeof(flavors) / sizeof(flavors[0]); i++)
		if (flavors[i].layers == sh->layers && flavors[i].hidden == sh->hidden &&
		    flavors[i].heads == sh->heads && flavors[i].kv_heads == sh->kv_heads &&
		    flavors[i].vocab == sh->vocab) {
			j->flavor = flavors[i].flavor;
			j->baseline = flavors[i].baseline;
		}
	if (!j->flavor)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape",
				    "%s: rule \"registered model flavor\": no llama3 flavor has "
				    "%lld layers, hidden %lld, %lld heads (%lld kv), vocab %lld",
				    fmt, (long long)sh->layers, (long long)sh->hidden,
				    (long long)sh->heads, (long long)sh->kv_heads, (long long)sh->vocab);
	/* the flavors' settings (llama3/__init__.py: RMSNorm, ComplexRoPE theta 500000 with
	 * scaling "llama", i.e. Llama 3.1's factors 8/1/4/8192, no biases): a graph that says
	 * otherwise is another model */
	if (sh->has_model) {
		pp_emit_model ms;
		pp_emit_model_settings(plan, &ms);
		if ((rc = pp_emit_model_refuse(fmt, &ms, PP_EMIT_CAN_ROPE_LLAMA3, err)) < 0)
			return rc;
		if (!ms.rmsnorm || !ms.rope || ms.rope_theta != 500000 || !ms.rope_llama3 ||
		    ms.rope_factor != 8 || ms.qkv_bias || ms.linear_bias || ms.norm_eps != 1e-5)
			return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model",
					    "%s: rule \"registered model flavor\": llama3 %s has RoPE "
					    "base 500000 with Llama 3.1 scaling, RMSNorm eps 1e-5, no "
					    "biases; the plan's model differs",
					    fmt, j->flavor);
	}
	/* the V schedules run two stages per rank, torchtitan's default for multi-stage ones */
	j->stages = (long long)gl->p * pp_sched_chunks_per_rank(gl->schedule, gl->virtual_stages);
	j->k = 0;
	if (gl->p > 1) {
		long long def = gl->schedule == PP_SCHED_1F1B || gl->schedule == PP_SCHED_GPIPE ? gl->p
											   : 2LL * gl->p;
		if ((j->k = layers_per_stage((long long)sh->layers, j->stages, def)) < 0)
			return pp_error_set(err, PP_EINVALID, NULL, "global.virtual_stages",
					    "%s: rule \"stages from layers per stage\": no "
					    "pipeline_parallel_layers_per_stage k gives ceil((%lld layers + "
					    "2) / k) = p*v = %lld stages",
					    fmt, (long long)sh->layers, j->stages);
	}
	/* torch/distributed/pipelining/schedules.py get_schedule_class (commit 00722e64) */
	j->schedule = gl->schedule == PP_SCHED_INTERLEAVED ? "Interleaved1F1B"
		      : gl->schedule == PP_SCHED_GPIPE     ? "GPipe"
		      : gl->schedule == PP_SCHED_ZB_V      ? "ZBVZeroBubble"
		      : gl->schedule == PP_SCHED_DUALPIPEV ? "DualPipeV"
							   : "1F1B";
	return 0;
}

static const char *py_bool(int x)
{
	return x ? "True" : "False";
}

/*
 * The Python module.  Every field set is a dataclass field of the torchtitan commit above; the
 * read-back check (tests/cli/emit_check.py) parses the module with ast and checks each against
 * tests/data/launcher-fields/torchtitan.txt (scripts/launcher-fields).  Settings another plan
 * setting decides go in as one more keyword below.
 */
int pp_emit_torchtitan(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	pp_sbuf b = PP_SBUF_INIT;
	tt_job j;
	int rc, nnodes, per_node, zero = pp_global_zero_stage(gl), shard, replicate;

	*out = NULL;
	if ((rc = tt_prepare("torchtitan", plan, opts, TT_RULES | PP_RULE_TT_SCHEDULES, &j, err)) < 0)
		return rc;
	/* ZeRO stage >= 1 shards (over hsdp_shard of the d replicas with HSDP), stage 0
	 * replicates; FSDP2 shards parameters too, so stages 1 and 2 keep them gathered after the
	 * forward (fsdp_reshard_after_forward "never": ZeRO-2's layout), stage 3 reshards */
	shard = zero > 0 ? (gl->hsdp_shard > 0 ? gl->hsdp_shard : gl->d) : 1;
	replicate = gl->d / shard;
	pp_emit_nodes(plan, &nnodes, &per_node);
	pp_emit_header(&b, "torchtitan configuration", plan);
	pp_sb_printf(&b, "#\n# For torchtitan as of pytorch/torchtitan b5bcd76 (configurations in Python, "
			 "torchtitan/config/README.md).\n# Put this file where Python finds it from the "
			 "torchtitan checkout, e.g. torchtitan_recipes/torchtitan_plan.py, then\n");
	if (nnodes == 1)
		pp_sb_printf(&b, "#   NGPU=%d MODULE=torchtitan_recipes.torchtitan_plan CONFIG=parplan "
				 "./run_train.sh\n",
			     per_node);
	else
		pp_sb_printf(&b, "#   torchrun --nnodes %d --nproc_per_node %d --node_rank $NODE_RANK "
				 "--rdzv_backend c10d \\\n#     --rdzv_endpoint $MASTER_ADDR:29500 -m "
				 "torchtitan.train \\\n#     --module torchtitan_recipes.torchtitan_plan "
				 "--config parplan\n# on each of the %d nodes (NODE_RANK 0 .. %d, MASTER_ADDR "
				 "naming node 0).\n",
			     nnodes, per_node, nnodes, nnodes - 1);
	pp_sb_printf(&b, "\nfrom torchtitan.config import CompileConfig, ParallelismConfig\n"
			 "%s"
			 "from torchtitan.distributed.activation_checkpoint import FullAC, SelectiveAC\n"
			 "from torchtitan.models.llama3 import model_registry\n"
			 "from torchtitan.models.llama3.config_registry import %s\n"
			 "from torchtitan.trainer import Trainer\n\n\n",
		     gl->precision == PP_PREC_FP8
			     ? "from torchtitan.components.quantization import Float8LinearConverter\n"
			     : "",
		     j.baseline);
	pp_sb_printf(&b, "def parplan() -> Trainer.Config:\n"
			 "    # torchtitan's baseline for Llama 3 %s, with what the plan decides\n"
			 "    config = %s()\n",
		     j.flavor, j.baseline);
	/* fp8: torchtitan's float8 converter (torchtitan/components/quantization/float8.py at
	 * b5bcd76: Float8LinearConverter.Config, rowwise scaling, the LM head "output" left in bf16
	 * as the model does, compile on to fuse the casts: float8.md); bf16: none, also where the
	 * baseline has them (405B) */
	if (gl->precision == PP_PREC_FP8)
		pp_sb_printf(&b, "    config.model_spec = model_registry(\n        \"%s\",\n"
				 "        converters=[\n            Float8LinearConverter.Config(\n"
				 "                recipe_name=\"rowwise\",\n"
				 "                filter_fqns=[\"output\"],\n"
				 "                model_compile_enabled=True,\n            ),\n        ],\n"
				 "    )\n",
			     j.flavor);
	else
		pp_sb_printf(&b, "    config.model_spec = model_registry(\"%s\", converters=[])\n", j.flavor);
	pp_sb_printf(&b, "    config.parallelism = ParallelismConfig(\n"
			 "        data_parallel_replicate_degree=%d,\n"
			 "        data_parallel_shard_degree=%d,\n"
			 "        fsdp_reshard_after_forward=\"%s\",\n"
			 "        tensor_parallel_degree=%d,\n"
			 "        enable_sequence_parallel=%s,\n"
			 "        context_parallel_degree=%d,\n"
			 "        expert_parallel_degree=1,\n"
			 "        pipeline_parallel_degree=%d,\n",
		     replicate, shard, zero == 1 || zero == 2 ? "never" : "default", gl->t,
		     py_bool(gl->sequence_parallel), gl->cp > 1 ? gl->cp : 1, gl->p);
	if (gl->p > 1)
		pp_sb_printf(&b, "        pipeline_parallel_schedule=\"%s\",\n"
				 "        num_pp_microbatches=%d,\n",
			     j.schedule, pp_global_microbatches(gl));
	if (j.k > 0)
		pp_sb_printf(&b, "        # ceil((%lld layers + embedding + output) / %lld) = %lld "
				 "stages, %d per rank\n"
				 "        pipeline_parallel_layers_per_stage=%lld,\n",
			     (long long)sh->layers, j.k, j.stages, gl->virtual_stages, j.k);
	pp_sb_printf(&b, "    )\n");
	pp_sb_printf(&b, "    config.training.max_context_length = %lld\n"
			 "    config.training.num_tokens_per_microbatch_per_dp_rank = %d * %lld\n"
			 "    config.training.num_tokens_per_train_step = %d * %lld\n"
			 "    config.training.mixed_precision_param = \"bfloat16\"\n",
		     (long long)sh->seq, gl->micro_batch, (long long)sh->seq, gl->global_batch,
		     (long long)sh->seq);
	if (gl->p > 1) /* CUDA graphs refuse PP (trainer.py _validate_cuda_graphs) */
		pp_sb_printf(&b, "    config.training.disable_cuda_graphs = True\n");
	pp_sb_printf(&b, "    config.activation_checkpoint = %s\n",
		     gl->recompute == PP_RECOMPUTE_FULL	       ? "FullAC.Config()"
		     : gl->recompute == PP_RECOMPUTE_SELECTIVE ? "SelectiveAC.Config()"
							       : "None");
	/* async TP is torchtitan's TP communication overlap and needs compile (configs.py
	 * CompileConfig.__post_init__) */
	pp_sb_printf(&b, "    config.compile = CompileConfig(enable=%s, "
			 "enable_async_tensor_parallel=%s)\n",
		     py_bool(gl->tp_comm_overlap || gl->precision == PP_PREC_FP8),
		     py_bool(gl->tp_comm_overlap));
	pp_sb_printf(&b, "    return config\n");
	return pp_sb_finish(&b, out, err);
}

int pp_emit_torchtitan_toml(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			    pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	pp_sbuf b = PP_SBUF_INIT;
	tt_job j;
	int rc, shard, local;
	char model[sizeof(plan->model)], hw[sizeof(plan->hw)];

	*out = NULL;
	if ((rc = tt_prepare("torchtitan-toml", plan, opts, TT_TOML_RULES, &j, err)) < 0)
		return rc;
	shard = gl->distributed_optimizer || gl->t > 1 || gl->p > 1;
	local = gl->p > 1 ? gl->global_batch / gl->d : gl->micro_batch;

	pp_emit_header(&b, "torchtitan 0.2 job config", plan);
	pp_sb_printf(&b, "# torchrun --nproc_per_node %d --nnodes %d -m torchtitan.train "
			 "--job.config_file torchtitan.toml\n\n",
		     plan->gpus < plan->node_devices ? plan->gpus : plan->node_devices,
		     plan->gpus < plan->node_devices ? 1 : plan->gpus / plan->node_devices);
	pp_sb_printf(&b, "[job]\ndump_folder = \"./outputs\"\ndescription = \"%s on %s (parplan)\"\n\n",
		     pp_emit_safe_name(model, sizeof(model), plan->model),
		     pp_emit_safe_name(hw, sizeof(hw), plan->hw));
	pp_sb_printf(&b, "[model]\nname = \"llama3\"\nflavor = \"%s\"\n\n", j.flavor);
	pp_sb_printf(&b, "[training]\nlocal_batch_size = %d\nglobal_batch_size = %d\nseq_len = %lld\n"
			 "steps = 100\nmixed_precision_param = \"bfloat16\"\n\n",
		     local, gl->global_batch, (long long)sh->seq);
	pp_sb_printf(&b, "[parallelism]\ndata_parallel_replicate_degree = %d\n"
			 "data_parallel_shard_degree = %d\ntensor_parallel_degree = %d\n"
			 "context_parallel_degree = %d\npipeline_parallel_degree = %d\n",
		     shard ? 1 : gl->d, shard ? gl->d : 1, gl->t, gl->cp > 1 ? gl->cp : 1, gl->p);
	if (gl->p > 1)
		pp_sb_printf(&b, "pipeline_parallel_schedule = \"%s\"\n"
				 "pipeline_parallel_microbatch_size = %d\n",
			     j.schedule, gl->micro_batch);
	if (j.k > 0)
		pp_sb_printf(&b, "# ceil((%lld layers + embedding + output) / %lld) = %lld stages, %d per "
				 "rank\npipeline_parallel_layers_per_stage = %lld\n",
			     (long long)sh->layers, j.k, j.stages, gl->virtual_stages, j.k);
	pp_sb_printf(&b, "\n[activation_checkpoint]\nmode = \"%s\"\n",
		     pp_recompute_name(gl->recompute));
	if (gl->recompute == PP_RECOMPUTE_SELECTIVE)
		pp_sb_printf(&b, "selective_ac_option = \"op\"\n");
	return pp_sb_finish(&b, out, err);
}
