/*
 * slurm_submit.c: what the Slurm backend sends to slurmrestd: the authentication headers (a
 * JWT read from the cluster's token file, or minted here with HS256 from its key file), the
 * batch job of an attempt (POST /job/submit) and its cancel (DELETE /job/{id}). Polling and
 * the states are in slurm.c.
 */
#include "atrium/buf.h"
#include "atrium/client.h"
#include "atrium/engine.h"
#include "atrium/err.h"
#include "atrium/json.h"
#include "atrium/log.h"
#include "atrium/store_clusters.h"
#include "atrium/util.h"
#include "slurm_internal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_LIFETIME_S 600

int atr_slurm_jwt(const unsigned char *key, size_t keylen, const char *user, int64_t now_s, int64_t lifetime_s,
		  char *out, size_t outlen)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char payload[256], h64[64], p64[360], s64[64];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int n;

	n = snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"iat\":%lld,\"sun\":\"%s\"}",
		     (long long)(now_s + lifetime_s), (long long)now_s, user);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return ATR_ETOOBIG;
	atr_b64url_encode(header, strlen(header), h64);
	atr_b64url_encode(payload, (size_t)n, p64);
	n = snprintf(out, outlen, "%s.%s", h64, p64);
	if (n < 0 || (size_t)n >= outlen)
		return ATR_ETOOBIG;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)out, (size_t)n, mac, &maclen))
		return ATR_EINVAL;
	atr_b64url_encode(mac, maclen, s64);
	n = snprintf(out, outlen, "%s.%s.%s", h64, p64, s64);
	return n < 0 || (size_t)n >= outlen ? ATR_ETOOBIG : 0;
}

int slurm_auth_headers(const struct scl *cl, char name_hdr[128], char token_hdr[2048])
{
	const unsigned char *secret = cl->secret;
	char tok[1900];
	long n = (long)cl->secret_len;

	if (n <= 0)
		return cl->secret_err < 0 ? cl->secret_err : ATR_ENOTFOUND; /* (not read yet, or unreadable) */
	if (!strcmp(cl->c.auth, "jwt_key")) {
		if (atr_slurm_jwt(secret, (size_t)n, cl->c.user, atr_now_ms() / 1000, JWT_LIFETIME_S, tok,
				  sizeof(tok)) < 0)
			return ATR_EINVAL;
	} else {
		while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r' || secret[n - 1] == ' '))
			n--;
		if ((size_t)n >= sizeof(tok))
			return ATR_ETOOBIG;
		memcpy(tok, secret, (size_t)n);
		tok[n] = 0;
		if (!strncmp(tok, "SLURM_JWT=", 10)) /* (scontrol token's own output) */
			memmove(tok, tok + 10, strlen(tok + 10) + 1);
	}
	snprintf(name_hdr, 128, "X-SLURM-USER-NAME: %s", cl->c.user);
	snprintf(token_hdr, 2048, "X-SLURM-USER-TOKEN: %s", tok);
	return 0;
}

/* One word for a POSIX shell, in single quotes. */
static void shell_word(struct atr_buf *b, const char *w)
{
	atr_buf_puts(b, "'");
	for (; *w; w++)
		if (*w == '\'')
			atr_buf_puts(b, "'\\''");
		else
			atr_buf_append(b, w, 1);
	atr_buf_puts(b, "'");
}

/* After the command: on success, every file under the output folder goes to the server with
 * the job's own token, through the same PUT a worker uses (the engine then registers them). */
static const char upload_tail[] =
	"rc=$?\n"
	"if [ \"$rc\" = 0 ] && [ \"$ATRIUM_UPLOAD_OUTPUTS\" = 1 ]; then\n"
	"  cd \"$ATRIUM_OUTPUT_DIR\" || exit 1\n"
	"  find . -type f | sed 's|^\\./||' | while IFS= read -r f; do\n"
	"    curl -sS -f -o /dev/null -T \"$f\" -H \"Authorization: Bearer $ATRIUM_TOKEN\" \\\n"
	"      \"$ATRIUM_URL/api/v1/jobs/$ATRIUM_JOB_ID/outputs/$f\" || exit 1\n"
	"  done || { echo 'atrium: uploading the outputs failed' >&2; exit 1; }\n"
	"fi\n"
	"exit $rc\n";

static char *batch_script(const json_t *command)
{
	struct atr_buf b;
	size_t i;
	json_t *w;

	atr_buf_init(&b, 1 << 20);
	atr_buf_puts(&b, "#!/bin/bash\ncd \"$ATRIUM_JOB_DIR\" || exit 1\n");
	if (json_is_string(command)) {
		atr_buf_puts(&b, "/bin/sh -c ");
		shell_word(&b, json_string_value(command));
	} else {
		json_array_foreach(command, i, w)
		{
			if (i)
				atr_buf_puts(&b, " ");
			shell_word(&b, json_is_string(w) ? json_string_value(w) : "");
		}
	}
	atr_buf_puts(&b, "\n");
	if (atr_buf_puts(&b, upload_tail) < 0) {
		atr_buf_release(&b);
		return NULL;
	}
	return atr_buf_steal(&b);
}

