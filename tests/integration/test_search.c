/*
 * test_search.c: GET /api/v1/search. Matches names, descriptions and tags of projects,
 * datasets and models; only what the caller may read (private projects of others never
 * leak, internal ones are for everyone, admins see all, archived ones are left out); any
 * text in q is a 400 or an answer, never a 500; pages return each result once. Runs (by name
 * and tag values) and jobs (by name) are found too, under the same visibility (issue 18).
 */
#include "fixtures.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char alice[128], bob[128], carol[128];
static struct h_worker W;

/* GET /api/v1/search?q=<q escaped>&extra; returns the answer. */
static json_t *search(const char *token, const char *q, const char *extra, long expect)
{
	char *e = curl_easy_escape(NULL, q, 0);
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/search?q=%s%s", e, extra ? extra : ""), token, NULL, expect);
	curl_free(e);
	return j;
}

/* Whether a search by token finds (kind, name). */
static bool finds(const char *token, const char *q, const char *kind, const char *name)
{
	json_t *j = search(token, q, "&limit=1000", 200), *it;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(j, "items"), i,
			   it) if (!strcmp(f_str(it, "kind"), kind) && !strcmp(f_str(it, "name"), name)) found = true;
	json_decref(j);
	return found;
}

static void setup_world(void)
{
	snprintf(alice, sizeof(alice), "%s", h_user(&S, "alice", false));
	snprintf(bob, sizeof(bob), "%s", h_user(&S, "bob", false));
	snprintf(carol, sizeof(carol), "%s", h_user(&S, "carol", false));
	/* alice: a private project; bob: an internal one */
	json_decref(h_call(&S, "POST", "/api/v1/projects", alice,
			   "{\"name\":\"secret-lab\",\"description\":\"zephyr research\",\"tags\":[\"quasar\"]}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/secret-lab/datasets", alice,
			   "{\"name\":\"zephyr-images\",\"description\":\"photos of zephyr winds\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/secret-lab/models", alice,
			   "{\"name\":\"zephyr-net\",\"description\":\"predicts zephyr\",\"tags\":[\"edge-tpu\"]}",
			   201));
	json_decref(h_call(&S, "POST", "/api/v1/projects", bob,
			   "{\"name\":\"open-lab\",\"visibility\":\"internal\",\"description\":\"shared zephyr work\"}",
			   201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/open-lab/models", bob,
			   "{\"name\":\"zephyr-open\",\"description\":\"detects cats\"}", 201));
}

static void test_visibility(void **state)
{
	(void)state;
	/* alice: her own and the internal project */
	assert_true(finds(alice, "zephyr", "project", "secret-lab"));
	assert_true(finds(alice, "zephyr", "dataset", "zephyr-images"));
	assert_true(finds(alice, "zephyr", "model", "zephyr-net"));
	assert_true(finds(alice, "zephyr", "model", "zephyr-open"));
	/* bob and carol never see alice's private project or what is in it */
	assert_false(finds(bob, "zephyr", "project", "secret-lab"));
	assert_false(finds(bob, "zephyr", "dataset", "zephyr-images"));
	assert_false(finds(bob, "zephyr", "model", "zephyr-net"));
	assert_false(finds(carol, "zephyr", "model", "zephyr-net"));
	assert_false(finds(carol, "quasar", "project", "secret-lab"));
	assert_true(finds(carol, "zephyr", "model", "zephyr-open"));
	assert_true(finds(carol, "zephyr", "project", "open-lab"));
	/* admins see everything */
	assert_true(finds(S.admin_token, "zephyr", "model", "zephyr-net"));
	/* membership opens it; removal closes it again */
	f_member(&S, "secret-lab", "carol", "viewer");
	assert_true(finds(carol, "zephyr", "dataset", "zephyr-images"));
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/secret-lab/members/carol", S.admin_token, NULL, 204));
	assert_false(finds(carol, "zephyr", "dataset", "zephyr-images"));
	/* making it internal opens it to everyone */
	json_decref(h_call(&S, "PATCH", "/api/v1/projects/secret-lab", alice, "{\"visibility\":\"internal\"}", 200));
	assert_true(finds(carol, "zephyr", "model", "zephyr-net"));
	json_decref(h_call(&S, "PATCH", "/api/v1/projects/secret-lab", alice, "{\"visibility\":\"private\"}", 200));
	assert_false(finds(carol, "zephyr", "model", "zephyr-net"));
}

