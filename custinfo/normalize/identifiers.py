"""Account-like fields kept as text: QQ number, WeChat ID, the channel's own customer reference, notes."""
from __future__ import annotations

import re

from .text import clean_text, fix_excel_integer

_QQ = re.compile(r"[1-9]\d{4,11}")
_LABEL = re.compile(r"^(?:(?:qq号?|微信号?|wechat(?:\s*id)?|weixin|wx|vx)(?:\s*:\s*|\s+)"
                    r"|(?:微信号?|qq号))", re.I)


def normalize_qq(text: object) -> tuple[str | None, tuple[str, ...]]:
    """A QQ number is 5 to 12 digits, not starting with 0; ``12345678@qq.com`` gives its number."""
    s = clean_text(text)
    if s is None:
        return None, ()
    s = fix_excel_integer(_LABEL.sub("", s).replace(" ", ""))
    if s.lower().endswith("@qq.com"):
        s = s[:-7]
    if _QQ.fullmatch(s):
        return s, ()
    return None, ("invalid_qq",)


def normalize_wechat(text: object) -> str | None:
    """WeChat ID as written, without a ``微信:`` label or spaces (IDs never contain spaces)."""
    s = clean_text(text)
    if s is None:
        return None
    # Removing spaces can join a letter and a combining mark that NFKC then composes: clean again.
    return clean_text(fix_excel_integer(_LABEL.sub("", s).replace(" ", "")))


def normalize_reference(text: object) -> str | None:
    """The channel's customer number as text; ``10023.0`` (an Excel float) -> ``10023``."""
    s = clean_text(text)
    return fix_excel_integer(s) if s else None


def normalize_notes(text: object) -> str | None:
    """Free text: NFKC and invisible characters removed, line breaks kept."""
    return clean_text(text, multiline=True)
