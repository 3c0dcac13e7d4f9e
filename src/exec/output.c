/*
 * output.c - measurements.json (parplan-measurements/1, the file `parplan calibrate` reads):
 * the run's settings, the layer, the machine, the validation, every GEMM with its FLOPs and
 * TFLOP/s, every collective and sweep point with its algorithm and bus bandwidth (nccl-tests'
 * convention), and the layer's time; then one summary line on stdout.  Rank 0 only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "exec_int.h"
#include "json_int.h"
#include "parplan/io.h"

/* nccl-tests' bus bandwidth factor (PERFORMANCE.md of NVIDIA/nccl-tests). */
static double bus_factor(pp_exec_collop op, int n)
{
	if (op == PP_EXEC_ALLREDUCE)
		return 2.0 * (n - 1) / n;
	return (double)(n - 1) / n;
}

static cJSON *coll_entry(const char *name, pp_exec_collop op, int ranks, double elems, int esize,
			 double med, double mn)
{
	cJSON *o = cJSON_CreateObject();
	double bytes = elems * esize, alg = med > 0 ? bytes / med / 1e9 : 0;
	if (!o)
		return NULL;
	if (name)
		cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "op", pp_exec_collop_name(op));
	cJSON_AddNumberToObject(o, "ranks", ranks);
	cJSON_AddNumberToObject(o, "elements", elems);
	cJSON_AddNumberToObject(o, "bytes", bytes);
	cJSON_AddNumberToObject(o, "median_s", med);
	cJSON_AddNumberToObject(o, "min_s", mn);
	cJSON_AddNumberToObject(o, "algbw_gbs", alg);
	cJSON_AddNumberToObject(o, "busbw_gbs", alg * bus_factor(op, ranks));
	return o;
}


int xe_write(const xe_opts *o, const pp_exec_layer *L, const pp_xbackend *be, const xe_run *R,
	     int size, const xe_times *T)
{
	pp_error err = PP_ERROR_INIT;
	double gsum = 0, csum = 0;
	int esize = pp_dtype_bytes(L->dtype), i, rc = 0;
	char host[256] = "", device[256] = "", libs[512] = "";
	char *json = NULL;
	cJSON *root, *arr, *m, *v;

	gethostname(host, sizeof(host) - 1);
	be->describe(R->dev, device, sizeof(device), libs, sizeof(libs));
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "format", XE_MEAS_FORMAT);
	cJSON_AddStringToObject(root, "stub", o->input);
	cJSON_AddStringToObject(root, "model", L->model);
	cJSON_AddStringToObject(root, "family", L->llama ? "llama" : "gpt");
	cJSON_AddStringToObject(root, "backend", be->name);
	cJSON_AddStringToObject(root, "dtype", pp_dtype_name(L->dtype));
	cJSON_AddNumberToObject(root, "ranks", size);
	cJSON_AddNumberToObject(root, "iters", o->iters);
	cJSON_AddNumberToObject(root, "warmup", o->warmup);
	cJSON_AddNumberToObject(root, "scale", o->scale);
	m = cJSON_AddObjectToObject(root, "layer");
	cJSON_AddNumberToObject(m, "micro_batch", (double)L->b);
	cJSON_AddNumberToObject(m, "seq", (double)L->s);
	cJSON_AddNumberToObject(m, "hidden", (double)L->h);
	cJSON_AddNumberToObject(m, "heads", (double)L->heads);
	cJSON_AddNumberToObject(m, "kv_heads", (double)L->kv_heads);
	cJSON_AddNumberToObject(m, "ffn", (double)L->ffn);
	cJSON_AddNumberToObject(m, "t", L->t);
	cJSON_AddBoolToObject(m, "sequence_parallel", L->sp);
	m = cJSON_AddObjectToObject(root, "machine");
	cJSON_AddStringToObject(m, "host", host);
	cJSON_AddStringToObject(m, "device", device);
	cJSON_AddStringToObject(m, "libraries", libs);
	cJSON_AddNumberToObject(m, "memory_bw_gbs", T->membw_gbs);
	m = cJSON_AddObjectToObject(root, "validation");
	cJSON_AddBoolToObject(m, "passed", 1);
	cJSON_AddNumberToObject(m, "checks", R->checks);
	cJSON_AddNumberToObject(m, "tolerance", R->tol);
	cJSON_AddNumberToObject(m, "max_rel_error", R->max_err);
	cJSON_AddStringToObject(m, "reference", "unsharded layer on rank 0, fp32, OpenBLAS");
	arr = cJSON_AddArrayToObject(root, "gemms");
	for (i = 0; i < L->n_gemm; i++) {
		const pp_exec_gemm *g = &L->gemm[i];
		double fl = pp_exec_gemm_flops(g), med = T->gemm_med_s[i];
		v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "name", g->name);
		cJSON_AddStringToObject(v, "pass", g->backward ? "backward" : "forward");
		if (g->backward)
			cJSON_AddStringToObject(v, "of", g->of);
		cJSON_AddNumberToObject(v, "m", (double)g->m);
		cJSON_AddNumberToObject(v, "n", (double)g->n);
		cJSON_AddNumberToObject(v, "k", (double)g->k);
		cJSON_AddNumberToObject(v, "batch", (double)g->batch);
		cJSON_AddNumberToObject(v, "flops", fl);
		cJSON_AddNumberToObject(v, "median_s", med);
		cJSON_AddNumberToObject(v, "min_s", T->gemm_min_s[i]);
		cJSON_AddNumberToObject(v, "tflops", med > 0 ? fl / med / 1e12 : 0);
		cJSON_AddItemToArray(arr, v);
		gsum += med;
	}
	arr = cJSON_AddArrayToObject(root, "collectives");
	for (i = 0; i < L->n_coll; i++) {
		cJSON_AddItemToArray(arr, coll_entry(L->coll[i].name, L->coll[i].op, size,
						     (double)L->coll[i].elems, esize,
						     T->coll_med_s[i], T->coll_min_s[i]));
		csum += T->coll_med_s[i];
	}
	arr = cJSON_AddArrayToObject(root, "sweep");
	for (i = 0; i < T->n_sweep; i++)
		cJSON_AddItemToArray(arr, coll_entry(NULL, T->sweep[i].op, size, T->sweep[i].elems,
						     esize, T->sweep[i].median_s,
						     T->sweep[i].min_s));
	m = cJSON_AddObjectToObject(root, "layer_time");
	cJSON_AddNumberToObject(m, "gemm_s", gsum);
	cJSON_AddNumberToObject(m, "collective_s", csum);
	cJSON_AddNumberToObject(m, "total_s", gsum + csum);
	json = pp_json_print(root);
	if (!json || pp_write_atomic(o->out, json, strlen(json), &err) < 0) {
		char line[1100];
		if (!json)
			pp_error_set(&err, PP_ENOMEM, o->out, NULL, "out of memory");
		fprintf(stderr, "parplan-exec: %s\n", pp_error_format(&err, line, sizeof(line)));
		rc = XE_EXIT_BAD;
		goto done;
	}
	printf("parplan-exec: %s layer, t=%d, %s on %s: validated (%d checks, max relative "
	       "error %.2g), layer %.3f ms (GEMMs %.3f ms, collectives %.3f ms) -> %s\n",
	       L->model, L->t, pp_dtype_name(L->dtype), be->name, R->checks, R->max_err,
	       1e3 * (gsum + csum), 1e3 * gsum, 1e3 * csum, o->out);
done:
	cJSON_Delete(root);
	free(json);
	return rc;
}
