/*
 * link.c: the agent's side of the protocol with the server: GPU inventory refresh,
 * registration (retried with backoff until the server answers), heartbeats, registering
 * again when the server no longer knows the secret, and deregistration. Each registration
 * and heartbeat that succeeds is contact for the fence (fence.c). Everything goes through
 * the curl multi client on the loop; nothing here waits.
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "atrium/version.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REG_BACKOFF_MIN_MS 500
#define REG_BACKOFF_MAX_MS 30000
#define PROBE_TIMEOUT_MS 10000

int agent_send(struct agent *a, const char *method, const char *path, const char *ctype, const void *body, size_t len,
	       const char *const *headers, long timeout_ms, atr_client_cb cb, void *cls, struct atr_xfer **x)
{
	char url[600];
	struct atr_client_req rq = { .method = method,
				     .url = url,
				     .bearer = a->registered ? a->secret : NULL,
				     .content_type = ctype,
				     .body = body,
				     .body_len = len,
				     .timeout_ms = timeout_ms,
				     .max_response = 1u << 20,
				     .headers = headers };
	snprintf(url, sizeof(url), "%s%s", a->server, path);
	return atr_client_send(a->client, &rq, cb, cls, x);
}

uint64_t agent_gpus_in_use(const struct agent *a)
{
	uint64_t m = 0;
	for (const struct agent_job *j = a->jobs; j; j = j->next)
		if (agent_job_holds_gpus(j))
			for (int i = 0; i < j->ngpus; i++)
				m |= 1ULL << j->gpus[i];
	return m;
}

static json_t *gpus_json(struct agent *a)
{
	json_t *arr = json_array();

	atr_gpu_mark_busy(a->gpus, a->ngpus, a->cfg->gpu_busy_mb, agent_gpus_in_use(a));
	for (int i = 0; arr && i < a->ngpus; i++) {
		const struct atr_gpu *g = &a->gpus[i];
		json_t *o = json_pack(
			"{s:i, s:s, s:s, s:o, s:o, s:o, s:b}", "index", g->index, "uuid", g->uuid, "name", g->name,
			"memory_mb", g->memory_mb >= 0 ? json_integer(g->memory_mb) : json_null(), "memory_used_mb",
			g->memory_used_mb >= 0 ? json_integer(g->memory_used_mb) : json_null(), "utilization",
			g->utilization >= 0 ? json_integer(g->utilization) : json_null(), "busy", g->busy);
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* ---- inventory ---- */

static void heartbeat_now(struct agent *a);
static void disk_probe(struct agent *a);

static void on_probe(void *cls, int rc, const struct atr_gpu *gpus, int n)
{
	struct agent *a = cls;
	bool hb = a->heartbeat_after_probe;

	a->probe = NULL;
	if (rc == 0) {
		memcpy(a->gpus, gpus, (size_t)n * sizeof(*gpus));
		a->ngpus = n;
	} /* else: keep what the last probe saw (a slow nvidia-smi is not a GPU-less host) */
	if (a->stopping)
		return;
	if (!a->registered && !a->reg_xfer && !uv_is_active((uv_handle_t *)&a->reg_timer))
		agent_register(a);
	else if (hb)
		heartbeat_now(a);
}

void agent_probe_then(struct agent *a, bool heartbeat)
{
	int rc;

	a->heartbeat_after_probe = heartbeat;
	if (a->fake_gpus >= 0) {
		atr_gpu_fake(a->gpus, a->fake_gpus);
		a->ngpus = a->fake_gpus;
		on_probe(a, 1, NULL, 0);
		return;
	}
	if (a->probe)
		return; /* the one in flight calls back */
	rc = atr_gpu_probe_start(a->loop, PROBE_TIMEOUT_MS, on_probe, a, &a->probe);
	if (rc == ATR_ENOTFOUND) {
		a->ngpus = 0; /* no nvidia-smi: no NVIDIA GPUs */
		on_probe(a, 1, NULL, 0);
	} else if (rc < 0) {
		atr_warn("cannot run nvidia-smi; keeping the last GPU inventory");
		on_probe(a, 1, NULL, 0);
	}
}

/* ---- registration ---- */

/* WORK_DIR/worker.json (0600): who this worker is, so an operator can call its API by hand. */
static void write_identity(struct agent *a)
{
	char path[1200], tmp[1210];
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "worker_id", (json_int_t)a->worker_id, "name", a->name,
			      "url", a->url, "server", a->server, "secret", a->secret);
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	int fd;

	json_decref(o);
	snprintf(path, sizeof(path), "%s/worker.json", a->work_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0 || rename(tmp, path) < 0)
		atr_warn("could not write '%s'", path);
	free(text);
}

static void on_reg_timer(uv_timer_t *t)
{
	if (agent_parent_alive(t->data))
		agent_register(t->data);
}

