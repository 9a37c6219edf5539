/*
 * mlflow_artifacts.c: MLflow's artifact proxy (what `mlflow server --serve-artifacts` offers),
 * over Atrium's files. A run's artifact_uri is "mlflow-artifacts:/<experiment id>/<run id>/
 * artifacts", and the client turns it into /api/2.0/mlflow-artifacts/artifacts/<experiment
 * id>/<run id>/artifacts/<path>: those are exactly the run's artifacts of /api/v1/runs/{run}/
 * artifacts (the files layer, owner kind "run": streamed to the blob store, sha256, stored
 * once). "registry/<model version id>/<path>" reads a model version's files (owner kind
 * "model_version"), read-only. Access is decided before these run (the route's {run},
 * {experiment} and {id}, or the listing's `path` query parameter: ATR_RF_ARTIFACT_PATH).
 * Not here: the bytes (files.c, src/artifacts), the registry's download URIs.
 */
#include "mlflow.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <stdio.h>
#include <string.h>

#define RUN_FILES "run"
#define VERSION_FILES "model_version"
/* A listing holds at most this many entries (MLflow's has no pages); X-Atrium-Truncated says so. */
#define LIST_MAX 10000

const struct atr_qparam api_mlflow_artifacts_list_query[] = {
	{ "path", ATR_Q_STRING, 0, 0, 1200, 0, NULL,
	  "'<experiment id>/<run id>/artifacts[/<folder>]' or 'registry/<model version id>[/<folder>]'" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};

static const struct atr_field mpu_part_schema[] = {
	{ "part_number", ATR_F_INT, 0, 0, 0, NULL, NULL },
	{ "etag", ATR_F_STRING, 0, 0, 1024, NULL, NULL },
	{ 0 },
};

/* What MLflow 2.9.2's HttpArtifactRepository sends to create ({path, num_parts}), complete ({path,
 * upload_id, parts}) and abort ({path, upload_id}) a multipart upload: one table for the three. */
const struct atr_field api_mlflow_mpu_schema[] = {
	{ "path", ATR_F_STRING, ATR_FF_REQUIRED, 0, 4096, NULL, NULL },
	{ "num_parts", ATR_F_INT, 0, 0, 0, NULL, NULL },
	{ "upload_id", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "parts", ATR_F_ARRAY, 0, 0, 100000, NULL, mpu_part_schema },
	{ 0 },
};

/* The length of the UTF-8 character at p (0: not one). */
static size_t utf8_char(const unsigned char *p, size_t left)
{
	size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
	return n && n <= left && atr_utf8_valid((const char *)p, n) ? n : 0;
}

/* path as a message may quote it: its first ~200 bytes, whole characters only, bytes that are
 * not UTF-8 as \xNN (the reply itself replaces control characters). */
static const char *shown(const char *path, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)(path ? path : "");
	size_t o = 0, left = strlen((const char *)p);

	while (left && o + 8 < cap && o < 200) {
		size_t n = utf8_char(p, left);
		if (n) {
			memcpy(out + o, p, n);
			o += n;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
			n = 1;
		}
		p += n;
		left -= n;
	}
	if (left && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

const char *api_mlflow_path_or_reply(struct atr_req *r, const char *path)
{
	char buf[300];

	if (path && atr_is_safe_path(path, strlen(path)))
		return path;
	atr_reply_invalid(r, "path",
			  "Invalid path '%s': an artifact path is relative, '/'-separated, without empty, '.' or '..' "
			  "parts, control characters or invalid UTF-8, and at most 1024 bytes",
			  shown(path, buf, sizeof(buf)));
	return NULL;
}

/* The {path...} of the route. */
static const char *path_param(struct atr_req *r)
{
	return api_mlflow_path_or_reply(r, atr_req_param(r, "path"));
}

/* GET /api/2.0/mlflow-artifacts/artifacts?path=...: the entries of a folder, MLflow's way. */
void api_mlflow_artifacts_list(struct atr_req *r)
{
	const struct api_res *x = RES(r);
	json_t *files = json_array();
	char buf[300];
	bool more;
	int rc;

	if (!files) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	rc = atr_store_file_children(STORE(r), x->files.kind, x->files.owner_id, x->files.dir, LIST_MAX, files, &more);
	if (rc < 0) {
		json_decref(files);
		atr_reply_err(r, rc, NULL, "could not list '%s'", shown(x->files.dir, buf, sizeof(buf)));
		return;
	}
	if (more)
		atr_reply_header(r, "X-Atrium-Truncated", "true");
	/* An empty folder, a missing one and a file's own path: {}, as MLflow answers (its client
	 * lists a path to learn whether it is a folder before it downloads it). */
	if (json_array_size(files) == 0) {
		json_decref(files);
		atr_reply_json(r, 200, json_object());
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:o}", "files", files));
}

/* PUT .../artifacts/{experiment}/{run}/artifacts/{path...}: headers in, access decided. */
void api_mlflow_artifact_begin(struct atr_req *r)
{
	if (path_param(r))
		api_upload_begin(r, RUN_FILES, RES(r)->run.id);
}

void api_mlflow_artifact_put(struct atr_req *r)
{
	struct atr_run now;
	enum atr_prole member;
	struct atr_project p;

	/* The run may have been deleted while the bytes arrived. */
	if (atr_store_run_access(STORE(r), RES(r)->run.id, 0, &now, &p, &member) == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "Run with id=%s was deleted during the upload", RES(r)->run.uuid);
		return;
	}
	api_upload_finish(r, 200);
}

/* A file's bytes (Range, ETag); a folder or a missing path is a 404 that says which. */
static void download(struct atr_req *r, const char *kind, int64_t owner_id)
{
	const char *path = path_param(r);
	struct atr_file f;
	char buf[300];
	int rc;

	if (!path)
		return;
	rc = atr_store_file_get(STORE(r), kind, owner_id, path, &f);
	if (rc == ATR_ENOTFOUND)
		rc = atr_store_file_is_dir(STORE(r), kind, owner_id, path);
	if (rc == 1) {
		atr_reply_not_found(r, NULL,
				    "'%s' is a folder, not a file: list it with GET "
				    "/api/2.0/mlflow-artifacts/artifacts?path=...",
				    shown(path, buf, sizeof(buf)));
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read '%s'", shown(path, buf, sizeof(buf)));
		return;
	}
	api_file_download(r, kind, owner_id);
}

void api_mlflow_artifact_get(struct atr_req *r)
{
	download(r, RUN_FILES, RES(r)->run.id);
}

void api_mlflow_version_file_get(struct atr_req *r)
{
	download(r, VERSION_FILES, RES(r)->version.id);
}

/* DELETE: the file at the path and every file under it as a folder; without a path (the run's
 * artifact root), all of them. {} even when nothing was there, as MLflow answers. */
void api_mlflow_artifact_delete(struct atr_req *r)
{
	const char *path = atr_req_param(r, "path") ? path_param(r) : "";
	char buf[300];
	int rc;

	if (!path)
		return;
	rc = atr_store_files_delete_tree(STORE(r), RUN_FILES, RES(r)->run.id, path, NULL);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete '%s'", shown(path, buf, sizeof(buf)));
		return;
	}
	atr_reply_json(r, 200, json_object());
}

/* Multipart uploads (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD): the blob store takes one stream per
 * file, so the client is told, in the words it looks for, to send the file in one PUT. */
void api_mlflow_mpu(struct atr_req *r)
{
	const char *op = atr_req_param(r, "op");

	if (strcmp(op, "create") != 0 && strcmp(op, "complete") != 0 && strcmp(op, "abort") != 0) {
		atr_reply_no_route(r, NULL, "no route for 'POST %s'", atr_req_path(r));
		return;
	}
	atr_reply_not_implemented(r, NULL, "Multipart upload is not supported for the current artifact repository");
}
