/*
 * upload.c: a job's outputs, after its process succeeded. Every regular file under
 * JOB_DIR/output/ (walked on the thread pool; symbolic links and special files are skipped
 * with a warning; at most STAGE_MAX_OUTPUTS files) is hashed on the thread pool and sent with
 * `PUT {server}/api/v1/jobs/{id}/outputs/{path}`, the job's token, `X-Content-SHA256` and
 * the body streamed from the file, a few at a time. The server's 201 must name the same
 * sha256 and size. Each file gets STAGE_TRIES tries with backoff. Empty folders are not sent.
 */
#include "stage.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALK_MAX_DEPTH 64
#define WALK_MAX_SKIPPED 100 /* named in the log; the rest are counted */
#define HASH_CHUNK (1u << 20)

struct walk {
	char root[STAGE_PATH];
	char **files;
	size_t n, cap;
	uint64_t bytes;
	char **skipped; /* "'name' is a symbolic link" (printable) */
	size_t nskipped, skipped_cap, skipped_total;
	int rc;
	char why[600];
};

struct upload {
	struct walk w;
	uv_work_t walk_req;
	size_t next;
};

#define UPLOAD(s) ((struct upload *)(s)->data)

/* ---- walking output/ (on the thread pool) ---- */

static void walk_fail(struct walk *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void walk_fail(struct walk *w, int rc, const char *fmt, ...)
{
	va_list ap;
	if (w->rc)
		return;
	w->rc = rc;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
}

static bool push(char ***v, size_t *n, size_t *cap, const char *s)
{
	char *c;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		char **nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return false;
		*v = nv;
		*cap = ncap;
	}
	c = strdup(s);
	if (!c)
		return false;
	(*v)[(*n)++] = c;
	return true;
}

static void skip(struct walk *w, const char *rel, mode_t mode)
{
	char shown[300], line[400];

	w->skipped_total++;
	if (w->nskipped >= WALK_MAX_SKIPPED)
		return;
	stage_printable(rel, shown, sizeof(shown));
	snprintf(line, sizeof(line), "'%s' is %s", shown,
		 S_ISLNK(mode)	  ? "a symbolic link"
		 : S_ISFIFO(mode) ? "a named pipe"
		 : S_ISSOCK(mode) ? "a socket"
				  : "a special file");
	if (!push(&w->skipped, &w->nskipped, &w->skipped_cap, line))
		w->skipped_total--; /* out of memory: not named */
}

static void walk_dir(struct walk *w, const char *rel, int depth)
{
	char path[STAGE_PATH], child[STAGE_PATH];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s%s%s", w->root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d) {
		walk_fail(w, ATR_EIO, "cannot read the folder '%s': %s", path, strerror(errno));
		return;
	}
	while (!w->rc && (e = readdir(d))) {
		struct stat st;
		int n;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n = snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			walk_fail(w, ATR_EIO, "cannot read '%s/%s': %s", path, e->d_name, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= WALK_MAX_DEPTH)
				walk_fail(w, ATR_EINVAL, "output/ has folders nested more than %d deep",
					  WALK_MAX_DEPTH);
			else if (n >= 0 && (size_t)n < sizeof(child))
				walk_dir(w, child, depth + 1);
			else
				walk_fail(w, ATR_EINVAL, "output/ has a path longer than this host allows");
		} else if (S_ISREG(st.st_mode)) {
			if (n < 0 || (size_t)n >= sizeof(child) || !atr_is_safe_path(child, strlen(child))) {
				char shown[300];
				stage_printable(child, shown, sizeof(shown));
				walk_fail(w, ATR_EINVAL,
					  "output file '%s' has a name that cannot be uploaded (control characters, "
					  "invalid UTF-8, or a path longer than 1024 bytes)",
					  shown);
			} else if (w->n >= STAGE_MAX_OUTPUTS) {
				walk_fail(w, ATR_ELIMIT,
					  "the job wrote more than %d files in output/; nothing was uploaded",
					  STAGE_MAX_OUTPUTS);
			} else if (!push(&w->files, &w->n, &w->cap, child)) {
				walk_fail(w, ATR_ENOMEM, "out of memory");
			} else {
				w->bytes += (uint64_t)st.st_size;
			}
		} else {
			skip(w, child, st.st_mode);
		}
	}
	closedir(d);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_work(uv_work_t *req)
{
	struct stage *s = req->data; /* only its kind's data is touched here */
	struct walk *w = &UPLOAD(s)->w;
	walk_dir(w, "", 0);
	if (!w->rc && w->n > 1)
		qsort(w->files, w->n, sizeof(*w->files), by_name);
}

