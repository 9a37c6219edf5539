/*
 * test_mlflow_artifacts.c: MLflow's artifact proxy against the real daemon, with the requests
 * MLflow 2.9.2's HttpArtifactRepository sends: uploads of several sizes (one of 3 MiB while
 * JSON bodies are capped at 64 KiB: streamed), nested folders, downloads (whole, Range,
 * HEAD), listings (the root, folders, a file's own path, a missing one: MLflow's {}), deletes
 * (a file, a folder, all), the same files through Atrium's run artifacts and the reverse, a
 * model version's files under registry/<id>, who may do what (viewer, outsider, job token,
 * another experiment's id), bad paths (INVALID_PARAMETER_VALUE naming them), multipart
 * uploads refused in the words the client falls back on.
 */
#include "fixtures.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atrium/auth.h"
#include "atrium/util.h"

static struct h_server S;
static char people[4][128];
static const char *const olive = people[0], *const ed = people[1], *const vic = people[2], *const oscar = people[3];
static long long project_id, other_project_id, run_id;
static char run_uuid[33], job_token[128];

#define A "/api/2.0/mlflow-artifacts/artifacts"

/* .../artifacts/<experiment>/<run>/artifacts/<path> of the run. */
static const char *art(const char *path)
{
	return h_fmt(A "/%lld/%s/artifacts/%s", project_id, run_uuid, path);
}

/* The listing's URL for a folder of the run ("" the root). */
static const char *lst(const char *dir)
{
	return h_fmt(A "?path=%lld/%s/artifacts%s%s", project_id, run_uuid, *dir ? "/" : "", dir);
}

/* Deterministic bytes (a different stream per seed). */
static char *bytes(size_t n, unsigned seed)
{
	char *p = malloc(n ? n : 1);
	unsigned x = seed * 2654435761u + 1;
	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (char)(x >> 16);
	}
	return p;
}

/* An MLflow error answer: the status, error_code and (when needle is given) part of the message. */
static void ml_error(const char *method, const char *path, const char *token, const char *body, long status,
		     const char *code, const char *needle)
{
	json_t *j = h_call(&S, method, path, token, body, status);
	const char *msg = f_str(j, "message");

	assert_non_null(j);
	if (strcmp(f_str(j, "error_code"), code) != 0 || (needle && !strstr(msg, needle))) {
		fprintf(stderr, "%s %s: expected %s with '%s', got %s: '%s'\n", method, path, code,
			needle ? needle : "", f_str(j, "error_code"), msg);
		json_decref(j);
		fail();
	}
	assert_null(json_object_get(j, "error")); /* MLflow's shape, not Atrium's */
	json_decref(j);
}

/* A listing as text: "name/" for a folder, "name=size" for a file, ',' between them; "{}" for
 * MLflow's empty answer. */
static const char *listing(const char *url, const char *token)
{
	static char out[4096];
	json_t *j = h_call(&S, "GET", url, token, NULL, 200), *files = json_object_get(j, "files"), *f;
	size_t i, n = 0;

	assert_non_null(j);
	if (json_object_size(j) == 0) {
		json_decref(j);
		return "{}";
	}
	assert_true(json_is_array(files) && json_array_size(files) > 0);
	out[0] = 0;
	json_array_foreach(files, i, f)
	{
		bool dir = json_is_true(json_object_get(f, "is_dir"));
		assert_true(json_is_boolean(json_object_get(f, "is_dir")));
		assert_true(dir ? !json_object_get(f, "file_size") : json_is_integer(json_object_get(f, "file_size")));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s%s", n ? "," : "", f_str(f, "path"),
				      dir ? "/" : "");
		if (!dir)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "=%lld", f_int(f, "file_size"));
	}
	json_decref(j);
	return out;
}

/* PUT through MLflow's route (asserting 200), returning the sha256 the answer gives. */
static void put(const char *path, const char *token, const char *data, size_t len, char sha[65])
{
	json_t *j = f_put(&S, art(path), token, data, len, NULL, 200);
	assert_string_equal(f_str(j, "path"), path);
	assert_int_equal(f_int(j, "size"), (long long)len);
	if (sha)
		snprintf(sha, 65, "%s", f_str(j, "sha256"));
	json_decref(j);
}

