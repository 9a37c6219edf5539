#ifndef ATRIUM_HTTP_INTERNAL_H
#define ATRIUM_HTTP_INTERNAL_H
/* Shared by the files of src/http only: server.c, pipeline.c, cache.c and reply.c. */
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "atrium/http.h"
#include "atrium/server.h"

enum { ATR_PHASE_HEADERS = 1, ATR_PHASE_BODY, ATR_PHASE_FINAL };

/* Checks the query against the route's table (query.c); -1 after a 400 naming the parameter. */
int atr_req_check_query(struct atr_req *r);
/* Queues the pending answer if MHD allows it now (not mid-body, not suspended). */
void atr_req_flush(struct atr_req *r);
/* Frees the arena and header list. */
void atr_req_free_internals(struct atr_req *r);
/* Server shutdown begins: long polls answer (on_shutdown), waiting streams end. */
void atr_req_shutdown(struct atr_req *r);
/* Before MHD_stop_daemon: what still waits gets 503; nothing may stay suspended. */
void atr_req_force_resume(struct atr_req *r);

bool atr_server_stopping(const struct atr_server *s);
void atr_server_audit(struct atr_server *s, struct atr_req *r);
/* Called as an answer is made: when the store holds uncommitted writes the answer waits
 * until they commit (true: held; send nothing now). */
bool atr_server_hold(struct atr_server *s, struct atr_req *r);
/* Keeps a 2xx answer for its Idempotency-Key (atr_server_opts.idem_put). */
void atr_server_idem_put(struct atr_server *s, struct atr_req *r, const char *key, unsigned status, const char *body);

/* ---- the answer cache (cache.c) ---- */
#define ATR_CACHE_SLOTS 256 /* power of two */

struct atr_cache_slot {
	uint64_t hash;
	char *key;
	uint64_t gen;
	char *body;
	size_t len;
};

struct atr_cache {
	struct atr_cache_slot slot[ATR_CACHE_SLOTS];
};

/* Keeps a copy of a 200 JSON answer of an ATR_RF_CACHE route; bodies over 64 KiB are not kept. */
void atr_cache_put(struct atr_cache *c, const char *key, uint64_t gen, const char *body, size_t len);
/* The slot holding key's answer made at generation gen, or NULL. */
const struct atr_cache_slot *atr_cache_find(const struct atr_cache *c, const char *key, uint64_t gen);
void atr_cache_clear(struct atr_cache *c);

/* ---- the server (server.c) ---- */
struct atr_server {
	struct MHD_Daemon *d;
	struct atr_cache cache;
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_timer_t grace;
	uv_prepare_t flush; /* before the loop waits: write the turn's log lines */
	struct atr_server_opts o;
	int port;
	int active;
	bool kicked;
	bool in_run;
	bool stopping;
	int closing_handles;
	uint64_t grace_deadline_us;
	struct atr_req *live; /* every request in flight, for shutdown */
	struct atr_req *held; /* answered, waiting for the store's commit */
	void (*done)(void *);
	void *done_arg;
};

/* ---- the request pipeline (pipeline.c): libmicrohttpd's callbacks ---- */
enum MHD_Result atr_pipeline_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				    const char *version, const char *upload_data, size_t *upload_data_size,
				    void **con_cls);
void atr_pipeline_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);

#endif
