/* jobs.c: the jobs and job_events tables. */
#include "atrium/store_jobs.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

static int add_event(struct atr_store *s, int64_t id, const char *from, const char *to, int attempt, int64_t worker,
		     const char *message)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO job_events(job_id, created_at, from_state, to_state, attempt,"
				   " worker_id, message) VALUES (?,?,?,?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	atr_db_bind_text(st, 3, from);
	atr_db_bind_text(st, 4, to);
	sqlite3_bind_int(st, 5, attempt);
	if (worker > 0)
		sqlite3_bind_int64(st, 6, worker);
	atr_db_bind_text(st, 7, message ? message : "");
	return atr_db_step_write(st);
}

/* The INSERT of a new queued job (inside the caller's transaction). */
static int insert_job(struct atr_store *s, const struct atr_job_spec *j, int64_t now)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO jobs(project_id, team_id, name, kind, state, command, env, gpus, gpu_type,"
		       " cpus, memory_mb, labels, priority, max_attempts, timeout_s, inputs, outputs, run_id,"
		       " model_version_id, deployment_id, replica, created_by, created_at, queued_at, updated_at)"
		       " VALUES (?,?,?,?,'queued',?,coalesce(?,'{}'),?,?,?,?,coalesce(?,'{}'),?,?,?,coalesce(?,'[]'),"
		       "coalesce(?,'{}'),?,?,?,?,?,?,?,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, j->project_id);
	if (j->team_id > 0)
		sqlite3_bind_int64(st, 2, j->team_id);
	atr_db_bind_text(st, 3, j->name ? j->name : "");
	atr_db_bind_text(st, 4, j->kind);
	if ((rc = atr_db_bind_json(st, 5, j->command)) < 0 || (rc = atr_db_bind_json(st, 6, j->env)) < 0)
		goto fail;
	sqlite3_bind_int(st, 7, j->gpus);
	atr_db_bind_text(st, 8, j->gpu_type && *j->gpu_type ? j->gpu_type : NULL);
	sqlite3_bind_int(st, 9, j->cpus);
	sqlite3_bind_int64(st, 10, j->memory_mb);
	if ((rc = atr_db_bind_json(st, 11, j->labels)) < 0)
		goto fail;
	sqlite3_bind_int(st, 12, j->priority);
	sqlite3_bind_int(st, 13, j->max_attempts);
	sqlite3_bind_int64(st, 14, j->timeout_s);
	if ((rc = atr_db_bind_json(st, 15, j->inputs)) < 0 || (rc = atr_db_bind_json(st, 16, j->outputs)) < 0)
		goto fail;
	if (j->run_id > 0)
		sqlite3_bind_int64(st, 17, j->run_id);
	if (j->model_version_id > 0)
		sqlite3_bind_int64(st, 18, j->model_version_id);
	if (j->deployment_id > 0) {
		sqlite3_bind_int64(st, 19, j->deployment_id);
		sqlite3_bind_int(st, 20, j->replica);
	}
	if (j->created_by > 0)
		sqlite3_bind_int64(st, 21, j->created_by);
	sqlite3_bind_int64(st, 22, now);
	sqlite3_bind_int64(st, 23, now);
	sqlite3_bind_int64(st, 24, now);
	return atr_db_step_write(st);
fail:
	atr_db_done(st);
	return rc;
}

int atr_store_job_create(struct atr_store *s, const struct atr_job_spec *j, int64_t *id_out)
{
	int64_t id;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = insert_job(s, j, atr_now_ms())) < 0)
		goto fail;
	id = atr_db_last_id(s->db);
	if ((rc = add_event(s, id, NULL, "queued", 0, 0, "submitted")) < 0)
		goto fail;
	if ((rc = atr_db_commit(s->db)) < 0)
		return rc;
	*id_out = id;
	return 0;
fail:
	atr_db_rollback(s->db);
	return rc;
}

#define ROW_COLS                                                                                                    \
	"id, project_id, team_id, run_id, worker_id, created_by, deployment_id, state, kind, gpu_type, gpus, cpus," \
	" priority, max_attempts, attempts, timeout_s, memory_mb, queued_at, dispatched_at, cancel_requested,"      \
	" assigned_gpus, labels, not_before"

