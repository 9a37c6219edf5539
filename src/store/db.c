/*
 * db.c: the SQLite connection, statement cache and transactions. One connection, used only
 * from the loop thread: SQLite is the single writer and there is nothing to lock.
 *
 * Group commit (atr_db_set_group_commit, the daemon's mode): the writes of one loop turn
 * share one transaction, committed when the loop is about to wait (atr_db_flush) or before
 * anything that must not run inside it. A store transaction (atr_db_begin at depth 0) is a
 * savepoint in it: its rollback undoes only its own writes. Nothing written is acknowledged
 * before the commit: the server holds every answer given while writes are uncommitted
 * (atr_db_uncommitted) and sends them after it. Each commit writes a page the turn's writes
 * share (a table's last leaf, an index's) once, not once per request, and takes SQLite's
 * locks once: with many small writes per turn that is most of their cost.
 *
 * Not here: any entity's SQL (see the other files of src/store/), migrations (migrate.c).
 */
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 512 /* power of two; constant SQL texts only, so it never fills */
#define PTR_SLOTS 256	/* power of two: the address-keyed front of the cache */
#define CTL_DEPTHS 8	/* savepoint statements kept prepared for this many nesting levels */

/* Transaction control statements, prepared once: parsing them costs more than running them. */
enum ctl { CTL_BEGIN, CTL_BEGIN_READ, CTL_COMMIT, CTL_ROLLBACK, CTL_NFIXED };
enum ctl_sp { SP_SAVE, SP_RELEASE, SP_ROLLBACK_TO, SP_NVERBS };

struct cache_slot {
	char *sql;
	uint64_t hash;
	sqlite3_stmt *st;
};

struct atr_db {
	sqlite3 *h;
	int depth;	    /* transaction nesting */
	bool read_txn;	    /* the loop turn's shared read transaction is open (see atr_db_end_read) */
	uint64_t write_gen; /* bumped by anything that may write: answers cached before are stale */
	bool group_mode;    /* writes share one transaction per loop turn (see the top) */
	bool group_open;    /* that transaction is open: its writes are not committed yet */
	void (*on_commit)(void *arg, int rc);
	void *on_commit_arg;
	sqlite3_stmt *ctl[CTL_NFIXED];
	sqlite3_stmt *sp[SP_NVERBS][CTL_DEPTHS];
	struct cache_slot cache[CACHE_SLOTS];
	/* The same SQL text comes from the same string literal: its address finds its slot
	 * without hashing the text (the text is still compared, so any pointer is safe). */
	struct {
		const char *ptr;
		struct cache_slot *slot;
	} by_ptr[PTR_SLOTS];
};

static const char *const ctl_sql[CTL_NFIXED] = { "BEGIN IMMEDIATE", "BEGIN DEFERRED", "COMMIT", "ROLLBACK" };
static const char *const sp_verb[SP_NVERBS] = { "SAVEPOINT", "RELEASE", "ROLLBACK TO" };

