/*
 * evaluations.c: POST .../benchmarks/{benchmark}/evaluations scores an uploaded predictions
 * file against the benchmark's ground truth. The body streams into the blob store (as any
 * file upload); once it is in, both files are read and scored on libuv's thread pool
 * (atr_req_offload), never on the loop; the answer is written back on the loop: the
 * evaluation with its metrics, confusion matrix and subject (a model version or a run), or
 * a 422 naming the first bad line of the file. Also: GET one, list.
 */
#include "api.h"
#include "evaluations_internal.h"
#include "atrium/artifacts.h"
#include "atrium/scoring.h"
#include "atrium/store_files.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct atr_qparam api_evaluation_create_query[] = {
	{ "model", ATR_Q_STRING, 0, 1, 63, 0, NULL, "the model (of this project) whose version is evaluated" },
	{ "version", ATR_Q_STRING, 0, 1, 63, 0, NULL, "its version: a number, an alias or latest (default)" },
	{ "run", ATR_Q_INT, 0, 1, INT64_MAX, 0, NULL, "the run (of this project) evaluated, or whose model it is" },
	{ "format", ATR_Q_ENUM, 0, 0, 0, 0, "csv|jsonl", "the predictions file's format (default: the truth's)" },
	{ 0 },
};

#define READ_CHUNK (256u << 10)

/* What one evaluation carries from the upload, through the thread pool, to the answer. */
struct eval_job {
	struct atr_upload *u;
	struct api_scoring sc;
	int64_t model_version_id, run_id;
	char sha[65];
	int64_t size;
};

static void job_free(void *p)
{
	struct eval_job *j = p;
	if (!j)
		return;
	atr_upload_free(j->u);
	api_scoring_release(&j->sc);
	free(j);
}

/* The model version (?model, ?version) and the run (?run) evaluated, both in this project. */
static int subject_or_reply(struct atr_req *r, struct eval_job *j)
{
	const char *model = atr_req_query(r, "model"), *ver = atr_req_query(r, "version");
	int64_t run = atr_req_qint(r, "run");
	struct atr_model m;
	struct atr_model_version v;
	struct atr_run rn;
	int rc;

	if (!model && !run) {
		atr_reply_invalid(r, "model", "name the model version evaluated (?model=&version=) or the run (?run=)");
		return -1;
	}
	if (ver && !model) {
		atr_reply_invalid(r, "model", "'version' needs 'model'");
		return -1;
	}
	if (model && ((rc = atr_store_model_find(STORE(r), RES(r)->project.id, model, &m)) < 0 ||
		      (rc = atr_store_model_version_resolve(STORE(r), m.id, ver ? ver : "latest", &v)) < 0)) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_invalid(r, ver ? "version" : "model",
					  "model '%s' has no version '%s' in this project", model,
					  ver ? ver : "latest");
		else
			atr_reply_err(r, rc, NULL, "could not read model '%s'", model);
		return -1;
	}
	if (run && ((rc = atr_store_run_get(STORE(r), run, &rn)) < 0 || rn.project_id != RES(r)->project.id)) {
		atr_reply_invalid(r, "run", "run %lld does not exist in this project", (long long)run);
		return -1;
	}
	j->model_version_id = model ? v.id : 0;
	j->run_id = run;
	return 0;
}

void api_evaluations_begin(struct atr_req *r)
{
	struct eval_job *j = calloc(1, sizeof(*j));
	const char *fmt;
	int rc;

	if (!j) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	j->sc.b = RES(r)->benchmark;
	fmt = atr_req_query(r, "format") ? atr_req_query(r, "format") : j->sc.b.format;
	atr_copy(j->sc.fmt_name, sizeof(j->sc.fmt_name), fmt);
	if (subject_or_reply(r, j) < 0 || atr_scoring_format_parse(fmt, &j->sc.fmt) < 0) {
		free(j);
		return;
	}
	if ((rc = atr_upload_open(STORE(r), &j->u)) < 0) {
		free(j);
		atr_reply_err(r, rc, NULL, "cannot store uploads right now");
		return;
	}
	atr_req_set_ctx(r, j, job_free);
}

int api_evaluations_chunk(struct atr_req *r, const char *data, size_t len)
{
	struct eval_job *j = atr_req_ctx(r);

	if (!j)
		return -1;
	if (atr_upload_write(j->u, data, len) < 0) {
		if (atr_upload_errno(j->u) == ENOSPC || atr_upload_errno(j->u) == EDQUOT)
			atr_reply_no_space(r, NULL, "the server's disk is full");
		else
			atr_reply_err(r, ATR_EIO, NULL, "could not write the upload");
		return -1;
	}
	return 0;
}

/* ---- on the thread pool: nothing here touches the store ---- */

static int feed_truth(void *t, const void *d, size_t n)
{
	return atr_scoring_truth_feed(t, d, n);
}

static int feed_pred(void *s, const void *d, size_t n)
{
	return atr_scoring_feed(s, d, n);
}

