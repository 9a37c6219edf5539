/*
 * test_foundation.c: the daemon as a whole, over HTTP: health, readiness, metrics, auth
 * (401/403), users, tokens, teams, the error shapes (400/404/405/413/415), request ids,
 * audit log, login rate limiting, restart, kill -9 durability, SIGTERM, CLI exit codes.
 */
#include "harness.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;

static int setup(void **state)
{
	(void)state;
	h_server_start(&S, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_server_cleanup(&S);
	return 0;
}

static void test_health_ready_metrics(void **state)
{
	struct h_resp r;
	json_t *j;
	(void)state;

	j = h_call(&S, "GET", "/healthz", NULL, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
	json_decref(j);
	j = h_call(&S, "GET", "/readyz", NULL, NULL, 200);
	json_decref(j);
	h_req(&S, "GET", "/metrics", S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "atrium_http_requests_total{route=\"healthz\",status=\"200\"}"));
	assert_non_null(strstr(r.body, "atrium_http_request_duration_seconds_bucket"));
	assert_non_null(strstr(r.body, "atrium_http_open_connections"));
	assert_non_null(strstr(r.body, "atrium_db_size_bytes"));
	assert_non_null(strstr(h_header(&r, "Content-Type"), "text/plain"));
	h_resp_free(&r);
}

/* /metrics names private things (deployments, routes): an admin or a scrape token reads it. */
static void test_metrics_need_a_token(void **state)
{
	const char *user = h_user(&S, "scraper-user", false);
	struct h_resp r;
	json_t *j;
	char tok[128];
	long long id;
	(void)state;

	h_expect_error(&S, "GET", "/metrics", NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", "/metrics", user, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/metrics/tokens", user, "{\"name\":\"prom\"}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/metrics/tokens", S.admin_token, "{}", 400, "name");
	h_expect_error(&S, "POST", "/api/v1/metrics/tokens", S.admin_token,
		       "{\"name\":\"prom\",\"expires_at\":\"2000-01-01T00:00:00Z\"}", 400, "expires_at");
	j = h_call(&S, "POST", "/api/v1/metrics/tokens", S.admin_token, "{\"name\":\"prom\"}", 201);
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(j, "token")));
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	h_req(&S, "GET", "/metrics", tok, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "atrium_up_seconds"));
	h_resp_free(&r);
	/* it reads /metrics and nothing else: not the API, not other admin routes */
	h_expect_error(&S, "GET", "/api/v1/projects", tok, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/admin/stats", tok, NULL, 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/metrics/tokens", tok, NULL, 403, NULL);
	j = h_call(&S, "GET", "/api/v1/metrics/tokens", S.admin_token, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "name")),
			    "prom");
	assert_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "token"));
	json_decref(j);
	/* a join token is not a scrape token, nor the other way round */
	h_expect_error(&S, "DELETE", h_fmt("/api/v1/workers/join-tokens/%lld", id), S.admin_token, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", "/api/v1/metrics/tokens/abc", S.admin_token, NULL, 400, "id");
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/metrics/tokens/%lld", id), S.admin_token, NULL, 204));
	h_expect_error(&S, "GET", "/metrics", tok, NULL, 401, NULL);
	h_expect_error(&S, "DELETE", h_fmt("/api/v1/metrics/tokens/%lld", id), user, NULL, 403, NULL);
}

static void test_request_id(void **state)
{
	struct h_resp r;
	const char *hdr[] = { "X-Request-Id: ci-run-42.step_1", NULL };
	(void)state;

	h_req(&S, "GET", "/healthz", NULL, NULL, hdr, &r);
	assert_string_equal(h_header(&r, "X-Request-Id"), "ci-run-42.step_1");
	h_resp_free(&r);
	h_req(&S, "GET", "/healthz", NULL, NULL, NULL, &r);
	assert_true(strlen(h_header(&r, "X-Request-Id")) >= 8);
	h_resp_free(&r);
	/* A hostile id is replaced, not echoed. */
	const char *bad[] = { "X-Request-Id: <script>", NULL };
	h_req(&S, "GET", "/healthz", NULL, NULL, bad, &r);
	assert_null(strchr(h_header(&r, "X-Request-Id"), '<'));
	h_resp_free(&r);
}

