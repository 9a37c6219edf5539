#ifndef ATRIUM_WORK_H
#define ATRIUM_WORK_H
/*
 * work.h: CPU-heavy steps of a request (password hashing) on libuv's thread pool. The
 * request is suspended meanwhile and kept alive by a reference; after() runs on the loop
 * and answers (its answer is dropped if the client left). work() must not touch the store.
 */
#include "atrium/http.h"

typedef void (*atr_work_fn)(void *data);
typedef void (*atr_after_fn)(struct atr_req *r, void *data);

/* data is owned by the caller's after() (it frees it). Returns 0 or <0 (then nothing runs). */
int atr_req_offload(struct atr_req *r, atr_work_fn work, atr_after_fn after, void *data);

#endif
