"""`custinfo dedupe FILE...`: one-off deduplication of a list (e.g. a pile of name cards), no store.

Every input row comes back, in order, with its original columns plus `cluster_id`, `cluster_size`
and `match_score`; optionally one golden row per customer and the uncertain pairs for review.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import load_config
from .ingest.normalize_file import normalize_sheet, read_sheets
from .merge.survivorship import golden_records


@dataclass
class DedupeOutput:
    rows: pd.DataFrame  # original columns + cluster_id, cluster_size, match_score
    golden: pd.DataFrame  # one row per cluster
    review: pd.DataFrame  # uncertain pairs side by side
    plan: list
    stats: dict


def dedupe_files(paths: list[str | Path], *, channel: str | None = None, config_file: str | Path | None = None,
                 encoding: str | None = None, review_low: float = 0.3, review_high: float = 0.9,
                 engine: str = "local", spark_master: str | None = None) -> DedupeOutput:
    """Deduplicate the rows of one or several files (`engine="spark"`: normalize, block, score on Spark)."""
    from .match import Matcher, load_settings

    if engine != "local":
        from .engines import engine_context

        with engine_context(engine, spark_master):
            return dedupe_files(paths, channel=channel, config_file=config_file, encoding=encoding,
                                review_low=review_low, review_high=review_high)

    config = load_config(config_file, channel)
    originals, normalized = [], []
    for path in paths:
        for sd in read_sheets(path, config, encoding):
            norm = normalize_sheet(sd, config, keep_raw=False)
            originals.append(pd.concat([norm[["source_file", "source_sheet", "source_row"]], sd.frame], axis=1))
            normalized.append(norm)
    orig = pd.concat(originals, ignore_index=True)
    norm = pd.concat(normalized, ignore_index=True)
    norm.insert(0, "record_id", [f"row{i + 1}" for i in range(len(norm))])
    res = Matcher(load_settings()).dedupe(norm)
    cl = res.clusters.set_index("record_id").reindex(norm["record_id"])
    rows = orig.copy()
    rows["cluster_id"] = cl["cluster_id"].to_numpy()
    rows["cluster_size"] = cl["cluster_size"].to_numpy()
    rows["match_score"] = cl["match_score"].to_numpy()
    golden = _golden(norm, cl["cluster_id"].to_numpy(), config)
    review = _review(norm, res.uncertain(review_low, review_high))
    stats = {"rows": len(rows), "clusters": int(rows["cluster_id"].nunique()),
             "duplicate_rows": int(len(rows) - rows["cluster_id"].nunique()), "review_pairs": len(review)}
    return DedupeOutput(rows, golden, review, res.plan, stats)


def _golden(norm: pd.DataFrame, clusters, config) -> pd.DataFrame:
    recs = norm.assign(customer_id=clusters, channel=norm["source_file"], ingested_at="")
    g = golden_records(recs, config.trust, config.survivorship)
    g = g.rename(columns={"customer_id": "cluster_id"})
    keep = ["cluster_id", "n_records", "name", "gender", "birth_date", "phone", "phones", "email", "emails",
            "company", "title", "province", "city", "district", "address", "postcode", "national_id",
            "other_id"]
    return g[keep]


def _review(norm: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Uncertain pairs with both records' fields side by side, for a person to decide."""
    cols = ["source_file", "source_row", "name", "phone", "email", "company", "city", "address", "birth_date"]
    base = norm.set_index("record_id")[cols]
    if not len(pairs):
        return pd.DataFrame(columns=["match_probability", "decision"] + [f"{c}_a" for c in cols] + [f"{c}_b" for c in cols])
    left = base.reindex(pairs["record_id_l"]).add_suffix("_a").reset_index(drop=True)
    right = base.reindex(pairs["record_id_r"]).add_suffix("_b").reset_index(drop=True)
    out = pd.concat([pairs[["match_probability"]].reset_index(drop=True), left, right], axis=1)
    out.insert(1, "decision", "")
    return out.sort_values("match_probability", ascending=False).reset_index(drop=True)
