/*
 * test_models.c: the model registry over HTTP: models, versions and their files, the access
 * matrix (owner, editor, viewer, outsider), aliases (production needs an owner), promotion
 * requests approved and rejected, history and audit entries, lineage back to dataset files.
 */
#include "fixtures.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server S;
static char people[4][128];
static const char *const alice = people[0], *const bob = people[1], *const vera = people[2], *const eve = people[3];

#define M "/api/v1/projects/vision/models"

/* A committed version of model with one file holding text; returns its number. */
static long long committed_version(const char *model, const char *text)
{
	json_t *v = h_call(&S, "POST", h_fmt(M "/%s/versions", model), bob, "{}", 201);
	long long n = f_int(v, "version");
	json_decref(v);
	json_decref(
		f_put(&S, h_fmt(M "/%s/versions/%lld/files/model.bin", model, n), bob, text, strlen(text), NULL, 201));
	json_decref(h_call(&S, "POST", h_fmt(M "/%s/versions/%lld/commit", model, n), bob, "{}", 200));
	return n;
}

static void test_models(void **state)
{
	json_t *j, *items;
	(void)state;

	j = h_call(&S, "POST", M, bob, "{\"name\":\"resnet\",\"description\":\"image classifier\",\"tags\":[\"cnn\"]}",
		   201);
	assert_string_equal(f_str(j, "name"), "resnet");
	assert_string_equal(f_str(j, "project"), "vision");
	assert_int_equal(f_int(j, "version_count"), 0);
	assert_true(json_is_null(json_object_get(j, "latest_version")));
	assert_int_equal(json_object_size(json_object_get(j, "aliases")), 0);
	json_decref(j);
	/* bad input names the field; duplicates are 409 */
	h_expect_error(&S, "POST", M, bob, "{\"name\":\"resnet\"}", 409, "name");
	h_expect_error(&S, "POST", M, bob, "{\"name\":\"Bad Name\"}", 400, "name");
	h_expect_error(&S, "POST", M, bob, "{\"name\":\"\"}", 400, "name");
	h_expect_error(&S, "POST", M, bob, "{\"name\":null}", 400, "name");
	h_expect_error(&S, "POST", M, bob, "{}", 400, "name");
	h_expect_error(&S, "POST", M, bob, "{\"name\":\"x\",\"tags\":\"cnn\"}", 400, "tags");
	h_expect_error(&S, "POST", M, bob, "{\"name\":\"x\",\"description\":7}", 400, "description");
	h_expect_error(&S, "POST", M, bob, "{\"name\":\"x\",\"owner\":\"me\"}", 400, "owner");
	/* the access matrix */
	h_expect_error(&S, "POST", M, vera, "{\"name\":\"x\"}", 403, NULL);
	h_expect_error(&S, "POST", M, eve, "{\"name\":\"x\"}", 404, NULL);
	h_expect_error(&S, "GET", M, eve, NULL, 404, NULL);
	h_expect_error(&S, "GET", M "/resnet", eve, NULL, 404, NULL);
	h_expect_error(&S, "GET", M "/nope", vera, NULL, 404, NULL);
	json_decref(h_call(&S, "POST", M, alice, "{\"name\":\"second\"}", 201));
	j = h_call(&S, "GET", M "?limit=1", vera, NULL, 200);
	items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(f_str(json_array_get(items, 0), "name"), "resnet");
	assert_non_null(json_string_value(json_object_get(j, "next_cursor")));
	json_decref(j);
	j = h_call(&S, "GET", M "/resnet", vera, NULL, 200);
	assert_true(json_is_null(json_object_get(j, "latest")));
	json_decref(j);
	/* PATCH: editors */
	j = h_call(&S, "PATCH", M "/resnet", bob, "{\"description\":\"imagenet classifier\",\"tags\":[\"cnn\",\"v2\"]}",
		   200);
	assert_string_equal(f_str(j, "description"), "imagenet classifier");
	assert_int_equal(json_array_size(json_object_get(j, "tags")), 2);
	json_decref(j);
	h_expect_error(&S, "PATCH", M "/resnet", vera, "{\"description\":\"x\"}", 403, NULL);
	h_expect_error(&S, "PATCH", M "/resnet", eve, "{\"description\":\"x\"}", 404, NULL);
	h_expect_error(&S, "PATCH", M "/resnet", bob, "{\"tags\":[1]}", 400, "tags[0]");
}

