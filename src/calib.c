/*
 * calib.c - hardware profiles from parplan-exec measurements (see include/parplan/calib.h).
 */
#include "parplan/calib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_int.h"
#include "parplan/cost.h"
#include "parplan/strategy.h"

#define MAX_GEMMS 64
#define MAX_COLLS 4096
#define MAX_DIM ((int64_t)1 << 40)

typedef struct mgemm {
	const char *name, *of;
	int64_t m, n, k, batch;
	double flops, median_s;
} mgemm;

typedef struct mcoll {
	int op;        /* 0 allreduce, 1 allgather, 2 reducescatter */
	int ranks;
	double bytes, median_s;
} mcoll;

typedef struct meas {
	cJSON *root;
	const char *dtype, *device, *backend, *libs;
	int ranks, iters, t, sp;
	int64_t b, s, h, heads, kv_heads, ffn;
	double membw, gemm_s, coll_s;
	int n_gemm, n_coll;
	mgemm gemm[MAX_GEMMS];
	mcoll *coll;
} meas;

static void meas_release(meas *M)
{
	cJSON_Delete(M->root);
	free(M->coll);
	memset(M, 0, sizeof(*M));
}

static int get_pos(const pp_jctx *c, const cJSON *o, const char *path, const char *key,
		   double *out)
{
	int rc = pp_json_get_number(c, o, path, key, 1, 0, 1e30, out);
	if (rc < 0)
		return rc;
	if (!(*out > 0))
		return pp_json_fail(c, path, key, "must be > 0");
	return 0;
}

static int parse_coll(const pp_jctx *c, const cJSON *e, const char *path, mcoll *out)
{
	static const char *const keys[] = {"name", "op", "ranks", "elements", "bytes", "median_s",
					   "min_s", "algbw_gbs", "busbw_gbs", NULL};
	const char *op = NULL, *nm = NULL;
	int64_t ranks;
	double x;
	int rc;

	if ((rc = pp_json_check_object(c, e, path, keys)) < 0 ||
	    (rc = pp_json_get_string(c, e, path, "name", 0, &nm)) < 0 ||
	    (rc = pp_json_get_string(c, e, path, "op", 1, &op)) < 0 ||
	    (rc = pp_json_get_int(c, e, path, "ranks", 1, 1, 1 << 24, &ranks)) < 0 ||
	    (rc = pp_json_get_number(c, e, path, "elements", 1, 0, 1e30, &x)) < 0 ||
	    (rc = get_pos(c, e, path, "bytes", &out->bytes)) < 0 ||
	    (rc = get_pos(c, e, path, "median_s", &out->median_s)) < 0 ||
	    (rc = pp_json_get_number(c, e, path, "min_s", 0, 0, 1e30, &x)) < 0 ||
	    (rc = pp_json_get_number(c, e, path, "algbw_gbs", 0, 0, 1e30, &x)) < 0 ||
	    (rc = pp_json_get_number(c, e, path, "busbw_gbs", 0, 0, 1e30, &x)) < 0)
		return rc;
	if (!strcmp(op, "allreduce"))
		out->op = 0;
	else if (!strcmp(op, "allgather"))
		out->op = 1;
	else if (!strcmp(op, "reducescatter"))
		out->op = 2;
	else
		return pp_json_fail(c, path, "op", "unknown collective \"%.40s\"", op);
	out->ranks = (int)ranks;
	return 0;
}

