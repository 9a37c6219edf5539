#ifndef ATRIUM_ARTIFACTS_H
#define ATRIUM_ARTIFACTS_H
/*
 * artifacts.h: the bytes of files. An upload streams into DATA_DIR/tmp while sha256 is
 * computed on the way; committing moves it to DATA_DIR/blobs/<2 hex>/<sha256> (or drops it
 * when those bytes are already stored: the same bytes are kept once). Nothing is ever held
 * whole in memory.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct atr_store;
struct atr_upload;

/* Starts an upload (a temp file). 0 or ATR_EIO. */
int atr_upload_open(struct atr_store *s, struct atr_upload **out);
/* Appends and hashes. ATR_EIO (errno kept, see atr_upload_errno) on a write error. */
int atr_upload_write(struct atr_upload *u, const void *data, size_t len);
uint64_t atr_upload_size(const struct atr_upload *u);
int atr_upload_errno(const struct atr_upload *u);
/*
 * Ends hashing and gives the sha256 hex. When expect (hex) is given and differs, returns
 * ATR_EINVAL and keeps nothing. Otherwise the bytes become blob sha256 (sync: fsync first).
 */
int atr_upload_commit(struct atr_store *s, struct atr_upload *u, const char *expect, bool sync, char sha_out[65]);
/* Frees; removes the temp file unless committed. NULL is fine. */
void atr_upload_free(struct atr_upload *u);

/* DATA_DIR/blobs/ab/abcdef... into out. */
void atr_blob_path(const struct atr_store *s, const char *sha256, char *out, size_t outlen);
/* Removes a blob's bytes (after its row is gone). Missing is fine. */
int atr_blob_unlink(const struct atr_store *s, const char *sha256);

/* Parses a Range header against size: 1 = a range (off, len), 0 = none/ignored, -1 = unsatisfiable. */
int atr_range_parse(const char *header, uint64_t size, uint64_t *off, uint64_t *len);

#endif
