/*
 * test_lifecycle.c: what happens around requests: the command line (exit codes), restarts
 * on the same data dir, kill -9 right after acknowledged writes, SIGTERM with a request in
 * flight, migrations that refuse to run (changed checksum, database newer than binary), and
 * a handle left open at exit failing the daemon's exit status.
 */
#include "harness.h"

#include <signal.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int sql_int(const char *dbpath, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const char *dbpath, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_cli(void **state)
{
	(void)state;
	assert_int_equal(h_sh("%s version >/dev/null", h_bin()), 0);
	assert_int_equal(h_sh("%s --help >/dev/null", h_bin()), 0);
	assert_int_equal(h_sh("%s serve --help >/dev/null", h_bin()), 0);
	assert_int_equal(h_sh("%s serve --bogus 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s serve --listen nowhere 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s serve --listen 127.0.0.1:99999 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s serve --log-level loud 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s serve --log-format xml 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s serve --max-body-bytes lots 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("ATRIUM_LOG_LEVEL=loud %s serve 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s serve --data-dir 2>/dev/null", h_bin()), 2);
	assert_int_equal(h_sh("%s frobnicate 2>/dev/null", h_bin()), 2);
	/* the message names the problem */
	assert_int_equal(h_sh("%s serve --bogus 2>&1 | grep -q \"unknown option '--bogus'\"", h_bin()), 0);
}

static void test_restart_keeps_everything(void **state)
{
	struct h_server s;
	char tok[128];
	json_t *j;
	(void)state;

	h_server_start(&s, NULL);
	j = h_call(&s, "POST", "/api/v1/users", s.admin_token, "{\"username\":\"keep\"}", 201);
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	json_decref(h_call(&s, "POST", "/api/v1/teams", s.admin_token, "{\"name\":\"kept\",\"max_gpus\":3}", 201));
	assert_int_equal(h_server_stop(&s, SIGTERM), 0);
	h_server_restart(&s, NULL);
	j = h_call(&s, "GET", "/api/v1/users/me", tok, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "username")), "keep");
	json_decref(j);
	j = h_call(&s, "GET", "/api/v1/teams/kept", tok, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "max_gpus")), 3);
	json_decref(j);
	/* the admin token is not printed or rewritten a second time */
	assert_int_equal(h_sh("grep -c 'Created user' %s/server.log | grep -q '^1$'", s.dir), 0);
	h_server_cleanup(&s);
}

static void test_kill9_loses_nothing_acknowledged(void **state)
{
	struct h_server s;
	char db[400];
	int acked = 0;
	(void)state;

	h_server_start(&s, NULL);
	for (int i = 0; i < 200; i++) {
		struct h_resp r;
		h_req(&s, "POST", "/api/v1/teams", s.admin_token, h_fmt("{\"name\":\"burst-%d\"}", i), NULL, &r);
		if (r.status == 201)
			acked++;
		h_resp_free(&r);
	}
	assert_int_equal(acked, 200);
	assert_int_equal(h_server_stop(&s, SIGKILL), 128 + SIGKILL);
	snprintf(db, sizeof(db), "%s/atrium.db", s.dir);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM teams WHERE name LIKE 'burst-%'"), 200);
	h_server_restart(&s, NULL);
	json_t *j = h_call(&s, "GET", "/api/v1/teams/burst-199", s.admin_token, NULL, 200);
	json_decref(j);
	h_server_cleanup(&s);
}

static void test_sigterm_finishes_in_flight(void **state)
{
	struct h_server s;
	char db[400];
	pid_t child;
	int st;
	(void)state;

	/* A slow request: a password hashed with many rounds takes a while under ASan. */
	setenv("ATRIUM_TEST_PBKDF2_ITERATIONS", "200000", 1);
	h_server_start(&s, NULL);
	unsetenv("ATRIUM_TEST_PBKDF2_ITERATIONS");
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct h_resp r;
		s.curl = NULL;
		s.curl = curl_easy_init();
		h_req(&s, "POST", "/api/v1/users", s.admin_token,
		      "{\"username\":\"slow\",\"password\":\"long enough\"}", NULL, &r);
		_exit(r.status == 201 ? 0 : 1);
	}
	usleep(150 * 1000);
	assert_int_equal(h_server_stop(&s, SIGTERM), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	snprintf(db, sizeof(db), "%s/atrium.db", s.dir);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM users WHERE username = 'slow'"), 1);
	{
		sqlite3 *h;
		sqlite3_stmt *q;
		assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
		sqlite3_finalize(q);
		sqlite3_close(h);
	}
	/* once stopped, nothing listens */
	{
		struct h_resp r;
		s.curl = curl_easy_init();
		h_req(&s, "GET", "/healthz", NULL, NULL, NULL, &r);
		assert_int_equal(r.status, 0);
		h_resp_free(&r);
	}
	h_server_cleanup(&s);
}

