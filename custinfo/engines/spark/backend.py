"""`spark_backend()`: the local pipeline, with its heavy steps executed by Spark.

`custinfo ingest` and `custinfo dedupe` stay one code path. Three seams of that path are pointed at
Spark while the backend is on, so reading the store, model estimation, clustering, folding and the
commit are the very code the local engine runs (one Delta store format, one manifest per command):

- reading the input files (`_prepare_each`, ingest/pipeline.py) -> `prepare_on_spark`: each file
  read and header-mapped in a Spark task of its own (executors read the paths; standard input is
  read on the driver), its rows normalized there (small files) or in slices by other tasks;
- `normalize_frame` (ingest/prepare.py, ingest/normalize_file.py) -> `normalize_on_spark`
  (what the driver still normalizes: standard input, and `dedupe`, which reads on the driver);
- blocking (`block`, match/engine.py and match/incremental.py) -> `spark_block`: the candidate pairs
  of the settings' rules as Spark joins; the pairs also land in the DuckDB session as table `pairs`;
- the levels of the candidate pairs (`compute_gammas` on `pairs`, match/engine.py) ->
  `spark_gammas`: custinfo's comparison SQL per partition of pairs in Spark tasks. Other calls
  (the random pairs that measure u, rescoring a few pairs while clustering) stay in DuckDB;
- the connected components of the linked nodes (`connected_components`, match/cluster.py, which
  `cluster()` calls for every dedupe, link, incremental and resolve) -> `spark_components`: Spark
  jobs over the edge DataFrame. The rest of `cluster()` (checking the components of three nodes or
  more, scoring their missing pairs with the engine's DuckDB features, average linkage) is the
  same code on the driver, over the components Spark found.

The features (`recs`) are built once by the match engine on the driver and shipped to Spark as Arrow.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from ...ingest import pipeline as _pipeline
from ...match import compare as _compare
from .blocking import spark_block
from .compare import feature_columns, spark_gammas
from .components import spark_components
from .normalize import normalize_on_spark
from .read import prepare_on_spark
from .session import spark_session

_LOCK = threading.Lock()  # the seams are module attributes: one Spark pipeline per process at a time


# Pairs tables the match engine scores a few at a time (u's random pairs, rescoring while clustering):
# shipping them to Spark would cost more than scoring them where they are.
LOCAL_PAIR_TABLES = frozenset({"upairs_arrow", "rescore_pairs"})


class _SparkSeams:
    """The Spark implementations of the seams, sharing one session."""

    def __init__(self, spark):
        self.spark = spark

    def normalize(self, df, opts=None):
        return normalize_on_spark(self.spark, df, opts)

    @staticmethod
    def _features(con, columns: list[str]):
        """The engine's feature table `recs` (idx, is_new, grp and those of `columns` it has), as Arrow."""
        have = {r[0] for r in con.execute("DESCRIBE recs").fetchall()}
        cols = ["idx", "is_new", "grp"] + [
            c for c in columns if c in have and c not in ("idx", "is_new", "grp")
        ]
        return con.sql("SELECT " + ", ".join(f'"{c}"' for c in cols) + " FROM recs").to_arrow_table()

    def _recs(self, con, columns: list[str]):
        """The same as a Spark DataFrame."""
        return self.spark.createDataFrame(self._features(con, columns))

    def block(self, con, settings, opts):
        keys = {"name_letters", "name_key"} | {
            k.column for r in settings.blocking_rules for k in r.on + r.refine
        }
        pairs, plan = spark_block(self._recs(con, sorted(keys)), settings, opts)
        con.register("spark_pairs", pairs)
        con.execute("CREATE OR REPLACE TEMP TABLE pairs AS SELECT * FROM spark_pairs")
        con.unregister("spark_pairs")
        return plan

    def compute_gammas(self, con, settings, pairs_table, with_rules=False):
        local = _ORIGINAL["compute_gammas"]
        if pairs_table in LOCAL_PAIR_TABLES:
            return local(con, settings, pairs_table, with_rules)
        # the pairs are read from the engine's table each time: it may have been filtered or renamed
        cols = "l, r, " + ("rules" if with_rules else "CAST(0 AS BIGINT) AS rules")
        tbl = con.sql(f"SELECT {cols} FROM {pairs_table}").to_arrow_table()
        if tbl.num_rows == 0:
            return local(con, settings, pairs_table, with_rules)
        return spark_gammas(
            self.spark, self._features(con, feature_columns(settings)), tbl, settings, with_rules
        )

    def prepare_each(self, paths, configs, channel, encoding, progress, policy):
        """`pipeline._prepare_each`: the PreparedFile of every path, read in Spark tasks."""
        from ...ingest.pipeline import infer_channel

        jobs = []
        for i, p in enumerate(paths):
            config = configs[channel or infer_channel(p)]
            jobs.append((i, p, config, encoding, policy.allowed_fields(config.channel)))

        def read_here(job):  # standard input: the local code, on the driver
            return _ORIGINAL["prepare_each"]([job[1]], configs, channel, encoding, None, policy)[0]

        return prepare_on_spark(self.spark, jobs, read_here, progress)

    def components(self, n, left, r):
        """`connected_components(n, left, r)`: the same labels, computed by Spark jobs."""
        return spark_components(self.spark, n, left, r)[0]


def _targets():
    from ...ingest import normalize_file, pipeline, prepare
    from ...match import cluster, engine, incremental

    return [
        (pipeline, "_prepare_each", "prepare_each"),
        (prepare, "normalize_frame", "normalize"),
        (normalize_file, "normalize_frame", "normalize"),
        (engine, "block", "block"),
        (incremental, "block", "block"),
        (engine, "compute_gammas", "compute_gammas"),
        (cluster, "connected_components", "components"),
    ]


_ORIGINAL = {"compute_gammas": _compare.compute_gammas, "prepare_each": _pipeline._prepare_each}


@contextmanager
def spark_backend(master: str | None = None) -> Iterator[object]:
    """Within the block, ingest/dedupe normalize, block and score on Spark; yields the session."""
    with _LOCK, spark_session(master) as spark:
        seams = _SparkSeams(spark)
        # getattr without a default: a renamed seam fails loudly instead of silently running locally
        saved = [(mod, name, getattr(mod, name)) for mod, name, _ in _targets()]
        try:
            for mod, name, attr in _targets():
                setattr(mod, name, getattr(seams, attr))
            yield spark
        finally:
            for mod, name, value in saved:
                setattr(mod, name, value)
