/*
 * monitoring.c: GET/PUT /api/v1/deployments/{name}/monitoring (a deployment's reference:
 * a dataset version, from its model version's lineage or named, and the features) and GET
 * .../drift (per feature drift and data quality over windows). A reference profile is built
 * once per dataset version and settings, on the thread pool (the PUT waits, suspended); the
 * folding of live data is the controller's (src/deploy/monitor.c), the statistics are
 * src/core/drift.c's. This file checks input, finds the files, stores and answers.
 */
#include "api.h"
#include "atrium/artifacts.h"
#include "atrium/profile.h"
#include "atrium/store_datasets.h"
#include "atrium/store_files.h"
#include "atrium/store_lineage.h"
#include "atrium/store_monitoring.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 1000

static const struct atr_field reference_schema[] = {
	{ "dataset", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "version", ATR_F_INT, 0, 1, INT32_MAX, NULL, NULL },
	{ 0 },
};

static const struct atr_field feature_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 255, NULL, NULL },
	{ "type", ATR_F_STRING, 0, 1, 16, "numeric|categorical", NULL },
	{ 0 },
};

static const struct atr_field prediction_schema[] = {
	{ "column", ATR_F_STRING, ATR_FF_REQUIRED, 1, 255, NULL, NULL },
	{ "type", ATR_F_STRING, 0, 1, 16, "numeric|categorical", NULL },
	{ 0 },
};

const struct atr_field api_monitoring_put_schema[] = {
	{ "reference", ATR_F_OBJECT, 0, 0, 0, NULL, reference_schema },
	{ "prediction", ATR_F_OBJECT, 0, 0, 0, NULL, prediction_schema },
	{ "features", ATR_F_ARRAY, 0, 1, ATR_PROFILE_MAX_FEATURES, NULL, feature_schema },
	{ "bins", ATR_F_INT, 0, 2, ATR_PROFILE_MAX_BINS, NULL, NULL },
	{ "max_categories", ATR_F_INT, 0, 1, ATR_PROFILE_MAX_CATEGORIES, NULL, NULL },
	{ "task", ATR_F_STRING, 0, 1, 32, "binary_classification|multiclass_classification|regression", NULL },
	{ "positive_class", ATR_F_STRING, 0, 1, ATR_QUALITY_CLASS_LEN - 1, NULL, NULL },
	{ 0 },
};

/* A profile being built on the thread pool: what it reads, and what it gives. */
struct build {
	int64_t deployment_id, dsv_id, user_id;
	char source[16];
	char *settings;	  /* canonical JSON of what the profile depends on (its key) */
	char *stored;	  /* the settings kept: those and the task */
	char *prediction; /* the reference's column of the model's output (NULL: none) */
	struct atr_profile_spec spec;
	char **names;
	enum atr_feature_type *types;
	char **paths;
	size_t npaths;
	enum atr_profile_format fmt;
	struct atr_profile *profile;
	int rc;
	char why[320];
};

static void build_free(struct build *b)
{
	for (size_t i = 0; b->names && i < b->spec.nfeat; i++)
		free(b->names[i]);
	for (size_t i = 0; b->paths && i < b->npaths; i++)
		free(b->paths[i]);
	free(b->names);
	free(b->types);
	free(b->paths);
	free(b->settings);
	free(b->stored);
	free(b->prediction);
	atr_profile_free(b->profile);
	free(b);
}

/* ---- the answer ---- */

static json_t *monitoring_json(struct atr_req *r, const struct atr_monitor_settings *m)
{
	json_t *o = json_pack("{s:s, s:b}", "deployment", RES(r)->deployment.name, "enabled", m != NULL), *v;
	char at[40];
	int err;

	if (!o || !m)
		return o;
	v = m->dataset_version_id ? atr_store_dsv_json(STORE(r), m->dataset_version_id, &err) : NULL;
	json_object_set_new(o, "reference",
			    json_pack("{s:s, s:o}", "source", m->source, "dataset_version", v ? v : json_null()));
	json_object_set_new(o, "settings", json_loads(m->settings, 0, NULL));
	json_object_set_new(o, "profile", m->profile ? json_loads(m->profile, 0, NULL) : json_null());
	atr_time_format(m->updated_at, at, sizeof(at));
	json_object_set_new(o, "updated_at", json_string(at));
	return o;
}

static void reply_monitoring(struct atr_req *r)
{
	struct atr_monitor_settings m;
	int rc = atr_store_monitor_settings_get(STORE(r), RES(r)->deployment.id, &m);

	if (rc < 0 && rc != ATR_ENOTFOUND) {
		atr_reply_err(r, rc, NULL, "could not read the monitoring settings");
		return;
	}
	atr_reply_json(r, 200, monitoring_json(r, rc == 0 ? &m : NULL));
	if (rc == 0)
		atr_monitor_settings_release(&m);
}

