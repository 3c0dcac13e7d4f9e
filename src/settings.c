/*
 * settings.c - the table of plan settings and the validity rules it references.
 *
 * Rows are built by typed constructors (after Redis's createIntConfig / createEnumConfig): an
 * int row gives its range on the command line and in plan files, an enum row its names, a bool
 * row nothing but its flag.  The order of the rows is the order of the keys in plan files and
 * regress cases; pp_global_validate() applies the rows' rules in the same order, so the first
 * broken rule of a plan is the one reported.
 */
#include "parplan/settings.h"

#include <stdio.h>
#include <string.h>

#include "checked_int.h"
#include "parplan/schedule.h"

#define FIELD(m) offsetof(pp_global, m)

/* An integer setting: range [min, cli_max] on the command line, [min, file_max] in plan files. */
#define INT_SETTING(key_, flag_, member, def_, min_, cli_max_, file_max_, flags_, inval, check_,    \
		    help_)                                                                          \
	{.key = (key_), .flag = (flag_), .type = PP_SETTING_INT, .off = FIELD(member), .def = (def_),  \
	 .min = (min_), .cli_max = (cli_max_), .file_max = (file_max_), .flags = (flags_),          \
	 .invalidates = (inval), .check = (check_), .help = (help_)}

/* A boolean setting: false by default, a bare flag on the command line turns it on. */
#define BOOL_SETTING(key_, flag_, member, flags_, inval, check_, help_)                             \
	{.key = (key_), .flag = (flag_), .type = PP_SETTING_BOOL, .off = FIELD(member), .def = 0,     \
	 .min = 0, .cli_max = 1, .file_max = 1, .flags = (flags_), .invalidates = (inval),          \
	 .check = (check_), .help = (help_)}

/* An enum setting: one of @names (stored as its index); the nouns keep each path's messages. */
#define ENUM_SETTING(key_, flag_, member, def_, names_, noun, regress_choices_, flags_, inval,       \
		     check_, help_)                                                                 \
	{.key = (key_), .flag = (flag_), .type = PP_SETTING_ENUM, .off = FIELD(member), .def = (def_), \
	 .min = 0, .cli_max = (int)(sizeof(names_) / sizeof((names_)[0])) - 1,                      \
	 .file_max = (int)(sizeof(names_) / sizeof((names_)[0])) - 1, .names = (names_),            \
	 .n_names = (int)(sizeof(names_) / sizeof((names_)[0])), .cli_noun = (noun),                \
	 .regress_choices = (regress_choices_), .flags = (flags_), .invalidates = (inval),          \
	 .check = (check_), .help = (help_)}

/* Enum names, indexed by the enum's values (pp_schedule, pp_recompute). */
static const char *const schedule_names[] = {"1f1b",  "gpipe", "interleaved", "zb-h1",
					     "zb-v", "dualpipe", "dualpipev"};
static const char *const recompute_names[] = {"none", "selective", "full"};
/* Transformer Engine's cp_comm_type names (transformer_engine/pytorch/attention.py; Megatron-LM
 * spells all_gather "allgather", emit_megatron.c maps it) */
static const char *const cp_comm_names[] = {"p2p", "all_gather", "a2a", "a2a+p2p"};

static const char *const precision_names[] = {"bf16", "fp8", "mxfp8"};

/* ---- validity rules ------------------------------------------------------------------------ */

#define RULE(...) pp_error_set(err, PP_EINVALID, NULL, NULL, __VA_ARGS__)

/* The device mesh: degrees at least 1, their product the GPU count, t dividing the heads. */
static int rule_mesh(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	int t = gl->t, p = gl->p, d = gl->d, cp = gl->cp, world;
	if (t < 1 || p < 1 || d < 1 || cp < 1)
		return RULE("t, p, d and cp must be at least 1 (t=%d p=%d d=%d cp=%d)", t, p, d, cp);
	if (pp_mul_int(t, p, &world) < 0 || pp_mul_int(world, d, &world) < 0)
		return RULE("t*p*d = %d*%d*%d overflows", t, p, d);
	if (pp_mul_int(world, cp, &world) < 0)
		return RULE("t*cp*p*d = %d*%d*%d*%d overflows", t, cp, p, d);
	if (gpus && world != gpus) {
		if (cp > 1)
			return RULE("t*cp*p*d = %d is not the %d GPUs", world, gpus);
		return RULE("t*p*d = %d is not the %d GPUs", world, gpus);
	}
	if (g->heads % t)
		return RULE("t=%d does not divide %lld heads", t, (long long)g->heads);
	if (g->kv_heads % t)
		return RULE("t=%d does not divide %lld kv heads", t, (long long)g->kv_heads);
	return 0;
}

