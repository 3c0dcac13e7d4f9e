/*
 * emit_megatron.c - a bash script that launches Megatron-LM's pretrain_gpt.py with torchrun.
 *
 * Flags are Megatron-LM's (megatron/training/arguments.py, core_r0.10 and later):
 * --tensor-model-parallel-size, --pipeline-model-parallel-size,
 * --num-virtual-stages-per-pipeline-rank (interleaved), --decoder-first-pipeline-num-layers /
 * --decoder-last-pipeline-num-layers (uneven stages; interleaved, where an end stage holds one
 * layer fewer than a middle one and that count is no multiple of v,
 * --account-for-embedding-in-pipeline-split / --account-for-loss-in-pipeline-split instead:
 * pp_global_uneven_form, Megatron-LM d98e8a64 arguments.py and transformer_config.py),
 * --sequence-parallel,
 * --use-distributed-optimizer, --overlap-grad-reduce, --overlap-param-gather (needs the
 * distributed optimizer and --overlap-grad-reduce), --tp-comm-overlap (needs sequence
 * parallelism; arguments.py validate_args at d98e8a64), --recompute-granularity / -method /
 * -num-layers, the model shape (--group-query-attention --num-query-groups) and settings
 * (dropout, norm and its epsilon, SwiGLU, RoPE base and Llama 3.1 scaling, biases, tied
 * embeddings: pp_emit_model_settings), --micro-batch-size and --global-batch-size (never
 * a batch-size ramp: the plan is for one global batch).  Arguments are bash arrays, one flag per
 * line, so that the script reads like a table and `bash -n` checks it.  The helpers here also
 * serve emit_megatron_deepspeed.c.
 */
#include <stdlib.h>

#include "emit_int.h"

void pp_emit_megatron_preamble(pp_sbuf *b, const pp_plan *plan, int deepspeed)
{
	int nnodes, per_node;
	pp_emit_nodes(plan, &nnodes, &per_node);
	pp_sb_printf(b, "set -euo pipefail\n\n");
	pp_sb_printf(b, "NNODES=%d\nGPUS_PER_NODE=%d\n", nnodes, per_node);
	pp_sb_printf(b, "NODE_RANK=${NODE_RANK:-0}\nMASTER_ADDR=${MASTER_ADDR:-localhost}\n"
			"MASTER_PORT=${MASTER_PORT:-6000}\nTRAIN_ITERS=${TRAIN_ITERS:-100}\n"
			"LR=${LR:-1.0e-4}\n");
	if (deepspeed) {
		/* Megatron-DeepSpeed has no --mock-data: the data must be given */
		pp_sb_printf(b, "# DATA_ARGS (required): --data-path and tokenizer flags (a tokenizer "
				"of %lld tokens)\n",
			     (long long)plan->shape.vocab);
		pp_sb_printf(b, "if [ -z \"${DATA_ARGS:-}\" ]; then\n\techo \"$0: set DATA_ARGS to "
				"the --data-path and tokenizer flags (Megatron-DeepSpeed has no mock "
				"data)\" >&2\n\texit 2\nfi\nread -r -a DATA <<<\"$DATA_ARGS\"\n\n");
		return;
	}
	/* NullTokenizer's vocabulary is --vocab-size plus one end-of-document token */
	pp_sb_printf(b, "# DATA_ARGS: --data-path and tokenizer flags; mock data by default (NullTokenizer\n"
			"# adds an end-of-document token to --vocab-size: %lld tokens in all)\n",
		     (long long)plan->shape.vocab);
	pp_sb_printf(b, "if [ -n \"${DATA_ARGS:-}\" ]; then\n\tread -r -a DATA <<<\"$DATA_ARGS\"\n"
			"else\n\tDATA=(--mock-data --tokenizer-type NullTokenizer --vocab-size %lld)\n"
			"fi\n\n",
		     (long long)plan->shape.vocab - 1);
}

