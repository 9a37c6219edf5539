/*
 * model_versions.c: the model_versions table: numbering (never reused), creation with an
 * optional copy of another owner's files, commit, delete (refused while an alias points at
 * the version), references by number, "latest" or alias, and the API objects; MLflow's
 * fields (description, key/value tags, the Archived stage, latest versions by stage).
 */
#include "atrium/store_models.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_files.h"
#include "atrium/util.h"
#include "models_internal.h"

#include <string.h>

#define KIND "model_version"

int64_t atr_store_model_version_number(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT version FROM model_versions WHERE id = ?");
	int64_t n = 0;
	if (!st || id <= 0)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return n;
}

static int fill_version(sqlite3_stmt *st, struct atr_model_version *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->model_id = sqlite3_column_int64(st, 1);
		out->version = sqlite3_column_int64(st, 2);
		out->committed = strcmp((const char *)sqlite3_column_text(st, 3), "committed") == 0;
	}
	return atr_db_row_done(st, rc);
}

int atr_store_model_version_get(struct atr_store *s, int64_t id, struct atr_model_version *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, model_id, version, state FROM model_versions WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	return fill_version(st, out);
}

int atr_store_model_version_resolve(struct atr_store *s, int64_t model_id, const char *ref,
				    struct atr_model_version *out)
{
	sqlite3_stmt *st;
	int64_t n;

	if (!ref || !*ref)
		return ATR_ENOTFOUND;
	if (atr_parse_i64(ref, 1, INT64_MAX, &n) == 0) {
		st = atr_db_stmt(s->db, "SELECT id, model_id, version, state FROM model_versions"
					" WHERE model_id = ? AND version = ?");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, model_id);
		sqlite3_bind_int64(st, 2, n);
	} else if (strcmp(ref, "latest") == 0) {
		st = atr_db_stmt(s->db, "SELECT id, model_id, version, state FROM model_versions"
					" WHERE model_id = ? AND state = 'committed' ORDER BY version DESC LIMIT 1");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, model_id);
	} else {
		st = atr_db_stmt(s->db,
				 "SELECT v.id, v.model_id, v.version, v.state FROM model_aliases a"
				 " JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, model_id);
		atr_db_bind_text(st, 2, ref);
	}
	return fill_version(st, out);
}

static int mark_committed(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE model_versions SET state = 'committed', committed_at = ?"
					      " WHERE id = ? AND state = 'draft'");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ECONFLICT : rc;
}

