/*
 * competition_subs.c: submissions to a competition. A predictions file streams into the
 * blob store; then it is scored against the hidden ground truth on the thread pool (never on
 * the loop), over the secret public part and the private rest of the test ids.
 *
 * Order of the decisions (each answer names its reason):
 *  - at the request head (on_begin), by the daemon's clock at that moment: before the start
 *    or at/after the end: 409 naming the time; not a participant: 403; the team's daily limit
 *    already used: 429 naming when the next is allowed; a Content-Length over max_bytes: 413;
 *  - while the body streams: past max_bytes, 413;
 *  - body complete (on the loop): the submission is recorded 'scoring' in the same
 *    transaction that counts the team's day (the day of the head's arrival), so concurrent
 *    submissions cannot both take the last slot (the loser: 429); then it is scored;
 *  - scored: 201 with the public score; a file the scoring refuses: 422 naming the first bad
 *    line, and the submission turns 'invalid', which counts against no limit.
 * What a 422 may say: the scoring library's messages quote the submission's own ids, column
 * names and class names, and never a label of the ground truth; a missing id is named (the
 * test ids are part of the submission format), which ids are public never is.
 */
#include "api.h"
#include "competitions_internal.h"
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

#define DAY_MS 86400000LL

const struct atr_qparam api_comp_sub_query[] = {
	{ "format", ATR_Q_ENUM, 0, 0, 0, 0, "csv|jsonl", "the file's format (default csv)" },
	{ 0 },
};

struct sub_ctx {
	struct atr_upload *u;
	int64_t arrived_at, entry_id, received;
	enum atr_scoring_format fmt;
	bool model; /* a model-version competition: the body is JSON (competition_models.c) */
	char *body; /* model: the body so far */
};

static void sub_ctx_free(void *p)
{
	struct sub_ctx *c = p;
	atr_upload_free(c->u);
	free(c->body);
	free(c);
}

/* 429 naming when the team's next submission is allowed (the next UTC midnight). */
void api_comp_reply_limit(struct atr_req *r, int64_t arrived_at)
{
	int64_t next = (arrived_at / DAY_MS + 1) * DAY_MS;
	char when[40], secs[24];

	atr_time_format(next, when, sizeof(when));
	snprintf(secs, sizeof(secs), "%lld", (long long)((next - atr_now_ms()) / 1000 + 1));
	atr_reply_header(r, "Retry-After", secs);
	atr_reply_rate_limited(r, NULL,
			       "your team has used its %lld submissions of this day (UTC); the next is allowed at %s",
			       (long long)RES(r)->comp.daily_limit, when);
}

/* The checks of the request head; 0, or -1 answered. */
static int head_checks(struct atr_req *r, struct sub_ctx *c)
{
	const struct atr_competition *k = &RES(r)->comp;
	const char *fmt = atr_req_query(r, "format"), *len = atr_req_header(r, "Content-Length");
	char when[40];
	int64_t used = 0, n;

	if (c->arrived_at < k->starts_at || c->arrived_at >= k->ends_at) {
		atr_time_format(c->arrived_at < k->starts_at ? k->starts_at : k->ends_at, when, sizeof(when));
		atr_reply_conflict(r, NULL,
				   c->arrived_at < k->starts_at
					   ? "competition '%s' starts at %s"
					   : "competition '%s' ended at %s; submissions are closed",
				   k->name, when);
		return -1;
	}
	if (!c->model && atr_scoring_format_parse(fmt ? fmt : "csv", &c->fmt) < 0) {
		atr_reply_invalid(r, "format", "'format' must be 'csv' or 'jsonl'");
		return -1;
	}
	if (atr_store_competition_entry_of(STORE(r), k->id, atr_req_who(r)->user_id, &c->entry_id, NULL) < 0 ||
	    !c->entry_id) {
		atr_reply_forbidden(r, NULL, "you play for no team of competition '%s': join it first", k->name);
		return -1;
	}
	if (len && atr_parse_i64(len, 0, INT64_MAX, &n) == 0 &&
	    n > (c->model ? API_COMP_MODEL_BODY_MAX : k->max_bytes)) {
		atr_reply_too_large(r, NULL, "the body has %lld bytes; competition '%s' takes at most %lld",
				    (long long)n, k->name,
				    c->model ? (long long)API_COMP_MODEL_BODY_MAX : (long long)k->max_bytes);
		return -1;
	}
	if (atr_store_comp_submissions_used(STORE(r), c->entry_id, c->arrived_at / DAY_MS, &used) == 0 &&
	    used >= k->daily_limit) {
		api_comp_reply_limit(r, c->arrived_at);
		return -1;
	}
	return 0;
}