void api_monitoring_get(struct atr_req *r)
{
	reply_monitoring(r);
}

/* ---- PUT: the settings, the reference, its files ---- */

static enum atr_feature_type type_of(const json_t *o)
{
	const char *t = atr_json_str(o, "type", NULL);
	return !t ? ATR_FEAT_INFER : strcmp(t, "numeric") == 0 ? ATR_FEAT_NUMERIC : ATR_FEAT_CATEGORICAL;
}

/* The prediction's column joins the features profiled (when features are named). */
static int prediction_or_reply(struct atr_req *r, const json_t *pred, struct build *b)
{
	const char *col = atr_json_str(pred, "column", NULL);

	if (!col)
		return 0;
	if (!(b->prediction = atr_strdup(col)))
		return atr_reply_nomem(r, NULL, "out of memory"), -1;
	if (b->spec.nfeat == 0)
		return 0;
	for (size_t k = 0; k < b->spec.nfeat; k++)
		if (strcmp(b->names[k], col) == 0)
			return atr_reply_invalid(r, "prediction.column", "column '%s' is also a feature", col), -1;
	if (!(b->names[b->spec.nfeat] = atr_strdup(col)))
		return atr_reply_nomem(r, NULL, "out of memory"), -1;
	b->types[b->spec.nfeat++] = type_of(pred);
	return 0;
}

/* The settings kept: canon (the profile's key) with the task the model is declared to have
 * and its positive class (no profile depends on them). malloc'd; NULL when it replied. */
static char *task_settings_or_reply(struct atr_req *r, const json_t *body, json_t *canon)
{
	const char *task = atr_json_str(body, "task", NULL), *pos = atr_json_str(body, "positive_class", NULL);
	char *text;

	if (pos && (!task || atr_task_parse(task) != ATR_TASK_BINARY))
		return atr_reply_invalid(r, "positive_class", "a positive class goes with task binary_classification"),
		       NULL;
	if (task)
		json_object_set_new(canon, "task", json_string(task));
	if (pos)
		json_object_set_new(canon, "positive_class", json_string(pos));
	if (!(text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS)))
		atr_reply_nomem(r, NULL, "out of memory");
	return text;
}

static int settings_or_reply(struct atr_req *r, const json_t *body, struct build *b)
{
	const json_t *feats = json_object_get(body, "features"), *f;
	json_t *canon;
	size_t i, n = json_array_size(feats);

	b->spec.bins = (int)atr_json_int(body, "bins", 10);
	b->spec.max_categories = (int)atr_json_int(body, "max_categories", 20);
	b->names = calloc(n + 2, sizeof(char *));
	b->types = calloc(n + 2, sizeof(*b->types));
	if (!b->names || !b->types)
		return atr_reply_nomem(r, NULL, "out of memory"), -1;
	json_array_foreach(feats, i, f)
	{
		for (size_t k = 0; k < i; k++)
			if (strcmp(b->names[k], json_string_value(json_object_get(f, "name"))) == 0)
				return atr_reply_invalid(r, "features", "feature '%s' is named twice", b->names[k]), -1;
		if (!(b->names[i] = atr_strdup(json_string_value(json_object_get(f, "name")))))
			return atr_reply_nomem(r, NULL, "out of memory"), -1;
		b->types[i] = type_of(f);
		b->spec.nfeat = i + 1;
	}
	if (prediction_or_reply(r, json_object_get(body, "prediction"), b) < 0)
		return -1;
	b->spec.names = (const char *const *)b->names;
	b->spec.types = b->types;
	canon = json_pack("{s:O, s:O, s:i, s:i}", "features", feats ? (json_t *)feats : json_null(), "prediction",
			  json_object_get(body, "prediction") ? json_object_get(body, "prediction") : json_null(),
			  "bins", b->spec.bins, "max_categories", b->spec.max_categories);
	b->settings = canon ? json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (b->settings)
		b->stored = task_settings_or_reply(r, body, canon);
	json_decref(canon);
	if (!b->settings)
		return atr_reply_nomem(r, NULL, "out of memory"), -1;
	return b->stored ? 0 : -1; /* task_settings_or_reply replied */
}

