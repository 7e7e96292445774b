"""Clustering checked against a networkx oracle on random weighted graphs."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from custinfo.match.cluster import UnionFind, average_linkage, cluster, connected_components

THRESHOLD, PRIOR, CONSISTENCY = 3.0, -10.0, 0.0


def random_graph(seed: int, n: int = 40, groups: int = 12):
    """Records in hidden groups: strong weights inside a group, weak or negative between groups."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, groups, n)
    full = np.where(truth[:, None] == truth[None, :], rng.uniform(2, 20, (n, n)), rng.uniform(-30, 4, (n, n)))
    full = np.triu(full, 1)
    full = full + full.T
    left, r = np.triu_indices(n, 1)
    seen = rng.random(len(left)) < 0.5  # blocking compared about half of the pairs
    return n, full, left[seen], r[seen]


def oracle(n: int, full: np.ndarray, left: np.ndarray, r: np.ndarray, cannot=()) -> list[set[int]]:
    """networkx connected components of the links, then a plain average-linkage pass per component."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((a, b) for a, b in zip(left, r, strict=True) if full[a, b] >= THRESHOLD)
    forbid = {frozenset(p) for p in cannot}
    out = []
    for comp in nx.connected_components(g):
        comp = sorted(comp)
        pairs = list(itertools.combinations(comp, 2))
        if len(comp) <= 2 and not any(frozenset(p) in forbid for p in pairs):
            out.append(set(comp))
            continue
        if all(full[a, b] >= CONSISTENCY + PRIOR for a, b in pairs) and not any(
            frozenset(p) in forbid for p in pairs
        ):
            out.append(set(comp))
            continue
        groups = [{x} for x in comp]
        while True:
            best, bi, bj = -np.inf, -1, -1
            for i, j in itertools.combinations(range(len(groups)), 2):
                cross = [(a, b) for a in groups[i] for b in groups[j]]
                if any(frozenset(p) in forbid for p in cross):
                    continue
                avg = np.mean([full[a, b] for a, b in cross])
                if avg > best:
                    best, bi, bj = avg, i, j
            if best < CONSISTENCY + PRIOR:
                break
            groups[bi] |= groups.pop(bj)
        out.extend(groups)
    return out


def run(n, full, left, r, cannot=()):
    ca = np.array([a for a, _ in cannot], dtype=np.int64)
    cb = np.array([b for _, b in cannot], dtype=np.int64)
    w = full[left, r]

    def rescore(ql, qr):
        return full[ql, qr], full[ql, qr]

    res = cluster(
        np.arange(n),
        left,
        r,
        w,
        w.copy(),
        threshold=THRESHOLD,
        prior=PRIOR,
        consistency=CONSISTENCY,
        cannot=(ca, cb),
        max_nodes=300,
        rescore=rescore,
    )
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(res.label):
        groups.setdefault(int(lab), set()).add(i)
    return res, groups


def as_partition(groups) -> set[frozenset]:
    return {frozenset(g) for g in groups}


@pytest.mark.parametrize("seed", range(12))
def test_clustering_matches_networkx_oracle(seed):
    n, full, left, r = random_graph(seed)
    _, groups = run(n, full, left, r)
    assert as_partition(groups.values()) == as_partition(oracle(n, full, left, r))


@pytest.mark.parametrize("seed", range(6))
def test_clustering_with_cannot_links_matches_oracle_and_obeys_them(seed):
    n, full, left, r = random_graph(seed + 100)
    rng = np.random.default_rng(seed)
    cannot = [tuple(map(int, rng.choice(n, 2, replace=False))) for _ in range(6)]
    res, groups = run(n, full, left, r, cannot)
    assert as_partition(groups.values()) == as_partition(oracle(n, full, left, r, cannot))
    for a, b in cannot:
        assert res.label[a] != res.label[b]


def test_one_weak_link_does_not_chain_two_families():
    # two tight triangles joined by a single link above the threshold; across, every other pair contradicts
    n = 6
    full = np.full((n, n), -40.0)
    for grp in ((0, 1, 2), (3, 4, 5)):
        for a, b in itertools.combinations(grp, 2):
            full[a, b] = full[b, a] = 15.0
    full[2, 3] = full[3, 2] = 4.0
    left, r = np.triu_indices(n, 1)
    _, groups = run(n, full, left, r)
    assert as_partition(groups.values()) == {frozenset({0, 1, 2}), frozenset({3, 4, 5})}


def test_connected_components_agree_with_networkx():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(1, 200))
        m = int(rng.integers(0, 2 * n))
        left, r = rng.integers(0, n, m), rng.integers(0, n, m)
        lab = connected_components(n, left, r)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(left.tolist(), r.tolist(), strict=True))
        ours = {}
        for i, x in enumerate(lab):
            ours.setdefault(int(x), set()).add(i)
        assert as_partition(ours.values()) == as_partition(nx.connected_components(g))


def test_average_linkage_never_merges_forbidden_pairs():
    w = np.full((3, 3), 50.0)
    forbidden = np.zeros((3, 3), dtype=bool)
    forbidden[0, 2] = forbidden[2, 0] = True
    lab = average_linkage(w, forbidden, 0.0)
    assert lab[0] != lab[2]


def test_union_find_refuses_a_union_across_a_cannot_link():
    uf = UnionFind([("a", "c")])
    assert uf.union("a", "b")
    assert not uf.union("b", "c")
    assert uf.find("a") == uf.find("b") != uf.find("c")
