"""Erasure: `custinfo forget` (a person's request) and `custinfo purge` (retention).

Personal data is removed from every table, then every table is vacuumed with zero retention so no
older Parquet file keeps it (time travel to before the erasure is no longer possible, by design).
The Delta logs hold no column statistics (see TABLE_CONFIG), so they never held the values.
A forgotten person leaves a tombstone of salted hashes only, so that re-ingesting an old export
that still holds them skips those rows instead of silently bringing them back.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd
from deltalake import DeltaTable

from ..errors import CustinfoError, NotFoundError
from .store import Store, utcnow
from .tables import TABLES


@dataclass
class ErasureReceipt:
    action: str
    at: str
    customers: list[str] = field(default_factory=list)
    records_removed: int = 0
    rows_removed: dict = field(default_factory=dict)
    files_vacuumed: int = 0
    tombstones: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _customers_matching(store: Store, m: dict, customer_id, phone, email) -> set[str]:
    from ..merge.lookup import find_customer
    from ..normalize import NormalizeOptions, normalize_frame

    ids: set[str] = set()
    if customer_id:
        ids.add(find_customer(store, customer_id, m)[0])
    if phone or email:
        probe = normalize_frame(pd.DataFrame({"phone": [phone], "email": [email]}), NormalizeOptions())
        recs = store.frame("records", manifest=m, columns=["record_id", "phones", "emails"])
        hit = pd.Series(False, index=recs.index)
        for col, val in (("phones", probe.at[0, "phones"]), ("emails", probe.at[0, "emails"])):
            for v in (val or "").split(","):
                if v:
                    hit |= recs[col].fillna("").str.split(",").map(lambda xs, v=v: v in xs)
        mem = store.frame("membership", manifest=m)
        ids |= set(mem.loc[mem["record_id"].isin(recs.loc[hit, "record_id"]), "customer_id"])
    if not ids:
        raise NotFoundError("no customer matches", key="CUSTOMER_ID/--phone/--email",
                            hint="check the id with `custinfo show`, or the phone/email as written")
    return ids


def forget(store: Store, customer_id: str | None = None, *, phone: str | None = None,
           email: str | None = None) -> ErasureReceipt:
    """Erase everything held about one person, everywhere in the store, and leave a tombstone."""
    if not (customer_id or phone or email):
        raise CustinfoError("say who to forget", key="CUSTOMER_ID", hint="give a customer id, --phone or --email")
    with store.transaction("forget") as txn:
        m = txn.base
        ids = _customers_matching(store, m, customer_id, phone, email)
        cust = store.frame("customers", manifest=m)
        ids |= set(cust.loc[cust["merged_into"].isin(ids), "customer_id"])  # old ids redirecting here
        mem = store.frame("membership", manifest=m)
        rids = set(mem.loc[mem["customer_id"].isin(ids), "record_id"])
        recs = store.frame("records", manifest=m)
        gone = recs[recs["record_id"].isin(rids)]
        receipt = ErasureReceipt("forget", utcnow(), sorted(ids), len(gone))
        receipt.tombstones = _tombstone(store, gone, ids)
        receipt.rows_removed = _rewrite_without(store, txn, m, ids, rids, _needles(gone))
        txn.commit({"erasure": "forget", "customers": len(ids)})
    receipt.files_vacuumed = vacuum_all(store)
    return receipt


def _needles(gone: pd.DataFrame) -> list[str]:
    """The values whose every trace must go: names, phones (E.164 and national form), emails, IDs
    (resident IDs and other documents)."""
    vals: set[str] = set()
    for col in ("name", "email", "national_id", "other_id", "wechat", "qq"):
        if col in gone:
            vals |= {v for v in gone[col].dropna() if len(v) >= 2}
    for col in ("phones", "emails"):
        for cell in gone[col].dropna():
            vals |= {v for v in cell.split(",") if v}
    for v in list(vals):
        if v.startswith("+86"):
            vals.add(v[3:].split(";")[0])
    return sorted(vals)


def _rewrite_without(store: Store, txn, m: dict, ids: set[str], rids: set[str], needles: list[str]) -> dict:
    """Overwrite every table without the customers, their records and any row mentioning them."""
    pattern = re.compile("|".join(re.escape(n) for n in needles)) if needles else None
    removed = {}
    for name in TABLES:
        df = store.frame(name, manifest=m)
        keep = pd.Series(True, index=df.index)
        for col in ("customer_id", "old_id", "new_id", "merged_into"):
            if col in df:
                keep &= ~df[col].isin(ids)
        for col in ("record_id", "record_id_l", "record_id_r", "a", "b"):
            if col in df:
                keep &= ~df[col].isin(rids)
        if pattern is not None and name in ("quarantine", "history"):
            cells = df.astype(object).where(df.notna(), "").astype(object)
            text = cells.map(str).agg(" ".join, axis=1) if len(df) else pd.Series(dtype=object)
            keep &= ~text.str.contains(pattern)
        if (~keep).any():
            removed[name] = int((~keep).sum())
            txn.overwrite(name, df[keep])
    return removed


def _tombstone(store: Store, gone: pd.DataFrame, ids: set[str]) -> int:
    """Salted hashes of the person's phones, emails and ID numbers; never the values themselves."""
    from ..security import Tombstones

    tomb = Tombstones(store.path)
    keys = tomb.keys_for(phone=list(gone["phones"].dropna()), email=list(gone["emails"].dropna()),
                         national_id=list(gone["national_id"].dropna()),
                         other_id=list(gone["other_id"].dropna()) if "other_id" in gone else None)
    if keys:
        tomb.add(keys, reason="erasure request", customer_id=",".join(sorted(ids)))
    return len(keys)