/* The batch: micro-batches of b samples on each of d replicas make up the global batch. */
static int rule_batch(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)g;
	(void)gpus;
	if (gl->micro_batch < 1 || gl->global_batch < 1)
		return RULE("micro-batch and global batch must be at least 1");
	if (gl->global_batch % ((long long)gl->micro_batch * gl->d))
		return RULE("global batch %d is not divisible by micro-batch*d = %lld", gl->global_batch,
			    (long long)gl->micro_batch * gl->d);
	return 0;
}

static int rule_virtual_stages(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)g;
	(void)gpus;
	if (gl->virtual_stages < 1)
		return RULE("virtual stages must be at least 1");
	return 0;
}

static int rule_sequence_parallel(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)g;
	(void)gpus;
	if (gl->sequence_parallel && gl->t == 1)
		return RULE("sequence parallelism needs t > 1");
	return 0;
}

/*
 * The pipeline layout: the schedule and virtual stages, p against the layers, and uneven
 * first/last stages.  It reads schedule, virtual_stages, p and the first/last stage layers, so it
 * sits on the row of the first of them that comes after every rule it must follow.
 */
static int rule_pipeline_layout(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	int p = gl->p, v = gl->virtual_stages, m = pp_global_microbatches(gl), pv;
	(void)gpus;
	if (gl->schedule == PP_SCHED_INTERLEAVED) {
		if (p < 2)
			return RULE("the interleaved schedule needs p > 1");
		if (v < 2)
			return RULE("the interleaved schedule needs virtual stages v > 1");
		if (pp_mul_int(p, v, &pv) < 0)
			return RULE("p*v = %d*%d overflows", p, v);
		if (gl->first_stage_layers || gl->last_stage_layers) {
			/* uneven stages, interleaved: a layout Megatron-LM builds, with the decoder or
			 * the account-for flags (pp_global_uneven_form) */
			pp_global plain = *gl;
			plain.schedule = PP_SCHED_1F1B;
			plain.virtual_stages = 1;
			/* a split that fails without interleaving is reported below */
			if (pp_global_uneven_form(g->n_layers, &plain, NULL) > 0 &&
			    pp_global_uneven_form(g->n_layers, gl, NULL) < 0) {
				int inner = p - (gl->first_stage_layers > 0) - (gl->last_stage_layers > 0);
				int mid = inner > 0 ? (g->n_layers - gl->first_stage_layers - gl->last_stage_layers) / inner : 0;
				if (inner > 0 && mid % v)
					return RULE("the middle stages' %d layers are not divisible by v=%d", mid, v);
				return RULE("first/last stage layers (%d, %d) are not divisible by v=%d (nor one "
					    "fewer than a middle stage's %d)",
					    gl->first_stage_layers, gl->last_stage_layers, v, mid);
			}
		} else if (g->n_layers % pv) {
			return RULE("%d layers are not divisible by p*v = %d", g->n_layers, pv);
		}
		if (m % p)
			return RULE("%d micro-batches are not a multiple of p=%d (interleaved schedule)", m, p);
	} else {
		if (v != 1)
			return RULE("virtual stages > 1 need the interleaved schedule");
	}
	if (gl->schedule >= PP_SCHED_ZB_V) {
		/* two chunks per rank (ZB-V, DualPipeV: PyTorch schedules.py, "ZBV requires exactly
		 * 2 stages per rank"), DualPipe's two directions (dualpipe.py: an even number of
		 * ranks and micro-batches, at least 2 per rank); their ends on one rank leave no
		 * uneven first/last stage to set */
		const char *name = pp_schedule_name(gl->schedule);
		pp_error e2 = PP_ERROR_INIT;
		if (p < 2)
			return RULE("the %s schedule needs p > 1", name);
		if (gl->first_stage_layers || gl->last_stage_layers)
			return RULE("the %s schedule takes no uneven first/last stage", name);
		if (gl->schedule != PP_SCHED_DUALPIPE && g->n_layers % (2 * p))
			return RULE("%d layers are not divisible by the 2p = %d chunks of the %s schedule",
				    g->n_layers, 2 * p, name);
		if (pp_sched_check(gl->schedule, p, 1, m, &e2) < 0)
			return RULE("%s", e2.msg);
	}
	if (p > g->n_layers)
		return RULE("p=%d is more than the %d layers", p, g->n_layers);
	if (gl->first_stage_layers || gl->last_stage_layers) {
		int inner = p - (gl->first_stage_layers > 0) - (gl->last_stage_layers > 0);
		int rest = g->n_layers - gl->first_stage_layers - gl->last_stage_layers;
		if (p < 2)
			return RULE("uneven stages need p > 1");
		if (gl->first_stage_layers < 0 || gl->last_stage_layers < 0 || rest < 0)
			return RULE("first/last stage layers exceed the %d layers", g->n_layers);
		if (inner == 0 ? rest != 0 : (rest < inner || rest % inner))
			return RULE("the %d layers left after the first/last stages are not divisible by the %d "
				    "middle stages", rest, inner);
	} else if (g->n_layers % p) {
		return RULE("%d layers are not divisible by p=%d", g->n_layers, p);
	}
	return 0;
}

