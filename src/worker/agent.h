#ifndef ATRIUM_WORKER_AGENT_H
#define ATRIUM_WORKER_AGENT_H
/*
 * agent.h: private to src/worker/: the agent's state and the functions its files share.
 * main.c (lifecycle, shutdown), link.c (register, heartbeat, deregister, inventory),
 * routes.c (its own HTTP API), jobs.c (running jobs, shipping logs, reporting).
 */
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "atrium/auth.h"
#include "atrium/client.h"
#include "atrium/config.h"
#include "atrium/gpu.h"
#include "atrium/http.h"
#include "atrium/worker_runner.h"

#define AGENT_MAX_JOBS 256         /* jobs at once on one worker */
#define AGENT_KILL_GRACE_MS 10000  /* cancel: SIGTERM, then SIGKILL this much later */
#define AGENT_SHIP_BATCH (256u << 10)

struct agent_job {
	struct agent_job *next;
	struct agent *a;
	int64_t id, run_id, attempt;
	int gpus[ATR_GPU_MAX];
	int ngpus;
	char *token;
	struct atr_proc *proc;
	bool ended;          /* the process is done and its output is all in the spool */
	uint64_t acked;      /* log bytes the server has */
	bool log_lost;       /* a range could not be read back: shipping stopped */
	struct atr_xfer *ship, *report;
	uv_timer_t timer;    /* batching and retries of shipping and reporting */
	int failures;
};

struct agent {
	uv_loop_t *loop;
	struct atr_worker_config *cfg;
	struct atr_client *client;
	struct atr_server *http;
	char server[256];    /* base URL, no trailing '/' */
	char url[300];       /* this worker's API base URL, as the server should use it */
	char name[64];
	char work_dir[1024]; /* absolute */
	json_t *labels;
	/* identity, from the last registration */
	bool registered;
	int64_t worker_id;
	char secret[ATR_TOKEN_MAX];
	uint64_t heartbeat_ms;
	/* inventory */
	struct atr_gpu gpus[ATR_GPU_MAX];
	int ngpus;
	int fake_gpus; /* -1: ask nvidia-smi */
	struct atr_gpu_probe *probe;
	bool heartbeat_after_probe;
	/* talking to the server */
	uv_timer_t reg_timer, hb_timer, stop_timer;
	uv_signal_t sigterm, sigint;
	struct atr_xfer *reg_xfer, *hb_xfer, *dereg_xfer;
	uint64_t reg_backoff_ms;
	bool server_down; /* the last heartbeat failed: log the recovery */
	/* what the server said */
	bool draining, cordoned;
	/* jobs */
	struct agent_job *jobs;
	int njobs;
	char shipbuf[AGENT_SHIP_BATCH];
	/* stopping */
	bool stopping, cancelled_all, closing;
	int exit_code;
	uint64_t stop_started_us;
	pid_t parent_pid; /* ATRIUM_PARENT_PID: run by `serve --local-worker` */
};

/* link.c */
void agent_probe_then(struct agent *a, bool heartbeat);
void agent_register(struct agent *a);
/* The server said 401 to the secret: register again (jobs keep running). */
void agent_secret_rejected(struct agent *a);
void agent_deregister(struct agent *a);
/* Sends a request to the server with the secret; path is under the server's base. */
int agent_send(struct agent *a, const char *method, const char *path, const char *ctype, const void *body,
	       size_t len, const char *const *headers, long timeout_ms, atr_client_cb cb, void *cls,
	       struct atr_xfer **x);
uint64_t agent_gpus_in_use(const struct agent *a);

/* routes.c */
extern const struct atr_route agent_routes[];
extern const size_t agent_routes_count;
int agent_authenticate(void *app, const char *token, struct atr_principal *out);

/* jobs.c */
/* Starts a job from a validated body: 0 with *job, or an atr_err with the reason in why
 * (ATR_ECONFLICT: GPUs or id in use; ATR_EINVAL: bad field named in field). */
int agent_job_start(struct agent *a, const json_t *body, struct agent_job **job, char *field, size_t fieldlen,
		    char *why, size_t whylen);
struct agent_job *agent_job_find(struct agent *a, int64_t id);
json_t *agent_job_json(const struct agent_job *j);
void agent_job_cancel(struct agent_job *j);
void agent_jobs_cancel_all(struct agent *a);
/* Frees every job now (end of the stop deadline): their reports are given up. */
void agent_jobs_drop_all(struct agent *a);
/* The secret changed: retry what waits on the server now. */
void agent_jobs_kick(struct agent *a);

/* main.c */
/* Begins the stop: no new jobs, wait --grace for running ones, cancel, report, deregister, exit. */
void agent_stop(struct agent *a, int exit_code);
/* A job left the list: the stop may go on. */
void agent_job_gone(struct agent *a);
/* Under `serve --local-worker`: false once the server that started this worker is gone. */
bool agent_parent_alive(struct agent *a);

#endif
