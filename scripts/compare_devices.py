#!/usr/bin/env python3
"""Compares two `taupe run` directories of the same configuration run on different devices
(scripts/gpu-check.sh): the encoder's loss curve, every floating-point dataset of encodings.h5
and pca.h5, the CV recalls and the verdicts. Prints one line per comparison; exits 0 (it
measures, the tolerance is judged by the reader against docs/building.md)."""
import json
import sys

import h5py
import numpy as np


def loss_rows(run):
    rows = []
    with open(f"{run}/model/encoder_training/loss.csv") as f:
        next(f)
        for line in f:
            rows.append(float(line.split(",")[2]))
    return np.array(rows)


def float_datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f":
                out[name] = np.asarray(obj, dtype=np.float64)
        f.visititems(visit)
    return out


def main(a, b):
    la, lb = loss_rows(a), loss_rows(b)
    n = min(len(la), len(lb))
    rel = np.abs(la[:n] - lb[:n]) / np.maximum(np.abs(la[:n]), 1e-12)
    print(f"encoder loss: {n} steps, max relative difference {rel.max():.3g} (step {int(rel.argmax())}), "
          f"final {la[n-1]:.6g} vs {lb[n-1]:.6g}")
    for file in ("encodings.h5", "model/pca.h5"):
        da, db = float_datasets(f"{a}/{file}"), float_datasets(f"{b}/{file}")
        worst = max(((np.abs(da[k] - db[k]).max() if da[k].shape == db[k].shape else np.inf), k)
                    for k in da if k in db and da[k].size) if da else (0.0, "-")
        print(f"{file}: {len(da)} float datasets, max absolute difference {worst[0]:.3g} ({worst[1]})")
    sa, sb = json.load(open(f"{a}/summary.json")), json.load(open(f"{b}/summary.json"))
    def recalls(s):
        cv = s.get("cv", {})
        m = cv.get("confusion_mean", [])
        return {name: m[i][i] for i, name in enumerate(cv.get("class_names", [])) if i < len(m)}
    ra, rb = recalls(sa), recalls(sb)
    print("cv recall (gated):", {k: (round(ra[k], 4), round(rb.get(k, float("nan")), 4)) for k in ra})
    va = [(v["experiment"], v["outcome"], v["direction"]) for v in sa.get("ground_truth", {}).get("verdicts", [])]
    vb = [(v["experiment"], v["outcome"], v["direction"]) for v in sb.get("ground_truth", {}).get("verdicts", [])]
    print("verdicts equal:", va == vb, va if va != vb else "")
    print("timings (s):", sa.get("timings_s"), "vs", sb.get("timings_s"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
