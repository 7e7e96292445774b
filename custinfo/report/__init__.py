"""Reports over the store. `build_report(name, store=...)` returns a Report; `.to_dict()` is the JSON."""
from __future__ import annotations

from pathlib import Path

REPORTS = ("summary",)


def build_report(name: str, *, store=None, **kw):
    """Build the named report over the store."""
    from ..errors import CustinfoError
    from ..store.store import Store

    st = store if isinstance(store, Store) else Store(store if store is None else Path(store))
    if name == "summary":
        from .summary import summary
        return summary(st, **kw)
    raise CustinfoError(f"unknown report '{name}'", key="NAME", hint=f"reports: {', '.join(REPORTS)}")
