"""Configuration: configs/defaults.yaml, configs/match.yaml and configs/security.yaml form the base;
configs/<channel>.yaml (or --config FILE) refines it for one channel.

YAML is parsed once into typed objects and validated with every problem reported at once
(key + hint), so the rest of the code never touches raw dicts.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

SOURCE_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "mobile",
    "phone",
    "email",
    "company",
    "title",
    "address",
    "address_1",
    "address_2",
    "street_number",
    "province",
    "city",
    "district",
    "postcode",
    "gender",
    "birth_date",
    "national_id",
    "other_id",
    "created_at",
    "notes",
    "qq",
    "wechat",
    "customer_ref",
    "consent_email",
    "consent_marketing",
    "opt_out",
)
DATE_ORDERS = ("YMD", "DMY", "MDY")
_TOP_KEYS = {
    "aliases",
    "read",
    "normalize",
    "required_any",
    "trust",
    "channel",
    "description",
    "columns",
    "match",
    "security",
    "survivorship",
    "retention",
}


def config_dir() -> Path:
    """Where configs live: $CUSTINFO_CONFIG_DIR, else ./configs, else the one shipped with the code."""
    env = os.environ.get("CUSTINFO_CONFIG_DIR")
    if env:
        return Path(env)
    local = Path.cwd() / "configs"
    if (local / "defaults.yaml").exists():
        return local
    return Path(__file__).resolve().parent.parent / "configs"


@dataclass
class ReadOptions:
    encoding: str | None = None  # None = detect
    header_row: int | None = None  # None = detect
    sheets: list[str] | None = None  # None = every sheet holding data
    max_header_scan: int = 20


@dataclass
class Config:
    """Everything ingest needs to know about one channel."""

    channel: str
    aliases: dict[str, list[str]]
    columns: dict[str, str] = field(default_factory=dict)  # exact header -> source field
    read: ReadOptions = field(default_factory=ReadOptions)
    default_region: str = "CN"
    date_order: str = "YMD"
    excel_epoch: int = 1900
    required_any: list[str] = field(default_factory=lambda: ["name", "phone", "email"])
    trust: dict[str, float] = field(default_factory=dict)
    survivorship: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)  # merged YAML, for the match/security loaders

    def channel_trust(self, channel: str | None = None) -> float:
        ch = channel or self.channel
        return float(self.trust.get(ch, self.trust.get("default", 0.6)))

    @property
    def header_index(self) -> dict[str, str]:
        """Folded header text -> source field; channel `columns` win over aliases."""
        idx: dict[str, str] = {}
        for fld, names in self.aliases.items():
            for n in names:
                idx.setdefault(fold_header(n), fld)
        for header, fld in self.columns.items():
            idx[fold_header(header)] = fld
        return idx

    def is_known_header(self, text: str) -> bool:
        return fold_header(text) in self.header_index

    def header_test(self) -> Callable[[str], bool]:
        """`is_known_header` with the index built once: header detection asks it of every cell it
        scans (it rebuilt the index each time: 101k folds for the five files of a 10k batch)."""
        index = self.header_index
        return lambda text: fold_header(text) in index


_FOLD_RE = re.compile(r"[\s_\-./:：()（）*]+")


def fold_header(text: str) -> str:
    """Header text folded for alias lookup: NFKC, lower case, no spaces/underscores/dashes/colons."""
    t = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return _FOLD_RE.sub("", t)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster, same result


def safe_load(text: str):
    """yaml.safe_load with libyaml's C loader when PyYAML was built with it."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def _read_yaml(path: Path, problems: list[str]) -> dict:
    try:
        data = safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problems.append(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping of keys at the top level")
        return {}
    return data


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("columns",):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_raw(config_file: str | Path | None = None, channel: str | None = None) -> tuple[dict, list[str]]:
    """Merged YAML (defaults, match, security, channel, --config) and the problems met reading it."""
    problems: list[str] = []
    cdir = config_dir()
    data = _read_yaml(cdir / "defaults.yaml", problems)
    for extra in ("match.yaml", "security.yaml"):
        p = cdir / extra
        if p.exists():
            data[extra.split(".")[0]] = _read_yaml(p, problems)
    if channel:
        p = cdir / f"{channel}.yaml"
        if p.exists():
            data = _merge(data, _read_yaml(p, problems))
    if config_file:
        data = _merge(data, _read_yaml(Path(config_file), problems))
    return data, problems


def load_config(config_file: str | Path | None = None, channel: str | None = None) -> Config:
    """Load and validate the config for `channel`; raise ConfigError listing every problem."""
    data, problems = load_raw(config_file, channel)
    problems += _validate(data)
    if problems:
        src = str(config_file or config_dir())
        raise ConfigError(
            f"{len(problems)} problem(s) in the config",
            problems=problems,
            file=src,
            hint="fix each key listed; see configs/defaults.yaml for the reference",
        )
    read = data.get("read") or {}
    norm = data.get("normalize") or {}
    return Config(
        channel=channel or data.get("channel") or "default",
        aliases={k: [str(x) for x in v] for k, v in (data.get("aliases") or {}).items()},
        columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
        read=ReadOptions(
            encoding=None if read.get("encoding", "auto") in (None, "auto") else read["encoding"],
            header_row=None if read.get("header_row", "auto") in (None, "auto") else int(read["header_row"]),
            sheets=None if read.get("sheets", "all") in (None, "all") else [str(s) for s in read["sheets"]],
            max_header_scan=int(read.get("max_header_scan", 20)),
        ),
        default_region=str(norm.get("default_region", "CN")).upper(),
        date_order=str(norm.get("date_order", "YMD")).upper(),
        excel_epoch=int(norm.get("excel_epoch", 1900)),
        required_any=list(data.get("required_any") or ["name", "phone", "email"]),
        trust={str(k): float(v) for k, v in (data.get("trust") or {}).items()},
        survivorship=dict(data.get("survivorship") or {}),
        description=str(data.get("description") or ""),
        raw=data,
    )


def _validate(data: dict) -> list[str]:
    """Every problem in the merged config, each naming its key and saying what to do."""
    p: list[str] = []
    for k in data:
        if k not in _TOP_KEYS:
            p.append(f"{k}: unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    aliases = data.get("aliases")
    if not isinstance(aliases, dict) or not aliases:
        p.append("aliases: missing or not a mapping of field -> list of header names")
    else:
        for fld, names in aliases.items():
            if fld not in SOURCE_FIELDS:
                p.append(f"aliases.{fld}: unknown field (known: {', '.join(SOURCE_FIELDS)})")
            if not isinstance(names, list):
                p.append(f"aliases.{fld}: expected a list of header names")
    for header, fld in (data.get("columns") or {}).items():
        if fld not in SOURCE_FIELDS:
            p.append(f"columns.{header}: '{fld}' is not a field (use one of: {', '.join(SOURCE_FIELDS)})")
    p += _validate_read(data.get("read") or {})
    norm = data.get("normalize") or {}
    if str(norm.get("date_order", "YMD")).upper() not in DATE_ORDERS:
        p.append(f"normalize.date_order: '{norm.get('date_order')}' is not one of {', '.join(DATE_ORDERS)}")
    if norm.get("excel_epoch", 1900) not in (1900, 1904):
        p.append("normalize.excel_epoch: must be 1900 or 1904")
    region = str(norm.get("default_region", "CN"))
    if not re.fullmatch(r"[A-Za-z]{2}", region):
        p.append(f"normalize.default_region: '{region}' is not a two-letter country code like CN")
    for ch, t in (data.get("trust") or {}).items():
        if not isinstance(t, (int, float)) or not 0 <= float(t) <= 1:
            p.append(f"trust.{ch}: '{t}' must be a number between 0 and 1")
    for fld in data.get("required_any") or []:
        if fld not in ("name", "phone", "email", "national_id", "other_id", "wechat", "qq", "company",
                       "address"):
            p.append(f"required_any: '{fld}' cannot identify a customer; use name, phone or email")
    return p


def _validate_read(read: dict) -> list[str]:
    p: list[str] = []
    enc = read.get("encoding", "auto")
    if enc not in (None, "auto"):
        try:
            codecs.lookup(str(enc))
        except LookupError:
            p.append(
                f"read.encoding: '{enc}' is not an encoding Python knows (try utf-8, gbk, gb18030, big5)"
            )
    hr = read.get("header_row", "auto")
    if hr not in (None, "auto") and not (isinstance(hr, int) and hr >= 1):
        p.append(f"read.header_row: '{hr}' must be 'auto' or a row number from 1")
    sheets = read.get("sheets", "all")
    if sheets not in (None, "all") and not isinstance(sheets, list):
        p.append("read.sheets: must be 'all' or a list of sheet names")
    return p
