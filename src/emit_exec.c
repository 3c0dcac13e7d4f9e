/* emit_exec.c - placeholder: the execution-stub branch replaces this file. */
#include "parplan/emit.h"

int pp_emit_exec(const pp_plan *plan, char **out, pp_error *err)
{
	(void)plan;
	*out = NULL;
	return pp_error_set(err, PP_EINVALID, NULL, NULL, "exec format not built yet");
}
