/*
 * jobs.c: the jobs a worker runs, from the accepted request to their end: checking the
 * request against this host (GPUs free and known, paths safe), fetching its inputs
 * (fetch.c), starting its process (runner.c), uploading its outputs (upload.c) when it
 * succeeded, and cancelling it in any of those phases. ship.c ships its log and reports how
 * it ended; nothing here waits on the server.
 */
#include "agent.h"
#include "atrium/err.h"
#include "atrium/log.h"
#include "atrium/util.h"
#include "stage.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- checking the request ---- */

int agent_refuse(char *field, size_t fieldlen, const char *f, char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;
	atr_copy(field, fieldlen, f ? f : "");
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
			return agent_refuse(field, fieldlen, "command", why, whylen, ATR_EINVAL,
					    "'command' must not be empty or contain NUL");
		*shell = json_string_value(cmd);
		return 0;
	}
	n = json_array_size(cmd);
	if (!json_is_array(cmd) || n == 0 || n > 4096)
		return agent_refuse(field, fieldlen, "command", why, whylen, ATR_EINVAL,
				    "'command' must be a string (run by /bin/sh -c) or an array of 1-4096 strings");
	*argv = calloc(n + 1, sizeof(**argv));
	if (!*argv)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	json_array_foreach(cmd, i, v)
	{
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
		    (i == 0 && json_string_length(v) == 0)) {
			char f[32];
			free(*argv);
			*argv = NULL;
			snprintf(f, sizeof(f), "command[%zu]", i);
			return agent_refuse(field, fieldlen, f, why, whylen, ATR_EINVAL,
					    "'%s' must be a string without NUL%s", f, i == 0 ? " and not empty" : "");
		}
		(*argv)[i] = json_string_value(v);
	}
	return 0;
}

