/*
 * capture.c: prediction capture. A finished gateway call is sampled at its deployment's
 * rate; the sample (request and response bodies cut to the deployment's cap, version,
 * latency, status, time) waits in memory and a timer writes the queue once a second in
 * one transaction, then prunes each deployment it wrote for to its retention (newest
 * max_rows, none older than max_age_s). Every minute every deployment is pruned by age.
 * Before the write, monitored deployments' samples are folded into their drift counts
 * (monitor.c): in the batch, never on the request's path.
 * The queue has a cap: past it samples are dropped and counted, so a slow disk never
 * grows the daemon's memory.
 */
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <stdlib.h>
#include <string.h>

#define FLUSH_MS 1000
#define PRUNE_EVERY_MS 60000

static char *copy_cut(const char *data, size_t len, size_t cap, size_t *out_len)
{
	size_t n = len < cap ? len : cap;
	char *c = malloc(n + 1);
	if (!c)
		return NULL;
	if (n)
		memcpy(c, data, n);
	c[n] = 0;
	*out_len = n;
	return c;
}

static void entry_release(struct atr_prediction *p)
{
	free(p->content_type);
	free(p->request);
	free(p->response);
	memset(p, 0, sizeof(*p));
}

void dep_capture(struct dep *d, int64_t version_id, int64_t version, unsigned status, uint64_t micros,
		 const char *content_type, const char *req, size_t req_len, const char *resp, size_t resp_len,
		 const char *request_id)
{
	struct atr_deploy *dp = d->dp;
	struct atr_prediction *p;
	size_t cap = (size_t)d->row.capture_max_bytes;

	if (d->deleted || d->row.sample_rate <= 0 ||
	    (d->row.sample_rate < 1 && (double)(atr_fast_rand() % 1000000) >= d->row.sample_rate * 1e6))
		return;
	if (dp->queued >= DEP_CAPTURE_MAX ||
	    (!dp->queue && !(dp->queue = calloc(DEP_CAPTURE_MAX, sizeof(*dp->queue))))) {
		dp->capture_dropped++;
		return;
	}
	p = &dp->queue[dp->queued];
	p->deployment_id = d->row.id;
	p->version_id = version_id;
	p->version = version;
	p->created_at = atr_now_ms();
	p->latency_us = (int64_t)micros;
	p->status = (int)status;
	p->request_size = req_len;
	p->response_size = resp_len;
	p->content_type = content_type && *content_type ? atr_strdup(content_type) : NULL;
	atr_copy(p->request_id, sizeof(p->request_id), request_id && strcmp(request_id, "-") != 0 ? request_id : "");
	p->request = copy_cut(req ? req : "", req_len, cap, &p->request_len);
	p->response = copy_cut(resp ? resp : "", resp_len, cap, &p->response_len);
	if (!p->request || !p->response) {
		entry_release(p);
		dp->capture_dropped++;
		return;
	}
	dp->queued++;
}

static void prune(struct dep *d)
{
	int64_t deleted = 0, before = d->row.capture_max_age_s > 0 ? atr_now_ms() - d->row.capture_max_age_s * 1000 : 0;

	if (atr_store_predictions_prune(d->dp->o.store, d->row.id, d->row.capture_max_rows, before, &deleted) < 0)
		atr_warn("deployment '%s': could not prune its captured predictions", d->row.name);
	else if (deleted)
		atr_debug("deployment '%s': %lld captured predictions past retention removed", d->row.name,
			  (long long)deleted);
}

void dep_capture_flush(struct atr_deploy *dp)
{
	size_t n = 0;

	/* samples of deployments deleted meanwhile have nowhere to go */
	for (size_t i = 0; i < dp->queued; i++) {
		if (!dep_by_id(dp, dp->queue[i].deployment_id)) {
			entry_release(&dp->queue[i]);
			continue;
		}
		if (n != i) {
			dp->queue[n] = dp->queue[i];
			memset(&dp->queue[i], 0, sizeof(dp->queue[i]));
		}
		n++;
	}
	dp->queued = n;
	if (n)
		dep_monitor_fold(dp, dp->queue, n);
	if (n && atr_store_predictions_insert(dp->o.store, dp->queue, n) < 0) {
		atr_warn("could not write %zu captured predictions; they are dropped", n);
		dp->capture_dropped += n;
	}
	for (size_t i = 0; i < n; i++) {
		struct dep *d = dep_by_id(dp, dp->queue[i].deployment_id);
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = dp->queue[k].deployment_id == dp->queue[i].deployment_id;
		if (d && !seen)
			prune(d);
	}
	for (size_t i = 0; i < n; i++)
		entry_release(&dp->queue[i]);
	dp->queued = 0;
	if (atr_now_ms() >= dp->next_prune_ms) {
		dp->next_prune_ms = atr_now_ms() + PRUNE_EVERY_MS;
		for (struct dep *d = dp->deps; d; d = d->next)
			if (d->row.capture_max_age_s > 0)
				prune(d);
	}
}

static void on_flush(uv_timer_t *t)
{
	dep_capture_flush(t->data);
}

void dep_capture_start(struct atr_deploy *dp)
{
	dp->next_prune_ms = atr_now_ms() + PRUNE_EVERY_MS;
	uv_unref((uv_handle_t *)&dp->flush);
	uv_timer_start(&dp->flush, on_flush, FLUSH_MS, FLUSH_MS);
}

void dep_capture_release(struct atr_deploy *dp)
{
	for (size_t i = 0; i < dp->queued; i++)
		entry_release(&dp->queue[i]);
	free(dp->queue);
	dp->queue = NULL;
	dp->queued = 0;
}
