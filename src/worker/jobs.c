/*
 * jobs.c: the jobs a worker runs, from the accepted request to the final report: checking
 * the request against this host (GPUs free and known), starting the process (runner.c),
 * shipping its log to the server in batches by byte offset, and reporting how it ended once
 * every byte is shipped. Retries back off; nothing waits on the server.
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIP_DELAY_MS 200    /* gather output this long before a batch */
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000

static void ship(struct agent_job *j);

/* ---- checking the request ---- */

static int fail(char *field, size_t fieldlen, const char *f, char *why, size_t whylen, int err, const char *fmt,
		...) __attribute__((format(printf, 7, 8)));

static int fail(char *field, size_t fieldlen, const char *f, char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;
	snprintf(field, fieldlen, "%s", f ? f : "");
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return err;
}

static bool env_name_ok(const char *k)
{
	if (!*k || (!isalpha((unsigned char)*k) && *k != '_'))
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return false;
	return true;
}

static bool known_gpu(const struct agent *a, int idx)
{
	for (int i = 0; i < a->ngpus; i++)
		if (a->gpus[i].index == idx)
			return true;
	return false;
}

/* argv (NULL-terminated, strings borrowed from the body) or the shell text. */
static int command_of(const json_t *cmd, const char ***argv, const char **shell, char *field, size_t fieldlen,
		      char *why, size_t whylen)
{
	size_t i, n;
	json_t *v;

	*argv = NULL;
	*shell = NULL;
	if (json_is_string(cmd)) {
		if (json_string_length(cmd) == 0 || strlen(json_string_value(cmd)) != json_string_length(cmd))
			return fail(field, fieldlen, "command", why, whylen, ATR_EINVAL,
				    "'command' must not be empty or contain NUL");
		*shell = json_string_value(cmd);
		return 0;
	}
	n = json_array_size(cmd);
	if (!json_is_array(cmd) || n == 0 || n > 4096)
		return fail(field, fieldlen, "command", why, whylen, ATR_EINVAL,
			    "'command' must be a string (run by /bin/sh -c) or an array of 1-4096 strings");
	*argv = calloc(n + 1, sizeof(**argv));
	if (!*argv)
		return fail(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	json_array_foreach(cmd, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
		    (i == 0 && json_string_length(v) == 0)) {
			char f[32];
			free(*argv);
			*argv = NULL;
			snprintf(f, sizeof(f), "command[%zu]", i);
			return fail(field, fieldlen, f, why, whylen, ATR_EINVAL, "'%s' must be a string without NUL%s", f,
				    i == 0 ? " and not empty" : "");
		}
		(*argv)[i] = json_string_value(v);
	}
	return 0;
}

/* The GPU indices into j: known on this host, not repeated, not held by a running job. */
static int gpus_of(struct agent *a, const json_t *gpus, struct agent_job *j, char *field, size_t fieldlen,
		   char *why, size_t whylen)
{
	uint64_t in_use = agent_gpus_in_use(a), seen = 0;
	size_t i;
	json_t *v;

	json_array_foreach(gpus, i, v) {
		char f[32];
		json_int_t idx = json_is_integer(v) ? json_integer_value(v) : -1;
		snprintf(f, sizeof(f), "gpus[%zu]", i);
		if (idx < 0 || idx >= ATR_GPU_MAX || !known_gpu(a, (int)idx))
			return fail(field, fieldlen, f, why, whylen, ATR_EINVAL, "'%s' is not a GPU index of this worker", f);
		if (seen & (1ULL << idx))
			return fail(field, fieldlen, f, why, whylen, ATR_EINVAL, "GPU %d is listed twice", (int)idx);
		if (in_use & (1ULL << idx))
			return fail(field, fieldlen, f, why, whylen, ATR_ECONFLICT, "GPU %d is in use by another job",
				    (int)idx);
		seen |= 1ULL << idx;
		j->gpus[j->ngpus++] = (int)idx;
	}
	return 0;
}