static void fill_row(sqlite3_stmt *st, void *out)
{
	struct atr_job_row *o = out;
	json_t *a;
	size_t i;
	json_t *v;
	const char *gt = (const char *)sqlite3_column_text(st, 9);

	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	o->project_id = sqlite3_column_int64(st, 1);
	o->team_id = sqlite3_column_int64(st, 2);
	o->run_id = sqlite3_column_int64(st, 3);
	o->worker_id = sqlite3_column_int64(st, 4);
	o->created_by = sqlite3_column_int64(st, 5);
	o->deployment_id = sqlite3_column_int64(st, 6);
	o->state = (enum atr_job_state)atr_job_state_parse((const char *)sqlite3_column_text(st, 7));
	atr_copy(o->kind, sizeof(o->kind), (const char *)sqlite3_column_text(st, 8));
	atr_copy(o->gpu_type, sizeof(o->gpu_type), gt ? gt : "");
	o->gpus = sqlite3_column_int(st, 10);
	o->cpus = sqlite3_column_int(st, 11);
	o->priority = sqlite3_column_int(st, 12);
	o->max_attempts = sqlite3_column_int(st, 13);
	o->attempts = sqlite3_column_int(st, 14);
	o->timeout_s = sqlite3_column_int(st, 15);
	o->memory_mb = sqlite3_column_int64(st, 16);
	o->queued_at = sqlite3_column_int64(st, 17);
	o->dispatched_at = sqlite3_column_int64(st, 18);
	o->cancel_requested = sqlite3_column_int(st, 19) != 0;
	a = json_loads((const char *)sqlite3_column_text(st, 20), 0, NULL);
	json_array_foreach(a, i, v)
	{
		if (o->nassigned < ATR_JOB_MAX_GPUS)
			o->assigned[o->nassigned++] = (int)json_integer_value(v);
	}
	json_decref(a);
	o->labels = json_loads((const char *)sqlite3_column_text(st, 21), 0, NULL);
	o->not_before = sqlite3_column_int64(st, 22);
}

int atr_store_job_row(struct atr_store *s, int64_t id, struct atr_job_row *out)
{
	return atr_store_row_by_id(atr_db_stmt(s->db, "SELECT " ROW_COLS " FROM jobs WHERE id = ?"), id, fill_row, out);
}

int atr_store_jobs_active(struct atr_store *s, int (*fn)(const struct atr_job_row *row, void *cls), void *cls)
{
	sqlite3_stmt *st;
	int64_t after = 0;
	int rc = 0;

	/* In pages, so the callback may use the store (its statements are cached and reused). */
	for (;;) {
		struct atr_job_row rows[64];
		int n = 0;
		st = atr_db_stmt(s->db, "SELECT " ROW_COLS " FROM jobs WHERE " ATR_JOBS_ACTIVE(
						"state") " AND id > ? ORDER BY id LIMIT 64");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, after);
		while (n < 64 && (rc = sqlite3_step(st)) == SQLITE_ROW)
			fill_row(st, &rows[n++]);
		atr_db_done(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			rc = ATR_EDB;
		else
			rc = 0;
		for (int i = 0; i < n; i++) {
			if (rc == 0)
				rc = fn(&rows[i], cls);
			json_decref(rows[i].labels);
		}
		if (rc < 0 || n < 64)
			return rc;
		after = rows[n - 1].id;
	}
}

int atr_store_job_hold(struct atr_store *s, int64_t id, int64_t until_ms)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE jobs SET not_before = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	if (until_ms > 0)
		sqlite3_bind_int64(st, 1, until_ms);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, id);
	return atr_db_step_write(st);
}

/* GPU indices as a JSON array ("[0,3]"), as assigned_gpus keeps them. */
static void gpus_text(const struct atr_job_change *c, char *gpus, size_t cap)
{
	size_t n = 0;

	gpus[n++] = '[';
	for (int i = 0; i < c->ngpus && n + 8 < cap; i++)
		n += (size_t)snprintf(gpus + n, cap - n, "%s%d", i ? "," : "", c->gpus[i]);
	gpus[n++] = ']';
	gpus[n] = 0;
}

/* The row's move from -> to with what changes with it; ATR_ECONFLICT when the job is no longer
 * in state from. Inside the caller's transaction. */
