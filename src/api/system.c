/* system.c: liveness, readiness, Prometheus metrics, version and the online backup. */
#include "api.h"
#include "atrium/buf.h"
#include "atrium/db.h"
#include "atrium/metrics.h"
#include "atrium/server.h"
#include "atrium/util.h"
#include "atrium/version.h"

#include <stdio.h>
#include <sys/stat.h>

void api_healthz(struct atr_req *r)
{
	atr_reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", ATRIUM_VERSION));
}

void api_readyz(struct atr_req *r)
{
	if (!atr_store_ready(STORE(r))) {
		atr_reply_error(r, 503, "unavailable", NULL, "the database does not answer");
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
	atr_buf_printf(&b, "# HELP atrium_db_size_bytes Size of the SQLite database file.\n"
			   "# TYPE atrium_db_size_bytes gauge\natrium_db_size_bytes %lld\n",
		       (long long)atr_db_size_bytes(STORE(r)->db));
	atr_buf_printf(&b, "# HELP atrium_up_seconds Seconds since the server started.\n"
			   "# TYPE atrium_up_seconds gauge\natrium_up_seconds %lld\n",
		       (long long)((atr_now_ms() - APP(r)->started_ms) / 1000));
	atr_reply_data_owned(r, 200, "text/plain; version=0.0.4; charset=utf-8", atr_buf_steal(&b), b.len);
}

void api_admin_backup(struct atr_req *r)
{
	char path[1200], ts[40], name[64];
	struct stat st;
	int rc;

	atr_time_format(atr_now_ms(), ts, sizeof(ts));
	/* "2026-01-02T03:04:05.678Z" -> "20260102T030405678Z": safe in a file name. */
	size_t n = 0;
	for (const char *p = ts; *p && n + 1 < sizeof(name); p++)
		if (*p != '-' && *p != ':' && *p != '.')
			name[n++] = *p;
	name[n] = 0;
	snprintf(path, sizeof(path), "%s/backups", STORE(r)->data_dir);
	if (atr_mkdirs(path, 0750) < 0) {
		atr_reply_err(r, ATR_EIO, NULL, "cannot create '%s'", path);
		return;
	}
	snprintf(path, sizeof(path), "%s/backups/atrium-%s.db", STORE(r)->data_dir, name);
	rc = atr_db_backup(STORE(r)->db, path);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "backup to '%s' failed", path);
		return;
	}
	atr_req_audit_object(r, "backup:%s", path);
	atr_reply_json(r, 201, json_pack("{s:s, s:I}", "path", path, "size_bytes",
					 (json_int_t)(stat(path, &st) == 0 ? st.st_size : 0)));
}
