/* regress_int.h - private to regress*.c. */
#ifndef PARPLAN_REGRESS_INT_H
#define PARPLAN_REGRESS_INT_H

#include <stdint.h>

#include "parplan/cost.h"
#include "parplan/regress.h"

/**
 * Run the search of a search case on @ctx: the best plan's global settings go to @best and its
 * per-op configs to *@cfg (malloc'd, g->n_ops entries, or NULL for Megatron's; the caller frees).
 * PP_EINFEASIBLE when no plan fits.
 */
int pp_regress_search_best(const pp_costctx *ctx, const pp_regress_search *s, pp_global *best,
			   uint8_t **cfg, pp_error *err);

#endif
