/* check_settings.c - the table of plan settings: its rows agree with pp_global and with every path
 * that reads it (plan files, the JSON writer, validation, the search order). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "plan_int.h"
#include "parplan/graph.h"
#include "parplan/regress.h"
#include "parplan/settings.h"
#include "parplan/strategy.h"

/* Every row's default is PP_GLOBAL_INIT's value, and every member of pp_global has one row. */
START_TEST(test_defaults_are_global_init)
{
	pp_global init = PP_GLOBAL_INIT, d;
	const pp_setting *t = pp_settings();
	char seen[sizeof(pp_global)];
	int i;
	pp_settings_defaults(&d);
	ck_assert_int_eq(memcmp(&init, &d, sizeof(d)), 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < PP_SETTING_COUNT; i++) {
		ck_assert_uint_lt(t[i].off, sizeof(pp_global));
		ck_assert_int_eq(seen[t[i].off], 0);
		seen[t[i].off] = 1;
		ck_assert_int_eq(pp_setting_get(&t[i], &init), t[i].def);
	}
	/* no member without a row: pp_global holds only ints */
	ck_assert_uint_eq(sizeof(pp_global), PP_SETTING_COUNT * sizeof(int));
}
END_TEST

/* Keys are unique, flags are "--" + the key with '-' for '_', and each row is findable. */
START_TEST(test_keys_and_flags)
{
	const pp_setting *t = pp_settings();
	int i, j;
	for (i = 0; i < PP_SETTING_COUNT; i++) {
		char want[64];
		size_t k;
		snprintf(want, sizeof(want), "--%s", t[i].key);
		for (k = 0; want[k]; k++)
			if (want[k] == '_')
				want[k] = '-';
		ck_assert_str_eq(t[i].flag, want);
		ck_assert_ptr_eq(pp_setting_find(t[i].key), &t[i]);
		ck_assert(t[i].help && t[i].help[0]);
		ck_assert_uint_ne(t[i].invalidates, 0);
		ck_assert_int_le(t[i].min, t[i].cli_max);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(t[i].key, t[j].key);
		if (t[i].type == PP_SETTING_ENUM)
			ck_assert(t[i].names && t[i].n_names > 1 && t[i].cli_noun && t[i].regress_choices);
		else
			ck_assert_ptr_null(t[i].names);
	}
	ck_assert_ptr_null(pp_setting_find("stack"));
	ck_assert_ptr_null(pp_setting_find(NULL));
}
END_TEST

START_TEST(test_enum_names)
{
	const pp_setting *s = pp_setting_find("schedule");
	char buf[96];
	ck_assert_str_eq(pp_schedule_name(PP_SCHED_INTERLEAVED), "interleaved");
	ck_assert_int_eq(pp_schedule_parse("gpipe"), PP_SCHED_GPIPE);
	ck_assert_int_eq(pp_schedule_parse("GPipe"), -1);
	ck_assert_str_eq(pp_recompute_name(PP_RECOMPUTE_SELECTIVE), "selective");
	ck_assert_str_eq(pp_recompute_name((pp_recompute)7), "?");
	ck_assert_str_eq(pp_schedule_name(PP_SCHED_DUALPIPEV), "dualpipev");
	ck_assert_int_eq(pp_schedule_parse("zb-h1"), PP_SCHED_ZB_H1);
	ck_assert_int_eq(pp_recompute_parse(NULL), -1);
	pp_setting_choices(s, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1f1b, gpipe, interleaved, zb-h1, zb-v, dualpipe or dualpipev");
	pp_setting_choices(s, buf, 8); /* truncated, still terminated */
	ck_assert_uint_lt(strlen(buf), 8);
}
END_TEST

/* The JSON writer prints every row in table order, optional rows only when not the default. */
START_TEST(test_global_json_order)
{
	pp_global gl = PP_GLOBAL_INIT;
	const pp_setting *t = pp_settings();
	cJSON *o, *m;
	int i = 0;
	gl.schedule = PP_SCHED_GPIPE;
	gl.sequence_parallel = 1;
	o = pp_global_json(&gl);
	ck_assert_ptr_nonnull(o);
	for (m = o->child; m; m = m->next, i++)
		ck_assert_str_eq(m->string, t[i].key);
	ck_assert_int_eq(i, PP_SETTING_FIRST_STAGE_LAYERS);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "schedule")->valuestring, "gpipe");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "sequence_parallel")));
	cJSON_Delete(o);
	gl.last_stage_layers = 3;
	o = pp_global_json(&gl);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "last_stage_layers")->valueint, 3);
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "first_stage_layers"));
	cJSON_Delete(o);
}
END_TEST

