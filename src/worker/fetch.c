/*
 * fetch.c: a job's inputs, before its process starts. The dispatch body's `downloads` name
 * files by path, sha256 and size under a base URL on the server; each lands at
 * JOB_DIR/<dir>/<path>. Files are kept once per content in WORK_DIR/cache/<sha256>
 * (read-only): a file already there with the right size is hard-linked into place (copied
 * when the file system refuses the link) and costs no network; any other is downloaded with
 * the job's token into a temp file in the cache, hashed on the way, checked for size and
 * sha256, synced, renamed into the cache and then linked. A few blobs move at a time; each
 * gets STAGE_TRIES tries with backoff. The same content listed twice is fetched once.
 *
 * It trusts a cached file by its size; a hit refreshes the file's mtime (housekeep.c evicts the
 * least recently used), and a content evicted between the check and the link is fetched again.
 */
#include "stage.h"
#include "agent.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct plan_dl {
	char *dir;	 /* under the job's folder: "input/train", "model" */
	char *base;	 /* URL path prefix on the server, ending in '/' */
	char label[200]; /* "dataset 'cifar' version 3", for messages */
};

struct plan_file {
	uint32_t dl, k; /* downloads[dl].files[k] */
	char *path;
	char sha[65];
	uint64_t size;
};

struct plan_blob {
	char sha[65];
	uint64_t size;
	size_t first, n; /* its files: order[first .. first + n) */
	bool cached;
};

struct stage_plan {
	struct plan_dl *dls;
	size_t ndl;
	struct plan_file *files;
	size_t nfiles;
	size_t *order; /* file indexes by sha256 */
	struct plan_blob *blobs;
	size_t nblobs;
	uint64_t bytes;
	bool model;
};

/* ---- the plan ---- */

void stage_plan_free(struct stage_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndl; i++) {
		free(p->dls[i].dir);
		free(p->dls[i].base);
	}
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i].path);
	free(p->dls);
	free(p->files);
	free(p->order);
	free(p->blobs);
	free(p);
}

bool stage_plan_has_model(const struct stage_plan *p)
{
	return p && p->model;
}

/* A path on the server: starts with '/', only URL path characters (no query, no fragment). */
static bool base_ok(const char *b)
{
	if (b[0] != '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)b; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("/-._~%:@!$&'()*+,;=", *p)))
			return false;
	return true;
}

/* "dataset 'cifar' version 3" from ".../datasets/cifar/versions/3/files/", else "'<dir>'". */
static void label_of(const char *base, const char *dir, char *out, size_t outlen)
{
	static const char *const kinds[][2] = { { "/datasets/", "dataset" }, { "/models/", "model" } };
	char name[80], version[40];

	for (size_t i = 0; i < 2; i++) {
		const char *p = strstr(base, kinds[i][0]), *v;
		size_t nl;
		if (!p)
			continue;
		p += strlen(kinds[i][0]);
		v = strstr(p, "/versions/");
		nl = v ? (size_t)(v - p) : 0;
		if (!v || nl == 0 || nl >= sizeof(name) || memchr(p, '/', nl))
			continue;
		memcpy(name, p, nl);
		name[nl] = 0;
		v += strlen("/versions/");
		nl = strcspn(v, "/");
		if (nl == 0 || nl >= sizeof(version))
			continue;
		memcpy(version, v, nl);
		version[nl] = 0;
		snprintf(out, outlen, "%s '%s' version %s", kinds[i][1], name, version);
		return;
	}
	snprintf(out, outlen, "'%s'", dir);
}

static const struct stage_plan *sort_plan; /* qsort has no context argument */

static int by_sha(const void *a, const void *b)
{
	const struct plan_file *x = &sort_plan->files[*(const size_t *)a], *y = &sort_plan->files[*(const size_t *)b];
	int c = strcmp(x->sha, y->sha);
	return c ? c : (*(const size_t *)a < *(const size_t *)b ? -1 : 1);
}

struct dest {
	char *text; /* dir/path */
	size_t file;
};

static int by_dest(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int c = strcmp(x->text, y->text);
	return c ? c : (x->file < y->file ? -1 : 1);
}

/* Two files meant for one place: refused (which bytes would win?). */
static int check_dests(struct stage_plan *p, char *field, size_t fieldlen, char *why, size_t whylen)
{
	struct dest *d = calloc(p->nfiles ? p->nfiles : 1, sizeof(*d));
	int rc = 0;

	if (!d)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nfiles && rc == 0; i++) {
		size_t n = strlen(p->dls[p->files[i].dl].dir) + strlen(p->files[i].path) + 2;
		d[i].file = i;
		d[i].text = malloc(n);
		if (!d[i].text)
			rc = agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
		else
			snprintf(d[i].text, n, "%s/%s", p->dls[p->files[i].dl].dir, p->files[i].path);
	}
	if (rc == 0)
		qsort(d, p->nfiles, sizeof(*d), by_dest);
	for (size_t i = 1; i < p->nfiles && rc == 0; i++)
		if (strcmp(d[i - 1].text, d[i].text) == 0) {
			const struct plan_file *f = &p->files[d[i].file];
			char fl[64], shown[300];
			snprintf(fl, sizeof(fl), "downloads[%u].files[%u].path", f->dl, f->k);
			stage_printable(d[i].text, shown, sizeof(shown));
			rc = agent_refuse(field, fieldlen, fl, why, whylen, ATR_EINVAL,
					  "'%s': another input file also goes to '%s'", fl, shown);
		}
	for (size_t i = 0; i < p->nfiles; i++)
		free(d[i].text);
	free(d);
	return rc;
}

