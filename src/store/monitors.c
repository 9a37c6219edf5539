/*
 * monitors.c: the tables of monitors and alerts (migration 0028): monitors and their state,
 * their history (each row an alert when it enters warning or alerting), notification
 * channels (the secret is written here and read back only by atr_store_channel_get, for the
 * sender) and the delivery log. Rows handed to callbacks are read first and the statement
 * finished, so a callback may write. No evaluation here (src/deploy/monitors.c).
 */
#include "atrium/store_monitors.h"
#include "atrium/db.h"
#include "atrium/err.h"
#include "atrium/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 64

static char *col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? atr_strdup(t) : NULL;
}

static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

void atr_monitor_row_release(struct atr_monitor_row *m)
{
	free(m->spec);
	m->spec = NULL;
}

int atr_store_monitor_create(struct atr_store *s, int64_t deployment_id, const char *name, const char *spec,
			     int64_t interval_ms, int64_t user_id, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO monitors(deployment_id, name, spec, interval_ms,"
					      " next_check_at, created_at, created_by) VALUES (?,?,?,?,?,?,?)");
	int64_t now = atr_now_ms();
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, deployment_id);
	atr_db_bind_text(st, 2, name);
	atr_db_bind_text(st, 3, spec);
	sqlite3_bind_int64(st, 4, interval_ms);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, user_id);
	if ((rc = atr_db_step_write(st)) == 0)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

#define MONITOR_COLS                                                                                          \
	"SELECT m.id, m.name, m.spec AS spec__json, m.state, m.value, m.samples, m.checked_at, m.changed_at," \
	" m.created_at, u.username AS created_by FROM monitors m LEFT JOIN users u ON u.id = m.created_by"

json_t *atr_store_monitor_json(struct atr_store *s, int64_t deployment_id, int64_t id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, MONITOR_COLS " WHERE m.id = ? AND m.deployment_id = ?");

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, deployment_id);
	return atr_store_one(st, err);
}

int atr_store_monitor_list(struct atr_store *s, int64_t deployment_id, const struct atr_page *p, json_t *arr,
			   bool *more)
{
	return atr_store_list_keyed(s,
				    MONITOR_COLS " WHERE m.deployment_id = ?1 AND (?2 = 0 OR m.id > ?2)"
						 " ORDER BY m.id LIMIT ?3",
				    deployment_id, p, arr, more);
}

int atr_store_monitor_delete(struct atr_store *s, int64_t deployment_id, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM monitors WHERE id = ? AND deployment_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, deployment_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_monitor_update(struct atr_store *s, int64_t deployment_id, int64_t id, const char *spec,
			     int64_t interval_ms)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE monitors SET spec = ?, interval_ms = ?, next_check_at = ?"
					      " WHERE id = ? AND deployment_id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, spec);
	sqlite3_bind_int64(st, 2, interval_ms);
	sqlite3_bind_int64(st, 3, atr_now_ms());
	sqlite3_bind_int64(st, 4, id);
	sqlite3_bind_int64(st, 5, deployment_id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_monitor_snooze(struct atr_store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE monitors SET next_check_at = ? + interval_ms WHERE id = ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	return atr_db_step_write(st);
}

int atr_store_monitor_history(struct atr_store *s, int64_t monitor_id, const struct atr_page *p, json_t *arr,
			      bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT id AS alert_id, from_state AS \"from\", to_state AS \"to\", value, samples,"
				    " at, job_id, action_error FROM monitor_history WHERE monitor_id = ?1"
				    " AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
				    monitor_id, p, arr, more);
}

/* Reads up to limit rows of st into m[] (spec copied); *n gets how many. */
static int read_monitors(sqlite3_stmt *st, struct atr_monitor_row *m, int limit, int *n)
{
	int rc;

	*n = 0;
	while (*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct atr_monitor_row *r = &m[*n];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->deployment_id = sqlite3_column_int64(st, 1);
		atr_copy(r->name, sizeof(r->name), (const char *)sqlite3_column_text(st, 2));
		atr_copy(r->state, sizeof(r->state), (const char *)sqlite3_column_text(st, 3));
		r->value = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
		r->samples = sqlite3_column_int64(st, 5);
		r->interval_ms = sqlite3_column_int64(st, 6);
		atr_copy(r->deployment, sizeof(r->deployment), (const char *)sqlite3_column_text(st, 7));
		r->project_id = sqlite3_column_int64(st, 8);
		r->created_by = sqlite3_column_int64(st, 10);
		if (!(r->spec = col_text(st, 9))) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
		++*n;
	}
	atr_db_done(st);
	return 0;
}

#define ROW_COLS                                                                                                  \
	"SELECT m.id, m.deployment_id, m.name, m.state, m.value, m.samples, m.interval_ms, d.name, d.project_id," \
	" m.spec, m.created_by FROM monitors m JOIN deployments d ON d.id = m.deployment_id"

static int each_row(sqlite3_stmt *st, int limit, void (*fn)(void *cls, const struct atr_monitor_row *m), void *cls)
{
	struct atr_monitor_row *rows = calloc((size_t)limit, sizeof(*rows));
	int n = 0, rc;

	if (!rows) {
		atr_db_done(st);
		return ATR_ENOMEM;
	}
	rc = read_monitors(st, rows, limit, &n);
	for (int i = 0; i < n; i++) {
		if (rc == 0)
			fn(cls, &rows[i]);
		atr_monitor_row_release(&rows[i]);
	}
	free(rows);
	return rc;
}

int atr_store_monitors_due(struct atr_store *s, int64_t now, int limit,
			   void (*fn)(void *cls, const struct atr_monitor_row *m), void *cls)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, ROW_COLS " WHERE m.next_check_at <= ? ORDER BY m.next_check_at LIMIT ?");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	return each_row(st, limit, fn, cls);
}

