/*
 * workers.c: SQL for the worker registry: workers, their secrets and join tokens (rows of
 * api_tokens), job log chunks and final job reports. No HTTP here; api/workers.c calls it.
 */
#include "atrium/store_workers.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <string.h>

static int bind_json_or_default(sqlite3_stmt *st, int idx, const json_t *v, const char *dflt)
{
	if (!v) {
		atr_db_bind_text(st, idx, dflt);
		return 0;
	}
	return atr_db_bind_json(st, idx, v);
}

/* Steps a bound one-row, one-column query: its integer or text (into text, 16 bytes). */
static int one_value(sqlite3_stmt *st, int64_t *num, char *text)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW && num)
		*num = sqlite3_column_int64(st, 0);
	if (rc == SQLITE_ROW && text)
		atr_copy(text, 16, (const char *)sqlite3_column_text(st, 0));
	return atr_db_row_done(st, rc);
}

static int find_by_name(struct atr_store *s, const char *name, int64_t *id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM workers WHERE name = ?");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	return one_value(st, id, NULL);
}

int atr_store_worker_register(struct atr_store *s, const struct atr_worker_reg *reg, int64_t *id, int64_t *nonce,
			      bool *existed)
{
	int64_t now = atr_now_ms();
	sqlite3_stmt *st;
	int rc = find_by_name(s, reg->name, id);

	if (rc < 0 && rc != ATR_ENOTFOUND)
		return rc;
	*existed = rc == 0;
	if (*existed) {
		st = atr_db_stmt(s->db,
				 "UPDATE workers SET url = ?, labels = ?, gpus = ?, cpus = ?, memory_mb = ?,"
				 " version = ?, join_token_id = ?, secret_nonce = ?, running = '[]',"
				 " state_changed_at = CASE state WHEN 'online' THEN state_changed_at ELSE ? END,"
				 " state = 'online', registered_at = ?, last_heartbeat_at = ?, deregistered_at = NULL"
				 " WHERE id = ?");
	} else {
		st = atr_db_stmt(s->db,
				 "INSERT INTO workers(url, labels, gpus, cpus, memory_mb, version, join_token_id,"
				 " secret_nonce, state_changed_at, registered_at, last_heartbeat_at, name, state)"
				 " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'online')");
	}
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, reg->url);
	if (bind_json_or_default(st, 2, reg->labels, "{}") < 0 || bind_json_or_default(st, 3, reg->gpus, "[]") < 0) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	sqlite3_bind_int64(st, 4, reg->cpus);
	sqlite3_bind_int64(st, 5, reg->memory_mb);
	atr_db_bind_text(st, 6, reg->version ? reg->version : "");
	if (reg->join_token_id > 0)
		sqlite3_bind_int64(st, 7, reg->join_token_id);
	*nonce = (int64_t)(atr_fast_rand() >> 1);
	sqlite3_bind_int64(st, 8, *nonce);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now);
	if (*existed)
		sqlite3_bind_int64(st, 12, *id);
	else
		atr_db_bind_text(st, 12, reg->name);
	rc = atr_db_step_write(st);
	if (rc < 0)
		return rc;
	if (!*existed)
		*id = atr_db_last_id(s->db);
	/* a worker holds one secret: the previous one dies with the new registration */
	return atr_store_token_revoke_scope(s, "worker", *id);
}

int atr_store_worker_secret_add(struct atr_store *s, int64_t worker_id, const char *name, const char *hash_hex,
				const char *prefix)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO api_tokens(kind, name, token_hash, prefix, scope_id,"
					      " created_at) VALUES ('worker', ?, ?, ?, ?, ?)");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	atr_db_bind_text(st, 2, hash_hex);
	atr_db_bind_text(st, 3, prefix);
	sqlite3_bind_int64(st, 4, worker_id);
	sqlite3_bind_int64(st, 5, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_worker_nonce(struct atr_store *s, int64_t id, int64_t *nonce)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT secret_nonce FROM workers WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return one_value(st, nonce, NULL);
}

