/*
 * deployments.c: the deployments, deployment_rollouts, deployment_events and
 * deployment_replicas tables, and the one read of the jobs table the controller needs at
 * start-up (a deployment's active replica jobs). The controller decides; this persists.
 * Captured predictions are in predictions.c, invoke keys in invoke_keys.c.
 */
#include "atrium/store_deployments.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_identity.h"
#include "atrium/store_jobs.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

#define DEP_COLS                                                                                                \
	"id, project_id, model_id, coalesce(created_by, 0), created_at, name, coalesce(follow_alias, ''),"      \
	" coalesce(version_id, 0), coalesce(version, 0), coalesce(previous_version_id, 0),"                     \
	" coalesce(previous_version, 0), replicas, command, env, resources, labels, health_path, predict_path," \
	" timeout_ms, rollout_timeout_s, sample_rate, capture_max_bytes, capture_max_rows, capture_max_age_s,"  \
	" generation, traffic, state, message, coalesce(rollout_id, 0)"

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	atr_copy(dst, n, t ? t : "");
}

static json_t *column_json(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return t ? json_loads(t, 0, NULL) : NULL;
}

void atr_deployment_row_release(struct atr_deployment_row *row)
{
	json_decref(row->command);
	json_decref(row->env);
	json_decref(row->resources);
	json_decref(row->labels);
	json_decref(row->traffic);
	row->command = row->env = row->resources = row->labels = row->traffic = NULL;
}

static void fill_row(sqlite3_stmt *st, void *out)
{
	struct atr_deployment_row *o = out;

	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	o->project_id = sqlite3_column_int64(st, 1);
	o->model_id = sqlite3_column_int64(st, 2);
	o->created_by = sqlite3_column_int64(st, 3);
	o->created_at = sqlite3_column_int64(st, 4);
	copy_text(o->name, sizeof(o->name), st, 5);
	copy_text(o->follow_alias, sizeof(o->follow_alias), st, 6);
	o->version_id = sqlite3_column_int64(st, 7);
	o->version = sqlite3_column_int64(st, 8);
	o->previous_version_id = sqlite3_column_int64(st, 9);
	o->previous_version = sqlite3_column_int64(st, 10);
	o->replicas = sqlite3_column_int(st, 11);
	o->command = column_json(st, 12);
	o->env = column_json(st, 13);
	o->resources = column_json(st, 14);
	o->labels = column_json(st, 15);
	copy_text(o->health_path, sizeof(o->health_path), st, 16);
	copy_text(o->predict_path, sizeof(o->predict_path), st, 17);
	o->timeout_ms = sqlite3_column_int64(st, 18);
	o->rollout_timeout_s = sqlite3_column_int64(st, 19);
	o->sample_rate = sqlite3_column_double(st, 20);
	o->capture_max_bytes = sqlite3_column_int64(st, 21);
	o->capture_max_rows = sqlite3_column_int64(st, 22);
	o->capture_max_age_s = sqlite3_column_int64(st, 23);
	o->generation = sqlite3_column_int64(st, 24);
	o->traffic = column_json(st, 25);
	copy_text(o->state, sizeof(o->state), st, 26);
	copy_text(o->message, sizeof(o->message), st, 27);
	o->rollout_id = sqlite3_column_int64(st, 28);
}

int atr_store_deployment_load(struct atr_store *s, int64_t id, struct atr_deployment_row *out)
{
	int rc = atr_store_row_by_id(atr_db_stmt(s->db, "SELECT " DEP_COLS " FROM deployments WHERE id = ?"), id,
				     fill_row, out);

	if (rc < 0)
		return rc;
	if (!out->command || !out->env || !out->resources || !out->labels || !out->traffic) {
		atr_deployment_row_release(out);
		return ATR_EDB;
	}
	return 0;
}

static void bind_id_or_null(sqlite3_stmt *st, int idx, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(st, idx, v);
	else
		sqlite3_bind_null(st, idx);
}

