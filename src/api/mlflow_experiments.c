/*
 * mlflow_experiments.c: MLflow's experiments API over projects (an experiment is a project):
 * create, get, get-by-name, search, update (rename), delete (archive), restore and tags.
 *
 * Names: a new experiment is a project named by a slug of its MLflow name (numbered when any
 * project has that name), its MLflow name kept in experiment_name; it lands in the team the
 * tag atrium.team names (the caller's, or any for an admin), else the caller's only team,
 * else none. A name is taken when the caller can see an experiment by it; names in projects
 * the caller cannot see are not: a new project is made, and nothing is said about the
 * others. "Default" (id 0) is the caller's own Default experiment. Native projects are
 * experiments too, named by their project name. Not here: access (the route table and
 * access.c decide it from experiment_id), runs (mlflow_runs.c).
 */
#include "mlflow.h"
#include "atrium/mlflow_query.h"
#include "atrium/page.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 500
#define SEARCH_DEFAULT 1000
#define SEARCH_MAX 50000

static const struct atr_field kv_item[] = {
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, 0, 0, 5000, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_exp_create_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, NAME_MAX_BYTES, NULL, NULL },
	{ "artifact_location", ATR_F_STRING, 0, 0, 2048, NULL, NULL },
	{ "tags", ATR_F_ARRAY, 0, 0, 1000, NULL, kv_item },
	{ 0 },
};

const struct atr_field api_mlflow_exp_search_schema[] = {
	{ "max_results", ATR_F_INT, 0, 1, SEARCH_MAX, NULL, NULL },
	{ "page_token", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "filter", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "order_by", ATR_F_STRLIST, 0, 0, 4, NULL, NULL },
	{ "view_type", ATR_F_INT_OR_STRING, 0, 1, 16, "ACTIVE_ONLY|DELETED_ONLY|ALL|1|2|3", NULL },
	{ 0 },
};

const struct atr_field api_mlflow_exp_id_schema[] = {
	{ "experiment_id", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 1, 32, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_exp_update_schema[] = {
	{ "experiment_id", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 1, 32, NULL, NULL },
	{ "new_name", ATR_F_STRING, ATR_FF_REQUIRED, 1, NAME_MAX_BYTES, NULL, NULL },
	{ 0 },
};

const struct atr_field api_mlflow_exp_tag_schema[] = {
	{ "experiment_id", ATR_F_INT_OR_STRING, ATR_FF_REQUIRED, 1, 32, NULL, NULL },
	{ "key", ATR_F_STRING, ATR_FF_REQUIRED, 1, 250, NULL, NULL },
	{ "value", ATR_F_STRING, ATR_FF_REQUIRED, 0, 5000, NULL, NULL },
	{ 0 },
};

const struct atr_qparam api_mlflow_exp_get_query[] = {
	{ "experiment_id", ATR_Q_STRING, ATR_QF_REQUIRED, 1, 32, 0, NULL, "the experiment's id (\"0\": Default)" },
	{ 0 },
};

const struct atr_qparam api_mlflow_exp_by_name_query[] = {
	{ "experiment_name", ATR_Q_STRING, ATR_QF_REQUIRED, 1, NAME_MAX_BYTES, 0, NULL, "the experiment's name" },
	{ 0 },
};

const struct atr_qparam api_mlflow_exp_search_query[] = {
	{ "max_results", ATR_Q_INT, 0, 1, SEARCH_MAX, SEARCH_DEFAULT, NULL, "experiments per page" },
	{ "page_token", ATR_Q_STRING, 0, 0, 4096, 0, NULL, "the next_page_token of the previous page" },
	{ "filter", ATR_Q_STRING, 0, 0, 4096, 0, NULL, "MLflow's filter: name LIKE 'x%' AND tags.k = 'v'" },
	{ "order_by", ATR_Q_STRING, 0, 0, 512, 0, NULL, "name, experiment_id, creation_time, last_update_time" },
	{ "view_type", ATR_Q_ENUM, 0, 0, 0, 0, "ACTIVE_ONLY|DELETED_ONLY|ALL|1|2|3", "active, deleted or all" },
	{ 0 },
};

/* ---- the experiment object ---- */

static json_t *experiment_json(const struct atr_experiment *e)
{
	json_t *tags = json_array(), *o;
	const char *k;
	json_t *v;
	char id[24], loc[48];

	json_object_foreach(e->tags, k, v)
	{
		const char *val = json_string_value(v);
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key", k, "value", val ? val : ""));
	}
	snprintf(id, sizeof(id), "%lld", (long long)e->id);
	snprintf(loc, sizeof(loc), "mlflow-artifacts:/%lld", (long long)e->id);
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "experiment_id", id, "name", e->name, "artifact_location",
		      loc, "lifecycle_stage", e->deleted ? "deleted" : "active", "last_update_time",
		      (json_int_t)e->updated, "creation_time", (json_int_t)e->created, "tags",
		      tags ? tags : json_array());
	return o;
}

static int64_t viewer(struct atr_req *r)
{
	return atr_req_who(r)->kind == ATR_P_USER ? atr_req_who(r)->user_id : 0;
}

/* Answers {"experiment": ...} for the project id. */
static void reply_experiment(struct atr_req *r, int64_t id)
{
	struct atr_experiment e;
	json_t *o;
	int rc = atr_store_experiment_get(STORE(r), id, viewer(r), &e);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read experiment %lld", (long long)id);
		return;
	}
	o = experiment_json(&e);
	atr_experiment_release(&e);
	if (!o) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:o}", "experiment", o));
}

