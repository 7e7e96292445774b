"""`custinfo report conflicts`: where trusted sources disagree, and what was chosen."""

from __future__ import annotations

import json

import pandas as pd

from ..store.store import Store
from .model import Chart, Report, Table, timestamp


def conflicts(store: Store, manifest: dict | None = None) -> Report:
    """Customers whose trusted sources disagree (birth date, gender, ID), with the value chosen."""
    m = manifest or store.manifest()
    c = store.frame("customers", manifest=m)
    c = c[c["conflicts"].notna() & (c["status"] != "merged")]
    rows = []
    for rec in c.itertuples(index=False):
        for field, values in json.loads(rec.conflicts).items():
            rows.append(
                {
                    "customer_id": rec.customer_id,
                    "name": rec.name,
                    "field": field,
                    "chosen": getattr(rec, field),
                    "values": "; ".join(f"{v} ({len(r)} record(s))" for v, r in values.items()),
                    "records": ",".join(sorted({x for r in values.values() for x in r})),
                }
            )
    df = pd.DataFrame(rows, columns=["customer_id", "name", "field", "chosen", "values", "records"])
    by_field = df.groupby("field").size().rename("customers").reset_index()
    figures = {"customers_with_conflicts": int(df["customer_id"].nunique()), "conflicts": len(df)}
    return Report(
        "conflicts",
        "Conflicts between trusted sources",
        timestamp(),
        figures,
        [Table("by_field", "Conflicts by field", by_field), Table("conflicts", "Conflicts", df)],
        [Chart("by_field", "bar", "field", "customers", "Conflicts by field")] if len(by_field) else [],
        notes=["chosen = the value the survivorship rules picked; every value is kept in the records"],
    )
