/*
 * regress_int.h - private to regress*.c: what loading (regress_load.c), running (regress_run.c)
 * and reporting (regress_report.c) share.
 */
#ifndef PARPLAN_REGRESS_INT_H
#define PARPLAN_REGRESS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parplan/cost.h"
#include "parplan/regress.h"

/* A cost field a case may expect: its name as in `parplan cost --json` (dotted), its kind and
 * where it sits in pp_cost (int for BOOL, double for NUMBER). */
typedef struct pp_regress_field {
	const char *name;
	pp_regress_kind kind;
	size_t off;
} pp_regress_field;

#define PP_REGRESS_N_COST_FIELDS 19
extern const pp_regress_field pp_regress_cost_fields[PP_REGRESS_N_COST_FIELDS];

/* Inline plan keys are the rows of the table of plan settings, then "gpus": bit i of
 * pp_regress_case.global_keys is row i, bit PP_REGRESS_K_GPUS is "gpus". */
#define PP_REGRESS_K_GPUS PP_SETTING_COUNT
/* The largest integer a case file may give. */
#define PP_REGRESS_INT_MAX (1 << 24)

/** A malloc'd copy of @s (NULL for NULL or out of memory). */
char *pp_regress_strdup(const char *s);

/**
 * Run the search of a search case on @ctx: the best plan's global settings go to @best and its
 * per-op configs to *@cfg (malloc'd, g->n_ops entries, or NULL for Megatron's; the caller frees).
 * PP_EINFEASIBLE when no plan fits.
 */
int pp_regress_search_best(const pp_costctx *ctx, const pp_regress_search *s, pp_global *best,
			   uint8_t **cfg, pp_error *err);

#endif
