/*
 * channels.c: /api/v1/notification-channels: where alerts go, configured by admins:
 * webhooks (an http(s) URL, a secret that signs every delivery and is never answered, a
 * JSON or Slack-compatible body) and e-mail over SMTP (server URL, from, to, an optional
 * login). Listed, read, deleted, and each channel's delivery log. Sending is
 * src/deploy/notify.c's.
 */
#include "api.h"
#include "atrium/store_monitors.h"
#include "atrium/util.h"

#include <string.h>

const struct atr_field api_channel_create_schema[] = {
	{ "name", ATR_F_NAME, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "kind", ATR_F_STRING, ATR_FF_REQUIRED, 1, 16, "webhook|smtp", NULL },
	{ "url", ATR_F_STRING, ATR_FF_REQUIRED, 1, 2048, NULL, NULL },
	{ "secret", ATR_F_STRING, 0, 16, 256, NULL, NULL },
	{ "format", ATR_F_STRING, 0, 1, 8, "json|slack", NULL },
	{ "from", ATR_F_STRING, 0, 3, 254, NULL, NULL },
	{ "to", ATR_F_STRLIST, 0, 1, 10, NULL, NULL },
	{ "username", ATR_F_STRING, 0, 1, 254, NULL, NULL },
	{ "password", ATR_F_STRING, 0, 1, 256, NULL, NULL },
	{ "max_attempts", ATR_F_INT, 0, 1, 20, NULL, NULL },
	{ 0 },
};

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* An address fit for an SMTP envelope and header: one '@', no spaces, controls or <>,;. */
static bool address_ok(const char *a)
{
	const char *at = strchr(a, '@');
	if (!at || at == a || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("<>,;\"\\()", *p) || (unsigned char)*p == 127)
			return false;
	return true;
}

static bool url_ok(const char *u)
{
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 127)
			return false;
	return true;
}

static int webhook_or_reply(struct atr_req *r, const json_t *b)
{
	const char *url = atr_json_str(b, "url", "");

	if ((!starts(url, "http://") && !starts(url, "https://")) || !url_ok(url) || strlen(url) < 8)
		return atr_reply_invalid(r, "url", "a webhook's url is an http:// or https:// URL"), -1;
	if (!json_object_get(b, "secret"))
		return atr_reply_invalid(r, "secret", "a webhook needs a secret (16 to 256 bytes) to sign with"), -1;
	if (json_object_get(b, "from") || json_object_get(b, "to") || json_object_get(b, "username") ||
	    json_object_get(b, "password"))
		return atr_reply_invalid(r, json_object_get(b, "from") ? "from" : "to",
					 "from, to, username and password are for smtp channels"),
		       -1;
	return 0;
}

static int smtp_or_reply(struct atr_req *r, const json_t *b)
{
	const char *url = atr_json_str(b, "url", "");
	const json_t *to = json_object_get(b, "to"), *v;
	size_t i;

	if ((!starts(url, "smtp://") && !starts(url, "smtps://")) || !url_ok(url) || strlen(url) < 8)
		return atr_reply_invalid(r, "url", "an smtp channel's url is smtp://host[:port] or smtps://..."), -1;
	if (!address_ok(atr_json_str(b, "from", "")))
		return atr_reply_invalid(r, "from", "an smtp channel needs a sender address (name@host)"), -1;
	if (!to)
		return atr_reply_invalid(r, "to", "an smtp channel needs 1 to 10 recipients"), -1;
	json_array_foreach(to, i, v) if (!address_ok(json_string_value(v)))
	{
		char f[16];
		snprintf(f, sizeof(f), "to[%zu]", i);
		return atr_reply_invalid(r, f, "not an e-mail address (name@host)"), -1;
	}
	if (json_object_get(b, "format") || json_object_get(b, "secret"))
		return atr_reply_invalid(r, json_object_get(b, "format") ? "format" : "secret",
					 "format and secret are for webhooks (an smtp login takes password)"),
		       -1;
	return 0;
}

void api_channels_create(struct atr_req *r)
{
	const json_t *b = atr_req_body(r);
	bool hook = !strcmp(atr_json_str(b, "kind", ""), "webhook");
	json_t *cfg = NULL, *o;
	char *text = NULL;
	const char *keys[] = { "url", "format", "from", "to", "username", "max_attempts" };
	int64_t id;
	int rc;

	if ((hook ? webhook_or_reply(r, b) : smtp_or_reply(r, b)) < 0)
		return;
	if (!(cfg = json_object()))
		goto nomem;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(b, keys[i]))
			json_object_set(cfg, keys[i], json_object_get(b, keys[i]));
	if (hook && !json_object_get(cfg, "format"))
		json_object_set_new(cfg, "format", json_string("json"));
	if (!(text = json_dumps(cfg, JSON_COMPACT)))
		goto nomem;
	rc = atr_store_channel_create(STORE(r), atr_json_str(b, "name", ""), hook ? "webhook" : "smtp", text,
				      atr_json_str(b, hook ? "secret" : "password", NULL), atr_req_who(r)->user_id,
				      &id);
	if (rc == ATR_ECONFLICT)
		atr_reply_conflict(r, "name", "a notification channel '%s' exists already",
				   atr_json_str(b, "name", ""));
	else if (rc < 0 || !(o = atr_store_channel_json(STORE(r), id, &rc)))
		atr_reply_err(r, rc, NULL, "could not create the channel");
	else {
		atr_req_audit_object(r, "notification-channel:%lld", (long long)id);
		atr_reply_json(r, 201, o);
	}
	json_decref(cfg);
	free(text);
	return;
nomem:
	json_decref(cfg);
	atr_reply_nomem(r, NULL, "out of memory");
}

static int list_all(struct atr_store *s, int64_t owner, const struct atr_page *p, json_t *arr, bool *more)
{
	(void)owner;
	return atr_store_channel_list(s, p, arr, more);
}

void api_channels_list(struct atr_req *r)
{
	api_reply_list(r, list_all, 0, "notification channels");
}

/* The channel {id} as JSON (new reference), or 404 answered. */
static json_t *channel_or_reply(struct atr_req *r, int64_t *id)
{
	int err;
	json_t *o;

	if (api_id_or_reply(r, "id", "notification channel", id) < 0)
		return NULL;
	if (!(o = atr_store_channel_json(STORE(r), *id, &err)))
		atr_reply_not_found(r, NULL, "notification channel %lld does not exist", (long long)*id);
	return o;
}

void api_channels_get(struct atr_req *r)
{
	int64_t id;
	json_t *o = channel_or_reply(r, &id);

	if (o)
		atr_reply_json(r, 200, o);
}

void api_channels_delete(struct atr_req *r)
{
	int64_t id;
	json_t *o = channel_or_reply(r, &id);
	int rc;

	if (!o)
		return;
	json_decref(o);
	atr_req_audit_object(r, "notification-channel:%lld", (long long)id);
	if ((rc = atr_store_channel_delete(STORE(r), id)) < 0) {
		atr_reply_err(r, rc, NULL, "could not delete the channel");
		return;
	}
	atr_reply_empty(r, 204);
}

void api_channels_deliveries(struct atr_req *r)
{
	int64_t id;
	json_t *o = channel_or_reply(r, &id);

	if (!o)
		return;
	json_decref(o);
	api_reply_list(r, atr_store_delivery_list, id, "deliveries");
}
