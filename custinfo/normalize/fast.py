"""Vectorized fast paths (Arrow compute, RE2) for the clean values that make up most of a file.

Each function takes the distinct values of one column and returns, per value, either the final
normalized value or None, meaning "not obviously clean: ask the per-value normalizer". A fast
path only accepts what its normalizer would return unchanged, so results never depend on which
path a value took (tests check this against the per-value functions).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneMetadata

from .emails import fix_domain, validate
from .national_id import _PROVINCES

_CN = PhoneMetadata.metadata_for_region("CN")
_MOBILE_RE = "^(?:%s)$" % _CN.mobile.national_number_pattern
_FIXED_RE = "^(?:%s)$" % _CN.fixed_line.national_number_pattern
_GENERAL_RE = "^(?:%s)$" % _CN.general_desc.national_number_pattern
_FIXED_LENGTHS = frozenset(_CN.fixed_line.possible_length) & frozenset(_CN.general_desc.possible_length)
_EMAIL_RE = (r"^[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
             r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")
_CJK_NAME_RE = r"^[\x{4e00}-\x{9fff}]{2,4}$"
_HONORIFIC_END_RE = "(?:先生|女士|小姐|太太|夫人)$"


def as_arrow(values: Sequence[object]) -> pa.Array:
    """Strings as an Arrow array; anything that is not a str becomes null (left to the slow path)."""
    return pa.array([v if isinstance(v, str) else None for v in values], type=pa.large_string())


def _np(arr: pa.Array) -> np.ndarray:
    """Arrow -> numpy object array with None for null."""
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def cn_phones(values: Sequence[object], region: str = "CN") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clean Chinese mobiles and landlines -> (E.164 or None, is mobile, came from an Excel float).

    Accepts ASCII digits with spaces, dashes and brackets, an optional +86 / 0086 / 86 prefix
    (landlines: +86 / 0086, or the trunk 0) and a trailing ``.0`` that Excel added. Outside the
    CN region only numbers written with ``+86`` are taken here.
    """
    arr = as_arrow(values)
    if region != "CN":
        arr = pc.if_else(pc.starts_with(arr, "+86"), arr, pa.scalar(None, pa.large_string()))
    s = pc.replace_substring_regex(arr, r"[\s\-()]", "")
    floated = pc.match_substring_regex(s, r"^\d+\.0+$")
    s = pc.replace_substring_regex(s, r"^(\d+)\.0+$", r"\1")
    mobile_nat = pc.replace_substring_regex(s, r"^(?:\+86|0086|86)(1\d{10})$", r"\1")
    is_mobile = _mask(pc.match_substring_regex(mobile_nat, _MOBILE_RE))
    fixed_nat = pc.replace_substring_regex(s, r"^(?:\+86|0086|0)((?:10|[2-9])\d{5,10})$", r"\1")
    is_fixed = (_mask(pc.match_substring_regex(s, r"^(?:\+86|0086|0)(?:10|[2-9])"))
                & _mask(pc.match_substring_regex(fixed_nat, _FIXED_RE))
                & _mask(pc.match_substring_regex(fixed_nat, _GENERAL_RE))
                & np.isin(_np(pc.utf8_length(fixed_nat)).astype(float), list(_FIXED_LENGTHS))
                & ~is_mobile)
    nat = np.where(is_mobile, _np(mobile_nat), np.where(is_fixed, _np(fixed_nat), None))
    e164 = np.where(is_mobile | is_fixed, "+86" + nat.astype(str), None).astype(object)
    return e164, is_mobile, _mask(floated) & (is_mobile | is_fixed)


def emails(values: Sequence[object]) -> np.ndarray:
    """Syntactically plain ASCII addresses whose domain needs no repair -> lower case, else None."""
    arr = as_arrow(values)
    low = pc.utf8_lower(arr)
    ok = _mask(pc.match_substring_regex(low, _EMAIL_RE))
    ok &= _np(pc.fill_null(pc.less_equal(pc.find_substring(low, "@"), 64), False)).astype(bool)
    ok &= _np(pc.fill_null(pc.less_equal(pc.utf8_length(low), 254), False)).astype(bool)
    domain = _np(pc.struct_field(pc.extract_regex(low, r"@(?P<d>[^@]+)$"), [0]))
    good = {d for d in set(domain[ok]) if d and fix_domain(d) == d and validate(f"a@{d}") == f"a@{d}"}
    ok &= np.fromiter((d in good for d in domain), dtype=bool, count=len(domain))
    return np.where(ok, _np(low), None).astype(object)


