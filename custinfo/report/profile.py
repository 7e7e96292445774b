"""`custinfo report profile`: what the customer base looks like (gender, age, region, companies)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..store.store import Store
from .model import Chart, Report, Table, timestamp

AGE_BANDS = [0, 18, 25, 35, 45, 55, 65, 200]
AGE_LABELS = ["<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]


def _counts(s: pd.Series, label: str, top: int = 20) -> pd.DataFrame:
    vc = s.dropna().value_counts().head(top)
    return vc.rename_axis(label).rename("customers").reset_index()


def profile(store: Store, manifest: dict | None = None, today: date | None = None) -> Report:
    m = manifest or store.manifest()
    c = store.frame("customers", manifest=m)
    c = c[c["status"].isin(["active", "inactive"])]
    today = today or date.today()
    born = pd.to_datetime(c["birth_date"], errors="coerce")
    age = today.year - born.dt.year - ((today.month, today.day) < (0, 0))
    bands = pd.cut(age, AGE_BANDS, right=False, labels=AGE_LABELS)
    age_t = bands.value_counts().reindex(AGE_LABELS).fillna(0).astype(int).rename_axis("age_band")
    gender = _counts(c["gender"].map({"M": "male", "F": "female"}), "gender")
    n = len(c)
    figures = {
        "customers": n,
        "female_share": round(float((c["gender"] == "F").sum() / n), 4) if n else 0.0,
        "with_birth_date": int(born.notna().sum()),
        "median_age": float(age.median()) if born.notna().any() else None,
    }
    return Report(
        "profile",
        "Customer profile",
        timestamp(),
        figures,
        [
            Table("gender", "Gender", gender),
            Table("age", "Age bands", age_t.rename("customers").reset_index()),
            Table("provinces", "Provinces", _counts(c["province"], "province")),
            Table("cities", "Cities", _counts(c["city"], "city")),
            Table("companies", "Companies", _counts(c["company"], "company")),
            Table("titles", "Titles", _counts(c["title"], "title")),
        ],
        [
            Chart("gender", "pie", "gender", "customers", "Gender"),
            Chart("age", "bar", "age_band", "customers", "Age bands"),
            Chart("provinces", "hbar", "province", "customers", "Provinces"),
        ],
    )
