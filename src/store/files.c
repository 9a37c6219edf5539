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

/* ---- folders (MLflow's artifact listings) ---- */

#define CHILDREN_BATCH 256

/* What lies under folder dir: paths in [dir/, dir0) ('0' follows '/'); the root: from "" on, no
 * upper bound (hi ""). false when dir does not fit. */
static bool folder_bounds(const char *dir, char *lo, char *hi, size_t len)
{
	size_t n = strlen(dir);

	if (n + 2 > len)
		return false;
	lo[0] = hi[0] = 0;
	if (n) {
		memcpy(lo, dir, n);
		memcpy(hi, dir, n);
		lo[n] = '/';
		hi[n] = '0';
		lo[n + 1] = hi[n + 1] = 0;
	}
	return true;
}

/* The owner's files from `from` on (inclusive), before hi unless hi is "", in path order. */
static sqlite3_stmt *scan_stmt(struct atr_store *s, const char *kind, int64_t owner_id, const char *from,
			       const char *hi, int limit)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, *hi ? "SELECT path, size FROM files WHERE owner_kind = ? AND owner_id = ?"
						    " AND path >= ? AND path < ? ORDER BY path LIMIT ?"
						  : "SELECT path, size FROM files WHERE owner_kind = ? AND owner_id = ?"
						    " AND path >= ? ORDER BY path LIMIT ?");
	if (!st)
		return NULL;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	atr_db_bind_text(st, 3, from);
	if (*hi)
		atr_db_bind_text(st, 4, hi);
	sqlite3_bind_int(st, *hi ? 5 : 4, limit);
	return st;
}

struct children {
	json_t *arr;
	int max, n;
	bool more;
	size_t plen;	 /* the length of the folder's prefix, "<dir>/" */
	char from[1100]; /* where the next batch starts (inclusive) */
	char hi[1100];	 /* and where it ends ("": at the owner's last file) */
};

static int append_child(json_t *arr, const char *name, size_t len, bool dir, int64_t size)
{
	json_t *o;

	if (!atr_utf8_valid(name, len)) /* (stored before paths had to be UTF-8: JSON cannot carry it) */
		return 0;
	o = dir ? json_pack("{s:s%, s:b}", "path", name, len, "is_dir", 1)
		: json_pack("{s:s%, s:b, s:I}", "path", name, len, "is_dir", 0, "file_size", (json_int_t)size);
	return o && json_array_append_new(arr, o) == 0 ? 0 : ATR_ENOMEM;
}

/* One batch of the scan: 1 when another must follow (c->from is set), 0 at the end, or an error.
 * A path with a '/' after the prefix is a folder: listed once, its files skipped by starting
 * the next batch at "<dir>/<name>0". */
static int children_batch(struct atr_store *s, const char *kind, int64_t owner_id, struct children *c)
{
	sqlite3_stmt *st = scan_stmt(s, kind, owner_id, c->from, c->hi, CHILDREN_BATCH);
	char next[1100];
	int rows = 0, rc = SQLITE_DONE, out = 0;

	if (!st)
		return ATR_EDB;
	while (out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0), *name = path + c->plen;
		const char *slash = strchr(name, '/');

		if (c->n == c->max) {
			c->more = true;
			break;
		}
		out = append_child(c->arr, name, slash ? (size_t)(slash - name) : strlen(name), slash != NULL,
				   sqlite3_column_int64(st, 1));
		c->n++;
		rows++;
		if (out == 0 && slash) {
			snprintf(next, sizeof(next), "%.*s0", (int)(slash - path), path);
			out = 1;
		} else if (out == 0 && rows == CHILDREN_BATCH) { /* on after this path (no path holds \x01) */
			snprintf(next, sizeof(next), "%s\x01", path);
			out = 1;
		}
	}
	if (out == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		out = ATR_EDB;
	atr_db_done(st);
	if (out == 1)
		memcpy(c->from, next, sizeof(next));
	return out;
}

int atr_store_file_children(struct atr_store *s, const char *kind, int64_t owner_id, const char *dir, int max,
			    json_t *arr, bool *more)
{
	struct children c = { .arr = arr, .max = max };
	int rc;

	*more = false;
	if (!folder_bounds(dir, c.from, c.hi, sizeof(c.from)))
		return ATR_EINVAL;
	c.plen = strlen(c.from);
	while ((rc = children_batch(s, kind, owner_id, &c)) == 1)
		;
	*more = c.more;
	return rc;
}

int atr_store_file_is_dir(struct atr_store *s, const char *kind, int64_t owner_id, const char *dir)
{
	char lo[1100], hi[1100];
	sqlite3_stmt *st;
	int rc;

	if (!*dir || !folder_bounds(dir, lo, hi, sizeof(lo)))
		return 0;
	if (!(st = scan_stmt(s, kind, owner_id, lo, hi, 1)))
		return ATR_EDB;
	rc = atr_db_row_done(st, sqlite3_step(st));
	return rc == 0 ? 1 : rc == ATR_ENOTFOUND ? 0 : rc;
}

int atr_store_files_delete_tree(struct atr_store *s, const char *kind, int64_t owner_id, const char *path, int *n)
{
	char lo[1100], hi[1100];
	sqlite3_stmt *st;
	int rc;

	if (!folder_bounds(path, lo, hi, sizeof(lo)))
		return ATR_EINVAL;
	/* [path, path0) holds the file, the folder's files and the few siblings between them
	 * ("path.txt", "path-b": characters before '/'), which the last test leaves out; one index range. */
	st = atr_db_stmt(s->db, *path ? "DELETE FROM files WHERE owner_kind = ?1 AND owner_id = ?2"
					" AND path >= ?3 AND path < ?5 AND (path = ?3 OR path >= ?4)"
				      : "DELETE FROM files WHERE owner_kind = ?1 AND owner_id = ?2");
	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner_id);
	if (*path) {
		atr_db_bind_text(st, 3, path);
		atr_db_bind_text(st, 4, lo);
		atr_db_bind_text(st, 5, hi);
	}
	rc = atr_db_step_write(st);
	if (rc == 0 && n)
		*n = atr_db_changes(s->db);
	return rc;
}
