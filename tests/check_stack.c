/* check_stack.c - the parplan-stack/1 loader: shipped profiles load, bad ones fail on one line
 * naming the file and the JSON path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parplan/stack.h"

static const char *const shipped[] = {"megatron-sc21", "megatron-2022", "megatron-core", "deepspeed", "torchtitan"};

START_TEST(test_shipped_stacks_load)
{
	size_t i;
	for (i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		pp_stack st;
		pp_error err = PP_ERROR_INIT;
		ck_assert_msg(pp_stack_resolve(shipped[i], "../stacks", &st, &err) == 0, "%s: %s", shipped[i],
			      err.msg);
		ck_assert_str_eq(st.name, shipped[i]);
		ck_assert(!st.legacy);
		ck_assert(st.gemm_efficiency > 0 && st.gemm_efficiency <= 1);
		ck_assert(st.optimizer_hbm_eff > 0 && st.optimizer_hbm_eff <= 1);
	}
}
END_TEST

START_TEST(test_stack_contents)
{
	pp_stack sc, mc;
	pp_error err = PP_ERROR_INIT;
	ck_assert_int_eq(pp_stack_resolve("megatron-sc21", "../stacks", &sc, &err), 0);
	ck_assert_int_eq(pp_stack_resolve("megatron-core", "../stacks", &mc, &err), 0);
	ck_assert_int_eq(sc.attention, PP_ATTN_UNFUSED);
	ck_assert_int_eq(mc.attention, PP_ATTN_FLASH);
	ck_assert(mc.causal_skip && mc.flash_fwd_eff > 0 && mc.flash_bwd_eff > 0);
	ck_assert(sc.scatter_gather && !sc.tp_comm_overlap && !sc.param_gather_overlap);
	ck_assert(mc.tp_comm_overlap && mc.grad_reduce_overlap && mc.param_gather_overlap && mc.p2p_overlap);
	ck_assert_double_eq(sc.grad_reduce_bytes, 2);
	ck_assert_double_eq(mc.grad_reduce_bytes, 4);
	ck_assert_str_eq(PP_STACK_DEFAULT, "megatron-core");
}
END_TEST

#define GOOD_HEAD "{\"format\": \"parplan-stack/1\", \"name\": \"x\", "
#define GOOD_ATTN "\"attention\": {\"kernel\": \"flash\", \"causal_skip\": true, " \
	"\"fwd_efficiency\": {\"value\": 0.6, \"source\": \"s\"}, \"bwd_efficiency\": {\"value\": 0.5, \"source\": \"s\"}, \"source\": \"s\"}, "
#define GOOD_REST "\"fusion\": {\"bias_dropout_add\": true, \"bias_activation\": true, \"cross_entropy\": false, \"source\": \"s\"}, " \
	"\"pipeline\": {\"scatter_gather\": false, \"p2p_overlap\": true, \"source\": \"s\"}, " \
	"\"overlap\": {\"tp_comm\": false, \"grad_reduce\": true, \"param_gather\": true, \"source\": \"s\"}, " \
	"\"gemm_efficiency\": {\"value\": 0.9, \"source\": \"s\"}, " \
	"\"optimizer\": {\"hbm_efficiency\": {\"value\": 0.8, \"source\": \"s\"}, \"grad_norm_pass\": true, \"zero_grad_pass\": false, \"source\": \"s\"}}"

static void bad(const char *text, const char *path, const char *msg_part)
{
	pp_stack st;
	pp_error err = PP_ERROR_INIT;
	ck_assert_int_eq(pp_stack_parse("t.json", text, &st, &err), PP_EINVALID);
	ck_assert_str_eq(err.file, "t.json");
	ck_assert_msg(strcmp(err.path, path) == 0, "path \"%s\", want \"%s\" (%s)", err.path, path, err.msg);
	ck_assert_msg(strstr(err.msg, msg_part) != NULL, "message \"%s\" lacks \"%s\"", err.msg, msg_part);
	ck_assert(strchr(err.msg, '\n') == NULL);
}

START_TEST(test_good_minimal_and_bad_inputs)
{
	pp_stack st;
	pp_error err = PP_ERROR_INIT;
	ck_assert_msg(pp_stack_parse("t.json", GOOD_HEAD GOOD_ATTN GOOD_REST, &st, &err) == 0, "%s", err.msg);
	ck_assert_double_eq(st.gemm_efficiency, 0.9);
	ck_assert(!st.zero_grad_pass && st.grad_norm_pass);
	ck_assert_double_eq(st.grad_reduce_bytes, 4);
	bad("{\"format\": \"parplan-stack/2\"}", "format", "unsupported format");
	bad(GOOD_HEAD "\"colour\": 1, " GOOD_ATTN GOOD_REST, "colour", "unknown");
	bad(GOOD_HEAD "\"attention\": {\"kernel\": \"magic\", \"source\": \"s\"}, " GOOD_REST, "attention.kernel",
	    "unknown kernel");
	/* a number without its source */
	bad(GOOD_HEAD "\"attention\": {\"kernel\": \"flash\", \"fwd_efficiency\": {\"value\": 0.6}, "
		      "\"bwd_efficiency\": {\"value\": 0.5, \"source\": \"s\"}, \"source\": \"s\"}, " GOOD_REST,
	    "attention.fwd_efficiency", "missing field \"source\"");
	/* a bare number where a sourced one is needed */
	bad(GOOD_HEAD "\"attention\": {\"kernel\": \"flash\", \"fwd_efficiency\": 0.6, "
		      "\"bwd_efficiency\": {\"value\": 0.5, \"source\": \"s\"}, \"source\": \"s\"}, " GOOD_REST,
	    "attention.fwd_efficiency", "object");
	bad(GOOD_HEAD "\"attention\": {\"kernel\": \"flash\", \"fwd_efficiency\": {\"value\": 1.5, \"source\": \"s\"}, "
		      "\"bwd_efficiency\": {\"value\": 0.5, \"source\": \"s\"}, \"source\": \"s\"}, " GOOD_REST,
	    "attention.fwd_efficiency.value", "out of range");
	/* flash needs its efficiencies */
	bad(GOOD_HEAD "\"attention\": {\"kernel\": \"flash\", \"source\": \"s\"}, " GOOD_REST,
	    "attention", "missing field \"fwd_efficiency\"");
	/* tp_comm overlap needs its SM share */
	{
		char buf[4096];
		const char *rest = GOOD_REST;
		const char *at = strstr(rest, "\"tp_comm\": false");
		snprintf(buf, sizeof(buf), "%s%s%.*s\"tp_comm\": true%s", GOOD_HEAD, GOOD_ATTN, (int)(at - rest), rest,
			 at + strlen("\"tp_comm\": false"));
		bad(buf, "overlap", "missing field \"tp_sm_fraction\"");
	}
}
END_TEST

START_TEST(test_resolve)
{
	pp_stack st;
	pp_error err = PP_ERROR_INIT;
	ck_assert_int_eq(pp_stack_resolve("no-such-stack", "../stacks", &st, &err), PP_ENOTFOUND);
	ck_assert(strstr(err.msg, "no-such-stack") != NULL);
	ck_assert_int_eq(pp_stack_resolve("../stacks/torchtitan.json", NULL, &st, &err), 0);
	ck_assert_str_eq(st.name, "torchtitan");
	ck_assert_int_eq(pp_stack_resolve("a b", "../stacks", &st, &err), PP_EINVALID);
	pp_stack_legacy(&st);
	ck_assert(st.legacy && st.attention == PP_ATTN_UNFUSED);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_add_test(tc, test_shipped_stacks_load);
	tcase_add_test(tc, test_stack_contents);
	tcase_add_test(tc, test_good_minimal_and_bad_inputs);
	tcase_add_test(tc, test_resolve);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
