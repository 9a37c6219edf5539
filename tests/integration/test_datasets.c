/*
 * test_datasets.c: projects (create, list, get, patch, archive, members, team rules) and
 * datasets over HTTP: the access matrix, names, unsafe paths, immutability of committed
 * versions, checksums (nothing kept on a mismatch), deduplication, a 1 GiB streamed upload
 * with the daemon's memory watched, pagination over 1000 files, Range downloads, diffs,
 * parent versions and draft deletion.
 */
#include "fixtures.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char people[4][128];
static const char *const olga = people[0], *const ed = people[1], *const vic = people[2], *const out = people[3];

#define DS "/api/v1/projects/ds/datasets"

static bool list_has_name(const char *path, const char *token, const char *name)
{
	json_t *j = h_call(&S, "GET", path, token, NULL, 200), *it;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(j, "items"), i, it) if (!strcmp(f_str(it, "name"), name)) found = true;
	json_decref(j);
	return found;
}

/* ---- projects ---- */

static void test_projects(void **state)
{
	json_t *j;
	long long id;
	(void)state;

	j = h_call(&S, "POST", "/api/v1/projects", olga,
		   "{\"name\":\"proj-a\",\"description\":\"first\",\"tags\":[\"x\"],\"visibility\":\"private\"}", 201);
	assert_string_equal(f_str(j, "role"), "owner");
	assert_string_equal(f_str(j, "visibility"), "private");
	assert_int_equal(f_int(j, "member_count"), 1);
	id = f_int(j, "id");
	json_decref(j);
	h_expect_error(&S, "POST", "/api/v1/projects", ed, "{\"name\":\"proj-a\"}", 409, "name");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"Proj A\"}", 400, "name");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"-a\"}", 400, "name");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{}", 400, "name");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"p2\",\"visibility\":\"public\"}", 400,
		       "visibility");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"p2\",\"tags\":\"x\"}", 400, "tags");
	/* get: by name or id; outsiders 404 */
	j = h_call(&S, "GET", h_fmt("/api/v1/projects/%lld", id), olga, NULL, 200);
	assert_string_equal(f_str(j, "name"), "proj-a");
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/projects/proj-a", out, NULL, 404, NULL);
	h_expect_error(&S, "GET", h_fmt("/api/v1/projects/%lld", id), out, NULL, 404, NULL);
	assert_false(list_has_name("/api/v1/projects?limit=1000", out, "proj-a"));
	assert_true(list_has_name("/api/v1/projects?limit=1000", olga, "proj-a"));
	assert_true(list_has_name("/api/v1/projects?limit=1000", S.admin_token, "proj-a"));
	/* patch: owners only */
	h_expect_error(&S, "PATCH", "/api/v1/projects/ds", ed, "{\"description\":\"x\"}", 403, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/projects/ds", out, "{\"description\":\"x\"}", 404, NULL);
	j = h_call(&S, "PATCH", "/api/v1/projects/proj-a", olga,
		   "{\"description\":\"changed\",\"visibility\":\"internal\"}", 200);
	assert_string_equal(f_str(j, "description"), "changed");
	assert_string_equal(f_str(j, "visibility"), "internal");
	json_decref(j);
	h_expect_error(&S, "PATCH", "/api/v1/projects/proj-a", olga, "{\"name\":\"renamed\"}", 400, "name");
	h_expect_error(&S, "PATCH", "/api/v1/projects/proj-a", olga, "{\"visibility\":1}", 400, "visibility");
	/* internal: every user reads as a viewer */
	j = h_call(&S, "GET", "/api/v1/projects/proj-a", out, NULL, 200);
	assert_string_equal(f_str(j, "role"), "viewer");
	json_decref(j);
	assert_true(list_has_name("/api/v1/projects?limit=1000", out, "proj-a"));
	h_expect_error(&S, "PATCH", "/api/v1/projects/proj-a", out, "{\"description\":\"x\"}", 403, NULL);
	/* archive */
	h_expect_error(&S, "DELETE", "/api/v1/projects/proj-a", out, NULL, 403, NULL);
	j = h_call(&S, "DELETE", "/api/v1/projects/proj-a", olga, NULL, 200);
	assert_non_null(json_string_value(json_object_get(j, "archived_at")));
	json_decref(j);
	assert_false(list_has_name("/api/v1/projects?limit=1000", olga, "proj-a"));
	assert_true(list_has_name("/api/v1/projects?limit=1000&archived=true", olga, "proj-a"));
	h_expect_error(&S, "GET", "/api/v1/projects?archived=maybe", olga, NULL, 400, "archived");
	json_decref(h_call(&S, "GET", "/api/v1/projects/proj-a", olga, NULL, 200));
	h_expect_error(&S, "POST", "/api/v1/projects/proj-a/datasets", olga, "{\"name\":\"d\"}", 409, NULL);
	h_expect_error(&S, "PATCH", "/api/v1/projects/proj-a", olga, "{\"description\":\"x\"}", 409, NULL);
	h_expect_error(&S, "PUT", "/api/v1/projects/proj-a/members/ed", olga, "{\"role\":\"editor\"}", 409, NULL);
}

