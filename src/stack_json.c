/*
 * stack_json.c - load "parplan-stack/1" software-stack profiles (see include/parplan/stack.h).
 *
 * Strict like the other loaders: unknown and duplicate keys are refused, every number is an
 * object {"value", "source"} so that no number enters without its provenance, and every
 * failure is one line naming the file and the JSON path.
 */
#include "parplan/stack.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_int.h"

#define STACK_FORMAT "parplan-stack/1"

void pp_stack_legacy(pp_stack *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", "legacy");
	s->attention = PP_ATTN_UNFUSED;
	s->flash_fwd_eff = s->flash_bwd_eff = 1;
	s->scatter_gather = 1;
	s->grad_reduce_overlap = 1;
	s->gemm_efficiency = 0; /* 0: the profile's flat gemm_efficiency, as before stacks */
	s->optimizer_hbm_eff = 1;
	s->grad_reduce_bytes = 4;
	s->tp_overlap_sm_fraction = 0;
	s->max_zero = 1;
	s->legacy = 1;
}

/* A number with its provenance: KEY: {"value": x in (lo, hi] or [lo, hi], "source": "..."} */
static int get_sourced(const pp_jctx *c, const cJSON *obj, const char *path, const char *key,
		       int required, double lo, int lo_open, double hi, double *out)
{
	static const char *const keys[] = {"value", "source", NULL};
	char p[PP_JPATH_MAX];
	const cJSON *o = NULL, *v;
	const char *src = NULL;
	double x;
	int rc;

	if ((rc = pp_json_get_object(c, obj, path, key, required, &o)) < 0 || !o)
		return rc;
	pp_jpath_key(p, path, key);
	if ((rc = pp_json_check_object(c, o, p, keys)) < 0 ||
	    (rc = pp_json_get_string(c, o, p, "source", 1, &src)) < 0)
		return rc;
	v = cJSON_GetObjectItemCaseSensitive(o, "value");
	if (!v || !cJSON_IsNumber(v))
		return pp_json_get_number(c, o, p, "value", 1, lo, hi, out);
	x = v->valuedouble;
	if (!isfinite(x) || x < lo || (lo_open && x <= lo) || x > hi)
		return pp_json_fail(c, p, "value", "%g is out of range %s%g, %g]", x,
				    lo_open ? "(" : "[", lo, hi);
	if (!*src)
		return pp_json_fail(c, p, "source", "empty: every number needs its source");
	*out = x;
	return 0;
}

static int get_src(const pp_jctx *c, const cJSON *obj, const char *path)
{
	const char *s = NULL;
	return pp_json_get_string(c, obj, path, "source", 1, &s);
}

static int parse_attention(const pp_jctx *c, const cJSON *root, pp_stack *s)
{
	static const char *const keys[] = {"kernel", "causal_skip", "fwd_efficiency",
					   "bwd_efficiency", "source", NULL};
	const char *P = "attention", *k = NULL;
	const cJSON *o = NULL;
	int rc;

	if ((rc = pp_json_get_object(c, root, "", P, 1, &o)) < 0 ||
	    (rc = pp_json_check_object(c, o, P, keys)) < 0 ||
	    (rc = pp_json_get_string(c, o, P, "kernel", 1, &k)) < 0 || (rc = get_src(c, o, P)) < 0)
		return rc;
	if (!strcmp(k, "unfused"))
		s->attention = PP_ATTN_UNFUSED;
	else if (!strcmp(k, "flash"))
		s->attention = PP_ATTN_FLASH;
	else
		return pp_json_fail(c, P, "kernel", "unknown kernel \"%.32s\", expected unfused or flash", k);
	if ((rc = pp_json_get_bool(c, o, P, "causal_skip", 0, &s->causal_skip)) < 0 ||
	    (rc = get_sourced(c, o, P, "fwd_efficiency", s->attention == PP_ATTN_FLASH, 0, 1, 1,
			      &s->flash_fwd_eff)) < 0 ||
	    (rc = get_sourced(c, o, P, "bwd_efficiency", s->attention == PP_ATTN_FLASH, 0, 1, 1,
			      &s->flash_bwd_eff)) < 0)
		return rc;
	return 0;
}

