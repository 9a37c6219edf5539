#ifndef ATRIUM_HTTP_H
#define ATRIUM_HTTP_H
/*
 * http.h: what a REST handler sees. The server (src/http/server.c) matches the route,
 * authenticates, enforces the body limit, parses and validates the JSON body, then calls
 * the handler, which answers with one of the atr_reply_* functions, now or later
 * (atr_req_suspend, for answers that wait on an event).
 *
 * Everything a request allocates hangs off struct atr_req and is freed when the response
 * completes; atr_req_ref/unref keep it alive for work that can outlive the client.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "atrium/access.h"
#include "atrium/principal.h"
#include "atrium/err.h"
#include "atrium/json.h"

struct atr_app;
struct atr_req;
struct atr_server;
struct MHD_Connection;
struct uv_loop_s;

typedef void (*atr_handler_fn)(struct atr_req *req);
/* Streaming request bodies: return 0 to go on, <0 to stop (after atr_reply_*). */
typedef int (*atr_chunk_fn)(struct atr_req *req, const char *data, size_t len);

enum atr_access {
	ATR_ACCESS_PUBLIC, /* no token needed */
	ATR_ACCESS_USER,   /* a user's token (admins included) */
	ATR_ACCESS_ADMIN,  /* a token of an admin user */
	ATR_ACCESS_WORKER, /* a worker's secret */
};

#define ATR_RF_JOB_OK 0x01     /* job-scoped tokens are accepted too */
#define ATR_RF_NO_AUDIT 0x02   /* telemetry (heartbeats, log lines, metric points): not audited */
#define ATR_RF_STREAM 0x04     /* body goes to on_chunk as it arrives, never buffered whole */
#define ATR_RF_IDEMPOTENT 0x08 /* Idempotency-Key replays the first 2xx answer */
#define ATR_RF_INVOKE_OK 0x10  /* deployment invoke keys are accepted too */
#define ATR_RF_RAW_BODY 0x20   /* body is buffered but not parsed (proxied as is) */
#define ATR_RF_HTML 0x40       /* errors as plain text (static files) */
/* GET answers (200, JSON, no query string) are kept and replayed to the same caller until
 * anything is written to the store (see atr_server_opts.generation): exact, never stale. */
#define ATR_RF_CACHE 0x80
#define ATR_RF_DRAFT 0x100 /* the (dataset or model) version must still be a draft: 409 once committed */
#define ATR_RF_SELF 0x200  /* ATR_RES_JOB: only that job's own token (it writes its outputs) */
/* MLflow's REST API: what the request acts on is named in its body or query (run_id,
 * experiment_id, name, version), so the resource is loaded and decided once the body is read;
 * errors answer in MLflow's shape (that follows from the path). */
#define ATR_RF_MLFLOW 0x400
/* MLflow's artifact listing (GET /api/2.0/mlflow-artifacts/artifacts?path=...): what it reads is
 * named by the `path` query parameter, "<experiment id>/<run id>/artifacts[/<folder>]" (a run's
 * artifacts) or "registry/<model version id>[/<folder>]" (a model version's files); the
 * resolver loads that one and decides with the route's role, as it does for a path. */
#define ATR_RF_ARTIFACT_PATH 0x800
#define ATR_RF_SCRAPE_OK 0x8000 /* ATR_ACCESS_ADMIN: a metrics scrape token is accepted too */
/* Writes to an archived project are allowed (the route restores it: MLflow's
 * experiments/restore). */
#define ATR_RF_ARCHIVED_OK 0x1000
/* ATR_RES_PROJECT: a job's token may call it on its own project (ATR_RF_JOB_OK routes on a
 * project reach nothing else of it): a read of the project, or starting a run (the job's own). */
#define ATR_RF_JOB_PROJECT 0x2000

/*
 * Query parameters are described like request bodies: one table per route, checked by one
 * validator before the handler runs (400 naming the parameter; unknown parameters too).
 * Handlers read the checked values with atr_req_query / atr_req_qint / atr_req_qbool.
 */
enum atr_qtype {
	ATR_Q_INT,	 /* min..max; dflt when absent */
	ATR_Q_STRING,	 /* min..max bytes (max 0: 1024; min 0 accepts an empty value) */
	ATR_Q_ENUM,	 /* one of enums ("a|b|c") */
	ATR_Q_ENUM_LIST, /* one or more of enums, comma-separated ("queued,running") */
	ATR_Q_BOOL,	 /* true|false (also 1|0); dflt when absent */
	ATR_Q_TIME,	 /* RFC 3339; atr_req_qint gives milliseconds since the epoch (0 when absent) */
};

