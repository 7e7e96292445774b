"""Reports over the store. `build_report(name, store=...)` returns a Report; `.to_dict()` is the JSON."""

from __future__ import annotations

from pathlib import Path

REPORTS = ("summary", "quality", "duplicates", "channels", "profile", "changes", "conflicts")


def build_report(name: str, *, store=None, **kw):
    """Build the named report over the store (kw: `since` for changes, `as_of` for any)."""
    from ..errors import CustinfoError
    from ..store.store import Store

    st = store if isinstance(store, Store) else Store(store if store is None else Path(store))
    if name not in REPORTS:
        raise CustinfoError(f"unknown report '{name}'", key="NAME", hint=f"reports: {', '.join(REPORTS)}")
    m = st.manifest(kw.pop("as_of", None))
    module = __import__(f"{__name__}.{name}", fromlist=[name])
    if name == "changes":
        return module.changes(st, since=kw.get("since"), manifest=m)
    return getattr(module, name)(st, manifest=m)
