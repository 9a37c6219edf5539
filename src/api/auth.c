/*
 * auth.c: POST /api/v1/auth/login, the dashboard's sign-in. The password is checked on the
 * thread pool; failures are rate-limited per user name and per client address (429), and
 * an unknown user costs the same as a wrong password. Success gives a session token that
 * expires after 12 hours.
 */
#include "api.h"
#include "atrium/auth.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_MS (12LL * 3600 * 1000)

const struct atr_field api_login_schema[] = {
	{ "username", ATR_F_STRING, ATR_FF_REQUIRED, 1, 64, NULL, NULL },
	{ "password", ATR_F_STRING, ATR_FF_REQUIRED, 1, 256, NULL, NULL },
	{ 0 },
};

struct login {
	char password[260];
	char stored[160];
	bool ok;
	bool exists;
	int64_t user_id;
	char user_key[96], client_key[96];
};

static void verify(void *data)
{
	struct login *l = data;
	l->ok = atr_password_verify(l->password, l->stored[0] ? l->stored : atr_password_dummy()) && l->exists;
	memset(l->password, 0, sizeof(l->password));
}

static void after_verify(struct atr_req *r, void *data)
{
	struct login *l = data;
	struct atr_token_spec spec = { .kind = "session", .name = "dashboard session" };
	char token[ATR_TOKEN_MAX], exp[40];
	int64_t now = atr_now_ms();
	json_t *user;
	int rc;

	if (!l->ok) {
		atr_ratelimit_fail(l->user_key, now);
		atr_ratelimit_fail(l->client_key, now);
		atr_reply_unauthorized(r, NULL, "wrong user name or password");
		goto out;
	}
	atr_ratelimit_reset(l->user_key, now);
	spec.user_id = l->user_id;
	spec.expires_at = now + SESSION_MS;
	rc = atr_store_token_create(STORE(r), &spec, token, NULL);
	user = rc == 0 ? atr_store_user_json(STORE(r), l->user_id, &rc) : NULL;
	if (!user) {
		atr_reply_err(r, rc, NULL, "could not start the session");
		goto out;
	}
	atr_time_format(spec.expires_at, exp, sizeof(exp));
	atr_reply_json(r, 200, json_pack("{s:s, s:s, s:o}", "token", token, "expires_at", exp, "user", user));
out:
	free(l);
}

void api_auth_login(struct atr_req *r)
{
	const char *username = atr_json_str(atr_req_body(r), "username", "");
	struct atr_user u;
	struct login *l = calloc(1, sizeof(*l));
	int64_t now = atr_now_ms();
	int wait;

	if (!l) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	snprintf(l->user_key, sizeof(l->user_key), "u:%s", username);
	snprintf(l->client_key, sizeof(l->client_key), "c:%s", atr_req_client(r));
	/* 5 failures a minute per user name; 30 per address (an office behind one NAT). */
	wait = atr_ratelimit_check(l->user_key, 5, now);
	if (!wait)
		wait = atr_ratelimit_check(l->client_key, 30, now);
	if (wait) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%d", wait);
		atr_reply_header(r, "Retry-After", secs);
		atr_reply_rate_limited(r, NULL, "too many failed sign-ins; try again in %d s", wait);
		free(l);
		return;
	}
	atr_req_audit_object(r, "user:%s", username);
	if (atr_store_user_get(STORE(r), username, &u) == 0 && !u.disabled && u.password_hash[0]) {
		l->exists = true;
		l->user_id = u.id;
		atr_copy(l->stored, sizeof(l->stored), u.password_hash);
	}
	atr_copy(l->password, sizeof(l->password), atr_json_str(atr_req_body(r), "password", ""));
	if (atr_req_offload(r, verify, after_verify, l) < 0) {
		free(l);
		atr_reply_unavailable(r, NULL, "could not schedule the password check");
	}
}