static int update_state(struct atr_store *s, int64_t id, const struct atr_job_change *c, const char *from,
			const char *to)
{
	sqlite3_stmt *st;
	char gpus[512];
	int rc;

	gpus_text(c, gpus, sizeof(gpus));
	st = atr_db_stmt(
		s->db,
		"UPDATE jobs SET state = ?2, updated_at = ?3,"
		" worker_id = CASE WHEN ?2 = 'dispatched' THEN ?4 WHEN ?2 = 'queued' THEN NULL ELSE worker_id END,"
		" assigned_gpus = CASE WHEN ?2 = 'dispatched' THEN ?5 WHEN ?2 = 'queued' THEN '[]' ELSE assigned_gpus "
		"END,"
		" dispatched_at = CASE WHEN ?2 = 'dispatched' THEN ?3 ELSE dispatched_at END,"
		" started_at = CASE WHEN ?2 = 'running' THEN ?3 ELSE started_at END,"
		" queued_at = CASE WHEN ?2 = 'queued' THEN ?3 ELSE queued_at END,"
		" ended_at = CASE WHEN ?2 = 'succeeded' OR ?2 = 'failed' OR ?2 = 'cancelled' THEN ?3 ELSE ended_at END,"
		" attempts = CASE WHEN ?6 >= 0 THEN ?6 ELSE attempts END,"
		" exit_code = CASE WHEN ?7 THEN ?8 ELSE exit_code END,"
		" message = CASE WHEN ?2 = 'succeeded' OR ?2 = 'failed' OR ?2 = 'cancelled' OR ?2 = 'lost'"
		" THEN coalesce(?9, message)"
		" ELSE message END,"
		" pending_reason = CASE WHEN ?2 = 'queued' THEN pending_reason ELSE NULL END"
		" WHERE id = ?1 AND state = ?10");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, to);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	if (c->worker_id > 0)
		sqlite3_bind_int64(st, 4, c->worker_id);
	atr_db_bind_text(st, 5, gpus);
	sqlite3_bind_int(st, 6, c->attempts);
	sqlite3_bind_int(st, 7, c->set_exit);
	sqlite3_bind_int64(st, 8, c->exit_code);
	atr_db_bind_text(st, 9, c->message);
	atr_db_bind_text(st, 10, from);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	return atr_db_changes(s->db) == 0 ? ATR_ECONFLICT : 0;
}

/* The move's event, with the attempt and the worker the row has now (the change's worker first). */
static int add_transition_event(struct atr_store *s, int64_t id, const struct atr_job_change *c, const char *from,
				const char *to)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT attempts, worker_id FROM jobs WHERE id = ?");
	int attempt = 0;
	int64_t worker = c->worker_id;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		attempt = sqlite3_column_int(st, 0);
		if (!worker)
			worker = sqlite3_column_int64(st, 1);
	}
	atr_db_done(st);
	return add_event(s, id, from, to, attempt, worker, c->message);
}

int atr_store_job_transition(struct atr_store *s, int64_t id, const struct atr_job_change *c)
{
	const char *from = atr_job_state_name(c->from), *to = atr_job_state_name(c->to);
	int rc;

	if (!atr_job_transition_ok(c->from, c->to)) {
		atr_error("job %lld: refused illegal transition %s -> %s", (long long)id, from, to);
		return ATR_EINVAL;
	}
	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = update_state(s, id, c, from, to)) < 0 || (rc = add_transition_event(s, id, c, from, to)) < 0) {
		atr_db_rollback(s->db);
		return rc;
	}
	return atr_db_commit(s->db);
}

/* UPDATE jobs SET <col> = ?1, updated_at = ?2 WHERE id = ?3, for a text or an integer value. */
static int set_column(struct atr_store *s, const char *sql, int64_t id, const char *text, int64_t v, bool is_text)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	if (!st)
		return ATR_EDB;
	if (is_text)
		atr_db_bind_text(st, 1, text);
	else
		sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, id);
	return atr_db_step_write(st);
}

int atr_store_job_set_pending(struct atr_store *s, int64_t id, const char *reason)
{
	return set_column(s, "UPDATE jobs SET pending_reason = ?1, updated_at = ?2 WHERE id = ?3", id, reason, 0, true);
}