/* Groups the files by content: one blob per sha256. */
static int group_blobs(struct stage_plan *p, char *field, size_t fieldlen, char *why, size_t whylen)
{
	p->order = malloc((p->nfiles ? p->nfiles : 1) * sizeof(*p->order));
	p->blobs = calloc(p->nfiles ? p->nfiles : 1, sizeof(*p->blobs));
	if (!p->order || !p->blobs)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nfiles; i++)
		p->order[i] = i;
	sort_plan = p;
	qsort(p->order, p->nfiles, sizeof(*p->order), by_sha);
	sort_plan = NULL;
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct plan_file *f = &p->files[p->order[i]];
		struct plan_blob *b = p->nblobs ? &p->blobs[p->nblobs - 1] : NULL;
		if (b && strcmp(b->sha, f->sha) == 0) {
			if (b->size != f->size) {
				char fl[64];
				snprintf(fl, sizeof(fl), "downloads[%u].files[%u].size", f->dl, f->k);
				return agent_refuse(
					field, fieldlen, fl, why, whylen, ATR_EINVAL,
					"'%s' is %llu, but another file with the same sha256 has %llu bytes", fl,
					(unsigned long long)f->size, (unsigned long long)b->size);
			}
			b->n++;
			continue;
		}
		b = &p->blobs[p->nblobs++];
		memcpy(b->sha, f->sha, sizeof(b->sha));
		b->size = f->size;
		b->first = i;
		b->n = 1;
	}
	return 0;
}

static int parse_file(struct stage_plan *p, const json_t *v, uint32_t i, uint32_t k, char *field, size_t fieldlen,
		      char *why, size_t whylen)
{
	struct plan_file *f = &p->files[p->nfiles];
	const char *path = atr_json_str(v, "path", ""), *sha = atr_json_str(v, "sha256", "");
	json_int_t size = json_integer_value(json_object_get(v, "size"));
	unsigned char raw[32];
	char fl[64];

	snprintf(fl, sizeof(fl), "downloads[%u].files[%u].path", i, k);
	if (!atr_is_safe_path(path, strlen(path)))
		return agent_refuse(
			field, fieldlen, fl, why, whylen, ATR_EINVAL,
			"'%s' must be a relative path: '/'-separated, without empty, '.' or '..' parts or control "
			"characters, at most 1024 bytes",
			fl);
	snprintf(fl, sizeof(fl), "downloads[%u].files[%u].sha256", i, k);
	if (strlen(sha) != 64 || atr_hex_decode(sha, raw, 32) < 0)
		return agent_refuse(field, fieldlen, fl, why, whylen, ATR_EINVAL, "'%s' must be 64 hex digits", fl);
	snprintf(fl, sizeof(fl), "downloads[%u].files[%u].size", i, k);
	if (size < 0)
		return agent_refuse(field, fieldlen, fl, why, whylen, ATR_EINVAL, "'%s' must not be negative", fl);
	f->path = strdup(path);
	if (!f->path)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	f->dl = i;
	f->k = k;
	atr_hex_encode(raw, 32, f->sha); /* lowercase: the cache's names */
	f->size = (uint64_t)size;
	p->bytes += f->size;
	p->nfiles++;
	return 0;
}

