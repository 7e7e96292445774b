"""Masking: show a role only what it may see (``138****8000``, ``1101**********1234``, ``z***@qq.com``,
``张*``).

Each ``mask_*`` function takes one value and never raises on text; a value it does not recognise
is masked harder, not shown. ``mask_frame`` applies the policy to a whole DataFrame: each column by
its sensitivity level against what the role may see, the JSON columns ``raw`` / ``extra`` key by key,
and ID / bank card numbers found in any text redacted for every role that may not see secrets.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .policy import JSON_COLUMNS, Role, SecurityPolicy
from .roles import check_unmask
from .sensitivity import redact_secrets, redact_series

HIDDEN = "***"
_MULTI_SEP = re.compile(r"(\s*[,;，；]\s*)")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_RUN_IN_TEXT = re.compile(r"\+?\d(?:[ -]?\d){4,}")
_CN_PREFIX = re.compile(
    r"^(?P<prov>[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区))?"
    r"(?P<city>[\u4e00-\u9fff]{1,9}?(?:市|自治州|地区|盟))?")
_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})(?!\d)")


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _stars(n: int) -> str:
    return "*" * max(n, 1)


def _keep(s: str, head: int, tail: int) -> str:
    """Keep ``head`` and ``tail`` characters, star the middle; at least one star always."""
    if len(s) <= head + tail:
        return _stars(len(s))
    return s[:head] + "*" * (len(s) - head - tail) + (s[len(s) - tail:] if tail else "")


def _country_code(text: str) -> str | None:
    try:
        import phonenumbers

        return str(phonenumbers.parse(text, None).country_code)
    except Exception:  # noqa: BLE001 - phonenumbers raises its own parse errors; unknown = no code
        return None


def mask_phone(value: str) -> str:
    """``+8613800138000`` / ``13800138000`` -> ``138****8000``; other numbers keep +cc and 4 digits."""
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    national = digits
    for prefix in ("0086", "86"):
        if national.startswith(prefix) and _CN_MOBILE.fullmatch(national[len(prefix):]):
            national = national[len(prefix):]
    if _CN_MOBILE.fullmatch(national):
        return f"{national[:3]}****{national[-4:]}"
    cc = _country_code(text) if text.startswith("+") else None
    if cc and digits.startswith(cc):
        return f"+{cc} {_mask_number(digits[len(cc):])}"
    return _mask_number(digits) if digits else HIDDEN


def _mask_number(n: str) -> str:
    if len(n) >= 10:
        return _keep(n, 3, 4)
    if len(n) >= 8:
        return _keep(n, 0, 4)
    if len(n) >= 5:
        return _keep(n, 0, 2)
    return _stars(len(n))


def mask_national_id(value: str) -> str:
    """``110101199001011234`` -> ``1101**********1234`` (first and last four kept)."""
    v = re.sub(r"[\s-]", "", str(value))
    if len(v) >= 15:
        return _keep(v, 4, 4)
    if len(v) >= 8:
        return _keep(v, 2, 2)
    return _stars(len(v))


def mask_bank_card(value: str) -> str:
    """``6222021234561234`` -> ``6222****1234``."""
    v = re.sub(r"[\s-]", "", str(value))
    if len(v) >= 12:
        return f"{v[:4]}****{v[-4:]}"
    return _stars(len(v))


def mask_email(value: str) -> str:
    """``zhang@qq.com`` -> ``z***@qq.com``; not an address: hidden."""
    v = str(value).strip()
    local, at, domain = v.rpartition("@")
    if not at or not local or not domain:
        return HIDDEN
    return f"{local[0]}***@{domain}"


def mask_name(value: str) -> str:
    """``张伟`` -> ``张*``, ``王小明`` -> ``王**``, ``Zhang Wei`` -> ``Z*** W***``."""
    words = str(value).split()
    if not words:
        return HIDDEN
    return " ".join(_mask_word(w) for w in words)


def _mask_word(w: str) -> str:
    if _CJK.match(w):
        return w[0] + "*" * max(len(w) - 1, 1)
    return w[0] + "***"


def mask_address(value: str, province: str | None = None, city: str | None = None) -> str:
    """Keep the province and city, hide the rest: ``广东省深圳市南山区科技园1号`` -> ``广东省深圳市****``.

    ``province`` / ``city`` (the row's normalized columns) are kept when the address starts with
    them; otherwise the usual 省/自治区/市 prefixes are recognised. A Latin address keeps its last
    comma-separated part (the town or country).
    """
    v = str(value).strip()
    kept = _known_prefix(v, province, city)
    if kept is None:
        m = _CN_PREFIX.match(v)
        kept = (m.group(0) if m else "") or ""
    if kept and len(kept) < len(v):
        return kept + "****"
    if kept:
        return kept
    parts = [p.strip() for p in v.split(",") if p.strip()]
    if len(parts) >= 2 and not re.search(r"\d", parts[-1]):
        return "****, " + parts[-1]
    return "****"


def _known_prefix(v: str, province: str | None, city: str | None) -> str | None:
    kept = ""
    for part in (province, city):
        if not isinstance(part, str) or not part.strip():
            continue
        part = part.strip()
        rest = v[len(kept):]
        if rest.startswith(part):
            kept += part
    return kept or None


def mask_date(value: object) -> str:
    """Birth date -> year only: ``1990-03-07`` -> ``1990-**-**``."""
    m = _YEAR.search(str(value))
    return f"{m.group(1)}-**-**" if m else "****"


def mask_digits(value: str) -> str:
    """QQ / WeChat / postcode / member number: first and last two kept when long enough."""
    v = str(value).strip()
    if len(v) >= 6:
        return _keep(v, 2, 2)
    if len(v) >= 3:
        return _keep(v, 1, 0)
    return _stars(len(v))


def mask_text(value: str) -> str:
    """Free text: ID / card numbers, e-mail addresses and digit runs of 5 or more masked inside."""
    v = redact_secrets(str(value))
    v = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), str(v))
    return _DIGIT_RUN_IN_TEXT.sub(_mask_run, v)


def _mask_run(m: re.Match[str]) -> str:
    run = m.group()
    digits = re.sub(r"\D", "", run)
    if _CN_MOBILE.fullmatch(digits[-11:]) and len(digits) in (11, 13):
        return mask_phone(run)
    return _keep(digits, 0, 2)


def mask_hide(value: object) -> str:
    """Hidden altogether: ``***`` (the length is not shown either)."""
    return HIDDEN


# Vectorized fast paths for the common shapes (run by Arrow's regex engine over a whole column);
# each gives exactly what the scalar function gives (a test holds them to it). Values of any
# other shape go through the scalar function.
_HAN = "[\u4e00-\u9fff]"  # literal characters: the same class for Arrow's RE2 and Python's re
_SEP_WS = "".join(c for c in map(chr, range(0x3001)) if c.isspace() or c in ",;")
_PLAIN = f"[^@{_SEP_WS}，；]"
_NOT_WS = "[^" + "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "]"
FAST_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "phone": ((r"(?:\+86|0086|86)?(1[3-9][0-9])[0-9]{4}([0-9]{4})", r"\1****\2"),),
    "email": ((f"({_PLAIN}){_PLAIN}*@({_PLAIN}+)", r"\1***@\2"),),
    "national_id": ((r"([0-9]{4})[0-9]{10}([0-9]{3}[0-9X])", r"\1**********\2"),),
    "date": ((r"((?:1[89]|20)[0-9]{2})-[0-9]{2}-[0-9]{2}", r"\1-**-**"),),
    "name": ((f"({_HAN}){_HAN}", r"\1*"), (f"({_HAN}){_HAN}{{2}}", r"\1**"),
             (f"({_HAN}){_HAN}{{3}}", r"\1***")),
    "hide": ((f"(?s).*{_NOT_WS}.*", HIDDEN),),
}

MASKERS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone, "national_id": mask_national_id, "email": mask_email, "name": mask_name,
    "address": mask_address, "date": mask_date, "bank_card": mask_bank_card, "digits": mask_digits,
    "text": mask_text, "hide": mask_hide,
}
_MULTI_KINDS = frozenset({"phone", "email", "national_id", "bank_card", "digits"})


def mask_value(kind: str, value: Any) -> Any:
    """Mask one value with mask ``kind``; blanks pass through; comma-joined lists item by item."""
    if _is_blank(value) or (isinstance(value, str) and not value.strip()):
        return value
    fn = MASKERS.get(kind, mask_hide)
    text = value if isinstance(value, str) else str(value)
    if kind in _MULTI_KINDS and _MULTI_SEP.search(text):
        parts = _MULTI_SEP.split(text)
        return "".join(p if i % 2 else (fn(p) if p.strip() else p) for i, p in enumerate(parts))
    return fn(text)


@dataclass
class MaskReport:
    """What ``mask_frame`` did: columns shown, cells masked and secrets redacted, per column."""

    role: str
    unmask: bool
    visible: list[str] = field(default_factory=list)
    masked: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)

    @property
    def cells_masked(self) -> int:
        return sum(self.masked.values())

    @property
    def secrets_redacted(self) -> int:
        return sum(self.redacted.values())

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "unmask": self.unmask, "visible": list(self.visible),
                "masked": dict(self.masked), "redacted": dict(self.redacted),
                "cells_masked": self.cells_masked, "secrets_redacted": self.secrets_redacted}


def mask_frame(df: pd.DataFrame, policy: SecurityPolicy, role: Role | str,
               unmask: bool = False) -> tuple[pd.DataFrame, MaskReport]:
    """A copy of ``df`` showing only what ``role`` may see, and a report of what was masked.

    ``unmask=True`` shows everything, and only for a role with ``unmask: true`` (otherwise
    PermissionDeniedError). The caller logs the unmask in the audit log.
    """
    r = policy.role(role) if isinstance(role, str) else role
    if unmask:
        check_unmask(r, policy)
    sees_secret = r.sees("secret", unmask=unmask)
    out = df.copy()
    report = MaskReport(role=r.name, unmask=unmask)
    for col in df.columns:
        name = str(col)
        if name in JSON_COLUMNS:
            out[col], n_mask, n_red = _mask_json_column(df[col], policy, r, unmask, sees_secret)
            _count(report, name, n_mask, n_red)
            if not n_mask:
                report.visible.append(name)
            continue
        level = policy.level_of(name)
        if r.sees(level, name, unmask):
            report.visible.append(name)
            if not sees_secret and level != "secret":
                out[col], n_red = redact_series(df[col])
                _count(report, name, 0, n_red)
            continue
        out[col], n_mask = _mask_column(df, col, policy.mask_kind(name))
        _count(report, name, n_mask, 0)
    return out, report


def _count(report: MaskReport, name: str, masked: int, redacted: int) -> None:
    if masked:
        report.masked[name] = masked
    if redacted:
        report.redacted[name] = redacted


def _mask_column(df: pd.DataFrame, col: Any, kind: str) -> tuple[pd.Series, int]:
    """Mask one column, each distinct value once; returns it and how many cells were masked."""
    s = df[col]
    obj = pd.Series(s.to_numpy(dtype=object), index=s.index)  # iterating Arrow strings is slow
    if kind == "address" and ("province" in df.columns or "city" in df.columns):
        return _mask_address_column(df, obj, s)
    masked = obj.copy()
    todo = obj.notna()
    for pattern, repl in FAST_RULES.get(kind, ()):
        text = obj[todo].astype("string")
        hit = text.str.fullmatch(pattern).fillna(False).astype(bool)
        if hit.any():
            idx = hit[hit].index
            masked.loc[idx] = text[hit].str.replace(pattern, repl, regex=True).to_numpy(dtype=object)
            todo.loc[idx] = False
    rest = obj[todo]
    cache = {u: mask_value(kind, u) for u in pd.unique(rest.to_numpy())}
    masked.loc[rest.index] = rest.map(cache).to_numpy(dtype=object)
    return _like(masked, s), _count_present(obj)


def _mask_address_column(df: pd.DataFrame, obj: pd.Series, s: pd.Series) -> tuple[pd.Series, int]:
    """Addresses keep the row's own province / city when they start with them."""
    none = [None] * len(df)
    prov = df["province"].to_numpy(dtype=object) if "province" in df.columns else none
    city = df["city"].to_numpy(dtype=object) if "city" in df.columns else none
    cache: dict[tuple[Any, Any, Any], Any] = {}
    out = []
    for a, p, c in zip(obj.to_numpy(), prov, city, strict=True):
        key = (a, p if isinstance(p, str) else None, c if isinstance(c, str) else None)
        if key not in cache:
            blank = _is_blank(a) or (isinstance(a, str) and not a.strip())
            cache[key] = a if blank else mask_address(str(a), key[1], key[2])
        out.append(cache[key])
    return _like(pd.Series(out, index=s.index, dtype=object), s), _count_present(obj)


def _count_present(obj: pd.Series) -> int:
    """Cells holding a value (not null, not blank text)."""
    text = obj.astype("string").str.strip()
    return int((obj.notna() & text.ne("").fillna(False)).sum())


def _mask_json_column(s: pd.Series, policy: SecurityPolicy, role: Role, unmask: bool,
                      sees_secret: bool) -> tuple[pd.Series, int, int]:
    """Mask ``raw`` / ``extra`` JSON key by key; counts of cells masked and of cells only redacted."""
    present = s.notna()
    cache = {u: _mask_json_cell(u, policy, role, unmask, sees_secret) for u in s[present].unique()}
    if all(st == "same" for _, st in cache.values()):
        return s, 0, 0
    status = s[present].map(lambda v: cache[v][1])
    out = s.astype(object).where(~present, s.map(lambda v: cache[v][0] if v in cache else v))
    return _like(out, s), int((status == "masked").sum()), int((status == "redacted").sum())


def _like(out: pd.Series, original: pd.Series) -> pd.Series:
    """Keep a text column's dtype (pandas' ``str``) after masking; others become object text."""
    if isinstance(original.dtype, pd.StringDtype):
        return out.astype(original.dtype)
    return out


def _mask_json_cell(cell: Any, policy: SecurityPolicy, role: Role, unmask: bool,
                    sees_secret: bool) -> tuple[Any, str]:
    """(new cell, "same" | "masked" | "redacted") for one JSON object of field -> value."""
    if not isinstance(cell, str) or not cell.strip():
        return cell, "same"
    try:
        data = json.loads(cell)
    except ValueError:
        data = None
    if not isinstance(data, dict):  # not JSON: treat the whole cell as an unknown field
        if not role.sees(policy.unknown_level, None, unmask):
            return HIDDEN, "masked"
        new = cell if sees_secret else str(redact_secrets(cell))
        return new, "same" if new == cell else "redacted"
    status = "same"
    for key, val in data.items():
        if _is_blank(val) or val == "":
            continue
        level = policy.fields.get(key, policy.unknown_level)
        if role.sees(level, key, unmask):
            if not sees_secret and level != "secret" and isinstance(val, str):
                new = redact_secrets(val)
                if new != val:
                    data[key] = new
                    status = "masked" if status == "masked" else "redacted"
            continue
        text = val if isinstance(val, str) else json.dumps(val, ensure_ascii=False)
        data[key] = mask_value(policy.masks.get(key, "hide"), text)
        status = "masked"
    if status == "same":
        return cell, status
    return json.dumps(data, ensure_ascii=False), status
