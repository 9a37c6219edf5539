#ifndef ATRIUM_HTTP_INTERNAL_H
#define ATRIUM_HTTP_INTERNAL_H
/* Shared by the files of src/http only: the request (its struct and its life), the server,
 * the pipeline, the answer cache, the group-commit hold. */
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "atrium/http.h"
#include "atrium/router.h"
#include "atrium/server.h"

struct atr_req_hdr {
	struct atr_req_hdr *next;
	char *name, *value;
};

struct atr_arena_block;

/*
 * A request's life, one phase at a time; atr_req_enter (request.c) is the one transition and
 * refuses (logs, and keeps the phase) any move the table there does not allow:
 *
 *   READ ───────► HANDLE ───────► WAIT
 *     │             │               │
 *     └─────────────┴──► ANSWERED ◄─┘ ◄──┐
 *                         │     │        │ (the commit came: it goes out;
 *                         │     └─► HELD ┘  after a rollback, HELD -> HANDLE: a 503 is made)
 *                         ▼
 *                        SENT ◄──► IDLE     (a streamed answer waiting for data)
 *
 *   any phase ──► CLOSED (MHD's completion callback: the connection ended)
 *
 * READ: the headers are in and the pipeline decides (route, token, resource, query, limits);
 *   body pieces arrive. An answer made here (a refusal, a cached or replayed answer) goes
 *   straight to ANSWERED and the handler never runs.
 * HANDLE: MHD's final call; the handler runs, once.
 * WAIT: the connection is suspended until an event answers (a long poll, a gateway call,
 *   the thread pool).
 * ANSWERED: an answer is made, not yet given to MHD (MHD takes it on its next call).
 * HELD: the answer waits for the commit of what the loop turn wrote (hold.c, group commit).
 * SENT: given to MHD. IDLE: a streamed answer has nothing to send; suspended until woken.
 *
 * Two facts about MHD are kept beside the phase, as they are not the request's lifecycle:
 * which of MHD's calls is under way (call: an answer may not be queued mid-body) and whether
 * MHD holds the connection suspended (mhd_suspended: it must be resumed exactly once).
 */
enum atr_req_phase {
	ATR_REQ_READ,
	ATR_REQ_HANDLE,
	ATR_REQ_WAIT,
	ATR_REQ_ANSWERED,
	ATR_REQ_HELD,
	ATR_REQ_SENT,
	ATR_REQ_IDLE,
	ATR_REQ_CLOSED,
};

enum atr_mhd_call { ATR_CALL_HEADERS, ATR_CALL_BODY, ATR_CALL_FINAL };

struct atr_req {
	void *app; /* atr_server_opts.app */
	struct atr_server *srv;
	struct MHD_Connection *conn;
	const struct atr_route *route;
	const char *method;
	const char *url; /* raw path, without the query */
	struct atr_principal who;
	char request_id[40];
	char client[64];
	struct atr_req_param params[ATR_MAX_PARAMS];
	int nparams;
	json_t *body;	/* validated JSON body (NULL when the route has no schema) */
	char *raw_body; /* ATR_RF_RAW_BODY: the bytes */
	size_t raw_len;
	uint64_t content_length; /* from the header, UINT64_MAX when absent */
	void *resource;		 /* what the route's path points at (the resolver's) */
	void *ctx;		 /* handler state (uploads, waits) */
	void (*ctx_free)(void *ctx);
	void (*on_close)(struct atr_req *req);
	void (*on_shutdown)(struct atr_req *req);

	enum atr_req_phase phase;
	enum atr_mhd_call call;
	bool mhd_suspended;
	bool auth_pending; /* Basic credentials being checked on the thread pool (basic.c) */
	bool mlflow;	   /* a path of MLflow's API: errors in MLflow's shape */
	bool fallback;	   /* no route: a static file of the dashboard (served on the final call) */
	bool is_head;
	int refs;
	struct atr_req *next, *prev; /* the server's list of live requests */
	struct atr_req *held_next;   /* the server's list of held answers (hold.c) */
	unsigned pending_status;
	void *pending; /* struct MHD_Response made, not yet queued */
	void *stream;  /* the running response stream, if any */
	uint64_t streamed;
	unsigned status;
	uint64_t bytes_out;
	uint64_t t0_us;
	char audit_object[160];
	struct atr_req_hdr *hdrs;
	struct atr_arena_block *arena;
	char *body_buf;
	size_t body_len, body_cap;
	int64_t qval[ATR_MAX_QUERY]; /* checked query values (atr_req_qint) */
	uint32_t qset;		     /* which of them the request gave */
	char *basic_user;	     /* Basic credentials: the user name (the request's arena) */
	char *basic_key;	     /* and its sign-in rate-limit key ("u:<user>") */
	char *idem_key;
	char *cache_key;    /* ATR_RF_CACHE: where a 200 answer is kept */
	uint64_t cache_gen; /* the store's write generation when the request began */
};

