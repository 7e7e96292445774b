"""`custinfo show` and `custinfo history`: one customer, its provenance, its records, its changes."""
from __future__ import annotations

import json

import pandas as pd

from ..errors import NotFoundError
from ..store.store import Store
from ..store.tables import GOLDEN_FIELDS
from ..store.verify import resolve


def _clean(d: dict) -> dict:
    return {k: (None if v is None or (isinstance(v, float) and v != v) else v) for k, v in d.items()}


def find_customer(store: Store, ref: str, manifest: dict | None = None) -> tuple[str, str | None]:
    """A customer id from a customer id (following redirects) or a record id; (id, redirected_from)."""
    m = manifest or store.manifest()
    cust = store.frame("customers", manifest=m, columns=["customer_id"])
    if ref in set(cust["customer_id"]):
        final = resolve(store, ref, m)
        return final, (ref if final != ref else None)
    mem = store.frame("membership", manifest=m)
    hit = mem[mem["record_id"] == ref]
    if len(hit):
        return str(hit["customer_id"].iloc[0]), None
    raise NotFoundError(f"no customer or record '{ref}'", key="CUSTOMER_ID",
                        hint="ids look like C00000001 (customer) or R000001-0000001 (record); "
                             "`custinfo export customers -o -` lists them")


def show_customer(store: Store, ref: str) -> dict:
    """The golden record, where each value came from, and the source records."""
    m = store.manifest()
    cid, redirected = find_customer(store, ref, m)
    cust = store.frame("customers", manifest=m)
    row = _clean(cust[cust["customer_id"] == cid].iloc[0].to_dict())
    mem = store.frame("membership", manifest=m)
    rids = set(mem.loc[mem["customer_id"] == cid, "record_id"])
    recs = store.frame("records", manifest=m)
    recs = recs[recs["record_id"].isin(rids)]
    by_id = recs.set_index("record_id")
    prov = {}
    for f in GOLDEN_FIELDS:
        rid = row.pop(f"src_{f}", None)
        if row.get(f) is not None and rid in by_id.index:
            r = by_id.loc[rid]
            prov[f] = {"record_id": rid, "channel": r["channel"], "source_file": r["source_file"],
                       "source_sheet": r["source_sheet"], "source_row": int(r["source_row"]),
                       "ingested_at": r["ingested_at"]}
    conflicts = json.loads(row.pop("conflicts")) if row.get("conflicts") else {}
    cols = ["record_id", "channel", "source_file", "source_sheet", "source_row", "ingested_at", "name",
            "phone", "email", "company", "city", "issues"]
    return {"customer_id": cid, "redirected_from": redirected, "golden": row, "provenance": prov,
            "conflicts": conflicts, "records": [_clean(r) for r in recs[cols].to_dict("records")]}


def customer_history(store: Store, ref: str) -> pd.DataFrame:
    """Every change of every golden field of the customer (and of customers merged into it)."""
    m = store.manifest()
    cid, _ = find_customer(store, ref, m)
    cust = store.frame("customers", manifest=m, columns=["customer_id", "merged_into"])
    ids = {cid} | set(cust.loc[cust["merged_into"] == cid, "customer_id"])
    hist = store.frame("history", manifest=m)
    hist = hist[hist["customer_id"].isin(ids)]
    cols = ["changed_at", "customer_id", "field", "old_value", "new_value", "reason", "channel",
            "source_file", "source_row", "record_id", "batch_id"]
    return hist[cols].sort_values("changed_at", kind="stable").reset_index(drop=True)


def subject_data(store: Store, ref: str) -> dict:
    """Everything held about one person: golden record with provenance, every source record with its
    raw and extra values, history, consents, decisions, the keys matching derived from the records,
    and quarantined rows that share an identifier."""
    m = store.manifest()
    shown = show_customer(store, ref)
    cid = shown["customer_id"]
    mem = store.frame("membership", manifest=m)
    rids = set(mem.loc[mem["customer_id"] == cid, "record_id"])
    recs = store.frame("records", manifest=m)
    recs = recs[recs["record_id"].isin(rids)]
    full = []
    for r in recs.to_dict("records"):
        r = _clean(r)
        for k in ("raw", "extra"):
            r[k] = json.loads(r[k]) if r.get(k) else {}
        full.append(r)
    cons = store.frame("consents", manifest=m)
    decs = store.frame("decisions", manifest=m)
    decs = decs[decs["a"].isin(rids) | decs["b"].isin(rids)]
    keys = store.rows("match_keys", "record_id", rids, manifest=m)  # derived from them, for matching
    return {"customer_id": cid, "generated_for": "data subject access request",
            "golden": shown["golden"], "provenance": shown["provenance"], "conflicts": shown["conflicts"],
            "records": full, "history": [_clean(h) for h in customer_history(store, cid).to_dict("records")],
            "consents": [_clean(c) for c in cons[cons["record_id"].isin(rids)].to_dict("records")],
            "decisions": [_clean(d) for d in decs.to_dict("records")],
            "match_keys": [_clean(k) for k in keys.to_dict("records")]}
