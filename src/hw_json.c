/*
 * hw_json.c - load "parplan-hw/1" hardware profiles and answer GEMM throughput questions
 * (see include/parplan/hw.h).
 *
 * Reading is strict: every object is checked for unknown and duplicate keys, every number for
 * its range, and every failure is one line naming the file and the JSON path of the value.
 */
#include "parplan/hw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw_int.h"
#include "json_int.h"

#define HW_FORMAT "parplan-hw/1"

/* Upper bounds that only catch unit mistakes (FLOP/s for TFLOP/s, bytes for GiB) and garbage. */
#define MAX_TFLOPS 1e6
#define MAX_GIB 1e6
#define MAX_GBS 1e7
#define MAX_LATENCY_US 1e7
#define MAX_NODE_DEVICES 65536
#define MAX_GEMM_POINTS 65536
#define MAX_GEMM_DIM ((int64_t)1 << 40)

static const char *const dtype_names[PP_DTYPE_COUNT] = {"bf16", "fp16", "tf32", "fp32", "fp8",
							 "mxfp8"};

const char *pp_dtype_name(pp_dtype d)
{
	if ((int)d < 0 || d >= PP_DTYPE_COUNT)
		return "unknown";
	return dtype_names[d];
}

int pp_dtype_parse(const char *s)
{
	int i;
	if (!s)
		return -1;
	for (i = 0; i < PP_DTYPE_COUNT; i++)
		if (strcmp(s, dtype_names[i]) == 0)
			return i;
	return -1;
}

/* 0 for a value outside the enum, so that a bad dtype never passes for a real size. */
int pp_dtype_bytes(pp_dtype d)
{
	switch (d) {
	case PP_DTYPE_BF16: return 2;
	case PP_DTYPE_FP16: return 2;
	case PP_DTYPE_TF32: return 4; /* 19 significant bits, stored as fp32 */
	case PP_DTYPE_FP32: return 4;
	case PP_DTYPE_FP8:
	case PP_DTYPE_MXFP8: return 1;
	default: return 0;
	}
}

void pp_hw_free(pp_hw *hw)
{
	if (!hw)
		return;
	free(hw->gemm_table);
	free(hw);
}

/*
 * A number in [lo, hi], or in (lo, hi] when @lo_open: the helpers only know closed ranges, and
 * "> 0" is what most of a profile needs.  The message shows the interval as it really is.
 */
static int get_num(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		   int required, double lo, int lo_open, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	double x;

	if (!v && !required)
		return 0;
	if (!v || !cJSON_IsNumber(v)) /* the helper words "missing" and "expected a number" */
		return pp_json_get_number(c, obj, path, key, required, lo, hi, out);
	x = v->valuedouble;
	if (!isfinite(x) || x < lo || (lo_open && x <= lo) || x > hi)
		return pp_json_fail(c, path, key, "%g is out of range %s%g, %g]", x,
				    lo_open ? "(" : "[", lo, hi);
	*out = x;
	return 0;
}

