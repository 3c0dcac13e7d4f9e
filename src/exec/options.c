/*
 * options.c - parplan-exec's command line, and the layer it names: a parplan-exec/1 stub file,
 * a plan (through pp_emit_exec) or a model graph's dimensions, then --dtype, --ranks, --scale,
 * --backend and the test-only options applied and checked.  Every rank parses the same
 * arguments, so every rank reaches the same verdict; rank 0 alone says why.
 *
 *   mpirun -np T parplan-exec --stub stub.json [--backend cpu|cuda] [--iters N] [--warmup N]
 *          [--dtype fp32|bf16] [--scale X] [--ranks T] [--seed N] -o measurements.json
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"
#include "parplan/emit.h"
#include "parplan/graph.h"
#include "parplan/io.h"
#include "parplan/strategy.h"

int xe_usage(int rank, const char *fmt, ...)
{
	va_list ap;
	if (rank != 0)
		return XE_EXIT_BAD;
	fputs("parplan-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return XE_EXIT_BAD;
}

/* Plain decimal numbers only: strtol/strtod would also take leading blanks and hex. */
static int plain_number(const char *v)
{
	if (*v == '-' || *v == '+')
		v++;
	return *v >= '0' && *v <= '9' && strspn(v, "0123456789.eE+-") == strlen(v);
}

static int parse_int(int rank, const char *name, const char *v, long lo, long hi, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (!plain_number(v) || end == v || *end || x < lo || x > hi)
		return xe_usage(rank, "%s: expected an integer in [%ld, %ld], got \"%.40s\"", name, lo,
				hi, v);
	*out = (int)x;
	return 0;
}

int xe_parse_opts(int argc, char **argv, int rank, xe_opts *o)
{
	int i, k;
	memset(o, 0, sizeof(*o));
	o->backend = "cpu";
	o->iters = 20;
	o->warmup = 3;
	o->scale = 1;
	o->seed = 1234;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			if (rank == 0)
				printf("usage: mpirun -np T parplan-exec (--stub stub.json | --plan "
				       "plan.json | --model graph.json --t T [--micro-batch b] "
				       "[--sequence-parallel])\n       [--backend cpu|cuda] [--iters N] "
				       "[--warmup N] [--dtype fp32|bf16] [--scale X] [--ranks T] "
				       "[--seed N] -o measurements.json\n"
				       "exit: 0 ok, 1 validation failed, 2 bad usage or input or a "
				       "backend failure\n");
			return -1;
		}
		if (!strcmp(a, "--sequence-parallel")) {
			o->sp = 1;
			continue;
		}
		if (!strcmp(a, "--test-fail-sweep")) {
			o->fail_sweep = 1;
			continue;
		}
		if (a[0] != '-')
			return xe_usage(rank, "unexpected argument \"%.40s\"", a);
		if (!v || !*v || (v[0] == '-' && v[1] && !(v[1] >= '0' && v[1] <= '9')))
			return xe_usage(rank, "option %s needs a value", a);
		for (k = 1; k < i; k++)
			if (!strcmp(argv[k], a))
				return xe_usage(rank, "option %s given twice", a);
		i++;
		if (!strcmp(a, "--stub"))
			o->stub = v;
		else if (!strcmp(a, "--plan"))
			o->plan = v;
		else if (!strcmp(a, "--model"))
			o->model = v;
		else if (!strcmp(a, "--t")) {
			if ((rc = parse_int(rank, a, v, 1, 4096, &o->t)))
				return rc;
		} else if (!strcmp(a, "--micro-batch")) {
			if ((rc = parse_int(rank, a, v, 1, 1 << 20, &o->micro_batch)))
				return rc;
		}
		else if (!strcmp(a, "-o"))
			o->out = v;
		else if (!strcmp(a, "--backend"))
			o->backend = v;
		else if (!strcmp(a, "--dtype"))
			o->dtype = v;
		else if (!strcmp(a, "--iters")) {
			if ((rc = parse_int(rank, a, v, 1, 100000, &o->iters)))
				return rc;
		} else if (!strcmp(a, "--warmup")) {
			if ((rc = parse_int(rank, a, v, 0, 100000, &o->warmup)))
				return rc;
		} else if (!strcmp(a, "--ranks")) {
			if ((rc = parse_int(rank, a, v, 1, 4096, &o->ranks)))
				return rc;
		} else if (!strcmp(a, "--seed")) {
			int sd;
			if ((rc = parse_int(rank, a, v, 0, 2147483647, &sd)))
				return rc;
			o->seed = (uint64_t)sd;
		} else if (!strcmp(a, "--scale")) {
			char *end;
			/* below 1e-3 every dimension of the layer rounds to its minimum */
			o->scale = strtod(v, &end);
			if (!plain_number(v) || end == v || *end || !(o->scale >= 1e-3 && o->scale <= 1))
				return xe_usage(rank, "--scale: expected a number in [0.001, 1], got "
						"\"%.40s\"", v);
		} else if (!strcmp(a, "--test-wrong-shard")) {
			if (strcmp(v, "w_qkv") && strcmp(v, "w_proj") && strcmp(v, "w_fc1") &&
			    strcmp(v, "w_fc2"))
				return xe_usage(rank, "--test-wrong-shard: expected w_qkv, w_proj, "
						"w_fc1 or w_fc2");
			o->wrong_shard = v;
		} else if (!strcmp(a, "--test-skip-write")) {
			o->skip_write = v;
		} else {
			return xe_usage(rank, "unknown option \"%.40s\"", a);
		}
	}
	if (!!o->stub + !!o->plan + !!o->model != 1 || !o->out)
		return xe_usage(rank, "one of --stub, --plan or --model, and -o FILE, are required "
				"(see --help)");
	if (o->model && !o->t)
		return xe_usage(rank, "--model needs --t");
	if (!o->model && (o->t || o->micro_batch || o->sp))
		return xe_usage(rank, "--t, --micro-batch and --sequence-parallel go with --model");
	o->input = o->stub ? o->stub : o->plan ? o->plan : o->model;
	if (strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda"))
		return xe_usage(rank, "--backend: expected cpu or cuda, got \"%.40s\"", o->backend);
	return 0;
}

