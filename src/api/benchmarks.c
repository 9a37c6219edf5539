/*
 * benchmarks.c: a project's benchmarks (create, list, get, change, delete) and their
 * leaderboards (JSON or CSV). What a metric is, and whether a set of them can be scored
 * together, the scoring library says (atrium/scoring.h); evaluations are evaluations.c, the
 * gate on a model's production alias benchmarks_gate.c.
 */
#include "api.h"
#include "atrium/artifacts.h"
#include "atrium/buf.h"
#include "atrium/scoring.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct atr_field metric_item_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 31, NULL, NULL },
	{ "average", ATR_F_STRING, 0, 0, 0, "binary|macro|micro|weighted", NULL },
	{ "k", ATR_F_INT, 0, 1, 1000, NULL, NULL },
	{ "pos_label", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ "direction", ATR_F_STRING, 0, 0, 0, "higher|lower", NULL },
	{ 0 },
};

/* A custom metric: computed by the benchmark's scorer (evaluation_scorer.c). */
static const struct atr_field scorer_metric_schema[] = {
	{ "name", ATR_F_NAME, ATR_FF_REQUIRED, 1, 31, NULL, NULL },
	{ "direction", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0, "higher|lower", NULL },
	{ 0 },
};

const struct atr_field api_scorer_schema[] = {
	{ "command", ATR_F_COMMAND, ATR_FF_REQUIRED, 0, 1 << 20, NULL, NULL },
	{ "metrics", ATR_F_ARRAY, ATR_FF_REQUIRED, 1, ATR_BENCH_METRICS_MAX, NULL, scorer_metric_schema },
	{ "resources", ATR_F_OBJECT, 0, 0, 0, NULL, api_job_resources_schema },
	{ "timeout_s", ATR_F_INT, 0, 0, 30LL * 86400, NULL, NULL },
	{ 0 },
};

const struct atr_field api_benchmark_create_schema[] = {
	{ "name", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "dataset", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "version", ATR_F_INT, ATR_FF_REQUIRED, 1, INT32_MAX, NULL, NULL },
	{ "file", ATR_F_STRING, ATR_FF_REQUIRED, 1, 1024, NULL, NULL },
	{ "format", ATR_F_STRING, 0, 0, 0, "csv|jsonl", NULL },
	{ "id_column", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ "label_column", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ "prediction_column", ATR_F_STRING, 0, 1, 255, NULL, NULL },
	{ "metrics", ATR_F_ARRAY, ATR_FF_REQUIRED, 1, ATR_BENCH_METRICS_MAX, NULL, metric_item_schema },
	{ "primary_metric", ATR_F_STRING, 0, 1, 31, NULL, NULL },
	{ "scorer", ATR_F_OBJECT, ATR_FF_NULLABLE, 0, 0, NULL, api_scorer_schema },
	{ 0 },
};

const struct atr_field api_benchmark_patch_schema[] = {
	{ "description", ATR_F_STRING, 0, 0, 4096, NULL, NULL },
	{ "primary_metric", ATR_F_STRING, 0, 1, 31, NULL, NULL },
	{ "scorer", ATR_F_OBJECT, ATR_FF_NULLABLE, 0, 0, NULL, api_scorer_schema },
	{ 0 },
};

/* Metrics with their direction and the scikit-learn call they equal (names in b). */
static json_t *metrics_json(const struct atr_benchmark *b)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < b->n_metrics; i++) {
		const struct atr_scoring_metric *m = atr_scoring_metric_find(b->metrics[i]);
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", b->metrics[i], "direction",
						       m && m->direction == ATR_SCORING_LOWER ? "lower" : "higher",
						       "sklearn", m ? m->sklearn : "")) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

