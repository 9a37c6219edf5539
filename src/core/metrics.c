/* metrics.c: request counters and latency histograms, rendered in Prometheus text format.
 * No HTTP here: the server reports each request (route index, status, time) and the route
 * names come from a label callback. */
#include "atrium/metrics.h"
#include "atrium/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double atr_hist_bounds[ATR_HIST_BUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
						   0.025,  0.05,    0.1,    0.25,  0.5,	   1,	  5 };

static const unsigned statuses[] = { 200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 405,
				     409, 412, 413, 415, 416, 422, 429, 500, 502, 503, 504 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* last: other */

struct route_stats {
	uint64_t by_status[NSTATUS];
	struct atr_hist latency;
};

struct source {
	atr_metrics_source_fn fn;
	void *cls;
};

struct atr_metrics {
	atr_metrics_label_fn label;
	void *label_cls;
	size_t nroutes;
	struct route_stats *stats; /* nroutes + 1: the last is "unmatched" */
	int64_t connections;
	struct source sources[16];
	size_t nsources;
};

int atr_metrics_new(size_t nroutes, atr_metrics_label_fn label, void *label_cls, struct atr_metrics **out)
{
	struct atr_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return ATR_ENOMEM;
	m->stats = calloc(nroutes + 1, sizeof(*m->stats));
	if (!m->stats) {
		free(m);
		return ATR_ENOMEM;
	}
	m->label = label;
	m->label_cls = label_cls;
	m->nroutes = nroutes;
	*out = m;
	return 0;
}

void atr_metrics_free(struct atr_metrics *m)
{
	if (!m)
		return;
	free(m->stats);
	free(m);
}

void atr_hist_observe(struct atr_hist *h, double seconds)
{
	size_t i = 0;
	while (i < ATR_HIST_BUCKETS && seconds > atr_hist_bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

void atr_hist_render(const struct atr_hist *h, const char *name, const char *labels, struct atr_buf *out)
{
	uint64_t cum = 0;
	const char *sep = *labels ? "," : "";
	for (size_t i = 0; i < ATR_HIST_BUCKETS; i++) {
		cum += h->counts[i];
		atr_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, atr_hist_bounds[i],
			       (unsigned long long)cum);
	}
	cum += h->counts[ATR_HIST_BUCKETS];
	atr_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
	atr_buf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum, name, labels,
		       (unsigned long long)h->count);
}

void atr_metrics_observe(struct atr_metrics *m, int route_idx, unsigned status, uint64_t micros)
{
	struct route_stats *rs = &m->stats[route_idx < 0 ? m->nroutes : (size_t)route_idx];
	size_t s = 0;
	while (s < NSTATUS - 1 && statuses[s] != status)
		s++;
	rs->by_status[s]++;
	atr_hist_observe(&rs->latency, (double)micros / 1e6);
}

void atr_metrics_connections(struct atr_metrics *m, int delta)
{
	m->connections += delta;
}

int atr_metrics_add_source(struct atr_metrics *m, atr_metrics_source_fn fn, void *cls)
{
	if (m->nsources >= sizeof(m->sources) / sizeof(m->sources[0]))
		return ATR_ELIMIT;
	m->sources[m->nsources].fn = fn;
	m->sources[m->nsources].cls = cls;
	m->nsources++;
	return 0;
}

static const char *route_label(struct atr_metrics *m, size_t i)
{
	return i < m->nroutes && m->label ? m->label(m->label_cls, i) : "unmatched";
}

int atr_metrics_render(struct atr_metrics *m, struct atr_buf *out)
{
	atr_buf_puts(out, "# HELP atrium_http_requests_total HTTP requests by route and status.\n"
			  "# TYPE atrium_http_requests_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			if (!m->stats[i].by_status[s])
				continue;
			if (s < NSTATUS - 1)
				atr_buf_printf(out, "atrium_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
					       route_label(m, i), statuses[s],
					       (unsigned long long)m->stats[i].by_status[s]);
			else
				atr_buf_printf(out, "atrium_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
					       route_label(m, i), (unsigned long long)m->stats[i].by_status[s]);
		}
	}
	atr_buf_puts(out, "# HELP atrium_http_request_duration_seconds Time from request to answer.\n"
			  "# TYPE atrium_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		char labels[160];
		if (!m->stats[i].latency.count)
			continue;
		snprintf(labels, sizeof(labels), "route=\"%s\"", route_label(m, i));
		atr_hist_render(&m->stats[i].latency, "atrium_http_request_duration_seconds", labels, out);
	}
	atr_buf_printf(out,
		       "# HELP atrium_http_open_connections Open client connections.\n"
		       "# TYPE atrium_http_open_connections gauge\natrium_http_open_connections %lld\n",
		       (long long)m->connections);
	for (size_t i = 0; i < m->nsources; i++)
		m->sources[i].fn(m->sources[i].cls, out);
	return 0;
}
