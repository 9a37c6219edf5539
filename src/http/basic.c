/*
 * basic.c: HTTP Basic credentials (RFC 7617), which tools such as the MLflow client send
 * (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD). The password may be an API token
 * (then it is a token like any other) or the user's password. A password is checked with
 * PBKDF2, slow on purpose: on the thread pool, while the request waits suspended, never on
 * the loop. A success is remembered by the sha256 of (user, password, stored hash), so the
 * next request of that client costs a hash; a changed password (another stored hash), a
 * disabled or deleted user (the lookup fails) ends it. The table is small and direct-mapped.
 */
#include "atrium/credentials.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "http_internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256 /* power of two */

struct slot {
	unsigned char key[32]; /* sha256(user NUL password NUL stored hash) */
	bool used;
};

static struct slot slots[SLOTS];

static void remember_key(const char *user, const char *pass, const char *stored, unsigned char key[32])
{
	char buf[600];
	size_t n = 0, a = strlen(user), b = strlen(pass), c = strlen(stored);

	if (a + b + c + 3 > sizeof(buf)) {
		memset(key, 0, 32);
		return;
	}
	memcpy(buf, user, a + 1);
	n = a + 1;
	memcpy(buf + n, pass, b + 1);
	n += b + 1;
	memcpy(buf + n, stored, c + 1);
	n += c + 1;
	atr_sha256(buf, n, key);
	OPENSSL_cleanse(buf, sizeof(buf));
}

static struct slot *slot_of(const unsigned char key[32])
{
	unsigned i;
	memcpy(&i, key, sizeof(i));
	return &slots[i & (SLOTS - 1)];
}

/* Splits "Basic base64(user:password)" into the request's arena; -1 when it is not that. */
static int decode(struct atr_req *r, const char *h, char **user, char **pass)
{
	const char *b = h + 6;
	size_t len;
	char *raw, *colon;
	long n;

	while (*b == ' ')
		b++;
	len = strlen(b);
	if (len == 0 || len > 1024 || !(raw = atr_req_alloc(r, len + 1)))
		return -1;
	n = atr_b64_decode(b, raw, len);
	if (n <= 0)
		return -1;
	raw[n] = 0;
	if (strlen(raw) != (size_t)n || !(colon = strchr(raw, ':')))
		return -1;
	*colon = 0;
	*user = raw;
	*pass = colon + 1;
	return 0;
}

struct check {
	uv_work_t w;
	struct atr_req *r;
	char pass[260];
	char stored[160];
	bool ok;
};

static void check_work(uv_work_t *w)
{
	struct check *c = w->data;
	c->ok = atr_password_verify(c->pass, c->stored);
}

static void check_done(uv_work_t *w, int status)
{
	struct check *c = w->data;
	struct atr_req *r = c->r;
	unsigned char key[32];
	bool ok = c->ok;

	(void)status;
	if (!ok)
		atr_ratelimit_fail(r->basic_key, atr_now_ms());
	if (ok) {
		remember_key(r->basic_user, c->pass, c->stored, key);
		memcpy(slot_of(key)->key, key, 32);
		slot_of(key)->used = true;
	}
	OPENSSL_cleanse(c->pass, sizeof(c->pass));
	free(c);
	atr_pipeline_authenticated(r, ok ? 0 : ATR_EUNAUTH);
	atr_req_unref(r);
}

int atr_basic_authenticate(struct atr_req *r, const char *header)
{
	struct atr_server *s = r->srv;
	char *user, *pass, stored[160];
	unsigned char key[32];
	struct slot *sl;
	struct check *c;
	int rc;

	if (decode(r, header, &user, &pass) < 0)
		return ATR_EUNAUTH;
	/* a token given as the password (MLflow's client sends its token so when asked to) */
	if (strncmp(pass, "atr_", 4) == 0 && s->o.authenticate)
		return s->o.authenticate(r->app, pass, &r->who);
	if (!s->o.basic_lookup || !*user || strlen(pass) >= sizeof(c->pass))
		return ATR_EUNAUTH;
	/* failures count with the dashboard's sign-in: five a minute per user name */
	r->basic_key = atr_req_alloc(r, strlen(user) + 3);
	if (!r->basic_key)
		return ATR_ENOMEM;
	memcpy(r->basic_key, "u:", 2);
	memcpy(r->basic_key + 2, user, strlen(user) + 1);
	if (atr_ratelimit_check(r->basic_key, 5, atr_now_ms()) > 0)
		return ATR_ELIMIT;
	rc = s->o.basic_lookup(r->app, user, stored, sizeof(stored), &r->who);
	if (rc < 0)
		return rc;
	remember_key(user, pass, stored, key);
	sl = slot_of(key);
	if (sl->used && CRYPTO_memcmp(sl->key, key, 32) == 0)
		return 0; /* checked before, with this very stored hash */
	/* the slow check, on the thread pool: the request waits, suspended */
	if (!(c = calloc(1, sizeof(*c))))
		return ATR_ENOMEM;
	c->r = r;
	c->w.data = c;
	atr_copy(c->pass, sizeof(c->pass), pass);
	atr_copy(c->stored, sizeof(c->stored), stored);
	r->basic_user = user;
	if (uv_queue_work(s->loop, &c->w, check_work, check_done) != 0) {
		OPENSSL_cleanse(c->pass, sizeof(c->pass));
		free(c);
		return ATR_EBUSY;
	}
	atr_req_ref(r);
	return 1; /* pending: atr_pipeline_authenticated follows */
}
