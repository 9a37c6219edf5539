/*
 * import_models.c: the registry: registered models (description, tags) with their versions
 * (source, run, description, tags, stage) and aliases. A version's source pointing into an
 * imported run (runs:/<run>/<path>, mlflow-artifacts:/.../<run>/artifacts/<path>) becomes
 * runs:/<Atrium run>/<path>, so Atrium makes the version from the copied files. Re-runnable:
 * each copied version carries the tag atrium.import.source_version (its source version), and
 * versions already carrying it are skipped. With --experiment, only models with a version of a
 * run of those experiments are copied. A new model goes into the project of its first
 * version's run (the tag atrium.project Atrium's registry reads).
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int by_version(const void *a, const void *b)
{
	long long x = strtoll(str(*(json_t *const *)a, "version"), NULL, 10),
		  y = strtoll(str(*(json_t *const *)b, "version"), NULL, 10);
	return (x > y) - (x < y);
}

/* Every version of `name` on ep, oldest first (an array, owned by the caller), or NULL. */
static json_t *versions_of(struct imp *im, struct mlf_ep *ep, const char *name)
{
	char filter[1100], *ef, *token = NULL, path[4096];
	json_t *all = json_array(), **v;

	/* MLflow's filter grammar has no escape inside a quoted string: quote with the other mark */
	if (strchr(name, '\'') && strchr(name, '"')) {
		imp_fail(im, "registered model '%s': a name holding both quote marks cannot be searched in MLflow",
			 name);
		json_decref(all);
		return NULL;
	}
	if (strchr(name, '\''))
		snprintf(filter, sizeof filter, "name=\"%s\"", name);
	else
		snprintf(filter, sizeof filter, "name='%s'", name);
	ef = mlf_escape(filter, 0);
	do {
		json_t *doc = NULL;
		char *et = token ? mlf_escape(token, 0) : NULL;
		snprintf(path, sizeof path, "/api/2.0/mlflow/model-versions/search?filter=%s&max_results=1000%s%s", ef,
			 et ? "&page_token=" : "", et ? et : "");
		free(et);
		free(token);
		token = NULL;
		if (imp_call(im, ep, "GET", path, NULL, &doc, "model-versions/search") < 0) {
			json_decref(all);
			all = NULL;
			break;
		}
		json_array_extend(all, json_object_get(doc, "model_versions"));
		if (*str(doc, "next_page_token"))
			token = strdup(str(doc, "next_page_token"));
		json_decref(doc);
	} while (token);
	free(ef);
	if (all && json_array_size(all) > 1) {
		size_t n = json_array_size(all);
		if (!(v = malloc(n * sizeof *v))) {
			json_decref(all);
			return NULL;
		}
		for (size_t i = 0; i < n; i++)
			v[i] = json_incref(json_array_get(all, i));
		qsort(v, n, sizeof *v, by_version);
		json_array_clear(all);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(all, v[i]);
		free(v);
	}
	return all;
}

/* Whether some version's run was imported (the --experiment selection). */
static bool any_imported(const struct imp *im, const json_t *versions)
{
	const json_t *v;
	size_t i;

	json_array_foreach(versions, i, v)
	{
		if (json_object_get(im->run_map, str(v, "run_id")))
			return true;
	}
	return false;
}

/* The source of the Atrium version: runs:/<Atrium run>/<path> when it is in an imported run. */
static void version_source(const struct imp *im, const json_t *v, char *out, size_t cap, const char **dst_run)
{
	const char *rid = str(v, "run_id"), *src = str(v, "source"), *rest = NULL, *p;

	*dst_run = json_string_value(json_object_get(im->run_map, rid));
	if (!*dst_run || !*rid) {
		snprintf(out, cap, "%s", src);
		return;
	}
	if (!strncmp(src, "runs:/", 6) && !strncmp(src + 6, rid, strlen(rid)))
		rest = src + 6 + strlen(rid);
	else if ((p = strstr(src, rid)) && !strncmp(p + strlen(rid), "/artifacts", 10))
		rest = p + strlen(rid) + 10;
	while (rest && *rest == '/')
		rest++;
	snprintf(out, cap, "runs:/%s%s%s", *dst_run, rest && *rest ? "/" : "", rest ? rest : "");
}

/* One version into Atrium; its new number goes into map[source version]. */
static void copy_version(struct imp *im, const char *name, const json_t *v, json_t *map)
{
	char source[4096];
	const char *dst_run, *stage = str(v, "current_stage");
	json_t *tags = json_array(), *t, *body, *doc = NULL;
	size_t i;

	version_source(im, v, source, sizeof source, &dst_run);
	json_array_foreach(json_object_get(v, "tags"), i, t)
	{
		if (strcmp(str(t, "key"), IMP_SOURCE_VERSION_TAG) != 0)
			json_array_append(tags, t);
	}
	json_array_append_new(tags, json_pack("{s:s, s:s}", "key", IMP_SOURCE_VERSION_TAG, "value", str(v, "version")));
	body = json_pack("{s:s, s:s, s:s, s:o}", "name", name, "source", source, "description", str(v, "description"),
			 "tags", tags);
	if (dst_run)
		json_object_set_new(body, "run_id", json_string(dst_run));
	int rc = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/model-versions/create", body, &doc, name);
	json_decref(body);
	if (rc < 0)
		return;
	const char *num = str(json_object_get(doc, "model_version"), "version");
	printf("  model '%s' version %s -> version %s\n", name, str(v, "version"), num);
	json_object_set_new(map, str(v, "version"), json_string(num));
	im->versions_new++;
	if (*stage && strcmp(stage, "None") != 0) {
		body = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "version", num, "stage", stage,
				 "archive_existing_versions", 0);
		imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/model-versions/transition-stage", body, NULL,
			 "stage of a model version");
		json_decref(body);
	}
	json_decref(doc);
}

