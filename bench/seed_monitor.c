/*
 * seed_monitor.c: a monitored deployment for the drift-report scenario, through the store API
 * and the profile library (the same functions the daemon calls), straight into a stopped
 * daemon's data dir: a reference of 20 features (15 numeric, 5 categorical; 20,000 rows)
 * profiled with 10 bins and up to 20 categories, a deployment "mondep" monitored against it,
 * and 30 days of 5-minute windows ending now holding PREDICTIONS predictions in all, each
 * row's values drawn bin by bin (the live data drifts slowly over the month). What the
 * daemon's capture flush would have written for that traffic; folding a million JSON bodies
 * would only slow the seeding.
 *
 * Usage: seed_monitor DATA_DIR PROJECT PREDICTIONS
 * Prints: windows= predictions= seconds=
 */
#include "common.h"

#include "atrium/json.h"
#include "atrium/profile.h"
#include "atrium/store.h"
#include "atrium/store_datasets.h"
#include "atrium/store_deployments.h"
#include "atrium/store_models.h"
#include "atrium/store_monitoring.h"
#include "atrium/store_projects.h"
#include "atrium/util.h"

#define PROG "seed_monitor"
#define FEATURES 20
#define NUMERIC 15
#define REF_ROWS 20000
#define DAYS 30

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char *reference(void)
{
	size_t cap = (size_t)REF_ROWS * FEATURES * 12 + 4096, n = 0;
	char *s = malloc(cap);

	if (!s)
		bench_die(PROG, "out of memory");
	for (int f = 0; f < FEATURES; f++)
		n += (size_t)snprintf(s + n, cap - n, "%sf%02d", f ? "," : "", f);
	s[n++] = '\n';
	for (int r = 0; r < REF_ROWS; r++) {
		for (int f = 0; f < FEATURES; f++) {
			if (f < NUMERIC)
				n += (size_t)snprintf(s + n, cap - n, "%s%.3f", f ? "," : "",
						      (double)(next_rand() % 100000) / 1000.0 * (f + 1));
			else
				n += (size_t)snprintf(s + n, cap - n, ",c%d", (int)(next_rand() % (unsigned)(5 + f)));
		}
		s[n++] = '\n';
	}
	s[n] = 0;
	return s;
}

static int64_t monitored_deployment(struct atr_store *s, int64_t project_id, int64_t *profile_id)
{
	struct atr_deployment_row row = { 0 };
	struct atr_dataset_version v;
	struct atr_monitor_settings m = { 0 };
	struct atr_profile_spec spec = { .bins = 10, .max_categories = 20 };
	struct atr_profile *p = NULL;
	char *csv = reference(), *text, why[256], settings[] = "{\"bins\":10,\"features\":null,\"max_categories\":20}";
	json_t *pj;
	const char *data[1] = { csv };
	size_t lens[1] = { strlen(csv) };
	int64_t model_id, dataset_id;

	if (atr_store_model_create(s, project_id, "mon", "", NULL, 0, "bench", &model_id) < 0 ||
	    atr_store_dataset_create(s, project_id, "monref", "", NULL, 0, &dataset_id) < 0 ||
	    atr_store_dsv_create(s, dataset_id, "", 0, 0, 0, &v) < 0)
		bench_die(PROG, "cannot create the model and the dataset");
	if (atr_profile_build_mem(data, lens, 1, ATR_PROFILE_CSV, &spec, &p, why, sizeof(why)) < 0)
		bench_die(PROG, "profile: %s", why);
	pj = atr_profile_json(p);
	text = pj ? atr_json_write(pj, NULL) : NULL;
	json_decref(pj);
	m.settings = settings;
	if (!text || atr_store_monitor_profile_put(s, v.id, m.settings, text, profile_id) < 0)
		bench_die(PROG, "cannot store the profile");
	row.project_id = project_id;
	row.model_id = model_id;
	atr_copy(row.name, sizeof(row.name), "mondep");
	row.replicas = 1;
	row.command = json_pack("[s]", "true");
	row.env = json_object();
	row.resources = json_object();
	row.labels = json_object();
	row.traffic = json_array();
	atr_copy(row.health_path, sizeof(row.health_path), "/v2/health/ready");
	atr_copy(row.predict_path, sizeof(row.predict_path), "/predict");
	atr_copy(row.state, sizeof(row.state), "deploying");
	row.timeout_ms = 60000;
	row.rollout_timeout_s = 600;
	row.capture_max_bytes = 65536;
	row.capture_max_rows = 10000;
	if (atr_store_deployment_insert(s, &row) < 0)
		bench_die(PROG, "cannot create the deployment");
	m.deployment_id = row.id;
	m.dataset_version_id = v.id;
	m.profile_id = *profile_id;
	m.updated_at = atr_now_ms();
	atr_copy(m.source, sizeof(m.source), "explicit");
	if (atr_store_monitor_settings_put(s, &m) < 0)
		bench_die(PROG, "cannot store the settings");
	atr_deployment_row_release(&row);
	atr_profile_free(p);
	free(text);
	free(csv);
	return m.deployment_id;
}