int pp_emit_megatron_model_check(const pp_plan *plan, int deepspeed, pp_error *err)
{
	const char *fmt = deepspeed ? "megatron-deepspeed" : "megatron";
	pp_emit_model ms;
	int rc;

	pp_emit_model_settings(plan, &ms);
	/* Megatron-DeepSpeed (deepspeedai/Megatron-DeepSpeed 4efb479 megatron/arguments.py) has no
	 * rope scaling and one bias switch */
	if ((rc = pp_emit_model_refuse(fmt, &ms,
				       deepspeed ? 0 : PP_EMIT_CAN_ROPE_LLAMA3 | PP_EMIT_CAN_QKV_BIAS,
				       err)) < 0)
		return rc;
	if (deepspeed && ms.qkv_bias != ms.linear_bias)
		return pp_error_set(err, PP_EINVALID, NULL, "model_shape.model.qkv_bias",
				    "%s: rule \"model settings\": one switch for every bias", fmt);
	return 0;
}

void pp_emit_megatron_model_args(pp_sbuf *b, const pp_plan *plan, int deepspeed)
{
	const pp_model_shape *sh = &plan->shape;
	const pp_global *gl = &plan->global;
	pp_emit_model ms;
	char x[32];

	pp_emit_model_settings(plan, &ms);
	pp_sb_printf(b, "MODEL=(\n");
	pp_sb_printf(b, "\t--num-layers %lld\n", (long long)sh->layers);
	pp_sb_printf(b, "\t--hidden-size %lld\n", (long long)sh->hidden);
	pp_sb_printf(b, "\t--ffn-hidden-size %lld\n", (long long)sh->ffn);
	pp_sb_printf(b, "\t--num-attention-heads %lld\n", (long long)sh->heads);
	if (sh->kv_heads != sh->heads) {
		if (deepspeed)
			pp_sb_printf(b, "\t--num-key-value-heads %lld\n", (long long)sh->kv_heads);
		else
			pp_sb_printf(b, "\t--group-query-attention\n\t--num-query-groups %lld\n",
				     (long long)sh->kv_heads);
	}
	/* Megatron pads the vocabulary to a multiple of this times t (default 128): 1 keeps the
	 * plan's vocabulary where t divides it */
	if (sh->vocab % gl->t == 0)
		pp_sb_printf(b, "\t--make-vocab-size-divisible-by 1\n");
	pp_sb_printf(b, "\t--seq-length %lld\n", (long long)sh->seq);
	pp_sb_printf(b, "\t--max-position-embeddings %lld\n", (long long)sh->seq);
	/* the model settings (TransformerConfig fields as flags in Megatron-LM: hidden_dropout,
	 * attention_dropout, layernorm_epsilon as --norm-epsilon; Megatron-DeepSpeed's own
	 * spellings); both default to dropout 0.1 and RoPE base 10000 */
	pp_sb_printf(b, "\t--hidden-dropout %s\n", pp_emit_float(x, sizeof(x), ms.dropout));
	pp_sb_printf(b, "\t--attention-dropout %s\n", x);
	pp_sb_printf(b, "\t--%s %s\n", deepspeed ? "layernorm-epsilon" : "norm-epsilon",
		     pp_emit_float(x, sizeof(x), ms.norm_eps));
	if (ms.rmsnorm)
		pp_sb_printf(b, "\t--normalization %s\n", deepspeed ? "rmsnorm" : "RMSNorm");
	if (ms.gated)
		pp_sb_printf(b, "\t--swiglu\n");
	if (ms.rope && deepspeed)
		pp_sb_printf(b, "\t--use-rotary-position-embeddings\n"
				"\t--rotary-position-embeddings-theta %.0f\n"
				"\t--no-query-key-layer-scaling\n",
			     ms.rope_theta);
	else if (ms.rope)
		pp_sb_printf(b, "\t--position-embedding-type rope\n\t--rotary-base %.0f\n",
			     ms.rope_theta);
	if (ms.rope_llama3)
		pp_sb_printf(b, "\t--use-rope-scaling\n\t--rope-scaling-factor %s\n",
			     pp_emit_float(x, sizeof(x), ms.rope_factor));
	if (!ms.linear_bias)
		pp_sb_printf(b, "\t--disable-bias-linear\n");
	if (ms.qkv_bias && !ms.linear_bias)
		pp_sb_printf(b, "\t--add-qkv-bias\n");
	if (!sh->tied_embeddings)
		pp_sb_printf(b, "\t--untie-embeddings-and-output-weights\n");
	pp_sb_printf(b, ")\nBATCH=(\n\t--micro-batch-size %d\n\t--global-batch-size %d\n)\n",
		     gl->micro_batch, gl->global_batch);
}