static int parse_meas(const char *file, const char *text, meas *M, pp_error *err)
{
	static const char *const keys[] = {"format", "stub", "model", "family", "backend", "dtype",
					   "ranks",
					   "iters", "warmup", "scale", "layer", "machine",
					   "validation", "gemms", "collectives", "sweep",
					   "layer_time", NULL};
	static const char *const lkeys[] = {"micro_batch", "seq", "hidden", "heads", "kv_heads",
					    "ffn", "t", "sequence_parallel", NULL};
	static const char *const mkeys[] = {"host", "device", "libraries", "memory_bw_gbs", NULL};
	static const char *const vkeys[] = {"passed", "checks", "tolerance", "max_rel_error",
					    "reference", NULL};
	static const char *const gkeys[] = {"name", "pass", "of", "m", "n", "k", "batch", "flops",
					    "median_s", "min_s", "tflops", NULL};
	static const char *const tkeys[] = {"gemm_s", "collective_s", "total_s", NULL};
	pp_jctx c = {file, err};
	const cJSON *lay = NULL, *mach = NULL, *val = NULL, *ga = NULL, *ca = NULL, *sw = NULL,
		    *lt = NULL, *e;
	const char *fmt = NULL, *s = NULL;
	char path[PP_JPATH_MAX];
	int64_t v[6], n;
	double x;
	int rc, i, passed = 0;
	static const char *const lk[6] = {"micro_batch", "seq", "hidden", "heads", "ffn", "t"};

	memset(M, 0, sizeof(*M));
	if ((rc = pp_json_parse(file, text, strlen(text), &M->root, err)) < 0)
		return rc;
	if ((rc = pp_json_check_object(&c, M->root, "", keys)) < 0 ||
	    (rc = pp_json_get_string(&c, M->root, "", "format", 1, &fmt)) < 0)
		return rc;
	if (strcmp(fmt, PP_MEAS_FORMAT))
		return pp_json_fail(&c, "format", NULL, "\"%.40s\" is not %s", fmt, PP_MEAS_FORMAT);
	if ((rc = pp_json_get_string(&c, M->root, "", "stub", 0, &s)) < 0 ||
	    (rc = pp_json_get_string(&c, M->root, "", "model", 0, &s)) < 0 ||
	    (rc = pp_json_get_string(&c, M->root, "", "family", 0, &s)) < 0 ||
	    (rc = pp_json_get_string(&c, M->root, "", "backend", 1, &M->backend)) < 0 ||
	    (rc = pp_json_get_string(&c, M->root, "", "dtype", 1, &M->dtype)) < 0 ||
	    (rc = pp_json_get_int(&c, M->root, "", "ranks", 1, 1, 1 << 24, &n)) < 0)
		return rc;
	M->ranks = (int)n;
	if ((rc = pp_json_get_int(&c, M->root, "", "iters", 1, 1, 1 << 30, &n)) < 0 ||
	    (rc = pp_json_get_int(&c, M->root, "", "warmup", 0, 0, 1 << 30, &n)) < 0 ||
	    (rc = pp_json_get_number(&c, M->root, "", "scale", 0, 0, 1, &x)) < 0)
		return rc;
	if (pp_dtype_parse(M->dtype) < 0 || !PP_DTYPE_IS_STORAGE(pp_dtype_parse(M->dtype)))
		return pp_json_fail(&c, "dtype", NULL, "unknown dtype \"%.40s\"", M->dtype);
	if ((rc = pp_json_get_object(&c, M->root, "", "layer", 1, &lay)) < 0 ||
	    (rc = pp_json_check_object(&c, lay, "layer", lkeys)) < 0)
		return rc;
	for (i = 0; i < 6; i++)
		if ((rc = pp_json_get_int(&c, lay, "layer", lk[i], 1, 1, MAX_DIM, &v[i])) < 0)
			return rc;
	M->b = v[0];
	M->s = v[1];
	M->h = v[2];
	M->heads = v[3];
	M->ffn = v[4];
	M->t = (int)(v[5] > 1 << 24 ? 1 << 24 : v[5]);
	M->kv_heads = M->heads;
	if ((rc = pp_json_get_int(&c, lay, "layer", "kv_heads", 0, 1, MAX_DIM, &M->kv_heads)) < 0)
		return rc;
	if ((rc = pp_json_get_bool(&c, lay, "layer", "sequence_parallel", 1, &M->sp)) < 0)
		return rc;
	if ((rc = pp_json_get_object(&c, M->root, "", "machine", 1, &mach)) < 0 ||
	    (rc = pp_json_check_object(&c, mach, "machine", mkeys)) < 0 ||
	    (rc = pp_json_get_string(&c, mach, "machine", "device", 1, &M->device)) < 0 ||
	    (rc = pp_json_get_string(&c, mach, "machine", "libraries", 0, &M->libs)) < 0 ||
	    (rc = pp_json_get_string(&c, mach, "machine", "host", 0, &s)) < 0 ||
	    (rc = pp_json_get_number(&c, mach, "machine", "memory_bw_gbs", 0, 0, 1e7,
				     &M->membw)) < 0)
		return rc;
	if ((rc = pp_json_get_object(&c, M->root, "", "validation", 1, &val)) < 0 ||
	    (rc = pp_json_check_object(&c, val, "validation", vkeys)) < 0 ||
	    (rc = pp_json_get_bool(&c, val, "validation", "passed", 1, &passed)) < 0)
		return rc;
	if (!passed)
		return pp_json_fail(&c, "validation", "passed",
				    "the run did not validate; its timings calibrate nothing");
	if ((rc = pp_json_get_object(&c, M->root, "", "layer_time", 1, &lt)) < 0 ||
	    (rc = pp_json_check_object(&c, lt, "layer_time", tkeys)) < 0 ||
	    (rc = pp_json_get_number(&c, lt, "layer_time", "gemm_s", 1, 0, 1e9, &M->gemm_s)) < 0 ||
	    (rc = pp_json_get_number(&c, lt, "layer_time", "collective_s", 1, 0, 1e9,
				     &M->coll_s)) < 0 ||
	    (rc = pp_json_get_number(&c, lt, "layer_time", "total_s", 1, 0, 1e9, &x)) < 0)
		return rc;

	if ((rc = pp_json_get_array(&c, M->root, "", "gemms", 1, &ga)) < 0)
		return rc;
	i = 0;
	cJSON_ArrayForEach(e, ga) {
		mgemm *g = &M->gemm[i];
		const char *pass = NULL;
		pp_jpath_idx(path, "gemms", i);
		if (i >= MAX_GEMMS)
			return pp_json_fail(&c, path, NULL, "more than %d GEMMs", MAX_GEMMS);
		if ((rc = pp_json_check_object(&c, e, path, gkeys)) < 0 ||
		    (rc = pp_json_get_string(&c, e, path, "name", 1, &g->name)) < 0 ||
		    (rc = pp_json_get_string(&c, e, path, "pass", 1, &pass)) < 0 ||
		    (rc = pp_json_get_string(&c, e, path, "of", 0, &g->of)) < 0 ||
		    (rc = pp_json_get_int(&c, e, path, "m", 1, 1, MAX_DIM, &g->m)) < 0 ||
		    (rc = pp_json_get_int(&c, e, path, "n", 1, 1, MAX_DIM, &g->n)) < 0 ||
		    (rc = pp_json_get_int(&c, e, path, "k", 1, 1, MAX_DIM, &g->k)) < 0 ||
		    (rc = pp_json_get_int(&c, e, path, "batch", 1, 1, MAX_DIM, &g->batch)) < 0 ||
		    (rc = get_pos(&c, e, path, "median_s", &g->median_s)) < 0 ||
		    (rc = pp_json_get_number(&c, e, path, "flops", 0, 0, 1e30, &x)) < 0 ||
		    (rc = pp_json_get_number(&c, e, path, "min_s", 0, 0, 1e30, &x)) < 0 ||
		    (rc = pp_json_get_number(&c, e, path, "tflops", 0, 0, 1e30, &x)) < 0)
			return rc;
		if (strcmp(pass, "forward") && strcmp(pass, "backward"))
			return pp_json_fail(&c, path, "pass", "expected forward or backward");
		if (!strcmp(pass, "backward") != (g->of != NULL))
			return pp_json_fail(&c, path, NULL, "a backward GEMM names its forward GEMM "
					    "in \"of\", a forward one does not");
		g->flops = 2.0 * (double)g->m * (double)g->n * (double)g->k * (double)g->batch;
		i++;
	}
	M->n_gemm = i;
	if (!i)
		return pp_json_fail(&c, "gemms", NULL, "empty, nothing to calibrate");
	for (i = 0; i < M->n_gemm; i++) {
		int j, found = !M->gemm[i].of;
		for (j = 0; j < M->n_gemm && !found; j++)
			found = !M->gemm[j].of && !strcmp(M->gemm[j].name, M->gemm[i].of);
		if (!found) {
			pp_jpath_idx(path, "gemms", i);
			return pp_json_fail(&c, path, "of", "no forward GEMM \"%.40s\"",
					    M->gemm[i].of);
		}
	}

	if ((rc = pp_json_get_array(&c, M->root, "", "collectives", 1, &ca)) < 0 ||
	    (rc = pp_json_get_array(&c, M->root, "", "sweep", 1, &sw)) < 0)
		return rc;
	n = cJSON_GetArraySize(ca) + cJSON_GetArraySize(sw);
	if (n > MAX_COLLS)
		return pp_json_fail(&c, "sweep", NULL, "more than %d collective timings", MAX_COLLS);
	M->coll = calloc((size_t)(n ? n : 1), sizeof(*M->coll));
	if (!M->coll)
		return pp_error_set(err, PP_ENOMEM, file, NULL, "out of memory");
	i = 0;
	cJSON_ArrayForEach(e, ca) {
		pp_jpath_idx(path, "collectives", i);
		if ((rc = parse_coll(&c, e, path, &M->coll[M->n_coll])) < 0)
			return rc;
		M->n_coll++;
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(e, sw) {
		pp_jpath_idx(path, "sweep", i);
		if ((rc = parse_coll(&c, e, path, &M->coll[M->n_coll])) < 0)
			return rc;
		M->n_coll++;
		i++;
	}
	return 0;
}

/* ---- the alpha-beta fit --------------------------------------------------------------- */

/* Ring coefficients: time = xa * alpha + xb * beta (Thakur et al. 2005). */
static void ring_coef(const mcoll *m, double *xa, double *xb)
{
	double n = m->ranks;
	if (m->op == 0) {
		*xa = 2 * (n - 1);
		*xb = 2 * (n - 1) / n * m->bytes;
	} else {
		*xa = n - 1;
		*xb = (n - 1) / n * m->bytes;
	}
}

/*
 * Least squares on the relative error: minimise sum ((xa*a + xb*b - T) / T)^2, a 2x2 normal
 * system; a negative alpha (noise on tiny messages) is clamped to 0 and beta refitted.
 */
static int fit_link(const meas *M, double *alpha, double *beta, double *rms, int *used)
{
	double saa = 0, sab = 0, sbb = 0, sa1 = 0, sb1 = 0, a, b, det, ss = 0;
	int i, n = 0;

	for (i = 0; i < M->n_coll; i++) {
		double xa, xb;
		if (M->coll[i].ranks < 2)
			continue;
		ring_coef(&M->coll[i], &xa, &xb);
		xa /= M->coll[i].median_s;
		xb /= M->coll[i].median_s;
		saa += xa * xa;
		sab += xa * xb;
		sbb += xb * xb;
		sa1 += xa;
		sb1 += xb;
		n++;
	}
	*used = n;
	if (n == 0)
		return 0;
	det = saa * sbb - sab * sab;
	a = b = 0;
	if (n >= 2 && fabs(det) > 1e-12 * saa * sbb) {
		a = (sa1 * sbb - sb1 * sab) / det;
		b = (saa * sb1 - sab * sa1) / det;
	}
	if (!(a > 0) || !(b > 0)) {
		a = 0;
		b = sb1 / sbb;
	}
	if (!(b > 0))
		return -1;
	for (i = 0; i < M->n_coll; i++) {
		double xa, xb, r;
		if (M->coll[i].ranks < 2)
			continue;
		ring_coef(&M->coll[i], &xa, &xb);
		r = (xa * a + xb * b - M->coll[i].median_s) / M->coll[i].median_s;
		ss += r * r;
	}
	*alpha = a;
	*beta = b;
	*rms = sqrt(ss / n);
	return 0;
}

/* ---- the profile ------------------------------------------------------------------------ */

static const char *op_name(int op)
{
	return op == 0 ? "allreduce" : op == 1 ? "allgather" : "reducescatter";
}

/* Key of a forward GEMM's table point: the attention core's two products share one. */
static int is_attention(const char *name)
{
	return !strcmp(name, "fwd.scores") || !strcmp(name, "fwd.context");
}

typedef struct point {
	int64_t m, n, k;
	double flops, s;
	char src[1024];
} point;

static void add_src(point *p, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void add_src(point *p, const char *fmt, ...)
{
	size_t len = strlen(p->src);
	va_list ap;
	if (len + 1 >= sizeof(p->src))
		return;
	va_start(ap, fmt);
	vsnprintf(p->src + len, sizeof(p->src) - len, fmt, ap);
	va_end(ap);
}

int pp_calibrate(const char *meas_path, const char *meas_text, const char *hw_path,
		 const char *hw_text, const char *name, char **out, pp_calib_summary *sum,
		 pp_error *err)
{
	const char *mfile = meas_path ? meas_path : "(measurements)";
	const char *hfile = hw_path ? hw_path : "(profile)";
	pp_jctx hc = {hfile, err};
	meas M;
	cJSON *hw = NULL, *dev, *table, *pts, *node, *intra, *peaks;
	point *P = NULL;
	pp_hw *check = NULL;
	double alpha = 0, beta = 0, rms = 0, peak = 0;
	int rc, i, j, np = 0, used = 0;
	char *text = NULL;

	if (out)
		*out = NULL;
	if (sum)
		memset(sum, 0, sizeof(*sum));
	memset(&M, 0, sizeof(M));
	if (!out || !meas_text || !hw_text)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "nothing to calibrate");
	/* the base must be a valid profile before anything is changed in it */
	if ((rc = pp_hw_parse(hfile, hw_text, &check, err)) < 0)
		return rc;
	pp_hw_free(check);
	check = NULL;
	if ((rc = parse_meas(mfile, meas_text, &M, err)) < 0)
		goto done;
	if ((rc = pp_json_parse(hfile, hw_text, strlen(hw_text), &hw, err)) < 0)
		goto done;
	dev = cJSON_GetObjectItemCaseSensitive(hw, "device");
	peaks = cJSON_GetObjectItemCaseSensitive(dev, "peak_tflops");
	{
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(peaks, M.dtype);
		if (!cJSON_IsNumber(pk)) {
			rc = pp_json_fail(&hc, "device.peak_tflops", NULL,
					  "gives no %s peak, and %s measured in %s", M.dtype, mfile,
					  M.dtype);
			goto done;
		}
		peak = pk->valuedouble;
	}

	/* GEMM points: each forward GEMM with its backward GEMMs */
	P = calloc((size_t)M.n_gemm, sizeof(*P));
	if (!P) {
		rc = pp_error_set(err, PP_ENOMEM, mfile, NULL, "out of memory");
		goto done;
	}
	for (i = 0; i < M.n_gemm; i++) {
		const mgemm *f = &M.gemm[i], *key = f;
		point *p = NULL;
		if (f->of)
			continue;
		if (is_attention(f->name))
			for (j = 0; j < M.n_gemm; j++)
				if (!strcmp(M.gemm[j].name, "fwd.scores"))
					key = &M.gemm[j];
		for (j = 0; j < np && !p; j++)
			if (P[j].m == key->m && P[j].n == key->n && P[j].k == key->k)
				p = &P[j];
		if (!p) {
			p = &P[np++];
			p->m = key->m;
			p->n = key->n;
			p->k = key->k;
			snprintf(p->src, sizeof(p->src), "parplan-exec %s/%s on %s, %d rank%s, %s: ",
				 M.backend, M.dtype, M.device, M.ranks, M.ranks > 1 ? "s" : "",
				 mfile);
		} else {
			add_src(p, "; ");
		}
		add_src(p, "%s %lldx%lldx%lld x%lld %.4g ms", f->name, (long long)f->m,
			(long long)f->n, (long long)f->k, (long long)f->batch, f->median_s * 1e3);
		p->flops += f->flops;
		p->s += f->median_s;
		for (j = 0; j < M.n_gemm; j++) {
			const mgemm *b = &M.gemm[j];
			if (!b->of || strcmp(b->of, f->name))
				continue;
			add_src(p, " + %s %.4g ms", b->name, b->median_s * 1e3);
			p->flops += b->flops;
			p->s += b->median_s;
		}
	}
	table = cJSON_CreateObject();
	pts = cJSON_AddArrayToObject(table, "points");
	cJSON_AddStringToObject(table, "dtype", M.dtype);
	cJSON_AddStringToObject(table, "source",
				"parplan calibrate: per forward GEMM shape, FLOPs of the forward "
				"GEMM and its backward GEMMs over the sum of their median times; "
				"the attention core (QK^T and AV) at (s, s, head_dim)");
	for (i = 0; i < np; i++) {
		double tf = P[i].flops / P[i].s / 1e12;
		cJSON *o = cJSON_CreateObject();
		if (tf > peak) {
			rc = pp_error_set(err, PP_EINVALID, hfile, "device.peak_tflops",
					  "%s measured %.4g TFLOP/s at %lldx%lldx%lld, above the %s "
					  "peak %g: the base profile is not this machine's",
					  mfile, tf, (long long)P[i].m, (long long)P[i].n,
					  (long long)P[i].k, M.dtype, peak);
			cJSON_Delete(o);
			cJSON_Delete(table);
			goto done;
		}
		cJSON_AddNumberToObject(o, "m", (double)P[i].m);
		cJSON_AddNumberToObject(o, "n", (double)P[i].n);
		cJSON_AddNumberToObject(o, "k", (double)P[i].k);
		cJSON_AddNumberToObject(o, "tflops", tf);
		cJSON_AddStringToObject(o, "source", P[i].src);
		cJSON_AddItemToArray(pts, o);
		if (sum) {
			if (!sum->min_tflops || tf < sum->min_tflops)
				sum->min_tflops = tf;
			if (tf > sum->max_tflops)
				sum->max_tflops = tf;
		}
	}
	cJSON_DeleteItemFromObjectCaseSensitive(dev, "gemm_table");
	cJSON_DeleteItemFromObjectCaseSensitive(dev, "gemm_efficiency");
	cJSON_AddItemToObject(dev, "gemm_table", table);
	if (M.membw > 0) {
		char src[512];
		cJSON_ReplaceItemInObjectCaseSensitive(dev, "memory_bw_gbs",
						       cJSON_CreateNumber(M.membw));
		const cJSON *os = cJSON_GetObjectItemCaseSensitive(dev, "source");
		snprintf(src, sizeof(src), "%.200s; memory_bw_gbs: STREAM triad measured by "
			 "parplan-exec on %.100s, all %d ranks at once (%.100s)",
			 cJSON_IsString(os) ? os->valuestring : "", M.device, M.ranks, mfile);
		cJSON_ReplaceItemInObjectCaseSensitive(dev, "source", cJSON_CreateString(src));
	}

	/* the link */
	if (fit_link(&M, &alpha, &beta, &rms, &used) < 0) {
		rc = pp_error_set(err, PP_EINVALID, mfile, "collectives",
				  "the collective timings fit no positive bandwidth");
		goto done;
	}
	node = cJSON_GetObjectItemCaseSensitive(hw, "node");
	intra = cJSON_GetObjectItemCaseSensitive(node, "intra");
	if (used > 0 && intra) {
		double bw = 1e-9 / beta, nominal = 0, eff = 1;
		const cJSON *nb = cJSON_GetObjectItemCaseSensitive(intra, "bw_gbs");
		char src[1024];
		int ops[3] = {0, 0, 0};
		double lo = 1e300, hi = 0;
		for (i = 0; i < M.n_coll; i++) {
			if (M.coll[i].ranks < 2)
				continue;
			ops[M.coll[i].op]++;
			if (M.coll[i].bytes < lo)
				lo = M.coll[i].bytes;
			if (M.coll[i].bytes > hi)
				hi = M.coll[i].bytes;
		}
		if (cJSON_IsNumber(nb))
			nominal = nb->valuedouble;
		if (nominal > 0 && bw <= nominal) {
			eff = bw / nominal;
		} else {
			nominal = bw;
			eff = 1;
		}
		cJSON_ReplaceItemInObjectCaseSensitive(intra, "bw_gbs", cJSON_CreateNumber(nominal));
		cJSON_ReplaceItemInObjectCaseSensitive(intra, "latency_us",
						       cJSON_CreateNumber(alpha * 1e6));
		cJSON_DeleteItemFromObjectCaseSensitive(intra, "efficiency");
		cJSON_AddNumberToObject(intra, "efficiency", eff);
		snprintf(src, sizeof(src),
			 "parplan calibrate from %s (%s, %d ranks): ring alpha-beta least squares on "
			 "the relative error of %d collective medians (%d %s, %d %s, %d %s; %.0f to "
			 "%.0f bytes): alpha %.3g us per step, bandwidth %.4g GB/s (%s of bw_gbs), "
			 "rms error %.1f%%", mfile, M.backend, M.ranks, used, ops[0], op_name(0),
			 ops[1], op_name(1), ops[2], op_name(2), lo, hi, alpha * 1e6, bw,
			 eff < 1 ? "efficiency" : "equal to", 100 * rms);
		cJSON_ReplaceItemInObjectCaseSensitive(intra, "source", cJSON_CreateString(src));
	}
	if (name) {
		cJSON_DeleteItemFromObjectCaseSensitive(hw, "name");
		cJSON_AddStringToObject(hw, "name", name);
	}
	text = pp_json_print(hw);
	if (!text) {
		rc = pp_error_set(err, PP_ENOMEM, hfile, NULL, "out of memory");
		goto done;
	}
	/* what we hand back must load */
	if ((rc = pp_hw_parse(hfile, text, &check, err)) < 0)
		goto done;
	if (sum) {
		sum->n_points = np;
		sum->n_coll = used;
		sum->alpha_s = alpha;
		sum->bw_gbs = used ? 1e-9 / beta : 0;
		sum->fit_rms = rms;
		sum->memory_bw_gbs = M.membw;
	}
	*out = text;
	text = NULL;
	rc = 0;
done:
	pp_hw_free(check);
	free(text);
	free(P);
	cJSON_Delete(hw);
	meas_release(&M);
	return rc;
}

int pp_calib_layer_check(const char *meas_path, const char *meas_text, const pp_graph *g,
			 const pp_hw *hw, pp_calib_layer *out, pp_error *err)
{
	const char *mfile = meas_path ? meas_path : "(measurements)";
	pp_global gl = PP_GLOBAL_INIT;
	pp_costctx *ctx = NULL;
	pp_cost cost;
	meas M;
	int rc, dt;

	memset(out, 0, sizeof(*out));
	if (!meas_text || !g || !hw)
		return pp_error_set(err, PP_EINVALID, mfile, NULL, "nothing to check");
	if ((rc = parse_meas(mfile, meas_text, &M, err)) < 0)
		goto done;
	dt = pp_dtype_parse(M.dtype);
	if (g->hidden != M.h || g->heads != M.heads || g->ffn != M.ffn || g->seq != M.s ||
	    (g->kv_heads ? g->kv_heads : g->heads) != M.kv_heads) {
		rc = pp_error_set(err, PP_EINVALID, mfile, "layer",
				  "measured hidden %lld heads %lld (kv %lld) ffn %lld seq %lld, the "
				  "model %s has %lld, %lld (%lld), %lld, %lld", (long long)M.h,
				  (long long)M.heads, (long long)M.kv_heads, (long long)M.ffn,
				  (long long)M.s, g->name, (long long)g->hidden, (long long)g->heads,
				  (long long)g->kv_heads, (long long)g->ffn, (long long)g->seq);
		goto done;
	}
	if ((int)g->dtype != dt) {
		rc = pp_error_set(err, PP_EINVALID, mfile, "dtype",
				  "measured in %s, the model %s is %s: the cost model would price "
				  "other element sizes", M.dtype, g->name, pp_dtype_name(g->dtype));
		goto done;
	}
	gl.t = M.t;
	gl.micro_batch = (int)M.b;
	gl.global_batch = (int)M.b;
	gl.sequence_parallel = M.sp;
	if ((rc = pp_global_validate(g, &gl, 0, err)) < 0 ||
	    (rc = pp_costctx_new(&ctx, g, hw, err)) < 0)
		goto done;
	if ((rc = pp_cost_eval(ctx, &gl, NULL, &cost)) < 0) {
		rc = pp_error_set(err, rc, mfile, "layer", "the cost model cannot price this layer");
		goto done;
	}
	out->measured_gemm_s = M.gemm_s;
	out->measured_coll_s = M.coll_s;
	out->measured_s = M.gemm_s + M.coll_s;
	out->predicted_gemm_s = cost.layer_gemm_s;
	out->predicted_tp_s = cost.layer_tp_s;
	out->predicted_s = cost.layer_gemm_s + cost.layer_tp_s;
	out->rel_error = out->measured_s > 0 ? (out->predicted_s - out->measured_s) / out->measured_s
					    : 0;
	rc = 0;
done:
	pp_costctx_free(ctx);
	meas_release(&M);
	return rc;
}
