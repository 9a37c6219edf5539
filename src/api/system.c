/* system.c: liveness, readiness, Prometheus metrics, version and the online backup. */
#include "api.h"
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/metrics.h"
#include "atrium/server.h"
#include "atrium/util.h"
#include "atrium/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

void api_healthz(struct atr_req *r)
{
	atr_reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", ATRIUM_VERSION));
}

void api_readyz(struct atr_req *r)
{
	if (!atr_store_ready(STORE(r))) {
		atr_reply_unavailable(r, NULL, "the database does not answer");
		return;
	}
	atr_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
}

void api_version(struct atr_req *r)
{
	atr_reply_json(r, 200, json_pack("{s:s, s:s}", "version", ATRIUM_VERSION, "api", "v1"));
}

void api_metrics(struct atr_req *r)
{
	struct atr_buf b;

	atr_buf_init(&b, 64u << 20);
	atr_metrics_render(APP(r)->metrics, &b);
	atr_buf_printf(&b,
		       "# HELP atrium_db_size_bytes Size of the SQLite database file.\n"
		       "# TYPE atrium_db_size_bytes gauge\natrium_db_size_bytes %lld\n",
		       (long long)atr_db_size_bytes(STORE(r)->db));
	atr_buf_printf(&b,
		       "# HELP atrium_up_seconds Seconds since the server started.\n"
		       "# TYPE atrium_up_seconds gauge\natrium_up_seconds %lld\n",
		       (long long)((atr_now_ms() - APP(r)->started_ms) / 1000));
	atr_reply_data_owned(r, 200, "text/plain; version=0.0.4; charset=utf-8", atr_buf_steal(&b), b.len);
}

struct backup {
	uv_timer_t timer;
	struct atr_req *r;
	struct atr_db_backup *b;
	char path[1200];
};

static void backup_closed(uv_handle_t *h)
{
	free(h->data);
}

static void backup_tick(uv_timer_t *t)
{
	struct backup *k = t->data;
	struct stat st;
	int rc = atr_db_backup_step(k->b, 256);

	if (rc == 0)
		return; /* more pages on the next tick; requests are served in between */
	rc = atr_db_backup_finish(k->b);
	if (rc < 0) {
		unlink(k->path);
		atr_reply_err(k->r, rc, NULL, "backup to '%s' failed", k->path);
	} else {
		atr_reply_json(k->r, 201,
			       json_pack("{s:s, s:I}", "path", k->path, "size_bytes",
					 (json_int_t)(stat(k->path, &st) == 0 ? st.st_size : 0)));
	}
	atr_req_unref(k->r);
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, backup_closed);
}

void api_admin_backup(struct atr_req *r)
{
	char ts[40], name[64];
	struct backup *k = calloc(1, sizeof(*k));
	size_t n = 0;
	int rc;

	if (!k) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_time_format(atr_now_ms(), ts, sizeof(ts));
	/* "2026-01-02T03:04:05.678Z" -> "20260102T030405678Z": safe in a file name. */
	for (const char *p = ts; *p && n + 1 < sizeof(name); p++)
		if (*p != '-' && *p != ':' && *p != '.')
			name[n++] = *p;
	name[n] = 0;
	snprintf(k->path, sizeof(k->path), "%s/backups", STORE(r)->data_dir);
	if (atr_mkdirs(k->path, 0750) < 0) {
		atr_reply_err(r, ATR_EIO, NULL, "cannot create '%s'", k->path);
		free(k);
		return;
	}
	snprintf(k->path, sizeof(k->path), "%s/backups/atrium-%s.db", STORE(r)->data_dir, name);
	atr_req_audit_object(r, "backup:%s", k->path);
	rc = atr_db_backup_start(STORE(r)->db, k->path, &k->b);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "backup to '%s' failed", k->path);
		free(k);
		return;
	}
	k->r = r;
	atr_req_ref(r);
	atr_req_suspend(r);
	uv_timer_init(APP(r)->loop, &k->timer);
	k->timer.data = k;
	uv_timer_start(&k->timer, backup_tick, 0, 1);
}
