/*
 * cluster_staging.c: what Slurm clusters hold in their shared directory (store_clusters.h):
 * the input blobs staged there (size, last use) and which attempt reads which, the folders
 * of ended attempts, and the staging counters. The garbage collector's choice is made here,
 * in SQL; removing files is the backend's (src/dispatch/slurm_gc.c), off the loop.
 */
#include "atrium/store_clusters.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store.h"
#include "atrium/util.h"

#include <string.h>

static int use_one(struct atr_store *s, int64_t cluster_id, int64_t job_id, int64_t attempt,
		   const struct atr_staged_blob *b, int64_t now_ms)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO cluster_blobs(cluster_id, sha256, size, last_used_at)"
					      " VALUES (?,?,?,?) ON CONFLICT(cluster_id, sha256) DO UPDATE SET"
					      " size = excluded.size, last_used_at = excluded.last_used_at");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cluster_id);
	atr_db_bind_text(st, 2, b->sha256);
	sqlite3_bind_int64(st, 3, b->size > 0 ? b->size : 0);
	sqlite3_bind_int64(st, 4, now_ms);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	if (!(st = atr_db_stmt(s->db,
			       "INSERT OR IGNORE INTO cluster_job_blobs(job_id, attempt, sha256) VALUES (?,?,?)")))
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, attempt);
	atr_db_bind_text(st, 3, b->sha256);
	return atr_db_step_write(st);
}

int atr_store_staging_use(struct atr_store *s, int64_t cluster_id, int64_t job_id, int64_t attempt,
			  const struct atr_staged_blob *b, size_t n, int64_t now_ms)
{
	int rc = atr_store_begin(s);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = use_one(s, cluster_id, job_id, attempt, &b[i], now_ms);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_staging_count(struct atr_store *s, int64_t cluster_id, int64_t copied, int64_t reused)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE clusters SET blobs_copied = blobs_copied + ?,"
					      " blobs_reused = blobs_reused + ? WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, copied);
	sqlite3_bind_int64(st, 2, reused);
	sqlite3_bind_int64(st, 3, cluster_id);
	return atr_db_step_write(st);
}

/* (an attempt not done, on any cluster staging into the same directory, keeps the blob; so
 * does a recent use there) */
#define COLLECTABLE                                                                                        \
	"SELECT b.sha256, b.size FROM cluster_blobs b JOIN clusters c ON c.id = b.cluster_id"              \
	" WHERE b.cluster_id = ?1 AND b.last_used_at < ?2"                                                 \
	" AND NOT EXISTS (SELECT 1 FROM cluster_blobs o JOIN clusters oc ON oc.id = o.cluster_id"          \
	"  WHERE o.sha256 = b.sha256 AND o.cluster_id <> b.cluster_id AND oc.shared_dir = c.shared_dir"    \
	"  AND o.last_used_at >= ?2)"                                                                      \
	" AND NOT EXISTS (SELECT 1 FROM cluster_job_blobs u JOIN cluster_jobs cj ON cj.job_id = u.job_id"  \
	"  AND cj.attempt = u.attempt JOIN clusters uc ON uc.id = cj.cluster_id WHERE u.sha256 = b.sha256" \
	"  AND cj.done = 0 AND uc.shared_dir = c.shared_dir)"                                              \
	" ORDER BY b.last_used_at LIMIT ?3"

int atr_store_staging_collectable(struct atr_store *s, int64_t cluster_id, int64_t cutoff_ms,
				  struct atr_staged_blob *out, int max)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, COLLECTABLE);
	int n = 0, rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cluster_id);
	sqlite3_bind_int64(st, 2, cutoff_ms);
	sqlite3_bind_int(st, 3, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		atr_db_col_copy(st, 0, out[n].sha256, sizeof(out[n].sha256));
		out[n++].size = sqlite3_column_int64(st, 1);
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : ATR_EDB;
}

