#ifndef ATRIUM_WORKER_STAGE_H
#define ATRIUM_WORKER_STAGE_H
/*
 * stage.h: private to src/worker/: a job's files before and after its process. fetch.c
 * downloads the job's inputs (the `downloads` of its dispatch body) into its folder through
 * a content cache (WORK_DIR/cache/<sha256>); upload.c sends what it wrote in output/ to the
 * server. stage.c holds what both share: the stage object and its lifetime, a few transfer
 * slots with retries and backoff, the server's error text, URLs and log lines.
 *
 * jobs.c uses the first part (plans, stage_fetch, stage_upload, stage_free); the second part
 * is for the three stage files only.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <uv.h>

#include "atrium/client.h"

#define STAGE_SLOTS 4 /* transfers at once per job */
#define STAGE_TRIES 3 /* per file */
#define STAGE_MAX_OUTPUTS 10000
#define STAGE_MAX_DOWNLOADS 64
#define STAGE_MAX_FILES 100000 /* input files of one job, all downloads together */
#define STAGE_STALL_S 60       /* a transfer slower than 1 KiB/s for this long is a failed try */
#define STAGE_PATH 4096

/* ---- for jobs.c ---- */

struct stage;
struct stage_plan;
struct stage_slot;

/*
 * Checks a dispatch body's `downloads` (the array; the schema checked the types) and makes
 * the plan: 0, or ATR_EINVAL with the field (`downloads[1].files[4].path`) and why, or
 * ATR_ENOMEM. *out is NULL when there is nothing to fetch (no downloads). New plan, the
 * caller's (stage_fetch takes it).
 */
int stage_plan_parse(const json_t *downloads, struct stage_plan **out, char *field, size_t fieldlen, char *why,
		     size_t whylen);
void stage_plan_free(struct stage_plan *p);
/* true when a download goes to model/ (or below it): the job gets ATRIUM_MODEL_DIR. */
bool stage_plan_has_model(const struct stage_plan *p);

struct stage_ops {
	/* A line for the job's log (newline-terminated). */
	void (*note)(void *cls, const char *line);
	/* The stage is over: rc 0, or < 0 with message saying why (for the job's report). Runs on
	 * the loop, never from inside stage_fetch or stage_upload. The owner then frees it. */
	void (*done)(void *cls, int rc, const char *message);
};

struct stage_ctx {
	uv_loop_t *loop;
	struct atr_client *client;
	const char *server;    /* the server's base URL, no trailing '/' (copied) */
	const char *token;     /* the job's token: Authorization for every transfer (copied) */
	const char *job_dir;   /* absolute WORK_DIR/jobs/<id> (copied) */
	const char *cache_dir; /* absolute WORK_DIR/cache (copied; fetching only) */
	int64_t job_id;
	const struct stage_ops *ops;
	void *cls;
};

/* Fetches the plan's files into job_dir (each download's dir is made, even when empty).
 * Takes the plan. 0 or ATR_ENOMEM (then the plan is freed and done never runs). */
int stage_fetch(const struct stage_ctx *cx, struct stage_plan *plan, struct stage **out);
/* Uploads the regular files under job_dir/output/. 0 or ATR_ENOMEM. */
int stage_upload(const struct stage_ctx *cx, struct stage **out);
/* Stops whatever is in flight (transfers cancelled, temp files removed); done does not run.
 * Memory goes once the disk work it started (copies, syncs, hashing) has come back. NULL is
 * fine. */
void stage_free(struct stage *s);

/* ---- inside the stage files ---- */

/* What a kind of stage (fetch.c, upload.c) does in the common frame. */
struct stage_kind {
	void (*pump)(struct stage *s);	      /* gives idle slots work; finishes when all is done */
	void (*retry)(struct stage_slot *sl); /* the backoff is over: the next try */
	void (*release)(void *data);	      /* frees the kind's data (at the very end) */
};

