"""What matching returns: clusters (or assignments), the scored pairs, and the blocking plan."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .compare import Gammas
from .keycache import KeysUpdate
from .score import probability
from .settings import MatchSettings


@dataclass
class ScoredPairs:
    """Candidate pairs with their levels and weights, kept as arrays; `frame()` builds the DataFrame."""

    ids: np.ndarray  # record index -> record_id
    gam: Gammas
    weight: np.ndarray  # float32 total log2 weight (prior included)
    settings: MatchSettings
    label: np.ndarray | None = None  # record index -> cluster label, to flag pairs kept together

    def frame(self, mask: np.ndarray | None = None) -> pd.DataFrame:
        gam = self.gam if mask is None else self.gam.take(mask)
        w = self.weight if mask is None else self.weight[mask]
        df = pd.DataFrame(
            {
                "record_id_l": self.ids[gam.left],
                "record_id_r": self.ids[gam.right],
                "match_weight": w.astype(np.float64),
                "match_probability": probability(w.astype(np.float64)),
            }
        )
        for j, c in enumerate(self.settings.comparisons):
            df[f"gamma_{c.name}"] = gam.g[:, j]
        if self.label is not None:
            df["same_cluster"] = self.label[gam.left] == self.label[gam.right]
        return df

    def between(self, low: float, high: float) -> pd.DataFrame:
        p = probability(self.weight.astype(np.float64))
        return self.frame((p >= low) & (p <= high))


@dataclass
class DedupeResult:
    """Clusters of records that are the same customer, the pairs that led there, and the blocking plan."""

    clusters: pd.DataFrame  # record_id, cluster_id, cluster_size, match_score
    plan: list[dict]
    scored: ScoredPairs
    stats: dict = field(default_factory=dict)
    conflicts: list[dict] = field(default_factory=list)  # must-links refused because of a cannot-link
    _pairs: pd.DataFrame | None = None

    @property
    def pairs(self) -> pd.DataFrame:
        """Every compared pair: record_id_l, record_id_r, match_weight, match_probability, gamma_*."""
        if self._pairs is None:
            self._pairs = self.scored.frame()
        return self._pairs

    def uncertain(self, low: float | None = None, high: float | None = None) -> pd.DataFrame:
        """Pairs whose probability lies between low and high (the settings' review band by default)."""
        lo = self.scored.settings.review_low if low is None else low
        hi = self.scored.settings.review_high if high is None else high
        return self.scored.between(lo, hi).sort_values(
            "match_probability", ascending=False, ignore_index=True
        )


@dataclass
class IncrementalResult:
    """New records grouped, and for each group the existing customers it joins."""

    assign: pd.DataFrame  # record_id (new records only), group, match_score
    group_customers: dict[int, list[str]]
    plan: list[dict]
    scored: ScoredPairs
    stats: dict = field(default_factory=dict)
    conflicts: list[dict] = field(default_factory=list)
    _pairs: pd.DataFrame | None = None

    @property
    def pairs(self) -> pd.DataFrame:
        if self._pairs is None:
            self._pairs = self.scored.frame()
        return self._pairs

    def uncertain(self, low: float | None = None, high: float | None = None) -> pd.DataFrame:
        lo = self.scored.settings.review_low if low is None else low
        hi = self.scored.settings.review_high if high is None else high
        return self.scored.between(lo, hi).sort_values(
            "match_probability", ascending=False, ignore_index=True
        )


@dataclass
class ResolveResult:
    """The neighbourhood of a batch re-clustered: every record in it (new ones and the existing records
    re-decided with them) with its group and the customer it belonged to before (None for new records).
    Existing records outside `clusters` keep their customer."""

    # record_id, group, match_score, customer_id (before; None = new record), met (the record's customer
    # has a candidate pair with the batch, in a big store one of at least incremental.meet_at, or is
    # linked to one that has; False: re-decided only because the parameters were re-measured)
    clusters: pd.DataFrame
    plan: list[dict]
    scored: ScoredPairs
    stats: dict = field(default_factory=dict)
    conflicts: list[dict] = field(default_factory=list)
    keys: KeysUpdate | None = None  # the match keys to store (keycache.py)

    def uncertain(self, low: float | None = None, high: float | None = None) -> pd.DataFrame:
        """Uncertain pairs with at least one new record (pairs among existing records were offered before)."""
        lo = self.scored.settings.review_low if low is None else low
        hi = self.scored.settings.review_high if high is None else high
        p = probability(self.scored.weight.astype(np.float64))
        new = self.clusters["customer_id"].isna().to_numpy()
        gam = self.scored.gam
        mask = (p >= lo) & (p <= hi) & (new[gam.left] | new[gam.right])
        return self.scored.frame(mask).sort_values("match_probability", ascending=False, ignore_index=True)
