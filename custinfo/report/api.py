"""Python API for exports: the same frames `custinfo export` writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..store.store import Store
from .exports import export_frame


def export(
    kind: str, *, store: Store | str | Path | None = None, output: str | Path | None = None, **filters
) -> pd.DataFrame:
    """Export `records`, `customers` or `contacts`; write to `output` if given; return the frame."""
    st = store if isinstance(store, Store) else Store(store)
    df = export_frame(st, kind, **filters)
    if output is not None:
        from .writers import write_frame

        write_frame(df, output)
    return df
