/*
 * test_crash.c: crash trials. A daemon under a mixed write load (runs, metric batches, dataset
 * files, dataset commits, model versions and their files) is killed with SIGKILL at a random
 * moment; every write it acknowledged (2xx) goes into a ledger. After each kill the daemon
 * must start again on the same data dir, PRAGMA integrity_check must answer ok, and every
 * acknowledged write of the ledger must be there, byte for byte (a write in flight at the
 * kill may or may not be: metric counts are checked between acknowledged and acknowledged
 * plus in flight).
 *
 * CRASH_TRIALS (default 4: `make test`), CRASH_SEED (default: the time, printed) and
 * CRASH_MAX_MS (the latest kill after the load starts, default 1500) shape it; `make torture`
 * runs it with CRASH_TRIALS=100 (TORTURE_TRIALS). The last line gives the figures.
 */
#include "fixtures.h"
#include "harness.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define P "/api/v1/projects/crash"
#define DS P "/datasets/d/versions"
#define MV P "/models/m/versions"
#define PTS 50 /* points per metric batch */

static struct h_server S;

enum kind { RUN, FILE_DS, FILE_MV, MODEL_VERSION, DS_COMMIT };

struct entry {
	enum kind kind;
	int64_t id;	  /* run id, model version, dataset version */
	int64_t acked;	  /* RUN: metric points acknowledged */
	int64_t inflight; /* RUN: points sent when the daemon died */
	char path[160];	  /* files: the URL */
	size_t len;
	unsigned seed; /* files: the content */
	int trial;
};

static struct {
	struct entry *e;
	size_t n, cap;
	long acked_writes, unacked, kills, checked;
} L;

static struct entry *ledger_add(enum kind k, int trial)
{
	if (L.n == L.cap) {
		L.cap = L.cap ? L.cap * 2 : 256;
		L.e = realloc(L.e, L.cap * sizeof(*L.e));
		assert_non_null(L.e);
	}
	memset(&L.e[L.n], 0, sizeof(L.e[0]));
	L.e[L.n].kind = k;
	L.e[L.n].trial = trial;
	return &L.e[L.n++];
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void content(unsigned seed, size_t len, unsigned char *out)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (unsigned char)x;
	}
}

/* A request of the load: the status (0: the daemon is gone), the answer's "id"/"version". */
static long load_send(const char *method, const char *path, const void *data, size_t len, const char *ct, int64_t *num,
		      const char *field)
{
	const char *hdr[] = { ct, NULL };
	char *body = NULL;
	long st = f_send(&S, method, path, S.admin_token, data, len, ct ? hdr : NULL, &body);
	if (st >= 200 && st < 300)
		L.acked_writes++;
	if (num && st >= 200 && st < 300) {
		json_t *j = json_loads(body, 0, NULL);
		*num = json_integer_value(json_object_get(j, field));
		json_decref(j);
	}
	free(body);
	return st;
}

#define JSON_CT "Content-Type: application/json"

/* Per trial: a fresh dataset draft and model draft, then writes until the daemon dies. */
struct load {
	int trial;
	int64_t dsv, mv;
	int nfiles;
};

static bool op_run(struct load *ld)
{
	int64_t id = 0;
	char body[64];
	int n = snprintf(body, sizeof(body), "{\"name\":\"t%d\"}", ld->trial);
	long st = load_send("POST", P "/runs", body, (size_t)n, JSON_CT, &id, "id");
	if (st == 201)
		ledger_add(RUN, ld->trial)->id = id;
	return st != 0;
}

static bool op_metrics(struct load *ld)
{
	struct entry *runs[64];
	size_t nr = 0;
	char body[PTS * 64 + 32], path[80];
	size_t n = 0;
	long st;

	for (size_t i = L.n; i-- > 0 && nr < 64;)
		if (L.e[i].kind == RUN && L.e[i].trial == ld->trial)
			runs[nr++] = &L.e[i];
	if (!nr)
		return op_run(ld);
	struct entry *r = runs[(size_t)rand() % nr];
	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"metrics\":[");
	for (int i = 0; i < PTS; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"key\":\"loss\",\"value\":%d.5}", i ? "," : "",
				      rand() % 1000);
	n += (size_t)snprintf(body + n, sizeof(body) - n, "]}");
	snprintf(path, sizeof(path), "/api/v1/runs/%lld/metrics", (long long)r->id);
	r->inflight = PTS;
	st = load_send("POST", path, body, n, JSON_CT, NULL, NULL);
	if (st == 200) {
		r->acked += PTS;
		r->inflight = 0;
	}
	return st != 0;
}

