"""Phone numbers -> E.164 (``+8613800138000``, extensions as ``;ext=123``).

A cell may hold several numbers (``/ , ; 、 或`` or a newline between them); every valid one goes to
``phones``, the first mobile (else the first valid number) to ``phone``. A piece that is not a valid
number is kept raw in ``invalid`` and flagged ``invalid_phone``: it is never guessed into another
country. Numbers that Excel turned into floats are recovered when the float still holds every
digit (``phone_from_float``) and flagged ``phone_destroyed_by_excel`` when it does not
(``1.38001E+10``).

The common case, a bare Chinese mobile, is checked against phonenumbers' own mobile pattern with
one regex instead of a full parse, which is what makes a million rows fast.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType

from .text import clean_text

_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_CN_META = PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE = re.compile("(?:%s)" % _CN_META.mobile.national_number_pattern)
_CN_FIXED = re.compile("(?:%s)" % _CN_META.fixed_line.national_number_pattern)
_CN_GENERAL = re.compile("(?:%s)" % _CN_META.general_desc.national_number_pattern)
_CN_FIXED_LENGTHS = (frozenset(_CN_META.fixed_line.possible_length)
                     & frozenset(_CN_META.general_desc.possible_length))
_FAST_CN = re.compile(r"(\+86|0086|86)?[\s-]?(1\d{2})[\s-]?(\d{4})[\s-]?(\d{4})")
_FAST_FIXED = re.compile(r"(\+86|0086|0)((?:10|[2-9])\d{5,10})")
_FLOAT = re.compile(r"\d+\.0+|\d+(?:\.\d+)?[eE]\+?\d+")
_SEPARATORS = re.compile(r"\s*(?:[/,;、|\n]|或者?|\bor\b)\s*", re.I)
_EXT_MARK = re.compile(
    r"\s*(?:转分机|转|分机号?|内线|ext(?:ension)?\.?|x|#|;\s*ext\s*=)\s*[:=]?\s*(\d{1,6})\s*$", re.I)
_DASH_EXT = re.compile(r"\s*-\s*(\d{1,5})\s*$")
_LABEL = re.compile(r"^[^\d+(]*|[^\d)]*$")
_NOTE = re.compile(r"[(\[]([^\d()\[\]]*)[)\]]")
_DIALLABLE = re.compile(r"^[\d+\s\-.()]+$")
_HOLDERS = ("852", "853", "886")  # HK, Macau, Taiwan written without "+": never read as CN numbers


@dataclass(frozen=True)
class PhoneResult:
    """Every valid number of one cell (E.164), the preferred one, and what could not be read."""

    phones: tuple[str, ...] = ()
    phone: str | None = None
    country: str | None = None
    invalid: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    mobiles: tuple[bool, ...] = ()
    regions: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class _One:
    e164: str | None
    mobile: bool = False
    region: str | None = None
    issue: str | None = None


def normalize_phone(text: object, region: str = "CN") -> PhoneResult:
    """Normalize one cell holding zero, one or several phone numbers; never raises."""
    s = clean_text(text, multiline=True)
    if s is None:
        return PhoneResult()
    region = region.upper() if region else "CN"
    fast = _fast_cn_mobile(s, region)
    if fast:
        return PhoneResult((fast,), fast, "CN", (), (), (True,), ("CN",))
    return _normalize_cell(s, region)


def _fast_cn_mobile(s: str, region: str) -> str | None:
    """A plain Chinese mobile, checked with phonenumbers' own pattern (no full parse)."""
    m = _FAST_CN.fullmatch(s)
    if m is None or (region != "CN" and m.group(1) != "+86"):
        return None
    national = m.group(2) + m.group(3) + m.group(4)
    return "+86" + national if _CN_MOBILE.fullmatch(national) else None


def _fast_cn_fixed(s: str, region: str) -> str | None:
    """A plain Chinese landline (``010-12345678``, ``+86 592 1234567``) without a full parse."""
    m = _FAST_FIXED.fullmatch(re.sub(r"[\s\-()]", "", s))
    if m is None or (region != "CN" and m.group(1) != "+86"):
        return None
    national = m.group(2)
    if (len(national) in _CN_FIXED_LENGTHS and _CN_FIXED.fullmatch(national)
            and _CN_GENERAL.fullmatch(national) and not _CN_MOBILE.fullmatch(national)):
        return "+86" + national
    return None