int atr_store_staging_ended(struct atr_store *s, int64_t cluster_id, struct atr_ended_attempt *out, int max)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT cj.job_id, cj.attempt FROM cluster_jobs cj JOIN jobs j ON"
					      " j.id = cj.job_id WHERE cj.cluster_id = ? AND cj.done = 1 AND"
					      " cj.dir_removed = 0 AND j.state IN ('succeeded', 'failed', 'cancelled')"
					      " ORDER BY cj.job_id, cj.attempt LIMIT ?");
	int n = 0, rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cluster_id);
	sqlite3_bind_int(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		out[n].job_id = sqlite3_column_int64(st, 0);
		out[n++].attempt = sqlite3_column_int64(st, 1);
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : ATR_EDB;
}

/* sql with ?1 ?2 ?3 (those it names) bound to a, b, c. */
static int exec_ids(struct atr_store *s, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	int n;

	if (!st)
		return ATR_EDB;
	n = sqlite3_bind_parameter_count(st);
	sqlite3_bind_int64(st, 1, a);
	if (n >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (n >= 3)
		sqlite3_bind_int64(st, 3, c);
	return atr_db_step_write(st);
}

int atr_store_staging_blob_gone(struct atr_store *s, int64_t cluster_id, const char *sha256, int64_t bytes)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM cluster_blobs WHERE cluster_id = ? AND sha256 = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cluster_id);
	atr_db_bind_text(st, 2, sha256);
	if ((rc = atr_db_step_write(st)) < 0 || bytes < 0)
		return rc;
	return exec_ids(s,
			"UPDATE clusters SET blobs_collected = blobs_collected + 1, bytes_collected ="
			" bytes_collected + ?2 WHERE id = ?1",
			cluster_id, bytes, 0);
}

int atr_store_staging_dir_gone(struct atr_store *s, int64_t cluster_id, int64_t job_id, int64_t attempt)
{
	int rc = atr_store_begin(s);

	if (rc == 0)
		rc = exec_ids(s, "UPDATE cluster_jobs SET dir_removed = 1 WHERE job_id = ?1 AND attempt = ?2", job_id,
			      attempt, 0);
	if (rc == 0)
		rc = exec_ids(s, "DELETE FROM cluster_job_blobs WHERE job_id = ?1 AND attempt = ?2", job_id, attempt,
			      0);
	if (rc == 0)
		rc = exec_ids(s, "UPDATE clusters SET job_dirs_collected = job_dirs_collected + 1 WHERE id = ?1",
			      cluster_id, 0, 0);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_staging_json(struct atr_store *s, int64_t cluster_id, json_t *o)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT staging_keep_s, blobs_copied, blobs_reused, blobs_collected,"
				   " bytes_collected, job_dirs_collected, (SELECT count(*) FROM cluster_blobs"
				   " WHERE cluster_id = ?1), (SELECT coalesce(sum(size), 0) FROM cluster_blobs"
				   " WHERE cluster_id = ?1) FROM clusters WHERE id = ?1");
	json_t *v = NULL;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, cluster_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = json_pack("{s:I, s:{s:I, s:I}, s:I, s:I, s:I, s:I, s:I}", "keep_s",
			      (json_int_t)sqlite3_column_int64(st, 0), "blobs", "count",
			      (json_int_t)sqlite3_column_int64(st, 6), "bytes", (json_int_t)sqlite3_column_int64(st, 7),
			      "blobs_copied", (json_int_t)sqlite3_column_int64(st, 1), "blobs_reused",
			      (json_int_t)sqlite3_column_int64(st, 2), "blobs_collected",
			      (json_int_t)sqlite3_column_int64(st, 3), "bytes_collected",
			      (json_int_t)sqlite3_column_int64(st, 4), "job_dirs_collected",
			      (json_int_t)sqlite3_column_int64(st, 5));
	atr_db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
	if (!v)
		return ATR_ENOMEM;
	return json_object_set_new(o, "staging", v) == 0 ? 0 : ATR_ENOMEM;
}
