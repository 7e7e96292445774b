"""Clustering under `--engine spark`: the connected components come from Spark jobs, and the
customers are those the local engine finds, including components re-clustered by average linkage
(a chain of weak links) and components split by raising the threshold."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custinfo.match import cluster as cluster_mod
from custinfo.match.cluster import connected_components

SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture
def spark_calls(monkeypatch):
    """Every call of the Spark components function, with the rounds it took."""
    from custinfo.engines.spark import backend

    calls = []
    real = backend.spark_components

    def spy(spark, n, left, r):
        out = real(spark, n, left, r)
        calls.append({"nodes": n, "edges": len(left), "rounds": out[1]})
        return out

    monkeypatch.setattr(backend, "spark_components", spy)
    return calls


def test_spark_components_label_every_node_with_its_components_smallest_node(spark):
    from custinfo.engines.spark.components import spark_components

    rng = np.random.default_rng(7)
    for n, m in [(1, 0), (30, 20), (400, 350)]:
        left, r = rng.integers(0, n, m), rng.integers(0, n, m)  # self-loops and repeats included
        got, _ = spark_components(spark, n, left, r)
        np.testing.assert_array_equal(got, connected_components(n, left, r))


def test_a_long_shuffled_chain_converges_to_one_component_in_few_rounds(spark):
    """Min-label propagation would need a round per link; large/small-star needs O(log^2 n)."""
    from custinfo.engines.spark.components import spark_components

    perm = np.random.default_rng(3).permutation(3000)
    got, rounds = spark_components(spark, 3000, perm[:-1], perm[1:])
    assert (got == 0).all()
    assert rounds <= 20


def two_families_and_a_weak_link():
    """Two families of four records, strong inside, chained by one link just over the threshold;
    their other pairs (not blocked, so scored while clustering) contradict each other. Also a
    chain of twelve records that a cap of 8 nodes per component splits by raising the threshold."""
    n = 8 + 12
    full = np.full((n, n), -30.0)
    for fam in (range(0, 4), range(4, 8)):
        for a in fam:
            for b in fam:
                full[a, b] = 15.0
    full[3, 4] = full[4, 3] = 4.0  # the weak link
    for i in range(8, n - 1):  # strong and weak links alternating: the cap cuts the weak ones
        full[i, i + 1] = full[i + 1, i] = 12.0 if i % 2 else 6.0
    left, r = np.triu_indices(n, 1)
    blocked = (full[left, r] > -30) | ((left < 8) & (r < 8) & (left % 2 == 0))
    return n, full, left[blocked], r[blocked]


def _cluster(n, full, left, r):
    w = full[left, r]
    return cluster_mod.cluster(
        np.arange(n),
        left,
        r,
        w,
        w.copy(),
        threshold=3.0,
        prior=-10.0,
        consistency=0.0,
        cannot=(np.array([0], dtype=np.int64), np.array([9], dtype=np.int64)),
        max_nodes=8,
        rescore=lambda ql, qr: (full[ql, qr], full[ql, qr]),
    )


def test_spark_clustering_recluster_a_weak_chain_as_the_local_engine_does(spark, spark_calls):
    from custinfo.engines.spark import spark_backend

    n, full, left, r = two_families_and_a_weak_link()
    local = _cluster(n, full, left, r)
    with spark_backend():
        on_spark = _cluster(n, full, left, r)
    assert spark_calls, "clustering did not ask Spark for its components"
    np.testing.assert_array_equal(on_spark.label, local.label)
    np.testing.assert_array_equal(on_spark.extra_l, local.extra_l)
    np.testing.assert_array_equal(on_spark.extra_w, local.extra_w)
    assert on_spark.stats == local.stats
    # not vacuous: the weak link was cut by re-clustering, the long chain split by the cap
    assert local.stats["refined_components"] >= 1 and local.stats["threshold_raises"] >= 1
    assert len(set(local.label[:4])) == 1 and local.label[3] != local.label[4]


def test_spark_dedupe_of_every_sample_finds_the_local_clusters_with_spark_components(
    spark, spark_calls, monkeypatch
):
    """All five samples together hold components re-clustered by average linkage."""
    from custinfo.dedupe import dedupe_files
    from custinfo.match import engine

    stats = []
    real = engine.cluster

    def recorded(*args, **kwargs):
        out = real(*args, **kwargs)
        stats.append(out.stats)
        return out

    monkeypatch.setattr(engine, "cluster", recorded)
    files = sorted(SAMPLES.glob("*.csv")) + sorted(SAMPLES.glob("*.xlsx"))
    local = dedupe_files(files)
    assert not spark_calls
    on_spark = dedupe_files(files, engine="spark")
    assert len(spark_calls) >= 1
    assert stats[0]["refined_components"] >= 1 and stats[1] == stats[0]
    pd.testing.assert_frame_equal(on_spark.rows, local.rows)
    pd.testing.assert_frame_equal(on_spark.golden, local.golden)
