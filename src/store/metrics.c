/*
 * metrics.c: the run_metrics (series summaries) and metric_chunks (packed points) tables.
 *
 * Writes are shaped for ingest speed. A batch is grouped by key, and each touched series costs
 * one summary read, one write of its new records and one summary update, however many points
 * it brings. The records go to the series' tail chunk with an incremental blob write at their
 * offset (SQLite rewrites only the pages those bytes fall in), so appending a point does not
 * rewrite the chunk. A tail chunk is allocated with room: small series start small and double
 * (a run with one final accuracy costs 24 bytes plus the row, not 24 KiB); once a series has
 * filled a chunk, its next chunks are allocated whole. Every chunk but the tail is full.
 * A point may be NaN (MLflow's runs log it; the native API refuses it): kept as it is in its
 * chunk; in the summary, a NaN last value is NULL (it matches no search and orders as
 * missing) and min / max leave NaN out (NULL while the series has nothing else).
 * Not here: parsing the batch (src/core/metric_batch.c), HTTP (src/api/run_metrics.c).
 */
#include "atrium/store_metrics.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CHUNK_POINTS 4

struct series {
	int64_t id;
	double last, min, max;
	int64_t last_step, last_ts, count, tail_id, tail_n;
	bool sorted;
};

/* One batch's write state: a blob handle reused across series, scratch buffers. */
struct appender {
	struct atr_store *s;
	sqlite3_blob *blob;
	unsigned char *rec;   /* encoded records of the series being written */
	unsigned char *chunk; /* a whole chunk being built */
	struct atr_metric_pt *pts;
};

/* A summary value: NULL (NaN, or nothing but NaN) reads back as NaN. */
static double summary_value(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static int load_series(struct atr_store *s, int64_t run_id, const char *key, struct series *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, last, last_step, last_ts, min, max, count, sorted, tail_id,"
					      " tail_n FROM run_metrics WHERE run_id = ? AND key = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->last = summary_value(st, 1);
		out->last_step = sqlite3_column_int64(st, 2);
		out->last_ts = sqlite3_column_int64(st, 3);
		out->min = summary_value(st, 4);
		out->max = summary_value(st, 5);
		out->count = sqlite3_column_int64(st, 6);
		out->sorted = sqlite3_column_int(st, 7) != 0;
		out->tail_id = sqlite3_column_int64(st, 8);
		out->tail_n = sqlite3_column_int64(st, 9);
	}
	return atr_db_row_done(st, rc);
}

static int create_series(struct atr_store *s, int64_t run_id, int64_t project_id, const char *key, int64_t now,
			 struct series *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO run_metrics(run_id, project_id, key, last, last_step, last_ts,"
				   " min, max, count, sorted, tail_id, tail_n, updated_at)"
				   " VALUES (?,?,?,0,0,0,0,0,0,1,0,0,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, project_id);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->id = atr_db_last_id(s->db);
	out->sorted = true;
	return 0;
}

static int save_series(struct atr_store *s, const struct series *sr, int64_t now)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE run_metrics SET last = ?, last_step = ?, last_ts = ?, min = ?,"
					      " max = ?, count = ?, sorted = ?, tail_id = ?, tail_n = ?, updated_at = ?"
					      " WHERE id = ?");
	if (!st)
		return ATR_EDB;
	/* (SQLite binds NaN as NULL) */
	sqlite3_bind_double(st, 1, sr->last);
	sqlite3_bind_int64(st, 2, sr->last_step);
	sqlite3_bind_int64(st, 3, sr->last_ts);
	sqlite3_bind_double(st, 4, sr->min);
	sqlite3_bind_double(st, 5, sr->max);
	sqlite3_bind_int64(st, 6, sr->count);
	sqlite3_bind_int(st, 7, sr->sorted);
	sqlite3_bind_int64(st, 8, sr->tail_id);
	sqlite3_bind_int64(st, 9, sr->tail_n);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, sr->id);
	return atr_db_step_write(st);
}

