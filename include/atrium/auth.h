#ifndef ATRIUM_AUTH_H
#define ATRIUM_AUTH_H
/*
 * auth.h: from a presented bearer token to a principal (src/registry/auth.c). A cache keyed
 * by the token's sha256 answers the hot path without touching the database, and is
 * invalidated whenever a token or a user changes.
 */
#include "atrium/credentials.h"
#include "atrium/principal.h"

struct atr_store;
struct atr_auth;

int atr_auth_new(struct atr_store *store, struct atr_auth **out);
void atr_auth_free(struct atr_auth *a);
/* Resolves a bearer token: 0 and *out filled, or ATR_EUNAUTH (unknown, revoked, expired, disabled). */
int atr_auth_lookup(struct atr_auth *a, const char *token, struct atr_principal *out);
/* Forget every cached token (a token was revoked, a user changed). */
void atr_auth_invalidate(struct atr_auth *a);
/* Basic credentials with a password: the user's stored hash and the principal it is (0), or
 * ATR_EUNAUTH (unknown, disabled, no password). The caller checks the password. */
int atr_auth_basic_lookup(struct atr_auth *a, const char *user, char *stored_hash, size_t hashlen,
			  struct atr_principal *out);
/* Writes batched last-used times to the database (called from a timer and at shutdown). */
void atr_auth_flush(struct atr_auth *a);

#endif
