"""Comparison levels on Spark: custinfo's own comparison SQL (`gamma_sql`, run by DuckDB) in each
Spark task, over a slice of the candidate pairs joined with both records' features.

A task rebuilds a small `recs` table from the features its pairs carry and runs the very statement
the local engine runs, so the levels (and term frequencies) of every pair are the same.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...match.compare import Gammas, gamma_sql, pair_columns, tf_columns
from ...match.settings import MatchSettings


def feature_columns(settings: MatchSettings) -> list[str]:
    """The `recs` columns the comparisons read (besides idx)."""
    return pair_columns(settings) + [f"tf_{c}" for c in sorted(tf_columns(settings))]


def _gamma_task(settings: MatchSettings, cols: list[str], with_rules: bool):
    def run(batches):
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute("SET threads = 1")  # one Spark task per core already
        sql = gamma_sql(settings, "p", with_rules)
        for batch in batches:
            t = pa.Table.from_batches([batch])
            sides = [
                t.select([f"{s}_idx"] + [f"{s}_{c}" for c in cols]).rename_columns(["idx", *cols])
                for s in ("a", "b")
            ]
            con.register("recs_in", pa.concat_tables(sides))
            con.execute("CREATE OR REPLACE TEMP TABLE recs AS SELECT DISTINCT ON (idx) * FROM recs_in")
            con.register("p", t.select(["l", "r", "rules"]))
            out = con.sql(sql).to_arrow_table()
            con.unregister("p")
            con.unregister("recs_in")
            yield from out.to_batches()
        con.close()

    return run


def _schema(settings: MatchSettings, with_rules: bool):
    from pyspark.sql.types import ByteType, FloatType, IntegerType, LongType, StructField, StructType

    fields = [StructField("l", IntegerType()), StructField("r", IntegerType())]
    if with_rules:
        fields.append(StructField("rules", LongType()))
    fields += [StructField(f"g_{c.name}", ByteType()) for c in settings.comparisons]
    fields += [StructField(f"tf_{c}", FloatType()) for c in sorted(tf_columns(settings))]
    return StructType(fields)


def spark_gammas(recs, pairs, settings: MatchSettings, with_rules: bool = False) -> Gammas:
    """Levels of every pair of the Spark DataFrame `pairs` (l, r, rules) over the features `recs`."""
    from pyspark.sql import functions as F

    cols = feature_columns(settings)
    a = recs.select(*[F.col(c).alias(f"a_{c}") for c in ["idx", *cols]])
    b = recs.select(*[F.col(c).alias(f"b_{c}") for c in ["idx", *cols]])
    joined = pairs.join(a, pairs["l"] == a["a_idx"]).join(b, pairs["r"] == b["b_idx"])
    tbl = joined.mapInArrow(_gamma_task(settings, cols, with_rules), _schema(settings, with_rules)).toArrow()
    return _to_gammas(tbl, settings, with_rules)


def _to_gammas(tbl: pa.Table, settings: MatchSettings, with_rules: bool) -> Gammas:
    """The arrays `custinfo.match.compare.compute_gammas` returns, from the collected table."""
    n, k = tbl.num_rows, len(settings.comparisons)
    g = np.empty((n, k), dtype=np.int8)
    for j, c in enumerate(settings.comparisons):
        g[:, j] = tbl.column(f"g_{c.name}").to_numpy()
    tf = {c: tbl.column(f"tf_{c}").to_numpy().astype(np.float32) for c in sorted(tf_columns(settings))}
    left = tbl.column("l").to_numpy().astype(np.int32)
    right = tbl.column("r").to_numpy().astype(np.int32)
    rules = tbl.column("rules").to_numpy().astype(np.int64) if with_rules else None
    return Gammas(left, right, g, tf, rules)
