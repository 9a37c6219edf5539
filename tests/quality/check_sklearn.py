#!/usr/bin/python3
"""check_sklearn.py: live quality by task against scikit-learn (Debian's python3-sklearn 1.2).

Generates (label, prediction) pairs with a fixed seed, split into windows, for each task a
model may declare: binary classification (integer 0/1 labels, string labels with a named
positive class, a positive class never predicted, a single class, perfect and all-wrong
predictions), multiclass (3 to 60 classes, strings and integers, classes only predicted or only
labelled, imbalanced) and regression (noisy linear, big offsets). test_quality --sklearn adds
each window's pairs to its sums, merges the windows as a drift report does, and prints the
figures; each is compared with sklearn.metrics' (accuracy_score, precision/recall/f1_score
with average='binary' and pos_label, or average='macro'; mean_absolute_error,
mean_squared_error, r2_score) to 1e-9. Prints one line; exit 1 on any difference.

usage: check_sklearn.py [PATH/TO/test_quality]   (default build/asan/tests/unit/test_quality)
"""
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, f1_score, mean_absolute_error, mean_squared_error, precision_score,
                             r2_score, recall_score)

SEED = 20261205
failures = []
checked = 0


def expect(what, got, want, tol=1e-9):
    global checked
    checked += 1
    if got is None or want is None:
        if not (got is None and want is None):
            failures.append(f"{what}: C {got!r}, sklearn {want!r}")
        return
    if abs(got - want) > tol * max(1.0, abs(want)):
        failures.append(f"{what}: C {got!r}, sklearn {want!r}")


def windows(pairs, rng):
    cuts = sorted(rng.choice(range(1, len(pairs)), size=min(5, len(pairs) - 1), replace=False)) if len(pairs) > 1 else []
    out, start = [], 0
    for c in list(cuts) + [len(pairs)]:
        out.append(pairs[start:c])
        start = c
    return out


def noisy(y, classes, rng, err):
    return [y_ if rng.random() > err else classes[rng.integers(len(classes))] for y_ in y]


def cases(rng):
    out = []
    for n, err in ((50, 0.1), (500, 0.3), (2000, 0.5)):
        y = [int(v) for v in rng.integers(0, 2, n)]
        out.append((f"binary 0/1 n={n} err={err}", "binary_classification", None, y, noisy(y, [0, 1], rng, err)))
    y = list(rng.choice(["spam", "ham"], 300, p=[0.2, 0.8]))
    out.append(("binary strings, positive 'spam'", "binary_classification", "spam", y, noisy(y, ["spam", "ham"], rng, 0.4)))
    y = [int(v) for v in rng.integers(0, 2, 100)]
    out.append(("binary, positive never predicted", "binary_classification", None, y, [0] * 100))
    out.append(("binary, one class", "binary_classification", None, [1] * 40, [1] * 30 + [0] * 10))
    out.append(("binary, perfect", "binary_classification", None, y, list(y)))
    out.append(("binary, all wrong", "binary_classification", None, y, [1 - v for v in y]))
    for k, n, err in ((3, 100, 0.2), (5, 1000, 0.5), (10, 3000, 0.7), (60, 5000, 0.3)):
        classes = [f"c{i}" for i in range(k)]
        p = np.arange(1, k + 1, dtype=float)
        y = list(rng.choice(classes, n, p=p / p.sum()))
        out.append((f"multiclass k={k} n={n} err={err}", "multiclass_classification", None, y, noisy(y, classes, rng, err)))
    y = [int(v) for v in rng.integers(0, 4, 400)]
    pred = [v if rng.random() > 0.3 else 7 for v in y]  # a class only predicted
    out.append(("multiclass ints, a class only predicted", "multiclass_classification", None, y, pred))
    y = ["a"] * 50 + ["b"] * 50 + ["z"] * 5
    out.append(("multiclass, a class only labelled", "multiclass_classification", None, y, ["a"] * 55 + ["b"] * 50))
    for n, scale, off in ((100, 1.0, 0.0), (2000, 5.0, 0.0), (500, 0.01, 1e4)):
        x = rng.normal(0, 1, n)
        y = [float(off + 3 * v) for v in x]
        pred = [float(off + 3 * v + rng.normal(0, scale)) for v in x]
        out.append((f"regression n={n} noise={scale} offset={off}", "regression", None, y, pred))
    return out


def sklearn_figures(task, pos, y, p):
    if task == "regression":
        return {"mae": mean_absolute_error(y, p), "rmse": math.sqrt(mean_squared_error(y, p)), "r2": r2_score(y, p)}
    f = {"accuracy": accuracy_score(y, p)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "binary_classification":
            pl = pos if pos is not None else 1
            labels = sorted(set(y) | set(p) | {pl}, key=str)
            kw = {"average": "binary", "pos_label": pl} if len(labels) <= 2 else {"average": None, "labels": [pl]}
            for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
                v = fn(y, p, zero_division=0, **kw)
                f[name] = float(v if np.ndim(v) == 0 else v[0])
        else:
            for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
                f[name] = float(fn(y, p, average="macro", zero_division=0))
    return f


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "build", "asan", "tests", "unit", "test_quality")
    rng = np.random.default_rng(SEED)
    cs = cases(rng)
    doc = {"cases": []}
    for what, task, pos, y, p in cs:
        pairs = [[a.item() if hasattr(a, "item") else a, b.item() if hasattr(b, "item") else b] for a, b in zip(y, p)]
        doc["cases"].append({"task": task, "positive_class": pos, "windows": windows(pairs, rng)})
    out = subprocess.run([tool, "--sklearn"], input=json.dumps(doc), capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    for (what, task, pos, y, p), c in zip(cs, got):
        if c.get("labelled") != len(y) or c.get("task") != task:
            failures.append(f"{what}: labelled {c.get('labelled')} task {c.get('task')}")
        for k, v in sklearn_figures(task, pos, y, p).items():
            expect(f"{what} {k}", c.get(k), v)
    if failures:
        print(f"quality vs sklearn: {len(failures)} of {checked} figures differ:")
        for f in failures[:40]:
            print("  " + f)
        sys.exit(1)
    print(f"quality vs sklearn: {checked} figures over {len(cs)} cases equal scikit-learn's to 1e-9")


main()
