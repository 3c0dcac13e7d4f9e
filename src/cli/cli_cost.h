/*
 * cli_cost.h - printing and option helpers shared by `parplan cost` and `parplan search`.
 */
#ifndef PARPLAN_CLI_COST_H
#define PARPLAN_CLI_COST_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "parplan/cost.h"
#include "parplan/settings.h"
#include "parplan/strategy.h"

/** The `parplan cost --json` object: feasible, iteration_s, ..., time {...}, memory {...}. */
cJSON *cli_cost_json(const pp_cost *c);
/** Copy the cost into a plan's "predicted" block. */
void cli_cost_to_predicted(const pp_cost *c, pp_predicted *p);
/** Time and memory breakdown tables. */
void cli_cost_print(FILE *f, const pp_global *gl, const pp_cost *c);
/** One line saying by how much a plan does not fit, or nothing when it does. */
void cli_cost_print_infeasible(FILE *f, const pp_cost *c);

/**
 * Global-plan options, one per row of the table of plan settings (parplan/settings.h): --t --p
 * --d --micro-batch --global-batch --virtual-stages --schedule --recompute --sequence-parallel
 * --distributed-optimizer --overlap-grad-reduce --first-stage-layers --last-stage-layers
 * --tp-comm-overlap --overlap-param-gather.
 * Returns 1 when argv[*i] was one (applied to @gl, its row in *@which when @which is not NULL),
 * 0 when not, -1 after printing an error.
 */
int cli_global_opt(int argc, char **argv, int *i, pp_global *gl, const pp_setting **which);

/** Zero the settings `cost` requires (PP_SETTING_CLI_REQUIRED), so that a missing one shows. */
void cli_global_required(pp_global *gl);
/**
 * Whether a required setting is still zero; @buf receives their flags as "--t, --p and --d"
 * either way.
 */
int cli_global_missing(const pp_global *gl, char *buf, size_t n);

/* Load stack @name (NULL: PP_STACK_DEFAULT): a file path, or a name looked up in ./stacks and
 * then in the stacks folder next to the binary's (bin/../stacks). */
int cli_stack_load(const char *name, pp_stack *st, pp_error *err);

/*
 * Time and money of a training run (--tokens N, --price-per-gpu-hour P): the plan's throughput
 * held for the whole token budget.
 */
typedef struct cli_training {
	double tokens;          /* 0: not asked */
	double price;           /* per GPU-hour; 0: not given */
	int objective_cost;     /* search --objective cost */
} cli_training;

/** --tokens, --price-per-gpu-hour (and --objective when @objective): 1 taken, 0 not, -1 error. */
int cli_training_opt(int argc, char **argv, int *i, cli_training *tr, int objective);
/** The "training" object: days, gpu_hours, cost (null without a price), energy_kwh (null
 * without the profile's TDP); NULL when no --tokens. */
cJSON *cli_training_json(const cli_training *tr, const pp_cost *c, int gpus, double tdp_w);
/** The same as text lines. */
void cli_training_print(FILE *f, const cli_training *tr, const pp_cost *c, int gpus, double tdp_w);
/** --mem-headroom GIB into *@gib (left alone when absent): 1 taken, 0 not, -1 error. */
int cli_headroom_opt(int argc, char **argv, int *i, double *gib);
/** Seconds of the whole run (0 when no --tokens or no throughput). */
double cli_training_seconds(const cli_training *tr, const pp_cost *c);

#endif