/* ---- create ---- */

/* The team of a new experiment: the tag atrium.team (a team the caller is in, any for an
 * admin), else the caller's only team, else none (0). -1 when answered. */
static int team_or_reply(struct atr_req *r, const json_t *tags, int64_t *team)
{
	const struct atr_principal *who = atr_req_who(r);
	const char *name = NULL;
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t)
	{
		if (strcmp(atr_json_str(t, "key", ""), "atrium.team") == 0)
			name = atr_json_str(t, "value", "");
	}
	*team = 0;
	if (!name) {
		*team = atr_store_user_only_team(STORE(r), who->user_id);
		return 0;
	}
	if (atr_store_team_id(STORE(r), name, team) < 0) {
		atr_reply_invalid(r, "tags", "team '%s' (the tag atrium.team) does not exist", name);
		return -1;
	}
	if (!who->admin && !atr_store_team_role(STORE(r), *team, who->user_id)) {
		atr_reply_forbidden(r, "tags", "you are not a member of team '%s' (the tag atrium.team)", name);
		return -1;
	}
	return 0;
}

/* The tags array [{key, value}] as an object. */
static json_t *tag_object(const json_t *tags)
{
	json_t *o = json_object(), *t;
	size_t i;

	json_array_foreach(tags, i, t)
	{
		if (o &&
		    json_object_set_new(o, atr_json_str(t, "key", ""), json_string(atr_json_str(t, "value", ""))) < 0)
			break;
	}
	return o;
}

/* An experiment the caller sees by that name (its own Default for "Default"): 0 and *id. */
static int visible_by_name(struct atr_req *r, const char *name, int64_t *id)
{
	const struct atr_principal *who = atr_req_who(r);
	struct atr_project p;
	int rc;

	if (who->kind == ATR_P_JOB) {
		rc = atr_store_project_get(STORE(r), who->project_id, &p);
		if (rc == 0) {
			struct atr_experiment e;
			rc = atr_store_experiment_get(STORE(r), p.id, 0, &e);
			if (rc == 0 && strcmp(e.name, name) != 0)
				rc = ATR_ENOTFOUND;
			atr_experiment_release(&e);
		}
	} else if (strcmp(name, "Default") == 0) {
		rc = atr_store_project_default(STORE(r), who->user_id, who->username, &p);
	} else {
		rc = atr_store_experiment_find(STORE(r), name, who->user_id, who->admin, &p);
	}
	*id = rc == 0 ? p.id : 0;
	return rc;
}

