"""Header mapping: the columns of one sheet -> custinfo's source fields (see configs/defaults.yaml).

Unmapped columns are never dropped: they travel in `extra` (a JSON object per row).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    # Column-wise in Arrow rather than row-wise: apply(axis=1) over a million rows took seconds.
    arrays = [_text_array(frame[c]) for c in cols]
    if any(a is None for a in arrays):
        parts = frame[cols].astype(object).where(frame[cols].notna(), None)
        return parts.apply(lambda r: ",".join(v for v in r if v) or None, axis=1)
    return _series(_join_present(arrays, ","), frame.index)


def _join_present(arrays: list[pa.Array], sep: str) -> pa.Array:
    """Element-wise join of the non-null values with `sep` ("" where all are null).

    Spelled out because pyarrow 26's null_handling="skip" drops the rows where every value is null.
    """
    pieces = [pc.binary_join_element_wise(sep, a, "").fill_null("") for a in arrays]
    joined = pc.binary_join_element_wise(*pieces, "") if len(pieces) > 1 else pieces[0]
    return pc.utf8_slice_codeunits(joined, len(sep))


def _text_array(col: pd.Series) -> pa.Array | None:
    """The column as Arrow strings with empty cells null; None when it holds anything but text."""
    try:
        arr = pa.array(col, from_pandas=True)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type)):
            return None
        arr = arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _series(arr: pa.Array, index: pd.Index) -> pd.Series:
    """Arrow strings -> object Series, the empty string as None."""
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=index, dtype=object)


def to_source_frame(frame: pd.DataFrame, hm: HeaderMap) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Source-field frame, `raw` (JSON of mapped values as written) and `extra` (JSON of unmapped)."""
    src = pd.DataFrame(index=frame.index)
    for fld, cols in hm.fields.items():
        src[fld] = _join_values(frame, cols)
    src = src.astype(object).where(src.notna(), None)
    return src, _json_rows(src), _json_rows(frame[hm.unmapped]) if hm.unmapped else pd.Series(
        [None] * len(frame), index=frame.index, dtype=object)


def _json_rows(df: pd.DataFrame) -> pd.Series:
    """One compact JSON object per row, leaving out empty cells; None when the row has none.

    Byte for byte what json.dumps(dict, ensure_ascii=False) writes, built column by column in Arrow
    (per-row dicts cost seconds per million rows); anything unusual takes the row path.
    """
    if not (df.columns.is_unique and all(isinstance(c, str) for c in df.columns)):
        return _json_rows_slow(df)
    pieces = []
    for name in df.columns:
        arr = _text_array(df[name])
        if arr is None:
            return _json_rows_slow(df)
        if pc.any(pc.match_substring_regex(arr, _TO_ESCAPE)).as_py():
            if pc.any(pc.match_substring_regex(arr, _OTHER_CONTROL)).as_py():
                return _json_rows_slow(df)
            for raw, esc in _ESCAPES:
                arr = pc.replace_substring(arr, raw, esc)
        key = encode_basestring(name) + ': "'
        pieces.append(pc.binary_join_element_wise(key, arr, '"', ""))
    if not pieces:
        return pd.Series([None] * len(df), index=df.index, dtype=object)
    body = _join_present(pieces, ", ")
    wrapped = pc.binary_join_element_wise("{", body, "}", "")
    return _series(pc.if_else(pc.equal(body, ""), "", wrapped), df.index)


# What json's encoder escapes (ensure_ascii=False): the backslash first, then the quote and the
# control characters with a short form; other control characters are left to json itself.
_ESCAPES = [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
            ("\b", "\\b"), ("\f", "\\f")]
_TO_ESCAPE = '[\\x00-\\x1f\\\\"]'
_OTHER_CONTROL = "[\\x00-\\x07\\x0b\\x0e-\\x1f]"


def _json_rows_slow(df: pd.DataFrame) -> pd.Series:
    cols = list(df.columns)
    out = []
    for values in df.itertuples(index=False, name=None):
        d = {c: v for c, v in zip(cols, values) if v is not None and v == v and v != ""}
        out.append(json.dumps(d, ensure_ascii=False) if d else None)
    return pd.Series(out, index=df.index, dtype=object)
