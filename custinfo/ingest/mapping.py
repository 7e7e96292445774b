"""Header mapping: the columns of one sheet -> custinfo's source fields (see configs/defaults.yaml).

Unmapped columns are never dropped: they travel in `extra` (a JSON object per row).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from ..config import Config, fold_header
from ..errors import InputError

# Several columns may feed these (e.g. 手机 and 手机2): values are joined with a comma.
MULTI_FIELDS = {"mobile", "phone", "email"}
IDENTIFYING = ("name", "first_name", "last_name", "mobile", "phone", "email")


@dataclass
class HeaderMap:
    """How each header of a sheet was understood."""

    fields: dict[str, list[str]] = field(default_factory=dict)  # source field -> headers feeding it
    unmapped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"mapped": self.fields, "unmapped": self.unmapped}


def map_headers(headers: list[str], config: Config) -> HeaderMap:
    """Decide which source field each header feeds; first header wins for single-valued fields."""
    index = config.header_index
    hm = HeaderMap()
    for h in headers:
        fld = index.get(fold_header(h))
        if fld is None or (fld in hm.fields and fld not in MULTI_FIELDS):
            hm.unmapped.append(h)
            continue
        hm.fields.setdefault(fld, []).append(h)
    return hm


def require_identifying(hm: HeaderMap, file: str, headers: list[str]) -> None:
    """A sheet with no name, phone or email column cannot yield customers: say so, with the fix."""
    if not any(f in hm.fields for f in IDENTIFYING):
        shown = ", ".join(headers[:8]) + (" ..." if len(headers) > 8 else "")
        raise InputError(
            "no name, phone or email column found (headers: " + shown + ")",
            file=file,
            hint="rename a header (e.g. 姓名, 手机, 邮箱) or map it under `columns:` in configs/<channel>.yaml",
        )


def _join_values(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    if len(cols) == 1:
        return frame[cols[0]]
    parts = frame[cols].astype(object).where(frame[cols].notna(), None)
    return parts.apply(lambda r: ",".join(v for v in r if v) or None, axis=1)


def to_source_frame(frame: pd.DataFrame, hm: HeaderMap) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Source-field frame, `raw` (JSON of mapped values as written) and `extra` (JSON of unmapped)."""
    src = pd.DataFrame(index=frame.index)
    for fld, cols in hm.fields.items():
        src[fld] = _join_values(frame, cols)
    src = src.astype(object).where(src.notna(), None)
    return src, _json_rows(src), _json_rows(frame[hm.unmapped]) if hm.unmapped else pd.Series(
        [None] * len(frame), index=frame.index, dtype=object)


def _json_rows(df: pd.DataFrame) -> pd.Series:
    """One compact JSON object per row, leaving out empty cells; None when the row has none."""
    cols = list(df.columns)
    out = []
    for values in df.itertuples(index=False, name=None):
        d = {c: v for c, v in zip(cols, values) if v is not None and v == v and v != ""}
        out.append(json.dumps(d, ensure_ascii=False) if d else None)
    return pd.Series(out, index=df.index, dtype=object)
