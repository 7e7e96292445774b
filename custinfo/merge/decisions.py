"""Decisions by people: link, unlink, split, retire. Each is one atomic commit and is kept for good:
must-link / cannot-link pairs live in the `decisions` table and every later ingest obeys them."""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass, field

import pandas as pd

from ..config import load_config
from ..errors import CustinfoError
from ..store.store import Store, utcnow
from .fold import format_customer_id, regolden
from .lookup import find_customer


@dataclass
class DecisionResult:
    action: str
    customers: list[str] = field(default_factory=list)  # customers whose records changed
    message: str = ""
    changed: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


class _Session:
    """The store's state inside one transaction; several decisions can be applied before one commit."""

    def __init__(self, store: Store, txn):
        self.store, self.txn, m = store, txn, txn.base
        self.records = store.frame("records", manifest=m)
        self.members = store.frame("membership", manifest=m)
        self.customers = store.frame("customers", manifest=m)
        self.decisions = store.frame("decisions", manifest=m)
        self.new_decisions: list[pd.DataFrame] = []
        self.redirects: list[dict] = []
        self.affected: set[str] = set()
        self.merged: dict[str, str] = {}

    def record_of(self, ref: str) -> str:
        """A record id for a reference that may be a record id or a customer id (its first record)."""
        if ref in set(self.members["record_id"]):
            return ref
        cid, _ = find_customer(self.store, ref, self.txn.base)
        return str(self.members.loc[self.members["customer_id"] == cid, "record_id"].min())

    def customer_of(self, rid: str) -> str:
        return str(self.members.loc[self.members["record_id"] == rid, "customer_id"].iloc[0])

    def decide(self, ra: str, rb: str, kind: str, note: str) -> None:
        dec = _decision(ra, rb, kind, note)
        self.new_decisions.append(dec)
        self.decisions = pd.concat([self.decisions, dec], ignore_index=True)

    def link(self, ra: str, rb: str, note: str = "") -> str:
        self.decide(ra, rb, "must_link", note)
        ca, cb = self.customer_of(ra), self.customer_of(rb)
        if ca == cb:
            return f"already one customer {ca}; decision kept"
        keep, gone = sorted((ca, cb))
        self.members["customer_id"] = self.members["customer_id"].replace({gone: keep})
        self.merged = {k: (keep if v == gone else v) for k, v in self.merged.items()} | {gone: keep}
        self.affected = (self.affected - {gone}) | {keep}
        self.redirects.append(
            {
                "old_id": gone,
                "new_id": keep,
                "at": utcnow(),
                "batch_id": None,
                "reason": "linked by " + getpass.getuser(),
            }
        )
        return f"merged {gone} into {keep}"

    def unlink(self, ra: str, rb: str, note: str = "") -> str:
        self.decide(ra, rb, "cannot_link", note)
        cid = self.customer_of(ra)
        if cid != self.customer_of(rb):
            return "already different customers; decision kept"
        self.members, new_ids = _recluster(cid, self.records, self.members, self.decisions, self.txn)
        self.affected |= {cid, *new_ids}
        return f"split {cid} into {', '.join([cid, *new_ids])}"

    def commit(self, reason: str) -> None:
        if self.affected:
            _commit_change(
                self.txn,
                self.records,
                self.members,
                self.customers,
                self.affected,
                self.merged,
                reason,
                pd.concat(self.new_decisions, ignore_index=True) if self.new_decisions else None,
                pd.DataFrame(self.redirects) if self.redirects else None,
            )
        elif self.new_decisions:
            self.txn.append("decisions", pd.concat(self.new_decisions, ignore_index=True))
            self.txn.commit({"decision": reason})


def _decision(a: str, b: str, kind: str, note: str = "") -> pd.DataFrame:
    a, b = sorted((a, b))
    return pd.DataFrame(
        [{"a": a, "b": b, "kind": kind, "at": utcnow(), "by": getpass.getuser(), "note": note}]
    )


def _commit_change(
    txn, records, members, customers, affected, merged, reason, decisions=None, redirects=None
):
    cfg = load_config()
    now = utcnow()
    customers_out, history = regolden(
        records,
        members,
        customers,
        affected,
        merged,
        now=now,
        batch_id=f"D{txn.base['version'] + 1:06d}",
        trust=cfg.trust,
        survivorship=cfg.survivorship,
        reason=reason,
    )
    if decisions is not None:
        txn.append("decisions", decisions)
    if redirects is not None:
        txn.append("redirects", redirects)
    txn.append("history", history)
    txn.overwrite("membership", members)
    txn.overwrite("customers", customers_out)
    txn.commit({"decision": reason})


def link(store: Store, a: str, b: str, note: str = "") -> DecisionResult:
    """Must-link: the two records (or customers) are the same person, now and in every later ingest."""
    with store.transaction("link") as txn:
        ses = _Session(store, txn)
        msg = ses.link(ses.record_of(a), ses.record_of(b), note)
        ses.commit("linked")
    return DecisionResult("link", sorted(ses.affected | set(ses.merged)), msg, changed=bool(ses.affected))