static void test_unauthorized(void **state)
{
	struct h_resp r;
	(void)state;

	h_expect_error(&S, "GET", "/api/v1/users/me", NULL, NULL, 401, NULL);
	h_expect_error(&S, "GET", "/api/v1/users/me", "atr_nonsense", NULL, 401, NULL);
	h_expect_error(&S, "GET", "/api/v1/users/me", "not-even-a-token", NULL, 401, NULL);
	h_req(&S, "GET", "/api/v1/users/me", NULL, NULL, NULL, &r);
	assert_non_null(h_header(&r, "WWW-Authenticate"));
	h_resp_free(&r);
}

static void test_users_and_roles(void **state)
{
	const char *bob;
	json_t *j;
	(void)state;

	bob = h_user(&S, "bob", false);
	j = h_call(&S, "GET", "/api/v1/users/me", bob, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "username")), "bob");
	assert_string_equal(json_string_value(json_object_get(j, "role")), "member");
	json_decref(j);
	/* members are refused admin routes */
	h_expect_error(&S, "GET", "/api/v1/users", bob, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/users", bob, "{\"username\":\"eve\"}", 403, NULL);
	h_expect_error(&S, "GET", "/api/v1/audit", bob, NULL, 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/admin/backup", bob, "{}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/teams", bob, "{\"name\":\"t1\"}", 403, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/users/bob", bob, "{\"role\":\"admin\"}", 403, NULL);
	/* duplicate */
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"bob\"}", 409, "username");
	/* bad input names the field */
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"Bad Name\"}", 400, "username");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"\"}", 400, "username");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":null}", 400, "username");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":7}", 400, "username");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{}", 400, "username");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"x1\",\"role\":\"god\"}", 400,
		       "role");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"x1\",\"password\":\"short\"}", 400,
		       "password");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"x1\",\"extra\":1}", 400, "extra");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"x1\"", 400, "body");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "[1,2]", 400, "body");
	h_expect_error(&S, "POST", "/api/v1/users", S.admin_token, "{\"username\":\"x1\",\"username\":\"x2\"}", 400,
		       "body");
	/* admin promotes and disables */
	j = h_call(&S, "PATCH", "/api/v1/users/bob", S.admin_token, "{\"display_name\":\"Bob B\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "display_name")), "Bob B");
	json_decref(j);
	h_expect_error(&S, "PATCH", "/api/v1/users/nobody", S.admin_token, "{\"disabled\":true}", 404, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/users/bob", S.admin_token, "{\"disabled\":\"yes\"}", 400, "disabled");
	/* the last admin cannot demote itself */
	h_expect_error(&S, "PATCH", "/api/v1/users/admin", S.admin_token, "{\"role\":\"member\"}", 409, "role");
	j = h_call(&S, "PATCH", "/api/v1/users/bob", S.admin_token, "{\"disabled\":true}", 200);
	json_decref(j);
	/* a disabled user's token stops working at once (cache invalidated) */
	h_expect_error(&S, "GET", "/api/v1/users/me", bob, NULL, 401, NULL);
	j = h_call(&S, "PATCH", "/api/v1/users/bob", S.admin_token, "{\"disabled\":false}", 200);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/users/me", bob, NULL, 200);
	json_decref(j);
}

static void test_tokens(void **state)
{
	const char *carol = h_user(&S, "carol", false);
	json_t *j, *items;
	char tok[128];
	long long id;
	(void)state;

	j = h_call(&S, "POST", "/api/v1/tokens", carol, "{\"name\":\"ci\"}", 201);
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(j, "token")));
	id = json_integer_value(json_object_get(j, "id"));
	assert_true(strncmp(tok, "atr_", 4) == 0);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "ci");
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/users/me", tok, NULL, 200);
	json_decref(j);
	/* the list never shows the token text */
	j = h_call(&S, "GET", "/api/v1/tokens", carol, NULL, 200);
	items = json_object_get(j, "items");
	assert_true(json_array_size(items) >= 2);
	assert_null(json_object_get(json_array_get(items, 0), "token"));
	{
		char *dump = json_dumps(j, 0);
		assert_null(strstr(dump, tok));
		free(dump);
	}
	json_decref(j);
	/* someone else cannot revoke it (404), the owner can (204), then it is dead (401) */
	h_expect_error(&S, "DELETE", h_fmt("/api/v1/tokens/%lld", id), h_user(&S, "dave", false), NULL, 404, NULL);
	j = h_call(&S, "DELETE", h_fmt("/api/v1/tokens/%lld", id), carol, NULL, 204);
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/users/me", tok, NULL, 401, NULL);
	h_expect_error(&S, "DELETE", "/api/v1/tokens/abc", carol, NULL, 400, "id");
	/* expiry in the past is refused; admin issues tokens for users */
	h_expect_error(&S, "POST", "/api/v1/tokens", carol, "{\"name\":\"x\",\"expires_at\":\"2001-01-01T00:00:00Z\"}",
		       400, "expires_at");
	h_expect_error(&S, "POST", "/api/v1/tokens", carol, "{\"name\":\"x\",\"expires_at\":\"tomorrow\"}", 400,
		       "expires_at");
	j = h_call(&S, "POST", "/api/v1/users/carol/tokens", S.admin_token,
		   "{\"name\":\"issued\",\"expires_at\":\"2999-01-01T00:00:00Z\"}", 201);
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/users/me", tok, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "username")), "carol");
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/users/carol/tokens", carol, "{\"name\":\"x\"}", 403, NULL);
}

