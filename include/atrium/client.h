#ifndef ATRIUM_CLIENT_H
#define ATRIUM_CLIENT_H
/*
 * client.h: outgoing HTTP on the libuv loop with libcurl's multi interface (socket and
 * timer callbacks, after curl's docs/examples/multi-uv.c). Nothing blocks: a request is
 * started and its callback runs on the loop when it ends. Response bodies are capped.
 * Connections are reused between requests to the same host.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
struct atr_client;
struct atr_xfer;

struct atr_client_resp {
	long status;        /* HTTP status, 0 when no answer came */
	int curl_code;      /* CURLE_OK (0) or the transport error */
	const char *error;  /* human text for curl_code (static or in the transfer) */
	char *body;         /* NUL-terminated, owned by the transfer (valid in the callback) */
	size_t len;
	bool truncated;     /* the body passed max_response */
	char content_type[128];
	uint64_t micros;    /* total time */
};

typedef void (*atr_client_cb)(void *cls, const struct atr_client_resp *resp);

struct atr_client_req {
	const char *method;       /* "GET", "POST", "DELETE", ... */
	const char *url;
	const char *bearer;       /* Authorization: Bearer <bearer>, or NULL */
	const char *content_type; /* for the body; NULL means application/json when there is one */
	const void *body;         /* copied */
	size_t body_len;
	long timeout_ms;          /* whole transfer; 0: 30 s */
	long connect_timeout_ms;  /* 0: 5 s */
	size_t max_response;      /* 0: 16 MiB */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
};

int atr_client_new(struct uv_loop_s *loop, struct atr_client **out);
/* Cancels what is in flight (callbacks are not called) and closes; frees when the loop ran. */
void atr_client_free(struct atr_client *c);
/* Starts a request; cb runs later (never from inside this call). *xfer_out may be NULL. */
int atr_client_send(struct atr_client *c, const struct atr_client_req *rq, atr_client_cb cb, void *cls,
		    struct atr_xfer **xfer_out);
/* Stops a transfer; its callback will not run. */
void atr_client_cancel(struct atr_xfer *x);
/* Transfers in flight. */
int atr_client_active(const struct atr_client *c);

#endif
