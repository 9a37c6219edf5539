#!/usr/bin/env python3
"""
GPU check on a real NVIDIA host (not part of `make test`: CI has no GPU). Starts `atrium serve`
and one `atrium worker` (real nvidia-smi discovery, no ATRIUM_FAKE_GPUS) on loopback, then:

  1. the worker's inventory matches `nvidia-smi` (count, uuid, model, memory);
  2. a job given 1 GPU sees exactly that GPU (CUDA_VISIBLE_DEVICES, and CUDA itself through
     PyTorch when python3 has it), a job given 0 GPUs sees none;
  3. a job asking for more GPUs than any worker has is refused (422 naming resources);
  4. a process Atrium did not start that holds GPU memory above --gpu-busy-mb makes the GPU
     busy: a GPU job waits, and runs once that process ends.

Usage: python3 tests/gpu/check.py [ATRIUM_BINARY]   (default build/atrium). Python stdlib only.
A dry run without a GPU: a fake nvidia-smi first on PATH, and ATRIUM_GPU_CHECK_HOG a shell
command that makes it report memory used, prints "hog holds", and stops on SIGTERM.
Exit 0 when every check passed. See docs/workers.md ("Checking a GPU host").
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/atrium")
WORK = tempfile.mkdtemp(prefix="atrium-gpu-")
PY = shutil.which("python3") or "python3"
procs = []
failures = []
URL = ADMIN = None


def log(*a):
    print(*a, flush=True)


def check(ok, what):
    log(("PASS " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
    return ok


def api(method, path, body=None, raw=False):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, method=method, data=data)
    req.add_header("Authorization", "Bearer " + ADMIN)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=200) as r:
            text = r.read()
            return r.status, (text.decode(errors="replace") if raw else json.loads(text or b"null"))
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_for(what, fn, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.25)
    check(False, "timed out waiting for " + what)
    return None


def smi():
    out = subprocess.run(["nvidia-smi", "--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu",
                          "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=30)
    rows = [[f.strip() for f in line.split(",")] for line in out.stdout.splitlines() if line.strip()]
    return out.stdout, rows


def worker():
    st, body = api("GET", "/api/v1/workers")
    items = body.get("items", []) if st == 200 else []
    return items[0] if items and items[0].get("state") == "online" else None


def submit(name, gpus, command):
    st, body = api("POST", "/api/v1/projects/gpucheck/jobs",
                   {"name": name, "command": command, "resources": {"gpus": gpus}, "timeout_s": 300})
    if not check(st == 201, f"submit {name} (HTTP {st}: {body if st != 201 else body['id']})"):
        return None
    return body["id"]


def finish(job_id, timeout=120):
    st, job = api("GET", f"/api/v1/jobs/{job_id}/wait?timeout_s={timeout}")
    _, text = api("GET", f"/api/v1/jobs/{job_id}/logs", raw=True)
    log(f"--- job {job_id}: state={job.get('state')} exit_code={job.get('exit_code')} gpus={job.get('gpus')}")
    log(text.rstrip())
    return job, text


# The probe the jobs run: what the job's environment and CUDA say it may use.
PROBE = ("echo CUDA_VISIBLE_DEVICES=[$CUDA_VISIBLE_DEVICES] CUDA_DEVICE_ORDER=$CUDA_DEVICE_ORDER; "
         "echo 'nvidia-smi -L (it lists every GPU of the host: it does not read CUDA_VISIBLE_DEVICES):'; "
         "nvidia-smi -L; "
         "if [ -n \"$CUDA_VISIBLE_DEVICES\" ]; then nvidia-smi --query-gpu=index,uuid --format=csv,noheader "
         "-i \"$CUDA_VISIBLE_DEVICES\"; fi; "
         + PY + " -c \"import sys\ntry:\n import torch\nexcept Exception:\n print('torch: not installed'); sys.exit(0)\n"
         "n = torch.cuda.device_count()\nprint('torch: cuda devices', n)\n"
         "for i in range(n):\n p = torch.cuda.get_device_properties(i)\n"
         " print('torch: device', i, p.name, 'uuid GPU-' + str(p.uuid), int(p.total_memory >> 20), 'MiB')\n"
         "if n:\n x = torch.randn(4096, 4096, device='cuda'); print('torch: matmul ok', float((x @ x).sum()) == float((x @ x).sum()))\"")

HOG = ("import torch, time, sys\nx = torch.empty(int(sys.argv[1]) << 20, dtype=torch.uint8, device='cuda')\n"
       "x.fill_(1); torch.cuda.synchronize(); print('hog holds', sys.argv[1], 'MiB', flush=True)\ntime.sleep(600)\n")


def main():
    global URL, ADMIN
    log("host:", os.uname().nodename, os.uname().release, "| atrium:",
        subprocess.run([BIN, "version"], capture_output=True, text=True).stdout.strip())
    raw, rows = smi()
    log("nvidia-smi:\n" + raw.rstrip())
    drv = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.split()
    log("driver:", drv[0] if drv else "?")

    data = os.path.join(WORK, "data")
    os.makedirs(data)
    procs.append(subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data],
                                  stdout=open(os.path.join(WORK, "server.log"), "w"), stderr=subprocess.STDOUT))
    addr = wait_for("listen.addr", lambda: os.path.exists(os.path.join(data, "listen.addr"))
                    and open(os.path.join(data, "listen.addr")).read().strip(), 20)
    URL = "http://" + addr
    ADMIN = open(os.path.join(data, "admin.token")).read().strip()

    st, jt = api("POST", "/api/v1/workers/join-tokens", {"name": "gpu-check"})
    check(st == 201, "join token")
    env = dict(os.environ, ATRIUM_JOIN_TOKEN=jt["token"])
    env.pop("ATRIUM_FAKE_GPUS", None)
    procs.append(subprocess.Popen([BIN, "worker", "--server", URL, "--listen", "127.0.0.1:0", "--name", "gpu-host",
                                   "--work-dir", os.path.join(WORK, "worker"), "--heartbeat", "1",
                                   "--gpu-busy-mb", "2048"], env=env,
                                  stdout=open(os.path.join(WORK, "worker.log"), "w"), stderr=subprocess.STDOUT))
    w = wait_for("the worker online", worker, 30)
    if not w:
        return
    log("worker inventory:", json.dumps({k: w.get(k) for k in ("name", "cpus", "memory_mb", "gpus")}, indent=1))
    gpus = w.get("gpus") or []
    check(len(gpus) == len(rows) and len(rows) > 0, f"worker reports {len(gpus)} GPU(s), nvidia-smi lists {len(rows)}")
    for g, r in zip(gpus, rows):
        check(str(g["index"]) == r[0] and g["uuid"] == r[1] and g["name"] == r[2] and str(g["memory_mb"]) == r[3],
              f"GPU {r[0]}: {g['name']} {g['uuid']} {g['memory_mb']} MiB matches nvidia-smi")
        check(not g.get("busy"), f"GPU {r[0]} is free (memory used {g.get('memory_used_mb')} MiB)")

    st, _ = api("POST", "/api/v1/teams", {"name": "gpu", "max_gpus": 16})
    st2, _ = api("POST", "/api/v1/projects", {"name": "gpucheck", "team": "gpu"})
    check(st == 201 and st2 == 201, "team and project")

    # 2. isolation: 1 GPU, then none
    j1 = submit("one-gpu", 1, PROBE)
    job, text = finish(j1)
    given = job.get("gpus") or []
    check(job.get("state") == "succeeded", "the 1-GPU job succeeded")
    check(len(given) == 1 and f"CUDA_VISIBLE_DEVICES=[{given[0]}]" in text,
          f"the 1-GPU job got CUDA_VISIBLE_DEVICES={given}")
    if given:
        uuid = next((g["uuid"] for g in gpus if g["index"] == given[0]), "?")
        check(uuid in text, f"nvidia-smi -i inside the job names the GPU given ({uuid})")
    if "torch: not installed" not in text:
        check("torch: cuda devices 1" in text, "CUDA (PyTorch) inside the 1-GPU job sees exactly 1 device")
        dev0 = next((l for l in text.splitlines() if l.startswith("torch: device 0 ")), "")
        check(given and uuid in dev0, f"CUDA's device 0 is the GPU given ({dev0})")
        check("torch: matmul ok True" in text, "a matmul ran on it")
    j0 = submit("no-gpu", 0, PROBE)
    job, text = finish(j0)
    check(job.get("state") == "succeeded" and "CUDA_VISIBLE_DEVICES=[]" in text, "the 0-GPU job got no GPU")
    if "torch: not installed" not in text:
        check("torch: cuda devices 0" in text, "CUDA (PyTorch) inside the 0-GPU job sees no device")

    # 3. more GPUs than any worker has: refused at once, saying why (it could never run)
    st, body = api("POST", "/api/v1/projects/gpucheck/jobs",
                   {"name": "too-many", "command": "true", "resources": {"gpus": len(rows) + 1}})
    log(f"too-many job: HTTP {st} {json.dumps(body)}")
    check(st == 422 and body["error"].get("field") == "resources", "a job asking for more GPUs than exist is refused")

    # 4. a GPU held by a process Atrium did not start is withheld
    hog_cmd = os.environ.get("ATRIUM_GPU_CHECK_HOG")  # a stand-in for a dry run without a GPU
    hog = subprocess.Popen(["/bin/sh", "-c", hog_cmd] if hog_cmd else [PY, "-c", HOG, "4096"],
                           stdout=subprocess.PIPE, text=True)
    procs.append(hog)
    line = hog.stdout.readline().strip()
    log(line or "the hog could not allocate GPU memory")
    if check(line.startswith("hog holds"), "an outside process holds 4 GiB of GPU 0"):
        busy = wait_for("GPU 0 reported busy", lambda: (worker() or {}).get("gpus", [{}])[0].get("busy"), 20)
        g0 = (worker() or {}).get("gpus", [{}])[0]
        check(bool(busy), f"the worker reports GPU 0 busy (memory used {g0.get('memory_used_mb')} MiB > 2048)")
        jb = submit("while-busy", 1, PROBE)
        time.sleep(3)
        _, job = api("GET", f"/api/v1/jobs/{jb}")
        log(f"while-busy job: state={job.get('state')} pending_reason={job.get('pending_reason')!r}")
        check(job.get("state") == "queued", "a GPU job waits while the only GPU is busy")
        hog.terminate()
        hog.wait()
        job, text = finish(jb)
        check(job.get("state") == "succeeded", "once the outside process ended, the job ran on the GPU")


try:
    main()
except Exception as e:  # a crash of the check itself is a failure too
    check(False, f"check crashed: {e!r}")
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    if failures:
        for name in ("server.log", "worker.log"):
            log(f"--- {name} (tail)")
            with open(os.path.join(WORK, name)) as f:
                log("".join(f.readlines()[-25:]))
    shutil.rmtree(WORK, ignore_errors=True)
    log("GPU CHECK: " + ("FAILED: " + "; ".join(failures) if failures else "all checks passed"))
    sys.exit(1 if failures else 0)
