/*
 * monitoring.c: model monitoring's tables: reference profiles (one per dataset version and
 * settings), a deployment's monitoring settings, and the live counts per 5-minute window,
 * one BLOB of little-endian uint64 slots per window (so that a 30-day drift query reads 8,640
 * rows, whatever the number of predictions). No statistics here (src/core/drift.c).
 */
#include "atrium/store_monitoring.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

static char *col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? atr_strdup(t) : NULL;
}

void atr_monitor_settings_release(struct atr_monitor_settings *m)
{
	free(m->settings);
	free(m->profile);
	m->settings = m->profile = NULL;
}

int atr_store_monitor_profile_find(struct atr_store *s, int64_t dsv_id, const char *settings, int64_t *id, char **text)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, profile FROM monitor_profiles WHERE dataset_version_id = ?"
					      " AND settings = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dsv_id);
	atr_db_bind_text(st, 2, settings);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		if (text && !(*text = col_text(st, 1)))
			rc = SQLITE_NOMEM;
	}
	if (rc == SQLITE_NOMEM) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	return atr_db_row_done(st, rc);
}

int atr_store_monitor_profile_put(struct atr_store *s, int64_t dsv_id, const char *settings, const char *profile,
				  int64_t *id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT OR IGNORE INTO monitor_profiles(dataset_version_id, settings,"
					      " profile, created_at) VALUES (?,?,?,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dsv_id);
	atr_db_bind_text(st, 2, settings);
	atr_db_bind_text(st, 3, profile);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	return atr_store_monitor_profile_find(s, dsv_id, settings, id, NULL);
}

int atr_store_monitor_settings_put(struct atr_store *s, const struct atr_monitor_settings *m)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT OR REPLACE INTO monitor_settings(deployment_id, dataset_version_id,"
				   " reference_source, settings, profile_id, updated_at, updated_by)"
				   " VALUES (?,?,?,?,?,?,?)");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, m->deployment_id);
	sqlite3_bind_int64(st, 2, m->dataset_version_id);
	atr_db_bind_text(st, 3, m->source);
	atr_db_bind_text(st, 4, m->settings);
	if (m->profile_id > 0)
		sqlite3_bind_int64(st, 5, m->profile_id);
	sqlite3_bind_int64(st, 6, m->updated_at);
	if (m->updated_by > 0)
		sqlite3_bind_int64(st, 7, m->updated_by);
	return atr_db_step_write(st);
}

int atr_store_monitor_settings_get(struct atr_store *s, int64_t deployment_id, struct atr_monitor_settings *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT m.dataset_version_id, m.reference_source, m.settings,"
				   " m.profile_id, m.updated_at, m.updated_by, p.profile FROM monitor_settings m"
				   " LEFT JOIN monitor_profiles p ON p.id = m.profile_id WHERE m.deployment_id = ?");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->deployment_id = deployment_id;
		out->dataset_version_id = sqlite3_column_int64(st, 0);
		atr_copy(out->source, sizeof(out->source), (const char *)sqlite3_column_text(st, 1));
		out->settings = col_text(st, 2);
		out->profile_id = sqlite3_column_int64(st, 3);
		out->updated_at = sqlite3_column_int64(st, 4);
		out->updated_by = sqlite3_column_int64(st, 5);
		out->profile = col_text(st, 6);
		if (!out->settings || (!out->profile && sqlite3_column_type(st, 6) != SQLITE_NULL)) {
			atr_db_done(st);
			atr_monitor_settings_release(out);
			return ATR_ENOMEM;
		}
	}
	return atr_db_row_done(st, rc);
}

int atr_store_monitor_settings_delete(struct atr_store *s, int64_t deployment_id)
{
	static const char *const sql[] = { "DELETE FROM monitor_counts WHERE deployment_id = ?",
					   "DELETE FROM monitor_settings WHERE deployment_id = ?" };
	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *st = atr_db_stmt(s->db, sql[i]);
		int rc;
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, deployment_id);
		if ((rc = atr_db_step_write(st)) < 0)
			return rc;
	}
	return 0;
}

