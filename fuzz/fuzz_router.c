/*
 * fuzz_router.c: a request line against the route table (atr_router_match over atr_routes,
 * as the pipeline matches it) and the query-string decoder (atr_percent_decode). The first
 * byte picks the method; the rest, up to the first NUL (MHD never passes one), is the raw
 * path. Checks: a match's parameters are decoded without NUL or control characters, a bad
 * parameter is named, a 405 lists methods.
 */
#include "fuzz.h"

#include "atrium/router.h"

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW" };

static void check_params(const struct atr_req_param *p, int n)
{
	FUZZ_CHECK(n >= 0 && n <= ATR_MAX_PARAMS);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(p[i].name && p[i].name_len > 0);
		FUZZ_CHECK(p[i].value);
		for (const unsigned char *c = (const unsigned char *)p[i].value; *c; c++)
			FUZZ_CHECK(*c >= 0x20 && *c != 0x7f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atr_req_param params[ATR_MAX_PARAMS];
	const struct atr_route *rt = NULL;
	const char *bad = NULL, *method;
	char allow[256], *path, *storage, *dec;
	int np = 0;
	enum atr_match m;
	long n;

	if (size < 1)
		return 0;
	method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	path = fuzz_cstr(data + 1, size - 1);
	storage = malloc(size + ATR_MAX_PARAMS + 1);
	dec = malloc(size + 1);
	if (!path || !storage || !dec)
		goto out;
	allow[0] = 0;
	m = atr_router_match(atr_routes, atr_routes_count, method, path, storage, params, &np, &rt, allow,
			     sizeof(allow), &bad);
	if (m == ATR_MATCH_OK) {
		FUZZ_CHECK(rt != NULL);
		check_params(params, np);
	} else if (m == ATR_MATCH_BAD_PARAM) {
		FUZZ_CHECK(bad != NULL);
	} else if (m == ATR_MATCH_BAD_METHOD) {
		FUZZ_CHECK(allow[0] != 0);
	}
	/* the query string's decoder, both ways it is called */
	n = atr_percent_decode(path, strlen(path), dec, 1, 0);
	FUZZ_CHECK(n < 0 || (size_t)n <= strlen(path));
	n = atr_percent_decode(path, strlen(path), dec, 0, 1);
	FUZZ_CHECK(n < 0 || (size_t)n <= strlen(path));
out:
	free(path);
	free(storage);
	free(dec);
	return 0;
}