static int create(struct atr_req *r, const char *name, int64_t team, const json_t *tags, int64_t *id)
{
	int rc = atr_store_begin(STORE(r));

	if (rc < 0)
		return rc;
	rc = atr_store_experiment_create(STORE(r), name, team, atr_req_who(r)->user_id, 0, id);
	if (rc == 0 && json_object_size(tags))
		rc = atr_store_experiment_set_tags(STORE(r), *id, tags);
	if (rc == 0)
		return atr_store_commit(STORE(r));
	atr_store_rollback(STORE(r));
	return rc;
}

void api_mlflow_experiments_create(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	const char *name = atr_json_str(body, "name", "");
	json_t *tags = NULL;
	int64_t team, id;
	char out[64];
	int rc;

	if (visible_by_name(r, name, &id) == 0) {
		atr_reply_conflict(r, "name", "Experiment(name=%s) already exists.", name);
		return;
	}
	if (team_or_reply(r, json_object_get(body, "tags"), &team) < 0)
		return;
	if (!(tags = tag_object(json_object_get(body, "tags")))) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	rc = create(r, name, team, tags, &id);
	json_decref(tags);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not create experiment '%s'", name);
		return;
	}
	atr_req_audit_object(r, "project:%lld", (long long)id);
	snprintf(out, sizeof(out), "{\"experiment_id\":\"%lld\"}", (long long)id);
	atr_reply_data(r, 200, "application/json; charset=utf-8", out, strlen(out));
}

/* ---- reads ---- */

void api_mlflow_experiments_get(struct atr_req *r)
{
	reply_experiment(r, RES(r)->project.id);
}

void api_mlflow_experiments_get_by_name(struct atr_req *r)
{
	const char *name = atr_req_query(r, "experiment_name");
	int64_t id;
	int rc = visible_by_name(r, name ? name : "", &id);

	if (rc == ATR_ENOTFOUND) {
		atr_reply_not_found(r, NULL, "Could not find experiment with name '%s'", name ? name : "");
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read experiment '%s'", name ? name : "");
		return;
	}
	reply_experiment(r, id);
}

/* ---- search ---- */

struct search_args {
	int64_t max;
	const char *token, *filter, *view;
	const char *order[ATR_RQ_MAX_ORDER];
	size_t norder;
};

/* What a POST body or a GET query asks. -1 when answered. */
static int search_args(struct atr_req *r, struct search_args *a)
{
	const json_t *body = atr_req_body(r), *v;
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!body) {
		a->max = atr_req_qint(r, "max_results");
		a->token = atr_req_query(r, "page_token");
		a->filter = atr_req_query(r, "filter");
		a->view = atr_req_query(r, "view_type");
		if ((a->order[0] = atr_req_query(r, "order_by")) && *a->order[0])
			a->norder = 1;
		return 0;
	}
	a->max = atr_json_int(body, "max_results", SEARCH_DEFAULT);
	a->token = atr_json_str(body, "page_token", NULL);
	a->filter = atr_json_str(body, "filter", NULL);
	v = json_object_get(body, "view_type");
	a->view = json_is_string(v) ? json_string_value(v) : NULL;
	if (json_is_integer(v)) {
		static const char *const names[] = { "ACTIVE_ONLY", "DELETED_ONLY", "ALL" };
		if (json_integer_value(v) < 1 || json_integer_value(v) > 3) {
			atr_reply_invalid(r, "view_type",
					  "'view_type' is ACTIVE_ONLY (1), DELETED_ONLY (2) or ALL (3)");
			return -1;
		}
		a->view = names[json_integer_value(v) - 1];
	}
	json_array_foreach(json_object_get(body, "order_by"), i, v)
	{
		a->order[a->norder++] = json_string_value(v);
	}
	return 0;
}

