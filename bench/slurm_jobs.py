#!/usr/bin/env python3
"""bench/slurm_jobs.py: N short jobs through a real Slurm, straight and through Atrium
(bench/scenarios/97-slurm.sh starts Slurm and Atrium, registers the cluster, then runs this).

1. Straight to slurmrestd: N batch jobs (`true`) submitted one after the other with
   POST /job/submit, as a script would; each submission's latency (request sent -> job id
   answered) and the time for all N. Then it cancels them (their submission was what is
   measured; running them too would double the run on a small node) and waits until they are gone.
2. Through Atrium: the same N jobs (`date +%s%N > end_ns`, i.e. `true` that notes when it ended)
   submitted one after the other to POST /api/v1/projects/{project}/jobs naming the cluster.
   Atrium's submission latency per job is request sent -> Atrium holds the Slurm job id (the
   moment its cluster_jobs row gets slurm_job_id, seen by polling the daemon's database read-only
   every 10 ms: the API does not show the Slurm id); the time for all N likewise.
3. State lag per job: Atrium's ended_at (ms) minus Slurm's end_time (what the target judges;
   Slurm gives whole seconds, so that lag reads up to 1 s high), and minus the moment the
   job's command ended (its own clock, ns: this one includes Slurm's own time to notice and
   record the end, which on a loaded machine is seconds). Beside it, how long
   slurmrestd takes to answer a poll like Atrium's on this machine (one every 2 s meanwhile).

Prints one line of key=value figures (ms unless named otherwise) on stdout; progress on stderr.
Standard library only.
"""
import argparse
import datetime
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.parse


def say(msg):
    print(f"  {msg}", file=sys.stderr, flush=True)


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