/* ZeRO stages: --fsdp is stage 3, so another --zero beside it contradicts it. */
static int rule_zero(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)g;
	(void)gpus;
	if (gl->fsdp && gl->zero && gl->zero != 3)
		return RULE("fsdp shards parameters, gradients and optimizer states (ZeRO stage 3), not "
			    "zero=%d", gl->zero);
	return 0;
}

/* HSDP: shard groups of hsdp_shard replicas, replicated d / hsdp_shard times (PyTorch
 * fully_shard on a 2-D device mesh; torchtitan data_parallel_replicate_degree). */
static int rule_hsdp(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)g;
	(void)gpus;
	if (gl->hsdp_shard <= 0)
		return 0;
	if (pp_global_zero_stage(gl) < 1)
		return RULE("hsdp_shard=%d needs sharded states (zero >= 1 or fsdp)", gl->hsdp_shard);
	if (gl->d % gl->hsdp_shard)
		return RULE("hsdp_shard=%d does not divide d=%d", gl->hsdp_shard, gl->d);
	return 0;
}

/* Context parallelism with causal load balancing: each rank holds two of 2*cp sequence chunks
 * (Megatron-LM arguments.py: "seq-length should be a multiple of 2 * context-parallel-size"). */
static int rule_cp(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)gpus;
	if (gl->cp > 1 && g->seq % (2LL * gl->cp))
		return RULE("cp=%d: the sequence of %lld is not a multiple of 2*cp (two chunks per rank "
			    "for causal load balancing)", gl->cp, (long long)g->seq);
	return 0;
}

/* Ulysses all-to-all swaps the sequence split for a head split: the heads on each
 * tensor-parallel rank must divide over cp (Jacobs et al. 2023, DeepSpeed-Ulysses, sec. 3). */
static int rule_cp_comm(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	long long h = g->heads / gl->t, kv = (g->kv_heads ? g->kv_heads : g->heads) / gl->t;
	(void)gpus;
	if (gl->cp > 1 && gl->cp_comm_type == PP_CP_A2A && (h % gl->cp || kv % gl->cp))
		return RULE("cp_comm_type a2a: cp=%d does not divide the %lld heads and %lld kv heads "
			    "of a tensor-parallel rank", gl->cp, h, kv);
	return 0;
}

/* Hierarchical context parallelism (Transformer Engine cp_comm_type "a2a+p2p"; Megatron-LM
 * --hierarchical-context-parallel-sizes A R with A*R = cp): Ulysses all-to-alls inside groups of
 * A ranks, so A divides the heads like cp does for a2a, and a ring over the R = cp/A groups; both
 * levels must have two ranks or more (else it is plain a2a or p2p). */