def unlink(store: Store, a: str, b: str, note: str = "") -> DecisionResult:
    """Cannot-link: the two records are different people; split their customer if they share one."""
    with store.transaction("unlink") as txn:
        ses = _Session(store, txn)
        msg = ses.unlink(ses.record_of(a), ses.record_of(b), note)
        ses.commit("unlinked")
    return DecisionResult("unlink", sorted(ses.affected), msg, changed=bool(ses.affected))


def _recluster(customer_id: str, records, members, decisions, txn) -> tuple[pd.DataFrame, list[str]]:
    """Re-cluster one customer's records with the matcher, obeying every decision; the group holding
    the customer's oldest record keeps the id, the others get new ids."""
    from ..match import Matcher, load_settings
    from .assign import decision_pairs

    rids = set(members.loc[members["customer_id"] == customer_id, "record_id"])
    recs = records[records["record_id"].isin(rids)]
    must, cannot = decision_pairs(decisions)
    res = Matcher(load_settings()).dedupe(
        recs, must_link=[p for p in must if set(p) <= rids], cannot_link=[p for p in cannot if set(p) <= rids]
    )
    cl = res.clusters.set_index("record_id")["cluster_id"]
    keeper = cl[min(rids)]
    others = sorted(set(cl) - {keeper}, key=lambda c: min(cl.index[cl == c]))
    first = txn.next_id("customer", len(others)) if others else 0
    new_ids = {c: format_customer_id(first + i) for i, c in enumerate(others)}
    target = cl.map(lambda c: customer_id if c == keeper else new_ids[c])
    members = members.copy()
    hit = members["record_id"].isin(target.index)
    members.loc[hit, "customer_id"] = members.loc[hit, "record_id"].map(target)
    return members, list(new_ids.values())


def split(store: Store, ref: str, records_to_move: list[str] | None = None) -> DecisionResult:
    """Undo a wrong merge: move the given records (or, by default, the records of the customer that was
    merged in last) out into their own customer, with cannot-link decisions so no ingest re-merges them."""
    with store.transaction("split") as txn:
        m = txn.base
        records, members, customers = (
            store.frame(t, manifest=m) for t in ("records", "membership", "customers")
        )
        cid, _ = find_customer(store, ref, m)
        mine = set(members.loc[members["customer_id"] == cid, "record_id"])
        move = set(records_to_move or []) or _last_merged_records(store, cid, mine)
        if not move or not move < mine:
            raise CustinfoError(
                f"nothing to split off {cid}",
                key="CUSTOMER_ID",
                hint="name the records to move with --records R1,R2 (see `custinfo show`)",
            )
        new_id = format_customer_id(txn.next_id("customer"))
        members = members.copy()
        members.loc[members["record_id"].isin(move), "customer_id"] = new_id
        decs = pd.concat(
            [_decision(min(mine - move), r, "cannot_link", f"split from {cid}") for r in sorted(move)],
            ignore_index=True,
        )
        _commit_change(txn, records, members, customers, {cid, new_id}, {}, "split", decs)
    return DecisionResult("split", [cid, new_id], f"moved {len(move)} record(s) from {cid} to {new_id}")


def _last_merged_records(store: Store, cid: str, mine: set) -> set:
    """Records that belonged to the customer most recently merged into `cid`, per the membership
    table as it was just before that merge (Delta time travel through the manifests)."""
    red = store.frame("redirects")
    red = red[red["new_id"] == cid]
    if not len(red):
        return set()
    last = red.sort_values("at").iloc[-1]
    before = [mf for mf in store.manifests() if mf["committed_at"] < last["at"]]
    if not before:
        return set()
    old_members = store.frame("membership", manifest=before[-1])
    return set(old_members.loc[old_members["customer_id"] == last["old_id"], "record_id"]) & mine


def retire(store: Store, inactive_since: str) -> DecisionResult:
    """Mark customers with no new record since the date as inactive (kept, not deleted)."""
    with store.transaction("retire") as txn:
        customers = store.frame("customers", manifest=txn.base)
        stale = (customers["status"] == "active") & (customers["last_seen"].fillna("") < inactive_since)
        ids = list(customers.loc[stale, "customer_id"])
        if not ids:
            return DecisionResult(
                "retire", [], f"no active customer without records since {inactive_since}", changed=False
            )
        now = utcnow()
        customers.loc[stale, "status"] = "inactive"
        customers.loc[stale, "updated_at"] = now
        hist = pd.DataFrame(
            {
                "customer_id": ids,
                "field": "status",
                "old_value": "active",
                "new_value": "inactive",
                "changed_at": now,
                "reason": f"no record since {inactive_since}",
            }
        )
        txn.append("history", hist)
        txn.overwrite("customers", customers)
        txn.commit({"decision": "retire", "customers": len(ids)})
    return DecisionResult("retire", ids, f"{len(ids)} customer(s) marked inactive")
