/*
 * emit_nemo.c - a NeMo 1.x config in the layout of examples/nlp/language_modeling/conf/
 * megatron_gpt_config.yaml (trainer.*, model.*), for megatron_gpt_pretraining.py.
 *
 * trainer.devices is GPUs per node; the model block carries the parallel sizes, batch sizes,
 * sequence parallelism, activation checkpointing (granularity / method / num_layers: all null
 * without recompute, granularity only for selective) and the model shape; the distributed
 * optimizer is NeMo's distributed_fused_adam, its optim.overlap_grad_sync and
 * optim.overlap_param_sync the overlaps (megatron_gpt_model.py at NeMo 8cfedd72: param sync needs
 * grad sync), model.ub_tp_comm_overlap the tensor-parallel one.  NeMo 1.x splits layers evenly over stages, and
 * its Megatron core refuses interleaving with p <= 2.
 *
 * The file extends NeMo's own megatron_gpt_config.yaml through a Hydra defaults list (it goes
 * next to it in examples/nlp/language_modeling/conf/), so every setting it does not name keeps
 * NeMo's default.  What the user must give (the tokenizer, model.data.data_prefix) is written
 * as ${fill_in.<its key>}, an interpolation of a node that does not exist: reading the key stops
 * the run with OmegaConf's InterpolationKeyError, which names the key twice ("Interpolation key
 * 'fill_in.model.tokenizer.type' not found ... full_key: model.tokenizer.type").  Not "???":
 * OmegaConf.merge keeps the base config's value where the override is "???" (MISSING), so
 * composed over megatron_gpt_config.yaml the tokenizer would silently be its GPT2BPETokenizer
 * (omegaconf/basecontainer.py _map_merge skips a MISSING source value over a set one).
 * make_vocab_size_divisible_by 1 keeps the plan's vocabulary where t divides it (NeMo pads to a
 * multiple of it times t).
 */
#include <stdlib.h>

#include "emit_int.h"

#define NEMO_RULES                                                                                 \
	(PP_RULES_LAUNCHER | PP_RULE_NO_GPIPE | PP_RULE_NO_UNEVEN | PP_RULE_INTERLEAVE_P3 |         \
	 PP_RULE_OVERLAPS | PP_RULE_CP_P2P | PP_RULE_CP_SEQ | PP_RULE_ZERO1_ONLY | PP_RULE_NO_FP8)

