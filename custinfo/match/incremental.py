"""Incremental matching computes full features only for the records a new batch can meet.

Phase 1 gives every record (new and existing) just its blocking keys and blocks in incremental mode:
the pairs that touch a new record. Phase 2 builds the full features for the new records, the existing
records in those pairs, every other record of their customers (a customer joins whole), and a random
sample for measuring u. The statistics a score needs (how many names use a phone, an email, an
address; term frequencies) are still counted over all records, for the values those records hold.
A 10k batch against a million customers then costs a few seconds instead of a full rebuild.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from .blocking import BlockingOptions, block
from .compare import tf_columns
from .features import build_records
from .settings import MatchSettings

U_SAMPLE = 50_000  # existing records sampled for measuring u


def key_columns(settings: MatchSettings) -> set[str]:
    """Feature columns blocking and the shared-value statistics read."""
    cols = {"name_letters", "name_key", "phones_list", "emails_list", "address_key"}
    for rule in settings.blocking_rules:
        cols |= {k.column for k in rule.on} | {k.column for k in rule.refine}
    return cols


def incremental_records(
    con: duckdb.DuckDBPyConnection, settings: MatchSettings, n_new: int, codes: np.ndarray
) -> tuple[list[dict], np.ndarray]:
    """From table `src` (new records first): tables `pairs` and `recs`; return the plan and the u pool."""
    s = settings
    build_records(
        con,
        "src",
        key_columns(s),
        set(),
        mobile_pattern=s.mobile_pattern,
        shared_min_names=s.shared_min_names,
    )
    con.execute("ALTER TABLE recs RENAME TO recs_keys")
    con.execute("CREATE VIEW recs AS SELECT * FROM recs_keys")
    plan = block(con, s, BlockingOptions("incremental", s.max_block_size, s.window))
    con.execute("DROP VIEW recs")
    paired = con.sql("SELECT l AS i FROM pairs UNION SELECT r FROM pairs").fetchnumpy()["i"].astype(np.int64)
    ex = paired[paired >= n_new] - n_new
    customers = np.unique(codes[ex])
    rng = np.random.default_rng(s.seed)
    sample = rng.choice(len(codes), size=min(U_SAMPLE, len(codes)), replace=False) if len(codes) else ex[:0]
    keep_ex = np.union1d(np.flatnonzero(np.isin(codes, customers)), sample)
    keep = np.r_[np.arange(n_new), n_new + keep_ex].astype(np.int32)
    con.register("keep_idx", pa.table({"idx": keep}))
    con.execute("CREATE TEMP TABLE src_part AS SELECT * FROM src WHERE idx IN (SELECT idx FROM keep_idx)")
    con.unregister("keep_idx")
    build_records(
        con,
        "src_part",
        s.columns,
        tf_columns(s),
        mobile_pattern=s.mobile_pattern,
        shared_min_names=s.shared_min_names,
        tf_source="src",
        stats_source="recs_keys",
    )
    for t in ("src_part", "recs_keys"):
        con.execute(f"DROP TABLE {t}")
    con.unregister("src")
    pool = np.r_[np.arange(n_new), n_new + np.sort(sample)]
    return plan, pool
