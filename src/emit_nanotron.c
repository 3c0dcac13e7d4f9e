/*
 * emit_nanotron.c - a Nanotron YAML config (nanotron/config/config.py, read with dacite
 * strict=True: every required field present, no unknown field, floats written as floats).
 *
 * Sections as in examples/config_tiny_llama.yaml: general, checkpoints, logging, parallelism
 * (dp / pp / tp, pp_engine 1f1b or afab (all-forward-all-backward = GPipe), tp_mode
 * REDUCE_SCATTER with sequence parallelism else ALL_REDUCE, recompute_layer for full
 * recompute: Nanotron has no selective recompute), model (model_config as a LlamaConfig),
 * tokens (micro_batch_size, batch_accumulation_per_replica = global / (mb*dp),
 * sequence_length), optimizer (the distributed optimizer is ZeRO-1: zero_stage 1) and one data
 * stage with dataset null (Nanotron's dummy data; put a dataset there).  Nanotron has Llama
 * models only, no interleaved schedule, even stages, and needs kv heads >= tp (rules checked
 * against huggingface/nanotron 2411b022a75fb7f7561a1bb4166706da5e1b76de: config/config.py,
 * parallelism_config.py, helpers.py).
 */
#include <stdlib.h>

#include "emit_int.h"

#define NANO_RULES                                                                              \
	(PP_RULES_LAUNCHER | PP_RULE_NO_FP8 | PP_RULE_LLAMA_ONLY | PP_RULE_NO_INTERLEAVE | PP_RULE_NO_UNEVEN |   \
	 PP_RULE_KV_AT_LEAST_T | PP_RULE_NO_SELECTIVE | PP_RULE_ZERO1_ONLY |      \
	 PP_RULE_NO_CP)

int pp_emit_nanotron(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	pp_sbuf b = PP_SBUF_INIT;
	pp_emit_model ms;
	char model[sizeof(plan->model)], eps[32], theta[32];
	int rc;

	*out = NULL;
	pp_emit_model_settings(plan, &ms);
	/* Nanotron's LlamaConfig (config/models_config.py) has rope_theta, rms_norm_eps,
	 * attention_bias (every attention projection) and no MLP bias; its llama.py never reads
	 * rope_scaling */
	if ((rc = pp_emit_check_rules("nanotron", plan, opts, NANO_RULES, err)) < 0 ||
	    (rc = pp_emit_model_refuse("nanotron", &ms, 0, err)) < 0)
		return rc;
	if (ms.linear_bias || ms.qkv_bias)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.qkv_bias",
				    "nanotron: rule \"model settings\": Nanotron's Llama has no MLP "
				    "bias");
	pp_emit_header(&b, "Nanotron config", plan);
	pp_sb_printf(&b, "# torchrun --nproc_per_node %d run_train.py --config-file nanotron.yaml\n",
		     plan->gpus < plan->node_devices ? plan->gpus : plan->node_devices);
	pp_sb_printf(&b, "general:\n  project: parplan\n  run: \"%s\"\n  seed: 42\n"
			 "  ignore_sanity_checks: true\n",
		     pp_emit_safe_name(model, sizeof(model), plan->model));
	pp_sb_printf(&b, "checkpoints:\n  checkpoints_path: checkpoints\n  checkpoint_interval: 1000\n"
			 "  save_initial_state: false\n  resume_checkpoint_path: null\n"
			 "  checkpoints_path_is_shared_file_system: false\n");
	pp_sb_printf(&b, "logging:\n  iteration_step_info_interval: 1\n  log_level: info\n"
			 "  log_level_replica: info\n");
	pp_sb_printf(&b, "parallelism:\n  dp: %d\n  pp: %d\n  tp: %d\n  expert_parallel_size: 1\n"
			 "  pp_engine: %s\n  tp_mode: %s\n  tp_linear_async_communication: %s\n"
			 "  recompute_layer: %s\n",
		     gl->d, gl->p, gl->t, gl->schedule == PP_SCHED_GPIPE ? "afab" : "1f1b",
		     gl->sequence_parallel ? "REDUCE_SCATTER" : "ALL_REDUCE",
		     gl->sequence_parallel ? "true" : "false",
		     gl->recompute == PP_RECOMPUTE_FULL ? "true" : "false");
	pp_sb_printf(&b, "model:\n  ddp_bucket_cap_mb: 25\n  dtype: bfloat16\n  init_method:\n"
			 "    std: 0.02\n  make_vocab_size_divisible_by: 1\n  model_config:\n"
			 "    is_llama_config: true\n    bos_token_id: 1\n    eos_token_id: 2\n"
			 "    pad_token_id: null\n    hidden_act: %s\n    hidden_size: %lld\n"
			 "    initializer_range: 0.02\n    intermediate_size: %lld\n"
			 "    num_attention_heads: %lld\n    num_hidden_layers: %lld\n"
			 "    num_key_value_heads: %lld\n    max_position_embeddings: %lld\n"
			 "    vocab_size: %lld\n    tie_word_embeddings: %s\n    rms_norm_eps: %s\n"
			 "    rope_theta: %s\n    attention_bias: false\n"
			 "    pretraining_tp: 1\n    rope_scaling: null\n    use_cache: true\n",
		     ms.activation, (long long)sh->hidden, (long long)sh->ffn, (long long)sh->heads,
		     (long long)sh->layers, (long long)sh->kv_heads, (long long)sh->seq,
		     (long long)sh->vocab, sh->tied_embeddings ? "true" : "false",
		     pp_emit_float(eps, sizeof(eps), ms.norm_eps),
		     pp_emit_float(theta, sizeof(theta), ms.rope_theta));
	pp_sb_printf(&b, "tokens:\n  micro_batch_size: %d\n  batch_accumulation_per_replica: %d\n"
			 "  sequence_length: %lld\n  train_steps: 100\n  val_check_interval: -1\n"
			 "  limit_val_batches: 0\n  limit_test_batches: 0\n",
		     gl->micro_batch, pp_global_microbatches(gl), (long long)sh->seq);
	pp_sb_printf(&b, "optimizer:\n  zero_stage: %d\n  weight_decay: 0.01\n"
			 "  accumulate_grad_in_fp32: true\n  clip_grad: 1.0\n"
			 "  learning_rate_scheduler:\n    learning_rate: 1.0e-04\n"
			 "    lr_warmup_steps: 10\n    lr_warmup_style: linear\n"
			 "    lr_decay_style: cosine\n    min_decay_lr: 1.0e-05\n"
			 "  optimizer_factory:\n    name: adamW\n    adam_beta1: 0.9\n"
			 "    adam_beta2: 0.95\n    adam_eps: 1.0e-08\n    torch_adam_is_fused: true\n",
		     pp_emit_zero_stage(plan, opts) > 0 ? 1 : 0);
	pp_sb_printf(&b, "# dataset null: Nanotron's dummy data; give a dataset (hf_dataset_or_datasets, "
			 "...) to train\ndata_stages:\n- name: Stable Training Stage\n"
			 "  start_training_step: 1\n  data:\n    dataset: null\n    seed: 42\n"
			 "    num_loading_workers: 1\n");
	return pp_sb_finish(&b, out, err);
}
