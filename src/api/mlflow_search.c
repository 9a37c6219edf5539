/*
 * mlflow_search.c: MLflow's runs/search and metrics/get-history. runs/search parses MLflow's
 * grammar (src/core/mlflow_query.c) into Atrium's run query and runs it on Atrium's run search
 * (src/store/run_search.c) over the experiments named (each one the caller may read, else
 * 404), then loads the page's runs in a few queries and writes them as text. get-history
 * pages through a series in arrival order (a page of 25,000 points, MLflow's client's size,
 * is read and written on the thread pool). Not here: the run object (mlflow_run_json.c).
 */
#include "mlflow.h"
#include "atrium/metric_batch.h"
#include "atrium/mlflow_query.h"
#include "atrium/store_metrics.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_DEFAULT 1000   /* MLflow's default max_results */
#define SEARCH_MAX 50000      /* MLflow's largest */
#define SEARCH_PAGE_CAP 10000 /* runs answered at most in one page (a next_page_token follows) */
#define HISTORY_MAX 25000     /* MLflow's client pages histories by 25,000 */
#define HISTORY_INLINE 10000  /* larger pages are read and written off the loop */

const struct atr_field api_mlflow_runs_search_schema[] = {
	{ "experiment_ids", ATR_F_STRLIST, 0, 0, 1000, NULL, NULL },
	{ "filter", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "run_view_type", ATR_F_INT_OR_STRING, 0, 1, 16, "ACTIVE_ONLY|DELETED_ONLY|ALL", NULL },
	{ "max_results", ATR_F_INT, 0, 1, SEARCH_MAX, NULL, NULL },
	{ "order_by", ATR_F_STRLIST, 0, 0, ATR_RQ_MAX_ORDER, NULL, NULL },
	{ "page_token", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ 0 },
};

const struct atr_qparam api_mlflow_history_query[] = {
	{ "run_id", ATR_Q_STRING, 0, 1, 64, 0, NULL, "the run's MLflow id" },
	{ "run_uuid", ATR_Q_STRING, 0, 1, 64, 0, NULL, "the same (MLflow's older name)" },
	{ "metric_key", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 250, 0, NULL, "the metric" },
	{ "page_token", ATR_Q_STRING, 0, 0, 4096, 0, NULL, "the next_page_token of the previous page" },
	{ "max_results", ATR_Q_INT, 0, 1, HISTORY_MAX, HISTORY_MAX, NULL, "points per page" },
	{ 0 },
};

/* ---- runs/search ---- */

/* The projects of the experiment ids (each one the caller may read: else 404 answered). */
static int scope_or_reply(struct atr_req *r, struct atr_run_scope *sc)
{
	const json_t *list = json_object_get(atr_req_body(r), "experiment_ids"), *v;
	int64_t *ids = atr_req_alloc(r, (json_array_size(list) + 1) * sizeof(*ids));
	struct api_res *x = atr_req_alloc(r, sizeof(*x));
	size_t i, n = 0;

	if (!ids || !x) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	json_array_foreach(list, i, v)
	{
		bool seen = false;
		memset(x, 0, sizeof(*x));
		if (api_mlflow_experiment(r, json_string_value(v), x) != 0) {
			if (atr_req_status(r) == 0)
				atr_reply_db(r, NULL, "could not read experiment '%s'", json_string_value(v));
			return -1;
		}
		for (size_t k = 0; k < n; k++)
			seen = seen || ids[k] == x->project.id;
		if (!seen)
			ids[n++] = x->project.id;
	}
	sc->projects = ids;
	sc->nprojects = n;
	return 0;
}

static enum atr_run_view view_of(const json_t *v)
{
	const char *s = json_string_value(v);
	int64_t k = json_is_integer(v) ? json_integer_value(v) : 1;

	if ((s && strcmp(s, "DELETED_ONLY") == 0) || k == 2)
		return ATR_RUN_VIEW_DELETED;
	if ((s && strcmp(s, "ALL") == 0) || k == 3)
		return ATR_RUN_VIEW_ALL;
	return ATR_RUN_VIEW_ACTIVE;
}

