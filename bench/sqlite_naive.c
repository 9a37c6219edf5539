/*
 * sqlite_naive.c: the metric-ingest reference (the denominator Atrium's metrics endpoint is
 * measured against). Raw SQLite from C, the obvious way: one row per point (run, key, step,
 * ts, value), an index on (run, key, step), one prepared INSERT, one transaction per 1,000
 * points, and the pragmas Atrium's store sets (src/store/db.c: WAL, synchronous=NORMAL,
 * foreign_keys=ON, temp_store=MEMORY, cache_size=-16000). The points look like training
 * loops: 4 runs logging 8 keys at each step. Each repetition writes a fresh database; the
 * clock covers the inserts and the last commit, not the open or the schema.
 * Prints: points_per_s= (median) reps= points=
 */
#include "common.h"

#include <sqlite3.h>
#include <unistd.h>

#define PROG "sqlite_naive"
#define BATCH 1000
#define MAX_REPS 32

static const char *const keys[] = { "loss",	"accuracy",	"learning_rate", "grad_norm",
				    "val_loss", "val_accuracy", "samples_per_s", "gpu_util" };

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		bench_die(PROG, "%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
}

static double one_rep(const char *path, long points)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char side[4200];
	uint64_t t0, x = 0x9e3779b97f4a7c15ULL;
	double secs;

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		bench_die(PROG, "cannot open '%s'", path);
	exec(db, "PRAGMA journal_mode=WAL");
	exec(db, "PRAGMA foreign_keys=ON");
	exec(db, "PRAGMA synchronous=NORMAL");
	exec(db, "PRAGMA temp_store=MEMORY");
	exec(db, "PRAGMA cache_size=-16000");
	exec(db, "CREATE TABLE points (run INTEGER NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,"
		 " ts INTEGER NOT NULL, value REAL NOT NULL)");
	exec(db, "CREATE INDEX points_run_key_step ON points (run, key, step)");
	if (sqlite3_prepare_v2(db, "INSERT INTO points (run, key, step, ts, value) VALUES (?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		bench_die(PROG, "prepare: %s", sqlite3_errmsg(db));
	t0 = bench_now_ns();
	exec(db, "BEGIN");
	for (long i = 0; i < points; i++) {
		long step = i / 32;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sqlite3_bind_int64(st, 1, 1 + (i / 8) % 4);
		sqlite3_bind_text(st, 2, keys[i % 8], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, step);
		sqlite3_bind_int64(st, 4, 1767225600000LL + step * 100);
		sqlite3_bind_double(st, 5, (double)(x >> 11) / 9007199254740992.0);
		if (sqlite3_step(st) != SQLITE_DONE)
			bench_die(PROG, "insert: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		if ((i + 1) % BATCH == 0 && i + 1 < points) {
			exec(db, "COMMIT");
			exec(db, "BEGIN");
		}
	}
	exec(db, "COMMIT");
	secs = (double)(bench_now_ns() - t0) / 1e9;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)points / secs;
}

int main(int argc, char **argv)
{
	double rates[MAX_REPS];
	char path[4100];
	long points;
	int reps;

	points = (long)bench_dir_count_reps(PROG, "POINTS", argc, argv, MAX_REPS, &reps);
	snprintf(path, sizeof(path), "%s/naive.db", argv[1]);
	for (int i = 0; i < reps; i++)
		rates[i] = one_rep(path, points);
	printf("points_per_s=%.0f reps=%d points=%ld\n", bench_median(rates, (size_t)reps), reps, points);
	return 0;
}