static json_t *job_env(struct atr_slurm *s, const struct sjob *j, const json_t *dj, const char *token)
{
	json_t *env = json_object(), *user = json_object_get(dj, "env"), *v;
	char dir[1300];
	const char *k;

	json_object_foreach(user, k, v) if (json_is_string(v)) json_object_set(env, k, v);
	json_object_set_new(env, "PATH", json_string("/usr/local/bin:/usr/bin:/bin"));
	json_object_set_new(env, "ATRIUM_URL", json_string(s->o.public_url));
	json_object_set_new(env, "ATRIUM_TOKEN", json_string(token));
	json_object_set_new(env, "ATRIUM_JOB_ID", json_sprintf("%lld", (long long)j->job_id));
	json_object_set_new(env, "ATRIUM_ATTEMPT", json_sprintf("%lld", (long long)j->attempt));
	if (atr_json_int(dj, "run_id", 0))
		json_object_set_new(env, "ATRIUM_RUN_ID",
				    json_sprintf("%lld", (long long)atr_json_int(dj, "run_id", 0)));
	json_object_set_new(env, "ATRIUM_JOB_DIR", json_string(j->dir));
	snprintf(dir, sizeof(dir), "%s/input", j->dir);
	json_object_set_new(env, "ATRIUM_INPUT_DIR", json_string(dir));
	snprintf(dir, sizeof(dir), "%s/output", j->dir);
	json_object_set_new(env, "ATRIUM_OUTPUT_DIR", json_string(dir));
	json_object_set_new(env, "ATRIUM_UPLOAD_OUTPUTS",
			    json_string(json_is_true(json_object_get(dj, "upload_outputs")) ? "1" : "0"));
	return env;
}

/* The resources of the attempt, in slurmrestd's job properties (v0.0.37/38). */
static void job_resources(json_t *job, const struct scl *cl, const struct atr_job_row *row)
{
	char gres[64];

	if (cl->c.partition[0])
		json_object_set_new(job, "partition", json_string(cl->c.partition));
	if (cl->c.account[0])
		json_object_set_new(job, "account", json_string(cl->c.account));
	if (cl->c.qos[0])
		json_object_set_new(job, "qos", json_string(cl->c.qos));
	if (row->cpus > 0)
		json_object_set_new(job, "cpus_per_task", json_integer(row->cpus));
	if (row->memory_mb > 0)
		json_object_set_new(job, "memory_per_node", json_integer(row->memory_mb));
	if (row->timeout_s > 0)
		json_object_set_new(job, "time_limit", json_integer((row->timeout_s + 59) / 60));
	if (row->gpus > 0) {
		snprintf(gres, sizeof(gres), "%s:%d", cl->c.gres, row->gpus);
		json_object_set_new(job, "gres", json_string(gres));
	}
	json_object_set_new(job, "requeue", json_false()); /* Atrium requeues, within max_attempts */
}

char *slurm_submit_body(struct atr_slurm *s, const struct scl *cl, const struct sjob *j,
			const struct atr_job_dispatch *jd)
{
	int err;
	json_t *dj = atr_store_job_dispatch_json(s->o.store, j->job_id, &err), *job, *body;
	char out[1300], *script, *text = NULL;

	if (!dj)
		return NULL;
	script = batch_script(json_object_get(dj, "command"));
	snprintf(out, sizeof(out), "%s/slurm.out", j->dir);
	job = json_pack("{s:s, s:s, s:s, s:o}", "name", j->name, "current_working_directory", j->dir, "standard_output",
			out, "environment", job_env(s, j, dj, jd->token));
	if (job && script) {
		job_resources(job, cl, jd->row);
		body = json_pack("{s:o, s:s}", "job", job, "script", script);
		job = NULL;
		text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
	}
	json_decref(job);
	free(script);
	json_decref(dj);
	return text;
}