/* A Llama graph: its MLP is SwiGLU (the generator's only other family is GPT). */
static int is_llama(const pp_graph *g)
{
	int i;
	for (i = 0; i < g->n_ops; i++)
		if (g->ops[i].type == PP_OP_SWIGLU)
			return 1;
	return 0;
}

/* The layer from a stub file, a plan (through pp_emit_exec) or a model graph's dimensions. */
static int read_layer(const xe_opts *o, pp_exec_layer *L, pp_error *err)
{
	char *text = NULL;
	int rc;

	if (o->model) {
		pp_graph *g = NULL;
		if ((rc = pp_graph_load(o->model, &g, err)) < 0)
			return rc;
		rc = pp_exec_layer_build(L, g->name, g->dtype, is_llama(g),
					 o->micro_batch ? o->micro_batch : 1, g->seq, g->hidden,
					 g->heads, g->kv_heads ? g->kv_heads : g->heads, g->ffn, o->t,
					 o->sp, err);
		if (rc < 0 && err && !err->file[0])
			snprintf(err->file, sizeof(err->file), "%s", o->model);
		pp_graph_free(g);
		return rc;
	}
	if (o->plan) {
		pp_plan plan;
		if ((rc = pp_plan_load(o->plan, &plan, err)) < 0)
			return rc;
		rc = pp_emit_exec(&plan, &text, err);
		pp_plan_release(&plan);
		if (rc < 0) {
			if (err && !err->file[0])
				snprintf(err->file, sizeof(err->file), "%s", o->plan);
			return rc;
		}
		rc = pp_exec_layer_parse(o->plan, text, L, err);
		free(text);
		return rc;
	}
	if ((rc = pp_read_file(o->stub, &text, NULL, err)) == 0)
		rc = pp_exec_layer_parse(o->stub, text, L, err);
	free(text);
	return rc;
}

int xe_layer_resolve(const xe_opts *o, int rank, int size, pp_exec_layer *L,
		     const pp_xbackend **be, int *dtype)
{
	pp_error err = PP_ERROR_INIT;
	int dt, t_run;

	*be = &pp_xbackend_cpu;
	if (read_layer(o, L, &err) < 0) {
		char line[1100];
		return xe_usage(rank, "%s", pp_error_format(&err, line, sizeof(line)));
	}
	/* dtype: the option, else the stub's; the cpu backend computes fp32 only */
	dt = o->dtype ? pp_dtype_parse(o->dtype) : (int)L->dtype;
	if (o->dtype && dt != PP_DTYPE_FP32 && dt != PP_DTYPE_BF16)
		return xe_usage(rank, "--dtype: expected fp32 or bf16, got \"%.40s\"", o->dtype);
	if (!o->dtype && !strcmp(o->backend, "cpu"))
		dt = PP_DTYPE_FP32;
	L->dtype = (pp_dtype)dt;
	*dtype = dt;
	t_run = o->ranks ? o->ranks : L->t;
	if (t_run != size)
		return xe_usage(rank, "%s: the layer is split over t=%d ranks but the job has %d "
				"(start it with mpirun -np %d, or pass --ranks %d to split it over "
				"%d)", o->input, t_run, size, t_run, size, size);
	if (t_run != L->t &&
	    pp_exec_layer_build(L, L->model, L->dtype, L->llama, L->b, L->s, L->h, L->heads,
				L->kv_heads, L->ffn, t_run, L->sp, &err) < 0)
		return xe_usage(rank, "--ranks %d: %s", t_run, err.msg);
	if (pp_exec_layer_scale(L, o->scale, &err) < 0)
		return xe_usage(rank, "--scale: %s", err.msg);
	if (o->skip_write && xe_find_gemm(L, o->skip_write) < 0)
		return xe_usage(rank, "--test-skip-write: no GEMM \"%.40s\" in the layer",
				o->skip_write);
	if (!strcmp(o->backend, "cuda")) {
		const char *why = "";
		*be = pp_xbackend_cuda(&why);
		if (!*be)
			return xe_usage(rank, "--backend cuda: %s", why);
	}
	return 0;
}