static int rule_cp_a2a(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	long long h = g->heads / gl->t, kv = (g->kv_heads ? g->kv_heads : g->heads) / gl->t;
	int a = gl->cp_a2a;
	(void)gpus;
	if (gl->cp <= 1 || gl->cp_comm_type != PP_CP_A2A_P2P) {
		if (a)
			return RULE("cp_a2a=%d: only with cp > 1 and cp_comm_type a2a+p2p", a);
		return 0;
	}
	if (a < 2 || gl->cp % a || gl->cp / a < 2)
		return RULE("cp_comm_type a2a+p2p: cp_a2a=%d must be a divisor of cp=%d with 2 <= cp_a2a "
			    "<= cp/2 (the all-to-all degree; the ring runs over cp/cp_a2a)", a, gl->cp);
	if (h % a || kv % a)
		return RULE("cp_comm_type a2a+p2p: cp_a2a=%d does not divide the %lld heads and %lld kv "
			    "heads of a tensor-parallel rank", a, h, kv);
	return 0;
}

/* --fp8-param-gather: the weights' fp8 copy is what the distributed optimizer (or ZeRO / FSDP)
 * all-gathers (Megatron-LM arguments.py: --fp8-param-gather requires --fp8-format) */
static int rule_fp8_param_gather(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)g;
	(void)gpus;
	if (gl->fp8_param_gather && gl->precision == PP_PREC_BF16)
		return RULE("fp8 parameter gather needs precision fp8 or mxfp8");
	if (gl->fp8_param_gather && pp_global_zero_stage(gl) < 1)
		return RULE("fp8 parameter gather needs sharded parameters (distributed optimizer, "
			    "ZeRO or FSDP)");
	return 0;
}

/*
 * Expert parallelism, the rules Megatron-Core checks (megatron/training/arguments.py and
 * megatron/core/parallel_state.py, NVIDIA/Megatron-LM): the experts divide evenly over the
 * expert-parallel ranks (num_experts % expert_model_parallel_size == 0), and MoE parallel
 * folding decomposes each stage's t * cp * d ranks into etp * ep * expert-dp.  parplan's expert
 * tensor parallelism is 1 or the attention's t (the routed experts op's COLUMN config), and
 * splits the experts' width.
 */
static int rule_expert_parallel(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	long long fold = (long long)gl->t * gl->cp * gl->d;
	(void)gpus;
	if (gl->ep < 1 || gl->etp < 1)
		return RULE("ep and etp must be at least 1 (ep=%d etp=%d)", gl->ep, gl->etp);
	if (!g->experts && (gl->ep > 1 || gl->etp > 1))
		return RULE("ep=%d etp=%d: the model has no routed experts", gl->ep, gl->etp);
	if (gl->etp != 1 && gl->etp != gl->t)
		return RULE("etp=%d: expert tensor parallelism is 1 or t=%d", gl->etp, gl->t);
	if (g->experts && g->experts % gl->ep)
		return RULE("ep=%d does not divide the %lld experts", gl->ep, (long long)g->experts);
	if (fold % ((long long)gl->ep * gl->etp))
		return RULE("ep*etp = %d*%d does not divide t*cp*d = %lld (MoE parallel folding)", gl->ep,
			    gl->etp, fold);
	if (g->expert_ffn && g->expert_ffn % gl->etp)
		return RULE("etp=%d does not divide the experts' width %lld", gl->etp, (long long)g->expert_ffn);
	if (gl->moe_max_nodes && !g->experts)
		return RULE("moe_max_nodes needs routed experts");
	return 0;
}

/*
 * Capacity factor and padding (Megatron-LM d98e8a64dd, megatron/core/transformer/
 * transformer_config.py: moe_expert_capacity_factor, moe_pad_expert_input_to_capacity "effective
 * only after the moe_expert_capacity_factor is set"; moe/moe_utils.py get_capacity: capacity =
 * ceil(tokens * topk / num_experts * capacity_factor)).
 */
static int rule_moe_capacity(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	(void)gpus;
	if (gl->moe_capacity && !g->experts)
		return RULE("moe_capacity needs routed experts");
	if (gl->moe_pad_capacity && !gl->moe_capacity)
		return RULE("moe_pad_capacity needs a capacity factor (moe_capacity > 0)");
	return 0;
}

