/*
 * settings.h - the table of plan settings: one row per member of pp_global.
 *
 * Every path that reads or writes a plan's global settings walks this table instead of naming
 * the settings itself: the CLI flags of `cost` (src/cli/cli_cost.c), the "global" object of plan
 * files and of `search --json` (src/plan_json.c), the inline plans and search expectations of
 * regress cases (src/regress_load.c, regress_run.c, regress_report.c), the validity rules
 * (pp_global_validate) and the order in which the search ranks equal plans (pp_space_cmp).
 * A new setting is one row in src/settings.c (and a member of pp_global) plus its effect in the
 * cost model and its rules in the emitters; docs/architecture.md shows the table and the steps.
 *
 * Invariants: the rows are in the order the plan file and regress cases print their keys; a
 * row's default is the value PP_GLOBAL_INIT gives its member; every row's value is an int member
 * of pp_global (enums are stored as their index in the row's names).  The table is constant:
 * nothing here allocates, prints or keeps state.
 */
#ifndef PARPLAN_SETTINGS_H
#define PARPLAN_SETTINGS_H

#include <stddef.h>

#include "parplan/error.h"
#include "parplan/graph.h"
#include "parplan/strategy.h"

/* Row ids, in table order (pp_settings()[PP_SETTING_P] is the row of p). */
typedef enum pp_setting_id {
	PP_SETTING_T = 0,
	PP_SETTING_P,
	PP_SETTING_D,
	PP_SETTING_MICRO_BATCH,
	PP_SETTING_GLOBAL_BATCH,
	PP_SETTING_VIRTUAL_STAGES,
	PP_SETTING_SCHEDULE,
	PP_SETTING_RECOMPUTE,
	PP_SETTING_SEQUENCE_PARALLEL,
	PP_SETTING_DISTRIBUTED_OPTIMIZER,
	PP_SETTING_OVERLAP_GRAD_REDUCE,
	PP_SETTING_FIRST_STAGE_LAYERS,
	PP_SETTING_LAST_STAGE_LAYERS,
	PP_SETTING_TP_COMM_OVERLAP,
	PP_SETTING_OVERLAP_PARAM_GATHER,
	PP_SETTING_ZERO,
	PP_SETTING_FSDP,
	PP_SETTING_HSDP_SHARD,
	PP_SETTING_CP,
	PP_SETTING_CP_COMM_TYPE,
	PP_SETTING_CP_A2A,
	PP_SETTING_PRECISION,
	PP_SETTING_FP8_PARAM_GATHER,
	PP_SETTING_EP,
	PP_SETTING_ETP,
	PP_SETTING_MOE_MAX_NODES,
	PP_SETTING_MOE_IMBALANCE,
	PP_SETTING_MOE_CAPACITY,
	PP_SETTING_MOE_PAD_CAPACITY,
	PP_SETTING_OVERLAP_MOE_A2A,
	PP_SETTING_COUNT
} pp_setting_id;

typedef enum pp_setting_type {
	PP_SETTING_INT = 0,         /* a whole number in [min, max] */
	PP_SETTING_BOOL,            /* 0 or 1; a bare CLI flag turns it on */
	PP_SETTING_ENUM             /* one of the row's names, stored as its index */
} pp_setting_type;

/* Flags of a row. */
#define PP_SETTING_SEARCHED (1u << 0)         /* the search varies it; pp_space_cmp orders by it */
#define PP_SETTING_OPTIONAL (1u << 1)         /* plan files may leave it out and print it only when
					       * it is not the default */
#define PP_SETTING_CLI_REQUIRED (1u << 2)     /* `cost` without --plan needs the flag */
#define PP_SETTING_REGRESS_REQUIRED (1u << 3) /* an inline regress plan must give the key */
#define PP_SETTING_EXPECTABLE (1u << 4)       /* a regress search case may expect its value */

/*
 * What cached cost a change of the setting invalidates (issue 13's memoization keys on these):
 * a cache of per-op times may be reused across plans that differ only in settings without
 * PP_COST_OPS, and so on.
 */
#define PP_COST_OPS (1u << 0)       /* per-op forward/backward times, tensor-parallel comm, per-op
				     * activation and parameter bytes, Megatron's per-op configs:
				     * the rows with it are the key of the evaluation memo
				     * (src/cost_memo.c), so a setting that op costs read must
				     * carry it */