void api_benchmark_reply(struct atr_req *r, unsigned status, int64_t id)
{
	struct atr_benchmark b;
	json_t *o;
	int rc = atr_store_benchmark_get(STORE(r), id, &b);

	o = rc == 0 ? atr_store_benchmark_json(STORE(r), id, &rc) : NULL;
	if (!o) {
		atr_reply_err(r, rc, NULL, "could not read the benchmark");
		return;
	}
	json_object_set_new(o, "metrics", metrics_json(&b));
	json_object_set_new(o, "scorer", api_scorer_json(STORE(r), id));
	atr_reply_json(r, status, o);
}

/* "metrics[i].key", in the request arena (for a 400 naming it). */
static const char *mfield(struct atr_req *r, size_t i, const char *key)
{
	char f[64];
	const char *s;

	snprintf(f, sizeof(f), "metrics[%zu].%s", i, key);
	s = atr_req_strdup(r, f);
	return s ? s : "metrics";
}

/* The effective name of metrics[i] ("f1" with average "macro": "f1_macro") into b, its k and
 * pos_label agreeing with the others'. -1 after a 400 naming the field. */
static int metric_or_reply(struct atr_req *r, size_t i, const json_t *item, struct atr_benchmark *b)
{
	const char *name = atr_json_str(item, "name", ""), *avg = atr_json_str(item, "average", NULL);
	const char *pos = atr_json_str(item, "pos_label", NULL), *dir = atr_json_str(item, "direction", NULL);
	const struct atr_scoring_metric *m;
	char full[40];
	bool averaged = !strcmp(name, "precision") || !strcmp(name, "recall") || !strcmp(name, "f1");

	if (avg && !averaged) {
		atr_reply_invalid(r, mfield(r, i, "average"), "'average' applies to precision, recall and f1 only");
		return -1;
	}
	snprintf(full, sizeof(full), "%s%s%s", name, avg && strcmp(avg, "binary") ? "_" : "",
		 avg && strcmp(avg, "binary") ? avg : "");
	if (!(m = atr_scoring_metric_find(full))) {
		atr_reply_invalid(r, mfield(r, i, "name"), "unknown metric '%s' (see the list in docs/api.md)", full);
		return -1;
	}
	if (dir && strcmp(dir, m->direction == ATR_SCORING_LOWER ? "lower" : "higher")) {
		atr_reply_invalid(r, mfield(r, i, "direction"), "'%s' is better %s", full,
				  m->direction == ATR_SCORING_LOWER ? "lower" : "higher");
		return -1;
	}
	if (atr_json_has(item, "k") && strcmp(full, "top_k_accuracy")) {
		atr_reply_invalid(r, mfield(r, i, "k"), "'k' applies to top_k_accuracy only");
		return -1;
	}
	if (pos && strcmp(full, "precision") && strcmp(full, "recall") && strcmp(full, "f1") &&
	    strcmp(full, "roc_auc")) {
		atr_reply_invalid(r, mfield(r, i, "pos_label"), "'pos_label' applies to the binary metrics only");
		return -1;
	}
	if (pos && b->pos_label[0] && strcmp(pos, b->pos_label)) {
		atr_reply_invalid(r, mfield(r, i, "pos_label"), "every metric of a benchmark has the same 'pos_label'");
		return -1;
	}
	if (pos)
		atr_copy(b->pos_label, sizeof(b->pos_label), pos);
	if (atr_json_has(item, "k"))
		b->top_k = (int)atr_json_int(item, "k", 2);
	atr_copy(b->metrics[b->n_metrics++], sizeof(b->metrics[0]), full);
	return 0;
}

/* The spec the scoring library reads for b (strings borrowed from b and names). */
static void spec_of(const struct atr_benchmark *b, const char *names[ATR_BENCH_METRICS_MAX],
		    struct atr_scoring_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	for (size_t i = 0; i < b->n_metrics; i++)
		names[i] = b->metrics[i];
	spec->metrics = names;
	spec->n_metrics = b->n_metrics;
	spec->id_column = b->id_column;
	spec->label_column = b->label_column;
	spec->prediction_column = b->prediction_column;
	spec->pos_label = b->pos_label;
	spec->top_k = (unsigned)b->top_k;
}

