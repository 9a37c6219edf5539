/*
 * users.c: /api/v1/users. Admins create and change users; everyone reads themselves.
 * Passwords are hashed on the thread pool (work.h), so a request that sets one answers later.
 */
#include "api.h"
#include "atrium/auth.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"
#include "atrium/work.h"

#include <stdlib.h>
#include <string.h>

const struct atr_field api_user_create_schema[] = {
	{ "username", ATR_F_SLUG, ATR_FF_REQUIRED, 1, 63, NULL, NULL },
	{ "display_name", ATR_F_STRING, 0, 0, 128, NULL, NULL },
	{ "role", ATR_F_STRING, 0, 0, 0, "admin|member", NULL },
	{ "password", ATR_F_STRING, 0, 8, 256, NULL, NULL },
	{ 0 },
};

const struct atr_field api_user_patch_schema[] = {
	{ "display_name", ATR_F_STRING, 0, 0, 128, NULL, NULL },
	{ "role", ATR_F_STRING, 0, 0, 0, "admin|member", NULL },
	{ "disabled", ATR_F_BOOL, 0, 0, 0, NULL, NULL },
	{ "password", ATR_F_STRING, 0, 8, 256, NULL, NULL },
	{ 0 },
};

const struct atr_field api_token_create_schema[] = {
	{ "name", ATR_F_STRING, ATR_FF_REQUIRED, 1, 128, NULL, NULL },
	{ "expires_at", ATR_F_TIME, ATR_FF_NULLABLE, 0, 0, NULL, NULL },
	{ 0 },
};

/* State carried across the password hashing. */
struct pw_work {
	char password[260];
	char hash[160];
	int rc;
	int64_t user_id; /* PATCH: whose password */
	bool has_role, admin, has_disabled, disabled;
	char display_name[130];
	bool has_display_name;
};

static void hash_password(void *data)
{
	struct pw_work *w = data;
	w->rc = atr_password_hash(w->password, w->hash, sizeof(w->hash));
	memset(w->password, 0, sizeof(w->password));
}

static void reply_user(struct atr_req *r, unsigned status, int64_t id, const char *token)
{
	int err;
	json_t *u = atr_store_user_json(STORE(r), id, &err);

	if (!u) {
		atr_reply_err(r, err, NULL, "could not read the user");
		return;
	}
	if (token)
		json_object_set_new(u, "token", json_string(token));
	atr_reply_json(r, status, u);
}

static void create_user(struct atr_req *r, const char *password_hash)
{
	const char *username = atr_json_str(atr_req_body(r), "username", "");
	const char *role = atr_json_str(atr_req_body(r), "role", "member");
	struct atr_token_spec spec = { .kind = "user", .name = "first token" };
	char token[ATR_TOKEN_MAX];
	int64_t id;
	int rc;

	if ((rc = atr_store_begin(STORE(r))) < 0) {
		atr_reply_err(r, rc, NULL, "could not start a transaction");
		return;
	}
	rc = atr_store_user_create(STORE(r), username, atr_json_str(atr_req_body(r), "display_name", username),
				   strcmp(role, "admin") == 0, password_hash, &id);
	if (rc == 0) {
		spec.user_id = id;
		rc = atr_store_token_create(STORE(r), &spec, token, NULL);
	}
	if (rc == 0)
		rc = atr_store_commit(STORE(r));
	else
		atr_store_rollback(STORE(r));
	if (rc < 0) {
		if (rc == ATR_ECONFLICT)
			atr_reply_conflict(r, "username", "user '%s' already exists", username);
		else
			atr_reply_err(r, rc, NULL, "could not create user '%s'", username);
		return;
	}
	atr_req_audit_object(r, "user:%s", username);
	reply_user(r, 201, id, token);
}

static void after_create_hash(struct atr_req *r, void *data)
{
	struct pw_work *w = data;
	if (w->rc < 0)
		atr_reply_err(r, w->rc, NULL, "could not hash the password");
	else
		create_user(r, w->hash);
	free(w);
}

