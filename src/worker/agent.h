#ifndef ATRIUM_WORKER_AGENT_H
#define ATRIUM_WORKER_AGENT_H
/*
 * agent.h: private to src/worker/: the agent's state and the functions its files share.
 * main.c (lifecycle, shutdown), link.c (register, heartbeat, deregister, inventory),
 * routes.c (its own HTTP API), jobs.c (a job from its request to its end: inputs, process,
 * outputs), ship.c (shipping its log, the final report), fence.c (stopping its jobs when the
 * server has not answered a heartbeat for its timeout). stage.h: fetching inputs and
 * uploading outputs.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "atrium/principal.h"
#include "atrium/client.h"
#include "atrium/config.h"
#include "atrium/gpu.h"
#include "atrium/http.h"
#include "atrium/worker_runner.h"

#define AGENT_MAX_JOBS 256	      /* jobs at once on one worker */
#define AGENT_KILL_GRACE_MS 10000     /* cancel: SIGTERM, then SIGKILL this much later */
#define AGENT_FENCE_KILL_MAX_MS 15000 /* fenced: SIGKILL min(--grace, this) after SIGTERM */
#define AGENT_SHIP_BATCH (256u << 10)

/* Where a job is. Its GPUs are held while it prepares or runs. */
enum agent_phase {
	AGENT_PREPARING, /* fetching its inputs (stage.h): no process yet */
	AGENT_RUNNING,	 /* its process runs */
	AGENT_UPLOADING, /* its process succeeded; its outputs are being sent */
	AGENT_ENDED,	 /* its end is known (state, message); its log and report may be on the way */
};

struct stage;
struct agent_service;

struct agent_job {
	struct agent_job *next;
	struct agent *a;
	int64_t id, run_id, attempt;
	int gpus[ATR_GPU_MAX];
	int ngpus;
	char *token;
	enum agent_phase phase;
	/* what starts the process, kept from the request until it does */
	json_t *req;	   /* the request's body: its strings back argv and shell */
	const char **argv; /* NULL-terminated, or NULL for a shell command */
	const char *shell;
	char **env; /* "NAME=value", NULL-terminated */
	bool upload_outputs;
	bool model_dir; /* a download goes to model/: ATRIUM_MODEL_DIR */
	int port;
	uint64_t timeout_ms;
	struct agent_service *svc; /* kind "service": kept running and health-checked (service.c) */
	struct stage *stage;	   /* fetching or uploading */
	struct atr_proc *proc;	   /* NULL until the process starts (and when it never did) */
	struct atr_spool log;	   /* jobs/<id>/log: what staging says, then the process's output */
	char dir[1100];		   /* absolute WORK_DIR/jobs/<id> */
	/* its end (AGENT_ENDED) */
	enum atr_proc_state state;
	char message[1024];
	int64_t finished_at;
	/* shipping the log and reporting (ship.c) */
	uint64_t acked; /* log bytes the server has */
	bool log_lost;	/* a range could not be read back: shipping stopped */
	struct atr_xfer *ship, *report;
	uv_timer_t timer; /* batching and retries of shipping and reporting */
	int failures;
};

