/*
 * clusters.c: Slurm clusters (POST/GET/PATCH/DELETE /api/v1/clusters): admins register a
 * slurmrestd endpoint, how Atrium authenticates there (a JWT file, or the HS256 key Atrium
 * mints short-lived JWTs from: only the file's path is kept, and it is never returned), the
 * user jobs run as, partitions, account, QOS, GRES name, the shared directory and the cap on
 * jobs in flight. Users list them (to name one in a job's "cluster"). The backend that runs
 * the jobs is src/dispatch/slurm.c; this file only validates and stores.
 */
#include "api.h"
#include "atrium/cluster_link.h"
#include "atrium/engine.h"
#include "atrium/slurm.h"
#include "atrium/store_clusters.h"
#include "atrium/util.h"

#include <string.h>

#define CLUSTER_FIELDS(req)                                                                                            \
	{ "url", ATR_F_URL, req, 1, 500, NULL, NULL },                                                                 \
		{ "auth", ATR_F_STRING, req, 0, 0, "token_file|jwt_key", NULL },                                       \
		{ "secret_path", ATR_F_STRING, req, 2, 1000, NULL, NULL },                                             \
		{ "user", ATR_F_NAME, req, 1, 63, NULL, NULL }, { "partitions", ATR_F_STRLIST, 0, 0, 32, NULL, NULL }, \
		{ "account", ATR_F_STRING, 0, 0, 63, NULL, NULL }, { "qos", ATR_F_STRING, 0, 0, 63, NULL, NULL },      \
		{ "gres", ATR_F_NAME, 0, 1, 31, NULL, NULL },                                                          \
		{ "shared_dir", ATR_F_STRING, req, 2, 1000, NULL, NULL },                                              \
	{                                                                                                              \
		"max_jobs", ATR_F_INT, 0, 1, 100000, NULL, NULL                                                        \
	}

/* What the staging GC keeps (src/dispatch/slurm_gc.c): blobs nobody used for keep_s go. */
static const struct atr_field staging_schema[] = {
	{ "keep_s", ATR_F_INT, 0, 0, 3650 * 86400, NULL, NULL }, /* (up to ten years) */
	{ 0 },
};

const struct atr_field api_cluster_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ "kind", ATR_F_STRING, 0, 0, 0, "slurm", NULL },
	CLUSTER_FIELDS(ATR_FF_REQUIRED),
	{ "staging", ATR_F_OBJECT, 0, 0, 0, NULL, staging_schema },
	{ 0 },
};

const struct atr_field api_cluster_patch_schema[] = {
	CLUSTER_FIELDS(0),
	{ "staging", ATR_F_OBJECT, 0, 0, 0, NULL, staging_schema },
	{ 0 },
};

static void copy_field(const json_t *body, const char *name, char *dst, size_t len)
{
	const char *v = atr_json_str(body, name, NULL);
	if (v)
		atr_copy(dst, len, v);
}

/* The body's settings over c; 0, or answered 400 naming the field. */
static int settings_or_reply(struct atr_req *r, struct atr_cluster *c)
{
	const json_t *b = atr_req_body(r), *parts = json_object_get(b, "partitions");
	const char *paths[] = { "secret_path", "shared_dir" };

	copy_field(b, "url", c->url, sizeof(c->url));
	copy_field(b, "auth", c->auth, sizeof(c->auth));
	copy_field(b, "secret_path", c->secret_path, sizeof(c->secret_path));
	copy_field(b, "user", c->user, sizeof(c->user));
	copy_field(b, "account", c->account, sizeof(c->account));
	copy_field(b, "qos", c->qos, sizeof(c->qos));
	copy_field(b, "gres", c->gres, sizeof(c->gres));
	copy_field(b, "shared_dir", c->shared_dir, sizeof(c->shared_dir));
	if (json_array_size(parts))
		atr_copy(c->partition, sizeof(c->partition), json_string_value(json_array_get(parts, 0)));
	if (json_is_integer(json_object_get(b, "max_jobs")))
		c->max_jobs = json_integer_value(json_object_get(b, "max_jobs"));
	c->staging_keep_s = atr_json_int(json_object_get(b, "staging"), "keep_s", c->staging_keep_s);
	for (size_t i = 0; i < 2; i++) {
		const char *v = i ? c->shared_dir : c->secret_path;
		if (v[0] != '/' || strstr(v, "/../") || strstr(v, "\n")) {
			atr_reply_invalid(r, paths[i], "'%s' must be an absolute path", paths[i]);
			return -1;
		}
	}
	return 0;
}

