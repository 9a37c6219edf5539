/*
 * test_gc.c: reclaiming space. Deleting the only version that used a blob frees it after a
 * GC pass while a blob shared with another version stays; the grace period; orphan files
 * and stale uploads; an upload in flight during a pass; the background collector; a kill -9
 * in the middle of a pass loses nothing referenced; only admins may run it.
 */
#include "fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct h_server S;
static char owner[128];

#define M "/api/v1/projects/store/models"

static const char *sha_of(const json_t *upload)
{
	static char sha[4][65];
	static int i;
	char *s = sha[i++ % 4];
	snprintf(s, 65, "%s", f_str(upload, "sha256"));
	return s;
}

/* Creates a file of text under DATA_DIR/sub/name whose mtime is age_s seconds ago. */
static void old_file(struct h_server *s, const char *sub, const char *name, const char *text, int age_s)
{
	char dir[512], path[700];
	FILE *f;
	snprintf(dir, sizeof(dir), "%s/%s", s->dir, sub);
	assert_int_equal(h_sh("mkdir -p '%s'", dir), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(h_sh("touch -d '@%lld' '%s'", (long long)time(NULL) - age_s, path), 0);
}

static bool file_exists(struct h_server *s, const char *sub, const char *name)
{
	char path[700];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s/%s", s->dir, sub, name);
	return stat(path, &st) == 0;
}

static void test_delete_frees_unshared_blob(void **state)
{
	json_t *j;
	const char *only, *shared;
	struct h_resp r;
	(void)state;

	json_decref(h_call(&S, "POST", M, owner, "{\"name\":\"m\"}", 201));
	json_decref(h_call(&S, "POST", M "/m/versions", owner, "{}", 201));
	json_decref(h_call(&S, "POST", M "/m/versions", owner, "{}", 201));
	j = f_put(&S, M "/m/versions/1/files/only.bin", owner, "only in version one", 19, NULL, 201);
	only = sha_of(j);
	json_decref(j);
	j = f_put(&S, M "/m/versions/1/files/shared.bin", owner, "in both versions", 16, NULL, 201);
	shared = sha_of(j);
	json_decref(j);
	json_decref(f_put(&S, M "/m/versions/2/files/copy.bin", owner, "in both versions", 16, NULL, 201));
	json_decref(h_call(&S, "POST", M "/m/versions/1/commit", owner, "{}", 200));
	json_decref(h_call(&S, "POST", M "/m/versions/2/commit", owner, "{}", 200));
	assert_true(f_blob_exists(&S, only));
	assert_true(f_blob_exists(&S, shared));

	json_decref(h_call(&S, "DELETE", M "/m/versions/1", owner, NULL, 204));
	/* the default grace keeps a young blob */
	j = h_call(&S, "POST", "/api/v1/admin/gc", S.admin_token, "{}", 200);
	assert_int_equal(f_int(j, "blobs"), 0);
	json_decref(j);
	assert_true(f_blob_exists(&S, only));
	j = f_gc(&S, 0);
	assert_int_equal(f_int(j, "blobs"), 1);
	assert_int_equal(f_int(j, "bytes"), 19);
	assert_int_equal(f_int(j, "errors"), 0);
	json_decref(j);
	assert_false(f_blob_exists(&S, only));
	assert_true(f_blob_exists(&S, shared));
	h_req(&S, "GET", M "/m/versions/2/files/copy.bin", owner, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "in both versions", 16);
	h_resp_free(&r);
	/* nothing left to free; uploading the freed bytes again works */
	j = f_gc(&S, 0);
	assert_int_equal(f_int(j, "blobs"), 0);
	json_decref(j);
	json_decref(h_call(&S, "POST", M "/m/versions", owner, "{}", 201));
	json_decref(f_put(&S, M "/m/versions/3/files/again.bin", owner, "only in version one", 19, NULL, 201));
	assert_true(f_blob_exists(&S, only));
	h_req(&S, "GET", M "/m/versions/3/files/again.bin", owner, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 19);
	h_resp_free(&r);
}

static void test_dataset_drafts_and_files(void **state)
{
	json_t *j;
	const char *a, *b;
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/projects/store/datasets", owner, "{\"name\":\"d\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/store/datasets/d/versions", owner, "{}", 201));
	j = f_put(&S, "/api/v1/projects/store/datasets/d/versions/1/files/a", owner, "draft bytes a", 13, NULL, 201);
	a = sha_of(j);
	json_decref(j);
	j = f_put(&S, "/api/v1/projects/store/datasets/d/versions/1/files/b", owner, "draft bytes b", 13, NULL, 201);
	b = sha_of(j);
	json_decref(j);
	/* a replaced file frees the old bytes; a deleted draft frees the rest */
	json_decref(f_put(&S, "/api/v1/projects/store/datasets/d/versions/1/files/a", owner, "new a", 5, NULL, 201));
	j = f_gc(&S, 0);
	assert_int_equal(f_int(j, "blobs"), 1);
	json_decref(j);
	assert_false(f_blob_exists(&S, a));
	assert_true(f_blob_exists(&S, b));
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/store/datasets/d/versions/1", owner, NULL, 204));
	j = f_gc(&S, 0);
	assert_int_equal(f_int(j, "blobs"), 2);
	assert_int_equal(f_int(j, "bytes"), 18);
	json_decref(j);
	assert_false(f_blob_exists(&S, b));
}

