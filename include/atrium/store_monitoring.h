#ifndef ATRIUM_STORE_MONITORING_H
#define ATRIUM_STORE_MONITORING_H
/*
 * Model monitoring's tables (src/store/monitoring.c): reference profiles (once per dataset
 * version and settings), each deployment's monitoring settings, and the live counts per
 * 5-minute window (vectors of little-endian uint64 over a profile's slots, profile.h).
 */
#include "atrium/profile.h"
#include "atrium/store.h"

#define ATR_MONITOR_WINDOW_MS 300000

/* A deployment's settings; settings and profile (the profile's JSON text, NULL when none) are
 * malloc'd copies: atr_monitor_settings_release frees them. */
struct atr_monitor_settings {
	int64_t deployment_id, dataset_version_id, profile_id, updated_at, updated_by;
	char source[16]; /* lineage | explicit */
	char *settings;
	char *profile;
};
void atr_monitor_settings_release(struct atr_monitor_settings *m);

/* The profile stored for (dsv, settings): *id and *text (malloc'd; may be NULL). ATR_ENOTFOUND. */
int atr_store_monitor_profile_find(struct atr_store *s, int64_t dsv_id, const char *settings, int64_t *id, char **text);
/* Stores a profile (kept if one is there already); *id gets the stored one's. */
int atr_store_monitor_profile_put(struct atr_store *s, int64_t dsv_id, const char *settings, const char *profile,
				  int64_t *id);

/* Writes (inserts or replaces) m's row (profile ignored). */
int atr_store_monitor_settings_put(struct atr_store *s, const struct atr_monitor_settings *m);
/* Reads a deployment's settings with its profile's text. ATR_ENOTFOUND. */
int atr_store_monitor_settings_get(struct atr_store *s, int64_t deployment_id, struct atr_monitor_settings *out);
/* Removes a deployment's settings and counts. */
int atr_store_monitor_settings_delete(struct atr_store *s, int64_t deployment_id);

/* Adds add[n] to the window's counts (created at zero), in one transaction. */
int atr_store_monitor_counts_add(struct atr_store *s, int64_t deployment_id, int64_t profile_id, int64_t window_start,
				 const uint64_t *add, size_t n);
/* Calls fn for each window in [from, to) in order, with its counts (n slots; shorter rows
 * padded with zeros). fn returning nonzero stops (that value is returned). */
typedef int (*atr_monitor_window_fn)(void *arg, int64_t window_start, const uint64_t *counts, size_t n);
int atr_store_monitor_counts_each(struct atr_store *s, int64_t deployment_id, int64_t profile_id, int64_t from,
				  int64_t to, size_t n, atr_monitor_window_fn fn, void *arg);

/* Records a label for a prediction id: *added false when the id had one already (kept). */
int atr_store_monitor_feedback_add(struct atr_store *s, int64_t deployment_id, const char *prediction_id,
				   const char *label_json, bool *added);
/* Adds q to the quality sums of a window. */
int atr_store_monitor_quality_add(struct atr_store *s, int64_t deployment_id, int64_t window_start,
				  const struct atr_quality *q);
/* Calls fn for each window of quality sums in [from, to) in order (nonzero stops). */
typedef int (*atr_monitor_quality_fn)(void *arg, int64_t window_start, const struct atr_quality *q);
int atr_store_monitor_quality_each(struct atr_store *s, int64_t deployment_id, int64_t from, int64_t to,
				   atr_monitor_quality_fn fn, void *arg);

#endif
