/*
 * mlflow_runs.c: runs as MLflow's API shows them (include/atrium/store_mlflow_tracking.h): a
 * page of runs with their params and tags (the runs' JSON copies of them) and each series'
 * last point, read in two queries whatever the page size (runs/search answers up to a thousand runs), into one arena; the
 * soft delete, dataset inputs and the few reads MLflow's writes need. Runs are created and
 * changed through runs.c and metrics.c, as Atrium's own are. Not here: JSON (src/api).
 */
#include "atrium/store_mlflow_tracking.h"
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- an arena: blocks freed together ---- */

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(void **mem, size_t n)
{
	struct block *b = *mem;
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);

	if (!b || b->cap - b->used < need) {
		size_t cap = need > 64 * 1024 ? need : 64 * 1024;
		struct block *nb = malloc(sizeof(*nb) + cap);
		if (!nb)
			return NULL;
		nb->next = b;
		nb->used = 0;
		nb->cap = cap;
		*mem = b = nb;
	}
	b->used += need;
	return (char *)b->data + b->used - need;
}

static const char *arena_text(void **mem, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *o;

	if (!t)
		return NULL;
	if (!(o = arena_alloc(mem, n + 1)))
		return NULL;
	memcpy(o, t, n);
	o[n] = 0;
	return o;
}

void atr_mlflow_runs_release(struct atr_mlflow_runs *r)
{
	struct block *b = r->mem;

	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	memset(r, 0, sizeof(*r));
}

/* ---- loading a page ---- */

/* Run ids to their place in the answer: sorted (id, index) pairs. */
struct place {
	int64_t id;
	size_t at;
};

static int by_id(const void *a, const void *b)
{
	int64_t x = ((const struct place *)a)->id, y = ((const struct place *)b)->id;
	return x < y ? -1 : x > y;
}

static struct atr_mlflow_run *run_of(struct atr_mlflow_runs *out, const struct place *map, size_t n, int64_t id)
{
	struct place key = { id, 0 }, *hit = bsearch(&key, map, n, sizeof(*map), by_id);
	return hit ? &out->runs[hit->at] : NULL;
}

static int read_runs(struct atr_store *s, const char *list, struct atr_mlflow_runs *out, const struct place *map,
		     size_t n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT r.id, r.project_id, r.uuid, r.name, r.status, u.username,"
					      " r.started_at, r.ended_at, r.deleted_at, r.dataset_inputs, r.params,"
					      " r.tags FROM runs r"
					      " LEFT JOIN users u ON u.id = r.created_by"
					      " WHERE r.id IN (SELECT value FROM json_each(?))");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct atr_mlflow_run *r = run_of(out, map, n, sqlite3_column_int64(st, 0));
		if (!r)
			continue;
		r->id = sqlite3_column_int64(st, 0);
		r->project_id = sqlite3_column_int64(st, 1);
		atr_copy(r->uuid, sizeof(r->uuid), (const char *)sqlite3_column_text(st, 2));
		r->name = arena_text(&out->mem, st, 3);
		r->status = arena_text(&out->mem, st, 4);
		r->user = arena_text(&out->mem, st, 5);
		r->started_at = sqlite3_column_int64(st, 6);
		r->ended_at = sqlite3_column_int64(st, 7);
		r->deleted = sqlite3_column_type(st, 8) != SQLITE_NULL;
		r->dataset_inputs = arena_text(&out->mem, st, 9);
		r->params = arena_text(&out->mem, st, 10);
		r->tags = arena_text(&out->mem, st, 11);
		if (!r->name || !r->status || !r->dataset_inputs || !r->params || !r->tags) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
	}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* One metric row (run_id, key, last, last_ts, last_step) into m. */
static int put_metric(struct atr_mlflow_runs *out, sqlite3_stmt *st, struct atr_mlflow_metric *m)
{
	m->key = arena_text(&out->mem, st, 1);
	m->value = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
	m->ts = sqlite3_column_int64(st, 3);
	m->step = sqlite3_column_int64(st, 4);
	return m->key ? 0 : ATR_ENOMEM;
}

/* Room for one more row and its run id (doubling both). NULL when out of memory. */
static struct atr_mlflow_metric *more_rows(struct atr_mlflow_metric **rows, int64_t **ids, size_t n, size_t *cap)
{
	if (n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4096;
		struct atr_mlflow_metric *nr = realloc(*rows, nc * sizeof(*nr));
		int64_t *ni = nr ? realloc(*ids, nc * sizeof(*ni)) : NULL;
		if (nr)
			*rows = nr;
		if (!ni)
			return NULL;
		*ids = ni;
		*cap = nc;
	}
	return *rows + n;
}

/* Gives each run its slice of rows (grouped by run: ids[i] is row i's run). */
static void slices(struct atr_mlflow_runs *out, const struct place *map, size_t n, struct atr_mlflow_metric *rows,
		   const int64_t *ids, size_t count)
{
	for (size_t i = 0, first = 0; i < count; i++)
		if (i + 1 == count || ids[i + 1] != ids[i]) {
			struct atr_mlflow_run *r = run_of(out, map, n, ids[i]);
			if (r) {
				r->metrics = rows + first;
				r->nmetrics = i + 1 - first;
			}
			first = i + 1;
		}
}