/* ---- the request's life (request.c) ---- */
/* A path of MLflow's REST API (or its /ajax-api alias): errors answer in MLflow's shape. */
bool atr_is_mlflow_path(const char *url);
struct atr_req *atr_req_new(struct atr_server *s, struct MHD_Connection *c, const char *url, const char *method);
/* The one transition: false (and logged) when the table does not allow it. */
bool atr_req_enter(struct atr_req *r, enum atr_req_phase to);
/* May an answer still be made? (READ, HANDLE, WAIT) */
bool atr_req_may_answer(const struct atr_req *r);
/* The connection ended: CLOSED, on_close, out of the server's list, the last reference dropped. */
void atr_req_closed(struct atr_req *r);
/* An answer was made (reply.c): ANSWERED, then held for the commit, or resumed and queued. */
void atr_req_answered(struct atr_req *r, unsigned status, void *resp, uint64_t len);
/* A streamed answer has nothing to send (IDLE, suspended) until atr_stream_wake. */
void atr_req_stream_idle(struct atr_req *r);
/* MHD's own suspension, for waits inside the pipeline (Basic credentials being checked). */
void atr_req_mhd_suspend(struct atr_req *r);
void atr_req_mhd_resume(struct atr_req *r);
/* A held answer's commit came (committed) or failed (2xx answers become 503): it goes out. */
void atr_req_release(struct atr_req *r, bool committed);

/* Checks the query against the route's table (query.c); -1 after a 400 naming the parameter. */
int atr_req_check_query(struct atr_req *r);
/* A raw query value percent-decoded ('+' as a space) into the request's memory; NULL when it is
 * badly encoded or holds control characters. */
const char *atr_req_query_decode(struct atr_req *r, const char *raw);
/* Queues the pending answer if MHD allows it now (not mid-body, not suspended). */
void atr_req_flush(struct atr_req *r);
/* Server shutdown begins: long polls answer (on_shutdown), waiting streams end. */
void atr_req_shutdown(struct atr_req *r);
/* Before MHD_stop_daemon: what still waits gets 503; nothing may stay suspended. */
void atr_req_force_resume(struct atr_req *r);

bool atr_server_stopping(const struct atr_server *s);
void atr_server_audit(struct atr_server *s, struct atr_req *r);
/* hold.c: called as an answer is made: when the store holds uncommitted writes the answer
 * waits until they commit (true: held; send nothing now). */
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
	uv_timer_t guard;   /* the connection guard's sweep (conns.c) */
	uv_prepare_t flush; /* before the loop waits: write the turn's log lines */
	struct atr_server_opts o;
	int port;
	int active;
	bool kicked;
	bool in_run;
	bool stopping;
	int closing_handles;
	uint64_t grace_deadline_us;
	struct atr_req *live;		     /* every request in flight, for shutdown */
	struct atr_conn *conns, *conns_tail; /* every connection, oldest first (conns.c) */
	int conns_unauthed_open;	     /* of them, open and never with a valid token */
	struct atr_req *held;		     /* answered, waiting for the store's commit */
	void (*done)(void *);
	void *done_arg;
};

/* ---- the connection guard (conns.c): deadlines for request heads, room kept for clients
 * with a valid token ---- */
struct atr_conn;
void atr_conns_notify(struct atr_server *s, struct MHD_Connection *c, void **socket_ctx,
		      enum MHD_ConnectionNotificationCode code);
void atr_conns_request_began(struct atr_req *r);
void atr_conns_request_ended(struct atr_req *r);
void atr_conns_authenticated(struct atr_req *r);
void atr_conns_sweep(struct atr_server *s);
void atr_conns_free(struct atr_server *s);

/* ---- Basic credentials (basic.c) ---- */
/* 0: r->who is set; <0: refused; 1: the password is checked on the thread pool, then
 * atr_pipeline_authenticated(r, rc) runs on the loop. */
int atr_basic_authenticate(struct atr_req *r, const char *header);
void atr_pipeline_authenticated(struct atr_req *r, int rc);

/* ---- the request pipeline (pipeline.c): libmicrohttpd's callbacks ---- */
enum MHD_Result atr_pipeline_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				    const char *version, const char *upload_data, size_t *upload_data_size,
				    void **con_cls);
void atr_pipeline_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);

#endif