/*
 * Expert-parallel all-to-all overlap, the rules Megatron-Core checks for
 * --overlap-moe-expert-parallel-comm (Megatron-LM d98e8a64dd, megatron/core/transformer/
 * transformer_config.py __post_init__): expert parallelism, no full recomputation, and with
 * pipeline parallelism the interleaved schedule (virtual_pipeline_model_parallel_size set).
 * parplan also takes it under DualPipe / DualPipeV, whose F&B chunks pair a forward and a
 * backward the same way (DeepSeek-V3 report, arXiv:2412.19437, sec. 3.2.1).
 */
static int rule_overlap_moe_a2a(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	int dual = gl->schedule == PP_SCHED_DUALPIPE || gl->schedule == PP_SCHED_DUALPIPEV;
	(void)g;
	(void)gpus;
	if (!gl->overlap_moe_a2a)
		return 0;
	if (gl->ep < 2)
		return RULE("overlap_moe_a2a needs expert parallelism (ep > 1)");
	if (gl->recompute == PP_RECOMPUTE_FULL)
		return RULE("overlap_moe_a2a does not run with full recomputation");
	if (gl->p > 1 && !dual && (gl->schedule != PP_SCHED_INTERLEAVED || gl->virtual_stages < 2))
		return RULE("overlap_moe_a2a with p > 1 needs the interleaved schedule (virtual_stages > 1) "
			    "or DualPipe");
	return 0;
}

/* ---- the table ------------------------------------------------------------------------------ */

#define SEARCHED PP_SETTING_SEARCHED
#define OPTIONAL PP_SETTING_OPTIONAL
#define CLI_REQ PP_SETTING_CLI_REQUIRED
#define REG_REQ PP_SETTING_REGRESS_REQUIRED
#define EXPECT PP_SETTING_EXPECTABLE
#define DEG_MAX (1LL << 20) /* degrees in a plan file */

/* the ops that read the expert-parallel settings (src/cost.c: moe_experts_cost, moe_a2a_s) */
#define A2A_OPS (PP_OPMASK(PP_OP_DISPATCH) | PP_OPMASK(PP_OP_COMBINE))
#define MOE_OPS (A2A_OPS | PP_OPMASK(PP_OP_EXPERTS))

