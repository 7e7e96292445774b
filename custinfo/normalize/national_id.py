"""Chinese resident ID numbers (居民身份证号码, GB 11643).

Valid: 18 characters, a known province code, a real birth date and the ISO 7064 mod 11-2 check
character (``X`` upper case). A 15-digit legacy number is upgraded to 18 (``19`` inserted before
the two-digit year, check character added). An ID that went through a spreadsheet as a number is
recognised and never stored: ``1.10105E+17`` (scientific display) or an 18-digit number whose last
digits Excel zeroed (15 significant digits) gives ``id_destroyed_by_excel``.

A value with no shape of a resident ID at all (not 15 to 19 digits, a final ``X`` allowed) is another
identity document typed into the ID column (a passport ``E12345678``, a foreign social security
number, a Hong Kong card ``A123456(7)``): it is not a wrong resident ID but another kind of number, so
it is returned cleaned as ``other`` (see ``other_id.py``) with the issue ``id_not_resident_id``.
Digit runs of resident-ID length stay resident IDs (``id_invalid`` / ``id_checksum``, not stored):
a wrong number is never stored, nor a bank card number typed into the wrong column.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..idcheck import PROVINCES as _PROVINCES
from ..idcheck import check_char
from .other_id import clean_other_id, is_other_id
from .text import clean_text

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?e[+-]\d+", re.I)  # the sign: see other_id.py
_FLOATED = re.compile(r"(\d{15,18})\.0+")
_RESIDENT_SHAPE = re.compile(r"\d{14,18}[\dX]")


@dataclass(frozen=True)
class IdResult:
    """A valid 18-character ID (or None), the birth date and gender it encodes, any issues, and
    ``other``: the cleaned number of another kind of identity document found in the ID column."""

    value: str | None
    birth_date: str | None = None
    gender: str | None = None
    issues: tuple[str, ...] = ()
    other: str | None = None


def normalize_national_id(text: object) -> IdResult:
    """Validate (and upgrade) one ID number; never raises, idempotent on ``result.value``."""
    s = clean_text(text)
    if s is None:
        return IdResult(None)
    s = re.sub(r"[\s\-']", "", s).upper()
    if _SCIENTIFIC.fullmatch(s):
        return IdResult(None, issues=("id_destroyed_by_excel",))
    floated = _FLOATED.fullmatch(s)
    if floated:
        s = floated.group(1)
    if not _RESIDENT_SHAPE.fullmatch(s):
        return _not_resident(s)
    if re.fullmatch(r"\d{15}", s):
        s = upgrade_15(s)
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return IdResult(None, issues=("id_invalid",))
    if s[:2] not in _PROVINCES or _birth(s) is None:
        return IdResult(None, issues=("id_invalid",))
    if check_char(s[:17]) != s[17]:
        destroyed = floated is not None or s.endswith("000")
        return IdResult(None, issues=("id_destroyed_by_excel" if destroyed else "id_checksum",))
    return IdResult(s, _birth(s), "M" if int(s[16]) % 2 else "F")


def _not_resident(s: str) -> IdResult:
    """A value without the shape of a resident ID: another document's number, or nothing usable."""
    other = clean_other_id(s)
    if other is not None and _RESIDENT_SHAPE.fullmatch(other) and other != s:
        return normalize_national_id(other)  # a resident ID behind a label: `身份证: 1101...`
    if other is not None and is_other_id(other):
        return IdResult(None, issues=("id_not_resident_id",), other=other)
    return IdResult(None, issues=("id_invalid",))


def upgrade_15(old: str) -> str:
    """15-digit legacy number -> 18 digits: century ``19`` inserted, check character appended."""
    first17 = old[:6] + "19" + old[6:]
    return first17 + check_char(first17)


def _birth(s: str) -> str | None:
    try:
        day = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None
    if not dt.date(1900, 1, 1) <= day <= dt.date.today():
        return None
    return day.isoformat()