/* filter and order_by into q (their text copied: q points into it). -1 when answered. */
static int query_or_reply(struct atr_req *r, struct atr_runquery *q)
{
	const json_t *body = atr_req_body(r), *o;
	const char *filter = atr_json_str(body, "filter", "");
	char msg[300], *text;
	size_t i;

	atr_rq_init(q);
	q->order = ATR_RQ_BY_STARTED; /* MLflow's default: newest start first */
	if (!(text = atr_req_strdup(r, filter))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	if (atr_mlq_parse_filter(text, q, msg, sizeof(msg)) < 0) {
		atr_reply_invalid(r, "filter", "%s", msg);
		return -1;
	}
	json_array_foreach(json_object_get(body, "order_by"), i, o)
	{
		if (!(text = atr_req_strdup(r, json_string_value(o)))) {
			atr_reply_nomem(r, NULL, "out of memory");
			return -1;
		}
		if (atr_mlq_parse_order(text, q, i == 0, msg, sizeof(msg)) < 0) {
			atr_reply_invalid(r, "order_by", "%s", msg);
			return -1;
		}
	}
	return 0;
}

/*
 * What a page token of this search starts with: a fingerprint of the request's experiments,
 * view, filter and order_by, so that a token is refused by a search it does not belong to
 * (the cursor's values mean something only in the order that made them).
 */
static void fingerprint(struct atr_req *r, const struct atr_run_scope *sc, char out[17])
{
	const json_t *body = atr_req_body(r), *o;
	uint64_t h = atr_fnv1a(sc->projects, sc->nprojects * sizeof(*sc->projects));
	const char *filter = atr_json_str(body, "filter", "");
	size_t i;

	h = h * 31 + (uint64_t)sc->view;
	h = h * 31 + atr_fnv1a(filter, strlen(filter));
	json_array_foreach(json_object_get(body, "order_by"), i, o)
	{
		h = h * 31 + atr_fnv1a(json_string_value(o), json_string_length(o));
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The cursor of a page token of this search (new reference; NULL: the first page), or -1
 * after a 400 naming page_token. */
static int cursor_or_reply(struct atr_req *r, const char *fp, json_t **after)
{
	const char *token = atr_json_str(atr_req_body(r), "page_token", "");
	json_t *c;

	*after = NULL;
	if (!*token)
		return 0;
	if (!(c = api_mlflow_token_or_reply(r, token)))
		return -1;
	if (json_array_size(c) < 2 || !json_is_string(json_array_get(c, 0)) ||
	    strcmp(json_string_value(json_array_get(c, 0)), fp) != 0) {
		json_decref(c);
		atr_reply_invalid(r, "page_token", "'page_token' comes from a search with another filter or order_by");
		return -1;
	}
	json_array_remove(c, 0);
	*after = c;
	return 0;
}

/* {"runs": [...], "next_page_token": ...} of the page's runs. */
static void reply_runs(struct atr_req *r, const int64_t *ids, size_t n, const json_t *next)
{
	struct atr_mlflow_runs runs;
	char *token = next ? api_mlflow_token(next) : NULL;
	struct atr_buf b;
	int rc = next && !token ? ATR_ENOMEM : atr_store_mlflow_runs(STORE(r), ids, n, &runs);

	if (rc < 0) {
		free(token);
		atr_reply_err(r, rc, NULL, "could not read the runs");
		return;
	}
	atr_buf_init(&b, (size_t)1 << 30);
	rc = atr_buf_reserve(&b, runs.n * 2048 + 256); /* (about what a run with a few dozen values takes) */
	if (rc == 0)
		rc = atr_buf_puts(&b, "{\"runs\":[");
	if (rc == 0)
		rc = api_mlflow_write_runs(&b, &runs);
	if (rc == 0)
		rc = atr_buf_puts(&b, "]");
	if (rc == 0 && token)
		rc = atr_buf_printf(&b, ",\"next_page_token\":\"%s\"", token); /* (base64url: nothing to escape) */
	if (rc == 0)
		rc = atr_buf_puts(&b, "}");
	free(token);
	atr_mlflow_runs_release(&runs);
	if (rc < 0) {
		atr_buf_release(&b);
		atr_reply_err(r, rc, NULL, "could not write the runs");
		return;
	}
	api_mlflow_reply_buf(r, &b);
}

void api_mlflow_runs_search(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	struct atr_runquery *q = atr_req_alloc(r, sizeof(*q));
	int64_t limit = atr_json_int(body, "max_results", SEARCH_DEFAULT), *ids;
	struct atr_run_scope sc;
	json_t *after = NULL, *next = NULL;
	char fp[17];
	size_t n = 0;
	int rc;

	if (!q) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (scope_or_reply(r, &sc) < 0 || query_or_reply(r, q) < 0)
		return;
	sc.view = view_of(json_object_get(body, "run_view_type"));
	fingerprint(r, &sc, fp);
	if (cursor_or_reply(r, fp, &after) < 0)
		return;
	if (limit > SEARCH_PAGE_CAP)
		limit = SEARCH_PAGE_CAP;
	ids = atr_req_alloc(r, (size_t)limit * sizeof(*ids));
	if (sc.nprojects == 0 || !ids) {
		json_decref(after);
		if (!ids)
			atr_reply_nomem(r, NULL, "out of memory");
		else
			atr_reply_data(r, 200, "application/json; charset=utf-8", "{\"runs\":[]}", 11);
		return;
	}
	rc = atr_store_run_search_ids(STORE(r), &sc, q, (int)limit, after, ids, &n, &next);
	json_decref(after);
	if (rc == 0 && next && json_array_insert_new(next, 0, json_string(fp)) < 0)
		rc = ATR_ENOMEM;
	if (rc == ATR_EINVAL)
		atr_reply_invalid(r, "page_token", "'page_token' comes from a search with another filter or order_by");
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not search runs");
	else
		reply_runs(r, ids, n, next);
	json_decref(next);
}

/* ---- metrics/get-history ---- */

/* A page of a history: what to read, then what was written. */
struct history {
	char db_path[1100]; /* set: read through a private connection (the thread pool) */
	int64_t run_id, offset;
	size_t max;
	char key[ATR_METRIC_KEY_MAX + 1];
	int rc;
	char *out;
	size_t len;
};

/* {"metrics": [{key, value, timestamp, step}], "next_page_token"} */
static int history_json(struct history *h, const struct atr_metric_pt *pts, size_t n, int64_t total)
{
	struct atr_buf b;
	int rc;

	atr_buf_init(&b, (size_t)256 << 20);
	rc = atr_buf_puts(&b, "{\"metrics\":[");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = atr_buf_puts(&b, i ? ",{\"key\":" : "{\"key\":");
		if (rc == 0)
			rc = atr_json_buf_str(&b, h->key);
		if (rc == 0)
			rc = atr_buf_puts(&b, ",\"value\":");
		if (rc == 0)
			rc = isnan(pts[i].value) ? atr_buf_puts(&b, "\"NaN\"") : atr_json_buf_real(&b, pts[i].value);
		if (rc == 0)
			rc = atr_buf_printf(&b, ",\"timestamp\":%lld,\"step\":%lld}", (long long)pts[i].ts,
					    (long long)pts[i].step);
	}
	if (rc == 0)
		rc = atr_buf_puts(&b, "]");
	if (rc == 0 && h->offset + (int64_t)n < total) {
		json_t *c = json_pack("[I]", (json_int_t)(h->offset + (int64_t)n));
		char *token = c ? api_mlflow_token(c) : NULL;
		rc = token ? atr_buf_printf(&b, ",\"next_page_token\":\"%s\"", token) : ATR_ENOMEM;
		json_decref(c);
		free(token);
	}
	if (rc == 0)
		rc = atr_buf_puts(&b, "}");
	if (rc < 0) {
		atr_buf_release(&b);
		return rc;
	}
	h->len = b.len;
	h->out = atr_buf_steal(&b);
	return 0;
}

/* Reads and writes the page (on the loop with the store's connection, or on the thread pool). */
static void history_read(struct history *h, struct atr_store *s)
{
	struct atr_metric_pt *pts = NULL;
	int64_t total = 0;
	size_t n = 0;

	h->rc = atr_store_metric_read_range(s, s ? NULL : h->db_path, h->run_id, h->key, h->offset, h->max, &pts, &n,
					    &total);
	if (h->rc == ATR_ENOTFOUND)
		h->rc = 0; /* a metric the run never logged: an empty history, as in MLflow */
	if (h->rc == 0)
		h->rc = history_json(h, pts, n, total);
	free(pts);
}

static void history_work(void *data)
{
	history_read(data, NULL);
}

static void history_after(struct atr_req *r, void *data)
{
	struct history *h = data;

	if (h->rc == 0) {
		atr_reply_data_owned(r, 200, "application/json; charset=utf-8", h->out, h->len);
		h->out = NULL;
	} else {
		atr_reply_err(r, h->rc, NULL, "could not read metric '%s'", h->key);
	}
	free(h->out);
	free(h);
}

/* The offset a history page token carries; -1 when answered. */
static int64_t offset_or_reply(struct atr_req *r)
{
	const char *token = atr_req_query(r, "page_token");
	json_t *c;
	int64_t off;

	if (!token || !*token)
		return 0;
	if (!(c = api_mlflow_token_or_reply(r, token)))
		return -1;
	off = json_is_integer(json_array_get(c, 0)) && json_array_size(c) == 1
		      ? json_integer_value(json_array_get(c, 0))
		      : -1;
	json_decref(c);
	if (off < 0) {
		atr_reply_invalid(r, "page_token", "'page_token' is not a page token of a metric history");
		return -1;
	}
	return off;
}

void api_mlflow_metrics_history(struct atr_req *r)
{
	const char *key = atr_req_query(r, "metric_key");
	struct history *h = calloc(1, sizeof(*h));
	int64_t off = h ? offset_or_reply(r) : -1;

	if (!h || off < 0) {
		if (!h)
			atr_reply_nomem(r, NULL, "out of memory");
		free(h);
		return;
	}
	if (!atr_metric_key_valid(key, strlen(key))) {
		free(h); /* (no series can have this key: an empty history, as for any metric never logged) */
		atr_reply_data(r, 200, "application/json; charset=utf-8", "{\"metrics\":[]}", 14);
		return;
	}
	atr_copy(h->key, sizeof(h->key), key);
	h->run_id = RES(r)->run.id;
	h->offset = off;
	h->max = (size_t)atr_req_qint(r, "max_results");
	if (h->max <= HISTORY_INLINE) {
		history_read(h, STORE(r));
		history_after(r, h);
		return;
	}
	atr_copy(h->db_path, sizeof(h->db_path), STORE(r)->db_path);
	if (atr_req_offload(r, history_work, history_after, h) < 0) {
		free(h);
		atr_reply_unavailable(r, NULL, "could not schedule the read");
	}
}
