/* check_pcg.c - PCG32 against the reference demo output, bounds and doubles. */
#include <check.h>
#include <stdlib.h>

#include "parplan/pcg.h"

START_TEST(test_reference_demo)
{
	/* pcg32-demo of the PCG reference C library, seed 42, stream 54, first six outputs. */
	static const uint32_t want[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
					0x83d2f293, 0xbfa4784b, 0xcbed606e};
	pp_pcg32 r;
	size_t i;
	pp_pcg32_seed(&r, 42u, 54u);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_uint_eq(pp_pcg32_next(&r), want[i]);
}
END_TEST

START_TEST(test_bounded_uniform)
{
	pp_pcg32 r;
	int counts[7] = {0}, i;
	pp_pcg32_seed(&r, 1u, 2u);
	for (i = 0; i < 70000; i++) {
		uint32_t v = pp_pcg32_bounded(&r, 7);
		ck_assert_uint_lt(v, 7);
		counts[v]++;
	}
	for (i = 0; i < 7; i++) {
		ck_assert_int_gt(counts[i], 9500);
		ck_assert_int_lt(counts[i], 10500);
	}
	ck_assert_uint_eq(pp_pcg32_bounded(&r, 0), 0);
	ck_assert_uint_eq(pp_pcg32_bounded(&r, 1), 0);
}
END_TEST

START_TEST(test_double_range_and_streams)
{
	pp_pcg32 a, b;
	double sum = 0;
	int i, differ = 0;
	pp_pcg32_seed(&a, 7u, 1u);
	pp_pcg32_seed(&b, 7u, 2u);
	for (i = 0; i < 10000; i++) {
		double x = pp_pcg32_double(&a);
		ck_assert(x >= 0.0 && x < 1.0);
		sum += x;
		differ += pp_pcg32_next(&a) != pp_pcg32_next(&b);
	}
	ck_assert(sum / 10000 > 0.48 && sum / 10000 < 0.52);
	ck_assert_int_gt(differ, 9990);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pcg");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	tcase_add_test(tc, test_reference_demo);
	tcase_add_test(tc, test_bounded_uniform);
	tcase_add_test(tc, test_double_range_and_streams);
	/* a hang guard, not a speed test: Check's default of 4 s fails on a busy machine */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