static void test_orphans_and_stale_uploads(void **state)
{
	const char *orphan = "ab00000000000000000000000000000000000000000000000000000000000001";
	const char *young = "ab00000000000000000000000000000000000000000000000000000000000002";
	json_t *j;
	(void)state;

	old_file(&S, "blobs/ab", orphan, "left by a crash", 7200);
	old_file(&S, "blobs/ab", young, "just renamed", 0);
	old_file(&S, "blobs/ab", "notes.txt", "not a blob", 7200);
	old_file(&S, "tmp", "upload-dead", "an upload that never finished", 7200);
	old_file(&S, "tmp", "upload-live", "an upload going on", 0);
	old_file(&S, "tmp", "keep-me", "not an upload", 7200);
	j = f_gc(&S, 0);
	assert_int_equal(f_int(j, "orphan_files"), 1);
	assert_int_equal(f_int(j, "orphan_bytes"), 15);
	assert_int_equal(f_int(j, "tmp_files"), 1);
	assert_int_equal(f_int(j, "tmp_bytes"), 29);
	json_decref(j);
	assert_false(file_exists(&S, "blobs/ab", orphan));
	assert_true(file_exists(&S, "blobs/ab", young));       /* younger than ten minutes */
	assert_true(file_exists(&S, "blobs/ab", "notes.txt")); /* not named by a sha256 */
	assert_false(file_exists(&S, "tmp", "upload-dead"));
	assert_true(file_exists(&S, "tmp", "upload-live"));
	assert_true(file_exists(&S, "tmp", "keep-me"));
	/* the grace asked for applies when it is longer than ten minutes */
	old_file(&S, "tmp", "upload-hour", "an hour old", 3600);
	j = f_gc(&S, 7200);
	assert_int_equal(f_int(j, "tmp_files"), 0);
	json_decref(j);
	assert_true(file_exists(&S, "tmp", "upload-hour"));
	h_sh("rm -f '%s/tmp/upload-live' '%s/tmp/keep-me' '%s/tmp/upload-hour' '%s/blobs/ab/%s' "
	     "'%s/blobs/ab/notes.txt'",
	     S.dir, S.dir, S.dir, S.dir, young, S.dir);
	/* an orphan blob file that a row names is not an orphan: referenced blobs keep old mtimes */
	json_decref(h_call(&S, "POST", M, owner, "{\"name\":\"aged\"}", 201));
	json_decref(h_call(&S, "POST", M "/aged/versions", owner, "{}", 201));
	j = f_put(&S, M "/aged/versions/1/files/x", owner, "aged bytes", 10, NULL, 201);
	assert_int_equal(h_sh("touch -d '@%lld' '%s/blobs/%.2s/%s'", (long long)time(NULL) - 86400, S.dir,
			      f_str(j, "sha256"), f_str(j, "sha256")),
			 0);
	json_decref(f_gc(&S, 0));
	assert_true(f_blob_exists(&S, f_str(j, "sha256")));
	json_decref(j);
}

static int raw_connect(struct h_server *s)
{
	struct sockaddr_in sin = { 0 };
	const char *colon = strrchr(s->base, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
		assert_true(w > 0);
		data += w;
		len -= (size_t)w;
	}
}

static bool one_tmp_file(void *arg)
{
	return f_count_files(arg, "tmp") == 1;
}