int atr_store_worker_state(struct atr_store *s, int64_t id, char state[16])
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT state FROM workers WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return one_value(st, NULL, state);
}

int atr_store_worker_heartbeat(struct atr_store *s, int64_t id, const json_t *gpus, const json_t *running,
			       const struct atr_worker_usage *u, struct atr_worker_flags *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT state, cordoned, draining FROM workers WHERE id = ?");
	int64_t now = atr_now_ms();
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->was_offline = strcmp((const char *)sqlite3_column_text(st, 0), "offline") == 0;
		out->cordoned = sqlite3_column_int(st, 1) != 0;
		out->draining = sqlite3_column_int(st, 2) != 0;
	}
	atr_db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
	st = atr_db_stmt(s->db, "UPDATE workers SET gpus = coalesce(?, gpus), running = coalesce(?, running),"
				" load = coalesce(?, load), memory_used_mb = coalesce(?, memory_used_mb),"
				" last_heartbeat_at = ?, state = 'online',"
				" state_changed_at = CASE ? WHEN 1 THEN ? ELSE state_changed_at END,"
				" disk_total_mb = coalesce(?, disk_total_mb), disk_free_mb = coalesce(?, disk_free_mb)"
				" WHERE id = ?");
	if (!st)
		return ATR_EDB;
	if (atr_db_bind_json(st, 1, gpus) < 0 || atr_db_bind_json(st, 2, running) < 0) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	if (u->load >= 0)
		sqlite3_bind_double(st, 3, u->load);
	if (u->memory_used_mb >= 0)
		sqlite3_bind_int64(st, 4, u->memory_used_mb);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int(st, 6, out->was_offline);
	sqlite3_bind_int64(st, 7, now);
	if (u->disk_total_mb >= 0)
		sqlite3_bind_int64(st, 8, u->disk_total_mb);
	if (u->disk_free_mb >= 0)
		sqlite3_bind_int64(st, 9, u->disk_free_mb);
	sqlite3_bind_int64(st, 10, id);
	return atr_db_step_write(st);
}

int atr_store_worker_deregister(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE workers SET state = 'offline', state_changed_at = ?,"
					      " deregistered_at = ?, running = '[]' WHERE id = ?");
	int64_t now = atr_now_ms();
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc < 0 ? rc : atr_store_token_revoke_scope(s, "worker", id);
}

int atr_store_worker_set_flags(struct atr_store *s, int64_t id, int cordoned, int draining)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE workers SET cordoned = CASE ? WHEN -1 THEN cordoned ELSE ? END,"
					      " draining = CASE ? WHEN -1 THEN draining ELSE ? END WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int(st, 1, cordoned);
	sqlite3_bind_int(st, 2, cordoned);
	sqlite3_bind_int(st, 3, draining);
	sqlite3_bind_int(st, 4, draining);
	sqlite3_bind_int64(st, 5, id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_worker_delete(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM workers WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc < 0 ? rc : atr_store_token_revoke_scope(s, "worker", id);
}

#define WORKER_COLS                                                                                                  \
	"id, name, url, state, (state = 'online' AND NOT cordoned AND NOT draining) AS schedulable__bool,"           \
	" cordoned AS cordoned__bool, draining AS draining__bool, labels AS labels__json, gpus AS gpus__json,"       \
	" json_array_length(gpus) AS gpu_count, cpus, memory_mb, memory_used_mb, load, disk_total_mb, disk_free_mb," \
	" running AS running__json,"                                                                                 \
	" version, registered_at, last_heartbeat_at, state_changed_at, deregistered_at"

json_t *atr_store_worker_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " WORKER_COLS " FROM workers WHERE id = ?", id, err);
}

