/*
 * templates.c: project templates and the catalogue (issue 20). An owner publishes a project as
 * a template (PUT .../template: its README and the datasets and models it references); admins
 * feature projects; GET /api/v1/templates is the catalogue (templates, which every signed-in
 * user sees, and featured projects the caller may read), searchable by words. Creating a
 * project from a template (POST /api/v1/projects, from_template) is projects.c's, with the
 * copy made by the store (atr_store_template_copy: structure, never data).
 */
#include "templates.h"
#include "atrium/store_datasets.h"
#include "atrium/store_models.h"
#include "atrium/store_search.h"
#include "atrium/store_templates.h"

#include <stdio.h>

const struct atr_field api_template_publish_schema[] = {
	{ "readme", ATR_F_STRING, 0, 0, 65536, NULL, NULL },
	{ "datasets", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ "models", ATR_F_STRLIST, 0, 0, 64, NULL, NULL },
	{ 0 },
};

const struct atr_field api_project_feature_schema[] = {
	{ "featured", ATR_F_BOOL, ATR_FF_REQUIRED, 0, 0, NULL, NULL },
	{ 0 },
};

const struct atr_qparam api_templates_list_query[] = {
	ATR_Q_PAGE,
	{ "q", ATR_Q_STRING, 0, 1, 256, 0, NULL, "words found in the name, description or README" },
	{ 0 },
};

static void reply_template(struct atr_req *r, int64_t project_id)
{
	int rc;
	json_t *j = atr_store_template_json(STORE(r), project_id, &rc);

	if (!j) {
		atr_reply_err(r, rc, NULL, "could not read the template");
		return;
	}
	atr_reply_json(r, 200, j);
}

static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_template_list(STORE(r), atr_req_who(r)->user_id, atr_req_who(r)->admin, arg, p, arr, more);
}

/* ?q= goes through the existing search's quoting (atrium/store_search.h): words, prefixes. */
void api_templates_list(struct atr_req *r)
{
	const char *q = atr_req_query(r, "q");
	char expr[1024];

	if (q && atr_search_expr(q, expr, sizeof(expr)) < 0) {
		atr_reply_invalid(r, "q", "'q' must hold 1 to %d words, at most 256 bytes in all",
				  ATR_SEARCH_MAX_TERMS);
		return;
	}
	api_reply_list_cb(r, list_cb, q ? expr : NULL, "templates");
}

void api_templates_get(struct atr_req *r)
{
	reply_template(r, RES(r)->project.id);
}

/* The ids of the names in the body's list key (datasets or models of the project). */
static int refs_or_reply(struct atr_req *r, const char *key, int64_t *ids, size_t *n)
{
	const json_t *names = json_object_get(atr_req_body(r), key), *it;
	size_t i;

	*n = 0;
	json_array_foreach(names, i, it)
	{
		struct atr_model m;
		const char *name = json_string_value(it);
		int rc = key[0] == 'd' ? atr_store_dataset_find(STORE(r), RES(r)->project.id, name, &ids[i])
				       : atr_store_model_find(STORE(r), RES(r)->project.id, name, &m);
		char field[32];

		if (rc < 0) {
			snprintf(field, sizeof(field), "%s[%zu]", key, i);
			atr_reply_invalid(r, atr_req_strdup(r, field), "%s '%s' does not exist in project '%s'",
					  key[0] == 'd' ? "dataset" : "model", name, RES(r)->project.name);
			return -1;
		}
		if (key[0] == 'm')
			ids[i] = m.id;
		*n = i + 1;
	}
	return 0;
}

void api_templates_publish(struct atr_req *r)
{
	int64_t datasets[64], models[64];
	size_t nd, nm;
	int rc;

	if (refs_or_reply(r, "datasets", datasets, &nd) < 0 || refs_or_reply(r, "models", models, &nm) < 0)
		return;
	rc = atr_store_template_publish(STORE(r), RES(r)->project.id, atr_json_str(atr_req_body(r), "readme", ""),
					datasets, nd, models, nm);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not publish the template");
		return;
	}
	reply_template(r, RES(r)->project.id);
}

void api_templates_unpublish(struct atr_req *r)
{
	int rc = atr_store_template_unpublish(STORE(r), RES(r)->project.id);

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not unpublish the template");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_projects_feature(struct atr_req *r)
{
	int rc = atr_store_project_feature(STORE(r), RES(r)->project.id,
					   json_is_true(json_object_get(atr_req_body(r), "featured")));

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not feature the project");
		return;
	}
	reply_template(r, RES(r)->project.id);
}

int64_t api_template_or_reply(struct atr_req *r)
{
	const char *ref = atr_json_str(atr_req_body(r), "from_template", NULL);
	int64_t id;
	int rc;

	if (!ref)
		return 0;
	rc = atr_store_template_find(STORE(r), ref, &id);
	if (rc == 0)
		return id;
	if (rc == ATR_ENOTFOUND)
		atr_reply_invalid(r, "from_template", "no published template is called '%s'", ref);
	else
		atr_reply_err(r, rc, NULL, "could not read template '%s'", ref);
	return -1;
}
