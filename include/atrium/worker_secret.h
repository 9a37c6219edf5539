#ifndef ATRIUM_WORKER_SECRET_H
#define ATRIUM_WORKER_SECRET_H
/* The secret the server presents to a worker's API (dispatch, cancel): derived from the
 * worker's id and registration nonce with DATA_DIR/worker.key (src/api/workers.c). */
#include <stdint.h>
#include "atrium/auth.h"

struct atr_app;
void api_worker_secret(const struct atr_app *app, int64_t worker_id, int64_t nonce, char out[ATR_TOKEN_MAX]);

#endif