int atr_store_monitors_each(struct atr_store *s, void (*fn)(void *cls, const struct atr_monitor_row *m), void *cls)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, ROW_COLS " ORDER BY m.id LIMIT 10000");

	if (!st)
		return ATR_EDB;
	return each_row(st, 10000, fn, cls);
}

int atr_store_monitor_checked(struct atr_store *s, int64_t id, const char *state, double value, int64_t samples,
			      int64_t now)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE monitors SET state = ?, value = ?, samples = ?, checked_at = ?,"
					      " next_check_at = ? + interval_ms WHERE id = ?");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, state);
	bind_real_or_null(st, 2, value);
	sqlite3_bind_int64(st, 3, samples);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, id);
	return atr_db_step_write(st);
}

int atr_store_monitor_change(struct atr_store *s, int64_t id, const char *from, const char *to, double value,
			     int64_t samples, int64_t now, int64_t *hid)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO monitor_history(monitor_id, from_state, to_state, value,"
					      " samples, at) VALUES (?,?,?,?,?,?)");
	sqlite3_stmt *up;
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	atr_db_bind_text(st, 2, from);
	atr_db_bind_text(st, 3, to);
	bind_real_or_null(st, 4, value);
	sqlite3_bind_int64(st, 5, samples);
	sqlite3_bind_int64(st, 6, now);
	if ((rc = atr_db_step_write(st)) < 0)
		return rc;
	*hid = atr_db_last_id(s->db);
	if (!(up = atr_db_stmt(s->db, "UPDATE monitors SET changed_at = ? WHERE id = ?")))
		return ATR_EDB;
	sqlite3_bind_int64(up, 1, now);
	sqlite3_bind_int64(up, 2, id);
	return atr_db_step_write(up);
}

int atr_store_monitor_action(struct atr_store *s, int64_t hid, int64_t job_id, const char *error)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE monitor_history SET job_id = ?, action_error = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	if (job_id)
		sqlite3_bind_int64(st, 1, job_id);
	else
		sqlite3_bind_null(st, 1);
	atr_db_bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, hid);
	return atr_db_step_write(st);
}

/* ---- channels ---- */

int atr_store_channel_create(struct atr_store *s, const char *name, const char *kind, const char *config,
			     const char *secret, int64_t user_id, int64_t *id_out)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO notification_channels(name, kind, config, secret,"
					      " created_at, created_by) VALUES (?,?,?,?,?,?)");
	int rc;

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, name);
	atr_db_bind_text(st, 2, kind);
	atr_db_bind_text(st, 3, config);
	atr_db_bind_text(st, 4, secret);
	sqlite3_bind_int64(st, 5, atr_now_ms());
	sqlite3_bind_int64(st, 6, user_id);
	if ((rc = atr_db_step_write(st)) == 0)
		*id_out = atr_db_last_id(s->db);
	return rc;
}

#define CHANNEL_COLS                                                                                       \
	"SELECT c.id, c.name, c.kind, c.config AS config__json, c.secret IS NOT NULL AS has_secret__bool," \
	" c.created_at, u.username AS created_by FROM notification_channels c"                             \
	" LEFT JOIN users u ON u.id = c.created_by"

json_t *atr_store_channel_json(struct atr_store *s, int64_t id, int *err)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, CHANNEL_COLS " WHERE c.id = ?");

	if (!st) {
		*err = ATR_EDB;
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	return atr_store_one(st, err);
}

int atr_store_channel_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s, CHANNEL_COLS " WHERE ?1 = ?1 AND (?2 = 0 OR c.id > ?2) ORDER BY c.id LIMIT ?3",
				    0, p, arr, more);
}

