/*
 * import_artifacts.c: a run's artifacts, file by file: listed on the source (MLflow's artifact
 * proxy for mlflow-artifacts:/ roots, else the tracking server's artifacts/list and
 * get-artifact), each downloaded to an unnamed temporary file and PUT to Atrium's artifact
 * proxy from there, so no file is ever held in memory whatever its size.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct art_src {
	const char *run_id;
	char proxied[1024]; /* "<exp>/<run>/artifacts" for mlflow-artifacts:/ roots, else empty */
};

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* One file: source -> temporary file -> Atrium. */
static int copy_file(struct imp *im, const struct art_src *a, const char *rel, const char *dst_exp, const char *dst_run)
{
	char *erel = mlf_escape(rel, 1), *erun = mlf_escape(a->run_id, 0), *path = NULL;
	size_t cap = 3 * 1024 + strlen(rel) * 3;
	FILE *tmp = tmpfile();
	int st = -1;
	long long size;

	if (!erel || !erun || !tmp || !(path = malloc(cap)))
		goto out;
	if (*a->proxied)
		snprintf(path, cap, "/api/2.0/mlflow-artifacts/artifacts/%s/%s", a->proxied, erel);
	else
		snprintf(path, cap, "/get-artifact?run_id=%s&path=%s", erun, erel);
	st = mlf_download(&im->src, path, tmp);
	if (st != 200) {
		imp_fail(im, "artifact '%s' of run %s: download answered %d %s", rel, a->run_id, st, im->src.error);
		st = -1;
		goto out;
	}
	fflush(tmp);
	size = ftell(tmp);
	rewind(tmp);
	snprintf(path, cap, "/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/%s", dst_exp, dst_run, erel);
	st = mlf_upload(&im->dst, path, tmp, size);
	if (st < 200 || st > 299) {
		imp_fail(im, "artifact '%s' of run %s: %s", rel, a->run_id, im->dst.error);
		st = -1;
		goto out;
	}
	im->files++;
	im->bytes += size;
	st = 0;
out:
	if (tmp)
		fclose(tmp);
	free(erel);
	free(erun);
	free(path);
	return st;
}

/* The listing of folder `dir` ("" for the root) on the source. */
static json_t *list_dir(struct imp *im, const struct art_src *a, const char *dir)
{
	char *edir = mlf_escape(dir, 1), *path = malloc(2048 + strlen(dir) * 3);
	size_t cap = 2048 + strlen(dir) * 3;
	json_t *doc = NULL;

	if (!edir || !path) {
		free(edir);
		free(path);
		return NULL;
	}
	if (*a->proxied)
		snprintf(path, cap, "/api/2.0/mlflow-artifacts/artifacts?path=%s%s%s", a->proxied, *dir ? "/" : "",
			 edir);
	else
		snprintf(path, cap, "/api/2.0/mlflow/artifacts/list?run_id=%s%s%s", a->run_id, *dir ? "&path=" : "",
			 edir);
	if (imp_call(im, &im->src, "GET", path, NULL, &doc, "artifact listing") < 0)
		doc = NULL;
	free(edir);
	free(path);
	return doc;
}

static int copy_dir(struct imp *im, const struct art_src *a, const char *dir, const char *dst_exp, const char *dst_run,
		    int depth)
{
	json_t *doc = list_dir(im, a, dir), *f;
	size_t i;
	int rc = doc ? 0 : -1;

	json_array_foreach(doc ? json_object_get(doc, "files") : NULL, i, f)
	{
		const char *p = str(f, "path");
		size_t cap = strlen(dir) + strlen(p) + 2;
		char *rel = malloc(cap);
		if (!rel)
			return -1;
		/* the proxy answers paths relative to the folder; artifacts/list from the run's root */
		if (!*dir || (!strncmp(p, dir, strlen(dir)) && p[strlen(dir)] == '/'))
			snprintf(rel, cap, "%s", p);
		else
			snprintf(rel, cap, "%s/%s", dir, p);
		if (json_is_true(json_object_get(f, "is_dir")))
			rc |= depth < 64 ? copy_dir(im, a, rel, dst_exp, dst_run, depth + 1) : -1;
		else
			rc |= copy_file(im, a, rel, dst_exp, dst_run);
		free(rel);
	}
	json_decref(doc);
	return rc;
}

int imp_artifacts(struct imp *im, const json_t *run, const char *dst_exp, const char *dst_run)
{
	const json_t *info = json_object_get(run, "info");
	const char *uri = str(info, "artifact_uri");
	struct art_src a = { .run_id = str(info, "run_id") };

	if (!strncmp(uri, "mlflow-artifacts:", 17)) {
		uri += 17;
		if (!strncmp(uri, "//", 2) && strchr(uri + 2, '/')) /* mlflow-artifacts://host:port/path */
			uri = strchr(uri + 2, '/');
		while (*uri == '/')
			uri++;
		snprintf(a.proxied, sizeof a.proxied, "%s", uri);
	}
	return copy_dir(im, &a, "", dst_exp, dst_run, 0);
}