static void test_members_and_teams(void **state)
{
	json_t *j;
	(void)state;

	f_project(&S, olga, "team-proj", "private");
	/* members: owners manage them */
	h_expect_error(&S, "PUT", "/api/v1/projects/team-proj/members/ed", ed, "{\"role\":\"editor\"}", 404, NULL);
	j = h_call(&S, "PUT", "/api/v1/projects/team-proj/members/ed", olga, "{\"role\":\"editor\"}", 200);
	assert_string_equal(f_str(j, "role"), "editor");
	json_decref(j);
	h_expect_error(&S, "PUT", "/api/v1/projects/team-proj/members/vic", ed, "{\"role\":\"viewer\"}", 403, NULL);
	h_expect_error(&S, "PUT", "/api/v1/projects/team-proj/members/vic", olga, "{\"role\":\"boss\"}", 400, "role");
	h_expect_error(&S, "PUT", "/api/v1/projects/team-proj/members/vic", olga, "{}", 400, "role");
	h_expect_error(&S, "PUT", "/api/v1/projects/team-proj/members/ghost", olga, "{\"role\":\"viewer\"}", 404, NULL);
	j = h_call(&S, "GET", "/api/v1/projects/team-proj/members", ed, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/projects/team-proj/members", out, NULL, 404, NULL);
	/* the last owner stays */
	h_expect_error(&S, "PUT", "/api/v1/projects/team-proj/members/olga", olga, "{\"role\":\"editor\"}", 409,
		       "role");
	h_expect_error(&S, "DELETE", "/api/v1/projects/team-proj/members/olga", olga, NULL, 409, NULL);
	json_decref(h_call(&S, "PUT", "/api/v1/projects/team-proj/members/ed", olga, "{\"role\":\"owner\"}", 200));
	json_decref(h_call(&S, "PUT", "/api/v1/projects/team-proj/members/olga", ed, "{\"role\":\"viewer\"}", 200));
	h_expect_error(&S, "DELETE", "/api/v1/projects/team-proj/members/ed", ed, NULL, 409, NULL);
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/team-proj/members/olga", ed, NULL, 204));
	h_expect_error(&S, "DELETE", "/api/v1/projects/team-proj/members/olga", ed, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/team-proj", olga, NULL, 404, NULL);
	/* teams: a project goes only into a team its creator belongs to (admins: any) */
	json_decref(h_call(&S, "POST", "/api/v1/teams", S.admin_token, "{\"name\":\"nlp\"}", 201));
	json_decref(h_call(&S, "PUT", "/api/v1/teams/nlp/members/olga", S.admin_token, "{}", 200));
	h_expect_error(&S, "POST", "/api/v1/projects", vic, "{\"name\":\"t1\",\"team\":\"nlp\"}", 403, "team");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"t1\",\"team\":\"nope\"}", 400, "team");
	h_expect_error(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"t1\",\"team\":\"Bad Team\"}", 400, "team");
	j = h_call(&S, "POST", "/api/v1/projects", olga, "{\"name\":\"t1\",\"team\":\"nlp\"}", 201);
	assert_string_equal(f_str(j, "team"), "nlp");
	json_decref(j);
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"t2\",\"team\":\"nlp\"}", 201));
	assert_true(list_has_name("/api/v1/projects?team=nlp", olga, "t1"));
	assert_false(list_has_name("/api/v1/projects?team=nlp&limit=1000", olga, "ds"));
	h_expect_error(&S, "GET", "/api/v1/projects?team=nope", olga, NULL, 400, "team");
	j = h_call(&S, "PATCH", "/api/v1/projects/t1", olga, "{\"team\":null}", 200);
	assert_true(json_is_null(json_object_get(j, "team")));
	json_decref(j);
	f_member(&S, "t1", "vic", "owner");
	h_expect_error(&S, "PATCH", "/api/v1/projects/t1", vic, "{\"team\":\"nlp\"}", 403, "team");
}

