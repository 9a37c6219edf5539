/*
 * test_store.c: the migrations runner (fresh, re-run, changed checksum, newer database),
 * tokens (create, lookup, revoke, expiry), the auth cache, passwords and the rate limiter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/auth.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/store.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#define M(name, sql)                                              \
	{                                                         \
		name, (const unsigned char *)sql, sizeof(sql) - 1 \
	}

static void test_migrations(void **state)
{
	struct atr_embedded v1[] = { M("0001_a.sql", "CREATE TABLE a(x INTEGER);"), { 0, 0, 0 } };
	struct atr_embedded v2[] = { M("0001_a.sql", "CREATE TABLE a(x INTEGER);"),
				     M("0002_b.sql", "CREATE TABLE b(y INTEGER); INSERT INTO a VALUES (1);"),
				     { 0, 0, 0 } };
	struct atr_embedded changed[] = { M("0001_a.sql", "CREATE TABLE a(x TEXT);"), { 0, 0, 0 } };
	struct atr_embedded broken[] = { M("0001_a.sql", "CREATE TABLE a(x INTEGER);"),
					 M("0002_b.sql", "CREATE TABLE b(y INTEGER); INSERT INTO a VALUES (1);"),
					 M("0003_c.sql", "CREATE TABLE c(z); INSERT INTO nope VALUES (1);"),
					 { 0, 0, 0 } };
	struct atr_db *db;
	char why[512];
	int applied;
	(void)state;

	assert_int_equal(atr_db_open(":memory:", 0, &db), 0);
	assert_int_equal(atr_db_migrate(db, v1, 1, why, sizeof(why), &applied), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(atr_db_migrate(db, v1, 1, why, sizeof(why), &applied), 0);
	assert_int_equal(applied, 0); /* re-run is a no-op */
	assert_int_equal(atr_db_migrate(db, v2, 2, why, sizeof(why), &applied), 0);
	assert_int_equal(applied, 1);
	/* the binary is older than the database */
	assert_int_equal(atr_db_migrate(db, v1, 1, why, sizeof(why), &applied), ATR_ECONFLICT);
	assert_non_null(strstr(why, "newer than the binary"));
	/* a changed file */
	assert_int_equal(atr_db_migrate(db, changed, 1, why, sizeof(why), &applied), ATR_ECONFLICT);
	assert_non_null(strstr(why, "changed after it was applied"));
	/* a failing migration rolls back whole: table c must not exist */
	assert_int_equal(atr_db_migrate(db, broken, 3, why, sizeof(why), &applied), ATR_EDB);
	assert_non_null(strstr(why, "0003_c.sql"));
	sqlite3_stmt *st = atr_db_stmt(db, "SELECT count(*) FROM sqlite_master WHERE name = 'c'");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	atr_db_done(st);
	atr_db_close(db);
}

