"""The security policy (configs/security.yaml) as typed objects, validated with every problem listed.

``load_security()`` reads the YAML once; the rest of the code asks the :class:`SecurityPolicy`
(level of a column, role, allowlist of a channel, consent defaults) and never touches raw dicts.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

LEVELS = ("general", "confidential", "secret")
PURPOSES = ("email", "call", "sms", "marketing")
MASK_KINDS = ("phone", "national_id", "email", "name", "address", "date", "bank_card", "digits",
              "text", "hide")
JSON_COLUMNS = ("raw", "extra")
_TOP_KEYS = ("levels", "fields", "default_level", "unknown_level", "masks", "roles", "default_role",
             "retention", "allowlist", "consent")
_ROLE_KEYS = ("description", "see", "fields", "unmask")
_DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.I)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class Role:
    """What one role may see: levels and single fields unmasked, and whether it may --unmask."""

    name: str
    see: frozenset[str]
    fields: frozenset[str] = frozenset()
    may_unmask: bool = False
    description: str = ""

    def sees(self, level: str, field_name: str | None = None, unmask: bool = False) -> bool:
        """True when a value of ``level`` (in column ``field_name``) is shown unmasked."""
        if unmask and self.may_unmask:
            return True
        return level in self.see or (field_name is not None and field_name in self.fields)


@dataclass(frozen=True)
class ConsentColumn:
    """A normalized consent column: the purposes it speaks for and whether 'Y' grants or withdraws."""

    column: str
    purposes: tuple[str, ...]
    means: str  # "grant" or "withdraw"


@dataclass(frozen=True)
class ConsentPolicy:
    columns: tuple[ConsentColumn, ...]
    notes: Mapping[str, tuple[str, ...]]  # phrase -> purposes it withdraws
    default: Mapping[str, bool]  # purpose -> consented when no record exists


@dataclass(frozen=True)
class SecurityPolicy:
    """The whole policy. Build it with :func:`load_security` or :func:`policy_from_dict`."""

    fields: Mapping[str, str]
    masks: Mapping[str, str]
    roles: Mapping[str, Role]
    default_role: str
    retention: dt.timedelta | None
    retention_text: str | None
    allowlist: Mapping[str, frozenset[str]]
    consent: ConsentPolicy
    default_level: str = "general"
    unknown_level: str = "confidential"
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def level_of(self, column: str) -> str:
        """Sensitivity level of a column (canonical or source field; anything else: default_level)."""
        return self.fields.get(column, self.default_level)

    def mask_kind(self, column: str) -> str:
        """How ``column`` is masked for a role that may not see it: one of MASK_KINDS."""
        return self.masks.get(column, "hide")

    def allowed_fields(self, channel: str | None) -> frozenset[str] | None:
        """Source fields a channel may keep (minimum necessary); None = no allowlist, keep all."""
        if channel is None:
            return None
        return self.allowlist.get(channel)

    def consent_default(self, purpose: str) -> bool:
        """Whether a customer with no consent record for ``purpose`` counts as consented."""
        return bool(self.consent.default.get(purpose, False))

    def role(self, name: str) -> Role:
        """The role called ``name``; ConfigError naming the known roles otherwise."""
        from .roles import get_role  # roles.py owns the error wording

        return get_role(self, name)


def parse_duration(text: str | int | float) -> dt.timedelta:
    """``90d``, ``6w``, ``18m`` (30-day months), ``3y`` (365-day years) -> timedelta.

    A bare number means days. Raises ValueError with a hint on anything else.
    """
    if isinstance(text, bool):
        raise ValueError(f"'{text}' is not a duration")
    if isinstance(text, (int, float)):
        return dt.timedelta(days=float(text))
    m = _DURATION.match(str(text))
    if not m:
        if re.fullmatch(r"\s*\d+\s*", str(text)):
            return dt.timedelta(days=int(text))
        raise ValueError(f"'{text}' is not a duration like 90d, 12w, 18m or 3y")
    return dt.timedelta(days=int(m.group(1)) * _UNIT_DAYS[m.group(2).lower()])


def default_security_path() -> Path:
    """configs/security.yaml in the config directory custinfo uses (see custinfo.config)."""
    from ..config import config_dir

    return config_dir() / "security.yaml"


def load_security(path: str | os.PathLike[str] | None = None) -> SecurityPolicy:
    """Read and validate a security policy file; ConfigError listing every problem otherwise."""
    from ..config import safe_load

    p = Path(path) if path is not None else default_security_path()
    try:
        data = safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("security policy not found", file=str(p),
                          hint="create configs/security.yaml or pass its path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"{where}not valid YAML ({getattr(exc, 'problem', exc)})", file=str(p),
                          hint="check indentation and quoting around that line") from None
    return policy_from_dict(data if data is not None else {}, source=str(p))


def policy_from_dict(data: Any, source: str = "<dict>") -> SecurityPolicy:
    """Build a policy from parsed YAML (e.g. ``Config.raw['security']``); every problem reported."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError("the security policy must be a mapping of keys", file=source,
                          problems=["<top>: expected keys such as fields, roles, default_role"])
    for k in data:
        if k not in _TOP_KEYS:
            problems.append(f"{k}: unknown key (known: {', '.join(_TOP_KEYS)})")
    _check_levels(data.get("levels"), problems)
    fields = _fields(data.get("fields"), problems)
    default_level = _level(data.get("default_level", "general"), "default_level", problems)
    unknown_level = _level(data.get("unknown_level", "confidential"), "unknown_level", problems)
    masks = _masks(data.get("masks"), problems)
    roles = _roles(data.get("roles"), fields, problems)
    default_role = _default_role(data.get("default_role"), roles, problems)
    retention, retention_text = _retention(data.get("retention"), problems)
    allowlist = _allowlist(data.get("allowlist"), problems)
    consent = _consent(data.get("consent"), problems)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the security policy", problems=problems,
                          file=source, hint="fix each key listed; configs/security.yaml is the reference")
    return SecurityPolicy(fields=fields, masks=masks, roles=roles, default_role=default_role,
                          retention=retention, retention_text=retention_text, allowlist=allowlist,
                          consent=consent, default_level=default_level, unknown_level=unknown_level,
                          source=source, raw=data)


