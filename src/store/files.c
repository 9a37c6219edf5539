/* files.c: the files and blobs tables (what points at which bytes). */
#include "atrium/store_files.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <string.h>

int atr_store_file_put(struct atr_store *s, const char *kind, int64_t owner_id, const char *path, const char *sha256,
		       int64_t size)
{
	sqlite3_stmt *st;
	int64_t now = atr_now_ms();
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	st = atr_db_stmt(s->db, "INSERT OR IGNORE INTO blobs(sha256, size, created_at) VALUES (?,?,?)");
	if (!st)
		goto fail;
	atr_db_bind_text(st, 1, sha256);
	sqlite3_bind_int64(st, 2, size);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	st = atr_db_stmt(s->db,
			 "INSERT INTO files(owner_kind, owner_id, path, sha256, size, created_at) VALUES (?,?,?,?,?,?)"
			 " ON CONFLICT(owner_kind, owner_id, path) DO UPDATE SET sha256 = excluded.sha256,"
			 " size = excluded.size, created_at = excluded.created_at");
	if (!st)
		goto fail;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	atr_db_bind_text(st, 3, path);
	atr_db_bind_text(st, 4, sha256);
	sqlite3_bind_int64(st, 5, size);
	sqlite3_bind_int64(st, 6, now);
	if ((rc = atr_db_step_write(st)) < 0)
		goto fail;
	return atr_db_commit(s->db);
fail:
	atr_db_rollback(s->db);
	return rc < 0 ? rc : ATR_EDB;
}

int atr_store_file_get(struct atr_store *s, const char *kind, int64_t owner_id, const char *path, struct atr_file *out)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT sha256, size FROM files WHERE owner_kind = ? AND owner_id = ? AND path = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	atr_db_bind_text(st, 3, path);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		atr_copy(out->sha256, sizeof(out->sha256), (const char *)sqlite3_column_text(st, 0));
		out->size = sqlite3_column_int64(st, 1);
	}
	return atr_db_row_done(st, rc);
}

int atr_store_file_delete(struct atr_store *s, const char *kind, int64_t owner_id, const char *path)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM files WHERE owner_kind = ? AND owner_id = ? AND path = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	atr_db_bind_text(st, 3, path);
	rc = atr_db_step_write(st);
	return rc == 0 && atr_db_changes(s->db) == 0 ? ATR_ENOTFOUND : rc;
}

int atr_store_file_list(struct atr_store *s, const char *kind, int64_t owner_id, const struct atr_page *p, json_t *arr,
			bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT path, size, sha256, created_at FROM files WHERE owner_kind = ?"
					      " AND owner_id = ? AND path > ? ORDER BY path LIMIT ?");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	atr_db_bind_text(st, 3, p->after_kind == ATR_PAGE_STR ? p->after_str : "");
	sqlite3_bind_int(st, 4, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

int atr_store_file_totals(struct atr_store *s, const char *kind, int64_t owner_id, int64_t *count, int64_t *bytes)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*), coalesce(sum(size), 0) FROM files WHERE owner_kind = ?"
					      " AND owner_id = ?");
	int rc;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(st, 0);
		*bytes = sqlite3_column_int64(st, 1);
	}
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : ATR_EDB;
}

int atr_store_files_delete_owner(struct atr_store *s, const char *kind, int64_t owner_id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM files WHERE owner_kind = ? AND owner_id = ?");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	return atr_db_step_write(st);
}

int atr_store_files_copy(struct atr_store *s, const char *from_kind, int64_t from_id, const char *to_kind,
			 int64_t to_id)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "INSERT INTO files(owner_kind, owner_id, path, sha256, size, created_at)"
		       " SELECT ?, ?, path, sha256, size, ? FROM files WHERE owner_kind = ? AND owner_id = ?"
		       " ON CONFLICT(owner_kind, owner_id, path) DO UPDATE SET sha256 = excluded.sha256,"
		       " size = excluded.size");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, to_kind);
	sqlite3_bind_int64(st, 2, to_id);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	atr_db_bind_text(st, 4, from_kind);
	sqlite3_bind_int64(st, 5, from_id);
	return atr_db_step_write(st);
}

/* Files at exactly the prefix (parameter P), or under prefix + "/": the range [prefix/, prefix0),
 * '0' following '/', which the (owner_kind, owner_id, path) index walks. */
#define UNDER(P) " AND (" P " = '' OR path = " P " OR (path >= " P " || '/' AND path < " P " || '0'))"
#define UNDER_6 UNDER("?6")
#define UNDER_3 UNDER("?3")

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int atr_store_files_copy_prefix(struct atr_store *s, const char *from_kind, int64_t from_id, const char *prefix,
				const char *to_kind, int64_t to_id, int64_t *count)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO files(owner_kind, owner_id, path, sha256, size, created_at)"
					      " SELECT ?1, ?2, CASE WHEN ?6 = '' THEN path WHEN path = ?6 THEN ?7"
					      " ELSE substr(path, length(?6) + 2) END, sha256, size, ?3"
					      " FROM files WHERE owner_kind = ?4 AND owner_id = ?5" UNDER_6
					      " ON CONFLICT(owner_kind, owner_id, path) DO UPDATE SET"
					      " sha256 = excluded.sha256, size = excluded.size");
	int rc;

	if (!st)
		return ATR_EDB;
	prefix = prefix ? prefix : "";
	atr_db_bind_text(st, 1, to_kind);
	sqlite3_bind_int64(st, 2, to_id);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	atr_db_bind_text(st, 4, from_kind);
	sqlite3_bind_int64(st, 5, from_id);
	atr_db_bind_text(st, 6, prefix);
	atr_db_bind_text(st, 7, base_name(prefix));
	rc = atr_db_step_write(st);
	if (rc == 0 && count)
		*count = atr_db_changes(s->db);
	return rc;
}