#define ATR_QF_REQUIRED 0x1
#define ATR_QF_MULTI 0x2 /* may be given more than once (MLflow's lists: ?order_by=a&order_by=b), each value checked */

struct atr_qparam {
	const char *name; /* NULL ends the table */
	enum atr_qtype type;
	unsigned flags; /* ATR_QF_REQUIRED */
	int64_t min, max, dflt;
	const char *enums;
	const char *doc; /* one line for the OpenAPI document */
};

/* ?limit (1..1000, 50) and ?cursor of a paged list: the first rows of a list route's table. */
#define ATR_Q_PAGE                                                                                  \
	{ "limit", ATR_Q_INT, 0, 1, 1000, 50, NULL, "items per page" },                             \
	{                                                                                           \
		"cursor", ATR_Q_STRING, 0, 1, 2048, 0, NULL, "the next_cursor of the previous page" \
	}

#define ATR_MAX_PARAMS 8 /* path parameters in a route's pattern */
#define ATR_MAX_QUERY 24 /* query parameters a route may declare */

/*
 * A row of the route table (src/api/routes.c), written with designated initialisers. The
 * pipeline checks everything a row says before the handler runs: the token's kind (access,
 * flags), the resource the path points at and the caller's project role there (resource,
 * role: private and no access -> 404, too low a role -> 403 naming the role needed, a write
 * to an archived project -> 409), the query (query), the body (body). The handler finds the
 * loaded resource in req->resource.
 */
struct atr_route {
	const char *method;  /* "GET", "POST", ... (HEAD is served by GET routes) */
	const char *pattern; /* "/api/v1/projects/{project}/datasets/{path...}" */
	atr_handler_fn handler;
	enum atr_access access;
	enum atr_res resource; /* ATR_RES_NONE: the path names no project resource */
	enum atr_prole role;   /* the project role needed on resource */
	unsigned flags;
	const struct atr_field *body;	/* JSON body schema; NULL: body not parsed */
	const struct atr_qparam *query; /* query parameters; NULL: none accepted */
	const char *name;		/* "projects.create": audit action and metrics label */
	const char *summary;		/* one line: the OpenAPI document's summary */
	unsigned status;		/* the success status (0: 200) */
	const char *consumes;		/* a raw or streamed body's media type, for the docs (NULL: JSON, bytes) */
	const char *produces;		/* the success answer's media type, for the docs (NULL: JSON) */
	atr_handler_fn on_begin;	/* ATR_RF_STREAM: headers are in; may reply to refuse */
	atr_chunk_fn on_chunk;		/* ATR_RF_STREAM: one piece of the body */
};

/*
 * A request, as a handler sees it. The request itself is private to src/http (its life is a
 * state machine there: http_internal.h); handlers read it through these functions and
 * answer with the atr_reply_* ones. Everything a request allocates hangs off it and is freed
 * when the response completes; atr_req_ref/unref keep it alive for work that can outlive the
 * client.
 */
/* What the server was started with (atr_server_opts.app): the daemon's parts, or a worker's agent. */
void *atr_req_app(const struct atr_req *req);
const struct atr_principal *atr_req_who(const struct atr_req *req);
const struct atr_route *atr_req_route(const struct atr_req *req);
const char *atr_req_method(const struct atr_req *req);
const char *atr_req_path(const struct atr_req *req);   /* raw path, without the query */
const char *atr_req_id(const struct atr_req *req);     /* the request id (X-Request-Id) */
const char *atr_req_client(const struct atr_req *req); /* the client's address */
/* The validated JSON body (borrowed; NULL when the route has no body schema). */
json_t *atr_req_body(const struct atr_req *req);
/* ATR_RF_RAW_BODY: the bytes as they came (borrowed; "" and 0 when none). */
const char *atr_req_raw_body(const struct atr_req *req, size_t *len);
/* What the route's path points at, as the pipeline's resolver loaded it (NULL: none). */
void *atr_req_resource(const struct atr_req *req);
void atr_req_set_resource(struct atr_req *req, void *resource);
/* Handler state (an upload, a wait): free_fn(ctx) runs when the request ends (may be NULL). */
void *atr_req_ctx(const struct atr_req *req);
void atr_req_set_ctx(struct atr_req *req, void *ctx, void (*free_fn)(void *ctx));
/* Called once when the connection ends (the client left, or the answer was sent). */
void atr_req_on_close(struct atr_req *req, void (*fn)(struct atr_req *req));
/* Called when the server begins to stop, for requests that wait on an event (long polls):
 * answer now. Requests without it may finish within the grace period. */
