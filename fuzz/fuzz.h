#ifndef ATRIUM_FUZZ_H
#define ATRIUM_FUZZ_H
/*
 * fuzz.h: what the harnesses share. Each fuzz/fuzz_NAME.c defines libFuzzer's entry point,
 * LLVMFuzzerTestOneInput; `make fuzz` links it with libFuzzer (clang), `make test` with
 * fuzz/replay.c (gcc + ASan/UBSan), which feeds it every file of fuzz/corpus/NAME/. A harness
 * checks invariants with FUZZ_CHECK: a broken one aborts, which both drivers report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                             \
	do {                                                                                         \
		if (!(cond)) {                                                                       \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                     \
		}                                                                                    \
	} while (0)

/* A NUL-terminated copy of the input (caller frees); NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return NULL;
	if (size)
		memcpy(s, data, size);
	s[size] = 0;
	return s;
}

#endif