int atr_store_worker_list(struct atr_store *s, const char *state, int schedulable, const struct atr_page *p,
			  json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " WORKER_COLS " FROM workers WHERE id > ?"
					      " AND (? IS NULL OR state = ?)"
					      " AND (? < 0 OR (state = 'online' AND NOT cordoned AND NOT draining) = ?)"
					      " ORDER BY id LIMIT ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, p->after_id);
	atr_db_bind_text(st, 2, state);
	atr_db_bind_text(st, 3, state);
	sqlite3_bind_int(st, 4, schedulable);
	sqlite3_bind_int(st, 5, schedulable);
	sqlite3_bind_int(st, 6, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_workers_sweep(struct atr_store *s, int64_t before_ms, int64_t *ids, int max, int *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE workers SET state = 'offline', state_changed_at = ?"
					      " WHERE state = 'online' AND last_heartbeat_at < ? RETURNING id");
	int rc;

	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, before_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n < max)
			ids[*n] = sqlite3_column_int64(st, 0);
		(*n)++;
	}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_worker_counts(struct atr_store *s, struct atr_worker_counts *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT coalesce(sum(state = 'online'), 0), coalesce(sum(state = 'offline'), 0),"
				   " coalesce(sum(state = 'online' AND NOT cordoned AND NOT draining), 0),"
				   " coalesce(sum(CASE state WHEN 'online' THEN json_array_length(gpus) END), 0),"
				   " coalesce(sum(CASE state WHEN 'online' THEN (SELECT count(*) FROM json_each(gpus)"
				   " WHERE json_extract(value, '$.busy')) END), 0) FROM workers");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->online = sqlite3_column_int64(st, 0);
		out->offline = sqlite3_column_int64(st, 1);
		out->schedulable = sqlite3_column_int64(st, 2);
		out->gpus = sqlite3_column_int64(st, 3);
		out->gpus_busy = sqlite3_column_int64(st, 4);
	}
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

/* ---- join tokens ---- */

int atr_store_join_token_revoke_named(struct atr_store *s, const char *name)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE api_tokens SET revoked_at = ? WHERE kind = 'join' AND name = ?"
					      " AND revoked_at IS NULL");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	atr_db_bind_text(st, 2, name);
	return atr_db_step_write(st);
}

/* ---- job logs and reports ---- */

