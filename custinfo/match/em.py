"""Expectation–maximisation of the m probabilities, without labels.

u is fixed (measured on random pairs). For each blocking rule in turn, EM runs on the pairs that rule
produced and estimates m only for comparisons that do not read the rule's own columns (pairs blocked on
phone all agree on phone, so they say nothing about how often true matches share a phone). Each m is
the average over the rules that could estimate it; levels marked `fixed` keep their configured m.
EM runs on the distinct comparison patterns with their counts, so it costs nothing per pair.
"""

from __future__ import annotations

import numpy as np

from .features import needed_columns
from .model import MatchModel
from .settings import MatchSettings


def base_lineage(columns: set[str]) -> set[str]:
    """The input columns a set of feature columns is derived from."""
    return set(needed_columns(set(columns))[0])


def patterns(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the level matrix and how often each occurs."""
    if not len(g):
        return np.empty((0, g.shape[1]), dtype=np.int8), np.empty(0)
    codes = np.zeros(len(g), dtype=np.int64)
    radix = int(g.max()) + 1
    for j in range(g.shape[1]):
        codes = codes * radix + g[:, j].astype(np.int64)
    uniq, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return g[first], counts.astype(np.float64)


def _log_tables(settings: MatchSettings, model: MatchModel) -> tuple[list[np.ndarray], list[np.ndarray]]:
    lm, lu = [], []
    for c in settings.comparisons:
        m, u = model.arrays(c)
        lm.append(np.log(np.maximum(m, 1e-12)))
        lu.append(np.log(np.maximum(u, 1e-12)))
    return lm, lu


def em_rule(
    pat: np.ndarray, cnt: np.ndarray, settings: MatchSettings, model: MatchModel, free: list[int], lam: float
) -> tuple[MatchModel, float, int]:
    """EM on one rule's patterns; only comparisons in `free` get new m values.

    Returns the model, λ and the number of iterations run.
    """
    model = model.copy()
    iterations = 0
    for _ in range(settings.em_max_iterations):
        iterations += 1
        lm, lu = _log_tables(settings, model)
        s = np.full(len(pat), np.log(lam / (1 - lam)))
        for j in range(pat.shape[1]):
            s += lm[j][pat[:, j]] - lu[j][pat[:, j]]
        p = 1.0 / (1.0 + np.exp(-np.clip(s, -700, 700)))
        wp = cnt * p
        new_lam = float(np.clip(wp.sum() / cnt.sum(), 1e-9, 1 - 1e-9))
        delta = abs(new_lam - lam)
        for j in free:
            delta = max(delta, _update_m(model, settings.comparisons[j], pat[:, j], wp))
        lam = new_lam
        if delta < settings.em_tolerance:
            break
    return model, lam, iterations


def _update_m(model: MatchModel, comp, col: np.ndarray, wp: np.ndarray) -> float:
    """M-step for one comparison; returns the largest change of an m value."""
    levels = comp.levels
    sums = np.bincount(col.astype(np.int64), weights=wp, minlength=len(levels))
    nonnull = [i for i, lv in enumerate(levels) if not lv.is_null]
    free = [i for i in nonnull if not levels[i].fixed]
    fixed_mass = sum(model.params[comp.name][levels[i].label]["m"] for i in nonnull if levels[i].fixed)
    total = sums[free].sum()
    if total <= 0:
        return 0.0
    delta = 0.0
    for i in free:
        m = max(float(sums[i] / total * (1 - fixed_mass)), 1e-6)
        entry = model.params[comp.name][levels[i].label]
        delta = max(delta, abs(entry["m"] - m))
        entry["m"] = m
    return delta


def train_m(
    g: np.ndarray, rules: np.ndarray, settings: MatchSettings, model: MatchModel
) -> tuple[MatchModel, dict]:
    """m per level by EM, rule by rule, averaged; returns the model and what each rule's EM did."""
    comp_base = [base_lineage(c.columns) for c in settings.comparisons]
    sums: dict[tuple[str, str], list[float]] = {}
    report = {}
    for i, rule in enumerate(settings.blocking_rules):
        sel = (rules >> i) & 1 == 1
        rule_base = base_lineage(rule.columns)
        free = [j for j, b in enumerate(comp_base) if not (b & rule_base)]
        if sel.sum() < 50 or not free:
            continue
        pat, cnt = patterns(g[sel])
        fitted, lam, its = em_rule(pat, cnt, settings, model, free, 0.1)
        report[rule.name] = {
            "pairs": int(sel.sum()),
            "lambda": lam,
            "iterations": its,
            "estimated": [settings.comparisons[j].name for j in free],
        }
        for j in free:
            c = settings.comparisons[j]
            for lv in c.levels:
                if not lv.is_null and not lv.fixed:
                    sums.setdefault((c.name, lv.label), []).append(fitted.params[c.name][lv.label]["m"])
    out = model.copy()
    for (cname, label), vals in sums.items():
        out.params[cname][label]["m"] = float(np.mean(vals))
    return out, report
