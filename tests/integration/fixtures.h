#ifndef ATRIUM_TEST_FIXTURES_H
#define ATRIUM_TEST_FIXTURES_H
/*
 * fixtures.h: small helpers the registry, datasets, search and gc tests share on top of
 * harness.h: binary-safe uploads, project and member set-up, looking into DATA_DIR.
 */
#include "harness.h"

/* PUT of raw bytes (binary-safe); asserts the status; returns the JSON answer (may be NULL). */
json_t *f_put(struct h_server *s, const char *path, const char *token, const void *data, size_t len,
	      const char *const *headers, long expect);
/* One request of raw bytes (any method; data NULL: no body), with no assertion: returns the
 * status, 0 when no answer came (the server died); *body (may be NULL) gets the answer. */
long f_send(struct h_server *s, const char *method, const char *path, const char *token, const void *data, size_t len,
	    const char *const *headers, char **body);
/* A request sent with its path exactly as given ("../x" is not squashed); returns the status. */
long f_status_raw(struct h_server *s, const char *method, const char *path, const char *token);
/*
 * Users names[0..3] (tokens into tokens[i]): names[0] creates the private project and owns
 * it, names[1] is an editor, names[2] a viewer, names[3] an outsider.
 */
void f_people(struct h_server *s, const char *project, const char *const names[4], char tokens[4][128]);
/* Stops the server with SIGTERM (its sanitizer leak check must pass: else rc 1), cleans up,
 * and returns h_finish(rc). */
int f_finish(struct h_server *s, int rc);
/* A query on the server's database (read while it runs; WAL). */
long long f_sql_int(struct h_server *s, const char *sql);
void f_sql_exec(struct h_server *s, const char *sql);
/*
 * Follows a list from path (which has a query, e.g. "?limit=7") through every next_cursor,
 * calling each(item, arg) for every item; returns the number of pages.
 */
int f_walk_pages(struct h_server *s, const char *path, const char *token, void (*each)(json_t *item, void *arg),
		 void *arg);
/* Creates a project owned by the token's user (visibility "private" or "internal"). */
void f_project(struct h_server *s, const char *token, const char *name, const char *visibility);
/* Makes user a member of project with role (the admin does it). */
void f_member(struct h_server *s, const char *project, const char *user, const char *role);
/* Whether DATA_DIR/blobs holds the blob sha256. */
bool f_blob_exists(struct h_server *s, const char *sha256);
/* Number of regular files under DATA_DIR/sub (recursively). */
int f_count_files(struct h_server *s, const char *sub);
/* POST /api/v1/admin/gc with grace_seconds; returns the answer. */
json_t *f_gc(struct h_server *s, int grace_seconds);
/* Integer field of a JSON object. */
long long f_int(const json_t *o, const char *key);
/* String field of a JSON object ("" when absent). */
const char *f_str(const json_t *o, const char *key);
/* Asserts that the error message of an answer contains needle. */
void f_expect_message(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
		      long status, const char *needle);

#endif