int atr_store_job_request_cancel(struct atr_store *s, int64_t id)
{
	return set_column(s, "UPDATE jobs SET cancel_requested = ?1, updated_at = ?2 WHERE id = ?3", id, NULL, 1,
			  false);
}

int atr_store_job_set_port(struct atr_store *s, int64_t id, int port)
{
	return set_column(s, "UPDATE jobs SET port = ?1, updated_at = ?2 WHERE id = ?3", id, NULL, port, false);
}

int atr_store_job_set_run(struct atr_store *s, int64_t id, int64_t run_id)
{
	int rc = set_column(s, "UPDATE jobs SET run_id = ?1, updated_at = ?2 WHERE id = ?3", id, NULL, run_id, false);
	sqlite3_stmt *st;
	if (rc < 0)
		return rc;
	st = atr_db_stmt(s->db, "UPDATE runs SET job_id = ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, run_id);
	return atr_db_step_write(st);
}

int atr_store_job_set_outputs(struct atr_store *s, int64_t id, int64_t model_version_id, int64_t dataset_version_id)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "UPDATE jobs SET output_model_version_id = coalesce(?2, output_model_version_id),"
				   " output_dataset_version_id = coalesce(?3, output_dataset_version_id)"
				   " WHERE id = ?1");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if (model_version_id > 0)
		sqlite3_bind_int64(st, 2, model_version_id);
	if (dataset_version_id > 0)
		sqlite3_bind_int64(st, 3, dataset_version_id);
	return atr_db_step_write(st);
}

static const struct {
	const char *kind, *sql;
} reach_sql[] = {
	{ "run", "SELECT CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ?2 AND job_id = ?1)"
		 " OR EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND run_id = ?2) THEN 2 ELSE 0 END" },
	{ "dataset_version",
	  "SELECT CASE WHEN EXISTS (SELECT 1 FROM dataset_versions WHERE id = ?2 AND source_job_id = ?1)"
	  " OR EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND output_dataset_version_id = ?2) THEN 2"
	  " WHEN EXISTS (SELECT 1 FROM jobs j, json_each(j.inputs) i WHERE j.id = ?1"
	  "  AND json_extract(i.value, '$.dataset_version_id') = ?2) THEN 1 ELSE 0 END" },
	{ "model_version", "SELECT CASE WHEN EXISTS (SELECT 1 FROM model_versions WHERE id = ?2 AND source_job_id = ?1)"
			   " OR EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND output_model_version_id = ?2) THEN 2"
			   " WHEN EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND model_version_id = ?2) THEN 1"
			   " ELSE 0 END" },
	{ "dataset", "SELECT CASE WHEN EXISTS (SELECT 1 FROM jobs j JOIN datasets d ON d.project_id = j.project_id"
		     " AND d.name = json_extract(j.outputs, '$.dataset') WHERE j.id = ?1 AND d.id = ?2) THEN 2"
		     " ELSE 0 END" },
	{ "model", "SELECT CASE WHEN EXISTS (SELECT 1 FROM jobs j JOIN models m ON m.project_id = j.project_id"
		   " AND m.name = json_extract(j.outputs, '$.model') WHERE j.id = ?1 AND m.id = ?2) THEN 2"
		   " ELSE 0 END" },
};