/* ---- one file: hash (thread pool), then PUT ---- */

static void put(struct stage_slot *sl);

static void upload_failed(struct stage_slot *sl, bool fatal)
{
	struct stage *s = sl->s;
	char name[300], what[340];

	stage_printable(UPLOAD(s)->w.files[sl->idx], name, sizeof(name));
	snprintf(what, sizeof(what), "uploading output '%s'", name);
	if (stage_retry_later(sl, fatal, what))
		return;
	stage_finish(s, ATR_EUPSTREAM, "could not upload output '%s': %s", name, sl->why);
}

static void hash_work(uv_work_t *req)
{
	struct stage_slot *sl = req->data;
	char *buf = malloc(HASH_CHUNK);
	uint64_t off = 0;
	unsigned char d[32];
	unsigned dl = 0;

	sl->why[0] = 0;
	if (!buf) {
		snprintf(sl->why, sizeof(sl->why), "out of memory");
		return;
	}
	EVP_DigestInit_ex(sl->md, EVP_sha256(), NULL);
	while (off < sl->size && !atomic_load(&sl->stop)) {
		size_t want = sl->size - off > HASH_CHUNK ? HASH_CHUNK : (size_t)(sl->size - off);
		ssize_t r = pread(sl->fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(sl->why, sizeof(sl->why), "cannot read it: %s",
				 r == 0 ? "it became shorter while being read" : strerror(errno));
			break;
		}
		EVP_DigestUpdate(sl->md, buf, (size_t)r);
		off += (uint64_t)r;
	}
	free(buf);
	if (!sl->why[0] && EVP_DigestFinal_ex(sl->md, d, &dl) == 1)
		atr_hex_encode(d, 32, sl->sha);
}

static void hash_done(uv_work_t *req, int status)
{
	struct stage_slot *sl = req->data;

	(void)status;
	sl->work_busy = false;
	if (!stage_request_back(sl->s, sl))
		return;
	if (sl->why[0]) {
		upload_failed(sl, true);
		return;
	}
	put(sl);
}

static void file_sent(struct stage_slot *sl)
{
	struct stage *s = sl->s;

	close(sl->fd);
	sl->fd = -1;
	s->files_done++;
	s->bytes_done += sl->size;
	sl->idx = -1;
	stage_kick(s);
}

static void on_put(void *cls, const struct atr_client_resp *resp)
{
	struct stage_slot *sl = cls;
	json_t *j;

	sl->x = NULL;
	if (resp->curl_code == 0 && (resp->status == 201 || resp->status == 200)) {
		const char *sha;
		json_int_t size;
		j = json_loadb(resp->body, resp->len, 0, NULL);
		sha = json_string_value(json_object_get(j, "sha256"));
		size = json_integer_value(json_object_get(j, "size"));
		if (sha && strcmp(sha, sl->sha) == 0 && size >= 0 && (uint64_t)size == sl->size) {
			json_decref(j);
			file_sent(sl);
			return;
		}
		snprintf(sl->why, sizeof(sl->why), "the server answered sha256 %s and %lld bytes, expected %s and %llu",
			 sha ? sha : "(none)", (long long)size, sl->sha, (unsigned long long)sl->size);
		json_decref(j);
		upload_failed(sl, false);
		return;
	}
	stage_describe(resp, sl->why, sizeof(sl->why));
	upload_failed(sl, resp->status == 401 || resp->status == 403 || resp->status == 404 || resp->status == 405 ||
				  resp->status == 413 || resp->status == 415 || resp->status == 422);
}

/* One try at sending the slot's file. */
static void put(struct stage_slot *sl)
{
	struct stage *s = sl->s;
	char url[8192], prefix[96], hdr[100];
	const char *hdrs[] = { hdr, NULL };
	struct atr_client_req rq = { .method = "PUT",
				     .url = url,
				     .bearer = s->token,
				     .content_type = "application/octet-stream",
				     .timeout_ms = -1,
				     .connect_timeout_ms = 10000,
				     .stall_s = STAGE_STALL_S,
				     .max_response = 64u << 10,
				     .headers = hdrs,
				     .upload = true,
				     .upload_fd = sl->fd,
				     .upload_size = sl->size };

	snprintf(prefix, sizeof(prefix), "/api/v1/jobs/%lld/outputs/", (long long)s->cx.job_id);
	snprintf(hdr, sizeof(hdr), "X-Content-SHA256: %s", sl->sha);
	if (!stage_url(url, sizeof(url), s->server, prefix, UPLOAD(s)->w.files[sl->idx])) {
		snprintf(sl->why, sizeof(sl->why), "its URL is too long");
		upload_failed(sl, true);
		return;
	}
	if (atr_client_send(s->cx.client, &rq, on_put, sl, &sl->x) < 0) {
		sl->x = NULL;
		snprintf(sl->why, sizeof(sl->why), "out of memory");
		upload_failed(sl, true);
	}
}

