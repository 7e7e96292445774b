"""Fold a batch of new records into the known customers.

The matcher says, for each group of new records, which existing customers it joins. From that:
- a group joining no customer becomes a new customer with a fresh, never reused id;
- a group joining one customer keeps that customer's id (ids are stable);
- a group joining several customers merges them: the oldest id survives, the others are marked
  `merged` and redirect to it (recorded in `redirects`, found by `custinfo show OLD_ID`).
Golden records are recomputed only for the customers that changed, and every changed golden value
is written to `history` with the record that caused it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..store.tables import GOLDEN_FIELDS
from .survivorship import golden_records


@dataclass
class Assignment:
    """Matcher output: new record -> group, and the existing customers each group joins."""

    group: pd.Series  # index record_id -> group label
    group_customers: dict  # group label -> list of existing customer ids
    score: pd.Series | None = None  # index record_id -> match score
    review: pd.DataFrame | None = None  # uncertain pairs: record_id_l, record_id_r, match_probability


@dataclass
class FoldResult:
    membership: pd.DataFrame  # the full new membership table
    customers: pd.DataFrame  # the full new customers table
    history: pd.DataFrame
    redirects: pd.DataFrame
    stats: dict = field(default_factory=dict)
    review: pd.DataFrame | None = None
    # customer ids whose row in `customers` (or whose members) changed: a writer may rewrite only these
    changed_customers: set = field(default_factory=set)


def format_customer_id(n: int) -> str:
    return f"C{n:08d}"


def fold(new: pd.DataFrame, existing: pd.DataFrame, membership: pd.DataFrame, customers: pd.DataFrame,
         assignment: Assignment, *, next_id, now: str, batch_id: str, trust: dict,
         survivorship: dict | None = None) -> FoldResult:
    """Apply `assignment`; `next_id(n)` reserves n customer numbers; `existing` carries customer_id."""
    groups = pd.unique(assignment.group.values)
    target, redirects, merged = {}, [], {}
    fresh = [g for g in groups if not assignment.group_customers.get(g)]
    first = next_id(len(fresh)) if fresh else 0
    for i, g in enumerate(fresh):
        target[g] = format_customer_id(first + i)
    for g in groups:
        cids = sorted(set(assignment.group_customers.get(g) or []))
        if not cids:
            continue
        target[g] = cids[0]
        for old in cids[1:]:
            merged[old] = cids[0]
            redirects.append({"old_id": old, "new_id": cids[0], "at": now, "batch_id": batch_id,
                              "reason": "new records linked both customers"})
    new_members = pd.DataFrame({"record_id": assignment.group.index,
                                "customer_id": assignment.group.map(target).values})
    members = membership.copy()
    if merged:
        members["customer_id"] = members["customer_id"].replace(merged)
    members = pd.concat([members, new_members], ignore_index=True)

    affected = set(new_members["customer_id"]) | set(merged.values())
    if "customer_id" in existing.columns:  # only the records of customers that change are re-folded
        existing = existing[existing["customer_id"].isin(affected | set(merged))]
    recs = pd.concat([existing.drop(columns=["customer_id"], errors="ignore"), new], ignore_index=True)
    customers_out, history = regolden(recs, members, customers, affected, merged, now=now, batch_id=batch_id,
                                      trust=trust, survivorship=survivorship)
    stats = {"new_customers": len(fresh), "joined_existing": int(sum(1 for g in groups if len(
        assignment.group_customers.get(g) or []) == 1)), "merges": len(merged)}
    return FoldResult(members, customers_out, history, pd.DataFrame(redirects), stats,
                      changed_customers=affected | set(merged))


def regolden(records: pd.DataFrame, members: pd.DataFrame, customers: pd.DataFrame, affected: set,
             merged: dict, *, now: str, batch_id: str, trust: dict, survivorship: dict | None = None,
             reason: str = "updated") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recompute the golden records of `affected` customers; return the new customers table and history.

    `merged` maps customer ids that stop existing to the id that absorbs them.
    """
    members = members[members["customer_id"].isin(affected)]  # narrow before the join, not after
    recs = records.drop(columns=["customer_id"], errors="ignore").merge(members, on="record_id", how="inner")
    golden = golden_records(recs, trust, survivorship)
    golden["status"], golden["merged_into"], golden["updated_at"] = "active", None, now
    old = customers.set_index("customer_id", drop=False) if len(customers) else customers
    history = _history(old, golden, recs, merged, now, batch_id, reason)
    return _replace_rows(customers, golden, merged, now), history


def _replace_rows(customers: pd.DataFrame, golden: pd.DataFrame, merged: dict, now: str) -> pd.DataFrame:
    """Customers table with `golden` rows replaced/added and merged customers marked as such."""
    keep = customers[~customers["customer_id"].isin(golden["customer_id"])].copy() if len(customers) else customers
    if merged and len(keep):
        hit = keep["customer_id"].isin(merged.keys())
        keep.loc[hit, "status"] = "merged"
        keep.loc[hit, "merged_into"] = keep.loc[hit, "customer_id"].map(merged)
        keep.loc[hit, "updated_at"] = now
    # Keep golden's first-seen from the older record of the customer if it had one.
    if len(customers):
        prev_first = customers.set_index("customer_id")["first_seen"]
        g_first = golden["customer_id"].map(prev_first)
        golden["first_seen"] = g_first.where(g_first.notna(), golden["first_seen"])
    frames = [f for f in (keep, golden) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else golden
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _history(old: pd.DataFrame, golden: pd.DataFrame, recs: pd.DataFrame, merged: dict, now: str,
             batch_id: str, reason: str = "updated") -> pd.DataFrame:
    """One row per golden field whose value changed; one 'created' row per new customer."""
    known = set(old.index) if len(old) else set()
    parts = [pd.DataFrame({"customer_id": list(merged.values()), "field": "*",
                           "old_value": list(merged.keys()), "new_value": list(merged.values()),
                           "record_id": None, "reason": "merged"})]
    is_new = ~golden["customer_id"].isin(known)
    created = golden[is_new]
    parts.append(pd.DataFrame({
        "customer_id": created["customer_id"], "field": "*", "old_value": None,
        "new_value": created["customer_id"],
        "record_id": created["src_name"].fillna(created["src_phone"]).fillna(created["src_email"]),
        "reason": "created"}))
    g = golden[~is_new].set_index("customer_id")
    for f in GOLDEN_FIELDS if len(g) else []:
        before = old.loc[g.index, f]
        hit = (before.fillna("\0") != g[f].fillna("\0")).to_numpy()
        parts.append(pd.DataFrame({"customer_id": g.index[hit], "field": f,
                                   "old_value": before.to_numpy()[hit], "new_value": g[f].to_numpy()[hit],
                                   "record_id": g[f"src_{f}"].to_numpy()[hit], "reason": reason}))
    hist = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=["customer_id", "field", "old_value", "new_value", "record_id", "reason"])
    hist["changed_at"], hist["batch_id"] = now, batch_id
    src = recs[["record_id", "channel", "source_file", "source_row"]]
    return hist.merge(src, on="record_id", how="left")