static enum atr_run_view view_of(const char *v)
{
	if (v && (strcmp(v, "DELETED_ONLY") == 0 || strcmp(v, "2") == 0))
		return ATR_RUN_VIEW_DELETED;
	if (v && (strcmp(v, "ALL") == 0 || strcmp(v, "3") == 0))
		return ATR_RUN_VIEW_ALL;
	return ATR_RUN_VIEW_ACTIVE;
}

/* The filter and order_by into q (text copied: q points into it). -1 when answered. */
static int exp_query_or_reply(struct atr_req *r, const struct search_args *a, struct atr_mlq_exp *q)
{
	char msg[300], *text;

	atr_mlq_exp_init(q);
	if (a->filter && *a->filter) {
		if (!(text = atr_req_strdup(r, a->filter))) {
			atr_reply_nomem(r, NULL, "out of memory");
			return -1;
		}
		if (atr_mlq_parse_exp_filter(text, q, msg, sizeof(msg)) < 0) {
			atr_reply_invalid(r, "filter", "%s", msg);
			return -1;
		}
	}
	for (size_t i = 0; i < a->norder; i++) {
		if (!(text = atr_req_strdup(r, a->order[i]))) {
			atr_reply_nomem(r, NULL, "out of memory");
			return -1;
		}
		if (atr_mlq_parse_exp_order(text, q, msg, sizeof(msg)) < 0) {
			atr_reply_invalid(r, "order_by", "%s", msg);
			return -1;
		}
	}
	atr_mlq_exp_order_done(q);
	return 0;
}

static struct atr_mlq_exp_row row_of(const struct atr_experiment *e)
{
	struct atr_mlq_exp_row row = { e->id, e->name, e->created, e->updated, e->tags };
	return row;
}

/* A stable merge sort of the matching experiments (pointers) in the query's order. */
static void sort(const struct atr_mlq_exp *q, struct atr_experiment **v, struct atr_experiment **tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, k = 0;

	if (n < 2)
		return;
	sort(q, v, tmp, h);
	sort(q, v + h, tmp, n - h);
	while (i < h || j < n) {
		bool left = j >= n;
		if (i < h && j < n) {
			struct atr_mlq_exp_row a = row_of(v[i]), b = row_of(v[j]);
			left = atr_mlq_exp_compare(q, &a, &b) <= 0;
		}
		tmp[k++] = left ? v[i++] : v[j++];
	}
	memcpy(v, tmp, n * sizeof(*v));
}

