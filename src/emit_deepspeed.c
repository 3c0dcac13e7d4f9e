/*
 * emit_deepspeed.c - ds_config.json for Megatron-DeepSpeed: batch sizes, ZeRO stage, bf16.
 *
 * DeepSpeed checks train_batch_size = train_micro_batch_size_per_gpu *
 * gradient_accumulation_steps * data-parallel size (world / (t*p) under Megatron's mpu); the
 * ZeRO stage is 1 with the distributed optimizer (ZeRO-1 shards optimizer states like Megatron's
 * distributed optimizer), else 0, and never 2 or 3 with pipeline parallelism (DeepSpeed's
 * pipeline engine refuses them).
 */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "emit_int.h"
#include "json_int.h"

#define DS_RULES                                                                                \
	(PP_RULES_LAUNCHER | PP_RULE_NO_FP8 | PP_RULE_ZERO | PP_RULE_NO_GPIPE |                  \
	 PP_RULE_NO_INTERLEAVE | PP_RULE_NO_UNEVEN | PP_RULE_NO_CP)

int pp_emit_deepspeed(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err)
{
	const pp_global *gl = &plan->global;
	cJSON *root, *o;
	int rc, ok;

	*out = NULL;
	if ((rc = pp_emit_check_rules("deepspeed", plan, opts, DS_RULES, err)) < 0)
		return rc;
	root = cJSON_CreateObject();
	ok = root != NULL;
	ok = ok && cJSON_AddNumberToObject(root, "train_batch_size", gl->global_batch);
	ok = ok && cJSON_AddNumberToObject(root, "train_micro_batch_size_per_gpu", gl->micro_batch);
	ok = ok && cJSON_AddNumberToObject(root, "gradient_accumulation_steps",
					   pp_global_microbatches(gl));
	ok = ok && cJSON_AddNumberToObject(root, "steps_per_print", 10);
	ok = ok && (o = cJSON_AddObjectToObject(root, "zero_optimization")) != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "stage", pp_emit_zero_stage(plan, opts));
	/* ZeRO-2/3 as the cost model prices them (pp_cf_sharded_dp_exposed_s): gradients
	 * reduce-scattered bucket by bucket behind the backward, stage 3's parameters prefetched
	 * behind the previous layer (DeepSpeed config documentation, zero_optimization:
	 * overlap_comm, contiguous_gradients, reduce_bucket_size and stage3_prefetch_bucket_size,
	 * given here at their documented 5e8 defaults) */
	ok = ok && cJSON_AddBoolToObject(o, "overlap_comm",
					 gl->overlap_grad_reduce || pp_emit_zero_stage(plan, opts) >= 2 ? 1 : 0);
	if (ok && pp_emit_zero_stage(plan, opts) >= 2) {
		ok = cJSON_AddBoolToObject(o, "contiguous_gradients", 1) != NULL;
		ok = ok && cJSON_AddNumberToObject(o, "reduce_bucket_size", 5e8);
		if (pp_emit_zero_stage(plan, opts) == 3)
			ok = ok && cJSON_AddNumberToObject(o, "stage3_prefetch_bucket_size", 5e8);
	}
	ok = ok && (o = cJSON_AddObjectToObject(root, "bf16")) != NULL;
	ok = ok && cJSON_AddBoolToObject(o, "enabled", 1);
	ok = ok && cJSON_AddBoolToObject(root, "wall_clock_breakdown", 0);
	if (ok)
		*out = pp_json_print(root);
	cJSON_Delete(root);
	return *out ? 0 : pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
}