/* The request to slurmrestd, with the cluster's headers; 0 or <0 (nothing sent). */
static int rest_send(struct scl *cl, const char *method, const char *path, const char *body, atr_client_cb cb,
		     void *cls, struct atr_xfer **xfer)
{
	char url[700], name_hdr[128], token_hdr[2048];
	const char *headers[3] = { name_hdr, token_hdr, NULL };
	struct atr_client_req rq = { .method = method, .timeout_ms = 15000, .connect_timeout_ms = 3000 };
	int rc = slurm_auth_headers(cl, name_hdr, token_hdr);

	if (rc < 0) {
		atr_warn("cluster '%s': no credentials from '%s' (%s)", cl->c.name, cl->c.secret_path,
			 atr_strerror(rc));
		return rc;
	}
	snprintf(url, sizeof(url), "%s%s", cl->c.url, path);
	rq.url = url;
	rq.headers = headers;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	return atr_client_send(cl->s->o.client, &rq, cb, cls, xfer);
}

int slurm_rest_get(struct scl *cl, const char *path, atr_client_cb cb, void *cls, struct atr_xfer **xfer)
{
	return rest_send(cl, "GET", path, NULL, cb, cls, xfer);
}

void slurm_rest_delete(struct scl *cl, const char *path, atr_client_cb cb, void *cls)
{
	rest_send(cl, "DELETE", path, NULL, cb, cls, NULL);
}

/* Slurm's own error text of an answer. */
static void slurm_error(const struct atr_client_resp *resp, json_t *o, char *why, size_t len)
{
	json_t *e = json_array_get(json_object_get(o, "errors"), 0);
	const char *m = atr_json_str(e, "error", NULL);

	if (!m)
		m = atr_json_str(e, "description", NULL);
	if (m)
		snprintf(why, len, "slurm: %s", m);
	else if (resp->status)
		snprintf(why, len, "slurmrestd answered %ld", resp->status);
	else
		snprintf(why, len, "slurmrestd did not answer (%s)", resp->error ? resp->error : "?");
}

void slurm_reject(struct sjob *j, const char *why)
{
	struct atr_engine *e = j->cl->s->e;
	int64_t id = j->job_id;

	atr_store_cluster_job_done(j->cl->s->o.store, j->job_id, j->attempt);
	slurm_job_free(j);
	atr_engine_dispatch_result(e, id, ATR_DISPATCH_REJECTED, why);
}

static void on_submitted(void *cls, const struct atr_client_resp *resp)
{
	struct sjob *j = cls;
	json_t *o = resp->len ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	json_t *id = json_object_get(o, "job_id");
	char why[400];

	j->xfer = NULL;
	slurm_error(resp, o, why, sizeof(why));
	if (resp->status == 200 && json_is_integer(id) && json_integer_value(id) > 0) {
		j->slurm_id = json_integer_value(id);
		atr_store_cluster_job_set_slurm_id(j->cl->s->o.store, j->job_id, j->attempt, j->slurm_id);
		atr_info("job %lld: submitted to cluster '%s' as Slurm job %lld", (long long)j->job_id, j->cl->c.name,
			 (long long)j->slurm_id);
		if (j->cancel)
			slurm_send_cancel(j);
	} else if (resp->status == 200 || resp->status == 400) {
		json_decref(o);
		slurm_reject(j, why); /* the job itself is impossible there */
		return;
	} else {
		/* No answer, or a server error: it may have gone through. The next poll looks its
		 * name up, and submits again only if Slurm does not have it. */
		j->lookup = true;
		atr_warn("job %lld: submission to cluster '%s' unsure (%s); looking it up before trying again",
			 (long long)j->job_id, j->cl->c.name, why);
		atr_store_job_set_pending(j->cl->s->o.store, j->job_id, why);
	}
	json_decref(o);
	slurm_poll_soon(j->cl);
}

void slurm_submit(struct sjob *j)
{
	j->lookup = false;
	if (rest_send(j->cl, "POST", "/job/submit", j->body, on_submitted, j, &j->xfer) < 0) {
		j->xfer = NULL;
		j->lookup = true; /* (retried from the next poll) */
	}
}

static void on_cancelled(void *cls, const struct atr_client_resp *resp)
{
	struct sjob *j = cls;
	bool ok = resp->status == 200;

	j->xfer = NULL;
	j->cancel_sent = ok;
	if (!ok)
		atr_warn("job %lld: cancel on cluster '%s' not delivered (HTTP %ld)", (long long)j->job_id,
			 j->cl->c.name, resp->status);
	atr_engine_cancel_result(j->cl->s->e, j->job_id, ok);
	slurm_poll_soon(j->cl);
}

void slurm_send_cancel(struct sjob *j)
{
	char path[64];

	j->cancel = true;
	if (!j->slurm_id || j->xfer) /* not in Slurm yet, or a submission in flight: after it */
		return;
	snprintf(path, sizeof(path), "/job/%lld", (long long)j->slurm_id);
	if (rest_send(j->cl, "DELETE", path, NULL, on_cancelled, j, &j->xfer) < 0) {
		j->xfer = NULL;
		atr_engine_cancel_result(j->cl->s->e, j->job_id, false);
	}
}
