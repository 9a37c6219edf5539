/*
 * mlf_http.c: the import command's HTTP client, blocking libcurl easy calls (a CLI, not the
 * daemon: nothing here runs on an event loop). JSON answers are read whole (they are pages:
 * at most a few MB); artifact bytes are streamed to and from FILEs, never held in memory.
 */
#include "mlf_http.h"
#include "atrium/buf.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON_ANSWER (512L << 20)

int mlf_open(struct mlf_ep *ep)
{
	ep->curl = curl_easy_init();
	ep->error[0] = 0;
	return ep->curl ? 0 : -1;
}

void mlf_close(struct mlf_ep *ep)
{
	if (ep->curl)
		curl_easy_cleanup(ep->curl);
	ep->curl = NULL;
}

static size_t to_buf(char *p, size_t size, size_t n, void *ud)
{
	struct atr_buf *b = ud;

	if (atr_buf_append(b, p, size * n) < 0)
		return 0;
	return size * n;
}

/* Sets what every request shares: URL, auth, CA, timeouts. Returns the header list to free. */
static struct curl_slist *prepare(struct mlf_ep *ep, const char *method, const char *path, const char *ctype)
{
	CURL *h = ep->curl;
	struct curl_slist *hdr = NULL;
	size_t cap = strlen(ep->base) + strlen(path) + 1;
	char *url = malloc(cap), auth[1100];

	curl_easy_reset(h);
	if (!url)
		return NULL;
	snprintf(url, cap, "%s%s", ep->base, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (ep->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, ep->ca_file);
	if (ep->token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", ep->token);
		hdr = curl_slist_append(hdr, auth);
	} else if (ep->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, ep->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, ep->pass ? ep->pass : "");
	}
	if (ctype) {
		snprintf(auth, sizeof auth, "Content-Type: %s", ctype);
		hdr = curl_slist_append(hdr, auth);
	}
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	return hdr;
}

/* Runs the prepared request; the status, or -1 with ep->error set. */
static int perform(struct mlf_ep *ep, const char *method, const char *path)
{
	long status = 0;
	CURLcode c = curl_easy_perform(ep->curl);

	if (c != CURLE_OK) {
		snprintf(ep->error, sizeof ep->error, "%s %s%s: %s", method, ep->base, path, curl_easy_strerror(c));
		return -1;
	}
	curl_easy_getinfo(ep->curl, CURLINFO_RESPONSE_CODE, &status);
	return (int)status;
}

/* The error message of a failed answer: MLflow's {"error_code", "message"} or the raw text. */
static void note_error(struct mlf_ep *ep, int status, const char *method, const char *path, json_t *doc,
		       const struct atr_buf *b)
{
	const char *code = doc ? json_string_value(json_object_get(doc, "error_code")) : NULL;
	const char *msg = doc ? json_string_value(json_object_get(doc, "message")) : NULL;

	if (code || msg)
		snprintf(ep->error, sizeof ep->error, "%s %s: %d %s: %s", method, path, status, code ? code : "",
			 msg ? msg : "");
	else
		snprintf(ep->error, sizeof ep->error, "%s %s: %d %.200s", method, path, status,
			 b->len ? b->data : "(empty answer)");
}

int mlf_json(struct mlf_ep *ep, const char *method, const char *path, json_t *body, json_t **out)
{
	struct atr_buf b;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct curl_slist *hdr = prepare(ep, method, path, text ? "application/json" : NULL);
	json_t *doc = NULL;
	int status;

	atr_buf_init(&b, MAX_JSON_ANSWER);
	*out = NULL;
	if (text)
		curl_easy_setopt(ep->curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(ep->curl, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(ep->curl, CURLOPT_WRITEDATA, &b);
	status = perform(ep, method, path);
	if (status > 0 && b.len)
		doc = json_loads(b.data, 0, NULL);
	if (status > 0 && (status < 200 || status > 299))
		note_error(ep, status, method, path, doc, &b);
	if (status >= 200 && status <= 299 && !json_is_object(doc)) {
		snprintf(ep->error, sizeof ep->error, "%s %s: %d but the answer is not a JSON object", method, path,
			 status);
		status = -1;
	}
	if (status >= 200 && status <= 299)
		*out = doc;
	else
		json_decref(doc);
	curl_slist_free_all(hdr);
	atr_buf_release(&b);
	free(text);
	return status;
}

static size_t to_file(char *p, size_t size, size_t n, void *ud)
{
	return fwrite(p, size, n, ud) == n ? size * n : 0;
}

int mlf_download(struct mlf_ep *ep, const char *path, FILE *to)
{
	struct curl_slist *hdr = prepare(ep, "GET", path, NULL);
	int status;

	curl_easy_setopt(ep->curl, CURLOPT_WRITEFUNCTION, to_file);
	curl_easy_setopt(ep->curl, CURLOPT_WRITEDATA, to);
	curl_easy_setopt(ep->curl, CURLOPT_FAILONERROR, 1L);
	status = perform(ep, "GET", path);
	if (status < 0) {
		long code = 0;
		curl_easy_getinfo(ep->curl, CURLINFO_RESPONSE_CODE, &code);
		status = code >= 400 ? (int)code : -1;
	}
	curl_slist_free_all(hdr);
	return status;
}

static size_t from_file(char *p, size_t size, size_t n, void *ud)
{
	return fread(p, size, n, ud);
}

int mlf_upload(struct mlf_ep *ep, const char *path, FILE *from, long long size)
{
	struct curl_slist *hdr = prepare(ep, "PUT", path, "application/octet-stream");
	struct atr_buf b;
	int status;

	atr_buf_init(&b, 1 << 20);
	curl_easy_setopt(ep->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(ep->curl, CURLOPT_READFUNCTION, from_file);
	curl_easy_setopt(ep->curl, CURLOPT_READDATA, from);
	curl_easy_setopt(ep->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(ep->curl, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(ep->curl, CURLOPT_WRITEDATA, &b);
	status = perform(ep, "PUT", path);
	if (status > 0 && (status < 200 || status > 299)) {
		json_t *doc = NULL;
		if (b.len)
			doc = json_loads(b.data, 0, NULL);
		note_error(ep, status, "PUT", path, doc, &b);
		json_decref(doc);
	}
	curl_slist_free_all(hdr);
	atr_buf_release(&b);
	return status;
}

char *mlf_escape(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), o = 0;
	char *out = malloc(3 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c) ||
		    (keep_slash && c == '/')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return out;
}
