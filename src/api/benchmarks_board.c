/*
 * benchmarks_board.c: a benchmark's leaderboard, GET .../leaderboard: each model version's
 * (or run's) best evaluation by the primary metric, best first (ties: the earlier
 * evaluation), the other metrics alongside; paged, as JSON or CSV (?format=csv: the same
 * page, its next cursor in the X-Next-Cursor header; the scorer's metrics follow the built-in
 * ones). A benchmark ranked by its scorer's metric shows the evaluations whose scorer is
 * pending, running or failed last, without a rank (atr_store_leaderboard).
 */
#include "api.h"
#include "atrium/buf.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

const struct atr_qparam api_leaderboard_query[] = {
	ATR_Q_PAGE,
	{ "format", ATR_Q_ENUM, 0, 0, 0, 0, "json|csv", "json (default) or csv" },
	{ 0 },
};

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static int csv_str(struct atr_buf *b, const char *s)
{
	int rc = 0;

	if (!strpbrk(s, ",\"\r\n"))
		return atr_buf_puts(b, s);
	rc |= atr_buf_puts(b, "\"");
	for (; *s && rc == 0; s++)
		rc |= *s == '"' ? atr_buf_puts(b, "\"\"") : atr_buf_append(b, s, 1);
	return rc | atr_buf_puts(b, "\"");
}

static int csv_value(struct atr_buf *b, const json_t *v)
{
	if (json_is_string(v))
		return csv_str(b, json_string_value(v));
	if (json_is_integer(v))
		return atr_buf_printf(b, "%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return atr_json_buf_real(b, json_real_value(v));
	return 0; /* null: empty */
}

/* The scorer's metrics other than the primary one: ",name" each (header) or ",value" (row). */
static int csv_custom(struct atr_buf *b, const struct atr_benchmark *bm, const json_t *scorer, const json_t *metrics)
{
	const json_t *m;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(scorer, "metrics"), i, m)
	{
		const char *name = atr_json_str(m, "name", "");
		if (strcmp(name, bm->primary_metric))
			rc |= atr_buf_puts(b, ",") |
			      (metrics ? csv_value(b, json_object_get(metrics, name)) : csv_str(b, name));
	}
	return rc;
}

static int csv_row(struct atr_buf *b, const struct atr_benchmark *bm, const json_t *scorer, const json_t *it)
{
	static const char *const head[] = { "rank", "evaluation_id", "subject", "model", "version", "run_id" };
	const json_t *metrics = json_object_get(it, "metrics");
	int rc = 0;

	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		rc |= csv_value(b, json_object_get(it, head[i])) | atr_buf_puts(b, ",");
	rc |= csv_value(b, json_object_get(metrics, bm->primary_metric));
	for (size_t i = 0; i < bm->n_metrics; i++)
		if (strcmp(bm->metrics[i], bm->primary_metric))
			rc |= atr_buf_puts(b, ",") | csv_value(b, json_object_get(metrics, bm->metrics[i]));
	rc |= csv_custom(b, bm, scorer, metrics ? metrics : json_null());
	if (json_is_object(scorer)) /* the scorer's state: pending, running, scored or failed */
		rc |= atr_buf_puts(b, ",") | csv_value(b, json_object_get(it, "scorer"));
	rc |= atr_buf_puts(b, ",") | csv_value(b, json_object_get(it, "created_by"));
	rc |= atr_buf_puts(b, ",") | csv_value(b, json_object_get(it, "created_at"));
	return rc | atr_buf_puts(b, "\r\n");
}

static void reply_csv(struct atr_req *r, const json_t *items, json_t *next)
{
	const struct atr_benchmark *bm = &RES(r)->benchmark;
	json_t *scorer = api_scorer_json(STORE(r), bm->id);
	struct atr_buf b;
	char *cursor = next ? atr_cursor_encode(next) : NULL;
	const json_t *it;
	size_t i, len;
	int rc;

	atr_buf_init(&b, 64u << 20);
	rc = atr_buf_puts(&b, "rank,evaluation_id,subject,model,version,run_id,") | csv_str(&b, bm->primary_metric);
	for (i = 0; i < bm->n_metrics; i++)
		if (strcmp(bm->metrics[i], bm->primary_metric))
			rc |= atr_buf_puts(&b, ",") | csv_str(&b, bm->metrics[i]);
	rc |= csv_custom(&b, bm, scorer, NULL) | atr_buf_puts(&b, json_is_object(scorer) ? ",scorer" : "");
	rc |= atr_buf_puts(&b, ",created_by,created_at\r\n");
	json_array_foreach(items, i, it) rc |= csv_row(&b, bm, scorer, it);
	json_decref(next);
	json_decref(scorer);
	if (rc) {
		free(cursor);
		atr_buf_release(&b);
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (cursor)
		atr_reply_header(r, "X-Next-Cursor", cursor);
	free(cursor);
	len = b.len;
	atr_reply_data_owned(r, 200, "text/csv; charset=utf-8", atr_buf_steal(&b), len);
}

void api_benchmarks_leaderboard(struct atr_req *r)
{
	const char *fmt = atr_req_query(r, "format");
	struct atr_page p;
	json_t *items, *next = NULL, *last, *it;
	bool more;
	size_t i;
	int rc;

	if (atr_page_from_req(r, &p) < 0 || !(items = api_new_items(r)))
		return;
	if (p.after_id && p.after_kind != ATR_PAGE_NUM) {
		json_decref(items);
		atr_reply_invalid(r, "cursor", "'cursor' is not a cursor of this leaderboard");
		return;
	}
	rc = atr_store_leaderboard(STORE(r), RES(r)->benchmark.id, &p, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not read the leaderboard");
		return;
	}
	last = json_array_get(items, json_array_size(items) - 1);
	if (more && last)
		next = json_pack("[O,O]", json_object_get(last, "sort_key"), json_object_get(last, "evaluation_id"));
	json_array_foreach(items, i, it) json_object_del(it, "sort_key");
	if (fmt && !strcmp(fmt, "csv")) {
		reply_csv(r, items, next);
		json_decref(items);
		return;
	}
	atr_reply_page_cursor(r, items, next);
}