void pp_emit_megatron_recompute_args(pp_sbuf *b, const pp_plan *plan, const pp_emit_opts *opts)
{
	if (plan->global.recompute == PP_RECOMPUTE_FULL)
		pp_sb_printf(b, "\t--recompute-granularity full\n\t--recompute-method uniform\n"
				"\t--recompute-num-layers %d\n",
			     pp_emit_recompute_layers(plan, opts));
	else if (plan->global.recompute == PP_RECOMPUTE_SELECTIVE)
		pp_sb_printf(b, "\t--recompute-granularity selective\n");
}

/*
 * Mixture of experts, MLA and MTP: Megatron-LM's flags (NVIDIA/Megatron-LM d98e8a64dd:
 * megatron/training/arguments.py _add_moe_args and _add_mla_args; the rest are
 * TransformerConfig / ModelParallelConfig fields made flags by ArgumentGroupFactory,
 * megatron/core/transformer/transformer_config.py: num_moe_experts is --num-experts,
 * moe_router_topk, moe_ffn_hidden_size, moe_shared_expert_intermediate_size, moe_grouped_gemm,
 * moe_token_dispatcher_type, moe_router_score_function, moe_router_enable_expert_bias,
 * moe_router_num_groups / moe_router_group_topk (group-limited routing, groups = nodes),
 * multi_latent_attention, mtp_num_layers, qk_layernorm, kv_channels; expert_model_parallel_size
 * and expert_tensor_parallel_size, megatron/core/model_parallel_config.py).  --moe-layer-freq
 * takes a Python list expression for leading dense layers ("([0]*3+[1]*58)").
 */
static void moe_args(pp_sbuf *b, const pp_plan *plan)
{
	const pp_moe_shape *m = &plan->shape.moe;
	const pp_global *gl = &plan->global;
	pp_sb_printf(b, "MOE=(\n");
	if (m->head_dim && m->head_dim * plan->shape.heads != plan->shape.hidden)
		pp_sb_printf(b, "\t--kv-channels %lld\n", (long long)m->head_dim);
	if (m->qk_norm)
		pp_sb_printf(b, "\t--qk-layernorm\n");
	if (m->kv_lora) {
		pp_sb_printf(b, "\t--multi-latent-attention\n");
		if (m->q_lora)
			pp_sb_printf(b, "\t--q-lora-rank %lld\n", (long long)m->q_lora);
		pp_sb_printf(b, "\t--kv-lora-rank %lld\n\t--qk-head-dim %lld\n\t--qk-pos-emb-head-dim %lld\n"
				"\t--v-head-dim %lld\n",
			     (long long)m->kv_lora, (long long)m->qk_nope, (long long)m->qk_rope,
			     (long long)m->v_head);
	}
	if (m->experts) {
		pp_sb_printf(b, "\t--num-experts %lld\n\t--moe-router-topk %lld\n\t--moe-ffn-hidden-size %lld\n",
			     (long long)m->experts, (long long)m->topk, (long long)m->moe_ffn);
		if (m->shared_ffn)
			pp_sb_printf(b, "\t--moe-shared-expert-intermediate-size %lld\n", (long long)m->shared_ffn);
		if (m->dense_layers)
			pp_sb_printf(b, "\t--moe-layer-freq '([0]*%lld+[1]*%lld)'\n", (long long)m->dense_layers,
				     (long long)(plan->shape.layers - m->dense_layers));
		pp_sb_printf(b, "\t--moe-grouped-gemm\n\t--moe-token-dispatcher-type alltoall\n");
		if (m->sigmoid)
			pp_sb_printf(b, "\t--moe-router-score-function sigmoid\n");
		if (m->expert_bias)
			pp_sb_printf(b, "\t--moe-router-enable-expert-bias\n");
		if (gl->moe_max_nodes > 0 && (long long)gl->ep * gl->etp > plan->node_devices) {
			long long nodes = (long long)gl->ep * gl->etp / plan->node_devices;
			pp_sb_printf(b, "\t--moe-router-num-groups %lld\n\t--moe-router-group-topk %d\n", nodes,
				     gl->moe_max_nodes);
		}
		/* capacity factor, padding and the all-to-all overlap: TransformerConfig's
		 * moe_expert_capacity_factor, moe_pad_expert_input_to_capacity and
		 * overlap_moe_expert_parallel_comm (Megatron-LM d98e8a64dd: flags from the dataclass
		 * fields through ArgumentGroupFactory, megatron/training/arguments.py) */
		if (gl->moe_capacity > 0)
			pp_sb_printf(b, "\t--moe-expert-capacity-factor %g\n", gl->moe_capacity / 100.0);
		if (gl->moe_pad_capacity)
			pp_sb_printf(b, "\t--moe-pad-expert-input-to-capacity\n");
		if (gl->overlap_moe_a2a)
			pp_sb_printf(b, "\t--overlap-moe-expert-parallel-comm\n");
	}
	if (m->mtp)
		pp_sb_printf(b, "\t--mtp-num-layers %lld\n", (long long)m->mtp);
	pp_sb_printf(b, ")\n");
}

