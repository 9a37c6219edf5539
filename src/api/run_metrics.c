/*
 * run_metrics.c: /api/v1/runs/{run}/metrics: logging points (editors and the run project's
 * job tokens; telemetry, so not audited), listing a run's series with their summaries, and
 * reading one series, downsampled to at most max_points while keeping its extremes (a long
 * series is read, sorted and formatted on the thread pool, through its own connection).
 * Not here: the Prometheus /metrics of the daemon (system.c), storage (src/store/metrics.c).
 */
#include "api.h"
#include "atrium/buf.h"
#include "atrium/downsample.h"
#include "atrium/metric_batch.h"
#include "atrium/store_metrics.h"
#include "atrium/store_runs.h"
#include "atrium/sweeps.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_POINTS_PER_REQUEST 10000
#define DEFAULT_MAX_POINTS 1000
#define MAX_MAX_POINTS 100000
#define INLINE_POINTS 10000 /* longer series are read and formatted off the loop */

const struct atr_qparam api_run_metric_get_query[] = {
	{ "max_points", ATR_Q_INT, 0, 4, MAX_MAX_POINTS, DEFAULT_MAX_POINTS, NULL,
	  "downsample to at most this many points (extremes kept)" },
	{ 0 },
};

void api_run_metrics_log(struct atr_req *r)
{
	const char *ct = atr_req_header(r, "Content-Type");
	struct atr_metric_batch b;
	const struct atr_run *run = &RES(r)->run;
	const char *raw;
	size_t stored = 0, raw_len;
	char out[48];
	int rc;

	/* the same types the server accepts for JSON routes (curl -d sends a form type) */
	if (ct && *ct && strncasecmp(ct, "application/json", 16) != 0 && strncasecmp(ct, "text/plain", 10) != 0 &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		atr_reply_unsupported_media(r, "Content-Type", "the body must be application/json");
		return;
	}
	/* (the access check's reads ran in the turn's write transaction: api_resolve) */
	if ((rc = atr_store_begin(STORE(r))) < 0) {
		atr_reply_err(r, rc, NULL, "the database is not available");
		return;
	}
	atr_metric_batch_init(&b);
	raw = atr_req_raw_body(r, &raw_len);
	rc = atr_metric_batch_parse(&b, raw, raw_len, MAX_POINTS_PER_REQUEST);
	if (rc == 0)
		rc = atr_store_metrics_append(STORE(r), run->id, run->project_id, &b, atr_now_ms(), &stored);
	if (rc == 0 && (rc = atr_store_commit(STORE(r))) == 0) {
		atr_sweeps_metrics(APP(r)->sweeps, run->id, &b); /* a sweep's trial: ASHA hears it */
		/* the hot path: a fixed answer needs no JSON tree */
		int n = snprintf(out, sizeof(out), "{\"stored\":%zu}", stored);
		atr_reply_data(r, 200, "application/json; charset=utf-8", out, (size_t)n);
		atr_metric_batch_release(&b);
		return;
	}
	if (rc == ATR_EINVAL && b.field[0])
		atr_reply_err(r, b.syntax ? ATR_EBADJSON : ATR_EINVAL, b.field, "%s", b.msg);
	else
		atr_reply_err(r, rc, NULL, "could not store the metrics of run %lld", (long long)run->id);
	atr_store_rollback(STORE(r));
	atr_metric_batch_release(&b);
}

