/*
 * web.c: the dashboard's static files, embedded in the binary at build time (tools/embed.c),
 * with a gzip copy made at build time for text files. Content types by extension, a strong
 * ETag (sha256 prefix), 304 on If-None-Match, and no-cache on index.html so new releases
 * show at once. --web-dir serves from a folder instead (for working on the dashboard).
 */
#include "api.h"
#include "atrium/embed.h"
#include "atrium/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".map", "application/json" },
	{ ".md", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < ATR_ARRAY_LEN(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static const struct atr_embedded *find_asset(const char *name)
{
	for (size_t i = 0; i < atr_web_assets_count; i++)
		if (strcmp(atr_web_assets[i].name, name) == 0)
			return &atr_web_assets[i];
	return NULL;
}

static bool accepts_gzip(struct atr_req *r)
{
	const char *ae = atr_req_header(r, "Accept-Encoding");
	return ae && strstr(ae, "gzip");
}

static void serve_dir(struct atr_req *r, const char *name)
{
	char path[2200];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", APP(r)->cfg->web_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		atr_reply_data(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
		return;
	}
	atr_reply_header(r, "Cache-Control", "no-cache");
	atr_reply_fd(r, 200, content_type(name), fd, 0, (uint64_t)st.st_size);
}

void api_web_fallback(struct atr_req *r)
{
	const char *name = atr_req_path(r) + 1;
	const struct atr_embedded *a, *gz = NULL;
	char gzname[1100], etag[24], hex[65];
	const char *inm;

	if (!*name)
		name = "index.html";
	if (!atr_is_safe_path(name, strlen(name))) {
		atr_reply_data(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
		return;
	}
	if (APP(r)->cfg->web_dir[0]) {
		serve_dir(r, name);
		return;
	}
	a = find_asset(name);
	if (!a) {
		atr_reply_data(r, 404, "text/plain; charset=utf-8", "not found\n", 10);
		return;
	}
	atr_sha256_hex(a->data, a->len, hex);
	snprintf(etag, sizeof(etag), "\"%.16s\"", hex);
	atr_reply_header(r, "ETag", etag);
	atr_reply_header(r, "Vary", "Accept-Encoding");
	atr_reply_header(r, "Cache-Control", strcmp(name, "index.html") == 0 ? "no-cache" : "public, max-age=300");
	atr_reply_header(r, "X-Content-Type-Options", "nosniff");
	inm = atr_req_header(r, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		atr_reply_empty(r, 304);
		return;
	}
	snprintf(gzname, sizeof(gzname), "%s.gz", name);
	if (accepts_gzip(r))
		gz = find_asset(gzname);
	if (gz && gz->len < a->len) {
		atr_reply_header(r, "Content-Encoding", "gzip");
		atr_reply_data(r, 200, content_type(name), gz->data, gz->len);
		return;
	}
	atr_reply_data(r, 200, content_type(name), a->data, a->len);
}
