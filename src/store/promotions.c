/*
 * promotions.c: the model_aliases and model_promotions tables. An alias moves in one
 * transaction with its history event (and marks the versions it left and reached as changed,
 * for MLflow); approving a promotion moves its alias in the same
 * transaction that marks it approved. Who may do either is decided in src/api/.
 */
#include "atrium/store_models.h"
#include "atrium/store_benchmarks.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"
#include "models_internal.h"

#include <string.h>

int atr_store_model_alias_get(struct atr_store *s, int64_t model_id, const char *alias, int64_t *version_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, model_id);
	atr_db_bind_text(st, 2, alias);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_id = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

static int put_alias(struct atr_store *s, int64_t model_id, const char *alias, int64_t version_id, const char *actor)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "INSERT INTO model_aliases(model_id, alias, version_id, updated_by,"
				   " updated_at) VALUES (?,?,?,?,?) ON CONFLICT(model_id, alias) DO UPDATE SET"
				   " version_id = excluded.version_id, updated_by = excluded.updated_by,"
				   " updated_at = excluded.updated_at");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, model_id);
	atr_db_bind_text(st, 2, alias);
	sqlite3_bind_int64(st, 3, version_id);
	atr_db_bind_text(st, 4, actor);
	sqlite3_bind_int64(st, 5, atr_now_ms());
	return atr_db_step_write(st);
}

int atr_store_model_alias_set(struct atr_store *s, int64_t model_id, const char *alias, int64_t version_id,
			      const char *actor, int64_t promotion_id, int64_t *from_id)
{
	struct atr_model_version v;
	struct model_event e = { .model_id = model_id,
				 .kind = "alias_moved",
				 .alias = alias,
				 .actor = actor,
				 .promotion_id = promotion_id };
	int64_t from = 0;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_version_get(s, version_id, &v)) < 0)
		goto fail;
	if (v.model_id != model_id) {
		rc = ATR_ENOTFOUND;
		goto fail;
	}
	if (!v.committed) {
		rc = ATR_ECONFLICT;
		goto fail;
	}
	rc = atr_store_model_alias_get(s, model_id, alias, &from);
	if (rc < 0 && rc != ATR_ENOTFOUND)
		goto fail;
	if (from_id)
		*from_id = from;
	if (from == version_id && promotion_id == 0)
		return atr_db_commit(s->db); /* unchanged: not a move */
	/* the evaluation gate (benchmarks_gate.c): every way of moving the alias comes here */
	if ((rc = atr_store_gate_check(s, model_id, alias, version_id, NULL, NULL, NULL)) < 0)
		goto fail;
	e.version = v.version;
	e.from_version = atr_store_model_version_number(s, from);
	if ((rc = put_alias(s, model_id, alias, version_id, actor)) < 0 || (rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	/* both versions changed (MLflow's last_updated_timestamp); a version in a stage (the alias
	 * `staging` or `production`) is not archived any more */
	if ((rc = atr_store_model_version_touch(s, version_id)) < 0 ||
	    (from && from != version_id && (rc = atr_store_model_version_touch(s, from)) < 0))
		goto fail;
	if ((strcmp(alias, ATR_ALIAS_STAGING) == 0 || strcmp(alias, ATR_ALIAS_PROTECTED) == 0) &&
	    (rc = atr_store_model_version_archive(s, version_id, false)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_model_alias_delete(struct atr_store *s, int64_t model_id, const char *alias, const char *actor,
				 int64_t *from_id)
{
	struct model_event e = { .model_id = model_id, .kind = "alias_deleted", .alias = alias, .actor = actor };
	sqlite3_stmt *st;
	int64_t from = 0;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_alias_get(s, model_id, alias, &from)) < 0)
		goto fail;
	st = atr_db_stmt(s->db, "DELETE FROM model_aliases WHERE model_id = ? AND alias = ?");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, model_id);
	atr_db_bind_text(st, 2, alias);
	e.from_version = atr_store_model_version_number(s, from);
	if ((rc = atr_db_step_write(st)) < 0 || (rc = atr_store_model_event_add(s, &e)) < 0 ||
	    (rc = atr_store_model_version_touch(s, from)) < 0)
		goto fail;
	if (from_id)
		*from_id = from;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

/* ---- promotions ---- */

int atr_store_promotion_create(struct atr_store *s, int64_t version_id, const char *alias, const char *comment,
			       int64_t user_id, const char *actor, int64_t *id_out)
{
	struct atr_model_version v;
	struct model_event e = { .kind = "promotion_requested", .alias = alias, .actor = actor, .comment = comment };
	sqlite3_stmt *st;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_model_version_get(s, version_id, &v)) < 0)
		goto fail;
	if (!v.committed) {
		rc = ATR_ECONFLICT;
		goto fail;
	}
	st = atr_db_stmt(s->db, "INSERT INTO model_promotions(model_id, version_id, version, alias, comment,"
				" requested_by, requested_at) VALUES (?,?,?,?,?,?,?)");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, v.model_id);
	sqlite3_bind_int64(st, 2, v.id);
	sqlite3_bind_int64(st, 3, v.version);
	atr_db_bind_text(st, 4, alias);
	atr_db_bind_text(st, 5, comment ? comment : "");
	if (user_id > 0)
		sqlite3_bind_int64(st, 6, user_id);
	sqlite3_bind_int64(st, 7, atr_now_ms());
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	e.model_id = v.model_id;
	e.version = v.version;
	e.promotion_id = atr_db_last_id(s->db);
	if ((rc = atr_store_model_event_add(s, &e)) < 0)
		goto fail;
	if ((rc = atr_db_commit(s->db)) < 0)
		return rc;
	if (id_out)
		*id_out = e.promotion_id;
	return 0;
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_promotion_get(struct atr_store *s, int64_t id, struct atr_promotion *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT pr.id, pr.model_id, m.project_id, pr.version_id, pr.version,"
				   " pr.alias, pr.state FROM model_promotions pr JOIN models m ON m.id = pr.model_id"
				   " WHERE pr.id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(st, 0);
		out->model_id = sqlite3_column_int64(st, 1);
		out->project_id = sqlite3_column_int64(st, 2);
		out->version_id = sqlite3_column_int64(st, 3); /* NULL reads as 0 */
		out->version = sqlite3_column_int64(st, 4);
		atr_copy(out->alias, sizeof(out->alias), (const char *)sqlite3_column_text(st, 5));
		atr_copy(out->state, sizeof(out->state), (const char *)sqlite3_column_text(st, 6));
	}
	return atr_db_row_done(st, rc);
}

