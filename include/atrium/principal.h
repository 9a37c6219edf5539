#ifndef ATRIUM_PRINCIPAL_H
#define ATRIUM_PRINCIPAL_H
/*
 * principal.h: who is calling, as the request pipeline and every layer above it sees it. The
 * token behind a principal is resolved by the registry (atrium/auth.h); credentials.h makes
 * and hashes tokens and passwords.
 */
#include <stdbool.h>
#include <stdint.h>

enum atr_principal_kind {
	ATR_P_NONE = 0,
	ATR_P_USER,   /* a user's own token or a dashboard session */
	ATR_P_JOB,    /* job-scoped: one project, dies with the job */
	ATR_P_WORKER, /* a worker's secret */
	ATR_P_INVOKE, /* a deployment's invoke key */
	ATR_P_JOIN,   /* a worker join token (valid only for registration) */
	ATR_P_SCRAPE, /* a metrics scrape token (valid only for GET /metrics) */
};

struct atr_principal {
	enum atr_principal_kind kind;
	int64_t user_id; /* the user behind the token (job tokens: the submitter); 0 if none */
	int64_t token_id;
	bool admin;
	int64_t project_id; /* job and invoke tokens: the only project they reach */
	int64_t scope_id;   /* job id / worker id / deployment id, by kind */
	int64_t expires_at; /* ms; 0 = never */
	char username[64];
};

#define ATR_TOKEN_MAX 64 /* "atr_" + base62(32 bytes) + NUL fits */

#endif