/* One window of n predictions: each row's values fall bin by bin, shifted by drift (0..1). */
static void window(const struct atr_profile *p, uint64_t *c, size_t slots, long n, double drift)
{
	memset(c, 0, slots * sizeof(*c));
	c[ATR_LIVE_REQUESTS] = (uint64_t)n;
	c[ATR_LIVE_ROWS] = (uint64_t)n;
	for (size_t f = 0; f < p->nfeat; f++) {
		uint64_t *fc = c + atr_profile_offset(p, f);
		size_t bins = p->f[f].nbins;
		for (long r = 0; r < n; r++) {
			size_t b = (size_t)(next_rand() % bins);
			if ((double)(next_rand() % 1000) < drift * 300)
				b = bins - 1;
			fc[b]++;
			if (next_rand() % 100 == 0)
				fc[bins]++; /* a null now and then */
		}
	}
}

int main(int argc, char **argv)
{
	struct atr_store *s;
	struct atr_project proj;
	int64_t dep, profile_id, windows = (int64_t)DAYS * 86400000 / ATR_MONITOR_WINDOW_MS, end, total;
	uint64_t t0 = bench_now_ns(), *c;
	struct atr_monitor_settings m;
	struct atr_profile *p = NULL;
	json_t *j;
	size_t slots;

	if (argc != 4)
		bench_die(PROG, "usage: seed_monitor DATA_DIR PROJECT PREDICTIONS");
	total = atoll(argv[3]);
	if (atr_store_open(argv[1], 0, &s) < 0 || atr_store_project_find(s, argv[2], &proj) < 0)
		bench_die(PROG, "no store or no project '%s'", argv[2]);
	dep = monitored_deployment(s, proj.id, &profile_id);
	if (atr_store_monitor_settings_get(s, dep, &m) < 0 || !(j = json_loads(m.profile, 0, NULL)) ||
	    atr_profile_from_json(j, &p) < 0)
		bench_die(PROG, "cannot read the profile back");
	slots = atr_profile_slots(p);
	if (!(c = malloc(slots * sizeof(*c))))
		bench_die(PROG, "out of memory");
	end = atr_now_ms() - atr_now_ms() % ATR_MONITOR_WINDOW_MS;
	if (atr_store_begin(s) < 0)
		bench_die(PROG, "cannot begin");
	for (int64_t w = 0; w < windows; w++) {
		long n = (long)((total * (w + 1)) / windows - (total * w) / windows);
		window(p, c, slots, n, (double)w / (double)windows);
		if (atr_store_monitor_counts_add(s, dep, profile_id, end - (windows - w) * ATR_MONITOR_WINDOW_MS, c,
						 slots) < 0)
			bench_die(PROG, "cannot write window %lld", (long long)w);
	}
	if (atr_store_commit(s) < 0)
		bench_die(PROG, "cannot commit");
	printf("windows=%lld predictions=%lld seconds=%.1f\n", (long long)windows, (long long)total,
	       (double)(bench_now_ns() - t0) / 1e9);
	free(c);
	json_decref(j);
	atr_profile_free(p);
	atr_monitor_settings_release(&m);
	atr_store_close(s);
	return 0;
}
