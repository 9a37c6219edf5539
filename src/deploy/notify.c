/*
 * notify.c: an alert's notifications. dep_notify_queue writes one delivery row per channel
 * the monitor names (the payload is the alert's JSON event); the tick (dep_notify_tick, once
 * a second) sends the deliveries due with libcurl multi on the loop: webhooks as a JSON POST
 * (or a Slack-compatible {"text"} body) signed with HMAC-SHA256 of "<timestamp>.<body>"
 * under the channel's secret (X-Atrium-Timestamp, X-Atrium-Signature: sha256=<hex>), e-mail
 * over SMTP. A failed attempt is tried again after 1, 2, 4, ... s (at most 5 minutes apart)
 * until the channel's max_attempts; each attempt's outcome is written to the delivery row.
 * The rows are the queue, so a restart resumes what was pending.
 */
#include "atrium/client.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_monitors.h"
#include "atrium/util.h"
#include "deploy_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE(dp) ((dp)->o.store)
#define BATCH 16
#define MAX_BACKOFF_MS 300000

struct notify_send {
	struct notify_send *next, *prev;
	struct atr_deploy *dp;
	struct atr_xfer *x;
	int64_t id, attempts, max_attempts;
	bool mail;
};

void dep_notify_queue(struct atr_deploy *dp, int64_t monitor_id, int64_t alert_id, const json_t *channels,
		      const json_t *event)
{
	char *text = json_dumps(event, JSON_COMPACT);
	int64_t now = atr_now_ms();
	const json_t *c;
	size_t i;

	if (!text)
		return;
	json_array_foreach(channels, i, c) if (atr_store_delivery_add(STORE(dp), json_integer_value(c), monitor_id,
								      alert_id, text, now) < 0)
		atr_warn("monitor %lld: could not queue its notification to channel %lld", (long long)monitor_id,
			 (long long)json_integer_value(c));
	free(text);
}

static void unlink_send(struct notify_send *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->dp->sends = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static void on_sent(void *cls, const struct atr_client_resp *resp)
{
	struct notify_send *s = cls;
	bool ok = resp->curl_code == 0 && (s->mail || (resp->status >= 200 && resp->status <= 299));
	int64_t attempts = s->attempts + 1, now = atr_now_ms(), backoff = 1000;
	char err[300] = "";

	for (int64_t k = 1; k < attempts && backoff < MAX_BACKOFF_MS; k++)
		backoff *= 2;
	if (!ok && resp->curl_code)
		snprintf(err, sizeof(err), "%s", resp->error ? resp->error : "transfer failed");
	else if (!ok)
		snprintf(err, sizeof(err), "the receiver answered %ld", resp->status);
	atr_store_delivery_result(STORE(s->dp), s->id,
				  ok			       ? "delivered"
				  : attempts < s->max_attempts ? "pending"
							       : "failed",
				  attempts, resp->status, ok ? NULL : err,
				  now + (backoff < MAX_BACKOFF_MS ? backoff : MAX_BACKOFF_MS));
	unlink_send(s);
	free(s);
}

/* A Slack-compatible message, or the subject of an e-mail (buf). */
static void summary(const json_t *ev, char *buf, size_t len)
{
	const json_t *v = json_object_get(ev, "value");
	char num[40] = "no value";

	if (json_is_number(v))
		snprintf(num, sizeof(num), "%.4g", json_number_value(v));
	snprintf(buf, len, "[atrium] monitor '%s' on deployment '%s': %s -> %s (%s %s)",
		 atr_json_str(json_object_get(ev, "monitor"), "name", ""), atr_json_str(ev, "deployment", ""),
		 atr_json_str(ev, "from", ""), atr_json_str(ev, "to", ""),
		 atr_json_str(json_object_get(ev, "monitor"), "statistic", ""), num);
}

static int send_webhook(struct notify_send *s, const json_t *cfg, const char *secret, const char *payload)
{
	json_t *ev = NULL, *slack = NULL;
	char *body = NULL, ts[24], sig[65], hsig[128], hts[48], hid[48], text[400];
	const char *hdrs[] = { hts, hsig, hid, "X-Atrium-Event: monitor.state_changed", NULL };
	struct atr_buf signed_msg;
	struct atr_client_req rq = { .method = "POST", .url = atr_json_str(cfg, "url", ""), .timeout_ms = 10000 };
	int rc = ATR_ENOMEM;

	if (!strcmp(atr_json_str(cfg, "format", "json"), "slack") && (ev = json_loads(payload, 0, NULL))) {
		summary(ev, text, sizeof(text));
		slack = json_pack("{s:s}", "text", text);
		body = slack ? json_dumps(slack, JSON_COMPACT) : NULL;
	} else {
		body = atr_strdup(payload);
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)(atr_now_ms() / 1000));
	atr_buf_init(&signed_msg, 1u << 24);
	atr_buf_printf(&signed_msg, "%s.%s", ts, body ? body : "");
	if (body && signed_msg.data &&
	    atr_hmac_sha256_hex(secret ? secret : "", secret ? strlen(secret) : 0, signed_msg.data, signed_msg.len,
				sig) == 0) {
		snprintf(hts, sizeof(hts), "X-Atrium-Timestamp: %s", ts);
		snprintf(hsig, sizeof(hsig), "X-Atrium-Signature: sha256=%s", sig);
		snprintf(hid, sizeof(hid), "X-Atrium-Delivery: %lld", (long long)s->id);
		rq.body = body;
		rq.body_len = strlen(body);
		rq.headers = hdrs;
		rq.max_response = 4096;
		rc = atr_client_send(s->dp->o.client, &rq, on_sent, s, &s->x);
	}
	atr_buf_release(&signed_msg);
	json_decref(ev);
	json_decref(slack);
	free(body);
	return rc;
}