static int explicit_reference_or_reply(struct atr_req *r, const json_t *ref, struct build *b)
{
	const char *name = atr_json_str(ref, "dataset", "");
	int64_t version = atr_json_int(ref, "version", 0), dataset_id;
	struct atr_dataset_version v;

	if (atr_store_dataset_find(STORE(r), RES(r)->project.id, name, &dataset_id) < 0)
		return atr_reply_invalid(r, "reference.dataset", "dataset '%s' does not exist in project '%s'", name,
					 RES(r)->project.name),
		       -1;
	if (atr_store_dsv_find(STORE(r), dataset_id, version, &v) < 0 || !v.committed ||
	    api_dsv_hidden(r, v.id)) /* (a competition's hidden set: absent but for its organisers) */
		return atr_reply_invalid(r, version ? "reference.version" : "reference.dataset",
					 version ? "dataset '%s' has no committed version %lld"
						 : "dataset '%s' has no committed version",
					 name, (long long)version),
		       -1;
	b->dsv_id = v.id;
	atr_copy(b->source, sizeof(b->source), "explicit");
	return 0;
}

static int lineage_reference_or_reply(struct atr_req *r, struct build *b)
{
	int err = 0;
	json_t *l = RES(r)->deployment.version_id
			    ? atr_store_model_lineage(STORE(r), RES(r)->deployment.version_id, 0, &err)
			    : NULL;
	const json_t *ds = json_array_get(json_object_get(l, "datasets"), 0);

	b->dsv_id = json_integer_value(json_object_get(ds, "dataset_version_id"));
	json_decref(l);
	if (b->dsv_id <= 0)
		return atr_reply_unprocessable(
			       r, "reference",
			       "the deployment's model version names no training dataset in its lineage;"
			       " name one in reference.dataset"),
		       -1;
	atr_copy(b->source, sizeof(b->source), "lineage");
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The data files of the reference (CSV, or JSON Lines: one format) as blob paths. */
static int files_or_reply(struct atr_req *r, struct build *b)
{
	struct atr_page pg = { .limit = MAX_FILES };
	json_t *arr = json_array(), *f;
	bool more = false;
	size_t i, ncsv = 0, njson = 0;

	if (!arr || !(b->paths = calloc(MAX_FILES, sizeof(char *))) ||
	    atr_store_file_list(STORE(r), "dataset_version", b->dsv_id, &pg, arr, &more) < 0) {
		json_decref(arr);
		return atr_reply_nomem(r, NULL, "could not list the reference's files"), -1;
	}
	json_array_foreach(arr, i, f)
	{
		const char *path = atr_json_str(f, "path", ""), *sha = atr_json_str(f, "sha256", "");
		bool csv = ends_with(path, ".csv"), js = ends_with(path, ".jsonl") || ends_with(path, ".ndjson");
		char blob[1200];
		if (!csv && !js)
			continue;
		ncsv += csv;
		njson += js;
		atr_blob_path(STORE(r), sha, blob, sizeof(blob));
		if (!(b->paths[b->npaths++] = atr_strdup(blob))) {
			json_decref(arr);
			return atr_reply_nomem(r, NULL, "out of memory"), -1;
		}
	}
	json_decref(arr);
	if (ncsv && njson)
		return atr_reply_unprocessable(r, "reference", "the reference mixes CSV and JSON Lines files"), -1;
	if (!b->npaths)
		return atr_reply_unprocessable(r, "reference",
					       "the reference has no .csv, .jsonl or .ndjson file to profile"),
		       -1;
	b->fmt = ncsv ? ATR_PROFILE_CSV : ATR_PROFILE_JSONL;
	return 0;
}

/* Stores the settings with the profile profile_id and answers. */
static void save_and_reply(struct atr_req *r, const struct build *b, int64_t profile_id)
{
	struct atr_monitor_settings m = { 0 };

	m.deployment_id = b->deployment_id;
	m.dataset_version_id = b->dsv_id;
	m.profile_id = profile_id;
	m.updated_at = atr_now_ms();
	m.updated_by = b->user_id;
	m.settings = b->stored;
	atr_copy(m.source, sizeof(m.source), b->source);
	if (atr_store_monitor_settings_put(STORE(r), &m) < 0) {
		atr_reply_not_found(r, NULL, "deployment '%s' is gone", RES(r)->deployment.name);
		return;
	}
	atr_deploy_monitor_reload(APP(r)->deploy, b->deployment_id);
	reply_monitoring(r);
}

static void build_work(void *data)
{
	struct build *b = data;
	b->rc = atr_profile_build_files((const char *const *)b->paths, b->npaths, b->fmt, &b->spec, &b->profile, b->why,
					sizeof(b->why));
	if (b->rc == 0 && b->prediction && atr_profile_set_prediction(b->profile, b->prediction) < 0) {
		snprintf(b->why, sizeof(b->why), "column '%s' is not in the reference", b->prediction);
		b->rc = ATR_EUNPROCESSABLE;
	}
}

static void build_after(struct atr_req *r, void *data)
{
	struct build *b = data;
	json_t *j = NULL;
	char *text = NULL;
	int64_t id = 0;

	if (b->rc < 0) {
		if (b->rc == ATR_ENOMEM)
			atr_reply_nomem(r, NULL, "out of memory while profiling the reference");
		else
			atr_reply_unprocessable(r, "reference", "the reference cannot be profiled: %s", b->why);
	} else if (!(j = atr_profile_json(b->profile)) || !(text = atr_json_write(j, NULL)) ||
		   atr_store_monitor_profile_put(STORE(r), b->dsv_id, b->settings, text, &id) < 0) {
		atr_reply_nomem(r, NULL, "could not store the reference profile");
	} else {
		save_and_reply(r, b, id);
	}
	json_decref(j);
	free(text);
	build_free(b);
}

void api_monitoring_put(struct atr_req *r)
{
	const json_t *body = atr_req_body(r), *ref = json_object_get(body, "reference");
	struct build *b = calloc(1, sizeof(*b));
	int64_t id;

	if (!b) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	b->deployment_id = RES(r)->deployment.id;
	b->user_id = atr_req_who(r)->user_id;
	if (settings_or_reply(r, body, b) < 0 ||
	    (ref ? explicit_reference_or_reply(r, ref, b) : lineage_reference_or_reply(r, b)) < 0)
		goto fail;
	if (atr_store_monitor_profile_find(STORE(r), b->dsv_id, b->settings, &id, NULL) == 0) {
		save_and_reply(r, b, id);
		goto fail;
	}
	if (files_or_reply(r, b) < 0)
		goto fail;
	if (atr_req_offload(r, build_work, build_after, b) < 0) {
		atr_reply_nomem(r, NULL, "could not start profiling the reference");
		goto fail;
	}
	return;
fail:
	build_free(b);
}

/* ---- GET drift ---- */

const struct atr_qparam api_drift_query[] = {
	{ "from", ATR_Q_TIME, 0, 0, 0, 0, NULL, "start (RFC 3339; default: a day before to)" },
	{ "to", ATR_Q_TIME, 0, 0, 0, 0, NULL, "end, exclusive (RFC 3339; default: now)" },
	{ "window", ATR_Q_ENUM, 0, 0, 0, 0, "5m|1h|1d", "the width of each window (default 1h)" },
	{ 0 },
};

#define MAX_WINDOWS 2000

struct drift_q {
	const struct atr_profile *p;
	int64_t width, cur;
	uint64_t *win, *total;
	size_t n;
	json_t *windows;
};

static void set_num(json_t *o, const char *k, double v)
{
	json_object_set_new(o, k, isfinite(v) ? json_real(v) : json_null());
}

static double rate(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : NAN;
}

/* The live counts over a feature's bins (for the reference-vs-live histogram). New reference. */
static json_t *counts_json(const uint64_t *c, size_t n)
{
	json_t *a = json_array();

	for (size_t k = 0; a && k < n; k++)
		json_array_append_new(a, json_integer((json_int_t)c[k]));
	return a;
}

/* Per feature figures of counts c (a window's or the range's; the range's with its counts).
 * New reference. */
static json_t *features_json(const struct atr_profile *p, const uint64_t *c, bool with_counts)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < p->nfeat; i++) {
		const struct atr_profile_feature *f = &p->f[i];
		const uint64_t *lc = c + atr_profile_offset(p, i);
		uint64_t seen = 0, nulls = lc[f->nbins], odd = lc[f->nbins + 1];
		struct atr_drift d;
		json_t *o;
		for (size_t k = 0; k < f->nbins; k++)
			seen += lc[k];
		atr_drift_compute(f->counts, lc, f->nbins, &d);
		o = json_pack("{s:s, s:I}", "name", f->name, "count", (json_int_t)seen);
		if (!o)
			break;
		if (f->prediction)
			json_object_set_new(o, "prediction", json_true());
		set_num(o, "psi", d.psi);
		set_num(o, "js_distance", d.js);
		if (f->type == ATR_FEAT_NUMERIC)
			set_num(o, "ks", d.ks);
		else
			set_num(o, "chi2_p", d.chi2_p);
		set_num(o, "null_rate", rate(nulls, seen + nulls));
		set_num(o, f->type == ATR_FEAT_NUMERIC ? "out_of_range_rate" : "unseen_rate", rate(odd, seen));
		if (with_counts)
			json_object_set_new(o, "counts", counts_json(lc, f->nbins));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *window_json(const struct atr_profile *p, int64_t start, const uint64_t *c, bool with_counts)
{
	char at[40];

	atr_time_format(start, at, sizeof(at));
	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "start", at, "requests", (json_int_t)c[ATR_LIVE_REQUESTS], "rows",
			 (json_int_t)c[ATR_LIVE_ROWS], "misfit", (json_int_t)c[ATR_LIVE_MISFIT], "features",
			 features_json(p, c, with_counts));
}

