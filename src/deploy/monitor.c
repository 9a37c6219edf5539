/*
 * monitor.c: live data for model monitoring. Each capture flush (capture.c, once a second)
 * hands its samples here before they are written: a monitored deployment's successful calls
 * are folded into counts over its reference profile's bins (profile.h), per 5-minute window,
 * and each window touched is added to the stored counts in one small transaction. The request
 * path only queues the sample, as before; a drift query reads windows, never captures. The
 * profile is read from the store when first needed and again after atr_deploy_monitor_reload.
 * Not here: building profiles and the statistics (src/core/), the API (src/api/monitoring.c).
 */
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/profile.h"
#include "atrium/store_monitoring.h"
#include "deploy_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WINDOWS 4 /* windows touched by one flush (a flush spans about a second) */

struct dep_monitor {
	bool loaded;
	struct atr_profile *profile; /* NULL: not monitored */
	int64_t profile_id;
	size_t slots;
	int64_t window[MAX_WINDOWS];
	uint64_t *counts[MAX_WINDOWS];
	int nwin;
};

void dep_monitor_free(struct dep *d)
{
	struct dep_monitor *m = d->mon;

	if (!m)
		return;
	atr_profile_free(m->profile);
	for (int i = 0; i < MAX_WINDOWS; i++)
		free(m->counts[i]);
	free(m);
	d->mon = NULL;
}

void atr_deploy_monitor_reload(struct atr_deploy *dp, int64_t id)
{
	struct dep *d = dep_by_id(dp, id);
	if (d)
		dep_monitor_free(d);
}

static struct dep_monitor *monitor_of(struct dep *d)
{
	struct atr_monitor_settings ms;
	json_t *j;

	if (d->mon && d->mon->loaded)
		return d->mon;
	if (!d->mon && !(d->mon = calloc(1, sizeof(*d->mon))))
		return NULL;
	d->mon->loaded = true;
	if (atr_store_monitor_settings_get(d->dp->o.store, d->row.id, &ms) < 0)
		return d->mon;
	if (ms.profile && (j = json_loads(ms.profile, 0, NULL))) {
		if (atr_profile_from_json(j, &d->mon->profile) == 0) {
			d->mon->profile_id = ms.profile_id;
			d->mon->slots = atr_profile_slots(d->mon->profile);
		}
		json_decref(j);
	}
	atr_monitor_settings_release(&ms);
	return d->mon;
}

/* The counts of window w (a slot taken for it), NULL when full or out of memory. */
static uint64_t *window_counts(struct dep_monitor *m, int64_t w)
{
	for (int i = 0; i < m->nwin; i++)
		if (m->window[i] == w)
			return m->counts[i];
	if (m->nwin == MAX_WINDOWS)
		return NULL;
	if (!m->counts[m->nwin] && !(m->counts[m->nwin] = malloc(m->slots * sizeof(uint64_t))))
		return NULL;
	memset(m->counts[m->nwin], 0, m->slots * sizeof(uint64_t));
	m->window[m->nwin] = w;
	return m->counts[m->nwin++];
}

static void write_windows(struct dep *d)
{
	struct dep_monitor *m = d->mon;

	for (int i = 0; m && i < m->nwin; i++)
		if (atr_store_monitor_counts_add(d->dp->o.store, d->row.id, m->profile_id, m->window[i], m->counts[i],
						 m->slots) < 0)
			atr_warn("deployment '%s': could not write its monitoring counts", d->row.name);
	if (m)
		m->nwin = 0;
}

void dep_monitor_fold(struct atr_deploy *dp, const struct atr_prediction *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dep *d = dep_by_id(dp, q[i].deployment_id);
		struct dep_monitor *m = d ? monitor_of(d) : NULL;
		uint64_t *c;
		int64_t w;
		if (!m || !m->profile || q[i].status < 200 || q[i].status > 299)
			continue;
		w = q[i].created_at - q[i].created_at % ATR_MONITOR_WINDOW_MS;
		if (!(c = window_counts(m, w))) {
			write_windows(d);
			c = window_counts(m, w);
		}
		if (c) {
			atr_profile_fold(m->profile, q[i].request, q[i].request_len, c);
			atr_profile_fold_answer(m->profile, q[i].response, q[i].response_len, c);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct dep *d = dep_by_id(dp, q[i].deployment_id);
		if (d && d->mon && d->mon->nwin)
			write_windows(d);
	}
}

const struct atr_profile *dep_monitor_profile(struct dep *d, int64_t *profile_id)
{
	struct dep_monitor *m = monitor_of(d);

	if (!m || !m->profile)
		return NULL;
	*profile_id = m->profile_id;
	return m->profile;
}