void api_comp_sub_begin(struct atr_req *r)
{
	struct sub_ctx *c = calloc(1, sizeof(*c));

	if (!c) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	c->arrived_at = atr_now_ms(); /* the deadline is decided here: the arrival of the request head */
	c->model = api_comp_model_kind(r);
	if (head_checks(r, c) < 0) {
		free(c);
		return;
	}
	if (c->model) {
		atr_req_set_ctx(r, c, sub_ctx_free);
		return;
	}
	if (atr_upload_open(STORE(r), &c->u) < 0) {
		free(c);
		atr_reply_err(r, ATR_EIO, NULL, "cannot store uploads right now");
		return;
	}
	atr_req_set_ctx(r, c, sub_ctx_free);
}

int api_comp_sub_chunk(struct atr_req *r, const char *data, size_t len)
{
	struct sub_ctx *c = atr_req_ctx(r);

	if (!c)
		return -1;
	if (c->model)
		return api_comp_model_chunk(r, &c->body, &c->received, data, len);
	c->received += (int64_t)len;
	if (c->received > RES(r)->comp.max_bytes) {
		atr_reply_too_large(r, NULL, "the file is over the %lld bytes competition '%s' takes",
				    (long long)RES(r)->comp.max_bytes, RES(r)->comp.name);
		return -1;
	}
	if (atr_upload_write(c->u, data, len) < 0) {
		atr_reply_err(r, ATR_EIO, NULL, "could not write the upload");
		return -1;
	}
	return 0;
}

/* ---- scoring, on the thread pool ---- */

struct api_comp_scoring { /* (api_comp_scoring in competitions_internal.h) */
	int64_t sub_id;
	enum atr_scoring_format truth_fmt, fmt;
	char truth_path[1300], sub_path[1300];
	char metric[64], id_column[ATR_COMP_TEXT_MAX], label_column[ATR_COMP_TEXT_MAX], pos_label[ATR_COMP_TEXT_MAX];
	char seed[65];
	double fraction;
	bool truth_only;		 /* a competition being made: its ground truth is read, no more */
	bool custom;			 /* a scorer's metric: the file is checked, then split (split) */
	struct api_comp_split *split;	 /* custom: the subsets for the scorer (competition_scorer.c) */
	void (*then)(struct atr_req *r); /* truth_only: what runs once it reads well */
	/* results */
	int rc; /* 0, ATR_EUNPROCESSABLE (the submission), ATR_EINVAL (the truth), other */
	struct atr_scoring_error err;
	bool pub_ok, priv_ok;
	double pub, priv;
};

/* Feeds the file at path to feed(obj, ...) in 64 KiB pieces; then end(obj). */
static int feed_file(const char *path, void *obj, int (*feed)(void *, const void *, size_t), int (*end)(void *))
{
	static __thread char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (fd < 0)
		return ATR_EIO;
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? ATR_EIO : feed(obj, buf, (size_t)n);
	}
	close(fd);
	return rc ? rc : end(obj);
}

static int truth_feed(void *o, const void *d, size_t n)
{
	return atr_scoring_truth_feed(o, d, n);
}
static int truth_end(void *o)
{
	return atr_scoring_truth_end(o);
}
static int sub_feed(void *o, const void *d, size_t n)
{
	return atr_scoring_feed(o, d, n);
}
static int sub_end(void *o)
{
	return atr_scoring_end(o);
}

/* The secret split: an id is public when sha256(seed, id) read as a fraction is under fraction.
 * Fixed (it depends on the id alone, not on the file's order) and unknowable without the seed. */
