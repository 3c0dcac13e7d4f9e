/* regress_search.c - the search of a search case (parplan-regress/1 "search"): the best plan of
 * pp_search_run(), as `parplan search` finds it. */
#include <stdlib.h>
#include <string.h>

#include "parplan/search.h"
#include "regress_int.h"

int pp_regress_search_best(const pp_costctx *ctx, const pp_regress_search *s, pp_global *best,
			   uint8_t **cfg, pp_error *err)
{
	pp_search_opts o = PP_SEARCH_OPTS_INIT;
	pp_search_result r;
	int method = pp_search_method_parse(s->method), rc;

	*cfg = NULL;
	memset(&r, 0, sizeof(r));
	if (method < 0)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "unknown search method \"%.32s\"",
				    s->method);
	o.space.gpus = s->gpus;
	o.space.global_batch = s->global_batch;
	o.top_k = 1;
	o.seed = s->has_seed ? (uint64_t)s->seed : 0;
	o.time_limit_s = s->time_limit_s;
	if ((rc = pp_search_run(ctx, (pp_search_method)method, &o, &r, err)) < 0)
		goto done;
	if (r.n < 1) {
		rc = pp_error_set(err, PP_EINFEASIBLE, NULL, NULL, "the search returned no plan");
		goto done;
	}
	*best = r.plans[0].global;
	if (r.plans[0].cfg && r.n_ops > 0) {
		*cfg = malloc((size_t)r.n_ops);
		if (!*cfg) {
			rc = pp_error_set(err, PP_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		memcpy(*cfg, r.plans[0].cfg, (size_t)r.n_ops);
	}
done:
	pp_search_result_release(&r);
	return rc;
}
