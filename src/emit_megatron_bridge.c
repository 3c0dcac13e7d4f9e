/*
 * emit_megatron_bridge.c - a bash script that runs a Megatron-Bridge recipe with the plan's
 * settings as ConfigContainer overrides.
 *
 * Megatron-Bridge (NVIDIA-NeMo/Megatron-Bridge 067f987df03b8355b03192d88d70f1709fedf51a), NeMo 2's
 * trainer: scripts/training/run_recipe.py --recipe NAME --mode pretrain --dataset mock loads a
 * library recipe (a ConfigContainer, src/megatron/bridge/recipes/) and applies trailing
 * KEY=VALUE overrides, Hydra-style (scripts/training/recipe_runner.py apply_cli_overrides ->
 * training/utils/omegaconf_utils.py process_config_with_overrides), then synchronises
 * model.seq_length from dataset.seq_length and rebuilds a recipe's pipeline layout after PP/VP
 * overrides.  It runs in an existing distributed environment: one torchrun per node.
 *
 * The recipe is the one for the plan's model where Bridge has one (recipes/llama/llama3.py
 * aliases, recipes/gpt/h100/gpt3_175b.py), else Llama 3 8B's (Llama family) whose model the
 * overrides reshape.  Every key is a field of ConfigContainer's sections (model: mcore
 * ModelParallelConfig + TransformerConfig + GPTModelProvider; train; ddp; optimizer; dataset;
 * comm_overlap), checked by tests/cli/emit_check.py against tests/data/launcher-fields/
 * megatron-bridge.txt (scripts/launcher-fields).  The recipes set context parallelism,
 * communication overlap and pipeline layouts of their own: the overrides reset all of them to
 * the plan's.  Distributed optimizer: ddp. and optimizer.use_distributed_optimizer together
 * (training/config.py _validate_and_sync_distributed_optimizer_settings enables both if either
 * is set).
 *
 * Rules: Bridge's Megatron core (3rdparty/Megatron-LM 2a75ac12) has no p > 2 rule for
 * interleaving (Megatron-LM's is in its argument parser only); with p = 2 the overrides turn on
 * p2p overlap (model.overlap_p2p_comm, which needs batch_p2p_comm off: model_parallel_config.py),
 * what Megatron-LM requires there.  Layers divisible by p (by p*v interleaved), uneven first/last
 * stages (num_layers_in_first/last_pipeline_stage, or interleaved with an end stage one layer
 * short of a middle one that v does not divide, account_for_embedding/loss_in_pipeline_split:
 * pp_global_uneven_form) as in Megatron core's TransformerConfig.
 */
#include <limits.h>
#include <stdlib.h>

#include "emit_int.h"
#include "parplan/settings.h"

/* fp8 plans: the mixed-precision recipe is not written yet, so they are refused */
#define BRIDGE_RULES (PP_RULES_LAUNCHER | PP_RULE_NO_GPIPE | PP_RULE_CP_SEQ | PP_RULE_NO_FP8)

static const struct {
	const char *recipe;
	int llama;
	long long layers, hidden, heads, kv_heads;
	int comm_overlap; /* the recipe sets cfg.comm_overlap (CommOverlapConfig) */
} recipes[] = {
	/* recipes/llama/llama3.py aliases of recipes/llama/h100/llama3.py; models from the HF
	 * configs of meta-llama/Meta-Llama-3-8B, -70B, Llama-3.1-405B */
	{"llama3_8b_pretrain_config", 1, 32, 4096, 32, 8, 0},
	{"llama3_70b_pretrain_config", 1, 80, 8192, 64, 8, 1},
	{"llama31_405b_pretrain_config", 1, 126, 16384, 128, 8, 1},
	/* recipes/gpt/h100/gpt3_175b.py */
	{"gpt3_175b_pretrain_32gpu_h100_bf16_config", 0, 96, 12288, 96, 96, 1},
};

static const char *hbool(int x)
{
	return x ? "true" : "false";
}

