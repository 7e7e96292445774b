"""`custinfo report quality`: completeness and validity of each field, per channel and file."""

from __future__ import annotations

from ..store.store import Store
from .model import Chart, Report, Table, timestamp

FIELDS = [
    "name",
    "phone",
    "email",
    "company",
    "title",
    "address",
    "city",
    "birth_date",
    "gender",
    "national_id",
    "other_id",
]
ISSUES = {
    "invalid_phone": "invalid_phone_rate",
    "invalid_email": "invalid_email_rate",
    "email_typo_fixed": "email_typo_fixed",
    "id_checksum": "bad_id_rate",
}


def quality(store: Store, manifest: dict | None = None) -> Report:
    m = manifest or store.manifest()
    recs = store.frame("records", manifest=m, columns=["channel", "source_file", "issues", *FIELDS, "raw"])
    quar = store.frame("quarantine", manifest=m, columns=["channel", "source_file", "reason"])
    by = ["channel", "source_file"]
    g = recs.groupby(by)
    per_file = g.size().rename("records").to_frame()
    per_file["mobile_rate"] = g["phone"].agg(lambda s: s.fillna("").str.match(r"^\+861\d{10}$").mean())
    per_file["email_rate"] = g["email"].agg(lambda s: s.notna().mean())
    issues = recs["issues"].fillna("")
    for code, col in ISSUES.items():
        flag = issues.str.contains(code, regex=False)
        per_file[col] = (
            flag.groupby([recs[c] for c in by]).mean()
            if col.endswith("rate")
            else flag.groupby([recs[c] for c in by]).sum()
        )
    q = quar.groupby(by).size().rename("quarantined")
    per_file = per_file.join(q, how="outer").fillna({"records": 0, "quarantined": 0}).reset_index()
    per_file[["records", "quarantined"]] = per_file[["records", "quarantined"]].astype(int)
    completeness = recs.groupby("channel")[FIELDS].agg(lambda s: s.notna().mean()).reset_index()
    reasons = quar.groupby(["source_file", "reason"]).size().rename("rows").reset_index()
    n = len(recs)
    figures = {
        "records": n,
        "quarantined": len(quar),
        "mobile_rate": round(float(recs["phone"].fillna("").str.match(r"^\+861\d{10}$").mean()), 4)
        if n
        else 0.0,
        "email_rate": round(float(recs["email"].notna().mean()), 4) if n else 0.0,
        "email_typos_fixed": int(issues.str.contains("email_typo_fixed", regex=False).sum()),
        "invalid_phones": int(issues.str.contains("invalid_phone", regex=False).sum()),
    }
    return Report(
        "quality",
        "Data quality",
        timestamp(),
        figures,
        [
            Table("files", "Validity per channel and file", per_file),
            Table(
                "completeness",
                "Share of records with each field, per channel",
                completeness,
                formats={f: "percent" for f in FIELDS},
            ),
            Table("quarantine", "Quarantined rows by file and reason", reasons),
        ],
        [Chart("files", "bar", "source_file", "mobile_rate", "Share of valid mobiles per file")],
    )
