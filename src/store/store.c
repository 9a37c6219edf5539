/*
 * store.c: opens the data directory (database, blobs/, tmp/) and applies migrations;
 * the list/one-row helpers every entity file uses.
 */
#include "atrium/store.h"
#include "atrium/db.h"
#include "atrium/embed.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int atr_store_open(const char *data_dir, int sync_full, struct atr_store **out)
{
	struct atr_store *s = calloc(1, sizeof(*s));
	char why[512];
	int rc, applied = 0;

	if (!s)
		return ATR_ENOMEM;
	atr_copy(s->data_dir, sizeof(s->data_dir), data_dir);
	snprintf(s->blob_dir, sizeof(s->blob_dir), "%s/blobs", data_dir);
	snprintf(s->tmp_dir, sizeof(s->tmp_dir), "%s/tmp", data_dir);
	snprintf(s->db_path, sizeof(s->db_path), "%s/atrium.db", data_dir);
	if (atr_mkdirs(data_dir, 0750) < 0 || atr_mkdirs(s->blob_dir, 0750) < 0 || atr_mkdirs(s->tmp_dir, 0750) < 0) {
		fprintf(stderr, "atrium: cannot create the data directory '%s'\n", data_dir);
		free(s);
		return ATR_EIO;
	}
	rc = atr_db_open(s->db_path, sync_full, &s->db);
	if (rc < 0) {
		fprintf(stderr, "atrium: cannot open the database '%s'\n", s->db_path);
		free(s);
		return rc;
	}
	rc = atr_db_migrate(s->db, atr_migrations, atr_migrations_count, why, sizeof(why), &applied);
	if (rc < 0) {
		fprintf(stderr, "atrium: refusing to start: %s\n", why[0] ? why : "migrations failed");
		atr_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void atr_store_optimize(struct atr_store *s)
{
	/* analysis_limit bounds each table's ANALYZE (rows sampled per index), so a pass takes
	 * milliseconds on a large database; optimize re-analyzes the tables this connection
	 * queried whose statistics are missing or whose rows grew 25-fold since */
	if (atr_db_exec(s->db, "PRAGMA analysis_limit=1000") == 0)
		atr_db_exec(s->db, "PRAGMA optimize");
}

void atr_store_close(struct atr_store *s)
{
	if (!s)
		return;
	if (s->db)
		atr_store_optimize(s);
	atr_db_close(s->db);
	free(s);
}

bool atr_store_ready(struct atr_store *s)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT count(*) FROM schema_migrations");
	bool ok = st && sqlite3_step(st) == SQLITE_ROW;
	atr_db_done(st);
	return ok;
}

int atr_store_collect(sqlite3_stmt *st, int limit, json_t *arr, bool *more)
{
	int n = 0, rc;

	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o;
		if (n == limit) {
			*more = true;
			break;
		}
		o = atr_db_row_json(st);
		if (!o || json_array_append_new(arr, o) < 0) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
		n++;
	}
	atr_db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		atr_error("list query failed: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
		return ATR_EDB;
	}
	return 0;
}

int atr_store_row_by_id(sqlite3_stmt *st, int64_t id, void (*fill)(sqlite3_stmt *st, void *out), void *out)
{
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill(st, out);
	return atr_db_row_done(st, rc);
}

json_t *atr_store_json_by_id(struct atr_store *s, const char *sql, int64_t id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	return atr_store_one(st, err);
}

int atr_store_list_keyed(struct atr_store *s, const char *sql, int64_t key, const struct atr_page *p, json_t *arr,
			 bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, sql);

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, key);
	sqlite3_bind_int64(st, 2, p->after_id);
	sqlite3_bind_int(st, 3, p->limit + 1);
	return atr_store_collect(st, p->limit, arr, more);
}

json_t *atr_store_one(sqlite3_stmt *st, int *err)
{
	int rc = sqlite3_step(st);
	json_t *o = NULL;

	if (rc == SQLITE_ROW) {
		o = atr_db_row_json(st);
		*err = o ? 0 : ATR_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		*err = ATR_ENOTFOUND;
	} else {
		atr_error("query failed: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
		*err = ATR_EDB;
	}
	atr_db_done(st);
	return o;
}

int atr_store_begin(struct atr_store *s)
{
	return atr_db_begin(s->db);
}

int atr_store_commit(struct atr_store *s)
{
	return atr_db_commit(s->db);
}

void atr_store_rollback(struct atr_store *s)
{
	atr_db_rollback(s->db);
}

void atr_store_end_read(struct atr_store *s)
{
	atr_db_end_read(s->db);
}

int atr_store_write_ahead(struct atr_store *s)
{
	return atr_db_write_ahead(s->db);
}

uint64_t atr_store_generation(struct atr_store *s)
{
	return atr_db_write_generation(s->db);
}

void atr_store_set_group_commit(struct atr_store *s, bool on, void (*on_commit)(void *arg, int rc), void *arg)
{
	atr_db_set_group_commit(s->db, on, on_commit, arg);
}

bool atr_store_uncommitted(struct atr_store *s)
{
	return atr_db_uncommitted(s->db);
}

int atr_store_flush(struct atr_store *s)
{
	return atr_db_flush(s->db);
}