static void test_teams(void **state)
{
	const char *m = h_user(&S, "mia", false);
	const char *n = h_user(&S, "noah", false);
	json_t *j;
	(void)state;

	j = h_call(&S, "POST", "/api/v1/teams", S.admin_token,
		   "{\"name\":\"vision\",\"description\":\"CV team\",\"max_gpus\":8,\"max_concurrent_jobs\":4}", 201);
	assert_int_equal(json_integer_value(json_object_get(j, "max_gpus")), 8);
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"vision\"}", 409, "name");
	h_expect_error(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"v\",\"max_gpus\":-1}", 400, "max_gpus");
	h_expect_error(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"v\",\"max_gpus\":\"8\"}", 400,
		       "max_gpus");
	/* a non-maintainer cannot add members; admin can; then the maintainer can */
	h_expect_error(&S, "PUT", "/api/v1/teams/vision/members/noah", m, "{\"role\":\"member\"}", 403, NULL);
	j = h_call(&S, "PUT", "/api/v1/teams/vision/members/mia", S.admin_token, "{\"role\":\"maintainer\"}", 200);
	json_decref(j);
	j = h_call(&S, "PUT", "/api/v1/teams/vision/members/noah", m, "{}", 200);
	assert_int_equal(json_array_size(json_object_get(j, "members")), 2);
	json_decref(j);
	h_expect_error(&S, "PUT", "/api/v1/teams/vision/members/noah", m, "{\"role\":\"boss\"}", 400, "role");
	h_expect_error(&S, "PUT", "/api/v1/teams/vision/members/ghost", m, "{}", 404, NULL);
	h_expect_error(&S, "PUT", "/api/v1/teams/nope/members/noah", m, "{}", 404, NULL);
	j = h_call(&S, "GET", "/api/v1/users/me", n, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "teams"), 0), "team")),
			    "vision");
	json_decref(j);
	/* quotas: admin only; null clears */
	h_expect_error(&S, "PATCH", "/api/v1/teams/vision", m, "{\"max_gpus\":100}", 403, NULL);
	j = h_call(&S, "PATCH", "/api/v1/teams/vision", S.admin_token, "{\"max_gpus\":null}", 200);
	assert_true(json_is_null(json_object_get(j, "max_gpus")));
	assert_int_equal(json_integer_value(json_object_get(j, "max_concurrent_jobs")), 4);
	json_decref(j);
	j = h_call(&S, "DELETE", "/api/v1/teams/vision/members/noah", m, NULL, 204);
	json_decref(j);
	h_expect_error(&S, "DELETE", "/api/v1/teams/vision/members/noah", m, NULL, 404, NULL);
	j = h_call(&S, "GET", "/api/v1/teams", n, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "items")) >= 1);
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/teams/vision", n, NULL, 200);
	json_decref(j);
}