/* A string member copied into a fixed buffer of @n bytes; too long is an error, not a cut. */
static int get_name(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		    char *dst, size_t n)
{
	const char *s = NULL;
	size_t len;
	int rc;

	if ((rc = pp_json_get_string(c, obj, path, key, 1, &s)) < 0)
		return rc;
	len = strlen(s);
	if (len >= n)
		return pp_json_fail(c, path, key, "longer than %zu characters", n - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

/* An optional or required free-text string (provenance, description): only its type matters. */
static int get_text(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		    int required)
{
	const char *s = NULL;
	return pp_json_get_string(c, obj, path, key, required, &s);
}

/* LINK = {"name", "bw_gbs" > 0, "latency_us" >= 0, "efficiency" (0, 1] = 1, "source"}. */
static int parse_link(const pp_jctx *c, const cJSON *parent, const char *parent_path,
		      const char *key, pp_link *l)
{
	static const char *const keys[] = {"name", "bw_gbs", "latency_us", "efficiency",
					   "source", NULL};
	char path[PP_JPATH_MAX];
	const cJSON *o = NULL;
	int rc;

	if ((rc = pp_json_get_object(c, parent, parent_path, key, 1, &o)) < 0)
		return rc;
	pp_jpath_key(path, parent_path, key);
	if ((rc = pp_json_check_object(c, o, path, keys)) < 0 ||
	    (rc = get_name(c, o, path, "name", l->name, sizeof(l->name))) < 0 ||
	    (rc = get_num(c, o, path, "bw_gbs", 1, 0, 1, MAX_GBS, &l->bw_gbs)) < 0 ||
	    (rc = get_num(c, o, path, "latency_us", 1, 0, 0, MAX_LATENCY_US, &l->latency_us)) < 0)
		return rc;
	l->efficiency = 1.0;
	if ((rc = get_num(c, o, path, "efficiency", 0, 0, 1, 1, &l->efficiency)) < 0 ||
	    (rc = get_text(c, o, path, "source", 1)) < 0)
		return rc;
	return 0;
}

/* "peak_tflops": {"bf16", "fp16", "tf32", "fp32", "fp8", "mxfp8"} (dense, no 2:4 sparsity),
 * each > 0 when given, bf16 or fp16 needed.  A device without an fp8 (mxfp8) peak cannot run that
 * precision: plans asking for it are refused (pp_hw_supports). */
static int parse_peaks(const pp_jctx *c, const cJSON *dev, const char *dev_path, pp_hw *hw)
{
	char path[PP_JPATH_MAX];
	const cJSON *o = NULL;
	int rc, i;

	if ((rc = pp_json_get_object(c, dev, dev_path, "peak_tflops", 1, &o)) < 0)
		return rc;
	pp_jpath_key(path, dev_path, "peak_tflops");
	{
		const char *keys[PP_DTYPE_COUNT + 1];
		for (i = 0; i < PP_DTYPE_COUNT; i++)
			keys[i] = dtype_names[i];
		keys[PP_DTYPE_COUNT] = NULL;
		if ((rc = pp_json_check_object(c, o, path, keys)) < 0)
			return rc;
	}
	for (i = 0; i < PP_DTYPE_COUNT; i++)
		if ((rc = get_num(c, o, path, dtype_names[i], 0, 0, 1, MAX_TFLOPS,
				  &hw->peak_tflops[i])) < 0)
			return rc;
	if (hw->peak_tflops[PP_DTYPE_BF16] <= 0 && hw->peak_tflops[PP_DTYPE_FP16] <= 0)
		return pp_json_fail(c, path, NULL, "missing field \"bf16\" or \"fp16\"");
	/* an 8-bit peak below the 16-bit one is a unit mistake or a sparse/dense mix-up */
	for (i = PP_DTYPE_FP8; i <= PP_DTYPE_MXFP8; i++)
		if (hw->peak_tflops[i] > 0 && hw->peak_tflops[i] < hw->peak_tflops[PP_DTYPE_BF16])
			return pp_json_fail(c, path, dtype_names[i],
					    "%g is below the bf16 peak of %g TFLOP/s", hw->peak_tflops[i],
					    hw->peak_tflops[PP_DTYPE_BF16]);
	return 0;
}

/* One measured point of a gemm table plus where it was in the file, for error messages. */
typedef struct gemm_entry {
	pp_gemm_point p;
	int idx;
} gemm_entry;

/* Order by m*n*k (the header's invariant), ties by m, n, k so that equal shapes sit together. */
static int cmp_gemm_entry(const void *a, const void *b)
{
	const pp_gemm_point *x = &((const gemm_entry *)a)->p, *y = &((const gemm_entry *)b)->p;
	double vx = x->m * x->n * x->k, vy = y->m * y->n * y->k;

	if (vx != vy)
		return vx < vy ? -1 : 1;
	if (x->m != y->m)
		return x->m < y->m ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return ((const gemm_entry *)a)->idx - ((const gemm_entry *)b)->idx;
}

/*
 * "gemm_table": {"dtype" = "bf16", "points": [{"m", "n", "k", "tflops", "source"?}, ...],
 * "source"?}.  A point above the table dtype's peak is an error: it is almost always a unit
 * mistake (FLOP/s or GFLOP/s for TFLOP/s) or a table measured in another dtype.
 */
static int parse_gemm_table(const pp_jctx *c, const cJSON *t, const char *path, pp_hw *hw)
{
	static const char *const keys[] = {"dtype", "points", "source", NULL};
	static const char *const pkeys[] = {"m", "n", "k", "tflops", "source", NULL};
	char ppath[PP_JPATH_MAX], dpath[PP_JPATH_MAX], pi[PP_JPATH_MAX];
	const cJSON *pts = NULL, *e;
	const char *dname = NULL;
	gemm_entry *tab = NULL;
	double peak;
	int rc, n, i;

	if ((rc = pp_json_check_object(c, t, path, keys)) < 0 ||
	    (rc = pp_json_get_string(c, t, path, "dtype", 0, &dname)) < 0 ||
	    (rc = get_text(c, t, path, "source", 0)) < 0)
		return rc;
	pp_jpath_key(dpath, path, "dtype");
	hw->gemm_dtype = PP_DTYPE_BF16;
	if (dname) {
		int d = pp_dtype_parse(dname);
		if (d < 0)
			return pp_json_fail(c, dpath, NULL, "unknown dtype \"%.32s\", expected %s",
					    dname, "bf16, fp16, tf32 or fp32");
		hw->gemm_dtype = (pp_dtype)d;
	}
	peak = hw->peak_tflops[hw->gemm_dtype];
	if (peak <= 0)
		return pp_json_fail(c, dpath, NULL, "device.peak_tflops gives no %s peak%s",
				    pp_dtype_name(hw->gemm_dtype),
				    dname ? "" : " (the table dtype defaults to bf16)");

	if ((rc = pp_json_get_array(c, t, path, "points", 1, &pts)) < 0)
		return rc;
	pp_jpath_key(ppath, path, "points");
	n = cJSON_GetArraySize(pts);
	if (n <= 0)
		return pp_json_fail(c, ppath, NULL, "empty, expected at least one measured point");
	if (n > MAX_GEMM_POINTS)
		return pp_json_fail(c, ppath, NULL, "%d points, at most %d allowed", n,
				    MAX_GEMM_POINTS);
	tab = calloc((size_t)n, sizeof(*tab));
	if (!tab)
		return pp_error_set(c->err, PP_ENOMEM, c->file, ppath, "out of memory");

	i = 0;
	cJSON_ArrayForEach(e, pts) {
		int64_t dim[3];
		static const char *const dk[3] = {"m", "n", "k"};
		int j;

		pp_jpath_idx(pi, ppath, i);
		if ((rc = pp_json_check_object(c, e, pi, pkeys)) < 0)
			goto done;
		for (j = 0; j < 3; j++) {
			rc = pp_json_get_int(c, e, pi, dk[j], 1, 1, MAX_GEMM_DIM, &dim[j]);
			if (rc < 0)
				goto done;
		}
		if ((rc = get_num(c, e, pi, "tflops", 1, 0, 1, MAX_TFLOPS, &tab[i].p.tflops)) < 0 ||
		    (rc = get_text(c, e, pi, "source", 0)) < 0)
			goto done;
		if (tab[i].p.tflops > peak) {
			rc = pp_json_fail(c, pi, "tflops", "%g is above the %s peak of %g TFLOP/s%s",
					  tab[i].p.tflops, pp_dtype_name(hw->gemm_dtype), peak,
					  " (unit or dtype mistake?)");
			goto done;
		}
		tab[i].p.m = (double)dim[0];
		tab[i].p.n = (double)dim[1];
		tab[i].p.k = (double)dim[2];
		tab[i].idx = i;
		i++;
	}

	qsort(tab, (size_t)n, sizeof(*tab), cmp_gemm_entry);
	for (i = 1; i < n; i++) {
		const pp_gemm_point *a = &tab[i - 1].p, *b = &tab[i].p;
		if (a->m == b->m && a->n == b->n && a->k == b->k) {
			/* Report the later of the two in file order. */
			int first = tab[i - 1].idx, second = tab[i].idx;
			pp_jpath_idx(pi, ppath, second > first ? second : first);
			rc = pp_json_fail(c, pi, NULL,
					  "shape %.0fx%.0fx%.0f already measured at points[%d]",
					  a->m, a->n, a->k, second > first ? first : second);
			goto done;
		}
	}

	hw->gemm_table = malloc((size_t)n * sizeof(*hw->gemm_table));
	if (!hw->gemm_table) {
		rc = pp_error_set(c->err, PP_ENOMEM, c->file, ppath, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
		hw->gemm_table[i] = tab[i].p;
	hw->n_gemm = n;
	rc = 0;
done:
	free(tab);
	return rc;
}

static int parse_device(const pp_jctx *c, const cJSON *root, pp_hw *hw)
{
	static const char *const keys[] = {"name", "peak_tflops", "memory_gib", "memory_bw_gbs",
					   "gemm_efficiency", "gemm_table", "matmul", "power", "source", NULL};
	static const char *const mkeys[] = {"max_tflops", "fp8_max_tflops", "sms", "source", NULL};
	static const char *const pkeys[] = {"tdp_w", "source", NULL};
	const char *path = "device";
	const cJSON *dev = NULL, *table = NULL, *mm = NULL, *pw = NULL;
	int rc, have_eff;

	if ((rc = pp_json_get_object(c, root, "", "device", 1, &dev)) < 0 ||
	    (rc = pp_json_check_object(c, dev, path, keys)) < 0 ||
	    (rc = get_name(c, dev, path, "name", hw->device_name, sizeof(hw->device_name))) < 0 ||
	    (rc = parse_peaks(c, dev, path, hw)) < 0 ||
	    (rc = get_num(c, dev, path, "memory_gib", 1, 0, 1, MAX_GIB, &hw->memory_gib)) < 0 ||
	    (rc = get_num(c, dev, path, "memory_bw_gbs", 1, 0, 1, MAX_GBS,
			  &hw->memory_bw_gbs)) < 0 ||
	    (rc = get_num(c, dev, path, "gemm_efficiency", 0, 0, 1, 1,
			  &hw->gemm_efficiency)) < 0 ||
	    (rc = pp_json_get_object(c, dev, path, "gemm_table", 0, &table)) < 0 ||
	    (rc = pp_json_get_object(c, dev, path, "matmul", 0, &mm)) < 0 ||
	    (rc = pp_json_get_object(c, dev, path, "power", 0, &pw)) < 0 ||
	    (rc = get_text(c, dev, path, "source", 1)) < 0)
		return rc;
	/* "power": {"tdp_w", "source"}: the board's thermal design power, for energy estimates */
	if (pw && ((rc = pp_json_check_object(c, pw, "device.power", pkeys)) < 0 ||
		   (rc = get_num(c, pw, "device.power", "tdp_w", 1, 0, 1, 1e5, &hw->tdp_w)) < 0 ||
		   (rc = get_text(c, pw, "device.power", "source", 1)) < 0))
		return rc;
	if (mm) {
		/* "matmul": {"max_tflops" (0, peak], "sms" >= 1, "source"}: the measured maximum
		 * achievable matmul rate and the SM count that the shape-aware GEMM model uses */
		const char *mp = "device.matmul";
		int64_t sms = 0;
		if ((rc = pp_json_check_object(c, mm, mp, mkeys)) < 0 ||
		    (rc = get_num(c, mm, mp, "max_tflops", 1, 0, 1, MAX_TFLOPS, &hw->matmul_max_tflops)) < 0 ||
		    (rc = get_num(c, mm, mp, "fp8_max_tflops", 0, 0, 1, MAX_TFLOPS,
				  &hw->matmul_fp8_max_tflops)) < 0 ||
		    (rc = pp_json_get_int(c, mm, mp, "sms", 1, 1, 1 << 20, &sms)) < 0 ||
		    (rc = get_text(c, mm, mp, "source", 1)) < 0)
			return rc;
		if (hw->matmul_max_tflops > hw->peak_tflops[hw->gemm_dtype] &&
		    hw->peak_tflops[hw->gemm_dtype] > 0)
			return pp_json_fail(c, mp, "max_tflops", "%g is above the %s peak of %g TFLOP/s",
					    hw->matmul_max_tflops, pp_dtype_name(hw->gemm_dtype),
					    hw->peak_tflops[hw->gemm_dtype]);
		if (hw->matmul_fp8_max_tflops > 0 &&
		    !(hw->matmul_fp8_max_tflops <= hw->peak_tflops[PP_DTYPE_FP8]))
			return pp_json_fail(c, mp, "fp8_max_tflops", "%g is above the fp8 peak of %g TFLOP/s",
					    hw->matmul_fp8_max_tflops, hw->peak_tflops[PP_DTYPE_FP8]);
		hw->sms = (int)sms;
	}
	have_eff = cJSON_GetObjectItemCaseSensitive(dev, "gemm_efficiency") != NULL;
	if (!have_eff && !table)
		return pp_json_fail(c, path, NULL,
				    "missing field \"gemm_efficiency\" or \"gemm_table\"");
	if (table) {
		char tpath[PP_JPATH_MAX];
		pp_jpath_key(tpath, path, "gemm_table");
		if ((rc = parse_gemm_table(c, table, tpath, hw)) < 0)
			return rc;
		/*
		 * Without an explicit default, the default is what the table's largest GEMM
		 * reaches: the header defines gemm_efficiency as a large GEMM's fraction of peak.
		 * Points are checked to be <= peak, so this stays in (0, 1].
		 */
		if (!have_eff)
			hw->gemm_efficiency = hw->gemm_table[hw->n_gemm - 1].tflops /
					      hw->peak_tflops[hw->gemm_dtype];
	}
	return 0;
}

static int parse_node(const pp_jctx *c, const cJSON *root, pp_hw *hw)
{
	static const char *const keys[] = {"devices", "intra", "source", NULL};
	const char *path = "node";
	const cJSON *node = NULL;
	int64_t devices = 0;
	int rc;

	if ((rc = pp_json_get_object(c, root, "", "node", 1, &node)) < 0 ||
	    (rc = pp_json_check_object(c, node, path, keys)) < 0 ||
	    (rc = pp_json_get_int(c, node, path, "devices", 1, 1, MAX_NODE_DEVICES,
				  &devices)) < 0 ||
	    (rc = parse_link(c, node, path, "intra", &hw->intra)) < 0 ||
	    (rc = get_text(c, node, path, "source", 0)) < 0)
		return rc;
	hw->node_devices = (int)devices;
	return 0;
}

/*
 * "scale_up_domain": {"devices", "source"}: the GPUs the intra link joins (an NVL72 rack: 72
 * GPUs in 18 hosts of 4).  A whole number of nodes; without it the domain is the node.
 */
static int parse_domain(const pp_jctx *c, const cJSON *root, pp_hw *hw)
{
	static const char *const keys[] = {"devices", "source", NULL};
	const char *path = "scale_up_domain";
	const cJSON *o = NULL;
	int64_t devices = 0;
	int rc;

	hw->domain_devices = hw->node_devices;
	if ((rc = pp_json_get_object(c, root, "", path, 0, &o)) < 0 || !o)
		return rc;
	if ((rc = pp_json_check_object(c, o, path, keys)) < 0 ||
	    (rc = pp_json_get_int(c, o, path, "devices", 1, 1, MAX_NODE_DEVICES, &devices)) < 0 ||
	    (rc = get_text(c, o, path, "source", 1)) < 0)
		return rc;
	if (devices % hw->node_devices)
		return pp_json_fail(c, path, "devices",
				    "%lld is not a whole number of %d-device nodes", (long long)devices,
				    hw->node_devices);
	hw->domain_devices = (int)devices;
	return 0;
}

int pp_hw_supports(const pp_hw *hw, pp_dtype precision)
{
	if (!hw || (int)precision < 0 || precision >= PP_DTYPE_COUNT)
		return 0;
	if (precision == PP_DTYPE_BF16)
		return hw->peak_tflops[PP_DTYPE_BF16] > 0 || hw->peak_tflops[PP_DTYPE_FP16] > 0;
	return hw->peak_tflops[precision] > 0;
}

static int hw_from_json(const char *file, const cJSON *root, pp_hw **out, pp_error *err)
{
	static const char *const keys[] = {"format", "name", "description", "device", "node",
					   "scale_up_domain", "network", "usable_memory_fraction",
					   "usable_memory_source", "source", NULL};
	pp_jctx c;
	const char *fmt = NULL;
	pp_hw *hw = NULL;
	int rc;

	c.file = file;
	c.err = err;
	if (!cJSON_IsObject(root))
		return pp_json_fail(&c, "", NULL, "expected an object, got %s",
				    pp_json_type_name(root));
	/* The format first: a newer version is reported as such, not as unknown fields. */
	if ((rc = pp_json_get_string(&c, root, "", "format", 1, &fmt)) < 0)
		return rc;
	if (strcmp(fmt, HW_FORMAT) != 0)
		return pp_json_fail(&c, "", "format",
				    "unsupported format \"%.64s\", expected \"%s\"", fmt, HW_FORMAT);
	if ((rc = pp_json_check_object(&c, root, "", keys)) < 0)
		return rc;

	hw = calloc(1, sizeof(*hw));
	if (!hw)
		return pp_error_set(err, PP_ENOMEM, file, NULL, "out of memory");
	hw->gemm_dtype = PP_DTYPE_BF16;
	hw->usable_memory_fraction = 1.0;

	if ((rc = get_name(&c, root, "", "name", hw->name, sizeof(hw->name))) < 0 ||
	    (rc = get_text(&c, root, "", "description", 0)) < 0 ||
	    (rc = parse_device(&c, root, hw)) < 0 ||
	    (rc = parse_node(&c, root, hw)) < 0 ||
	    (rc = parse_domain(&c, root, hw)) < 0 ||
	    (rc = parse_link(&c, root, "", "network", &hw->network)) < 0 ||
	    (rc = get_num(&c, root, "", "usable_memory_fraction", 0, 0, 1, 1,
			  &hw->usable_memory_fraction)) < 0 ||
	    (rc = get_text(&c, root, "", "usable_memory_source", 0)) < 0 ||
	    (rc = get_text(&c, root, "", "source", 0)) < 0)
		goto done;
	*out = hw;
	hw = NULL;
	rc = 0;
done:
	pp_hw_free(hw);
	return rc;
}

int pp_hw_parse(const char *name_for_errors, const char *text, pp_hw **out, pp_error *err)
{
	const char *file = name_for_errors ? name_for_errors : "(text)";
	cJSON *root = NULL;
	int rc;

	if (!out)
		return pp_error_set(err, PP_EINVALID, file, NULL, "no place for the profile");
	*out = NULL;
	if (!text)
		return pp_error_set(err, PP_EINVALID, file, NULL, "no text given");
	if ((rc = pp_json_parse(file, text, strlen(text), &root, err)) < 0)
		return rc;
	rc = hw_from_json(file, root, out, err);
	cJSON_Delete(root);
	return rc;
}

int pp_hw_load(const char *path, pp_hw **out, pp_error *err)
{
	cJSON *root = NULL;
	int rc;

	if (!out)
		return pp_error_set(err, PP_EINVALID, path, NULL, "no place for the profile");
	*out = NULL;
	if (!path)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "no hardware profile path given");
	if ((rc = pp_json_load(path, &root, err)) < 0)
		return rc;
	rc = hw_from_json(path, root, out, err);
	cJSON_Delete(root);
	return rc;
}

/*
 * Peak of @dtype in TFLOP/s.  A dtype the profile gives no peak for (TPU v4 lists only bf16)
 * falls back to the smallest peak it does give: never 0, so costs stay finite, and never
 * faster than anything the device is known to run.
 */
static double peak_of(const pp_hw *hw, pp_dtype dtype)
{
	double best = 0;
	int i;

	if ((int)dtype >= 0 && dtype < PP_DTYPE_COUNT && hw->peak_tflops[dtype] > 0)
		return hw->peak_tflops[dtype];
	for (i = 0; i < PP_DTYPE_COUNT; i++)
		if (hw->peak_tflops[i] > 0 && (best == 0 || hw->peak_tflops[i] < best))
			best = hw->peak_tflops[i];
	return best;
}

/* log of a GEMM dimension, with anything below 1 (0, negative, NaN) taken as 1 and inf capped. */
static double log_dim(double x)
{
	if (!(x >= 1))
		return 0;
	if (x > 1e30)
		x = 1e30;
	return log(x);
}

/*
 * Inverse-distance-squared weighting (Shepard 1968, power 2) of log(TFLOP/s) over every point,
 * in (log m, log n, log k) space: a weighted geometric mean, so the answer always lies between
 * the table's smallest and largest measurement and is never 0 or NaN.  @logs, when not NULL,
 * holds log m, log n, log k, log tflops of each point (pp_hw_gemm_logs()): the same numbers
 * without computing them again.
 */
static double table_tflops(const pp_hw *hw, const double *logs, double m, double n, double k)
{
	double lm = log_dim(m), ln_ = log_dim(n), lk = log_dim(k);
	double wsum = 0, acc = 0;
	int i;

	for (i = 0; i < hw->n_gemm; i++) {
		const pp_gemm_point *p = &hw->gemm_table[i];
		const double *lp = logs ? logs + 4 * i : NULL;
		double dm = lm - (lp ? lp[0] : log(p->m)), dn = ln_ - (lp ? lp[1] : log(p->n));
		double dk = lk - (lp ? lp[2] : log(p->k));
		double d2 = dm * dm + dn * dn + dk * dk, w;

		/* An exact shape (or one too close for 1/d2 to stay finite) is its own answer. */
		if (d2 < 1e-200)
			return p->tflops;
		w = 1.0 / d2;
		wsum += w;
		acc += w * (lp ? lp[3] : log(p->tflops));
	}
	return exp(acc / wsum);
}

void pp_hw_gemm_logs(const pp_hw *hw, double *logs)
{
	int i;
	for (i = 0; i < hw->n_gemm; i++) {
		logs[4 * i] = log(hw->gemm_table[i].m);
		logs[4 * i + 1] = log(hw->gemm_table[i].n);
		logs[4 * i + 2] = log(hw->gemm_table[i].k);
		logs[4 * i + 3] = log(hw->gemm_table[i].tflops);
	}
}

double pp_hw_gemm_flops(const pp_hw *hw, pp_dtype dtype, double m, double n, double k)
{
	return pp_hw_gemm_flops_logs(hw, NULL, dtype, m, n, k);
}

double pp_hw_gemm_flops_logs(const pp_hw *hw, const double *logs, pp_dtype dtype, double m,
			     double n, double k)
{
	double peak;

	if (!hw)
		return 0;
	peak = peak_of(hw, dtype);
	if (hw->gemm_table && hw->n_gemm > 0) {
		double t = table_tflops(hw, logs, m, n, k);
		double tpeak = peak_of(hw, hw->gemm_dtype);
		if (tpeak > 0 && peak != tpeak)
			t *= peak / tpeak;
		return t * 1e12;
	}
	return peak * hw->gemm_efficiency * 1e12;
}

double pp_hw_usable_bytes(const pp_hw *hw)
{
	if (!hw)
		return 0;
	return hw->memory_gib * 1073741824.0 * hw->usable_memory_fraction;
}
