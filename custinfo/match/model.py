"""The trained (or default) Fellegi–Sunter parameters: m and u per comparison level, and the prior.

Defaults come from the settings; `Matcher.train` refines them on the user's data. Saved as JSON so a
person can read what the model believes (e.g. how often true matches share a birth date).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .settings import Comparison, MatchSettings

FORMAT = "custinfo-match-model/1"


@dataclass
class MatchModel:
    """m and u for every level (by comparison name and level label) and the expected matches per record."""

    params: dict[str, dict[str, dict[str, float]]]  # comparison -> level label -> {"m": .., "u": ..}
    matches_per_record: float
    info: dict = field(default_factory=dict)  # how it was trained: records, pairs, iterations, when

    @classmethod
    def from_settings(cls, settings: MatchSettings) -> MatchModel:
        params = {
            c.name: {lv.label: {"m": lv.m, "u": lv.u} for lv in c.levels if not lv.is_null}
            for c in settings.comparisons
        }
        return cls(params=params, matches_per_record=settings.matches_per_record, info={"trained": False})

    def copy(self) -> MatchModel:
        return MatchModel(json.loads(json.dumps(self.params)), self.matches_per_record, dict(self.info))

    def arrays(self, comp: Comparison) -> tuple[np.ndarray, np.ndarray]:
        """m and u per level of `comp` (1.0 for null levels, which then weigh nothing)."""
        p = self.params.get(comp.name, {})
        m = np.array([1.0 if lv.is_null else p.get(lv.label, {}).get("m", lv.m) for lv in comp.levels])
        u = np.array([1.0 if lv.is_null else p.get(lv.label, {}).get("u", lv.u) for lv in comp.levels])
        return m, u

    def weights(self, comp: Comparison) -> np.ndarray:
        """log2 Bayes factor per level of `comp`."""
        m, u = self.arrays(comp)
        return np.log2(np.maximum(m, 1e-12) / np.maximum(u, 1e-12))

    def check(self, settings: MatchSettings) -> list[str]:
        """Problems making this model unusable with `settings` (unknown comparisons or levels)."""
        problems = []
        for c in settings.comparisons:
            labels = {lv.label for lv in c.levels if not lv.is_null}
            have = set(self.params.get(c.name, {}))
            if have and have != labels:
                problems.append(
                    f"model.{c.name}: levels {sorted(have)} differ from the settings' {sorted(labels)}"
                )
        for name in self.params:
            if name not in {c.name for c in settings.comparisons}:
                problems.append(f"model.{name}: no such comparison in the settings")
        return problems

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "matches_per_record": self.matches_per_record,
            "info": self.info,
            "params": self.params,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> MatchModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"cannot read match model: {exc}",
                file=str(path),
                hint="train one with `custinfo train` or omit the model",
            ) from exc
        if data.get("format") != FORMAT:
            raise ConfigError(f"not a custinfo match model (format {data.get('format')!r})", file=str(path))
        problems = []
        for comp, levels in (data.get("params") or {}).items():
            for label, mu in levels.items():
                for k in ("m", "u"):
                    v = mu.get(k)
                    if not isinstance(v, (int, float)) or not 0 < v <= 1 or math.isnan(v):
                        problems.append(f"params.{comp}.{label}.{k}: '{v}' must be a probability in (0, 1]")
        if problems:
            raise ConfigError("invalid match model", problems=problems, file=str(path))
        return cls(
            params=data["params"],
            matches_per_record=float(data.get("matches_per_record", 1.0)),
            info=data.get("info") or {},
        )
