"""Explain a score: for one pair, each comparison's level, the values compared, and its weight."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from .compare import compute_gammas
from .model import MatchModel
from .rules import evaluate
from .score import estimate_u, level_weights, probability, tf_adjustment, weight_of

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Matcher


def _as_frame(rec, default_id: str) -> pd.DataFrame:
    row = dict(rec) if not isinstance(rec, pd.Series) else rec.to_dict()
    row = {
        k: (None if (v is None or (isinstance(v, float) and math.isnan(v))) else v) for k, v in row.items()
    }
    row.setdefault("record_id", default_id)
    return pd.DataFrame([row], dtype=object)


def _plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def explain_pair(
    matcher: Matcher,
    rec_a,
    rec_b,
    context: pd.DataFrame | None,
    n_records: int | None,
    prior_weight: float | None = None,
) -> dict:
    """See `Matcher.explain`. With `context` (the records matched with), term frequencies and shared
    phones are measured on it; without, term-frequency adjustments are left out. `rules_broken` names
    the link rules the pair breaks; `link_probability` is then what clustering used (held below the
    threshold)."""
    s = matcher.settings
    a, b = _as_frame(rec_a, "__a"), _as_frame(rec_b, "__b")
    frames = [a, b]
    if context is not None and len(context):
        skip = {str(a["record_id"].iloc[0]), str(b["record_id"].iloc[0])}
        frames.append(context[~context["record_id"].astype(str).isin(skip)])
    df = pd.concat(frames, ignore_index=True)
    con = matcher._connect()
    try:
        matcher._load(con, [(df, True, np.zeros(len(df), dtype=np.int32))])
        model, trained = matcher._base_model()
        if s.estimate_u and not trained and len(df) > 2:
            model = estimate_u(con, s, model, len(df))
        con.register(
            "one_pair", pa.table({"l": np.array([0], dtype=np.int32), "r": np.array([1], dtype=np.int32)})
        )
        gam = compute_gammas(con, s, "one_pair")
        values = con.execute("SELECT * FROM recs WHERE idx IN (0, 1) ORDER BY idx").fetchdf()
    finally:
        con.close()
    n = n_records or (len(df) if len(df) > 2 else int(model.info.get("records") or 10_000))
    lam = min(model.matches_per_record / max(n - 1, 1), 0.5)
    prior = math.log2(lam / (1 - lam)) if prior_weight is None else float(prior_weight)
    rows = [
        _explain_comparison(c, int(gam.g[0, j]), model, values, gam, s.tf_minimum, len(df) > 2)
        for j, c in enumerate(s.comparisons)
    ]
    total = prior + sum(r["weight"] + r["tf_adjustment"] for r in rows)
    broken = _broken_rules(s, gam, model)
    link = min(total, weight_of(s.threshold) - 0.5) if broken else total
    return {
        "record_id_l": str(a["record_id"].iloc[0]),
        "record_id_r": str(b["record_id"].iloc[0]),
        "prior_weight": prior,
        "comparisons": rows,
        "total_weight": total,
        "match_probability": float(probability(np.array([total]))[0]),
        "rules_broken": broken,
        "link_probability": float(probability(np.array([link]))[0]),
    }


def _broken_rules(settings, gam, model: MatchModel) -> list[str]:
    """Names of the link rules this pair breaks (each alone decides whether it may link)."""
    weights = level_weights(settings, model)
    out = []
    for rule in settings.rules:
        ok, _ = evaluate(gam.g, (rule,), list(settings.comparisons), weights)
        if not ok[0]:
            out.append(rule.name)
    return out


def _explain_comparison(
    comp, level: int, model: MatchModel, values: pd.DataFrame, gam, tf_minimum: float, use_tf: bool
) -> dict:
    lv = comp.levels[level]
    m, u = model.arrays(comp)
    weight = 0.0 if lv.is_null else math.log2(m[level] / u[level])
    adj = 0.0
    if lv.tf and use_tf and lv.tf in gam.tf:
        adj = tf_adjustment(u[level], float(gam.tf[lv.tf][0]), tf_minimum)
    cols = sorted(c for c in comp.columns if c in values.columns)
    return {
        "comparison": comp.name,
        "level": lv.label,
        "level_number": int(level),
        "values": {c: [_plain(values[c].iloc[0]), _plain(values[c].iloc[1])] for c in cols},
        "m": None if lv.is_null else float(m[level]),
        "u": None if lv.is_null else float(u[level]),
        "weight": weight,
        "tf_adjustment": adj,
    }