static int is_moe_plan(const pp_plan *plan)
{
	const pp_moe_shape *m = &plan->shape.moe;
	return m->experts || m->kv_lora || m->mtp || m->qk_norm ||
	       (m->head_dim && m->head_dim * plan->shape.heads != plan->shape.hidden);
}

int pp_emit_megatron(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	pp_sbuf b = PP_SBUF_INIT;
	int rc;

	*out = NULL;
	/* Interleaving with p = 2: Megatron-LM (NVIDIA/Megatron-LM d98e8a64,
	 * megatron/training/arguments.py validate_args) requires p > 2 only without p2p overlap,
	 * and overlap_p2p_comm is on unless --no-overlap-p2p-communication is given (which this
	 * script never does): no p > 2 rule. */
	if ((rc = pp_emit_check_rules("megatron", plan, opts,
				      PP_RULES_LAUNCHER | PP_RULE_NO_GPIPE | PP_RULE_OVERLAPS |
					      PP_RULE_CP_SEQ | PP_RULE_ZERO1_ONLY,
				      err)) < 0 ||
	    (rc = pp_emit_megatron_model_check(plan, 0, err)) < 0)
		return rc;
	pp_sb_printf(&b, "#!/usr/bin/env bash\n");
	pp_emit_header(&b, "Megatron-LM launch script", plan);
	pp_sb_printf(&b, "# Run on every node with NODE_RANK set (0 .. NNODES-1) and MASTER_ADDR naming "
			 "node 0;\n# MEGATRON_LM is the Megatron-LM checkout.\n");
	pp_emit_megatron_preamble(&b, plan, 0);
	pp_sb_printf(&b, "MEGATRON_LM=${MEGATRON_LM:-.}\nexport CUDA_DEVICE_MAX_CONNECTIONS=1\n\n");
	pp_sb_printf(&b, "DISTRIBUTED=(\n\t--nproc_per_node \"$GPUS_PER_NODE\"\n\t--nnodes \"$NNODES\"\n"
			 "\t--node_rank \"$NODE_RANK\"\n\t--master_addr \"$MASTER_ADDR\"\n"
			 "\t--master_port \"$MASTER_PORT\"\n)\n");
	pp_emit_megatron_model_args(&b, plan, 0);
	if (is_moe_plan(plan))
		moe_args(&b, plan);
	pp_sb_printf(&b, "PARALLEL=(\n\t--tensor-model-parallel-size %d\n"
			 "\t--pipeline-model-parallel-size %d\n",
		     gl->t, gl->p);
	if (plan->shape.moe.experts)
		pp_sb_printf(&b, "\t--expert-model-parallel-size %d\n\t--expert-tensor-parallel-size %d\n",
			     gl->ep, gl->etp);
	if (gl->virtual_stages > 1)
		pp_sb_printf(&b, "\t--num-virtual-stages-per-pipeline-rank %d\n", gl->virtual_stages);
	if (pp_global_uneven_form((int)plan->shape.layers, gl, NULL) == PP_UNEVEN_ACCOUNT) {
		/* the end stage's one layer fewer is the embedding's (loss's) slot */
		if (gl->first_stage_layers)
			pp_sb_printf(&b, "\t--account-for-embedding-in-pipeline-split\n");
		if (gl->last_stage_layers)
			pp_sb_printf(&b, "\t--account-for-loss-in-pipeline-split\n");
	} else {
		if (gl->first_stage_layers)
			pp_sb_printf(&b, "\t--decoder-first-pipeline-num-layers %d\n", gl->first_stage_layers);
		if (gl->last_stage_layers)
			pp_sb_printf(&b, "\t--decoder-last-pipeline-num-layers %d\n", gl->last_stage_layers);
	}
	if (gl->sequence_parallel)
		pp_sb_printf(&b, "\t--sequence-parallel\n");
	if (gl->cp > 1) /* ModelParallelConfig.context_parallel_size; --cp-comm-type names */
		pp_sb_printf(&b, "\t--context-parallel-size %d\n\t--cp-comm-type %s\n", gl->cp,
			     gl->cp_comm_type == PP_CP_A2A	     ? "a2a"
			     : gl->cp_comm_type == PP_CP_ALLGATHER ? "all_gather"
								   : "p2p");
	if (gl->distributed_optimizer)
		pp_sb_printf(&b, "\t--use-distributed-optimizer\n");
	if (gl->overlap_grad_reduce)
		pp_sb_printf(&b, "\t--overlap-grad-reduce\n");
	if (gl->overlap_param_gather)
		pp_sb_printf(&b, "\t--overlap-param-gather\n");
	if (gl->tp_comm_overlap)
		pp_sb_printf(&b, "\t--tp-comm-overlap\n");
	pp_emit_megatron_recompute_args(&b, plan, opts);
	pp_sb_printf(&b, ")\n");
	pp_sb_printf(&b, "TRAINING=(\n\t--bf16\n");
	/* fp8 (Megatron-LM d98e8a64 transformer_config.py: fp8 as --fp8-format, fp8_recipe,
	 * fp8_amax_history_len, fp8_amax_compute_algo; arguments.py --fp8-param-gather, which needs
	 * the distributed optimizer or FSDP): the hybrid format (e4m3 forward, e5m2 gradients) with
	 * delayed scaling as examples/llama/train_llama3_8b_h100_fp8.sh sets it; mxfp8 is the
	 * block-scaled recipe with e4m3 throughout */
	if (gl->precision == PP_PREC_FP8)
		pp_sb_printf(&b, "\t--fp8-format hybrid\n\t--fp8-recipe delayed\n"
				 "\t--fp8-amax-history-len 1024\n\t--fp8-amax-compute-algo max\n");
	else if (gl->precision == PP_PREC_MXFP8)
		pp_sb_printf(&b, "\t--fp8-format e4m3\n\t--fp8-recipe mxfp8\n");
	if (gl->fp8_param_gather)
		pp_sb_printf(&b, "\t--fp8-param-gather\n");
	pp_sb_printf(&b, "\t--train-iters \"$TRAIN_ITERS\"\n\t--lr \"$LR\"\n"
			 "\t--log-interval 1\n)\n\n");
	pp_sb_printf(&b, "exec torchrun \"${DISTRIBUTED[@]}\" \"$MEGATRON_LM/pretrain_gpt.py\" \\\n"
			 "\t\"${MODEL[@]}\" %s\"${BATCH[@]}\" \"${PARALLEL[@]}\" \"${TRAINING[@]}\" "
			 "\"${DATA[@]}\"\n", is_moe_plan(plan) ? "\"${MOE[@]}\" " : "");
	return pp_sb_finish(&b, out, err);
}