/* Binds the mutable columns and updated_at at ?1..?24 (the same order in INSERT and UPDATE). */
static int bind_mutable(sqlite3_stmt *st, const struct atr_deployment_row *r)
{
	int rc = 0;

	atr_db_bind_text(st, 1, r->follow_alias[0] ? r->follow_alias : NULL);
	bind_id_or_null(st, 2, r->version_id);
	bind_id_or_null(st, 3, r->version);
	bind_id_or_null(st, 4, r->previous_version_id);
	bind_id_or_null(st, 5, r->previous_version);
	sqlite3_bind_int(st, 6, r->replicas);
	if ((rc = atr_db_bind_json(st, 7, r->command)) < 0 || (rc = atr_db_bind_json(st, 8, r->env)) < 0 ||
	    (rc = atr_db_bind_json(st, 9, r->resources)) < 0 || (rc = atr_db_bind_json(st, 10, r->labels)) < 0)
		return rc;
	atr_db_bind_text(st, 11, r->health_path);
	atr_db_bind_text(st, 12, r->predict_path);
	sqlite3_bind_int64(st, 13, r->timeout_ms);
	sqlite3_bind_int64(st, 14, r->rollout_timeout_s);
	sqlite3_bind_double(st, 15, r->sample_rate);
	sqlite3_bind_int64(st, 16, r->capture_max_bytes);
	sqlite3_bind_int64(st, 17, r->capture_max_rows);
	sqlite3_bind_int64(st, 18, r->capture_max_age_s);
	sqlite3_bind_int64(st, 19, r->generation);
	if ((rc = atr_db_bind_json(st, 20, r->traffic)) < 0)
		return rc;
	atr_db_bind_text(st, 21, r->state);
	atr_db_bind_text(st, 22, r->message);
	bind_id_or_null(st, 23, r->rollout_id);
	sqlite3_bind_int64(st, 24, atr_now_ms());
	return 0;
}

int atr_store_deployment_insert(struct atr_store *s, struct atr_deployment_row *row)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"INSERT INTO deployments(follow_alias, version_id, version, previous_version_id, previous_version,"
		" replicas, command, env, resources, labels, health_path, predict_path, timeout_ms, rollout_timeout_s,"
		" sample_rate, capture_max_bytes, capture_max_rows, capture_max_age_s, generation, traffic, state,"
		" message, rollout_id, updated_at, project_id, name, model_id, created_by, created_at)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,"
		"?25,?26,?27,?28,?24)");
	int rc;

	if (!st)
		return ATR_EDB;
	if ((rc = bind_mutable(st, row)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 25, row->project_id);
	atr_db_bind_text(st, 26, row->name);
	sqlite3_bind_int64(st, 27, row->model_id);
	bind_id_or_null(st, 28, row->created_by);
	rc = atr_db_step_write(st);
	if (rc == 0) {
		row->id = atr_db_last_id(s->db);
		row->created_at = atr_now_ms();
	}
	return rc;
}

int atr_store_deployment_save(struct atr_store *s, const struct atr_deployment_row *row)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"UPDATE deployments SET follow_alias = ?1, version_id = ?2, version = ?3, previous_version_id = ?4,"
		" previous_version = ?5, replicas = ?6, command = ?7, env = ?8, resources = ?9, labels = ?10,"
		" health_path = ?11, predict_path = ?12, timeout_ms = ?13, rollout_timeout_s = ?14, sample_rate = ?15,"
		" capture_max_bytes = ?16, capture_max_rows = ?17, capture_max_age_s = ?18, generation = ?19,"
		" traffic = ?20, state = ?21, message = ?22, rollout_id = ?23, updated_at = ?24 WHERE id = ?25");
	int rc;

	if (!st)
		return ATR_EDB;
	if ((rc = bind_mutable(st, row)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 25, row->id);
	return atr_db_step_write(st);
}

/* One statement run with the deployment id bound at ?1. */
static int exec_for(struct atr_store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return atr_db_step_write(st);
}

int atr_store_deployment_delete(struct atr_store *s, int64_t id)
{
	static const char *const sqls[] = {
		"DELETE FROM deployment_predictions WHERE deployment_id = ?1",
		"DELETE FROM deployment_events WHERE deployment_id = ?1",
		"DELETE FROM deployment_rollouts WHERE deployment_id = ?1",
		"DELETE FROM deployment_replicas WHERE deployment_id = ?1",
		"DELETE FROM deployments WHERE id = ?1",
	};
	int rc = atr_db_begin(s->db);

	if (rc == 0) /* its invoke keys die with it */
		rc = atr_store_token_revoke_scope(s, "invoke", id);
	for (size_t i = 0; rc == 0 && i < sizeof(sqls) / sizeof(sqls[0]); i++)
		rc = exec_for(s, sqls[i], id);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	if (rc < 0) {
		atr_db_rollback(s->db);
		return rc;
	}
	return atr_db_commit(s->db);
}

