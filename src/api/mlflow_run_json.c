/*
 * mlflow_run_json.c: runs in MLflow's shape (2.9.2's protobuf Run as JSON), written straight
 * into a buffer from what the store loaded (atr_store_mlflow_runs): runs/search answers a
 * thousand runs by default, and a JSON tree per value would cost more than the search. Also
 * what the tracking handlers share: page tokens, key checks, buffer answers.
 */
#include "mlflow.h"
#include "atrium/page.h"
#include "atrium/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "key":"value" pairs and numbers, each appended in order; the first error sticks. */
struct w {
	struct atr_buf *b;
	int rc;
};

static void raw(struct w *w, const char *s)
{
	if (w->rc == 0)
		w->rc = atr_buf_puts(w->b, s);
}

static void str(struct w *w, const char *s)
{
	if (w->rc == 0)
		w->rc = atr_json_buf_str(w->b, s ? s : "");
}

/* (by hand: a page of runs writes tens of thousands of integers, printf is most of it) */
static void i64(struct w *w, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	if (w->rc == 0)
		w->rc = atr_buf_append(w->b, p, (size_t)(buf + sizeof(buf) - p));
}

/* MLflow's doubles: NaN as the string "NaN" (protobuf's JSON), the rest as numbers. */
static void real(struct w *w, double v)
{
	if (isnan(v))
		raw(w, "\"NaN\"");
	else if (isinf(v))
		raw(w, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else if (w->rc == 0)
		w->rc = atr_json_buf_real(w->b, v);
}

static void info(struct w *w, const struct atr_mlflow_run *r)
{
	char uri[160];

	api_mlflow_artifact_uri(r->project_id, r->uuid, uri, sizeof(uri));
	raw(w, "{\"run_id\":");
	str(w, r->uuid);
	raw(w, ",\"run_uuid\":");
	str(w, r->uuid);
	raw(w, ",\"run_name\":");
	str(w, r->name);
	raw(w, ",\"experiment_id\":\"");
	i64(w, r->project_id);
	raw(w, "\",\"user_id\":");
	str(w, r->user);
	raw(w, ",\"status\":");
	str(w, api_mlflow_status_from_atrium(r->status));
	raw(w, ",\"start_time\":");
	i64(w, r->started_at);
	if (r->ended_at) {
		raw(w, ",\"end_time\":");
		i64(w, r->ended_at);
	}
	raw(w, ",\"artifact_uri\":");
	str(w, uri);
	raw(w, r->deleted ? ",\"lifecycle_stage\":\"deleted\"}" : ",\"lifecycle_stage\":\"active\"}");
}

static void span(struct w *w, const char *s, const char *end)
{
	if (w->rc == 0)
		w->rc = atr_buf_append(w->b, s, (size_t)(end - s));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The end of the JSON string token at p (quotes included); NULL when p does not start one. */
static const char *string_end(const char *p)
{
	if (*p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p == '"' ? p + 1 : NULL;
}

/*
 * [{"key": k, "value": v}, ...] from a run's JSON copy of its params or tags (a flat object of
 * strings the store wrote): each string is copied as it is written there, already valid JSON,
 * so a page of a thousand runs costs no parsing. What is not such an object writes [].
 */
static void pairs(struct w *w, const char *obj)
{
	const char *p = skip_ws(obj ? obj : "{}"), *k, *ke, *v, *ve;
	bool first = true;

	raw(w, "[");
	if (*p++ != '{')
		goto out;
	for (p = skip_ws(p); *p == '"'; p = skip_ws(p)) {
		k = p;
		if (!(ke = string_end(k)) || *(p = skip_ws(ke)) != ':')
			break;
		v = skip_ws(p + 1);
		if (!(ve = string_end(v)))
			break;
		raw(w, first ? "{\"key\":" : ",{\"key\":");
		span(w, k, ke);
		raw(w, ",\"value\":");
		span(w, v, ve);
		raw(w, "}");
		first = false;
		p = skip_ws(ve);
		if (*p != ',')
			break;
		p++;
	}
out:
	raw(w, "]");
}

static void metrics(struct w *w, const struct atr_mlflow_metric *m, size_t n)
{
	raw(w, "[");
	for (size_t i = 0; i < n; i++) {
		raw(w, i ? ",{\"key\":" : "{\"key\":");
		str(w, m[i].key);
		raw(w, ",\"value\":");
		real(w, m[i].value);
		raw(w, ",\"timestamp\":");
		i64(w, m[i].ts);
		raw(w, ",\"step\":");
		i64(w, m[i].step);
		raw(w, "}");
	}
	raw(w, "]");
}

static void run(struct w *w, const struct atr_mlflow_run *r)
{
	raw(w, "{\"info\":");
	info(w, r);
	raw(w, ",\"data\":{\"metrics\":");
	metrics(w, r->metrics, r->nmetrics);
	raw(w, ",\"params\":");
	pairs(w, r->params);
	raw(w, ",\"tags\":");
	pairs(w, r->tags);
	/* (the store keeps the inputs as the JSON array MLflow sent, checked when logged) */
	raw(w, "},\"inputs\":{\"dataset_inputs\":");
	raw(w, r->dataset_inputs && *r->dataset_inputs ? r->dataset_inputs : "[]");
	raw(w, "}}");
}

int api_mlflow_write_runs(struct atr_buf *b, const struct atr_mlflow_runs *runs)
{
	struct w w = { b, 0 };

	for (size_t i = 0; i < runs->n; i++) {
		if (i)
			raw(&w, ",");
		run(&w, &runs->runs[i]);
	}
	return w.rc;
}

int api_mlflow_write_run_info(struct atr_buf *b, const struct atr_mlflow_run *r)
{
	struct w w = { b, 0 };

	info(&w, r);
	return w.rc;
}

void api_mlflow_reply_buf(struct atr_req *r, struct atr_buf *b)
{
	size_t len = b->len;
	char *text = atr_buf_steal(b);

	atr_reply_data_owned(r, 200, "application/json; charset=utf-8", text, len);
}

void api_mlflow_reply_run(struct atr_req *r, int64_t run_id, const char *wrap)
{
	struct atr_mlflow_runs runs;
	struct atr_buf b;
	int rc = atr_store_mlflow_runs(STORE(r), &run_id, 1, &runs);

	if (rc == 0 && runs.n == 0)
		rc = ATR_ENOTFOUND;
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read run %lld", (long long)run_id);
		return;
	}
	atr_buf_init(&b, (size_t)64 << 20);
	rc = atr_buf_printf(&b, "{\"%s\":", wrap);
	if (rc == 0)
		rc = strcmp(wrap, "run_info") == 0 ? api_mlflow_write_run_info(&b, &runs.runs[0])
						   : api_mlflow_write_runs(&b, &runs);
	if (rc == 0)
		rc = atr_buf_puts(&b, "}");
	atr_mlflow_runs_release(&runs);
	if (rc < 0) {
		atr_buf_release(&b);
		atr_reply_err(r, rc, NULL, "could not write run %lld", (long long)run_id);
		return;
	}
	api_mlflow_reply_buf(r, &b);
}

char *api_mlflow_token(const json_t *cursor)
{
	return atr_cursor_encode(cursor);
}

json_t *api_mlflow_token_or_reply(struct atr_req *r, const char *token)
{
	size_t n = strlen(token);
	char *raw_text = n <= 4096 ? atr_req_alloc(r, n + 4) : NULL;
	long len = raw_text ? atr_b64url_decode(token, raw_text, n + 3) : -1;
	json_t *a = len > 0 ? json_loadb(raw_text, (size_t)len, 0, NULL) : NULL;

	if (!json_is_array(a)) {
		json_decref(a);
		atr_reply_invalid(r, "page_token", "'page_token' is not a page token this server gave out");
		return NULL;
	}
	return a;
}

int api_mlflow_key_or_reply(struct atr_req *r, const char *field, const char *key)
{
	size_t n = strlen(key);
	bool ok = n >= 1 && n <= 250;

	for (const char *p = key; ok && *p; p++)
		ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
	if (ok)
		return 0;
	atr_reply_invalid(r, field, "'%s' must be 1-250 bytes without control characters", field);
	return -1;
}
