/*
 * stage.c: what fetching inputs (fetch.c) and uploading outputs (upload.c) share: the stage
 * object and its lifetime, transfer slots with retries and backoff, and small helpers for
 * URLs, messages and log lines. A stage never calls its owner back from inside the owner's
 * call, and outlives stage_free until the disk work it started (copies, syncs, hashing on
 * the thread pool) has come back, so no callback ever lands on freed memory.
 */
#include "stage.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RETRY_BASE_MS 1000

static void maybe_release(struct stage *s)
{
	if (!s->dead || s->handles > 0 || s->pending > 0)
		return;
	s->kind->release(s->data);
	for (int i = 0; i < STAGE_SLOTS; i++)
		EVP_MD_CTX_free(s->slots[i].md);
	free(s);
}

static void on_closed(uv_handle_t *h)
{
	struct stage *s = h->data;
	s->handles--;
	maybe_release(s);
}

static void on_tick(uv_timer_t *t)
{
	struct stage *s = t->data;

	if (s->dead)
		return;
	if (s->finished) {
		if (!s->done_called) {
			s->done_called = true;
			s->cx.ops->done(s->cx.cls, s->rc, s->message); /* may free the stage */
		}
		return;
	}
	s->kind->pump(s);
}

static void on_slot_timer(uv_timer_t *t)
{
	struct stage_slot *sl = t->data;
	if (stage_live(sl->s))
		sl->s->kind->retry(sl);
}

struct stage *stage_new(const struct stage_ctx *cx, const struct stage_kind *kind, void *data)
{
	struct stage *s = data ? calloc(1, sizeof(*s)) : NULL;

	if (!s) {
		if (data)
			kind->release(data);
		return NULL;
	}
	s->cx = *cx;
	s->kind = kind;
	s->data = data;
	atr_copy(s->server, sizeof(s->server), cx->server);
	atr_copy(s->token, sizeof(s->token), cx->token ? cx->token : "");
	atr_copy(s->job_dir, sizeof(s->job_dir), cx->job_dir);
	atr_copy(s->cache_dir, sizeof(s->cache_dir), cx->cache_dir ? cx->cache_dir : "");
	s->cx.server = s->server;
	s->cx.token = s->token;
	s->cx.job_dir = s->job_dir;
	s->cx.cache_dir = s->cache_dir;
	s->t0_us = atr_mono_us();
	for (int i = 0; i < STAGE_SLOTS; i++) {
		struct stage_slot *sl = &s->slots[i];
		sl->s = s;
		sl->idx = -1;
		sl->fd = -1;
		atomic_init(&sl->stop, false);
		sl->md = EVP_MD_CTX_new();
		if (!sl->md) {
			for (int k = 0; k < i; k++)
				EVP_MD_CTX_free(s->slots[k].md);
			kind->release(data);
			free(s);
			return NULL;
		}
	}
	uv_timer_init(cx->loop, &s->tick);
	s->tick.data = s;
	s->handles = 1;
	for (int i = 0; i < STAGE_SLOTS; i++) {
		uv_timer_init(cx->loop, &s->slots[i].timer);
		s->slots[i].timer.data = &s->slots[i];
		s->handles++;
	}
	return s;
}

void stage_kick(struct stage *s)
{
	if (!s->dead)
		uv_timer_start(&s->tick, on_tick, 0, 0);
}

bool stage_live(const struct stage *s)
{
	return !s->dead && !s->finished;
}

void stage_slot_discard(struct stage_slot *sl)
{
	if (sl->fd >= 0) {
		close(sl->fd);
		sl->fd = -1;
	}
	if (sl->tmp[0]) {
		unlink(sl->tmp);
		sl->tmp[0] = 0;
	}
}