void atr_req_on_shutdown(struct atr_req *req, void (*fn)(struct atr_req *req));
/* The status answered so far (0 before an answer) and what the audit log records as the object. */
unsigned atr_req_status(const struct atr_req *req);
const char *atr_req_audit_text(const struct atr_req *req);

/* Path parameter by name (decoded; NULL when absent). */
const char *atr_req_param(struct atr_req *req, const char *name);
/* Query parameter (decoded, owned by the request; NULL when absent or undecodable). */
const char *atr_req_query(struct atr_req *req, const char *name);
/* Every value of a query parameter (ATR_QF_MULTI), in order (decoded, owned by the request):
 * how many there are; the first max of them go to out. */
int atr_req_query_all(struct atr_req *req, const char *name, const char **out, int max);
/* A query parameter the route's table declares as ATR_Q_INT, ATR_Q_TIME or ATR_Q_BOOL, as
 * checked by the pipeline (its default when absent). */
int64_t atr_req_qint(struct atr_req *req, const char *name);
bool atr_req_qbool(struct atr_req *req, const char *name);
/* Request header (borrowed; NULL when absent). */
const char *atr_req_header(struct atr_req *req, const char *name);
/* Memory that lives as long as the request. NULL on failure. */
void *atr_req_alloc(struct atr_req *req, size_t n);
char *atr_req_strdup(struct atr_req *req, const char *s);
/* What the audit log records as the object ("project:vision"); defaults to the path. */
void atr_req_audit_object(struct atr_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Answers. Each may be called once per request; later calls are ignored. */
void atr_reply_json(struct atr_req *req, unsigned status, json_t *body); /* steals body */
/*
 * The one error answer, {"error":{"code","message","field"}}, with the status and code of
 * an enum atr_err (the ATR_ERRORS table). field (NULL: none) names the bad input. Messages
 * are lowercase and quote their subject; control characters are never echoed.
 */
void atr_reply_err(struct atr_req *req, int err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same, one helper per error of the table: atr_reply_invalid(req, "name", "..."),
 * atr_reply_not_found(req, NULL, "..."), atr_reply_conflict, atr_reply_forbidden, ... */
#define ATR_REPLY_HELPER_(name, value, status, code, helper, text, mlflow)                    \
	void atr_reply_##helper(struct atr_req *req, const char *field, const char *fmt, ...) \
		__attribute__((format(printf, 3, 4)));
ATR_ERRORS(ATR_REPLY_HELPER_)
#undef ATR_REPLY_HELPER_
void atr_reply_data(struct atr_req *req, unsigned status, const char *content_type, const void *data, size_t len);
/* Takes ownership of data (freed with free()). */
void atr_reply_data_owned(struct atr_req *req, unsigned status, const char *content_type, char *data, size_t len);
/* Sends len bytes of fd from off; the fd is closed when done. */
void atr_reply_fd(struct atr_req *req, unsigned status, const char *content_type, int fd, uint64_t off, uint64_t len);
void atr_reply_empty(struct atr_req *req, unsigned status);

/*
 * Streams a chunked body. read() fills buf (at most max bytes) and returns the count,
 * 0 when nothing is ready yet (the connection is suspended until atr_stream_wake), or -1
 * at the end. done() frees cls when the stream ends for any reason.
 */
struct atr_stream_ops {
	long (*read)(void *cls, char *buf, size_t max);
	void (*done)(void *cls);
};
void atr_reply_stream(struct atr_req *req, unsigned status, const char *content_type, const struct atr_stream_ops *ops,
		      void *cls);
/* New data (or the end) is ready for a stream that returned 0. */
void atr_stream_wake(struct atr_req *req);

/* Adds a header to the coming answer (copied). */
void atr_reply_header(struct atr_req *req, const char *name, const char *value);

/* The answer comes later (from a timer, a curl transfer, an event): the connection waits. */
void atr_req_suspend(struct atr_req *req);
/* true once the client is gone or the answer was sent; late answers are dropped. */
bool atr_req_done(const struct atr_req *req);
void atr_req_ref(struct atr_req *req);
/* The loop this request runs on. */
struct uv_loop_s *atr_req_loop(struct atr_req *req);
void atr_req_unref(struct atr_req *req);

/* The list of routes in src/api/routes.c. */
extern const struct atr_route atr_routes[];
extern const size_t atr_routes_count;

#endif
