/*
 * predictions.c: the deployment_predictions table: captured inference requests and
 * responses, written in batches (one transaction per flush), pruned to each deployment's
 * retention (newest N rows, none older than its age limit), listed newest first.
 */
#include "atrium/json.h"
#include "atrium/store_deployments.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <stdlib.h>
#include <string.h>

int atr_store_predictions_insert(struct atr_store *s, const struct atr_prediction *p, size_t n)
{
	int rc = atr_db_begin(s->db);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_stmt *st =
			atr_db_stmt(s->db, "INSERT INTO deployment_predictions(deployment_id, version_id, version,"
					   " created_at, latency_us, status, content_type, request, request_size,"
					   " response, response_size, request_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
		if (!st) {
			rc = ATR_EDB;
			break;
		}
		sqlite3_bind_int64(st, 1, p[i].deployment_id);
		if (p[i].version_id > 0) {
			sqlite3_bind_int64(st, 2, p[i].version_id);
			sqlite3_bind_int64(st, 3, p[i].version);
		}
		sqlite3_bind_int64(st, 4, p[i].created_at);
		sqlite3_bind_int64(st, 5, p[i].latency_us);
		sqlite3_bind_int(st, 6, p[i].status);
		atr_db_bind_text(st, 7, p[i].content_type);
		sqlite3_bind_blob(st, 8, p[i].request ? p[i].request : "", (int)p[i].request_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, (int64_t)p[i].request_size);
		sqlite3_bind_blob(st, 10, p[i].response ? p[i].response : "", (int)p[i].response_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 11, (int64_t)p[i].response_size);
		if (p[i].request_id[0])
			atr_db_bind_text(st, 12, p[i].request_id);
		rc = atr_db_step_write(st);
	}
	if (rc < 0) {
		atr_db_rollback(s->db);
		return rc;
	}
	return atr_db_commit(s->db);
}

int atr_store_predictions_prune(struct atr_store *s, int64_t deployment_id, int64_t max_rows, int64_t before_ms,
				int64_t *deleted)
{
	sqlite3_stmt *st;
	int rc;

	*deleted = 0;
	/* Past the newest max_rows: everything at or below the id of row max_rows + 1. */
	st = atr_db_stmt(s->db, "DELETE FROM deployment_predictions WHERE deployment_id = ?1 AND id <= coalesce("
				"(SELECT id FROM deployment_predictions WHERE deployment_id = ?1 ORDER BY id DESC"
				" LIMIT 1 OFFSET ?2), 0)");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, max_rows);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*deleted += atr_db_changes(s->db);
	if (before_ms <= 0)
		return 0;
	st = atr_db_stmt(s->db, "DELETE FROM deployment_predictions WHERE deployment_id = ? AND created_at < ?");
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, before_ms);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*deleted += atr_db_changes(s->db);
	return 0;
}

int atr_store_prediction_find(struct atr_store *s, int64_t deployment_id, const char *request_id, int64_t *created_at,
			      char **response, size_t *len)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT created_at, response FROM deployment_predictions"
					      " WHERE deployment_id = ? AND request_id = ? ORDER BY id DESC LIMIT 1");
	int rc;

	*response = NULL;
	*len = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	atr_db_bind_text(st, 2, request_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*created_at = sqlite3_column_int64(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 1);
		if (*len && (*response = malloc(*len)))
			memcpy(*response, sqlite3_column_blob(st, 1), *len);
		else
			*len = 0;
	}
	return atr_db_row_done(st, rc);
}

/* A captured body as JSON (store_deployments.h). */
json_t *atr_prediction_body_json(const void *data, size_t len, bool whole, const char **encoding)
{
	json_t *v = NULL;
	char *b64;

	*encoding = NULL;
	(void)atr_json_oom_take();
	if (whole && len > 0 && (v = json_loadb(data, len, JSON_DECODE_ANY, NULL)))
		return v;
	if (atr_json_oom_take()) /* (not "not JSON": out of memory) */
		return NULL;
	if (atr_utf8_valid(data, len))
		return json_stringn(data, len);
	b64 = malloc(len / 3 * 4 + 8);
	if (!b64)
		return NULL;
	atr_b64url_encode(data, len, b64);
	*encoding = "base64url";
	v = json_string(b64);
	free(b64);
	return v;
}

static json_t *row_json(sqlite3_stmt *st)
{
	char at[40];
	const void *req = sqlite3_column_blob(st, 7), *resp = sqlite3_column_blob(st, 9);
	size_t req_len = (size_t)sqlite3_column_bytes(st, 7), resp_len = (size_t)sqlite3_column_bytes(st, 9);
	int64_t req_size = sqlite3_column_int64(st, 8), resp_size = sqlite3_column_int64(st, 10);
	const char *enc_req, *enc_resp;
	json_t *o, *rq, *rs;

	rq = atr_prediction_body_json(req ? req : "", req_len, (int64_t)req_len == req_size, &enc_req);
	rs = atr_prediction_body_json(resp ? resp : "", resp_len, (int64_t)resp_len == resp_size, &enc_resp);
	if (!rq || !rs) {
		json_decref(rq);
		json_decref(rs);
		return NULL;
	}
	atr_time_format(sqlite3_column_int64(st, 3), at, sizeof(at));
	o = json_pack("{s:I, s:o, s:s, s:f, s:i, s:o, s:o, s:I, s:b, s:o, s:I, s:b}", "id",
		      (json_int_t)sqlite3_column_int64(st, 0), "version",
		      sqlite3_column_type(st, 2) == SQLITE_NULL ? json_null()
								: json_integer(sqlite3_column_int64(st, 2)),
		      "created_at", at, "latency_ms", (double)sqlite3_column_int64(st, 4) / 1000.0, "status",
		      sqlite3_column_int(st, 5), "content_type",
		      sqlite3_column_type(st, 6) == SQLITE_NULL ? json_null()
								: json_string((const char *)sqlite3_column_text(st, 6)),
		      "request", rq, "request_size", (json_int_t)req_size, "request_truncated",
		      (int64_t)req_len < req_size, "response", rs, "response_size", (json_int_t)resp_size,
		      "response_truncated", (int64_t)resp_len < resp_size);
	if (o)
		json_object_set_new(o, "prediction_id",
				    sqlite3_column_type(st, 11) == SQLITE_NULL
					    ? json_null()
					    : json_string((const char *)sqlite3_column_text(st, 11)));
	if (o && enc_req)
		json_object_set_new(o, "request_encoding", json_string(enc_req));
	if (o && enc_resp)
		json_object_set_new(o, "response_encoding", json_string(enc_resp));
	return o;
}

int atr_store_predictions_list(struct atr_store *s, int64_t deployment_id, int64_t version, const struct atr_page *p,
			       json_t *arr, bool *more)
{
	sqlite3_stmt *st = atr_db_stmt(
		s->db, "SELECT id, version_id, version, created_at, latency_us, status, content_type,"
		       " request, request_size, response, response_size, request_id FROM deployment_predictions"
		       " WHERE deployment_id = ?1 AND (?2 = 0 OR version = ?2) AND (?3 = 0 OR id < ?3)"
		       " ORDER BY id DESC LIMIT ?4");
	int rc, n = 0;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, p->after_id);
	sqlite3_bind_int(st, 4, p->limit + 1);
	*more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o;
		if (n++ == p->limit) {
			*more = true;
			break;
		}
		if (!(o = row_json(st)) || json_array_append_new(arr, o) < 0) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
	}
	atr_db_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ATR_EDB;
}