/* Takes the model's next number (never reused); ATR_ENOTFOUND for an unknown model. */
static int next_number(struct atr_store *s, int64_t model_id, int64_t *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE models SET last_version = last_version + 1, updated_at = ?"
					      " WHERE id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, model_id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	if (atr_db_changes(s->db) == 0)
		return ATR_ENOTFOUND;
	st = atr_db_stmt(s->db, "SELECT last_version FROM models WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, model_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

static int insert_version(struct atr_store *s, const struct atr_model_version_spec *spec, int64_t number,
			  int64_t *id_out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO model_versions(model_id, version, description, framework,"
				   " signature, source_run_id, source_job_id, created_by, created_at,"
				   " source_uri, run_link, kv_tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,coalesce(?, '{}'))");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, spec->model_id);
	sqlite3_bind_int64(st, 2, number);
	atr_db_bind_text(st, 3, spec->description ? spec->description : "");
	atr_db_bind_text(st, 4, spec->framework ? spec->framework : "");
	if ((rc = atr_db_bind_json(st, 5, spec->signature)) < 0) {
		atr_db_done(st);
		return rc;
	}
	if (spec->source_run_id > 0)
		sqlite3_bind_int64(st, 6, spec->source_run_id);
	if (spec->source_job_id > 0)
		sqlite3_bind_int64(st, 7, spec->source_job_id);
	if (spec->user_id > 0)
		sqlite3_bind_int64(st, 8, spec->user_id);
	sqlite3_bind_int64(st, 9, atr_now_ms());
	atr_db_bind_text(st, 10, spec->source_uri ? spec->source_uri : "");
	atr_db_bind_text(st, 11, spec->run_link ? spec->run_link : "");
	if ((rc = atr_db_bind_json(st, 12, spec->kv_tags)) < 0) {
		atr_db_done(st);
		return rc;
	}
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*id_out = atr_db_last_id(s->db);
	return 0;
}

int atr_store_model_version_create(struct atr_store *s, const struct atr_model_version_spec *spec,
				   struct atr_model_version *out)
{
	struct model_event e = { .model_id = spec->model_id, .kind = "version_created", .actor = spec->actor };
	int64_t id;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = next_number(s, spec->model_id, &e.version)) < 0 || (rc = insert_version(s, spec, e.version, &id)) < 0)
		goto fail;
	if (spec->copy_from_kind && spec->copy_from_id > 0 &&
	    (rc = spec->copy_prefix ? atr_store_files_copy_prefix(s, spec->copy_from_kind, spec->copy_from_id,
								  spec->copy_prefix, KIND, id, NULL)
				    : atr_store_files_copy(s, spec->copy_from_kind, spec->copy_from_id, KIND, id)) < 0)
		goto fail;
	if ((rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	if (spec->commit) {
		e.kind = "version_committed";
		if ((rc = mark_committed(s, id)) < 0 || (rc = atr_store_model_event_add(s, &e)) < 0)
			goto fail;
	}
	if ((rc = atr_store_model_version_get(s, id, out)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

#define VERSION_COLS                                                                                                \
	"v.id, m.name AS model, p.name AS project, v.version, v.description, v.framework,"                          \
	" v.signature AS signature__json, v.source_run_id AS source_run, v.source_job_id, v.state,"                 \
	" (SELECT json_group_array(a.alias) FROM model_aliases a WHERE a.version_id = v.id) AS aliases__json,"      \
	" u.username AS created_by, v.created_at, v.committed_at,"                                                  \
	" (SELECT count(*) FROM files f WHERE f.owner_kind = 'model_version' AND f.owner_id = v.id) AS file_count," \
	" (SELECT coalesce(sum(size), 0) FROM files f WHERE f.owner_kind = 'model_version' AND f.owner_id = v.id)"  \
	" AS total_bytes"
#define VERSION_FROM                                                                                       \
	" FROM model_versions v JOIN models m ON m.id = v.model_id JOIN projects p ON p.id = m.project_id" \
	" LEFT JOIN users u ON u.id = v.created_by"

json_t *atr_store_model_version_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " VERSION_COLS VERSION_FROM " WHERE v.id = ?", id, err);
}

int atr_store_model_version_list(struct atr_store *s, int64_t model_id, const struct atr_page *p, json_t *arr,
				 bool *more)
{
	return atr_store_list_keyed(
		s, "SELECT " VERSION_COLS VERSION_FROM " WHERE v.model_id = ? AND v.id > ? ORDER BY v.id LIMIT ?",
		model_id, p, arr, more);
}

int atr_store_model_version_commit(struct atr_store *s, int64_t id, const char *actor)
{
	struct atr_model_version v;
	struct model_event e = { .kind = "version_committed", .actor = actor };
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_version_get(s, id, &v)) < 0 || (rc = mark_committed(s, id)) < 0)
		goto fail;
	e.model_id = v.model_id;
	e.version = v.version;
	if ((rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

/* The first alias (by name) pointing at a version, into alias (64 bytes); false when none. */
static bool aliased(struct atr_store *s, int64_t version_id, char *alias)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT alias FROM model_aliases WHERE version_id = ? ORDER BY alias LIMIT 1");
	bool found = false;
	if (!st)
		return true; /* refuse rather than guess */
	sqlite3_bind_int64(st, 1, version_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		if (alias)
			atr_copy(alias, 64, (const char *)sqlite3_column_text(st, 0));
	}
	atr_db_done(st);
	return found;
}

static int delete_version_rows(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE model_promotions SET state = 'cancelled', decided_at = ?,"
					      " decision_comment = 'the version was deleted'"
					      " WHERE version_id = ? AND state = 'pending'");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "DELETE FROM model_versions WHERE id = ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	return atr_store_files_delete_owner(s, KIND, id);
}

int atr_store_model_version_delete(struct atr_store *s, int64_t id, const char *actor, char *alias_out)
{
	struct atr_model_version v;
	struct model_event e = { .kind = "version_deleted", .actor = actor };
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_version_get(s, id, &v)) < 0)
		goto fail;
	if (aliased(s, id, alias_out)) {
		rc = ATR_ECONFLICT;
		goto fail;
	}
	e.model_id = v.model_id;
	e.version = v.version;
	if ((rc = delete_version_rows(s, id)) < 0 || (rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

/* ---- MLflow's fields (see store_models.h) ---- */

/* Runs an UPDATE of one version whose parameters are ?1 the version's id, ?2 now and, when
 * text is not NULL, ?3 text; ATR_ENOTFOUND when no row changed. */
static int update_version(struct atr_store *s, const char *sql, int64_t id, const char *text)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	if (text)
		atr_db_bind_text(st, 3, text);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int atr_store_model_version_describe(struct atr_store *s, int64_t version_id, const char *description)
{
	return update_version(s, "UPDATE model_versions SET description = ?3, updated_at = ?2 WHERE id = ?1",
			      version_id, description ? description : "");
}

int atr_store_model_version_archive(struct atr_store *s, int64_t version_id, bool archived)
{
	return update_version(s,
			      archived ? "UPDATE model_versions SET archived_at = coalesce(archived_at, ?2),"
					 " updated_at = ?2 WHERE id = ?1"
				       : "UPDATE model_versions SET archived_at = NULL, updated_at = ?2 WHERE id = ?1",
			      version_id, NULL);
}

int atr_store_model_version_kv_tag(struct atr_store *s, int64_t version_id, const char *key, const char *value)
{
	/* a merge patch: {"key": "value"} sets it, {"key": null} removes it, whatever the key holds */
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE model_versions SET kv_tags = json_patch(kv_tags,"
					      " json_object(?1, ?2)), updated_at = ?3 WHERE id = ?4");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, key);
	atr_db_bind_text(st, 2, value);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, version_id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

/* The newest version of a model matching a condition on v (a version row) and its aliases. */
static int64_t newest_where(struct atr_store *s, const char *sql, int64_t model_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	int64_t id = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, model_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return id;
}

/* v (a version row) holds no stage alias */
#define NO_STAGE                                                                                                      \
	" AND NOT EXISTS (SELECT 1 FROM model_aliases a WHERE a.version_id = v.id AND (a.alias = '" ATR_ALIAS_STAGING \
	"' OR a.alias = '" ATR_ALIAS_PROTECTED "'))"
#define NOT_PRODUCTION                                                                               \
	" AND NOT EXISTS (SELECT 1 FROM model_aliases a2 WHERE a2.version_id = v.id AND a2.alias = " \
	"'" ATR_ALIAS_PROTECTED "')"

int atr_store_model_latest_by_stage(struct atr_store *s, int64_t model_id, int64_t stages[ATR_STAGE_COUNT])
{
	static const char *const sql[ATR_STAGE_COUNT] = {
		[ATR_STAGE_NONE] =
			"SELECT v.id FROM model_versions v WHERE v.model_id = ?1 AND v.archived_at IS NULL" NO_STAGE
			" ORDER BY v.version DESC LIMIT 1",
		[ATR_STAGE_STAGING] = "SELECT v.id FROM model_aliases a JOIN model_versions v ON v.id = a.version_id"
				      " WHERE a.model_id = ?1 AND a.alias = '" ATR_ALIAS_STAGING "'" NOT_PRODUCTION,
		[ATR_STAGE_PRODUCTION] = "SELECT a.version_id FROM model_aliases a WHERE a.model_id = ?1"
					 " AND a.alias = '" ATR_ALIAS_PROTECTED "'",
		[ATR_STAGE_ARCHIVED] = "SELECT v.id FROM model_versions v WHERE v.model_id = ?1"
				       " AND v.archived_at IS NOT NULL" NO_STAGE " ORDER BY v.version DESC LIMIT 1",
	};

	for (int i = 0; i < ATR_STAGE_COUNT; i++)
		if ((stages[i] = newest_where(s, sql[i], model_id)) < 0)
			return ATR_EDB;
	return 0;
}

int atr_store_model_version_touch(struct atr_store *s, int64_t version_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE model_versions SET updated_at = ?1 WHERE id = ?2");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, version_id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "UPDATE models SET updated_at = ?1 WHERE id = (SELECT model_id FROM model_versions"
				" WHERE id = ?2)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, version_id);
	return atr_db_step_write(st);
}

/* MLflow's version (its stage, from the aliases and the Archived mark, is the API's). */
#define MLFLOW_VERSION_COLS                                                                                \
	"v.id, m.name AS model, p.name AS project, " MODEL_AMBIGUOUS " AS ambiguous__bool, v.version,"     \
	" v.created_at AS creation_timestamp,"                                                             \
	" coalesce(v.updated_at, v.committed_at, v.created_at) AS last_updated_timestamp,"                 \
	" u.username AS user_id, v.description, v.source_uri AS source,"                                   \
	" (SELECT uuid FROM runs WHERE id = v.source_run_id) AS run_id, v.state, v.kv_tags AS tags__json," \
	" v.run_link, (SELECT json_group_array(x.alias) FROM (SELECT alias FROM model_aliases"             \
	" WHERE version_id = v.id ORDER BY alias) x) AS aliases__json,"                                    \
	" v.archived_at IS NOT NULL AS archived__bool, (SELECT count(*) FROM files f"                      \
	" WHERE f.owner_kind = 'model_version' AND f.owner_id = v.id) AS file_count"

json_t *atr_store_model_version_mlflow_json(struct atr_store *s, int64_t id, const struct atr_model_viewer *v, int *err)
{
	return atr_store_model_viewer_one(s, "SELECT " MLFLOW_VERSION_COLS VERSION_FROM " WHERE v.id = ?4", v, id, err);
}
