"""What `custinfo export` writes: records, customers, contacts, as frames the writers can save."""

from __future__ import annotations

import pandas as pd

from ..errors import CustinfoError
from ..store.store import Store
from ..store.tables import CUSTOMER_COLUMNS, GOLDEN_FIELDS, RECORD_COLUMNS

KINDS = ("records", "customers", "contacts")


def export_frame(
    store: Store,
    kind: str,
    *,
    as_of: str | None = None,
    channel: str | None = None,
    since: str | None = None,
    where: list[str] | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """The rows `custinfo export KIND` writes, filtered as asked."""
    if kind not in KINDS:
        raise CustinfoError(f"unknown export '{kind}'", key="kind", hint=f"use one of: {', '.join(KINDS)}")
    m = store.manifest(as_of)
    if kind == "records":
        df = store.frame("records", manifest=m).merge(
            store.frame("membership", manifest=m), on="record_id", how="left"
        )
        order = ["record_id", "customer_id"] + [c for c in RECORD_COLUMNS if c != "record_id"]
        df = df[order]
        if channel:
            df = df[df["channel"] == channel]
        if since:
            df = df[df["ingested_at"] >= since]
    else:
        df = store.frame("customers", manifest=m)
        df = df[df["status"] != "merged"][CUSTOMER_COLUMNS]
        if channel:
            df = df[df["channels"].fillna("").str.split(",").map(lambda cs: channel in cs)]
        if since:
            df = df[df["last_seen"] >= since]
        if kind == "contacts":
            df = df[df["phone"].notna() | df["email"].notna()]
            df = df[
                ["customer_id", "name", "phone", "email", "company", "title", "province", "city", "address"]
            ]
    df = apply_where(df, where or [])
    if columns:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise CustinfoError(
                f"unknown column(s): {', '.join(missing)}",
                key="--columns",
                hint=f"columns are: {', '.join(df.columns)}",
            )
        df = df[columns]
    return df.reset_index(drop=True)


def apply_where(df: pd.DataFrame, where: list[str]) -> pd.DataFrame:
    """Filters like `city=上海市`, `province!=广东省`, `name~张` (contains)."""
    for cond in where:
        for op in ("!=", "=", "~"):
            if op in cond:
                col, val = cond.split(op, 1)
                col = col.strip()
                break
        else:
            raise CustinfoError(
                f"cannot read filter '{cond}'",
                key="--where",
                hint="write FIELD=VALUE, FIELD!=VALUE or FIELD~TEXT",
            )
        if col not in df.columns:
            raise CustinfoError(
                f"unknown field '{col}' in --where",
                key="--where",
                hint=f"fields are: {', '.join(df.columns)}",
            )
        s = df[col].fillna("").astype(str)
        df = (
            df[s == val]
            if op == "="
            else df[s != val]
            if op == "!="
            else df[s.str.contains(val, regex=False)]
        )
    return df


__all__ = ["export_frame", "apply_where", "KINDS", "GOLDEN_FIELDS"]


def filter_consent(store: Store, df: pd.DataFrame, purpose: str, policy) -> tuple[pd.DataFrame, int]:
    """Customers (rows with `customer_id`) who may be used for `purpose`; and how many were left out."""
    from ..security import has_consent
    from ..security.policy import PURPOSES

    if purpose not in PURPOSES:
        raise CustinfoError(
            f"unknown purpose '{purpose}'", key="--purpose", hint=f"use one of: {', '.join(PURPOSES)}"
        )
    cons = store.frame("consents")
    mem = store.frame("membership")
    cons = cons.merge(mem, on="record_id", how="inner")
    cons["granted"] = cons["granted"] == "true"
    cons["at"] = pd.to_datetime(cons["at"], utc=True, errors="coerce", format="mixed")
    ok = has_consent(cons, df["customer_id"], purpose, policy=policy)
    keep = df["customer_id"].map(ok).fillna(False).astype(bool)
    return df[keep].reset_index(drop=True), int((~keep).sum())