/* The whole-chunk scratch buffer, allocated by the first write that needs it (a point appended
 * into a tail's free room, the common case, needs none). */
static unsigned char *chunk_buf(struct appender *a)
{
	if (!a->chunk)
		a->chunk = malloc(ATR_METRIC_CHUNK_POINTS * ATR_METRIC_REC);
	return a->chunk;
}

/* The blob handle on chunk id (reopened when one is open: cheaper than a new one). */
static sqlite3_blob *blob_at(struct appender *a, int64_t id)
{
	sqlite3 *h = atr_db_handle(a->s->db);

	if (a->blob && sqlite3_blob_reopen(a->blob, id) != SQLITE_OK) {
		sqlite3_blob_close(a->blob);
		a->blob = NULL;
	}
	if (!a->blob && sqlite3_blob_open(h, "main", "metric_chunks", "data", id, 1, &a->blob) != SQLITE_OK) {
		atr_error("metric chunk %lld: %s", (long long)id, sqlite3_errmsg(h));
		sqlite3_blob_close(a->blob);
		a->blob = NULL;
	}
	return a->blob;
}

static int insert_chunk(struct atr_store *s, int64_t series_id, const unsigned char *data, size_t bytes, int64_t *id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO metric_chunks(series_id, data) VALUES (?,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, series_id);
	sqlite3_bind_blob(st, 2, data, (int)bytes, SQLITE_STATIC);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*id = atr_db_last_id(s->db);
	return 0;
}

static int replace_chunk(struct atr_store *s, int64_t id, const unsigned char *data, size_t bytes)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE metric_chunks SET data = ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_blob(st, 1, data, (int)bytes, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	return atr_db_step_write(st);
}

/*
 * Writes k encoded records (a->rec) after the series' last point: into the tail's free room,
 * into a grown copy of a small tail, then into new chunks. Updates tail_id / tail_n.
 */
static int write_records(struct appender *a, struct series *sr, size_t k)
{
	const unsigned char *rec = a->rec;
	int64_t before = sr->count - (int64_t)k; /* points stored before this batch */
	int rc;

	if (sr->tail_id) {
		sqlite3_blob *blob = blob_at(a, sr->tail_id);
		size_t cap, n0 = (size_t)sr->tail_n, m;
		if (!blob)
			return ATR_EDB;
		cap = (size_t)sqlite3_blob_bytes(blob) / ATR_METRIC_REC;
		if (n0 + k > cap && cap < ATR_METRIC_CHUNK_POINTS) {
			/* grow the small tail: at least double, at most a full chunk */
			size_t ncap = n0 + k > 2 * cap ? n0 + k : 2 * cap;
			if (ncap > ATR_METRIC_CHUNK_POINTS)
				ncap = ATR_METRIC_CHUNK_POINTS;
			m = ncap - n0 < k ? ncap - n0 : k;
			if (!chunk_buf(a))
				return ATR_ENOMEM;
			memset(a->chunk, 0, ncap * ATR_METRIC_REC);
			if (sqlite3_blob_read(blob, a->chunk, (int)(n0 * ATR_METRIC_REC), 0) != SQLITE_OK)
				return ATR_EDB;
			memcpy(a->chunk + n0 * ATR_METRIC_REC, rec, m * ATR_METRIC_REC);
			if ((rc = replace_chunk(a->s, sr->tail_id, a->chunk, ncap * ATR_METRIC_REC)) < 0)
				return rc;
		} else {
			m = cap - n0 < k ? cap - n0 : k;
			if (m && sqlite3_blob_write(blob, rec, (int)(m * ATR_METRIC_REC), (int)(n0 * ATR_METRIC_REC)) !=
					 SQLITE_OK)
				return ATR_EDB;
		}
		sr->tail_n += (int64_t)m;
		rec += m * ATR_METRIC_REC;
		k -= m;
		before += (int64_t)m;
	}
	while (k > 0) {
		size_t cap = ATR_METRIC_CHUNK_POINTS, m;
		if (before < ATR_METRIC_CHUNK_POINTS && k < cap)
			cap = k > MIN_CHUNK_POINTS ? k : MIN_CHUNK_POINTS;
		m = k < cap ? k : cap;
		if (!chunk_buf(a))
			return ATR_ENOMEM;
		memcpy(a->chunk, rec, m * ATR_METRIC_REC);
		memset(a->chunk + m * ATR_METRIC_REC, 0, (cap - m) * ATR_METRIC_REC);
		if ((rc = insert_chunk(a->s, sr->id, a->chunk, cap * ATR_METRIC_REC, &sr->tail_id)) < 0)
			return rc;
		sr->tail_n = (int64_t)m;
		rec += m * ATR_METRIC_REC;
		k -= m;
		before += (int64_t)m;
	}
	return 0;
}