static void test_fields_and_answers(void **state)
{
	json_t *j, *it;
	size_t i;
	(void)state;

	/* descriptions, tags and prefixes match */
	assert_true(finds(carol, "cats", "model", "zephyr-open"));
	assert_true(finds(alice, "tpu", "model", "zephyr-net"));
	assert_true(finds(alice, "zeph", "model", "zephyr-net"));
	assert_true(finds(alice, "zephyr predicts", "model", "zephyr-net"));
	assert_false(finds(alice, "zephyr nonexistentword", "model", "zephyr-net"));
	/* the answer's shape */
	j = search(carol, "cats", NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	it = json_array_get(json_object_get(j, "items"), 0);
	assert_string_equal(f_str(it, "kind"), "model");
	assert_string_equal(f_str(it, "project"), "open-lab");
	assert_string_equal(f_str(it, "name"), "zephyr-open");
	assert_true(f_int(it, "id") > 0);
	assert_non_null(strstr(f_str(it, "snippet"), "**cats**"));
	assert_true(json_is_null(json_object_get(j, "next_cursor")));
	json_decref(j);
	/* kind narrows */
	j = search(alice, "zephyr", "&kind=model&limit=1000", 200);
	json_array_foreach(json_object_get(j, "items"), i, it) assert_string_equal(f_str(it, "kind"), "model");
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
	/* updates are searchable at once; the old words are gone */
	json_decref(h_call(&S, "PATCH", "/api/v1/projects/open-lab/models/zephyr-open", bob,
			   "{\"description\":\"detects dogs\"}", 200));
	assert_true(finds(carol, "dogs", "model", "zephyr-open"));
	assert_false(finds(carol, "cats", "model", "zephyr-open"));
}

static void test_bad_queries(void **state)
{
	static const char *const weird[] = {
		"\"",
		"\"\"",
		"AND",
		"zephyr AND",
		"OR zephyr",
		"NOT",
		"NEAR(zephyr",
		"zephyr*",
		"*",
		"-zephyr",
		"name:zephyr",
		"^zephyr",
		"(zephyr",
		"zephyr)",
		"{name}: x",
		"a\"b",
		"'; DROP TABLE projects; --",
		"+",
		"\xc3\xa9t\xc3\xa9",
		"..",
		"zephyr OR 1=1",
	};
	json_t *j;
	char many[400] = "", big[300];
	(void)state;

	for (size_t i = 0; i < sizeof(weird) / sizeof(weird[0]); i++) {
		struct h_resp r;
		char *e = curl_easy_escape(NULL, weird[i], 0);
		h_req(&S, "GET", h_fmt("/api/v1/search?q=%s", e), alice, NULL, NULL, &r);
		curl_free(e);
		if (r.status != 200)
			fprintf(stderr, "q=%s -> %ld %s\n", weird[i], r.status, r.body);
		assert_int_equal(r.status, 200);
		h_resp_free(&r);
	}
	/* quotes are taken literally: the phrase still finds the model */
	assert_true(finds(alice, "\"zephyr-net\"", "model", "zephyr-net"));
	h_expect_error(&S, "GET", "/api/v1/search", alice, NULL, 400, "q");
	h_expect_error(&S, "GET", "/api/v1/search?q=", alice, NULL, 400, "q");
	h_expect_error(&S, "GET", "/api/v1/search?q=%20%20%20", alice, NULL, 400, "q");
	h_expect_error(&S, "GET", "/api/v1/search?q=a%00b", alice, NULL, 400, "q");
	h_expect_error(&S, "GET", "/api/v1/search?q=a%zz", alice, NULL, 400, "q");
	for (int i = 0; i < 17; i++)
		memcpy(many + 2 * i, "w ", 3);
	j = search(alice, many, NULL, 400);
	assert_string_equal(f_str(json_object_get(j, "error"), "field"), "q");
	json_decref(j);
	memset(big, 'x', 257);
	big[257] = 0;
	json_decref(search(alice, big, NULL, 400));
	h_expect_error(&S, "GET", "/api/v1/search?q=zephyr&kind=user", alice, NULL, 400, "kind");
	h_expect_error(&S, "GET", "/api/v1/search?q=zephyr&limit=0", alice, NULL, 400, "limit");
	h_expect_error(&S, "GET", "/api/v1/search?q=zephyr&cursor=nonsense", alice, NULL, 400, "cursor");
	h_expect_error(&S, "GET", "/api/v1/search?q=zephyr", NULL, NULL, 401, NULL);
}

struct seen {
	char once[25];
	int count;
};

static void see_model(json_t *it, void *arg)
{
	struct seen *s = arg;
	int n = (int)strtol(f_str(it, "name") + strlen("pagemodel-"), NULL, 10);
	assert_true(n >= 0 && n < 25);
	assert_int_equal(s->once[n], 0);
	s->once[n] = 1;
	s->count++;
}

static void test_pages_and_archived(void **state)
{
	struct seen seen = { 0 };
	(void)state;

	f_project(&S, alice, "pager", "private");
	for (int i = 0; i < 25; i++)
		json_decref(h_call(&S, "POST", "/api/v1/projects/pager/models", alice,
				   h_fmt("{\"name\":\"pagemodel-%02d\",\"description\":\"pagination%s\"}", i,
					 i % 3 ? " pagination pagination" : ""),
				   201));
	/* ranks differ (how often the word appears); each result comes once across pages */
	assert_int_equal(f_walk_pages(&S, "/api/v1/search?q=pagination&limit=4", alice, see_model, &seen), 7);
	assert_int_equal(seen.count, 25);
	/* an archived project drops out */
	assert_true(finds(alice, "pagemodel", "model", "pagemodel-03"));
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/pager", alice, NULL, 200));
	assert_false(finds(alice, "pagemodel", "model", "pagemodel-03"));
	assert_false(finds(alice, "pager", "project", "pager"));
}

/* The id of the (kind, name) a search by token finds; 0 if none. With "kind=K" in extra, every
 * result is of kind K. */
static long long found_id(const char *token, const char *q, const char *extra, const char *kind, const char *name)
{
	json_t *j = search(token, q, extra, 200), *it;
	const char *only = strstr(extra, "kind=");
	long long id = 0;
	size_t i;
	json_array_foreach(json_object_get(j, "items"), i, it)
	{
		if (only)
			assert_int_equal(strncmp(only + 5, f_str(it, "kind"), strlen(f_str(it, "kind"))), 0);
		if (!strcmp(f_str(it, "kind"), kind) && !strcmp(f_str(it, "name"), name))
			id = f_int(it, "id");
	}
	json_decref(j);
	return id;
}

static void test_runs_and_jobs(void **state)
{
	json_t *j;
	long long run, job;
	(void)state;

	/* a job is accepted only where some worker could run it */
	h_worker_start(&W, &S, h_join_token(&S, "w1"), "w1", 0, NULL);
	assert_true(h_worker_wait_registered(&W, 0, 20000));
	f_project(&S, alice, "nimbus-lab", "private");
	j = h_call(&S, "POST", "/api/v1/projects/nimbus-lab/runs", alice,
		   "{\"name\":\"nimbus-baseline\",\"tags\":{\"owner\":\"stratus\"}}", 201);
	run = f_int(j, "id");
	json_decref(j);
	j = h_call(&S, "POST", "/api/v1/projects/nimbus-lab/jobs", alice,
		   "{\"name\":\"nimbus-train\",\"command\":\"echo cirrus\"}", 201);
	job = f_int(j, "id");
	json_decref(j);
	/* a job without a name is not indexed; nor is any job's command line */
	json_decref(
		h_call(&S, "POST", "/api/v1/projects/nimbus-lab/jobs", alice, "{\"command\":\"echo nimbus\"}", 201));

	/* found by name (and a run by its tags' values), with their ids and project */
	assert_int_equal(found_id(alice, "nimbus", "&limit=1000", "run", "nimbus-baseline"), run);
	assert_int_equal(found_id(alice, "nimbus", "&limit=1000", "job", "nimbus-train"), job);
	assert_int_equal(found_id(alice, "nimbus base", "&limit=1000", "run", "nimbus-baseline"), run);
	assert_int_equal(found_id(alice, "stratus", "&limit=1000", "run", "nimbus-baseline"), run);
	assert_false(finds(alice, "cirrus", "job", "nimbus-train"));
	j = search(alice, "nimbus", "&kind=job&limit=1000", 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 0), "project"), "nimbus-lab");
	json_decref(j);
	/* kind narrows to runs or jobs */
	assert_int_equal(found_id(alice, "nimbus", "&kind=run&limit=1000", "run", "nimbus-baseline"), run);
	assert_int_equal(found_id(alice, "nimbus", "&kind=run&limit=1000", "job", "nimbus-train"), 0);
	assert_int_equal(found_id(alice, "nimbus", "&kind=job&limit=1000", "job", "nimbus-train"), job);
	assert_int_equal(found_id(alice, "nimbus", "&kind=job&limit=1000", "run", "nimbus-baseline"), 0);

	/* those who may not read the project never see them; admins and members do */
	assert_false(finds(carol, "nimbus", "run", "nimbus-baseline"));
	assert_false(finds(carol, "nimbus", "job", "nimbus-train"));
	assert_false(finds(bob, "stratus", "run", "nimbus-baseline"));
	assert_int_equal(found_id(carol, "nimbus", "&kind=job", "job", "nimbus-train"), 0);
	assert_true(finds(S.admin_token, "nimbus", "job", "nimbus-train"));
	f_member(&S, "nimbus-lab", "carol", "viewer");
	assert_true(finds(carol, "nimbus", "run", "nimbus-baseline"));
	assert_true(finds(carol, "nimbus", "job", "nimbus-train"));
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/nimbus-lab/members/carol", S.admin_token, NULL, 204));
	assert_false(finds(carol, "nimbus", "job", "nimbus-train"));

	/* a renamed run is found by its new name only; retagged, by its new tags; deleted, no more */
	json_decref(h_call(&S, "PATCH", h_fmt("/api/v1/runs/%lld", run), alice,
			   "{\"name\":\"altocumulus\",\"tags\":{\"owner\":null,\"by\":\"cumulonimbus\"}}", 200));
	assert_true(finds(alice, "altocumulus", "run", "altocumulus"));
	assert_true(finds(alice, "cumulonimbus", "run", "altocumulus"));
	assert_false(finds(alice, "nimbus", "run", "altocumulus"));
	assert_false(finds(alice, "stratus", "run", "altocumulus"));
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/runs/%lld", run), alice, NULL, 204));
	assert_false(finds(alice, "altocumulus", "run", "altocumulus"));
	assert_true(finds(alice, "nimbus", "job", "nimbus-train"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* clang-format off */
		cmocka_unit_test(test_visibility),
		cmocka_unit_test(test_fields_and_answers),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_pages_and_archived),
		cmocka_unit_test(test_runs_and_jobs),
		/* clang-format on */
	};

	h_server_start(&S, NULL);
	setup_world();
	return f_finish(&S, cmocka_run_group_tests(tests, NULL, NULL));
}