/* ---- datasets ---- */

static void test_access_matrix(void **state)
{
	json_t *j;
	(void)state;

	/* outsiders: private projects do not exist */
	h_expect_error(&S, "GET", DS, out, NULL, 404, NULL);
	h_expect_error(&S, "POST", DS, out, "{\"name\":\"x\"}", 404, NULL);
	/* viewers read, never write */
	h_expect_error(&S, "POST", DS, vic, "{\"name\":\"x\"}", 403, NULL);
	j = h_call(&S, "POST", DS, ed, "{\"name\":\"cifar\",\"description\":\"images\",\"tags\":[\"vision\"]}", 201);
	assert_string_equal(f_str(j, "name"), "cifar");
	assert_int_equal(f_int(j, "version_count"), 0);
	json_decref(j);
	h_expect_error(&S, "POST", DS, olga, "{\"name\":\"cifar\"}", 409, "name");
	h_expect_error(&S, "POST", DS, ed, "{\"name\":\"Cifar 10\"}", 400, "name");
	h_expect_error(&S, "POST", DS, ed, "{\"name\":\"cifar_10\"}", 400, "name");
	h_expect_error(&S, "POST", DS, ed, "{\"name\":\"\"}", 400, "name");
	h_expect_error(&S, "POST", DS, ed,
		       "{\"name\":\"a234567890123456789012345678901234567890123456789012345678901234\"}", 400, "name");
	h_expect_error(&S, "POST", DS, ed, "{\"name\":\"x\",\"tags\":[1]}", 400, "tags[0]");
	h_expect_error(&S, "POST", DS, ed, "{\"name\":\"x\",\"size\":1}", 400, "size");
	json_decref(h_call(&S, "GET", DS "/cifar", vic, NULL, 200));
	h_expect_error(&S, "GET", DS "/cifar", out, NULL, 404, NULL);
	h_expect_error(&S, "GET", DS "/nope", vic, NULL, 404, NULL);
	h_expect_error(&S, "POST", DS "/cifar/versions", vic, "{}", 403, NULL);
	h_expect_error(&S, "POST", DS "/cifar/versions", out, "{}", 404, NULL);
	j = h_call(&S, "POST", DS "/cifar/versions", ed, "{\"message\":\"first\"}", 201);
	assert_int_equal(f_int(j, "version"), 1);
	assert_string_equal(f_str(j, "state"), "draft");
	json_decref(j);
	json_decref(f_put(&S, DS "/cifar/versions/1/files/a.txt", vic, "no", 2, NULL, 403));
	json_decref(f_put(&S, DS "/cifar/versions/1/files/a.txt", out, "no", 2, NULL, 404));
	json_decref(f_put(&S, DS "/cifar/versions/1/files/a.txt", ed, "aaa", 3, NULL, 201));
	h_expect_error(&S, "DELETE", DS "/cifar/versions/1/files/a.txt", vic, NULL, 403, NULL);
	h_expect_error(&S, "POST", DS "/cifar/versions/1/commit", vic, "{}", 403, NULL);
	h_expect_error(&S, "DELETE", DS "/cifar/versions/1", vic, NULL, 403, NULL);
	h_expect_error(&S, "GET", DS "/cifar/versions/1/files/a.txt", out, NULL, 404, NULL);
	json_decref(h_call(&S, "GET", DS "/cifar/versions/1/files", vic, NULL, 200));
	h_expect_error(&S, "GET", DS "/cifar/versions/abc", vic, NULL, 400, "version");
	h_expect_error(&S, "GET", DS "/cifar/versions/0", vic, NULL, 400, "version");
	h_expect_error(&S, "GET", DS "/cifar/versions/7", vic, NULL, 404, NULL);
	/* an internal project: readable by all, writable by its editors */
	f_project(&S, olga, "pub", "internal");
	json_decref(h_call(&S, "POST", "/api/v1/projects/pub/datasets", olga, "{\"name\":\"open\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/pub/datasets/open/versions", olga, "{}", 201));
	json_decref(
		f_put(&S, "/api/v1/projects/pub/datasets/open/versions/1/files/r.txt", olga, "read me", 7, NULL, 201));
	json_decref(h_call(&S, "GET", "/api/v1/projects/pub/datasets", out, NULL, 200));
	json_decref(h_call(&S, "GET", "/api/v1/projects/pub/datasets/open/versions/1/files/r.txt", out, NULL, 200));
	h_expect_error(&S, "POST", "/api/v1/projects/pub/datasets", out, "{\"name\":\"mine\"}", 403, NULL);
	json_decref(f_put(&S, "/api/v1/projects/pub/datasets/open/versions/1/files/w.txt", out, "no", 2, NULL, 403));
	f_member(&S, "pub", "ed", "editor");
	json_decref(f_put(&S, "/api/v1/projects/pub/datasets/open/versions/1/files/w.txt", ed, "yes", 3, NULL, 201));
}

