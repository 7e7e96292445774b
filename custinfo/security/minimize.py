"""Minimum necessary: keep only the fields a channel's allowlist names, and count what was left out.

The seeds' first step is "define what to collect (only what is needed)". A channel with an
``allowlist`` in configs/security.yaml keeps those source fields; every other mapped field and
every unmapped column is not stored. Nothing disappears silently: the result counts, per column,
how many non-empty cells were not kept, for the ingest report.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .policy import SecurityPolicy

# Bookkeeping columns are not personal data and the pipeline needs them.
ALWAYS_KEEP = frozenset({"record_id", "customer_id", "channel", "source_file", "source_sheet",
                         "source_row", "batch_id", "ingested_at", "file_sha256", "issues"})


@dataclass
class MinimizeResult:
    """The frame to store and, per column not kept, its count of non-empty cells."""

    frame: pd.DataFrame
    dropped: dict[str, int] = field(default_factory=dict)
    allowlist: frozenset[str] | None = None

    @property
    def cells_dropped(self) -> int:
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        return {"allowlist": sorted(self.allowlist) if self.allowlist is not None else None,
                "dropped_columns": dict(self.dropped), "cells_dropped": self.cells_dropped}


def apply_allowlist(df: pd.DataFrame, allowed: Iterable[str] | None,
                    always_keep: Iterable[str] = ALWAYS_KEEP) -> MinimizeResult:
    """``df`` restricted to ``allowed`` columns (plus bookkeeping); None = no allowlist, keep all."""
    if allowed is None:
        return MinimizeResult(df, {}, None)
    allow = frozenset(allowed)
    keep_set = allow | frozenset(always_keep)
    keep = [c for c in df.columns if str(c) in keep_set]
    dropped = {}
    for c in df.columns:
        if str(c) not in keep_set:
            dropped[str(c)] = _non_empty(df[c])
    return MinimizeResult(df[keep].copy(), dropped, allow)


def minimize_for_channel(df: pd.DataFrame, policy: SecurityPolicy, channel: str | None,
                         always_keep: Iterable[str] = ALWAYS_KEEP) -> MinimizeResult:
    """:func:`apply_allowlist` with the channel's allowlist from the policy."""
    return apply_allowlist(df, policy.allowed_fields(channel), always_keep)


def _non_empty(s: pd.Series) -> int:
    text = s.astype("string").str.strip()
    return int((s.notna() & text.ne("").fillna(False)).sum())