static void test_migration_checksum_refused(void **state)
{
	struct h_server s;
	char db[400];
	(void)state;

	h_server_start(&s, NULL);
	assert_int_equal(h_server_stop(&s, SIGTERM), 0);
	snprintf(db, sizeof(db), "%s/atrium.db", s.dir);
	assert_true(sql_int(db, "SELECT count(*) FROM schema_migrations") >= 1);
	sql_exec(db, "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
	assert_int_not_equal(h_sh("%s serve --listen 127.0.0.1:0 --data-dir %s 2>%s/err.txt", h_bin(), s.dir, s.dir),
			     0);
	assert_int_equal(h_sh("grep -q 'was changed after it was applied' %s/err.txt", s.dir), 0);
	h_server_cleanup(&s);

	h_server_start(&s, NULL);
	assert_int_equal(h_server_stop(&s, SIGTERM), 0);
	snprintf(db, sizeof(db), "%s/atrium.db", s.dir);
	sql_exec(db, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x', 0)");
	assert_int_not_equal(h_sh("%s serve --listen 127.0.0.1:0 --data-dir %s 2>%s/err.txt", h_bin(), s.dir, s.dir),
			     0);
	assert_int_equal(h_sh("grep -q 'newer than the binary' %s/err.txt", s.dir), 0);
	h_server_cleanup(&s);
}

static void test_admin_password_env(void **state)
{
	struct h_server s;
	(void)state;
	setenv("ATRIUM_ADMIN_PASSWORD", "first-start-secret", 1);
	h_server_start(&s, NULL);
	unsetenv("ATRIUM_ADMIN_PASSWORD");
	json_decref(h_call(&s, "POST", "/api/v1/auth/login", NULL,
			   "{\"username\":\"admin\",\"password\":\"first-start-secret\"}", 200));
	assert_int_equal(h_sh("test \"$(stat -c %%a %s/admin.token)\" = 600", s.dir), 0);
	h_server_cleanup(&s);
}

/*
 * A handle left open when the loop ends (a timer that the test hook ATRIUM_TEST_FORGET_HANDLE
 * initialises and nobody closes): the daemon names it, closes it so that the loop closes, and
 * exits 1 after SIGTERM, as libuv's test runner fails a test whose uv_loop_close() != 0.
 */
static void test_handle_left_open_fails_the_exit(void **state)
{
	struct h_server s;
	(void)state;

	setenv("ATRIUM_TEST_FORGET_HANDLE", "1", 1);
	h_server_start(&s, NULL);
	unsetenv("ATRIUM_TEST_FORGET_HANDLE");
	json_decref(h_call(&s, "GET", "/healthz", NULL, NULL, 200));
	assert_int_equal(h_server_stop_unchecked(&s, SIGTERM), 1);
	assert_int_equal(
		h_sh("grep -q \"handle 'timer' left open at exit (inactive, not closing)\" %s/server.log", s.dir), 0);
	assert_int_equal(h_sh("grep -q 'the loop still had open handles at exit: 1' %s/server.log", s.dir), 0);
	assert_int_not_equal(h_sh("grep -q Sanitizer %s/server.log", s.dir), 0);
	h_server_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_restart_keeps_everything),
		cmocka_unit_test(test_kill9_loses_nothing_acknowledged),
		cmocka_unit_test(test_sigterm_finishes_in_flight),
		cmocka_unit_test(test_migration_checksum_refused),
		cmocka_unit_test(test_admin_password_env),
		cmocka_unit_test(test_handle_left_open_fails_the_exit),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