static void test_paths(void **state)
{
	static const char *const bad[] = {
		"../x", "%2e%2e/x", "%2E%2E/x", "..%2Fx", "a/../b", "/abs",    "a//b",	    "a/./b", "./a",
		"a/",	"x%00y",    "x%0ay",	"x%zz",	  "x%ffy",  "%c0%afx", "%ed%a0%80", "x%c3",
	};
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"paths\"}", 201));
	json_decref(h_call(&S, "POST", DS "/paths/versions", ed, "{}", 201));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = h_fmt(DS "/paths/versions/1/files/%s", bad[i]);
		long st = f_status_raw(&S, "PUT", p, ed);
		if (st != 400)
			fprintf(stderr, "PUT files/%s -> %ld\n", bad[i], st);
		assert_int_equal(st, 400);
		assert_int_equal(f_status_raw(&S, "GET", p, vic), 400);
		assert_int_equal(f_status_raw(&S, "DELETE", p, ed), 400);
	}
	h_expect_error(&S, "PUT", DS "/paths/versions/1/files/%2e%2e/x", ed, NULL, 400, "path");
	h_expect_error(&S, "PUT", DS "/paths/versions/1/files/x%00y", ed, NULL, 400, "path");
	json_t *j = h_call(&S, "PUT", DS "/paths/versions/1/files/x%ffy", ed, NULL, 400);
	assert_string_equal(f_str(json_object_get(j, "error"), "field"), "path");
	assert_non_null(strstr(f_str(json_object_get(j, "error"), "message"), "UTF-8"));
	json_decref(j);
	/* nothing was stored by any of them */
	j = h_call(&S, "GET", DS "/paths/versions/1/files", vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	/* what is fine: nested paths, dots inside names, spaces and UTF-8 (encoded) */
	json_decref(f_put(&S, DS "/paths/versions/1/files/dir/sub/file.tar.gz", ed, "x", 1, NULL, 201));
	json_decref(f_put(&S, DS "/paths/versions/1/files/..hidden", ed, "x", 1, NULL, 201));
	json_decref(f_put(&S, DS "/paths/versions/1/files/with%20space%20%C3%A9", ed, "x", 1, NULL, 201));
	j = h_call(&S, "GET", DS "/paths/versions/1/files", vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 2), "path"), "with space \xc3\xa9");
	json_decref(j);
}

