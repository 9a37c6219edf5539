/*
 * cluster_link.c: the link to each cluster's slurmrestd (cluster_link.h). A check is one
 * GET {url}/ping with the cluster's credentials, sent through the backend's own request path
 * (slurm_rest_get), so it sees what the backend sees: a refused connection, a wrong token
 * (401), a slurmrestd that answers. Checks happen only when someone reads the link, at most
 * one per cluster in flight and one per ATR_CLUSTER_LINK_MAX_AGE_S.
 */
#include "atrium/cluster_link.h"
#include "atrium/client.h"
#include "atrium/util.h"
#include "slurm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct link {
	struct link *next;
	int64_t cluster_id;
	int64_t checked_ms, contact_ms; /* 0: never */
	char error[256];		/* of the last check; "" when it succeeded */
	struct atr_xfer *xfer;		/* the check in flight */
	bool pending;			/* a check was started and has not ended */
};

struct atr_cluster_links {
	struct atr_slurm *s;
	struct link *list;
};

int atr_cluster_links_new(struct atr_slurm *s, struct atr_cluster_links **out)
{
	struct atr_cluster_links *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -1;
	ls->s = s;
	*out = ls;
	return 0;
}

static void link_free(struct link *l)
{
	if (l->xfer)
		atr_client_cancel(l->xfer);
	free(l);
}

void atr_cluster_links_free(struct atr_cluster_links *ls)
{
	if (!ls)
		return;
	while (ls->list) {
		struct link *next = ls->list->next;
		link_free(ls->list);
		ls->list = next;
	}
	free(ls);
}

void atr_cluster_link_forget(struct atr_cluster_links *ls, int64_t cluster_id)
{
	for (struct link **pp = ls ? &ls->list : NULL; pp && *pp; pp = &(*pp)->next)
		if ((*pp)->cluster_id == cluster_id) {
			struct link *l = *pp;
			*pp = l->next;
			link_free(l);
			return;
		}
}

static void on_ping(void *cls, const struct atr_client_resp *resp)
{
	struct link *l = cls;

	l->xfer = NULL;
	l->pending = false;
	l->checked_ms = atr_now_ms();
	if (resp->status == 200) {
		l->contact_ms = l->checked_ms;
		l->error[0] = '\0';
	} else if (resp->status == 401 || resp->status == 403) {
		snprintf(l->error, sizeof(l->error), "slurmrestd refused the credentials (HTTP %ld)", resp->status);
	} else if (resp->status) {
		snprintf(l->error, sizeof(l->error), "slurmrestd answered HTTP %ld", resp->status);
	} else {
		snprintf(l->error, sizeof(l->error), "slurmrestd does not answer (%s)",
			 resp->error ? resp->error : "no answer");
	}
}

static struct link *link_get(struct atr_cluster_links *ls, int64_t cluster_id)
{
	struct link *l;

	for (l = ls->list; l; l = l->next)
		if (l->cluster_id == cluster_id)
			return l;
	if (!(l = calloc(1, sizeof(*l))))
		return NULL;
	l->cluster_id = cluster_id;
	l->next = ls->list;
	ls->list = l;
	return l;
}

static void check(struct atr_cluster_links *ls, struct link *l)
{
	struct scl *cl = ls->s ? ls->s->clusters : NULL;

	while (cl && cl->c.id != l->cluster_id)
		cl = cl->next;
	if (!cl) {
		l->checked_ms = atr_now_ms();
		atr_copy(l->error, sizeof(l->error), "the backend does not hold this cluster");
		return;
	}
	if (!cl->secret_at_ms) /* (its secret file is still being read: checked at a later read) */
		return;
	l->pending = true;
	if (slurm_rest_get(cl, "/ping", on_ping, l, &l->xfer) < 0) {
		l->pending = false;
		l->xfer = NULL;
		l->checked_ms = atr_now_ms();
		atr_copy(l->error, sizeof(l->error), "no credentials: the cluster's secret file cannot be read");
	}
}

static json_t *time_or_null(int64_t ms)
{
	char ts[40];

	if (!ms)
		return json_null();
	atr_time_format(ms, ts, sizeof(ts));
	return json_string(ts);
}

void atr_cluster_link_json(struct atr_cluster_links *ls, int64_t cluster_id, json_t *o)
{
	struct link *l = ls ? link_get(ls, cluster_id) : NULL;
	const char *state;

	if (!l)
		return;
	if (!l->pending && atr_now_ms() - l->checked_ms >= ATR_CLUSTER_LINK_MAX_AGE_S * 1000)
		check(ls, l);
	state = !l->checked_ms ? "unknown" : l->error[0] ? "error" : "ok";
	json_object_set_new(o, "slurmrestd",
			    json_pack("{s:s, s:o, s:o, s:o}", "state", state, "checked_at", time_or_null(l->checked_ms),
				      "last_contact_at", time_or_null(l->contact_ms), "error",
				      l->error[0] ? json_string(l->error) : json_null()));
}
