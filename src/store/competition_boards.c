/*
 * competition_boards.c: a competition's submissions (the daily limit taken in the same
 * transaction that records one) and its public and private leaderboards. Scores are kept
 * as computed; the boards round them to the published precision and break ties (equal
 * rounded scores) by the earlier submission (the lower id: ids follow arrival).
 * A board is computed once per change: competitions.board_version is bumped in the
 * transaction that scores or selects a submission, and the last boards computed are kept
 * by (database, competition, version, board) until it moves (a read of 10,000 submissions
 * then costs one indexed lookup instead of the window queries).
 */
#include "competitions_internal.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

#define SUB_KIND "competition_submission"

static int count_used(struct atr_store *s, int64_t entry_id, int64_t day, int64_t *used)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) FROM competition_submissions WHERE entry_id = ?"
					      " AND day = ? AND state <> 'invalid'");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, entry_id);
	sqlite3_bind_int64(st, 2, day);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*used = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

int atr_store_comp_submissions_used(struct atr_store *s, int64_t entry_id, int64_t day, int64_t *used)
{
	return count_used(s, entry_id, day, used);
}

static int insert_row(struct atr_store *s, const struct atr_comp_submission *sub, int64_t day)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO competition_submissions(competition_id, entry_id, user_id,"
					      " format, sha256, size, day, state, arrived_at) VALUES (?,?,?,?,?,?,?,"
					      "'scoring',?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub->comp_id);
	sqlite3_bind_int64(st, 2, sub->entry_id);
	if (sub->user_id > 0)
		sqlite3_bind_int64(st, 3, sub->user_id);
	atr_db_bind_text(st, 4, sub->format);
	atr_db_bind_text(st, 5, sub->sha256);
	sqlite3_bind_int64(st, 6, sub->size);
	sqlite3_bind_int64(st, 7, day);
	sqlite3_bind_int64(st, 8, sub->arrived_at);
	return atr_db_step_write(st);
}

/* A predictions file: its row and its file. */
static int insert_submission(struct atr_store *s, const struct atr_comp_submission *sub, int64_t day, const void *cls,
			     int64_t *id)
{
	int rc = insert_row(s, sub, day);

	(void)cls;
	if (rc < 0)
		return rc;
	*id = atr_db_last_id(s->db);
	return atr_store_file_put(s, SUB_KIND, *id, "predictions", sub->sha256, sub->size);
}

int atr_store_comp_sub_admit(struct atr_store *s, const struct atr_comp_submission *sub, int64_t daily_limit,
			     atr_comp_sub_insert_fn insert, const void *cls, int64_t *id_out)
{
	int64_t day = sub->arrived_at / 86400000, used = 0;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	if ((rc = count_used(s, sub->entry_id, day, &used)) < 0)
		goto fail;
	if (used >= daily_limit) {
		rc = ATR_ELIMIT;
		goto fail;
	}
	if ((rc = insert(s, sub, day, cls, id_out)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

int atr_store_comp_submission_add(struct atr_store *s, const struct atr_comp_submission *sub, int64_t daily_limit,
				  int64_t *id_out)
{
	return atr_store_comp_sub_admit(s, sub, daily_limit, insert_submission, NULL, id_out);
}

static int bump(struct atr_store *s, int64_t sub_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competitions SET board_version = board_version + 1 WHERE id ="
					      " (SELECT competition_id FROM competition_submissions WHERE id = ?)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, sub_id);
	return atr_db_step_write(st);
}

int atr_store_comp_submission_scored(struct atr_store *s, int64_t id, bool pub_ok, double pub, bool priv_ok,
				     double priv)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_submissions SET state = 'scored', public_score = ?,"
					      " private_score = ?, scored_at = ? WHERE id = ? AND state = 'scoring'");
	if (!st)
		return ATR_EDB;
	if (pub_ok)
		sqlite3_bind_double(st, 1, pub);
	if (priv_ok)
		sqlite3_bind_double(st, 2, priv);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, id);
	return atr_db_step_write(st) < 0 ? ATR_EDB : bump(s, id);
}