static const pp_setting table[PP_SETTING_COUNT] = {
	INT_SETTING("t", "--t", t, 1, 1, 1 << 20, DEG_MAX, SEARCHED | CLI_REQ | REG_REQ | EXPECT,
		    PP_COST_OPS | PP_COST_PIPELINE | PP_COST_DP | PP_COST_MEMORY, rule_mesh,
		    "tensor-parallel degree"),
	INT_SETTING("p", "--p", p, 1, 1, 1 << 20, DEG_MAX, SEARCHED | CLI_REQ | REG_REQ | EXPECT,
		    PP_COST_STAGES | PP_COST_PIPELINE | PP_COST_DP | PP_COST_MEMORY, NULL,
		    "pipeline-parallel degree (stages)"),
	INT_SETTING("d", "--d", d, 1, 1, 1 << 24, DEG_MAX, SEARCHED | CLI_REQ | REG_REQ | EXPECT,
		    PP_COST_PIPELINE | PP_COST_DP | PP_COST_MEMORY, NULL, "data-parallel degree"),
	INT_SETTING("micro_batch", "--micro-batch", micro_batch, 1, 1, 1 << 24, 1 << 30,
		    SEARCHED | CLI_REQ | EXPECT, PP_COST_OPS | PP_COST_PIPELINE | PP_COST_MEMORY,
		    rule_batch, "samples per micro-batch"),
	INT_SETTING("global_batch", "--global-batch", global_batch, 1, 1, 1 << 30, 1 << 30,
		    CLI_REQ | REG_REQ, PP_COST_PIPELINE, NULL, "samples per iteration"),
	INT_SETTING("virtual_stages", "--virtual-stages", virtual_stages, 1, 1, 1 << 20, 1024,
		    SEARCHED | EXPECT, PP_COST_STAGES | PP_COST_PIPELINE | PP_COST_MEMORY,
		    rule_virtual_stages, "model chunks per pipeline rank (interleaved schedule)"),
	/* the V placements put the head on rank 0 (stages), DualPipe doubles the parameters a rank
	 * reduces and steps (DP) */
	ENUM_SETTING("schedule", "--schedule", schedule, PP_SCHED_1F1B, schedule_names, "schedule",
		     "gpipe, 1f1b, interleaved, zb-h1, zb-v, dualpipe, dualpipev", SEARCHED | EXPECT,
		     PP_COST_STAGES | PP_COST_PIPELINE | PP_COST_DP | PP_COST_MEMORY, NULL,
		     "pipeline schedule"),
	ENUM_SETTING("recompute", "--recompute", recompute, PP_RECOMPUTE_NONE, recompute_names, "mode",
		     "none, selective, full", SEARCHED | EXPECT, PP_COST_OPS_OF(0) | PP_COST_MEMORY, NULL,
		     "activation recomputation"),
	BOOL_SETTING("sequence_parallel", "--sequence-parallel", sequence_parallel, SEARCHED | EXPECT,
		     PP_COST_OPS_OF(0) | PP_COST_MEMORY, rule_sequence_parallel,
		     "shard norms and dropout along the sequence over t (Megatron's SP)"),
	BOOL_SETTING("distributed_optimizer", "--distributed-optimizer", distributed_optimizer,
		     SEARCHED | EXPECT, PP_COST_DP | PP_COST_MEMORY, NULL,
		     "shard the optimizer states over d (ZeRO-1)"),
	BOOL_SETTING("overlap_grad_reduce", "--overlap-grad-reduce", overlap_grad_reduce, 0,
		     PP_COST_DP, NULL, "overlap the gradient reduction with the backward pass"),
	INT_SETTING("first_stage_layers", "--first-stage-layers", first_stage_layers, 0, 1, 1 << 20,
		    PP_SETTING_MAX_LAYERS, SEARCHED | OPTIONAL,
		    PP_COST_STAGES | PP_COST_PIPELINE | PP_COST_MEMORY, rule_pipeline_layout,
		    "layers on the first stage (0: an even split)"),
	INT_SETTING("last_stage_layers", "--last-stage-layers", last_stage_layers, 0, 1, 1 << 20,
		    PP_SETTING_MAX_LAYERS, SEARCHED | OPTIONAL,
		    PP_COST_STAGES | PP_COST_PIPELINE | PP_COST_MEMORY, NULL,
		    "layers on the last stage (0: an even split)"),
	BOOL_SETTING("tp_comm_overlap", "--tp-comm-overlap", tp_comm_overlap, OPTIONAL, PP_COST_OPS_OF(0),
		     NULL, "overlap tensor-parallel communication with the GEMMs it feeds (needs "
			   "sequence parallelism and a stack that has it)"),
	BOOL_SETTING("overlap_param_gather", "--overlap-param-gather", overlap_param_gather, OPTIONAL,
		     PP_COST_DP, NULL,
		     "overlap the parameter all-gather with the next forward (distributed optimizer)"),
	INT_SETTING("zero", "--zero", zero, 0, 0, 3, 3, SEARCHED | OPTIONAL | EXPECT,
		    PP_COST_DP | PP_COST_MEMORY, rule_zero,
		    "ZeRO stage: 1 shards optimizer states (= --distributed-optimizer), 2 also "
		    "gradients, 3 also parameters"),
	BOOL_SETTING("fsdp", "--fsdp", fsdp, OPTIONAL | EXPECT, PP_COST_DP | PP_COST_MEMORY, NULL,
		     "PyTorch FSDP2 (ZeRO stage 3 as torchtitan runs it)"),
	INT_SETTING("hsdp_shard", "--hsdp-shard", hsdp_shard, 0, 0, 1 << 24, DEG_MAX,
		    SEARCHED | OPTIONAL | EXPECT, PP_COST_DP | PP_COST_MEMORY, rule_hsdp,
		    "HSDP: shard over this many data-parallel ranks, replicate over the rest (0: all)"),
	INT_SETTING("cp", "--cp", cp, 1, 1, 1 << 20, DEG_MAX, SEARCHED | OPTIONAL | EXPECT,
		    PP_COST_OPS | PP_COST_PIPELINE | PP_COST_DP | PP_COST_MEMORY, rule_cp,
		    "context-parallel degree: the sequence split over cp ranks"),
	ENUM_SETTING("cp_comm_type", "--cp-comm-type", cp_comm_type, PP_CP_P2P, cp_comm_names,
		     "cp comm type", "p2p, all_gather, a2a, a2a+p2p", SEARCHED | OPTIONAL | EXPECT, PP_COST_OPS_OF(0),
		     rule_cp_comm, "how context-parallel ranks exchange K/V: p2p ring, all_gather, a2a "
				   "(Ulysses) or a2a+p2p (a2a in groups of cp_a2a, a ring across)"),
	INT_SETTING("cp_a2a", "--cp-a2a", cp_a2a, 0, 0, 1 << 20, DEG_MAX, OPTIONAL,
		    PP_COST_OPS_OF(0) | PP_COST_MEMORY, rule_cp_a2a,
		    "cp_comm_type a2a+p2p: the all-to-all degree (Megatron-LM "
		    "--hierarchical-context-parallel-sizes cp_a2a cp/cp_a2a)"),
	ENUM_SETTING("precision", "--precision", precision, PP_PREC_BF16, precision_names, "precision",
		     "bf16, fp8, mxfp8", SEARCHED | OPTIONAL | EXPECT,
		     PP_COST_OPS_OF(PP_OPMASK(PP_OP_MATMUL) | PP_OPMASK(PP_OP_EXPERTS)) | PP_COST_DP | PP_COST_MEMORY, NULL,
		     "linear-layer GEMM precision: bf16, fp8 (Transformer Engine hybrid e4m3/e5m2, "
		     "delayed scaling) or mxfp8 (block-scaled, Blackwell/CDNA 4)"),
	BOOL_SETTING("fp8_param_gather", "--fp8-param-gather", fp8_param_gather, OPTIONAL | EXPECT,
		     PP_COST_DP | PP_COST_MEMORY, rule_fp8_param_gather,
		     "keep the linear weights in fp8 and all-gather them in fp8 (needs fp8/mxfp8 and "
		     "sharded parameters)"),
	INT_SETTING("ep", "--ep", ep, 1, 1, 1 << 20, DEG_MAX, SEARCHED | OPTIONAL | EXPECT,
		    PP_COST_OPS_OF(MOE_OPS) | PP_COST_DP | PP_COST_MEMORY, rule_expert_parallel,
		    "expert-parallel degree: the routed experts spread over ep ranks"),
	INT_SETTING("etp", "--etp", etp, 1, 1, 1 << 20, DEG_MAX, SEARCHED | OPTIONAL | EXPECT,
		    PP_COST_OPS_OF(MOE_OPS) | PP_COST_DP | PP_COST_MEMORY, NULL,
		    "expert tensor-parallel degree (1 or t): each expert's width split over etp ranks"),
	INT_SETTING("moe_max_nodes", "--moe-max-nodes", moe_max_nodes, 0, 1, 1 << 20, 1 << 20, OPTIONAL,
		    PP_COST_OPS_OF(A2A_OPS), NULL,
		    "node-limited routing: a token's experts on at most this many nodes (0: no limit)"),
	INT_SETTING("moe_imbalance", "--moe-imbalance", moe_imbalance, 100, 100, 10000, 10000, OPTIONAL,
		    PP_COST_OPS_OF(PP_OPMASK(PP_OP_EXPERTS)), NULL,
		    "routed tokens on the busiest expert-parallel rank, percent of the balanced share "
		    "(default 100: an assumption, see docs/accuracy.md)"),
	INT_SETTING("moe_capacity", "--moe-capacity", moe_capacity, 0, 0, 100000, 100000, OPTIONAL,
		    PP_COST_OPS_OF(MOE_OPS) | PP_COST_MEMORY, rule_moe_capacity,
		    "expert capacity, percent of the balanced tokens per expert (capacity factor x "
		    "100; 0: dropless)"),
	BOOL_SETTING("moe_pad_capacity", "--moe-pad-capacity", moe_pad_capacity, OPTIONAL,
		     PP_COST_OPS_OF(MOE_OPS) | PP_COST_MEMORY, NULL,
		     "pad every expert's input to its capacity (needs --moe-capacity)"),
	BOOL_SETTING("overlap_moe_a2a", "--overlap-moe-a2a", overlap_moe_a2a, OPTIONAL,
		     PP_COST_PIPELINE, rule_overlap_moe_a2a,
		     "hide the expert all-to-all behind the paired forward/backward of another "
		     "micro-batch (Megatron --overlap-moe-expert-parallel-comm, DualPipe)"),
};

