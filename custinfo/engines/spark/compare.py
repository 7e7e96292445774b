"""Comparison levels on Spark: custinfo's own comparison SQL (`gamma_sql`, run by DuckDB) in each
Spark task, over a slice of the candidate pairs.

The records' features are broadcast (Arrow IPC) and loaded once per Python worker as `recs`; each
task runs the very statement the local engine runs on its slice of pairs, so the levels (and term
frequencies) of every pair are the same. Joining both records' features to every pair in Spark
instead was measured 40x slower here (wide rows with list columns through the JVM and back).
"""

from __future__ import annotations

import math
import uuid

import pyarrow as pa

from ...match.compare import Gammas, gamma_sql, gammas_from_table, pair_columns, tf_columns
from ...match.settings import MatchSettings

PAIRS_PER_TASK = 500_000


def feature_columns(settings: MatchSettings) -> list[str]:
    """The `recs` columns the comparisons read (besides idx)."""
    return pair_columns(settings) + [f"tf_{c}" for c in sorted(tf_columns(settings))]


_WORKER: dict[str, object] = {}  # per Python worker: token -> DuckDB connection holding that `recs`


def _features_con(token: str, features):
    """A DuckDB connection with the broadcast feature table as `recs`, made once per worker process."""
    import duckdb

    con = _WORKER.get(token)
    if con is None:
        for old in list(_WORKER):  # the features of an earlier call are not needed again
            _WORKER.pop(old).close()
        con = duckdb.connect(":memory:")
        con.execute("SET threads = 1")  # one Spark task per core already
        con.execute("SET enable_progress_bar = false")  # a worker's stdout can be the terminal's
        con.register("recs_in", pa.ipc.open_stream(features.value).read_all())
        con.execute("CREATE TABLE recs AS SELECT * FROM recs_in")
        con.unregister("recs_in")
        _WORKER[token] = con
    return con


def _gamma_task(settings: MatchSettings, token: str, features, with_rules: bool):
    def run(batches):
        con = _features_con(token, features)
        sql = gamma_sql(settings, "p", with_rules)
        for batch in batches:
            con.register("p", batch)
            out = con.sql(sql).to_arrow_table()
            con.unregister("p")
            yield from out.to_batches()

    return run


def _schema(settings: MatchSettings, with_rules: bool):
    from pyspark.sql.types import ByteType, FloatType, IntegerType, LongType, StructField, StructType

    fields = [StructField("l", IntegerType()), StructField("r", IntegerType())]
    if with_rules:
        fields.append(StructField("rules", LongType()))
    fields += [StructField(f"g_{c.name}", ByteType()) for c in settings.comparisons]
    fields += [StructField(f"tf_{c}", FloatType()) for c in sorted(tf_columns(settings))]
    return StructType(fields)


def _ipc(tbl: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, tbl.schema) as w:
        w.write_table(tbl)
    return sink.getvalue().to_pybytes()


def spark_gammas(
    spark, features: pa.Table, pairs: pa.Table, settings: MatchSettings, with_rules: bool = False
) -> Gammas:
    """Levels of every pair (l, r, rules) over the feature table (idx + `feature_columns`).

    The features are broadcast once (each Python worker loads them into DuckDB once); only the
    pairs flow through Spark, split into tasks, so a task carries three integers per pair.
    """
    token = uuid.uuid4().hex
    bc = spark.sparkContext.broadcast(_ipc(features))
    try:
        parts = max(spark.sparkContext.defaultParallelism, math.ceil(pairs.num_rows / PAIRS_PER_TASK))
        sdf = spark.createDataFrame(pairs).repartition(parts)
        task = _gamma_task(settings, token, bc, with_rules)
        tbl = sdf.mapInArrow(task, _schema(settings, with_rules)).toArrow()
    finally:
        bc.unpersist()
    return gammas_from_table(tbl, settings, with_rules)