static void test_committed_is_frozen(void **state)
{
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"frozen\"}", 201));
	json_decref(h_call(&S, "POST", DS "/frozen/versions", ed, "{}", 201));
	json_decref(f_put(&S, DS "/frozen/versions/1/files/f", ed, "v1", 2, NULL, 201));
	h_expect_error(&S, "POST", DS "/frozen/versions/1/commit", ed, "{\"rows\":-1}", 400, "rows");
	h_expect_error(&S, "POST", DS "/frozen/versions/1/commit", ed, "{\"rows\":\"5\"}", 400, "rows");
	j = h_call(&S, "POST", DS "/frozen/versions/1/commit", ed,
		   "{\"rows\":2,\"schema\":{\"a\":\"int\"},\"metadata\":{\"source\":\"x\"}}", 200);
	assert_string_equal(f_str(j, "state"), "committed");
	assert_int_equal(f_int(j, "rows"), 2);
	assert_int_equal(f_int(j, "file_count"), 1);
	assert_non_null(json_string_value(json_object_get(j, "committed_at")));
	json_decref(j);
	json_decref(f_put(&S, DS "/frozen/versions/1/files/f", ed, "v2", 2, NULL, 409));
	json_decref(f_put(&S, DS "/frozen/versions/1/files/new", ed, "v2", 2, NULL, 409));
	h_expect_error(&S, "DELETE", DS "/frozen/versions/1/files/f", ed, NULL, 409, NULL);
	h_expect_error(&S, "POST", DS "/frozen/versions/1/commit", ed, "{}", 409, NULL);
	h_expect_error(&S, "DELETE", DS "/frozen/versions/1", olga, NULL, 409, NULL);
	j = h_call(&S, "GET", DS "/frozen/versions/latest", vic, NULL, 200);
	assert_int_equal(f_int(j, "version"), 1);
	json_decref(j);
	j = h_call(&S, "GET", DS "/frozen", vic, NULL, 200);
	assert_int_equal(f_int(j, "latest_version"), 1);
	json_decref(j);
}

static bool tmp_empty(void *arg)
{
	return f_count_files(arg, "tmp") == 0;
}

static void test_checksums(void **state)
{
	const char *wrong[] = { "X-Content-SHA256: 0000000000000000000000000000000000000000000000000000000000000000",
				NULL };
	const char *right[] = { "X-Content-SHA256: 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
				NULL };
	const char *junk[] = { "X-Content-SHA256: not-hex", NULL };
	int blobs;
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"sums\"}", 201));
	json_decref(h_call(&S, "POST", DS "/sums/versions", ed, "{}", 201));
	blobs = f_count_files(&S, "blobs");
	j = f_put(&S, DS "/sums/versions/1/files/bad", ed, "a body whose sum is not zero", 28, wrong, 400);
	assert_string_equal(f_str(json_object_get(j, "error"), "field"), "X-Content-SHA256");
	json_decref(j);
	json_decref(f_put(&S, DS "/sums/versions/1/files/bad", ed, "x", 1, junk, 400));
	assert_true(h_wait(tmp_empty, &S, 5000));
	assert_int_equal(f_count_files(&S, "blobs"), blobs);
	h_expect_error(&S, "GET", DS "/sums/versions/1/files/bad", vic, NULL, 404, NULL);
	/* a matching sum (any case) is accepted */
	j = f_put(&S, DS "/sums/versions/1/files/good", ed, "hello", 5, right, 201);
	assert_string_equal(f_str(j, "sha256"), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	json_decref(j);
	assert_int_equal(f_count_files(&S, "blobs"), blobs + 1);
}

static void test_dedup(void **state)
{
	int blobs;
	json_t *a, *b;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"dup-one\"}", 201));
	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"dup-two\"}", 201));
	json_decref(h_call(&S, "POST", DS "/dup-one/versions", ed, "{}", 201));
	json_decref(h_call(&S, "POST", DS "/dup-one/versions", ed, "{}", 201));
	json_decref(h_call(&S, "POST", DS "/dup-two/versions", ed, "{}", 201));
	blobs = f_count_files(&S, "blobs");
	a = f_put(&S, DS "/dup-one/versions/1/files/same.bin", ed, "identical bytes", 15, NULL, 201);
	b = f_put(&S, DS "/dup-one/versions/2/files/other-name.bin", ed, "identical bytes", 15, NULL, 201);
	json_decref(f_put(&S, DS "/dup-two/versions/1/files/x", ed, "identical bytes", 15, NULL, 201));
	assert_string_equal(f_str(a, "sha256"), f_str(b, "sha256"));
	assert_int_equal(f_count_files(&S, "blobs"), blobs + 1);
	assert_true(f_blob_exists(&S, f_str(a, "sha256")));
	json_decref(a);
	json_decref(b);
}

/* ---- 1 GiB, streamed both ways ---- */

#define BIG (1024LL * 1024 * 1024)

struct gen {
	long long sent;
	long base_kib, peak_kib;
	EVP_MD_CTX *md;
};

static void sample(struct gen *g)
{
	long kib = h_rss_kib(S.pid);
	if (kib > g->peak_kib)
		g->peak_kib = kib;
}