/* The model in Atrium: 1 there already, 0 made now (or would be, in a dry run), -1 failed. */
static int dst_model(struct imp *im, const json_t *m, const json_t *versions)
{
	const char *name = str(m, "name"), *exp = NULL;
	char *en = mlf_escape(name, 0), path[1024];
	json_t *doc = NULL, *tags, *t, *body;
	size_t i;
	int st;

	snprintf(path, sizeof path, "/api/2.0/mlflow/registered-models/get?name=%s", en);
	free(en);
	st = mlf_json(&im->dst, "GET", path, NULL, &doc);
	json_decref(doc);
	if (st == 200)
		return 1;
	if (st != 404) {
		imp_fail(im, "registered model '%s': %s", name, im->dst.error);
		return -1;
	}
	printf("registered model '%s': %s (%zu versions)\n", name, im->dry_run ? "would copy" : "copying",
	       json_array_size(versions));
	if (im->dry_run)
		return 0;
	tags = json_deep_copy(json_object_get(m, "tags"));
	if (!tags)
		tags = json_array();
	json_array_foreach(versions, i, t)
	{
		if (!exp)
			exp = json_string_value(json_object_get(im->run_exp, str(t, "run_id")));
	}
	if (exp)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key", "atrium.project", "value", exp));
	body = json_pack("{s:s, s:s, s:o}", "name", name, "description", str(m, "description"), "tags", tags);
	st = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/registered-models/create", body, NULL, name);
	json_decref(body);
	return st;
}

/* Versions that an earlier import copied: source version -> Atrium version. */
static json_t *copied_versions(struct imp *im, const char *name)
{
	json_t *map = json_object(), *have = versions_of(im, &im->dst, name), *v, *t;
	size_t i, j;

	json_array_foreach(have, i, v)
	{
		json_array_foreach(json_object_get(v, "tags"), j, t)
		{
			if (!strcmp(str(t, "key"), IMP_SOURCE_VERSION_TAG))
				json_object_set_new(map, str(t, "value"), json_string(str(v, "version")));
		}
	}
	json_decref(have);
	return map;
}

static void set_aliases(struct imp *im, const json_t *m, const json_t *map)
{
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(m, "aliases"), i, a)
	{
		const char *to = json_string_value(json_object_get(map, str(a, "version")));
		if (!to) {
			imp_fail(im, "alias '%s' of '%s': version %s was not copied", str(a, "alias"), str(m, "name"),
				 str(a, "version"));
			continue;
		}
		json_t *body =
			json_pack("{s:s, s:s, s:s}", "name", str(m, "name"), "alias", str(a, "alias"), "version", to);
		if (imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/registered-models/alias", body, NULL, "alias") == 0)
			im->aliases++;
		json_decref(body);
	}
}

static void import_model(struct imp *im, const json_t *m)
{
	const char *name = str(m, "name");
	json_t *versions = versions_of(im, &im->src, name), *map, *v;
	size_t i;
	int there;

	if (!versions || (im->n_experiments && !any_imported(im, versions))) {
		json_decref(versions);
		return;
	}
	there = dst_model(im, m, versions);
	if (there < 0 || (there == 0 && im->dry_run)) {
		im->models_new += there == 0;
		im->versions_new += there == 0 ? (long)json_array_size(versions) : 0;
		json_decref(versions);
		return;
	}
	im->models_new += there == 0;
	im->models_seen += there == 1;
	map = copied_versions(im, name);
	json_array_foreach(versions, i, v)
	{
		if (json_object_get(map, str(v, "version")))
			im->versions_seen++;
		else if (im->dry_run)
			im->versions_new++;
		else
			copy_version(im, name, v, map);
	}
	if (!im->dry_run)
		set_aliases(im, m, map);
	json_decref(map);
	json_decref(versions);
}

int imp_models(struct imp *im)
{
	char *token = NULL, path[4096];

	do {
		json_t *doc = NULL, *m;
		size_t i;
		char *et = token ? mlf_escape(token, 0) : NULL;
		snprintf(path, sizeof path, "/api/2.0/mlflow/registered-models/search?max_results=1000%s%s",
			 et ? "&page_token=" : "", et ? et : "");
		free(et);
		free(token);
		token = NULL;
		if (imp_call(im, &im->src, "GET", path, NULL, &doc, "registered-models/search on the MLflow server") <
		    0)
			return -1;
		json_array_foreach(json_object_get(doc, "registered_models"), i, m) import_model(im, m);
		if (*str(doc, "next_page_token"))
			token = strdup(str(doc, "next_page_token"));
		json_decref(doc);
	} while (token);
	return 0;
}
