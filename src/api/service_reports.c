/*
 * service_reports.c: what workers say about the services (deployment replicas) they run:
 * POST /api/v1/workers/jobs/{id}/service on every change of state (starting, ready,
 * restarting) for low latency, and the same entries in each heartbeat's "services" (see
 * workers.c), which brings the controller up to date after a restart or a lost report.
 * Accepted only from the worker the job is placed on. Telemetry: not audited.
 */
#include "api.h"
#include "atrium/deploy.h"
#include "atrium/engine.h"
#include "atrium/util.h"

/* One service's state; in a heartbeat each entry also names its job ("id"). */
#define SERVICE_FIELDS                                                                               \
	{ "attempt", ATR_F_INT, ATR_FF_REQUIRED, 1, 1000000, NULL, NULL },                           \
		{ "seq", ATR_F_INT, 0, 0, INT64_MAX, NULL, NULL },                                   \
		{ "state", ATR_F_STRING, ATR_FF_REQUIRED, 0, 0, "starting|ready|restarting", NULL }, \
		{ "port", ATR_F_INT, ATR_FF_NULLABLE, 0, 65535, NULL, NULL },                        \
		{ "restarts", ATR_F_INT, 0, 0, INT32_MAX, NULL, NULL },                              \
	{                                                                                            \
		"message", ATR_F_STRING, 0, 0, 1024, NULL, NULL                                      \
	}

const struct atr_field api_service_report_schema[] = {
	SERVICE_FIELDS,
	{ 0 },
};

const struct atr_field api_service_state_schema[] = {
	{ "id", ATR_F_INT, ATR_FF_REQUIRED, 1, INT64_MAX, NULL, NULL },
	SERVICE_FIELDS,
	{ 0 },
};

void api_worker_service_report(struct atr_req *r)
{
	int64_t job_id;

	if (api_id_or_reply(r, "id", "job", &job_id) < 0)
		return;
	if (!atr_engine_job_is_on(APP(r)->engine, job_id, atr_req_who(r)->scope_id)) {
		atr_reply_not_found(r, NULL, "job %lld is not this worker's", (long long)job_id);
		return;
	}
	json_object_set_new(atr_req_body(r), "id", json_integer(job_id));
	atr_deploy_service_report(APP(r)->deploy, atr_req_who(r)->scope_id, atr_req_body(r));
	atr_reply_empty(r, 204);
}
