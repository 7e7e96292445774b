"""Find secret numbers wherever they are: Chinese resident ID numbers and bank card numbers.

The seeds ask to keep ID and bank card numbers apart and masked. A mapped ``national_id`` column
is easy; the hard part is the same number typed into notes or an unmapped column. Detection here
is deliberately checksum-based so that phone numbers, order numbers and dates are not flagged:

* ID: 18 characters, ISO 7064 mod 11-2 check character, a known province code and a real birth
  date; the 6-8-4 grouping with a space or dash is accepted. (15-digit legacy numbers carry no
  check digit and look like any other number, so they are only caught in a mapped column.)
* Bank card: 16-19 digits, Luhn-valid, first digit 3-6 (the IIN ranges of the card schemes
  issuing in China: UnionPay 62, Visa 4, Mastercard 5, JCB 3). Written as one run or in groups
  of four with single spaces or dashes (``6222 0212 3456 7890 123``). Chinese mobile numbers
  start with 1 and are 11 digits, and 3-4-4 groups never make the 4-4-4-4 rhythm of a card.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..idcheck import PROVINCES, check_char

ID_KIND = "national_id"
CARD_KIND = "bank_card"


# Candidates; validity is decided by the checksum functions below. They run on the text with
# every Unicode digit (fullwidth １２３ from a Chinese IME, ...) mapped to ASCII one for one, so
# spans found there are spans in the original.
_ID_RE = re.compile(r"(?<![0-9])[0-9]{6}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9Xx](?![0-9])")
_CARD_RUN_RE = re.compile(r"(?<![0-9])[0-9]{16,19}(?![0-9])")
_CARD_GROUPS_RE = re.compile(r"(?<![0-9])[0-9]{1,6}(?:[ -][0-9]{1,6}){3,}(?![0-9])")
# Vectorized pre-filter (RE2-compatible: no look-around): a cell can only hold a secret if it has
# a long digit run or digit groups separated by single spaces/dashes.
_D, _S = "[0-9０-９]", "[ \\-－　]"
PREFILTER = f"{_D}{{16}}|{_D}{{6}}{_S}?{_D}{{8}}|{_D}{{4}}{_S}{_D}{{4}}{_S}{_D}{{4}}{_S}{_D}"


def _ascii_table() -> dict[int, str]:
    """Every non-ASCII decimal digit (Unicode category Nd, what ``re``'s ``\\d`` matches) below
    U+30000 -> its ASCII digit; found by one regex scan over all those characters (asking
    unicodedata about each of 196k code points took 0.04-0.08 s of every process start)."""
    code_points = np.concatenate([np.arange(0x80, 0xD800), np.arange(0xE000, 0x30000)])  # no surrogates
    every = code_points.astype("<u4").tobytes().decode("utf-32-le")
    table = {ord(ch): str(unicodedata.decimal(ch)) for ch in re.findall(r"\d", every)}
    table.update({ord("Ｘ"): "X", ord("ｘ"): "x", ord("－"): "-", ord("\u3000"): " "})
    return table


_TO_ASCII = _ascii_table()


def ascii_digits(text: str) -> str:
    """``text`` with Unicode digits, fullwidth X, dash and space made ASCII; same length."""
    return text if text.isascii() else text.translate(_TO_ASCII)


@dataclass(frozen=True)
class Finding:
    """A secret found in a text: its kind and the [start, end) span in the original string."""

    kind: str
    start: int
    end: int


def is_valid_cn_id(s: object) -> bool:
    """True for an 18-character resident ID: province code, real birth date, mod 11-2 check."""
    if not isinstance(s, str):
        return False
    v = ascii_digits(s.strip()).upper()
    if len(v) != 18 or not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        return False
    if not v.isascii() or v[:2] not in PROVINCES:
        return False
    try:
        born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return False
    return check_char(v[:17]) == v[17]


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_bank_card(s: object) -> bool:
    """True for 16-19 digits (spaces/dashes allowed), first digit 3-6, Luhn-valid, not an ID."""
    if not isinstance(s, str):
        return False
    digits = re.sub(r"[ -]", "", ascii_digits(s.strip()))
    if not (16 <= len(digits) <= 19 and digits.isascii() and digits.isdigit()):
        return False
    if digits[0] not in "3456" or len(set(digits)) == 1:
        return False
    return luhn_ok(digits) and not is_valid_cn_id(digits)


def find_secrets(text: object) -> list[Finding]:
    """Every ID and bank card number inside ``text``, in order, without overlaps."""
    if not isinstance(text, str) or not text:
        return []
    text = ascii_digits(text)
    found: list[Finding] = []
    for m in _ID_RE.finditer(text):
        if is_valid_cn_id(re.sub(r"[ -]", "", m.group())):
            found.append(Finding(ID_KIND, m.start(), m.end()))
    for m in _CARD_RUN_RE.finditer(text):
        if not _overlaps(found, m.start(), m.end()) and is_bank_card(m.group()):
            found.append(Finding(CARD_KIND, m.start(), m.end()))
    for m in _CARD_GROUPS_RE.finditer(text):
        for start, end in _grouped_cards(m.group(), m.start()):
            if not _overlaps(found, start, end):
                found.append(Finding(CARD_KIND, start, end))
    return sorted(found, key=lambda f: f.start)


def _overlaps(found: list[Finding], start: int, end: int) -> bool:
    return any(f.start < end and start < f.end for f in found)


def _grouped_cards(chunk: str, offset: int) -> list[tuple[int, int]]:
    """Card numbers written in groups inside ``chunk``: four groups of 4 digits, then optionally a
    last group of 1-4 (``6222 0212 3456 7890 123``). Requiring the 4-digit rhythm keeps lists of
    phone numbers written 3-4-4 from being read as a card."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", chunk)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i + 4 <= len(groups):
        hit = None
        for n in (5, 4):
            window = groups[i:i + n]
            if len(window) < n or any(b - a != 4 for a, b in window[:4]):
                continue
            digits = "".join(chunk[a:b] for a, b in window)
            if len(digits) <= 19 and is_bank_card(digits):
                hit = n
                break
        if hit is None:
            i += 1
            continue
        spans.append((offset + groups[i][0], offset + groups[i + hit - 1][1]))
        i += hit
    return spans