/* The env object as "NAME=value" strings (malloc'd array and strings). */
static int env_of(const json_t *env, char ***out, char *field, size_t fieldlen, char *why, size_t whylen)
{
	size_t n = json_object_size(env), k = 0;
	const char *name;
	json_t *v;

	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return fail(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	json_object_foreach((json_t *)env, name, v) {
		size_t len = strlen(name) + json_string_length(v) + 2;
		if (!env_name_ok(name)) {
			char f[80];
			snprintf(f, sizeof(f), "env.%.60s", name);
			return fail(field, fieldlen, f, why, whylen, ATR_EINVAL,
				    "'%s': variable names are letters, digits and '_', not starting with a digit", f);
		}
		(*out)[k] = malloc(len);
		if (!(*out)[k])
			return fail(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
		snprintf((*out)[k++], len, "%s=%s", name, json_string_value(v));
	}
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- lifecycle ---- */

static void on_output(void *cls, struct atr_proc *p);
static void on_done(void *cls, struct atr_proc *p);
static const struct atr_proc_ops proc_ops = {on_output, on_done};

struct agent_job *agent_job_find(struct agent *a, int64_t id)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void job_timer_closed(uv_handle_t *h)
{
	struct agent_job *j = h->data;
	atr_proc_free(j->proc);
	free(j->token);
	free(j);
}

/* Unlinks and frees the job (its transfers cancelled, its process freed). */
static void job_remove(struct agent_job *j)
{
	struct agent *a = j->a;

	for (struct agent_job **pp = &a->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	a->njobs--;
	if (j->ship)
		atr_client_cancel(j->ship);
	if (j->report)
		atr_client_cancel(j->report);
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->timer, job_timer_closed);
	agent_job_gone(a);
}

int agent_job_start(struct agent *a, const json_t *body, struct agent_job **out, char *field, size_t fieldlen,
		    char *why, size_t whylen)
{
	struct atr_proc_spec spec = {0};
	struct agent_job *j;
	const char **argv = NULL;
	char **env = NULL;
	int64_t timeout_s = atr_json_int(body, "timeout_s", 0);
	int rc;

	field[0] = 0;
	if (a->njobs >= AGENT_MAX_JOBS)
		return fail(field, fieldlen, NULL, why, whylen, ATR_ECONFLICT, "this worker already runs %d jobs",
			    a->njobs);
	j = calloc(1, sizeof(*j));
	if (!j)
		return fail(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	j->a = a;
	j->id = atr_json_int(body, "id", 0);
	j->run_id = atr_json_int(body, "run_id", 0);
	j->attempt = atr_json_int(body, "attempt", 1);
	if (agent_job_find(a, j->id))
		rc = fail(field, fieldlen, "id", why, whylen, ATR_ECONFLICT, "job %lld is already on this worker",
			  (long long)j->id);
	else
		rc = command_of(json_object_get(body, "command"), &argv, &spec.shell, field, fieldlen, why, whylen);
	if (rc == 0)
		rc = gpus_of(a, json_object_get(body, "gpus"), j, field, fieldlen, why, whylen);
	if (rc == 0)
		rc = env_of(json_object_get(body, "env"), &env, field, fieldlen, why, whylen);
	j->token = atr_strdup(atr_json_str(body, "token", ""));
	if (rc == 0 && !j->token)
		rc = fail(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	if (rc == 0) {
		spec.id = j->id;
		spec.argv = argv;
		spec.env = (const char *const *)env;
		spec.gpus = j->gpus;
		spec.ngpus = j->ngpus;
		spec.url = a->server;
		spec.token = j->token;
		spec.run_id = j->run_id;
		spec.port = (int)atr_json_int(body, "port", 0);
		spec.work_root = a->work_dir;
		spec.timeout_ms = (uint64_t)timeout_s * 1000;
		spec.grace_ms = AGENT_KILL_GRACE_MS;
		rc = atr_proc_start(a->loop, &spec, &proc_ops, j, &j->proc);
		if (rc < 0)
			fail(field, fieldlen, NULL, why, whylen, rc, "cannot prepare job %lld in '%s/jobs': %s",
			     (long long)j->id, a->work_dir, atr_strerror(rc));
	}
	free(argv);
	strv_free(env);
	if (rc < 0) {
		free(j->token);
		free(j);
		return rc;
	}
	uv_timer_init(a->loop, &j->timer);
	j->timer.data = j;
	j->next = a->jobs;
	a->jobs = j;
	a->njobs++;
	atr_info("job %lld (attempt %lld) started: pid %d, %d GPU%s", (long long)j->id, (long long)j->attempt,
		 (int)atr_proc_pid(j->proc), j->ngpus, j->ngpus == 1 ? "" : "s");
	*out = j;
	return 0;
}

json_t *agent_job_json(const struct agent_job *j)
{
	json_t *gpus = json_array();
	char ts[40];

	for (int i = 0; gpus && i < j->ngpus; i++)
		json_array_append_new(gpus, json_integer(j->gpus[i]));
	atr_time_format(atr_proc_started_at(j->proc), ts, sizeof(ts));
	return json_pack("{s:I, s:o, s:I, s:s, s:i, s:o, s:s, s:I, s:I}", "id", (json_int_t)j->id, "run_id",
			 j->run_id ? json_integer(j->run_id) : json_null(), "attempt", (json_int_t)j->attempt, "state",
			 atr_proc_state_name(atr_proc_state(j->proc)), "pid", (int)atr_proc_pid(j->proc), "gpus",
			 gpus ? gpus : json_array(), "started_at", ts, "log_bytes",
			 (json_int_t)atr_proc_spool(j->proc)->total, "log_shipped", (json_int_t)j->acked);
}

void agent_job_cancel(struct agent_job *j)
{
	if (!j->ended)
		atr_proc_cancel(j->proc);
}

void agent_jobs_cancel_all(struct agent *a)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		agent_job_cancel(j);
}

void agent_jobs_drop_all(struct agent *a)
{
	while (a->jobs) {
		atr_warn("job %lld: giving up on shipping its log and report", (long long)a->jobs->id);
		job_remove(a->jobs);
	}
}

/* ---- shipping the log ---- */

static uint64_t retry_ms(struct agent_job *j)
{
	uint64_t ms = RETRY_MIN_MS << (j->failures < 5 ? j->failures : 5);
	j->failures++;
	return ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
}

static void on_timer(uv_timer_t *t)
{
	ship(t->data);
}

static void later(struct agent_job *j, uint64_t ms)
{
	uv_timer_start(&j->timer, on_timer, ms, 0);
}

static void on_output(void *cls, struct atr_proc *p)
{
	struct agent_job *j = cls;
	(void)p;
	if (j->ship || uv_is_active((uv_handle_t *)&j->timer))
		return;
	later(j, SHIP_DELAY_MS);
}

static void on_done(void *cls, struct atr_proc *p)
{
	struct agent_job *j = cls;

	j->ended = true;
	atr_info("job %lld %s: %s", (long long)j->id, atr_proc_state_name(atr_proc_state(p)), atr_proc_message(p));
	if (!j->ship && !j->report) {
		uv_timer_stop(&j->timer);
		ship(j);
	}
}

/* The next_offset of an answer's JSON, or -1. */
static int64_t next_offset(const struct atr_client_resp *resp)
{
	json_t *b = json_loadb(resp->body, resp->len, 0, NULL);
	int64_t n = json_is_integer(json_object_get(b, "next_offset")) ? json_integer_value(json_object_get(b, "next_offset"))
									 : -1;
	json_decref(b);
	return n;
}

static void on_shipped(void *cls, const struct atr_client_resp *resp)
{
	struct agent_job *j = cls;
	struct atr_spool *sp = atr_proc_spool(j->proc);
	int64_t next = resp->status == 200 || resp->status == 409 ? next_offset(resp) : -1;

	j->ship = NULL;
	if (next >= 0 && (uint64_t)next > sp->total) {
		/* the server holds more than this run wrote: another run's log under this attempt */
		atr_error("job %lld: the server already has %lld log bytes for attempt %lld; shipping stops",
			  (long long)j->id, (long long)next, (long long)j->attempt);
		j->log_lost = true;
		ship(j);
		return;
	}
	if (next >= 0) {
		if (resp->status == 409)
			atr_warn("job %lld: the server's log ends at %lld; resending from there", (long long)j->id,
				 (long long)next);
		j->acked = (uint64_t)next;
		atr_spool_release(sp, j->acked);
		j->failures = 0;
		ship(j);
		return;
	}
	if (resp->status == 401)
		agent_secret_rejected(j->a);
	else if (!j->a->stopping || j->failures == 0)
		atr_warn("job %lld: shipping its log failed (HTTP %ld%s%s); retrying", (long long)j->id, resp->status,
			 resp->error ? ": " : "", resp->error ? resp->error : "");
	later(j, retry_ms(j));
}

static void report(struct agent_job *j);

/* Sends the next batch, or reports when the job ended and everything is shipped. */
static void ship(struct agent_job *j)
{
	struct agent *a = j->a;
	struct atr_spool *sp = atr_proc_spool(j->proc);
	char off[64], att[64], path[96];
	const char *hdrs[] = {off, att, NULL};
	long n;

	if (j->ship || j->report)
		return;
	if (!a->registered) {
		later(j, RETRY_MIN_MS); /* registering again: the batch waits for the new secret */
		return;
	}
	n = j->log_lost ? 0 : atr_spool_read(sp, j->acked, a->shipbuf, sizeof(a->shipbuf));
	if (n < 0) {
		atr_error("job %lld: log bytes from %llu are no longer available; shipping stops", (long long)j->id,
			  (unsigned long long)j->acked);
		j->log_lost = true;
		n = 0;
	}
	if (n == 0) {
		if (j->ended)
			report(j);
		return;
	}
	snprintf(off, sizeof(off), "X-Log-Offset: %llu", (unsigned long long)j->acked);
	snprintf(att, sizeof(att), "X-Job-Attempt: %lld", (long long)j->attempt);
	snprintf(path, sizeof(path), "/api/v1/workers/jobs/%lld/logs", (long long)j->id);
	if (agent_send(a, "POST", path, "application/octet-stream", a->shipbuf, (size_t)n, hdrs, 30000, on_shipped, j,
		       &j->ship) < 0)
		later(j, retry_ms(j));
}

/* ---- the final report ---- */

static void on_reported(void *cls, const struct atr_client_resp *resp)
{
	struct agent_job *j = cls;

	j->report = NULL;
	if (resp->status == 200) {
		atr_info("job %lld: reported %s to the server", (long long)j->id, atr_proc_state_name(atr_proc_state(j->proc)));
		job_remove(j);
		return;
	}
	if (resp->status == 401)
		agent_secret_rejected(j->a);
	else
		atr_warn("job %lld: reporting its end failed (HTTP %ld%s%s); retrying", (long long)j->id, resp->status,
			 resp->error ? ": " : "", resp->error ? resp->error : "");
	later(j, retry_ms(j));
}

static void report(struct agent_job *j)
{
	struct atr_proc *p = j->proc;
	char path[96], started[40], ended[40], *text;
	json_t *body;

	atr_time_format(atr_proc_started_at(p), started, sizeof(started));
	atr_time_format(atr_proc_ended_at(p), ended, sizeof(ended));
	body = json_pack("{s:s, s:I, s:o, s:o, s:s, s:I, s:s, s:s}", "state", atr_proc_state_name(atr_proc_state(p)),
			 "attempt", (json_int_t)j->attempt, "exit_code",
			 atr_proc_exit_code(p) >= 0 ? json_integer(atr_proc_exit_code(p)) : json_null(), "signal",
			 atr_proc_signal(p) ? json_integer(atr_proc_signal(p)) : json_null(), "message",
			 atr_proc_message(p), "log_bytes", (json_int_t)atr_proc_spool(p)->total, "started_at", started,
			 "finished_at", ended);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	snprintf(path, sizeof(path), "/api/v1/workers/jobs/%lld/status", (long long)j->id);
	if (!text || agent_send(j->a, "POST", path, NULL, text, strlen(text), NULL, 30000, on_reported, j, &j->report) < 0)
		later(j, retry_ms(j));
	free(text);
}

void agent_jobs_kick(struct agent *a)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		if (!j->ship && !j->report && uv_is_active((uv_handle_t *)&j->timer)) {
			uv_timer_stop(&j->timer);
			ship(j);
		}
}