/* GET asserting the status and the bytes. */
static void get_bytes(const char *url, const char *token, const char *const *headers, long status, const char *data,
		      size_t len)
{
	struct h_resp r;
	h_req(&S, "GET", url, token, NULL, headers, &r);
	assert_int_equal(r.status, status);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.body, data, len);
	h_resp_free(&r);
}

/* A job token of project_id, made the way the jobs layer makes one (a row in api_tokens). */
static void make_job_token(long long project, char *out)
{
	char hash[65];
	assert_int_equal(atr_token_new(out, hash), 0);
	f_sql_exec(&S, h_fmt("INSERT INTO api_tokens(kind, user_id, name, token_hash, prefix, project_id, scope_id,"
			     " created_at) VALUES ('job', %lld, 'job', '%s', 'atr_', %lld, 99, 0)",
			     f_sql_int(&S, "SELECT id FROM users WHERE username = 'olive'"), hash, project));
}

static int setup(void **state)
{
	const char *const names[4] = { "olive", "ed", "vic", "oscar" };
	const char *const extra[] = { "--max-body-bytes", "65536", "--max-upload-bytes", "8388608", NULL };
	json_t *j;
	(void)state;

	h_server_start(&S, extra);
	f_people(&S, "vision", names, people);
	j = h_call(&S, "GET", "/api/v1/projects/vision", olive, NULL, 200);
	project_id = f_int(j, "id");
	json_decref(j);
	f_project(&S, oscar, "elsewhere", "private");
	j = h_call(&S, "GET", "/api/v1/projects/elsewhere", oscar, NULL, 200);
	other_project_id = f_int(j, "id");
	json_decref(j);
	j = h_call(&S, "POST", "/api/v1/projects/vision/runs", olive, "{\"name\":\"mlflow\"}", 201);
	run_id = f_int(j, "id");
	snprintf(run_uuid, sizeof(run_uuid), "%s", f_str(j, "uuid"));
	assert_int_equal(strlen(run_uuid), 32);
	json_decref(j);
	make_job_token(project_id, job_token);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_server_cleanup(&S);
	return 0;
}

/* ---- uploads and downloads ---- */

