"""bench/mlflow_seed.py: fills the real MLflow server's SQLite store with RUNS runs shaped as
bench/seed_runs.c shapes Atrium's (20 params, p00 one of 10 values; 10 metrics m0..m9 with one
point each), straight into its tables (the server is idle; one HTTP request per run would take
longer than the benchmark), so both servers answer runs/search over the same data.
Usage: mlflow_seed.py DB_PATH EXPERIMENT_ID RUNS      Prints: runs= seconds=
"""
import random
import sqlite3
import sys
import time
import uuid

db, exp, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.time()
rng = random.Random(42)
con = sqlite3.connect(db, timeout=30)
base = 1700000000000
runs, params, metrics, latest, tags = [], [], [], [], []
for i in range(n):
    rid = uuid.uuid4().hex
    runs.append((rid, f"run-{i}", "LOCAL", "", "", "bench", "FINISHED", base + i * 1000, base + i * 1000 + 1,
                 None, "", "active", f"mlflow-artifacts:/{exp}/{rid}/artifacts", exp))
    params.append(("p00", f"v{i % 10}", rid))
    params.append(("p01", f"v{i % 100}", rid))
    params.append(("p02", f"r{i}", rid))
    for p in range(3, 20):
        params.append((f"p{p:02d}", f"v{rng.randrange(1000)}", rid))
    for m in range(10):
        v = rng.random()
        metrics.append((f"m{m}", v, base + i * 1000, rid, 0, 0))
        latest.append((f"m{m}", v, base + i * 1000, 0, 0, rid))
    tags.append(("mlflow.runName", f"run-{i}", rid))
con.executemany("INSERT INTO runs(run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
                "start_time, end_time, deleted_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
con.executemany("INSERT INTO params(key, value, run_uuid) VALUES (?,?,?)", params)
con.executemany("INSERT INTO metrics(key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", metrics)
con.executemany("INSERT INTO latest_metrics(key, value, timestamp, step, is_nan, run_uuid) VALUES (?,?,?,?,?,?)",
                latest)
con.executemany("INSERT INTO tags(key, value, run_uuid) VALUES (?,?,?)", tags)
con.commit()
con.close()
print(f"runs={n} seconds={time.time() - t0:.2f}")
