/*
 * stats.c: gateway statistics, kept in memory per deployment and per version (requests,
 * errors — answers of 500 and above, the gateway's own 502/503/504 included — requests in
 * flight, a latency histogram), rendered for /metrics and for GET .../stats with
 * percentiles estimated from the histogram; and the same per 10-second bucket over the last
 * 30 minutes (the dashboard's charts), in a ring allocated at a deployment's first request
 * (about 30 KiB). They start at zero when the daemon starts.
 */
#include "atrium/buf.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <stdlib.h>
#include <string.h>

struct dep_stats *dep_vstats(struct dep *d, int64_t version)
{
	struct dep_vstats *v;

	for (int i = 0; i < d->nvstats; i++)
		if (d->vstats[i].version == version)
			return &d->vstats[i].s;
	if (d->nvstats == DEP_MAX_VSTATS) {
		/* forget the oldest version with nothing in flight */
		int victim = -1;
		for (int i = 0; i < d->nvstats && victim < 0; i++)
			if (d->vstats[i].s.in_flight == 0)
				victim = i;
		if (victim < 0)
			return NULL;
		memmove(&d->vstats[victim], &d->vstats[victim + 1],
			sizeof(d->vstats[0]) * (size_t)(d->nvstats - victim - 1));
		d->nvstats--;
	}
	v = &d->vstats[d->nvstats++];
	memset(v, 0, sizeof(*v));
	v->version = version;
	return &v->s;
}

static void observe(struct dep_stats *s, unsigned status, uint64_t micros)
{
	s->requests++;
	if (status >= 500)
		s->errors++;
	atr_hist_observe(&s->latency, (double)micros / 1e6);
}

/* The bucket of now_ms in the ring (emptied when it held an older bucket); NULL without memory. */
static struct dep_bucket *series_bucket(struct dep *d, int64_t now_ms)
{
	int64_t start = now_ms - now_ms % DEP_SERIES_BUCKET_MS;
	struct dep_bucket *b;

	if (!d->series && !(d->series = calloc(DEP_SERIES_BUCKETS, sizeof(*d->series))))
		return NULL;
	b = &d->series[(start / DEP_SERIES_BUCKET_MS) % DEP_SERIES_BUCKETS];
	if (b->start != start) {
		memset(b, 0, sizeof(*b));
		b->start = start;
	}
	return b;
}

void dep_stats_observe(struct dep *d, int64_t version, unsigned status, uint64_t micros)
{
	struct dep_stats *v = dep_vstats(d, version);
	struct dep_bucket *b = series_bucket(d, atr_now_ms());

	observe(&d->total, status, micros);
	if (v)
		observe(v, status, micros);
	if (b) /* without memory for the ring, only the series misses the call */
		observe(&b->s, status, micros);
}

/* The q-quantile (0..1) in milliseconds, linear within the histogram's bucket. */
static double quantile_ms(const struct atr_hist *h, double q)
{
	double want = q * (double)h->count, lo = 0, cum = 0;

	if (h->count == 0)
		return 0;
	for (size_t i = 0; i <= ATR_HIST_BUCKETS; i++) {
		double hi = i < ATR_HIST_BUCKETS ? atr_hist_bounds[i] : atr_hist_bounds[ATR_HIST_BUCKETS - 1] * 2;
		double n = (double)h->counts[i];
		if (n > 0 && cum + n >= want)
			return (lo + (hi - lo) * ((want - cum) / n)) * 1000.0;
		cum += n;
		lo = hi;
	}
	return lo * 1000.0;
}

static json_t *latency_json(const struct atr_hist *h)
{
	return json_pack("{s:f, s:f, s:f, s:f}", "mean", h->count ? h->sum * 1000.0 / (double)h->count : 0.0, "p50",
			 quantile_ms(h, 0.5), "p90", quantile_ms(h, 0.9), "p99", quantile_ms(h, 0.99));
}

static json_t *stats_json(const struct dep_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:o}", "requests", (json_int_t)s->requests, "errors", (json_int_t)s->errors,
			 "in_flight", (json_int_t)s->in_flight, "latency_ms", latency_json(&s->latency));
}

/*
 * {"bucket_s", "items": [{"start", "requests", "errors", "latency_ms" (null: no request)}]}:
 * every bucket of the last 30 minutes (from the daemon's start when that is later) up to the
 * current one, oldest first, empty ones included.
 */