static void test_upload_during_gc(void **state)
{
	char head[1024], resp[2048];
	struct h_resp r;
	json_t *j;
	ssize_t n, got = 0;
	int fd;
	(void)state;

	json_decref(h_call(&S, "POST", M, owner, "{\"name\":\"racing\"}", 201));
	json_decref(h_call(&S, "POST", M "/racing/versions", owner, "{}", 201));
	assert_int_equal(f_count_files(&S, "tmp"), 0);
	fd = raw_connect(&S);
	snprintf(head, sizeof(head),
		 "PUT " M "/racing/versions/1/files/half.bin HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n"
		 "Content-Length: 20\r\nConnection: close\r\n\r\n0123456789",
		 owner);
	send_all(fd, head, strlen(head));
	assert_true(h_wait(one_tmp_file, &S, 5000)); /* the first half is in DATA_DIR/tmp */
	j = f_gc(&S, 0);
	assert_int_equal(f_int(j, "tmp_files"), 0);
	json_decref(j);
	send_all(fd, "abcdefghij", 10);
	while ((n = recv(fd, resp + got, sizeof(resp) - 1 - (size_t)got, 0)) > 0)
		got += n;
	resp[got] = 0;
	close(fd);
	assert_non_null(strstr(resp, " 201 "));
	h_req(&S, "GET", M "/racing/versions/1/files/half.bin", owner, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "0123456789abcdefghij", 20);
	h_resp_free(&r);
}

static void test_admin_only(void **state)
{
	(void)state;
	h_expect_error(&S, "POST", "/api/v1/admin/gc", owner, "{}", 403, NULL);
	h_expect_error(&S, "POST", "/api/v1/admin/gc", NULL, "{}", 401, NULL);
	h_expect_error(&S, "POST", "/api/v1/admin/gc", S.admin_token, "{\"grace_seconds\":-1}", 400, "grace_seconds");
	h_expect_error(&S, "POST", "/api/v1/admin/gc", S.admin_token, "{\"grace_seconds\":\"0\"}", 400,
		       "grace_seconds");
	h_expect_error(&S, "POST", "/api/v1/admin/gc", S.admin_token, "{\"force\":true}", 400, "force");
	json_t *j = h_call(&S, "GET", "/api/v1/audit?action=admin.gc&limit=1000", S.admin_token, NULL, 200), *it;
	size_t i;
	int ok = 0;
	json_array_foreach(json_object_get(j, "items"), i, it) ok += f_int(it, "status") == 200 &&
								     !strcmp(f_str(it, "object"), "gc") &&
								     !strcmp(f_str(it, "actor"), "admin");
	json_decref(j);
	assert_true(ok >= 5);
}

/* ---- a server of its own: the background collector ---- */

struct gone {
	struct h_server *s;
	const char *sha;
};

static bool blob_gone(void *arg)
{
	struct gone *g = arg;
	return !f_blob_exists(g->s, g->sha);
}

static void test_background(void **state)
{
	static const char *const extra[] = { "--gc-interval", "1", NULL };
	struct h_server b;
	char tok[128];
	struct gone g;
	json_t *j;
	(void)state;

	h_server_start(&b, extra);
	snprintf(tok, sizeof(tok), "%s", h_user(&b, "bg", false));
	f_project(&b, tok, "bgp", "private");
	json_decref(h_call(&b, "POST", "/api/v1/projects/bgp/models", tok, "{\"name\":\"m\"}", 201));
	json_decref(h_call(&b, "POST", "/api/v1/projects/bgp/models/m/versions", tok, "{}", 201));
	json_decref(h_call(&b, "POST", "/api/v1/projects/bgp/models/m/versions", tok, "{}", 201));
	j = f_put(&b, "/api/v1/projects/bgp/models/m/versions/1/files/f", tok, "doomed", 6, NULL, 201);
	g.s = &b;
	g.sha = sha_of(j);
	json_decref(j);
	j = f_put(&b, "/api/v1/projects/bgp/models/m/versions/2/files/f", tok, "kept", 4, NULL, 201);
	json_decref(h_call(&b, "DELETE", "/api/v1/projects/bgp/models/m/versions/1", tok, NULL, 204));
	/* background passes keep blobs younger than an hour: age this one */
	f_sql_exec(&b, h_fmt("UPDATE blobs SET created_at = 0 WHERE sha256 = '%s'", g.sha));
	f_sql_exec(&b, h_fmt("UPDATE blobs SET created_at = 0 WHERE sha256 = '%s'", f_str(j, "sha256")));
	old_file(&b, "blobs/cd", "cd00000000000000000000000000000000000000000000000000000000000003", "orphan", 7200);
	assert_true(h_wait(blob_gone, &g, 10000));
	g.sha = "cd00000000000000000000000000000000000000000000000000000000000003";
	assert_true(h_wait(blob_gone, &g, 10000));
	assert_true(f_blob_exists(&b, f_str(j, "sha256")));
	json_decref(j);
	assert_int_equal(f_finish(&b, 0), 0);
}

