/*
 * sweeps_internal.h: what controller.c (sweeps, submitting, commands) and trials.c (a trial's
 * metric, ASHA, its job's end) share.
 */
#ifndef ATRIUM_SWEEPS_INTERNAL_H
#define ATRIUM_SWEEPS_INTERNAL_H
#include "atrium/sweeps.h"
#include "atrium/engine.h"
#include "atrium/metrics.h"
#include "atrium/store_sweeps.h"
#include "atrium/sweep.h"

#include <stdbool.h>
#include <uv.h>

#define RUN_BUCKETS 4096
#define TIMES_KEPT 65536 /* the last decision times, for /metrics' p99 */

struct sweep;

struct trial {
	struct sweep *sw;
	int64_t id, idx, job_id, run_id;
	unsigned next_rung;
	json_t *rung_values; /* owned: the value recorded at each rung reached */
	double last_value;
	int64_t last_step;
	bool has_value, stopping, ended;
	int64_t stopped_step;
	enum atr_job_state job_state;
	struct atr_job_watch *watch;
	struct trial *next;  /* the sweep's live trials */
	struct trial *hnext; /* the run_id hash chain */
};

struct sweep {
	struct atr_sweeps *owner;
	struct atr_sweep_row row;
	struct atr_space space;
	struct atr_asha asha;
	bool has_asha;
	json_t *spec, *params; /* the launcher version (owned) */
	char launcher_name[64];
	int64_t team_id;
	int64_t next_idx, total, live;
	struct trial *trials;
	struct sweep *next;
};

struct atr_sweeps {
	uv_loop_t *loop;
	struct atr_store *store;
	struct atr_engine *engine;
	uv_timer_t soon;
	bool soon_pending, closing;
	struct sweep *sweeps;
	struct trial *by_run[RUN_BUCKETS];
	struct atr_sweeps_stats stats;
	/* how long atr_sweeps_metrics took for a trial's points (the decision, its write, the
	 * cancel it may send): a histogram, and the last TIMES_KEPT in ns for exact quantiles */
	struct atr_hist hist;
	uint32_t *times;
	size_t ntimes;
	uint64_t max_ns;
};

/* Runs a pass soon (ended trials reaped, free slots filled): passes are coalesced. */
void sw_kick(struct atr_sweeps *sw);

/* A decision took ns (for /metrics). */
void sw_timed(struct atr_sweeps *sw, uint64_t ns);

/* trials.c */
struct trial *trial_new(struct sweep *s, int64_t id, int64_t idx, int64_t job_id, enum atr_job_state state);
void trial_set_run(struct trial *t, int64_t run_id);
/* The trial's job ended: its row says how, it leaves the hash and the sweep's list, freed. */
void trial_reap(struct trial *t);
void trial_free(struct trial *t);

#endif