static bool op_file(struct load *ld, bool model)
{
	size_t len = 1 + (size_t)rand() % 65536;
	unsigned seed = (unsigned)rand();
	unsigned char *data = malloc(len);
	char path[160];
	long st;

	if (model ? !ld->mv : !ld->dsv) {
		free(data);
		return true;
	}
	assert_non_null(data);
	content(seed, len, data);
	snprintf(path, sizeof(path), "%s/%lld/files/t%d/f%d.bin", model ? MV : DS,
		 (long long)(model ? ld->mv : ld->dsv), ld->trial, ld->nfiles++);
	st = load_send("PUT", path, data, len, "Content-Type: application/octet-stream", NULL, NULL);
	free(data);
	if (st == 201 || st == 200) {
		struct entry *e = ledger_add(model ? FILE_MV : FILE_DS, ld->trial);
		snprintf(e->path, sizeof(e->path), "%s", path);
		e->len = len;
		e->seed = seed;
	}
	return st != 0;
}

static bool op_model_version(struct load *ld)
{
	int64_t v = 0;
	long st = load_send("POST", MV, "{}", 2, JSON_CT, &v, "version");
	if (st == 201) {
		ledger_add(MODEL_VERSION, ld->trial)->id = v;
		ld->mv = v;
	}
	return st != 0;
}

static bool op_commit(struct load *ld)
{
	char path[120];
	int64_t v = 0;
	long st;

	if (!ld->dsv)
		return true;
	snprintf(path, sizeof(path), DS "/%lld/commit", (long long)ld->dsv);
	st = load_send("POST", path, "{}", 2, JSON_CT, NULL, NULL);
	if (st == 0)
		return false;
	if (st == 200)
		ledger_add(DS_COMMIT, ld->trial)->id = ld->dsv;
	ld->dsv = 0;
	st = load_send("POST", DS, "{}", 2, JSON_CT, &v, "version");
	if (st == 201)
		ld->dsv = v;
	return st != 0;
}

/* One write of the mix; false once the daemon is gone. */
static bool op(struct load *ld)
{
	int r = rand() % 100;
	bool alive;

	if (r < 15)
		alive = op_run(ld);
	else if (r < 55)
		alive = op_metrics(ld);
	else if (r < 75)
		alive = op_file(ld, false);
	else if (r < 85)
		alive = op_file(ld, true);
	else if (r < 95)
		alive = op_model_version(ld);
	else
		alive = op_commit(ld);
	if (!alive)
		L.unacked++;
	return alive;
}

/* ---- checks after the restart ---- */

