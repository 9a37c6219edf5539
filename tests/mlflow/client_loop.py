"""A data scientist's whole loop through the REAL, unmodified MLflow 2.9.2 client against a real
Atrium daemon (started by tests/mlflow/run.sh, which gives ATRIUM and ATRIUM_ADMIN_TOKEN).

Only MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN are set for the client; the setup (users,
teams, memberships) and the cross-checks use Atrium's own REST API through urllib.
"""
import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

ATRIUM = os.environ["ATRIUM"]
ADMIN = os.environ["ATRIUM_ADMIN_TOKEN"]
os.environ["MLFLOW_TRACKING_URI"] = ATRIUM
for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_EXPERIMENT_NAME"):
    os.environ.pop(var, None)
# the client retries 5xx for minutes by default: fail fast instead
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

checks = 0


def ok(cond, what):
    global checks
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    checks += 1


def api(method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(ATRIUM + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def must(method, path, token, body=None):
    status, doc = api(method, path, token, body)
    ok(200 <= status < 300, f"{method} {path} -> {status} {doc}")
    return doc


def as_user(token):
    os.environ["MLFLOW_TRACKING_TOKEN"] = token


def expect_error(code, fn, *args, contains=None, **kw):
    try:
        fn(*args, **kw)
    except MlflowException as e:
        ok(e.error_code == code, f"{fn.__name__}: expected {code}, got {e.error_code}: {e}")
        if contains:
            ok(contains in str(e), f"{fn.__name__}: message should name '{contains}': {e}")
        return e
    ok(False, f"{fn.__name__} should have failed with {code}")


# ---- setup through Atrium's own API, with the admin token ----
must("POST", "/api/v1/teams", ADMIN, {"name": "risk"})
users = {}
for name in ("alice", "bob", "carol", "dave"):
    users[name] = must("POST", "/api/v1/users", ADMIN, {"username": name})["token"]
must("PUT", "/api/v1/teams/risk/members/alice", ADMIN, {"role": "member"})
me = must("GET", "/api/v1/users/me", users["alice"])
ok(not me.get("admin", False), "alice is not an admin")

# ---- alice's loop, with only MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN ----
as_user(users["alice"])
client = MlflowClient()
exp = mlflow.set_experiment("Fraud Detection")
exp_id = exp.experiment_id
ok(exp.name == "Fraud Detection", "experiment name kept")
ok(client.get_experiment_by_name("Fraud Detection").experiment_id == exp_id, "get-by-name")
project = must("GET", f"/api/v1/projects/{exp_id}", users["alice"])
ok(project["team"] in ("risk", {"name": "risk"}) or "risk" in json.dumps(project.get("team")),
   f"a new experiment lands in the caller's only team: {project.get('team')}")

work = tempfile.mkdtemp(prefix="atrium-mlflow-client-")
with open(os.path.join(work, "notes.txt"), "w") as f:
    f.write("trained on 2026-12 data\n")
os.makedirs(os.path.join(work, "model", "sub"))
with open(os.path.join(work, "model", "weights.bin"), "wb") as f:
    f.write(os.urandom(300_000))
with open(os.path.join(work, "model", "sub", "MLmodel"), "w") as f:
    f.write("flavors: {}\n")

run_ids = []
for lr, acc in (("0.01", 0.91), ("0.1", 0.72)):
    with mlflow.start_run(run_name=f"lr-{lr}") as run:
        mlflow.log_param("lr", lr)
        mlflow.log_params({"epochs": "3", "optimizer": "adam"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": acc, "auc": acc - 0.05})
        mlflow.set_tag("team", "risk")
        mlflow.set_tags({"stage": "dev"})
        mlflow.log_artifact(os.path.join(work, "notes.txt"))
        mlflow.log_artifacts(os.path.join(work, "model"), artifact_path="model")
        run_ids.append(run.info.run_id)
best = run_ids[0]
ok(len(best) == 32 and all(c in "0123456789abcdef" for c in best), f"MLflow run id: {best}")

r = client.get_run(best)
ok(r.info.status == "FINISHED", f"run finished: {r.info.status}")
ok(r.data.params == {"lr": "0.01", "epochs": "3", "optimizer": "adam"}, f"params: {r.data.params}")
ok(r.data.metrics["acc"] == 0.91 and r.data.metrics["loss"] == 0.2, f"metrics: {r.data.metrics}")
ok(r.data.tags["team"] == "risk" and r.data.tags["stage"] == "dev", f"tags: {r.data.tags}")
ok(r.data.tags.get("mlflow.runName") == "lr-0.01", "run name tag")
hist = client.get_metric_history(best, "loss")
ok([(m.step, m.value) for m in hist] == [(s, 1.0 / (s + 1)) for s in range(5)], f"history: {hist}")

top = sorted(a.path for a in client.list_artifacts(best))
ok(top == ["model", "notes.txt"], f"artifacts: {top}")
inner = {a.path: a for a in client.list_artifacts(best, "model")}
ok(sorted(inner) == ["model/sub", "model/weights.bin"], f"model/: {sorted(inner)}")
ok(inner["model/sub"].is_dir and inner["model/weights.bin"].file_size == 300_000, "sizes and folders")
dst = tempfile.mkdtemp(prefix="atrium-mlflow-dl-")
got = mlflow.artifacts.download_artifacts(run_id=best, artifact_path="model", dst_path=dst)
with open(os.path.join(work, "model", "weights.bin"), "rb") as a, open(os.path.join(got, "weights.bin"), "rb") as b:
    ok(a.read() == b.read(), "downloaded weights are the uploaded bytes")
ok(open(os.path.join(got, "sub", "MLmodel")).read() == "flavors: {}\n", "nested file downloaded")
one = client.download_artifacts(best, "notes.txt", dst)
ok(open(one).read() == "trained on 2026-12 data\n", "single file download")

found = client.search_runs([exp_id], filter_string="metrics.acc > 0.5 and params.optimizer = 'adam'",
                           order_by=["metrics.acc DESC"])
ok([x.info.run_id for x in found] == run_ids, f"search order: {[x.info.run_id for x in found]}")
found = client.search_runs([exp_id], filter_string="params.lr = '0.1'", order_by=["attributes.start_time ASC"])
ok([x.info.run_id for x in found] == [run_ids[1]], "search by param")

# ---- registry ----
mv = mlflow.register_model(f"runs:/{best}/model", "FraudModel")
ok(mv.version == "1" and mv.status == "READY", f"registered: {mv}")
client.update_registered_model("FraudModel", description="catches fraud")
client.create_registered_model("FraudModel.v2", tags={"owner": "alice"})
mv2 = client.create_model_version("FraudModel.v2", f"runs:/{run_ids[1]}/model", run_id=run_ids[1])
ok(mv2.version == "1" and mv2.run_id == run_ids[1], f"create_model_version: {mv2}")
mv1b = client.create_model_version("FraudModel", f"runs:/{run_ids[1]}/model", run_id=run_ids[1])
ok(mv1b.version == "2", "second version")
client.set_registered_model_alias("FraudModel", "champion", "1")
ok(client.get_model_version_by_alias("FraudModel", "champion").version == "1", "alias")
client.transition_model_version_stage("FraudModel", "2", "Staging")
ok(client.get_model_version("FraudModel", "2").current_stage == "Staging", "staging")
client.transition_model_version_stage("FraudModel", "1", "Production")  # alice owns the project
ok(client.get_model_version("FraudModel", "1").current_stage == "Production", "production by the owner")
latest = {v.current_stage: v.version for v in client.get_latest_versions("FraudModel")}
ok(latest.get("Production") == "1" and latest.get("Staging") == "2", f"latest versions: {latest}")
rm = client.get_registered_model("FraudModel")
ok(rm.description == "catches fraud" and rm.aliases.get("champion") == "1", f"model: {rm}")
ok(rm.aliases.get("production") == "1" and rm.aliases.get("staging") == "2", f"stages are aliases: {rm.aliases}")
# the same model seen natively: its files are the run's, and a deployment may serve it
files = must("GET", f"/api/v1/projects/{exp_id}/models/FraudModel/versions/1/files", users["alice"])
names = sorted(f.get("path") for f in (files.get("items") if isinstance(files, dict) else files))
ok(names == ["sub/MLmodel", "weights.bin"], f"native version files: {names}")
status, dep = api("POST", f"/api/v1/projects/{exp_id}/deployments", users["alice"],
                  {"name": "fraud", "model": "FraudModel", "version": "production", "command": ["sleep", "300"]})
ok(status in (200, 201, 202), f"a natively deployed MLflow-named model: {status} {dep}")

# ---- permissions ----
as_user(users["bob"])
bob_exp = mlflow.create_experiment("Bob Private")
as_user(users["alice"])
expect_error("RESOURCE_DOES_NOT_EXIST", client.get_experiment, bob_exp)
ok(client.get_experiment_by_name("Bob Private") is None, "another user's experiment name is not seen")

must("PUT", f"/api/v1/projects/{exp_id}/members/carol", users["alice"], {"role": "viewer"})
must("PUT", f"/api/v1/projects/{exp_id}/members/dave", users["alice"], {"role": "editor"})
as_user(users["carol"])
ok(client.get_run(best).data.params["lr"] == "0.01", "a viewer reads")
expect_error("PERMISSION_DENIED", client.log_param, best, "x", "1")
expect_error("PERMISSION_DENIED", client.set_registered_model_alias, "FraudModel", "champion", "2")
as_user(users["dave"])
client.set_tag(best, "reviewed", "yes")  # an editor writes
client.set_registered_model_alias("FraudModel", "candidate", "2")
expect_error("PERMISSION_DENIED", client.set_registered_model_alias, "FraudModel", "production", "2",
             contains="promotion")
expect_error("PERMISSION_DENIED", client.transition_model_version_stage, "FraudModel", "2", "Production",
             contains="promotion")
as_user(users["bob"])
expect_error("RESOURCE_DOES_NOT_EXIST", client.get_run, best)

# ---- Basic auth: MLFLOW_TRACKING_USERNAME with a token as the password ----
os.environ.pop("MLFLOW_TRACKING_TOKEN")
os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = "alice", users["alice"]
ok(client.get_run(best).data.params["lr"] == "0.01", "Basic auth with a token as the password")
os.environ["MLFLOW_TRACKING_PASSWORD"] = "wrong"
expect_error("UNAUTHENTICATED", client.get_run, best)
del os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]

# ---- both ways: a native run read through MLflow, an MLflow run in Atrium's run search ----
as_user(users["alice"])
native = must("POST", f"/api/v1/projects/{exp_id}/runs", users["alice"],
              {"name": "native-1", "params": {"lr": "0.5"}})
must("POST", f"/api/v1/runs/{native['id']}/metrics", users["alice"],
     {"metrics": [{"key": "acc", "value": 0.5, "step": 0}, {"key": "acc", "value": 0.6, "step": 1}]})
nat = client.get_run(native["uuid"])
ok(nat.info.run_name == "native-1" and nat.data.params == {"lr": "0.5"} and nat.data.metrics["acc"] == 0.6,
   f"a native run through MLflow: {nat}")
ok([m.value for m in client.get_metric_history(native["uuid"], "acc")] == [0.5, 0.6], "native history")
q = urllib.parse.urlencode({"filter": "params.optimizer = adam", "order_by": "metrics.acc:desc"})
items = must("GET", f"/api/v1/projects/{exp_id}/runs?{q}", users["alice"])["items"]
ok([i["uuid"] for i in items] == run_ids, f"MLflow runs in Atrium's run search: {[i.get('uuid') for i in items]}")
arts = must("GET", f"/api/v1/runs/{best}/artifacts", users["alice"])
ok("notes.txt" in json.dumps(arts), "MLflow artifacts are the run's native artifacts")

print(f"MLflow {mlflow.__version__} client loop passed ({checks} checks)")
