"""Text helpers shared by every normalizer: NFKC, invisible characters, placeholders, t2s.

Every cell is read as text; these helpers turn whatever came out of a spreadsheet into either a
clean string or None, so the field normalizers only ever see real content.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Zero-width and bidi marks survive copy-paste from web forms and chat apps and break equality.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufffc]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_ALL_WS = re.compile(r"\s+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_GAP = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")
_EXCEL_INT = re.compile(r"^([+-]?\d+)\.0+$")
_PUNCT_KEY = re.compile(r"[\s\W_]+", re.UNICODE)

# What people type into a cell when they mean "nothing".
PLACEHOLDERS = frozenset({
    "", "nan", "none", "null", "nil", "n/a", "na", "#n/a", "#value!", "#ref!", "-", "--", "---", "—",
    "/", "\\", ".", "?", "??", "无", "暂无", "空", "未知", "不详", "未填", "未填写", "没有",
})


def is_missing(value: object) -> bool:
    """True for None, NaN, and anything that is not a real value once cleaned."""
    return clean_text(value) is None


def clean_text(value: object, *, multiline: bool = False) -> str | None:
    """NFKC-normalize, drop invisible characters, collapse spaces; None for empty or placeholder.

    Full-width letters, digits and punctuation become ASCII (NFKC), the ideographic space becomes a
    space. With ``multiline`` newlines are kept (notes); otherwise all whitespace collapses.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        value = repr(value)
    text = value if isinstance(value, str) else str(value)
    # Fast path: printable means no controls, no invisible (format) characters, no exotic spaces.
    if text.isprintable() and (text.isascii() or unicodedata.is_normalized("NFKC", text)):
        if text[:1] == " " or text[-1:] == " " or "  " in text:
            text = _SPACES.sub(" ", text).strip()
    else:
        text = _clean_slow(text, multiline)
    if len(text) <= 8 and text.lower() in PLACEHOLDERS:
        return None
    return text


def _clean_slow(text: str, multiline: bool) -> str:
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _CONTROL.sub("", text)
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
        return "\n".join(line for line in lines if line)
    return _ALL_WS.sub(" ", text).strip()


def has_cjk(text: str) -> bool:
    """True when the text holds at least one Chinese character."""
    return _CJK_RE.search(text) is not None


def is_cjk_char(ch: str) -> bool:
    """True for one Chinese (CJK unified ideograph) character."""
    return _CJK_RE.match(ch) is not None


def drop_cjk_spaces(text: str) -> str:
    """Remove spaces between two Chinese characters (``王 小 明`` -> ``王小明``)."""
    return _CJK_GAP.sub("", text)


def fix_excel_integer(text: str) -> str:
    """``13800138000.0`` -> ``13800138000``: undo Excel/pandas reading an integer as a float."""
    m = _EXCEL_INT.match(text)
    return m.group(1) if m else text


def match_key(text: str) -> str:
    """Lower case with every space, punctuation mark and underscore removed."""
    return _PUNCT_KEY.sub("", text.lower())


@lru_cache(maxsize=1)
def _t2s_converter():
    import opencc

    return opencc.OpenCC("t2s")


def t2s(text: str) -> str:
    """Traditional -> simplified Chinese (OpenCC t2s); ASCII text is returned unchanged."""
    if text.isascii():
        return text
    return _t2s_converter().convert(text)


def t2s_many(texts: Iterable[str]) -> list[str]:
    """Convert many strings with one OpenCC call (one line each), which is far faster than one by one."""
    items = list(texts)
    todo = [i for i, t in enumerate(items) if not t.isascii() and "\n" not in t]
    out = list(items)
    if todo:
        converted = _t2s_converter().convert("\n".join(items[i] for i in todo)).split("\n")
        if len(converted) != len(todo):  # never expected; stay correct anyway
            converted = [t2s(items[i]) for i in todo]
        for i, c in zip(todo, converted, strict=True):
            out[i] = c
    for i, t in enumerate(items):
        if "\n" in t and not t.isascii():
            out[i] = t2s(t)
    return out