void api_run_metrics_list(struct atr_req *r)
{
	int64_t run_id = RES(r)->run.id;
	struct atr_page p;
	json_t *items, *next = NULL;
	bool more;
	int rc;

	if (atr_page_from_req(r, &p) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_metrics_list(STORE(r), run_id, &p, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list the metrics of run %lld", (long long)run_id);
		return;
	}
	if (more && json_array_size(items))
		next = json_pack("[O,i]", json_object_get(json_array_get(items, json_array_size(items) - 1), "key"), 0);
	atr_reply_page_cursor(r, items, next);
}

/* Shortest of %.15g / %.16g / %.17g that reads back as v, always with a '.' or exponent; null
 * for NaN (MLflow's runs may log it). */
static int put_double(struct atr_buf *b, double v)
{
	char s[40];
	if (isnan(v))
		return atr_buf_puts(b, "null");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	if (atr_buf_puts(b, s) < 0)
		return ATR_ENOMEM;
	return strpbrk(s, ".eE") ? 0 : atr_buf_puts(b, ".0");
}

/* {"key", "count", "returned", "downsampled", "steps": [...], "values": [...], "timestamps": [...]} */
static int series_json(struct atr_buf *b, const char *key, const struct atr_metric_pt *pts, size_t n, const size_t *idx,
		       size_t m)
{
	static const char *const cols[] = { "steps", "values", "timestamps" };
	int rc = atr_buf_printf(b, "{\"key\":\"%s\",\"count\":%zu,\"returned\":%zu,\"downsampled\":%s", key, n, m,
				m < n ? "true" : "false");

	for (int c = 0; c < 3 && rc == 0; c++) {
		rc = atr_buf_printf(b, ",\"%s\":[", cols[c]);
		for (size_t i = 0; i < m && rc == 0; i++) {
			const struct atr_metric_pt *p = &pts[idx[i]];
			if (i && (rc = atr_buf_append(b, ",", 1)) < 0)
				break;
			rc = c == 1 ? put_double(b, p->value)
				    : atr_buf_printf(b, "%lld", (long long)(c == 0 ? p->step : p->ts));
		}
		if (rc == 0)
			rc = atr_buf_append(b, "]", 1);
	}
	return rc == 0 ? atr_buf_append(b, "}", 1) : rc;
}

/* Puts points (arrival order) in step order, downsamples them and writes the answer. */
static int series_answer(struct atr_metric_pt *pts, size_t n, bool in_order, const char *key, size_t max_points,
			 char **out, size_t *len)
{
	size_t *idx = malloc((n < max_points ? n : max_points) * sizeof(*idx) + 1), m;
	double *values = malloc(n * sizeof(*values) + 1);
	struct atr_buf b;
	int rc = idx && values ? 0 : ATR_ENOMEM;

	atr_buf_init(&b, (size_t)256 << 20);
	if (rc == 0 && !in_order)
		rc = atr_metric_sort(pts, n);
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			values[i] = pts[i].value;
		m = atr_downsample(values, n, max_points, idx);
		rc = series_json(&b, key, pts, n, idx, m);
	}
	free(idx);
	free(values);
	if (rc < 0) {
		atr_buf_release(&b);
		return rc;
	}
	*len = b.len;
	*out = atr_buf_steal(&b);
	return 0;
}

/* A long series is read, sorted and formatted on the thread pool. */
struct series_job {
	char db_path[1100];
	int64_t run_id;
	char key[ATR_METRIC_KEY_MAX + 1];
	size_t max_points;
	int rc;
	char *out;
	size_t len;
};

static void series_work(void *data)
{
	struct series_job *j = data;
	struct atr_metric_pt *pts;
	size_t n;
	bool in_order;

	j->rc = atr_store_metric_read_at(j->db_path, j->run_id, j->key, &pts, &n, &in_order);
	if (j->rc == 0)
		j->rc = series_answer(pts, n, in_order, j->key, j->max_points, &j->out, &j->len);
	free(pts);
}

static void reply_series(struct atr_req *r, int rc, int64_t run_id, const char *key, char *out, size_t len)
{
	if (rc == 0)
		atr_reply_data_owned(r, 200, "application/json; charset=utf-8", out, len);
	else if (rc == ATR_ENOTFOUND)
		atr_reply_not_found(r, NULL, "run %lld has no metric '%s'", (long long)run_id, key);
	else
		atr_reply_err(r, rc, NULL, "could not read metric '%s' of run %lld", key, (long long)run_id);
}

static void series_after(struct atr_req *r, void *data)
{
	struct series_job *j = data;
	reply_series(r, j->rc, j->run_id, j->key, j->out, j->len);
	if (j->rc != 0)
		free(j->out);
	free(j);
}

