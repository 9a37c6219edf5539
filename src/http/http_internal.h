#ifndef ATRIUM_HTTP_INTERNAL_H
#define ATRIUM_HTTP_INTERNAL_H
/* Shared between server.c and reply.c only. */
#include <microhttpd.h>
#include "atrium/http.h"

enum { ATR_PHASE_HEADERS = 1, ATR_PHASE_BODY, ATR_PHASE_FINAL };

/* Queues the pending answer if MHD allows it now (not mid-body, not suspended). */
void atr_req_flush(struct atr_req *r);
/* Frees the arena and header list. */
void atr_req_free_internals(struct atr_req *r);
/* Server shutdown begins: long polls answer (on_shutdown), waiting streams end. */
void atr_req_shutdown(struct atr_req *r);
/* Before MHD_stop_daemon: what still waits gets 503; nothing may stay suspended. */
void atr_req_force_resume(struct atr_req *r);

bool atr_server_stopping(const struct atr_server *s);
/* Keeps a 200 JSON answer of an ATR_RF_CACHE route (copied). */
void atr_server_cache_put(struct atr_server *s, const char *key, uint64_t gen, const char *body, size_t len);
void atr_server_audit(struct atr_server *s, struct atr_req *r);
/* Called as an answer is made: when the store holds uncommitted writes the request is
 * suspended until they commit (true: held; send nothing now). */
bool atr_server_hold(struct atr_server *s, struct atr_req *r);
struct atr_store *atr_server_idem_store(struct atr_server *s);

#endif
