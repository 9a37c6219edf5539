#ifndef ATRIUM_STORE_STATS_H
#define ATRIUM_STORE_STATS_H
/*
 * store_stats.h: adoption figures for the admin dashboard (src/store/stats.c), computed in
 * SQL over the tables that exist: counts of users, teams, tokens, projects, datasets, models,
 * pending promotions, workers and their GPUs, jobs by state, the queue, GPU-hours of the week
 * by team, and per time bucket the distinct active users, the mutating requests recorded in
 * the audit log, the jobs submitted and the runs created.
 *
 * Later phases add their own figures (deployments) as further keys of the totals object and
 * further columns of the series; callers must not assume the set of keys is closed.
 */
#include <stdint.h>
#include <jansson.h>

#include "atrium/store.h"

#define ATR_STATS_DAY_MS (24LL * 3600 * 1000)
#define ATR_STATS_WEEK_MS (7 * ATR_STATS_DAY_MS)
/* The most buckets one series may have (a year of days, or about 19 years of weeks). */
#define ATR_STATS_MAX_BUCKETS 1000

/*
 * The start of the bucket (UTC day, or ISO week starting Monday 00:00 UTC) that holds ms.
 * width_ms is ATR_STATS_DAY_MS or ATR_STATS_WEEK_MS; ms must be >= 0.
 */
int64_t atr_stats_bucket_start(int64_t ms, int64_t width_ms);

/*
 * Totals now, as a new JSON object:
 *   {"users": {"total", "admins", "disabled"}, "teams": {"total"},
 *    "tokens": {"active", "sessions"}, "projects": {"total", "archived"},
 *    "datasets": {"total", "versions"}, "models": {"total", "versions"},
 *    "promotions": {"pending"}, "workers": {"online", "offline", "schedulable"},
 *    "gpus": {"total", "busy", "in_use"},
 *    "jobs": {"total", "queued", "dispatched", "running", "succeeded", "failed", "cancelled", "lost"},
 *    "queue": {"length", "oldest": {"id", "project", "name", "priority", "submitted_at", "queued_at",
 *              "pending_reason"} | null},
 *    "gpu_hours": {"since", "total", "by_team": [{"team" (null: no team), "hours", "jobs"}]}}
 * admins counts enabled admins; tokens.active counts API tokens of kind "user" neither
 * revoked nor expired at now_ms, tokens.sessions the dashboard sessions alive at now_ms.
 * projects.total includes the archived ones; versions count drafts too. workers.schedulable
 * counts online workers neither cordoned nor draining; gpus counts the GPUs of online
 * workers as they last reported them, busy those used by processes Atrium did not start,
 * in_use the GPUs held by dispatched and running jobs. queue.length counts queued jobs, and
 * oldest is the one queued longest ago (by queued_at: a requeued job starts waiting again).
 * gpu_hours covers the ISO week holding now_ms (since: its Monday): each job adds its GPUs
 * times the overlap of [started_at, ended_at, or now_ms while running] with the week; teams
 * are ordered by hours, most first; a job's team is its project's team when it was submitted.
 * NULL with *err (ATR_EDB, ATR_ENOMEM) on failure.
 */
json_t *atr_store_stats_totals(struct atr_store *s, int64_t now_ms, int *err);

/*
 * Appends to arr one object per bucket from since_ms (a bucket start) while the bucket
 * starts before until_ms, zero-filled:
 *   {"bucket_start": RFC 3339, "active_users": distinct users who made a mutating request,
 *    "requests": mutating requests (audit log rows, any actor, any status),
 *    "jobs": jobs submitted (by created_at), "runs": runs created (jobs' runs included),
 *    "gpu_hours": GPU time in the bucket, "gpu_hours_by_team": [{"team", "hours"}],
 *    "gpu_hours_by_worker": [{"worker", "hours"}] (groups with none left out)}
 * At most ATR_STATS_MAX_BUCKETS objects. 0 or ATR_EDB / ATR_ENOMEM.
 */
int atr_store_stats_series(struct atr_store *s, int64_t since_ms, int64_t until_ms, int64_t width_ms, json_t *arr);

#endif