int api_comp_public(const char *seed, double fraction, const char *id, size_t len, char **buf, size_t *cap)
{
	size_t sl = strlen(seed);
	unsigned char h[32];
	uint64_t v = 0;

	if (sl + len + 1 > *cap) {
		char *nb = realloc(*buf, sl + len + 1);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = sl + len + 1;
	}
	memcpy(*buf, seed, sl);
	(*buf)[sl] = 0; /* (a separator: the seed is hex, an id may be anything) */
	memcpy(*buf + sl + 1, id, len);
	atr_sha256(*buf, sl + 1 + len, h);
	for (int k = 0; k < 8; k++)
		v = (v << 8) | h[k];
	return (double)(v >> 11) / 9007199254740992.0 < fraction;
}

static unsigned char *split(const struct atr_scoring_truth *t, const char *seed, double fraction)
{
	size_t rows = atr_scoring_truth_rows(t), len, cap = 0;
	unsigned char *sel = malloc(rows ? rows : 1);
	char *buf = NULL;

	for (size_t i = 0; sel && i < rows; i++) {
		const char *id = atr_scoring_truth_id(t, i, &len);
		int pub = api_comp_public(seed, fraction, id, len, &buf, &cap);
		if (pub < 0) {
			free(sel);
			sel = NULL;
			break;
		}
		sel[i] = (unsigned char)pub;
	}
	free(buf);
	return sel;
}

static void compute(struct api_comp_scoring *j, const struct atr_scoring *s, const struct atr_scoring_truth *t)
{
	size_t rows = atr_scoring_truth_rows(t);
	unsigned char *sel = split(t, j->seed, j->fraction);
	struct atr_scoring_result res;

	if (!sel) {
		j->rc = ATR_ENOMEM;
		return;
	}
	if (atr_scoring_compute(s, sel, &res) == 0 && res.n == 1 && res.values[0].defined) {
		j->pub_ok = true;
		j->pub = res.values[0].value;
	}
	for (size_t i = 0; i < rows; i++)
		sel[i] = !sel[i];
	if (atr_scoring_compute(s, sel, &res) == 0 && res.n == 1 && res.values[0].defined) {
		j->priv_ok = true;
		j->priv = res.values[0].value;
	}
	free(sel);
}

void api_comp_scoring_work(void *data)
{
	struct api_comp_scoring *j = data;
	const char *metrics[1] = { j->metric };
	struct atr_scoring_spec spec = { .metrics = metrics,
					 .n_metrics = 1,
					 .id_column = j->id_column,
					 .label_column = j->label_column,
					 .pos_label = j->pos_label[0] ? j->pos_label : NULL };
	struct atr_scoring_truth *t = NULL;
	struct atr_scoring *s = NULL;

	if (j->custom) { /* checked as labels of any kind, as many as there are: the scorer reads them */
		metrics[0] = API_COMP_CHECK_METRIC;
		spec.max_classes = UINT32_MAX / 2;
	}

	j->rc = atr_scoring_truth_new(&spec, j->truth_fmt, &t);
	if (j->rc == 0 && (j->rc = feed_file(j->truth_path, t, truth_feed, truth_end)) != 0) {
		if (j->rc == ATR_EUNPROCESSABLE)
			j->err = *atr_scoring_truth_error(t);
		j->rc = ATR_EINVAL; /* the organisers' file: nothing of it goes to the participant */
	}
	if (j->rc == 0 && !j->truth_only)
		j->rc = atr_scoring_new(t, j->fmt, &s);
	if (j->rc == 0 && !j->truth_only &&
	    (j->rc = feed_file(j->sub_path, s, sub_feed, sub_end)) == ATR_EUNPROCESSABLE)
		j->err = *atr_scoring_error(s);
	if (j->rc == 0 && !j->truth_only && j->split)
		j->rc = api_comp_split_work(j->split, j->truth_path, j->sub_path);
	else if (j->rc == 0 && !j->truth_only)
		compute(j, s, t);
	atr_scoring_free(s);
	atr_scoring_truth_free(t);
}

