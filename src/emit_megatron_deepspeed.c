/*
 * emit_megatron_deepspeed.c - a bash script for Megatron-DeepSpeed's pretrain_gpt.py: the
 * Megatron flags it shares (see emit_megatron.c, with its older spellings: --num-key-value-heads,
 * --normalization rmsnorm, --use-rotary-position-embeddings, --no-pipeline-parallel for p = 1)
 * plus --deepspeed --deepspeed_config ds_config.json --zero-stage N.  It has no --mock-data, so
 * the script stops unless DATA_ARGS gives the data and tokenizer flags.  ds_config.json itself is
 * the "deepspeed" format (emit_deepspeed.c).  ZeRO replaces Megatron's distributed optimizer.
 */
#include <stdlib.h>

#include "emit_int.h"

int pp_emit_megatron_deepspeed(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			       pp_error *err)
{
	const pp_global *gl = &plan->global;
	pp_sbuf b = PP_SBUF_INIT;
	int rc;

	*out = NULL;
	/* DeepSpeed's pipeline engine has one schedule (its 1F1B TrainSchedule) and splits
	 * layers evenly (partition_method "uniform" on layers) */
	if ((rc = pp_emit_check_rules("megatron-deepspeed", plan, opts,
				      PP_RULES_LAUNCHER | PP_RULE_NO_FP8 | PP_RULE_ZERO | PP_RULE_NO_GPIPE |
					      PP_RULE_NO_INTERLEAVE | PP_RULE_NO_UNEVEN | PP_RULE_NO_CP,
				      err)) < 0 ||
	    (rc = pp_emit_megatron_model_check(plan, 1, err)) < 0)
		return rc;
	pp_sb_printf(&b, "#!/usr/bin/env bash\n");
	pp_emit_header(&b, "Megatron-DeepSpeed launch script", plan);
	pp_sb_printf(&b, "# Write ds_config.json next to this script with `parplan emit --format "
			 "deepspeed`.\n# Run on every node with NODE_RANK set and MASTER_ADDR naming "
			 "node 0;\n# MEGATRON_DEEPSPEED is the Megatron-DeepSpeed checkout.\n");
	pp_emit_megatron_preamble(&b, plan, 1);
	pp_sb_printf(&b, "MEGATRON_DEEPSPEED=${MEGATRON_DEEPSPEED:-.}\n"
			 "DS_CONFIG=${DS_CONFIG:-$(dirname \"$0\")/ds_config.json}\n\n");
	pp_sb_printf(&b, "DISTRIBUTED=(\n\t--nproc_per_node \"$GPUS_PER_NODE\"\n\t--nnodes \"$NNODES\"\n"
			 "\t--node_rank \"$NODE_RANK\"\n\t--master_addr \"$MASTER_ADDR\"\n"
			 "\t--master_port \"$MASTER_PORT\"\n)\n");
	pp_emit_megatron_model_args(&b, plan, 1);
	pp_sb_printf(&b, "PARALLEL=(\n\t--tensor-model-parallel-size %d\n"
			 "\t--pipeline-model-parallel-size %d\n",
		     gl->t, gl->p);
	if (gl->p == 1)
		pp_sb_printf(&b, "\t--no-pipeline-parallel\n");
	if (gl->sequence_parallel)
		pp_sb_printf(&b, "\t--sequence-parallel\n");
	pp_emit_megatron_recompute_args(&b, plan, opts);
	pp_sb_printf(&b, ")\nDEEPSPEED=(\n\t--deepspeed\n\t--deepspeed_config \"$DS_CONFIG\"\n"
			 "\t--zero-stage %d\n)\n",
		     pp_emit_zero_stage(plan, opts));
	pp_sb_printf(&b, "TRAINING=(\n\t--bf16\n\t--train-iters \"$TRAIN_ITERS\"\n\t--lr \"$LR\"\n"
			 "\t--log-interval 1\n)\n\n");
	pp_sb_printf(&b, "exec torchrun \"${DISTRIBUTED[@]}\" \"$MEGATRON_DEEPSPEED/pretrain_gpt.py\" \\\n"
			 "\t\"${MODEL[@]}\" \"${BATCH[@]}\" \"${PARALLEL[@]}\" \"${DEEPSPEED[@]}\" "
			 "\"${TRAINING[@]}\" \"${DATA[@]}\"\n");
	return pp_sb_finish(&b, out, err);
}
