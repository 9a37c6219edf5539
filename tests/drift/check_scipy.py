#!/usr/bin/python3
"""check_scipy.py: the monitoring statistics against SciPy (Debian's python3-scipy 1.10).

Part one gives the C library (test_profile --drift) count vectors made with a fixed seed:
random ones, known shifts, empty bins on either side, one category, a side all zero, huge
counts. Each figure is compared with SciPy's on the same counts to 1e-9 relative (1e-12
absolute near zero): Jensen-Shannon distance (scipy.spatial.distance.jensenshannon, base 2),
the Kolmogorov-Smirnov statistic (scipy.stats.ks_2samp on samples holding each bin's index
count times), the chi-square test of homogeneity (scipy.stats.chi2_contingency without
Yates' correction, on the columns that are not empty) and PSI (numpy, the formula written
out, empty shares as 1e-4).

Part two writes a reference CSV (numeric features with NaN and empty cells, a categorical
one, a one-category one) and live requests (JSON rows with shifted values, unseen
categories, nulls), runs test_profile --check, bins the same values with numpy at the
edges the C profile chose, and checks the reference counts, the live counts (bins, nulls,
out of range, unseen) and the drift against SciPy's. Prints one line; exit 1 on any
difference.

usage: check_scipy.py [PATH/TO/test_profile]   (default build/asan/tests/unit/test_profile)
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp

SEED = 20261205
failures = []
checked = 0


def close(a, b, rtol=1e-9, atol=1e-12):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= atol + rtol * abs(b)


def expect(what, got, want, **kw):
    global checked
    checked += 1
    if not close(got, want, **kw):
        failures.append(f"{what}: C {got!r}, SciPy {want!r}")


def scipy_figures(ref, live):
    ref = np.asarray(ref, dtype=np.float64)
    live = np.asarray(live, dtype=np.float64)
    if ref.sum() == 0 or live.sum() == 0:
        return None
    p, q = ref / ref.sum(), live / live.sum()
    pe, qe = np.where(p > 0, p, 1e-4), np.where(q > 0, q, 1e-4)
    psi = float(np.sum((qe - pe) * np.log(qe / pe)))
    js = float(jensenshannon(p, q, base=2))
    idx = np.arange(len(ref))
    ks = float(ks_2samp(np.repeat(idx, ref.astype(np.int64)), np.repeat(idx, live.astype(np.int64))).statistic) \
        if ref.sum() < 5e6 and live.sum() < 5e6 else float(np.max(np.abs(np.cumsum(p) - np.cumsum(q))))
    keep = (ref + live) > 0
    table = np.vstack([ref[keep], live[keep]])
    if table.shape[1] < 2:
        chi2, pval, dof = 0.0, 1.0, 0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chi2, pval, dof, _ = chi2_contingency(table, correction=False)
    return {"psi": psi, "js": js, "ks": ks, "chi2": float(chi2), "chi2_p": float(pval), "dof": int(dof)}


def compare(what, c, s):
    if s is None:
        for k in ("psi", "js", "ks", "chi2_p"):
            expect(f"{what} {k} (a side empty)", c[k], None)
        return
    for k in ("psi", "js", "ks", "chi2"):
        expect(f"{what} {k}", c[k], s[k])
    # p-values: relative where they are representable, absolute below
    expect(f"{what} chi2_p", c["chi2_p"], s["chi2_p"], rtol=1e-9, atol=1e-300)
    if c["dof"] != s["dof"]:
        failures.append(f"{what} dof: C {c['dof']}, SciPy {s['dof']}")


def count_cases(rng):
    cases = []
    for n in (2, 3, 5, 10, 20, 50):
        for _ in range(6):
            ref = rng.integers(0, 1000, n)
            live = rng.integers(0, 1000, n)
            cases.append((f"random k={n}", ref, live))
    base = rng.normal(0, 1, 20000)
    edges = np.quantile(base, np.linspace(0, 1, 11)[1:-1])
    ref = np.bincount(np.searchsorted(edges, base, side="left"), minlength=10)
    for shift in (0.0, 0.05, 0.2, 0.5, 1.0, 3.0):
        live = np.bincount(np.searchsorted(edges, rng.normal(shift, 1, 5000), side="left"), minlength=10)
        cases.append((f"normal shifted by {shift}", ref, live))
    cases.append(("empty bins in live", np.array([10, 20, 30, 40]), np.array([0, 25, 0, 75])))
    cases.append(("empty bins in ref", np.array([0, 20, 0, 40]), np.array([5, 25, 1, 75])))
    cases.append(("a bin empty on both sides", np.array([10, 0, 30]), np.array([12, 0, 28])))
    cases.append(("one category", np.array([500]), np.array([3])))
    cases.append(("one category used", np.array([500, 0]), np.array([3, 0])))
    cases.append(("live empty", np.array([1, 2, 3]), np.array([0, 0, 0])))
    cases.append(("identical", np.array([7, 7, 7]), np.array([7, 7, 7])))
    cases.append(("disjoint", np.array([100, 0]), np.array([0, 100])))
    cases.append(("huge counts", np.array([10**9, 2 * 10**9, 3]), np.array([10**6, 10**6, 10**6])))
    cases.append(("tiny p-value", np.array([10000, 10000]), np.array([10000, 12000])))
    return cases


def part_one(tool, rng):
    cases = count_cases(rng)
    doc = {"cases": [{"ref": [int(x) for x in r], "live": [int(x) for x in l]} for _, r, l in cases]}
    out = subprocess.run([tool, "--drift"], input=json.dumps(doc), capture_output=True, text=True, check=True)
    for (what, r, l), c in zip(cases, json.loads(out.stdout)):
        compare(what, c, scipy_figures(r, l))


def write_reference(path, rng, n):
    x = rng.normal(10, 2, n)
    x[rng.random(n) < 0.05] = np.nan
    z = rng.exponential(1.0, n).round(2)  # ties
    colors = rng.choice(["red", "green", "blue", "teal"], n, p=[0.5, 0.3, 0.15, 0.05])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "z", "color", "constant"])
        for i in range(n):
            xv = "" if i % 97 == 0 else ("NaN" if math.isnan(x[i]) else repr(float(x[i])))
            w.writerow([xv, repr(float(z[i])), colors[i], "only"])
    return x, z, colors


def write_live(path, rng, n):
    rows = []
    for i in range(n):
        r = {"x": float(rng.normal(11, 2.5)), "z": float(round(rng.exponential(1.5), 2)),
             "color": str(rng.choice(["red", "green", "blue", "purple"], p=[0.3, 0.3, 0.2, 0.2])),
             "constant": "only"}
        if i % 13 == 0:
            r["x"] = None
        if i % 17 == 0:
            del r["color"]
        rows.append(r)
    with open(path, "w") as f:
        for k in range(0, n, 7):  # requests of 7 rows, alternately instances and a bare list
            chunk = rows[k:k + 7]
            f.write(json.dumps({"instances": chunk} if (k // 7) % 2 else chunk) + "\n")
    return rows


def ref_values(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def is_null(v):
    return v is None or v in ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")


def check_numeric(name, feat, ref_rows, live_rows, live_counts):
    edges = np.array(feat["edges"], dtype=np.float64)
    rv = np.array([float(r[name]) for r in ref_rows if not is_null(r[name])])
    want = np.bincount(np.searchsorted(edges, rv, side="left"), minlength=len(edges) + 1)
    if list(want) != feat["counts"]:
        failures.append(f"{name}: reference counts {feat['counts']} != numpy {list(want)}")
    expect(f"{name} mean", feat["mean"], float(np.mean(rv)))
    expect(f"{name} std", feat["std"], float(np.std(rv)))
    nulls = sum(1 for r in ref_rows if is_null(r[name]))
    if nulls != feat["nulls"]:
        failures.append(f"{name}: reference nulls {feat['nulls']} != {nulls}")
    lv = np.array([r[name] for r in live_rows if r.get(name) is not None], dtype=np.float64)
    lwant = list(np.bincount(np.searchsorted(edges, lv, side="left"), minlength=len(edges) + 1))
    lwant.append(sum(1 for r in live_rows if r.get(name) is None))
    lwant.append(int(np.sum((lv < rv.min()) | (lv > rv.max()))))
    if [int(x) for x in lwant] != live_counts:
        failures.append(f"{name}: live counts {live_counts} != numpy {lwant}")
    return want, np.array(lwant[:-2])


def check_categorical(name, feat, ref_rows, live_rows, live_counts):
    cats = feat["categories"]
    rv = [r[name] for r in ref_rows if not is_null(r[name])]
    want = [rv.count(c) for c in cats] + [sum(1 for v in rv if v not in cats)]
    if want != feat["counts"]:
        failures.append(f"{name}: reference counts {feat['counts']} != {want}")
    lv = [r.get(name) for r in live_rows]
    lwant = [lv.count(c) for c in cats] + [sum(1 for v in lv if v is not None and v not in cats)]
    lwant += [lv.count(None), lwant[len(cats)]]
    if lwant != live_counts:
        failures.append(f"{name}: live counts {live_counts} != {lwant}")
    return np.array(want), np.array(lwant[:-2])


def part_two(tool, rng):
    with tempfile.TemporaryDirectory() as d:
        ref_path, live_path = os.path.join(d, "ref.csv"), os.path.join(d, "live.jsonl")
        write_reference(ref_path, rng, 5000)
        live_rows = write_live(live_path, rng, 2100)
        out = subprocess.run([tool, "--check", ref_path, live_path], capture_output=True, text=True, check=True)
        res = json.loads(out.stdout)
        ref_rows = ref_values(ref_path)
    feats = res["profile"]["features"]
    names = [f["name"] for f in feats]
    if names != ["x", "z", "color", "constant"]:
        failures.append(f"features {names}")
        return
    types = [f["type"] for f in feats]
    if types != ["numeric", "numeric", "categorical", "categorical"]:
        failures.append(f"inferred types {types}")
        return
    for feat, got in zip(feats, res["features"]):
        fn = check_numeric if feat["type"] == "numeric" else check_categorical
        ref, live = fn(feat["name"], feat, ref_rows, live_rows, got["live"])
        compare(f"feature {feat['name']}", got["drift"], scipy_figures(ref, live))


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else "build/asan/tests/unit/test_profile"
    rng = np.random.default_rng(SEED)
    part_one(tool, rng)
    part_two(tool, rng)
    if failures:
        for f in failures[:40]:
            print("FAIL", f)
        print(f"drift statistics vs SciPy: {len(failures)} differences in {checked} checks")
        sys.exit(1)
    print(f"drift statistics vs SciPy: {checked} checks, all equal")


if __name__ == "__main__":
    main()