void stage_slot_clean(struct stage_slot *sl)
{
	if (sl->x) {
		atr_client_cancel(sl->x);
		sl->x = NULL;
	}
	uv_timer_stop(&sl->timer);
	atomic_store(&sl->stop, true);
	sl->idx = -1;
	if (!sl->fs_busy && !sl->work_busy) /* else the request's callback cleans up when it comes back */
		stage_slot_discard(sl);
}

void stage_finish(struct stage *s, int rc, const char *fmt, ...)
{
	va_list ap;

	if (s->finished)
		return;
	s->finished = true;
	s->rc = rc;
	s->message[0] = 0;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(s->message, sizeof(s->message), fmt, ap);
		va_end(ap);
	}
	for (int i = 0; i < STAGE_SLOTS; i++)
		stage_slot_clean(&s->slots[i]);
	stage_kick(s);
}

void stage_free(struct stage *s)
{
	if (!s || s->dead)
		return;
	s->dead = true;
	s->finished = true;
	for (int i = 0; i < STAGE_SLOTS; i++) {
		stage_slot_clean(&s->slots[i]);
		s->slots[i].timer.data = s; /* on_closed wants the stage */
		uv_close((uv_handle_t *)&s->slots[i].timer, on_closed);
	}
	uv_close((uv_handle_t *)&s->tick, on_closed);
}

bool stage_request_back(struct stage *s, struct stage_slot *sl)
{
	s->pending--;
	if (stage_live(s))
		return true;
	if (sl)
		stage_slot_clean(sl);
	maybe_release(s);
	return false;
}

bool stage_retry_later(struct stage_slot *sl, bool fatal, const char *what)
{
	uint64_t ms;

	sl->tries++;
	if (fatal || sl->tries >= STAGE_TRIES)
		return false;
	ms = (uint64_t)RETRY_BASE_MS << (sl->tries - 1);
	ms += atr_fast_rand() % (ms / 4 + 1);
	uv_timer_start(&sl->timer, on_slot_timer, ms, 0);
	atr_warn("job %lld: %s failed (%s); trying again in %.1f s", (long long)sl->s->cx.job_id, what, sl->why,
		 (double)ms / 1000);
	stage_note(sl->s, "atrium: %s failed (%s); trying again in %.1f s", what, sl->why, (double)ms / 1000);
	return true;
}

void stage_note(struct stage *s, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	if (s->dead)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n] = '\n';
	line[n + 1] = 0;
	s->cx.ops->note(s->cx.cls, line);
}

void stage_describe(const struct atr_client_resp *resp, char *out, size_t outlen)
{
	json_t *j;
	const char *m;

	if (resp->status == 0 || (resp->curl_code != 0 && resp->status >= 200 && resp->status < 300)) {
		snprintf(out, outlen, "%s%s", resp->status ? "the transfer broke off: " : "",
			 resp->error ? resp->error : "no answer");
		return;
	}
	j = resp->len ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (m)
		snprintf(out, outlen, "HTTP %ld: %s", resp->status, m);
	else
		snprintf(out, outlen, "HTTP %ld", resp->status);
	json_decref(j);
}

bool stage_url(char *out, size_t outlen, const char *server, const char *prefix, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(out, outlen, "%s%s", server, prefix);
	size_t k;

	if (n < 0 || (size_t)n >= outlen)
		return false;
	k = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/';
		if (k + (plain ? 1 : 3) >= outlen)
			return false;
		if (plain) {
			out[k++] = (char)*p;
		} else {
			out[k++] = '%';
			out[k++] = hex[*p >> 4];
			out[k++] = hex[*p & 15];
		}
	}
	out[k] = 0;
	return true;
}

void stage_size_text(uint64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, outlen, "%llu byte%s", (unsigned long long)bytes, bytes == 1 ? "" : "s");
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f %s", v, units[u]);
}

void stage_printable(const char *s, char *out, size_t outlen)
{
	size_t k = 0;
	if (outlen == 0)
		return;
	for (; *s && k + 1 < outlen; s++)
		out[k++] = ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\'') ? '?' : *s;
	out[k] = 0;
}
