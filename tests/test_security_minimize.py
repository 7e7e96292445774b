"""A channel's allowlist keeps only the fields it names; what is left out is counted, not lost silently."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from custinfo.security.minimize import apply_allowlist, minimize_for_channel
from custinfo.security.policy import load_security

POLICY = load_security(Path(__file__).resolve().parents[1] / "configs" / "security.yaml")


def name_cards() -> pd.DataFrame:
    return pd.DataFrame({"source_row": [2, 3], "name": ["张伟", "李娜"], "mobile": ["13800138000", None],
                         "birth_date": ["1990-01-01", ""], "national_id": [None, None],
                         "展位号": ["A12", "B07"]})


def test_trade_show_keeps_allowlisted_fields_and_counts_the_rest():
    res = minimize_for_channel(name_cards(), POLICY, "trade_show")
    assert list(res.frame.columns) == ["source_row", "name", "mobile"]
    assert res.dropped == {"birth_date": 1, "national_id": 0, "展位号": 2}
    assert res.to_dict()["cells_dropped"] == 3


def test_channel_without_allowlist_keeps_everything():
    res = minimize_for_channel(name_cards(), POLICY, "crm")
    assert res.frame.equals(name_cards()) and res.dropped == {} and res.allowlist is None


def test_explicit_allowlist_without_bookkeeping():
    res = apply_allowlist(name_cards(), ["name"], always_keep=())
    assert list(res.frame.columns) == ["name"]