static void score_after(struct atr_req *r, void *data)
{
	struct api_comp_scoring *j = data;
	const struct atr_competition *k = &RES(r)->comp;
	json_t *o;
	int rc;

	if (j->rc == ATR_EUNPROCESSABLE) {
		atr_store_comp_submission_invalid(STORE(r), j->sub_id, j->err.message);
		atr_reply_unprocessable(r, "body", "%s", j->err.message);
	} else if (j->rc == ATR_EINVAL) {
		/* the log names the kind and the line only: the message could quote the truth */
		atr_log(ATR_LOG_ERROR, "competition %s: its ground truth cannot be read (%s at line %llu)", k->name,
			atr_scoring_errkind_name(j->err.kind), (unsigned long long)j->err.line);
		atr_store_comp_submission_invalid(STORE(r), j->sub_id, "the competition's ground truth cannot be read");
		atr_reply_conflict(r, NULL, "competition '%s' cannot score now: its organisers were told", k->name);
	} else if (j->rc < 0) {
		atr_store_comp_submission_invalid(STORE(r), j->sub_id, "could not be scored");
		atr_reply_err(r, j->rc, NULL, "could not score the submission");
	} else if (j->split) {
		api_comp_scorer_submit_reply(r, j->sub_id, api_comp_scoring_take_split(j));
	} else if ((rc = atr_store_comp_submission_scored(STORE(r), j->sub_id, j->pub_ok, j->pub, j->priv_ok,
							  j->priv)) < 0 ||
		   !(o = atr_store_comp_submission_json(STORE(r), k, j->sub_id, RES(r)->role == ATR_PROLE_OWNER,
							&rc))) {
		atr_reply_err(r, rc, NULL, "could not record the score");
	} else {
		atr_reply_json(r, 201, o);
	}
	api_comp_scoring_free(j);
}

enum atr_scoring_format api_comp_truth_format(const char *path)
{
	size_t n = strlen(path);
	return (n > 6 && strcmp(path + n - 6, ".jsonl") == 0) || (n > 7 && strcmp(path + n - 7, ".ndjson") == 0)
		       ? ATR_SCORING_JSONL
		       : ATR_SCORING_CSV;
}

struct api_comp_scoring *api_comp_scoring_new(struct atr_store *s, const struct atr_competition *k, int64_t id,
					      const char *sha, enum atr_scoring_format fmt, int *rc)
{
	struct api_comp_scoring *j = calloc(1, sizeof(*j));
	struct atr_file truth;

	*rc = j ? atr_store_file_get(s, "dataset_version", k->test_version_id, k->test_path, &truth) : ATR_ENOMEM;
	if (*rc < 0) {
		free(j);
		return NULL;
	}
	j->sub_id = id;
	j->fmt = fmt;
	j->truth_fmt = api_comp_truth_format(k->test_path);
	atr_blob_path(s, truth.sha256, j->truth_path, sizeof(j->truth_path));
	atr_blob_path(s, sha, j->sub_path, sizeof(j->sub_path));
	atr_copy(j->metric, sizeof(j->metric), k->metric);
	atr_copy(j->id_column, sizeof(j->id_column), k->id_column);
	atr_copy(j->label_column, sizeof(j->label_column), k->label_column);
	atr_copy(j->pos_label, sizeof(j->pos_label), k->pos_label);
	atr_copy(j->seed, sizeof(j->seed), k->seed);
	j->fraction = k->public_fraction;
	j->custom = !atr_scoring_metric_find(k->metric);
	if (j->custom && !(j->split = api_comp_split_new(s, k, fmt, rc))) {
		free(j);
		return NULL;
	}
	return j;
}

void api_comp_scoring_free(struct api_comp_scoring *j)
{
	if (!j)
		return;
	api_comp_split_free(j->split);
	free(j);
}

struct api_comp_split *api_comp_scoring_take_split(struct api_comp_scoring *j)
{
	struct api_comp_split *sp = j->split;
	j->split = NULL;
	return sp;
}

/* A scoring job for submission id (its bytes are blob sha); NULL after an answer. */
static struct api_comp_scoring *job_new(struct atr_req *r, int64_t id, const char *sha, enum atr_scoring_format fmt)
{
	int rc;
	struct api_comp_scoring *j = api_comp_scoring_new(STORE(r), &RES(r)->comp, id, sha, fmt, &rc);

	if (!j && rc == ATR_ENOMEM)
		atr_reply_nomem(r, NULL, "out of memory");
	else if (!j)
		atr_reply_conflict(r, NULL, "competition '%s' cannot score now: its organisers were told",
				   RES(r)->comp.name);
	return j;
}

