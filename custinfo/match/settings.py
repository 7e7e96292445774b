"""Matching settings: configs/match.yaml parsed once into typed, validated objects.

Comparisons are data, like Splink's: each is an ordered list of levels, each level a condition on the
pair (written with `col_l` / `col_r` names) with default m and u probabilities. Blocking rules are
lists of keys. Every problem in the file is collected and reported at once, each naming its key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from .features import BASE_COLUMNS, LIST_COLUMNS, all_columns
from .rules import LinkRule, parse_rules

LEVEL_KINDS = (
    "null",
    "exact",
    "any_shared",
    "jaro_winkler",
    "jaro",
    "levenshtein",
    "damerau_levenshtein",
    "token_jaccard",
    "contains",
    "sql",
    "else",
)
_THRESHOLD_KINDS = {
    "jaro_winkler": (0.0, 1.0),
    "jaro": (0.0, 1.0),
    "token_jaccard": (0.0, 1.0),
    "levenshtein": (0, 50),
    "damerau_levenshtein": (0, 50),
}
_LEVEL_KEYS = {"label", "kind", "column", "columns", "threshold", "sql", "where", "m", "u", "tf", "fixed"}
_PAIR_COL = re.compile(r"\b([a-z][a-z0-9_]*?)_(l|r)\b")
_KEY = re.compile(r"^([a-z][a-z0-9_]*)(?:\[:(\d+)\])?$")


@dataclass(frozen=True)
class Level:
    """One comparison level: a condition on a record pair with its m and u probabilities."""

    label: str
    kind: str
    condition: str  # SQL over col_l / col_r; '' for `else`
    m: float
    u: float
    tf: str | None = None  # column whose term frequency adjusts this level's u
    fixed: bool = False  # keep m and u as configured (not estimated from data)

    @property
    def is_null(self) -> bool:
        return self.kind == "null"


@dataclass(frozen=True)
class Comparison:
    """How one aspect of two records (name, phone, birth date...) is compared, level by level."""

    name: str
    levels: tuple[Level, ...]
    description: str = ""

    @property
    def columns(self) -> set[str]:
        """Feature columns this comparison reads."""
        cols: set[str] = set()
        for lv in self.levels:
            cols |= {m.group(1) for m in _PAIR_COL.finditer(lv.condition)}
            if lv.tf:
                cols.add(lv.tf)
        return cols


@dataclass(frozen=True)
class BlockKey:
    """One part of a blocking key: a column, optionally its first `prefix` characters."""

    column: str
    prefix: int | None = None

    def sql(self, table: str = "") -> str:
        c = f'{table + "." if table else ""}"{self.column}"'
        return f"left({c}, {self.prefix})" if self.prefix else c

    def __str__(self) -> str:
        return self.column + (f"[:{self.prefix}]" if self.prefix else "")


@dataclass(frozen=True)
class BlockingRule:
    """Records sharing every key (`keys` in YAML) are compared; giant blocks are split by `refine` keys."""

    name: str
    on: tuple[BlockKey, ...]
    refine: tuple[BlockKey, ...] = ()
    max_block_size: int | None = None  # None = the blocking section's max_block_size

    @property
    def columns(self) -> set[str]:
        return {k.column for k in self.on}


@dataclass(frozen=True)
class MatchSettings:
    """Everything the matching engine needs; built by `load_settings` or `settings_from_dict`."""

    comparisons: tuple[Comparison, ...]
    blocking_rules: tuple[BlockingRule, ...]
    max_block_size: int = 100
    window: int = 10
    matches_per_record: float = 1.0
    estimate_prior: bool = True
    estimate_u: bool = True
    u_max_pairs: int = 1_000_000
    u_pseudo_pairs: int = 20_000
    seed: int = 42
    threshold: float = 0.9
    consistency: float = 0.0  # bits: mean Bayes factor (no prior) a group needs with another to join it
    rules: tuple[LinkRule, ...] = ()
    max_component: int = 300
    resolve_all_up_to: int = 50_000  # stores up to this many records are re-clustered whole per ingest
    # above it, an existing customer is re-clustered with the batch when one of its records has a
    # candidate pair with a new record of at least this probability (0: any candidate pair); never
    # above review_low or threshold, so a pair the batch links or lists for review always counts
    meet_at: float = 0.01
    review_low: float = 0.3
    review_high: float = 0.9
    mobile_pattern: str = r"^\+861[3-9][0-9]{9}$"
    shared_min_names: int = 3
    tf_minimum: float = 1e-6
    em_max_iterations: int = 50
    em_tolerance: float = 1e-4
    memory_limit: str | None = "1GB"  # DuckDB's working memory before it spills to disk; None = its default
    # ... when the batch is at most SMALL_BATCH_SHARE of the records matched; None = memory_limit
    memory_limit_small_batch: str | None = None
    threads: int | None = None  # None = all cores
    source: str = "<dict>"
    extra: dict[str, Any] = field(default_factory=dict)

    def comparison(self, name: str) -> Comparison:
        for c in self.comparisons:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def columns(self) -> set[str]:
        """Feature columns read by any comparison or blocking rule."""
        cols: set[str] = set()
        for c in self.comparisons:
            cols |= c.columns
        for r in self.blocking_rules:
            cols |= r.columns | {k.column for k in r.refine}
        return cols


def default_path() -> Path:
    """configs/match.yaml in the config directory custinfo uses."""
    from ..config import config_dir

    return config_dir() / "match.yaml"


def load_settings(path: str | Path | None = None) -> MatchSettings:
    """Read and validate match settings (configs/match.yaml by default).

    Raises ConfigError listing every problem found, each with its key.
    """
    p = Path(path) if path else default_path()
    try:
        from ..config import safe_load

        data = safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(
            f"match settings not found: {p}",
            file=str(p),
            hint="create configs/match.yaml or pass the path of one",
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(p)) from exc
    return settings_from_dict(data, source=str(p))


def settings_from_dict(data: dict, source: str = "<dict>") -> MatchSettings:
    """Build MatchSettings from a parsed YAML mapping, reporting all problems at once."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError("match settings must be a mapping", file=source)
    known = {
        "version",
        "features",
        "prior",
        "u_estimation",
        "blocking",
        "comparisons",
        "clustering",
        "review",
        "em",
        "engine",
        "incremental",
        "description",
    }
    problems += [f"{k}: unknown key (known: {', '.join(sorted(known))})" for k in data if k not in known]
    comparisons = _parse_comparisons(data.get("comparisons"), problems)
    blocking = data.get("blocking") or {}
    rules = _parse_rules(blocking.get("rules"), problems)
    kw = _parse_scalars(data, problems)
    labels = {c.name: [lv.label for lv in c.levels] for c in comparisons}
    kw["rules"] = parse_rules((data.get("clustering") or {}).get("rules"), labels, problems)
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the match settings",
            problems=problems,
            file=source,
            hint="fix each key listed; configs/match.yaml documents every key",
        )
    return MatchSettings(comparisons=tuple(comparisons), blocking_rules=tuple(rules), source=source, **kw)