int atr_store_channel_delete(struct atr_store *s, int64_t id)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "DELETE FROM notification_channels WHERE id = ?");
	int rc;

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = atr_db_step_write(st);
	if (rc == 0 && atr_db_changes(s->db) == 0)
		rc = ATR_ENOTFOUND;
	return rc;
}

int atr_store_channel_get(struct atr_store *s, int64_t id, char kind[16], char **config, char **secret)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT kind, config, secret FROM notification_channels WHERE id = ?");
	int rc;

	*config = *secret = NULL;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		atr_copy(kind, 16, (const char *)sqlite3_column_text(st, 0));
		*config = col_text(st, 1);
		*secret = col_text(st, 2);
		if (!*config) {
			free(*secret);
			*secret = NULL;
			atr_db_done(st);
			return ATR_ENOMEM;
		}
	}
	return atr_db_row_done(st, rc);
}

/* ---- deliveries ---- */

int atr_store_delivery_add(struct atr_store *s, int64_t channel_id, int64_t monitor_id, int64_t alert_id,
			   const char *payload, int64_t now)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "INSERT INTO notification_deliveries(channel_id, monitor_id, alert_id,"
					      " status, next_at, payload, created_at, updated_at)"
					      " VALUES (?,?,?,'pending',?,?,?,?)");

	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, channel_id);
	sqlite3_bind_int64(st, 2, monitor_id);
	sqlite3_bind_int64(st, 3, alert_id);
	sqlite3_bind_int64(st, 4, now);
	atr_db_bind_text(st, 5, payload);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now);
	return atr_db_step_write(st);
}

int atr_store_delivery_list(struct atr_store *s, int64_t channel_id, const struct atr_page *p, json_t *arr, bool *more)
{
	return atr_store_list_keyed(s,
				    "SELECT id, monitor_id, alert_id, status, attempts, http_status, error,"
				    " payload AS payload__json, created_at, updated_at FROM notification_deliveries"
				    " WHERE channel_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
				    channel_id, p, arr, more);
}

struct due {
	int64_t id, channel_id, attempts;
	char *payload;
};

static int read_due(struct atr_store *s, int64_t now, int limit, struct due *d, int *n)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "SELECT id, channel_id, attempts, payload FROM notification_deliveries"
					      " WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?");
	int rc;

	*n = 0;
	if (!st)
		return ATR_EDB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	while (*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		d[*n].id = sqlite3_column_int64(st, 0);
		d[*n].channel_id = sqlite3_column_int64(st, 1);
		d[*n].attempts = sqlite3_column_int64(st, 2);
		if (!(d[*n].payload = col_text(st, 3))) {
			atr_db_done(st);
			return ATR_ENOMEM;
		}
		++*n;
	}
	atr_db_done(st);
	return 0;
}

int atr_store_deliveries_due(struct atr_store *s, int64_t now, int limit,
			     void (*fn)(void *cls, const struct atr_delivery_row *d), void *cls)
{
	struct due d[MAX_BATCH];
	sqlite3_stmt *st;
	int n = 0, rc;

	if (limit > MAX_BATCH)
		limit = MAX_BATCH;
	rc = read_due(s, now, limit, d, &n);
	for (int i = 0; i < n; i++) {
		struct atr_delivery_row row = { d[i].id, d[i].channel_id, d[i].attempts, d[i].payload };
		if (rc == 0 && (st = atr_db_stmt(s->db, "UPDATE notification_deliveries SET status = 'sending'"
							" WHERE id = ?"))) {
			sqlite3_bind_int64(st, 1, d[i].id);
			if (atr_db_step_write(st) == 0)
				fn(cls, &row);
		}
		free(d[i].payload);
	}
	return rc;
}

int atr_store_delivery_result(struct atr_store *s, int64_t id, const char *status, int64_t attempts, long http_status,
			      const char *error, int64_t next_at)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE notification_deliveries SET status = ?, attempts = ?,"
					      " http_status = ?, error = ?, next_at = ?, updated_at = ? WHERE id = ?");

	if (!st)
		return ATR_EDB;
	atr_db_bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, attempts);
	if (http_status)
		sqlite3_bind_int64(st, 3, http_status);
	else
		sqlite3_bind_null(st, 3);
	atr_db_bind_text(st, 4, error);
	sqlite3_bind_int64(st, 5, next_at);
	sqlite3_bind_int64(st, 6, atr_now_ms());
	sqlite3_bind_int64(st, 7, id);
	return atr_db_step_write(st);
}

int atr_store_deliveries_reset(struct atr_store *s)
{
	sqlite3_stmt *st = atr_db_stmt(s->db, "UPDATE notification_deliveries SET status = 'pending'"
					      " WHERE status = 'sending'");
	return st ? atr_db_step_write(st) : ATR_EDB;
}
