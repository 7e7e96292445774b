"""Bridge from ingest to the matching engine: which customer does each new record belong to?"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import Config
from .fold import Assignment


def decision_pairs(decisions: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Active must-link and cannot-link pairs of record ids decided by people."""
    if not len(decisions):
        return [], []
    latest = decisions.assign(_k=decisions[["a", "b"]].apply(lambda r: tuple(sorted(r)), axis=1))
    latest = latest.drop_duplicates("_k", keep="last")
    must = [tuple(k) for k, kind in zip(latest["_k"], latest["kind"], strict=True) if kind == "must_link"]
    cannot = [tuple(k) for k, kind in zip(latest["_k"], latest["kind"], strict=True) if kind == "cannot_link"]
    return must, cannot


MODEL_FILE = "model.json"


def load_model(store_path):
    """The model `custinfo train` saved in the store, or None for the untrained defaults."""
    from ..match import MatchModel

    if store_path is None:
        return None
    p = Path(store_path) / MODEL_FILE
    return MatchModel.load(p) if p.exists() else None


def matching_columns() -> list[str]:
    """The columns of a stored record `assign` reads (besides its customer_id)."""
    from ..match import Matcher, load_settings

    return Matcher(load_settings()).input_columns()


def assign(
    new: pd.DataFrame, existing: pd.DataFrame, decisions: pd.DataFrame, config: Config, store_path=None,
    keys=None,
) -> Assignment:
    """Re-cluster the new records with the existing customers they meet; say where every record goes.
    `keys`: the stored records' cached match keys (match/keycache.py); the assignment carries the
    keys to store."""
    from ..match import Matcher, load_settings

    must, cannot = decision_pairs(decisions)
    matcher = Matcher(load_settings(), model=load_model(store_path))
    res = matcher.resolve(new, existing, must_link=must, cannot_link=cannot, keys=keys)
    cl = res.clusters.set_index("record_id")
    review = res.uncertain()[["record_id_l", "record_id_r", "match_probability"]]
    unmet = set(cl.loc[~cl["met"] & cl["customer_id"].notna(), "customer_id"])
    return Assignment(
        group=cl["group"],
        before=cl["customer_id"].dropna(),
        score=cl["match_score"],
        review=review,
        unmet=unmet,
        keys=res.keys,
    )