def _memory(eng: dict, key: str, default: str | None, problems: list[str]) -> str | None:
    mem = eng.get(key, default)
    if mem is not None and not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", str(mem)):
        problems.append(f"engine.{key}: '{mem}' must be like 800MB or 2GB (or null for DuckDB's default)")
        return default
    return None if mem is None else str(mem)


def _num(section: dict, key: str, where: str, default, lo, hi, problems: list[str], integer: bool = False):
    v = section.get(key, default)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi
    if integer and ok and int(v) != v:
        ok = False
    if not ok:
        problems.append(f"{where}.{key}: '{v}' must be a {'whole ' if integer else ''}number in [{lo}, {hi}]")
        return default
    return int(v) if integer else float(v)


def _section(data: dict, key: str, problems: list[str]) -> dict:
    v = data.get(key) or {}
    if not isinstance(v, dict):
        problems.append(f"{key}: expected a mapping")
        return {}
    return v


def _parse_scalars(data: dict, problems: list[str]) -> dict:
    """The numeric knobs of every section, range-checked."""
    feat, prior = _section(data, "features", problems), _section(data, "prior", problems)
    ue, blk = _section(data, "u_estimation", problems), _section(data, "blocking", problems)
    cl, rv, em = (
        _section(data, "clustering", problems),
        _section(data, "review", problems),
        _section(data, "em", problems),
    )
    kw: dict[str, Any] = {
        "max_block_size": _num(blk, "max_block_size", "blocking", 100, 2, 100_000, problems, True),
        "window": _num(blk, "window", "blocking", 10, 1, 10_000, problems, True),
        "matches_per_record": _num(prior, "matches_per_record", "prior", 1.0, 1e-6, 1e6, problems),
        "estimate_prior": bool(prior.get("estimate", True)),
        "estimate_u": bool(ue.get("enabled", True)),
        "u_max_pairs": _num(ue, "max_pairs", "u_estimation", 1_000_000, 0, 1e9, problems, True),
        "u_pseudo_pairs": _num(ue, "pseudo_pairs", "u_estimation", 20_000, 0, 1e12, problems, True),
        "seed": _num(ue, "seed", "u_estimation", 42, 0, 2**31, problems, True),
        "threshold": _num(cl, "threshold", "clustering", 0.9, 1e-9, 1 - 1e-9, problems),
        "consistency": _num(cl, "consistency", "clustering", 0.0, -100, 100, problems),
        "max_component": _num(cl, "max_component", "clustering", 300, 3, 100_000, problems, True),
        "review_low": _num(rv, "low", "review", 0.3, 0.0, 1.0, problems),
        "review_high": _num(rv, "high", "review", 0.9, 0.0, 1.0, problems),
        "shared_min_names": _num(feat, "shared_min_names", "features", 3, 2, 1_000_000, problems, True),
        "tf_minimum": _num(feat, "tf_minimum", "features", 1e-6, 1e-12, 1.0, problems),
        "em_max_iterations": _num(em, "max_iterations", "em", 50, 1, 10_000, problems, True),
        "em_tolerance": _num(em, "tolerance", "em", 1e-4, 1e-12, 1.0, problems),
    }
    pattern = feat.get("mobile_pattern", MatchSettings.mobile_pattern)
    try:
        re.compile(str(pattern))
        kw["mobile_pattern"] = str(pattern)
    except re.error as exc:
        problems.append(f"features.mobile_pattern: not a valid regular expression ({exc})")
    unknown = sorted(set(map(str, cl)) - {"threshold", "consistency", "max_component", "rules"})
    if unknown:
        problems.append(
            f"clustering: unknown key(s) {', '.join(unknown)} (known: threshold, consistency, "
            "max_component, rules)"
        )
    inc = _section(data, "incremental", problems)
    kw["resolve_all_up_to"] = _num(inc, "resolve_all_up_to", "incremental", 50_000, 0, 1e12, problems, True)
    kw["meet_at"] = _num(inc, "meet_at", "incremental", 0.01, 0.0, 1.0, problems)
    eng = _section(data, "engine", problems)
    kw["memory_limit"] = _memory(eng, "memory_limit", "1GB", problems)
    kw["memory_limit_small_batch"] = _memory(eng, "memory_limit_small_batch", None, problems)
    thr = eng.get("threads")
    if thr is not None and (not isinstance(thr, int) or isinstance(thr, bool) or thr < 1):
        problems.append(f"engine.threads: '{thr}' must be a whole number >= 1 (or null for all cores)")
        thr = None
    kw["threads"] = thr
    if kw["review_low"] > kw["review_high"]:
        problems.append(f"review: low ({kw['review_low']}) must not exceed high ({kw['review_high']})")
    return kw