/* The GPU indices into j: known on this host, not repeated, not held by a running job. */
static int gpus_of(struct agent *a, const json_t *gpus, struct agent_job *j, char *field, size_t fieldlen, char *why,
		   size_t whylen)
{
	uint64_t in_use = agent_gpus_in_use(a), seen = 0;
	size_t i;
	json_t *v;

	json_array_foreach(gpus, i, v)
	{
		char f[32];
		json_int_t idx = json_is_integer(v) ? json_integer_value(v) : -1;
		snprintf(f, sizeof(f), "gpus[%zu]", i);
		if (idx < 0 || idx >= ATR_GPU_MAX || !known_gpu(a, (int)idx))
			return agent_refuse(field, fieldlen, f, why, whylen, ATR_EINVAL,
					    "'%s' is not a GPU index of this worker", f);
		if (seen & (1ULL << idx))
			return agent_refuse(field, fieldlen, f, why, whylen, ATR_EINVAL, "GPU %d is listed twice",
					    (int)idx);
		if (in_use & (1ULL << idx))
			return agent_refuse(field, fieldlen, f, why, whylen, ATR_ECONFLICT,
					    "GPU %d is in use by another job", (int)idx);
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
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	json_object_foreach((json_t *)env, name, v)
	{
		size_t len = strlen(name) + json_string_length(v) + 2;
		if (!env_name_ok(name)) {
			char f[80];
			snprintf(f, sizeof(f), "env.%.60s", name);
			return agent_refuse(
				field, fieldlen, f, why, whylen, ATR_EINVAL,
				"'%s': variable names are letters, digits and '_', not starting with a digit", f);
		}
		(*out)[k] = malloc(len);
		if (!(*out)[k])
			return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
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
static const struct atr_proc_ops proc_ops = { on_output, on_done };
static void on_note(void *cls, const char *line);
static void on_fetched(void *cls, int rc, const char *message);
static void on_uploaded(void *cls, int rc, const char *message);
static const struct stage_ops fetch_ops = { on_note, on_fetched };
static const struct stage_ops upload_ops = { on_note, on_uploaded };

struct agent_job *agent_job_find(struct agent *a, int64_t id)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

bool agent_job_holds_gpus(const struct agent_job *j)
{
	return j->phase == AGENT_PREPARING || j->phase == AGENT_RUNNING;
}

const char *agent_job_state_name(const struct agent_job *j)
{
	switch (j->phase) {
	case AGENT_PREPARING:
		return "preparing";
	case AGENT_RUNNING:
		return "running";
	case AGENT_UPLOADING:
		return "uploading";
	case AGENT_ENDED:
		break;
	}
	return atr_proc_state_name(j->state);
}

/* What starting the process needs, no longer needed once it started (or never will). */
static void drop_start_data(struct agent_job *j)
{
	free(j->argv);
	j->argv = NULL;
	j->shell = NULL;
	strv_free(j->env);
	j->env = NULL;
	json_decref(j->req);
	j->req = NULL;
}

/* Frees a job that is not (or no longer) in the list. */
static void job_free(struct agent_job *j)
{
	agent_service_free(j->svc);
	stage_free(j->stage);
	atr_proc_free(j->proc);
	atr_spool_close(&j->log);
	drop_start_data(j);
	free(j->token);
	free(j);
}

static void job_timer_closed(uv_handle_t *h)
{
	job_free(h->data);
}

void agent_job_remove(struct agent_job *j)
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
	j->ship = j->report = NULL;
	stage_free(j->stage); /* now: its transfers stop with the job */
	j->stage = NULL;
	agent_service_stop(j);
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->timer, job_timer_closed);
	agent_job_gone(a);
}

/* A line of the worker's own in the job's log, shipped like the process's output. */
static void note(struct agent_job *j, const char *line)
{
	atr_spool_append(&j->log, line, strlen(line));
	agent_ship_soon(j);
}

static void on_note(void *cls, const char *line)
{
	note(cls, line);
}

/* The job's end is known: ship the rest of its log, then report. */
void agent_job_finish(struct agent_job *j, enum atr_proc_state state, const char *message, bool in_log)
{
	if (j->phase == AGENT_ENDED)
		return;
	agent_service_stop(j);
	j->phase = AGENT_ENDED;
	j->state = state;
	j->finished_at = atr_now_ms();
	atr_copy(j->message, sizeof(j->message), message);
	if (in_log) {
		char line[1100];
		snprintf(line, sizeof(line), "atrium: %s\n", message);
		note(j, line);
	}
	drop_start_data(j);
	atr_info("job %lld %s: %s", (long long)j->id, atr_proc_state_name(state), message);
	agent_ship_now(j);
}

static void stage_ctx_of(struct agent_job *j, const struct stage_ops *ops, struct stage_ctx *cx, char *cache,
			 size_t cachelen)
{
	snprintf(cache, cachelen, "%s/cache", j->a->work_dir);
	*cx = (struct stage_ctx){ .loop = j->a->loop,
				  .client = j->a->client,
				  .server = j->a->server,
				  .token = j->token,
				  .job_dir = j->dir,
				  .cache_dir = cache,
				  .job_id = j->id,
				  .ops = ops,
				  .cls = j };
}

/* Starts the process. 0, or < 0 with why (nothing runs). A service keeps what starting
 * needs: it is started again when its process exits. */
int agent_job_start_process(struct agent_job *j, char *why, size_t whylen)
{
	struct agent *a = j->a;
	struct atr_proc_spec spec = { 0 };
	const char **env = NULL;
	char model[1200];
	size_t n = 0, k = 0;
	int rc;

	for (char **e = j->env; e && *e; e++)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env) {
		snprintf(why, whylen, "out of memory");
		return ATR_ENOMEM;
	}
	if (j->model_dir) { /* first: the request's env cannot replace it */
		snprintf(model, sizeof(model), "ATRIUM_MODEL_DIR=%s/model", j->dir);
		env[k++] = model;
	}
	for (size_t i = 0; i < n; i++)
		env[k++] = j->env[i];
	spec.id = j->id;
	spec.argv = j->argv;
	spec.shell = j->shell;
	spec.env = env;
	spec.gpus = j->gpus;
	spec.ngpus = j->ngpus;
	spec.url = a->server;
	spec.token = j->token;
	spec.run_id = j->run_id;
	spec.port = j->svc ? agent_service_port(j) : j->port;
	spec.work_root = a->work_dir;
	spec.shim = a->exe;
	spec.timeout_ms = j->timeout_ms;
	spec.grace_ms = AGENT_KILL_GRACE_MS;
	spec.spool = &j->log;
	rc = atr_proc_start(a->loop, &spec, &proc_ops, j, &j->proc);
	free(env);
	if (rc < 0) {
		j->proc = NULL;
		snprintf(why, whylen, "cannot start job %lld in '%s': %s", (long long)j->id, j->dir, atr_strerror(rc));
		return rc;
	}
	j->phase = AGENT_RUNNING;
	agent_job_pid_file(j, atr_proc_pid(j->proc));
	atr_info("job %lld (attempt %lld) started: pid %d, %d GPU%s", (long long)j->id, (long long)j->attempt,
		 (int)atr_proc_pid(j->proc), j->ngpus, j->ngpus == 1 ? "" : "s");
	if (j->svc)
		agent_service_started(j);
	else
		drop_start_data(j);
	return 0;
}

