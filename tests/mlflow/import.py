"""`atrium import-mlflow` against the REAL MLflow 2.9.2 tracking server (started here on
127.0.0.1 with a SQLite backend and a local artifact root in a temporary folder): fills it with
the real client, imports (dry run first, then for real), checks the data in Atrium through the
same client, then imports again and checks nothing new was copied. Run by tests/mlflow/run.sh,
which starts the Atrium daemon (ATRIUM, ATRIUM_ADMIN_TOKEN, ATRIUM_BIN, WORK).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ATRIUM = os.environ["ATRIUM"]
ADMIN = os.environ["ATRIUM_ADMIN_TOKEN"]
BIN = os.environ["ATRIUM_BIN"]
WORK = os.environ.get("WORK") or tempfile.mkdtemp()
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
for var in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
    os.environ.pop(var, None)

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

checks = 0


def ok(cond, what):
    global checks
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    checks += 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mlflow():
    port = free_port()
    root = os.path.join(WORK, "mlflow")
    os.makedirs(os.path.join(root, "artifacts"))
    log = open(os.path.join(root, "server.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{root}/db.sqlite", "--serve-artifacts",
         "--artifacts-destination", os.path.join(root, "artifacts")],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(url + "/health", timeout=2).read() == b"OK":
                return proc, url
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    print(open(os.path.join(root, "server.log")).read()[-3000:])
    stop_mlflow(proc)
    sys.exit("the MLflow server did not start")


def stop_mlflow(proc):
    # the server and its gunicorn workers are one process group, ours (start_new_session)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def api(method, path, body=None):
    req = urllib.request.Request(ATRIUM + path, data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Authorization": "Bearer " + ADMIN})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read() or b"null")


def fill(url):
    """A small MLflow history: two experiments, three runs, artifacts, a model with stages."""
    os.environ["MLFLOW_TRACKING_URI"] = url
    c = MlflowClient()
    exp = c.create_experiment("Churn Model", tags={"owner": "ds-team"})
    other = c.create_experiment("Other")
    files = os.path.join(WORK, "files")
    os.makedirs(os.path.join(files, "model", "inner"))
    open(os.path.join(files, "model", "weights.bin"), "wb").write(os.urandom(200_000))
    open(os.path.join(files, "model", "inner", "MLmodel"), "w").write("flavors: {}\n")
    open(os.path.join(files, "report.txt"), "w").write("auc 0.9\n")
    runs = []
    for i, lr in enumerate(("0.01", "0.1")):
        r = c.create_run(exp, run_name=f"lr-{lr}", tags={"mlflow.user": "olduser", "kind": "grid"})
        rid = r.info.run_id
        c.log_param(rid, "lr", lr)
        c.log_batch(rid, metrics=[mlflow.entities.Metric("loss", 1.0 / (s + 1), 1700000000000 + s, s)
                                  for s in range(2500)])
        c.log_metric(rid, "acc", 0.8 + i / 10)
        c.log_artifact(rid, os.path.join(files, "report.txt"))
        c.log_artifacts(rid, os.path.join(files, "model"), "model")
        c.set_terminated(rid, "FINISHED")
        runs.append(rid)
    r = c.create_run(other, run_name="lonely")
    c.log_param(r.info.run_id, "x", "1")
    c.set_terminated(r.info.run_id, "FAILED")
    c.create_registered_model("ChurnModel", description="predicts churn", tags={"domain": "crm"})
    c.create_model_version("ChurnModel", f"runs:/{runs[0]}/model", run_id=runs[0], description="first")
    c.create_model_version("ChurnModel", f"runs:/{runs[1]}/model", run_id=runs[1])
    c.transition_model_version_stage("ChurnModel", "1", "Production")
    c.set_registered_model_alias("ChurnModel", "champion", "2")
    return runs, files


def run_import(url, *extra):
    cmd = [BIN, "import-mlflow", "--from", url, "--team", "crm", "--to", ATRIUM, "--to-token", ADMIN, *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    print(f"$ atrium import-mlflow {' '.join(extra)} -> {p.returncode}")
    print(p.stdout + p.stderr)
    ok(p.returncode == 0, f"import-mlflow {extra} exit status {p.returncode}")
    return p.stdout


# bad arguments and an unreachable server: exit status 2 and a plain message, no crash
p = subprocess.run([BIN, "import-mlflow", "--from", "http://127.0.0.1:9"], capture_output=True, text=True)
ok(p.returncode == 2 and "--team" in p.stderr, f"missing --team: {p.returncode} {p.stderr}")
p = subprocess.run([BIN, "import-mlflow", "--from", "http://127.0.0.1:9", "--team", "x", "--to", ATRIUM,
                    "--to-token", ADMIN], capture_output=True, text=True)
ok(p.returncode == 2 and "127.0.0.1:9" in p.stderr, f"unreachable MLflow: {p.returncode} {p.stderr}")

proc, url = start_mlflow()
try:
    src_runs, files = fill(url)
    api("POST", "/api/v1/teams", {"name": "crm"})

    out = run_import(url, "--dry-run")
    ok("would copy" in out and "runs: would copy 3" in out, "the dry run lists what it would copy")
    os.environ["MLFLOW_TRACKING_URI"] = ATRIUM
    os.environ["MLFLOW_TRACKING_TOKEN"] = ADMIN
    a = MlflowClient()
    ok(a.get_experiment_by_name("Churn Model") is None, "the dry run wrote nothing")

    out = run_import(url)
    ok("runs: copied 3, 0 already there" in out, "three runs copied")
    exp = a.get_experiment_by_name("Churn Model")
    ok(exp is not None and exp.tags.get("owner") == "ds-team", f"experiment and its tags: {exp}")
    project = api("GET", f"/api/v1/projects/{exp.experiment_id}")
    ok("crm" in json.dumps(project.get("team")), f"the project is in --team: {project.get('team')}")
    got = {r.data.tags["atrium.import.source_run"]: r for r in a.search_runs([exp.experiment_id])}
    ok(sorted(got) == sorted(src_runs), f"runs carry their source id: {sorted(got)}")
    for i, src in enumerate(src_runs):
        r = got[src]
        ok(r.info.run_name == f"lr-{('0.01', '0.1')[i]}" and r.info.status == "FINISHED", f"run info: {r.info}")
        ok(r.data.params == {"lr": ("0.01", "0.1")[i]} and r.data.tags["kind"] == "grid", f"run data: {r.data}")
        hist = a.get_metric_history(r.info.run_id, "loss")
        ok(len(hist) == 2500 and sorted((m.step, m.value) for m in hist)[-1] == (2499, 1.0 / 2500),
           f"full metric history: {len(hist)} points")
        ok(abs(r.data.metrics["acc"] - (0.8 + i / 10)) < 1e-12, "last metric value")
    best = got[src_runs[0]].info.run_id
    ok(sorted(x.path for x in a.list_artifacts(best)) == ["model", "report.txt"], "artifacts listed")
    dl = mlflow.artifacts.download_artifacts(run_id=best, artifact_path="model", dst_path=os.path.join(WORK, "dl"))
    ok(open(os.path.join(dl, "weights.bin"), "rb").read() == open(os.path.join(files, "model", "weights.bin"),
                                                                   "rb").read(), "artifact bytes")
    ok(open(os.path.join(dl, "inner", "MLmodel")).read() == "flavors: {}\n", "nested artifact")
    lonely = a.search_runs([a.get_experiment_by_name("Other").experiment_id])
    ok(len(lonely) == 1 and lonely[0].info.status == "FAILED", "the other experiment's run")

    m = a.get_registered_model("ChurnModel")
    ok(m.description == "predicts churn" and m.tags.get("domain") == "crm", f"model: {m}")
    ok(m.aliases.get("champion") == "2", f"aliases: {m.aliases}")
    v1, v2 = a.get_model_version("ChurnModel", "1"), a.get_model_version("ChurnModel", "2")
    ok(v1.current_stage == "Production" and v1.description == "first" and v1.run_id == best, f"version 1: {v1}")
    ok(v2.run_id == got[src_runs[1]].info.run_id, f"version 2 from the second run: {v2}")
    vfiles = api("GET", f"/api/v1/projects/{exp.experiment_id}/models/ChurnModel/versions/1/files")
    ok("weights.bin" in json.dumps(vfiles), f"the version's files are the run's: {vfiles}")

    out = run_import(url)
    ok("runs: copied 0, 3 already there" in out, "the second import copies no run")
    ok("model versions: copied 0, 2 already there" in out, "nor any model version")
    ok("experiments: 0 new," in out, "nor any experiment")
    ok(len(a.search_runs([exp.experiment_id])) == 2, "no run duplicated")
    ok(len(a.search_model_versions("name='ChurnModel'")) == 2, "no version duplicated")

    # an import interrupted in the middle of a run: the half-copied run is made again, once
    half = got[src_runs[1]].info.run_id
    a.delete_tag(half, "atrium.import.complete")
    out = run_import(url)
    ok("interrupted before, copying again" in out and "runs: copied 1, 2 already there" in out,
       "a half-copied run is copied again")
    again = {r.data.tags["atrium.import.source_run"]: r for r in a.search_runs([exp.experiment_id])}
    ok(len(again) == 2 and len(a.search_runs([exp.experiment_id])) == 2, "and not duplicated")
    ok(len(a.get_metric_history(again[src_runs[1]].info.run_id, "loss")) == 2500, "its history whole again")
finally:
    stop_mlflow(proc)
print(f"import-mlflow against MLflow {mlflow.__version__} passed ({checks} checks)")