def vacuum_all(store: Store) -> int:
    """Delete every data file no longer in the current version of each table."""
    n = 0
    for name in TABLES:
        tdir = store.path / name
        if (tdir / "_delta_log").is_dir():
            dt = DeltaTable(str(tdir))
            n += len(dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False))
    return n


def parse_duration(text: str) -> timedelta:
    """'3y', '18m', '90d', '12w' -> timedelta, as the security policy reads `retention`."""
    from ..security import parse_duration as policy_duration

    try:
        return policy_duration(text)
    except ValueError:
        raise CustinfoError(f"cannot read duration '{text}'", key="--older-than",
                            hint="write e.g. 3y, 18m, 90d or 12w") from None


def purge(store: Store, older_than: str) -> ErasureReceipt:
    """Remove records ingested before now - DURATION; customers left with no record go too."""
    from ..config import load_config
    from ..merge.fold import regolden

    cutoff = (datetime.now(timezone.utc) - parse_duration(older_than)).isoformat()
    with store.transaction("purge") as txn:
        m = txn.base
        recs = store.frame("records", manifest=m)
        old = recs[recs["ingested_at"] < cutoff]
        receipt = ErasureReceipt("purge", utcnow(), records_removed=len(old))
        if not len(old):
            return receipt
        rids = set(old["record_id"])
        mem = store.frame("membership", manifest=m)
        touched = set(mem.loc[mem["record_id"].isin(rids), "customer_id"])
        mem_left = mem[~mem["record_id"].isin(rids)]
        emptied = touched - set(mem_left["customer_id"])
        receipt.customers = sorted(emptied)
        receipt.rows_removed = _rewrite_without(store, txn, m, emptied, rids, [])
        cfg = load_config()
        cust = store.frame("customers", manifest=m)
        cust = cust[~cust["customer_id"].isin(emptied)]
        cust_out, _ = regolden(recs[~recs["record_id"].isin(rids)], mem_left, cust, touched - emptied, {},
                               now=utcnow(), batch_id="purge", trust=cfg.trust, survivorship=cfg.survivorship,
                               reason="purged")
        txn.overwrite("customers", cust_out)
        txn.overwrite("membership", mem_left)
        txn.commit({"erasure": "purge", "records": len(old)})
    receipt.files_vacuumed = vacuum_all(store)
    return receipt