const pp_setting *pp_settings(void)
{
	return table;
}

const pp_setting *pp_setting_find(const char *key)
{
	int i;
	for (i = 0; key && i < PP_SETTING_COUNT; i++)
		if (strcmp(table[i].key, key) == 0)
			return &table[i];
	return NULL;
}

int pp_setting_get(const pp_setting *s, const pp_global *gl)
{
	int v;
	memcpy(&v, (const char *)gl + s->off, sizeof(v));
	return v;
}

void pp_setting_set(const pp_setting *s, pp_global *gl, int v)
{
	memcpy((char *)gl + s->off, &v, sizeof(v));
}

void pp_settings_defaults(pp_global *gl)
{
	int i;
	memset(gl, 0, sizeof(*gl));
	for (i = 0; i < PP_SETTING_COUNT; i++)
		pp_setting_set(&table[i], gl, table[i].def);
}

const char *pp_setting_value_name(const pp_setting *s, int v)
{
	return s->names && v >= 0 && v < s->n_names ? s->names[v] : "?";
}

int pp_setting_parse_name(const pp_setting *s, const char *name)
{
	int i;
	for (i = 0; name && s->names && i < s->n_names; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	return -1;
}

void pp_setting_choices(const pp_setting *s, char *buf, size_t n)
{
	size_t used = 0;
	int i;
	if (n == 0)
		return;
	buf[0] = '\0';
	for (i = 0; s->names && i < s->n_names && used < n; i++) {
		const char *sep = i == 0 ? "" : i == s->n_names - 1 ? " or " : ", ";
		int k = snprintf(buf + used, n - used, "%s%s", sep, s->names[i]);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

int pp_settings_cmp_searched(const pp_global *a, const pp_global *b)
{
	int i;
	for (i = 0; i < PP_SETTING_COUNT; i++) {
		int x, y;
		if (!(table[i].flags & PP_SETTING_SEARCHED))
			continue;
		x = pp_setting_get(&table[i], a);
		y = pp_setting_get(&table[i], b);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

_Static_assert(PP_COST_OPS_SHIFT + PP_OP_TYPE_COUNT <= 32, "op-type bits of `invalidates`");
_Static_assert(PP_COST_SCOPED < (1u << PP_COST_OPS_SHIFT), "PP_COST_* bits below the op types");

unsigned pp_setting_op_types(const pp_setting *s)
{
	unsigned all = (1u << PP_OP_TYPE_COUNT) - 1;
	if (!(s->invalidates & PP_COST_OPS))
		return 0;
	if (!(s->invalidates & PP_COST_SCOPED))
		return all;
	return (s->invalidates >> PP_COST_OPS_SHIFT) & all;
}

int pp_settings_differ_in(const pp_global *a, const pp_global *b, unsigned what)
{
	int i;
	for (i = 0; i < PP_SETTING_COUNT; i++)
		if ((table[i].invalidates & what) && pp_setting_get(&table[i], a) != pp_setting_get(&table[i], b))
			return 1;
	return 0;
}

/* ---- the names and rules strategy.h declares ------------------------------------------------ */

const char *pp_schedule_name(pp_schedule s)
{
	return pp_setting_value_name(&table[PP_SETTING_SCHEDULE], (int)s);
}

int pp_schedule_parse(const char *s)
{
	return pp_setting_parse_name(&table[PP_SETTING_SCHEDULE], s);
}

const char *pp_recompute_name(pp_recompute r)
{
	return pp_setting_value_name(&table[PP_SETTING_RECOMPUTE], (int)r);
}

int pp_recompute_parse(const char *s)
{
	return pp_setting_parse_name(&table[PP_SETTING_RECOMPUTE], s);
}

int pp_global_validate(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err)
{
	int i, rc;
	for (i = 0; i < PP_SETTING_COUNT; i++)
		if (table[i].check && (rc = table[i].check(g, gl, gpus, err)) < 0)
			return rc;
	return 0;
}
