/*
 * search.c: queries the search_index FTS5 table (kept by the triggers of 0009_search.sql)
 * with the caller's visibility applied in the same statement, so a private project of
 * someone else never reaches the answer. User text never reaches FTS5 unquoted.
 */
#include "atrium/store_search.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"

#include <ctype.h>
#include <string.h>

int atr_search_expr(const char *q, char *out, size_t outlen)
{
	size_t o = 0;
	int terms = 0;
	const char *p = q;

	if (!q || outlen == 0)
		return ATR_EINVAL;
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (++terms > ATR_SEARCH_MAX_TERMS)
			return ATR_EINVAL;
		if (o + 2 >= outlen)
			return ATR_EINVAL;
		if (o)
			out[o++] = ' ';
		out[o++] = '"';
		for (; *p && !isspace((unsigned char)*p); p++) {
			if (o + 4 >= outlen)
				return ATR_EINVAL;
			if (*p == '"')
				out[o++] = '"';
			out[o++] = *p;
		}
		out[o++] = '"';
		out[o++] = '*';
	}
	if (!terms || o >= outlen)
		return ATR_EINVAL;
	out[o] = 0;
	return 0;
}

int atr_store_search(struct atr_store *s, const struct atr_search_query *q, const struct atr_page *p, json_t *arr,
		     bool *more, double *last_score, int64_t *last_rowid)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db,
		"SELECT search_index.rowid, search_index.kind, search_index.ref_id, pr.name, search_index.name,"
		" snippet(search_index, -1, '**', '**', '...', 12), search_index.rank"
		" FROM search_index JOIN projects pr ON pr.id = search_index.project_id"
		" WHERE search_index MATCH ?1 AND (?2 IS NULL OR search_index.kind = ?2) AND pr.archived_at IS NULL"
		" AND (?3 OR search_index.kind = 'template' OR pr.visibility = 'internal' OR EXISTS (SELECT 1 FROM "
		"project_members m"
		" WHERE m.project_id = pr.id AND m.user_id = ?4))"
		/* a competition's scorer jobs and scoring dataset: its organisers only (migration 0041) */
		" AND (?3 OR NOT ((search_index.kind = 'job' AND EXISTS (SELECT 1 FROM competition_scorer_runs y"
		" WHERE y.job_id = search_index.ref_id)) OR (search_index.kind = 'dataset' AND EXISTS (SELECT 1 FROM"
		" competitions c WHERE c.scorer_dataset_id = search_index.ref_id))) OR EXISTS (SELECT 1 FROM"
		" project_members m WHERE m.project_id = pr.id AND m.user_id = ?4 AND m.role = 'owner'))"
		" AND (?5 = 0 OR search_index.rank > ?6 OR (search_index.rank = ?6 AND search_index.rowid > ?7))"
		" ORDER BY search_index.rank, search_index.rowid LIMIT ?8");
	int n = 0, rc;

	*more = false;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, q->expr);
	atr_db_bind_text(st, 2, q->kind);
	sqlite3_bind_int(st, 3, q->admin);
	sqlite3_bind_int64(st, 4, q->user_id);
	sqlite3_bind_int(st, 5, p->after_kind == ATR_PAGE_NUM);
	sqlite3_bind_double(st, 6, p->after_num);
	sqlite3_bind_int64(st, 7, p->after_id);
	sqlite3_bind_int(st, 8, p->limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o;
		if (n == p->limit) {
			*more = true;
			break;
		}
		o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "kind", (const char *)sqlite3_column_text(st, 1), "id",
			      (json_int_t)sqlite3_column_int64(st, 2), "project",
			      (const char *)sqlite3_column_text(st, 3), "name",
			      (const char *)sqlite3_column_text(st, 4), "snippet",
			      sqlite3_column_text(st, 5) ? (const char *)sqlite3_column_text(st, 5) : "");
		if (!o || json_array_append_new(arr, o) < 0) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
		*last_rowid = sqlite3_column_int64(st, 0);
		*last_score = sqlite3_column_double(st, 6);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		/* FTS5 reports a query it cannot parse as SQLITE_ERROR from the step */
		atr_debug("search query '%s' failed: %s", q->expr, sqlite3_errmsg(sqlite3_db_handle(st)));
		atr_db_done(st);
		return rc == SQLITE_ERROR ? ATR_EINVAL : ATR_EDB;
	}
	atr_db_done(st);
	return 0;
}
