/*
 * files.c: the HTTP side of files, shared by dataset versions, run artifacts, model versions
 * and job outputs: streamed uploads (path rules, X-Content-SHA256, 413/507), downloads
 * (ETag = sha256, Range, 304), file lists. Resources decide access and ownership first.
 */
#include "api.h"
#include "atrium/artifacts.h"
#include "atrium/store_files.h"
#include "atrium/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct upload_ctx {
	struct atr_upload *u;
	char kind[24];
	int64_t owner_id;
	const char *path; /* request arena */
	char expect[65];
	bool has_expect;
};

static void upload_ctx_free(void *p)
{
	struct upload_ctx *c = p;
	atr_upload_free(c->u);
	free(c);
}

const char *api_path_or_reply(struct atr_req *r)
{
	const char *path = atr_req_param(r, "path");
	if (!path || !atr_is_safe_path(path, strlen(path))) {
		atr_reply_invalid(r, "path",
				  "'path' must be relative, '/'-separated, without empty, '.' or '..' parts or control "
				  "characters, valid UTF-8, at most 1024 bytes");
		return NULL;
	}
	return path;
}

int api_upload_begin(struct atr_req *r, const char *kind, int64_t owner_id)
{
	const char *path = api_path_or_reply(r);
	const char *sum = atr_req_header(r, "X-Content-SHA256");
	struct upload_ctx *c;
	int rc;

	if (!path)
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c) {
		atr_reply_nomem(r, NULL, "out of memory");
		return -1;
	}
	if (sum) {
		unsigned char raw[32];
		if (strlen(sum) != 64 || atr_hex_decode(sum, raw, 32) < 0) {
			free(c);
			atr_reply_invalid(r, "X-Content-SHA256", "'X-Content-SHA256' must be 64 hex digits");
			return -1;
		}
		for (int i = 0; i < 64; i++)
			c->expect[i] = (char)(sum[i] >= 'A' && sum[i] <= 'F' ? sum[i] + 32 : sum[i]);
		c->has_expect = true;
	}
	rc = atr_upload_open(STORE(r), &c->u);
	if (rc < 0) {
		free(c);
		atr_reply_err(r, rc, NULL, "cannot store uploads right now");
		return -1;
	}
	atr_copy(c->kind, sizeof(c->kind), kind);
	c->owner_id = owner_id;
	c->path = path;
	atr_req_set_ctx(r, c, upload_ctx_free);
	return 0;
}

/* Writing the bytes failed: a full disk is 507, anything else 500. */
static void reply_write_failed(struct atr_req *r, const struct atr_upload *u)
{
	if (atr_upload_errno(u) == ENOSPC || atr_upload_errno(u) == EDQUOT)
		atr_reply_no_space(r, NULL, "the server's disk is full");
	else
		atr_reply_err(r, ATR_EIO, NULL, "could not write the upload");
}

int api_upload_chunk(struct atr_req *r, const char *data, size_t len)
{
	struct upload_ctx *c = atr_req_ctx(r);

	if (!c)
		return -1;
	if (atr_upload_write(c->u, data, len) < 0) {
		reply_write_failed(r, c->u);
		return -1;
	}
	return 0;
}

void api_upload_finish(struct atr_req *r, unsigned status)
{
	struct upload_ctx *c = atr_req_ctx(r);
	char sha[65];
	int rc;

	if (!c) {
		atr_reply_invalid(r, "body", "no upload in progress");
		return;
	}
	rc = atr_upload_commit(STORE(r), c->u, c->has_expect ? c->expect : NULL, strcmp(APP(r)->cfg->sync, "full") == 0,
			       sha);
	if (rc == ATR_EINVAL) {
		atr_reply_invalid(r, "X-Content-SHA256",
				  "the body's sha256 is %s, not the %s given in 'X-Content-SHA256'; nothing was stored",
				  sha, c->expect);
		return;
	}
	if (rc < 0 && atr_upload_errno(c->u)) { /* the last bytes' write (they are buffered) */
		reply_write_failed(r, c->u);
		return;
	}
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not store the upload");
		return;
	}
	rc = atr_store_file_put(STORE(r), c->kind, c->owner_id, c->path, sha, (int64_t)atr_upload_size(c->u));
	if (rc < 0) {
		atr_reply_err(r, rc, NULL, "could not record the file");
		return;
	}
	atr_reply_json(r, status,
		       json_pack("{s:s, s:I, s:s}", "path", c->path, "size", (json_int_t)atr_upload_size(c->u),
				 "sha256", sha));
}

