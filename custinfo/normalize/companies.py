"""Company names: the display name as written (cleaned) and a ``company_key`` for matching.

The key drops what varies between two spellings of one company: legal forms (有限公司, 股份有限公司,
有限责任公司, 集团, Co., Ltd., Inc., LLC, GmbH, Corp.), places in brackets (``（深圳）``), a leading
province or city (``深圳市``), traditional characters, case, spaces and punctuation. So
``深圳市腾飞科技有限公司`` and ``腾飞科技（深圳）`` share the key ``腾飞科技``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .text import clean_text, drop_cjk_spaces, has_cjk, match_key, t2s

_CN_LEGAL = ("集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司",
             "有限公司", "集团公司", "股份公司", "集团", "(?<!分)公司")
_EN_LEGAL = (r"co\.?,?\s*ltd\.?", r"company\s+limited", r"co\.?", r"ltd\.?", r"limited", r"inc\.?",
             r"incorporated", r"l\.?l\.?c\.?", r"gmbh", r"corp\.?", r"corporation", r"company", r"plc",
             r"pte\.?", r"pty\.?", r"s\.a\.?", r"ag", r"group")
_LEGAL_TAIL = re.compile(
    r"(?:[\s,.]*(?:%s))+[\s,.]*$" % "|".join((*_CN_LEGAL, *(rf"\b{e}" for e in _EN_LEGAL))), re.I)
_BRACKET = re.compile(r"[(\[【]([^()\[\]【】]*)[)\]】]")
_PLACES_LATIN = frozenset({
    "china", "prc", "hk", "hong kong", "hongkong", "macau", "taiwan", "shenzhen", "guangzhou",
    "shanghai", "beijing", "tianjin", "chongqing", "hangzhou", "suzhou", "nanjing", "wuhan", "chengdu",
    "xiamen", "qingdao", "dalian", "ningbo", "xian", "xi'an", "dongguan", "foshan", "zhuhai", "changsha",
    "zhengzhou", "jinan", "hefei", "fuzhou", "kunming", "shenyang", "harbin", "guangdong", "jiangsu",
    "zhejiang", "fujian", "shandong", "asia", "asia pacific", "international", "intl",
})


@dataclass(frozen=True)
class CompanyResult:
    """The cleaned display name and its matching key."""

    name: str | None
    key: str | None


def clean_company(text: object) -> str | None:
    """Display name: NFKC, no spaces between Chinese characters, Chinese brackets full-width."""
    s = clean_text(text)
    if s is None:
        return None
    if has_cjk(s):
        s = drop_cjk_spaces(s)
        s = re.sub(r"\s*\(\s*([^()]*?)\s*\)\s*", r"（\1）", s)
    s = s.strip(" ,")
    return s if any(ch.isalnum() for ch in s) else None  # "/" or "-" is not a company


def company_key(name: str | None) -> str | None:
    """Matching key of a (cleaned) company name; None when nothing distinctive is left."""
    if not name:
        return None
    return _key(name)


@lru_cache(maxsize=200_000)
def _key(name: str) -> str | None:
    s = clean_text(t2s(name))
    if s is None:
        return None
    s = s.lower()
    s = _BRACKET.sub(lambda m: " " if _is_place_or_legal(m.group(1)) else m.group(0), s)
    s = _LEGAL_TAIL.sub("", s).strip()
    s = _drop_leading_places(s)
    s = _LEGAL_TAIL.sub("", s).strip()
    key = match_key(s)
    return key or match_key(t2s(name).lower()) or None


def _is_place_or_legal(content: str) -> bool:
    c = content.strip().lower()
    if not c:
        return True
    if c in _PLACES_LATIN or _LEGAL_TAIL.fullmatch(c) or c in ("中国", "集团", "总部", "总公司"):
        return True
    return _place_names().get(c) is not None


def _drop_leading_places(s: str) -> str:
    """``广东省深圳市腾飞科技`` -> ``腾飞科技``: only names written with their 省/市/区 suffix."""
    names = _place_names()
    changed = True
    while changed:
        changed = False
        for n in range(min(9, len(s) - 2), 1, -1):
            head = s[:n]
            if names.get(head) == "full" and len(s) - n >= 2:
                s, changed = s[n:], True
                break
    return s


@lru_cache(maxsize=1)
def _place_names() -> dict[str, str]:
    """Province and city names: full (``深圳市``) -> "full", short (``深圳``) -> "short"."""
    from .addresses import _short, gazetteer

    g = gazetteer()
    out: dict[str, str] = {}
    for code, name in g.name.items():
        rank = len(code) // 2 - 1
        if rank < 2:
            out.setdefault(_short(name, rank), "short")
        if rank < 2 or name.endswith(("区", "县")):
            out[name] = "full"
    out["中国"] = "full"
    return out


def normalize_company(text: object) -> CompanyResult:
    """Clean one company name and compute its key; never raises, idempotent on ``result.name``."""
    name = clean_company(text)
    return CompanyResult(name, company_key(name))