#define PP_COST_STAGES (1u << 1)    /* which layers and ops sit on which pipeline stage */
#define PP_COST_PIPELINE (1u << 2)  /* micro-batch count, bubble, pipeline p2p */
#define PP_COST_DP (1u << 3)        /* data-parallel gradient comm and the optimizer step */
#define PP_COST_MEMORY (1u << 4)    /* per-stage weights, optimizer states and activations */
/*
 * Which ops' costs read a PP_COST_OPS setting (issue 13, point 1: each op set's totals are cached
 * on exactly the settings it depends on).  A row with plain PP_COST_OPS is read by every op; one
 * with PP_COST_OPS_OF(types) only by the ops of @types (a mask of PP_OPMASK(PP_OP_...)), and
 * PP_COST_OPS_OF(0) by no op at all: it changes Megatron's per-op configs or the assembly of the
 * per-class totals, not what an op costs under a given config.  The evaluation memo
 * (src/cost_memo.c) keys an op set on the rows that name a type of its ops (pp_setting_op_types).
 */
#define PP_COST_SCOPED (1u << 5)    /* the op-type bits below name the ops that read it */
#define PP_COST_OPS_SHIFT 8         /* op type ty is bit PP_COST_OPS_SHIFT + ty */
#define PP_OPMASK(ty) (1u << (ty))
#define PP_COST_OPS_OF(types) (PP_COST_OPS | PP_COST_SCOPED | ((unsigned)(types) << PP_COST_OPS_SHIFT))

/** A plan-file limit that is not a number: the model's layer count. */
#define PP_SETTING_MAX_LAYERS (-1LL)

/**
 * A validity rule: PP_EINVALID naming the broken rule in @err, or 0.  @gpus is the GPU count the
 * plan must fill (0: any).  Rules read the whole plan: those that read several settings sit on
 * the row of the setting they are about.
 */
typedef int (*pp_setting_check_fn)(const pp_graph *g, const pp_global *gl, int gpus, pp_error *err);

typedef struct pp_setting {
	const char *key;            /* plan-file, regress and JSON key: "micro_batch" */
	const char *flag;           /* CLI flag: "--micro-batch" */
	pp_setting_type type;
	size_t off;                 /* offset of its int member in pp_global */
	int def;                    /* default: PP_GLOBAL_INIT's value */
	int min;                    /* smallest value a user may give */
	long long cli_max;          /* largest value on the command line */
	long long file_max;         /* largest value in a plan file (PP_SETTING_MAX_LAYERS) */
	const char *const *names;   /* PP_SETTING_ENUM: value i's name; NULL otherwise */
	int n_names;
	const char *cli_noun;       /* PP_SETTING_ENUM: "--recompute: unknown <mode> ..." */
	const char *regress_choices;/* PP_SETTING_ENUM: the choices regress errors list */
	unsigned flags;             /* PP_SETTING_SEARCHED, ... */
	unsigned invalidates;       /* PP_COST_* */
	pp_setting_check_fn check;  /* validity rule beyond the range, or NULL */
	const char *help;           /* one line: what it does */
} pp_setting;

/** The table: PP_SETTING_COUNT rows in the order above.  Static; never freed. */
const pp_setting *pp_settings(void);
/** The row whose key is @key, or NULL. */
const pp_setting *pp_setting_find(const char *key);

/** The value of @s in @gl, and set it (no checks). */
int pp_setting_get(const pp_setting *s, const pp_global *gl);
void pp_setting_set(const pp_setting *s, pp_global *gl, int v);

/** Fill @gl with every row's default (the same as PP_GLOBAL_INIT). */
void pp_settings_defaults(pp_global *gl);

/** PP_SETTING_ENUM: the name of value @v ("?" when out of range) and the value of @name (-1). */
const char *pp_setting_value_name(const pp_setting *s, int v);
int pp_setting_parse_name(const pp_setting *s, const char *name);
/** PP_SETTING_ENUM: "a, b or c" into @buf (truncated to @n). */
void pp_setting_choices(const pp_setting *s, char *buf, size_t n);

/**
 * Compare the settings the search varies (PP_SETTING_SEARCHED), in table order: <0, 0, >0.
 */
int pp_settings_cmp_searched(const pp_global *a, const pp_global *b);

/** The op types (a mask of PP_OPMASK) whose costs read @s: every type for a row with plain
 * PP_COST_OPS, the types of PP_COST_OPS_OF, none without PP_COST_OPS. */
unsigned pp_setting_op_types(const pp_setting *s);

/** True when @a and @b differ in a setting whose row invalidates any of @what (PP_COST_*). */
int pp_settings_differ_in(const pp_global *a, const pp_global *b, unsigned what);

#endif
