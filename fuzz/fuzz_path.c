/*
 * fuzz_path.c: the file path rules of datasets, model files and run artifacts. The input is
 * the raw {path...} of PUT .../files/{path...}: percent-decoded as the router does, then
 * judged by atr_is_safe_path (src/core/util.c). Checks: UTF-8 validity agrees with jansson's
 * (a path that passes must be writable as a JSON string, or listings show null); a safe path
 * has no empty, "." or ".." part, no leading '/', no control character and at most 1024
 * bytes; one segment (ATR_F_SEGMENT's rule) is a safe path without '/'.
 */
#include "fuzz.h"

#include <jansson.h>

#include "atrium/router.h"
#include "atrium/util.h"

static void check_safe(const char *p, size_t len)
{
	size_t start = 0;

	FUZZ_CHECK(len > 0 && len <= 1024);
	FUZZ_CHECK(p[0] != '/');
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '/') {
			FUZZ_CHECK((unsigned char)p[i] >= 0x20 && p[i] != 0x7f);
			continue;
		}
		size_t part = i - start;
		FUZZ_CHECK(part > 0);
		FUZZ_CHECK(!(part == 1 && p[start] == '.'));
		FUZZ_CHECK(!(part == 2 && p[start] == '.' && p[start + 1] == '.'));
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fuzz_cstr(data, size), *dec = malloc(size + 1);
	json_t *js;
	long n;

	if (!raw || !dec)
		goto out;
	/* the bytes themselves (a body's "path" field) and the decoded URL form */
	js = json_stringn(raw, size);
	FUZZ_CHECK(atr_utf8_valid(raw, size) == (js != NULL));
	json_decref(js);
	if (atr_is_safe_path(raw, size))
		check_safe(raw, size);
	n = atr_percent_decode(raw, size, dec, 0, 0);
	if (n >= 0) {
		dec[n] = 0;
		if (atr_is_safe_path(dec, (size_t)n)) {
			check_safe(dec, (size_t)n);
			js = json_stringn(dec, (size_t)n);
			FUZZ_CHECK(js != NULL);
			json_decref(js);
		}
	}
out:
	free(raw);
	free(dec);
	return 0;
}
