/* datasets.c: the datasets and dataset_versions tables. */
#include "atrium/store_datasets.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <string.h>

int atr_store_dataset_create(struct atr_store *s, int64_t project_id, const char *name, const char *description,
			     const json_t *tags, int64_t user_id, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO datasets(project_id, name, description, tags, created_by,"
					      " created_at, updated_at) VALUES (?,?,?,coalesce(?, '[]'),?,?,?)");
	int64_t now = atr_now_ms();
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, name);
	atr_db_bind_text(st, 3, description ? description : "");
	atr_db_bind_json(st, 4, tags);
	if (user_id > 0)
		sqlite3_bind_int64(st, 5, user_id);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now);
	rc = atr_db_step_write(st);
	if (rc == 0 && id_out)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

int atr_store_dataset_find(struct atr_store *s, int64_t project_id, const char *name, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM datasets WHERE project_id = ? AND name = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	atr_db_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id_out = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

/* (?9: the versions to leave out, a JSON array of row ids, or NULL) */
#define NOT_HIDDEN_V " v.id NOT IN (SELECT value FROM json_each(coalesce(?9, '[]')))"
#define DATASET_COLS                                                                                                 \
	"d.id, d.name, d.description, d.tags AS tags__json, p.name AS project, u.username AS created_by,"            \
	" d.created_at, d.updated_at,"                                                                               \
	" (SELECT count(*) FROM dataset_versions v WHERE v.dataset_id = d.id AND" NOT_HIDDEN_V ") AS version_count," \
	" (SELECT max(version) FROM dataset_versions v WHERE v.dataset_id = d.id AND v.state = 'committed' "         \
	"AND" NOT_HIDDEN_V ") AS latest_version"
#define DATASET_FROM " FROM datasets d JOIN projects p ON p.id = d.project_id LEFT JOIN users u ON u.id = d.created_by"

json_t *atr_store_dataset_json(struct atr_store *s, int64_t id, const json_t *hide, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " DATASET_COLS DATASET_FROM " WHERE d.id = ?1");

	if (!st || (*err = atr_db_bind_json(st, 9, hide)) < 0) {
		if (st)
			atr_db_done(st);
		else
			*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	return atr_store_one(st, err);
}

/* A page of a list keyed by one id (?1, ?2 the cursor, ?3 the limit), leaving hide (?9) out. */
static int list_hiding(struct atr_store *s, const char *sql, int64_t key, const json_t *hide, const struct atr_page *p,
		       json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	int rc;

	if (!st)
		return ATR_EDB;
	if ((rc = atr_db_bind_json(st, 9, hide)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 1, key);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int(st, 3, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_dataset_list(struct atr_store *s, int64_t project_id, const json_t *hide, const struct atr_page *p,
			   json_t *arr, bool *more)
{
	return list_hiding(
		s, "SELECT " DATASET_COLS DATASET_FROM " WHERE d.project_id = ?1 AND d.id > ?2 ORDER BY d.id LIMIT ?3",
		project_id, hide, p, arr, more);
}

static int fill_version(sqlite3_stmt *st, struct atr_dataset_version *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->dataset_id = sqlite3_column_int64(st, 1);
		out->version = sqlite3_column_int64(st, 2);
		out->committed = strcmp((const char *)sqlite3_column_text(st, 3), "committed") == 0;
	}
	return atr_db_row_done(st, rc);
}

int atr_store_dsv_find(struct atr_store *s, int64_t dataset_id, int64_t version, struct atr_dataset_version *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id, dataset_id, version, state FROM dataset_versions"
				   " WHERE dataset_id = ? AND (version = ? OR (? = 0 AND state = 'committed'))"
				   " ORDER BY version DESC LIMIT 1");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dataset_id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, version);
	return fill_version(st, out);
}

int atr_store_dsv_find_visible(struct atr_store *s, int64_t dataset_id, int64_t version, const json_t *hide,
			       struct atr_dataset_version *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT v.id, v.dataset_id, v.version, v.state FROM dataset_versions v"
				   " WHERE v.dataset_id = ?1 AND (v.version = ?2 OR (?2 = 0 AND v.state = 'committed'))"
				   " AND" NOT_HIDDEN_V " ORDER BY v.version DESC LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	if ((rc = atr_db_bind_json(st, 9, hide)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 1, dataset_id);
	sqlite3_bind_int64(st, 2, version);
	return fill_version(st, out);
}

int atr_store_dsv_get(struct atr_store *s, int64_t id, struct atr_dataset_version *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT id, dataset_id, version, state FROM dataset_versions WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return fill_version(st, out);
}

int atr_store_dsv_create(struct atr_store *s, int64_t dataset_id, const char *message, int64_t parent,
			 int64_t source_job_id, int64_t user_id, struct atr_dataset_version *out)
{
	struct atr_dataset_version pv;
	sqlite3_stmt *st;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if (parent > 0 && (rc = atr_store_dsv_find(s, dataset_id, parent, &pv)) < 0)
		goto fail;
	st = atr_db_stmt(s->db, "UPDATE datasets SET last_version = last_version + 1, updated_at = ? WHERE id = ?");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, dataset_id);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	st = atr_db_stmt(s->db,
			 "INSERT INTO dataset_versions(dataset_id, version, message, parent_version, source_job_id,"
			 " created_by, created_at) VALUES (?1, (SELECT last_version FROM datasets WHERE id = ?1),"
			 " ?2, ?3, ?4, ?5, ?6)");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, dataset_id);
	atr_db_bind_text(st, 2, message ? message : "");
	if (parent > 0)
		sqlite3_bind_int64(st, 3, parent);
	if (source_job_id > 0)
		sqlite3_bind_int64(st, 4, source_job_id);
	if (user_id > 0)
		sqlite3_bind_int64(st, 5, user_id);
	sqlite3_bind_int64(st, 6, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	if ((rc = atr_store_dsv_get(s, atr_db_last_id(s->db), out)) < 0)
		goto fail;
	if (parent > 0 && (rc = atr_store_files_copy(s, "dataset_version", pv.id, "dataset_version", out->id)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

#define VERSION_COLS                                                                                                  \
	"v.id, v.version, v.message, v.parent_version, v.state, v.rows, v.schema AS schema__json,"                    \
	" v.metadata AS metadata__json, v.source_job_id, u.username AS created_by, v.created_at, v.committed_at,"     \
	" (SELECT count(*) FROM files f WHERE f.owner_kind = 'dataset_version' AND f.owner_id = v.id) AS file_count," \
	" (SELECT coalesce(sum(size), 0) FROM files f WHERE f.owner_kind = 'dataset_version' AND f.owner_id = v.id)"  \
	" AS total_bytes"

json_t *atr_store_dsv_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s,
				    "SELECT " VERSION_COLS ", d.name AS dataset FROM dataset_versions v"
				    " JOIN datasets d ON d.id = v.dataset_id LEFT JOIN users u ON u.id = v.created_by"
				    " WHERE v.id = ?",
				    id, err);
}

int atr_store_dsv_list(struct atr_store *s, int64_t dataset_id, const json_t *hide, const struct atr_page *p,
		       json_t *arr, bool *more)
{
	return list_hiding(s,
			   "SELECT " VERSION_COLS " FROM dataset_versions v LEFT JOIN users u ON u.id = v.created_by"
			   " WHERE v.dataset_id = ?1 AND v.id > ?2 AND" NOT_HIDDEN_V " ORDER BY v.id LIMIT ?3",
			   dataset_id, hide, p, arr, more);
}

int atr_store_dsv_commit(struct atr_store *s, int64_t id, int64_t rows, const json_t *schema, const json_t *metadata)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE dataset_versions SET state = 'committed', committed_at = ?,"
					      " rows = ?, schema = ?, metadata = ? WHERE id = ? AND state = 'draft'");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	if (rows >= 0)
		sqlite3_bind_int64(st, 2, rows);
	if ((rc = atr_db_bind_json(st, 3, schema)) < 0 || (rc = atr_db_bind_json(st, 4, metadata)) < 0) {
		atr_db_done(st);
		return rc;
	}
	sqlite3_bind_int64(st, 5, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ECONFLICT : rc;
}

int atr_store_dsv_delete(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "DELETE FROM dataset_versions WHERE id = ? AND state = 'draft'");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	if (atr_db_changes(s->db) == 0) {
		rc = ATR_ECONFLICT;
		goto fail;
	}
	if ((rc = atr_store_files_delete_owner(s, "dataset_version", id)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}