def plain_cjk_names(values: Sequence[object]) -> np.ndarray:
    """True for names of 2-4 common Chinese characters and nothing else (no honorific)."""
    arr = as_arrow(values)
    return (_mask(pc.match_substring_regex(arr, _CJK_NAME_RE))
            & ~_mask(pc.match_substring_regex(arr, _HONORIFIC_END_RE)))


# Dates written year first, as exports write most of them (1990-01-02, 1990/1/2, 1990.1.2,
# 1990年1月2日, 19900102): the per-value parser reads each as that year, month and day.
_YEAR_FIRST_SHAPES = tuple("^(?P<y>\\d{4})" + rest + "$" for rest in (
    r"[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})", r"年(?P<m>\d{1,2})月(?P<d>\d{1,2})日",
    r"(?P<m>\d{2})(?P<d>\d{2})"))


def _year_first(arr: pa.Array) -> pa.Array:
    """``YYYY-MM-DD`` text of the values in one of _YEAR_FIRST_SHAPES (not checked yet), else null."""
    out = pa.nulls(len(arr), pa.large_string())
    for shape in _YEAR_FIRST_SHAPES:
        parts = pc.extract_regex(arr, shape)
        y, m, d = (pc.struct_field(parts, [i]) for i in range(3))
        dash = pa.scalar("-", pa.large_string())
        text = pc.binary_join_element_wise(y, pc.utf8_lpad(m, 2, "0"), pc.utf8_lpad(d, 2, "0"), dash)
        out = pc.coalesce(out, text)
    return out


def iso_dates(values: Sequence[object], latest: dt.date | None = None) -> np.ndarray:
    """A date written year first (_YEAR_FIRST_SHAPES) -> ISO date if real and from 1900 to ``latest``
    (today)."""
    arr = _year_first(as_arrow(values))
    shape = _mask(pc.match_substring_regex(arr, r"^\d{4}-\d{2}-\d{2}$"))
    ok = shape & _real(arr, "%Y-%m-%d", latest or dt.date.today())
    return np.where(ok, _np(arr), None).astype(object)


def iso_datetimes(values: Sequence[object], latest: dt.date | None = None) -> np.ndarray:
    """Naive ``YYYY-MM-DD HH:MM:SS`` (or with ``T``) -> ``YYYY-MM-DDTHH:MM:SS`` if real, else None."""
    arr = pc.replace_substring_regex(
        as_arrow(values), r"^(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}:\d{2}:\d{2})$", r"\1-\2-\3T\4")
    shape = _mask(pc.match_substring_regex(arr, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"))
    latest = latest or dt.date.today() + dt.timedelta(days=1)
    ok = shape & _real(arr, "%Y-%m-%dT%H:%M:%S", latest)
    return np.where(ok, _np(arr), None).astype(object)


def _real(arr: pa.Array, fmt: str, latest: dt.date) -> np.ndarray:
    """Parses with ``fmt``, formats back to the same text (Arrow rolls 02-30 over to 03-02), in range."""
    ts = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    same = _mask(pc.equal(pc.strftime(ts, format=fmt), arr))
    days = pc.cast(ts, pa.date32())
    lo = pa.scalar(dt.date(1900, 1, 1), pa.date32())
    hi = pa.scalar(latest, pa.date32())
    in_range = _mask(pc.and_(pc.greater_equal(days, lo), pc.less_equal(days, hi)))
    return same & in_range


def national_ids(values: Sequence[object]) -> np.ndarray:
    """Valid 18-character IDs written cleanly (digits, upper-case X) -> themselves, else None."""
    arr = as_arrow(values)
    shape = _mask(pc.match_substring_regex(arr, r"^\d{17}[\dX]$"))
    out = np.full(len(values), None, dtype=object)
    idx = np.flatnonzero(shape)
    if not len(idx):
        return out
    ids = _np(arr)[idx].astype("S18")
    digits = np.frombuffer(ids.tobytes(), dtype=np.uint8).reshape(-1, 18).astype(np.int64) - 48
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits[:, :17] * weights).sum(axis=1) % 11]
    good = check == np.frombuffer(ids.tobytes(), dtype=np.uint8).reshape(-1, 18)[:, 17]
    good &= np.isin(np.char.decode(ids.astype("S2")), list(_PROVINCES))
    births = [f"{b[6:10]}-{b[10:12]}-{b[12:14]}" for b in np.char.decode(ids.astype("S14"))]
    good &= np.not_equal(iso_dates(births), None)
    out[idx[good]] = _np(arr)[idx[good]]
    return out
