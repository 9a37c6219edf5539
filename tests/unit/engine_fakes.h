#ifndef ATRIUM_TEST_ENGINE_FAKES_H
#define ATRIUM_TEST_ENGINE_FAKES_H
/*
 * engine_fakes.h: what test_engine.c and test_deploy.c share. A fake clock (atr_clock_set)
 * that moves only when a test says; a fake job backend that records what the engine sends,
 * cancels and aborts, and lets the test answer each send (accepted, refused, failed,
 * rejected, no answer) as Atrium's workers would; a real store in a temporary folder with
 * the real migrations; workers registered as src/api/workers.c does; and settle(), which
 * runs the loop's due work (0 ms timers: passes, reconciles) without ever waiting.
 *
 * The engine's tick (dispatch timeouts, suspect workers) is eng_tick(); the deployment
 * controller's is dep_reconcile_all(): the tests call them after moving the clock, because
 * libuv's timers run on the loop's own time, not on the fake clock. The real ticks (1 s,
 * 500 ms, unreferenced) may still fire inside a settle() of a slow run: they then do at the
 * test's time what the test would have asked for, so no test depends on them firing or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "atrium/credentials.h"
#include "atrium/db.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/principal.h"
#include "atrium/store.h"
#include "atrium/store_identity.h"
#include "atrium/store_jobs.h"
#include "atrium/store_projects.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"

/* ---- the fake clock ---- */

static int64_t fake_clock_us;

static inline int64_t fake_clock(void)
{
	return fake_clock_us;
}

/* Starts the fake clock at a fixed instant (2023-11-14T22:13:20Z). */
static inline void fake_clock_start(void)
{
	fake_clock_us = INT64_C(1700000000000000);
	atr_clock_set(fake_clock);
}

static inline void fake_clock_advance_ms(int64_t ms)
{
	fake_clock_us += ms * 1000;
}

/* ---- the fake backend ---- */

#define FAKE_MAX 256

struct fake_send {
	int64_t job_id, worker_id;
	int attempt;
	int gpus[ATR_JOB_MAX_GPUS];
	int ngpus;
	char kind[24];
	char token[ATR_TOKEN_MAX];
	char worker_url[256];
	bool answered;
};

struct fake_backend {
	struct fake_send sent[FAKE_MAX];
	int nsent;
	int64_t cancelled[FAKE_MAX]; /* job ids the engine asked to cancel, in order */
	int ncancelled;
	int naborts;
	int revoked; /* calls of the tokens_revoked hook */
};

static inline void fake_send(void *cls, struct atr_engine *e, const struct atr_job_dispatch *d)
{
	struct fake_backend *b = cls;
	struct fake_send *s;

	(void)e;
	if (b->nsent >= FAKE_MAX)
		return;
	s = &b->sent[b->nsent++];
	memset(s, 0, sizeof(*s));
	s->job_id = d->row->id;
	s->worker_id = d->row->worker_id;
	s->attempt = d->row->attempts;
	s->ngpus = d->row->nassigned;
	memcpy(s->gpus, d->row->assigned, sizeof(int) * (size_t)d->row->nassigned);
	atr_copy(s->kind, sizeof(s->kind), d->row->kind);
	atr_copy(s->token, sizeof(s->token), d->token);
	atr_copy(s->worker_url, sizeof(s->worker_url), d->worker_url);
}

static inline void fake_cancel(void *cls, struct atr_engine *e, const struct atr_job_dispatch *d)
{
	struct fake_backend *b = cls;

	(void)e;
	if (b->ncancelled < FAKE_MAX)
		b->cancelled[b->ncancelled++] = d->row->id;
}

static inline void fake_abort(void *cls, int64_t job_id)
{
	struct fake_backend *b = cls;

	(void)job_id;
	b->naborts++;
}

static inline void fake_revoked(void *cls)
{
	struct fake_backend *b = cls;
	b->revoked++;
}

/* The latest send of the job (NULL: never sent). */
static inline struct fake_send *fake_last_send(struct fake_backend *b, int64_t job_id)
{
	for (int i = b->nsent - 1; i >= 0; i--)
		if (b->sent[i].job_id == job_id)
			return &b->sent[i];
	return NULL;
}

static inline int fake_sends_of(const struct fake_backend *b, int64_t job_id)
{
	int n = 0;
	for (int i = 0; i < b->nsent; i++)
		n += b->sent[i].job_id == job_id;
	return n;
}

static inline bool fake_was_cancelled(const struct fake_backend *b, int64_t job_id)
{
	for (int i = 0; i < b->ncancelled; i++)
		if (b->cancelled[i] == job_id)
			return true;
	return false;
}

/* ---- the fixture: loop, store, engine on the fake backend ---- */

