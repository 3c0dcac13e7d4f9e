/*
 * fuzz_common.h - helpers shared by the libFuzzer harnesses in tests/fuzz/ (`make fuzz`).
 *
 * Every harness hands the bytes libFuzzer gives it to one public loader as a NUL-terminated
 * copy (the loaders take C strings: an embedded NUL ends the text, as it would for a caller),
 * frees everything the loader returned, and aborts when a documented property does not hold
 * (e.g. "the serialized form reads back as the same bytes"), so that libFuzzer reports it.
 */
#ifndef PARPLAN_FUZZ_COMMON_H
#define PARPLAN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd NUL-terminated copy of @data (caller frees); aborts when out of memory. */
static inline char *fz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A property the loader documents failed: say which, then abort (libFuzzer saves the input). */
#define FZ_REQUIRE(cond, what)                                                                   \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz: property failed: %s (%s:%d)\n", what, __FILE__,   \
				__LINE__);                                                       \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#endif