int pp_emit_nemo(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	pp_sbuf b = PP_SBUF_INIT;
	pp_emit_model ms;
	int rc, nnodes, per_node, llama = sh->family_llama;
	char eps[32], drop[32];

	*out = NULL;
	pp_emit_model_settings(plan, &ms);
	/* NeMo 1.x (NVIDIA/NeMo b1f5aa3a nemo/collections/nlp/models/language_modeling/
	 * megatron_gpt_model.py): rotary_base, scale_positional_embedding (Llama 3.1 scaling with
	 * Megatron core's fixed factors), one bias switch */
	if ((rc = pp_emit_check_rules("nemo1", plan, opts, NEMO_RULES, err)) < 0 ||
	    (rc = pp_emit_model_refuse("nemo1", &ms, PP_EMIT_CAN_ROPE_LLAMA3, err)) < 0)
		return rc;
	if (ms.qkv_bias != ms.linear_bias)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.qkv_bias",
				    "nemo1: rule \"model settings\": one switch for every bias");
	pp_emit_nodes(plan, &nnodes, &per_node);
	pp_emit_header(&b, "NeMo 1.x megatron_gpt_config", plan);
	pp_sb_printf(&b, "# Settings over NeMo's megatron_gpt_config.yaml (the defaults list below): "
			 "copy this file\n# to examples/nlp/language_modeling/conf/nemo.yaml, replace each "
			 "${fill_in.KEY} (the tokenizer,\n# model.data.data_prefix: until then the run "
			 "stops naming KEY) or give KEY=... on the\n# command line, then run\n"
			 "#   python examples/nlp/language_modeling/megatron_gpt_pretraining.py "
			 "--config-name nemo\n");
	pp_sb_printf(&b, "defaults:\n  - megatron_gpt_config\n  - _self_\n");
	pp_sb_printf(&b, "name: megatron_gpt\n");
	pp_sb_printf(&b, "trainer:\n  devices: %d\n  num_nodes: %d\n  accelerator: gpu\n"
			 "  precision: bf16-mixed\n  logger: false\n  enable_checkpointing: false\n"
			 "  use_distributed_sampler: false\n  max_steps: 100\n  log_every_n_steps: 1\n",
		     per_node, nnodes);
	pp_sb_printf(&b, "exp_manager:\n  create_checkpoint_callback: false\n");
	pp_sb_printf(&b, "model:\n  mcore_gpt: true\n  micro_batch_size: %d\n  global_batch_size: %d\n"
			 "  rampup_batch_size: null\n",
		     gl->micro_batch, gl->global_batch);
	pp_sb_printf(&b, "  tensor_model_parallel_size: %d\n  pipeline_model_parallel_size: %d\n",
		     gl->t, gl->p);
	if (gl->virtual_stages > 1)
		pp_sb_printf(&b, "  virtual_pipeline_model_parallel_size: %d\n", gl->virtual_stages);
	else
		pp_sb_printf(&b, "  virtual_pipeline_model_parallel_size: null\n");
	pp_sb_printf(&b, "  sequence_parallel: %s\n", gl->sequence_parallel ? "true" : "false");
	if (gl->cp > 1)
		pp_sb_printf(&b, "  context_parallel_size: %d\n", gl->cp);
	if (gl->tp_comm_overlap) /* Transformer Engine userbuffers (model.ub_tp_comm_overlap) */
		pp_sb_printf(&b, "  ub_tp_comm_overlap: true\n");
	pp_sb_printf(&b, "  encoder_seq_length: %lld\n  max_position_embeddings: %lld\n"
			 "  num_layers: %lld\n  hidden_size: %lld\n  ffn_hidden_size: %lld\n"
			 "  num_attention_heads: %lld\n  num_query_groups: %lld\n",
		     (long long)sh->seq, (long long)sh->seq, (long long)sh->layers,
		     (long long)sh->hidden, (long long)sh->ffn, (long long)sh->heads,
		     (long long)sh->kv_heads);
	pp_sb_printf(&b, "  normalization: %s\n  layernorm_epsilon: %s\n  activation: %s\n"
			 "  position_embedding_type: %s\n  bias: %s\n"
			 "  share_embeddings_and_output_weights: %s\n"
			 "  hidden_dropout: %s\n  attention_dropout: %s\n",
		     ms.rmsnorm ? "rmsnorm" : "layernorm", pp_emit_float(eps, sizeof(eps), ms.norm_eps),
		     ms.gated ? "fast-swiglu" : "gelu", ms.rope ? "rope" : "learned_absolute",
		     ms.linear_bias ? "true" : "false", sh->tied_embeddings ? "true" : "false",
		     pp_emit_float(drop, sizeof(drop), ms.dropout), drop);
	if (ms.rope)
		pp_sb_printf(&b, "  rotary_base: %s\n  scale_positional_embedding: %s\n",
			     pp_emit_float(eps, sizeof(eps), ms.rope_theta),
			     ms.rope_llama3 ? "true" : "false");
	if (sh->vocab % gl->t == 0)
		pp_sb_printf(&b, "  make_vocab_size_divisible_by: 1\n");
	if (llama)
		pp_sb_printf(&b, "  tokenizer: # a Hugging Face tokenizer of %lld tokens, e.g. "
				 "meta-llama/Meta-Llama-3-8B\n    library: huggingface\n"
				 "    type: ${fill_in.model.tokenizer.type}\n    model: null\n    vocab_file: null\n"
				 "    merge_file: null\n    delimiter: null\n    use_fast: true\n",
			     (long long)sh->vocab);
	else
		pp_sb_printf(&b, "  tokenizer: # GPT-2 BPE files of %lld tokens\n    library: megatron\n"
				 "    type: GPT2BPETokenizer\n    model: null\n"
				 "    vocab_file: ${fill_in.model.tokenizer.vocab_file}\n"
				 "    merge_file: ${fill_in.model.tokenizer.merge_file}\n"
				 "    delimiter: null\n",
			     (long long)sh->vocab);
	pp_sb_printf(&b, "  data:\n    data_prefix: ${fill_in.model.data.data_prefix} # [weight, "
			 "path_text_document, ...] of "
			 "Megatron indexed datasets\n    data_impl: mmap\n    splits_string: 900,50,50\n"
			 "    seq_length: %lld\n",
		     (long long)sh->seq);
	if (gl->recompute == PP_RECOMPUTE_FULL)
		pp_sb_printf(&b, "  activations_checkpoint_granularity: full\n"
				 "  activations_checkpoint_method: uniform\n"
				 "  activations_checkpoint_num_layers: %d\n",
			     pp_emit_recompute_layers(plan, opts));
	else
		pp_sb_printf(&b, "  activations_checkpoint_granularity: %s\n"
				 "  activations_checkpoint_method: null\n"
				 "  activations_checkpoint_num_layers: null\n",
			     gl->recompute == PP_RECOMPUTE_SELECTIVE ? "selective" : "null");
	pp_sb_printf(&b, "  optim:\n    name: %s\n    lr: 1.0e-4\n",
		     gl->distributed_optimizer ? "distributed_fused_adam" : "fused_adam");
	if (gl->distributed_optimizer) {
		pp_sb_printf(&b, "    overlap_grad_sync: %s\n", gl->overlap_grad_reduce ? "true" : "false");
		pp_sb_printf(&b, "    overlap_param_sync: %s\n", gl->overlap_param_gather ? "true" : "false");
	}
	return pp_sb_finish(&b, out, err);
}
