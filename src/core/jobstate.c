/* jobstate.c: the legal transitions of a job, as a table. */
#include "atrium/jobstate.h"

#include <string.h>

static const char *const names[ATR_JOB_NSTATES] = { "queued", "dispatched", "running", "succeeded",
						    "failed", "cancelled",  "lost" };

#define Q (1u << ATR_JOB_QUEUED)
#define D (1u << ATR_JOB_DISPATCHED)
#define R (1u << ATR_JOB_RUNNING)
#define S (1u << ATR_JOB_SUCCEEDED)
#define F (1u << ATR_JOB_FAILED)
#define C (1u << ATR_JOB_CANCELLED)
#define L (1u << ATR_JOB_LOST)

/* allowed[from] = the set of states it may move to */
static const unsigned allowed[ATR_JOB_NSTATES] = {
	[ATR_JOB_QUEUED] = D | C | F,
	[ATR_JOB_DISPATCHED] = R | Q | F | C | L,
	[ATR_JOB_RUNNING] = S | F | C | L,
	[ATR_JOB_SUCCEEDED] = 0,
	[ATR_JOB_FAILED] = 0,
	[ATR_JOB_CANCELLED] = 0,
	[ATR_JOB_LOST] = Q | F | C,
};

const char *atr_job_state_name(enum atr_job_state s)
{
	return (unsigned)s < ATR_JOB_NSTATES ? names[s] : "unknown";
}

int atr_job_state_parse(const char *name)
{
	for (int i = 0; name && i < ATR_JOB_NSTATES; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

bool atr_job_state_terminal(enum atr_job_state s)
{
	return s == ATR_JOB_SUCCEEDED || s == ATR_JOB_FAILED || s == ATR_JOB_CANCELLED;
}

bool atr_job_state_active(enum atr_job_state s)
{
	return (unsigned)s < ATR_JOB_NSTATES && !atr_job_state_terminal(s);
}

bool atr_job_transition_ok(enum atr_job_state from, enum atr_job_state to)
{
	if ((unsigned)from >= ATR_JOB_NSTATES || (unsigned)to >= ATR_JOB_NSTATES)
		return false;
	return (allowed[from] >> to) & 1u;
}
