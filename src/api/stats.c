/*
 * stats.c: GET /api/v1/admin/stats, the adoption figures behind the dashboard's overview.
 * Checks the range (since, bucket), then asks the store for totals and the series; the
 * figures themselves are computed in SQL (src/store/stats.c).
 */
#include "api.h"
#include "atrium/store_stats.h"
#include "atrium/util.h"

#include <string.h>

#define DEFAULT_WEEKS 12

const struct atr_qparam api_stats_query[] = {
	{ "bucket", ATR_Q_ENUM, 0, 0, 0, 0, "day|week", "the width of a bucket (default: week)" },
	{ "since", ATR_Q_TIME, 0, 0, 0, 0, NULL, "the first bucket holds this time (default: 12 weeks ago)" },
	{ 0 },
};

/* since and bucket from the query; replies 400 naming the parameter and returns -1. */
static int range_or_reply(struct atr_req *r, int64_t now, int64_t *since, int64_t *width, const char **bucket)
{
	const char *b = atr_req_query(r, "bucket");

	*bucket = b ? b : "week";
	*width = strcmp(*bucket, "day") == 0 ? ATR_STATS_DAY_MS : ATR_STATS_WEEK_MS;
	*since = atr_req_query(r, "since") ? atr_req_qint(r, "since") : now - DEFAULT_WEEKS * ATR_STATS_WEEK_MS;
	if (*since > now) {
		atr_reply_invalid(r, "since", "'since' must not be in the future");
		return -1;
	}
	/* Buckets from the start of since's bucket up to now, counting the current one. */
	if (*since < 0 || (now - atr_stats_bucket_start(*since, *width)) / *width >= ATR_STATS_MAX_BUCKETS) {
		atr_reply_invalid(r, "since", "'since' is too far back: at most %d buckets of a %s",
				  ATR_STATS_MAX_BUCKETS, *bucket);
		return -1;
	}
	*since = atr_stats_bucket_start(*since, *width);
	return 0;
}

void api_admin_stats(struct atr_req *r)
{
	int64_t now = atr_now_ms(), since, width;
	const char *bucket;
	char since_s[40], until_s[40];
	json_t *totals = NULL, *series = NULL;
	int rc = 0;

	if (range_or_reply(r, now, &since, &width, &bucket) < 0)
		return;
	totals = atr_store_stats_totals(STORE(r), now, &rc);
	if (totals && !(series = json_array()))
		rc = ATR_ENOMEM;
	if (series)
		rc = atr_store_stats_series(STORE(r), since, now, width, series);
	if (rc < 0) {
		json_decref(totals);
		json_decref(series);
		atr_reply_err(r, rc, NULL, "could not compute the statistics");
		return;
	}
	atr_time_format(since, since_s, sizeof(since_s));
	atr_time_format(now, until_s, sizeof(until_s));
	atr_reply_json(r, 200,
		       json_pack("{s:s, s:s, s:s, s:o, s:o}", "since", since_s, "until", until_s, "bucket", bucket,
				 "totals", totals, "series", series));
}
