"""Per-distinct-value tables: how normalize_frame does each piece of work once per value.

A column is factorized into codes (one per row, -1 for missing) and its distinct values; a field
step builds a *table* (output name -> object array, one entry per distinct value) and spreads it
back to the rows by the codes. Missing rows pick up None.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

Table = dict[str, np.ndarray]


class SourceFrame:
    """The source frame, the output columns built so far, and the per-row issue arrays."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.n = len(df)
        self.out: dict[str, np.ndarray] = {}
        self.issues: list[np.ndarray] = []

    def has(self, column: str) -> bool:
        """True when the source frame has this column."""
        return column in self.df.columns

    def codes(self, column: str) -> tuple[np.ndarray, list]:
        """Factorized column: codes (-1 for missing) and the distinct values."""
        if not self.has(column):
            return np.full(self.n, -1, dtype=np.int64), []
        values = self.df[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            values = values.astype(object).where(values.notna(), None)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), list(uniques)

    def nones(self) -> np.ndarray:
        """A per-row column of None."""
        return np.full(self.n, None, dtype=object)

    def add_issues(self, arr: np.ndarray) -> None:
        """Keep a per-row issue array (None or ``a;b``) unless it is empty throughout."""
        if not missing(arr).all():
            self.issues.append(arr)


def objs(values: Sequence | np.ndarray) -> np.ndarray:
    """Object array with one element per value (tuples stay whole)."""
    return np.fromiter(values, dtype=object, count=len(values))


def missing(a: np.ndarray) -> np.ndarray:
    """Elementwise ``is None`` of an object array."""
    return np.equal(a, None)


def spread(table: Table, codes: np.ndarray) -> Table:
    """Per-row arrays from a per-value table; code -1 gives None."""
    return {k: np.concatenate([v.astype(object), np.array([None], dtype=object)])[codes]
            for k, v in table.items()}


def table_of(results: Sequence, getters: dict[str, Callable]) -> Table:
    """A table from one result object per distinct value."""
    return {k: objs([get(r) for r in results]) for k, get in getters.items()}


def fill_slow(table: Table, todo: np.ndarray, values: Sequence, func: Callable,
              getters: dict[str, Callable]) -> Table:
    """Complete a table built by a fast path: run ``func`` on the values at ``todo`` positions."""
    for i in np.flatnonzero(todo):
        result = func(values[i])
        for k, get in getters.items():
            table[k][i] = get(result)
    return table


def joined(codes: Sequence[str]) -> str | None:
    """Issue codes of one value as ``a;b``, or None."""
    return ";".join(codes) if codes else None


def combine(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct combinations of several code arrays: (combo code per row, first row of each combo)."""
    combo = np.asarray(pd.factorize(codes[0])[0], dtype=np.int64)
    for c in codes[1:]:
        key = combo * (int(c.max(initial=-1)) + 2) + (c + 1)
        combo = np.asarray(pd.factorize(key)[0], dtype=np.int64)
    first = np.zeros(int(combo.max(initial=-1)) + 1, dtype=np.int64)
    first[combo[::-1]] = np.arange(len(combo))[::-1]
    return combo, first


def at(values: Sequence, code: int) -> object:
    """The distinct value of a code, None for -1."""
    return values[code] if code >= 0 else None


def merge_issue_columns(arrays: list[np.ndarray], n: int) -> np.ndarray:
    """Sorted distinct issue codes per row, computed once per distinct combination of issue cells."""
    if not arrays:
        return np.full(n, None, dtype=object)
    factorized = [pd.factorize(a, use_na_sentinel=True) for a in arrays]
    combo, first = combine(*(np.asarray(c, dtype=np.int64) for c, _ in factorized))
    merged = []
    for i in first:
        found = {code for c, u in factorized if c[i] >= 0 for code in u[c[i]].split(";")}
        merged.append(";".join(sorted(found)) or None)
    return objs(merged)[combo]