/* The last point of every series of the page's runs, in one pass: ordered by run (the unique
 * index's order, no sort), so each run's series are one slice of the array. */
static int read_metrics(struct atr_store *s, const char *list, struct atr_mlflow_runs *out, const struct place *map,
			size_t n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT run_id, key, last, last_ts, last_step FROM run_metrics"
					      " WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id");
	struct atr_mlflow_metric *rows = NULL, *kept = NULL, *slot;
	size_t count = 0, cap = 0;
	int64_t *ids = NULL;
	int rc = ATR_ENOMEM, step;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, list);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(slot = more_rows(&rows, &ids, count, &cap)) || put_metric(out, st, slot) < 0)
			goto out;
		ids[count++] = sqlite3_column_int64(st, 0);
	}
	rc = step == SQLITE_DONE ? 0 : ATR_EDB;
	if (rc == 0 && count && !(kept = arena_alloc(&out->mem, count * sizeof(*kept))))
		rc = ATR_ENOMEM;
	if (kept) {
		memcpy(kept, rows, count * sizeof(*kept));
		slices(out, map, n, kept, ids, count);
	}
out:
	atr_db_done(st);
	free(rows);
	free(ids);
	return rc;
}

/* The page's ids as the JSON array json_each reads ("[4,9,12]"). */
static char *id_list(const int64_t *ids, size_t n)
{
	struct atr_buf b;
	int rc = 0;

	atr_buf_init(&b, (size_t)16 << 20);
	rc = atr_buf_puts(&b, "[");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = atr_buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
	if (rc == 0)
		rc = atr_buf_puts(&b, "]");
	if (rc < 0) {
		atr_buf_release(&b);
		return NULL;
	}
	return atr_buf_steal(&b);
}

/* Drops the runs that were not found (their id is 0), keeping the order. */
static void compact(struct atr_mlflow_runs *out)
{
	size_t k = 0;

	for (size_t i = 0; i < out->n; i++)
		if (out->runs[i].id)
			out->runs[k++] = out->runs[i];
	out->n = k;
}

int atr_store_mlflow_runs(struct atr_store *s, const int64_t *ids, size_t n, struct atr_mlflow_runs *out)
{
	struct place *map = malloc((n ? n : 1) * sizeof(*map));
	char *list = id_list(ids, n);
	int rc = ATR_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!map || !list || !(out->runs = arena_alloc(&out->mem, (n ? n : 1) * sizeof(*out->runs))))
		goto out;
	memset(out->runs, 0, (n ? n : 1) * sizeof(*out->runs));
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		map[i].id = ids[i];
		map[i].at = i;
	}
	qsort(map, n, sizeof(*map), by_id);
	rc = read_runs(s, list, out, map, n);
	if (rc == 0)
		rc = read_metrics(s, list, out, map, n);
	if (rc == 0)
		compact(out);
out:
	free(map);
	free(list);
	if (rc < 0)
		atr_mlflow_runs_release(out);
	return rc;
}

/* ---- writes MLflow needs beside runs.c's ---- */

int atr_store_run_set_deleted(struct atr_store *s, int64_t run_id, bool deleted)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE runs SET deleted_at = CASE WHEN ?1 THEN coalesce(deleted_at, ?2)"
					      " END, updated_at = ?2 WHERE id = ?3");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int(st, 1, deleted);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, run_id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int atr_store_run_set_ended(struct atr_store *s, int64_t run_id, int64_t ended_at)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE runs SET ended_at = ?, updated_at = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, ended_at);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, run_id);
	return atr_db_step_write(st);
}

int atr_store_run_tag(struct atr_store *s, int64_t run_id, const char *key, char **value)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT value FROM run_tags WHERE run_id = ? AND key = ?");
	int rc;

	*value = NULL;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, run_id);
	atr_db_bind_text(st, 2, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !(*value = strdup((const char *)sqlite3_column_text(st, 0)))) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	return atr_db_row_done(st, rc);
}

/* Whether inputs already holds a dataset with the name and digest of in. */
static bool has_dataset(const json_t *inputs, const json_t *in)
{
	const json_t *d = json_object_get(in, "dataset"), *x;
	size_t i;

	json_array_foreach(inputs, i, x)
	{
		const json_t *e = json_object_get(x, "dataset");
		if (json_equal(json_object_get(e, "name"), json_object_get(d, "name")) &&
		    json_equal(json_object_get(e, "digest"), json_object_get(d, "digest")))
			return true;
	}
	return false;
}

int atr_store_run_add_dataset_inputs(struct atr_store *s, int64_t run_id, const json_t *inputs)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT dataset_inputs FROM runs WHERE id = ?");
	json_t *have = NULL, *in;
	size_t i;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		have = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	if ((rc = atr_db_row_done(st, rc)) < 0)
		return rc;
	if (!json_is_array(have)) {
		json_decref(have);
		have = json_array();
	}
	json_array_foreach(inputs, i, in)
	{
		if (!has_dataset(have, in) && json_array_append(have, in) < 0) {
			json_decref(have);
			return ATR_ENOMEM;
		}
	}
	st = atr_db_stmt(s->db, "UPDATE runs SET dataset_inputs = ?, updated_at = ? WHERE id = ?");
	if (!st || atr_db_bind_json(st, 1, have) < 0) {
		json_decref(have);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	json_decref(have);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, run_id);
	return atr_db_step_write(st);
}
