#ifndef ATRIUM_STORE_METRICS_H
#define ATRIUM_STORE_METRICS_H
/*
 * Metric series of runs (src/store/metrics.c). A series is (run, key): one summary row in
 * run_metrics (last, last_step, min, max, count: what run lists show and sort by) and its
 * points packed in metric_chunks (include/atrium/metric_codec.h), appended in arrival order.
 */
#include "atrium/metric_batch.h"
#include "atrium/metric_codec.h"
#include "atrium/store.h"

#define ATR_METRIC_CHUNK_POINTS 1024 /* points per full chunk (24 KiB) */

/*
 * Appends every point of b to the run's series, all or nothing (its own transaction, or
 * the caller's when one is open: the caller then rolls back on failure), keeping
 * each summary row current. A point without a step gets the series' greatest step + 1 (0 for
 * a new series); one without a timestamp gets now_ms. *stored_out (may be NULL) counts them.
 */
int atr_store_metrics_append(struct atr_store *s, int64_t run_id, int64_t project_id, const struct atr_metric_batch *b,
			     int64_t now_ms, size_t *stored_out);

/* The run's series summaries ordered by key (cursor: the last key, page->after_str). */
int atr_store_metrics_list(struct atr_store *s, int64_t run_id, const struct atr_page *p, json_t *arr, bool *more);

/* One series' summary as JSON (new reference), NULL with *err (ATR_ENOTFOUND, ATR_EDB). */
json_t *atr_store_metric_summary(struct atr_store *s, int64_t run_id, const char *key, int *err);

/*
 * Every point of the series (run, key) in arrival order; *in_order says whether that is also
 * step order (otherwise atr_metric_sort them). *pts is malloc'd: free() it. ATR_ENOTFOUND when
 * there is no series.
 */
int atr_store_metric_read(struct atr_store *s, int64_t run_id, const char *key, struct atr_metric_pt **pts, size_t *n,
			  bool *in_order);
/*
 * The same through a private read-only connection to the database at db_path (the store's
 * db_path), for a worker thread: the store's own connection belongs to the loop. WAL lets it
 * read while the loop writes; it sees one consistent snapshot.
 */
int atr_store_metric_read_at(const char *db_path, int64_t run_id, const char *key, struct atr_metric_pt **pts,
			     size_t *n, bool *in_order);

/*
 * At most max points of the series (run, key) from the offset-th, in arrival order (MLflow's
 * metrics/get-history pages through them); *total is its point count. Through the store's
 * connection (db_path NULL) or a private read-only one to db_path (a worker thread's, as
 * atr_store_metric_read_at). *pts is malloc'd (free it); ATR_ENOTFOUND when there is no series.
 */
int atr_store_metric_read_range(struct atr_store *s, const char *db_path, int64_t run_id, const char *key,
				int64_t offset, size_t max, struct atr_metric_pt **pts, size_t *n, int64_t *total);

#endif