struct stage_slot {
	struct stage *s;
	long idx; /* the item it works on (blob or output), -1 when idle */
	int tries;
	struct atr_xfer *x;
	uv_timer_t timer; /* backoff between tries */
	uv_fs_t fs;	  /* a copy or a sync in flight (fs_busy) */
	uv_work_t work;	  /* hashing in flight (work_busy) */
	bool fs_busy, work_busy;
	bool local_error; /* the last try failed on this host's disk: not worth retrying */
	atomic_bool stop; /* hashing: give up (the stage is going away) */
	int fd;		  /* the file being written or read, -1 */
	EVP_MD_CTX *md;
	uint64_t bytes;	      /* written (fetching) */
	uint64_t size;	      /* of the file being sent (uploading) */
	size_t next;	      /* fetching: the next destination of the blob to put in place */
	char sha[65];	      /* uploading: the file's sha256 */
	char tmp[STAGE_PATH]; /* fetching: the temp file in the cache, "" when none */
	char why[512];	      /* why the last try failed */
};

struct stage {
	struct stage_ctx cx;
	char server[256], token[256], job_dir[STAGE_PATH], cache_dir[STAGE_PATH];
	const struct stage_kind *kind;
	void *data; /* the kind's */
	uv_timer_t tick;
	struct stage_slot slots[STAGE_SLOTS];
	int handles;   /* uv handles not yet closed */
	int pending;   /* fs and work requests in flight */
	bool finished; /* done is due (or ran): nothing new starts */
	bool dead;     /* stage_free was called */
	bool done_called;
	int rc;
	char message[1024];
	uint64_t t0_us;
	/* progress, for the log lines */
	uint64_t files_done, bytes_done, files_total, bytes_total;
};

/* A stage of a kind with its timers and the kind's data, which it takes (released with the
 * stage, or at once when this fails). NULL when out of memory or data is NULL. */
struct stage *stage_new(const struct stage_ctx *cx, const struct stage_kind *kind, void *data);
/* Runs pump soon (from the loop, never from inside the caller). */
void stage_kick(struct stage *s);
/* Ends the stage (the first call wins): transfers stop, done(rc, message) runs soon. */
void stage_finish(struct stage *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* true while the stage may start new work. */
bool stage_live(const struct stage *s);
/* A line in the job's log (printf-style; the newline is added). */
void stage_note(struct stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The slot's try at what ("fetching input 'a.csv'") failed (sl->why says why): schedules the
 * next try (kind->retry) after a backoff, says so in both logs and returns true; or returns
 * false when the tries are spent or fatal is set: the caller then finishes the stage. */
bool stage_retry_later(struct stage_slot *sl, bool fatal, const char *what);
/* A disk or thread-pool request came back (its callback calls this first; sl is the slot it
 * belongs to, or NULL): false when the stage is no longer live, after cleaning the slot and
 * perhaps freeing the whole stage: the callback must then touch nothing of it. */
bool stage_request_back(struct stage *s, struct stage_slot *sl);
/* Closes the slot's file and removes its temp file, if any. */
void stage_slot_discard(struct stage_slot *sl);
/* Cleans a slot: cancels its transfer and timer, closes its file, removes its temp file (not
 * while a disk request still uses them: that callback does it). */
void stage_slot_clean(struct stage_slot *sl);
/* What went wrong with an answer, for a message ("HTTP 404: file 'a' does not exist",
 * "Connection refused"). */
void stage_describe(const struct atr_client_resp *resp, char *out, size_t outlen);
/* out = server + prefix + path with each '/'-separated segment percent-encoded. false when
 * it does not fit. */
bool stage_url(char *out, size_t outlen, const char *server, const char *prefix, const char *path);
/* "1.5 MiB" */
void stage_size_text(uint64_t bytes, char *out, size_t outlen);
/* Copies s into out with control bytes and quotes shown as '?' (for names in messages). */
void stage_printable(const char *s, char *out, size_t outlen);

#endif