int atr_store_job_reach(struct atr_store *s, int64_t job_id, const char *kind, int64_t id, enum atr_job_reach *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = ATR_REACH_NONE;
	for (size_t i = 0; i < sizeof(reach_sql) / sizeof(reach_sql[0]) && !st; i++)
		if (strcmp(reach_sql[i].kind, kind) == 0 && !(st = atr_db_stmt(s->db, reach_sql[i].sql)))
			return ATR_EDB;
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (enum atr_job_reach)sqlite3_column_int(st, 0);
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

json_t *atr_store_job_dispatch_json(struct atr_store *s, int64_t id, int *err)
{
	/* What the worker fetches before starting: the input dataset versions, each under
	 * input/<as>, and the model version (batch inference, serving) under model/. */
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT j.id, j.kind, j.command AS command__json, j.env AS env__json, j.timeout_s, j.run_id,"
		" j.attempts AS attempt, j.port,"
		" (json_extract(j.outputs, '$.model') IS NOT NULL OR json_extract(j.outputs, '$.dataset') IS NOT NULL"
		"  OR json_extract(j.outputs, '$.evaluation') IS NOT NULL)"
		" AS upload_outputs__bool,"
		" (SELECT json_group_array(json_object('dir', 'input/' || json_extract(i.value, '$.as'),"
		"   'base', '/api/v1/projects/' || dp.name || '/datasets/' || d.name || '/versions/' || v.version || "
		"'/files/',"
		"   'files', (SELECT json_group_array(json_object('path', f.path, 'sha256', f.sha256, 'size', f.size))"
		"    FROM files f WHERE f.owner_kind = 'dataset_version' AND f.owner_id = v.id)))"
		"  FROM json_each(j.inputs) i JOIN dataset_versions v ON v.id = json_extract(i.value, "
		"'$.dataset_version_id')"
		"  JOIN datasets d ON d.id = v.dataset_id JOIN projects dp ON dp.id = d.project_id) AS inputs__json,"
		" (SELECT json_object('dir', 'model', 'base', '/api/v1/projects/' || mp.name || '/models/' || m.name"
		"   || '/versions/' || mv.version || '/files/', 'files', (SELECT json_group_array(json_object('path', "
		"f.path,"
		"   'sha256', f.sha256, 'size', f.size)) FROM files f WHERE f.owner_kind = 'model_version' AND "
		"f.owner_id = mv.id))"
		"  FROM model_versions mv JOIN models m ON m.id = mv.model_id JOIN projects mp ON mp.id = m.project_id"
		"  WHERE mv.id = j.model_version_id) AS model__json,"
		/* a deployment's replica: how the worker checks it is ready */
		" (SELECT json_object('health_path', dep.health_path) FROM deployments dep"
		"  WHERE dep.id = j.deployment_id AND j.kind = 'service') AS service__json"
		" FROM jobs j JOIN projects p ON p.id = j.project_id WHERE j.id = ?");
	json_t *o, *downloads, *model;

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	o = atr_store_one(st, err);
	if (!o)
		return NULL;
	downloads = json_incref(json_object_get(o, "inputs"));
	if (!json_is_array(downloads)) {
		json_decref(downloads);
		downloads = json_array();
	}
	model = json_object_get(o, "model");
	if (json_is_object(model))
		json_array_append(downloads, model);
	json_object_del(o, "inputs");
	json_object_del(o, "model");
	/* Only what the job needs: a worker refuses fields it does not know. */
	if (json_array_size(downloads))
		json_object_set_new(o, "downloads", downloads);
	else
		json_decref(downloads);
	if (!json_is_true(json_object_get(o, "upload_outputs")))
		json_object_del(o, "upload_outputs");
	if (json_is_null(json_object_get(o, "port")))
		json_object_del(o, "port");
	if (json_is_null(json_object_get(o, "service")))
		json_object_del(o, "service");
	return o;
}

#define JOB_COLS                                                                                                       \
	"j.id, p.name AS project, t.name AS team, j.name, j.kind, j.state, j.pending_reason,"                          \
	" j.command AS command__json, j.env AS env__json,"                                                             \
	" json_object('gpus', j.gpus, 'gpu_type', j.gpu_type, 'cpus', j.cpus, 'memory_mb', j.memory_mb)"               \
	" AS resources__json, j.labels AS labels__json, j.priority, j.attempts, j.max_attempts, j.timeout_s,"          \
	" j.inputs AS inputs__json, j.outputs AS outputs__json, j.run_id, j.worker_id, w.name AS worker,"              \
	" j.assigned_gpus AS gpus__json, j.exit_code, j.message, j.cancel_requested AS cancel_requested__bool,"        \
	" j.output_model_version_id, j.output_dataset_version_id, j.model_version_id, j.deployment_id, j.replica,"     \
	" j.port, u.username AS created_by, j.created_at, j.queued_at, j.dispatched_at, j.started_at, j.ended_at,"     \
	" j.logs_pruned_at, CASE WHEN j.state = 'queued' AND j.not_before > unixepoch() * 1000 THEN j.not_before END " \
	"AS hold_ends_at"