/* Appends the k points idx[0..k) of b (all with one key) to their series. */
static int append_series(struct appender *a, int64_t run_id, int64_t project_id, const struct atr_metric_batch *b,
			 const char *key, const size_t *idx, size_t k, int64_t now)
{
	struct series sr;
	int rc = load_series(a->s, run_id, key, &sr);

	if (rc == ATR_ENOTFOUND)
		rc = create_series(a->s, run_id, project_id, key, now, &sr);
	if (rc < 0)
		return rc;
	for (size_t j = 0; j < k; j++) {
		const struct atr_metric_in *in = &b->pts[idx[j]];
		struct atr_metric_pt *p = &a->pts[j];
		int64_t next = sr.count ? sr.last_step + 1 : 0;
		p->step = in->step >= 0 ? in->step : next <= ATR_METRIC_STEP_MAX ? next : ATR_METRIC_STEP_MAX;
		p->value = in->value;
		p->ts = in->ts >= 0 ? in->ts : now;
		if (sr.count == 0 || isnan(sr.min)) {
			sr.min = sr.max = p->value; /* (NaN until a number comes) */
		} else {
			if (p->value < sr.min)
				sr.min = p->value;
			if (p->value > sr.max)
				sr.max = p->value;
		}
		if (sr.count == 0 || p->step >= sr.last_step) {
			sr.last = p->value;
			sr.last_step = p->step;
			sr.last_ts = p->ts;
		} else {
			sr.sorted = false;
		}
		sr.count++;
	}
	atr_metric_encode(a->pts, k, a->rec);
	if ((rc = write_records(a, &sr, k)) < 0)
		return rc;
	return save_series(a->s, &sr, now);
}

int atr_store_metrics_append(struct atr_store *s, int64_t run_id, int64_t project_id, const struct atr_metric_batch *b,
			     int64_t now_ms, size_t *stored_out)
{
	struct appender a = { s, NULL, NULL, NULL, NULL };
	size_t *start = NULL, *idx = NULL, most = 0;
	/* all or nothing: in the caller's transaction (its rollback undoes a failure), else in our own */
	bool own = !atr_db_in_txn(s->db);
	int rc = ATR_ENOMEM;

	if (stored_out)
		*stored_out = 0;
	if (b->n == 0)
		return 0;
	/* Group the points by key, keeping their order: a counting sort on the key index. */
	start = calloc(b->nkeys + 1, sizeof(*start));
	idx = malloc(b->n * sizeof(*idx));
	for (size_t k = 0; start && k < b->nkeys; k++) {
		start[k + 1] = start[k] + b->keys[k].count;
		if (b->keys[k].count > most)
			most = b->keys[k].count;
	}
	a.rec = malloc(most * ATR_METRIC_REC);
	a.pts = malloc(most * sizeof(*a.pts));
	if (!start || !idx || !a.rec || !a.pts)
		goto out;
	for (size_t i = 0; i < b->n; i++)
		idx[start[b->pts[i].key]++] = i;
	for (size_t k = b->nkeys; k > 0; k--) /* start[k] is now the end of key k: shift back */
		start[k] = start[k - 1];
	start[0] = 0;
	if (own && (rc = atr_db_begin(s->db)) < 0)
		goto out;
	rc = 0;
	for (size_t k = 0; k < b->nkeys && rc == 0; k++)
		rc = append_series(&a, run_id, project_id, b, b->keys[k].name, idx + start[k], b->keys[k].count,
				   now_ms);
	sqlite3_blob_close(a.blob); /* before COMMIT: an open blob handle is a statement in progress */
	a.blob = NULL;
	if (own && rc == 0)
		rc = atr_db_commit(s->db);
	else if (own)
		atr_db_rollback(s->db);
	if (rc == 0 && stored_out)
		*stored_out = b->n;
out:
	free(start);
	free(idx);
	free(a.rec);
	free(a.pts);
	free(a.chunk);
	return rc;
}