/* ---- counts ---- */

static void decode(const void *blob, size_t bytes, uint64_t *out, size_t n)
{
	const unsigned char *b = blob;
	size_t have = bytes / 8;

	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		for (int k = 7; i < have && k >= 0; k--)
			v = v << 8 | b[i * 8 + (size_t)k];
		out[i] = v;
	}
}

static void encode(const uint64_t *in, size_t n, unsigned char *b)
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 8; k++)
			b[i * 8 + (size_t)k] = (unsigned char)(in[i] >> (8 * k));
}

static int counts_merge(struct atr_store *s, int64_t dep, int64_t profile, int64_t window, const uint64_t *add,
			size_t n, uint64_t *sum, unsigned char *blob)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT counts FROM monitor_counts WHERE deployment_id = ? AND"
					      " profile_id = ? AND window_start = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dep);
	sqlite3_bind_int64(st, 2, profile);
	sqlite3_bind_int64(st, 3, window);
	memset(sum, 0, n * sizeof(*sum));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), sum, n);
	atr_db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ATR_EDB;
	for (size_t i = 0; i < n; i++)
		sum[i] += add[i];
	encode(sum, n, blob);
	st = atr_db_stmt(s->db, "INSERT OR REPLACE INTO monitor_counts(deployment_id, profile_id, window_start, counts)"
				" VALUES (?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dep);
	sqlite3_bind_int64(st, 2, profile);
	sqlite3_bind_int64(st, 3, window);
	sqlite3_bind_blob(st, 4, blob, (int)(n * 8), SQLITE_STATIC);
	return atr_db_step_write(st);
}

int atr_store_monitor_counts_add(struct atr_store *s, int64_t deployment_id, int64_t profile_id, int64_t window_start,
				 const uint64_t *add, size_t n)
{
	uint64_t *sum = malloc(n * sizeof(*sum) + 1);
	unsigned char *blob = malloc(n * 8 + 1);
	int rc = sum && blob ? atr_db_begin(s->db) : ATR_ENOMEM;

	if (rc == 0) {
		rc = counts_merge(s, deployment_id, profile_id, window_start, add, n, sum, blob);
		if (rc < 0)
			atr_db_rollback(s->db);
		else
			rc = atr_db_commit(s->db);
	}
	free(sum);
	free(blob);
	return rc;
}

int atr_store_monitor_counts_each(struct atr_store *s, int64_t deployment_id, int64_t profile_id, int64_t from,
				  int64_t to, size_t n, atr_monitor_window_fn fn, void *arg)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT window_start, counts FROM monitor_counts WHERE deployment_id = ?"
					      " AND profile_id = ? AND window_start >= ? AND window_start < ?"
					      " ORDER BY window_start");
	uint64_t *c = malloc(n * sizeof(*c) + 1);
	int rc, stop = 0;

	if (!st || !c) {
		free(c);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, profile_id);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), c, n);
		stop = fn(arg, sqlite3_column_int64(st, 0), c, n);
	}
	atr_db_done(st);
	free(c);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* ---- ground truth ---- */

int atr_store_monitor_feedback_add(struct atr_store *s, int64_t deployment_id, const char *prediction_id,
				   const char *label_json, bool *added)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT OR IGNORE INTO monitor_feedback(deployment_id, prediction_id,"
					      " label, created_at) VALUES (?,?,?,?)");
	int rc;

	*added = false;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	atr_db_bind_text(st, 2, prediction_id);
	atr_db_bind_text(st, 3, label_json);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*added = atr_db_changes(s->db) > 0;
	return 0;
}

