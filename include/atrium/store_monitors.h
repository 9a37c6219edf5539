#ifndef ATRIUM_STORE_MONITORS_H
#define ATRIUM_STORE_MONITORS_H
/*
 * Monitors, their history (alerts), notification channels and deliveries (src/store/monitors.c,
 * migration 0028). The evaluator and the notifier (src/deploy/monitors.c, notify.c) and the
 * REST layer (src/api/monitors.c, channels.c) go through these functions only.
 */
#include "atrium/store.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- monitors ---- */

/* A monitor as the evaluator reads it; spec is malloc'd (atr_monitor_row_release). */
struct atr_monitor_row {
	int64_t id, deployment_id, project_id, interval_ms, samples, created_by;
	char name[64], state[12], deployment[64];
	double value; /* NaN: none */
	char *spec;   /* JSON text */
};
void atr_monitor_row_release(struct atr_monitor_row *m);

/* A new monitor (state no_data, checked soon). ATR_ECONFLICT when the name is taken. */
int atr_store_monitor_create(struct atr_store *s, int64_t deployment_id, const char *name, const char *spec,
			     int64_t interval_ms, int64_t user_id, int64_t *id_out);
/* The API object of one of the deployment's monitors (new reference); *err ATR_ENOTFOUND. */
json_t *atr_store_monitor_json(struct atr_store *s, int64_t deployment_id, int64_t id, int *err);
int atr_store_monitor_list(struct atr_store *s, int64_t deployment_id, const struct atr_page *p, json_t *arr,
			   bool *more);
int atr_store_monitor_delete(struct atr_store *s, int64_t deployment_id, int64_t id);
/* Replaces a monitor's spec and interval (a PATCH); it is checked again soon. Its state and
 * history stay. ATR_ENOTFOUND when the deployment has no such monitor. */
int atr_store_monitor_update(struct atr_store *s, int64_t deployment_id, int64_t id, const char *spec,
			     int64_t interval_ms);
/* A paused monitor's turn passes: its next check moves one interval past now, nothing else. */
int atr_store_monitor_snooze(struct atr_store *s, int64_t id, int64_t now);
/* A monitor's state changes, newest first. */
int atr_store_monitor_history(struct atr_store *s, int64_t monitor_id, const struct atr_page *p, json_t *arr,
			      bool *more);

/* Calls fn for each monitor due at now (at most limit), each row released after the call. */
int atr_store_monitors_due(struct atr_store *s, int64_t now, int limit,
			   void (*fn)(void *cls, const struct atr_monitor_row *m), void *cls);
/* Records a check: value (NaN: none), samples, state, the next check. */
int atr_store_monitor_checked(struct atr_store *s, int64_t id, const char *state, double value, int64_t samples,
			      int64_t now);
/* Records a change of state as a history row (the alert); *hid gets its id. */
int atr_store_monitor_change(struct atr_store *s, int64_t id, const char *from, const char *to, double value,
			     int64_t samples, int64_t now, int64_t *hid);
/* What a change's action did: the job it submitted, or why none. */
int atr_store_monitor_action(struct atr_store *s, int64_t hid, int64_t job_id, const char *error);
/* Every monitor with its deployment's name (for /metrics), in id order. */
int atr_store_monitors_each(struct atr_store *s, void (*fn)(void *cls, const struct atr_monitor_row *m), void *cls);

/* ---- notification channels ---- */

int atr_store_channel_create(struct atr_store *s, const char *name, const char *kind, const char *config,
			     const char *secret, int64_t user_id, int64_t *id_out);
/* The API object, never the secret (new reference); *err ATR_ENOTFOUND. */
json_t *atr_store_channel_json(struct atr_store *s, int64_t id, int *err);
int atr_store_channel_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more);
int atr_store_channel_delete(struct atr_store *s, int64_t id);
/* What a sender needs: kind, config (JSON text) and secret, malloc'd (may be NULL). */
int atr_store_channel_get(struct atr_store *s, int64_t id, char kind[16], char **config, char **secret);

/* ---- deliveries ---- */

struct atr_delivery_row {
	int64_t id, channel_id, attempts;
	const char *payload; /* borrowed for the call */
};
int atr_store_delivery_add(struct atr_store *s, int64_t channel_id, int64_t monitor_id, int64_t alert_id,
			   const char *payload, int64_t now);
/* A channel's deliveries, newest first. */
int atr_store_delivery_list(struct atr_store *s, int64_t channel_id, const struct atr_page *p, json_t *arr, bool *more);
/* Marks up to limit pending deliveries due at now as sending and calls fn for each. */
int atr_store_deliveries_due(struct atr_store *s, int64_t now, int limit,
			     void (*fn)(void *cls, const struct atr_delivery_row *d), void *cls);
/* The end of an attempt: status delivered | pending (retry at next_at) | failed. */
int atr_store_delivery_result(struct atr_store *s, int64_t id, const char *status, int64_t attempts, long http_status,
			      const char *error, int64_t next_at);
/* After a restart: deliveries left 'sending' are pending again. */
int atr_store_deliveries_reset(struct atr_store *s);

#endif
