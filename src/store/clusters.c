/*
 * clusters.c: Slurm clusters and the Slurm job of each attempt sent there (store_clusters.h).
 * A cluster is created together with its worker row (atr_store_worker_register without a join
 * token), whose inventory is virtual: the cluster's own scheduler decides what fits.
 */
#include "atrium/store_clusters.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"

#include <string.h>

#define CLUSTER_COLS                                                                                                   \
	"id, worker_id, max_jobs, name, url, auth, secret_path, user_name, coalesce(json_extract(partitions, '$[0]')," \
	" ''), account, qos, gres_name, shared_dir, staging_keep_s"
#define VIRTUAL_GPUS 64 /* ATR_SCHED_MAX_GPUS: a job may ask for up to that many */

static void fill(sqlite3_stmt *st, void *out)
{
	struct atr_cluster *c = out;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->worker_id = sqlite3_column_int64(st, 1);
	c->max_jobs = sqlite3_column_int64(st, 2);
	atr_db_col_copy(st, 3, c->name, sizeof(c->name));
	atr_db_col_copy(st, 4, c->url, sizeof(c->url));
	atr_db_col_copy(st, 5, c->auth, sizeof(c->auth));
	atr_db_col_copy(st, 6, c->secret_path, sizeof(c->secret_path));
	atr_db_col_copy(st, 7, c->user, sizeof(c->user));
	atr_db_col_copy(st, 8, c->partition, sizeof(c->partition));
	atr_db_col_copy(st, 9, c->account, sizeof(c->account));
	atr_db_col_copy(st, 10, c->qos, sizeof(c->qos));
	atr_db_col_copy(st, 11, c->gres, sizeof(c->gres));
	atr_db_col_copy(st, 12, c->shared_dir, sizeof(c->shared_dir));
	c->staging_keep_s = sqlite3_column_int64(st, 13);
}

/* The worker row of a cluster: its label selects it, its inventory is virtual. */
static int register_worker(struct atr_store *s, const struct atr_cluster *c, int64_t *worker_id)
{
	json_t *labels = json_pack("{s:s}", ATR_CLUSTER_LABEL, c->name), *gpus = json_array();
	char name[96], url[96];
	struct atr_worker_reg reg = {
		.name = name, .url = url, .version = "slurm", .cpus = 1000000, .memory_mb = INT64_C(1) << 40
	};
	int64_t nonce;
	bool existed;
	int rc = ATR_ENOMEM;

	snprintf(name, sizeof(name), "cluster:%s", c->name);
	snprintf(url, sizeof(url), "slurm:%s", c->name);
	for (int i = 0; gpus && i < VIRTUAL_GPUS; i++)
		json_array_append_new(gpus, json_pack("{s:i, s:s}", "index", i, "name", c->gres));
	reg.labels = labels;
	reg.gpus = gpus;
	if (labels && gpus)
		rc = atr_store_worker_register(s, &reg, worker_id, &nonce, &existed);
	json_decref(labels);
	json_decref(gpus);
	return rc;
}

static int bind_settings(sqlite3_stmt *st, const struct atr_cluster *c, const json_t *partitions)
{
	atr_db_bind_text(st, 1, c->url);
	atr_db_bind_text(st, 2, c->auth);
	atr_db_bind_text(st, 3, c->secret_path);
	atr_db_bind_text(st, 4, c->user);
	if (partitions && atr_db_bind_json(st, 5, partitions) < 0)
		return ATR_ENOMEM;
	atr_db_bind_text(st, 6, c->account);
	atr_db_bind_text(st, 7, c->qos);
	atr_db_bind_text(st, 8, c->gres[0] ? c->gres : "gpu");
	atr_db_bind_text(st, 9, c->shared_dir);
	sqlite3_bind_int64(st, 10, c->max_jobs);
	sqlite3_bind_int64(st, 11, atr_now_ms());
	sqlite3_bind_int64(st, 14, c->staging_keep_s);
	return 0;
}

