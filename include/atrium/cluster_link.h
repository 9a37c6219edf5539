#ifndef ATRIUM_CLUSTER_LINK_H
#define ATRIUM_CLUSTER_LINK_H
/*
 * cluster_link.h: the state of the link to each Slurm cluster's slurmrestd, as the API and
 * the dashboard show it (src/dispatch/cluster_link.c). A read asks slurmrestd's /ping in the
 * background (through the loop's HTTP client, never blocking) when the last check is older
 * than ATR_CLUSTER_LINK_MAX_AGE_S, and answers at once with what was last seen: when
 * slurmrestd last answered, and the error of the last check that failed.
 */
#include <jansson.h>
#include <stdint.h>

#define ATR_CLUSTER_LINK_MAX_AGE_S 5

struct atr_slurm;
struct atr_cluster_links;

int atr_cluster_links_new(struct atr_slurm *s, struct atr_cluster_links **out);
/* Cancels the checks in flight. */
void atr_cluster_links_free(struct atr_cluster_links *ls);
/*
 * Sets o's "slurmrestd": {"state": "unknown" | "ok" | "error", "checked_at", "last_contact_at",
 * "error"} (times as the API writes them, null when never), and starts a new check when due.
 */
void atr_cluster_link_json(struct atr_cluster_links *ls, int64_t cluster_id, json_t *o);
/* The cluster was deleted: forget its link. */
void atr_cluster_link_forget(struct atr_cluster_links *ls, int64_t cluster_id);

#endif
