"""`custinfo report changes --since DATE`: what changed in the golden records."""

from __future__ import annotations

from ..store.store import Store
from .model import Chart, Report, Table, timestamp


def changes(store: Store, since: str | None = None, manifest: dict | None = None) -> Report:
    """What changed in golden records (and which customers were created, merged, retired) since DATE."""
    m = manifest or store.manifest()
    h = store.frame("history", manifest=m)
    if since:
        h = h[h["changed_at"] >= since]
    h = h.sort_values("changed_at", kind="stable")
    kinds = h.groupby("reason").size().rename("changes").reset_index()
    fields = h[h["reason"] != "created"].groupby("field").size().rename("changes").reset_index()
    cols = [
        "changed_at",
        "customer_id",
        "field",
        "old_value",
        "new_value",
        "reason",
        "channel",
        "source_file",
        "source_row",
    ]
    figures = {"since": since, "changes": int(len(h)), "customers": int(h["customer_id"].nunique())}
    return Report(
        "changes",
        "Changes" + (f" since {since}" if since else ""),
        timestamp(),
        figures,
        [
            Table("kinds", "Changes by kind", kinds),
            Table("fields", "Changed fields", fields),
            Table("changes", "Every change", h[cols].reset_index(drop=True)),
        ],
        [Chart("kinds", "bar", "reason", "changes", "Changes by kind")] if len(kinds) else [],
    )