/* Content-Disposition with the file's base name, percent-encoded (RFC 6266 / 5987). */
static void disposition(struct atr_req *r, const char *path)
{
	const char *base = strrchr(path, '/');
	char v[1200];
	size_t n;

	base = base ? base + 1 : path;
	n = (size_t)snprintf(v, sizeof(v), "attachment; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)base; *p && n + 4 < sizeof(v); p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '-' || *p == '_')
			v[n++] = (char)*p;
		else
			n += (size_t)snprintf(v + n, sizeof(v) - n, "%%%02X", *p);
	}
	v[n] = 0;
	atr_reply_header(r, "Content-Disposition", v);
}

void api_file_download(struct atr_req *r, const char *kind, int64_t owner_id)
{
	const char *path = api_path_or_reply(r);
	struct atr_file f;
	char blob[1300], etag[70], cr[96];
	const char *inm;
	uint64_t off = 0, len;
	struct stat st;
	int fd, rc, range;

	if (!path)
		return;
	rc = atr_store_file_get(STORE(r), kind, owner_id, path, &f);
	if (rc < 0) {
		api_reply_store_err(r, rc, "file", path);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", f.sha256);
	atr_reply_header(r, "ETag", etag);
	atr_reply_header(r, "Accept-Ranges", "bytes");
	atr_reply_header(r, "X-Content-SHA256", f.sha256);
	inm = atr_req_header(r, "If-None-Match");
	if (inm && (strcmp(inm, etag) == 0 || strcmp(inm, f.sha256) == 0)) {
		atr_reply_empty(r, 304);
		return;
	}
	atr_blob_path(STORE(r), f.sha256, blob, sizeof(blob));
	fd = open(blob, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		atr_reply_err(r, ATR_EIO, NULL, "the bytes of '%s' are missing from the blob store", path);
		return;
	}
	len = (uint64_t)st.st_size;
	range = atr_range_parse(atr_req_header(r, "Range"), (uint64_t)st.st_size, &off, &len);
	if (range < 0) {
		close(fd);
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)st.st_size);
		atr_reply_header(r, "Content-Range", cr);
		atr_reply_range(r, "Range", "the file has %lld bytes", (long long)st.st_size);
		return;
	}
	disposition(r, path);
	if (range > 0) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%lld", (unsigned long long)off,
			 (unsigned long long)(off + len - 1), (long long)st.st_size);
		atr_reply_header(r, "Content-Range", cr);
		atr_reply_fd(r, 206, "application/octet-stream", fd, off, len);
		return;
	}
	atr_reply_fd(r, 200, "application/octet-stream", fd, 0, len);
}

void api_files_list(struct atr_req *r, const char *kind, int64_t owner_id)
{
	struct atr_page p;
	json_t *items, *next = NULL;
	bool more;
	int rc;

	if (atr_page_from_req(r, &p) < 0 || !(items = api_new_items(r)))
		return;
	rc = atr_store_file_list(STORE(r), kind, owner_id, &p, items, &more);
	if (rc < 0) {
		json_decref(items);
		atr_reply_err(r, rc, NULL, "could not list files");
		return;
	}
	if (more && json_array_size(items))
		next = json_pack("[O,i]", json_object_get(json_array_get(items, json_array_size(items) - 1), "path"),
				 0);
	atr_reply_page_cursor(r, items, next);
}