#define PROMOTION_COLS                                                                                          \
	"pr.id, p.name AS project, m.name AS model, pr.version, pr.version_id, pr.alias, pr.state, pr.comment," \
	" rq.username AS requested_by, pr.requested_at, dc.username AS decided_by, pr.decided_at,"              \
	" pr.decision_comment"
#define PROMOTION_FROM                                                                                         \
	" FROM model_promotions pr JOIN models m ON m.id = pr.model_id JOIN projects p ON p.id = m.project_id" \
	" LEFT JOIN users rq ON rq.id = pr.requested_by LEFT JOIN users dc ON dc.id = pr.decided_by"

json_t *atr_store_promotion_json(struct atr_store *s, int64_t id, int *err)
{
	return atr_store_json_by_id(s, "SELECT " PROMOTION_COLS PROMOTION_FROM " WHERE pr.id = ?", id, err);
}

static int mark_decided(struct atr_store *s, int64_t id, bool approve, int64_t user_id, const char *comment)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE model_promotions SET state = ?, decided_by = ?, decided_at = ?,"
					      " decision_comment = ? WHERE id = ? AND state = 'pending'");
	int rc;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, approve ? "approved" : "rejected");
	if (user_id > 0)
		sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	atr_db_bind_text(st, 4, comment && *comment ? comment : NULL);
	sqlite3_bind_int64(st, 5, id);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ECONFLICT : rc;
}

int atr_store_promotion_decide(struct atr_store *s, int64_t id, bool approve, int64_t user_id, const char *actor,
			       const char *comment, int64_t *from_id)
{
	struct atr_promotion pr;
	struct model_event e = { .kind = "promotion_rejected", .actor = actor, .comment = comment };
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = atr_store_promotion_get(s, id, &pr)) < 0)
		goto fail;
	if (strcmp(pr.state, "pending") != 0 || pr.version_id == 0) {
		rc = ATR_ECONFLICT;
		goto fail;
	}
	if ((rc = mark_decided(s, id, approve, user_id, comment)) < 0)
		goto fail;
	if (approve) {
		rc = atr_store_model_alias_set(s, pr.model_id, pr.alias, pr.version_id, actor, id, from_id);
	} else {
		e.model_id = pr.model_id;
		e.version = pr.version;
		e.alias = pr.alias;
		e.promotion_id = id;
		rc = atr_store_model_event_add(s, &e);
	}
	if (rc < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_promotion_list(struct atr_store *s, const struct atr_promotion_filter *f, const struct atr_page *p,
			     json_t *arr, bool *more)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT " PROMOTION_COLS PROMOTION_FROM " WHERE (?1 IS NULL OR pr.state = ?1)"
				   " AND (?2 = 0 OR pr.id < ?2) AND (?7 = 0 OR pr.model_id = ?7)"
				   " AND CASE WHEN ?3 > 0 THEN m.project_id = ?3"
				   " WHEN ?4 THEN 1"
				   " ELSE p.archived_at IS NULL AND EXISTS (SELECT 1 FROM project_members pm WHERE"
				   " pm.project_id = m.project_id AND pm.user_id = ?5 AND (pm.role = 'owner' OR"
				   " (pm.role = 'editor' AND pr.alias <> '" ATR_ALIAS_PROTECTED "'))) END"
				   " ORDER BY pr.id DESC LIMIT ?6");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, f->state);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int64(st, 3, f->project_id);
	sqlite3_bind_int(st, 4, f->admin);
	sqlite3_bind_int64(st, 5, f->decider_id);
	sqlite3_bind_int(st, 6, p->limit + 1);
	sqlite3_bind_int64(st, 7, f->model_id);
	return atr_store_collect(st, p->limit, arr, more);
}
