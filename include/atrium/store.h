#ifndef ATRIUM_STORE_H
#define ATRIUM_STORE_H
/*
 * store.h: the persistent state. struct atr_store owns the database connection and the
 * data directory layout; entity functions live in src/store/<entity>.c and are declared in
 * include/atrium/store_<entity>.h. api/ never writes SQL: it calls these.
 *
 * List functions take a struct atr_page and fill a JSON array with at most page->limit
 * objects; *more says whether another page follows (the next cursor is built by the caller
 * from the last item, see atr_reply_page).
 */
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct atr_db;

struct atr_store {
	struct atr_db *db;
	char data_dir[1024];
	char blob_dir[1100]; /* data_dir/blobs: content-addressed files */
	char tmp_dir[1100];  /* data_dir/tmp: uploads in flight */
	char db_path[1100];
};

/* A decoded cursor: [id] or [value, id] (value a number, a string or null). */
enum atr_page_value { ATR_PAGE_NONE, ATR_PAGE_NUM, ATR_PAGE_STR, ATR_PAGE_NULL };
struct atr_page {
	int limit;
	int64_t after_id; /* 0: from the start */
	enum atr_page_value after_kind;
	double after_num;
	const char *after_str; /* owned by the request */
};

/*
 * Opens data_dir (created if missing), the database, applies migrations.
 * On failure prints why to stderr and returns <0.
 */
int atr_store_open(const char *data_dir, int sync_full, struct atr_store **out);
void atr_store_close(struct atr_store *s);
/* Refreshes the query planner's statistics where they went stale (statistics taken while a
 * table was nearly empty make the planner scan it later): at close, and every 10 minutes. */
void atr_store_optimize(struct atr_store *s);
bool atr_store_ready(struct atr_store *s); /* the database answers a query */

/* Reads on the loop share one read transaction per loop turn: end it before the loop waits
 * (serve.c does, from a uv_prepare). Writes end it themselves. */
void atr_store_end_read(struct atr_store *s);
/* The coming reads belong to a write (atr_db_write_ahead): a request's access check, say. */
int atr_store_write_ahead(struct atr_store *s);
/* See atr_db_write_generation: unchanged means nothing was written since. */
uint64_t atr_store_generation(struct atr_store *s);

/*
 * Group commit (the daemon's mode; see src/store/db.c): the writes of a loop turn commit
 * together at atr_store_flush, which serve.c calls before the loop waits; on_commit(arg, rc)
 * follows each commit (rc 0, or <0: the writes were rolled back). While atr_store_uncommitted
 * says so, nothing may be acknowledged: the server holds its answers until the commit.
 * Anything that must see its writes durable before acting outside the database (removing a
 * file a deleted row pointed to) calls atr_store_flush first.
 */
void atr_store_set_group_commit(struct atr_store *s, bool on, void (*on_commit)(void *arg, int rc), void *arg);
bool atr_store_uncommitted(struct atr_store *s);
int atr_store_flush(struct atr_store *s);

/* Transactions around several store calls (nestable). */
int atr_store_begin(struct atr_store *s);
int atr_store_commit(struct atr_store *s);
void atr_store_rollback(struct atr_store *s);

/*
 * Collects rows of a stepped-from-the-start statement into arr (each via atr_db_row_json),
 * at most limit; sets *more when one more row exists. 0 or ATR_EDB/ATR_ENOMEM.
 */
struct sqlite3_stmt;
int atr_store_collect(struct sqlite3_stmt *st, int limit, json_t *arr, bool *more);
/* One row as JSON (new reference) or NULL with *err = ATR_ENOTFOUND / ATR_EDB. */
json_t *atr_store_one(struct sqlite3_stmt *st, int *err);
/* Steps st (NULL: ATR_EDB), its first parameter bound to id, for one row that fill copies
 * into out: 0, ATR_ENOTFOUND or ATR_EDB. */
int atr_store_row_by_id(struct sqlite3_stmt *st, int64_t id, void (*fill)(struct sqlite3_stmt *st, void *out),
			void *out);
/* atr_store_one of sql with its one parameter bound to id (NULL, *err = ATR_EDB, when sql
 * does not prepare). */
json_t *atr_store_json_by_id(struct atr_store *s, const char *sql, int64_t id, int *err);
/* A page of a list keyed by one id: sql's parameters are (key, p->after_id, p->limit + 1),
 * in that order (numbered ?1 ?2 ?3 when one is used twice, as newest-first lists do:
 * "(?2 = 0 OR id < ?2) ORDER BY id DESC"); the rows go to arr as atr_store_collect puts them. */
int atr_store_list_keyed(struct atr_store *s, const char *sql, int64_t key, const struct atr_page *p, json_t *arr,
			 bool *more);

#endif
