"""Comparison vectors: for every candidate pair, which level of each comparison it falls in.

One SQL statement over the pairs table computes every comparison as a CASE over its levels (DuckDB's
vectorized jaro_winkler_similarity, levenshtein, damerau_levenshtein, list functions), so no Python
runs per pair. Level numbers are positions in the configured list (0 = first level).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from .settings import _PAIR_COL, Comparison, MatchSettings


@dataclass
class Gammas:
    """Comparison levels of a batch of pairs (arrays aligned by position)."""

    left: np.ndarray  # int32 record index, left
    right: np.ndarray  # int32 record index, right
    g: np.ndarray  # int8 (pairs x comparisons): level number per comparison
    tf: dict[str, np.ndarray]  # tf column -> float32 larger term frequency of the two values
    rules: np.ndarray | None = None  # int64 bitmask of the blocking rules that produced each pair

    def __len__(self) -> int:
        return len(self.left)

    def take(self, mask: np.ndarray) -> Gammas:
        return Gammas(
            self.left[mask],
            self.right[mask],
            self.g[mask],
            {k: v[mask] for k, v in self.tf.items()},
            None if self.rules is None else self.rules[mask],
        )


def case_sql(comp: Comparison) -> str:
    """CASE expression giving the level number of `comp` for a pair."""
    whens = [f"WHEN {lv.condition} THEN {i}" for i, lv in enumerate(comp.levels) if lv.kind != "else"]
    return f"CAST(CASE {' '.join(whens)} ELSE {len(comp.levels) - 1} END AS TINYINT)"


def tf_columns(settings: MatchSettings) -> set[str]:
    return {lv.tf for c in settings.comparisons for lv in c.levels if lv.tf}


def pair_columns(settings: MatchSettings) -> list[str]:
    """Feature columns the level conditions read, as col_l / col_r."""
    cols: set[str] = set()
    for c in settings.comparisons:
        for lv in c.levels:
            cols |= {m.group(1) for m in _PAIR_COL.finditer(lv.condition)}
    return sorted(cols)


def gamma_sql(settings: MatchSettings, pairs_table: str, with_rules: bool = False) -> str:
    """SELECT l, r, g_<comparison>..., tf_<col>... over `pairs_table` joined twice to `recs`."""
    proj = ", ".join(f'a."{c}" AS "{c}_l", b."{c}" AS "{c}_r"' for c in pair_columns(settings))
    tfs = sorted(tf_columns(settings))
    tf_proj = "".join(f', coalesce(greatest(a."tf_{c}", b."tf_{c}"), 1.0) AS "tf_{c}"' for c in tfs)
    rules = ", p.rules" if with_rules else ""
    inner = (
        f"SELECT p.l, p.r{rules}{', ' if proj else ''}{proj}{tf_proj} FROM {pairs_table} p "
        "JOIN recs a ON p.l = a.idx JOIN recs b ON p.r = b.idx"
    )
    cases = "".join(f", {case_sql(c)} AS g_{c.name}" for c in settings.comparisons)
    tf_out = "".join(f', CAST("tf_{c}" AS FLOAT) AS "tf_{c}"' for c in tfs)
    return f"SELECT l, r{rules.replace('p.', '')}{cases}{tf_out} FROM ({inner})"


CHUNK_PAIRS = 400_000


def _chunks(con: duckdb.DuckDBPyConnection, pairs_table: str) -> list[str]:
    """Slices of the pairs table by ranges of l, each small enough to be the build side of the joins
    (so DuckDB hashes a slice of pairs, not the whole records table, and memory stays flat)."""
    n = con.sql(f"SELECT count(*) FROM {pairs_table}").fetchall()[0][0]
    k = -(-n // CHUNK_PAIRS)
    if k <= 1:
        return [pairs_table]
    qs = [i / k for i in range(1, k)]
    cuts = con.sql(f"SELECT quantile_disc(l, {qs}) FROM {pairs_table}").fetchall()[0][0]
    bounds = [None, *sorted(set(cuts)), None]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        cond = " AND ".join(
            x for x in (f"l >= {lo}" if lo is not None else "", f"l < {hi}" if hi is not None else "") if x
        )
        out.append(f"(SELECT * FROM {pairs_table} WHERE {cond})")
    return out


def compute_gammas(
    con: duckdb.DuckDBPyConnection, settings: MatchSettings, pairs_table: str, with_rules: bool = False
) -> Gammas:
    """Comparison levels for every pair in `pairs_table` (columns l, r[, rules]), in no particular order."""
    parts = [con.sql(gamma_sql(settings, t, with_rules)).to_arrow_table() for t in _chunks(con, pairs_table)]
    tbl = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return gammas_from_table(tbl, settings, with_rules)


def gammas_from_table(tbl: pa.Table, settings: MatchSettings, with_rules: bool) -> Gammas:
    """Gammas from a table of gamma_sql's columns (l, r, g_<comparison>, tf_<column>[, rules])."""
    n, k = tbl.num_rows, len(settings.comparisons)
    g = np.empty((n, k), dtype=np.int8)
    for j, c in enumerate(settings.comparisons):
        g[:, j] = tbl.column(f"g_{c.name}").to_numpy()
    tf = {c: tbl.column(f"tf_{c}").to_numpy().astype(np.float32) for c in sorted(tf_columns(settings))}
    left = tbl.column("l").to_numpy().astype(np.int32)
    r = tbl.column("r").to_numpy().astype(np.int32)
    rules = tbl.column("rules").to_numpy().astype(np.int64) if with_rules else None
    return Gammas(left, r, g, tf, rules)