/* {"experiments": [page], "next_page_token"} from offset. */
static void reply_page(struct atr_req *r, struct atr_experiment **v, size_t n, int64_t offset, int64_t max)
{
	json_t *o = json_object(), *items = json_array();
	char *token = NULL;

	for (int64_t i = offset; o && items && i < (int64_t)n && i < offset + max; i++)
		json_array_append_new(items, experiment_json(v[i]));
	if (offset + max < (int64_t)n) {
		json_t *c = json_pack("[I]", (json_int_t)(offset + max));
		token = c ? api_mlflow_token(c) : NULL;
		json_decref(c);
	}
	if (!o || !items) {
		json_decref(o);
		json_decref(items);
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	json_object_set_new(o, "experiments", items);
	if (token)
		json_object_set_new(o, "next_page_token", json_string(token));
	free(token);
	atr_reply_json(r, 200, o);
}

/* The offset a page token carries (0: none). -1 when answered. */
static int64_t offset_or_reply(struct atr_req *r, const char *token)
{
	json_t *c;
	int64_t off;

	if (!token || !*token)
		return 0;
	if (!(c = api_mlflow_token_or_reply(r, token)))
		return -1;
	off = json_integer_value(json_array_get(c, 0));
	if (json_array_size(c) != 1 || off < 0) {
		json_decref(c);
		atr_reply_invalid(r, "page_token", "'page_token' is not a page token of this search");
		return -1;
	}
	json_decref(c);
	return off;
}

void api_mlflow_experiments_search(struct atr_req *r)
{
	const struct atr_principal *who = atr_req_who(r);
	struct atr_experiment *all = NULL, **hits, **tmp;
	struct search_args a;
	struct atr_mlq_exp q;
	size_t n = 0, m = 0;
	int64_t offset;
	int rc;

	if (search_args(r, &a) < 0 || exp_query_or_reply(r, &a, &q) < 0 || (offset = offset_or_reply(r, a.token)) < 0)
		return;
	rc = atr_store_experiments_visible(STORE(r), who->kind == ATR_P_USER ? who->user_id : 0, who->admin,
					   who->kind == ATR_P_JOB ? who->project_id : 0, view_of(a.view), &all, &n);
	hits = rc == 0 ? atr_req_alloc(r, (n + 1) * sizeof(*hits)) : NULL;
	tmp = hits ? atr_req_alloc(r, (n + 1) * sizeof(*tmp)) : NULL;
	if (!tmp) {
		atr_experiments_free(all, n);
		atr_reply_err(r, rc < 0 ? rc : ATR_ENOMEM, NULL, "could not list experiments");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct atr_mlq_exp_row row = row_of(&all[i]);
		if (atr_mlq_exp_match(&q, &row))
			hits[m++] = &all[i];
	}
	sort(&q, hits, tmp, m);
	reply_page(r, hits, m, offset, a.max > 0 ? a.max : SEARCH_DEFAULT);
	atr_experiments_free(all, n);
}

/* ---- writes ---- */

void api_mlflow_experiments_update(struct atr_req *r)
{
	const char *name = atr_json_str(atr_req_body(r), "new_name", "");
	int64_t id = RES(r)->project.id, other;
	int rc;

	if (visible_by_name(r, name, &other) == 0 && other != id) {
		atr_reply_conflict(r, "new_name", "Experiment(name=%s) already exists.", name);
		return;
	}
	if ((rc = atr_store_experiment_rename(STORE(r), id, name)) < 0) {
		atr_reply_err(r, rc, NULL, "could not rename experiment %lld", (long long)id);
		return;
	}
	atr_reply_data(r, 200, "application/json; charset=utf-8", "{}", 2);
}

void api_mlflow_experiments_delete(struct atr_req *r)
{
	const struct atr_principal *who = atr_req_who(r);
	struct atr_project def;
	int rc;

	if (who->kind == ATR_P_USER && atr_store_project_default(STORE(r), who->user_id, who->username, &def) == 0 &&
	    def.id == RES(r)->project.id) {
		atr_reply_invalid(r, "experiment_id", "Cannot delete the default experiment '0'");
		return;
	}
	if ((rc = atr_store_project_archive(STORE(r), RES(r)->project.id)) < 0) {
		atr_reply_err(r, rc, NULL, "could not delete experiment %lld", (long long)RES(r)->project.id);
		return;
	}
	atr_reply_data(r, 200, "application/json; charset=utf-8", "{}", 2);
}

void api_mlflow_experiments_restore(struct atr_req *r)
{
	int rc = atr_store_project_restore(STORE(r), RES(r)->project.id);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not restore experiment %lld", (long long)RES(r)->project.id);
		return;
	}
	atr_reply_data(r, 200, "application/json; charset=utf-8", "{}", 2);
}

void api_mlflow_experiments_set_tag(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	json_t *tags = json_pack("{s:s}", atr_json_str(body, "key", ""), atr_json_str(body, "value", ""));
	int rc = tags ? atr_store_experiment_set_tags(STORE(r), RES(r)->project.id, tags) : ATR_ENOMEM;

	json_decref(tags);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not tag experiment %lld", (long long)RES(r)->project.id);
		return;
	}
	atr_reply_data(r, 200, "application/json; charset=utf-8", "{}", 2);
}