def _parse_comparisons(raw, problems: list[str]) -> list[Comparison]:
    if not isinstance(raw, list) or not raw:
        problems.append("comparisons: missing or empty; list at least one comparison with its levels")
        return []
    out, seen = [], set()
    for i, c in enumerate(raw):
        where = f"comparisons[{i}]"
        if not isinstance(c, dict):
            problems.append(f"{where}: expected a mapping with name and levels")
            continue
        name = str(c.get("name") or "")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problems.append(f"{where}.name: '{name}' must be lower_snake_case")
        elif name in seen:
            problems.append(f"{where}.name: '{name}' is declared twice")
        seen.add(name)
        where = f"comparisons.{name or i}"
        levels = c.get("levels")
        if not isinstance(levels, list) or len(levels) < 2:
            problems.append(f"{where}.levels: list at least two levels (e.g. exact and else)")
            continue
        parsed = [_parse_level(lv, f"{where}.levels[{j}]", problems) for j, lv in enumerate(levels)]
        parsed = [p for p in parsed if p is not None]
        kinds = [p.kind for p in parsed]
        if kinds.count("else") != 1 or (kinds and kinds[-1] != "else"):
            problems.append(f"{where}.levels: the last level, and only it, must be kind 'else'")
        labels = [p.label for p in parsed]
        if len(set(labels)) != len(labels):
            problems.append(f"{where}.levels: labels must be distinct ({', '.join(labels)})")
        out.append(Comparison(name=name, levels=tuple(parsed), description=str(c.get("description") or "")))
    return out


