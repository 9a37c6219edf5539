#ifndef ATRIUM_METRIC_BATCH_H
#define ATRIUM_METRIC_BATCH_H
/*
 * metric_batch.h: the body of POST /api/v1/runs/{run}/metrics,
 * {"metrics": [{"key", "value", "step", "timestamp"}, ...]}, parsed straight into flat arrays.
 * Metric ingest is the hottest write path, so this is a dedicated single-pass parser instead
 * of a jansson tree plus the schema validator (one allocation per point instead of a dozen).
 * It accepts exactly what that pair would (strict JSON, no duplicate keys, no unknown fields)
 * and names the first bad field the same way: "metrics[3].value". Pure: no SQL, no HTTP.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATR_METRIC_KEY_MAX 250		       /* bytes */
#define ATR_METRIC_STEP_MAX 9007199254740991LL /* 2^53 - 1: exact in JavaScript too */
#define ATR_METRIC_TS_MAX 253402300799999LL    /* 9999-12-31T23:59:59.999Z */

struct atr_metric_in {
	uint32_t key; /* index into atr_metric_batch.keys */
	int64_t step; /* -1: not given */
	double value; /* finite */
	int64_t ts;   /* ms since the epoch; -1: not given */
};

struct atr_metric_key {
	char *name; /* NUL-terminated, owned by the batch */
	size_t len;
	size_t count; /* points with this key */
};

struct atr_metric_batch {
	struct atr_metric_in *pts; /* in body order */
	size_t n, cap;
	struct atr_metric_key *keys; /* distinct keys in order of first appearance */
	size_t nkeys, keycap;
	uint32_t *slots; /* hash of keys: index + 1, 0 when empty */
	size_t nslots;
	/* after ATR_EINVAL: */
	bool syntax;	 /* malformed JSON (field is "body"), not a bad field */
	char field[300]; /* "metrics[3].value", "metrics", "body" */
	char msg[400];
};

void atr_metric_batch_init(struct atr_metric_batch *b);
void atr_metric_batch_release(struct atr_metric_batch *b);
/*
 * Parses len bytes of JSON (need not be NUL-terminated) holding at most max_points points.
 * 0; ATR_EINVAL with field/msg/syntax set; ATR_ENOMEM. Can be called once per init.
 */
int atr_metric_batch_parse(struct atr_metric_batch *b, const char *json, size_t len, size_t max_points);

/* A metric key: 1-250 bytes of [A-Za-z0-9_./-] and spaces. */
bool atr_metric_key_valid(const char *s, size_t len);

#endif
