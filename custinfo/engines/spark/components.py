"""Connected components on Spark: the labels `custinfo.match.cluster.connected_components` gives
(every node labelled with the smallest node of its component), computed as Spark jobs.

The linked node pairs become an edge DataFrame (hi, lo), hi > lo, and are rewritten by the
alternating large-star / small-star steps of Kiveris et al. ("Connected Components in MapReduce
and Beyond", 2014) until every component is a star around its smallest node: no node is both a
centre (lo) and a leaf (hi), and every leaf has one edge. Each round is cut from its lineage with
`localCheckpoint`, so a long chain of links costs rounds (O(log^2 n)), not an ever-growing plan.
Then every leaf's label is its centre; nodes without a link keep their own number.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

MAX_ROUNDS = 100  # large-star/small-star needs O(log^2 n) rounds: 100 is beyond any real graph


def _min_neighbour(e):
    """(u, m): every node of the edges and the smallest of itself and its neighbours."""
    from pyspark.sql import functions as F

    both = e.select(F.col("hi").alias("u"), F.col("lo").alias("v")).unionByName(
        e.select(F.col("lo").alias("u"), F.col("hi").alias("v"))
    )
    return both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))


def large_star(e):
    """Every node's larger neighbours are linked to its smallest neighbour (or itself)."""
    from pyspark.sql import functions as F

    m = _min_neighbour(e)
    # duplicates are left for small_star's distinct (one shuffle less per round)
    return e.join(m, e.lo == m.u).select(F.col("hi"), F.col("m").alias("lo"))


def small_star(e):
    """Every node and its smaller neighbours are linked to the smallest of them."""
    from pyspark.sql import functions as F

    m = e.groupBy("hi").agg(F.min("lo").alias("m"))
    leaves = (
        e.join(m, "hi")
        .where(F.col("lo") != F.col("m"))
        .select(F.col("lo").alias("hi"), F.col("m").alias("lo"))
    )
    return leaves.unionByName(m.select("hi", F.col("m").alias("lo"))).distinct()


def is_stars(e) -> bool:
    """Whether every component is a star around its smallest node (one Spark job)."""
    from pyspark.sql import functions as F

    ends = e.select(F.col("hi").alias("x"), F.lit(1).alias("h"), F.lit(0).alias("c")).unionByName(
        e.select(F.col("lo").alias("x"), F.lit(0).alias("h"), F.lit(1).alias("c"))
    )
    per = ends.groupBy("x").agg(F.sum("h").alias("h"), F.sum("c").alias("c"))
    return per.where(((F.col("h") > 0) & (F.col("c") > 0)) | (F.col("h") > 1)).limit(1).count() == 0


def spark_components(spark, n: int, left: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, int]:
    """Label of every node 0..n-1 (smallest node of its component) and the rounds it took.

    Only the edges go to Spark and only the labels of linked nodes come back (the driver holds an
    array of n labels, as the local function does).
    """
    label = np.arange(n, dtype=np.int64)
    left = np.asarray(left, dtype=np.int64)
    r = np.asarray(r, dtype=np.int64)
    keep = left != r
    if not keep.any():
        return label, 0
    edges = pa.table({"hi": np.maximum(left[keep], r[keep]), "lo": np.minimum(left[keep], r[keep])})
    # repeated edges need no shuffle of their own: a leaf with two edges is not a star yet, and
    # small_star's distinct removes them in the first round
    e = spark.createDataFrame(edges).localCheckpoint()
    rounds = 0
    while not is_stars(e):
        if rounds >= MAX_ROUNDS:
            raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
        e = small_star(large_star(e)).localCheckpoint()
        rounds += 1
    got = e.toArrow()
    label[got.column("hi").to_numpy()] = got.column("lo").to_numpy()
    return label, rounds
