"""Helpers for tests that build matcher input by hand."""
from __future__ import annotations

import pandas as pd

from custinfo.normalize.frame import normalize_frame


def normalized(rows: list[dict]) -> pd.DataFrame:
    """Records as the matcher takes them: the rows normalized, with their record_id (and customer_id
    when given) kept as they are."""
    raw = pd.DataFrame(rows)
    out = normalize_frame(raw.drop(columns=["record_id", "customer_id"], errors="ignore"))
    out.insert(0, "record_id", raw["record_id"].to_numpy())
    if "customer_id" in raw:
        out["customer_id"] = raw["customer_id"].to_numpy()
    return out
