#!/usr/bin/python3
"""check_sklearn.py: the scoring library against scikit-learn (Debian's python3-sklearn 1.2).

Generates datasets with a fixed seed (random ones, and edges: ties, a single class, all
predictions wrong, a label only predicted, probabilities not summing to one, zeros and ones
that log loss clips, constant and zero y_true, subsets), writes each as a ground truth and a
predictions file (CSV with LF or CRLF, JSON Lines with flat or nested probabilities, the
predictions shuffled, labels with commas, quotes, line feeds and non-ASCII text), scores them
with the C library (test_scoring --score) and with sklearn, and compares every metric to
1e-9 relative. A value sklearn refuses (raises, or returns NaN) must be undefined in C too.
Files sklearn would also refuse (NaN, missing and duplicate ids) must fail in C with the
right error. Prints one summary line; exit 1 on any difference.

usage: check_sklearn.py [PATH/TO/test_scoring]   (default build/asan/tests/unit/test_scoring)
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import sklearn
from sklearn import metrics as M

RTOL = 1e-9
SEED = 20261115

CLS_METRICS = [
    "accuracy", "balanced_accuracy",
    "precision", "precision_macro", "precision_micro", "precision_weighted",
    "recall", "recall_macro", "recall_micro", "recall_weighted",
    "f1", "f1_macro", "f1_micro", "f1_weighted",
    "roc_auc", "roc_auc_ovr", "roc_auc_ovr_weighted", "log_loss", "top_k_accuracy",
]
REG_METRICS = ["rmse", "mae", "r2", "mape"]
LABEL_POOL = ["cat", "dog", "bird, small", 'q"uote', "café", "Ünïcode", "日本", "A", "a", "B",
              "1", "10", "2", "line\nbreak", " spaced ", "\U0001F600", "proba_x", "0", "z"]


# ---- scikit-learn's values ----

def sk_classification(metric, yt, yp, P, classes, pos, k):
    """sklearn's value, or None where it raises or gives NaN. P: columns in classes' order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            v = _sk_classification(metric, yt, yp, P, classes, pos, k)
        except ValueError:
            return None
    return None if v is None or math.isnan(v) else float(v)


def _sk_classification(metric, yt, yp, P, classes, pos, k):
    prf = {"precision": M.precision_score, "recall": M.recall_score, "f1": M.f1_score}
    base, _, avg = metric.partition("_")
    if metric == "accuracy":
        return M.accuracy_score(yt, yp)
    if metric == "balanced_accuracy":
        return M.balanced_accuracy_score(yt, yp)
    if base in prf:
        if avg:
            return prf[base](yt, yp, average=avg)
        return prf[base](yt, yp, average="binary", pos_label=pos)
    if metric == "roc_auc":
        return M.roc_auc_score((yt == pos).astype(int), P[:, classes.index(pos)])
    if metric.startswith("roc_auc_ovr"):
        average = "weighted" if metric.endswith("weighted") else "macro"
        if len(classes) > 2:
            return M.roc_auc_score(yt, P, multi_class="ovr", average=average, labels=classes)
        onehot = (yt[:, None] == np.array(classes)[None, :]).astype(int)
        return M.roc_auc_score(onehot, P, average=average)
    if metric == "log_loss":
        return M.log_loss(yt, P, labels=classes)
    if metric == "top_k_accuracy":
        score = P[:, 1] if len(classes) == 2 else P
        return M.top_k_accuracy_score(yt, score, k=k, labels=classes)
    raise KeyError(metric)