static void test_http_errors(void **state)
{
	struct h_resp r;
	char *big;
	const char *xml[] = { "Content-Type: application/xml", NULL };
	(void)state;

	h_expect_error(&S, "GET", "/api/v1/nope", S.admin_token, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v2/users", S.admin_token, NULL, 404, NULL);
	h_req(&S, "DELETE", "/api/v1/users", S.admin_token, NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(h_header(&r, "Allow"), "GET"));
	assert_non_null(strstr(h_header(&r, "Allow"), "POST"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "method_not_allowed");
	h_resp_free(&r);
	/* bodies over --max-body-bytes (set to 64k for this server) */
	big = malloc(100000);
	memset(big, 'a', 99999);
	big[0] = '"';
	big[99998] = '"';
	big[99999] = 0;
	h_req(&S, "POST", "/api/v1/users", S.admin_token, big, NULL, &r);
	assert_int_equal(r.status, 413);
	h_resp_free(&r);
	free(big);
	h_req(&S, "POST", "/api/v1/teams", S.admin_token, "<team/>", xml, &r);
	assert_int_equal(r.status, 415);
	h_resp_free(&r);
	/* bad percent-encoding in a path parameter */
	h_expect_error(&S, "GET", "/api/v1/teams/a%00b", S.admin_token, NULL, 400, "team");
	h_expect_error(&S, "GET", "/api/v1/teams/a%zz", S.admin_token, NULL, 400, "team");
	h_expect_error(&S, "GET", "/api/v1/users?limit=0", S.admin_token, NULL, 400, "limit");
	h_expect_error(&S, "GET", "/api/v1/users?limit=abc", S.admin_token, NULL, 400, "limit");
	h_expect_error(&S, "GET", "/api/v1/users?cursor=zzz", S.admin_token, NULL, 400, "cursor");
	h_expect_error(&S, "GET", "/api/v1/audit?since=yesterday", S.admin_token, NULL, 400, "since");
	/* the server still answers after all of that */
	json_decref(h_call(&S, "GET", "/readyz", NULL, NULL, 200));
}

static void test_pagination(void **state)
{
	char seen[200] = { 0 };
	int count = 0, pages = 0;
	char path[512] = "/api/v1/users?limit=7";
	(void)state;

	for (int i = 0; i < 30; i++)
		json_decref(h_call(&S, "POST", "/api/v1/users", S.admin_token, h_fmt("{\"username\":\"page-%02d\"}", i),
				   201));
	for (;;) {
		json_t *j = h_call(&S, "GET", path, S.admin_token, NULL, 200), *it;
		size_t i;
		const char *next;
		json_array_foreach(json_object_get(j, "items"), i, it)
		{
			long long id = json_integer_value(json_object_get(it, "id"));
			assert_true(id > 0 && id < 200);
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			count++;
		}
		assert_true(json_array_size(json_object_get(j, "items")) <= 7);
		pages++;
		next = json_string_value(json_object_get(j, "next_cursor"));
		if (!next) {
			json_decref(j);
			break;
		}
		snprintf(path, sizeof(path), "/api/v1/users?limit=7&cursor=%s", next);
		json_decref(j);
	}
	assert_true(count >= 31);
	assert_true(pages >= 5);
}

static void test_audit(void **state)
{
	json_t *j, *items, *it;
	size_t i;
	bool found = false;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"audited\"}", 201));
	j = h_call(&S, "GET", "/api/v1/audit?action=teams.create&limit=100", S.admin_token, NULL, 200);
	items = json_object_get(j, "items");
	json_array_foreach(items, i, it)
	{
		assert_string_equal(json_string_value(json_object_get(it, "action")), "teams.create");
		if (!strcmp(json_string_value(json_object_get(it, "object")), "team:audited")) {
			found = true;
			assert_string_equal(json_string_value(json_object_get(it, "actor")), "admin");
			assert_int_equal(json_integer_value(json_object_get(it, "status")), 201);
			assert_string_equal(json_string_value(json_object_get(it, "client")), "127.0.0.1");
			assert_non_null(json_string_value(json_object_get(it, "request_id")));
		}
	}
	assert_true(found);
	json_decref(j);
	/* failed mutations are recorded too; reads are not */
	j = h_call(&S, "GET", "/api/v1/audit?actor=admin&since=2000-01-01T00:00:00Z", S.admin_token, NULL, 200);
	json_array_foreach(json_object_get(j, "items"), i, it)
		assert_string_not_equal(json_string_value(json_object_get(it, "action")), "audit.list");
	json_decref(j);
}

static void test_login(void **state)
{
	json_t *j;
	char tok[128];
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/users", S.admin_token,
			   "{\"username\":\"lena\",\"password\":\"correct horse\"}", 201));
	j = h_call(&S, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"lena\",\"password\":\"correct horse\"}",
		   200);
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(j, "token")));
	assert_non_null(json_string_value(json_object_get(j, "expires_at")));
	json_decref(j);
	j = h_call(&S, "GET", "/api/v1/users/me", tok, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "username")), "lena");
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"lena\"}", 400, "password");
	h_expect_error(&S, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"ghost\",\"password\":\"x\"}", 401,
		       NULL);
	/* five failures lock the name out: 429 with Retry-After, even with the right password */
	for (int i = 0; i < 5; i++)
		h_expect_error(&S, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"lena\",\"password\":\"wrong\"}",
			       401, NULL);
	struct h_resp r;
	h_req(&S, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"lena\",\"password\":\"correct horse\"}", NULL,
	      &r);
	assert_int_equal(r.status, 429);
	assert_non_null(h_header(&r, "Retry-After"));
	h_resp_free(&r);
}