int pp_emit_megatron_bridge(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			    pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	pp_emit_model ms;
	pp_sbuf b = PP_SBUF_INIT;
	size_t i, pick = 0, fallback = sh->family_llama ? 0 : 3;
	int rc, found = 0, nnodes, per_node, zero = pp_global_zero_stage(gl), acc;
	char eps[32], drop[32];

	*out = NULL;
	pp_emit_model_settings(plan, &ms);
	if (gl->hsdp_shard > 0 && gl->hsdp_shard < gl->d)
		return pp_error_set(err, PP_EINVALID, NULL, "global.hsdp_shard",
				    "megatron-bridge: rule \"no HSDP\": parplan does not write Megatron "
				    "FSDP's hybrid sharding yet");
	if ((rc = pp_emit_check_rules("megatron-bridge", plan, opts, BRIDGE_RULES, err)) < 0 ||
	    (rc = pp_emit_model_refuse("megatron-bridge", &ms,
				       PP_EMIT_CAN_ROPE_LLAMA3 | PP_EMIT_CAN_QKV_BIAS, err)) < 0)
		return rc;
	for (i = 0; i < sizeof(recipes) / sizeof(recipes[0]); i++)
		if (recipes[i].llama == sh->family_llama && recipes[i].layers == sh->layers &&
		    recipes[i].hidden == sh->hidden && recipes[i].heads == sh->heads &&
		    recipes[i].kv_heads == sh->kv_heads)
			pick = i, found = 1;
	if (!found)
		pick = fallback;
	pp_emit_nodes(plan, &nnodes, &per_node);

	pp_sb_printf(&b, "#!/usr/bin/env bash\n");
	pp_emit_header(&b, "Megatron-Bridge launch script", plan);
	pp_sb_printf(&b, "# Megatron-Bridge (NVIDIA-NeMo/Megatron-Bridge 067f987): the recipe %s%s\n"
			 "# with the plan as ConfigContainer overrides, through "
			 "scripts/training/run_recipe.py.\n"
			 "# Run on every node with NODE_RANK set (0 .. NNODES-1) and MASTER_ADDR naming "
			 "node 0;\n# MEGATRON_BRIDGE is the Megatron-Bridge checkout.  Mock data unless "
			 "DATASET names one\n# (e.g. megatron-indexed, with dataset.blend=... among the "
			 "arguments, which go last).\n",
		     recipes[pick].recipe, found ? "" : " (reshaped to the plan's model)");
	pp_sb_printf(&b, "set -euo pipefail\n\n");
	pp_sb_printf(&b, "NNODES=%d\nGPUS_PER_NODE=%d\n", nnodes, per_node);
	pp_sb_printf(&b, "NODE_RANK=${NODE_RANK:-0}\nMASTER_ADDR=${MASTER_ADDR:-localhost}\n"
			 "MASTER_PORT=${MASTER_PORT:-6000}\nTRAIN_ITERS=${TRAIN_ITERS:-100}\n"
			 "DATASET=${DATASET:-mock}\nMEGATRON_BRIDGE=${MEGATRON_BRIDGE:-.}\n"
			 "export CUDA_DEVICE_MAX_CONNECTIONS=1\n\n");
	pp_sb_printf(&b, "DISTRIBUTED=(\n\t--nproc_per_node \"$GPUS_PER_NODE\"\n\t--nnodes \"$NNODES\"\n"
			 "\t--node_rank \"$NODE_RANK\"\n\t--master_addr \"$MASTER_ADDR\"\n"
			 "\t--master_port \"$MASTER_PORT\"\n)\n");
	pp_sb_printf(&b, "RECIPE=(\n\t--recipe %s\n\t--mode pretrain\n\t--dataset \"$DATASET\"\n)\n",
		     recipes[pick].recipe);
	/* parallelism */
	pp_sb_printf(&b, "OVERRIDES=(\n\tmodel.tensor_model_parallel_size=%d\n"
			 "\tmodel.pipeline_model_parallel_size=%d\n"
			 "\tmodel.pipeline_model_parallel_layout=null\n",
		     gl->t, gl->p);
	if (gl->virtual_stages > 1)
		pp_sb_printf(&b, "\tmodel.virtual_pipeline_model_parallel_size=%d\n",
			     gl->virtual_stages);
	else
		pp_sb_printf(&b, "\tmodel.virtual_pipeline_model_parallel_size=null\n");
	/* uneven stages: the layer counts, or, interleaved with an end stage one layer short of a
	 * middle one that v does not divide, the embedding and loss counted as layers
	 * (pp_global_uneven_form; TransformerConfig refuses the two together, and some recipes set
	 * the account-for fields, so both are always written) */
	acc = (gl->first_stage_layers || gl->last_stage_layers) && plan->shape.layers <= INT_MAX &&
	      pp_global_uneven_form((int)plan->shape.layers, gl, NULL) == PP_UNEVEN_ACCOUNT;
	if (gl->first_stage_layers && !acc)
		pp_sb_printf(&b, "\tmodel.num_layers_in_first_pipeline_stage=%d\n",
			     gl->first_stage_layers);
	else
		pp_sb_printf(&b, "\tmodel.num_layers_in_first_pipeline_stage=null\n");
	if (gl->last_stage_layers && !acc)
		pp_sb_printf(&b, "\tmodel.num_layers_in_last_pipeline_stage=%d\n",
			     gl->last_stage_layers);
	else
		pp_sb_printf(&b, "\tmodel.num_layers_in_last_pipeline_stage=null\n");
	pp_sb_printf(&b, "\tmodel.account_for_embedding_in_pipeline_split=%s\n"
			 "\tmodel.account_for_loss_in_pipeline_split=%s\n",
		     hbool(acc && gl->first_stage_layers), hbool(acc && gl->last_stage_layers));
	pp_sb_printf(&b, "\tmodel.context_parallel_size=%d\n\tmodel.sequence_parallel=%s\n",
		     gl->cp > 1 ? gl->cp : 1, hbool(gl->sequence_parallel));
	if (gl->cp > 1) /* TransformerConfig.cp_comm_type */
		pp_sb_printf(&b, "\tmodel.cp_comm_type=%s\n",
			     pp_setting_value_name(&pp_settings()[PP_SETTING_CP_COMM_TYPE], gl->cp_comm_type));
	if (gl->cp > 1 && gl->cp_comm_type == PP_CP_A2A_P2P) /* TransformerConfig */
		pp_sb_printf(&b, "\tmodel.hierarchical_context_parallel_sizes=[%d,%d]\n", gl->cp_a2a,
			     gl->cp / gl->cp_a2a);
	if (gl->virtual_stages > 1 && !recipes[pick].comm_overlap)
		pp_sb_printf(&b, "\tmodel.overlap_p2p_comm=true\n\tmodel.batch_p2p_comm=false\n");
	if (recipes[pick].comm_overlap)
		pp_sb_printf(&b, "\tcomm_overlap.tp_comm_overlap=%s\n", hbool(gl->tp_comm_overlap));
	else
		pp_sb_printf(&b, "\tmodel.tp_comm_overlap=%s\n", hbool(gl->tp_comm_overlap));
	if (gl->recompute == PP_RECOMPUTE_FULL)
		pp_sb_printf(&b, "\tmodel.recompute_granularity=full\n"
				 "\tmodel.recompute_method=uniform\n\tmodel.recompute_num_layers=%d\n",
			     pp_emit_recompute_layers(plan, opts));
	else
		pp_sb_printf(&b, "\tmodel.recompute_granularity=%s\n\tmodel.recompute_method=null\n"
				 "\tmodel.recompute_num_layers=null\n",
			     gl->recompute == PP_RECOMPUTE_SELECTIVE ? "selective" : "null");
	/* the model */
	pp_sb_printf(&b, "\tmodel.num_layers=%lld\n\tmodel.hidden_size=%lld\n"
			 "\tmodel.ffn_hidden_size=%lld\n\tmodel.num_attention_heads=%lld\n"
			 "\tmodel.num_query_groups=%lld\n\tmodel.vocab_size=%lld\n",
		     (long long)sh->layers, (long long)sh->hidden, (long long)sh->ffn,
		     (long long)sh->heads, (long long)sh->kv_heads, (long long)sh->vocab);
	if (sh->vocab % gl->t == 0)
		pp_sb_printf(&b, "\tmodel.make_vocab_size_divisible_by=1\n");
	pp_sb_printf(&b, "\tmodel.seq_length=%lld\n\tdataset.seq_length=%lld\n",
		     (long long)sh->seq, (long long)sh->seq);
	pp_sb_printf(&b, "\tmodel.normalization=%s\n\tmodel.layernorm_epsilon=%s\n"
			 "\tmodel.hidden_dropout=%s\n\tmodel.attention_dropout=%s\n"
			 "\tmodel.add_bias_linear=%s\n\tmodel.add_qkv_bias=%s\n"
			 "\tmodel.gated_linear_unit=%s\n"
			 "\tmodel.share_embeddings_and_output_weights=%s\n"
			 "\tmodel.position_embedding_type=%s\n",
		     ms.rmsnorm ? "RMSNorm" : "LayerNorm", pp_emit_float(eps, sizeof(eps), ms.norm_eps),
		     pp_emit_float(drop, sizeof(drop), ms.dropout), drop,
		     hbool(ms.linear_bias), hbool(ms.qkv_bias), hbool(ms.gated),
		     hbool(sh->tied_embeddings), ms.rope ? "rope" : "learned_absolute");
	if (ms.rope)
		pp_sb_printf(&b, "\tmodel.rotary_base=%.0f\n", ms.rope_theta); /* an int field */
	if (ms.rope_llama3)
		pp_sb_printf(&b, "\tmodel.rope_scaling=true\n\tmodel.rope_scaling_factor=%s\n",
			     pp_emit_float(eps, sizeof(eps), ms.rope_factor));
	else if (ms.rope)
		pp_sb_printf(&b, "\tmodel.rope_scaling=false\n");
	/* batch, optimizer, data parallelism */
	pp_sb_printf(&b, "\ttrain.micro_batch_size=%d\n\ttrain.global_batch_size=%d\n"
			 "\ttrain.train_iters=\"$TRAIN_ITERS\"\n",
		     gl->micro_batch, gl->global_batch);
	/* ZeRO 1 is the distributed optimizer; 2 and 3 are Megatron FSDP's sharding strategies
	 * (mcore distributed_data_parallel_config.py data_parallel_sharding_strategy: optim,
	 * optim_grads, optim_grads_params) */
	pp_sb_printf(&b, "\tddp.use_distributed_optimizer=%s\n\toptimizer.use_distributed_optimizer=%s\n"
			 "\tddp.use_megatron_fsdp=%s\n\tddp.data_parallel_sharding_strategy=%s\n"
			 "\tddp.overlap_grad_reduce=%s\n\tddp.overlap_param_gather=%s\n"
			 "\toptimizer.overlap_param_gather=%s\n)\n\n",
		     hbool(zero > 0), hbool(zero > 0), hbool(zero > 1),
		     zero == 3 ? "optim_grads_params" : zero == 2 ? "optim_grads" : "no_shard",
		     hbool(gl->overlap_grad_reduce), hbool(gl->overlap_param_gather),
		     hbool(gl->overlap_param_gather));
	pp_sb_printf(&b, "exec torchrun \"${DISTRIBUTED[@]}\" "
			 "\"$MEGATRON_BRIDGE/scripts/training/run_recipe.py\" \\\n"
			 "\t\"${RECIPE[@]}\" \"${OVERRIDES[@]}\" \"$@\"\n");
	return pp_sb_finish(&b, out, err);
}
