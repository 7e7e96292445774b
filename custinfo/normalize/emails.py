"""Email addresses: trimmed, full-width fixed, lower case, typo'd big-provider domains repaired.

A repair (``qq.con`` -> ``qq.com``, ``gmial.com`` -> ``gmail.com``) is recorded as
``email_typo_fixed``; an address that still fails the syntax check (email-validator, no DNS) is
kept out of ``emails`` and flagged ``invalid_email``. Clean ASCII addresses are accepted by one
strict regex that only admits what email-validator also admits; everything else goes through
email-validator itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from .text import clean_text

# Big providers, where a near miss is a typo rather than a different, real domain.
PROVIDERS = frozenset({
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "vip.163.com",
    "vip.126.com", "188.com", "sina.com", "sina.cn", "vip.sina.com", "sohu.com", "139.com", "189.cn",
    "aliyun.com", "gmail.com", "hotmail.com", "outlook.com", "live.com", "msn.com", "yahoo.com",
    "icloud.com", "tom.com", "21cn.com",
})
# Real domains one keystroke away from a provider: never "fixed".
REAL_LOOKALIKES = frozenset({"mail.com", "email.com", "gmx.com", "163.net", "live.cn", "sina.net",
                             "qq.cn", "126.net", "yahoo.co.jp", "yahoo.co.uk", "hotmail.co.uk",
                             "outlook.cn", "me.com", "mac.com", "aol.com"})
_TLD_TYPOS = {
    "com": {"con", "cm", "co", "cmo", "ocm", "comm", "om", "cim", "vom", "xom", "coom", "c0m", "cpm",
            "clm", "comn", "cn.com", "com.com"},
    "net": {"ne", "nt", "nte", "met", "bet", "nett"},
    "cn": {"cnn"},
}
_FIXABLE_LABELS = ("gmail", "hotmail", "outlook", "yahoo", "foxmail", "icloud", "aliyun", "sina", "sohu")

_FAST = re.compile(
    r"(?=[^@]{1,64}@)[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}")
_SPECIAL_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_SPLIT = re.compile(r"[,;/|、\n]+")
_ANGLE = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True)
class EmailResult:
    """Every valid address of one cell, the first of them, and what could not be read."""

    emails: tuple[str, ...] = ()
    email: str | None = None
    invalid: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()


def normalize_email(text: object) -> EmailResult:
    """Normalize one cell holding zero, one or several email addresses; never raises."""
    s = clean_text(text, multiline=True)
    if s is None:
        return EmailResult()
    if _FAST.fullmatch(s) and _domain_ok(s) and fix_domain(s.rsplit("@", 1)[1]) == s.rsplit("@", 1)[1]:
        return EmailResult((s,), s)
    return _normalize_cell(s)


@lru_cache(maxsize=100_000)
def _normalize_cell(s: str) -> EmailResult:
    s = s.replace("。", ".").replace("｡", ".").replace("[at]", "@").replace("(at)", "@").lower()
    emails: list[str] = []
    invalid: list[str] = []
    issues: set[str] = set()
    for piece in _pieces(s):
        address, fixed = fix_typo(piece)
        valid = validate(address)
        if valid is None:
            invalid.append(piece)
            issues.add("invalid_email")
            continue
        if fixed:
            issues.add("email_typo_fixed")
        if valid not in emails:
            emails.append(valid)
    return EmailResult(tuple(emails), emails[0] if emails else None, tuple(invalid), tuple(sorted(issues)))


def _pieces(s: str) -> list[str]:
    """Split a cell into candidate addresses, dropping labels, names and ``mailto:``."""
    out: list[str] = []
    for piece in _SPLIT.split(s):
        inside = _ANGLE.findall(piece)  # 张三 <zs@163.com>: the name is not an address
        if inside:
            out.extend(p.replace(" ", "") for p in inside if p.strip())
            continue
        if piece.count("@") > 1:
            out.extend(p for p in piece.split() if p)
            continue
        if "@" in piece and ":" in piece.split("@")[0]:
            piece = piece[piece.rindex(":", 0, piece.index("@")) + 1:]
        if "@" not in piece and " " in piece.strip():
            piece = piece.strip()  # a name or a remark: kept whole as one invalid piece
        else:
            piece = piece.replace(" ", "")
        piece = piece.strip(" .,;:'\"()[]")
        if piece:
            out.append(piece)
    return out


def fix_typo(address: str) -> tuple[str, bool]:
    """Repair a big provider's misspelt domain: ``a@qq.con`` -> (``a@qq.com``, True)."""
    if address.count("@") != 1:
        return address, False
    local, domain = address.split("@")
    fixed = fix_domain(domain)
    return f"{local}@{fixed}", fixed != domain


@lru_cache(maxsize=4096)
def fix_domain(domain: str) -> str:
    """The provider domain ``domain`` was meant to be, or ``domain`` itself if unsure."""
    if domain in PROVIDERS or domain in REAL_LOOKALIKES:
        return domain
    for provider in PROVIDERS:  # missing dot: qqcom, 163com
        if domain == provider.replace(".", ""):
            return provider
    if "." not in domain:
        return domain
    label, tld = domain.rsplit(".", 1)
    for good_tld, typos in _TLD_TYPOS.items():
        if tld in typos and f"{label}.{good_tld}" in PROVIDERS:
            return f"{label}.{good_tld}"
    return _fix_label(label, tld, domain)


def _fix_label(label: str, tld: str, domain: str) -> str:
    """``gmial.com``, ``hotmial.con``: one slip in a well-known word-like provider name."""
    if not label.isalpha() or len(label) < 4:
        return domain
    hits = {p for p in _FIXABLE_LABELS if OSA.distance(label, p) <= 1}
    if len(hits) != 1:
        return domain
    word = hits.pop()
    for provider in PROVIDERS:
        p_label, p_tld = provider.rsplit(".", 1)
        if p_label == word and (tld == p_tld or tld in _TLD_TYPOS.get(p_tld, ())):
            return provider
    return domain


def _domain_ok(address: str) -> bool:
    """Checks the fast regex leaves out; when False, email-validator decides."""
    domain = address.rsplit("@", 1)[1]
    return domain.rsplit(".", 1)[1] not in _SPECIAL_TLDS and len(address) <= 254 and "--" not in domain


@lru_cache(maxsize=100_000)
def validate(address: str) -> str | None:
    """The normalized (lower case) address if it is syntactically valid, else None."""
    if _FAST.fullmatch(address) and _domain_ok(address):
        return address
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(address, check_deliverability=False)
    except (EmailNotValidError, ValueError, UnicodeError):
        return None
    return result.normalized.lower()
