"""Incremental matching computes full features only for the records a new batch can meet.

Phase 1 gives every record (new and existing) just its blocking keys and blocks in incremental mode:
the pairs that touch a new record. Phase 2 builds the full features for the new records, the existing
records in those pairs, every other record of their customers (a customer joins whole), and a random
sample for measuring u. The statistics a score needs (how many names use a phone, an email, an
address; term frequencies) are still counted over all records, for the values those records hold.
A 10k batch against a million customers then costs a few seconds instead of a full rebuild.

`Matcher.resolve` (what ingest uses) builds on the same pieces to re-cluster the neighbourhood of a
batch from scratch, so that the customers do not depend on the order the batches came in: records are
numbered in an order of their own (`canonical_ranks`), pairs are blocked over all records and kept when
they touch a seed set (`pairs_touching`), and u and the prior are measured on a sample of all records
(`u_pool`), never on the batch. `match_incremental` (existing customers as fixed nodes) uses
`incremental_records`.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from . import blocking
from .blocking import BlockingOptions, block
from .compare import tf_columns
from .features import TF_KEPT, build_records, drop_tables, has_table
from .settings import MatchSettings

U_SAMPLE = 50_000  # existing records sampled for measuring u
PRIOR_SAMPLE = 20_000  # records whose candidate pairs measure the prior in bigger stores


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
    build_keys(con, s)
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


# -- re-resolving the neighbourhood of a batch (Matcher.resolve) ---------------------------------------


def canonical_ranks(frames: list[pd.DataFrame]) -> list[np.ndarray]:
    """Rank of every record of the frames (taken together) in an order that does not depend on the order
    the records were ingested in: by source file, then record id (the rows of one file arrive in one
    batch, numbered in file order), or by record id alone when there is no `source_file`.

    Record indexes follow this order, so that sampling, windows in big blocks and ties in clustering
    come out the same whichever batch a record came in."""
    ids = [arrow_text(df["record_id"], None) for df in frames]
    files = [
        (
            arrow_text(df["source_file"], "")
            if "source_file" in df.columns
            else pa.array([""] * len(df), pa.string())
        )
        for df in frames
    ]
    n = sum(len(df) for df in frames)
    if not n:
        return np.split(np.empty(0, dtype=np.int64), np.cumsum([len(df) for df in frames])[:-1])
    # Arrow sorts UTF-8 bytes, which is code point order, as Python compares str. The few files are
    # ranked through their dictionary and the ids alone, then both ranks sorted as integers (the same
    # order as one sort on the two text columns, which compares strings at every tie of the files).
    f = pc.dictionary_encode(chunked_text(files).combine_chunks())
    file_rank = _ranks(pc.sort_indices(f.dictionary).to_numpy())[f.indices.to_numpy(zero_copy_only=False)]
    all_ids = chunked_text(ids)
    id_order = pc.sort_indices(all_ids)
    refuse_repeated_ids(all_ids.take(id_order).combine_chunks())
    id_rank = _ranks(id_order.to_numpy())
    rank = _ranks(np.lexsort((id_rank, file_rank)))
    return np.split(rank, np.cumsum([len(df) for df in frames])[:-1])


def refuse_repeated_ids(ids: pa.Array, sort: bool = False) -> None:
    """InputError naming (up to five) record ids that occur twice. `ids` must be sorted, unless
    `sort` (then they are sorted here).

    Equal neighbours of the sorted ids: 0.03 s for a million, where counting the distinct ids
    (a hash of every one) took 0.35-0.9 s."""
    if len(ids) < 2:
        return
    ids = ids.take(pc.sort_indices(ids)) if sort else ids
    same = pc.equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    if pc.any(same).as_py():
        repeated = pc.unique(ids.slice(1).filter(same)).to_pylist()
        shown = ", ".join(map(str, repeated[:5]))
        raise InputError(f"record_id values must be unique; repeated: {shown}", key="record_id")


def chunked_text(arrays: list) -> pa.ChunkedArray:
    """The arrays (or chunked arrays) as one chunked array of strings. `pa.chunked_array` given a
    chunked array converts it value by value in python (0.7 s for a million record ids)."""
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    return pa.chunked_array(chunks, pa.string())


def _ranks(order: np.ndarray) -> np.ndarray:
    """Inverse of a sort order: the position of each element in it."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def arrow_text(s: pd.Series, missing: str | None) -> pa.Array:
    """`s.fillna(missing).astype(str)` (missing None: as astype(str) writes NaN) as Arrow strings."""
    try:
        arr = pa.Array.from_pandas(s, type=pa.string())
        if not arr.null_count:
            return arr
        if missing is not None:
            return pc.fill_null(arr, missing)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    s = s.fillna(missing) if missing is not None else s
    return pa.array(s.astype(str).to_numpy(dtype=object), type=pa.string())