int atr_store_deployment_ids(struct atr_store *s, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM deployments ORDER BY id");
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!st)
		return ATR_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			int64_t *p = realloc(*ids, ncap * sizeof(*p));
			if (!p) {
				atr_db_done(st);
				free(*ids);
				*ids = NULL;
				*n = 0;
				return ATR_ENOMEM;
			}
			*ids = p;
			cap = ncap;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	atr_db_done(st);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return ATR_EDB;
	}
	return 0;
}

int atr_store_deployment_list_ids(struct atr_store *s, const struct atr_deployment_filter *f, const struct atr_page *p,
				  json_t *arr, bool *more)
{
	/* Readable projects as in the jobs list (store/jobs.c): internal ones, or a member's. */
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT d.id FROM deployments d JOIN projects p ON p.id = d.project_id"
		       " WHERE (?1 = 0 OR d.project_id = ?1) AND (?2 IS NULL OR d.state = ?2)"
		       " AND (?3 = 0 OR p.visibility = 'internal' OR EXISTS (SELECT 1 FROM project_members m"
		       " WHERE m.project_id = p.id AND m.user_id = ?3)) AND d.id > ?4 ORDER BY d.id LIMIT ?5");
	int rc, n = 0;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, f->project_id);
	atr_db_bind_text(st, 2, f->state);
	sqlite3_bind_int64(st, 3, f->visible_to);
	sqlite3_bind_int64(st, 4, p->after_id);
	sqlite3_bind_int(st, 5, p->limit + 1);
	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == p->limit) {
			*more = true;
			break;
		}
		json_array_append_new(arr, json_integer(sqlite3_column_int64(st, 0)));
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* ---- rollouts ---- */

int atr_store_rollout_insert(struct atr_store *s, struct atr_rollout *ro)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO deployment_rollouts(deployment_id, kind, trigger, from_version_id, from_version,"
		       " to_version_id, to_version, generation, state, reason, actor, deadline_at, started_at)"
		       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, ro->deployment_id);
	atr_db_bind_text(st, 2, ro->kind);
	atr_db_bind_text(st, 3, ro->trigger);
	bind_id_or_null(st, 4, ro->from_version_id);
	bind_id_or_null(st, 5, ro->from_version);
	sqlite3_bind_int64(st, 6, ro->to_version_id);
	sqlite3_bind_int64(st, 7, ro->to_version);
	sqlite3_bind_int64(st, 8, ro->generation);
	atr_db_bind_text(st, 9, ro->state);
	atr_db_bind_text(st, 10, ro->reason);
	atr_db_bind_text(st, 11, ro->actor[0] ? ro->actor : NULL);
	sqlite3_bind_int64(st, 12, ro->deadline_at);
	sqlite3_bind_int64(st, 13, ro->started_at);
	rc = atr_db_step_write(st);
	if (rc == 0)
		ro->id = atr_db_last_id(s->db);
	return rc;
}

int atr_store_rollout_save(struct atr_store *s, const struct atr_rollout *ro)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE deployment_rollouts SET state = ?, reason = ?, ended_at = ?,"
					      " deadline_at = ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, ro->state);
	atr_db_bind_text(st, 2, ro->reason);
	bind_id_or_null(st, 3, ro->ended_at);
	sqlite3_bind_int64(st, 4, ro->deadline_at);
	sqlite3_bind_int64(st, 5, ro->id);
	return atr_db_step_write(st);
}

static void fill_rollout(sqlite3_stmt *st, void *o)
{
	struct atr_rollout *out = o;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->deployment_id = sqlite3_column_int64(st, 1);
	copy_text(out->kind, sizeof(out->kind), st, 2);
	copy_text(out->trigger, sizeof(out->trigger), st, 3);
	out->from_version_id = sqlite3_column_int64(st, 4);
	out->from_version = sqlite3_column_int64(st, 5);
	out->to_version_id = sqlite3_column_int64(st, 6);
	out->to_version = sqlite3_column_int64(st, 7);
	out->generation = sqlite3_column_int64(st, 8);
	copy_text(out->state, sizeof(out->state), st, 9);
	copy_text(out->reason, sizeof(out->reason), st, 10);
	copy_text(out->actor, sizeof(out->actor), st, 11);
	out->deadline_at = sqlite3_column_int64(st, 12);
	out->started_at = sqlite3_column_int64(st, 13);
	out->ended_at = sqlite3_column_int64(st, 14);
}

int atr_store_rollout_load(struct atr_store *s, int64_t id, struct atr_rollout *out)
{
	return atr_store_row_by_id(
		atr_db_stmt(s->db, "SELECT id, deployment_id, kind, trigger, coalesce(from_version_id, 0),"
				   " coalesce(from_version, 0), to_version_id, to_version, generation, state,"
				   " reason, coalesce(actor, ''), deadline_at, started_at, coalesce(ended_at, 0)"
				   " FROM deployment_rollouts WHERE id = ?"),
		id, fill_rollout, out);
}

