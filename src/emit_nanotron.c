/*
 * emit_nanotron.c - a Nanotron YAML config (nanotron/config/config.py: general, parallelism,
 * model.model_config as a LlamaConfig, tokens, optimizer).
 *
 * parallelism: dp / pp / tp, pp_engine 1f1b or afab (all-forward-all-backward = GPipe),
 * tp_mode REDUCE_SCATTER with sequence parallelism else ALL_REDUCE, recompute_granularity
 * SELECTIVE / FULL; tokens: micro_batch_size, batch_accumulation_per_replica = global / (mb*dp),
 * sequence_length; the distributed optimizer is ZeRO-1 (optimizer.zero_stage: 1).  Nanotron
 * has Llama models only, no interleaved schedule, even stages, and needs kv heads >= tp.
 */
#include <stdlib.h>

#include "emit_int.h"

#define NANO_RULES                                                                              \
	(PP_RULES_LAUNCHER | PP_RULE_LLAMA_ONLY | PP_RULE_NO_INTERLEAVE | PP_RULE_NO_UNEVEN |   \
	 PP_RULE_KV_AT_LEAST_T)

int pp_emit_nanotron(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	const pp_model_shape *sh = &plan->shape;
	pp_sbuf b = PP_SBUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = pp_emit_check_rules("nanotron", plan, opts, NANO_RULES, err)) < 0)
		return rc;
	pp_emit_header(&b, "Nanotron config", plan);
	pp_sb_printf(&b, "# torchrun --nproc_per_node %d run_train.py --config-file nanotron.yaml\n",
		     plan->gpus < plan->node_devices ? plan->gpus : plan->node_devices);
	pp_sb_printf(&b, "general:\n  project: parplan\n  run: \"%s\"\n  seed: 42\n", plan->model);
	pp_sb_printf(&b, "checkpoints:\n  checkpoints_path: checkpoints\n  checkpoint_interval: 1000\n");
	pp_sb_printf(&b, "parallelism:\n  dp: %d\n  pp: %d\n  tp: %d\n  pp_engine: %s\n  tp_mode: %s\n"
			 "  tp_linear_async_communication: %s\n",
		     gl->d, gl->p, gl->t, gl->schedule == PP_SCHED_GPIPE ? "afab" : "1f1b",
		     gl->sequence_parallel ? "REDUCE_SCATTER" : "ALL_REDUCE",
		     gl->sequence_parallel ? "true" : "false");
	if (gl->recompute != PP_RECOMPUTE_NONE)
		pp_sb_printf(&b, "  recompute_granularity: %s\n",
			     gl->recompute == PP_RECOMPUTE_FULL ? "FULL" : "SELECTIVE");
	pp_sb_printf(&b, "model:\n  dtype: bfloat16\n  init_method:\n    std: 0.02\n"
			 "  make_vocab_size_divisible_by: 1\n  model_config:\n"
			 "    is_llama_config: true\n    hidden_act: silu\n    hidden_size: %lld\n"
			 "    intermediate_size: %lld\n    num_attention_heads: %lld\n"
			 "    num_hidden_layers: %lld\n    num_key_value_heads: %lld\n"
			 "    max_position_embeddings: %lld\n    vocab_size: %lld\n"
			 "    tie_word_embeddings: %s\n    rms_norm_eps: 1.0e-05\n",
		     (long long)sh->hidden, (long long)sh->ffn, (long long)sh->heads,
		     (long long)sh->layers, (long long)sh->kv_heads, (long long)sh->seq,
		     (long long)sh->vocab, sh->tied_embeddings ? "true" : "false");
	pp_sb_printf(&b, "tokens:\n  micro_batch_size: %d\n  batch_accumulation_per_replica: %d\n"
			 "  sequence_length: %lld\n  train_steps: 100\n",
		     gl->micro_batch, pp_global_microbatches(gl), (long long)sh->seq);
	pp_sb_printf(&b, "optimizer:\n  zero_stage: %d\n  accumulate_grad_in_fp32: true\n"
			 "  clip_grad: 1.0\n  learning_rate_scheduler:\n    learning_rate: 1.0e-4\n"
			 "  optimizer_factory:\n    name: adamW\n",
		     pp_emit_zero_stage(plan, opts) > 0 ? 1 : 0);
	return pp_sb_finish(&b, out, err);
}