void api_users_create(struct atr_req *r)
{
	const char *password = atr_json_str(atr_req_body(r), "password", NULL);
	struct pw_work *w;
	struct atr_user existing;

	if (atr_store_user_get(STORE(r), atr_json_str(atr_req_body(r), "username", ""), &existing) == 0) {
		atr_reply_conflict(r, "username", "user '%s' already exists", existing.username);
		return;
	}
	if (!password) {
		create_user(r, NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	atr_copy(w->password, sizeof(w->password), password);
	if (atr_req_offload(r, hash_password, after_create_hash, w) < 0) {
		free(w);
		atr_reply_unavailable(r, NULL, "could not schedule password hashing");
	}
}

static int all_users(struct atr_store *s, int64_t unused, const struct atr_page *p, json_t *arr, bool *more)
{
	(void)unused;
	return atr_store_user_list(s, p, arr, more);
}

void api_users_list(struct atr_req *r)
{
	api_reply_list(r, all_users, 0, "users");
}

void api_users_me(struct atr_req *r)
{
	int err;
	json_t *u = atr_store_user_json(STORE(r), atr_req_who(r)->user_id, &err);

	if (!u) {
		atr_reply_err(r, err, NULL, "could not read the user");
		return;
	}
	json_object_set_new(u, "token_kind", json_string(atr_req_who(r)->kind == ATR_P_JOB ? "job" : "user"));
	if (atr_req_who(r)->kind == ATR_P_JOB)
		json_object_set_new(u, "job_id", json_integer(atr_req_who(r)->scope_id));
	atr_reply_json(r, 200, u);
}

void api_users_get(struct atr_req *r)
{
	struct atr_user u;
	if (api_user_or_reply(r, atr_req_param(r, "user"), &u) < 0)
		return;
	reply_user(r, 200, u.id, NULL);
}

/* Would this change leave no enabled admin? */
static bool removes_last_admin(struct atr_req *r, const struct atr_user *u, const struct pw_work *w)
{
	bool stays_admin = (w->has_role ? w->admin : u->admin) && !(w->has_disabled ? w->disabled : u->disabled);
	if (!u->admin || u->disabled || stays_admin)
		return false;
	return atr_store_admin_count(STORE(r)) <= 1;
}

static void patch_user(struct atr_req *r, struct pw_work *w, const char *hash)
{
	int rc = atr_store_user_update(STORE(r), w->user_id, w->has_display_name ? w->display_name : NULL,
				       w->has_role ? w->admin : -1, w->has_disabled ? w->disabled : -1, hash);
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not update the user");
		return;
	}
	/* Roles, disabled flags and passwords change what tokens may do: drop the cache. */
	atr_auth_invalidate(APP(r)->auth);
	reply_user(r, 200, w->user_id, NULL);
}

static void after_patch_hash(struct atr_req *r, void *data)
{
	struct pw_work *w = data;
	if (w->rc < 0)
		atr_reply_err(r, w->rc, NULL, "could not hash the password");
	else
		patch_user(r, w, w->hash);
	free(w);
}

void api_users_patch(struct atr_req *r)
{
	struct atr_user u;
	struct pw_work *w;
	const char *password = atr_json_str(atr_req_body(r), "password", NULL);

	if (api_user_or_reply(r, atr_req_param(r, "user"), &u) < 0)
		return;
	w = calloc(1, sizeof(*w));
	if (!w) {
		atr_reply_nomem(r, NULL, "out of memory");
		return;
	}
	w->user_id = u.id;
	w->has_role = atr_json_has(atr_req_body(r), "role");
	w->admin = strcmp(atr_json_str(atr_req_body(r), "role", ""), "admin") == 0;
	w->has_disabled = atr_json_has(atr_req_body(r), "disabled");
	w->disabled = atr_json_bool(atr_req_body(r), "disabled", false);
	w->has_display_name = atr_json_has(atr_req_body(r), "display_name");
	atr_copy(w->display_name, sizeof(w->display_name), atr_json_str(atr_req_body(r), "display_name", ""));
	atr_req_audit_object(r, "user:%s", u.username);
	if (removes_last_admin(r, &u, w)) {
		const char *field = w->has_role ? "role" : "disabled";
		free(w);
		atr_reply_conflict(r, field, "'%s' is the last enabled admin; make another admin first", u.username);
		return;
	}
	if (!password) {
		patch_user(r, w, NULL);
		free(w);
		return;
	}
	atr_copy(w->password, sizeof(w->password), password);
	if (atr_req_offload(r, hash_password, after_patch_hash, w) < 0) {
		free(w);
		atr_reply_unavailable(r, NULL, "could not schedule password hashing");
	}
}

void api_users_token_create(struct atr_req *r)
{
	struct atr_user u;

	if (api_user_or_reply(r, atr_req_param(r, "user"), &u) < 0)
		return;
	atr_req_audit_object(r, "user:%s", u.username);
	api_issue_token_reply(r, "user", u.id, atr_json_str(atr_req_body(r), "name", ""),
			      atr_json_str(atr_req_body(r), "expires_at", NULL));
}