def _parse_level(lv, where: str, problems: list[str]) -> Level | None:
    if not isinstance(lv, dict):
        problems.append(f"{where}: expected a mapping with label and kind")
        return None
    kind, label = lv.get("kind"), str(lv.get("label") or "")
    unknown = sorted(set(map(str, lv)) - _LEVEL_KEYS)
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_LEVEL_KEYS))};"
            " quote a label holding a comma)"
        )
    if not label:
        problems.append(f"{where}.label: missing; name the level (e.g. 'exact')")
    if kind not in LEVEL_KINDS:
        problems.append(f"{where}.kind: '{kind}' is not one of {', '.join(LEVEL_KINDS)}")
        return None
    cond = _level_condition(lv, kind, where, problems)
    m = _num(lv, "m", where, 0.5, 1e-12, 1.0, problems) if kind != "null" else 1.0
    u = _num(lv, "u", where, 0.5, 1e-12, 1.0, problems) if kind != "null" else 1.0
    tf = lv.get("tf")
    if tf is not None and tf not in all_columns():
        problems.append(f"{where}.tf: '{tf}' is not a column (known: {', '.join(sorted(all_columns()))})")
    if tf is not None and kind not in ("exact", "any_shared", "sql"):
        problems.append(f"{where}.tf: term-frequency adjustment only makes sense on an exact level")
    return Level(label=label, kind=kind, condition=cond, m=m, u=u, tf=tf, fixed=bool(lv.get("fixed", False)))


def _level_condition(lv: dict, kind: str, where: str, problems: list[str]) -> str:
    """The SQL condition of a level, with its columns and thresholds checked."""
    if kind == "else":
        return ""
    if kind == "sql":
        cond = str(lv.get("sql") or "")
        if not cond:
            problems.append(f"{where}.sql: missing the SQL condition (use col_l and col_r)")
    else:
        cols = lv.get("columns") or ([lv["column"]] if lv.get("column") else [])
        cols = [str(c) for c in cols] if isinstance(cols, list) else [str(cols)]
        if not cols:
            problems.append(f"{where}.column: missing; name the column compared")
            return "FALSE"
        cond = _kind_sql(kind, cols, lv, where, problems)
    if lv.get("where"):
        cond = f"(CASE WHEN {lv['where']} THEN {cond} ELSE FALSE END)"
    for col in {m.group(1) for m in _PAIR_COL.finditer(cond)}:
        if col not in all_columns():
            problems.append(f"{where}: column '{col}' is unknown (known: {', '.join(sorted(all_columns()))})")
    return cond


def _kind_sql(kind: str, cols: list[str], lv: dict, where: str, problems: list[str]) -> str:
    c = cols[0]
    a, b = f"{c}_l", f"{c}_r"
    if kind in _THRESHOLD_KINDS:
        lo, hi = _THRESHOLD_KINDS[kind]
        t = lv.get("threshold")
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not lo <= t <= hi:
            problems.append(f"{where}.threshold: '{t}' must be a number in [{lo}, {hi}] for kind {kind}")
            t = hi if kind.endswith("levenshtein") else lo
    if kind == "null":
        return " OR ".join(f"({x}_l IS NULL OR {x}_r IS NULL)" for x in cols)
    if kind == "exact":
        return " AND ".join(f"{x}_l = {x}_r" for x in cols)
    if kind == "any_shared":
        if c not in LIST_COLUMNS:
            problems.append(
                f"{where}.column: any_shared needs a list column ({', '.join(sorted(LIST_COLUMNS))})"
            )
        return f"list_has_any({a}, {b})"
    if kind == "contains":
        return f"(contains({a}, {b}) OR contains({b}, {a}))"
    if kind == "token_jaccard":
        la, lb = f"string_split({a}, ' ')", f"string_split({b}, ' ')"
        return f"len(list_intersect({la}, {lb})) >= {t} * len(list_distinct(list_concat({la}, {lb})))"
    if kind in ("jaro_winkler", "jaro"):
        return f"{kind}_similarity({a}, {b}) >= {t}"
    return edit_distance_sql(kind, a, b, int(t))