static void test_versions(void **state)
{
	const char *key[] = { "Idempotency-Key: ci-build-77", NULL };
	struct h_resp r;
	json_t *j;
	long long id1;
	(void)state;

	json_decref(h_call(&S, "POST", M, bob, "{\"name\":\"vers\"}", 201));
	j = h_call(
		&S, "POST", M "/vers/versions", bob,
		"{\"framework\":\"pytorch\",\"description\":\"first\",\"signature\":{\"inputs\":[{\"name\":\"x\"}]}}",
		201);
	assert_int_equal(f_int(j, "version"), 1);
	assert_string_equal(f_str(j, "state"), "draft");
	assert_string_equal(f_str(j, "framework"), "pytorch");
	assert_string_equal(f_str(j, "created_by"), "bob");
	assert_true(json_is_object(json_object_get(j, "signature")));
	assert_true(json_is_null(json_object_get(j, "source_run")));
	assert_true(json_is_null(json_object_get(j, "source_job_id")));
	id1 = f_int(j, "id");
	assert_true(id1 > 0);
	json_decref(j);
	/* bad input */
	h_expect_error(&S, "POST", M "/vers/versions", bob, "{\"framework\":7}", 400, "framework");
	h_expect_error(&S, "POST", M "/vers/versions", bob,
		       "{\"framework\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", 400,
		       "framework");
	h_expect_error(&S, "POST", M "/vers/versions", bob, "{\"source_run\":\"abc\"}", 400, "source_run");
	h_expect_error(&S, "POST", M "/vers/versions", bob, "{\"source_run\":999}", 400, "source_run");
	h_expect_error(&S, "POST", M "/vers/versions", bob, "{\"source_run\":0}", 400, "source_run");
	h_expect_error(&S, "POST", M "/vers/versions", bob, "{\"stage\":\"prod\"}", 400, "stage");
	h_expect_error(&S, "POST", M "/vers/versions", vera, "{}", 403, NULL);
	h_expect_error(&S, "POST", M "/vers/versions", eve, "{}", 404, NULL);
	h_expect_error(&S, "POST", M "/nope/versions", bob, "{}", 404, NULL);
	/* a run of another project is refused */
	f_project(&S, alice, "other", "private");
	j = h_call(&S, "POST", "/api/v1/projects/other/runs", alice, "{\"name\":\"r\"}", 201);
	h_expect_error(&S, "POST", M "/vers/versions", bob, h_fmt("{\"source_run\":%lld}", f_int(j, "id")), 400,
		       "source_run");
	json_decref(j);
	/* Idempotency-Key: the same answer, no second version */
	h_req(&S, "POST", M "/vers/versions", bob, "{}", key, &r);
	assert_int_equal(r.status, 201);
	assert_int_equal(f_int(r.json, "version"), 2);
	h_resp_free(&r);
	h_req(&S, "POST", M "/vers/versions", bob, "{}", key, &r);
	assert_int_equal(r.status, 201);
	assert_int_equal(f_int(r.json, "version"), 2);
	assert_string_equal(h_header(&r, "Idempotency-Replayed"), "true");
	h_resp_free(&r);
	/* files: editors write drafts, viewers read */
	j = f_put(&S, M "/vers/versions/1/files/weights/model.bin", bob, "0123456789", 10, NULL, 201);
	assert_int_equal(f_int(j, "size"), 10);
	json_decref(j);
	json_decref(f_put(&S, M "/vers/versions/1/files/config.json", bob, "{}", 2, NULL, 201));
	json_decref(f_put(&S, M "/vers/versions/1/files/x", vera, "no", 2, NULL, 403));
	json_decref(f_put(&S, M "/vers/versions/1/files/x", eve, "no", 2, NULL, 404));
	json_decref(f_put(&S, M "/vers/versions/1/files/..%2Fx", bob, "no", 2, NULL, 400));
	json_decref(f_put(&S, M "/vers/versions/1/files/a//b", bob, "no", 2, NULL, 400));
	{
		const char *bad[] = {
			"X-Content-SHA256: 0000000000000000000000000000000000000000000000000000000000000000", NULL
		};
		json_decref(f_put(&S, M "/vers/versions/1/files/bad", bob, "abc", 3, bad, 400));
	}
	j = h_call(&S, "GET", M "/vers/versions/1/files", vera, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	assert_string_equal(f_str(json_array_get(json_object_get(j, "items"), 0), "path"), "config.json");
	json_decref(j);
	h_req(&S, "GET", M "/vers/versions/1/files/weights/model.bin", vera, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 10);
	assert_memory_equal(r.body, "0123456789", 10);
	h_resp_free(&r);
	{
		const char *range[] = { "Range: bytes=2-4", NULL };
		h_req(&S, "GET", M "/vers/versions/1/files/weights/model.bin", vera, NULL, range, &r);
		assert_int_equal(r.status, 206);
		assert_memory_equal(r.body, "234", 3);
		h_resp_free(&r);
	}
	h_expect_error(&S, "GET", M "/vers/versions/1/files/nope", vera, NULL, 404, NULL);
	h_expect_error(&S, "DELETE", M "/vers/versions/1/files/config.json", vera, NULL, 403, NULL);
	json_decref(h_call(&S, "DELETE", M "/vers/versions/1/files/config.json", bob, NULL, 204));
	/* no latest until something is committed */
	h_expect_error(&S, "GET", M "/vers/versions/latest", vera, NULL, 404, NULL);
	/* commit freezes */
	h_expect_error(&S, "POST", M "/vers/versions/1/commit", vera, "{}", 403, NULL);
	h_expect_error(&S, "POST", M "/vers/versions/1/commit", bob, "{\"force\":true}", 400, "force");
	j = h_call(&S, "POST", M "/vers/versions/1/commit", bob, "{}", 200);
	assert_string_equal(f_str(j, "state"), "committed");
	assert_int_equal(f_int(j, "file_count"), 1);
	assert_int_equal(f_int(j, "total_bytes"), 10);
	json_decref(j);
	h_expect_error(&S, "POST", M "/vers/versions/1/commit", bob, "{}", 409, NULL);
	/* the state is decided from the headers, before the body is read */
	h_expect_error(&S, "POST", M "/vers/versions/1/commit", bob, "{\"force\":true}", 409, NULL);
	json_decref(f_put(&S, M "/vers/versions/1/files/late.bin", bob, "x", 1, NULL, 409));
	h_expect_error(&S, "DELETE", M "/vers/versions/1/files/weights/model.bin", bob, NULL, 409, NULL);
	/* reading by number, latest, id */
	j = h_call(&S, "GET", M "/vers/versions/latest", vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 1);
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld", id1), vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 1);
	assert_string_equal(f_str(j, "model"), "vers");
	json_decref(j);
	h_expect_error(&S, "GET", h_fmt("/api/v1/model-versions/%lld", id1), eve, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/model-versions/abc", vera, NULL, 400, "id");
	h_expect_error(&S, "GET", "/api/v1/model-versions/999999", vera, NULL, 404, NULL);
	h_expect_error(&S, "GET", M "/vers/versions/9", vera, NULL, 404, NULL);
	h_expect_error(&S, "GET", M "/vers/versions/staging", vera, NULL, 404, NULL);
	j = h_call(&S, "GET", M "/vers/versions", vera, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
	json_decref(j);
	j = h_call(&S, "GET", M "/vers", vera, NULL, 200);
	assert_int_equal(f_int(j, "latest_version"), 1);
	assert_int_equal(f_int(json_object_get(j, "latest"), "version"), 1);
	assert_int_equal(f_int(j, "version_count"), 2);
	json_decref(j);
	/* delete: viewers no, editors yes; numbers are never reused */
	h_expect_error(&S, "DELETE", M "/vers/versions/2", vera, NULL, 403, NULL);
	h_expect_error(&S, "DELETE", M "/vers/versions/2", eve, NULL, 404, NULL);
	j = h_call(&S, "GET", M "/vers/versions/2", vera, NULL, 200);
	{
		int64_t old_id = f_int(j, "id");
		json_decref(j);
		json_decref(h_call(&S, "DELETE", M "/vers/versions/2", bob, NULL, 204));
		h_expect_error(&S, "GET", M "/vers/versions/2", vera, NULL, 404, NULL);
		j = h_call(&S, "POST", M "/vers/versions", bob, "{}", 201);
		assert_int_equal(f_int(j, "version"), 3);
		assert_true(f_int(j, "id") > old_id); /* nor their ids, in any project */
		json_decref(j);
	}
}

/* The history's newest event of kind, or NULL (borrowed from *hist, which the caller frees). */
static json_t *history_event(const char *model, const char *kind, json_t **hist)
{
	json_t *it;
	size_t i;
	*hist = h_call(&S, "GET", h_fmt(M "/%s/history", model), vera, NULL, 200);
	json_array_foreach(json_object_get(*hist, "items"), i, it) if (!strcmp(f_str(it, "kind"), kind)) return it;
	return NULL;
}

static bool audit_has(const char *action, const char *object_part)
{
	json_t *j = h_call(&S, "GET", h_fmt("/api/v1/audit?action=%s&limit=100", action), S.admin_token, NULL, 200),
	       *it;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(j, "items"), i,
			   it) if (strstr(f_str(it, "object"), object_part) && f_int(it, "status") < 300) found = true;
	json_decref(j);
	return found;
}

static void test_aliases(void **state)
{
	json_t *j, *e, *hist;
	(void)state;

	json_decref(h_call(&S, "POST", M, bob, "{\"name\":\"clf\"}", 201));
	assert_int_equal(committed_version("clf", "one"), 1);
	assert_int_equal(committed_version("clf", "two"), 2);
	json_decref(h_call(&S, "POST", M "/clf/versions", bob, "{}", 201)); /* 3: a draft */
	/* editors move ordinary aliases */
	j = h_call(&S, "PUT", M "/clf/aliases/staging", bob, "{\"version\":1}", 200);
	assert_int_equal(f_int(j, "version"), 1);
	assert_true(json_is_null(json_object_get(j, "previous_version")));
	json_decref(j);
	j = h_call(&S, "PUT", M "/clf/aliases/staging", bob, "{\"version\":2}", 200);
	assert_int_equal(f_int(j, "previous_version"), 1);
	json_decref(j);
	e = history_event("clf", "alias_moved", &hist);
	assert_non_null(e);
	assert_string_equal(f_str(e, "alias"), "staging");
	assert_int_equal(f_int(e, "version"), 2);
	assert_int_equal(f_int(e, "from_version"), 1);
	assert_string_equal(f_str(e, "actor"), "bob");
	json_decref(hist);
	/* bad input */
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", bob, "{\"version\":3}", 409, "version");
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", bob, "{\"version\":99}", 400, "version");
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", bob, "{\"version\":\"nope\"}", 400, "version");
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", bob, "{\"version\":1.5}", 400, "version");
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", bob, "{}", 400, "version");
	h_expect_error(&S, "PUT", M "/clf/aliases/123", bob, "{\"version\":1}", 400, "alias");
	h_expect_error(&S, "PUT", M "/clf/aliases/latest", bob, "{\"version\":1}", 400, "alias");
	h_expect_error(&S, "PUT", M "/clf/aliases/Prod", bob, "{\"version\":1}", 400, "alias");
	/* the access matrix: production needs an owner */
	h_expect_error(&S, "PUT", M "/clf/aliases/production", bob, "{\"version\":1}", 403, NULL);
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", vera, "{\"version\":1}", 403, NULL);
	h_expect_error(&S, "PUT", M "/clf/aliases/staging", eve, "{\"version\":1}", 404, NULL);
	j = h_call(&S, "PUT", M "/clf/aliases/production", alice, "{\"version\":\"staging\"}", 200);
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(j);
	assert_true(audit_has("models.aliases.set", "project:vision/model:clf/version:2/alias:production"));
	j = h_call(&S, "GET", M "/clf/versions/production", vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 2);
	assert_int_equal(json_array_size(json_object_get(j, "aliases")), 2);
	json_decref(j);
	j = h_call(&S, "GET", M "/clf", vera, NULL, 200);
	assert_int_equal(f_int(json_object_get(j, "aliases"), "production"), 2);
	assert_int_equal(f_int(json_object_get(j, "aliases"), "staging"), 2);
	json_decref(j);
	/* a version an alias points at cannot be deleted: 409 naming the alias */
	h_expect_error(&S, "DELETE", M "/clf/versions/2", bob, NULL, 409, "alias");
	f_expect_message(&S, "DELETE", M "/clf/versions/2", alice, NULL, 409, "'production'");
	/* deleting aliases */
	h_expect_error(&S, "DELETE", M "/clf/aliases/production", bob, NULL, 403, NULL);
	h_expect_error(&S, "DELETE", M "/clf/aliases/staging", vera, NULL, 403, NULL);
	json_decref(h_call(&S, "DELETE", M "/clf/aliases/staging", bob, NULL, 204));
	h_expect_error(&S, "DELETE", M "/clf/aliases/staging", bob, NULL, 404, NULL);
	e = history_event("clf", "alias_deleted", &hist);
	assert_non_null(e);
	assert_int_equal(f_int(e, "from_version"), 2);
	json_decref(hist);
	assert_true(audit_has("models.aliases.delete", "project:vision/model:clf/version:2/alias:staging"));
}

static bool list_has(const char *path, const char *token, long long id)
{
	json_t *j = h_call(&S, "GET", path, token, NULL, 200), *it;
	size_t i;
	bool found = false;
	json_array_foreach(json_object_get(j, "items"), i, it) if (f_int(it, "id") == id) found = true;
	json_decref(j);
	return found;
}

static void test_promotions(void **state)
{
	json_t *j, *e, *hist;
	long long pid, pid2, pid3;
	(void)state;

	json_decref(h_call(&S, "POST", M, bob, "{\"name\":\"det\"}", 201));
	assert_int_equal(committed_version("det", "d1"), 1);
	assert_int_equal(committed_version("det", "d2"), 2);
	json_decref(h_call(&S, "POST", M "/det/versions", bob, "{}", 201)); /* 3: draft */
	json_decref(h_call(&S, "PUT", M "/det/aliases/production", alice, "{\"version\":1}", 200));
	/* an editor asks */
	j = h_call(&S, "POST", M "/det/versions/2/promotions", bob,
		   "{\"alias\":\"production\",\"comment\":\"better recall\"}", 201);
	pid = f_int(j, "id");
	assert_string_equal(f_str(j, "state"), "pending");
	assert_string_equal(f_str(j, "alias"), "production");
	assert_string_equal(f_str(j, "requested_by"), "bob");
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(j);
	h_expect_error(&S, "POST", M "/det/versions/3/promotions", bob, "{\"alias\":\"production\"}", 409, NULL);
	h_expect_error(&S, "POST", M "/det/versions/2/promotions", bob, "{\"alias\":\"Prod!\"}", 400, "alias");
	h_expect_error(&S, "POST", M "/det/versions/2/promotions", bob, "{\"alias\":\"42\"}", 400, "alias");
	h_expect_error(&S, "POST", M "/det/versions/2/promotions", bob, "{}", 400, "alias");
	h_expect_error(&S, "POST", M "/det/versions/2/promotions", bob, "{\"alias\":\"production\",\"comment\":1}", 400,
		       "comment");
	h_expect_error(&S, "POST", M "/det/versions/2/promotions", vera, "{\"alias\":\"production\"}", 403, NULL);
	h_expect_error(&S, "POST", M "/det/versions/2/promotions", eve, "{\"alias\":\"production\"}", 404, NULL);
	/* who sees it in their approval queue */
	assert_true(list_has("/api/v1/promotions", alice, pid));
	assert_true(list_has("/api/v1/promotions", S.admin_token, pid));
	assert_false(list_has("/api/v1/promotions", bob, pid)); /* an editor cannot approve production */
	assert_false(list_has("/api/v1/promotions", eve, pid));
	assert_true(list_has("/api/v1/projects/vision/promotions?state=pending", vera, pid));
	assert_false(list_has("/api/v1/projects/vision/promotions?state=approved", vera, pid));
	/* one model's promotions */
	json_decref(h_call(&S, "POST", M, bob, "{\"name\":\"det-other\"}", 201));
	assert_true(list_has("/api/v1/projects/vision/promotions?model=det", vera, pid));
	assert_false(list_has("/api/v1/projects/vision/promotions?model=det-other", vera, pid));
	h_expect_error(&S, "GET", "/api/v1/projects/vision/promotions?model=nope", vera, NULL, 400, "model");
	h_expect_error(&S, "GET", "/api/v1/projects/vision/promotions", eve, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/projects/vision/promotions?state=maybe", vera, NULL, 400, "state");
	h_expect_error(&S, "GET", "/api/v1/promotions?state=maybe", alice, NULL, 400, "state");
	j = h_call(&S, "GET", h_fmt("/api/v1/promotions/%lld", pid), vera, NULL, 200);
	assert_string_equal(f_str(j, "comment"), "better recall");
	json_decref(j);
	h_expect_error(&S, "GET", h_fmt("/api/v1/promotions/%lld", pid), eve, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/promotions/x1", alice, NULL, 400, "id");
	h_expect_error(&S, "GET", "/api/v1/promotions/99999", alice, NULL, 404, NULL);
	/* only an owner approves production */
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), bob, "{}", 403, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), vera, "{}", 403, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), eve, "{}", 404, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), alice, "{\"comment\":false}", 400,
		       "comment");
	j = h_call(&S, "GET", M "/det/versions/production", vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 1); /* not moved yet */
	json_decref(j);
	j = h_call(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), alice, "{\"comment\":\"ship it\"}", 200);
	assert_string_equal(f_str(j, "state"), "approved");
	assert_string_equal(f_str(j, "decided_by"), "alice");
	assert_string_equal(f_str(j, "decision_comment"), "ship it");
	json_decref(j);
	j = h_call(&S, "GET", M "/det/versions/production", vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), alice, "{}", 409, NULL);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/reject", pid), alice, "{}", 409, NULL);
	assert_false(list_has("/api/v1/promotions", alice, pid));
	assert_true(list_has("/api/v1/promotions?state=approved", alice, pid));
	/* the history shows the move, who and the promotion */
	e = history_event("det", "alias_moved", &hist);
	assert_non_null(e);
	assert_string_equal(f_str(e, "alias"), "production");
	assert_int_equal(f_int(e, "from_version"), 1);
	assert_int_equal(f_int(e, "version"), 2);
	assert_int_equal(f_int(e, "promotion_id"), pid);
	assert_string_equal(f_str(e, "actor"), "alice");
	assert_non_null(json_string_value(json_object_get(e, "created_at")));
	json_decref(hist);
	assert_true(audit_has("promotions.approve",
			      h_fmt("project:vision/model:det/version:2/alias:production/promotion:%lld", pid)));
	/* a rejection leaves the alias where it was */
	j = h_call(&S, "POST", M "/det/versions/1/promotions", bob, "{\"alias\":\"production\"}", 201);
	pid2 = f_int(j, "id");
	json_decref(j);
	j = h_call(&S, "POST", h_fmt("/api/v1/promotions/%lld/reject", pid2), alice, "{\"comment\":\"worse\"}", 200);
	assert_string_equal(f_str(j, "state"), "rejected");
	json_decref(j);
	j = h_call(&S, "GET", M "/det/versions/production", vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 2);
	json_decref(j);
	e = history_event("det", "promotion_rejected", &hist);
	assert_non_null(e);
	assert_int_equal(f_int(e, "promotion_id"), pid2);
	assert_string_equal(f_str(e, "comment"), "worse");
	json_decref(hist);
	/* editors decide promotions of ordinary aliases; admins decide anything */
	j = h_call(&S, "POST", M "/det/versions/1/promotions", bob, "{\"alias\":\"canary\"}", 201);
	pid3 = f_int(j, "id");
	json_decref(j);
	assert_true(list_has("/api/v1/promotions", bob, pid3));
	json_decref(h_call(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid3), bob, "{}", 200));
	j = h_call(&S, "GET", M "/det/versions/canary", vera, NULL, 200);
	assert_int_equal(f_int(j, "version"), 1);
	json_decref(j);
	/* deleting the version cancels its pending promotions */
	json_decref(h_call(&S, "POST", M "/det", bob, NULL, 405));
	assert_int_equal(committed_version("det", "d4"), 4);
	j = h_call(&S, "POST", M "/det/versions/4/promotions", bob, "{\"alias\":\"production\"}", 201);
	pid3 = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "DELETE", M "/det/versions/4", bob, NULL, 204));
	j = h_call(&S, "GET", h_fmt("/api/v1/promotions/%lld", pid3), vera, NULL, 200);
	assert_string_equal(f_str(j, "state"), "cancelled");
	json_decref(j);
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid3), S.admin_token, "{}", 409, NULL);
	e = history_event("det", "version_deleted", &hist);
	assert_non_null(e);
	assert_int_equal(f_int(e, "version"), 4);
	json_decref(hist);
}