int atr_store_metrics_list(struct atr_store *s, int64_t run_id, const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT key, last, last_step, min, max, count, updated_at FROM run_metrics"
				   " WHERE run_id = ? AND key > ? ORDER BY key LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, run_id);
	atr_db_bind_text(st, 2, p->after_kind == ATR_PAGE_STR ? p->after_str : "");
	sqlite3_bind_int(st, 3, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

json_t *atr_store_metric_summary(struct atr_store *s, int64_t run_id, const char *key, int *err)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT key, last, last_step, min, max, count, updated_at FROM run_metrics"
				   " WHERE run_id = ? AND key = ?");
	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, run_id);
	atr_db_bind_text(st, 2, key);
	return atr_store_one(st, err);
}

/*
 * Reads every point of (run, key) through connection h, in arrival order, in one read
 * transaction (so the summary and the chunks agree). Statements are prepared here because h
 * may be a worker thread's own connection.
 */
static int read_series(sqlite3 *h, int64_t run_id, const char *key, struct atr_metric_pt **pts, size_t *n,
		       bool *in_order)
{
	sqlite3_stmt *st = NULL;
	struct atr_metric_pt *out = NULL;
	int64_t series = 0, count = 0;
	size_t got = 0;
	int rc = ATR_EDB, step;

	bool own = sqlite3_get_autocommit(h) != 0; /* not inside a transaction of the caller's */

	*pts = NULL;
	*n = 0;
	if (own && sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ATR_EDB;
	if (sqlite3_prepare_v2(h, "SELECT id, count, sorted FROM run_metrics WHERE run_id = ? AND key = ?", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
		goto out;
	}
	series = sqlite3_column_int64(st, 0);
	count = sqlite3_column_int64(st, 1);
	*in_order = sqlite3_column_int(st, 2) != 0;
	sqlite3_finalize(st);
	st = NULL;
	if (count > 0 && !(out = malloc((size_t)count * sizeof(*out)))) {
		rc = ATR_ENOMEM;
		goto out;
	}
	if (sqlite3_prepare_v2(h, "SELECT data FROM metric_chunks WHERE series_id = ? ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, series);
	while (got < (size_t)count && (step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t m = (size_t)sqlite3_column_bytes(st, 0) / ATR_METRIC_REC;
		if (m > (size_t)count - got)
			m = (size_t)count - got; /* the tail's unused room */
		atr_metric_decode(sqlite3_column_blob(st, 0), m, out + got);
		got += m;
	}
	if (got != (size_t)count) {
		atr_error("metric series %lld has %zu of its %lld points", (long long)series, got, (long long)count);
		goto out;
	}
	*pts = out;
	*n = got;
	out = NULL;
	rc = 0;
out:
	sqlite3_finalize(st);
	if (own)
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
	free(out);
	return rc;
}

int atr_store_metric_read(struct atr_store *s, int64_t run_id, const char *key, struct atr_metric_pt **pts, size_t *n,
			  bool *in_order)
{
	return read_series(atr_db_handle(s->db), run_id, key, pts, n, in_order);
}

int atr_store_metric_read_at(const char *db_path, int64_t run_id, const char *key, struct atr_metric_pt **pts,
			     size_t *n, bool *in_order)
{
	sqlite3 *h = NULL;
	int rc;

	if (sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		*pts = NULL;
		*n = 0;
		return ATR_EDB;
	}
	sqlite3_busy_timeout(h, 5000);
	rc = read_series(h, run_id, key, pts, n, in_order);
	sqlite3_close(h);
	return rc;
}

/* want points from the offset-th of a series into out: every chunk but the tail holds
 * ATR_METRIC_CHUNK_POINTS points, so the chunks before offset are skipped by position. */
static int read_chunks(sqlite3 *h, int64_t series, int64_t offset, int64_t want, struct atr_metric_pt *out, size_t *got)
{
	int64_t skip = offset % ATR_METRIC_CHUNK_POINTS;
	sqlite3_stmt *st = NULL;
	int step = SQLITE_DONE;

	*got = 0;
	if (sqlite3_prepare_v2(h, "SELECT data FROM metric_chunks WHERE series_id = ? ORDER BY id LIMIT -1 OFFSET ?",
			       -1, &st, NULL) != SQLITE_OK)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, series);
	sqlite3_bind_int64(st, 2, offset / ATR_METRIC_CHUNK_POINTS);
	while ((int64_t)*got < want && (step = sqlite3_step(st)) == SQLITE_ROW) {
		size_t m = (size_t)sqlite3_column_bytes(st, 0) / ATR_METRIC_REC;
		const unsigned char *data = sqlite3_column_blob(st, 0);
		if ((int64_t)m <= skip) {
			skip -= (int64_t)m; /* (cannot happen with full chunks; kept safe) */
			continue;
		}
		m -= (size_t)skip;
		if (m > (size_t)want - *got)
			m = (size_t)want - *got;
		atr_metric_decode(data + skip * ATR_METRIC_REC, m, out + *got);
		*got += m;
		skip = 0;
	}
	sqlite3_finalize(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : ATR_EDB;
}

/* Points [offset, offset + max) of (run, key) in arrival order, through connection h, in one
 * read transaction (so the summary and the chunks agree). */
static int read_range(sqlite3 *h, int64_t run_id, const char *key, int64_t offset, size_t max,
		      struct atr_metric_pt **pts, size_t *n, int64_t *total)
{
	sqlite3_stmt *st = NULL;
	struct atr_metric_pt *out = NULL;
	bool own = sqlite3_get_autocommit(h) != 0;
	int64_t series, want;
	int rc = ATR_EDB, step;

	*pts = NULL;
	*n = 0;
	*total = 0;
	if (own && sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ATR_EDB;
	if (sqlite3_prepare_v2(h, "SELECT id, count FROM run_metrics WHERE run_id = ? AND key = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
		goto out;
	}
	series = sqlite3_column_int64(st, 0);
	*total = sqlite3_column_int64(st, 1);
	want = offset < *total ? *total - offset : 0;
	if (want > (int64_t)max)
		want = (int64_t)max;
	if (want > 0 && !(out = malloc((size_t)want * sizeof(*out)))) {
		rc = ATR_ENOMEM;
		goto out;
	}
	if ((rc = read_chunks(h, series, offset, want, out, n)) == 0) {
		*pts = out;
		out = NULL;
	}
out:
	sqlite3_finalize(st);
	if (own)
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
	free(out);
	return rc;
}

int atr_store_metric_read_range(struct atr_store *s, const char *db_path, int64_t run_id, const char *key,
				int64_t offset, size_t max, struct atr_metric_pt **pts, size_t *n, int64_t *total)
{
	sqlite3 *h = NULL;
	int rc;

	if (!db_path)
		return read_range(atr_db_handle(s->db), run_id, key, offset, max, pts, n, total);
	if (sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		*pts = NULL;
		*n = 0;
		*total = 0;
		return ATR_EDB;
	}
	sqlite3_busy_timeout(h, 5000);
	rc = read_range(h, run_id, key, offset, max, pts, n, total);
	sqlite3_close(h);
	return rc;
}