/* Streams the file at path into feed in chunks: memory does not grow with the file. */
int api_feed_file(const char *path, api_feed_fn feed, void *obj)
{
	char *buf = malloc(READ_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (!buf || fd < 0) {
		rc = buf ? ATR_EIO : ATR_ENOMEM;
		goto out;
	}
	while (rc == 0 && (n = read(fd, buf, READ_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? ATR_EIO : feed(obj, buf, (size_t)n);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int api_truth_check(const struct atr_benchmark *b, const char *blob, struct atr_scoring_error *err)
{
	const char *names[ATR_BENCH_METRICS_MAX];
	struct atr_scoring_spec spec;
	struct atr_scoring_truth *t = NULL;
	enum atr_scoring_format tf = ATR_SCORING_CSV;
	int rc;

	api_benchmark_spec(b, names, &spec);
	atr_scoring_format_parse(b->format, &tf);
	rc = atr_scoring_truth_new(&spec, tf, &t);
	if (rc == 0 && (rc = api_feed_file(blob, feed_truth, t)) == 0)
		rc = atr_scoring_truth_end(t);
	if (rc == ATR_EUNPROCESSABLE)
		*err = *atr_scoring_truth_error(t);
	atr_scoring_truth_free(t);
	return rc;
}

/* The confusion matrix as {labels, matrix} (NULL for regression or too many classes). */
static json_t *confusion_json(const struct atr_scoring *s)
{
	struct atr_scoring_confusion c;
	json_t *o, *labels, *rows;

	if (atr_scoring_confusion(s, NULL, &c) < 0)
		return NULL;
	labels = json_array();
	rows = json_array();
	for (size_t i = 0; labels && rows && i < c.k; i++) {
		json_t *row = json_array();
		json_array_append_new(labels, json_string(c.labels[i]));
		for (size_t k = 0; row && k < c.k; k++)
			json_array_append_new(row, json_integer((json_int_t)c.counts[i * c.k + k]));
		json_array_append_new(rows, row);
	}
	o = json_pack("{s:o?, s:o?}", "labels", labels, "matrix", rows);
	atr_scoring_confusion_release(&c);
	return o;
}

void api_scoring_work(struct api_scoring *j)
{
	const char *names[ATR_BENCH_METRICS_MAX];
	struct atr_scoring_spec spec;
	struct atr_scoring_truth *t = NULL;
	struct atr_scoring *s = NULL;
	enum atr_scoring_format tf = ATR_SCORING_CSV;

	api_benchmark_spec(&j->b, names, &spec);
	atr_scoring_format_parse(j->b.format, &tf);
	j->rc = atr_scoring_truth_new(&spec, tf, &t);
	if (j->rc == 0 && (j->rc = api_feed_file(j->truth_blob, feed_truth, t)) == 0)
		j->rc = atr_scoring_truth_end(t);
	if (j->rc == ATR_EUNPROCESSABLE) {
		j->truth_bad = true;
		j->err = *atr_scoring_truth_error(t);
		goto out;
	}
	if (j->rc == 0)
		j->rc = atr_scoring_new(t, j->fmt, &s);
	if (j->rc == 0 && (j->rc = api_feed_file(j->pred_blob, feed_pred, s)) == 0)
		j->rc = atr_scoring_end(s);
	if (j->rc == ATR_EUNPROCESSABLE)
		j->err = *atr_scoring_error(s);
	if (j->rc == 0)
		j->rc = atr_scoring_compute(s, NULL, &j->res);
	if (j->rc == 0 && atr_scoring_metric_find(j->b.metrics[0])->task == ATR_SCORING_CLASSIFICATION)
		j->confusion = confusion_json(s);
out:
	atr_scoring_free(s);
	atr_scoring_truth_free(t);
}

void api_scoring_release(struct api_scoring *sc)
{
	json_decref(sc->confusion);
	sc->confusion = NULL;
}

static void score_work(void *data)
{
	struct eval_job *j = data;
	api_scoring_work(&j->sc);
}

/* ---- back on the loop ---- */

/* {name: value | null} and {name: why} of the result; the primary value into e. */
int api_scoring_values(const struct api_scoring *j, struct atr_evaluation_new *e, json_t **metrics, json_t **undef)
{
	const struct atr_scoring_metric *pm = atr_scoring_metric_find(j->b.primary_metric);

	*metrics = json_object();
	*undef = json_object();
	if (!*metrics || !*undef)
		return ATR_ENOMEM;
	for (size_t i = 0; i < j->res.n; i++) {
		const struct atr_scoring_value *v = &j->res.values[i];
		if (json_object_set_new(*metrics, v->metric, v->defined ? json_real(v->value) : json_null()) < 0 ||
		    (!v->defined && json_object_set_new(*undef, v->metric, json_string(v->why ? v->why : "")) < 0))
			return ATR_ENOMEM;
		if (v->defined && !strcmp(v->metric, j->b.primary_metric)) {
			e->has_primary = true;
			e->primary_value = v->value;
		}
	}
	e->primary_direction = pm && pm->direction == ATR_SCORING_LOWER ? -1 : 1;
	return 0;
}

static void record(struct atr_req *r, struct eval_job *j)
{
	char actor[80];
	struct atr_evaluation_new e = { .benchmark_id = j->sc.b.id,
					.model_version_id = j->model_version_id,
					.run_id = j->run_id,
					.dataset_version_id = j->sc.b.dataset_version_id,
					.user_id = atr_req_who(r)->user_id,
					.actor = api_actor(r, actor, sizeof(actor)),
					.format = j->sc.fmt_name,
					.rows = (int64_t)j->sc.res.rows,
					.confusion = j->sc.confusion,
					.sha256 = j->sha,
					.size = j->size };
	json_t *metrics = NULL, *undef = NULL, *o = NULL;
	int64_t id = 0;
	int rc = api_scoring_values(&j->sc, &e, &metrics, &undef);

	e.metrics = metrics;
	e.undefined = undef;
	if (rc == 0)
		rc = atr_store_evaluation_create(STORE(r), &e, &id);
	if (rc == 0)
		api_scorer_start(APP(r), id, &j->sc.b, j->sc.fmt_name);
	if (rc == 0)
		o = atr_store_evaluation_json(STORE(r), j->sc.b.id, id, &rc);
	json_decref(metrics);
	json_decref(undef);
	if (!o) {
		atr_reply_err(r, rc, NULL, "could not record the evaluation");
		return;
	}
	atr_req_audit_object(r, "project:%s/benchmark:%s/evaluation:%lld", RES(r)->project.name, j->sc.b.name,
			     (long long)id);
	atr_reply_json(r, 201, o);
}

static void score_after(struct atr_req *r, void *data)
{
	struct eval_job *j = data;
	const struct api_scoring *sc = &j->sc;

	if (sc->rc == ATR_EUNPROCESSABLE && sc->truth_bad)
		atr_reply_unprocessable(r, "benchmark", "the ground truth of benchmark '%s' cannot be read: %s",
					sc->b.name, sc->err.message);
	else if (sc->rc == ATR_EUNPROCESSABLE)
		atr_reply_unprocessable(r, "predictions", "%s (%s)", sc->err.message,
					atr_scoring_errkind_name(sc->err.kind));
	else if (sc->rc < 0)
		atr_reply_err(r, sc->rc, NULL, "could not score the predictions");
	else
		record(r, j);
	job_free(j);
}

void api_evaluations_create(struct atr_req *r)
{
	struct eval_job *j = atr_req_ctx(r);
	struct atr_file truth;
	int rc;

	if (!j) {
		atr_reply_invalid(r, "body", "no upload in progress");
		return;
	}
	rc = atr_upload_commit(STORE(r), j->u, NULL, strcmp(APP(r)->cfg->sync, "full") == 0, j->sha);
	if (rc == 0)
		rc = atr_store_file_get(STORE(r), "dataset_version", j->sc.b.dataset_version_id, j->sc.b.truth_path,
					&truth);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not store the predictions");
		return;
	}
	j->size = (int64_t)atr_upload_size(j->u);
	atr_upload_free(j->u);
	j->u = NULL;
	atr_blob_path(STORE(r), truth.sha256, j->sc.truth_blob, sizeof(j->sc.truth_blob));
	atr_blob_path(STORE(r), j->sha, j->sc.pred_blob, sizeof(j->sc.pred_blob));
	atr_req_set_ctx(r, NULL, NULL); /* the pool's now; score_after frees it */
	if (atr_req_offload(r, score_work, score_after, j) < 0) {
		job_free(j);
		atr_reply_unavailable(r, NULL, "could not schedule the scoring");
	}
}

void api_evaluations_get(struct atr_req *r)
{
	int rc;
	json_t *o = atr_store_evaluation_json(STORE(r), RES(r)->benchmark.id, RES(r)->evaluation_id, &rc);

	if (!o) {
		if (rc == ATR_ENOTFOUND)
			atr_reply_not_found(r, NULL, "benchmark '%s' has no evaluation %lld", RES(r)->benchmark.name,
					    (long long)RES(r)->evaluation_id);
		else
			atr_reply_err(r, rc, NULL, "could not read the evaluation");
		return;
	}
	api_scorer_redact(r, o);
	atr_reply_json(r, 200, o);
}

static int list_cb(struct atr_req *r, const void *arg, const struct atr_page *p, json_t *arr, bool *more)
{
	json_t *it;
	size_t i;
	int rc = atr_store_evaluation_list(STORE(r), RES(r)->benchmark.id, 0, p, arr, more);

	(void)arg;
	json_array_foreach(arr, i, it) api_scorer_redact(r, it);
	return rc;
}

void api_evaluations_list(struct atr_req *r)
{
	api_reply_list_cb(r, list_cb, NULL, "evaluations");
}
