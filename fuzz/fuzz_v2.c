/*
 * fuzz_v2.c: the V2 (Open Inference Protocol) inference path as the daemon handles it. The
 * gateway does not parse an /infer body: it forwards the bytes (the route takes a raw body)
 * and may capture request and answer, cut at the deployment's cap; GET .../predictions then
 * shows each as JSON (atr_prediction_body_json: the value when the body is whole JSON, its
 * text when UTF-8, else base64url). Input: the first byte is the capture cap (0: whole), the
 * rest up to the first newline a model name for the V2 routes, the remainder the body.
 * Checks: the V2 paths route to a V2 route or 404/400, never elsewhere; a captured body
 * always becomes JSON that the answer writer encodes and that reads back.
 */
#include "fuzz.h"

#include <jansson.h>

#include "atrium/json.h"
#include "atrium/router.h"
#include "atrium/store_deployments.h"

static void route(const char *name, size_t name_len)
{
	static const char *const suffixes[] = { "/infer", "/ready", "", "/versions/1/infer" };
	struct atr_req_param params[ATR_MAX_PARAMS];
	const struct atr_route *rt;
	const char *bad;
	char allow[256], path[600], storage[600 + ATR_MAX_PARAMS + 1];
	int np;

	if (name_len > 500)
		return;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "/v2/models/%.*s%s", (int)name_len, name, suffixes[i]);
		rt = NULL;
		np = 0;
		if (atr_router_match(atr_routes, atr_routes_count, i ? "GET" : "POST", path, storage, params, &np, &rt,
				     allow, sizeof(allow), &bad) == ATR_MATCH_OK)
			FUZZ_CHECK(rt && strncmp(rt->pattern, "/v2/", 4) == 0);
	}
}

static void capture(const char *body, size_t len, size_t cap)
{
	const char *enc = NULL;
	size_t n = cap && cap < len ? cap : len, out_len = 0;
	json_t *v = atr_prediction_body_json(n ? body : "", n, n == len, &enc), *back;
	char *text;

	FUZZ_CHECK(v != NULL); /* (NULL only when out of memory; a body "null" is json null) */
	text = atr_json_write(v, &out_len);
	FUZZ_CHECK(text != NULL);
	back = json_loadb(text, out_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(json_equal(v, back));
	json_decref(back);
	free(text);
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rest, *nl;
	size_t cap;

	if (size < 1)
		return 0;
	cap = data[0] * 4u;
	rest = (const char *)data + 1;
	nl = memchr(rest, '\n', size - 1);
	if (nl) {
		if (!memchr(rest, 0, (size_t)(nl - rest)))
			route(rest, (size_t)(nl - rest));
		capture(nl + 1, size - 1 - (size_t)(nl + 1 - rest), cap);
	} else {
		capture(rest, size - 1, cap);
	}
	return 0;
}
