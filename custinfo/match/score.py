"""Fellegi–Sunter scoring: match weights from comparison levels, and estimating m, u and the prior.

weight(pair) = prior + sum over comparisons of log2(m/u) of the pair's level, where an exact level
with term-frequency adjustment uses u = frequency of the shared value (agreeing on 王伟 says less than
agreeing on a rare name). u is measured on random pairs (almost all non-matches); m and the prior come
from the settings or from EM on the candidate pairs, without labels.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa

from .compare import Gammas, compute_gammas
from .model import MatchModel
from .rules import evaluate
from .settings import MatchSettings


def level_weights(settings: MatchSettings, model: MatchModel) -> list[np.ndarray]:
    return [model.weights(c).astype(np.float32) for c in settings.comparisons]


def bayes_factor_weights(gam: Gammas, settings: MatchSettings, model: MatchModel) -> np.ndarray:
    """Sum of level weights (log2), term-frequency adjusted, for every pair; the prior not included."""
    total = np.zeros(len(gam), dtype=np.float32)
    for j, (comp, w) in enumerate(zip(settings.comparisons, level_weights(settings, model), strict=True)):
        g = gam.g[:, j]
        total += w[g]
        _, u = model.arrays(comp)
        for k, lv in enumerate(comp.levels):
            if lv.tf and lv.tf in gam.tf:
                mask = g == k
                tf = np.maximum(gam.tf[lv.tf][mask], settings.tf_minimum)
                total[mask] += np.log2(u[k] / tf).astype(np.float32)
    return total


def apply_rules(
    gam: Gammas, weight: np.ndarray, settings: MatchSettings, model: MatchModel, prior: float
) -> tuple[np.ndarray, np.ndarray]:
    """Link weights (pairs breaking a link rule held half a bit below the threshold) and consistency
    weights (a pair breaking a `contradiction` rule counts as a Bayes factor of CONTRADICTION bits
    against), see rules.py."""
    if not settings.rules:
        return weight, weight
    ok, contra = evaluate(gam.g, settings.rules, list(settings.comparisons), level_weights(settings, model))
    held = np.where(ok, weight, np.minimum(weight, np.float32(weight_of(settings.threshold) - 0.5)))
    cons = np.where(contra, np.minimum(weight, np.float32(prior + CONTRADICTION)), weight)
    return held.astype(np.float32), cons.astype(np.float32)


CONTRADICTION = -20.0  # Bayes factor (bits) of a pair that breaks a contradiction rule


def tf_adjustment(u: float, tf: float, tf_minimum: float) -> float:
    return math.log2(u / max(tf, tf_minimum))


def probability(weight: np.ndarray) -> np.ndarray:
    """Match probability from a total log2 weight."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))


def weight_of(prob: float) -> float:
    return math.log2(prob / (1 - prob))


def random_pairs(
    n: int, k: int, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Up to k distinct random pairs (l < r) of n records; all pairs when there are fewer than k.

    With `groups` (link mode), only pairs across different groups are kept.
    """
    total = n * (n - 1) // 2
    if total <= k:
        left, r = np.triu_indices(n, 1)
    else:
        rng = np.random.default_rng(seed)
        left = rng.integers(0, n, size=k, dtype=np.int64)
        r = rng.integers(0, n, size=k, dtype=np.int64)
        keep = left != r
        left, r = np.minimum(left[keep], r[keep]), np.maximum(left[keep], r[keep])
    if groups is not None:
        cross = groups[left] != groups[r]
        left, r = left[cross], r[cross]
    return left.astype(np.int32), r.astype(np.int32)


def estimate_u(
    con: duckdb.DuckDBPyConnection,
    settings: MatchSettings,
    model: MatchModel,
    n: int,
    groups: np.ndarray | None = None,
    max_pairs: int | None = None,
    pool: np.ndarray | None = None,
) -> MatchModel:
    """u per level from random pairs, smoothed towards the current u by `u_pseudo_pairs` pseudo-pairs.

    With `pool`, pairs are drawn among those record indexes only (a random sample of the records).
    """
    k = settings.u_max_pairs if max_pairs is None else max_pairs
    if pool is not None:
        left, r = random_pairs(len(pool), k, settings.seed)
        left, r = pool[left].astype(np.int32), pool[r].astype(np.int32)
        left, r = np.minimum(left, r), np.maximum(left, r)
    else:
        left, r = random_pairs(n, k, settings.seed, groups)
    if not len(left):
        return model
    con.register("upairs_arrow", pa.table({"l": left, "r": r}))
    gam = compute_gammas(con, settings, "upairs_arrow")
    con.unregister("upairs_arrow")
    out = model.copy()
    for j, comp in enumerate(settings.comparisons):
        counts = np.bincount(gam.g[:, j].astype(np.int64), minlength=len(comp.levels)).astype(float)
        nonnull = [i for i, lv in enumerate(comp.levels) if not lv.is_null]
        total = counts[nonnull].sum()
        _, u0 = model.arrays(comp)
        for i in nonnull:
            lv = comp.levels[i]
            if lv.fixed:
                continue
            u = (counts[i] + settings.u_pseudo_pairs * u0[i]) / (total + settings.u_pseudo_pairs)
            out.params[comp.name][lv.label]["u"] = float(min(max(u, 1e-12), 1.0))
    out.info = {**out.info, "u_pairs": int(len(left))}
    return out


def estimate_prior(
    bf: np.ndarray, total_pairs: float, start: float, iterations: int = 50, pseudo_pairs: float = 20_000
) -> float:
    """Overall match rate λ such that the expected matches among candidates equal λ × all pairs.

    Pairs not compared are taken as non-matches; a fixed-point iteration on a histogram of weights.
    `pseudo_pairs` pairs at the configured rate `start` keep a small data set from talking itself
    into λ = 0 (or 0.5): with millions of pairs the data decide, with fifteen the settings do.
    """
    if total_pairs <= 0:
        return start
    if not len(bf):
        bf = np.zeros(1) - 100.0
    edges = np.arange(np.floor(bf.min()) - 0.05, np.ceil(bf.max()) + 0.1, 0.05)
    hist, edges = np.histogram(bf, bins=edges)
    centers = (edges[:-1] + edges[1:]) / 2
    lam = min(max(start, 1e-15), 0.5)
    for _ in range(iterations):
        p = probability(centers + math.log2(lam / (1 - lam)))
        new = (float((hist * p).sum()) + pseudo_pairs * start) / (total_pairs + pseudo_pairs)
        new = min(max(new, 1e-15), 0.5)
        if abs(math.log(new) - math.log(lam)) < 1e-4:
            lam = new
            break
        lam = new
    return lam