int atr_store_files_count_prefix(struct atr_store *s, const char *kind, int64_t owner_id, const char *prefix,
				 int64_t *count)
{
	sqlite3_stmt *st =
		atr_db_stmt(s->db, "SELECT count(*) FROM files WHERE owner_kind = ?1 AND owner_id = ?2" UNDER_3);
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	atr_db_bind_text(st, 3, prefix ? prefix : "");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	return atr_db_row_done(st, rc);
}

static int diff_list(struct atr_store *s, const char *sql, const char *kind, int64_t x, int64_t y, int max, json_t *arr,
		     bool *truncated)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);
	bool more;
	int rc;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, x);
	sqlite3_bind_int64(st, 3, y);
	sqlite3_bind_int(st, 4, max + 1);
	rc = atr_store_collect(st, max, arr, &more);
	if (more)
		*truncated = true;
	return rc;
}

json_t *atr_store_files_diff(struct atr_store *s, const char *kind, int64_t a, int64_t b, int max, int *err)
{
	json_t *added = json_array(), *removed = json_array(), *changed = json_array(), *out = NULL;
	bool truncated = false;
	sqlite3_stmt *st;
	int64_t unchanged = 0;

	*err = ATR_ENOMEM;
	if (!added || !removed || !changed)
		goto out;
	/* in b, not in a */
	*err = diff_list(s,
			 "SELECT n.path, n.size, n.sha256 FROM files n WHERE n.owner_kind = ?1 AND n.owner_id = ?3"
			 " AND NOT EXISTS (SELECT 1 FROM files o WHERE o.owner_kind = ?1 AND o.owner_id = ?2"
			 " AND o.path = n.path) ORDER BY n.path LIMIT ?4",
			 kind, a, b, max, added, &truncated);
	if (*err < 0)
		goto out;
	*err = diff_list(s,
			 "SELECT o.path, o.size, o.sha256 FROM files o WHERE o.owner_kind = ?1 AND o.owner_id = ?2"
			 " AND NOT EXISTS (SELECT 1 FROM files n WHERE n.owner_kind = ?1 AND n.owner_id = ?3"
			 " AND n.path = o.path) ORDER BY o.path LIMIT ?4",
			 kind, a, b, max, removed, &truncated);
	if (*err < 0)
		goto out;
	*err = diff_list(s,
			 "SELECT o.path, o.size AS old_size, n.size AS new_size, o.sha256 AS old_sha256,"
			 " n.sha256 AS new_sha256 FROM files o JOIN files n ON n.owner_kind = o.owner_kind"
			 " AND n.path = o.path WHERE o.owner_kind = ?1 AND o.owner_id = ?2 AND n.owner_id = ?3"
			 " AND n.sha256 <> o.sha256 ORDER BY o.path LIMIT ?4",
			 kind, a, b, max, changed, &truncated);
	if (*err < 0)
		goto out;
	st = atr_db_stmt(s->db,
			 "SELECT count(*) FROM files o JOIN files n ON n.owner_kind = o.owner_kind AND n.path = o.path"
			 " WHERE o.owner_kind = ? AND o.owner_id = ? AND n.owner_id = ? AND n.sha256 = o.sha256");
	if (!st) {
		*err = ATR_EDB;
		goto out;
	}
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	if (sqlite3_step(st) == SQLITE_ROW)
		unchanged = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	out = json_pack("{s:O, s:O, s:O, s:I, s:b}", "added", added, "removed", removed, "changed", changed,
			"unchanged", (json_int_t)unchanged, "truncated", truncated);
	*err = out ? 0 : ATR_ENOMEM;
out:
	json_decref(added);
	json_decref(removed);
	json_decref(changed);
	return out;
}

bool atr_store_blob_exists(struct atr_store *s, const char *sha256, int64_t *size)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT size FROM blobs WHERE sha256 = ?");
	bool found = false;
	if (!st)
		return false;
	atr_db_bind_text(st, 1, sha256);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		if (size)
			*size = sqlite3_column_int64(st, 0);
	}
	atr_db_done(st);
	return found;
}

int atr_store_blobs_garbage(struct atr_store *s, int64_t before_ms, int max, char (*out)[65], int *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT b.sha256 FROM blobs b WHERE b.created_at < ? AND NOT EXISTS"
					      " (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) LIMIT ?");
	int rc;
	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		atr_copy(out[*n], 65, (const char *)sqlite3_column_text(st, 0));
		(*n)++;
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_blob_forget(struct atr_store *s, const char *sha256, int64_t *size_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS"
					      " (SELECT 1 FROM files f WHERE f.sha256 = blobs.sha256) RETURNING size");
	int rc;
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, sha256);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && size_out)
		*size_out = sqlite3_column_int64(st, 0);
	atr_db_done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? ATR_ECONFLICT : ATR_EDB;
}
