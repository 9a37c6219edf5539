#!/usr/bin/env python3
"""bench/comp_models.py: model-version submissions to a competition, through a local worker
(bench/scenarios/96-comp-models.sh starts `atrium serve --local-worker`, then runs this).

Set-up (as the admin, then as the users it makes): an organiser's project holding the ground
truth (ids 1..200, label id % 2) and a competition of kind model_version on it; N participants,
each in a team of their own, each with a committed model version in a project of their own whose
`predict` writes the right label for each id. Then the N submissions, one after the other
(POST .../submissions {"model", "version"}: 202), and the organiser's list of submissions
polled every 50 ms until each is settled (scored, failed or invalid) or the time runs out.

Per submission: submitted_at -> scored_at as the daemon recorded them (ms). Checked: every 202
is in the organiser's list exactly once and scored with score 1 (none lost), nothing else is
listed, and the competition's project holds exactly N batch jobs (none run twice).

Prints one line of key=value figures on stdout (ms); progress on stderr. Standard library only.
"""
import argparse
import datetime
import http.client
import json
import sys
import time
import urllib.parse

PREDICT = "awk -F, 'NR==1{print \"id,prediction\"; next} {print $1\",\"($1%2)}' \"$1\" > \"$2\"\n"


def say(msg):
    print(f"  {msg}", file=sys.stderr, flush=True)


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def ms_of(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000.0


class Http:
    def __init__(self, addr, token):
        self.host, port = addr.rsplit(":", 1)
        self.port = int(port)
        self.token = token

    def call(self, method, path, body=None, expect=(200, 201, 202, 204), raw=False):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = body.encode() if raw else json.dumps(body).encode()
            headers["Content-Type"] = "application/octet-stream" if raw else "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read()
        conn.close()
        if r.status not in expect:
            raise RuntimeError(f"{method} {path}: {r.status} {text[:300]!r}")
        return json.loads(text) if text else None


def setup(admin, addr, n):
    def user(name):
        return Http(addr, admin.call("POST", "/api/v1/users", {"username": name})["token"])

    org = user("cm-org")
    org.call("POST", "/api/v1/projects", {"name": "cm"})
    ds = "/api/v1/projects/cm/datasets/truth"
    org.call("POST", "/api/v1/projects/cm/datasets", {"name": "truth"})
    org.call("POST", ds + "/versions", {})
    truth = "id,label\n" + "".join(f"{i},{i % 2}\n" for i in range(1, 201))
    org.call("PUT", ds + "/versions/1/files/truth.csv", truth, raw=True)
    org.call("POST", ds + "/versions/1/commit", {})
    org.call("POST", "/api/v1/projects/cm/competitions", {
        "name": "cm", "title": "Model submissions", "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z", "submission": "model_version", "metric": "accuracy",
        "test": {"dataset": "truth", "version": 1, "path": "truth.csv"}, "daily_limit": 10})
    players = []
    for i in range(n):
        p = user(f"cm-p{i}")
        p.call("POST", "/api/v1/projects", {"name": f"cmp{i}"})
        md = f"/api/v1/projects/cmp{i}/models"
        p.call("POST", md, {"name": "m"})
        p.call("POST", md + "/m/versions", {})
        p.call("PUT", md + "/m/versions/1/files/predict", PREDICT, raw=True)
        p.call("POST", md + "/m/versions/1/commit", {})
        p.call("POST", "/api/v1/competitions/cm/join", {"name": f"t{i}"})
        players.append(p)
    return org, players


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True, help="host:port of the daemon")
    ap.add_argument("--admin", required=True, help="the admin token's file")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    admin = Http(a.addr, open(a.admin).read().strip())
    org, players = setup(admin, a.addr, a.n)
    say(f"{a.n} participants with a model version each; submitting")
    t0 = time.monotonic()
    ids = [p.call("POST", "/api/v1/competitions/cm/submissions", {"model": f"cmp{i}/m", "version": 1},
                  expect=(202,))["id"] for i, p in enumerate(players)]
    items = []
    while time.monotonic() - t0 < a.timeout:
        items = org.call("GET", "/api/v1/competitions/cm/submissions?all=true&limit=1000")["items"]
        if len(items) >= len(ids) and all(x["state"] in ("scored", "failed", "invalid") for x in items):
            break
        time.sleep(0.05)
    wall = (time.monotonic() - t0) * 1000.0
    seen = {}
    for x in items:
        seen[x["id"]] = seen.get(x["id"], 0) + 1
    scored = [x for x in items if x["state"] == "scored" and x.get("public_score") == 1]
    lat = [ms_of(x["scored_at"]) - ms_of(x["submitted_at"]) for x in scored if x.get("scored_at")]
    jobs = org.call("GET", "/api/v1/projects/cm/jobs?kind=batch_inference&limit=1000")["items"]
    lost = sum(1 for i in ids if i not in seen) + (len(ids) - len(scored))
    twice = sum(c - 1 for c in seen.values()) + sum(1 for k in seen if k not in ids) + max(0, len(jobs) - len(ids))
    for x in items:
        if x["state"] != "scored":
            say(f"submission {x['id']}: {x['state']} {x.get('error')}")
    print(f"n={len(ids)} scored={len(scored)} lost={lost} twice={twice} jobs={len(jobs)} "
          f"p50_ms={pct(lat, 50):.0f} p99_ms={pct(lat, 99):.0f} max_ms={max(lat) if lat else float('nan'):.0f} "
          f"wall_ms={wall:.0f}")
    return 0 if lost == 0 and twice == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