static int send_mail(struct notify_send *s, const json_t *cfg, const char *password, const char *payload)
{
	const json_t *to = json_object_get(cfg, "to");
	const char *rcpt[11] = { 0 };
	json_t *ev = json_loads(payload, 0, NULL);
	char subject[400], date[64];
	struct atr_buf msg;
	time_t t = time(NULL);
	struct tm tm;
	int rc = ATR_ENOMEM;

	summary(ev, subject, sizeof(subject));
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	atr_buf_init(&msg, 1u << 20);
	atr_buf_printf(&msg, "From: %s\r\nTo: ", atr_json_str(cfg, "from", ""));
	for (size_t i = 0; i < json_array_size(to) && i < 10; i++) {
		rcpt[i] = json_string_value(json_array_get(to, i));
		atr_buf_printf(&msg, "%s%s", i ? ", " : "", rcpt[i]);
	}
	atr_buf_printf(&msg,
		       "\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n"
		       "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n\r\n%s\r\n",
		       subject, date, subject, payload);
	if (msg.data) {
		struct atr_client_req rq = { .url = atr_json_str(cfg, "url", ""),
					     .body = msg.data,
					     .body_len = msg.len,
					     .timeout_ms = 30000,
					     .mail_from = atr_json_str(cfg, "from", ""),
					     .mail_rcpt = rcpt,
					     .username = atr_json_str(cfg, "username", NULL),
					     .password = password };
		s->mail = true;
		rc = atr_client_send(s->dp->o.client, &rq, on_sent, s, &s->x);
	}
	atr_buf_release(&msg);
	json_decref(ev);
	return rc;
}

static void send_one(void *cls, const struct atr_delivery_row *d)
{
	struct atr_deploy *dp = cls;
	struct notify_send *s = calloc(1, sizeof(*s));
	char kind[16] = "", *config = NULL, *secret = NULL;
	json_t *cfg = NULL;
	int rc = ATR_ENOMEM;

	if (s && atr_store_channel_get(STORE(dp), d->channel_id, kind, &config, &secret) == 0 &&
	    (cfg = json_loads(config, 0, NULL))) {
		s->dp = dp;
		s->id = d->id;
		s->attempts = d->attempts;
		s->max_attempts = atr_json_int(cfg, "max_attempts", 5);
		rc = !strcmp(kind, "smtp") ? send_mail(s, cfg, secret, d->payload)
					   : send_webhook(s, cfg, secret, d->payload);
	}
	if (rc == 0) {
		s->next = dp->sends;
		if (dp->sends)
			dp->sends->prev = s;
		dp->sends = s;
	} else { /* an attempt too: a channel whose transfer never starts gives up like any other */
		int64_t attempts = d->attempts + 1, max = s && s->max_attempts > 0 ? s->max_attempts : 5;

		atr_store_delivery_result(STORE(dp), d->id, attempts < max ? "pending" : "failed", attempts, 0,
					  "could not start the transfer (the channel's settings or memory)",
					  atr_now_ms() + 5000);
		free(s);
	}
	json_decref(cfg);
	free(config);
	free(secret);
}

void dep_notify_tick(struct atr_deploy *dp, int64_t now)
{
	if (dp->closing)
		return;
	if (atr_store_deliveries_due(STORE(dp), now, BATCH, send_one, dp) < 0)
		atr_warn("notifications: could not read the deliveries due");
}

void dep_notify_stop(struct atr_deploy *dp)
{
	while (dp->sends) {
		struct notify_send *s = dp->sends;
		atr_client_cancel(s->x);
		unlink_send(s);
		free(s);
	}
}
