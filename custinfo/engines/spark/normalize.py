"""Normalization on Spark: custinfo's own `normalize_frame`, run on slices of the rows in Spark tasks.

Every normalizer works row by row (a cache per distinct value only saves time), so normalizing the
slices apart gives exactly what normalizing the whole frame gives; rows come back in their order.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ...normalize import NormalizeOptions, normalize_frame
from ...normalize.frame import OUTPUT_COLUMNS
from .frames import object_frame, spark_frame, text_table

ROWS_PER_TASK = 25_000  # a task's rows: big enough that per-value caches pay, small enough to spread


def _normalize_batches(opts: NormalizeOptions):
    """The task: each Arrow batch of source rows (with `_row`) -> its normalized columns."""

    def run(batches):
        for batch in batches:
            df = object_frame(batch)
            row = df.pop("_row").to_numpy()
            norm = normalize_frame(df, opts)
            out = text_table(norm, row)
            yield from out.to_batches()

    return run


def _schema():
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType(
        [StructField("_row", LongType(), False)]
        + [StructField(c, StringType(), True) for c in OUTPUT_COLUMNS]
    )


def normalize_on_spark(spark, src: pd.DataFrame, opts: NormalizeOptions | None = None) -> pd.DataFrame:
    """`normalize_frame(src, opts)`, computed by Spark tasks; same columns, index and values."""
    opts = opts or NormalizeOptions()
    n = len(src)
    if n == 0 or len(src.columns) == 0:
        return normalize_frame(src, opts)
    parallel = spark.sparkContext.defaultParallelism
    parts = max(parallel, math.ceil(n / ROWS_PER_TASK))
    sdf = spark_frame(spark, text_table(src, np.arange(n)), parts)
    got = sdf.mapInArrow(_normalize_batches(opts), _schema()).toArrow()
    got = got.take(pc.sort_indices(got, [("_row", "ascending")]))
    out = object_frame(got.drop(["_row"]))
    out.index = src.index
    return out