/* The search's tie order: searched settings in table order; the others do not count. */
START_TEST(test_cmp_searched)
{
	pp_global a = PP_GLOBAL_INIT, b = PP_GLOBAL_INIT;
	ck_assert_int_eq(pp_settings_cmp_searched(&a, &b), 0);
	b.global_batch = 64;
	b.overlap_grad_reduce = 1;
	ck_assert_int_eq(pp_settings_cmp_searched(&a, &b), 0);
	b.last_stage_layers = 2;
	ck_assert_int_lt(pp_settings_cmp_searched(&a, &b), 0);
	a.t = 2;
	ck_assert_int_gt(pp_settings_cmp_searched(&a, &b), 0);
	ck_assert(pp_settings_differ_in(&a, &b, PP_COST_OPS));
	a.t = 1;
	ck_assert(!pp_settings_differ_in(&a, &b, PP_COST_OPS));
	ck_assert(pp_settings_differ_in(&a, &b, PP_COST_STAGES));
}
END_TEST

/* Rules run in table order: a plan breaking two reports the first row's. */
START_TEST(test_validate_order)
{
	pp_graph g;
	pp_global gl = PP_GLOBAL_INIT;
	pp_error err = PP_ERROR_INIT;
	memset(&g, 0, sizeof(g));
	g.heads = 12;
	g.kv_heads = 12;
	g.n_layers = 12;
	gl.t = 5;
	gl.global_batch = 3;
	gl.micro_batch = 2;
	ck_assert_int_eq(pp_global_validate(&g, &gl, 0, &err), PP_EINVALID);
	ck_assert_str_eq(err.msg, "t=5 does not divide 12 heads");
	gl.t = 4;
	gl.sequence_parallel = 1;
	ck_assert_int_eq(pp_global_validate(&g, &gl, 0, &err), PP_EINVALID);
	ck_assert_str_eq(err.msg, "global batch 3 is not divisible by micro-batch*d = 2");
	gl.global_batch = 4;
	gl.p = 5;
	ck_assert_int_eq(pp_global_validate(&g, &gl, 20, &err), PP_EINVALID);
	ck_assert_str_eq(err.msg, "12 layers are not divisible by p=5");
	gl.p = 4;
	ck_assert_int_eq(pp_global_validate(&g, &gl, 16, &err), 0);
}
END_TEST

/* A value other than the row's default, within its range. */
static int other_value(const pp_setting *s)
{
	if (s->type == PP_SETTING_ENUM)
		return s->n_names - 1;
	if (s->type == PP_SETTING_BOOL)
		return 1;
	return s->def + 1 >= s->min ? s->def + 1 : s->min;
}

/* Every row, with a value that is not its default, goes through a regress case and back: read
 * by key, printed in table order.  A new row passes this without touching regress. */
START_TEST(test_every_row_through_regress)
{
	const pp_setting *t = pp_settings();
	char text[4096], frag[128];
	pp_regress_file *f = NULL;
	pp_error err = PP_ERROR_INIT;
	char *out;
	const char *at;
	int i;
	snprintf(text, sizeof(text), "{\"format\": \"parplan-regress/1\", \"cases\": [{\"name\": \"x\", "
		 "\"model\": \"m.json\", \"hw\": \"h.json\", \"plan\": {");
	for (i = 0; i < PP_SETTING_COUNT; i++) {
		int v = other_value(&t[i]);
		if (t[i].type == PP_SETTING_ENUM)
			snprintf(frag, sizeof(frag), "%s\"%s\": \"%s\"", i ? ", " : "", t[i].key,
				 pp_setting_value_name(&t[i], v));
		else if (t[i].type == PP_SETTING_BOOL)
			snprintf(frag, sizeof(frag), "%s\"%s\": true", i ? ", " : "", t[i].key);
		else
			snprintf(frag, sizeof(frag), "%s\"%s\": %d", i ? ", " : "", t[i].key, v);
		strcat(text, frag);
	}
	strcat(text, "}, \"expect\": {\"mfu\": {\"value\": null}}}]}");
	ck_assert_msg(pp_regress_parse("x.json", text, &f, &err) == 0, "%s", err.msg);
	for (i = 0; i < PP_SETTING_COUNT; i++)
		ck_assert_int_eq(pp_setting_get(&t[i], &f->cases[0].global), other_value(&t[i]));
	out = pp_regress_to_json(f);
	ck_assert_ptr_nonnull(out);
	/* printed back in table order */
	at = out;
	for (i = 0; i < PP_SETTING_COUNT; i++) {
		snprintf(frag, sizeof(frag), "\"%s\": ", t[i].key);
		at = strstr(at, frag);
		ck_assert_msg(at != NULL, "%s not printed in order", t[i].key);
	}
	free(out);
	pp_regress_free(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_add_test(tc, test_defaults_are_global_init);
	tcase_add_test(tc, test_keys_and_flags);
	tcase_add_test(tc, test_enum_names);
	tcase_add_test(tc, test_global_json_order);
	tcase_add_test(tc, test_cmp_searched);
	tcase_add_test(tc, test_validate_order);
	tcase_add_test(tc, test_every_row_through_regress);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