static int parse_flags(const pp_jctx *c, const cJSON *root, const char *P,
		       const char *const *keys, const char *const *flags, int *const *dst)
{
	const cJSON *o = NULL;
	int rc, i;

	if ((rc = pp_json_get_object(c, root, "", P, 1, &o)) < 0 ||
	    (rc = pp_json_check_object(c, o, P, keys)) < 0 || (rc = get_src(c, o, P)) < 0)
		return rc;
	for (i = 0; flags[i]; i++)
		if ((rc = pp_json_get_bool(c, o, P, flags[i], 1, dst[i])) < 0)
			return rc;
	return 0;
}

static int stack_from_json(const pp_jctx *c, const cJSON *root, pp_stack *s)
{
	static const char *const keys[] = {"format", "name", "description", "source", "attention",
					   "fusion", "pipeline", "overlap", "gemm_efficiency",
					   "optimizer", "memory_headroom_gib", "sharding", NULL};
	static const char *const skeys[] = {"max_zero", "context_parallel", "source", NULL};
	static const char *const fkeys[] = {"bias_dropout_add", "bias_activation", "cross_entropy",
					    "source", NULL};
	static const char *const fflags[] = {"bias_dropout_add", "bias_activation", "cross_entropy",
					     NULL};
	static const char *const pkeys[] = {"scatter_gather", "p2p_overlap", "source", NULL};
	static const char *const pflags[] = {"scatter_gather", "p2p_overlap", NULL};
	static const char *const okeys[] = {"tp_comm", "grad_reduce", "param_gather",
					    "tp_sm_fraction", "grad_reduce_bytes", "tp_async_dgrad",
					    "moe_a2a", "source", NULL};
	static const char *const oflags[] = {"tp_comm", "grad_reduce", "param_gather", NULL};
	static const char *const optkeys[] = {"hbm_efficiency", "grad_norm_pass", "zero_grad_pass",
					      "source", NULL};
	const char *fmt = NULL, *name = NULL, *txt = NULL;
	const cJSON *o = NULL;
	int *fd[] = {&s->fused_bias_dropout_add, &s->fused_bias_act, &s->fused_cross_entropy};
	int *pd[] = {&s->scatter_gather, &s->p2p_overlap};
	int *od[] = {&s->tp_comm_overlap, &s->grad_reduce_overlap, &s->param_gather_overlap};
	int rc;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(root))
		return pp_json_fail(c, "", NULL, "expected an object, got %s", pp_json_type_name(root));
	if ((rc = pp_json_get_string(c, root, "", "format", 1, &fmt)) < 0)
		return rc;
	if (strcmp(fmt, STACK_FORMAT) != 0)
		return pp_json_fail(c, "", "format", "unsupported format \"%.64s\", expected \"%s\"",
				    fmt, STACK_FORMAT);
	if ((rc = pp_json_check_object(c, root, "", keys)) < 0 ||
	    (rc = pp_json_get_string(c, root, "", "name", 1, &name)) < 0 ||
	    (rc = pp_json_get_string(c, root, "", "description", 0, &txt)) < 0 ||
	    (rc = pp_json_get_string(c, root, "", "source", 0, &txt)) < 0)
		return rc;
	if (!*name || strlen(name) >= sizeof(s->name))
		return pp_json_fail(c, "", "name", "expected 1 to %zu characters", sizeof(s->name) - 1);
	memcpy(s->name, name, strlen(name) + 1);
	if ((rc = parse_attention(c, root, s)) < 0 ||
	    (rc = parse_flags(c, root, "fusion", fkeys, fflags, fd)) < 0 ||
	    (rc = parse_flags(c, root, "pipeline", pkeys, pflags, pd)) < 0)
		return rc;
	if ((rc = pp_json_get_object(c, root, "", "overlap", 1, &o)) < 0 ||
	    (rc = parse_flags(c, root, "overlap", okeys, oflags, od)) < 0 ||
	    (rc = get_sourced(c, o, "overlap", "tp_sm_fraction", s->tp_comm_overlap, 0, 0, 1,
			      &s->tp_overlap_sm_fraction)) < 0)
		return rc;
	/* optional: stacks written before it keep their meaning (no asynchronous dgrad collective) */
	if ((rc = pp_json_get_bool(c, o, "overlap", "tp_async_dgrad", 0, &s->tp_async_dgrad)) < 0)
		return rc;
	/* optional: the expert all-to-all hidden behind a paired forward/backward (issue 18) */
	if ((rc = pp_json_get_bool(c, o, "overlap", "moe_a2a", 0, &s->moe_a2a_overlap)) < 0)
		return rc;
	s->grad_reduce_bytes = 4;
	if ((rc = get_sourced(c, o, "overlap", "grad_reduce_bytes", 0, 1, 0, 8, &s->grad_reduce_bytes)) < 0)
		return rc;
	if ((rc = get_sourced(c, root, "", "gemm_efficiency", 1, 0, 1, 1, &s->gemm_efficiency)) < 0)
		return rc;
	if ((rc = pp_json_get_object(c, root, "", "optimizer", 1, &o)) < 0 ||
	    (rc = pp_json_check_object(c, o, "optimizer", optkeys)) < 0 ||
	    (rc = get_src(c, o, "optimizer")) < 0 ||
	    (rc = get_sourced(c, o, "optimizer", "hbm_efficiency", 1, 0, 1, 1, &s->optimizer_hbm_eff)) < 0 ||
	    (rc = pp_json_get_bool(c, o, "optimizer", "grad_norm_pass", 1, &s->grad_norm_pass)) < 0 ||
	    (rc = pp_json_get_bool(c, o, "optimizer", "zero_grad_pass", 1, &s->zero_grad_pass)) < 0)
		return rc;
	s->mem_headroom_gib = PP_MEM_HEADROOM_DEFAULT_GIB;
	if ((rc = get_sourced(c, root, "", "memory_headroom_gib", 0, 0, 0, 1e6, &s->mem_headroom_gib)) < 0)
		return rc;
	/* sharded data parallelism and context parallelism the stack runs (issue 16); without the
	 * object, what the model had before: the distributed optimizer, no CP */
	s->max_zero = 1;
	if ((rc = pp_json_get_object(c, root, "", "sharding", 0, &o)) < 0)
		return rc;
	if (o) {
		double z = 1;
		if ((rc = pp_json_check_object(c, o, "sharding", skeys)) < 0 ||
		    (rc = get_src(c, o, "sharding")) < 0 ||
		    (rc = get_sourced(c, o, "sharding", "max_zero", 1, 0, 0, 3, &z)) < 0 ||
		    (rc = pp_json_get_bool(c, o, "sharding", "context_parallel", 1, &s->context_parallel)) < 0)
			return rc;
		if (z != (int)z)
			return pp_json_fail(c, "sharding.max_zero", "value", "%g is not a ZeRO stage", z);
		s->max_zero = (int)z;
	}
	return 0;
}

