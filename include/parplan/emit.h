/*
 * emit.h - turn a plan into what a launcher takes, and into things a person reads.
 *
 * Formats (pp_emit_formats() lists them with their default file names):
 *   megatron            bash script: torchrun ... pretrain_gpt.py with Megatron-LM's flags
 *   megatron-deepspeed  bash script for Megatron-DeepSpeed (--deepspeed --deepspeed_config ...)
 *   deepspeed           ds_config.json for Megatron-DeepSpeed
 *   torchtitan          Python module: a configuration function returning Trainer.Config
 *                       (torchtitan's configuration system since 2026)
 *   torchtitan-toml     TOML job config (torchtitan 0.2 schema)
 *   megatron-bridge     bash script: Megatron-Bridge's run_recipe.py, a recipe + KEY=VALUE overrides
 *   nemo1               NeMo 1.x YAML over megatron_gpt_config (Hydra defaults list)
 *   nanotron            Nanotron YAML config
 *   report              plain-text summary (plan, predictions, memory, time breakdown,
 *                       runner-ups: opts->others, plans for the same model, else PP_EINVALID)
 *   svg                 pipeline timeline of one iteration plus a stacked time breakdown
 *   plan                the plan itself (parplan-plan/1)
 *   exec                input of the execution stub (pp_emit_exec, see src/emit_exec.c)
 *
 * Launcher rules.  Before writing, each launcher format checks the rules its launcher enforces
 * (world size = t*p*d on whole nodes, global batch divisible by micro-batch*d, layers by p and by
 * p*v when interleaved with micro-batches a multiple of p, heads by t, query groups a multiple or
 * divisor of t, sequence parallelism only with t > 1, recompute flags, no ZeRO 2/3 with pipeline
 * parallelism, Nanotron kv heads >= t and ZeRO-1 at most, interleaving only with v > 1 (and p > 2
 * in NeMo 1.x), the model settings a launcher has no key for (rule "model settings"), and what
 * each launcher cannot express) and refuses with
 * PP_EINVALID and a message `<format>: rule "<rule>": <detail>`, the JSON path of the plan value
 * at fault in err->path.  Every emitter is pure: it returns text and writes nothing.  Names
 * (plan->model, plan->hw) are written with every character outside [A-Za-z0-9._+-] replaced
 * by '_' (name.h: pp_plan_init() and pp_plan_load() refuse such names in the first place).
 */
#ifndef PARPLAN_EMIT_H
#define PARPLAN_EMIT_H

#include "parplan/error.h"
#include "parplan/strategy.h"

typedef struct pp_emit_opts {
	int zero_stage;               /* DeepSpeed ZeRO stage; -1: from the plan (1 with the
				       * distributed optimizer, else 0) */
	int recompute_num_layers;     /* full recompute: layers per recompute group; 0: 1 */
	const pp_plan *const *others; /* report: runner-up plans to compare with (borrowed) */
	int n_others;
} pp_emit_opts;

#define PP_EMIT_OPTS_INIT {-1, 0, NULL, 0}

typedef int (*pp_emit_fn)(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			  pp_error *err);

/* The emit options (pp_emit_opts) a format uses; any other given is refused (PP_EINVALID naming
 * the option), never silently ignored. */
enum {
	PP_EMIT_TAKES_ZERO = 1 << 0,      /* zero_stage (--zero-stage) */
	PP_EMIT_TAKES_RECOMPUTE = 1 << 1, /* recompute_num_layers (--recompute-num-layers) */
	PP_EMIT_TAKES_COMPARE = 1 << 2    /* others (--compare) */
};

typedef struct pp_emit_format {
	const char *name;    /* "megatron", ... */
	const char *file;    /* default file name in an output folder, e.g. "megatron.sh" */
	const char *summary;
	pp_emit_fn fn;
	int script;          /* 1: a script to run; a new file is written executable
			      * (PP_WRITE_SCRIPT: 0777 less the umask) */
	unsigned takes;      /* PP_EMIT_TAKES_* */
} pp_emit_format;

/** The table of formats (static, never freed); *n receives the count. */
const pp_emit_format *pp_emit_formats(int *n);
/** The format called @name, or NULL. */
const pp_emit_format *pp_emit_find(const char *name);

/**
 * Emit @plan in @format.  @opts may be NULL (defaults).  On success *out is a malloc'd
 * NUL-terminated text the caller frees; on failure *out is NULL and @err says why (an unknown
 * format is PP_EINVALID, a broken launcher rule PP_EINVALID naming the rule, an option the
 * format does not use PP_EINVALID naming its flag).
 */
int pp_emit(const pp_plan *plan, const char *format, const pp_emit_opts *opts, char **out,
	    pp_error *err);

/** PP_EINVALID naming the flag when @opts sets an option @format does not use (pp_emit() checks
 * this first); an unknown format is PP_EINVALID too. */
int pp_emit_check_opts(const char *format, const pp_emit_opts *opts, pp_error *err);

/**
 * Emit every format of the comma-separated @formats_csv into folder @dir (created if missing),
 * each under its default file name, all or nothing.  All formats are produced first and only
 * then written: each to a staged file next to its target (symbolic links followed, modes as
 * pp_write_atomic_flags() gives them), every existing target kept aside (a hard link, else a
 * copy), then the staged files renamed into place.  A broken rule, an unknown format, a failed
 * write or a failed rename leaves @dir's files as they were: targets already renamed are rolled
 * back, staged files and backups removed (PP_EIO names the file; a target that is a folder or
 * not a regular file is refused before anything is written).
 */
int pp_emit_to_dir(const pp_plan *plan, const char *formats_csv, const char *dir, pp_error *err);

/* The emitters, one per src/emit_<format>.c. */
int pp_emit_megatron(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
int pp_emit_megatron_deepspeed(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			       pp_error *err);
int pp_emit_deepspeed(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
int pp_emit_torchtitan(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
int pp_emit_torchtitan_toml(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			    pp_error *err);
int pp_emit_nemo(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
int pp_emit_megatron_bridge(const pp_plan *plan, const pp_emit_opts *opts, char **out,
			    pp_error *err);
int pp_emit_nanotron(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
int pp_emit_report(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
int pp_emit_svg(const pp_plan *plan, const pp_emit_opts *opts, char **out, pp_error *err);
/** Input of the execution stub; owned by the execution module. */
int pp_emit_exec(const pp_plan *plan, char **out, pp_error *err);

/* ---- pipeline schedule, shared by the SVG and the execution stub ------------------------ */

typedef struct pp_pipe_slot {
	int stage;         /* pipeline rank */
	int microbatch;
	int chunk;         /* model chunk on that rank (0 .. v-1) */
	int backward;      /* 0 forward, 1 backward */
	double start_s, end_s;
} pp_pipe_slot;

/**
 * Simulate one iteration of @gl's schedule (GPipe, 1F1B or Megatron's interleaved 1F1B) with
 * forward and backward times @fwd_s / @bwd_s per micro-batch per stage (a model chunk takes 1/v
 * of them): each rank runs its ops in the schedule's order, an op starting when its rank is free
 * and its input is ready (forward: the previous stage's forward; backward: the next stage's
 * backward).  *out (malloc'd, caller frees) receives 2*m*p*v slots in rank order then time
 * order; *n their count.
 */
int pp_pipe_simulate(const pp_global *gl, double fwd_s, double bwd_s, pp_pipe_slot **out, int *n,
		     pp_error *err);

#endif