static void retry_register(struct agent *a, const char *why)
{
	uint64_t jitter;

	a->reg_backoff_ms = a->reg_backoff_ms ? a->reg_backoff_ms * 2 : REG_BACKOFF_MIN_MS;
	if (a->reg_backoff_ms > REG_BACKOFF_MAX_MS)
		a->reg_backoff_ms = REG_BACKOFF_MAX_MS;
	jitter = atr_fast_rand() % (a->reg_backoff_ms / 4 + 1);
	atr_warn("cannot register with %s: %s; retrying in %.1f s", a->server, why,
		 (double)(a->reg_backoff_ms + jitter) / 1000.0);
	uv_timer_start(&a->reg_timer, on_reg_timer, a->reg_backoff_ms + jitter, 0);
}

static void on_hb_timer(uv_timer_t *t)
{
	struct agent *a = t->data;
	if (agent_parent_alive(a) && !a->stopping && a->registered && !a->hb_xfer)
		agent_probe_then(a, true);
}

/* The server's {"error": {"message"}}, or the body, for a log line (static). */
static const char *server_says(const struct atr_client_resp *resp)
{
	static char msg[300];
	json_t *j = json_loadb(resp->body, resp->len, 0, NULL);
	const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));

	if (resp->status == 0)
		atr_copy(msg, sizeof(msg), resp->error ? resp->error : "no answer");
	else
		snprintf(msg, sizeof(msg), "HTTP %ld: %s", resp->status, m ? m : "(no message)");
	json_decref(j);
	return msg;
}

static void on_registered(void *cls, const struct atr_client_resp *resp)
{
	struct agent *a = cls;
	json_t *j;
	const char *secret;
	int64_t hb, timeout;

	a->reg_xfer = NULL;
	if (resp->status == 400 || resp->status == 401 || resp->status == 403) {
		atr_error("the server refused this worker: %s", server_says(resp));
		agent_stop(a, 1);
		return;
	}
	if (resp->status != 201) {
		retry_register(a, server_says(resp));
		return;
	}
	j = json_loadb(resp->body, resp->len, 0, NULL);
	secret = json_string_value(json_object_get(j, "secret"));
	if (!secret || strlen(secret) >= sizeof(a->secret) || !json_is_integer(json_object_get(j, "worker_id"))) {
		json_decref(j);
		retry_register(a, "the answer has no worker_id and secret");
		return;
	}
	a->worker_id = json_integer_value(json_object_get(j, "worker_id"));
	atr_copy(a->secret, sizeof(a->secret), secret);
	hb = atr_json_int(j, "heartbeat_s", a->cfg->heartbeat_s);
	/* an older server does not say: it gives heartbeat_s as a third of its timeout */
	timeout = atr_json_int(j, "heartbeat_timeout_s", hb >= 1 ? 3 * hb : 3 * a->cfg->heartbeat_s);
	json_decref(j);
	if (hb > a->cfg->heartbeat_s || hb < 1)
		hb = a->cfg->heartbeat_s;
	if (timeout < 1 || timeout > 86400)
		timeout = 3 * hb;
	a->heartbeat_ms = (uint64_t)hb * 1000;
	a->heartbeat_timeout_ms = (uint64_t)timeout * 1000;
	a->registered = true;
	a->reg_backoff_ms = 0;
	write_identity(a);
	agent_fence_contact(a, a->reg_sent_ms);
	atr_info("registered with %s as worker %lld ('%s', %d GPU%s, API at %s)", a->server, (long long)a->worker_id,
		 a->name, a->ngpus, a->ngpus == 1 ? "" : "s", a->url);
	uv_timer_start(&a->hb_timer, on_hb_timer, a->heartbeat_ms, a->heartbeat_ms);
	agent_jobs_kick(a);
}

void agent_register(struct agent *a)
{
	struct atr_host_info h;
	json_t *body;
	char *text;
	int rc;

	if (a->stopping || a->reg_xfer)
		return;
	disk_probe(a); /* ready for the first heartbeat */
	atr_host_info_read(&h);
	body = json_pack("{s:s, s:s, s:s, s:O, s:o, s:i, s:I, s:s}", "join_token", a->cfg->join_token, "name", a->name,
			 "url", a->url, "labels", a->labels, "gpus", gpus_json(a), "cpus", h.cpus, "memory_mb",
			 (json_int_t)h.memory_mb, "version", ATRIUM_VERSION);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	a->registered = false; /* no secret on this request */
	a->reg_sent_ms = uv_now(a->loop);
	rc = text ? agent_send(a, "POST", "/api/v1/workers/register", NULL, text, strlen(text), NULL, 10000,
			       on_registered, a, &a->reg_xfer)
		  : ATR_ENOMEM;
	free(text);
	if (rc < 0)
		retry_register(a, atr_strerror(rc));
}