void api_run_metric_get(struct atr_req *r)
{
	const char *key = atr_req_param(r, "key");
	struct atr_metric_pt *pts = NULL;
	struct series_job *j;
	int64_t run_id = RES(r)->run.id, max_points = atr_req_qint(r, "max_points"), count;
	char *out = NULL;
	size_t n, len = 0;
	bool in_order;
	json_t *sum;
	int rc;

	if (!key || !atr_metric_key_valid(key, strlen(key))) {
		atr_reply_invalid(
			r, "key",
			"'key' must be 1-%d bytes of letters, digits, spaces and '_' '.' '/' '-' (percent-encode "
			"'/' as %%2F in the path)",
			ATR_METRIC_KEY_MAX);
		return;
	}
	if (!(sum = atr_store_metric_summary(STORE(r), run_id, key, &rc))) {
		reply_series(r, rc, run_id, key, NULL, 0);
		return;
	}
	count = json_integer_value(json_object_get(sum, "count"));
	json_decref(sum);
	if (count > INLINE_POINTS) {
		if (!(j = calloc(1, sizeof(*j)))) {
			atr_reply_nomem(r, NULL, "out of memory");
			return;
		}
		atr_copy(j->db_path, sizeof(j->db_path), STORE(r)->db_path);
		atr_copy(j->key, sizeof(j->key), key);
		j->run_id = run_id;
		j->max_points = (size_t)max_points;
		if (atr_req_offload(r, series_work, series_after, j) < 0) {
			free(j);
			atr_reply_unavailable(r, NULL, "could not schedule the read");
		}
		return;
	}
	rc = atr_store_metric_read(STORE(r), run_id, key, &pts, &n, &in_order);
	if (rc == 0)
		rc = series_answer(pts, n, in_order, key, (size_t)max_points, &out, &len);
	free(pts);
	reply_series(r, rc, run_id, key, out, len);
}

/*
 * GET /api/v1/projects/{project}/metrics?runs=1,2&keys=a,b&max_points=N: the downsampled series
 * of several runs and keys in one answer (what a comparison draws), read and formatted on the
 * thread pool. A (run, key) pair without points is left out.
 */
#define BATCH_MAX_RUNS 20
#define BATCH_MAX_KEYS 20
#define BATCH_MAX_SERIES 200
#define BATCH_MAX_POINTS 10000

const struct atr_qparam api_project_metrics_query[] = {
	{ "runs", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 512, 0, NULL, "run ids of the project, comma-separated (1-20)" },
	{ "keys", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 4096, 0, NULL, "metric keys, comma-separated (1-20)" },
	{ "max_points", ATR_Q_INT, 0, 4, BATCH_MAX_POINTS, 500, NULL,
	  "downsample each series to at most this many points (extremes kept)" },
	{ 0 },
};

struct batch_job {
	char db_path[1100];
	size_t nruns, nkeys, max_points;
	int64_t runs[BATCH_MAX_RUNS];
	char keys[BATCH_MAX_KEYS][ATR_METRIC_KEY_MAX + 1];
	int rc;
	char *out;
	size_t len;
};

/* One series as {"run":ID,"key":...} appended to b (nothing when it has no points). */
static int batch_series(struct atr_buf *b, const struct batch_job *j, int64_t run, const char *key, bool *first)
{
	struct atr_metric_pt *pts = NULL;
	char *one = NULL;
	size_t n, len;
	bool in_order;
	int rc = atr_store_metric_read_at(j->db_path, run, key, &pts, &n, &in_order);

	if (rc == ATR_ENOTFOUND) {
		free(pts);
		return 0;
	}
	if (rc == 0)
		rc = series_answer(pts, n, in_order, key, j->max_points, &one, &len);
	free(pts);
	if (rc == 0)
		rc = atr_buf_printf(b, "%s{\"run\":%lld,", *first ? "" : ",", (long long)run);
	if (rc == 0)
		rc = atr_buf_append(b, one + 1, len - 1);
	*first = false;
	free(one);
	return rc;
}

static void batch_work(void *data)
{
	struct batch_job *j = data;
	struct atr_buf b;
	bool first = true;
	int rc;

	atr_buf_init(&b, (size_t)512 << 20);
	rc = atr_buf_printf(&b, "{\"max_points\":%zu,\"series\":[", j->max_points);
	for (size_t r = 0; r < j->nruns && rc == 0; r++)
		for (size_t k = 0; k < j->nkeys && rc == 0; k++)
			rc = batch_series(&b, j, j->runs[r], j->keys[k], &first);
	if (rc == 0)
		rc = atr_buf_puts(&b, "]}");
	j->rc = rc;
	if (rc < 0) {
		atr_buf_release(&b);
		return;
	}
	j->len = b.len;
	j->out = atr_buf_steal(&b);
}

