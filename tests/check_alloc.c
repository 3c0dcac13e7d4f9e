/*
 * check_alloc.c - a plan evaluation allocates nothing (issue 12, point 10).
 *
 * This program replaces malloc, calloc, realloc and free (the glibc manual, "Replacing malloc":
 * a program that defines them is used by every library it loads) with counting wrappers around
 * glibc's own allocator (__libc_malloc and friends), and counts the calls made while
 * pp_cost_eval and the per-op pieces run, after the context was built.  Under AddressSanitizer
 * (make asan), whose runtime owns malloc, the counter is not installed and the test says so.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/cost.h"
#include "parplan/stack.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static volatile int counting;
static volatile long allocs;

#if COUNTING
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t k);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n);
void *calloc(size_t n, size_t k);
void *realloc(void *p, size_t n);
void free(void *p);

void *malloc(size_t n)
{
	if (counting)
		allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t k)
{
	if (counting)
		allocs++;
	return __libc_calloc(n, k);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		allocs++;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (counting && p)
		allocs++;
	__libc_free(p);
}
#endif

typedef struct fixture {
	pp_graph *g;
	pp_hw *hw;
	pp_costctx *c;
} fixture;

static fixture open_fx(const char *model, const char *hw)
{
	fixture f = {NULL, NULL, NULL};
	pp_error err = PP_ERROR_INIT;
	ck_assert_msg(pp_graph_load(model, &f.g, &err) == 0, "%s", err.msg);
	ck_assert_msg(pp_hw_load(hw, &f.hw, &err) == 0, "%s", err.msg);
	ck_assert_msg(pp_costctx_new(&f.c, f.g, f.hw, &err) == 0, "%s", err.msg);
	return f;
}

static void close_fx(fixture *f)
{
	pp_costctx_free(f->c);
	pp_graph_free(f->g);
	pp_hw_free(f->hw);
}

/* The plans evaluated: every schedule, recompute mode and overlap, even and uneven stages
 * (an end stage one layer short of a middle one: interleaved, the account-for form). */
static int plans(const pp_graph *g, pp_global *out, int cap)
{
	static const int ps[] = {2, 4, 16};
	int n = 0, rc, sp, pi, un, sched;
	for (pi = 0; pi < 3; pi++)
		for (un = 0; un < 2; un++)
			for (rc = 0; rc < 3; rc++)
				for (sp = 0; sp < 2; sp++)
					for (sched = 0; sched < 3; sched++) {
						pp_global gl = PP_GLOBAL_INIT;
						int p = ps[pi], mid = (g->n_layers + 2) / p;
						gl.t = 8, gl.p = p, gl.d = 2, gl.micro_batch = 1, gl.global_batch = 64;
						gl.recompute = (pp_recompute)rc;
						gl.sequence_parallel = gl.distributed_optimizer = sp;
						gl.overlap_grad_reduce = gl.overlap_param_gather = gl.tp_comm_overlap = sp;
						gl.schedule = (pp_schedule)sched;
						gl.virtual_stages = sched == PP_SCHED_INTERLEAVED ? 2 : 1;
						if (un)
							gl.first_stage_layers = gl.last_stage_layers = mid - 1;
						if (n < cap && pp_global_validate(g, &gl, 0, NULL) == 0)
							out[n++] = gl;
					}
	return n;
}

START_TEST(test_eval_allocates_nothing)
{
	static const char *const models[] = {"../models/gpt3-175b.json", "../models/llama3-405b.json",
					     "../models/llama3-8b.json"};
	static const char *const stacks[] = {NULL, "../stacks/megatron-sc21.json",
					     "../stacks/megatron-core.json", "../stacks/deepspeed.json"};
	size_t mi, si;
	long evals = 0;
	for (mi = 0; mi < sizeof(models) / sizeof(models[0]); mi++) {
		fixture f = open_fx(models[mi], "../hwprofiles/dgx-h100.json");
		pp_global gl[256];
		int n = plans(f.g, gl, 256), k, uneven = 0;
		uint8_t *cfg = malloc((size_t)f.g->n_ops);
		for (k = 0; k < n; k++)
			uneven += gl[k].first_stage_layers > 0 && gl[k].schedule == PP_SCHED_INTERLEAVED;
		ck_assert_int_gt(n, 0);
		ck_assert_ptr_nonnull(cfg);
		for (si = 0; si < sizeof(stacks) / sizeof(stacks[0]); si++) {
			pp_stack st;
			pp_error err = PP_ERROR_INIT;
			if (stacks[si])
				ck_assert_msg(pp_stack_load(stacks[si], &st, &err) == 0, "%s", err.msg);
			pp_costctx_set_stack(f.c, stacks[si] ? &st : NULL);
			for (k = 0; k < n; k++) {
				pp_cost c, c2;
				int op, rc1, rc2, neg = 0;
				pp_strategy_megatron(f.g, &gl[k], cfg);
				/* nothing but the library runs while counting (Check's asserts allocate) */
				allocs = 0;
				counting = 1;
				rc1 = pp_cost_eval(f.c, &gl[k], NULL, &c);
				rc2 = pp_cost_eval(f.c, &gl[k], cfg, &c2);
				for (op = 0; op < f.g->n_ops; op++) {
					neg += pp_cost_op_s(f.c, &gl[k], op, (pp_cfg)cfg[op]) < 0;
					neg += pp_cost_op_bytes(f.c, &gl[k], op, (pp_cfg)cfg[op]) < 0;
					neg += pp_cost_op_grad_sync_s(f.c, &gl[k], op, (pp_cfg)cfg[op]) < 0;
				}
				counting = 0;
				ck_assert_int_eq(rc1, 0);
				ck_assert_int_eq(rc2, 0);
				ck_assert_int_eq(neg, 0);
				ck_assert_double_eq_tol(c.iteration_s, c2.iteration_s, c.iteration_s * 1e-12);
				ck_assert_msg(allocs == 0, "%s, stack %s, plan %d: %ld allocations in an evaluation",
					      models[mi], stacks[si] ? stacks[si] : "legacy", k, (long)allocs);
				ck_assert(c.iteration_s > 0);
				evals += 2;
			}
		}
		free(cfg);
		close_fx(&f);
		if (strstr(models[mi], "405b"))
			ck_assert_int_gt(uneven, 0); /* Llama 3 405B's own layout is among them */
	}
	ck_assert_int_gt(evals, 100);
#if COUNTING
	/* the counter counts: an allocation made while counting is seen */
	{
		void *volatile p;
		long seen;
		allocs = 0;
		counting = 1;
		p = malloc(16);
		free(p);
		counting = 0;
		seen = allocs;
		ck_assert_int_eq(seen, 2);
	}
#else
	fprintf(stderr, "check_alloc: AddressSanitizer owns malloc here; allocations not counted\n");
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_eval_allocates_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
