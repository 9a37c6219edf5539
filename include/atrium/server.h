#ifndef ATRIUM_SERVER_H
#define ATRIUM_SERVER_H
/*
 * server.h: libmicrohttpd on the libuv loop. MHD runs in epoll mode without threads of its
 * own; its epoll fd is watched with a uv_poll and its timeout with a uv_timer. Used by both
 * `atrium serve` (the REST API) and `atrium worker` (its small job API).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atrium/config.h"
#include "atrium/http.h"

struct uv_loop_s;
struct atr_metrics;

struct atr_server_opts {
	const struct atr_route *routes;
	size_t nroutes;
	uint64_t max_body;   /* JSON bodies; 413 past it */
	uint64_t max_upload; /* ATR_RF_STREAM bodies */
	/* Resolves a bearer token (0, or <0 for 401). */
	int (*authenticate)(void *app, const char *token, struct atr_principal *out);
	/* Basic credentials with a password: the user's stored password hash and the principal the
	 * user is (0), or <0 (unknown or disabled user, no password). The pipeline checks the
	 * password on the thread pool (src/http/basic.c). May be NULL: Basic takes tokens only. */
	int (*basic_lookup)(void *app, const char *user, char *stored_hash, size_t hashlen, struct atr_principal *out);
	/* Called once per answered mutating request on an audited route. May be NULL. */
	void (*audit)(void *app, struct atr_req *req);
	/* GET/HEAD outside /api/ and /v2/ that matched no route (the dashboard). May be NULL. */
	atr_handler_fn fallback;
	void *app;		     /* becomes req->app */
	struct atr_metrics *metrics; /* may be NULL */
	/* Loads what a route's path points at and decides the caller's access to it (the route's
	 * resource and role): 0, or -1 after answering. May be NULL (no resources). */
	int (*resolve)(void *app, struct atr_req *req);
	/* Idempotency-Key answers, kept by the caller, the key and what the request is (route and
	 * resource): 0 and *body (malloc'd) to replay, ATR_ENOTFOUND, or ATR_ECONFLICT when the key
	 * was used for another request. NULL: the header is ignored. */
	int (*idem_get)(void *app, struct atr_req *req, const char *key, unsigned *status, char **body);
	void (*idem_put)(void *app, struct atr_req *req, const char *key, unsigned status, const char *body);
	/* The store's write generation (ATR_RF_CACHE answers are valid while it is unchanged);
	 * NULL: no answer cache. */
	uint64_t (*generation)(void *app);
	/* Whether the store holds writes not yet committed (group commit): an answer given
	 * meanwhile waits for atr_server_release_held. NULL: answers go out at once. */
	bool (*uncommitted)(void *app);
	/* Commits what the store holds (then calls atr_server_release_held); before stopping. */
	void (*flush)(void *app);
	bool access_log;
	/* The connection guard (src/http/conns.c); 0 takes the default. */
	unsigned max_connections;   /* all connections (ATR_DEFAULT_MAX_CONNECTIONS) */
	unsigned conns_reserve;	    /* of them, kept for clients with a valid token */
	unsigned conns_per_address; /* connections without a valid token from one address (0: no cap) */
	uint64_t head_timeout_ms;   /* to send a whole request head, from the connection's start or last answer */
	uint64_t idle_timeout_ms;   /* an idle connection with a valid token is closed after this */
	/* HTTPS: the PEM certificate (chain) and key, NUL-terminated, read by the caller (kept
	 * while the server runs); NULL: plain HTTP. */
	const char *tls_cert_pem, *tls_key_pem;
};

#define ATR_DEFAULT_MAX_CONNECTIONS 4096
#define ATR_DEFAULT_HEAD_TIMEOUT_MS 10000
#define ATR_DEFAULT_IDLE_TIMEOUT_MS 120000

struct atr_server;

/*
 * Starts MHD on loop and sets *out (owned by the loop: atr_server_shutdown frees it). On
 * failure returns <0 and leaves *out alone; handles it had initialised by then are closing,
 * and their memory is freed in their close callbacks: the caller runs the loop before
 * uv_loop_close (as it would after a shutdown).
 */
int atr_server_start(struct uv_loop_s *loop, const struct atr_addr *addr, const struct atr_server_opts *opts,
		     struct atr_server **out);
int atr_server_port(const struct atr_server *s);
int atr_server_active(const struct atr_server *s); /* requests in flight */
/*
 * Stops accepting, answers suspended requests with 503, lets in-flight ones finish (at most
 * grace_ms), then stops MHD and calls done(arg). The server is freed after done returns.
 */
void atr_server_shutdown(struct atr_server *s, uint64_t grace_ms, void (*done)(void *arg), void *arg);

/* Run MHD soon (after a resume); safe from anywhere on the loop. */
void atr_server_kick(struct atr_server *s);

/*
 * The store committed (committed) or rolled back what the held answers waited for: they go
 * out now; after a rollback a 2xx becomes 503, as its change was lost.
 */
void atr_server_release_held(struct atr_server *s, bool committed);

#endif
