"""Gender: ``M``, ``F`` or None from the many ways forms and spreadsheets write it.

Codes 1 and 2 follow GB/T 2261.1 (1 male, 2 female); 0 and 9 (unknown, unstated) give None.
A value that is not recognised gives None and the issue ``invalid_gender``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .text import clean_text

_MALE = frozenset({"m", "male", "man", "men", "boy", "mr", "mr.", "1", "男", "男性", "男士", "男生", "男的",
                   "先生", "公", "♂", "gentleman"})
_FEMALE = frozenset({"f", "female", "woman", "women", "girl", "ms", "ms.", "mrs", "mrs.", "miss", "2", "女",
                     "女性", "女士", "女生", "女的", "小姐", "太太", "夫人", "♀", "lady"})
_UNKNOWN = frozenset({"0", "9", "u", "unknown", "x", "other", "保密", "不限", "未说明", "其他", "其它"})


@dataclass(frozen=True)
class GenderResult:
    """``M``/``F``/None and, for an unreadable value, ``invalid_gender``."""

    value: str | None
    issues: tuple[str, ...] = ()


def normalize_gender(text: object) -> GenderResult:
    """Map 男/女/M/F/Male/Female/先生/女士/1/2 (and more) to ``M``/``F``; never raises."""
    s = clean_text(text)
    if s is None:
        return GenderResult(None)
    key = s.lower().replace(" ", "")
    if key.endswith(".0"):
        key = key[:-2]
    if key in _MALE:
        return GenderResult("M")
    if key in _FEMALE:
        return GenderResult("F")
    if key in _UNKNOWN:
        return GenderResult(None)
    return GenderResult(None, ("invalid_gender",))


def gender_from_id(national_id: str | None) -> str | None:
    """Gender encoded in a valid 18-digit Chinese ID: the 17th digit is odd for men, even for women."""
    if not national_id or len(national_id) != 18 or not national_id[16].isdigit():
        return None
    return "M" if int(national_id[16]) % 2 else "F"
