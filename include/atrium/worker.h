#ifndef ATRIUM_WORKER_H
#define ATRIUM_WORKER_H
/*
 * worker.h: `atrium worker`, the agent on each GPU host (src/worker/), and
 * `atrium serve --local-worker`'s supervisor of it. The protocol is in docs/workers.md.
 */
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "atrium/config.h"

/* Runs the agent until SIGTERM/SIGINT; returns the process exit code (0 after a clean stop,
 * 1 when the server refused it, 2 for bad options). */
int atr_worker_main(struct atr_worker_config *cfg);

/* Parses "k=v,k2=v2" (spaces around items ignored; "" is no labels) into a new JSON object.
 * 0, or ATR_EINVAL with the reason in err. */
int atr_worker_labels_parse(const char *s, json_t **out, char *err, size_t errlen);

/*
 * The local worker of `serve --local-worker`: `/proc/self/exe worker ...` as a child
 * process, restarted with backoff when it dies, stopped (SIGTERM, then waited for) on
 * shutdown. The join token reaches it through its environment, not its command line.
 */
struct uv_loop_s;
struct atr_local_worker;
struct atr_local_worker_opts {
	const char *server; /* the server's public URL */
	const char *join_token;
	const char *work_dir; /* DATA_DIR/worker */
	const char *name;     /* NULL: local-<hostname> */
	int64_t grace_s;      /* passed as --grace */
	const char *ca_file;  /* passed as --ca-file (the server's HTTPS certificate); NULL: none */
};
int atr_local_worker_start(struct uv_loop_s *loop, const struct atr_local_worker_opts *o,
			   struct atr_local_worker **out);
/* SIGTERM to the worker; done(arg) once it exited (SIGKILL after kill_after_ms) and every
 * handle is closed. */
void atr_local_worker_stop(struct atr_local_worker *lw, uint64_t kill_after_ms, void (*done)(void *arg), void *arg);

#endif