/* Opens the slot's file and hashes it on the thread pool (put follows). */
static void begin(struct stage_slot *sl)
{
	struct stage *s = sl->s;
	char path[STAGE_PATH];
	struct stat st;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", UPLOAD(s)->w.root, UPLOAD(s)->w.files[sl->idx]);
	sl->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (sl->fd < 0 || fstat(sl->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(sl->why, sizeof(sl->why), "cannot open it: %s",
			 sl->fd < 0 ? strerror(errno) : "not a regular file");
		upload_failed(sl, true);
		return;
	}
	sl->size = (uint64_t)st.st_size;
	atomic_store(&sl->stop, false);
	sl->work.data = sl;
	rc = uv_queue_work(s->cx.loop, &sl->work, hash_work, hash_done);
	if (rc < 0) {
		snprintf(sl->why, sizeof(sl->why), "cannot hash it: %s", uv_strerror(rc));
		upload_failed(sl, true);
		return;
	}
	sl->work_busy = true;
	s->pending++;
}

static void upload_pump(struct stage *s)
{
	struct upload *u = UPLOAD(s);
	char size[32];

	for (int i = 0; i < STAGE_SLOTS && stage_live(s); i++) {
		struct stage_slot *sl = &s->slots[i];
		if (sl->idx >= 0 || u->next >= u->w.n)
			continue;
		sl->idx = (long)u->next++;
		sl->tries = 0;
		begin(sl);
	}
	if (!stage_live(s) || s->files_done < u->w.n)
		return;
	stage_size_text(s->bytes_done, size, sizeof(size));
	stage_note(s, "atrium: uploaded %llu output file%s (%s) in %.1f s", (unsigned long long)s->files_done,
		   s->files_done == 1 ? "" : "s", size, (double)(atr_mono_us() - s->t0_us) / 1e6);
	stage_finish(s, 0, NULL);
}

static void walk_done(uv_work_t *req, int status)
{
	struct stage *s = req->data;
	struct walk *w = &UPLOAD(s)->w;
	char size[32];

	(void)status;
	if (!stage_request_back(s, NULL))
		return;
	for (size_t i = 0; i < w->nskipped; i++) {
		atr_warn("job %lld: output %s: not uploaded", (long long)s->cx.job_id, w->skipped[i]);
		stage_note(s, "atrium: warning: output %s: not uploaded", w->skipped[i]);
	}
	if (w->skipped_total > w->nskipped)
		stage_note(s, "atrium: warning: %zu more outputs that are not regular files were not uploaded",
			   w->skipped_total - w->nskipped);
	if (w->rc) {
		stage_finish(s, w->rc, "%s", w->why);
		return;
	}
	if (w->n == 0) {
		stage_note(s, "atrium: no output files to upload");
		stage_finish(s, 0, NULL);
		return;
	}
	s->files_total = w->n;
	s->bytes_total = w->bytes;
	stage_size_text(w->bytes, size, sizeof(size));
	stage_note(s, "atrium: uploading %zu output file%s (%s)", w->n, w->n == 1 ? "" : "s", size);
	upload_pump(s);
}

static void upload_release(void *data)
{
	struct upload *u = data;
	for (size_t i = 0; i < u->w.n; i++)
		free(u->w.files[i]);
	for (size_t i = 0; i < u->w.nskipped; i++)
		free(u->w.skipped[i]);
	free(u->w.files);
	free(u->w.skipped);
	free(u);
}

static const struct stage_kind upload_kind = { upload_pump, put, upload_release };

int stage_upload(const struct stage_ctx *cx, struct stage **out)
{
	struct stage *s = stage_new(cx, &upload_kind, calloc(1, sizeof(struct upload)));
	struct upload *u;
	int rc;

	if (!s)
		return ATR_ENOMEM;
	u = UPLOAD(s);
	snprintf(u->w.root, sizeof(u->w.root), "%s/output", s->job_dir);
	u->walk_req.data = s;
	rc = uv_queue_work(cx->loop, &u->walk_req, walk_work, walk_done);
	if (rc < 0)
		stage_finish(s, ATR_EIO, "cannot look for outputs: %s", uv_strerror(rc));
	else
		s->pending++;
	*out = s;
	return 0;
}