def build_keys(con: duckdb.DuckDBPyConnection, settings: MatchSettings) -> None:
    """Table `recs_keys` from `src`: every record's blocking keys and what shared-value statistics read."""
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


def pairs_touching(
    con: duckdb.DuckDBPyConnection, settings: MatchSettings, seed: np.ndarray, name: str
) -> list[dict]:
    """Table `name(l, r, rules, first_rule)`: candidate pairs with a record of `seed`, blocked over all
    records (blocks and their windows are those of blocking everything at once, restricted to these pairs)."""
    s = settings
    con.register("seed_arrow", pa.table({"idx": np.asarray(seed, dtype=np.int32)}))
    con.execute("CREATE OR REPLACE TEMP TABLE seed_idx AS SELECT idx FROM seed_arrow")
    con.unregister("seed_arrow")
    con.execute("DROP VIEW IF EXISTS recs")
    if block is blocking.block:  # keyed once per resolve (not when an engine such as Spark blocks)
        if not has_table(con, "bkc_done"):
            con.execute("CREATE VIEW recs AS SELECT * FROM recs_keys")
            blocking.block_keys(con, s, s.window)
            con.execute("DROP VIEW recs")
            _keep_only(con, "recs_keys", STATS_COLUMNS)  # the rest was read by blocking alone
        plan = blocking.pairs_within(con, s, "seed_idx")
        con.execute(f"ALTER TABLE pairs RENAME TO {name}")
        return plan
    con.execute("""CREATE VIEW recs AS SELECT * REPLACE (idx IN (SELECT idx FROM seed_idx) AS is_new)
        FROM recs_keys""")
    plan = block(con, s, BlockingOptions("incremental", s.max_block_size, s.window))
    con.execute("DROP VIEW recs")
    con.execute(f"ALTER TABLE pairs RENAME TO {name}")
    return plan


# what the statistics of shared values (features._shared_tables) read from `recs_keys`
STATS_COLUMNS = ("idx", "name_letters", "phones_list", "emails_list", "address_key")


def _keep_only(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    """Drop the other columns of `table` (what they held is freed: DuckDB then spills less)."""
    for c in [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in columns]:
        con.execute(f'ALTER TABLE {table} DROP COLUMN "{c}"')


def release_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Drop `recs_keys` (every record's keys, the largest table) once the blocks are keyed: pairing
    more seeds then reads only the block tables. An engine that blocks by itself (Spark) keys
    `recs_keys` again on every call, so there it stays. The term frequencies kept for the features
    (features.TF_KEPT) go too: no more features are built."""
    if has_table(con, "bkc_done"):
        drop_tables(con, "recs_keys")
    kept = "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)"
    drop_tables(con, *(r[0] for r in con.execute(kept, [TF_KEPT]).fetchall()))


def pair_ends(con: duckdb.DuckDBPyConnection, table: str) -> np.ndarray:
    """Every record index appearing in a pairs table."""
    q = f"SELECT l AS i FROM {table} UNION SELECT r FROM {table}"
    return con.sql(q).fetchnumpy()["i"].astype(np.int64)


def whole_customers(idx: np.ndarray, grp: np.ndarray) -> np.ndarray:
    """`idx` plus every record of the customers (grp >= 0) those records belong to, sorted."""
    # boolean masks over the records, not sorting: a million records are marked in milliseconds
    met = np.zeros(int(grp.max(initial=-1)) + 1, dtype=bool)
    g = grp[idx]
    met[g[g >= 0]] = True
    out = np.zeros(len(grp), dtype=bool)
    out[idx] = True
    stored = grp >= 0
    out[stored] |= met[grp[stored]]
    return np.flatnonzero(out)


def index_union(n: int, *parts: np.ndarray) -> np.ndarray:
    """Sorted distinct record indexes (0..n-1) of all the arrays: np.union1d, by a mask over the records."""
    mask = np.zeros(n, dtype=bool)
    for p in parts:
        mask[p] = True
    return np.flatnonzero(mask)


def index_difference(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted distinct record indexes (0..n-1) of `a` that are not in `b`: np.setdiff1d, by a mask over
    the records (setdiff1d sorted a million indexes twice, 1.7 s of a first ingest where `a` = `b`)."""
    mask = np.zeros(n, dtype=bool)
    mask[a] = True
    mask[b] = False
    return np.flatnonzero(mask)


def u_pool(n: int, seed: int) -> np.ndarray:
    """Records whose random pairs measure u: a seeded sample of all records (stored and new), sorted."""
    if n <= U_SAMPLE:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=U_SAMPLE, replace=False))


