#ifndef ATRIUM_LAUNCHER_H
#define ATRIUM_LAUNCHER_H
/*
 * launcher.h: running a launcher (src/jobs/launcher.c). One function turns a launcher version
 * and the values a caller gives into a submitted job with its tracked run; the REST API
 * (POST /api/v1/projects/{p}/launchers/{name}/runs) and the sweeps (one call per trial) both
 * use it. It does no access checks: the caller decided that the submitter may run the launcher.
 *
 * What it does, in order:
 *   1. checks the values against the version's parameters and fills in the defaults
 *      (atr_launch_values: 400 naming "values.NAME");
 *   2. resolves dataset_version values to committed versions of the project's datasets (each
 *      becomes an input of the job, "as" the parameter's name, so its files are staged in
 *      $ATRIUM_INPUT_DIR/NAME and the job's token may read it) and model_version values to
 *      versions of its models (the first becomes the job's model when the spec names none);
 *      values are recorded resolved ("data:latest" -> "data:3");
 *   3. substitutes {{name}} in the spec's command and env (atrium/launch_params.h: quoted as one
 *      shell word in a string command, one argv word in an array command);
 *   4. checks that some registered worker could run it (else ATR_EUNPROCESSABLE, "resources");
 *   5. submits it through atr_engine_submit, in one transaction with its run (named after the
 *      launcher unless run_name is given; params: the values as strings; tags "launcher",
 *      "launcher_version"), the launcher_jobs row (launcher, version, values) and what also()
 *      adds (a sweep's trial row).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct atr_engine;
struct atr_store;

/* A launcher version, as the store gives it (everything borrowed). */
struct atr_launcher_ver {
	int64_t launcher_id, project_id, team_id;
	const char *name; /* the launcher's name */
	int64_t version;
	const json_t *spec;	  /* the job spec: the body of POST .../jobs, with {{name}} placeholders */
	const json_t *parameters; /* the typed parameters (array) */
};

struct atr_launch_req {
	const struct atr_launcher_ver *ver;
	const json_t *values; /* {name: value} (borrowed, may be NULL): missing ones take their default */
	int64_t user_id;      /* who runs it (the job's and the run's creator) */
	const char *run_name; /* NULL: the launcher's name */
	const json_t *tags;   /* more run tags (borrowed, may be NULL): a sweep's id */
	/* Whether a dataset version does not exist for the submitter (a competition's hidden set):
	 * NULL: every version exists. */
	bool (*dsv_hidden)(void *cls, int64_t dsv_id);
	void *hidden_cls;
	/* More rows in the submitting transaction (may be NULL): as atr_job_submit.also. */
	int (*also)(struct atr_store *s, int64_t job_id, void *cls);
	void *also_cls;
};

struct atr_launch_result {
	int64_t job_id, run_id;
	json_t *values; /* the values it ran with, resolved (new reference: the caller decrefs) */
	/* On failure: the field to name ("values.lr", "resources") and why, for the error reply. */
	char field[160];
	char msg[320];
};

/*
 * Submits a job from a launcher version. 0, or ATR_EINVAL (bad values: field, msg),
 * ATR_EUNPROCESSABLE (no worker could ever run it: field "resources", msg), ATR_ENOMEM,
 * ATR_EDB (msg says what could not be done). On success res->values must be released with
 * json_decref; on failure it is NULL.
 */
int atr_launcher_submit(struct atr_engine *e, struct atr_store *s, const struct atr_launch_req *q,
			struct atr_launch_result *res);

#endif