static void close_window(struct drift_q *q)
{
	if (q->cur >= 0 && q->win[ATR_LIVE_REQUESTS])
		json_array_append_new(q->windows, window_json(q->p, q->cur, q->win, false));
	memset(q->win, 0, q->n * sizeof(uint64_t));
}

static int on_window(void *arg, int64_t start, const uint64_t *c, size_t n)
{
	struct drift_q *q = arg;
	int64_t w = start - start % q->width;

	if (w != q->cur) {
		close_window(q);
		q->cur = w;
	}
	for (size_t i = 0; i < n; i++) {
		q->win[i] += c[i];
		q->total[i] += c[i];
	}
	return 0;
}

static int range_or_reply(struct atr_req *r, int64_t *from, int64_t *to, int64_t *width)
{
	const char *w = atr_req_query(r, "window");

	*width = !w || strcmp(w, "1h") == 0 ? 3600000 : strcmp(w, "5m") == 0 ? 300000 : 86400000;
	*to = atr_req_qint(r, "to") ? atr_req_qint(r, "to") : atr_now_ms();
	*from = atr_req_qint(r, "from") ? atr_req_qint(r, "from") : *to - 86400000;
	if (*from >= *to)
		return atr_reply_invalid(r, "from", "from must come before to"), -1;
	*from -= *from % *width;
	if ((*to - *from) / *width > MAX_WINDOWS)
		return atr_reply_invalid(r, "window", "more than %d windows in the range; choose a wider window",
					 MAX_WINDOWS),
		       -1;
	return 0;
}