def sk_regression(metric, t, p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if metric == "rmse":
            v = M.mean_squared_error(t, p, squared=False)
        elif metric == "mae":
            v = M.mean_absolute_error(t, p)
        elif metric == "r2":
            v = M.r2_score(t, p)
        else:
            v = M.mean_absolute_percentage_error(t, p)
    return None if math.isnan(v) else float(v)


# ---- files ----

def csv_field(s):
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def num(rng, x):
    """x as text, in one of several spellings that read back to the same double."""
    r = rng.random()
    if r < 0.6:
        return repr(float(x))
    if r < 0.8:
        return "%.17g" % x
    return "%.17e" % x


def write_csv(path, header, rows, crlf):
    eol = "\r\n" if crlf else "\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(csv_field(h) for h in header) + eol)
        for r in rows:
            f.write(",".join(csv_field(x) for x in r) + eol)


def write_jsonl(path, objs):
    with open(path, "w", encoding="utf-8", newline="") as f:
        for o in objs:
            f.write(json.dumps(o, ensure_ascii=bool(len(o) % 2), allow_nan=True) + "\n")


def write_truth(rng, d, path, fmt, labels):
    ids = d["ids"]
    if fmt == "csv":
        write_csv(path, ["id", "label", "note"],
                  [[i, lab if isinstance(lab, str) else num(rng, lab), "x,y"] for i, lab in zip(ids, labels)],
                  rng.random() < 0.5)
    else:
        write_jsonl(path, [{"id": i, "label": lab} for i, lab in zip(ids, labels)])


def write_pred_cls(rng, d, path, fmt, order):
    classes, P, yp, ids = d["classes"], d["P"], d["yp"], d["ids"]
    nested = rng.random() < 0.5
    if fmt == "csv":
        header = ["id", "prediction"] + ["proba_" + c for c in reversed(classes)]
        rows = [[ids[i], yp[i]] + [d["ptext"][i][j] for j in reversed(range(len(classes)))] for i in order]
        write_csv(path, header, rows, rng.random() < 0.5)
        return
    objs = []
    for i in order:
        probs = {c: P[i, j] for j, c in enumerate(classes)}
        if nested:
            objs.append({"prediction": yp[i], "id": ids[i], "proba": probs})
        else:
            o = {"id": ids[i], "prediction": yp[i]}
            o.update({"proba_" + c: v for c, v in probs.items()})
            objs.append(o)
    write_jsonl(path, objs)


def write_pred_reg(rng, d, path, fmt, order):
    ids, p = d["ids"], d["p"]
    if fmt == "csv":
        write_csv(path, ["prediction", "id"], [[num(rng, p[i]), ids[i]] for i in order], rng.random() < 0.5)
    else:
        write_jsonl(path, [{"id": ids[i], "prediction": float(p[i])} for i in order])


# ---- datasets ----

def make_ids(rng, n):
    ids = ["id%d" % i for i in rng.permutation(n * 3)[:n]]
    return [s + ",q" if j % 17 == 3 else s for j, s in enumerate(ids)]


def probabilities(rng, n, kk, style):
    if style == "ties":
        P = np.round(rng.random((n, kk)), 1)
    elif style == "extremes":
        P = rng.choice([0.0, 1.0, 0.5, 1e-300, 1 - 1e-17], size=(n, kk))
    elif style == "unnormalised":
        P = rng.random((n, kk)) * 0.9
    else:
        P = rng.dirichlet(np.ones(kk), size=n)
    return P


def cls_case(rng, name, n, kk, style="dirichlet", truth_classes=None, wrong=False, extra_pred=False,
             pos=None, k=None, subset=False, chunk=None, pool=LABEL_POOL):
    classes = sorted(rng.choice(pool, size=kk, replace=False).tolist())
    present = classes if truth_classes is None else classes[:truth_classes]
    yt = np.array(rng.choice(present, size=n).tolist(), dtype=object)
    P = probabilities(rng, n, kk, style)
    yp = [classes[int(np.argmax(P[i]))] if rng.random() < 0.7 else rng.choice(classes) for i in range(n)]
    if wrong:
        yp = [classes[(classes.index(y) + 1) % kk] for y in yt]
    if extra_pred:
        yp = [y if rng.random() < 0.8 else "only_predicted" for y in yp]
    d = {"name": name, "task": "cls", "ids": make_ids(rng, n), "classes": classes, "P": P,
         "yt": yt, "yp": np.array(yp, dtype=object), "k": k or int(rng.integers(1, kk + 1)),
         "pos": pos if pos is not None else rng.choice(classes + ["absent"]), "chunk": chunk}
    d["ptext"] = [[num(rng, x) for x in row] for row in P]
    d["P"] = np.array([[float(x) for x in row] for row in d["ptext"]])
    d["select"] = rng.random(n) < 0.3 if subset else None
    return d


def reg_case(rng, name, n, style="normal", subset=False, chunk=None):
    if style == "constant":
        t = np.full(n, 0.1)
        p = t + (rng.random(n) < 0.5) * rng.normal(size=n)
    elif style == "constant_exact":
        t = np.full(n, 3.0)
        p = t.copy()
    elif style == "zeros":
        t = np.where(rng.random(n) < 0.4, 0.0, rng.normal(size=n))
        p = t + rng.normal(size=n) * 0.1
    elif style == "wide":
        t = rng.normal(size=n) * 10.0 ** rng.integers(-8, 12, size=n)
        p = t * (1 + rng.normal(size=n) * 1e-3)
    else:
        t = rng.normal(size=n) * 100
        p = t + rng.normal(size=n) * 10
    return {"name": name, "task": "reg", "ids": make_ids(rng, n), "t": t, "p": p,
            "select": rng.random(n) < 0.3 if subset else None, "chunk": chunk}


def datasets(rng):
    out = []
    for n in (1, 2, 3, 7, 50, 400, 5000):
        for kk in (2, 3, 5):
            out.append(cls_case(rng, "random n=%d k=%d" % (n, kk), n, kk))
    for kk in (2, 3, 4):
        out.append(cls_case(rng, "ties k=%d" % kk, 300, kk, style="ties"))
        out.append(cls_case(rng, "ties, top-1 k=%d" % kk, 300, kk, style="ties", k=1))
        out.append(cls_case(rng, "extremes k=%d" % kk, 200, kk, style="extremes"))
        out.append(cls_case(rng, "unnormalised k=%d" % kk, 200, kk, style="unnormalised"))
        out.append(cls_case(rng, "single class k=%d" % kk, 60, kk, truth_classes=1))
        out.append(cls_case(rng, "all wrong k=%d" % kk, 60, kk, wrong=True))
        out.append(cls_case(rng, "predicted-only label k=%d" % kk, 80, kk, extra_pred=True))
        out.append(cls_case(rng, "subset k=%d" % kk, 500, kk, subset=True))
        out.append(cls_case(rng, "chunks of 7 bytes k=%d" % kk, 40, kk, chunk=7))
    out.append(cls_case(rng, "two of three classes in the truth", 100, 3, truth_classes=2))
    out.append(cls_case(rng, "many classes", 3000, 12))
    out.append(cls_case(rng, "many classes, ties", 3000, 12, style="ties"))
    out.append(cls_case(rng, "large binary", 20000, 2))
    for n in (1, 2, 5, 100, 10000):
        out.append(reg_case(rng, "regression n=%d" % n, n))
    for style in ("constant", "constant_exact", "zeros", "wide"):
        out.append(reg_case(rng, "regression " + style, 200, style=style))
        out.append(reg_case(rng, "regression %s subset" % style, 300, style=style, subset=True))
    out.append(reg_case(rng, "regression chunks of 5 bytes", 50, chunk=5))
    out.append(reg_case(rng, "regression constant 0.1 x 3", 3, style="constant"))
    return out


# ---- running and comparing ----

def run_c(tool, tmp, d, metrics, tfmt, pfmt, extra=()):
    truth, pred = os.path.join(tmp, "truth." + tfmt), os.path.join(tmp, "pred." + pfmt)
    args = [tool, "--score", "--metrics", ",".join(metrics), "--truth-format", tfmt, "--pred-format", pfmt]
    args += list(extra)
    if d.get("chunk"):
        args += ["--chunk", str(d["chunk"])]
    if d.get("select") is not None:
        sel = os.path.join(tmp, "select")
        with open(sel, "w") as f:
            f.write("".join("1" if s else "0" for s in d["select"]))
        args += ["--select", sel]
    r = subprocess.run(args + [truth, pred], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("%s: test_scoring failed (%d): %s" % (d["name"], r.returncode, r.stderr[-2000:]))
    return json.loads(r.stdout)


def c_value(entry):
    if "undefined" in entry:
        return None
    return float(entry["value"])


class Tally:
    def __init__(self):
        self.values = self.exact = self.undefined = self.refusals = 0
        self.worst = (0.0, "")
        self.failures = []

    def compare(self, case, metric, c, sk):
        self.values += 1
        if c is None or sk is None:
            if c is not None or sk is not None:
                self.failures.append("%s: %s: C %r, sklearn %r" % (case, metric, c, sk))
            self.undefined += 1
            return
        if c == sk:
            self.exact += 1
            return
        rel = abs(c - sk) / max(abs(c), abs(sk))
        if rel > self.worst[0]:
            self.worst = (rel, "%s: %s" % (case, metric))
        if not rel <= RTOL:
            self.failures.append("%s: %s: C %.17g, sklearn %.17g (relative %.3g)" % (case, metric, c, sk, rel))


def check_cls(rng, tool, tmp, d, tally):
    classes, pos = d["classes"], d["pos"]
    metrics = [m for m in CLS_METRICS if m != "roc_auc" or pos in classes]
    tfmt, pfmt = rng.choice(["csv", "jsonl"]), rng.choice(["csv", "jsonl"])
    write_truth(rng, d, os.path.join(tmp, "truth." + tfmt), tfmt, list(d["yt"]))
    write_pred_cls(rng, d, os.path.join(tmp, "pred." + pfmt), pfmt, rng.permutation(len(d["ids"])))
    out = run_c(tool, tmp, d, metrics, tfmt, pfmt, ["--pos-label", pos, "--top-k", str(d["k"]), "--confusion"])
    if "error" in out:
        raise RuntimeError("%s: %s" % (d["name"], out["error"]))
    yt, yp, P = d["yt"], d["yp"], d["P"]
    if d["select"] is not None:
        yt, yp, P = yt[d["select"]], yp[d["select"]], P[d["select"]]
    for m in metrics:
        sk = None if len(yt) == 0 else sk_classification(m, yt.astype(str), yp.astype(str), P, classes, pos, d["k"])
        tally.compare(d["name"], m, c_value(out["metrics"][m]), sk)
    if len(yt):
        labels = sorted(set(yt) | set(yp))
        cm = M.confusion_matrix(yt.astype(str), yp.astype(str), labels=labels).tolist()
        tally.compare(d["name"], "confusion matrix", 1.0 if out["confusion"] == {"labels": labels, "counts": cm}
                      else 0.0, 1.0)


def check_reg(rng, tool, tmp, d, tally):
    tfmt, pfmt = rng.choice(["csv", "jsonl"]), rng.choice(["csv", "jsonl"])
    write_truth(rng, d, os.path.join(tmp, "truth." + tfmt), tfmt, [float(x) for x in d["t"]])
    write_pred_reg(rng, d, os.path.join(tmp, "pred." + pfmt), pfmt, rng.permutation(len(d["ids"])))
    out = run_c(tool, tmp, d, REG_METRICS, tfmt, pfmt)
    if "error" in out:
        raise RuntimeError("%s: %s" % (d["name"], out["error"]))
    t, p = d["t"], d["p"]
    if d["select"] is not None:
        t, p = t[d["select"]], p[d["select"]]
    for m in REG_METRICS:
        sk = None if len(t) == 0 else sk_regression(m, t, p)
        tally.compare(d["name"], m, c_value(out["metrics"][m]), sk)


def check_refusals(rng, tool, tmp, tally):
    """Inputs sklearn refuses (NaN; lengths that differ: a missing or a duplicate id): C
    refuses them too, naming the error and its line."""
    d = cls_case(rng, "refusals", 20, 3, pool=["cat", "dog", "bird, small"])
    classes, yt, yp = d["classes"], d["yt"], d["yp"]
    cases = []
    ptext = [row[:] for row in d["ptext"]]
    ptext[5][1] = "nan"
    cases.append(("a NaN probability", "nan", 7, ptext, list(range(20)),
                  lambda: M.log_loss(yt, np.array([[float(x) for x in r] for r in ptext]), labels=classes)))
    cases.append(("a missing id", "missing_id", 0, d["ptext"], list(range(19)),
                  lambda: M.accuracy_score(yt, yp[:19])))
    cases.append(("a duplicate id", "duplicate_id", 22, d["ptext"], list(range(20)) + [3],
                  lambda: M.accuracy_score(yt, np.append(yp, yp[3]))))
    for name, kind, line, ptext_, order, sk in cases:
        write_truth(rng, d, os.path.join(tmp, "truth.csv"), "csv", list(yt))
        rows = [[d["ids"][i], yp[i]] + ptext_[i] for i in order]
        write_csv(os.path.join(tmp, "pred.csv"), ["id", "prediction"] + ["proba_" + c for c in classes], rows, False)
        out = run_c(tool, tmp, {"name": name}, ["accuracy", "log_loss"], "csv", "csv")
        err = out.get("error", {})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sk()
            refused = False
        except ValueError:
            refused = True
        tally.refusals += 1
        if err.get("kind") != kind or err.get("line") != line or not refused:
            tally.failures.append("%s: C %r, sklearn refused: %s" % (name, err or out, refused))


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else "build/asan/tests/unit/test_scoring"
    rng = np.random.default_rng(SEED)
    tally = Tally()
    cases = datasets(rng)
    with tempfile.TemporaryDirectory(prefix="atrium-scoring-") as tmp:
        for d in cases:
            (check_cls if d["task"] == "cls" else check_reg)(rng, tool, tmp, d, tally)
        check_refusals(rng, tool, tmp, tally)
    for f in tally.failures[:40]:
        print("DIFFERENT: " + f)
    print("check_sklearn: scikit-learn %s, numpy %s: %d datasets, %d values compared (%d equal to the bit, "
          "%d undefined in both), max relative difference %.3g%s; %d refusals agreed; %s" % (
              sklearn.__version__, np.__version__, len(cases), tally.values, tally.exact, tally.undefined,
              tally.worst[0], " (" + tally.worst[1] + ")" if tally.worst[1] else "",
              tally.refusals, "%d DIFFERENT" % len(tally.failures) if tally.failures else "all agree"))
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
