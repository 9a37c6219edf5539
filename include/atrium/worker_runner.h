#ifndef ATRIUM_WORKER_RUNNER_H
#define ATRIUM_WORKER_RUNNER_H
/*
 * worker_runner.h: how the worker runs a job. A job is a child process (uv_spawn, its own
 * session and process group) in WORK_DIR/jobs/<id>/ with input/ and output/ beside its
 * log; stdout and stderr share one pipe, read on the loop, so the log interleaves them as a
 * terminal would. Timeout and cancel send SIGTERM to the whole group and SIGKILL after a
 * grace period; when the main process ends, whatever it left in its group is killed too.
 *
 * The child is the job shim (`atrium job-shim`, shim.c), which runs the command in its
 * process group and ends as the command ended: the job's processes die with the process
 * that started them (the kernel's parent-death signal), and so do the descendants that
 * left the group, which the shim keeps as a child subreaper.
 *
 * The log is an append-only byte stream addressed by offset (struct atr_spool): every byte
 * is written through to the log file, and the bytes not yet shipped are also kept in memory
 * up to a cap. Past the cap the memory copy is dropped and the shipper reads the file, so a
 * slow server never blocks the job and no byte is lost.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "atrium/buf.h"

/* ---- the spool: a byte stream by offset, file-backed, with a capped memory copy ---- */

struct atr_spool {
	int fd;		   /* the log file, -1 when it could not be opened */
	uint64_t total;	   /* bytes appended so far (the next offset) */
	uint64_t file_len; /* bytes [0, file_len) are in the file */
	uint64_t mem_base; /* offset of mem.data[0]; memory holds [mem_base, total) */
	struct atr_buf mem;
	uint64_t lost; /* bytes dropped: the file failed and memory was full */
};

/* Opens (truncating) path; mem_cap bytes of memory at most. 0, or ATR_EIO (then the spool
 * still works from memory alone, up to the cap). */
int atr_spool_open(struct atr_spool *sp, const char *path, size_t mem_cap);
void atr_spool_close(struct atr_spool *sp);
/* Appends n bytes. 0, or ATR_EIO when they were lost (the file failed and memory is full). */
int atr_spool_append(struct atr_spool *sp, const void *data, size_t n);
/* Copies up to max bytes from off into buf: the count (0 at the end), or -1 when that range
 * is no longer available (released from memory and not in the file). */
long atr_spool_read(struct atr_spool *sp, uint64_t off, char *buf, size_t max);
/* The bytes before upto were shipped: their memory copy may go. */
void atr_spool_release(struct atr_spool *sp, uint64_t upto);

/* ---- a running job ---- */

enum atr_proc_state {
	ATR_PROC_RUNNING,
	ATR_PROC_SUCCEEDED, /* exit code 0 */
	ATR_PROC_FAILED,    /* non-zero exit, a signal not sent by us, or it could not start */
	ATR_PROC_CANCELLED, /* atr_proc_cancel */
	ATR_PROC_TIMEOUT,   /* ran past timeout_ms */
};

/* "running", "succeeded", "failed", "cancelled", "timeout". */
const char *atr_proc_state_name(enum atr_proc_state s);

struct atr_proc_spec {
	int64_t id;		 /* job id: the folder is work_root/jobs/<id> */
	const char *const *argv; /* NULL-terminated program and arguments, or NULL ... */
	const char *shell;	 /* ... a command for /bin/sh -c */
	const char *const *env;	 /* extra "NAME=value" entries, NULL-terminated, or NULL */
	const int *gpus;	 /* GPU indices for CUDA_VISIBLE_DEVICES ("" when none) */
	int ngpus;
	const char *url;       /* ATRIUM_URL */
	const char *token;     /* ATRIUM_TOKEN */
	int64_t run_id;	       /* ATRIUM_RUN_ID ("" when 0) */
	int port;	       /* > 0: PORT (service jobs) */
	const char *work_root; /* absolute WORK_DIR */
	const char *shim;      /* the `atrium` executable that runs the command as `job-shim` (absolute) */
	uint64_t timeout_ms;   /* 0: none */
	uint64_t grace_ms;     /* SIGTERM -> SIGKILL */
	size_t log_mem_cap;    /* 0: 1 MiB */
	/* The log to write into: NULL opens work_root/jobs/<id>/log (truncated) and owns it;
	 * given, it is the caller's (open, and kept open until atr_proc_free was called), and
	 * the output is appended after what it already holds. */
	struct atr_spool *spool;
};

struct atr_proc;
struct uv_loop_s;

struct atr_proc_ops {
	/* New bytes are in the log (atr_proc_spool). May be NULL. */
	void (*output)(void *cls, struct atr_proc *p);
	/* The job ended and its output is all in the log; the state is final. */
	void (*done)(void *cls, struct atr_proc *p);
};

/*
 * Creates the job's folder and log and starts the process. The environment is the worker's
 * own without its ATRIUM_* variables, then spec->env, then CUDA_VISIBLE_DEVICES, ATRIUM_URL,
 * ATRIUM_TOKEN, ATRIUM_JOB_ID, ATRIUM_RUN_ID, ATRIUM_INPUT_DIR, ATRIUM_OUTPUT_DIR (and
 * PORT), which spec->env cannot override. A program that cannot be started (not found, not
 * executable) is not an error here: the job ends FAILED with the reason in its message and
 * its log. Returns 0, or < 0 when the folder, the log or memory failed (nothing runs).
 */
int atr_proc_start(struct uv_loop_s *loop, const struct atr_proc_spec *spec, const struct atr_proc_ops *ops, void *cls,
		   struct atr_proc **out);
/* SIGTERM to the group now, SIGKILL after the grace period; the job ends CANCELLED. */
void atr_proc_cancel(struct atr_proc *p);
/* The same, with SIGKILL after grace_ms (sooner, when a cancel already counts down) and
 * message (copied) as the reason of its end. */
void atr_proc_stop(struct atr_proc *p, uint64_t grace_ms, const char *message);
/* Frees a finished job (after done). On a running one it kills the group first (SIGKILL)
 * and done is not called. Memory goes when the loop ran. */
void atr_proc_free(struct atr_proc *p);

enum atr_proc_state atr_proc_state(const struct atr_proc *p);
pid_t atr_proc_pid(const struct atr_proc *p);
int atr_proc_exit_code(const struct atr_proc *p);	/* -1 when killed by a signal or never started */
int atr_proc_signal(const struct atr_proc *p);		/* 0 when none */
const char *atr_proc_message(const struct atr_proc *p); /* human text about the end */
int64_t atr_proc_started_at(const struct atr_proc *p);	/* ms */
int64_t atr_proc_ended_at(const struct atr_proc *p);	/* ms, 0 while running */
struct atr_spool *atr_proc_spool(struct atr_proc *p);
const char *atr_proc_dir(const struct atr_proc *p);

/*
 * `atrium job-shim AGENT_PID [--exec FILE] -- ARGV...` (src/main.c calls it before anything
 * else): runs ARGV (FILE, default ARGV[0], searched on PATH) as described above; exits as
 * the command did. Started by atr_proc_start only; fd 3 is its status pipe.
 */
int atr_job_shim_main(int argc, char **argv);
/* The shim's parent-death signal, which the runner also sends it when a job's grace period
 * is over: it SIGKILLs every process below it (those that left the group too), then its
 * group, itself last. */
#define ATR_SHIM_KILL_SIG (SIGRTMIN + 1)

#endif
