/*
 * fuzz_metric_batch.c: the single-pass metric parsers (src/core/metric_batch.c,
 * mlflow_batch.c, jscan.h). The first byte picks one: 0 POST /runs/{run}/metrics, 1 MLflow's
 * runs/log-batch, 2 the top-level run_id scan. The rest is the body. Checks: a refusal
 * names a field; an accepted body is one jansson also reads (strict, no duplicate keys), with
 * as many points, each with a valid key and a finite value — the parser must accept nothing
 * the validator of every other route would refuse.
 */
#include "fuzz.h"

#include <jansson.h>
#include <math.h>

#include "atrium/metric_batch.h"

static void check_native(const char *body, size_t len)
{
	struct atr_metric_batch b;
	json_t *ref, *arr;

	atr_metric_batch_init(&b);
	if (atr_metric_batch_parse(&b, body, len, 1000) == 0) {
		ref = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(ref != NULL);
		arr = json_object_get(ref, "metrics");
		FUZZ_CHECK(json_is_array(arr) && json_array_size(arr) == b.n);
		for (size_t i = 0; i < b.n; i++) {
			FUZZ_CHECK(b.pts[i].key < b.nkeys);
			FUZZ_CHECK(isfinite(b.pts[i].value));
			FUZZ_CHECK(b.pts[i].step >= -1 && b.pts[i].step <= ATR_METRIC_STEP_MAX);
			FUZZ_CHECK(b.pts[i].ts >= -1 && b.pts[i].ts <= ATR_METRIC_TS_MAX);
		}
		for (size_t k = 0; k < b.nkeys; k++)
			FUZZ_CHECK(atr_metric_key_valid(b.keys[k].name, b.keys[k].len));
		json_decref(ref);
	} else {
		FUZZ_CHECK(b.field[0] != 0);
	}
	atr_metric_batch_release(&b);
}

static void check_mlflow(const char *body, size_t len)
{
	struct atr_mlflow_batch b;
	json_t *ref;

	atr_mlflow_batch_init(&b);
	if (atr_mlflow_batch_parse(&b, body, len) == 0) {
		ref = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(ref != NULL);
		FUZZ_CHECK(b.nparams <= ATR_MLFLOW_MAX_PARAMS && b.ntags <= ATR_MLFLOW_MAX_PARAMS);
		FUZZ_CHECK(b.m.n <= ATR_MLFLOW_MAX_METRICS);
		for (size_t k = 0; k < b.m.nkeys; k++)
			FUZZ_CHECK(atr_metric_key_valid(b.m.keys[k].name, b.m.keys[k].len));
		json_decref(ref);
	} else {
		FUZZ_CHECK(b.m.field[0] != 0);
	}
	atr_mlflow_batch_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	char run_id[72];

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_native(body, size - 1);
		break;
	case 1:
		check_mlflow(body, size - 1);
		break;
	default:
		if (atr_json_top_string(body, size - 1, "run_id", run_id, sizeof(run_id)) == 0)
			FUZZ_CHECK(strlen(run_id) < sizeof(run_id));
		break;
	}
	return 0;
}