json_t *atr_store_rollout_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT id, kind, trigger, state, from_version, to_version, reason, actor,"
				    " started_at, deadline_at, ended_at FROM deployment_rollouts WHERE id = ?",
				    id, err);
}

/* ---- history ---- */

int atr_store_deployment_event_add(struct atr_store *s, const struct atr_deployment_event *e)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO deployment_events(deployment_id, created_at, kind, rollout_id,"
				   " from_version, to_version, actor, message) VALUES (?,?,?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, e->deployment_id);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	atr_db_bind_text(st, 3, e->kind);
	bind_id_or_null(st, 4, e->rollout_id);
	bind_id_or_null(st, 5, e->from_version);
	bind_id_or_null(st, 6, e->to_version);
	atr_db_bind_text(st, 7, e->actor);
	atr_db_bind_text(st, 8, e->message ? e->message : "");
	return atr_db_step_write(st);
}

int atr_store_deployment_history(struct atr_store *s, int64_t deployment_id, const struct atr_page *p, json_t *arr,
				 bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT id, kind, rollout_id, from_version, to_version, actor, message, created_at"
				    " FROM deployment_events WHERE deployment_id = ?1 AND (?2 = 0 OR id < ?2)"
				    " ORDER BY id DESC LIMIT ?3",
				    deployment_id, p, arr, more);
}

/* ---- replicas ---- */

int atr_store_deployment_replica_add(struct atr_store *s, int64_t job_id, int64_t deployment_id, int64_t generation)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO deployment_replicas(job_id, deployment_id, generation)"
					      " VALUES (?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, deployment_id);
	sqlite3_bind_int64(st, 3, generation);
	return atr_db_step_write(st);
}

int atr_store_deployment_replicas_active(struct atr_store *s, int64_t deployment_id,
					 int (*fn)(const struct atr_replica_row *row, void *cls), void *cls)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT j.id, coalesce(j.model_version_id, 0), coalesce(v.version, 0), coalesce(r.generation, 0),"
		" coalesce(j.replica, 0), j.state FROM jobs j LEFT JOIN deployment_replicas r ON r.job_id = j.id"
		" LEFT JOIN model_versions v ON v.id = j.model_version_id"
		" WHERE j.deployment_id = ? AND j.kind = 'service'"
		" AND " ATR_JOBS_ACTIVE("j.state") " ORDER BY j.id");
	struct atr_replica_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	/* Collected first: fn may use the store. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct atr_replica_row *p = realloc(rows, ncap * sizeof(*p));
			if (!p) {
				rc = SQLITE_NOMEM;
				break;
			}
			rows = p;
			cap = ncap;
		}
		rows[n].job_id = sqlite3_column_int64(st, 0);
		rows[n].version_id = sqlite3_column_int64(st, 1);
		rows[n].version = sqlite3_column_int64(st, 2);
		rows[n].generation = sqlite3_column_int64(st, 3);
		rows[n].replica = sqlite3_column_int(st, 4);
		copy_text(rows[n].state, sizeof(rows[n].state), st, 5);
		n++;
	}
	atr_db_done(st);
	rc = rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? ATR_ENOMEM : ATR_EDB;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = fn(&rows[i], cls);
	free(rows);
	return rc;
}

static void fill_replica_job(sqlite3_stmt *st, void *o)
{
	struct atr_replica_job *out = o;

	memset(out, 0, sizeof(*out));
	copy_text(out->state, sizeof(out->state), st, 0);
	out->worker_id = sqlite3_column_int64(st, 1);
	copy_text(out->worker, sizeof(out->worker), st, 2);
	copy_text(out->pending_reason, sizeof(out->pending_reason), st, 3);
	copy_text(out->message, sizeof(out->message), st, 4);
	out->attempts = sqlite3_column_int(st, 5);
}

int atr_store_deployment_replica_job(struct atr_store *s, int64_t job_id, struct atr_replica_job *out)
{
	return atr_store_row_by_id(atr_db_stmt(s->db,
					       "SELECT j.state, coalesce(j.worker_id, 0), coalesce(w.name, ''),"
					       " coalesce(j.pending_reason, ''), j.message, j.attempts FROM jobs j"
					       " LEFT JOIN workers w ON w.id = j.worker_id WHERE j.id = ?"),
				   job_id, fill_replica_job, out);
}