class Http:
    """One keep-alive connection; request() -> (status, parsed JSON or None)."""

    def __init__(self, base, headers):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = u.hostname, u.port or 80, u.path.rstrip("/")
        self.headers = headers
        self.conn = None

    def request(self, method, path, body=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                data = json.dumps(body).encode() if body is not None else None
                h = dict(self.headers)
                if data is not None:
                    h["Content-Type"] = "application/json"
                self.conn.request(method, self.prefix + path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    return r.status, json.loads(raw) if raw else None
                except ValueError:
                    return r.status, None
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)
        return 0, None


def ms_of_iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000.0


def slurm_jobs(rest):
    st, o = rest.request("GET", "/jobs")
    if st != 200 or not o:
        raise RuntimeError(f"slurmrestd GET /jobs answered {st}")
    return o.get("jobs", [])


def direct_phase(rest, n, user):
    lat, ids = [], []
    t0 = time.time()
    for i in range(n):
        body = {
            "job": {"name": f"bench-direct-{i}", "current_working_directory": "/tmp",
                    "standard_output": "/dev/null", "environment": {"PATH": "/usr/bin:/bin"}},
            "script": "#!/bin/bash\ntrue\n",
        }
        s = time.time()
        st, o = rest.request("POST", "/job/submit", body)
        if st != 200 or not o or not o.get("job_id"):
            raise RuntimeError(f"direct submission {i}: HTTP {st} {o}")
        lat.append((time.time() - s) * 1000.0)
        ids.append(o["job_id"])
    total = time.time() - t0
    say(f"straight: {n} jobs submitted in {total:.1f} s; cancelling them")
    # their submission was the point: running them too would double the run on a small node,
    # and they must be gone before Atrium's jobs start (they would share the node)
    for i in ids:
        rest.request("DELETE", f"/job/{i}")
    deadline = time.time() + 60 + n
    while time.time() < deadline:
        left = [j for j in slurm_jobs(rest) if j.get("name", "").startswith("bench-direct-")
                and j.get("job_state") in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING")]
        if not left:
            break
        time.sleep(1)
    say(f"straight: all gone after {time.time() - t0:.1f} s")
    return lat, total


def watch_db(path, seen, stop):
    """Notes when each Atrium job's Slurm id first appears in the daemon's database."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    while not stop.is_set():
        try:
            now = time.time()
            for (job_id,) in db.execute("SELECT job_id FROM cluster_jobs WHERE slurm_job_id IS NOT NULL"):
                if job_id not in seen:
                    seen[job_id] = now
        except sqlite3.OperationalError:
            pass
        time.sleep(0.01)
    db.close()


def time_polls(rest, out, stop):
    """How long slurmrestd takes to answer a poll like Atrium's (GET /jobs?update_time=now-2),
    every 2 s while Atrium's jobs run: the floor under the state lag on this machine."""
    while not stop.wait(2.0):
        s = time.time()
        try:
            st, _ = rest.request("GET", f"/jobs?update_time={int(s) - 2}")
        except (OSError, http.client.HTTPException):
            continue
        if st == 200:
            out.append((time.time() - s) * 1000.0)


def atrium_phase(api, args):
    seen, sent, stop = {}, {}, threading.Event()
    watcher = threading.Thread(target=watch_db, args=(args.db, seen, stop), daemon=True)
    watcher.start()
    t0 = time.time()
    body = {"cluster": args.cluster, "command": ["sh", "-c", "date +%s%N > end_ns"], "max_attempts": 1}
    for i in range(args.jobs):
        body["name"] = f"bench-slurm-{i}"
        s = time.time()
        st, o = api.request("POST", f"/api/v1/projects/{args.project}/jobs", body)
        if st != 201:
            raise RuntimeError(f"Atrium submission {i}: HTTP {st} {o}")
        sent[o["id"]] = s
    say(f"atrium: {args.jobs} jobs accepted by the API in {time.time() - t0:.1f} s")
    deadline = time.time() + 120 + args.jobs
    while len([j for j in sent if j in seen]) < len(sent) and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    watcher.join()
    got = [j for j in sent if j in seen]
    total = (max(seen[j] for j in got) - t0) if got else float("nan")
    say(f"atrium: {len(got)} of {len(sent)} in Slurm after {total:.1f} s")
    return sent, seen, total


def wait_ended(api, ids, limit_s):
    jobs, deadline = {}, time.time() + limit_s
    for j in ids:
        while time.time() < deadline:
            st, o = api.request("GET", f"/api/v1/jobs/{j}/wait?timeout_s=20")
            if st == 200 and o.get("state") in ("succeeded", "failed", "cancelled"):
                jobs[j] = o
                break
            if st != 200:
                time.sleep(0.5)
    return jobs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--atrium", required=True, help="http://host:port")
    ap.add_argument("--token", required=True, help="a file with a project member's token")
    ap.add_argument("--project", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--rest", required=True, help="slurmrestd URL with the version path")
    ap.add_argument("--user", required=True)
    ap.add_argument("--jwt", required=True, help="a file holding the user's JWT")
    ap.add_argument("--shared", required=True)
    ap.add_argument("--db", required=True, help="the daemon's SQLite database (read only)")
    ap.add_argument("--jobs", type=int, default=1000)
    args = ap.parse_args()
    jwt = open(args.jwt).read().strip().removeprefix("SLURM_JWT=")
    rest = Http(args.rest, {"X-SLURM-USER-NAME": args.user, "X-SLURM-USER-TOKEN": jwt})
    api = Http(args.atrium, {"Authorization": "Bearer " + open(args.token).read().strip()})

    direct_lat, direct_total = direct_phase(rest, args.jobs, args.user)
    polls, stop = [], threading.Event()
    poller = threading.Thread(target=time_polls, daemon=True,
                              args=(Http(args.rest, rest.headers), polls, stop))
    poller.start()
    sent, seen, atrium_total = atrium_phase(api, args)
    # a single-node Slurm on 2 CPUs runs about 0.75 of these jobs a second: allow 2 s each
    jobs = wait_ended(api, list(sent), 300 + 2 * args.jobs)
    stop.set()
    poller.join()
    say(f"atrium: {len(jobs)} of {len(sent)} ended")
    by_name = {}
    for sj in slurm_jobs(rest):
        name = sj.get("name", "")
        if name.startswith("atrium-"):
            by_name[int(name.split("-")[1])] = sj
    sub_lat = [(seen[j] - sent[j]) * 1000.0 for j in sent if j in seen]
    lag, lag_slurm, failed = [], [], 0
    for j, o in jobs.items():
        if o.get("state") != "succeeded" or not o.get("ended_at"):
            failed += 1
            continue
        ended = ms_of_iso(o["ended_at"])
        try:
            with open(os.path.join(args.shared, "atrium", "jobs", f"{j}-{o.get('attempts', 1)}", "end_ns")) as f:
                lag.append(ended - int(f.read().strip()) / 1e6)
        except (OSError, ValueError):
            pass
        sj = by_name.get(j)
        if sj and sj.get("end_time"):
            lag_slurm.append(ended - sj["end_time"] * 1000.0)
    figures = {
        "jobs": args.jobs,
        "direct_p50_ms": pct(direct_lat, 50), "direct_p99_ms": pct(direct_lat, 99),
        "direct_total_s": direct_total,
        "atrium_p50_ms": pct(sub_lat, 50), "atrium_p99_ms": pct(sub_lat, 99), "atrium_total_s": atrium_total,
        "overhead_ms_per_job": (atrium_total - direct_total) * 1000.0 / args.jobs,
        "lag_p50_ms": pct(lag, 50), "lag_p99_ms": pct(lag, 99), "lag_max_ms": max(lag) if lag else float("nan"),
        "lag_slurm_p50_ms": pct(lag_slurm, 50), "lag_slurm_p99_ms": pct(lag_slurm, 99),
        "rest_poll_p50_ms": pct(polls, 50), "rest_poll_p99_ms": pct(polls, 99),
        "measured": len(lag), "in_slurm": len(sub_lat), "failed": failed + len(sent) - len(jobs),
    }
    print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))
    return 0 if figures["failed"] == 0 and len(lag) == len(sent) else 1


if __name__ == "__main__":
    sys.exit(main())