static void on_fetched(void *cls, int rc, const char *message)
{
	struct agent_job *j = cls;
	char why[300];

	stage_free(j->stage);
	j->stage = NULL;
	if (rc < 0) {
		agent_job_finish(j, ATR_PROC_FAILED, message, true);
		return;
	}
	if (agent_job_start_process(j, why, sizeof(why)) < 0)
		agent_job_finish(j, ATR_PROC_FAILED, why, true);
}

static void on_uploaded(void *cls, int rc, const char *message)
{
	struct agent_job *j = cls;

	stage_free(j->stage);
	j->stage = NULL;
	if (rc < 0)
		agent_job_finish(j, ATR_PROC_FAILED, message, true);
	else
		agent_job_finish(j, ATR_PROC_SUCCEEDED, atr_proc_message(j->proc), false);
}

static void on_output(void *cls, struct atr_proc *p)
{
	(void)p;
	agent_ship_soon(cls);
}

static void on_done(void *cls, struct atr_proc *p)
{
	struct agent_job *j = cls;
	struct stage_ctx cx;
	char cache[1100];

	agent_job_pid_file(j, 0);
	if (j->svc && agent_service_exited(j))
		return; /* a service runs until it is cancelled: started again later */
	if (atr_proc_state(p) != ATR_PROC_SUCCEEDED || !j->upload_outputs) {
		agent_job_finish(j, atr_proc_state(p), atr_proc_message(p), false);
		return;
	}
	atr_info("job %lld succeeded: uploading its outputs", (long long)j->id);
	j->phase = AGENT_UPLOADING;
	stage_ctx_of(j, &upload_ops, &cx, cache, sizeof(cache));
	if (stage_upload(&cx, &j->stage) < 0) {
		j->stage = NULL;
		agent_job_finish(j, ATR_PROC_FAILED, "could not upload its outputs: out of memory", true);
	}
}

/* WORK_DIR/jobs/<id> with a fresh log. A folder left by an earlier run of this job id (an
 * earlier attempt) is moved aside, so none of its files pass for this run's inputs or
 * outputs. */
static int make_folder(struct agent_job *j)
{
	struct agent *a = j->a;
	struct stat st;
	char path[1200];

	snprintf(j->dir, sizeof(j->dir), "%s/jobs/%lld", a->work_dir, (long long)j->id);
	if (lstat(j->dir, &st) == 0) {
		snprintf(path, sizeof(path), "%s.before-%lld", j->dir, (long long)atr_now_ms());
		if (rename(j->dir, path) < 0) {
			atr_warn("job %lld: cannot move the old '%s' aside: %s", (long long)j->id, j->dir,
				 strerror(errno));
			return ATR_EIO;
		}
		atr_info("job %lld: the folder of an earlier run is now '%s'", (long long)j->id, path);
	}
	if (atr_mkdirs(j->dir, 0750) < 0)
		return ATR_EIO;
	snprintf(path, sizeof(path), "%s/log", j->dir);
	return atr_spool_open(&j->log, path, 0);
}