static void test_upload_download(void **state)
{
	const size_t sizes[] = { 0, 1, 65536 + 7, 3 * 1024 * 1024 + 5 };
	const char *const paths[] = { "empty.txt", "one.txt", "model/weights.bin", "model/deep/er/big.bin" };
	const char *range[] = { "Range: bytes=1000-1009", NULL };
	char sha[4][65], expect[65], *data[4];
	struct h_resp r;
	(void)state;

	for (int i = 0; i < 4; i++) {
		data[i] = bytes(sizes[i], (unsigned)i);
		put(paths[i], i % 2 ? ed : olive, data[i], sizes[i], sha[i]);
		atr_sha256_hex(data[i], sizes[i], expect);
		assert_string_equal(sha[i], expect);
	}
	for (int i = 0; i < 4; i++)
		get_bytes(art(paths[i]), vic, NULL, 200, data[i], sizes[i]);
	/* Range, ETag and the sha256 header on the big one */
	get_bytes(art(paths[3]), vic, range, 206, data[3] + 1000, 10);
	h_req(&S, "GET", art(paths[3]), vic, NULL, NULL, &r);
	assert_string_equal(h_header(&r, "X-Content-SHA256"), sha[3]);
	assert_string_equal(h_header(&r, "ETag"), h_fmt("\"%s\"", sha[3]));
	h_resp_free(&r);
	h_req(&S, "HEAD", art(paths[2]), vic, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	h_resp_free(&r);

	/* the same path again replaces the file; X-Content-SHA256 is checked */
	put("one.txt", ed, "replaced", 8, NULL);
	get_bytes(art("one.txt"), vic, NULL, 200, "replaced", 8);
	{
		const char *good[] = { h_fmt("X-Content-SHA256: %s", sha[2]), NULL };
		const char *bad[] = {
			"X-Content-SHA256: 0000000000000000000000000000000000000000000000000000000000000000", NULL
		};
		json_decref(f_put(&S, art("checked.bin"), ed, data[2], sizes[2], good, 200));
		json_t *j = f_put(&S, art("wrong.bin"), ed, "abc", 3, bad, 400);
		assert_string_equal(f_str(j, "error_code"), "INVALID_PARAMETER_VALUE");
		json_decref(j);
		ml_error("GET", art("wrong.bin"), ed, NULL, 404, "RESOURCE_DOES_NOT_EXIST", "wrong.bin");
	}
	/* past --max-upload-bytes: 413 before the bytes are stored */
	{
		char *big = bytes(9 * 1024 * 1024, 9);
		json_t *j = f_put(&S, art("too/big.bin"), ed, big, 9 * 1024 * 1024, NULL, 413);
		assert_string_equal(f_str(j, "error_code"), "INVALID_PARAMETER_VALUE");
		json_decref(j);
		free(big);
	}
	/* a folder and a missing path are not files */
	ml_error("GET", art("model"), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", "'model' is a folder");
	ml_error("GET", art("model/deep"), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", "is a folder");
	ml_error("GET", art("nope.txt"), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", "nope.txt");
	for (int i = 0; i < 4; i++)
		free(data[i]);
}

/* ---- listings ---- */

static void test_listing(void **state)
{
	(void)state;
	/* after test_upload_download: empty.txt, one.txt, checked.bin, model/weights.bin, model/deep/er/big.bin */
	assert_string_equal(listing(lst(""), vic), "checked.bin=65543,empty.txt=0,model/,one.txt=8");
	assert_string_equal(listing(lst("model"), vic), "deep/,weights.bin=65543");
	assert_string_equal(listing(lst("model/deep"), vic), "er/");
	assert_string_equal(listing(lst("model/deep/er"), vic), "big.bin=3145733");
	/* a file's own path, a missing folder: {} (the client lists a path before it downloads it) */
	assert_string_equal(listing(lst("one.txt"), vic), "{}");
	assert_string_equal(listing(lst("model/weights.bin"), vic), "{}");
	assert_string_equal(listing(lst("missing"), vic), "{}");
	assert_string_equal(listing(lst("mod"), vic), "{}");
	/* a trailing '/' after "artifacts" is the root */
	assert_string_equal(listing(h_fmt(A "?path=%lld/%s/artifacts/", project_id, run_uuid), vic),
			    "checked.bin=65543,empty.txt=0,model/,one.txt=8");
	/* a run without artifacts */
	{
		json_t *j = h_call(&S, "POST", "/api/v1/projects/vision/runs", olive, "{}", 201);
		assert_string_equal(listing(h_fmt(A "?path=%lld/%s/artifacts", project_id, f_str(j, "uuid")), vic),
				    "{}");
		json_decref(j);
	}
	/* what the path must name */
	ml_error("GET", A, vic, NULL, 400, "INVALID_PARAMETER_VALUE", "'path' must name a run's artifacts");
	ml_error("GET", A "?path=", vic, NULL, 400, "INVALID_PARAMETER_VALUE", "'path' must name");
	ml_error("GET", h_fmt(A "?path=%lld", project_id), vic, NULL, 400, "INVALID_PARAMETER_VALUE", NULL);
	ml_error("GET", h_fmt(A "?path=%lld/%s", project_id, run_uuid), vic, NULL, 400, "INVALID_PARAMETER_VALUE",
		 NULL);
	ml_error("GET", h_fmt(A "?path=%lld/%s/files", project_id, run_uuid), vic, NULL, 400, "INVALID_PARAMETER_VALUE",
		 NULL);
	ml_error("GET", A "?path=registry/abc", vic, NULL, 400, "INVALID_PARAMETER_VALUE", NULL);
	ml_error("GET", h_fmt("%s&limit=5", lst("")), vic, NULL, 400, "INVALID_PARAMETER_VALUE", "limit");
	/* runs that are not there, or not in that experiment */
	ml_error("GET", h_fmt(A "?path=%lld/%032d/artifacts", project_id, 0), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST",
		 NULL);
	ml_error("GET", h_fmt(A "?path=%lld/%s/artifacts", other_project_id, run_uuid), olive, NULL, 404,
		 "RESOURCE_DOES_NOT_EXIST", "not found");
	ml_error("GET", h_fmt(A "?path=0/%s/artifacts", run_uuid), olive, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	/* the same listing under /ajax-api (MLflow's UI) */
	assert_string_equal(listing(h_fmt("/ajax-api/2.0/mlflow-artifacts/artifacts?path=%lld/%s/artifacts/model",
					  project_id, run_uuid),
				    vic),
			    "deep/,weights.bin=65543");
}

/* Folders with many entries and a folder beside a file of the same prefix ("a.txt" < "a/"). */
static void test_listing_many(void **state)
{
	json_t *j = h_call(&S, "POST", "/api/v1/projects/vision/runs", olive, "{}", 201);
	char uuid[33], want[4096];
	size_t n = 0;
	(void)state;

	snprintf(uuid, sizeof(uuid), "%s", f_str(j, "uuid"));
	json_decref(j);
	for (int i = 0; i < 300; i++) /* more than one batch of the store's scan */
		json_decref(
			f_put(&S, h_fmt(A "/%lld/%s/artifacts/f/%03d", project_id, uuid, i), ed, "x", 1, NULL, 200));
	for (int i = 0; i < 5; i++)
		json_decref(f_put(&S, h_fmt(A "/%lld/%s/artifacts/f/d%d/x/y", project_id, uuid, i), ed, "yy", 2, NULL,
				  200));
	json_decref(f_put(&S, h_fmt(A "/%lld/%s/artifacts/a.txt", project_id, uuid), ed, "a", 1, NULL, 200));
	json_decref(f_put(&S, h_fmt(A "/%lld/%s/artifacts/a/b", project_id, uuid), ed, "b", 1, NULL, 200));
	json_decref(f_put(&S, h_fmt(A "/%lld/%s/artifacts/a-b", project_id, uuid), ed, "c", 1, NULL, 200));
	assert_string_equal(listing(h_fmt(A "?path=%lld/%s/artifacts", project_id, uuid), vic), "a-b=1,a.txt=1,a/,f/");
	assert_string_equal(listing(h_fmt(A "?path=%lld/%s/artifacts/a", project_id, uuid), vic), "b=1");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%03d=1", i ? "," : "", i);
	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, ",d%d/", i);
	assert_string_equal(listing(h_fmt(A "?path=%lld/%s/artifacts/f", project_id, uuid), vic), want);
}

/* ---- the same files as Atrium's run artifacts ---- */

static void test_native_interop(void **state)
{
	char sha[65], sha2[65];
	json_t *j, *items, *it;
	size_t i;
	bool seen = false;
	(void)state;

	/* written through MLflow, listed and read by Atrium's own routes (by id and by MLflow id) */
	put("interop/m.json", ed, "{\"k\":1}", 7, sha);
	j = h_call(&S, "GET", h_fmt("/api/v1/runs/%lld/artifacts?limit=1000", run_id), vic, NULL, 200);
	items = json_object_get(j, "items");
	json_array_foreach(items, i, it) if (!strcmp(f_str(it, "path"), "interop/m.json"))
	{
		assert_string_equal(f_str(it, "sha256"), sha);
		assert_int_equal(f_int(it, "size"), 7);
		seen = true;
	}
	assert_true(seen);
	json_decref(j);
	get_bytes(h_fmt("/api/v1/runs/%lld/artifacts/interop/m.json", run_id), vic, NULL, 200, "{\"k\":1}", 7);
	get_bytes(h_fmt("/api/v1/runs/%s/artifacts/interop/m.json", run_uuid), vic, NULL, 200, "{\"k\":1}", 7);

	/* written by Atrium, read through MLflow */
	j = f_put(&S, h_fmt("/api/v1/runs/%lld/artifacts/interop/native/n.txt", run_id), ed, "native", 6, NULL, 201);
	snprintf(sha2, sizeof(sha2), "%s", f_str(j, "sha256"));
	json_decref(j);
	assert_string_equal(listing(lst("interop"), vic), "m.json=7,native/");
	assert_string_equal(listing(lst("interop/native"), vic), "n.txt=6");
	get_bytes(art("interop/native/n.txt"), vic, NULL, 200, "native", 6);

	/* the same bytes are one blob, whoever wrote them */
	put("interop/copy.txt", ed, "native", 6, sha);
	assert_string_equal(sha, sha2);
	assert_int_equal(f_sql_int(&S, h_fmt("SELECT count(*) FROM blobs WHERE sha256 = '%s'", sha)), 1);
	assert_int_equal(f_sql_int(&S, h_fmt("SELECT count(*) FROM files WHERE sha256 = '%s'", sha)), 2);
	assert_true(f_blob_exists(&S, sha));

	/* deleted by Atrium: gone for MLflow too */
	json_decref(h_call(&S, "DELETE", h_fmt("/api/v1/runs/%lld/artifacts/interop/copy.txt", run_id), ed, NULL, 204));
	ml_error("GET", art("interop/copy.txt"), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
}

/* ---- deletes ---- */

static void test_delete(void **state)
{
	json_t *j = h_call(&S, "POST", "/api/v1/projects/vision/runs", olive, "{}", 201);
	char uuid[33];
	(void)state;

	snprintf(uuid, sizeof(uuid), "%s", f_str(j, "uuid"));
	json_decref(j);
#define D(p) h_fmt(A "/%lld/%s/artifacts/%s", project_id, uuid, p)
#define L(p) h_fmt(A "?path=%lld/%s/artifacts%s", project_id, uuid, p)
	json_decref(f_put(&S, D("keep.txt"), ed, "k", 1, NULL, 200));
	json_decref(f_put(&S, D("dir"), ed, "file named dir", 14, NULL, 200));
	json_decref(f_put(&S, D("dir/a.txt"), ed, "a", 1, NULL, 200));
	json_decref(f_put(&S, D("dir/sub/b.txt"), ed, "b", 1, NULL, 200));
	json_decref(f_put(&S, D("dir2/c.txt"), ed, "c", 1, NULL, 200));
	json_decref(f_put(&S, D("dir.txt"), ed, "s", 1, NULL, 200));
	/* a file */
	j = h_call(&S, "DELETE", D("dir/a.txt"), ed, NULL, 200);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
	assert_string_equal(listing(L("/dir"), vic), "sub/");
	/* a folder: its files and the file of the same name; "dir.txt" and "dir2" beside it stay */
	json_decref(h_call(&S, "DELETE", D("dir"), ed, NULL, 200));
	assert_string_equal(listing(L(""), vic), "dir.txt=1,dir2/,keep.txt=1");
	/* nothing there: {} as MLflow answers */
	json_decref(h_call(&S, "DELETE", D("never/was"), ed, NULL, 200));
	/* the whole root (the client's delete_artifacts() sends the artifact URI with a '/') */
	json_decref(h_call(&S, "DELETE", h_fmt(A "/%lld/%s/artifacts/", project_id, uuid), ed, NULL, 200));
	assert_string_equal(listing(L(""), vic), "{}");
	assert_int_equal(f_sql_int(&S, h_fmt("SELECT count(*) FROM files f JOIN runs r ON r.id = f.owner_id"
					     " WHERE f.owner_kind = 'run' AND r.uuid = '%s'",
					     uuid)),
			 0);
	/* who may */
	ml_error("DELETE", art("one.txt"), vic, NULL, 403, "PERMISSION_DENIED", "editor");
	ml_error("DELETE", art("one.txt"), oscar, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("DELETE", h_fmt(A "/%lld/%s/artifacts/", project_id, run_uuid), vic, NULL, 403, "PERMISSION_DENIED",
		 NULL);
	ml_error("DELETE", art("a/%2e%2e/b"), ed, NULL, 400, "INVALID_PARAMETER_VALUE", "Invalid path 'a/../b'");
	get_bytes(art("one.txt"), vic, NULL, 200, "replaced", 8);
#undef D
#undef L
}

/* ---- a model version's files: registry/<id> ---- */

static void test_model_version(void **state)
{
	json_t *j;
	long long vid;
	const char *range[] = { "Range: bytes=2-4", NULL };
	(void)state;

	json_decref(h_call(&S, "POST", "/api/v1/projects/vision/models", olive, "{\"name\":\"clf\"}", 201));
	j = h_call(&S, "POST", "/api/v1/projects/vision/models/clf/versions", ed, "{}", 201);
	vid = f_int(j, "id");
	json_decref(j);
	json_decref(f_put(&S, "/api/v1/projects/vision/models/clf/versions/1/files/MLmodel", ed, "flavors: {}\n", 12,
			  NULL, 201));
	json_decref(f_put(&S, "/api/v1/projects/vision/models/clf/versions/1/files/data/model.pkl", ed, "0123456789",
			  10, NULL, 201));

	assert_string_equal(listing(h_fmt(A "?path=registry/%lld", vid), vic), "MLmodel=12,data/");
	assert_string_equal(listing(h_fmt(A "?path=registry/%lld/data", vid), vic), "model.pkl=10");
	assert_string_equal(listing(h_fmt(A "?path=registry/%lld/MLmodel", vid), vic), "{}");
	get_bytes(h_fmt(A "/registry/%lld/MLmodel", vid), vic, NULL, 200, "flavors: {}\n", 12);
	get_bytes(h_fmt(A "/registry/%lld/data/model.pkl", vid), vic, range, 206, "234", 3);
	ml_error("GET", h_fmt(A "/registry/%lld/data", vid), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", "is a folder");
	ml_error("GET", h_fmt(A "/registry/%lld/none", vid), vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	/* a job token of the project reads it when its job does (job 99 of the token reads it as its
	 * model: batch inference); another version of the project is as absent as for an outsider */
	ml_error("GET", h_fmt(A "/registry/%lld/MLmodel", vid), job_token, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	f_sql_exec(&S, h_fmt("INSERT INTO jobs(id, project_id, kind, state, command, model_version_id, created_at,"
			     " queued_at, updated_at) VALUES (99, %lld, 'batch_inference', 'succeeded', '[\"true\"]',"
			     " %lld, 0, 0, 0)",
			     project_id, vid));
	get_bytes(h_fmt(A "/registry/%lld/MLmodel", vid), job_token, NULL, 200, "flavors: {}\n", 12);
	/* read-only */
	ml_error("PUT", h_fmt(A "/registry/%lld/new.bin", vid), olive, "x", 405, "ENDPOINT_NOT_FOUND", NULL);
	ml_error("DELETE", h_fmt(A "/registry/%lld/MLmodel", vid), olive, NULL, 405, "ENDPOINT_NOT_FOUND", NULL);
	/* outsiders, missing and bad ids */
	ml_error("GET", h_fmt(A "/registry/%lld/MLmodel", vid), oscar, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", h_fmt(A "?path=registry/%lld", vid), oscar, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", A "/registry/99999/MLmodel", vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", A "?path=registry/99999", vic, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", A "/registry/abc/MLmodel", vic, NULL, 400, "INVALID_PARAMETER_VALUE", NULL);
	ml_error("GET", h_fmt(A "/registry/%lld/a/%%2e%%2e/MLmodel", vid), vic, NULL, 400, "INVALID_PARAMETER_VALUE",
		 "Invalid path");
	ml_error("GET", h_fmt(A "?path=registry/%lld/../x", vid), vic, NULL, 400, "INVALID_PARAMETER_VALUE",
		 "Invalid path '../x'");
}

/* ---- who may do what ---- */

static void test_permissions(void **state)
{
	(void)state;
	/* a viewer reads, and may not write */
	get_bytes(art("one.txt"), vic, NULL, 200, "replaced", 8);
	{
		json_t *j = f_put(&S, art("viewer.txt"), vic, "v", 1, NULL, 403);
		assert_string_equal(f_str(j, "error_code"), "PERMISSION_DENIED");
		assert_non_null(strstr(f_str(j, "message"), "editor"));
		json_decref(j);
	}
	/* an outsider learns nothing: the run does not exist for them */
	{
		json_t *j = f_put(&S, art("outsider.txt"), oscar, "o", 1, NULL, 404);
		assert_string_equal(f_str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
		json_decref(j);
	}
	ml_error("GET", art("one.txt"), oscar, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", lst(""), oscar, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	/* another experiment's id in the path: 404 as if the run did not exist, even for its owner */
	ml_error("GET", h_fmt(A "/%lld/%s/artifacts/one.txt", other_project_id, run_uuid), olive, NULL, 404,
		 "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", h_fmt(A "/%lld/%s/artifacts/one.txt", project_id + 1000, run_uuid), olive, NULL, 404,
		 "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", h_fmt(A "/0/%s/artifacts/one.txt", run_uuid), olive, NULL, 404, "RESOURCE_DOES_NOT_EXIST",
		 NULL);
	{
		json_t *j = f_put(&S, h_fmt(A "/%lld/%s/artifacts/x.txt", other_project_id, run_uuid), olive, "x", 1,
				  NULL, 404);
		assert_string_equal(f_str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
		json_decref(j);
	}
	ml_error("DELETE", h_fmt(A "/%lld/%s/artifacts/one.txt", other_project_id, run_uuid), olive, NULL, 404,
		 "RESOURCE_DOES_NOT_EXIST", NULL);
	/* runs that do not exist; run ids that are not ids */
	ml_error("GET", h_fmt(A "/%lld/%032d/artifacts/one.txt", project_id, 0), olive, NULL, 404,
		 "RESOURCE_DOES_NOT_EXIST", NULL);
	ml_error("GET", h_fmt(A "/%lld/not-a-run/artifacts/one.txt", project_id), olive, NULL, 400,
		 "INVALID_PARAMETER_VALUE", "run");
	/* no token */
	ml_error("GET", art("one.txt"), NULL, NULL, 401, "UNAUTHENTICATED", NULL);
	ml_error("GET", lst(""), NULL, NULL, 401, "UNAUTHENTICATED", NULL);
	/* a job token of the project logs artifacts into its job's run (MLflow inside a job); one of
	 * another project may not */
	f_sql_exec(&S, h_fmt("UPDATE runs SET job_id = 99 WHERE id = %lld", run_id));
	put("from-job.txt", job_token, "job", 3, NULL);
	get_bytes(art("from-job.txt"), vic, NULL, 200, "job", 3);
	{
		char other[128];
		make_job_token(other_project_id, other);
		ml_error("GET", art("from-job.txt"), other, NULL, 404, "RESOURCE_DOES_NOT_EXIST", NULL);
	}
	/* the audit log records MLflow's writes as writes to the run */
	assert_true(f_sql_int(&S, h_fmt("SELECT count(*) FROM audit_log WHERE action = 'mlflow.artifacts.put'"
					" AND object = 'run:%lld'",
					run_id)) > 0);
}

/* ---- bad paths ---- */

static void test_bad_paths(void **state)
{
	const char *const bad[] = {
		"a/%2e%2e/b",	   /* .. */
		"%2e%2e/x",	   /* .. first */
		"a/%2E/b",	   /* . */
		"a//b",		   /* an empty part */
		"a/",		   /* a trailing '/' */
		"%2Fetc%2Fpasswd", /* absolute */
		"a%5Cb",	   /* a backslash */
		"bad%FFname",	   /* not UTF-8 */
		"%C0%AF",	   /* an overlong '/' */
		"%ED%A0%80",	   /* a surrogate */
	};
	char longp[1100];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = f_put(&S, art(bad[i]), ed, "x", 1, NULL, 400);
		assert_string_equal(f_str(j, "error_code"), "INVALID_PARAMETER_VALUE");
		assert_non_null(strstr(f_str(j, "message"), "Invalid path '"));
		json_decref(j);
		ml_error("GET", art(bad[i]), vic, NULL, 400, "INVALID_PARAMETER_VALUE", "Invalid path '");
		ml_error("GET", lst(bad[i]), vic, NULL, 400, "INVALID_PARAMETER_VALUE", "Invalid path '");
	}
	/* the message quotes the path, with bytes that are not UTF-8 escaped */
	ml_error("GET", art("d%C3%A9j%C3%A0/%2e%2e/x"), vic, NULL, 400, "INVALID_PARAMETER_VALUE",
		 "Invalid path 'd\xc3\xa9j\xc3\xa0/../x'");
	ml_error("GET", art("bad%FFname"), vic, NULL, 400, "INVALID_PARAMETER_VALUE", "Invalid path 'bad\\xffname'");
	/* NUL and control characters never reach the handler */
	ml_error("GET", art("a%00b"), vic, NULL, 400, "INVALID_PARAMETER_VALUE", NULL);
	ml_error("GET", art("a%0Ab"), vic, NULL, 400, "INVALID_PARAMETER_VALUE", NULL);
	ml_error("GET", lst("a%00b"), vic, NULL, 400, "INVALID_PARAMETER_VALUE", NULL);
	/* "../" as sent by a client that does not squash it */
	assert_int_equal(f_status_raw(&S, "PUT", art("a/../../../etc/passwd"), ed), 400);
	assert_int_equal(f_status_raw(&S, "GET", lst("../../x"), vic), 400);
	/* longer than 1024 bytes */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	ml_error("GET", art(longp), vic, NULL, 400, "INVALID_PARAMETER_VALUE", "...");
	/* UTF-8 names are fine */
	{
		json_t *j = f_put(&S, art("donn%C3%A9es/%E6%97%A5%E6%9C%AC.txt"), ed, "u", 1, NULL, 200);
		assert_string_equal(f_str(j, "path"), "donn\xc3\xa9"
						      "es/\xe6\x97\xa5\xe6\x9c\xac.txt");
		json_decref(j);
	}
	assert_string_equal(listing(lst("donn%C3%A9es"), vic), "\xe6\x97\xa5\xe6\x9c\xac.txt=1");
	/* nothing of the above was stored */
	assert_int_equal(f_sql_int(&S, h_fmt("SELECT count(*) FROM files WHERE owner_kind = 'run' AND owner_id = %lld"
					     " AND (path LIKE '%%..%%' OR path LIKE '/%%' OR path LIKE '%%//%%')",
					     run_id)),
			 0);
}

/* ---- multipart uploads: refused in the words the client falls back on ---- */

static void test_multipart(void **state)
{
	const char *msg = "Multipart upload is not supported for the current artifact repository";
	(void)state;

	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/create", ed, "{\"path\":\"big.bin\",\"num_parts\":3}", 501,
		 "NOT_IMPLEMENTED", msg);
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/create/model", ed, "{\"path\":\"big.bin\",\"num_parts\":3}",
		 501, "NOT_IMPLEMENTED", msg);
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/complete/model", ed,
		 "{\"path\":\"big.bin\",\"upload_id\":\"u\",\"parts\":[{\"part_number\":1,\"etag\":\"e\"}]}", 501,
		 "NOT_IMPLEMENTED", msg);
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/abort", ed, "{\"path\":\"big.bin\",\"upload_id\":\"u\"}", 501,
		 "NOT_IMPLEMENTED", msg);
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/other", ed, "{\"path\":\"x\"}", 404, "ENDPOINT_NOT_FOUND",
		 NULL);
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/create", ed, "{\"num_parts\":3}", 400,
		 "INVALID_PARAMETER_VALUE", "path");
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/create", ed, "{\"path\":\"x\",\"num_parts\":\"3\"}", 400,
		 "INVALID_PARAMETER_VALUE", "num_parts");
	ml_error("POST", "/api/2.0/mlflow-artifacts/mpu/create", NULL, "{\"path\":\"x\"}", 401, "UNAUTHENTICATED",
		 NULL);
}

/* Last: the daemon stops cleanly after all of the above (under ASan: no leak, no error). */
static void test_clean_shutdown(void **state)
{
	(void)state;
	assert_int_equal(h_server_stop(&S, SIGTERM), 0);
	assert_int_not_equal(h_sh("grep -q 'Sanitizer' %s/server.log", S.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_download), cmocka_unit_test(test_listing),
		cmocka_unit_test(test_listing_many),	cmocka_unit_test(test_native_interop),
		cmocka_unit_test(test_delete),		cmocka_unit_test(test_model_version),
		cmocka_unit_test(test_permissions),	cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_multipart),	cmocka_unit_test(test_clean_shutdown),
	};
	return h_finish(cmocka_run_group_tests(tests, setup, teardown));
}