void api_benchmark_spec(const struct atr_benchmark *b, const char *names[ATR_BENCH_METRICS_MAX],
			struct atr_scoring_spec *spec)
{
	spec_of(b, names, spec);
}

/* The metrics of the body into b, checked together by the scoring library; the primary one. */
static int metrics_or_reply(struct atr_req *r, const json_t *body, struct atr_benchmark *b)
{
	const json_t *items = json_object_get(body, "metrics"), *it;
	const char *primary = atr_json_str(body, "primary_metric", NULL), *names[ATR_BENCH_METRICS_MAX];
	struct atr_scoring_spec spec;
	struct atr_scoring_error err;
	size_t i;

	json_array_foreach(items, i, it)
	{
		if (metric_or_reply(r, i, it, b) < 0)
			return -1;
		for (size_t j = 0; j + 1 < b->n_metrics; j++)
			if (!strcmp(b->metrics[j], b->metrics[b->n_metrics - 1])) {
				atr_reply_invalid(r, mfield(r, i, "name"), "metric '%s' is listed twice",
						  b->metrics[j]);
				return -1;
			}
	}
	if (!b->pos_label[0])
		atr_copy(b->pos_label, sizeof(b->pos_label), "1");
	spec_of(b, names, &spec);
	if (atr_scoring_spec_check(&spec, &err) < 0) {
		atr_reply_invalid(r, "metrics", "%s", err.message);
		return -1;
	}
	atr_copy(b->primary_metric, sizeof(b->primary_metric), primary ? primary : b->metrics[0]);
	for (i = 0; i < b->n_metrics; i++)
		if (!strcmp(b->metrics[i], b->primary_metric))
			return 0;
	if (api_scorer_direction(api_scorer_of(body), b->primary_metric)) /* a custom metric ranks */
		return 0;
	atr_reply_invalid(r, "primary_metric",
			  "'primary_metric' must be one of the benchmark's metrics or its scorer's");
	return -1;
}

/* The committed dataset version and its file the body names, into b (its sha256 into sha). */
static int truth_or_reply(struct atr_req *r, const json_t *body, struct atr_benchmark *b, char sha[65])
{
	const char *ds = atr_json_str(body, "dataset", ""), *file = atr_json_str(body, "file", "");
	const char *fmt = atr_json_str(body, "format", NULL);
	struct atr_dataset_version v;
	struct atr_file f;
	int64_t dataset_id;
	size_t n = strlen(file);
	int rc;

	if ((rc = atr_store_dataset_find(STORE(r), b->project_id, ds, &dataset_id)) == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "dataset", "dataset '%s' does not exist in this project", ds);
		return -1;
	}
	if (rc == 0 && (rc = atr_store_dsv_find(STORE(r), dataset_id, atr_json_int(body, "version", 0), &v)) == 0 &&
	    api_dsv_hidden(r, v.id))
		rc = ATR_ENOTFOUND; /* a competition's hidden set: no benchmark but its organisers' (scores would leak it) */
	if (rc == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "version", "dataset '%s' has no version %lld", ds,
				  (long long)atr_json_int(body, "version", 0));
		return -1;
	}
	if (rc == 0 && !v.committed) {
		atr_reply_conflict(r, "version", "version %lld of dataset '%s' is a draft; commit it first",
				   (long long)v.version, ds);
		return -1;
	}
	if (rc == 0 && (rc = atr_store_file_get(STORE(r), "dataset_version", v.id, file, &f)) == ATR_ENOTFOUND) {
		atr_reply_invalid(r, "file", "version %lld of dataset '%s' has no file '%s'", (long long)v.version, ds,
				  file);
		return -1;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the dataset");
		return -1;
	}
	b->dataset_version_id = v.id;
	atr_copy(sha, 65, f.sha256);
	atr_copy(b->truth_path, sizeof(b->truth_path), file);
	if (!fmt) /* by the file's name: .jsonl / .ndjson are JSON Lines, the rest CSV */
		fmt = (n > 6 && !strcmp(file + n - 6, ".jsonl")) || (n > 7 && !strcmp(file + n - 7, ".ndjson"))
			      ? "jsonl"
			      : "csv";
	atr_copy(b->format, sizeof(b->format), fmt);
	return 0;
}