/* Checks the request into j: 0, or an atr_err with field and why. */
static int accept_request(struct agent *a, const json_t *body, struct agent_job *j, struct stage_plan **plan,
			  char *field, size_t fieldlen, char *why, size_t whylen)
{
	int rc;

	j->id = atr_json_int(body, "id", 0);
	j->run_id = atr_json_int(body, "run_id", 0);
	j->attempt = atr_json_int(body, "attempt", 1);
	j->port = (int)atr_json_int(body, "port", 0);
	j->timeout_ms = (uint64_t)atr_json_int(body, "timeout_s", 0) * 1000;
	j->upload_outputs = atr_json_bool(body, "upload_outputs", false);
	if (!strcmp(atr_json_str(body, "kind", "training"), "service")) {
		/* a service never ends by itself: no time limit, nothing to upload */
		j->timeout_ms = 0;
		j->upload_outputs = false;
		if ((rc = agent_service_new(j, json_object_get(body, "service"), field, fieldlen, why, whylen)) < 0)
			return rc;
	}
	if (agent_job_find(a, j->id))
		return agent_refuse(field, fieldlen, "id", why, whylen, ATR_ECONFLICT,
				    "job %lld is already on this worker", (long long)j->id);
	rc = command_of(json_object_get(body, "command"), &j->argv, &j->shell, field, fieldlen, why, whylen);
	if (rc == 0)
		rc = gpus_of(a, json_object_get(body, "gpus"), j, field, fieldlen, why, whylen);
	if (rc == 0)
		rc = env_of(json_object_get(body, "env"), &j->env, field, fieldlen, why, whylen);
	if (rc == 0)
		rc = stage_plan_parse(json_object_get(body, "downloads"), plan, field, fieldlen, why, whylen);
	if (rc < 0)
		return rc;
	j->model_dir = stage_plan_has_model(*plan);
	j->token = atr_strdup(atr_json_str(body, "token", ""));
	j->req = json_incref((json_t *)body); /* argv and shell point into it */
	if (!j->token)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	return 0;
}

int agent_job_start(struct agent *a, const json_t *body, struct agent_job **out, char *field, size_t fieldlen,
		    char *why, size_t whylen)
{
	struct agent_job *j;
	struct stage_plan *plan = NULL;
	struct stage_ctx cx;
	char cache[1100];
	int rc;

	field[0] = 0;
	if (a->njobs >= AGENT_MAX_JOBS)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ECONFLICT,
				    "this worker already runs %d jobs", a->njobs);
	j = calloc(1, sizeof(*j));
	if (!j)
		return agent_refuse(field, fieldlen, NULL, why, whylen, ATR_ENOMEM, "out of memory");
	j->a = a;
	j->log.fd = -1;
	uv_timer_init(a->loop, &j->timer); /* first: staging may write log lines at once */
	j->timer.data = j;
	rc = accept_request(a, body, j, &plan, field, fieldlen, why, whylen);
	if (rc == 0 && (rc = make_folder(j)) < 0)
		agent_refuse(field, fieldlen, NULL, why, whylen, rc, "cannot prepare job %lld in '%s/jobs': %s",
			     (long long)j->id, a->work_dir, atr_strerror(rc));
	if (rc == 0 && plan) {
		j->phase = AGENT_PREPARING;
		stage_ctx_of(j, &fetch_ops, &cx, cache, sizeof(cache));
		rc = stage_fetch(&cx, plan, &j->stage); /* takes the plan */
		plan = NULL;
		if (rc < 0)
			agent_refuse(field, fieldlen, NULL, why, whylen, rc, "out of memory");
	} else if (rc == 0) {
		rc = agent_job_start_process(j, why, whylen);
	}
	stage_plan_free(plan);
	if (rc < 0) {
		stage_free(j->stage);
		j->stage = NULL;
		uv_timer_stop(&j->timer);
		uv_close((uv_handle_t *)&j->timer, job_timer_closed);
		return rc;
	}
	j->next = a->jobs;
	a->jobs = j;
	a->njobs++;
	if (j->phase == AGENT_PREPARING)
		atr_info("job %lld (attempt %lld) accepted: fetching its inputs", (long long)j->id,
			 (long long)j->attempt);
	*out = j;
	return 0;
}

