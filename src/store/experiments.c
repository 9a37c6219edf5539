/*
 * experiments.c: projects as MLflow's experiments (include/atrium/store_mlflow_tracking.h):
 * their MLflow names and tags (projects.experiment_name, experiment_tags), the ones a user
 * may read, rename, restore. Creating one and the Default experiment are in projects.c
 * (atr_store_experiment_create, atr_store_project_default); access decisions in src/api.
 */
#include "atrium/store_mlflow_tracking.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

void atr_experiment_release(struct atr_experiment *e)
{
	free(e->name);
	json_decref(e->tags);
	memset(e, 0, sizeof(*e));
}

void atr_experiments_free(struct atr_experiment *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		atr_experiment_release(&e[i]);
	free(e);
}

/*
 * The columns every read of an experiment selects, ?1 the viewer: its name (another user's
 * Default by its project name), times, archived, tags.
 */
#define EXP_COLS                                                                                                \
	"SELECT p.id, CASE WHEN p.experiment_name IS NULL OR (p.default_of IS NOT NULL AND p.default_of <> ?1)" \
	" THEN p.name ELSE p.experiment_name END, p.created_at, p.updated_at, p.archived_at, p.experiment_tags" \
	" FROM projects p"

static int fill(sqlite3_stmt *st, struct atr_experiment *e)
{
	const char *tags = (const char *)sqlite3_column_text(st, 5);

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->created = sqlite3_column_int64(st, 2);
	e->updated = sqlite3_column_int64(st, 3);
	e->deleted = sqlite3_column_type(st, 4) != SQLITE_NULL;
	e->name = strdup((const char *)sqlite3_column_text(st, 1));
	e->tags = json_loads(tags ? tags : "{}", 0, NULL);
	if (!json_is_object(e->tags)) {
		json_decref(e->tags);
		e->tags = json_object();
	}
	if (!e->name || !e->tags) {
		atr_experiment_release(e);
		return ATR_ENOMEM;
	}
	return 0;
}

int atr_store_experiment_get(struct atr_store *s, int64_t id, int64_t viewer_id, struct atr_experiment *out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, EXP_COLS " WHERE p.id = ?2");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, viewer_id);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && fill(st, out) < 0) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	return atr_db_row_done(st, rc);
}

/* Appends one more experiment to *out (grown by doubling). */
static int push(struct atr_experiment **out, size_t *n, size_t *cap, sqlite3_stmt *st)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct atr_experiment *ne = realloc(*out, nc * sizeof(*ne));
		if (!ne)
			return ATR_ENOMEM;
		*out = ne;
		*cap = nc;
	}
	if (fill(st, &(*out)[*n]) < 0)
		return ATR_ENOMEM;
	(*n)++;
	return 0;
}

int atr_store_experiments_visible(struct atr_store *s, int64_t user_id, bool admin, int64_t only_project,
				  enum atr_run_view view, struct atr_experiment **out, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, EXP_COLS " WHERE (?3 > 0 AND p.id = ?3 OR ?3 = 0 AND (?2 OR p.visibility = 'internal' OR EXISTS"
				" (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?1)))"
				" AND (?4 = 2 OR (?4 = 0) = (p.archived_at IS NULL)) ORDER BY p.id");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int(st, 2, admin);
	sqlite3_bind_int64(st, 3, only_project);
	sqlite3_bind_int(st, 4, view == ATR_RUN_VIEW_ALL ? 2 : view == ATR_RUN_VIEW_DELETED ? 1 : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (push(out, n, &cap, st) < 0) {
			rc = ATR_ENOMEM;
			break;
		}
	atr_db_done(st);
	if (rc != SQLITE_DONE) {
		atr_experiments_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc == ATR_ENOMEM ? rc : ATR_EDB;
	}
	return 0;
}

int atr_store_experiment_set_tags(struct atr_store *s, int64_t id, const json_t *tags)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE projects SET experiment_tags = json_patch(experiment_tags, ?),"
					      " updated_at = ? WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	if ((rc = atr_db_bind_json(st, 1, tags)) < 0)
		return rc;
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int atr_store_experiment_rename(struct atr_store *s, int64_t id, const char *name)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE projects SET experiment_name = ?, updated_at = ? WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int atr_store_project_restore(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE projects SET archived_at = NULL, updated_at = ? WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, atr_now_ms());
	sqlite3_bind_int64(st, 2, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int64_t atr_store_user_only_team(struct atr_store *s, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT min(team_id), count(*) FROM team_members WHERE user_id = ?");
	int64_t team = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, user_id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 1) == 1)
		team = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return team;
}
