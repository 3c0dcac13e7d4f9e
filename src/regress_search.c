/* regress_search.c - the search of a search case (parplan-regress/1 "search"). */
#include "regress_int.h"

int pp_regress_search_best(const pp_costctx *ctx, const pp_regress_search *s, pp_global *best,
			   uint8_t **cfg, pp_error *err)
{
	(void)ctx;
	(void)s;
	(void)best;
	*cfg = NULL;
	return pp_error_set(err, PP_EINVALID, NULL, NULL,
			    "search cases need the search module, which this build lacks");
}