static void test_archived_project(void **state)
{
	json_t *j;
	long long pid;
	(void)state;

	f_project(&S, alice, "old", "private");
	f_member(&S, "old", "bob", "editor");
	json_decref(h_call(&S, "POST", "/api/v1/projects/old/models", bob, "{\"name\":\"m\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/old/models/m/versions", bob, "{}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/old/models/m/versions/1/commit", bob, "{}", 200));
	j = h_call(&S, "POST", "/api/v1/projects/old/models/m/versions/1/promotions", bob, "{\"alias\":\"production\"}",
		   201);
	pid = f_int(j, "id");
	json_decref(j);
	json_decref(h_call(&S, "DELETE", "/api/v1/projects/old", alice, NULL, 200));
	h_expect_error(&S, "POST", h_fmt("/api/v1/promotions/%lld/approve", pid), alice, "{}", 409, NULL);
	h_expect_error(&S, "PUT", "/api/v1/projects/old/models/m/aliases/production", alice, "{\"version\":1}", 409,
		       NULL);
	h_expect_error(&S, "POST", "/api/v1/projects/old/models/m/versions", bob, "{}", 409, NULL);
	h_expect_error(&S, "DELETE", "/api/v1/projects/old/models/m/versions/1", bob, NULL, 409, NULL);
	assert_false(list_has("/api/v1/promotions", alice, pid));
	j = h_call(&S, "GET", "/api/v1/projects/old/models/m", bob, NULL, 200); /* still readable */
	json_decref(j);
}

