/*
 * monitoring_feedback.c: POST /api/v1/deployments/{name}/feedback: ground-truth labels for
 * prediction ids (the X-Request-Id of the gateway's answers), up to 10,000 a call, days later
 * too. Each new label is kept; when its prediction was captured, the prediction is read from
 * the captured answer and the pair is added to the quality sums of the prediction's window
 * (src/core/quality.c), which GET .../drift reports. A label for an id already labelled is a
 * duplicate and changes nothing.
 */
#include "api.h"
#include "atrium/profile.h"
#include "atrium/store_deployments.h"
#include "atrium/store_monitoring.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 10000
#define MAX_UNMATCHED_IDS 100

static const struct atr_field label_schema[] = {
	{ "id", ATR_F_STRING, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "label", ATR_F_ANY, ATR_FF_REQUIRED, 0, 4096, NULL, NULL },
	{ "row", ATR_F_INT, 0, 0, 100000, NULL, NULL },
	{ 0 },
};

const struct atr_field api_feedback_schema[] = {
	{ "labels", ATR_F_ARRAY, ATR_FF_REQUIRED, 1, MAX_LABELS, NULL, label_schema },
	{ 0 },
};

struct fb {
	int64_t dep, window;
	struct atr_quality q;
	int64_t received, matched, duplicates, unmatched;
	json_t *unmatched_ids;
	int rc;
};

static void flush_window(struct atr_req *r, struct fb *f)
{
	if (f->q.labelled && f->rc == 0)
		f->rc = atr_store_monitor_quality_add(STORE(r), f->dep, f->window, &f->q);
	memset(&f->q, 0, sizeof(f->q));
}

/* The captured prediction for id (row): *window its window; NULL when not captured. */
static json_t *captured(struct atr_req *r, struct fb *f, const char *id, size_t row, int64_t *window,
			const json_t **pred)
{
	char *resp = NULL;
	size_t len = 0;
	int64_t at = 0;
	json_t *j = NULL;

	*pred = NULL;
	if (atr_store_prediction_find(STORE(r), f->dep, id, &at, &resp, &len) == 0 && resp &&
	    (j = json_loadb(resp, len, JSON_DECODE_ANY, NULL)))
		*pred = atr_prediction_value(j, row);
	free(resp);
	*window = at - at % ATR_MONITOR_WINDOW_MS;
	return j;
}

static void one_label(struct atr_req *r, struct fb *f, const json_t *item)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	const json_t *label = json_object_get(item, "label"), *pred;
	char *text = atr_json_write(label, NULL);
	bool added = false;
	int64_t window;
	json_t *answer;

	f->received++;
	if (!text || (f->rc = atr_store_monitor_feedback_add(STORE(r), f->dep, id, text, &added)) < 0 || !added) {
		f->duplicates += f->rc == 0 && text;
		free(text);
		return;
	}
	free(text);
	answer = captured(r, f, id, (size_t)atr_json_int(item, "row", 0), &window, &pred);
	if (!pred || json_is_null(label)) {
		f->unmatched++;
		if (json_array_size(f->unmatched_ids) < MAX_UNMATCHED_IDS)
			json_array_append_new(f->unmatched_ids, json_string(id));
	} else {
		if (window != f->window)
			flush_window(r, f);
		f->window = window;
		atr_quality_add(&f->q, label, pred);
		f->matched++;
	}
	json_decref(answer);
}

void api_monitoring_feedback(struct atr_req *r)
{
	struct fb f = { .dep = RES(r)->deployment.id, .window = -1, .unmatched_ids = json_array() };
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(atr_req_body(r), "labels"), i, item)
	{
		if (f.rc < 0 || !f.unmatched_ids)
			break;
		one_label(r, &f, item);
	}
	flush_window(r, &f);
	if (f.rc < 0 || !f.unmatched_ids) {
		json_decref(f.unmatched_ids);
		atr_reply_err(r, f.rc < 0 ? f.rc : ATR_ENOMEM, NULL, "could not record the labels");
		return;
	}
	atr_reply_json(r, 200,
		       json_pack("{s:I, s:I, s:I, s:I, s:o}", "received", (json_int_t)f.received, "matched",
				 (json_int_t)f.matched, "duplicates", (json_int_t)f.duplicates, "unmatched",
				 (json_int_t)f.unmatched, "unmatched_ids", f.unmatched_ids));
}