struct efx {
	char dir[64];
	uv_loop_t loop;
	struct atr_store *s;
	struct atr_engine *e;
	struct fake_backend be;
	int64_t user, project;
};

/* Runs what is due on the loop (0 ms timers and what they start) without waiting. */
static inline void settle(struct efx *f)
{
	for (int i = 0; i < 50 && uv_run(&f->loop, UV_RUN_NOWAIT); i++)
		;
}

static inline int efx_open(struct efx *f)
{
	struct atr_job_backend backend = {
		.cls = &f->be, .send = fake_send, .cancel = fake_cancel, .abort = fake_abort
	};
	struct atr_engine_opts eo = {
		.store = NULL,
		.backend = &backend,
		.heartbeat_timeout_s = 15,
		.tokens_revoked = fake_revoked,
		.cls = &f->be,
	};

	atr_log_setup(ATR_LOG_ERROR, 0);
	fake_clock_start();
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-eng-XXXXXX");
	if (!mkdtemp(f->dir) || uv_loop_init(&f->loop) != 0 || atr_store_open(f->dir, 0, &f->s) < 0)
		return -1;
	if (atr_store_user_create(f->s, "ann", "Ann", false, NULL, &f->user) < 0 ||
	    atr_store_project_create(f->s, "lab", "", 0, false, NULL, f->user, &f->project) < 0)
		return -1;
	eo.loop = &f->loop;
	eo.store = f->s;
	if (atr_engine_new(&eo, &f->e) < 0)
		return -1;
	settle(f);
	return 0;
}

/* Frees the engine, runs the loop until its handles closed, and checks nothing was left on it. */
static inline int efx_close(struct efx *f)
{
	char cmd[128];
	int left;

	atr_engine_free(f->e);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	left = atr_loop_close(&f->loop);
	atr_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		left++;
	atr_clock_set(NULL);
	return left;
}

/* Registers a worker as POST /api/v1/workers does (row, then the engine told), with ngpus
 * GPUs of that type. Returns its id. */
static inline int64_t efx_worker(struct efx *f, const char *name, int ngpus, const char *gpu_type, int cpus)
{
	json_t *gpus = json_array(), *labels = json_object();
	struct atr_worker_reg reg = { .name = name,
				      .url = "http://127.0.0.1:9",
				      .version = "test",
				      .labels = labels,
				      .gpus = gpus,
				      .cpus = cpus,
				      .memory_mb = 65536 };
	int64_t id = 0, nonce = 0;
	bool existed = false;
	int rc;

	for (int i = 0; i < ngpus; i++)
		json_array_append_new(gpus,
				      json_pack("{s:i, s:s, s:i}", "index", i, "name", gpu_type, "memory_mb", 40960));
	rc = atr_store_begin(f->s);
	if (rc == 0)
		rc = atr_store_worker_register(f->s, &reg, &id, &nonce, &existed);
	if (rc == 0)
		rc = atr_store_commit(f->s);
	else
		atr_store_rollback(f->s);
	json_decref(gpus);
	json_decref(labels);
	if (rc < 0)
		return rc;
	atr_engine_worker_changed(f->e, id, existed);
	return id;
}

/* The job's API object, one field: a string (copied to out) or an integer. */
static inline const char *efx_job_str(struct efx *f, int64_t id, const char *field, char *out, size_t n)
{
	int err;
	json_t *j = atr_store_job_json(f->s, id, &err);

	atr_copy(out, n, atr_json_str(j, field, ""));
	json_decref(j);
	return out;
}

static inline int64_t efx_job_int(struct efx *f, int64_t id, const char *field)
{
	int err;
	json_t *j = atr_store_job_json(f->s, id, &err);
	int64_t v = atr_json_int(j, field, -1);

	json_decref(j);
	return v;
}

/* The number of rows one query counts (SQL is read here, never written). */
static inline int64_t efx_count(struct efx *f, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(atr_db_handle(f->s->db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Whether the job token still authenticates. */
static inline bool efx_token_valid(struct efx *f, const char *token)
{
	struct atr_principal p;
	char hash[65];

	atr_token_hash(token, hash);
	return atr_store_token_lookup(f->s, hash, &p) == 0;
}

/* A worker's final report of (job, attempt). */
static inline int efx_report(struct efx *f, int64_t job_id, int64_t worker_id, int attempt, const char *state,
			     int exit_code, const char *message)
{
	struct atr_job_report rep = { .job_id = job_id,
				      .attempt = attempt,
				      .worker_id = worker_id,
				      .state = state,
				      .has_exit_code = true,
				      .exit_code = exit_code,
				      .message = message };
	return atr_engine_report(f->e, &rep);
}

#endif