json_t *agent_job_json(const struct agent_job *j)
{
	json_t *gpus = json_array(), *o;
	char ts[40];

	for (int i = 0; gpus && i < j->ngpus; i++)
		json_array_append_new(gpus, json_integer(j->gpus[i]));
	if (j->proc)
		atr_time_format(atr_proc_started_at(j->proc), ts, sizeof(ts));
	o = json_pack("{s:I, s:o, s:I, s:s, s:o, s:o, s:o, s:I, s:I, s:o}", "id", (json_int_t)j->id, "run_id",
		      j->run_id ? json_integer(j->run_id) : json_null(), "attempt", (json_int_t)j->attempt, "state",
		      agent_job_state_name(j), "pid", j->proc ? json_integer(atr_proc_pid(j->proc)) : json_null(),
		      "gpus", gpus ? gpus : json_array(), "started_at", j->proc ? json_string(ts) : json_null(),
		      "log_bytes", (json_int_t)j->log.total, "log_shipped", (json_int_t)j->acked, "message",
		      j->phase == AGENT_ENDED ? json_string(j->message) : json_null());
	if (o && j->svc)
		json_object_set_new(o, "service", agent_service_json(j));
	return o;
}

void agent_job_cancel(struct agent_job *j)
{
	switch (j->phase) {
	case AGENT_PREPARING:
	case AGENT_UPLOADING:
		stage_free(j->stage);
		j->stage = NULL;
		agent_job_finish(j, ATR_PROC_CANCELLED,
				 j->phase == AGENT_PREPARING ? "cancelled while fetching its inputs"
							     : "cancelled while uploading its outputs",
				 true);
		break;
	case AGENT_RUNNING:
		if (agent_service_waiting(j)) /* between two runs: nothing to stop */
			agent_job_finish(j, ATR_PROC_CANCELLED, "cancelled", true);
		else
			atr_proc_cancel(j->proc);
		break;
	case AGENT_ENDED:
		break;
	}
}

bool agent_job_fence(struct agent_job *j, const char *line, const char *message, uint64_t kill_ms)
{
	switch (j->phase) {
	case AGENT_PREPARING: /* it would start once its inputs are in */
		stage_free(j->stage);
		j->stage = NULL;
		agent_job_finish(j, ATR_PROC_CANCELLED, message, true);
		return true;
	case AGENT_RUNNING:
		if (agent_service_waiting(j)) { /* between two runs of a service: nothing runs */
			agent_job_finish(j, ATR_PROC_CANCELLED, message, true);
			return true;
		}
		note(j, line);
		atr_proc_stop(j->proc, kill_ms, message);
		return true;
	case AGENT_UPLOADING: /* its process ended: nothing runs */
	case AGENT_ENDED:
		break;
	}
	return false;
}

void agent_jobs_cancel_all(struct agent *a)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		agent_job_cancel(j);
}

void agent_jobs_cancel_preparing(struct agent *a)
{
	for (struct agent_job *j = a->jobs; j; j = j->next)
		if (j->phase == AGENT_PREPARING) {
			atr_info("job %lld: the worker stops: cancelled before it started", (long long)j->id);
			agent_job_cancel(j);
		} else if (j->svc && j->phase == AGENT_RUNNING) {
			atr_info("job %lld: the worker stops: the service is stopped (the server places it elsewhere)",
				 (long long)j->id);
			agent_job_cancel(j);
		}
}

void agent_jobs_drop_all(struct agent *a)
{
	while (a->jobs) {
		atr_warn("job %lld: giving up on shipping its log and report", (long long)a->jobs->id);
		agent_job_remove(a->jobs);
	}
}
