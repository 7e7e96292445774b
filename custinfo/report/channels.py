"""`custinfo report channels`: which channel brings new customers, how many of its records were
already known, and how channels overlap."""

from __future__ import annotations

import pandas as pd

from ..store.store import Store
from .model import Chart, Report, Table, timestamp


def channels(store: Store, manifest: dict | None = None) -> Report:
    m = manifest or store.manifest()
    recs = store.frame("records", manifest=m, columns=["record_id", "channel", "ingested_at"])
    recs = recs.merge(store.frame("membership", manifest=m), on="record_id")
    recs = recs.sort_values(["ingested_at", "record_id"], kind="stable")
    first = recs.drop_duplicates("customer_id")  # the record that brought each customer
    recs["already_known"] = ~recs["record_id"].isin(first["record_id"])
    per = recs.groupby("channel").agg(
        records=("record_id", "size"),
        customers=("customer_id", "nunique"),
        already_known=("already_known", "sum"),
    )
    per["new_customers"] = first.groupby("channel").size().reindex(per.index).fillna(0).astype(int)
    per["known_share"] = (per["already_known"] / per["records"]).round(4)
    per = per.reset_index()
    pairs = recs[["customer_id", "channel"]].drop_duplicates()
    both = pairs.merge(pairs, on="customer_id")
    overlap = pd.crosstab(both["channel_x"], both["channel_y"]).rename_axis(index="channel", columns=None)
    figures = {
        "channels": int(len(per)),
        "customers": int(recs["customer_id"].nunique()),
        "multi_channel_customers": int((pairs.groupby("customer_id").size() > 1).sum()),
    }
    return Report(
        "channels",
        "Channel yield",
        timestamp(),
        figures,
        [
            Table("channels", "Per channel", per),
            Table("overlap", "Customers seen in both channels", overlap.reset_index()),
        ],
        [
            Chart(
                "channels",
                "stacked",
                "channel",
                ["new_customers", "already_known"],
                "New customers vs already-known records",
            )
        ],
    )