def edit_distance_sql(kind: str, a: str, b: str, k: int) -> str:
    """`kind(a, b) <= k`, with cheap tests first: DuckDB's edit distances cost microseconds per pair,
    while length, hamming and first/last character tests are nearly free and rule out most pairs."""
    la, lb = f"length({a})", f"length({b})"
    if k == 0:
        return f"{a} = {b}"
    if k == 1:
        swap = (
            f" WHEN hamming({a}, {b}) = 2 THEN {kind}({a}, {b}) <= 1" if kind == "damerau_levenshtein" else ""
        )
        return (
            f"(CASE WHEN {la} = {lb} THEN (CASE WHEN hamming({a}, {b}) <= 1 THEN TRUE{swap} ELSE FALSE END)"
            f" WHEN abs({la} - {lb}) = 1 THEN (CASE WHEN {a}[1] = {b}[1] OR {a}[-1] = {b}[-1]"
            f" THEN levenshtein({a}, {b}) <= 1 ELSE FALSE END) ELSE FALSE END)"
        )
    return f"(CASE WHEN abs({la} - {lb}) <= {k} THEN {kind}({a}, {b}) <= {k} ELSE FALSE END)"


def _parse_rules(raw, problems: list[str]) -> list[BlockingRule]:
    if not isinstance(raw, list) or not raw:
        problems.append("blocking.rules: missing or empty; list at least one rule with its keys")
        return []
    out, names = [], set()
    for i, r in enumerate(raw):
        where = f"blocking.rules[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: expected a mapping with name and keys")
            continue
        name = str(r.get("name") or f"rule{i}")
        if name in names:
            problems.append(f"{where}.name: '{name}' is declared twice")
        names.add(name)
        on = _parse_keys(r.get("keys"), f"blocking.rules.{name}.keys", problems)
        refine = _parse_keys(
            r.get("refine") or [], f"blocking.rules.{name}.refine", problems, allow_empty=True
        )
        if sum(k.column in LIST_COLUMNS for k in on) > 1:
            problems.append(f"blocking.rules.{name}.keys: at most one list column per rule")
        if any(k.column in LIST_COLUMNS for k in refine):
            problems.append(f"blocking.rules.{name}.refine: list columns cannot refine a block")
        cap = r.get("max_block_size")
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 2):
            problems.append(f"blocking.rules.{name}.max_block_size: '{cap}' must be a whole number >= 2")
            cap = None
        unknown = sorted(set(map(str, r)) - {"name", "keys", "refine", "max_block_size"})
        if unknown:
            problems.append(
                f"blocking.rules.{name}: unknown key(s) {', '.join(unknown)} "
                "(known: name, keys, refine, max_block_size)"
            )
        out.append(BlockingRule(name=name, on=tuple(on), refine=tuple(refine), max_block_size=cap))
    return out


def _parse_keys(raw, where: str, problems: list[str], allow_empty: bool = False) -> list[BlockKey]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or (not raw and not allow_empty):
        problems.append(f"{where}: expected a list of columns, e.g. [name_key, city]")
        return []
    keys = []
    for item in raw:
        m = _KEY.match(str(item))
        if not m or m.group(1) not in all_columns():
            problems.append(
                f"{where}: '{item}' is not a column or column[:n] (known: {', '.join(sorted(all_columns()))})"
            )
            continue
        keys.append(BlockKey(m.group(1), int(m.group(2)) if m.group(2) else None))
    return keys


def prior_weight(matches_per_record: float, n_records: int) -> float:
    """log2 prior odds that two random records match, from the expected matches per record."""
    n = max(n_records, 2)
    lam = min(matches_per_record / (n - 1), 0.5)
    return math.log2(lam / (1 - lam))


__all__ = [
    "BASE_COLUMNS",
    "BlockKey",
    "BlockingRule",
    "Comparison",
    "Level",
    "MatchSettings",
    "load_settings",
    "settings_from_dict",
    "prior_weight",
]
