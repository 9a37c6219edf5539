#ifndef ATRIUM_STORE_IDENTITY_H
#define ATRIUM_STORE_IDENTITY_H
/* Users, teams, tokens, the audit log and idempotency keys (src/store/{users,teams,tokens,audit}.c). */
#include "atrium/principal.h"
#include "atrium/store.h"

struct atr_user {
	int64_t id;
	char username[64];
	char display_name[128];
	bool admin;
	bool disabled;
	char password_hash[160];
};

/* Users. Names are unique (ATR_ECONFLICT). */
int atr_store_user_create(struct atr_store *s, const char *username, const char *display_name, bool admin,
			  const char *password_hash, int64_t *id_out);
int atr_store_user_get(struct atr_store *s, const char *username, struct atr_user *out);
int atr_store_user_get_by_id(struct atr_store *s, int64_t id, struct atr_user *out);
json_t *atr_store_user_json(struct atr_store *s, int64_t id, int *err);
int atr_store_user_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more);
/* Changes what is non-NULL / >= 0: display_name, admin (0/1, -1 keep), disabled, password_hash. */
int atr_store_user_update(struct atr_store *s, int64_t id, const char *display_name, int admin, int disabled,
			  const char *password_hash);
int64_t atr_store_user_count(struct atr_store *s);
/* Enabled admins. */
int64_t atr_store_admin_count(struct atr_store *s);

/* Tokens. kind: "user", "session", "job", "worker", "invoke", "join". */
struct atr_token_spec {
	const char *kind;
	int64_t user_id; /* 0: none */
	const char *name;
	int64_t project_id; /* 0: none */
	int64_t scope_id;   /* 0: none */
	int64_t expires_at; /* ms, 0: never */
};
/* Creates a token; token_out gets the text (shown once), *id_out its id. */
int atr_store_token_create(struct atr_store *s, const struct atr_token_spec *spec, char token_out[ATR_TOKEN_MAX],
			   int64_t *id_out);
/* Resolves a token hash to a principal (joins the user); ATR_EUNAUTH when unusable. */
int atr_store_token_lookup(struct atr_store *s, const char *hash_hex, struct atr_principal *out);
json_t *atr_store_token_json(struct atr_store *s, int64_t id, int *err);
/* Lists tokens of a user (kind user/session), newest first. */
int atr_store_token_list(struct atr_store *s, int64_t user_id, const char *kind, const struct atr_page *p, json_t *arr,
			 bool *more);
/* Revokes: user_id > 0 restricts to that owner. ATR_ENOTFOUND when nothing matched. */
int atr_store_token_revoke(struct atr_store *s, int64_t id, int64_t user_id);
/* Revokes every token of a kind with a scope (a job's token when the job ends). */
int atr_store_token_revoke_scope(struct atr_store *s, const char *kind, int64_t scope_id);
/* Tokens no user signs in with (kind 'join': worker join tokens; 'scrape': /metrics
 * scrapers), newest first; revoke acts on that kind only (ATR_ENOTFOUND otherwise). */
int atr_store_service_token_list(struct atr_store *s, const char *kind, const struct atr_page *p, json_t *arr,
				 bool *more);
int atr_store_service_token_revoke(struct atr_store *s, const char *kind, int64_t id);
int atr_store_token_touch(struct atr_store *s, int64_t id, int64_t at_ms);

/* Teams. */
int atr_store_team_create(struct atr_store *s, const char *name, const char *description, int64_t max_gpus,
			  int64_t max_jobs, int64_t *id_out);
int atr_store_team_id(struct atr_store *s, const char *name, int64_t *id_out);
json_t *atr_store_team_json(struct atr_store *s, int64_t id, int *err);
int atr_store_team_list(struct atr_store *s, const struct atr_page *p, json_t *arr, bool *more);
/* -1 keeps a quota, -2 clears it (unlimited); description NULL keeps. */
int atr_store_team_update(struct atr_store *s, int64_t id, const char *description, int64_t max_gpus, int64_t max_jobs);
int atr_store_team_member_set(struct atr_store *s, int64_t team_id, int64_t user_id, const char *role);
int atr_store_team_member_remove(struct atr_store *s, int64_t team_id, int64_t user_id);
/* The caller's role in the team: "maintainer", "member" or NULL (static strings). */
const char *atr_store_team_role(struct atr_store *s, int64_t team_id, int64_t user_id);

/* Audit log. */
struct atr_audit_entry {
	const char *actor; /* username, "worker:7", "job:12" or NULL */
	int64_t actor_id;
	const char *action;
	const char *object;
	unsigned status;
	const char *client;
	const char *request_id;
};
int atr_store_audit_add(struct atr_store *s, const struct atr_audit_entry *e);
/* Filters may be NULL / 0; newest first. */
int atr_store_audit_list(struct atr_store *s, const char *actor, const char *action, int64_t since_ms,
			 const struct atr_page *p, json_t *arr, bool *more);
/* Deletes entries older than the cutoff; returns how many (>=0) or <0. */
int atr_store_audit_prune(struct atr_store *s, int64_t before_ms);

/* Idempotency keys: the first 2xx answer to (user, key) is replayed to later requests. */
int atr_store_idem_get(struct atr_store *s, int64_t user_id, const char *key, const char *route, unsigned *status,
		       char **body);
int atr_store_idem_put(struct atr_store *s, int64_t user_id, const char *key, const char *route, unsigned status,
		       const char *body);

#endif