int atr_store_cluster_create(struct atr_store *s, const struct atr_cluster *c, const json_t *partitions,
			     int64_t *id_out)
{
	struct atr_cluster probe;
	sqlite3_stmt *st;
	int64_t wid;
	int rc = atr_store_cluster_get(s, c->name, &probe);

	if (rc == 0)
		return ATR_ECONFLICT;
	if (rc != ATR_ENOTFOUND)
		return rc;
	if ((rc = atr_store_begin(s)) < 0)
		return rc;
	rc = register_worker(s, c, &wid);
	st = rc == 0 ? atr_db_stmt(s->db,
				   "INSERT INTO clusters(url, auth, secret_path, user_name, partitions, account,"
				   " qos, gres_name, shared_dir, max_jobs, updated_at, created_at, name,"
				   " worker_id, staging_keep_s) VALUES (?,?,?,?,coalesce(?5,'[]'),?,?,?,?,?,?11,?11,"
				   "?12,?13,?14)")
		     : NULL;
	if (rc == 0 && !st)
		rc = ATR_EDB;
	if (rc == 0 && (rc = bind_settings(st, c, partitions)) < 0)
		atr_db_done(st);
	if (rc == 0) {
		atr_db_bind_text(st, 12, c->name);
		sqlite3_bind_int64(st, 13, wid);
		rc = atr_db_step_write(st);
	}
	if (rc == 0)
		*id_out = atr_db_last_id(s->db);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_cluster_update(struct atr_store *s, const struct atr_cluster *c, const json_t *partitions)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "UPDATE clusters SET url = ?, auth = ?, secret_path = ?, user_name = ?,"
		       " partitions = coalesce(?, partitions), account = ?, qos = ?, gres_name = ?,"
		       " shared_dir = ?, max_jobs = ?, updated_at = ?, staging_keep_s = ?14 WHERE id = ?12");
	int rc;

	if (!st)
		return ATR_EDB;
	if ((rc = bind_settings(st, c, partitions)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 12, c->id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_cluster_get_id(struct atr_store *s, int64_t id, struct atr_cluster *out)
{
	return atr_store_row_by_id(atr_db_stmt(s->db, "SELECT " CLUSTER_COLS " FROM clusters WHERE id = ?"), id, fill,
				   out);
}

int atr_store_cluster_by_worker(struct atr_store *s, int64_t worker_id, struct atr_cluster *out)
{
	return atr_store_row_by_id(atr_db_stmt(s->db, "SELECT " CLUSTER_COLS " FROM clusters WHERE worker_id = ?"),
				   worker_id, fill, out);
}

int atr_store_cluster_get(struct atr_store *s, const char *ref, struct atr_cluster *out)
{
	int64_t id;
	sqlite3_stmt *st;
	int rc;

	if (atr_parse_i64(ref, 1, INT64_MAX, &id) == 0)
		return atr_store_cluster_get_id(s, id, out);
	if (!(st = atr_db_stmt(s->db, "SELECT " CLUSTER_COLS " FROM clusters WHERE name = ?")))
		return ATR_EDB;
	atr_db_bind_text(st, 1, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill(st, out);
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
}

#define CLUSTER_JSON                                                                                      \
	"SELECT c.id, c.name, c.kind, c.url, c.auth, c.user_name AS user,"                                \
	" c.partitions AS partitions__json, c.account, c.qos, c.gres_name, c.shared_dir, c.max_jobs,"     \
	" c.worker_id, w.state AS link, (SELECT count(*) FROM jobs j WHERE j.worker_id = c.worker_id AND" \
	" j.state IN ('dispatched', 'running')) AS jobs_in_flight, c.created_at, c.updated_at"            \
	" FROM clusters c JOIN workers w ON w.id = c.worker_id"

json_t *atr_store_cluster_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, CLUSTER_JSON " WHERE c.id = ?", id, err);
}

int atr_store_cluster_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s, CLUSTER_JSON " WHERE ?1 = ?1 AND (?2 = 0 OR c.id > ?2) ORDER BY c.id LIMIT ?3",
				    0, p, arr, more);
}

int atr_store_cluster_delete(struct atr_store *s, int64_t id)
{
	struct atr_cluster c;
	sqlite3_stmt *st;
	int rc = atr_store_cluster_get_id(s, id, &c), busy = 0;

	if (rc < 0)
		return rc;
	if (!(st = atr_db_stmt(s->db, "SELECT count(*) FROM jobs WHERE worker_id = ? AND state IN"
				      " ('dispatched', 'running')")))
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, c.worker_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	atr_db_done(st);
	if (busy)
		return ATR_ECONFLICT;
	if ((rc = atr_store_begin(s)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "DELETE FROM clusters WHERE id = ?");
	rc = st ? 0 : ATR_EDB;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		rc = atr_db_step_write(st);
	}
	if (rc == 0)
		rc = atr_store_worker_deregister(s, c.worker_id);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_cluster_ids(struct atr_store *s, int64_t *ids, int max)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM clusters ORDER BY id");
	int n = 0, rc;

	if (!st)
		return ATR_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		ids[n++] = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : ATR_EDB;
}

/* ---- default clusters ---- */

int atr_store_cluster_set_default(struct atr_store *s, enum atr_cluster_scope scope, int64_t id, int64_t cluster_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, scope == ATR_CLUSTER_PROJECT
						      ? "UPDATE projects SET default_cluster_id = ? WHERE id = ?"
						      : "UPDATE teams SET default_cluster_id = ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	if (cluster_id > 0)
		sqlite3_bind_int64(st, 1, cluster_id);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, id);
	return atr_db_step_write(st);
}

