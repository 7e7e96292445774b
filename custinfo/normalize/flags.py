"""Yes/no fields (consent_email, consent_marketing, opt_out): ``Y``, ``N`` or None.

是/否, Y/N, yes/no, 1/0, true/false, √/×, 同意/拒绝 mean what they say in every field; words about
subscribing flip with the field: 退订 (unsubscribed) is ``N`` for a consent and ``Y`` for opt_out.
A value that is none of these gives None and ``invalid_flag``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .text import clean_text

_YES = frozenset({"是", "y", "yes", "1", "true", "t", "√", "✓", "✔", "☑", "同意", "已同意", "允许", "接受",
                  "on", "对", "有", "ok", "agree", "agreed", "consent", "consented"})
_NO = frozenset({"否", "n", "no", "0", "false", "f", "×", "✗", "✘", "☐", "不同意", "拒绝", "不", "不允许",
                 "不接受", "off", "disagree", "declined", "refused"})
_UNSUBSCRIBED = frozenset({"退订", "已退订", "取消订阅", "拒收", "unsubscribe", "unsubscribed", "opt out",
                           "opt-out", "optout", "opted out", "td"})
_SUBSCRIBED = frozenset({"订阅", "已订阅", "subscribe", "subscribed", "opt in", "opt-in", "optin",
                         "opted in"})


@dataclass(frozen=True)
class FlagResult:
    """``Y``/``N``/None and, for an unreadable value, ``invalid_flag``."""

    value: str | None
    issues: tuple[str, ...] = ()


def normalize_flag(text: object, *, opt_out: bool = False) -> FlagResult:
    """Read a yes/no cell; ``opt_out`` says the field asks "unsubscribed?" rather than "consented?"."""
    s = clean_text(text)
    if s is None:
        return FlagResult(None)
    key = s.lower().strip(" .!。")
    if key.endswith(".0"):
        key = key[:-2]
    if key in _YES:
        return FlagResult("Y")
    if key in _NO:
        return FlagResult("N")
    if key in _UNSUBSCRIBED:
        return FlagResult("Y" if opt_out else "N")
    if key in _SUBSCRIBED:
        return FlagResult("N" if opt_out else "Y")
    return FlagResult(None, ("invalid_flag",))