def _check_levels(levels: Any, problems: list[str]) -> None:
    if levels is None:
        return
    if not isinstance(levels, list) or levels != list(LEVELS):
        problems.append(f"levels: must be {list(LEVELS)} (custinfo knows these three, in this order)")


def _level(value: Any, key: str, problems: list[str]) -> str:
    if value not in LEVELS:
        problems.append(f"{key}: '{value}' is not a level (use one of: {', '.join(LEVELS)})")
        return "confidential"
    return str(value)


def _mapping(raw: Any, key: str, expected: str, problems: list[str]) -> dict:
    """`raw` if it is a mapping; {} when absent; {} and a problem naming `key` when it is not a mapping."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{key}: expected {expected}")
        return {}
    return raw


def _fields(raw: Any, problems: list[str]) -> dict[str, str]:
    if raw is None:
        problems.append("fields: missing; map each field to general, confidential or secret")
        return {}
    if not isinstance(raw, dict):
        problems.append("fields: expected a mapping of field -> level")
        return {}
    return {str(k): _level(v, f"fields.{k}", problems) for k, v in raw.items()}


def _masks(raw: Any, problems: list[str]) -> dict[str, str]:
    raw = _mapping(raw, "masks", "a mapping of field -> mask kind", problems)
    out: dict[str, str] = {}
    for k, v in raw.items():
        if v not in MASK_KINDS:
            problems.append(f"masks.{k}: '{v}' is not a mask kind (use one of: {', '.join(MASK_KINDS)})")
        else:
            out[str(k)] = str(v)
    return out


def _roles(raw: Any, fields: Mapping[str, str], problems: list[str]) -> dict[str, Role]:
    if not isinstance(raw, dict) or not raw:
        problems.append("roles: missing or empty; define at least one role with the levels it may `see`")
        return {}
    roles: dict[str, Role] = {}
    for name, spec in raw.items():
        key = f"roles.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{key}: expected a mapping with `see` (and optionally fields, unmask)")
            continue
        for k in spec:
            if k not in _ROLE_KEYS:
                problems.append(f"{key}.{k}: unknown key (known: {', '.join(_ROLE_KEYS)})")
        see = spec.get("see", [])
        if not isinstance(see, list):
            problems.append(f"{key}.see: expected a list of levels like [general]")
            see = []
        for lv in see:
            if lv not in LEVELS:
                problems.append(f"{key}.see: '{lv}' is not a level (use: {', '.join(LEVELS)})")
        extra = spec.get("fields", []) or []
        if not isinstance(extra, list):
            problems.append(f"{key}.fields: expected a list of field names")
            extra = []
        for f in extra:
            if f not in fields:
                problems.append(f"{key}.fields: '{f}' is not a field listed under `fields`")
        unmask = spec.get("unmask", False)
        if not isinstance(unmask, bool):
            problems.append(f"{key}.unmask: expected true or false, not '{unmask}'")
            unmask = False
        roles[str(name)] = Role(name=str(name), see=frozenset(str(x) for x in see if x in LEVELS),
                                fields=frozenset(str(f) for f in extra), may_unmask=unmask,
                                description=str(spec.get("description") or ""))
    return roles


def _default_role(value: Any, roles: Mapping[str, Role], problems: list[str]) -> str:
    if value is None:
        problems.append("default_role: missing; name the least privileged role, e.g. viewer")
        return ""
    if roles and value not in roles:
        problems.append(f"default_role: '{value}' is not a role (roles: {', '.join(roles)})")
    return str(value)


def _retention(value: Any, problems: list[str]) -> tuple[dt.timedelta | None, str | None]:
    if value is None or value == "":
        return None, None
    try:
        td = parse_duration(value)
    except ValueError as exc:
        problems.append(f"retention: {exc}")
        return None, None
    if td.total_seconds() <= 0:
        problems.append(f"retention: '{value}' must be longer than zero")
    return td, str(value)


def _allowlist(raw: Any, problems: list[str]) -> dict[str, frozenset[str]]:
    raw = _mapping(raw, "allowlist", "a mapping of channel -> list of fields to keep", problems)
    from ..config import SOURCE_FIELDS

    out: dict[str, frozenset[str]] = {}
    for channel, flds in raw.items():
        key = f"allowlist.{channel}"
        if not isinstance(flds, list) or not flds:
            problems.append(f"{key}: expected a non-empty list of source fields to keep")
            continue
        for f in flds:
            if f not in SOURCE_FIELDS:
                problems.append(f"{key}: '{f}' is not a source field (use: {', '.join(SOURCE_FIELDS)})")
        out[str(channel)] = frozenset(str(f) for f in flds)
    return out


def _consent(raw: Any, problems: list[str]) -> ConsentPolicy:
    raw = _mapping(raw, "consent", "a mapping with columns, notes and default", problems)
    for k in raw:
        if k not in ("columns", "notes", "default"):
            problems.append(f"consent.{k}: unknown key (known: columns, notes, default)")
    return ConsentPolicy(columns=_consent_columns(raw.get("columns"), problems),
                         notes=_consent_notes(raw.get("notes"), problems),
                         default=_consent_default(raw.get("default"), problems))


def _purposes(value: Any, key: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.append(f"{key}: expected a list of purposes ({', '.join(PURPOSES)})")
        return ()
    bad = [p for p in value if p not in PURPOSES]
    for p in bad:
        problems.append(f"{key}: '{p}' is not a purpose (use: {', '.join(PURPOSES)})")
    return tuple(str(p) for p in value if p in PURPOSES)


def _consent_columns(raw: Any, problems: list[str]) -> tuple[ConsentColumn, ...]:
    raw = _mapping(raw, "consent.columns", "a mapping of column -> {purposes, means}", problems)
    out = []
    for col, spec in raw.items():
        key = f"consent.columns.{col}"
        if not isinstance(spec, dict):
            problems.append(f"{key}: expected {{purposes: [...], means: grant|withdraw}}")
            continue
        means = spec.get("means")
        if means not in ("grant", "withdraw"):
            problems.append(f"{key}.means: '{means}' must be grant (Y grants) or withdraw (Y withdraws)")
        purposes = _purposes(spec.get("purposes"), f"{key}.purposes", problems)
        out.append(ConsentColumn(str(col), purposes, str(means)))
    return tuple(out)


def _consent_notes(raw: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    raw = _mapping(raw, "consent.notes", "a mapping of phrase -> purposes it withdraws", problems)
    return {str(k): _purposes(v, f"consent.notes.{k}", problems) for k, v in raw.items()}


def _consent_default(raw: Any, problems: list[str]) -> dict[str, bool]:
    out = {"marketing": False, "email": True, "sms": True, "call": True}
    raw = _mapping(raw, "consent.default", "a mapping of purpose -> true/false", problems)
    for k, v in raw.items():
        if k not in PURPOSES:
            problems.append(f"consent.default.{k}: not a purpose (use: {', '.join(PURPOSES)})")
        elif not isinstance(v, bool):
            problems.append(f"consent.default.{k}: expected true or false, not '{v}'")
        else:
            out[str(k)] = v
    return out