/* Runs a prepared-once statement; 0 or ATR_EDB (logged). */
static int run_ctl(struct atr_db *db, sqlite3_stmt **slot, const char *sql)
{
	int rc;

	if (!*slot && sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
		atr_error("prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
		return ATR_EDB;
	}
	rc = sqlite3_step(*slot);
	sqlite3_reset(*slot);
	if (rc != SQLITE_DONE) {
		atr_error("sql failed: %s: %s", sqlite3_errmsg(db->h), sql ? sql : sqlite3_sql(*slot));
		return ATR_EDB;
	}
	return 0;
}

static int ctl(struct atr_db *db, enum ctl which)
{
	db->write_gen++;
	return run_ctl(db, &db->ctl[which], ctl_sql[which]);
}

/* SAVEPOINT / RELEASE / ROLLBACK TO sp<depth>. */
static int ctl_sp(struct atr_db *db, enum ctl_sp verb, int depth)
{
	char sql[48];

	db->write_gen++;
	if (depth < CTL_DEPTHS && db->sp[verb][depth])
		return run_ctl(db, &db->sp[verb][depth], NULL); /* prepared: the text is only for its errors */
	snprintf(sql, sizeof(sql), "%s sp%d", sp_verb[verb], depth);
	if (depth >= CTL_DEPTHS) {
		sqlite3_stmt *once = NULL;
		int rc = run_ctl(db, &once, sql);
		sqlite3_finalize(once);
		return rc;
	}
	return run_ctl(db, &db->sp[verb][depth], sql);
}

/*
 * Before SQLite's first use: no memory statistics (nothing reads them), which otherwise take
 * a global mutex around every one of SQLite's allocations (dozens per write request).
 */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int atr_db_open(const char *path, int sync_full, struct atr_db **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct atr_db *db;
	int rc;

	pthread_once(&once, sqlite_setup);
	db = calloc(1, sizeof(*db));
	if (!db)
		return ATR_ENOMEM;
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		atr_error("cannot open database '%s': %s", path, db->h ? sqlite3_errmsg(db->h) : "no memory");
		sqlite3_close(db->h);
		free(db);
		return ATR_EDB;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, 5000);
	if (atr_db_exec(db, "PRAGMA journal_mode=WAL") < 0 || atr_db_exec(db, "PRAGMA foreign_keys=ON") < 0 ||
	    atr_db_exec(db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") < 0 ||
	    atr_db_exec(db, "PRAGMA temp_store=MEMORY") < 0 || atr_db_exec(db, "PRAGMA cache_size=-16000") < 0) {
		atr_db_close(db);
		return ATR_EDB;
	}
	*out = db;
	return 0;
}

void atr_db_close(struct atr_db *db)
{
	if (!db)
		return;
	atr_db_end_read(db);
	atr_db_flush(db);
	for (int i = 0; i < CTL_NFIXED; i++)
		sqlite3_finalize(db->ctl[i]);
	for (int v = 0; v < SP_NVERBS; v++)
		for (int i = 0; i < CTL_DEPTHS; i++)
			sqlite3_finalize(db->sp[v][i]);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		sqlite3_finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		atr_error("closing database: %s", sqlite3_errmsg(db->h));
	free(db);
}

sqlite3 *atr_db_handle(struct atr_db *db)
{
	return db->h;
}

/*
 * Reads share one deferred read transaction per loop turn instead of one each: in WAL mode
 * every read transaction takes and drops a lock on the -shm file (two fcntl calls), which
 * costs as much as the rest of a small answer. The transaction opens at the turn's first
 * read and ends when the loop is about to wait (atr_db_end_read from a uv_prepare), or
 * before anything writes: a write always runs and commits on its own, before its answer.
 */
void atr_db_end_read(struct atr_db *db)
{
	if (!db->read_txn)
		return;
	db->read_txn = false;
	if (run_ctl(db, &db->ctl[CTL_COMMIT], ctl_sql[CTL_COMMIT]) < 0 || !sqlite3_get_autocommit(db->h))
		atr_error("could not end the shared read transaction: %s", sqlite3_errmsg(db->h));
}

void atr_db_set_group_commit(struct atr_db *db, bool on, void (*on_commit)(void *arg, int rc), void *arg)
{
	atr_db_flush(db);
	db->group_mode = on;
	db->on_commit = on_commit;
	db->on_commit_arg = arg;
}

bool atr_db_uncommitted(const struct atr_db *db)
{
	return db->group_open;
}

/* Group mode: opens the turn's write transaction (ending its read transaction) if needed. */
static int group_open(struct atr_db *db)
{
	if (db->group_open)
		return 0;
	atr_db_end_read(db);
	if (ctl(db, CTL_BEGIN) < 0)
		return ATR_EDB;
	db->group_open = true;
	return 0;
}

int atr_db_write_ahead(struct atr_db *db)
{
	return db->group_mode && db->depth == 0 ? group_open(db) : 0;
}

int atr_db_flush(struct atr_db *db)
{
	int rc;

	if (!db->group_open || db->depth > 0)
		return 0; /* nothing to commit, or a store transaction is in the middle: at its end */
	db->group_open = false;
	rc = ctl(db, CTL_COMMIT);
	if (rc < 0) {
		atr_error("could not commit the writes of a loop turn: %s", sqlite3_errmsg(db->h));
		if (!sqlite3_get_autocommit(db->h))
			run_ctl(db, &db->ctl[CTL_ROLLBACK], ctl_sql[CTL_ROLLBACK]);
	}
	if (db->on_commit)
		db->on_commit(db->on_commit_arg, rc);
	return rc;
}

/* Before a statement runs outside an explicit transaction: reads join the turn's read (or
 * group) transaction; a write ends the read transaction and runs on its own, or in group mode
 * joins the group. false when a write cannot run (then it must not run). */
static bool prepare_for(struct atr_db *db, sqlite3_stmt *st)
{
	if (db->depth > 0)
		return true;
	if (sqlite3_stmt_readonly(st)) {
		if (!db->read_txn && sqlite3_get_autocommit(db->h)) {
			if (run_ctl(db, &db->ctl[CTL_BEGIN_READ], ctl_sql[CTL_BEGIN_READ]) == 0)
				db->read_txn = true;
		}
		return true;
	}
	db->write_gen++;
	if (db->group_mode)
		return group_open(db) == 0;
	atr_db_end_read(db);
	return sqlite3_get_autocommit(db->h) != 0;
}

uint64_t atr_db_write_generation(const struct atr_db *db)
{
	return db->write_gen;
}

/* A cached statement, ready to bind and step. */
static sqlite3_stmt *reuse(struct atr_db *db, struct cache_slot *s)
{
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	return prepare_for(db, s->st) ? s->st : NULL;
}

sqlite3_stmt *atr_db_stmt(struct atr_db *db, const char *sql)
{
	uintptr_t a = (uintptr_t)sql;
	unsigned pi = (unsigned)((a >> 3) ^ (a >> 12)) & (PTR_SLOTS - 1);
	uint64_t h;
	unsigned i;
	sqlite3_stmt *st = NULL;

	if (db->by_ptr[pi].ptr == sql && db->by_ptr[pi].slot->sql && strcmp(db->by_ptr[pi].slot->sql, sql) == 0)
		return reuse(db, db->by_ptr[pi].slot);
	h = atr_fnv1a(sql, strlen(sql));
	i = (unsigned)h & (CACHE_SLOTS - 1);
	for (unsigned probe = 0; probe < CACHE_SLOTS; probe++, i = (i + 1) & (CACHE_SLOTS - 1)) {
		struct cache_slot *s = &db->cache[i];
		if (!s->sql)
			break;
		if (s->hash == h && strcmp(s->sql, sql) == 0) {
			db->by_ptr[pi].ptr = sql;
			db->by_ptr[pi].slot = s;
			return reuse(db, s);
		}
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		atr_error("prepare failed: %s: %.120s", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	if (db->cache[i].sql) { /* table full: should not happen with constant SQL */
		atr_warn("statement cache full");
		sqlite3_finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	db->cache[i].sql = strdup(sql);
	if (!db->cache[i].sql) {
		sqlite3_finalize(st);
		db->cache[i].st = NULL;
		return NULL;
	}
	db->cache[i].hash = h;
	db->cache[i].st = st;
	db->by_ptr[pi].ptr = sql;
	db->by_ptr[pi].slot = &db->cache[i];
	return prepare_for(db, st) ? st : NULL;
}

void atr_db_done(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

int atr_db_row_done(sqlite3_stmt *st, int rc)
{
	atr_db_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ATR_ENOTFOUND : ATR_EDB;
}

int atr_db_exec(struct atr_db *db, const char *sql)
{
	char *msg = NULL;

	if (db->depth == 0) {
		atr_db_end_read(db);
		atr_db_flush(db); /* raw SQL (DDL, pragmas) runs on its own */
	}
	db->write_gen++;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		atr_error("sql failed: %s: %.120s", msg ? msg : sqlite3_errmsg(db->h), sql);
		sqlite3_free(msg);
		return ATR_EDB;
	}
	return 0;
}

/*
 * The outermost transaction is BEGIN IMMEDIATE (in group mode: a savepoint in the turn's
 * transaction, sp0), inner ones are savepoints sp<depth>.
 */
int atr_db_begin(struct atr_db *db)
{
	int rc;

	if (db->depth == 0 && db->group_mode)
		rc = group_open(db) == 0 ? ctl_sp(db, SP_SAVE, 0) : ATR_EDB;
	else if (db->depth == 0) {
		atr_db_end_read(db);
		rc = ctl(db, CTL_BEGIN);
	} else
		rc = ctl_sp(db, SP_SAVE, db->depth);
	if (rc == 0)
		db->depth++;
	return rc;
}

bool atr_db_in_txn(const struct atr_db *db)
{
	return db->depth > 0;
}

int atr_db_commit(struct atr_db *db)
{
	int rc;

	if (db->depth <= 0)
		return ATR_EDB;
	if (db->depth == 1 && !db->group_mode)
		rc = ctl(db, CTL_COMMIT);
	else
		rc = ctl_sp(db, SP_RELEASE, db->depth - 1); /* group mode: committed with its turn */
	if (rc < 0) {
		atr_db_rollback(db);
		return rc;
	}
	db->depth--;
	return 0;
}

void atr_db_rollback(struct atr_db *db)
{
	if (db->depth <= 0)
		return;
	if (db->depth == 1 && !db->group_mode) {
		if (sqlite3_get_autocommit(db->h) == 0)
			ctl(db, CTL_ROLLBACK);
	} else if (!sqlite3_get_autocommit(db->h)) {
		ctl_sp(db, SP_ROLLBACK_TO, db->depth - 1);
		ctl_sp(db, SP_RELEASE, db->depth - 1);
	}
	db->depth--;
}

int atr_db_step_write(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int out = 0;

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		out = 0;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		out = ATR_ECONFLICT;
	else {
		atr_error("sql step failed: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
		out = ATR_EDB;
	}
	sqlite3_reset(st);
	return out;
}

int64_t atr_db_last_id(struct atr_db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

int atr_db_changes(struct atr_db *db)
{
	return sqlite3_changes(db->h);
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

json_t *atr_db_row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(st);

	if (!o)
		return NULL;
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		size_t nl = strlen(name);
		int type = sqlite3_column_type(st, i);
		char key[128];
		json_t *v = NULL;

		if (nl >= sizeof(key))
			continue;
		memcpy(key, name, nl + 1);
		if (ends_with(name, nl, "__json")) {
			key[nl - 6] = 0;
			if (type == SQLITE_NULL)
				v = json_null();
			else
				v = json_loadb((const char *)sqlite3_column_text(st, i),
					       (size_t)sqlite3_column_bytes(st, i), JSON_DECODE_ANY, NULL);
			if (!v)
				v = json_null();
		} else if (ends_with(name, nl, "__bool")) {
			key[nl - 6] = 0;
			v = type == SQLITE_NULL ? json_null() : json_boolean(sqlite3_column_int(st, i));
		} else if (type == SQLITE_NULL) {
			v = json_null();
		} else if (type == SQLITE_INTEGER && ends_with(name, nl, "_at")) {
			char ts[40];
			atr_time_format(sqlite3_column_int64(st, i), ts, sizeof(ts));
			v = json_string(ts);
		} else if (type == SQLITE_INTEGER) {
			v = json_integer(sqlite3_column_int64(st, i));
		} else if (type == SQLITE_FLOAT) {
			v = json_real(sqlite3_column_double(st, i));
		} else if (type == SQLITE_TEXT) {
			v = json_stringn((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
		} else {
			continue; /* blobs are never part of an API object */
		}
		if (json_object_set_new(o, key, v ? v : json_null()) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int atr_db_bind_json(sqlite3_stmt *st, int idx, const json_t *v)
{
	char *s;
	if (!v) {
		sqlite3_bind_null(st, idx);
		return 0;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return ATR_ENOMEM;
	sqlite3_bind_text(st, idx, s, -1, free);
	return 0;
}

void atr_db_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	atr_copy(dst, cap, (const char *)sqlite3_column_text(st, i));
}

void atr_db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

int64_t atr_db_size_bytes(struct atr_db *db)
{
	sqlite3_stmt *a = atr_db_stmt(db, "PRAGMA page_count");
	int64_t pages = 0, size = 0;

	if (a && sqlite3_step(a) == SQLITE_ROW)
		pages = sqlite3_column_int64(a, 0);
	atr_db_done(a);
	a = atr_db_stmt(db, "PRAGMA page_size");
	if (a && sqlite3_step(a) == SQLITE_ROW)
		size = sqlite3_column_int64(a, 0);
	atr_db_done(a);
	return pages * size;
}

struct atr_db_backup {
	struct atr_db *src;
	sqlite3 *dst;
	sqlite3_backup *b;
	int rc;
};

int atr_db_backup_start(struct atr_db *db, const char *path, struct atr_db_backup **out)
{
	struct atr_db_backup *k;

	atr_db_flush(db); /* the copy starts from committed pages */
	if (!(k = calloc(1, sizeof(*k))))
		return ATR_ENOMEM;
	k->src = db;
	if (sqlite3_open_v2(path, &k->dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		sqlite3_close(k->dst);
		free(k);
		return ATR_EIO;
	}
	k->b = sqlite3_backup_init(k->dst, "main", db->h, "main");
	if (!k->b) {
		atr_error("backup: %s", sqlite3_errmsg(k->dst));
		sqlite3_close(k->dst);
		free(k);
		return ATR_EDB;
	}
	k->rc = SQLITE_OK;
	*out = k;
	return 0;
}

int atr_db_backup_step(struct atr_db_backup *k, int pages)
{
	atr_db_flush(k->src); /* copy committed pages only, never a turn's writes in flight */
	k->rc = sqlite3_backup_step(k->b, pages);
	if (k->rc == SQLITE_DONE)
		return 1;
	if (k->rc == SQLITE_OK || k->rc == SQLITE_BUSY || k->rc == SQLITE_LOCKED)
		return 0;
	return ATR_EDB;
}

int atr_db_backup_finish(struct atr_db_backup *k)
{
	int done = k->rc == SQLITE_DONE;

	sqlite3_backup_finish(k->b);
	if (done)
		sqlite3_exec(k->dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	sqlite3_close(k->dst);
	free(k);
	return done ? 0 : ATR_EDB;
}