/* ---- kill -9 during a pass ---- */

static void test_kill_during_gc(void **state)
{
	struct h_server k;
	const char *body = "{\"grace_seconds\":0}";
	char tok[128], req[512], kept[20][65];
	json_t *j;
	int fd;
	(void)state;

	h_server_start(&k, NULL);
	snprintf(tok, sizeof(tok), "%s", h_user(&k, "kk", false));
	f_project(&k, tok, "kp", "private");
	json_decref(h_call(&k, "POST", "/api/v1/projects/kp/models", tok, "{\"name\":\"m\"}", 201));
	json_decref(h_call(&k, "POST", "/api/v1/projects/kp/models/m/versions", tok, "{}", 201));
	json_decref(h_call(&k, "POST", "/api/v1/projects/kp/models/m/versions", tok, "{}", 201));
	for (int i = 0; i < 300; i++) {
		const char *text = h_fmt("garbage number %d", i);
		json_decref(f_put(&k, h_fmt("/api/v1/projects/kp/models/m/versions/1/files/g%d", i), tok, text,
				  strlen(text), NULL, 201));
	}
	for (int i = 0; i < 20; i++) {
		const char *text = h_fmt("precious number %d", i);
		j = f_put(&k, h_fmt("/api/v1/projects/kp/models/m/versions/2/files/p%d", i), tok, text, strlen(text),
			  NULL, 201);
		snprintf(kept[i], 65, "%s", f_str(j, "sha256"));
		json_decref(j);
	}
	json_decref(h_call(&k, "POST", "/api/v1/projects/kp/models/m/versions/2/commit", tok, "{}", 200));
	json_decref(h_call(&k, "DELETE", "/api/v1/projects/kp/models/m/versions/1", tok, NULL, 204));
	/* start a pass without waiting for it, then kill the server */
	fd = raw_connect(&k);
	snprintf(req, sizeof(req),
		 "POST /api/v1/admin/gc HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\nContent-Type: "
		 "application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 k.admin_token, strlen(body), body);
	send_all(fd, req, strlen(req));
	usleep(2000);
	h_server_stop(&k, SIGKILL);
	close(fd);
	h_server_restart(&k, NULL);
	for (int i = 0; i < 20; i++) {
		struct h_resp r;
		assert_true(f_blob_exists(&k, kept[i]));
		h_req(&k, "GET", h_fmt("/api/v1/projects/kp/models/m/versions/2/files/p%d", i), tok, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
	/* the next pass forgets every unreferenced row; bytes whose row went just before the kill
	 * are orphans, removed once old enough */
	json_decref(f_gc(&k, 0));
	assert_int_equal(f_sql_int(&k, "SELECT count(*) FROM blobs"), 20);
	assert_true(f_count_files(&k, "blobs") - 20 <= 128);
	assert_int_equal(
		h_sh("find '%s/blobs' -type f -exec touch -d '@%lld' {} +", k.dir, (long long)time(NULL) - 7200), 0);
	json_decref(f_gc(&k, 0));
	assert_int_equal(f_count_files(&k, "blobs"), 20);
	for (int i = 0; i < 20; i++)
		assert_true(f_blob_exists(&k, kept[i]));
	assert_int_equal(f_finish(&k, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_frees_unshared_blob),
		cmocka_unit_test(test_dataset_drafts_and_files),
		cmocka_unit_test(test_orphans_and_stale_uploads),
		cmocka_unit_test(test_upload_during_gc),
		cmocka_unit_test(test_admin_only),
		cmocka_unit_test(test_background),
		cmocka_unit_test(test_kill_during_gc),
	};

	h_server_start(&S, NULL);
	snprintf(owner, sizeof(owner), "%s", h_user(&S, "owner", false));
	f_project(&S, owner, "store", "private");
	return f_finish(&S, cmocka_run_group_tests(tests, NULL, NULL));
}