static int quality_classes_add(struct atr_store *s, int64_t deployment_id, int64_t window_start,
			       const struct atr_quality *q)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < q->nclasses; i++) {
		const struct atr_quality_class *c = &q->classes[i];
		sqlite3_stmt *st = atr_db_stmt(
			s->db, "INSERT INTO monitor_quality_classes(deployment_id, window_start, class, tp, fp, fn)"
			       " VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(deployment_id, window_start, class)"
			       " DO UPDATE SET tp = tp + ?4, fp = fp + ?5, fn = fn + ?6");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, deployment_id);
		sqlite3_bind_int64(st, 2, window_start);
		sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)c->tp);
		sqlite3_bind_int64(st, 5, (int64_t)c->fp);
		sqlite3_bind_int64(st, 6, (int64_t)c->fn);
		rc = atr_db_step_write(st);
	}
	return rc;
}

int atr_store_monitor_quality_add(struct atr_store *s, int64_t deployment_id, int64_t window_start,
				  const struct atr_quality *q)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO monitor_quality(deployment_id, window_start, labelled, correct, numeric, sum_abs,"
		       " sum_sq, sum_y, sum_y2, class_overflow) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
		       " ON CONFLICT(deployment_id, window_start)"
		       " DO UPDATE SET labelled = labelled + ?3, correct = correct + ?4, numeric = numeric + ?5,"
		       " sum_abs = sum_abs + ?6, sum_sq = sum_sq + ?7, sum_y = sum_y + ?8, sum_y2 = sum_y2 + ?9,"
		       " class_overflow = class_overflow + ?10");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, window_start);
	sqlite3_bind_int64(st, 3, (int64_t)q->labelled);
	sqlite3_bind_int64(st, 4, (int64_t)q->correct);
	sqlite3_bind_int64(st, 5, (int64_t)q->numeric);
	sqlite3_bind_double(st, 6, q->sum_abs);
	sqlite3_bind_double(st, 7, q->sum_sq);
	sqlite3_bind_double(st, 8, q->sum_y);
	sqlite3_bind_double(st, 9, q->sum_y2);
	sqlite3_bind_int64(st, 10, (int64_t)q->class_overflow);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	return quality_classes_add(s, deployment_id, window_start, q);
}

/* Adds the classes stored for a window to q. */
static int quality_classes_read(struct atr_store *s, int64_t deployment_id, int64_t window_start, struct atr_quality *q)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT class, tp, fp, fn FROM monitor_quality_classes"
					      " WHERE deployment_id = ? AND window_start = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, window_start);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		atr_quality_add_class(q, (const char *)sqlite3_column_text(st, 0),
				      (uint64_t)sqlite3_column_int64(st, 1), (uint64_t)sqlite3_column_int64(st, 2),
				      (uint64_t)sqlite3_column_int64(st, 3));
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_monitor_quality_each(struct atr_store *s, int64_t deployment_id, int64_t from, int64_t to,
				   atr_monitor_quality_fn fn, void *arg)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT window_start, labelled, correct, numeric, sum_abs, sum_sq, sum_y,"
		       " sum_y2, class_overflow FROM monitor_quality WHERE deployment_id = ? AND window_start >= ?"
		       " AND window_start < ? ORDER BY window_start");
	struct atr_quality *q = malloc(sizeof(*q));
	int rc = ATR_EDB, stop = 0;

	if (!st || !q) {
		free(q);
		return st ? ATR_ENOMEM : ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(q, 0, sizeof(*q));
		q->labelled = (uint64_t)sqlite3_column_int64(st, 1);
		q->correct = (uint64_t)sqlite3_column_int64(st, 2);
		q->numeric = (uint64_t)sqlite3_column_int64(st, 3);
		q->sum_abs = sqlite3_column_double(st, 4);
		q->sum_sq = sqlite3_column_double(st, 5);
		q->sum_y = sqlite3_column_double(st, 6);
		q->sum_y2 = sqlite3_column_double(st, 7);
		q->class_overflow = (uint64_t)sqlite3_column_int64(st, 8);
		if ((stop = quality_classes_read(s, deployment_id, sqlite3_column_int64(st, 0), q)) == 0)
			stop = fn(arg, sqlite3_column_int64(st, 0), q);
	}
	atr_db_done(st);
	free(q);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}
