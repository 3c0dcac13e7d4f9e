/*
 * graph_int.h - graph loader internals shared with its tests.
 *
 * Loading is linear in the size of the graph: names resolve through hash tables, the
 * topological sort walks each edge once and layer classes are found by hashing each layer's
 * structure.  The loader counts its elementary steps so that a test can check that bound
 * without timing anything.
 */
#ifndef PARPLAN_GRAPH_INT_H
#define PARPLAN_GRAPH_INT_H

#include <stdint.h>

#include "parplan/graph.h"

/**
 * pp_graph_parse() that also adds to *@steps (when not NULL) the loader's elementary steps:
 * hash-table probes (tensor, op and dim names), edge visits of the topological sort, and
 * op-by-op comparisons and hashing of layers while finding the layer classes.  Same ownership
 * as pp_graph_parse().
 */
int pp_graph_parse_counted(const char *name_for_errors, const char *text, pp_graph **out,
			   uint64_t *steps, pp_error *err);

/*
 * The "model" settings object (docs/formats.md), read and written alike by graphs (key "model")
 * and plan files ("model_shape.model"): @P is the object's JSON path for errors; *@tied_out
 * receives "tied_embeddings" where given.  The writer leaves out empty strings and zero
 * numbers; NULL when out of memory.
 */
struct cJSON;
struct pp_jctx;
int pp_model_settings_read(const struct pp_jctx *c, const struct cJSON *o, const char *P,
			   pp_model_settings *m, int *tied_out);
struct cJSON *pp_model_settings_to_json(const pp_model_settings *m, int tied);

#endif