static void drift_reply(struct atr_req *r, struct drift_q *q, int64_t from, int64_t to,
			const struct atr_monitor_settings *m)
{
	char a[40], b[40];
	int rc = atr_store_monitor_counts_each(STORE(r), RES(r)->deployment.id, m->profile_id, from, to, q->n,
					       on_window, q);
	json_t *o, *quality;

	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not read the monitoring counts");
		return;
	}
	close_window(q);
	if (!(quality = api_monitoring_quality_json(r, m, from, to, q->width, &rc))) {
		atr_reply_err(r, rc, NULL, "could not read the live quality");
		return;
	}
	atr_time_format(from, a, sizeof(a));
	atr_time_format(to, b, sizeof(b));
	o = json_pack("{s:s, s:s, s:s, s:I, s:O, s:o, s:o}", "deployment", RES(r)->deployment.name, "from", a, "to", b,
		      "window_s", (json_int_t)(q->width / 1000), "windows", q->windows, "total",
		      window_json(q->p, from, q->total, true), "quality", quality);
	if (o)
		json_object_del(json_object_get(o, "total"), "start");
	atr_reply_json(r, 200, o);
}

void api_monitoring_drift(struct atr_req *r)
{
	struct atr_monitor_settings m;
	struct drift_q q = { .cur = -1 };
	struct atr_profile *p = NULL;
	int64_t from, to;
	json_t *j = NULL;
	int rc = atr_store_monitor_settings_get(STORE(r), RES(r)->deployment.id, &m);

	if (rc < 0 || !m.profile) {
		if (rc == 0)
			atr_monitor_settings_release(&m);
		atr_reply_conflict(r, NULL, "deployment '%s' has no reference profile; PUT its monitoring first",
				   RES(r)->deployment.name);
		return;
	}
	if (range_or_reply(r, &from, &to, &q.width) == 0) {
		if (!(j = json_loads(m.profile, 0, NULL)) || atr_profile_from_json(j, &p) < 0) {
			atr_reply_internal(r, NULL, "the stored reference profile is unreadable");
		} else {
			q.p = p;
			q.n = atr_profile_slots(p);
			q.win = calloc(q.n, sizeof(uint64_t));
			q.total = calloc(q.n, sizeof(uint64_t));
			q.windows = json_array();
			if (q.win && q.total && q.windows)
				drift_reply(r, &q, from, to, &m);
			else
				atr_reply_nomem(r, NULL, "out of memory");
		}
	}
	json_decref(q.windows);
	free(q.win);
	free(q.total);
	json_decref(j);
	atr_profile_free(p);
	atr_monitor_settings_release(&m);
}