/* What the dashboard shows beside the settings: Atrium's jobs there by state
 * ("jobs_by_state"), the link to slurmrestd ("slurmrestd", cluster_link.h) and what its
 * shared directory holds ("staging": keep_s, blobs held, the counters). */
static int add_view(struct atr_req *r, json_t *o)
{
	struct atr_cluster c = { .id = json_integer_value(json_object_get(o, "id")),
				 .worker_id = json_integer_value(json_object_get(o, "worker_id")) };
	json_t *counts = json_object();
	int rc;

	atr_copy(c.name, sizeof(c.name), atr_json_str(o, "name", ""));
	if (!counts || (rc = atr_store_cluster_job_counts(STORE(r), &c, counts)) < 0) {
		json_decref(counts);
		return counts ? rc : ATR_ENOMEM;
	}
	json_object_set_new(o, "jobs_by_state", counts);
	atr_cluster_link_json(APP(r)->links, c.id, o);
	return atr_store_staging_json(STORE(r), c.id, o); /* (what its shared directory holds) */
}

static void reply_cluster(struct atr_req *r, unsigned status, int64_t id)
{
	int err;
	json_t *o = atr_store_cluster_json(STORE(r), id, &err);

	if (!o || (err = add_view(r, o)) < 0) {
		json_decref(o);
		atr_reply_err(r, err, NULL, "could not read cluster %lld", (long long)id);
		return;
	}
	atr_reply_json(r, status, o);
}

/* The cluster named by {cluster}, or 404 answered. */
static int cluster_or_reply(struct atr_req *r, struct atr_cluster *c)
{
	const char *ref = atr_req_param(r, "cluster");
	int rc = atr_store_cluster_get(STORE(r), ref, c);

	if (rc == ATR_ENOTFOUND)
		atr_reply_not_found(r, NULL, "cluster '%s' does not exist", ref);
	else if (rc < 0)
		atr_reply_err(r, rc, NULL, "could not read cluster '%s'", ref);
	return rc < 0 ? -1 : 0;
}

void api_clusters_create(struct atr_req *r)
{
	struct atr_cluster c = { .max_jobs = 100, .staging_keep_s = ATR_CLUSTER_KEEP_S_DEFAULT };
	int64_t id;
	int rc;

	atr_copy(c.name, sizeof(c.name), atr_json_str(atr_req_body(r), "name", ""));
	atr_req_audit_object(r, "cluster:%s", c.name);
	if (settings_or_reply(r, &c) < 0)
		return;
	rc = atr_store_cluster_create(STORE(r), &c, json_object_get(atr_req_body(r), "partitions"), &id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, "name", "cluster '%s' already exists", c.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create cluster '%s'", c.name);
		return;
	}
	if (atr_store_cluster_get_id(STORE(r), id, &c) == 0)
		atr_engine_worker_changed(APP(r)->engine, c.worker_id, false);
	atr_slurm_cluster_changed(APP(r)->slurm, id);
	reply_cluster(r, 201, id);
}

static int list_all(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	int rc = atr_store_cluster_list(STORE(r), p, arr, more);
	size_t i;
	json_t *o;

	(void)arg;
	json_array_foreach(arr, i, o) if (rc >= 0) rc = add_view(r, o);
	return rc;
}

void api_clusters_list(struct atr_req *r)
{
	api_reply_list_cb(r, list_all, NULL, "clusters");
}

void api_clusters_get(struct atr_req *r)
{
	struct atr_cluster c;

	if (cluster_or_reply(r, &c) == 0)
		reply_cluster(r, 200, c.id);
}