int atr_store_comp_submission_invalid(struct atr_store *s, int64_t id, const char *error)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE competition_submissions SET state = 'invalid', error = ?,"
					      " scored_at = ? WHERE id = ? AND state = 'scoring'");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, error);
	sqlite3_bind_int64(st, 2, atr_now_ms());
	sqlite3_bind_int64(st, 3, id);
	return atr_db_step_write(st);
}

/* ?1 precision, ?2 1 when private scores are shown */
#define SUB_COLS                                                                                                  \
	"x.id, t.name AS team, u.username AS submitted_by, x.format, x.sha256, x.size, x.state,"                  \
	" round(x.public_score, ?1) AS public_score, CASE WHEN ?2 THEN round(x.private_score, ?1) END AS"         \
	" private_score, x.selected AS selected__bool, x.error, x.arrived_at AS submitted_at, x.scored_at,"       \
	" (SELECT json_object('model', mp.name || '/' || m.name, 'version', mv.version) FROM model_versions mv"   \
	" JOIN models m ON m.id = mv.model_id JOIN projects mp ON mp.id = m.project_id WHERE mv.id ="             \
	" x.model_version_id) AS model__json"                                                                     \
	" FROM competition_submissions x JOIN competition_teams t ON t.id = x.entry_id LEFT JOIN users u ON u.id" \
	" = x.user_id"

json_t *atr_store_comp_submission_json(struct atr_store *s, const struct atr_competition *c, int64_t id,
				       bool with_private, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT " SUB_COLS " WHERE x.id = ?3");

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int(st, 1, c->precision);
	sqlite3_bind_int(st, 2, with_private);
	sqlite3_bind_int64(st, 3, id);
	return atr_store_one(st, err);
}