static struct atr_store *open_store(char *dir, size_t len)
{
	struct atr_store *s;
	snprintf(dir, len, "/tmp/atrium-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(atr_store_open(dir, 0, &s), 0);
	return s;
}

static void close_store(struct atr_store *s, const char *dir)
{
	char cmd[300];
	atr_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_tokens_and_cache(void **state)
{
	char dir[64], tok[ATR_TOKEN_MAX], tok2[ATR_TOKEN_MAX];
	struct atr_store *s = open_store(dir, sizeof(dir));
	struct atr_auth *a;
	struct atr_principal p;
	struct atr_token_spec spec = { .kind = "user", .name = "t" };
	int64_t uid, tid;
	(void)state;

	assert_int_equal(atr_store_user_create(s, "u1", "U", false, NULL, &uid), 0);
	assert_int_equal(atr_store_user_create(s, "u1", "U", false, NULL, NULL), ATR_ECONFLICT);
	spec.user_id = uid;
	assert_int_equal(atr_store_token_create(s, &spec, tok, &tid), 0);
	assert_true(strncmp(tok, "atr_", 4) == 0);
	assert_true(strlen(tok) >= 40);
	assert_int_equal(atr_auth_new(s, &a), 0);
	assert_int_equal(atr_auth_lookup(a, tok, &p), 0);
	assert_int_equal(p.kind, ATR_P_USER);
	assert_int_equal(p.user_id, uid);
	assert_string_equal(p.username, "u1");
	assert_false(p.admin);
	assert_int_equal(atr_auth_lookup(a, "atr_unknown", &p), ATR_EUNAUTH);
	assert_int_equal(atr_auth_lookup(a, "bearer", &p), ATR_EUNAUTH);
	/* revoked: the cache answers until invalidated, which every revoke does */
	assert_int_equal(atr_store_token_revoke(s, tid, uid), 0);
	atr_auth_invalidate(a);
	assert_int_equal(atr_auth_lookup(a, tok, &p), ATR_EUNAUTH);
	assert_int_equal(atr_store_token_revoke(s, tid + 100, uid), ATR_ENOTFOUND);
	/* expired */
	spec.expires_at = atr_now_ms() - 1;
	assert_int_equal(atr_store_token_create(s, &spec, tok2, NULL), 0);
	assert_int_equal(atr_auth_lookup(a, tok2, &p), ATR_EUNAUTH);
	/* a job token never carries admin rights and is scoped */
	struct atr_token_spec js = { .kind = "job", .user_id = uid, .project_id = 7, .scope_id = 99 };
	assert_int_equal(atr_store_user_update(s, uid, NULL, 1, -1, NULL), 0);
	assert_int_equal(atr_store_token_create(s, &js, tok2, NULL), 0);
	assert_int_equal(atr_auth_lookup(a, tok2, &p), 0);
	assert_int_equal(p.kind, ATR_P_JOB);
	assert_false(p.admin);
	assert_int_equal(p.project_id, 7);
	assert_int_equal(p.scope_id, 99);
	assert_int_equal(atr_store_token_revoke_scope(s, "job", 99), 0);
	atr_auth_invalidate(a);
	assert_int_equal(atr_auth_lookup(a, tok2, &p), ATR_EUNAUTH);
	/* disabled users' tokens stop */
	spec.expires_at = 0;
	assert_int_equal(atr_store_token_create(s, &spec, tok2, NULL), 0);
	assert_int_equal(atr_store_user_update(s, uid, NULL, -1, 1, NULL), 0);
	atr_auth_invalidate(a);
	assert_int_equal(atr_auth_lookup(a, tok2, &p), ATR_EUNAUTH);
	atr_auth_free(a);
	close_store(s, dir);
}

static void test_token_hash(void **state)
{
	char tok[ATR_TOKEN_MAX], h1[65], h2[65];
	(void)state;
	assert_int_equal(atr_token_new(tok, h1), 0);
	atr_token_hash(tok, h2);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	for (const char *p = tok + 4; *p; p++)
		assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
	char tok2[ATR_TOKEN_MAX];
	assert_int_equal(atr_token_new(tok2, h2), 0);
	assert_string_not_equal(tok, tok2);
}

static void test_passwords(void **state)
{
	char h[160], h2[160];
	(void)state;
	setenv("ATRIUM_TEST_PBKDF2_ITERATIONS", "1000", 1);
	assert_int_equal(atr_password_hash("hunter22", h, sizeof(h)), 0);
	assert_int_equal(atr_password_hash("hunter22", h2, sizeof(h2)), 0);
	assert_string_not_equal(h, h2); /* salted */
	assert_true(atr_password_verify("hunter22", h));
	assert_false(atr_password_verify("hunter23", h));
	assert_false(atr_password_verify("hunter22", "garbage"));
	assert_false(atr_password_verify("x", atr_password_dummy()));
}

static void test_ratelimit(void **state)
{
	int64_t now = 1000000;
	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(atr_ratelimit_check("u:x", 5, now), 0);
		atr_ratelimit_fail("u:x", now);
	}
	assert_true(atr_ratelimit_check("u:x", 5, now) > 0);
	assert_int_equal(atr_ratelimit_check("u:y", 5, now), 0);
	assert_int_equal(atr_ratelimit_check("u:x", 5, now + 61000), 0); /* the window passed */
	atr_ratelimit_fail("u:z", now);
	atr_ratelimit_reset("u:z", now);
	assert_int_equal(atr_ratelimit_check("u:z", 1, now), 0);
}

static void test_audit_and_idem(void **state)
{
	char dir[64];
	struct atr_store *s = open_store(dir, sizeof(dir));
	struct atr_audit_entry e = { .actor = "admin", .action = "teams.create", .object = "team:x", .status = 201 };
	struct atr_page p = { .limit = 10 };
	json_t *arr = json_array();
	bool more;
	unsigned status;
	char *body;
	(void)state;

	assert_int_equal(atr_store_audit_add(s, &e), 0);
	e.action = "users.create";
	assert_int_equal(atr_store_audit_add(s, &e), 0);
	assert_int_equal(atr_store_audit_list(s, NULL, "teams", 0, &p, arr, &more), 0);
	assert_int_equal(json_array_size(arr), 1);
	assert_false(more);
	json_decref(arr);
	assert_int_equal(atr_store_audit_prune(s, atr_now_ms() + 1000), 2);
	assert_int_equal(atr_store_idem_get(s, 1, "k", "POST /x", &status, &body), ATR_ENOTFOUND);
	assert_int_equal(atr_store_idem_put(s, 1, "k", "POST /x", 201, "{\"id\":1}"), 0);
	assert_int_equal(atr_store_idem_get(s, 1, "k", "POST /x", &status, &body), 0);
	assert_int_equal(status, 201);
	assert_string_equal(body, "{\"id\":1}");
	free(body);
	assert_int_equal(atr_store_idem_get(s, 1, "k", "POST /y", &status, &body), ATR_ECONFLICT);
	assert_int_equal(atr_store_idem_get(s, 2, "k", "POST /x", &status, &body), ATR_ENOTFOUND);
	close_store(s, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations), cmocka_unit_test(test_tokens_and_cache),
		cmocka_unit_test(test_token_hash), cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_ratelimit),  cmocka_unit_test(test_audit_and_idem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
