#ifndef ATRIUM_SWEEPS_H
#define ATRIUM_SWEEPS_H
/*
 * sweeps.h: the sweep controller of `atrium serve` (src/sweeps/), on the loop. It keeps the
 * running and paused sweeps in memory (rebuilt from the store at start), submits their trials
 * through the launcher (one job with its run each, atrium/launcher.h) up to each sweep's
 * parallelism, hears the trials' metric as their runs log it (atr_sweeps_metrics: a lookup by
 * run id), decides with ASHA (atrium/sweep.h) and cancels the trials that fall behind; when a
 * trial's job ends, the next trial is submitted in its place. Access checks are the API's.
 */
#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
struct atr_store;
struct atr_engine;
struct atr_metric_batch;
struct atr_metrics;
struct atr_sweeps;

struct atr_sweeps_opts {
	struct uv_loop_s *loop;
	struct atr_store *store;
	struct atr_engine *engine;
	struct atr_metrics *metrics; /* may be NULL: the decision times are rendered there */
};

/* Loads the running and paused sweeps and their live trials. */
int atr_sweeps_new(const struct atr_sweeps_opts *o, struct atr_sweeps **out);
/* Unwatches the trials' jobs (the engine must still exist) and frees after the loop closes its timer. */
void atr_sweeps_free(struct atr_sweeps *sw);

/*
 * Takes in a sweep whose row was just committed and submits its first trials now. When the
 * first trial cannot be submitted (a value the launcher refuses: ATR_EINVAL; no worker could
 * run it: ATR_EUNPROCESSABLE), nothing was submitted: the caller deletes the sweep and names
 * field and msg in its reply. Later submission failures fail only that trial's slot.
 */
int atr_sweeps_start(struct atr_sweeps *sw, int64_t sweep_id, char *field, size_t fieldlen, char *msg, size_t msglen);
/* No new trials (running ones go on) / new trials again / every live trial cancelled.
 * ATR_ECONFLICT when the sweep's state does not allow it, ATR_ENOTFOUND when not active. */
int atr_sweeps_pause(struct atr_sweeps *sw, int64_t sweep_id);
int atr_sweeps_resume(struct atr_sweeps *sw, int64_t sweep_id);
int atr_sweeps_cancel(struct atr_sweeps *sw, int64_t sweep_id);

/* Points were just stored for run_id (from the metrics endpoints): a trial's run feeds ASHA.
 * Costs one hash lookup for any other run. */
void atr_sweeps_metrics(struct atr_sweeps *sw, int64_t run_id, const struct atr_metric_batch *b);

/* Figures for /metrics and the benchmark: ASHA decisions taken (one per reported point of a
 * trial's metric), trials stopped and submitted. */
struct atr_sweeps_stats {
	uint64_t decisions, stopped, submitted;
};
void atr_sweeps_stats(struct atr_sweeps *sw, struct atr_sweeps_stats *out);

#endif