def _mask_finding(kind: str, value: str) -> str:
    from .masking import mask_bank_card, mask_national_id

    digits = re.sub(r"[ -]", "", ascii_digits(value))
    return mask_national_id(digits) if kind == ID_KIND else mask_bank_card(digits)


def redact_secrets(text: object, style: str = "mask") -> object:
    """``text`` with every ID / bank card replaced: masked (``1101**********1234``) or a label.

    ``style="label"`` writes ``[national_id]`` / ``[bank_card]`` instead. Non-strings pass through.
    """
    if not isinstance(text, str):
        return text
    findings = find_secrets(text)
    if not findings:
        return text
    out, pos = [], 0
    for f in findings:
        out.append(text[pos:f.start])
        out.append(f"[{f.kind}]" if style == "label" else _mask_finding(f.kind, text[f.start:f.end]))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def candidate_mask(s: pd.Series) -> pd.Series:
    """Vectorized pre-filter: True where a cell may hold an ID or a bank card number."""
    text = s.astype("string") if s.dtype == object else s
    try:
        hit = text.str.contains(PREFILTER, regex=True, na=False)
    except (TypeError, AttributeError):  # not a text column
        return pd.Series(False, index=s.index)
    return hit.fillna(False).astype(bool)


def scan_frame(df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """One row per secret found: ``row`` (index label), ``column``, ``kind``, ``start``, ``end``.

    Only text columns are scanned; cells are pre-filtered with a vectorized regex, so a million
    rows of notes without long digit runs cost one pass of the regex engine.
    """
    cols = list(df.columns) if columns is None else [c for c in columns if c in df.columns]
    rows: list[tuple[object, str, str, int, int]] = []
    for col in cols:
        s = df[col]
        if not _is_texty(s):
            continue
        cand = candidate_mask(s)
        if not cand.any():
            continue
        for idx, val in s[cand].items():
            for f in find_secrets(val if isinstance(val, str) else str(val)):
                rows.append((idx, col, f.kind, f.start, f.end))
    return pd.DataFrame(rows, columns=["row", "column", "kind", "start", "end"])


def redact_series(s: pd.Series, style: str = "mask") -> tuple[pd.Series, int]:
    """``s`` with secrets redacted in every cell that has one, and how many cells changed."""
    if not _is_texty(s):
        return s, 0
    cand = candidate_mask(s)
    if not cand.any():
        return s, 0
    before = s[cand]
    after = before.map(lambda v: redact_secrets(v, style) if isinstance(v, str) else v)
    changed = before.ne(after).fillna(False) & before.notna()
    if not changed.any():
        return s, 0
    out = s.copy()
    out.loc[changed[changed].index] = after[changed]
    return out, int(changed.sum())


def _is_texty(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, pd.StringDtype) or str(s.dtype) in ("str", "string")
