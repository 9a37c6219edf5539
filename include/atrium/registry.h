#ifndef ATRIUM_REGISTRY_H
#define ATRIUM_REGISTRY_H
/*
 * registry.h: the worker registry below the REST API (src/registry/workers.c): the key
 * worker secrets derive from, the sweep that marks workers offline when their heartbeats
 * stop (whoever runs jobs is told), and the registry's /metrics figures.
 */
#include <stdint.h>

#include "atrium/principal.h"

struct uv_loop_s;
struct atr_store;
struct atr_metrics;
struct atr_registry;

struct atr_registry_opts {
	struct uv_loop_s *loop;
	struct atr_store *store;     /* its data_dir holds worker.key */
	struct atr_metrics *metrics; /* may be NULL */
	/* A worker missed its heartbeats: it is offline now, its jobs are lost (the engine). */
	void (*offline)(void *cls, int64_t worker_id, const char *why);
	void *cls;
	int64_t heartbeat_timeout_s; /* no worker is offline before a timeout since the daemon answers */
};

/* Loads (or makes, mode 0600) DATA_DIR/worker.key and starts the sweep. */
int atr_registry_new(const struct atr_registry_opts *o, struct atr_registry **out);
/* Stops the sweep; freed once the loop ran its close callback. */
void atr_registry_free(struct atr_registry *r);
/* A worker's current secret: HMAC-SHA256 of its id and its registration's random nonce under
 * the key. The database keeps only its sha256; the server re-derives it to call the worker. */
void atr_registry_secret(const struct atr_registry *r, int64_t worker_id, int64_t nonce, char out[ATR_TOKEN_MAX]);

#endif
