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
	double value; /* finite (MLflow's points may be NaN) */
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

/* Adds one point of key (pt->key is ignored) to a batch built by hand: MLflow's log-metric.
 * 0 or ATR_ENOMEM. */
int atr_metric_batch_add(struct atr_metric_batch *b, const char *key, const struct atr_metric_in *pt);

/* A metric key: 1-250 bytes of [A-Za-z0-9_./-] and spaces. */
bool atr_metric_key_valid(const char *s, size_t len);

/*
 * MLflow's runs/log-batch body (src/core/mlflow_batch.c), parsed in the same single pass:
 * {"run_id", "metrics": [{"key", "value", "timestamp", "step"}], "params": [{"key", "value"}],
 * "tags": [{"key", "value"}]} within MLflow's limits (1000 metrics, 100 params, 100 tags,
 * 1000 in all). A metric's value may be a number or a string: "NaN" (kept), "Infinity" and
 * "-Infinity" (the largest finite doubles, as MLflow's own SQL store keeps them), "0.5"; its
 * step defaults to 0 (MLflow's default) and must be from 0 to 2^53 - 1; a missing timestamp
 * is the time of logging. Keys are 1-250 bytes without control characters (metric keys as
 * atr_metric_key_valid), param values at most 6000 characters, tag values 5000 (MLflow's
 * limits), none with NUL; a key given twice among params is refused (as MLflow does).
 */
#define ATR_MLFLOW_MAX_METRICS 1000
#define ATR_MLFLOW_MAX_PARAMS 100 /* params; tags too */
#define ATR_MLFLOW_MAX_ENTITIES 1000
#define ATR_MLFLOW_PARAM_MAX 6000 /* characters of a param's value */
#define ATR_MLFLOW_TAG_MAX 5000	  /* characters of a tag's value */

struct atr_mlflow_kv {
	char *key, *value; /* owned by the batch */
};

struct atr_mlflow_batch {
	struct atr_metric_batch m; /* the points; after ATR_EINVAL: m.field, m.msg, m.syntax */
	char run_id[72];	   /* "" when absent */
	struct atr_mlflow_kv params[ATR_MLFLOW_MAX_PARAMS], tags[ATR_MLFLOW_MAX_PARAMS];
	size_t nparams, ntags;
};

void atr_mlflow_batch_init(struct atr_mlflow_batch *b);
void atr_mlflow_batch_release(struct atr_mlflow_batch *b);
/* 0; ATR_EINVAL with b->m.field / msg / syntax set; ATR_ENOMEM. Once per init. */
int atr_mlflow_batch_parse(struct atr_mlflow_batch *b, const char *json, size_t len);
/* A metric value as MLflow's JSON writes it in a string: "NaN", "Infinity", "-Infinity" or a
 * number (see above). 0, or -1 when it is none of those. */
int atr_mlflow_metric_value(const char *s, double *out);
/* One string member of a JSON object's top level (run_id), found without parsing the rest
 * into a tree (nested values are skipped). 0; ATR_ENOTFOUND when absent; ATR_EINVAL when the
 * text is not an object, the member is not a string or does not fit in cap. */
int atr_json_top_string(const char *json, size_t len, const char *name, char *out, size_t cap);

#endif
