/*
 * checked_int.h - products of dimensions and degrees, checked for overflow.
 *
 * Every product of user-given sizes (t*p*d, p*v, layers*layers, ...) is formed through these, so
 * a huge value is an error that names it instead of a wrapped number or undefined behaviour.
 * Each returns 0 and stores the product, or -1 (storing 0) when it does not fit the type.
 */
#ifndef PARPLAN_CHECKED_INT_H
#define PARPLAN_CHECKED_INT_H

#include <limits.h>
#include <stdint.h>

static inline int pp_mul_int(int a, int b, int *out)
{
#if defined(__GNUC__) || defined(__clang__)
	if (__builtin_mul_overflow(a, b, out)) {
		*out = 0;
		return -1;
	}
	return 0;
#else
	long long r = (long long)a * b; /* two ints always fit a long long */
	*out = r < INT_MIN || r > INT_MAX ? 0 : (int)r;
	return r < INT_MIN || r > INT_MAX ? -1 : 0;
#endif
}

static inline int pp_mul_i64(int64_t a, int64_t b, int64_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
	if (__builtin_mul_overflow(a, b, out)) {
		*out = 0;
		return -1;
	}
	return 0;
#else
	if (a != 0 && b != 0 &&
	    ((a > 0) == (b > 0) ? (a > 0 ? a > INT64_MAX / b : a < INT64_MAX / b)
				: (a > 0 ? b < INT64_MIN / a : a < INT64_MIN / b))) {
		*out = 0;
		return -1;
	}
	*out = a * b;
	return 0;
#endif
}

#endif