int api_comp_scoring_result(const struct api_comp_scoring *j, struct api_comp_scores *out)
{
	out->pub_ok = j->pub_ok;
	out->pub = j->pub;
	out->priv_ok = j->priv_ok;
	out->priv = j->priv;
	out->err_kind = j->err.kind;
	out->custom = j->custom;
	return j->rc;
}

void api_comp_sub_create(struct atr_req *r)
{
	struct sub_ctx *c = atr_req_ctx(r);
	const struct atr_competition *k = &RES(r)->comp;
	struct atr_comp_submission sub = { 0 };
	struct api_comp_scoring *j;
	char sha[65];
	int64_t id;
	int rc;

	if (!c) {
		atr_reply_invalid(r, "body", "no upload in progress");
		return;
	}
	if (c->model) {
		api_comp_model_submit(r, c->body, (size_t)c->received, c->entry_id, c->arrived_at);
		return;
	}
	rc = atr_upload_commit(STORE(r), c->u, NULL, strcmp(APP(r)->cfg->sync, "full") == 0, sha);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not store the submission");
		return;
	}
	sub = (struct atr_comp_submission){ .comp_id = k->id,
					    .entry_id = c->entry_id,
					    .user_id = atr_req_who(r)->user_id,
					    .format = c->fmt == ATR_SCORING_JSONL ? "jsonl" : "csv",
					    .sha256 = sha,
					    .size = (int64_t)atr_upload_size(c->u),
					    .arrived_at = c->arrived_at };
	rc = atr_store_comp_submission_add(STORE(r), &sub, k->daily_limit, &id);
	if (rc == ATR_ELIMIT) {
		api_comp_reply_limit(r, c->arrived_at);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not record the submission");
		return;
	}
	atr_req_audit_object(r, "competition:%s/submission:%lld", k->name, (long long)id);
	if (!(j = job_new(r, id, sha, c->fmt))) {
		atr_store_comp_submission_invalid(STORE(r), id, "could not be scored");
		return;
	}
	if (atr_req_offload(r, api_comp_scoring_work, score_after, j) < 0) {
		api_comp_scoring_free(j);
		atr_store_comp_submission_invalid(STORE(r), id, "could not be scored");
		atr_reply_unavailable(r, NULL, "could not schedule the scoring");
	}
}

/* ---- a competition being made: its ground truth must read ---- */

static void check_after(struct atr_req *r, void *data)
{
	struct api_comp_scoring *j = data;

	if (j->rc == ATR_EINVAL &&
	    j->err.kind != ATR_SCORING_E_NONE) /* the organiser's own file: the message may quote it */
		atr_reply_invalid(r, "test.path", "the ground truth cannot be scored against: %s", j->err.message);
	else if (j->rc < 0)
		atr_reply_err(r, j->rc, NULL, "could not read the ground truth");
	else
		j->then(r);
	free(j);
}

void api_comp_truth_check(struct atr_req *r, const struct atr_competition_spec *c, void (*then)(struct atr_req *r))
{
	struct api_comp_scoring *j = calloc(1, sizeof(*j));
	struct atr_file truth;

	if (!j) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	if (atr_store_file_get(STORE(r), "dataset_version", c->test_version_id, c->test_path, &truth) < 0) {
		free(j);
		atr_reply_invalid(r, "test.path", "the test version has no file '%s'", c->test_path);
		return;
	}
	j->truth_only = true;
	j->then = then;
	j->truth_fmt = api_comp_truth_format(c->test_path);
	atr_blob_path(STORE(r), truth.sha256, j->truth_path, sizeof(j->truth_path));
	atr_copy(j->metric, sizeof(j->metric), c->metric);
	atr_copy(j->id_column, sizeof(j->id_column), c->id_column);
	atr_copy(j->label_column, sizeof(j->label_column), c->label_column);
	atr_copy(j->pos_label, sizeof(j->pos_label), c->pos_label ? c->pos_label : "");
	j->custom = !atr_scoring_metric_find(c->metric);
	if (atr_req_offload(r, api_comp_scoring_work, check_after, j) < 0) {
		free(j);
		atr_reply_unavailable(r, NULL, "could not schedule the reading of the ground truth");
	}
}