@lru_cache(maxsize=200_000)
def _normalize_cell(s: str, region: str) -> PhoneResult:
    issues: set[str] = set()
    if _FLOAT.fullmatch(s):
        s, issue = _undo_float(s)
        issues.add(issue)
        if issue == "phone_destroyed_by_excel":
            return PhoneResult(invalid=(s,), issues=("invalid_phone", issue))
    s = re.sub(r";\s*ext\s*=", " ext ", s, flags=re.I)
    found: list[_One] = []
    invalid: list[str] = []
    for piece in _SEPARATORS.split(s):
        piece = piece.strip(" .,-")
        if not piece:
            continue
        ones = _parse_piece(piece, region)
        if ones is None:
            invalid.append(piece)
            issues.add("invalid_phone")
            continue
        for one in ones:
            found.append(one)
            if one.issue:
                issues.add(one.issue)
    return _result(found, invalid, issues)


def _result(found: list[_One], invalid: list[str], issues: set[str]) -> PhoneResult:
    seen: dict[str, _One] = {}
    for one in found:
        seen.setdefault(one.e164, one)  # type: ignore[arg-type]
    ones = list(seen.values())
    best = next((o for o in ones if o.mobile), ones[0] if ones else None)
    return PhoneResult(
        phones=tuple(o.e164 for o in ones),  # type: ignore[misc]
        phone=best.e164 if best else None,
        country=best.region if best else None,
        invalid=tuple(invalid),
        issues=tuple(sorted(issues)),
        mobiles=tuple(o.mobile for o in ones),
        regions=tuple(o.region for o in ones),
    )


def _undo_float(s: str) -> tuple[str, str]:
    """``13800138000.0`` -> digits; a float that lost digits (``1.38001E+10``) is reported destroyed."""
    try:
        value = Decimal(s)
    except InvalidOperation:
        return s, "phone_destroyed_by_excel"
    if not value.is_finite() or value.adjusted() > 17 or value <= 0 or value != value.to_integral_value():
        return s, "phone_destroyed_by_excel"
    digits = str(int(value))
    significant = len(value.normalize().as_tuple().digits)
    if "e" in s.lower() and significant <= 6 and len(digits) > significant:
        return s, "phone_destroyed_by_excel"  # Excel's "General" display kept only 6 digits
    return digits, "phone_from_float"


def _parse_piece(piece: str, region: str) -> list[_One] | None:
    """One piece of a cell -> one number (or several run together with spaces); None if invalid."""
    fast = _fast_cn_mobile(piece, region)
    if fast:
        return [_One(fast, True, "CN")]
    ext = None
    m = _EXT_MARK.search(piece)
    if m and m.start() > 0:
        ext, piece = m.group(1), piece[: m.start()]
    piece = _LABEL.sub("", _NOTE.sub(" ", piece)).strip()
    if not piece or not _DIALLABLE.match(piece):
        return None
    one = _parse_number(piece, region)
    if one is None and ext is None:
        dm = _DASH_EXT.search(piece)
        if dm and dm.start() > 0:
            one = _parse_number(piece[: dm.start()], region)
            ext = dm.group(1) if one else None
    if one is not None:
        return [_with_ext(one, ext)]
    if ext is None:
        return _split_on_spaces(piece, region)
    return None


def _with_ext(one: _One, ext: str | None) -> _One:
    if not ext:
        return one
    return _One(f"{one.e164};ext={ext}", one.mobile, one.region, one.issue)


def _split_on_spaces(piece: str, region: str) -> list[_One] | None:
    """``13800138000 13900139000``: several numbers separated only by spaces, each valid alone."""
    tokens = piece.split()
    if len(tokens) < 2:
        return None
    ones = [_parse_number(t, region) for t in tokens]
    if all(ones) and all(len(re.sub(r"\D", "", t)) >= 7 for t in tokens):
        return ones  # type: ignore[return-value]
    return None


def _parse_number(text: str, region: str) -> _One | None:
    """phonenumbers on one number without extension; None unless it is a valid number."""
    fast = _fast_cn_mobile(text, region)
    if fast:
        return _One(fast, True, "CN")
    fixed = _fast_cn_fixed(text, region)
    if fixed:
        return _One(fixed, False, "CN")
    digits = re.sub(r"\D", "", text)
    if not 3 <= len(digits) <= 17:
        return None
    one = _pn_valid(text, region)
    if one is None and not text.lstrip().startswith(("+", "00")) and digits.startswith(_HOLDERS):
        one = _pn_valid("+" + digits, region)
    return one


def _pn_valid(text: str, region: str) -> _One | None:
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    num.extension = None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    kind = phonenumbers.number_type(num)
    return _One(e164, kind in _MOBILE_TYPES, phonenumbers.region_code_for_number(num))


def merge_phone_results(*results: PhoneResult) -> PhoneResult:
    """Combine the numbers of several cells (``mobile`` then ``phone``) into one result."""
    found = [_One(p, m, g) for r in results for p, m, g in zip(r.phones, r.mobiles, r.regions, strict=True)]
    invalid = [x for r in results for x in r.invalid]
    issues = {i for r in results for i in r.issues}
    return _result(found, invalid, issues)
