"""Link rules: explicit conditions a pair must meet before its score may link two records.

Fellegi–Sunter adds up evidence as if fields were independent, but a household shares an address and a
landline, and colleagues share a company, an office and a switchboard: agreeing on all of them says
*one place*, not *one person*. Rules state what a link needs, declaratively:

    - name: different names need a personal identifier
      when: {name: [else, similar]}             # pairs at these levels...
      require: {phone: [same mobile], email: 15} # ...need one of: a level listed, or a weight >= bits
      contradiction: true                       # and otherwise count against being one customer

A pair that breaks a rule keeps its score but is held just below the link threshold (so it lands in
the review band); with `contradiction`, clustering also treats it as evidence of two people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinkRule:
    name: str
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()  # comparison -> level labels; all must hold
    require: tuple[
        tuple[str, float | tuple[str, ...]], ...
    ] = ()  # comparison -> min bits or levels; any suffices
    contradiction: bool = False


def parse_rules(raw, comparisons: dict[str, list[str]], problems: list[str]) -> tuple[LinkRule, ...]:
    """Rules from YAML; `comparisons` maps each comparison to its level labels, for checking names."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("clustering.rules: expected a list of rules with name, when, require")
        return ()
    out = []
    for i, r in enumerate(raw):
        where = f"clustering.rules[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: expected a mapping with name, when, require")
            continue
        unknown = sorted(set(map(str, r)) - {"name", "when", "require", "contradiction"})
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(unknown)} (known: name, when, require, contradiction)"
            )
        when = _parse_when(r.get("when") or {}, comparisons, f"{where}.when", problems)
        require = _parse_require(r.get("require"), comparisons, f"{where}.require", problems)
        out.append(
            LinkRule(str(r.get("name") or f"rule{i}"), when, require, bool(r.get("contradiction", False)))
        )
    return tuple(out)


def _parse_when(when, comparisons: dict[str, list[str]], where: str, problems: list[str]):
    if not isinstance(when, dict):
        problems.append(f"{where}: expected a mapping comparison -> list of level labels")
        return ()
    out = []
    for comp, labels in when.items():
        if comp not in comparisons:
            problems.append(f"{where}.{comp}: not a comparison (known: {', '.join(sorted(comparisons))})")
            continue
        labels = [labels] if isinstance(labels, str) else list(labels or [])
        for lab in labels:
            if lab not in comparisons[comp]:
                problems.append(
                    f"{where}.{comp}: '{lab}' is not one of its levels ({', '.join(comparisons[comp])})"
                )
        out.append((comp, tuple(labels)))
    return tuple(out)


def _parse_require(req, comparisons: dict[str, list[str]], where: str, problems: list[str]):
    if not isinstance(req, dict) or not req:
        problems.append(
            f"{where}: expected a mapping comparison -> minimum weight in bits, e.g. {{phone: 15}}"
        )
        return ()
    out = []
    for comp, w in req.items():
        if comp not in comparisons:
            problems.append(f"{where}.{comp}: not a comparison (known: {', '.join(sorted(comparisons))})")
        elif isinstance(w, list):
            bad = [lab for lab in w if lab not in comparisons[comp]]
            if bad:
                problems.append(
                    f"{where}.{comp}: {', '.join(map(str, bad))} not among its levels "
                    f"({', '.join(comparisons[comp])})"
                )
            out.append((comp, tuple(str(x) for x in w)))
        elif not isinstance(w, (int, float)) or isinstance(w, bool):
            problems.append(f"{where}.{comp}: '{w}' must be a number of bits or a list of levels")
        else:
            out.append((comp, float(w)))
    return tuple(out)


def evaluate(
    g: np.ndarray, rules: tuple[LinkRule, ...], comps: list, weights: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(may link, contradicts) per pair, from the level matrix `g` and each comparison's level weights."""
    n = len(g)
    ok = np.ones(n, dtype=bool)
    contra = np.zeros(n, dtype=bool)
    index = {c.name: j for j, c in enumerate(comps)}
    for rule in rules:
        applies = np.ones(n, dtype=bool)
        for comp, labels in rule.when:
            j = index[comp]
            levels = [k for k, lv in enumerate(comps[j].levels) if lv.label in labels]
            applies &= np.isin(g[:, j], levels)
        met = np.zeros(n, dtype=bool)
        for comp, need in rule.require:
            j = index[comp]
            if isinstance(need, tuple):
                strong = np.array([lv.label in need for lv in comps[j].levels])
            else:
                strong = (weights[j] >= need) & np.array([not lv.is_null for lv in comps[j].levels])
            met |= strong[g[:, j]]
        broken = applies & ~met
        ok &= ~broken
        if rule.contradiction:
            contra |= broken
    return ok, contra