static void test_lineage(void **state)
{
	json_t *j, *up, *run, *ds, *files;
	char sha_a[65], sha_b[65];
	long long run_id, vid, vid2;
	(void)state;

	/* a dataset version with two files, a run that read it, a model version from the run */
	json_decref(h_call(&S, "POST", "/api/v1/projects/vision/datasets", bob, "{\"name\":\"cifar\"}", 201));
	json_decref(h_call(&S, "POST", "/api/v1/projects/vision/datasets/cifar/versions", bob, "{}", 201));
	up = f_put(&S, "/api/v1/projects/vision/datasets/cifar/versions/1/files/train.csv", bob, "a,b\n1,2\n", 8, NULL,
		   201);
	snprintf(sha_a, sizeof(sha_a), "%s", f_str(up, "sha256"));
	json_decref(up);
	up = f_put(&S, "/api/v1/projects/vision/datasets/cifar/versions/1/files/test.csv", bob, "a,b\n", 4, NULL, 201);
	snprintf(sha_b, sizeof(sha_b), "%s", f_str(up, "sha256"));
	json_decref(up);
	json_decref(h_call(&S, "POST", "/api/v1/projects/vision/datasets/cifar/versions/1/commit", bob, "{}", 200));
	run = h_call(&S, "POST", "/api/v1/projects/vision/runs", bob,
		     "{\"name\":\"sweep-3\",\"status\":\"finished\",\"params\":{\"lr\":\"0.01\",\"epochs\":\"10\"},"
		     "\"inputs\":[{\"dataset\":\"cifar\",\"version\":1}]}",
		     201);
	run_id = f_int(run, "id");
	json_decref(run);
	json_decref(h_call(&S, "POST", M, bob, "{\"name\":\"lin\"}", 201));
	j = h_call(&S, "POST", M "/lin/versions", bob, h_fmt("{\"source_run\":%lld}", run_id), 201);
	vid = f_int(j, "id");
	assert_int_equal(f_int(j, "source_run"), run_id);
	json_decref(j);

	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", vid), vera, NULL, 200);
	assert_int_equal(f_int(json_object_get(j, "model_version"), "id"), vid);
	assert_string_equal(f_str(json_object_get(j, "model_version"), "model"), "lin");
	run = json_object_get(j, "run");
	assert_int_equal(f_int(run, "id"), run_id);
	assert_string_equal(f_str(run, "name"), "sweep-3");
	assert_string_equal(f_str(run, "status"), "finished");
	assert_string_equal(f_str(json_object_get(run, "params"), "lr"), "0.01");
	assert_int_equal(json_array_size(json_object_get(j, "datasets")), 1);
	ds = json_array_get(json_object_get(j, "datasets"), 0);
	assert_string_equal(f_str(ds, "dataset"), "cifar");
	assert_int_equal(f_int(ds, "version"), 1);
	assert_int_equal(f_int(ds, "file_count"), 2);
	assert_int_equal(f_int(ds, "total_bytes"), 12);
	assert_false(json_is_true(json_object_get(ds, "truncated")));
	files = json_object_get(ds, "files");
	assert_int_equal(json_array_size(files), 2);
	assert_string_equal(f_str(json_array_get(files, 0), "path"), "test.csv");
	assert_string_equal(f_str(json_array_get(files, 0), "sha256"), sha_b);
	assert_int_equal(f_int(json_array_get(files, 0), "size"), 4);
	assert_string_equal(f_str(json_array_get(files, 1), "path"), "train.csv");
	assert_string_equal(f_str(json_array_get(files, 1), "sha256"), sha_a);
	assert_true(json_is_null(json_object_get(j, "job")));
	assert_int_equal(json_array_size(json_object_get(j, "deployments")), 0);
	json_decref(j);
	/* bounded */
	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage?files=1", vid), vera, NULL, 200);
	ds = json_array_get(json_object_get(j, "datasets"), 0);
	assert_int_equal(json_array_size(json_object_get(ds, "files")), 1);
	assert_true(json_is_true(json_object_get(ds, "truncated")));
	json_decref(j);
	h_expect_error(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage?files=5000", vid), vera, NULL, 400,
		       "files");
	/* the other way: the dataset version knows the run that read it and the model version made from it */
	j = h_call(&S, "GET", "/api/v1/projects/vision/datasets/cifar/versions/1/lineage", vera, NULL, 200);
	up = json_object_get(j, "used_by");
	assert_int_equal(json_array_size(json_object_get(up, "runs")), 1);
	assert_int_equal(f_int(json_array_get(json_object_get(up, "runs"), 0), "id"), run_id);
	assert_string_equal(f_str(json_array_get(json_object_get(up, "runs"), 0), "name"), "sweep-3");
	assert_int_equal(json_array_size(json_object_get(up, "model_versions")), 1);
	assert_int_equal(f_int(json_array_get(json_object_get(up, "model_versions"), 0), "id"), vid);
	assert_string_equal(f_str(json_array_get(json_object_get(up, "model_versions"), 0), "model"), "lin");
	assert_true(json_is_null(json_object_get(j, "job")));
	json_decref(j);
	h_expect_error(&S, "GET", "/api/v1/projects/vision/datasets/cifar/versions/1/lineage", eve, NULL, 404, NULL);
	/* access */
	h_expect_error(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", vid), eve, NULL, 404, NULL);
	h_expect_error(&S, "GET", "/api/v1/model-versions/nope/lineage", vera, NULL, 400, "id");
	h_expect_error(&S, "GET", "/api/v1/model-versions/987654/lineage", vera, NULL, 404, NULL);
	/* a version without a run */
	j = h_call(&S, "POST", M "/lin/versions", bob, "{}", 201);
	vid2 = f_int(j, "id");
	json_decref(j);
	j = h_call(&S, "GET", h_fmt("/api/v1/model-versions/%lld/lineage", vid2), vera, NULL, 200);
	assert_true(json_is_null(json_object_get(j, "run")));
	assert_int_equal(json_array_size(json_object_get(j, "datasets")), 0);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_models),		 cmocka_unit_test(test_versions),
		cmocka_unit_test(test_aliases),		 cmocka_unit_test(test_promotions),
		cmocka_unit_test(test_archived_project), cmocka_unit_test(test_lineage),
	};
	int rc;
	static const char *const names[4] = { "alice", "bob", "vera", "eve" };

	memset(&S, 0, sizeof(S));
	h_server_start(&S, NULL);
	f_people(&S, "vision", names, people);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	return f_finish(&S, rc); /* a clean stop: the sanitizers' leak check must pass */
}
