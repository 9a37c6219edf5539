#ifndef ATRIUM_CLIENT_H
#define ATRIUM_CLIENT_H
/*
 * client.h: outgoing HTTP on the libuv loop with libcurl's multi interface (socket and
 * timer callbacks, after curl's docs/examples/multi-uv.c). Nothing blocks: a request is
 * started and its callback runs on the loop when it ends. Response bodies are capped, or
 * streamed to a sink; request bodies are copied, or streamed from a file. Connections are
 * reused between requests to the same host.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
struct atr_client;
struct atr_xfer;

struct atr_client_resp {
	long status;	   /* HTTP status, 0 when no answer came (one that broke off part-way
	                     * keeps its status: check curl_code too) */
	int curl_code;	   /* CURLE_OK (0) or the transport error */
	const char *error; /* human text for curl_code (static or in the transfer) */
	char *body;	   /* NUL-terminated, owned by the transfer (valid in the callback) */
	size_t len;
	bool truncated; /* the body passed max_response */
	bool aborted;	/* the sink asked to stop (curl_code is CURLE_WRITE_ERROR) */
	char content_type[128];
	uint64_t micros; /* total time */
};

typedef void (*atr_client_cb)(void *cls, const struct atr_client_resp *resp);

struct atr_client_req {
	const char *method; /* "GET", "POST", "DELETE", ... */
	const char *url;
	const char *bearer;	  /* Authorization: Bearer <bearer>, or NULL */
	const char *content_type; /* for the body; NULL means application/json when there is one */
	const void *body;	  /* copied */
	size_t body_len;
	long timeout_ms;	    /* whole transfer; 0: 30 s; < 0: none (large transfers: see stall_s) */
	long connect_timeout_ms;    /* 0: 5 s */
	size_t max_response;	    /* 0: 16 MiB */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	/*
	 * > 0: abort a transfer that moves fewer than 1024 bytes per second for this many
	 * seconds (curl's low-speed limit), so a stuck peer fails without a whole-transfer limit.
	 */
	long stall_s;
	/*
	 * A streamed response: when set, the body of a 2xx answer goes to sink(cls, data, len) as
	 * it arrives, in pieces, and is never kept (resp->body is "" then); the body of any other
	 * answer is buffered as usual, so its error text is in resp->body. cls is the one given to
	 * atr_client_send. The sink returns len to go on, anything else aborts the transfer
	 * (resp->aborted). It must not cancel the transfer itself.
	 */
	size_t (*sink)(void *cls, const char *data, size_t len);
	/*
	 * A request body streamed from a file: when upload is true, upload_size bytes of
	 * upload_fd are sent from its offset 0 (read with pread, so the fd's own offset does not
	 * matter), with that Content-Length, and body must be NULL. The fd stays the caller's: it
	 * must stay open until the callback runs or the transfer is cancelled. A file shorter than
	 * upload_size fails the transfer. Content-Type: content_type, default
	 * application/octet-stream. (A zero-initialised request has no upload.)
	 */
	bool upload;
	int upload_fd;
	uint64_t upload_size;
	/*
	 * E-mail: with mail_from set, url is smtp:// or smtps://, body is the message (headers,
	 * a blank line, the text; copied), sent to the NULL-terminated mail_rcpt with the login
	 * username/password when given (NULL: none). method, headers and bearer are unused.
	 */
	const char *mail_from;
	const char *const *mail_rcpt;
	const char *username, *password;
};

int atr_client_new(struct uv_loop_s *loop, struct atr_client **out);
/* Cancels what is in flight (callbacks are not called) and closes; frees when the loop ran. */
void atr_client_free(struct atr_client *c);
/* Starts a request; cb runs later (never from inside this call). *xfer_out may be NULL.
 * ATR_EINVAL for a request with both body and upload; ATR_ENOMEM. */
int atr_client_send(struct atr_client *c, const struct atr_client_req *rq, atr_client_cb cb, void *cls,
		    struct atr_xfer **xfer_out);
/* Stops a transfer; its callback will not run. */
void atr_client_cancel(struct atr_xfer *x);
/* Transfers in flight. */
int atr_client_active(const struct atr_client *c);
/* PEM CA certificates that verify https:// servers from now on (CURLOPT_CAINFO), instead of the
 * system's; NULL or "": the system's. 0 or ATR_ENOMEM. */
int atr_client_set_ca_file(struct atr_client *c, const char *path);

#endif
