/*
 * templates.c: project templates and the catalogue (atrium/store_templates.h): the template
 * columns of projects, template_refs, and copying a template's structure into a new project.
 * Who may publish, feature or read is decided above (the route table).
 */
#include "atrium/store_templates.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

static int add_refs(struct atr_store *s, int64_t project_id, const char *kind, const int64_t *ids, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT OR IGNORE INTO template_refs(project_id, kind, ref_id)"
						      " VALUES (?,?,?)");
		if (!st)
			return ATR_EDB;
		sqlite3_bind_int64(st, 1, project_id);
		atr_db_bind_text(st, 2, kind);
		sqlite3_bind_int64(st, 3, ids[i]);
		rc = atr_db_step_write(st);
	}
	return rc;
}

int atr_store_template_publish(struct atr_store *s, int64_t project_id, const char *readme, const int64_t *datasets,
			       size_t ndatasets, const int64_t *models, size_t nmodels)
{
	sqlite3_stmt *st;
	int rc = atr_store_begin(s);

	if (rc < 0)
		return rc;
	st = atr_db_stmt(s->db, "UPDATE projects SET readme = ?, template_at = coalesce(template_at, ?),"
				" updated_at = ? WHERE id = ?");
	if (!st) {
		atr_store_rollback(s);
		return ATR_EDB;
	}
	atr_db_bind_text(st, 1, readme);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, project_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && !(st = atr_db_stmt(s->db, "DELETE FROM template_refs WHERE project_id = ?")))
		rc = ATR_EDB;
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, project_id);
		rc = atr_db_step_write(st);
	}
	if (rc == 0)
		rc = add_refs(s, project_id, "dataset", datasets, ndatasets);
	if (rc == 0)
		rc = add_refs(s, project_id, "model", models, nmodels);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_template_unpublish(struct atr_store *s, int64_t project_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM template_refs WHERE project_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	if (!(st = atr_db_stmt(s->db, "UPDATE projects SET template_at = NULL WHERE id = ?")))
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	return atr_db_step_write(st);
}

int atr_store_project_feature(struct atr_store *s, int64_t project_id, bool featured)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE projects SET featured_at = CASE WHEN ?2 THEN"
					      " coalesce(featured_at, ?3) END WHERE id = ?1");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int(st, 2, featured);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_template_find(struct atr_store *s, const char *ref, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id FROM projects WHERE (name = ?1 OR CAST(id AS TEXT) = ?1)"
					      " AND template_at IS NOT NULL AND archived_at IS NULL"
					      " ORDER BY name = ?1 DESC LIMIT 1");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id_out = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

static int exec_copy(struct atr_store *s, const char *sql, int64_t from_id, int64_t to_id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, from_id);
	sqlite3_bind_int64(st, 2, to_id);
	if (user_id > 0)
		sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_template_copy(struct atr_store *s, int64_t from_id, int64_t to_id, int64_t user_id)
{
	int rc = atr_store_begin(s);

	if (rc < 0)
		return rc;
	rc = exec_copy(s,
		       "UPDATE projects SET origin_project_id = ?1, readme = (SELECT readme FROM projects"
		       " WHERE id = ?1), updated_at = ?4 WHERE id = ?2",
		       from_id, to_id, user_id);
	if (rc == 0)
		rc = exec_copy(
			s,
			"INSERT INTO launchers(project_id, name, latest_version, created_by, created_at, updated_at)"
			" SELECT ?2, name, 1, ?3, ?4, ?4 FROM launchers WHERE project_id = ?1 AND archived_at IS NULL",
			from_id, to_id, user_id);
	if (rc == 0)
		rc = exec_copy(s,
			       "INSERT INTO launcher_versions(launcher_id, version, description, spec, parameters,"
			       " created_by, created_at) SELECT n.id, 1, v.description, v.spec, v.parameters, ?3, ?4"
			       " FROM launchers o JOIN launcher_versions v ON v.launcher_id = o.id AND v.version ="
			       " o.latest_version JOIN launchers n ON n.project_id = ?2 AND n.name = o.name"
			       " WHERE o.project_id = ?1 AND o.archived_at IS NULL",
			       from_id, to_id, user_id);
	if (rc == 0) /* what the template references now: the new project may read it (0040) */
		rc = exec_copy(s,
			       "INSERT OR IGNORE INTO template_grants(project_id, kind, ref_id, origin_project_id,"
			       " created_at) SELECT ?2, kind, ref_id, ?1, ?4 FROM template_refs WHERE project_id = ?1",
			       from_id, to_id, user_id);
	if (rc == 0)
		return atr_store_commit(s);
	atr_store_rollback(s);
	return rc;
}

int atr_store_template_granted(struct atr_store *s, const char *kind, int64_t ref_id, int64_t user_id,
			       int64_t project_id, bool *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT EXISTS (SELECT 1 FROM template_grants g WHERE g.kind = ?1"
				   " AND g.ref_id = ?2 AND (g.project_id = ?4 OR EXISTS (SELECT 1 FROM"
				   " project_members m WHERE m.project_id = g.project_id AND m.user_id = ?3)))");
	int rc;

	*out = false;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, ref_id);
	sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, project_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0) != 0;
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

#define TEMPLATE_COLS                                                                                                \
	"SELECT p.id, p.name, p.description, p.readme, t.name AS team, p.template_at IS NOT NULL AS template__bool," \
	" p.featured_at IS NOT NULL AS featured__bool, (SELECT json_group_array(l.name) FROM launchers l WHERE"      \
	" l.project_id = p.id AND l.archived_at IS NULL) AS launchers__json, (SELECT json_group_array(d.name) FROM"  \
	" template_refs r JOIN datasets d ON d.id = r.ref_id WHERE r.project_id = p.id AND r.kind = 'dataset')"      \
	" AS datasets__json, (SELECT json_group_array(m.name) FROM template_refs r JOIN models m ON"                 \
	" m.id = r.ref_id WHERE r.project_id = p.id AND r.kind = 'model') AS models__json, (SELECT count(*) FROM"    \
	" projects c WHERE c.origin_project_id = p.id) AS copies, p.updated_at FROM projects p LEFT JOIN teams t"    \
	" ON t.id = p.team_id"

json_t *atr_store_template_json(struct atr_store *s, int64_t project_id, int *err)
{
	return atr_store_json_by_id(s, TEMPLATE_COLS " WHERE p.id = ?", project_id, err);
}

#define CATALOGUE                                                                                           \
	TEMPLATE_COLS                                                                                       \
	" WHERE p.archived_at IS NULL AND (?2 = 0 OR p.id < ?2) AND (p.template_at IS NOT"                  \
	" NULL OR (p.featured_at IS NOT NULL AND (?4 OR p.visibility = 'internal' OR EXISTS (SELECT 1 FROM" \
	" project_members m WHERE m.project_id = p.id AND m.user_id = ?1)))) AND (?5 IS NULL OR "           \
	"p.id IN (SELECT ref_id FROM search_index WHERE search_index MATCH ?5 AND kind IN ('template',"     \
	" 'project'))) ORDER BY p.id DESC LIMIT ?3"

int atr_store_template_list(struct atr_store *s, int64_t viewer_id, bool admin, const char *q, const struct atr_page *p,
			    json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, CATALOGUE);

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, viewer_id);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int(st, 3, p->limit + 1);
	sqlite3_bind_int(st, 4, admin);
	atr_db_bind_text(st, 5, q);
	return atr_store_collect(st, p->limit, arr, more);
}
