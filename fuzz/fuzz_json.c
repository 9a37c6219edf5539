/*
 * fuzz_json.c: a request body as the pipeline takes it (src/http/pipeline.c, finish): strict
 * JSON without duplicate keys, then the route's descriptor table (atr_json_validate). The
 * first byte picks the route among those that declare a .body; the rest is the body. Checks:
 * no crash, a refusal names a field and a message, and a body that parses is written back by
 * atr_json_write exactly as jansson's compact dump writes it.
 */
#include "fuzz.h"

#include <jansson.h>

#include "atrium/http.h"
#include "atrium/json.h"

static const struct atr_field *schema_pick(uint8_t b)
{
	size_t nbody = 0, want;

	for (size_t i = 0; i < atr_routes_count; i++)
		if (atr_routes[i].body)
			nbody++;
	if (!nbody)
		return atr_schema_empty;
	want = b % nbody;
	for (size_t i = 0; i < atr_routes_count; i++)
		if (atr_routes[i].body && want-- == 0)
			return atr_routes[i].body;
	return atr_schema_empty;
}

static void check_write(const json_t *v)
{
	size_t len = 0;
	char *mine = atr_json_write(v, &len);
	char *ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (mine && ref) {
		FUZZ_CHECK(len == strlen(mine));
		FUZZ_CHECK(strcmp(mine, ref) == 0);
	}
	free(mine);
	free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct atr_field *schema;
	json_error_t jerr;
	char field[128], msg[400];
	json_t *body;

	if (size < 1)
		return 0;
	schema = schema_pick(data[0]);
	body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (!body)
		return 0;
	field[0] = msg[0] = 0;
	if (atr_json_validate(body, schema, field, sizeof(field), msg, sizeof(msg)) < 0) {
		FUZZ_CHECK(field[0] != 0);
		FUZZ_CHECK(msg[0] != 0);
	}
	check_write(body);
	json_decref(body);
	return 0;
}
