/*
 * gc.c: the blob rows side of garbage collection. Scans are bounded (at most `max` rows
 * examined per call, resuming after the last sha256) so one call never walks the whole
 * table on the loop. Removing bytes is the collector's job (src/artifacts/gc.c).
 */
#include "atrium/store_gc.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <stdio.h>

int atr_store_gc_scan(struct atr_store *s, const char *after, int64_t before_ms, int max, char (*out)[65], int *n,
		      char last[65], int *examined)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT b.sha256, b.created_at < ? AND NOT EXISTS (SELECT 1 FROM files f"
					      " WHERE f.sha256 = b.sha256) FROM blobs b WHERE b.sha256 > ?"
					      " ORDER BY b.sha256 LIMIT ?");
	int rc;

	*n = 0;
	*examined = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, before_ms);
	atr_db_bind_text(st, 2, after ? after : "");
	sqlite3_bind_int(st, 3, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(st, 0);
		atr_copy(last, 65, sha);
		(*examined)++;
		if (sqlite3_column_int(st, 1))
			atr_copy(out[(*n)++], 65, sha);
	}
	atr_db_done(st);
	return rc == SQLITE_DONE ? 0 : ATR_EDB;
}

int atr_store_gc_forget(struct atr_store *s, char (*shas)[65], int n, int64_t *sizes)
{
	int rc;

	if ((rc = atr_db_begin(s->db)) < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		sizes[i] = -1;
		rc = atr_store_blob_forget(s, shas[i], &sizes[i]);
		if (rc == ATR_ECONFLICT)
			sizes[i] = -1; /* referenced again since the scan: kept */
		else if (rc < 0) {
			atr_db_rollback(s->db);
			return rc;
		}
	}
	return atr_db_commit(s->db);
}

int atr_store_gc_known(struct atr_store *s, const char *sha256)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)"
					      " OR EXISTS (SELECT 1 FROM files WHERE sha256 = ?1)");
	int rc, known = 0;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, sha256);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		known = sqlite3_column_int(st, 0);
	atr_db_done(st);
	return rc == SQLITE_ROW ? known : ATR_EDB;
}
