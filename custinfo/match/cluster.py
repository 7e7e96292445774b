"""Clustering scored pairs into customers without chaining strangers together.

1. Records that must stay together (must-link decisions, an existing customer in incremental matching)
   form one *node*; a node's weight to another is its best record pair.
2. Nodes linked by a pair at or above the threshold form connected components.
3. A component of two nodes is a cluster. A larger one (or one holding a cannot-link pair) is checked
   on *consistency weights*: its missing pairs are scored, and unless every pair's Bayes factor
   (weight without the prior: once linked, records missing common fields are no evidence against each
   other) reaches `consistency`, it is re-clustered by average linkage: merge the two groups whose
   average Bayes factor is highest while it reaches `consistency`; cannot-link pairs never merge, and a
   pair breaking a contradiction rule counts as strong evidence against. One weak link can no longer
   chain two families together.
4. Components too large to score completely are first split by raising the link threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Rescore = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # (l, r) -> (link, consistency)


def connected_components(n: int, left: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Label of every node 0..n-1: the smallest node of its component (hook and pointer-jump, vectorized)."""
    parent = np.arange(n, dtype=np.int64)
    if not len(left):
        return parent
    left = np.asarray(left, dtype=np.int64)
    r = np.asarray(r, dtype=np.int64)
    while True:
        pl, pr = parent[left], parent[r]
        diff = pl != pr
        if not diff.any():
            return parent
        lo, hi = np.minimum(pl[diff], pr[diff]), np.maximum(pl[diff], pr[diff])
        np.minimum.at(parent, hi, lo)
        while True:
            pp = parent[parent]
            if np.array_equal(pp, parent):
                break
            parent = pp


class UnionFind:
    """Union-find over arbitrary hashable items, refusing unions across a cannot-link."""

    def __init__(self, cannot: list[tuple] = ()):  # type: ignore[assignment]
        self.parent: dict = {}
        self.cannot: dict = {}
        for a, b in cannot:
            self.cannot.setdefault(a, set()).add(b)
            self.cannot.setdefault(b, set()).add(a)

    def find(self, x):
        p = self.parent.setdefault(x, x)
        if p != x:
            p = self.parent[x] = self.find(p)
        return p

    def union(self, a, b) -> bool:
        """Join a's and b's groups unless a cannot-link separates them; True if joined or already one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ca, cb = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        if any(self.find(x) == rb for x in ca) or any(self.find(x) == ra for x in cb):
            return False
        self.parent[rb] = ra
        self.cannot[ra] = ca | cb
        return True


def average_linkage(w: np.ndarray, forbidden: np.ndarray, threshold: float) -> np.ndarray:
    """Agglomerate k nodes: merge the pair of groups with the highest mean weight while >= threshold.

    `w` is k x k symmetric (node-pair weights), `forbidden` k x k bool (cannot-link). Returns group labels.
    """
    k = len(w)
    s = w.astype(np.float64).copy()
    s[forbidden] = -np.inf
    np.fill_diagonal(s, -np.inf)
    c = np.ones((k, k))
    labels = np.arange(k)
    for _ in range(k - 1):
        avg = s / c
        i, j = np.unravel_index(int(np.argmax(avg)), avg.shape)
        if not avg[i, j] >= threshold:
            break
        i, j = min(i, j), max(i, j)
        s[i, :] += s[j, :]
        s[:, i] += s[:, j]
        c[i, :] += c[j, :]
        c[:, i] += c[:, j]
        s[j, :] = s[:, j] = -np.inf
        s[i, i] = -np.inf
        labels[labels == j] = i
    return labels


@dataclass
class Graph:
    """Node-level view of the scored pairs."""

    n_nodes: int
    node_of: np.ndarray  # record -> node
    a: np.ndarray  # node pair, a < b
    b: np.ndarray
    w: np.ndarray  # best record-pair link weight between the two nodes
    c: np.ndarray  # best record-pair consistency weight


def _best_per_key(key: np.ndarray, *vals: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sorted distinct keys and, for each, the maximum of every value array."""
    if not len(key):
        return (key,) + tuple(v[:0] for v in vals)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return (key[starts],) + tuple(np.maximum.reduceat(v[order], starts) for v in vals)