static json_t *series_json(const struct dep *d, int64_t now_ms, int64_t since_ms)
{
	const int64_t w = DEP_SERIES_BUCKET_MS;
	int64_t last = now_ms - now_ms % w, first = last - (DEP_SERIES_BUCKETS - 1) * w;
	json_t *items = json_array();
	char ts[40];

	if (since_ms - since_ms % w > first)
		first = since_ms - since_ms % w;
	for (int64_t t = first; items && t <= last; t += w) {
		const struct dep_bucket *b = d->series ? &d->series[(t / w) % DEP_SERIES_BUCKETS] : NULL;
		const struct dep_stats *s = b && b->start == t ? &b->s : NULL;
		json_t *o;

		atr_time_format(t, ts, sizeof(ts));
		o = json_pack("{s:s, s:I, s:I, s:o}", "start", ts, "requests", (json_int_t)(s ? s->requests : 0),
			      "errors", (json_int_t)(s ? s->errors : 0), "latency_ms",
			      s && s->requests ? latency_json(&s->latency) : json_null());
		if (!o || json_array_append_new(items, o) < 0) {
			json_decref(items);
			return NULL;
		}
	}
	return items ? json_pack("{s:I, s:o}", "bucket_s", (json_int_t)(w / 1000), "items", items) : NULL;
}

json_t *dep_stats_json(struct dep *d)
{
	json_t *o = stats_json(&d->total), *versions = json_array(),
	       *series = series_json(d, atr_now_ms(), d->dp->o.started_ms);
	char since[40];

	if (!o || !versions || !series) {
		json_decref(o);
		json_decref(versions);
		json_decref(series);
		return NULL;
	}
	for (int i = 0; i < d->nvstats; i++) {
		json_t *v = stats_json(&d->vstats[i].s);
		if (!v)
			continue;
		json_object_set_new(v, "version",
				    d->vstats[i].version ? json_integer(d->vstats[i].version) : json_null());
		json_array_append_new(versions, v);
	}
	atr_time_format(d->dp->o.started_ms, since, sizeof(since));
	json_object_set_new(o, "deployment", json_string(d->row.name));
	json_object_set_new(o, "since", json_string(since));
	json_object_set_new(o, "versions", versions);
	json_object_set_new(o, "series", series);
	return o;
}

static void version_label(char *out, size_t n, const struct dep *d, int64_t version)
{
	if (version)
		snprintf(out, n, "deployment=\"%s\",version=\"%lld\"", d->row.name, (long long)version);
	else
		snprintf(out, n, "deployment=\"%s\",version=\"none\"", d->row.name);
}

void dep_metrics_render(void *cls, struct atr_buf *out)
{
	static const char *const families[][3] = {
		{ "atrium_deployment_requests_total", "counter", "Inference requests through the gateway." },
		{ "atrium_deployment_errors_total", "counter",
		  "Inference answers of 500 and above (gateway errors included)." },
		{ "atrium_deployment_in_flight", "gauge", "Inference requests waiting for a replica." },
	};
	static const char *const svc[] = { "pending", "starting", "ready", "restarting" };
	struct atr_deploy *dp = cls;
	char labels[200];

	for (size_t f = 0; f < 3; f++) {
		atr_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f][0], families[f][2], families[f][0],
			       families[f][1]);
		for (struct dep *d = dp->deps; d; d = d->next)
			for (int i = 0; i < d->nvstats; i++) {
				const struct dep_stats *s = &d->vstats[i].s;
				version_label(labels, sizeof(labels), d, d->vstats[i].version);
				atr_buf_printf(out, "%s{%s} %lld\n", families[f][0], labels,
					       f == 0	? (long long)s->requests
					       : f == 1 ? (long long)s->errors
							: (long long)s->in_flight);
			}
	}
	atr_buf_puts(out, "# HELP atrium_deployment_request_duration_seconds Inference latency through the gateway.\n"
			  "# TYPE atrium_deployment_request_duration_seconds histogram\n");
	for (struct dep *d = dp->deps; d; d = d->next)
		for (int i = 0; i < d->nvstats; i++) {
			version_label(labels, sizeof(labels), d, d->vstats[i].version);
			atr_hist_render(&d->vstats[i].s.latency, "atrium_deployment_request_duration_seconds", labels,
					out);
		}
	atr_buf_puts(out,
		     "# HELP atrium_deployment_replicas Replicas by state.\n# TYPE atrium_deployment_replicas gauge\n");
	for (struct dep *d = dp->deps; d; d = d->next) {
		int n[4] = { 0 };
		for (struct dep_replica *r = d->reps; r; r = r->next)
			n[r->svc]++;
		for (int k = 0; k < 4; k++)
			atr_buf_printf(out, "atrium_deployment_replicas{deployment=\"%s\",state=\"%s\"} %d\n",
				       d->row.name, svc[k], n[k]);
	}
	atr_buf_puts(out, "# HELP atrium_deployment_ready Whether the deployment is ready (1) or not (0).\n"
			  "# TYPE atrium_deployment_ready gauge\n");
	for (struct dep *d = dp->deps; d; d = d->next)
		atr_buf_printf(out, "atrium_deployment_ready{deployment=\"%s\",state=\"%s\"} %d\n", d->row.name,
			       d->row.state, !strcmp(d->row.state, "ready"));
	atr_buf_printf(out,
		       "# HELP atrium_deployment_captures_dropped_total Captured predictions dropped (queue full).\n"
		       "# TYPE atrium_deployment_captures_dropped_total counter\n"
		       "atrium_deployment_captures_dropped_total %llu\n",
		       (unsigned long long)dp->capture_dropped);
}