static size_t gen_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct gen *g = ud;
	size_t n = size * nitems;
	long long before = g->sent;

	static unsigned char pattern[1 << 20];
	static bool ready;
	size_t off, done = 0;

	if (!ready) {
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = (unsigned char)((i * 2654435761u) >> 13);
		ready = true;
	}
	if ((long long)n > BIG - g->sent)
		n = (size_t)(BIG - g->sent);
	while (done < n) { /* the pattern, repeated: any bytes do, the test hashes what it sends */
		size_t k;
		off = (size_t)((g->sent + (long long)done) % (long long)sizeof(pattern));
		k = sizeof(pattern) - off < n - done ? sizeof(pattern) - off : n - done;
		memcpy(buf + done, pattern + off, k);
		done += k;
	}
	EVP_DigestUpdate(g->md, buf, n);
	g->sent += (long long)n;
	if (before / (16 << 20) != g->sent / (16 << 20))
		sample(g);
	return n;
}

static size_t drop(char *ptr, size_t size, size_t nmemb, void *ud)
{
	long long *got = ud;
	(void)ptr;
	*got += (long long)(size * nmemb);
	return size * nmemb;
}

static size_t keep(char *ptr, size_t size, size_t nmemb, void *ud)
{
	char *b = ud;
	size_t have = strlen(b), n = size * nmemb;
	if (have + n < 1024) {
		memcpy(b + have, ptr, n);
		b[have + n] = 0;
	}
	return n;
}

static void test_one_gib_upload(void **state)
{
	struct gen g = { 0 };
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], auth[200], answer[1024] = "", sha[65];
	unsigned char d[32];
	unsigned dl;
	long status = 0;
	long long got = 0;
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"huge\"}", 201));
	json_decref(h_call(&S, "POST", DS "/huge/versions", ed, "{}", 201));
	g.md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(g.md, EVP_sha256(), NULL);
	g.base_kib = g.peak_kib = h_rss_kib(S.pid);
	assert_true(g.base_kib > 0);
	snprintf(url, sizeof(url), "%s" DS "/huge/versions/1/files/big.bin", S.base);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ed);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)BIG);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, gen_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &g);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	sample(&g);
	assert_int_equal(status, 201);
	EVP_DigestFinal_ex(g.md, d, &dl);
	EVP_MD_CTX_free(g.md);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", d[i]);
	j = json_loads(answer, 0, NULL);
	assert_non_null(j);
	assert_int_equal(f_int(j, "size"), BIG);
	assert_string_equal(f_str(j, "sha256"), sha);
	json_decref(j);
	fprintf(stderr, "1 GiB upload: daemon RSS %ld KiB before, peak %ld KiB (+%ld KiB)\n", g.base_kib, g.peak_kib,
		g.peak_kib - g.base_kib);
	assert_true(g.peak_kib - g.base_kib < 64 * 1024);
	/* and back down, streamed too */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	assert_int_equal(got, BIG);
	sample(&g);
	fprintf(stderr, "1 GiB download: daemon RSS peak %ld KiB (+%ld KiB)\n", g.peak_kib, g.peak_kib - g.base_kib);
	assert_true(g.peak_kib - g.base_kib < 64 * 1024);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	/* free the disk for the rest of the tests */
	json_decref(h_call(&S, "DELETE", DS "/huge/versions/1", ed, NULL, 204));
	json_decref(f_gc(&S, 0));
}

struct seen {
	char once[1000];
	int count, limit;
};

/* Each file "dN/fNNNN.txt" is seen once, in pages of at most 37. */
static void see_file(json_t *it, void *arg)
{
	struct seen *s = arg;
	int n = (int)strtol(strrchr(f_str(it, "path"), 'f') + 1, NULL, 10);
	assert_true(n >= 0 && n < s->limit);
	assert_int_equal(s->once[n], 0);
	s->once[n] = 1;
	s->count++;
}

static void test_pagination_1000_files(void **state)
{
	struct seen seen = { .limit = 1000 };
	json_t *j;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"many\"}", 201));
	json_decref(h_call(&S, "POST", DS "/many/versions", ed, "{}", 201));
	for (int i = 0; i < 1000; i++) {
		const char *text = h_fmt("file %d", i);
		json_decref(f_put(&S, h_fmt(DS "/many/versions/1/files/d%d/f%04d.txt", i % 7, i), ed, text,
				  strlen(text), NULL, 201));
	}
	assert_int_equal(f_walk_pages(&S, DS "/many/versions/1/files?limit=37", vic, see_file, &seen), 28);
	assert_int_equal(seen.count, 1000);
	j = h_call(&S, "GET", DS "/many/versions/1", vic, NULL, 200);
	assert_int_equal(f_int(j, "file_count"), 1000);
	json_decref(j);
}

