/*
 * migrate.c: applies the embedded migrations/NNNN_name.sql files in order, one transaction
 * each, and records them with their sha256 in schema_migrations. A changed checksum or a
 * database newer than the binary stops the start-up with a clear reason.
 */
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int version_of(const char *name, int64_t *v)
{
	char num[8];
	size_t n = 0;

	while (n < 7 && name[n] >= '0' && name[n] <= '9') {
		num[n] = name[n];
		n++;
	}
	num[n] = 0;
	if (n == 0 || name[n] != '_')
		return ATR_EINVAL;
	return atr_parse_i64(num, 1, 9999999, v);
}

static const struct atr_embedded *find_version(const struct atr_embedded *list, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++) {
		int64_t mv;
		if (version_of(list[i].name, &mv) == 0 && mv == v)
			return &list[i];
	}
	return NULL;
}

static int check_applied(struct atr_db *db, const struct atr_embedded *list, size_t n, char *why, size_t whylen)
{
	sqlite3_stmt *st = atr_db_stmt(db, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
	int rc = 0;

	if (!st)
		return ATR_EDB;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sum = (const char *)sqlite3_column_text(st, 2);
		const struct atr_embedded *m = find_version(list, n, v);
		char hex[65];

		if (!m) {
			snprintf(why, whylen,
				 "the database has migration %lld ('%s') that this binary does not know: "
				 "the database is newer than the binary; run a newer atrium",
				 (long long)v, name ? name : "?");
			rc = ATR_ECONFLICT;
			break;
		}
		atr_sha256_hex(m->data, m->len, hex);
		if (!sum || strcmp(hex, sum) != 0) {
			snprintf(why, whylen,
				 "migration '%s' was changed after it was applied (checksum %.12s... in the "
				 "database, %.12s... in this binary); restore the original file",
				 m->name, sum ? sum : "(none)", hex);
			rc = ATR_ECONFLICT;
			break;
		}
	}
	atr_db_done(st);
	return rc;
}

static int applied(struct atr_db *db, int64_t v)
{
	sqlite3_stmt *st = atr_db_stmt(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
	int found;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, v);
	found = sqlite3_step(st) == SQLITE_ROW;
	atr_db_done(st);
	return found;
}

static int apply_one(struct atr_db *db, const struct atr_embedded *m, int64_t v, char *why, size_t whylen)
{
	char *err = NULL;
	char hex[65];
	sqlite3_stmt *st;
	int rc;

	if (atr_db_begin(db) < 0)
		return ATR_EDB;
	if (sqlite3_exec(atr_db_handle(db), (const char *)m->data, NULL, NULL, &err) != SQLITE_OK) {
		snprintf(why, whylen, "migration '%s' failed: %s", m->name, err ? err : "unknown error");
		sqlite3_free(err);
		atr_db_rollback(db);
		return ATR_EDB;
	}
	atr_sha256_hex(m->data, m->len, hex);
	st = atr_db_stmt(db, "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?,?,?,?)");
	if (!st) {
		atr_db_rollback(db);
		return ATR_EDB;
	}
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, atr_now_ms());
	rc = atr_db_step_write(st);
	if (rc == 0)
		rc = atr_db_commit(db);
	else
		atr_db_rollback(db);
	return rc;
}

int atr_db_migrate(struct atr_db *db, const struct atr_embedded *list, size_t n, char *why, size_t whylen,
		   int *applied_out)
{
	int count = 0, rc;

	why[0] = 0;
	if (atr_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			    " checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)") < 0) {
		snprintf(why, whylen, "cannot create schema_migrations");
		return ATR_EDB;
	}
	rc = check_applied(db, list, n, why, whylen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		if (version_of(list[i].name, &v) < 0) {
			snprintf(why, whylen, "migration file '%s' is not named NNNN_name.sql", list[i].name);
			return ATR_EINVAL;
		}
		rc = applied(db, v);
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		rc = apply_one(db, &list[i], v, why, whylen);
		if (rc < 0)
			return rc;
		atr_info("applied migration %s", list[i].name);
		count++;
	}
	if (applied_out)
		*applied_out = count;
	return 0;
}
