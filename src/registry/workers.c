/*
 * workers.c: the worker registry's own work, below the REST API: the key worker secrets
 * derive from (DATA_DIR/worker.key; the database keeps only each secret's sha256), the timer
 * that marks silent workers offline (their jobs become lost: opts.offline), and the registry's /metrics
 * figures. The REST resource is src/api/workers.c.
 */
#include "atrium/registry.h"
#include "atrium/buf.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/metrics.h"
#include "atrium/store.h"
#include "atrium/store_workers.h"
#include "atrium/util.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

struct atr_registry {
	struct atr_registry_opts o;
	uv_timer_t sweep;
	int64_t serving_ms;    /* the sweep's first tick: the loop runs, heartbeats are answered */
	unsigned char key[32]; /* DATA_DIR/worker.key: worker secrets are derived from it */
};

void atr_registry_secret(const struct atr_registry *w, int64_t worker_id, int64_t nonce, char out[ATR_TOKEN_MAX])
{
	char msg[96], b62[48];
	unsigned char mac[32];
	unsigned int len = 0;

	snprintf(msg, sizeof(msg), "atrium-worker-secret:%lld:%lld", (long long)worker_id, (long long)nonce);
	HMAC(EVP_sha256(), w->key, (int)sizeof(w->key), (const unsigned char *)msg, strlen(msg), mac, &len);
	atr_base62_encode(mac, sizeof(mac), b62);
	snprintf(out, ATR_TOKEN_MAX, "atr_%s", b62);
}

static int load_key(struct atr_registry *w, const char *data_dir)
{
	char path[1200], hex[80];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/worker.key", data_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, hex, sizeof(hex) - 1);
		close(fd);
		while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
			n--;
		hex[n < 0 ? 0 : n] = 0;
		if (n == 64 && atr_hex_decode(hex, w->key, sizeof(w->key)) == 0)
			return 0;
		atr_error("'%s' is damaged; move it away to issue new worker secrets (workers re-register)", path);
		return ATR_EIO;
	}
	if (atr_random_bytes(w->key, sizeof(w->key)) < 0)
		return ATR_EIO;
	atr_hex_encode(w->key, sizeof(w->key), hex);
	hex[64] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, 65) != 65 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		atr_error("cannot write '%s'", path);
		return ATR_EIO;
	}
	close(fd);
	return 0;
}

static void on_sweep(uv_timer_t *t)
{
	struct atr_registry *w = t->data;
	int64_t ids[32], timeout_ms = w->o.heartbeat_timeout_s * 1000;
	int n = 0;

	/* Right after a start, workers have not had a chance to heartbeat this server yet: a full
	 * timeout from when it answers (its start, a crash's recovery among it, may take seconds on a
	 * loaded host: counted from the process's start, a worker that kept heartbeating through a
	 * restart was swept at the first tick, and its running jobs lost). */
	if (!w->serving_ms)
		w->serving_ms = atr_now_ms();
	if (atr_now_ms() - w->serving_ms < timeout_ms)
		return;
	if (atr_store_workers_sweep(w->o.store, atr_now_ms() - timeout_ms, ids, (int)ATR_ARRAY_LEN(ids), &n) < 0) {
		atr_warn("could not check worker heartbeats");
		return;
	}
	for (int i = 0; i < n && i < (int)ATR_ARRAY_LEN(ids); i++) {
		atr_warn("worker %lld is offline: no heartbeat for %lld s", (long long)ids[i],
			 (long long)w->o.heartbeat_timeout_s);
		if (w->o.offline)
			w->o.offline(w->o.cls, ids[i], "lost: its worker stopped sending heartbeats");
	}
}

static void render_metrics(void *cls, struct atr_buf *out)
{
	struct atr_registry *w = cls;
	struct atr_worker_counts c;

	if (atr_store_worker_counts(w->o.store, &c) < 0)
		return;
	atr_buf_printf(
		out,
		"# HELP atrium_workers Registered workers by connectivity.\n# TYPE atrium_workers gauge\n"
		"atrium_workers{state=\"online\"} %lld\natrium_workers{state=\"offline\"} %lld\n"
		"# HELP atrium_workers_schedulable Online workers neither cordoned nor draining.\n"
		"# TYPE atrium_workers_schedulable gauge\natrium_workers_schedulable %lld\n"
		"# HELP atrium_gpus GPUs on online workers; busy: used by processes Atrium did not start.\n"
		"# TYPE atrium_gpus gauge\natrium_gpus{state=\"total\"} %lld\natrium_gpus{state=\"busy\"} %lld\n",
		(long long)c.online, (long long)c.offline, (long long)c.schedulable, (long long)c.gpus,
		(long long)c.gpus_busy);
}

int atr_registry_new(const struct atr_registry_opts *o, struct atr_registry **out)
{
	struct atr_registry *w = calloc(1, sizeof(*w));
	uint64_t every;

	if (!w)
		return ATR_ENOMEM;
	w->o = *o;
	if (load_key(w, o->store->data_dir) < 0) {
		free(w);
		return ATR_EIO;
	}
	if (o->metrics)
		atr_metrics_add_source(o->metrics, render_metrics, w);
	uv_timer_init(o->loop, &w->sweep);
	w->sweep.data = w;
	/* check a few times per timeout, so "offline" comes at most a quarter late */
	every = (uint64_t)o->heartbeat_timeout_s * 250;
	uv_timer_start(&w->sweep, on_sweep, every, every);
	*out = w;
	return 0;
}

static void on_registry_closed(uv_handle_t *h)
{
	free(h->data);
}

void atr_registry_free(struct atr_registry *w)
{
	if (w)
		uv_close((uv_handle_t *)&w->sweep, on_registry_closed);
}
