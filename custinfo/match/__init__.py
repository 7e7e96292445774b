"""Matching engine: find the same customer across records (blocking, comparisons, Fellegi–Sunter, clustering).

from custinfo.match import load_settings, Matcher
res = Matcher(load_settings()).dedupe(df)          # df from normalize_frame + record_id
res.clusters, res.pairs, res.plan, res.uncertain()
"""

from .engine import Matcher
from .model import MatchModel
from .results import DedupeResult, IncrementalResult
from .settings import MatchSettings, load_settings, settings_from_dict

__all__ = [
    "DedupeResult",
    "IncrementalResult",
    "MatchModel",
    "MatchSettings",
    "Matcher",
    "load_settings",
    "settings_from_dict",
]