int atr_store_job_log_end(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t *end)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT byte_offset + length(data) FROM job_logs WHERE job_id = ?"
					      " AND attempt = ? ORDER BY byte_offset DESC LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	rc = sqlite3_step(st);
	*end = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_job_log_add(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t offset, const void *data,
			  size_t len, int64_t worker_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO job_logs(job_id, attempt, byte_offset, data, worker_id,"
					      " received_at) VALUES (?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	sqlite3_bind_int64(st, 3, offset);
	sqlite3_bind_blob64(st, 4, data, len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, worker_id);
	sqlite3_bind_int64(st, 6, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_job_log_read(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t offset, size_t max,
			   struct atr_buf *out)
{
	/* the chunk that holds offset starts at or before it; later chunks follow in order */
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT byte_offset, data FROM job_logs WHERE job_id = ? AND attempt = ?"
					      " AND byte_offset >= coalesce((SELECT max(byte_offset) FROM job_logs"
					      " WHERE job_id = ? AND attempt = ? AND byte_offset <= ?), 0)"
					      " ORDER BY byte_offset");
	size_t want = max;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	sqlite3_bind_int64(st, 3, job_id);
	sqlite3_bind_int64(st, 4, attempt);
	sqlite3_bind_int64(st, 5, offset);
	while (want > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t at = sqlite3_column_int64(st, 0);
		const char *d = sqlite3_column_blob(st, 1);
		int64_t n = sqlite3_column_bytes(st, 1), skip = offset > at ? offset - at : 0;
		size_t take;
		if (at > offset + (int64_t)(max - want))
			break; /* a gap: stop at it */
		if (skip >= n)
			continue;
		take = (size_t)(n - skip) < want ? (size_t)(n - skip) : want;
		if (atr_buf_append(out, d + skip, take) < 0) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
		want -= take;
	}
	atr_db_done(st);
	return 0;
}

int atr_store_job_logs_prune(struct atr_store *s, int64_t before_ms, int max_jobs)
{
	sqlite3_stmt *pick, *del, *mark;
	int64_t ids[64];
	int n = 0, rc;

	if (max_jobs > (int)(sizeof(ids) / sizeof(ids[0])))
		max_jobs = (int)(sizeof(ids) / sizeof(ids[0]));
	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	pick = atr_db_stmt(s->db, "SELECT id FROM jobs WHERE ended_at IS NOT NULL AND logs_pruned_at IS NULL"
				  " AND ended_at < ? ORDER BY ended_at LIMIT ?");
	if (!pick) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(pick, 1, before_ms);
	sqlite3_bind_int(pick, 2, max_jobs);
	while (n < max_jobs && (rc = sqlite3_step(pick)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(pick, 0);
	atr_db_done(pick);
	for (int i = 0; i < n; i++) {
		del = atr_db_stmt(s->db, "DELETE FROM job_logs WHERE job_id = ?");
		if (!del) {
			rc = ATR_EDB;
			goto fail;
		}
		sqlite3_bind_int64(del, 1, ids[i]);
		if ((rc = atr_db_step_write(del)) < 0)
			goto fail;
		mark = atr_db_stmt(s->db, "UPDATE jobs SET logs_pruned_at = ? WHERE id = ?");
		if (!mark) {
			rc = ATR_EDB;
			goto fail;
		}
		sqlite3_bind_int64(mark, 1, atr_now_ms());
		sqlite3_bind_int64(mark, 2, ids[i]);
		if ((rc = atr_db_step_write(mark)) < 0)
			goto fail;
	}
	if ((rc = atr_db_commit(s->db)) < 0)
		return rc;
	return n;
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_job_logs_pruned_at(struct atr_store *s, int64_t job_id, int64_t *at)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT coalesce(logs_pruned_at, 0) FROM jobs WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	*at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_job_last_attempt(struct atr_store *s, int64_t job_id, int64_t *attempt)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT max(coalesce((SELECT max(attempt) FROM job_logs WHERE job_id = ?), 0),"
				   " coalesce((SELECT max(attempt) FROM worker_job_reports WHERE job_id = ?), 0))");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, job_id);
	rc = sqlite3_step(st);
	*attempt = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

int atr_store_job_report_put(struct atr_store *s, const struct atr_job_report *r)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT OR REPLACE INTO worker_job_reports(job_id, attempt, worker_id, state,"
				   " exit_code, signal, message, log_bytes, started_at, finished_at, reported_at)"
				   " VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, r->job_id);
	sqlite3_bind_int64(st, 2, r->attempt);
	sqlite3_bind_int64(st, 3, r->worker_id);
	atr_db_bind_text(st, 4, r->state);
	if (r->has_exit_code)
		sqlite3_bind_int64(st, 5, r->exit_code);
	if (r->has_signal)
		sqlite3_bind_int64(st, 6, r->signal);
	atr_db_bind_text(st, 7, r->message ? r->message : "");
	sqlite3_bind_int64(st, 8, r->log_bytes);
	if (r->started_at > 0)
		sqlite3_bind_int64(st, 9, r->started_at);
	if (r->finished_at > 0)
		sqlite3_bind_int64(st, 10, r->finished_at);
	sqlite3_bind_int64(st, 11, atr_now_ms());
	return atr_db_step_write(st);
}

json_t *atr_store_job_report_json(struct atr_store *s, int64_t job_id, int64_t attempt, int *err)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT job_id, attempt, worker_id, state, exit_code, signal, message,"
				   " log_bytes, (SELECT coalesce(max(byte_offset + length(data)), 0) FROM job_logs l"
				   " WHERE l.job_id = r.job_id AND l.attempt = r.attempt) AS log_bytes_received,"
				   " started_at, finished_at, reported_at FROM worker_job_reports r"
				   " WHERE job_id = ? AND attempt = ?");
	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	return atr_store_one(st, err);
}
