"""Does the order of ingests change the customers? Ingest channel files one at a time in several orders
and all at once, each into a fresh store, and count the clusters that differ between the partitions.

A record is named by (source_file, source_sheet, source_row), which does not depend on the order.

    .venv/bin/python bench/order_independence.py                 # the four sample channels
    .venv/bin/python bench/order_independence.py --generated 20000  # bench/gen_people.py, 4 channel files
    .venv/bin/python bench/order_independence.py --neighbourhood    # as a store too big to re-cluster whole
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from custinfo.ingest.pipeline import ingest  # noqa: E402
from custinfo.store.store import Store  # noqa: E402

SAMPLES = ["web_form.csv", "call_center.csv", "trade_show.xlsx", "crm.xlsx"]


def partition(store: Path) -> frozenset:
    """The customers as a set of frozensets of order-free record names."""
    s = Store(store)
    recs = s.frame("records", columns=["record_id", "source_file", "source_sheet", "source_row"])
    recs = recs.merge(s.frame("membership"), on="record_id")
    key = recs["source_file"] + "|" + recs["source_sheet"].fillna("") + "|" + recs["source_row"].astype(str)
    return frozenset(frozenset(g) for _, g in key.groupby(recs["customer_id"]))


def run(files: list[Path], one_at_a_time: bool, tmp: Path) -> tuple[frozenset, float]:
    store = Path(tempfile.mkdtemp(dir=tmp))
    t0 = time.perf_counter()
    for batch in ([f] for f in files) if one_at_a_time else [files]:
        ingest(batch, store=Store(store))
    return partition(store), time.perf_counter() - t0


def generated(n: int, tmp: Path) -> list[Path]:
    """n generated records written as four channel exports (bench/scale.py's writers)."""
    from gen_people import generate
    from scale import write_exports

    df = generate(n, 7)
    df = df[df["channel"] != "purchased_list"]
    files, _ = write_exports(df, tmp, "oi")
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--generated", type=int, help="use this many generated records instead of samples/")
    ap.add_argument(
        "--neighbourhood",
        action="store_true",
        help="re-cluster only around each batch, as in stores over incremental.resolve_all_up_to records",
    )
    args = ap.parse_args()
    if args.neighbourhood:
        import dataclasses

        import custinfo.match as match

        load = match.load_settings
        match.load_settings = lambda *a: dataclasses.replace(load(*a), resolve_all_up_to=0)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        files = generated(args.generated, tmp) if args.generated else [ROOT / "samples" / f for f in SAMPLES]
        orders = {
            "all at once": (files, False),
            "in order": (files, True),
            "reversed": (files[::-1], True),
            "shuffled": ([files[i] for i in (2, 0, 3, 1)], True),
        }
        parts = {}
        for name, (fs, one) in orders.items():
            parts[name], secs = run(fs, one, tmp)
            print(
                f"{name:12s} {len(parts[name]):6d} customers  {secs:6.1f}s  load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        base = parts["all at once"]
        for name, p in parts.items():
            if name != "all at once":
                print(
                    f"{name:12s} clusters differing from all at once: {len(base ^ p)} "
                    f"({len(base - p)} of all-at-once, {len(p - base)} of this order)"
                )
        union = set().union(*parts.values())
        common = frozenset.intersection(*map(frozenset, parts.values()))
        print(f"clusters not in every run: {len(union - common)}")


if __name__ == "__main__":
    main()