def node_graph(node_of: np.ndarray, left: np.ndarray, r: np.ndarray, w: np.ndarray, c: np.ndarray) -> Graph:
    """Collapse record pairs to node pairs, keeping the best weights (pairs inside a node dropped)."""
    n_nodes = int(node_of.max()) + 1 if len(node_of) else 0
    a, b = node_of[left], node_of[r]
    keep = a != b
    a, b = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    key, w, c = _best_per_key(a.astype(np.int64) * n_nodes + b, w[keep], c[keep])
    span = max(n_nodes, 1)
    return Graph(n_nodes, node_of, key // span, key % span, w, c)


@dataclass
class Clustering:
    """Cluster label per record (a node id) and the extra pairs scored to check components."""

    label: np.ndarray
    extra_l: np.ndarray
    extra_r: np.ndarray
    extra_w: np.ndarray
    stats: dict


def _split_large(g: Graph, comp: np.ndarray, link: np.ndarray, threshold: float, max_nodes: int) -> tuple:
    """Split components of more than `max_nodes` nodes by raising their link threshold in steps of 2 bits."""
    t, raised = threshold, 0
    for _ in range(30):
        sizes = np.bincount(comp, minlength=g.n_nodes)
        big = sizes[comp] > max_nodes
        if not big.any():
            break
        t += 2.0
        raised += 1
        sel = link & big[g.a] & big[g.b] & (g.w >= t)
        sub = connected_components(g.n_nodes, g.a[sel], g.b[sel])
        comp = np.where(big, sub, comp)
    return comp, raised


def _comp_node_pairs(
    comp: np.ndarray, suspect: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For suspect components grouped by node count k: (node matrix [c x k], pair index i, pair index j)."""
    nodes = np.flatnonzero(suspect[comp])
    if not len(nodes):
        return {}
    order = np.argsort(comp[nodes], kind="stable")
    nodes = nodes[order]
    labels = comp[nodes]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    sizes = np.diff(np.r_[starts, len(nodes)])
    out = {}
    for k in np.unique(sizes):
        st = starts[sizes == k]
        mat = nodes[st[:, None] + np.arange(k)[None, :]]
        ti, tj = np.triu_indices(int(k), 1)
        out[int(k)] = (mat, ti, tj)
    return out


def _records_by_node(node_of: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(node_of, kind="stable")
    starts = np.r_[0, np.cumsum(np.bincount(node_of, minlength=n_nodes))]
    return order, starts


def _missing_record_pairs(a: np.ndarray, b: np.ndarray, node_of: np.ndarray, n_nodes: int):
    """Every record pair between nodes a[i] and b[i]; returns (pair index, record l, record r)."""
    order, starts = _records_by_node(node_of, n_nodes)
    sa, sb = starts[a + 1] - starts[a], starts[b + 1] - starts[b]
    single = (sa == 1) & (sb == 1)
    idx = [np.flatnonzero(single)]
    ls, rs = [order[starts[a[single]]]], [order[starts[b[single]]]]
    for i in np.flatnonzero(~single):
        ra, rb = order[starts[a[i]] : starts[a[i] + 1]], order[starts[b[i]] : starts[b[i] + 1]]
        gl, gr = np.meshgrid(ra, rb, indexing="ij")
        idx.append(np.full(gl.size, i))
        ls.append(gl.ravel())
        rs.append(gr.ravel())
    return np.concatenate(idx), np.concatenate(ls), np.concatenate(rs)


def cluster(
    node_of: np.ndarray,
    left: np.ndarray,
    r: np.ndarray,
    w: np.ndarray,
    c: np.ndarray,
    *,
    threshold: float,
    prior: float,
    consistency: float,
    cannot: tuple[np.ndarray, np.ndarray],
    max_nodes: int,
    rescore: Rescore,
) -> Clustering:
    """Cluster records given pair link weights `w` and consistency weights `c` (log2 odds incl. `prior`).

    Links need w >= threshold; inside a component, groups are judged by their Bayes factors
    (c - prior) against `consistency`: once records are linked, a pair that merely lacks shared fields
    is no evidence against the cluster, while a contradiction is.
    """
    merge_threshold = consistency + prior
    g = node_graph(node_of, left, r, w, c)
    link = g.w >= threshold
    comp = connected_components(g.n_nodes, g.a[link], g.b[link])
    comp, raised = _split_large(g, comp, link, threshold, max_nodes)
    ca, cb = node_of[cannot[0]], node_of[cannot[1]]
    inside = (comp[ca] == comp[cb]) & (ca != cb)
    ca, cb = ca[inside], cb[inside]
    sizes = np.bincount(comp, minlength=g.n_nodes)
    suspect = (sizes >= 3) & (sizes <= max_nodes)
    suspect[comp[ca]] = True
    groups = _comp_node_pairs(comp, suspect)
    keys = g.a * g.n_nodes + g.b
    extra: tuple[list, list, list] = ([], [], [])
    label = comp.copy()
    fkeys = np.unique(np.minimum(ca, cb) * g.n_nodes + np.maximum(ca, cb))
    refined = 0
    # every node pair of every suspect component, scored in one call (each call scans the records)
    los = [np.minimum(mat[:, ti], mat[:, tj]).ravel() for mat, ti, tj in groups.values()]
    his = [np.maximum(mat[:, ti], mat[:, tj]).ravel() for mat, ti, tj in groups.values()]
    lo_all = np.concatenate(los) if los else np.empty(0, dtype=np.int64)
    hi_all = np.concatenate(his) if his else np.empty(0, dtype=np.int64)
    pc_all = _pair_weights(lo_all, hi_all, keys, g, node_of, rescore, extra)
    offsets = np.cumsum([0] + [len(x) for x in los])
    for (k, (mat, ti, tj)), start, lo, hi in zip(groups.items(), offsets[:-1], los, his, strict=True):
        pc = pc_all[start : start + len(lo)].reshape(len(mat), len(ti))
        forbidden = np.isin(lo * g.n_nodes + hi, fkeys).reshape(len(mat), len(ti))
        bad = (pc.min(axis=1) < merge_threshold) | forbidden.any(axis=1)
        for row in np.flatnonzero(bad):
            wm = np.zeros((k, k))
            wm[ti, tj] = wm[tj, ti] = pc[row]
            fm = np.zeros((k, k), dtype=bool)
            fm[ti, tj] = fm[tj, ti] = forbidden[row]
            sub = average_linkage(wm, fm, merge_threshold)
            label[mat[row]] = mat[row][sub]
            refined += 1
    el, er, ew = (np.concatenate(x) if x else np.empty(0) for x in extra)
    stats = {
        "components": int((np.bincount(comp, minlength=g.n_nodes) > 1).sum()),
        "checked_components": int(sum(len(m) for m, _, _ in groups.values())),
        "refined_components": refined,
        "threshold_raises": raised,
    }
    return Clustering(label[node_of], el.astype(np.int32), er.astype(np.int32), ew.astype(np.float32), stats)


def _pair_weights(
    lo: np.ndarray,
    hi: np.ndarray,
    keys: np.ndarray,
    g: Graph,
    node_of: np.ndarray,
    rescore: Rescore,
    extra: tuple[list, list, list],
) -> np.ndarray:
    """Consistency weight of every node pair (lo, hi): known from the graph, else scored now."""
    q = lo * g.n_nodes + hi
    pos = np.minimum(np.searchsorted(keys, q), max(len(keys) - 1, 0))
    known = (keys[pos] == q) if len(keys) else np.zeros(len(q), dtype=bool)
    out = np.full(len(q), -np.inf)
    out[known] = g.c[pos[known]]
    miss = np.flatnonzero(~known)
    if len(miss):
        idx, rl, rr = _missing_record_pairs(lo[miss], hi[miss], node_of, g.n_nodes)
        rl, rr = np.minimum(rl, rr), np.maximum(rl, rr)
        rw, rc = rescore(rl, rr)
        best = np.full(len(miss), -np.inf)
        np.maximum.at(best, idx, np.asarray(rc, dtype=np.float64))
        out[miss] = best
        extra[0].append(rl)
        extra[1].append(rr)
        extra[2].append(np.asarray(rw, dtype=np.float32))
    return out
