/*
 * competitions.c: the competitions, competition_teams and competition_members tables.
 * Submissions and leaderboards are in competition_boards.c. Who may do what is src/api/'s.
 */
#include "atrium/store_competitions.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

static void bind_opt_id(sqlite3_stmt *st, int idx, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, idx, id);
}

int atr_store_competition_create(struct atr_store *s, const struct atr_competition_spec *c, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO competitions(project_id, name, title, description, rules, starts_at, ends_at,"
		       " train_version_id, test_version_id, test_path, id_column, label_column, metric, pos_label,"
		       " max_bytes, daily_limit, max_team_size, public_fraction, score_precision, seed, created_by,"
		       " created_at, updated_at) SELECT d.project_id, ?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?"
		       " FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE v.id = ?");
	int64_t now = atr_now_ms();
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, c->name);
	atr_db_bind_text(st, 2, c->title);
	atr_db_bind_text(st, 3, c->description ? c->description : "");
	atr_db_bind_text(st, 4, c->rules ? c->rules : "");
	sqlite3_bind_int64(st, 5, c->starts_at);
	sqlite3_bind_int64(st, 6, c->ends_at);
	bind_opt_id(st, 7, c->train_version_id);
	sqlite3_bind_int64(st, 8, c->test_version_id);
	atr_db_bind_text(st, 9, c->test_path);
	atr_db_bind_text(st, 10, c->id_column);
	atr_db_bind_text(st, 11, c->label_column);
	atr_db_bind_text(st, 12, c->metric);
	atr_db_bind_text(st, 13, c->pos_label);
	sqlite3_bind_int64(st, 14, c->max_bytes);
	sqlite3_bind_int64(st, 15, c->daily_limit);
	sqlite3_bind_int64(st, 16, c->max_team_size);
	sqlite3_bind_double(st, 17, c->public_fraction);
	sqlite3_bind_int(st, 18, c->precision);
	atr_db_bind_text(st, 19, c->seed);
	bind_opt_id(st, 20, c->user_id);
	sqlite3_bind_int64(st, 21, now);
	sqlite3_bind_int64(st, 22, now);
	sqlite3_bind_int64(st, 23, c->test_version_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && id_out)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

static void fill_competition(sqlite3_stmt *st, void *p)
{
	struct atr_competition *c = p;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->project_id = sqlite3_column_int64(st, 1);
	atr_db_col_copy(st, 2, c->name, sizeof(c->name));
	c->starts_at = sqlite3_column_int64(st, 3);
	c->ends_at = sqlite3_column_int64(st, 4);
	c->train_version_id = sqlite3_column_int64(st, 5);
	c->test_version_id = sqlite3_column_int64(st, 6);
	atr_db_col_copy(st, 7, c->test_path, sizeof(c->test_path));
	atr_db_col_copy(st, 8, c->id_column, sizeof(c->id_column));
	atr_db_col_copy(st, 9, c->label_column, sizeof(c->label_column));
	atr_db_col_copy(st, 10, c->metric, sizeof(c->metric));
	atr_db_col_copy(st, 11, c->pos_label, sizeof(c->pos_label));
	c->max_bytes = sqlite3_column_int64(st, 12);
	c->daily_limit = sqlite3_column_int64(st, 13);
	c->max_team_size = sqlite3_column_int64(st, 14);
	c->public_fraction = sqlite3_column_double(st, 15);
	c->precision = sqlite3_column_int(st, 16);
	atr_db_col_copy(st, 17, c->seed, sizeof(c->seed));
}

int atr_store_competition_find(struct atr_store *s, const char *name, struct atr_competition *out)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT id, project_id, name, starts_at, ends_at, train_version_id, test_version_id, test_path,"
		       " id_column, label_column, metric, pos_label, max_bytes, daily_limit, max_team_size,"
		       " public_fraction, score_precision, seed FROM competitions WHERE name = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill_competition(st, out);
	return atr_db_row_done(st, rc);
}

/* {project, dataset, version} of a dataset version id, as SQL. */
#define DSV_REF(col)                                                                                      \
	"(SELECT json_object('project', p2.name, 'dataset', d2.name, 'version', v2.version)"              \
	" FROM dataset_versions v2 JOIN datasets d2 ON d2.id = v2.dataset_id JOIN projects p2 ON p2.id =" \
	" d2.project_id WHERE v2.id = " col ")"