static void batch_after(struct atr_req *r, void *data)
{
	struct batch_job *j = data;
	if (j->rc == 0)
		atr_reply_data_owned(r, 200, "application/json; charset=utf-8", j->out, j->len);
	else
		atr_reply_err(r, j->rc, NULL, "could not read the metrics");
	free(j);
}

/* ?runs: ids separated by commas, each once (the list is checked before any run is read). */
static int batch_run_ids(struct atr_req *r, struct batch_job *j)
{
	const char *s = atr_req_query(r, "runs");
	char *end = NULL;

	for (; s;) {
		long long id = (s[0] >= '1' && s[0] <= '9') ? strtoll(s, &end, 10) : 0;
		bool seen = false;
		if (id <= 0 || (*end && *end != ','))
			return atr_reply_invalid(r, "runs", "'runs' must be run ids separated by commas: 1,2,3"), -1;
		for (size_t i = 0; i < j->nruns; i++)
			seen = seen || j->runs[i] == id;
		if (!seen && j->nruns == BATCH_MAX_RUNS)
			return atr_reply_invalid(r, "runs", "at most %d runs at once", BATCH_MAX_RUNS), -1;
		if (!seen)
			j->runs[j->nruns++] = id;
		s = *end ? end + 1 : NULL;
	}
	return j->nruns ? 0 : (atr_reply_invalid(r, "runs", "'runs' names no run"), -1);
}

/* ?runs: runs of the project (not deleted). -1 when it answered. */
static int batch_runs(struct atr_req *r, struct batch_job *j)
{
	if (batch_run_ids(r, j) < 0)
		return -1;
	for (size_t i = 0; i < j->nruns; i++) {
		struct atr_run run = { 0 };
		struct atr_project project;
		enum atr_prole member;
		if (atr_store_run_access(STORE(r), j->runs[i], 0, &run, &project, &member) != 0 ||
		    run.project_id != RES(r)->project.id || run.deleted)
			return atr_reply_not_found(r, "runs", "no run %lld in project '%s'", (long long)j->runs[i],
						   RES(r)->project.name),
			       -1;
	}
	return 0;
}

/* ?keys: valid metric keys, each once. -1 when it answered. */
static int batch_keys(struct atr_req *r, struct batch_job *j)
{
	const char *s = atr_req_query(r, "keys");

	for (; s;) {
		size_t len = strcspn(s, ",");
		bool seen = false;
		if (!atr_metric_key_valid(s, len))
			return atr_reply_invalid(
				       r, "keys",
				       "each key must be 1-%d bytes of letters, digits, spaces and '_' '.' '/' "
				       "'-', keys separated by commas",
				       ATR_METRIC_KEY_MAX),
			       -1;
		for (size_t i = 0; i < j->nkeys; i++)
			seen = seen || (strlen(j->keys[i]) == len && !memcmp(j->keys[i], s, len));
		if (!seen && j->nkeys == BATCH_MAX_KEYS)
			return atr_reply_invalid(r, "keys", "at most %d keys at once", BATCH_MAX_KEYS), -1;
		if (!seen) {
			memcpy(j->keys[j->nkeys], s, len);
			j->keys[j->nkeys++][len] = '\0';
		}
		s = s[len] ? s + len + 1 : NULL;
	}
	return j->nkeys ? 0 : (atr_reply_invalid(r, "keys", "'keys' names no metric"), -1);
}

void api_project_metrics(struct atr_req *r)
{
	struct batch_job *j = calloc(1, sizeof(*j));

	if (!j) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (batch_runs(r, j) < 0 || batch_keys(r, j) < 0) {
		free(j);
		return;
	}
	if (j->nruns * j->nkeys > BATCH_MAX_SERIES) {
		atr_reply_invalid(r, "keys", "at most %d series (runs times keys) at once", BATCH_MAX_SERIES);
		free(j);
		return;
	}
	atr_copy(j->db_path, sizeof(j->db_path), STORE(r)->db_path);
	j->max_points = (size_t)atr_req_qint(r, "max_points");
	if (atr_req_offload(r, batch_work, batch_after, j) < 0) {
		free(j);
		atr_reply_unavailable(r, NULL, "could not schedule the read");
	}
}