static int default_name(sqlite3_stmt *st, char *name, size_t len)
{
	int rc = sqlite3_step(st);

	name[0] = 0;
	if (rc == SQLITE_ROW)
		atr_db_col_copy(st, 0, name, len);
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_cluster_default_of(struct atr_store *s, enum atr_cluster_scope scope, int64_t id, char *name, size_t len)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		scope == ATR_CLUSTER_PROJECT
			? "SELECT c.name FROM projects p JOIN clusters c ON c.id = p.default_cluster_id WHERE p.id = ?"
			: "SELECT c.name FROM teams t JOIN clusters c ON c.id = t.default_cluster_id WHERE t.id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return default_name(st, name, len);
}

int atr_store_cluster_default_for(struct atr_store *s, int64_t project_id, int64_t team_id, char *name, size_t len)
{
	int rc = atr_store_cluster_default_of(s, ATR_CLUSTER_PROJECT, project_id, name, len);

	if (rc == 0 && !name[0] && team_id > 0)
		rc = atr_store_cluster_default_of(s, ATR_CLUSTER_TEAM, team_id, name, len);
	return rc;
}

/* ---- the Slurm job of each attempt ---- */

int atr_store_cluster_job_put(struct atr_store *s, const struct atr_cluster_job *cj)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT OR REPLACE INTO cluster_jobs(job_id, attempt, cluster_id,"
					      " slurm_name) VALUES (?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cj->job_id);
	sqlite3_bind_int64(st, 2, cj->attempt);
	sqlite3_bind_int64(st, 3, cj->cluster_id);
	atr_db_bind_text(st, 4, cj->slurm_name);
	return atr_db_step_write(st);
}

static int set_col(struct atr_store *s, const char *sql, int64_t job_id, int64_t attempt, int64_t v)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_int64(st, 2, job_id);
	sqlite3_bind_int64(st, 3, attempt);
	return atr_db_step_write(st);
}

int atr_store_cluster_job_set_slurm_id(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t slurm_id)
{
	return set_col(s, "UPDATE cluster_jobs SET slurm_job_id = ? WHERE job_id = ? AND attempt = ?", job_id, attempt,
		       slurm_id);
}

int atr_store_cluster_job_set_log_offset(struct atr_store *s, int64_t job_id, int64_t attempt, int64_t off)
{
	return set_col(s, "UPDATE cluster_jobs SET log_offset = ? WHERE job_id = ? AND attempt = ?", job_id, attempt,
		       off);
}

int atr_store_cluster_job_done(struct atr_store *s, int64_t job_id, int64_t attempt)
{
	return set_col(s, "UPDATE cluster_jobs SET done = ? WHERE job_id = ? AND attempt = ?", job_id, attempt, 1);
}

int atr_store_cluster_jobs_active(struct atr_store *s, int64_t cluster_id,
				  int (*fn)(const struct atr_cluster_job *cj, void *cls), void *cls)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT job_id, attempt, cluster_id, coalesce(slurm_job_id, 0),"
					      " log_offset, slurm_name FROM cluster_jobs WHERE cluster_id = ? AND"
					      " done = 0 ORDER BY job_id");
	struct atr_cluster_job cj;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cluster_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cj.job_id = sqlite3_column_int64(st, 0);
		cj.attempt = sqlite3_column_int64(st, 1);
		cj.cluster_id = sqlite3_column_int64(st, 2);
		cj.slurm_job_id = sqlite3_column_int64(st, 3);
		cj.log_offset = sqlite3_column_int64(st, 4);
		atr_db_col_copy(st, 5, cj.slurm_name, sizeof(cj.slurm_name));
		if (fn(&cj, cls) < 0)
			break;
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* ---- the dashboard's view ---- */

int atr_store_cluster_job_counts(struct atr_store *s, const struct atr_cluster *c, json_t *out)
{
	/* (what went there, by the worker row; what waits for it, by its label) */
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT state, count(*) FROM jobs WHERE worker_id = ?1 GROUP BY state"
				   " UNION ALL SELECT state, count(*) FROM jobs WHERE state = 'queued'"
				   " AND (worker_id IS NULL OR worker_id <> ?1)"
				   " AND json_extract(labels, '$.\"" ATR_CLUSTER_LABEL "\"') = ?2 GROUP BY state");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, c->worker_id);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 0);
		json_t *had = json_object_get(out, state);
		json_object_set_new(out, state, json_integer(json_integer_value(had) + sqlite3_column_int64(st, 1)));
	}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}
