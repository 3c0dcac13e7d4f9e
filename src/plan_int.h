/*
 * plan_int.h - plan-file pieces shared inside parplan (the CLI prints them too).
 */
#ifndef PARPLAN_PLAN_INT_H
#define PARPLAN_PLAN_INT_H

#include <cjson/cJSON.h>

#include "parplan/strategy.h"

/** The "global" object of a plan file (t, p, d, micro_batch, ...); NULL when out of memory.
 * The caller owns the result. */
cJSON *pp_global_json(const pp_global *gl);

#endif