#define COMP_COLS                                                                                                      \
	"c.id, c.name, c.title, c.description, c.rules, p.name AS project, c.starts_at, c.ends_at,"                    \
	" " DSV_REF("c.train_version_id") " AS training__json, " DSV_REF(                                              \
		"c.test_version_id") " AS test__json,"                                                                 \
				     " c.test_path, c.id_column, c.label_column, c.metric, nullif(c.pos_label, '') "   \
				     "AS pos_label,"                                                                   \
				     " c.max_bytes, c.daily_limit, c.max_team_size, c.public_fraction, "               \
				     "c.score_precision AS precision,"                                                 \
				     " u.username AS created_by, c.created_at, c.updated_at,"                          \
				     " (SELECT count(*) FROM competition_teams t WHERE t.competition_id = c.id) AS "   \
				     "teams,"                                                                          \
				     " (SELECT count(*) FROM competition_submissions x WHERE x.competition_id = c.id " \
				     "AND x.state = 'scored')"                                                         \
				     " AS submissions,"                                                                \
				     " c.submission_kind AS submission"
#define COMP_FROM " FROM competitions c JOIN projects p ON p.id = c.project_id LEFT JOIN users u ON u.id = c.created_by"

json_t *atr_store_competition_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " COMP_COLS COMP_FROM " WHERE c.id = ?", id, err);
}

int atr_store_competition_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT " COMP_COLS COMP_FROM " WHERE ?1 = ?1 AND c.id > ?2 ORDER BY c.id LIMIT ?3",
				    0, p, arr, more);
}

int atr_store_competition_update(struct atr_store *s, int64_t id, const char *title, const char *description,
				 const char *rules, int64_t starts_at, int64_t ends_at, int64_t daily_limit)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"UPDATE competitions SET title = coalesce(?, title), description = coalesce(?, description),"
		" rules = coalesce(?, rules), starts_at = coalesce(?, starts_at), ends_at = coalesce(?, ends_at),"
		" daily_limit = coalesce(?, daily_limit), updated_at = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, title);
	atr_db_bind_text(st, 2, description);
	atr_db_bind_text(st, 3, rules);
	bind_opt_id(st, 4, starts_at);
	bind_opt_id(st, 5, ends_at);
	bind_opt_id(st, 6, daily_limit);
	sqlite3_bind_int64(st, 7, atr_now_ms());
	sqlite3_bind_int64(st, 8, id);
	return atr_db_step_write(st);
}

int atr_store_competition_hiders(struct atr_store *s, int64_t dsv_id, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT DISTINCT project_id FROM competitions WHERE test_version_id = ?1"
					      " OR inputs_version_id = ?1 OR id IN (SELECT competition_id FROM"
					      " competition_scorer_runs WHERE dataset_version_id = ?1)");
	int rc;

	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, dsv_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (*n < max)
			ids[(*n)++] = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

/* Appends the first column of st's rows to ids; finishes st. */
static int collect_ids(sqlite3_stmt *st, json_t *ids)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(ids, json_integer(sqlite3_column_int64(st, 0))) < 0) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_competition_hidden_all(struct atr_store *s, json_t *ids)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT test_version_id FROM competitions UNION SELECT inputs_version_id"
					      " FROM competitions WHERE inputs_version_id IS NOT NULL");

	return st ? collect_ids(st, ids) : ATR_EDB;
}

int atr_store_competition_hidden_read(struct atr_store *s, int64_t job_id, json_t *ids)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT DISTINCT json_extract(i.value, '$.dataset_version_id')"
				   " FROM jobs j, json_each(j.inputs) i WHERE j.id = ?1"
				   " AND json_extract(i.value, '$.dataset_version_id') IN (SELECT test_version_id"
				   " FROM competitions UNION SELECT inputs_version_id FROM competitions)");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, job_id);
	return collect_ids(st, ids);
}

/* ---- teams and members ---- */