static int parse_download(struct stage_plan *p, const json_t *d, uint32_t i, char *field, size_t fieldlen, char *why,
			  size_t whylen)
{
	struct plan_dl *dl = &p->dls[p->ndl];
	const char *dir = atr_json_str(d, "dir", ""), *base = atr_json_str(d, "base", "");
	size_t bl = strlen(base);
	json_t *v;
	size_t k;
	char fl[48];

	snprintf(fl, sizeof(fl), "downloads[%u].dir", i);
	if (!atr_is_safe_path(dir, strlen(dir)))
		return agent_refuse(
			field, fieldlen, fl, why, whylen, ATR_EINVAL,
			"'%s' must be a relative path: '/'-separated, without empty, '.' or '..' parts or control "
			"characters, at most 1024 bytes",
			fl);
	if (strcmp(dir, "log") == 0 || strncmp(dir, "log/", 4) == 0)
		return agent_refuse(field, fieldlen, fl, why, whylen, ATR_EINVAL,
				    "'%s' must not be in 'log': the job's log is there", fl);
	snprintf(fl, sizeof(fl), "downloads[%u].base", i);
	if (!base_ok(base))
		return agent_refuse(field, fieldlen, fl, why, whylen, ATR_EINVAL,
				    "'%s' must be a path on the server, starting with '/', without a query or spaces",
				    fl);
	dl->dir = strdup(dir);
	dl->base = malloc(bl + 2);
	if (!dl->dir || !dl->base) {
		free(dl->dir);
		free(dl->base);
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	}
	snprintf(dl->base, bl + 2, "%s%s", base, base[bl - 1] == '/' ? "" : "/");
	label_of(dl->base, dir, dl->label, sizeof(dl->label));
	p->ndl++;
	if (strcmp(dir, "model") == 0 || strncmp(dir, "model/", 6) == 0)
		p->model = true;
	json_array_foreach(json_object_get(d, "files"), k, v)
	{
		int rc = parse_file(p, v, i, (uint32_t)k, field, fieldlen, why, whylen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int stage_plan_parse(const json_t *downloads, struct stage_plan **out, char *field, size_t fieldlen, char *why,
		     size_t whylen)
{
	struct stage_plan *p;
	size_t n = json_array_size(downloads), total = 0, i;
	json_t *d;
	int rc = 0;

	*out = NULL;
	if (n == 0)
		return 0;
	if (n > STAGE_MAX_DOWNLOADS)
		return agent_refuse(field, fieldlen, "downloads", why, whylen, ATR_EINVAL,
				    "'downloads' may have at most %d entries", STAGE_MAX_DOWNLOADS);
	json_array_foreach(downloads, i, d) total += json_array_size(json_object_get(d, "files"));
	if (total > STAGE_MAX_FILES)
		return agent_refuse(field, fieldlen, "downloads", why, whylen, ATR_EINVAL,
				    "'downloads' list %zu files; a job may have at most %d input files", total,
				    STAGE_MAX_FILES);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->dls = calloc(n, sizeof(*p->dls))) ||
	    !(p->files = calloc(total ? total : 1, sizeof(*p->files)))) {
		stage_plan_free(p);
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	}
	json_array_foreach(downloads, i, d)
	{
		rc = parse_download(p, d, (uint32_t)i, field, fieldlen, why, whylen);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = check_dests(p, field, fieldlen, why, whylen);
	if (rc == 0)
		rc = group_blobs(p, field, fieldlen, why, whylen);
	if (rc < 0) {
		stage_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- fetching ---- */

struct fetch {
	struct stage_plan *plan;
	size_t next_blob, blobs_done;
	uint64_t cached_files, fetched_files, fetched_bytes;
};

#define FETCH(s) ((struct fetch *)(s)->data)

static const struct plan_file *blob_file(const struct stage_plan *p, const struct plan_blob *b, size_t i)
{
	return &p->files[p->order[b->first + i]];
}

/* The try failed (sl->why): again after a backoff, or the stage fails. */
static void fetch_failed(struct stage_slot *sl, bool fatal)
{
	struct stage *s = sl->s;
	const struct stage_plan *p = FETCH(s)->plan;
	const struct plan_blob *b = &p->blobs[sl->idx];
	const struct plan_file *f = blob_file(p, b, sl->next < b->n ? sl->next : 0); /* the one being placed */
	char name[300], what[340];

	stage_slot_discard(sl);
	stage_printable(f->path, name, sizeof(name));
	snprintf(what, sizeof(what), "fetching input '%s'", name);
	if (stage_retry_later(sl, fatal || sl->local_error, what))
		return;
	stage_finish(s, ATR_EUPSTREAM, "could not fetch input '%s' of %s: %s", name, p->dls[f->dl].label, sl->why);
}

static void local_failure(struct stage_slot *sl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Something on this host failed (disk, memory): retrying would not help. */
static void local_failure(struct stage_slot *sl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sl->why, sizeof(sl->why), fmt, ap);
	va_end(ap);
	sl->local_error = true;
	fetch_failed(sl, true);
}

static void blob_placed(struct stage_slot *sl)
{
	struct stage *s = sl->s;
	const struct plan_blob *b = &FETCH(s)->plan->blobs[sl->idx];

	FETCH(s)->blobs_done++;
	s->files_done += b->n;
	s->bytes_done += b->size * b->n;
	sl->idx = -1;
	stage_kick(s);
}

static void place(struct stage_slot *sl);
static void download(struct stage_slot *sl);

/* The cached content went (housekeeping evicted it after fetch_begin looked): fetch it again. */
static void refetch(struct stage_slot *sl)
{
	sl->tries = 0;
	download(sl);
}

static void on_copied(uv_fs_t *req)
{
	struct stage_slot *sl = req->data;
	ssize_t result = req->result;

	uv_fs_req_cleanup(req);
	sl->fs_busy = false;
	if (!stage_request_back(sl->s, sl))
		return;
	if (result == UV_ENOENT) {
		refetch(sl);
		return;
	}
	if (result < 0) {
		local_failure(sl, "cannot copy it from the cache: %s", uv_strerror((int)result));
		return;
	}
	sl->next++;
	place(sl);
}

/* Links (or copies) the blob from the cache to each of its destinations. */
static void place(struct stage_slot *sl)
{
	struct stage *s = sl->s;
	const struct stage_plan *p = FETCH(s)->plan;
	const struct plan_blob *b = &p->blobs[sl->idx];
	char src[STAGE_PATH], dest[STAGE_PATH], parent[STAGE_PATH];

	snprintf(src, sizeof(src), "%s/%s", s->cache_dir, b->sha);
	while (sl->next < b->n) {
		const struct plan_file *f = blob_file(p, b, sl->next);
		int n = snprintf(dest, sizeof(dest), "%s/%s/%s", s->job_dir, p->dls[f->dl].dir, f->path);
		char *slash;

		if (n < 0 || (size_t)n >= sizeof(dest)) {
			local_failure(sl, "the path is too long for this host");
			return;
		}
		memcpy(parent, dest, (size_t)n + 1);
		slash = strrchr(parent, '/');
		*slash = 0;
		if (atr_mkdirs(parent, 0750) < 0) {
			local_failure(sl, "cannot create the folder '%s': %s", parent, strerror(errno));
			return;
		}
		if (link(src, dest) == 0 || (errno == EEXIST && unlink(dest) == 0 && link(src, dest) == 0)) {
			sl->next++;
			continue;
		}
		if (errno == EXDEV || errno == EMLINK || errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP) {
			/* no hard link here (another file system, too many links): a copy, off the loop */
			int rc;
			sl->fs.data = sl;
			rc = uv_fs_copyfile(s->cx.loop, &sl->fs, src, dest, 0, on_copied);
			if (rc < 0) {
				local_failure(sl, "cannot copy it from the cache: %s", uv_strerror(rc));
				return;
			}
			sl->fs_busy = true;
			s->pending++;
			return;
		}
		if (errno == ENOENT && access(src, F_OK) < 0) {
			refetch(sl);
			return;
		}
		local_failure(sl, "cannot link '%s' to '%s': %s", src, dest, strerror(errno));
		return;
	}
	blob_placed(sl);
}

static void on_synced(uv_fs_t *req)
{
	struct stage_slot *sl = req->data;
	struct stage *s = sl->s;
	ssize_t result = req->result;
	const struct plan_blob *b;
	char cached[STAGE_PATH];

	uv_fs_req_cleanup(req);
	sl->fs_busy = false;
	if (!stage_request_back(s, sl))
		return;
	b = &FETCH(s)->plan->blobs[sl->idx];
	if (result < 0) {
		local_failure(sl, "cannot sync '%s': %s", sl->tmp, uv_strerror((int)result));
		return;
	}
	close(sl->fd);
	sl->fd = -1;
	snprintf(cached, sizeof(cached), "%s/%s", s->cache_dir, b->sha);
	if (rename(sl->tmp, cached) < 0) {
		local_failure(sl, "cannot move '%s' into the cache: %s", sl->tmp, strerror(errno));
		return;
	}
	sl->tmp[0] = 0;
	FETCH(s)->fetched_files++;
	FETCH(s)->fetched_bytes += b->size;
	sl->next = 0;
	place(sl);
}

static size_t fetch_sink(void *cls, const char *data, size_t len)
{
	struct stage_slot *sl = cls;
	const struct plan_blob *b = &FETCH(sl->s)->plan->blobs[sl->idx];
	size_t off = 0;

	if (sl->bytes + len > b->size) {
		snprintf(sl->why, sizeof(sl->why), "the server sent more than the %llu bytes expected",
			 (unsigned long long)b->size);
		return 0;
	}
	while (off < len) {
		ssize_t w = write(sl->fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(sl->why, sizeof(sl->why), "cannot write '%s': %s", sl->tmp,
				 strerror(w < 0 ? errno : EIO));
			sl->local_error = true;
			return 0;
		}
		off += (size_t)w;
	}
	EVP_DigestUpdate(sl->md, data, len);
	sl->bytes += len;
	return len;
}

static void on_fetched(void *cls, const struct atr_client_resp *resp)
{
	struct stage_slot *sl = cls;
	struct stage *s = sl->s;
	const struct plan_blob *b = &FETCH(s)->plan->blobs[sl->idx];
	unsigned char d[32];
	unsigned dl = 0;
	char got[65];
	int rc;

	sl->x = NULL;
	if (resp->curl_code == 0 && resp->status == 200) {
		EVP_DigestFinal_ex(sl->md, d, &dl);
		atr_hex_encode(d, 32, got);
		if (sl->bytes != b->size) {
			snprintf(sl->why, sizeof(sl->why), "got %llu bytes, expected %llu",
				 (unsigned long long)sl->bytes, (unsigned long long)b->size);
		} else if (strcmp(got, b->sha) != 0) {
			snprintf(sl->why, sizeof(sl->why), "its sha256 is %s, expected %s", got, b->sha);
		} else {
			/* durable before it enters the cache: later jobs trust it by its size */
			sl->fs.data = sl;
			rc = uv_fs_fdatasync(s->cx.loop, &sl->fs, sl->fd, on_synced);
			if (rc == 0) {
				sl->fs_busy = true;
				s->pending++;
				return;
			}
			local_failure(sl, "cannot sync '%s': %s", sl->tmp, uv_strerror(rc));
			return;
		}
		fetch_failed(sl, false);
		return;
	}
	if (!resp->aborted || !sl->why[0])
		stage_describe(resp, sl->why, sizeof(sl->why));
	fetch_failed(sl, resp->status == 400 || resp->status == 401 || resp->status == 403 || resp->status == 404 ||
				 resp->status == 410);
}

/* One try at downloading the slot's blob into a temp file in the cache. */
static void download(struct stage_slot *sl)
{
	struct stage *s = sl->s;
	const struct stage_plan *p = FETCH(s)->plan;
	const struct plan_blob *b = &p->blobs[sl->idx];
	const struct plan_file *f = blob_file(p, b, 0);
	char url[8192];
	struct atr_client_req rq = { .method = "GET",
				     .url = url,
				     .bearer = s->token,
				     .timeout_ms = -1,
				     .connect_timeout_ms = 10000,
				     .stall_s = STAGE_STALL_S,
				     .max_response = 64u << 10,
				     .sink = fetch_sink };

	sl->why[0] = 0;
	sl->local_error = false;
	sl->bytes = 0;
	if (!stage_url(url, sizeof(url), s->server, p->dls[f->dl].base, f->path)) {
		local_failure(sl, "its URL is too long");
		return;
	}
	snprintf(sl->tmp, sizeof(sl->tmp), "%s/.part-%.16s-%016llx", s->cache_dir, b->sha,
		 (unsigned long long)atr_fast_rand());
	/* read-only from the start: the cache's files are never written in place (jobs get links) */
	sl->fd = open(sl->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (sl->fd < 0) {
		int e = errno;
		sl->tmp[0] = 0;
		local_failure(sl, "cannot create a file in '%s': %s", s->cache_dir, strerror(e));
		return;
	}
	EVP_DigestInit_ex(sl->md, EVP_sha256(), NULL);
	if (atr_client_send(s->cx.client, &rq, on_fetched, sl, &sl->x) < 0) {
		sl->x = NULL;
		local_failure(sl, "out of memory");
	}
}

static void fetch_pump(struct stage *s)
{
	struct fetch *f = FETCH(s);
	struct stage_plan *p = f->plan;
	int budget = 512; /* links per turn of the loop, so a huge cached dataset does not stall it */
	char size[32], fsize[32];

	for (int i = 0; i < STAGE_SLOTS && stage_live(s); i++) {
		struct stage_slot *sl = &s->slots[i];
		while (sl->idx < 0 && f->next_blob < p->nblobs && stage_live(s)) {
			if (budget-- <= 0) {
				stage_kick(s);
				return;
			}
			sl->idx = (long)f->next_blob++;
			sl->tries = 0;
			sl->next = 0;
			if (p->blobs[sl->idx].cached)
				place(sl);
			else
				download(sl);
		}
	}
	if (!stage_live(s) || f->blobs_done < p->nblobs)
		return;
	stage_size_text(p->bytes, size, sizeof(size));
	stage_size_text(f->fetched_bytes, fsize, sizeof(fsize));
	stage_note(s, "atrium: inputs ready: %zu file%s (%s) in %.1f s; downloaded %llu (%s)", p->nfiles,
		   p->nfiles == 1 ? "" : "s", size, (double)(atr_mono_us() - s->t0_us) / 1e6,
		   (unsigned long long)f->fetched_files, fsize);
	stage_finish(s, 0, NULL);
}

static void fetch_release(void *data)
{
	struct fetch *f = data;
	stage_plan_free(f->plan);
	free(f);
}

static const struct stage_kind fetch_kind = { fetch_pump, download, fetch_release };

/* Folders, and which blobs the cache already holds. 0, or the stage is finished with why. */
static int fetch_begin(struct stage *s)
{
	struct stage_plan *p = FETCH(s)->plan;
	uint64_t missing = 0;
	char path[STAGE_PATH], size[32], msize[32];

	if (atr_mkdirs(s->cache_dir, 0750) < 0) {
		stage_finish(s, ATR_EIO, "cannot create the cache folder '%s': %s", s->cache_dir, strerror(errno));
		return ATR_EIO;
	}
	for (size_t i = 0; i < p->ndl; i++) {
		snprintf(path, sizeof(path), "%s/%s", s->job_dir, p->dls[i].dir);
		if (atr_mkdirs(path, 0750) < 0) {
			stage_finish(s, ATR_EIO, "cannot create the folder '%s': %s", path, strerror(errno));
			return ATR_EIO;
		}
	}
	for (size_t i = 0; i < p->nblobs; i++) {
		struct plan_blob *b = &p->blobs[i];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", s->cache_dir, b->sha);
		b->cached = stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == b->size;
		if (b->cached) {
			FETCH(s)->cached_files += b->n;
			utimensat(AT_FDCWD, path, NULL, 0); /* its "last used", for housekeeping */
		} else
			missing += b->size;
	}
	s->files_total = p->nfiles;
	s->bytes_total = p->bytes;
	stage_size_text(p->bytes, size, sizeof(size));
	stage_size_text(missing, msize, sizeof(msize));
	stage_note(s, "atrium: fetching inputs: %zu file%s (%s); %llu in this worker's cache, %s to download",
		   p->nfiles, p->nfiles == 1 ? "" : "s", size, (unsigned long long)FETCH(s)->cached_files, msize);
	return 0;
}

int stage_fetch(const struct stage_ctx *cx, struct stage_plan *plan, struct stage **out)
{
	struct fetch *f = calloc(1, sizeof(*f));
	struct stage *s;

	if (f)
		f->plan = plan;
	else
		stage_plan_free(plan);
	s = stage_new(cx, &fetch_kind, f);
	if (!s)
		return ATR_ENOMEM;
	if (fetch_begin(s) == 0)
		stage_kick(s);
	*out = s;
	return 0;
}
