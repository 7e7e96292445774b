"""`custinfo verify`: the store's invariants, each checked and every violation listed."""
from __future__ import annotations

from ..errors import StoreError
from .store import Store
from .tables import GOLDEN_FIELDS, TABLES


def verify_store(store: Store) -> dict:
    """Return {version, checks, problems}; problems is empty when every invariant holds."""
    problems: list[str] = []
    m = store.manifest()
    frames = {}
    for name in TABLES:
        try:
            frames[name] = store.frame(name, manifest=m)
        except StoreError as exc:
            problems.append(f"table {name}: {exc.message}")
    if problems:
        return {"version": m.get("version", 0), "checks": 1, "problems": problems}
    recs, mem, cust = frames["records"], frames["membership"], frames["customers"]
    problems += _unique(recs, "record_id", "records") + _unique(cust, "customer_id", "customers")
    problems += _unique(mem, "record_id", "membership (a record in two customers)")
    orphans = set(recs["record_id"]) - set(mem["record_id"])
    if orphans:
        problems.append(f"{len(orphans)} record(s) belong to no customer, e.g. {sorted(orphans)[:3]}")
    ghosts = set(mem["record_id"]) - set(recs["record_id"])
    if ghosts:
        problems.append(f"{len(ghosts)} membership row(s) point at missing records, e.g. {sorted(ghosts)[:3]}")
    live = set(cust.loc[cust["status"].isin(["active", "inactive"]), "customer_id"])
    bad = set(mem["customer_id"]) - live
    if bad:
        problems.append(f"records belong to {len(bad)} customer(s) that are missing or merged, e.g. {sorted(bad)[:3]}")
    empty = live - set(mem["customer_id"])
    if empty:
        problems.append(f"{len(empty)} live customer(s) have no record, e.g. {sorted(empty)[:3]}")
    ids = set(recs["record_id"])
    for f in GOLDEN_FIELDS:
        src = cust[f"src_{f}"].dropna()
        dangling = set(src) - ids
        if dangling:
            problems.append(f"provenance of {f} points at {len(dangling)} missing record(s), e.g. {sorted(dangling)[:3]}")
    problems += _redirect_problems(cust)
    # the match keys are derived personal data: an erasure must have taken those of gone records
    stale = set(frames["match_keys"]["record_id"]) - ids
    if stale:
        problems.append(f"match_keys holds keys of {len(stale)} record(s) no longer stored, "
                        f"e.g. {sorted(stale)[:3]}")
    return {"version": m.get("version", 0), "checks": 11, "problems": problems}


def _unique(df, col: str, what: str) -> list[str]:
    dup = df[col][df[col].duplicated()]
    return [f"{what}: {len(dup)} duplicate {col}(s), e.g. {sorted(set(dup))[:3]}"] if len(dup) else []


def _redirect_problems(cust) -> list[str]:
    """Merged customers must redirect, through an acyclic chain, to a live customer."""
    nxt = dict(zip(cust["customer_id"], cust["merged_into"]))
    status = dict(zip(cust["customer_id"], cust["status"]))
    out = []
    for cid, target in nxt.items():
        if status[cid] != "merged":
            continue
        seen = {cid}
        cur = target
        while cur is not None and status.get(cur) == "merged":
            if cur in seen:
                out.append(f"redirect cycle through {cid}")
                break
            seen.add(cur)
            cur = nxt.get(cur)
        if cur is None or cur not in status:
            out.append(f"merged customer {cid} redirects to missing {target}")
    return out


def resolve(store: Store, customer_id: str, manifest: dict | None = None) -> str:
    """Follow redirects from an old (merged) id to the customer that survived."""
    cust = store.frame("customers", manifest=manifest, columns=["customer_id", "status", "merged_into"])
    nxt = dict(zip(cust["customer_id"], cust["merged_into"]))
    cur, seen = customer_id, set()
    while nxt.get(cur) and cur not in seen:
        seen.add(cur)
        cur = nxt[cur]
    return cur
