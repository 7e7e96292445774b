"""`custinfo report summary`: records per channel and file, customers, quarantined rows."""

from __future__ import annotations

import pandas as pd

from ..store.store import Store
from .model import Chart, Report, Table, timestamp


def summary(store: Store, *, manifest: dict | None = None) -> Report:
    """Headline figures of the store and where its records came from."""
    m = manifest or store.manifest()
    batches = store.frame("batches", manifest=m)
    customers = store.frame("customers", manifest=m, columns=["customer_id", "status"])
    quarantine = store.frame("quarantine", manifest=m, columns=["source_file", "source_row", "reason"])
    active = int((customers["status"] == "active").sum()) if len(customers) else 0
    records = int(batches["records"].sum()) if len(batches) else 0
    per_file = (
        batches.groupby(["channel", "file"], as_index=False).agg(
            records=("records", "sum"),
            quarantined=("quarantined", "sum"),
            ingested_at=("committed_at", "max"),
        )
        if len(batches)
        else pd.DataFrame(columns=["channel", "file", "records", "quarantined", "ingested_at"])
    )
    per_channel = (
        per_file.groupby("channel", as_index=False)[["records", "quarantined"]].sum()
        if len(per_file)
        else pd.DataFrame(columns=["channel", "records", "quarantined"])
    )
    if len(per_file):
        per_file["ingested_at"] = per_file["ingested_at"].str[:19].str.replace("T", " ") + " UTC"
    reasons = (
        quarantine.groupby("reason", as_index=False)
        .size()
        .rename(columns={"size": "rows"})
        .sort_values("rows", ascending=False)
        if len(quarantine)
        else pd.DataFrame(columns=["reason", "rows"])
    )
    figures = {
        "records": records,
        "customers": active,
        "merged_customers": int((customers["status"] == "merged").sum()) if len(customers) else 0,
        "inactive_customers": int((customers["status"] == "inactive").sum()) if len(customers) else 0,
        "duplicate_rate": round(1 - active / records, 4) if records else 0.0,
        "quarantined": int(len(quarantine)),
        "files": int(batches["file_sha256"].nunique()) if len(batches) else 0,
        "store_version": int(m.get("version", 0)),
    }
    return Report(
        name="summary",
        title="custinfo summary",
        generated_at=timestamp(),
        summary=figures,
        tables=[
            Table("channels", "Records per channel", per_channel.reset_index(drop=True)),
            Table("files", "Records per file", per_file.reset_index(drop=True)),
            Table("quarantine", "Quarantined rows by reason", reasons.reset_index(drop=True)),
        ],
        charts=[Chart(table="channels", kind="bar", x="channel", y="records", title="Records per channel")],
    )