static void test_ranges(void **state)
{
	struct h_resp r;
	const char *rg;
	char etag[80];
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"ranged\"}", 201));
	json_decref(h_call(&S, "POST", DS "/ranged/versions", ed, "{}", 201));
	json_decref(f_put(&S, DS "/ranged/versions/1/files/r.bin", ed, "0123456789", 10, NULL, 201));
	h_req(&S, "GET", DS "/ranged/versions/1/files/r.bin", vic, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(h_header(&r, "Accept-Ranges"), "bytes");
	snprintf(etag, sizeof(etag), "%s", h_header(&r, "ETag"));
	assert_non_null(h_header(&r, "X-Content-SHA256"));
	h_resp_free(&r);
	{
		const char *hd[] = { "Range: bytes=2-5", NULL };
		h_req(&S, "GET", DS "/ranged/versions/1/files/r.bin", vic, NULL, hd, &r);
		assert_int_equal(r.status, 206);
		assert_int_equal(r.len, 4);
		assert_memory_equal(r.body, "2345", 4);
		assert_string_equal(h_header(&r, "Content-Range"), "bytes 2-5/10");
		h_resp_free(&r);
	}
	{
		const char *hd[] = { "Range: bytes=-3", NULL };
		h_req(&S, "GET", DS "/ranged/versions/1/files/r.bin", vic, NULL, hd, &r);
		assert_int_equal(r.status, 206);
		assert_memory_equal(r.body, "789", 3);
		h_resp_free(&r);
	}
	{
		const char *hd[] = { "Range: bytes=7-", NULL };
		h_req(&S, "GET", DS "/ranged/versions/1/files/r.bin", vic, NULL, hd, &r);
		assert_int_equal(r.status, 206);
		assert_memory_equal(r.body, "789", 3);
		h_resp_free(&r);
	}
	{
		const char *hd[] = { "Range: bytes=10-20", NULL };
		h_req(&S, "GET", DS "/ranged/versions/1/files/r.bin", vic, NULL, hd, &r);
		assert_int_equal(r.status, 416);
		rg = h_header(&r, "Content-Range");
		assert_non_null(rg);
		assert_string_equal(rg, "bytes */10");
		h_resp_free(&r);
	}
	{
		const char *hd[] = { h_fmt("If-None-Match: %s", etag), NULL };
		h_req(&S, "GET", DS "/ranged/versions/1/files/r.bin", vic, NULL, hd, &r);
		assert_int_equal(r.status, 304);
		h_resp_free(&r);
	}
}

