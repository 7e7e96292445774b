"""`custinfo report duplicates`: clusters, their sizes, and the duplicate rate per channel and file."""

from __future__ import annotations

from ..store.store import Store
from .model import Chart, Report, Table, timestamp


def duplicates(store: Store, manifest: dict | None = None) -> Report:
    m = manifest or store.manifest()
    recs = store.frame("records", manifest=m, columns=["record_id", "channel", "source_file"])
    recs = recs.merge(store.frame("membership", manifest=m), on="record_id")
    size = recs.groupby("customer_id").size()
    recs["cluster_size"] = recs["customer_id"].map(size)
    sizes = size.value_counts().sort_index().rename_axis("cluster_size").rename("customers").reset_index()
    per = (
        recs.groupby(["channel", "source_file"])
        .agg(
            records=("record_id", "size"),
            customers=("customer_id", "nunique"),
            in_multi_record_customers=("cluster_size", lambda s: int((s > 1).sum())),
        )
        .reset_index()
    )
    per["duplicate_rate"] = (per["in_multi_record_customers"] / per["records"]).round(4)
    top = (
        recs[recs["cluster_size"] > 1]
        .groupby("customer_id")
        .agg(records=("record_id", "size"), channels=("channel", lambda s: ",".join(sorted(set(s)))))
    )
    top = top.sort_values("records", ascending=False).head(20).reset_index()
    n, c = len(recs), int(size.size)
    figures = {
        "records": n,
        "customers": c,
        "duplicate_records": n - c,
        "duplicate_rate": round((n - c) / n, 4) if n else 0.0,
        "largest_cluster": int(size.max()) if c else 0,
    }
    return Report(
        "duplicates",
        "Duplicates",
        timestamp(),
        figures,
        [
            Table("cluster_sizes", "Customers by number of records", sizes),
            Table("files", "Duplicates per channel and file", per),
            Table("largest", "Largest clusters", top),
        ],
        [Chart("cluster_sizes", "bar", "cluster_size", "customers", "Cluster sizes")],
    )
