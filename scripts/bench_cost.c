/* bench_cost.c - evaluations per second of a full global plan (gpt3-175b, 1024 GPUs), one core. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "parplan/cost.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	const char *model = argc > 1 ? argv[1] : "models/gpt3-175b.json";
	const char *hwp = argc > 2 ? argv[2] : "hwprofiles/dgx-a100-80g.json";
	const char *stackp = argc > 3 ? argv[3] : NULL; /* a stack file; none: the legacy model */
	pp_stack st;
	pp_error err = PP_ERROR_INIT;
	pp_graph *g = NULL;
	pp_hw *hw = NULL;
	pp_costctx *c = NULL;
	pp_global gl = PP_GLOBAL_INIT;
	pp_cost cost;
	double t0, dt, sink = 0;
	long n = 0, batch = 10000;

	if (pp_graph_load(model, &g, &err) || pp_hw_load(hwp, &hw, &err) || pp_costctx_new(&c, g, hw, &err)) {
		fprintf(stderr, "bench_cost: %s: %s\n", err.file, err.msg);
		return 2;
	}
	if (stackp) {
		if (pp_stack_load(stackp, &st, &err)) {
			fprintf(stderr, "bench_cost: %s: %s\n", err.file, err.msg);
			return 2;
		}
		pp_costctx_set_stack(c, &st);
		gl.tp_comm_overlap = gl.overlap_grad_reduce = gl.overlap_param_gather = 1;
	}
	gl.t = 8;
	gl.p = 16;
	gl.d = 8;
	gl.micro_batch = 1;
	gl.global_batch = 1536;
	gl.recompute = PP_RECOMPUTE_SELECTIVE;
	gl.sequence_parallel = 1;
	t0 = now();
	do {
		long i;
		for (i = 0; i < batch; i++) {
			/* vary the plan a little so nothing can be cached across calls */
			gl.micro_batch = 1 + (int)(i & 1);
			gl.distributed_optimizer = (int)((i >> 1) & 1);
			pp_cost_eval(c, &gl, NULL, &cost);
			sink += cost.iteration_s;
		}
		n += batch;
		dt = now() - t0;
	} while (dt < 1.0);
	printf("cost model (%s stack): %ld evaluations of a full global plan of %s on 1024 GPUs in %.2f s: "
	       "%.2f million/s (target >= 2 million/s) [checksum %.3g]\n",
	       stackp ? st.name : "legacy", n, g->name, dt, n / dt / 1e6, sink / n);
	pp_costctx_free(c);
	pp_hw_free(hw);
	pp_graph_free(g);
	return 0;
}