/* A new benchmark whose ground truth is read on the thread pool first: a file that no
 * evaluation could be scored against is refused now (422 naming `file`), not at each
 * evaluation. */
struct create_job {
	struct atr_benchmark b;
	char blob[1300];
	int rc;
	struct atr_scoring_error err;
};

static void create_work(void *data)
{
	struct create_job *c = data;
	c->rc = api_truth_check(&c->b, c->blob, &c->err);
}

static void create_after(struct atr_req *r, void *data)
{
	struct create_job *c = data;
	const struct atr_project *p = &RES(r)->project;
	int rc = c->rc;

	if (rc == ATR_EUNPROCESSABLE)
		atr_reply_unprocessable(r, "file", "the ground truth '%s' cannot be scored against: %s (%s)",
					c->b.truth_path, c->err.message, atr_scoring_errkind_name(c->err.kind));
	else if (rc == 0 &&
		 (rc = atr_store_benchmark_create(STORE(r), &c->b, atr_json_str(atr_req_body(r), "description", ""),
						  atr_req_who(r)->user_id)) == ATR_ECONFLICT)
		atr_reply_conflict(r, "name", "benchmark '%s' already exists in project '%s'", c->b.name, p->name);
	else if (rc < 0 || (rc = atr_store_benchmark_set_scorer(STORE(r), c->b.id, api_scorer_of(atr_req_body(r)))) < 0)
		atr_reply_err(r, rc, NULL, "could not create the benchmark");
	else
		api_benchmark_reply(r, 201, c->b.id);
	free(c);
}

void api_benchmarks_create(struct atr_req *r)
{
	const json_t *body = atr_req_body(r);
	const struct atr_project *p = &RES(r)->project;
	struct create_job *c = calloc(1, sizeof(*c));
	struct atr_benchmark *b = c ? &c->b : NULL;
	char sha[65];

	if (!b) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	b->project_id = p->id;
	b->top_k = 2;
	atr_copy(b->name, sizeof(b->name), atr_json_str(body, "name", ""));
	atr_copy(b->id_column, sizeof(b->id_column), atr_json_str(body, "id_column", "id"));
	atr_copy(b->label_column, sizeof(b->label_column), atr_json_str(body, "label_column", "label"));
	atr_copy(b->prediction_column, sizeof(b->prediction_column),
		 atr_json_str(body, "prediction_column", "prediction"));
	atr_req_audit_object(r, "project:%s/benchmark:%s", p->name, b->name);
	if (truth_or_reply(r, body, b, sha) < 0 || metrics_or_reply(r, body, b) < 0 ||
	    api_scorer_check_or_reply(r, b, json_object_get(body, "scorer")) < 0) {
		free(c);
		return;
	}
	atr_blob_path(STORE(r), sha, c->blob, sizeof(c->blob));
	if (atr_req_offload(r, create_work, create_after, c) < 0) {
		free(c);
		atr_reply_unavailable(r, NULL, "could not schedule the check of the ground truth");
	}
}

/* A list's items with their metrics as api_benchmark_reply shows them. */
static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	struct atr_benchmark b;
	json_t *it, *name;
	size_t i, k;
	int rc = atr_store_benchmark_list(STORE(r), RES(r)->project.id, p, arr, more);

	/* one on a competition's hidden set: absent but for its organisers (access.c, load_benchmark) */
	api_dsv_strip_hidden(r, arg, arr, "dataset");
	json_array_foreach(arr, i, it)
	{
		if (rc < 0)
			break;
		memset(&b, 0, sizeof(b));
		json_array_foreach(json_object_get(it, "metrics"), k, name)
		{
			if (b.n_metrics < ATR_BENCH_METRICS_MAX)
				atr_copy(b.metrics[b.n_metrics++], sizeof(b.metrics[0]), json_string_value(name));
		}
		if (json_object_set_new(it, "metrics", metrics_json(&b)) < 0)
			rc = ATR_ENOMEM;
	}
	return rc;
}