int atr_store_competition_entry_of(struct atr_store *s, int64_t comp_id, int64_t user_id, int64_t *entry_id,
				   char name[ATR_COMP_NAME_MAX])
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT m.entry_id, t.name FROM competition_members m JOIN"
					      " competition_teams t ON t.id = m.entry_id"
					      " WHERE m.competition_id = ? AND m.user_id = ?");
	int rc;

	*entry_id = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	sqlite3_bind_int64(st, 2, user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*entry_id = sqlite3_column_int64(st, 0);
		if (name)
			atr_db_col_copy(st, 1, name, ATR_COMP_NAME_MAX);
	}
	rc = atr_db_row_done(st, rc);
	return rc == ATR_ENOTFOUND ? 0 : rc;
}

/* The team `name` of the competition (made when absent): its id, and its Atrium team (0: ad-hoc). */
static int entry_get_or_make(struct atr_store *s, int64_t comp_id, const char *name, int64_t team_id, int64_t *id,
			     int64_t *team_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, coalesce(team_id, 0) FROM competition_teams"
					      " WHERE competition_id = ? AND name = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	atr_db_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*team_out = sqlite3_column_int64(st, 1);
	}
	rc = atr_db_row_done(st, rc);
	if (rc != ATR_ENOTFOUND)
		return rc;
	st = atr_db_stmt(s->db,
			 "INSERT INTO competition_teams(competition_id, name, team_id, created_at) VALUES (?,?,?,?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	atr_db_bind_text(st, 2, name);
	bind_opt_id(st, 3, team_id);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*id = atr_db_last_id(s->db);
	*team_out = team_id;
	return 0;
}

static int entry_size(struct atr_store *s, int64_t entry_id, int64_t *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) FROM competition_members WHERE entry_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, entry_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

static int add_member(struct atr_store *s, int64_t comp_id, int64_t entry_id, int64_t user_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO competition_members(competition_id, user_id, entry_id,"
					      " joined_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, entry_id);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_competition_join(struct atr_store *s, int64_t comp_id, const char *name, int64_t team_id, int64_t user_id,
			       int64_t max_size, char *why, size_t whylen, int64_t *entry_out)
{
	int64_t current = 0, entry = 0, has_team = 0, size = 0;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_competition_entry_of(s, comp_id, user_id, &current, NULL)) < 0)
		goto fail;
	if ((rc = entry_get_or_make(s, comp_id, name, team_id, &entry, &has_team)) < 0)
		goto fail;
	rc = ATR_ECONFLICT;
	if (current && current != entry) {
		snprintf(why, whylen, "you play for another team of this competition; leave it first");
		goto fail;
	}
	if (current == entry) {
		*entry_out = entry;
		return atr_db_commit(s->db);
	}
	if ((has_team > 0) != (team_id > 0) || (team_id > 0 && has_team != team_id)) {
		snprintf(why, whylen, "team '%s' of this competition is %s", name,
			 has_team ? "an Atrium team's: join it with 'team'" : "ad-hoc: join it with 'name'");
		goto fail;
	}
	if ((rc = entry_size(s, entry, &size)) < 0)
		goto fail;
	if (size >= max_size) {
		snprintf(why, whylen, "team '%s' is full (%lld members at most)", name, (long long)max_size);
		rc = ATR_ECONFLICT;
		goto fail;
	}
	if ((rc = add_member(s, comp_id, entry, user_id)) < 0)
		goto fail;
	*entry_out = entry;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_competition_leave(struct atr_store *s, int64_t comp_id, int64_t user_id)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "DELETE FROM competition_members WHERE competition_id = ? AND user_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	sqlite3_bind_int64(st, 2, user_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		return ATR_ENOTFOUND;
	return rc;
}

int atr_store_competition_teams(struct atr_store *s, int64_t comp_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(
		s,
		"SELECT t.id, t.name, (SELECT name FROM teams WHERE id = t.team_id) AS atrium_team, t.created_at,"
		" (SELECT json_group_array(u.username) FROM competition_members m JOIN users u ON u.id = m.user_id"
		" WHERE m.entry_id = t.id) AS members__json,"
		" (SELECT count(*) FROM competition_submissions x WHERE x.entry_id = t.id AND x.state = 'scored')"
		" AS submissions FROM competition_teams t WHERE t.competition_id = ? AND t.id > ? ORDER BY t.id LIMIT "
		"?",
		comp_id, p, arr, more);
}
