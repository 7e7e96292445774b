"""Pairwise precision/recall/F1 of the customers custinfo builds from samples/ against samples/truth/truth.csv.

Run: .venv/bin/python bench/samples_quality.py   (ingests all samples into a temporary store)
"""
from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custinfo.ingest.pipeline import ingest  # noqa: E402
from custinfo.report.exports import export_frame  # noqa: E402
from custinfo.store.store import Store  # noqa: E402


def pairs(groups: pd.Series) -> set:
    out = set()
    for _, members in groups.groupby(groups):
        out |= set(itertools.combinations(sorted(members.index), 2))
    return out


def main() -> None:
    files = sorted((ROOT / "samples").glob("*.csv")) + sorted((ROOT / "samples").glob("*.xlsx"))
    truth = pd.read_csv(ROOT / "samples/truth/truth.csv", dtype=str).dropna(subset=["person_id"])
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        ingest(files, store=Store(tmp))
        took = time.perf_counter() - t
        recs = export_frame(Store(tmp), "records")
    recs["key"] = recs["source_file"] + "|" + recs["source_sheet"].fillna("") + "|" + recs["source_row"].astype(str)
    truth["key"] = truth["file"] + "|" + truth["sheet"].fillna("") + "|" + truth["source_row"]
    got = pairs(recs.set_index("key")["customer_id"])
    want = pairs(truth.set_index("key")["person_id"])
    tp = len(got & want)
    p, r = tp / max(len(got), 1), tp / max(len(want), 1)
    f1 = 2 * p * r / max(p + r, 1e-9)
    print(f"records {len(recs)}  customers {recs['customer_id'].nunique()}  true people {truth['person_id'].nunique()}")
    print(f"pairs found {len(got)}  true pairs {len(want)}  precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  ({took:.1f}s)")


if __name__ == "__main__":
    main()
