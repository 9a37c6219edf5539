/* fixtures.c: helpers shared by the registry, datasets, search and gc integration tests. */
#include "fixtures.h"

#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/stat.h>

struct sink {
	char *p;
	size_t n;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	char *np = realloc(s->p, s->n + n + 1);
	if (!np)
		return 0;
	memcpy(np + s->n, ptr, n);
	s->p = np;
	s->n += n;
	s->p[s->n] = 0;
	return n;
}

/* One request with its path sent as given; the answer body goes to *body (may be NULL). */
static long perform(struct h_server *s, const char *method, const char *path, const char *token, const void *data,
		    size_t len, const char *const *headers, struct sink *body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[4096], auth[300];
	long status = 0;

	assert_non_null(c);
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "../x" as it is */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (data) {
		bool has_ct = false;
		for (int i = 0; headers && headers[i]; i++)
			has_ct = has_ct || strncasecmp(headers[i], "Content-Type:", 13) == 0;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (!has_ct)
			h = curl_slist_append(h, "Content-Type: application/octet-stream");
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	h = curl_slist_append(h, "Expect:");
	for (int i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

json_t *f_put(struct h_server *s, const char *path, const char *token, const void *data, size_t len,
	      const char *const *headers, long expect)
{
	struct sink body = { 0 };
	long status = perform(s, "PUT", path, token, data ? data : "", len, headers, &body);
	json_t *j = NULL;

	if (status != expect) {
		fprintf(stderr, "fixtures: PUT %s: expected %ld, got %ld: %s\n", path, expect, status,
			body.p ? body.p : "");
		free(body.p);
		fail();
	}
	if (body.n)
		j = json_loadb(body.p, body.n, 0, NULL);
	free(body.p);
	return j;
}

long f_status_raw(struct h_server *s, const char *method, const char *path, const char *token)
{
	struct sink body = { 0 };
	long status = perform(s, method, path, token, NULL, 0, NULL, &body);
	free(body.p);
	return status;
}

void f_project(struct h_server *s, const char *token, const char *name, const char *visibility)
{
	json_decref(h_call(s, "POST", "/api/v1/projects", token,
			   h_fmt("{\"name\":\"%s\",\"visibility\":\"%s\"}", name, visibility), 201));
}

void f_member(struct h_server *s, const char *project, const char *user, const char *role)
{
	json_decref(h_call(s, "PUT", h_fmt("/api/v1/projects/%s/members/%s", project, user), s->admin_token,
			   h_fmt("{\"role\":\"%s\"}", role), 200));
}

bool f_blob_exists(struct h_server *s, const char *sha256)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/blobs/%.2s/%s", s->dir, sha256, sha256);
	return stat(path, &st) == 0;
}

static int count_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char p[1024];
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			n += count_in(p);
		else if (S_ISREG(st.st_mode))
			n++;
	}
	closedir(d);
	return n;
}

int f_count_files(struct h_server *s, const char *sub)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", s->dir, sub);
	return count_in(dir);
}

json_t *f_gc(struct h_server *s, int grace_seconds)
{
	return h_call(s, "POST", "/api/v1/admin/gc", s->admin_token, h_fmt("{\"grace_seconds\":%d}", grace_seconds),
		      200);
}

long long f_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

const char *f_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

void f_expect_message(struct h_server *s, const char *method, const char *path, const char *token, const char *body,
		      long status, const char *needle)
{
	json_t *j = h_call(s, method, path, token, body, status);
	const char *msg = f_str(json_object_get(j, "error"), "message");
	if (!strstr(msg, needle)) {
		fprintf(stderr, "fixtures: %s %s: the message '%s' lacks '%s'\n", method, path, msg, needle);
		json_decref(j);
		fail();
	}
	json_decref(j);
}

void f_people(struct h_server *s, const char *project, const char *const names[4], char tokens[4][128])
{
	for (int i = 0; i < 4; i++)
		snprintf(tokens[i], 128, "%s", h_user(s, names[i], false));
	f_project(s, tokens[0], project, "private");
	f_member(s, project, names[1], "editor");
	f_member(s, project, names[2], "viewer");
}

int f_finish(struct h_server *s, int rc)
{
	h_server_cleanup(s); /* SIGTERM: checked by the harness */
	return h_finish(rc);
}

static sqlite3 *open_db(struct h_server *s)
{
	char path[512];
	sqlite3 *db;
	snprintf(path, sizeof(path), "%s/atrium.db", s->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

long long f_sql_int(struct h_server *s, const char *sql)
{
	sqlite3 *db = open_db(s);
	sqlite3_stmt *st;
	long long v = -1;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void f_sql_exec(struct h_server *s, const char *sql)
{
	sqlite3 *db = open_db(s);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

int f_walk_pages(struct h_server *s, const char *path, const char *token, void (*each)(json_t *item, void *arg),
		 void *arg)
{
	char url[2048];
	int pages = 0;

	snprintf(url, sizeof(url), "%s", path);
	for (;;) {
		json_t *j = h_call(s, "GET", url, token, NULL, 200), *it;
		const char *next;
		size_t i;
		json_array_foreach(json_object_get(j, "items"), i, it) each(it, arg);
		pages++;
		next = json_string_value(json_object_get(j, "next_cursor"));
		if (next)
			snprintf(url, sizeof(url), "%s&cursor=%s", path, next);
		json_decref(j);
		if (!next)
			return pages;
	}
}

long f_send(struct h_server *s, const char *method, const char *path, const char *token, const void *data, size_t len,
	    const char *const *headers, char **body)
{
	struct sink b = { 0 };
	long status = perform(s, method, path, token, data, len, headers, &b);

	if (body)
		*body = b.p ? b.p : calloc(1, 1);
	else
		free(b.p);
	return status;
}