def prior_pool(pool: np.ndarray, seed: int) -> np.ndarray:
    """Records whose candidate pairs measure the prior: a seeded sample of the u pool, sorted."""
    if len(pool) <= PRIOR_SAMPLE:
        return pool
    return np.sort(np.random.default_rng(seed + 1).choice(pool, size=PRIOR_SAMPLE, replace=False))


def select_pairs(con: duckdb.DuckDBPyConnection, table: str, idx: np.ndarray, name: str, both: bool) -> None:
    """Table `name`: the pairs of `table` with both records (or one) in `idx`."""
    con.register("sel_arrow", pa.table({"idx": np.asarray(idx, dtype=np.int32)}))
    con.execute("CREATE OR REPLACE TEMP TABLE sel_idx AS SELECT idx FROM sel_arrow")
    con.unregister("sel_arrow")
    op = "AND" if both else "OR"
    con.execute(f"""CREATE TEMP TABLE {name} AS SELECT * FROM {table}
        WHERE l IN (SELECT idx FROM sel_idx) {op} r IN (SELECT idx FROM sel_idx)""")


def build_features(
    con: duckdb.DuckDBPyConnection, settings: MatchSettings, keep: np.ndarray, last: bool = True,
    append: bool = False,
) -> None:
    """Table `recs_feat`: full features of the records `keep`, statistics counted over all records.
    `append`: added to the records `recs_feat` has (none of `keep`); `last`: the input records are
    let go after (no more features are built)."""
    s = settings
    if append:  # the records featurized so far; both parts are read through one view
        con.execute("ALTER TABLE recs_feat RENAME TO recs_feat_0")
    every = len(keep) == con.sql("SELECT count(*) FROM src").fetchall()[0][0]  # keep: distinct indexes
    if not every:  # a first ingest keeps every record: features are built from src, not from a copy
        # a view, not a copy of ~300k records' inputs: build_records materializes what it reads once
        # (the copy held ~100 MB while DuckDB was spilling at its limit)
        con.register("keep_arrow", pa.table({"idx": np.asarray(keep, dtype=np.int32)}))
        con.execute("CREATE OR REPLACE TEMP TABLE keep_idx AS SELECT idx FROM keep_arrow")
        con.unregister("keep_arrow")
        con.execute("CREATE TEMP VIEW src_part AS SELECT * FROM src WHERE idx IN (SELECT idx FROM keep_idx)")
    con.execute("DROP VIEW IF EXISTS recs")
    # Featurizing every record (a first ingest), the statistics are counted on these very records,
    # each list unnested once, not a second time from the keys of the same records: the same values
    # (list elements may come in another order), 10.3-10.8 -> 9.0-9.3 s of a first ingest of 1M.
    build_records(
        con,
        "src" if every else "src_part",
        s.columns,
        tf_columns(s),
        mobile_pattern=s.mobile_pattern,
        shared_min_names=s.shared_min_names,
        tf_source=None if every else "src",
        stats_source=None if every else "recs_keys",
    )
    con.execute("DROP VIEW IF EXISTS src_part")
    drop_tables(con, "keep_idx")
    # the registered input records (Arrow copies of their text columns' offsets, ~65 MB at a million
    # records in the traces) are not read after this: unregistered, freed before comparing and clustering
    if last:
        con.unregister("src")
    if append:  # a view, not a copy of the first part (an INSERT of 117k records took 0.44 s)
        con.execute("ALTER TABLE recs RENAME TO recs_feat_1")
        con.execute("CREATE VIEW recs_feat AS SELECT * FROM recs_feat_0 UNION ALL SELECT * FROM recs_feat_1")
    else:
        con.execute("ALTER TABLE recs RENAME TO recs_feat")
    con.execute("CREATE VIEW recs AS SELECT * FROM recs_feat")