void api_benchmarks_list(struct atr_req *r)
{
	json_t *hide = api_dsv_hidden_ids(r);

	if (hide)
		api_reply_list_cb(r, list_cb, hide, "benchmarks");
	json_decref(hide);
}

void api_benchmarks_get(struct atr_req *r)
{
	api_benchmark_reply(r, 200, RES(r)->benchmark.id);
}

/* The primary metric the patch leaves (its direction into *dir), checked against the scorer it
 * leaves (the body's when it has one, else the stored one): -1 after a 400 naming the field. */
static int patch_primary_or_reply(struct atr_req *r, const char **primary, int *dir)
{
	const struct atr_benchmark *b = &RES(r)->benchmark;
	const json_t *body = atr_req_body(r);
	const char *name = atr_json_str(body, "primary_metric", NULL);
	int64_t creator;
	int err;
	json_t *stored =
		json_object_get(body, "scorer") ? NULL : atr_store_benchmark_scorer(STORE(r), b->id, &creator, &err);
	const json_t *scorer = stored ? stored : api_scorer_of(body);
	const struct atr_scoring_metric *m = NULL;

	for (size_t i = 0; name && i < b->n_metrics; i++)
		if (!strcmp(b->metrics[i], name))
			m = atr_scoring_metric_find(name);
	*dir = m ? (m->direction == ATR_SCORING_LOWER ? -1 : 1)
		 : api_scorer_direction(scorer, name ? name : b->primary_metric);
	json_decref(stored);
	if (name && !*dir) {
		atr_reply_invalid(r, "primary_metric",
				  "'primary_metric' must be one of the benchmark's metrics or its scorer's");
		return -1;
	}
	if (!name && !atr_scoring_metric_find(b->primary_metric) && !*dir) {
		atr_reply_invalid(r, "scorer",
				  "the benchmark is ranked by its scorer's metric '%s'; change 'primary_metric' first",
				  b->primary_metric);
		return -1;
	}
	/* a new scorer may change the custom primary metric's direction: rank again */
	*primary = name ? name
		   : json_object_get(body, "scorer") && *dir && !atr_scoring_metric_find(b->primary_metric)
			   ? b->primary_metric
			   : NULL;
	return 0;
}

void api_benchmarks_patch(struct atr_req *r)
{
	const struct atr_benchmark *b = &RES(r)->benchmark;
	const json_t *scorer = json_object_get(atr_req_body(r), "scorer");
	const char *primary = NULL;
	int rc, dir = 1;

	if (api_scorer_check_or_reply(r, b, scorer) < 0 || patch_primary_or_reply(r, &primary, &dir) < 0)
		return;
	rc = scorer ? atr_store_benchmark_set_scorer(STORE(r), b->id, api_scorer_of(atr_req_body(r))) : 0;
	if (rc == 0)
		rc = atr_store_benchmark_update(STORE(r), b->id, atr_json_str(atr_req_body(r), "description", NULL),
						primary, dir);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not change the benchmark");
		return;
	}
	api_benchmark_reply(r, 200, b->id);
}

void api_benchmarks_delete(struct atr_req *r)
{
	const struct atr_benchmark *b = &RES(r)->benchmark;
	char model[64] = "";
	int rc = atr_store_benchmark_delete(STORE(r), b->id, model, sizeof(model));

	if (rc == ATR_ECONFLICT) {
		atr_reply_conflict(r, NULL,
				   "model '%s' gates its production alias on benchmark '%s'; remove its gate first",
				   model, b->name);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the benchmark");
		return;
	}
	atr_reply_empty(r, 204);
}
