/*
 * monitoring_quality.c: the live quality part of GET /api/v1/deployments/{name}/drift: the
 * stored sums and class counts of each window (src/store/monitoring.c) added up over the
 * report's windows, and their figures by the task the model declares: in the monitoring
 * settings ("task", "positive_class"), else in its model version's signature ({"task": ...}).
 * The figures themselves are src/core/quality.c's. Not here: taking labels (feedback).
 */
#include "api.h"
#include "atrium/profile.h"
#include "atrium/store_models.h"
#include "atrium/store_monitoring.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

struct quality_q {
	int64_t width, cur;
	enum atr_task task;
	const char *positive;
	struct atr_quality win, total;
	json_t *windows;
};

static void quality_close(struct quality_q *q)
{
	char at[40];
	json_t *o;

	if (q->cur >= 0 && q->win.labelled && (o = atr_quality_task_json(&q->win, q->task, q->positive))) {
		atr_time_format(q->cur, at, sizeof(at));
		json_object_set_new(o, "start", json_string(at));
		json_array_append_new(q->windows, o);
	}
	memset(&q->win, 0, sizeof(q->win));
}

static int on_quality(void *arg, int64_t start, const struct atr_quality *w)
{
	struct quality_q *q = arg;

	if (start - start % q->width != q->cur) {
		quality_close(q);
		q->cur = start - start % q->width;
	}
	atr_quality_merge(&q->win, w);
	atr_quality_merge(&q->total, w);
	return 0;
}

/* The declared task: the settings' (borrowed from *settings), else the model version's
 * signature's (borrowed from *version); *source says which. */
static enum atr_task declared_task(struct atr_req *r, const struct atr_monitor_settings *m, json_t **settings,
				   json_t **version, const char **positive, const char **source)
{
	int err;

	*settings = m && m->settings ? json_loads(m->settings, 0, NULL) : NULL;
	*version = RES(r)->deployment.version_id
			   ? atr_store_model_version_json(STORE(r), RES(r)->deployment.version_id, &err)
			   : NULL;
	return atr_task_declared(*settings, json_object_get(*version, "signature"), positive, source);
}

enum atr_task api_declared_task(struct atr_req *r)
{
	struct atr_monitor_settings m = { 0 };
	json_t *settings = NULL, *version = NULL;
	const char *positive, *source;
	bool have = atr_store_monitor_settings_get(STORE(r), RES(r)->deployment.id, &m) == 0;
	enum atr_task t = declared_task(r, have ? &m : NULL, &settings, &version, &positive, &source);

	json_decref(settings);
	json_decref(version);
	if (have)
		atr_monitor_settings_release(&m);
	return t;
}

json_t *api_monitoring_quality_json(struct atr_req *r, const struct atr_monitor_settings *m, int64_t from, int64_t to,
				    int64_t width, int *rc)
{
	struct quality_q *q = calloc(1, sizeof(*q));
	json_t *settings = NULL, *version = NULL, *o = NULL;
	const char *source = NULL;

	*rc = ATR_ENOMEM;
	if (!q || !(q->windows = json_array()))
		goto out;
	q->width = width;
	q->cur = -1;
	q->task = declared_task(r, m, &settings, &version, &q->positive, &source);
	if ((*rc = atr_store_monitor_quality_each(STORE(r), RES(r)->deployment.id, from, to, on_quality, q)) < 0)
		goto out;
	quality_close(q);
	o = json_pack("{s:o, s:o, s:o, s:O}", "task", q->task ? json_string(atr_task_name(q->task)) : json_null(),
		      "task_source", source ? json_string(source) : json_null(), "total",
		      atr_quality_task_json(&q->total, q->task, q->positive), "windows", q->windows);
	*rc = o ? 0 : ATR_ENOMEM;
out:
	if (q)
		json_decref(q->windows);
	free(q);
	json_decref(settings);
	json_decref(version);
	return o;
}
