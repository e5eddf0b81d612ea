"""summary.json and taupe's CSV tables (RFC 4180, header row; docs/report.md)."""
import csv
import json

import numpy as np


def read_csv(path):
    """Column name -> numpy array (float64 when every value of the column is a number, else str)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty CSV (no header)")
    header, body = rows[0], [r for r in rows[1:] if r]
    out = {}
    for i, name in enumerate(header):
        col = [r[i] for r in body]
        try:
            out[name] = np.array([float(v) for v in col], dtype=np.float64)
        except ValueError:
            out[name] = np.array(col, dtype=object)
    return out


def read_summary(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