static void check_entry(struct entry *e)
{
	char path[200], *body = NULL;
	long st;

	L.checked++;
	switch (e->kind) {
	case RUN:
		snprintf(path, sizeof(path), "/api/v1/runs/%lld/metrics/loss", (long long)e->id);
		st = f_send(&S, "GET", path, S.admin_token, NULL, 0, NULL, &body);
		if (e->acked == 0 && e->inflight == 0) {
			assert_true(st == 200 || st == 404);
			snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)e->id);
			free(body);
			body = NULL;
			assert_int_equal(f_send(&S, "GET", path, S.admin_token, NULL, 0, NULL, NULL), 200);
		} else {
			json_t *j = json_loads(body, 0, NULL);
			int64_t count = st == 200 ? json_integer_value(json_object_get(j, "count")) : 0;
			json_decref(j);
			if (count < e->acked || count > e->acked + e->inflight) {
				fprintf(stderr, "crash: run %lld has %lld points: %lld acknowledged, %lld in flight\n",
					(long long)e->id, (long long)count, (long long)e->acked,
					(long long)e->inflight);
				fail();
			}
			if (count > e->acked) /* the batch in flight was kept whole: it is acknowledged now */
				e->acked = count;
			e->inflight = 0;
		}
		break;
	case FILE_DS:
	case FILE_MV: {
		unsigned char *want = malloc(e->len);
		assert_non_null(want);
		content(e->seed, e->len, want);
		st = f_send(&S, "GET", e->path, S.admin_token, NULL, 0, NULL, &body);
		if (st != 200 || memcmp(body, want, e->len) != 0) {
			fprintf(stderr, "crash: %s (%zu bytes, acknowledged in trial %d): %ld\n", e->path, e->len,
				e->trial, st);
			fail();
		}
		free(want);
		break;
	}
	case MODEL_VERSION:
		snprintf(path, sizeof(path), MV "/%lld", (long long)e->id);
		assert_int_equal(f_send(&S, "GET", path, S.admin_token, NULL, 0, NULL, NULL), 200);
		break;
	case DS_COMMIT: {
		snprintf(path, sizeof(path), DS "/%lld", (long long)e->id);
		st = f_send(&S, "GET", path, S.admin_token, NULL, 0, NULL, &body);
		json_t *j = json_loads(body, 0, NULL);
		assert_int_equal(st, 200);
		assert_string_equal(json_string_value(json_object_get(j, "state")), "committed");
		json_decref(j);
		break;
	}
	}
	free(body);
}

static void check_integrity(void)
{
	char path[400];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "file:%s/atrium.db?mode=ro", S.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		fprintf(stderr, "crash: integrity_check: %s\n", sqlite3_column_text(st, 0));
		fail();
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The killer: a child that sleeps, then SIGKILLs the daemon. */
static pid_t killer(pid_t victim, long ms)
{
	pid_t k = fork();
	assert_true(k >= 0);
	if (k == 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		kill(victim, SIGKILL);
		_exit(0);
	}
	return k;
}

static void trial(int t, long max_ms)
{
	struct load ld = { .trial = t };
	int st;
	pid_t k;

	long st0 = load_send("POST", DS, "{}", 2, JSON_CT, &ld.dsv, "version");
	if (st0 != 201)
		fprintf(stderr, "crash: draft: %ld\n", st0);
	assert_true(st0 == 201);
	assert_true(op_model_version(&ld));
	k = killer(S.pid, 20 + rand() % max_ms);
	while (op(&ld))
		;
	assert_int_equal(waitpid(k, &st, 0), k);
	assert_int_equal(h_server_stop_unchecked(&S, SIGKILL), 128 + SIGKILL);
	L.kills++;
	h_server_restart(&S, NULL);
	check_integrity();
	for (size_t i = 0; i < L.n; i++)
		if (L.e[i].trial == t || t % 10 == 9)
			check_entry(&L.e[i]);
}

static void test_crash_trials(void **state)
{
	long trials = env_long("CRASH_TRIALS", 4), max_ms = env_long("CRASH_MAX_MS", 1500);
	unsigned seed = (unsigned)env_long("CRASH_SEED", (long)time(NULL));
	(void)state;

	printf("crash: %ld trials, seed %u (CRASH_SEED), kills within %ld ms\n", trials, seed, max_ms);
	srand(seed);
	json_decref(h_call(&S, "POST", "/api/v1/projects", S.admin_token, "{\"name\":\"crash\"}", 201));
	json_decref(h_call(&S, "POST", P "/datasets", S.admin_token, "{\"name\":\"d\"}", 201));
	json_decref(h_call(&S, "POST", P "/models", S.admin_token, "{\"name\":\"m\"}", 201));
	for (int t = 0; t < trials; t++)
		trial(t, max_ms < 1 ? 1 : max_ms);
	/* the whole ledger once more, at the end */
	for (size_t i = 0; i < L.n; i++)
		check_entry(&L.e[i]);
	printf("crash: %ld kills, %ld acknowledged writes, %ld checks, 0 lost, integrity ok, %ld restarts ok "
	       "(writes in flight at a kill: %ld)\n",
	       L.kills, L.acked_writes, L.checked, L.kills, L.unacked);
	free(L.e);
}

static int setup(void **state)
{
	(void)state;
	h_server_start(&S, NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_crash_trials) };
	return f_finish(&S, cmocka_run_group_tests(tests, setup, NULL));
}