#define JOB_FROM                                                                                    \
	" FROM jobs j JOIN projects p ON p.id = j.project_id LEFT JOIN teams t ON t.id = j.team_id" \
	" LEFT JOIN workers w ON w.id = j.worker_id LEFT JOIN users u ON u.id = j.created_by"

json_t *atr_store_job_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " JOB_COLS JOB_FROM " WHERE j.id = ?", id, err);
}

int atr_store_job_list(struct atr_store *s, const struct atr_job_filter *f, const struct atr_page *p, json_t *arr,
		       bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT " JOB_COLS JOB_FROM " WHERE (?1 = 0 OR j.project_id = ?1) AND (?2 = 0 OR j.team_id = ?2)"
		       " AND (?3 = 0 OR j.created_by = ?3) AND (?4 IS NULL OR instr(',' || ?4 || ',', ',' || j.state "
		       "|| ',') > 0)"
		       " AND (?5 IS NULL OR j.kind = ?5) AND (?9 = 0 OR j.worker_id = ?9)"
		       " AND (?6 = 0 OR p.visibility = 'internal' OR EXISTS (SELECT 1 FROM project_members m"
		       " WHERE m.project_id = p.id AND m.user_id = ?6)) AND (?7 = 0 OR j.id < ?7)"
		       " AND (?10 = 0 OR (NOT EXISTS (SELECT 1 FROM competition_submissions x WHERE x.job_id = j.id)"
		       " AND NOT EXISTS (SELECT 1 FROM competition_scorer_runs y WHERE y.job_id = j.id))"
		       " OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?10"
		       " AND m.role = 'owner'))"
		       " AND (?11 = 0 OR NOT EXISTS (SELECT 1 FROM evaluations ev WHERE ev.scorer_job_id = j.id)"
		       " OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?11"
		       " AND m.role IN ('editor', 'owner'))) ORDER BY j.id DESC LIMIT ?8");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, f->project_id);
	sqlite3_bind_int64(st, 2, f->team_id);
	sqlite3_bind_int64(st, 3, f->user_id);
	atr_db_bind_text(st, 4, f->state);
	atr_db_bind_text(st, 5, f->kind);
	sqlite3_bind_int64(st, 6, f->visible_to);
	sqlite3_bind_int64(st, 7, p->after_id);
	sqlite3_bind_int(st, 8, p->limit + 1);
	sqlite3_bind_int64(st, 9, f->worker_id);
	sqlite3_bind_int64(st, 10, f->comp_jobs_for);
	sqlite3_bind_int64(st, 11, f->scorers_to);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_job_events(struct atr_store *s, int64_t id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT e.id, e.created_at, e.from_state, e.to_state, e.attempt, e.worker_id,"
				    " w.name AS worker, e.message FROM job_events e LEFT JOIN workers w"
				    " ON w.id = e.worker_id WHERE e.job_id = ? AND e.id > ? ORDER BY e.id LIMIT ?",
				    id, p, arr, more);
}

int atr_store_team_gpu_hours(struct atr_store *s, int64_t since_ms, int64_t team_id, double *hours)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT coalesce(sum(gpus * (coalesce(ended_at, ?2) - max(started_at, ?1))), 0) / 3600000.0"
		       " FROM jobs WHERE team_id = ?3 AND gpus > 0 AND started_at IS NOT NULL"
		       " AND coalesce(ended_at, ?2) > ?1");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, team_id);
	rc = sqlite3_step(st);
	*hours = rc == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0;
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

/* Runs belong to src/store/runs.c; these are the writes the job engine makes to them. */
int atr_store_job_run_started(struct atr_store *s, int64_t run_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE runs SET status = 'running', started_at = ?, updated_at = ? "
					      "WHERE id = ? AND status = 'queued'");
	int64_t now = atr_now_ms();
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, run_id);
	return atr_db_step_write(st);
}

int atr_store_job_run_finish(struct atr_store *s, int64_t run_id, const char *status)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE runs SET status = ?, ended_at = ?, updated_at = ? WHERE id = ?"
					      " AND status = 'running'");
	int64_t now = atr_now_ms();
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, run_id);
	return atr_db_step_write(st);
}