int atr_store_comp_submissions_list(struct atr_store *s, const struct atr_competition *c, int64_t entry_id,
				    bool with_private, const struct atr_page *p, json_t *arr, bool *more)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT " SUB_COLS " WHERE x.competition_id = ?3 AND (?4 = 0 OR"
				   " x.entry_id = ?4) AND (?5 = 0 OR x.id < ?5) ORDER BY x.id DESC LIMIT ?6");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int(st, 1, c->precision);
	sqlite3_bind_int(st, 2, with_private);
	sqlite3_bind_int64(st, 3, c->id);
	sqlite3_bind_int64(st, 4, entry_id);
	sqlite3_bind_int64(st, 5, p->after_id);
	sqlite3_bind_int(st, 6, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_comp_submission_select(struct atr_store *s, int64_t entry_id, int64_t id, bool selected)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "SELECT count(*) FROM competition_submissions WHERE entry_id = ? AND selected = 1"
				" AND id <> ?");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, entry_id);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if ((rc = atr_db_row_done(st, rc)) < 0)
		goto fail;
	if (selected && n >= 2) {
		rc = ATR_ELIMIT;
		goto fail;
	}
	st = atr_db_stmt(s->db, "UPDATE competition_submissions SET selected = ? WHERE id = ? AND entry_id = ?"
				" AND state = 'scored'");
	if (!st) {
		rc = ATR_EDB;
		goto fail;
	}
	sqlite3_bind_int(st, 1, selected);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, entry_id);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	if (atr_db_changes(s->db) == 0) {
		rc = ATR_ENOTFOUND;
		goto fail;
	}
	if ((rc = bump(s, id)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc;
}

/*
 * The boards. ?1 direction (1 higher is better, -1 lower), ?2 precision, ?3 competition.
 * A NULL score (undefined metric) ranks last. Ties: the earlier submission (lower id).
 */
#define BOARD_TAIL                                                                                               \
	" SELECT row_number() OVER (ORDER BY b.score IS NULL, ?1 * b.score DESC, b.id) AS rank, e.name AS team," \
	" b.id AS submission, b.score, b.arrived_at AS submitted_at, b.n AS entries FROM b JOIN"                 \
	" competition_teams e ON e.id = b.entry_id WHERE b.r = 1 ORDER BY rank"
static const char public_sql[] =
	"WITH b AS (SELECT id, entry_id, arrived_at, round(public_score, ?2) AS score, count(*) OVER (PARTITION BY"
	" entry_id) AS n, row_number() OVER (PARTITION BY entry_id ORDER BY public_score IS NULL,"
	" ?1 * round(public_score, ?2) DESC, id) AS r FROM competition_submissions WHERE competition_id = ?3 AND"
	" state = 'scored')" BOARD_TAIL;
static const char private_sql[] =
	"WITH s AS (SELECT id, entry_id, arrived_at, public_score, private_score, selected, count(*) OVER (PARTITION"
	" BY entry_id) AS n, row_number() OVER (PARTITION BY entry_id ORDER BY public_score IS NULL,"
	" ?1 * round(public_score, ?2) DESC, id) AS pr, max(selected) OVER (PARTITION BY entry_id) AS anysel FROM"
	" competition_submissions WHERE competition_id = ?3 AND state = 'scored'),"
	" f AS (SELECT * FROM s WHERE (anysel = 1 AND selected = 1) OR (anysel = 0 AND pr <= 2)),"
	" b AS (SELECT id, entry_id, arrived_at, n, round(private_score, ?2) AS score, row_number() OVER (PARTITION"
	" BY entry_id ORDER BY private_score IS NULL, ?1 * round(private_score, ?2) DESC, id) AS r FROM f)" BOARD_TAIL;

/* The last boards computed (a few competitions, both boards): loop-thread only, as the store. */
#define CACHED 8
static struct board_cache {
	const struct atr_db *db;
	char db_path[1100];
	int64_t comp_id, version;
	bool private_board;
	char *text; /* the board as JSON text */
	size_t len;
} cache[CACHED];

static int board_version(struct atr_store *s, int64_t comp_id, int64_t *v)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT board_version FROM competitions WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, comp_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

static struct board_cache *cache_slot(int64_t comp_id, bool private_board)
{
	return &cache[((size_t)comp_id * 2 + private_board) % CACHED];
}

static json_t *compute_board(struct atr_store *s, const struct atr_competition *c, bool private_board, int *err);

char *atr_store_comp_board(struct atr_store *s, const struct atr_competition *c, bool private_board, size_t *len,
			   int *err)
{
	struct board_cache *e = cache_slot(c->id, private_board);
	int64_t v = 0;
	json_t *items;
	char *text, *copy;

	if ((*err = board_version(s, c->id, &v)) < 0)
		return NULL;
	if (!(e->text && e->db == s->db && e->comp_id == c->id && e->version == v &&
	      e->private_board == private_board && strcmp(e->db_path, s->db_path) == 0)) {
		if (!(items = compute_board(s, c, private_board, err)))
			return NULL;
		text = atr_json_dump(items);
		json_decref(items);
		if (!text) {
			*err = ATR_ENOMEM;
			return NULL;
		}
		free(e->text);
		*e = (struct board_cache){ .db = s->db, .comp_id = c->id, .version = v, .private_board = private_board };
		atr_copy(e->db_path, sizeof(e->db_path), s->db_path);
		e->text = text;
		e->len = strlen(text);
	}
	if (!(copy = malloc(e->len + 1))) {
		*err = ATR_ENOMEM;
		return NULL;
	}
	memcpy(copy, e->text, e->len + 1);
	*len = e->len;
	return copy;
}

static json_t *compute_board(struct atr_store *s, const struct atr_competition *c, bool private_board, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, private_board ? private_sql : public_sql);
	json_t *arr = json_array();
	bool more;
	int rc;

	if (!arr || !st) {
		json_decref(arr);
		*err = arr ? ATR_EDB : ATR_ENOMEM;
		return NULL;
	}
	sqlite3_bind_int(st, 1, c->higher_better ? 1 : -1);
	sqlite3_bind_int(st, 2, c->precision);
	sqlite3_bind_int64(st, 3, c->id);
	rc = atr_store_collect(st, 1000000, arr, &more);
	if (rc < 0) {
		json_decref(arr);
		*err = rc;
		return NULL;
	}
	return arr;
}