static void test_backup(void **state)
{
	json_t *j = h_call(&S, "POST", "/api/v1/admin/backup", S.admin_token, NULL, 201);
	sqlite3 *db;
	sqlite3_stmt *st;
	(void)state;

	assert_non_null(json_string_value(json_object_get(j, "path")));
	assert_true(json_integer_value(json_object_get(j, "size_bytes")) > 0);
	assert_int_equal(sqlite3_open(json_string_value(json_object_get(j, "path")), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM users WHERE username='admin'", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	json_decref(j);
}

static void test_web_root(void **state)
{
	struct h_resp r;
	(void)state;
	h_req(&S, "GET", "/", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(h_header(&r, "Content-Type"), "text/html"));
	assert_non_null(h_header(&r, "ETag"));
	h_resp_free(&r);
	h_req(&S, "GET", "/no-such-file.js", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	h_resp_free(&r);
}

/* Answers of cached routes follow every write at once, and are per caller. */
static void test_answer_cache_never_stale(void **state)
{
	const char *zoe = h_user(&S, "zoe", false);
	json_t *j;
	(void)state;

	for (int i = 0; i < 3; i++) { /* the second and third come from the cache */
		j = h_call(&S, "GET", "/api/v1/users/me", zoe, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(j, "display_name")), "zoe");
		json_decref(j);
	}
	json_decref(h_call(&S, "PATCH", "/api/v1/users/zoe", S.admin_token, "{\"display_name\":\"Zoe Z\"}", 200));
	j = h_call(&S, "GET", "/api/v1/users/me", zoe, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "display_name")), "Zoe Z");
	json_decref(j);
	/* the same path, another caller: another answer */
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token,
			   "{\"name\":\"cache-p\",\"visibility\":\"internal\"}", 201));
	for (int i = 0; i < 2; i++) {
		j = h_call(&S, "GET", "/api/v1/projects/cache-p", S.admin_token, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(j, "role")), "owner");
		json_decref(j);
		j = h_call(&S, "GET", "/api/v1/projects/cache-p", zoe, NULL, 200);
		assert_string_equal(json_string_value(json_object_get(j, "role")), "viewer");
		json_decref(j);
	}
	json_decref(
		h_call(&S, "PUT", "/api/v1/projects/cache-p/members/zoe", S.admin_token, "{\"role\":\"editor\"}", 200));
	j = h_call(&S, "GET", "/api/v1/projects/cache-p", zoe, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "role")), "editor");
	json_decref(j);
	json_decref(
		h_call(&S, "PATCH", "/api/v1/projects/cache-p", S.admin_token, "{\"visibility\":\"private\"}", 200));
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/cache-p/members/zoe", S.admin_token, NULL, 204));
	h_expect_error(&S, "GET", "/api/v1/projects/cache-p", zoe, NULL, 404, NULL);
	/* a revoked token gets no cached answer */
	{
		json_t *t = h_call(&S, "POST", "/api/v1/tokens", zoe, "{\"name\":\"short\"}", 201);
		char tok[128];
		snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(t, "token")));
		json_decref(h_call(&S, "GET", "/api/v1/users/me", tok, NULL, 200));
		json_decref(
			h_call(&S, "DELETE",
			       h_fmt("/api/v1/tokens/%lld", (long long)json_integer_value(json_object_get(t, "id"))),
			       zoe, NULL, 204));
		json_decref(t);
		h_expect_error(&S, "GET", "/api/v1/users/me", tok, NULL, 401, NULL);
	}
}

int main(void)
{
	static const char *const extra[] = { "--max-body-bytes", "65536", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_ready_metrics),
		cmocka_unit_test(test_metrics_need_a_token),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_unauthorized),
		cmocka_unit_test(test_users_and_roles),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_teams),
		cmocka_unit_test(test_http_errors),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_backup),
		cmocka_unit_test(test_web_root),
		cmocka_unit_test(test_answer_cache_never_stale),
	};
	(void)setup;
	memset(&S, 0, sizeof(S));
	h_server_start(&S, (const char *const *)extra);
	return h_finish(cmocka_run_group_tests(tests, NULL, teardown));
}