int pp_stack_parse(const char *name_for_errors, const char *text, pp_stack *out, pp_error *err)
{
	const char *file = name_for_errors ? name_for_errors : "(text)";
	cJSON *root = NULL;
	pp_jctx c;
	int rc;

	if (!text || !out)
		return pp_error_set(err, PP_EINVALID, file, NULL, "no text given");
	if ((rc = pp_json_parse(file, text, strlen(text), &root, err)) < 0)
		return rc;
	c.file = file;
	c.err = err;
	rc = stack_from_json(&c, root, out);
	cJSON_Delete(root);
	return rc;
}

int pp_stack_load(const char *path, pp_stack *out, pp_error *err)
{
	cJSON *root = NULL;
	pp_jctx c;
	int rc;

	if (!path || !out)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "no stack profile path given");
	if ((rc = pp_json_load(path, &root, err)) < 0)
		return rc;
	c.file = path;
	c.err = err;
	rc = stack_from_json(&c, root, out);
	cJSON_Delete(root);
	return rc;
}

int pp_stack_resolve(const char *name_or_file, const char *dir, pp_stack *out, pp_error *err)
{
	char path[1024];
	size_t n;
	FILE *f;

	if (!name_or_file || !*name_or_file)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "empty stack name");
	n = strlen(name_or_file);
	if (strchr(name_or_file, '/') || (n > 5 && !strcmp(name_or_file + n - 5, ".json")))
		return pp_stack_load(name_or_file, out, err);
	if (strspn(name_or_file, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n)
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "bad stack name '%.64s'", name_or_file);
	if (snprintf(path, sizeof(path), "%s/%s.json", dir ? dir : "stacks", name_or_file) >=
	    (int)sizeof(path))
		return pp_error_set(err, PP_EINVALID, NULL, NULL, "stack path too long");
	if (!(f = fopen(path, "r")))
		return pp_error_set(err, PP_ENOTFOUND, NULL, NULL, "unknown stack '%.64s' (no %s)",
				    name_or_file, path);
	fclose(f);
	return pp_stack_load(path, out, err);
}