static void test_parent_diff_and_drafts(void **state)
{
	json_t *j, *it;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"evolve\"}", 201));
	json_decref(h_call(&S, "POST", DS "/evolve/versions", ed, "{}", 201));
	json_decref(f_put(&S, DS "/evolve/versions/1/files/a", ed, "same", 4, NULL, 201));
	json_decref(f_put(&S, DS "/evolve/versions/1/files/b", ed, "old b", 5, NULL, 201));
	json_decref(f_put(&S, DS "/evolve/versions/1/files/c", ed, "gone", 4, NULL, 201));
	json_decref(h_call(&S, "POST", DS "/evolve/versions/1/commit", ed, "{}", 200));
	/* a child starts with its parent's files */
	h_expect_error(&S, "POST", DS "/evolve/versions", ed, "{\"parent\":9}", 400, "parent");
	h_expect_error(&S, "POST", DS "/evolve/versions", ed, "{\"parent\":\"1\"}", 400, "parent");
	j = h_call(&S, "POST", DS "/evolve/versions", ed, "{\"parent\":1,\"message\":\"second\"}", 201);
	assert_int_equal(f_int(j, "version"), 2);
	assert_int_equal(f_int(j, "parent_version"), 1);
	assert_int_equal(f_int(j, "file_count"), 3);
	json_decref(j);
	json_decref(f_put(&S, DS "/evolve/versions/2/files/b", ed, "new b!", 6, NULL, 201));
	json_decref(h_call(&S, "DELETE", DS "/evolve/versions/2/files/c", ed, NULL, 204));
	h_expect_error(&S, "DELETE", DS "/evolve/versions/2/files/c", ed, NULL, 404, NULL);
	json_decref(f_put(&S, DS "/evolve/versions/2/files/d", ed, "added", 5, NULL, 201));
	/* the parent is untouched */
	j = h_call(&S, "GET", DS "/evolve/versions/1", vic, NULL, 200);
	assert_int_equal(f_int(j, "file_count"), 3);
	json_decref(j);
	/* diff */
	j = h_call(&S, "GET", DS "/evolve/versions/2/diff?against=1", vic, NULL, 200);
	assert_int_equal(f_int(j, "from"), 1);
	assert_int_equal(f_int(j, "to"), 2);
	assert_int_equal(json_array_size(json_object_get(j, "added")), 1);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "added"), 0), "path"), "d");
	assert_int_equal(json_array_size(json_object_get(j, "removed")), 1);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "removed"), 0), "path"), "c");
	assert_int_equal(json_array_size(json_object_get(j, "changed")), 1);
	it = json_array_get(json_object_get(j, "changed"), 0);
	assert_string_equal(f_str(it, "path"), "b");
	assert_int_equal(f_int(it, "old_size"), 5);
	assert_int_equal(f_int(it, "new_size"), 6);
	assert_int_equal(f_int(j, "unchanged"), 1);
	assert_false(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	h_expect_error(&S, "GET", DS "/evolve/versions/2/diff", vic, NULL, 400, "against");
	h_expect_error(&S, "GET", DS "/evolve/versions/2/diff?against=9", vic, NULL, 400, "against");
	h_expect_error(&S, "GET", DS "/evolve/versions/2/diff?against=x", vic, NULL, 400, "against");
	h_expect_error(&S, "GET", DS "/evolve/versions/2/diff?against=1", out, NULL, 404, NULL);
	/* drafts can be deleted; their files go with them */
	json_decref(h_call(&S, "DELETE", DS "/evolve/versions/2", ed, NULL, 204));
	h_expect_error(&S, "GET", DS "/evolve/versions/2", vic, NULL, 404, NULL);
	h_expect_error(&S, "GET", DS "/evolve/versions/2/files/d", vic, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", DS "/evolve/versions/2", ed, NULL, 404, NULL);
	j = h_call(&S, "GET", DS "/evolve/versions", vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
	j = h_call(&S, "GET", DS "/evolve", vic, NULL, 200);
	assert_int_equal(f_int(j, "version_count"), 1);
	json_decref(j);
	/* a deleted draft's number is never handed out again */
	j = h_call(&S, "POST", DS "/evolve/versions", ed, "{}", 201);
	assert_int_equal(f_int(j, "version"), 3);
	json_decref(j);
}

static void test_idempotent_versions(void **state)
{
	const char *key[] = { "Idempotency-Key: nightly-2026-11-27", NULL };
	struct h_resp r;
	long long first;
	(void)state;

	json_decref(h_call(&S, "POST", DS, ed, "{\"name\":\"nightly\"}", 201));
	h_req(&S, "POST", DS "/nightly/versions", ed, "{}", key, &r);
	assert_int_equal(r.status, 201);
	first = f_int(r.json, "id");
	h_resp_free(&r);
	h_req(&S, "POST", DS "/nightly/versions", ed, "{}", key, &r);
	assert_int_equal(r.status, 201);
	assert_int_equal(f_int(r.json, "id"), first);
	assert_string_equal(h_header(&r, "Idempotency-Replayed"), "true");
	h_resp_free(&r);
	json_t *j = h_call(&S, "GET", DS "/nightly/versions", vic, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_projects),
		cmocka_unit_test(test_members_and_teams),
		cmocka_unit_test(test_access_matrix),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_committed_is_frozen),
		cmocka_unit_test(test_checksums),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_one_gib_upload),
		cmocka_unit_test(test_pagination_1000_files),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_parent_diff_and_drafts),
		cmocka_unit_test(test_idempotent_versions),
	};
	static const char *const names[4] = { "olga", "ed", "vic", "out" };

	h_server_start(&S, NULL);
	f_people(&S, "ds", names, people);
	return f_finish(&S, cmocka_run_group_tests(tests, NULL, NULL));
}