void api_clusters_update(struct atr_req *r)
{
	struct atr_cluster c;
	int rc;

	if (cluster_or_reply(r, &c) < 0)
		return;
	atr_req_audit_object(r, "cluster:%s", c.name);
	if (settings_or_reply(r, &c) < 0)
		return;
	rc = atr_store_cluster_update(STORE(r), &c, json_object_get(atr_req_body(r), "partitions"));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update cluster '%s'", c.name);
		return;
	}
	atr_slurm_cluster_changed(APP(r)->slurm, c.id);
	atr_cluster_link_forget(APP(r)->links, c.id); /* (its URL or credentials may be new) */
	reply_cluster(r, 200, c.id);
}

void api_clusters_delete(struct atr_req *r)
{
	struct atr_cluster c;
	int rc;

	if (cluster_or_reply(r, &c) < 0)
		return;
	atr_req_audit_object(r, "cluster:%s", c.name);
	rc = atr_store_cluster_delete(STORE(r), c.id);
	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL, "cluster '%s' has jobs in flight; cancel them or wait", c.name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete cluster '%s'", c.name);
		return;
	}
	atr_slurm_cluster_changed(APP(r)->slurm, c.id);
	atr_cluster_link_forget(APP(r)->links, c.id);
	atr_engine_worker_gone(APP(r)->engine, c.worker_id, "lost: its cluster was deleted", false);
	atr_reply_empty(r, 204);
}

json_t *api_cluster_labels_or_reply(struct atr_req *r, const json_t *labels, int64_t project_id, int64_t team_id)
{
	const char *name = atr_json_str(atr_req_body(r), "cluster", NULL);
	json_t *out = labels ? json_deep_copy(labels) : json_object();
	struct atr_cluster c;
	char dflt[64];
	int rc;

	if (out && !name) { /* the project's default cluster, else the team's */
		if ((rc = atr_store_cluster_default_for(STORE(r), project_id, team_id, dflt, sizeof(dflt))) < 0) {
			json_decref(out);
			atr_reply_err(r, rc, NULL, "could not read the default cluster");
			return NULL;
		}
		if (dflt[0])
			json_object_set_new(out, ATR_CLUSTER_LABEL, json_string(dflt));
		return out;
	}
	if (!out) {
		if (!out)
			atr_reply_err(r, ATR_ENOMEM, NULL, "out of memory");
		return out;
	}
	if ((rc = atr_store_cluster_get(STORE(r), name, &c)) < 0) {
		json_decref(out);
		if (rc == ATR_ENOTFOUND)
			atr_reply_invalid(r, "cluster", "cluster '%s' does not exist", name);
		else
			atr_reply_err(r, rc, NULL, "could not read cluster '%s'", name);
		return NULL;
	}
	json_object_set_new(out, ATR_CLUSTER_LABEL, json_string(c.name));
	return out;
}

int api_default_cluster_or_reply(struct atr_req *r, int scope, int64_t id)
{
	const json_t *v = json_object_get(atr_req_body(r), "default_cluster");
	struct atr_cluster c = { 0 };
	int rc;

	if (!v)
		return 0;
	if (json_is_string(v) && (rc = atr_store_cluster_get(STORE(r), json_string_value(v), &c)) < 0) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_invalid(r, "default_cluster", "cluster '%s' does not exist", json_string_value(v));
		else
			atr_reply_err(r, rc, NULL, "could not read cluster '%s'", json_string_value(v));
		return -1;
	}
	if ((rc = atr_store_cluster_set_default(STORE(r), (enum atr_cluster_scope)scope, id, c.id)) < 0) {
		atr_reply_err(r, rc, NULL, "could not set the default cluster");
		return -1;
	}
	return 0;
}

void api_default_cluster_json(struct atr_req *r, int scope, int64_t id, json_t *o)
{
	char name[64] = "";

	if (atr_store_cluster_default_of(STORE(r), (enum atr_cluster_scope)scope, id, name, sizeof(name)) == 0 &&
	    name[0])
		json_object_set_new(o, "default_cluster", json_string(name));
	else
		json_object_set_new(o, "default_cluster", json_null());
}