struct agent {
	uv_loop_t *loop;
	struct atr_worker_config *cfg;
	struct atr_client *client;
	struct atr_server *http;
	char server[256]; /* base URL, no trailing '/' */
	char url[300];	  /* this worker's API base URL, as the server should use it */
	char name[64];
	char work_dir[1024]; /* absolute */
	char exe[PATH_MAX];  /* its own executable (/proc/self/exe, resolved at start): the job shim */
	json_t *labels;
	/* identity, from the last registration */
	bool registered;
	int64_t worker_id;
	char secret[ATR_TOKEN_MAX];
	uint64_t heartbeat_ms;
	uint64_t heartbeat_timeout_ms; /* the server's: offline (jobs requeued) past it */
	/* self-fencing (fence.c): contact is a heartbeat answered 200 (or a registration 201),
	 * counted from when it was sent (uv_now) */
	uint64_t reg_sent_ms, hb_sent_ms;
	uv_timer_t fence_timer;
	bool fenced; /* no contact for heartbeat_timeout_ms: its jobs were stopped; none accepted */
	/* inventory */
	struct atr_gpu gpus[ATR_GPU_MAX];
	int ngpus;
	int fake_gpus; /* -1: ask nvidia-smi */
	struct atr_gpu_probe *probe;
	bool heartbeat_after_probe;
	/* the work dir's file system, read on the thread pool before each heartbeat (MiB; -1 not yet) */
	uv_fs_t statfs_req;
	bool statfs_busy;
	int64_t disk_total_mb, disk_free_mb;
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
	/* housekeeping.c */
	uv_timer_t hk_timer;
	bool hk_running;
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
int agent_send(struct agent *a, const char *method, const char *path, const char *ctype, const void *body, size_t len,
	       const char *const *headers, long timeout_ms, atr_client_cb cb, void *cls, struct atr_xfer **x);
uint64_t agent_gpus_in_use(const struct agent *a);

/* routes.c */
extern const struct atr_route agent_routes[];
extern const size_t agent_routes_count;
int agent_authenticate(void *app, const char *token, struct atr_principal *out);

/* jobs.c */
/* A refused request: field (may be NULL: none) into field, the formatted reason into why;
 * returns err. */
int agent_refuse(char *field, size_t fieldlen, const char *f, char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Accepts a job from a validated body: 0 with *job (preparing, or already running when it
 * has nothing to fetch), or an atr_err with the reason in why (ATR_ECONFLICT: GPUs or id in
 * use; ATR_EINVAL: bad field named in field). */
int agent_job_start(struct agent *a, const json_t *body, struct agent_job **job, char *field, size_t fieldlen,
		    char *why, size_t whylen);
struct agent_job *agent_job_find(struct agent *a, int64_t id);
json_t *agent_job_json(const struct agent_job *j);
/* Preparing or uploading: stops at once (ends cancelled); running: SIGTERM, then SIGKILL. */
void agent_job_cancel(struct agent_job *j);
void agent_jobs_cancel_all(struct agent *a);
/* The worker stops: jobs still fetching their inputs are cancelled (they would never run),
 * and services too (they never end on their own; the server places them elsewhere). */
void agent_jobs_cancel_preparing(struct agent *a);
/* Frees every job now (end of the stop deadline): their reports are given up. */
void agent_jobs_drop_all(struct agent *a);
/* Unlinks and frees a job (its report is in, or given up). */
void agent_job_remove(struct agent_job *j);
/* true while the job holds its GPUs (preparing or running). */
bool agent_job_holds_gpus(const struct agent_job *j);
/* "preparing", "running", "uploading", or how it ended. */
const char *agent_job_state_name(const struct agent_job *j);
/* Starts (or, for a service, starts again) the job's process. 0, or < 0 with why. */
int agent_job_start_process(struct agent_job *j, char *why, size_t whylen);
/* The job's end is known (state, message; in_log: also a line of its log): ship, report. */
void agent_job_finish(struct agent_job *j, enum atr_proc_state state, const char *message, bool in_log);
/* Fencing (fence.c): a job still fetching its inputs ends cancelled with message; a running
 * one gets line in its log, SIGTERM now and SIGKILL kill_ms later, and ends cancelled with
 * message. Returns whether the job had anything to stop. */
bool agent_job_fence(struct agent_job *j, const char *line, const char *message, uint64_t kill_ms);

/* fence.c */
/* Contact with the server: a heartbeat or a registration sent at sent_ms (uv_now) succeeded:
 * the fence waits heartbeat_timeout_ms from then. */
void agent_fence_contact(struct agent *a, uint64_t sent_ms);

/* housekeep.c: old job folders, stale downloads and the cache's size */
struct hk_entry {
	char name[72];
	uint64_t size;
	int64_t mtime;
	bool linked; /* a job folder links it too */
	bool evict;  /* out: chosen */
};
/*
 * Picks what to evict from a cache holding e[0..n) (reordered: least recently used first)
 * so it holds at most 90 % of max_bytes once it holds more than max_bytes (0: no limit);
 * linked contents stay. Marks e[i].evict; returns how many; *total: the bytes kept.
 */
size_t hk_pick_evictions(struct hk_entry *e, size_t n, uint64_t max_bytes, uint64_t *total);
/* The periodic pass (hk_timer, initialised by main.c); no-op when --housekeeping is 0. */
void agent_housekeeping_start(struct agent *a);

/* service.c: `service` jobs (deployment replicas) */
/* Reads the request's "service" object ({"health_path"}) into j->svc; 0 or an atr_err. */
int agent_service_new(struct agent_job *j, const json_t *service, char *field, size_t fieldlen, char *why,
		      size_t whylen);
/* Closes the service's timer and frees it later (transfers stop now). */
void agent_service_free(struct agent_service *s);
/* Stops probing, restarting and reporting (the job ends or is removed). */
void agent_service_stop(struct agent_job *j);
/* A free port for the next start of the process. */
int agent_service_port(struct agent_job *j);
/* The process started: health checks begin, the state is reported. */
void agent_service_started(struct agent_job *j);
/* The process ended: true when it will be started again (it was not cancelled). */
bool agent_service_exited(struct agent_job *j);
/* Between two runs of its process (no process now). */
bool agent_service_waiting(const struct agent_job *j);
/* {id, attempt, seq, state, port, restarts, message}: reports and heartbeats. */
json_t *agent_service_json(const struct agent_job *j);
/* leftovers.c: jobs/<id>/process.pid holds the job's process group while it runs (pid 0:
 * removes it); at start, agent_jobs_sweep stops the groups an earlier, killed run of this
 * worker left running. */
void agent_job_pid_file(struct agent_job *j, pid_t pid);
void agent_jobs_sweep(const char *work_dir);

/* ship.c */
/* New bytes are in the job's log: a batch goes soon. */
void agent_ship_soon(struct agent_job *j);
/* The job ended: what is left of its log goes now, then the final report. */
void agent_ship_now(struct agent_job *j);
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
