"""Identity documents that are not Chinese resident IDs: passports, foreign social security and tax
numbers, Hong Kong / Macau / Taiwan identity cards and travel permits (港澳通行证, 台胞证, 回乡证).

Their formats are too many to validate, so the value is only cleaned, never checked against a
format and never guessed at: NFKC (fullwidth ``Ｅ１２３`` -> ``E123``), a leading label written with a
colon dropped (``Passport No: E12345678``), spaces, dashes, dots, slashes and brackets removed
(``A123456(7)`` -> ``A1234567``), upper case. What is left must be 6 to 24 ASCII letters and digits
holding at least one digit, and not one character repeated (``000000`` is a placeholder); anything
else is ``other_id_invalid`` and not stored. A number that went through a spreadsheet in scientific
notation (``1.23457E+06``) lost digits: ``id_destroyed_by_excel``, not stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .text import clean_text, fix_excel_integer

# Spreadsheets and float reprs always write the exponent's sign (1.23457E+06, 1e+17); without it
# (0000E0, 1234E5) the text is a document number that happens to hold an E.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?e[+-]\d+", re.I)
_LABEL = re.compile(r"^[^\d:：]{1,24}[:：]\s*")
_SEPARATORS = re.compile(r"[\s\-‐‑–—'./\\()\[\]（）【】#]")
MIN_LENGTH, MAX_LENGTH = 6, 24
_VALUE = re.compile(rf"[A-Z0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}")


@dataclass(frozen=True)
class OtherIdResult:
    """A cleaned document number (or None) and any issues."""

    value: str | None
    issues: tuple[str, ...] = ()


def clean_other_id(text: object) -> str | None:
    """The cleaned form of a document number (label, separators removed, upper case), unvalidated."""
    s = clean_text(text)
    if s is None:
        return None
    s = fix_excel_integer(_LABEL.sub("", s).strip())
    return _SEPARATORS.sub("", s).upper() or None


def normalize_other_id(text: object) -> OtherIdResult:
    """Clean one document number; never raises, idempotent on ``result.value``."""
    s = clean_text(text)
    if s is None:
        return OtherIdResult(None)
    if _SCIENTIFIC.fullmatch(s.replace(" ", "")):
        return OtherIdResult(None, ("id_destroyed_by_excel",))
    v = clean_other_id(s)
    if v is None or not is_other_id(v):
        return OtherIdResult(None, ("other_id_invalid",))
    return OtherIdResult(v)


def is_other_id(v: str) -> bool:
    """True for a cleaned value custinfo keeps: 6-24 ASCII letters and digits, a digit among them,
    not one character repeated."""
    return bool(_VALUE.fullmatch(v)) and any(c.isdigit() for c in v) and len(set(v)) > 1