void agent_secret_rejected(struct agent *a)
{
	if (!a->registered || a->stopping)
		return;
	atr_warn("the server no longer knows this worker's secret; registering again");
	a->registered = false;
	uv_timer_stop(&a->hb_timer);
	if (a->hb_xfer) {
		atr_client_cancel(a->hb_xfer);
		a->hb_xfer = NULL;
	}
	agent_register(a);
}

/* ---- heartbeats ---- */

static void on_heartbeat(void *cls, const struct atr_client_resp *resp)
{
	struct agent *a = cls;
	json_t *j, *cancel, *v;
	size_t i;

	a->hb_xfer = NULL;
	if (resp->status == 401) {
		agent_secret_rejected(a);
		return;
	}
	if (resp->status != 200) {
		if (!a->server_down)
			atr_warn("heartbeat failed: %s", server_says(resp));
		a->server_down = true;
		return;
	}
	if (a->server_down)
		atr_info("the server answers heartbeats again");
	a->server_down = false;
	agent_fence_contact(a, a->hb_sent_ms);
	j = json_loadb(resp->body, resp->len, 0, NULL);
	if (json_is_boolean(json_object_get(j, "drain")) && a->draining != json_is_true(json_object_get(j, "drain"))) {
		a->draining = !a->draining;
		atr_info("%s", a->draining ? "draining: no new jobs are accepted" : "no longer draining");
	}
	a->cordoned = atr_json_bool(j, "cordoned", false);
	cancel = json_object_get(j, "cancel");
	json_array_foreach(cancel, i, v)
	{
		struct agent_job *job = json_is_integer(v) ? agent_job_find(a, json_integer_value(v)) : NULL;
		if (job) {
			atr_info("job %lld: the server asks to cancel it", (long long)job->id);
			agent_job_cancel(job);
		}
	}
	json_decref(j);
}

/* The work dir's free space, for the next heartbeat (statfs may block: the thread pool). */
static void on_statfs(uv_fs_t *req)
{
	struct agent *a = req->data;
	const uv_statfs_t *f = req->ptr;

	a->statfs_busy = false;
	if (req->result == 0 && f) {
		a->disk_total_mb = (int64_t)(f->f_blocks * f->f_bsize / (1024 * 1024));
		a->disk_free_mb = (int64_t)(f->f_bavail * f->f_bsize / (1024 * 1024));
	}
	uv_fs_req_cleanup(req);
}

static void disk_probe(struct agent *a)
{
	if (a->statfs_busy)
		return;
	a->statfs_req.data = a;
	if (uv_fs_statfs(a->loop, &a->statfs_req, a->work_dir, on_statfs) == 0)
		a->statfs_busy = true;
}

static json_t *mb_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static void heartbeat_now(struct agent *a)
{
	struct atr_host_info h;
	json_t *running = json_array(), *services = json_array(), *body;
	char *text;

	if (!a->registered || a->hb_xfer || a->stopping || !running || !services) {
		json_decref(running);
		json_decref(services);
		return;
	}
	/* every job it holds: one that ended is still the worker's until its report is in */
	for (struct agent_job *j = a->jobs; j; j = j->next) {
		json_array_append_new(running, json_integer(j->id));
		if (j->svc && j->phase == AGENT_RUNNING) /* and how its services are (service.c) */
			json_array_append_new(services, agent_service_json(j));
	}
	atr_host_info_read(&h);
	body = json_pack("{s:o, s:o, s:f, s:I, s:o, s:o, s:o}", "gpus", gpus_json(a), "running", running, "load",
			 h.load1, "memory_used_mb", (json_int_t)h.memory_used_mb, "services", services, "disk_total_mb",
			 mb_or_null(a->disk_total_mb), "disk_free_mb", mb_or_null(a->disk_free_mb));
	disk_probe(a); /* for the next one */
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	a->hb_sent_ms = uv_now(a->loop);
	json_decref(body);
	if (!text || agent_send(a, "POST", "/api/v1/workers/heartbeat", NULL, text, strlen(text), NULL,
				(long)a->heartbeat_ms * 2, on_heartbeat, a, &a->hb_xfer) < 0)
		atr_warn("cannot send a heartbeat (out of memory)");
	free(text);
}

/* ---- deregistration ---- */

static void on_deregistered(void *cls, const struct atr_client_resp *resp)
{
	struct agent *a = cls;
	a->dereg_xfer = NULL;
	if (resp->status == 204)
		atr_info("deregistered from %s", a->server);
	else
		atr_warn("could not deregister: %s", server_says(resp));
	a->registered = false;
	agent_stop(a, a->exit_code); /* goes on with the stop */
}

void agent_deregister(struct agent *a)
{
	if (!a->registered || a->dereg_xfer) {
		a->registered = false;
		agent_stop(a, a->exit_code);
		return;
	}
	if (agent_send(a, "POST", "/api/v1/workers/deregister", NULL, "{}", 2, NULL, 5000, on_deregistered, a,
		       &a->dereg_xfer) < 0) {
		a->registered = false;
		agent_stop(a, a->exit_code);
	}
}
