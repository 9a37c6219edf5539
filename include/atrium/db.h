#ifndef ATRIUM_DB_H
#define ATRIUM_DB_H
/*
 * db.h: the SQLite connection (WAL, foreign keys), its prepared-statement cache, nested
 * transactions and the row-to-JSON convention. Only src/store/ includes this header.
 *
 * Row-to-JSON convention (atr_db_row_json): a column whose name ends in "_at" holding an
 * integer (ms since the epoch) becomes an RFC 3339 string; "x__json" holding text becomes
 * the parsed JSON value under "x"; "x__bool" becomes true/false under "x".
 */
#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include <jansson.h>

#include "atrium/embed.h"

struct atr_db;

/* Opens (creating) the database at path; sync_full selects synchronous=FULL. */
int atr_db_open(const char *path, int sync_full, struct atr_db **out);
/* Finalizes cached statements and closes. NULL is fine. */
void atr_db_close(struct atr_db *db);
sqlite3 *atr_db_handle(struct atr_db *db);

/*
 * A cached prepared statement for a constant SQL text (borrowed: do not finalize).
 * It comes back reset with its bindings cleared. NULL on a prepare error (logged).
 */
sqlite3_stmt *atr_db_stmt(struct atr_db *db, const char *sql);
/* Resets a statement from atr_db_stmt after use (also fine to call twice). */
void atr_db_done(sqlite3_stmt *st);
/* atr_db_done(st), then what the step that gave rc found: 0 a row, ATR_ENOTFOUND none,
 * ATR_EDB an error. */
int atr_db_row_done(sqlite3_stmt *st, int rc);

/* Changes whenever anything may have written through this connection (a write statement, a
 * transaction, raw SQL): an answer computed at generation g is still exact while it is g. */
uint64_t atr_db_write_generation(const struct atr_db *db);

/* Ends the read transaction the loop turn's reads share (call before the loop waits). */
void atr_db_end_read(struct atr_db *db);
/* The coming reads belong to a write: in group mode, the turn's write transaction opens now
 * (if it is not open) so they join it instead of opening a read transaction of their own. */
int atr_db_write_ahead(struct atr_db *db);

/*
 * Group commit (see src/store/db.c): on, the writes of a loop turn share one transaction,
 * committed by atr_db_flush; on_commit (may be NULL) is called after each such commit with 0
 * or ATR_EDB (then the turn's writes were rolled back). Off (the default) every transaction
 * commits on its own.
 */
void atr_db_set_group_commit(struct atr_db *db, bool on, void (*on_commit)(void *arg, int rc), void *arg);
/* Whether writes wait for atr_db_flush: nothing written since may be acknowledged yet. */
bool atr_db_uncommitted(const struct atr_db *db);
/* Commits the turn's writes (not while a store transaction is open: it then waits for the
 * next call). 0, or ATR_EDB when the commit failed and the writes were rolled back. */
int atr_db_flush(struct atr_db *db);

/* Runs SQL without parameters (DDL, pragmas). 0 or ATR_EDB. */
int atr_db_exec(struct atr_db *db, const char *sql);

/* Nested transactions: the outermost is BEGIN IMMEDIATE, inner ones are savepoints. */
int atr_db_begin(struct atr_db *db);
/* Whether a transaction (atr_db_begin) is open: a caller's rollback then undoes what runs in it. */
bool atr_db_in_txn(const struct atr_db *db);
int atr_db_commit(struct atr_db *db);
void atr_db_rollback(struct atr_db *db);

/* Steps a write statement expecting SQLITE_DONE; maps constraint errors to ATR_ECONFLICT. */
int atr_db_step_write(sqlite3_stmt *st);
int64_t atr_db_last_id(struct atr_db *db);
int atr_db_changes(struct atr_db *db);

/* The current row as a JSON object (new reference), following the convention above. */
json_t *atr_db_row_json(sqlite3_stmt *st);

/* Binds a JSON value as its compact text (NULL json binds NULL). 0 or ATR_ENOMEM. */
int atr_db_bind_json(sqlite3_stmt *st, int idx, const json_t *v);
/* Copies column i's text into dst (cut to cap; NULL reads as ""). */
void atr_db_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap);
/* Binds a string or NULL (SQLITE_TRANSIENT). */
void atr_db_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Page count * page size of the main database file. */
int64_t atr_db_size_bytes(struct atr_db *db);

/*
 * Applies the embedded migrations in order, one transaction each, recording
 * (version, name, checksum) in schema_migrations. Refuses (ATR_ECONFLICT, message in
 * why) when an applied migration's checksum changed or the database is newer than this
 * binary. applied_out counts migrations applied now (may be NULL).
 */
int atr_db_migrate(struct atr_db *db, const struct atr_embedded *list, size_t n, char *why, size_t whylen,
		   int *applied_out);

/*
 * Online backup to path with SQLite's backup API, a few pages at a time so the loop keeps
 * serving: start, then step until it returns 1 (done) or <0 (failed), then finish.
 * Writes made meanwhile through this connection are carried into the copy by SQLite.
 */
struct atr_db_backup;
int atr_db_backup_start(struct atr_db *db, const char *path, struct atr_db_backup **out);
int atr_db_backup_step(struct atr_db_backup *b, int pages);
/* Closes the copy; returns 0 when it completed. */
int atr_db_backup_finish(struct atr_db_backup *b);

#endif
