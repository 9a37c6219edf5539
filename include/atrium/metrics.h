#ifndef ATRIUM_METRICS_H
#define ATRIUM_METRICS_H
/*
 * metrics.h: Prometheus text exposition. The HTTP server counts requests by route and status
 * and their latency; other modules add their own lines through sources (render callbacks).
 */
#include <stddef.h>
#include <stdint.h>

#include "atrium/buf.h"

struct atr_metrics;

typedef void (*atr_metrics_source_fn)(void *cls, struct atr_buf *out);
/* The name of route i (0 <= i < nroutes), for the route="..." label. */
typedef const char *(*atr_metrics_label_fn)(void *cls, size_t i);

int atr_metrics_new(size_t nroutes, atr_metrics_label_fn label, void *label_cls, struct atr_metrics **out);
void atr_metrics_free(struct atr_metrics *m);
/* route_idx: index into the table, or -1 for requests that matched none. */
void atr_metrics_observe(struct atr_metrics *m, int route_idx, unsigned status, uint64_t micros);
void atr_metrics_connections(struct atr_metrics *m, int delta);
int atr_metrics_add_source(struct atr_metrics *m, atr_metrics_source_fn fn, void *cls);
int atr_metrics_render(struct atr_metrics *m, struct atr_buf *out);

/* Shared bucket bounds (seconds) for latency histograms, and a helper to print one. */
#define ATR_HIST_BUCKETS 14
extern const double atr_hist_bounds[ATR_HIST_BUCKETS];
struct atr_hist {
	uint64_t counts[ATR_HIST_BUCKETS + 1]; /* last: +Inf */
	uint64_t count;
	double sum;
};
void atr_hist_observe(struct atr_hist *h, double seconds);
/* name{labels,le="..."} lines; labels may be "" or `a="b"`. */
void atr_hist_render(const struct atr_hist *h, const char *name, const char *labels, struct atr_buf *out);

#endif
