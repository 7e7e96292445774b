"""Survivorship: one golden record per customer from all of its source records.

For each golden field the candidate values (non-empty normalized values: an invalid phone or email
never reaches the normalized column, so validity is built in) are ranked by the rules configured
for that field, in order:

- `trust`:        the channel's trust (configs: data bought from third parties ranks below our own);
- `frequency`:    how many of the customer's records carry the value;
- `recency`:      the newest record (created_at, else ingested_at);
- `completeness`: the longer value (e.g. a full address over a partial one).

Multi-valued fields (phones, emails) keep every distinct value, best first. Every golden value
carries the record_id it came from (`src_<field>`), the per-field provenance.
"""
from __future__ import annotations

import json

import pandas as pd

from ..store.tables import GOLDEN_FIELDS

DEFAULT_RULES = ["trust", "frequency", "recency", "completeness"]
MULTI_VALUED = {"phones": "phone", "emails": "email"}
CONFLICT_FIELDS = ("birth_date", "gender", "national_id")
CONFLICT_MIN_TRUST = 0.5
RULES = {"trust", "frequency", "recency", "completeness"}


def rules_for(field: str, config: dict) -> list[str]:
    """The ranking rules of one field: `survivorship.<field>`, else `survivorship.default`."""
    rules = config.get(field) or config.get("default") or DEFAULT_RULES
    return [r for r in rules if r in RULES]


def golden_records(records: pd.DataFrame, trust: dict[str, float], config: dict | None = None) -> pd.DataFrame:
    """Golden records of every customer present in `records` (which carry `customer_id`)."""
    config = config or {}
    r = records.copy()
    default_trust = float(trust.get("default", 0.6))
    r["_trust"] = r["channel"].map(lambda c: float(trust.get(c, default_trust)))
    r["_recency"] = r["created_at"].fillna(r["ingested_at"]).fillna("")
    out = pd.DataFrame({"customer_id": pd.unique(r["customer_id"])})
    out = out.set_index("customer_id", drop=False)
    for field in GOLDEN_FIELDS:
        if field in MULTI_VALUED:
            vals, src = _multi(r, field, rules_for(MULTI_VALUED[field], config))
        else:
            vals, src = _single(r, field, rules_for(field, config))
        out[field] = vals.reindex(out.index)
        out[f"src_{field}"] = src.reindex(out.index)
    # A golden `phone`/`email` is the best of the multi-valued list: keep them in step.
    for single, multi in (("phone", "phones"), ("email", "emails")):
        out[single] = out[single].where(out[single].notna(), out[multi].str.split(",").str[0])
    _add_keys_and_stats(out, r)
    out["conflicts"] = conflicts(r).reindex(out.index)
    return out.reset_index(drop=True).astype(object).where(lambda d: d.notna(), None)


def _ranked(r: pd.DataFrame, field: str, rules: list[str]) -> pd.DataFrame:
    sub = r.loc[r[field].notna(), ["customer_id", field, "record_id", "_trust", "_recency"]]
    keys, asc = ["customer_id"], [True]
    for rule in rules:
        if rule == "trust":
            keys.append("_trust")
        elif rule == "recency":
            keys.append("_recency")
        elif rule == "frequency":
            sub = sub.assign(_freq=sub.groupby(["customer_id", field])[field].transform("size"))
            keys.append("_freq")
        elif rule == "completeness":
            sub = sub.assign(_len=sub[field].str.len())
            keys.append("_len")
        asc.append(False)
    keys.append("record_id")
    asc.append(True)
    return sub.sort_values(keys, ascending=asc, kind="stable")


def _single(r: pd.DataFrame, field: str, rules: list[str]) -> tuple[pd.Series, pd.Series]:
    best = _ranked(r, field, rules).drop_duplicates("customer_id").set_index("customer_id")
    return best[field], best["record_id"]


def _multi(r: pd.DataFrame, field: str, rules: list[str]) -> tuple[pd.Series, pd.Series]:
    ex = r.loc[r[field].notna(), ["customer_id", field, "record_id", "_trust", "_recency"]].copy()
    ex[field] = ex[field].str.split(",")
    ex = ex.explode(field)
    ex = ex[ex[field].notna() & (ex[field] != "")]
    ranked = _ranked(ex, field, rules).drop_duplicates(["customer_id", field])
    grouped = ranked.groupby("customer_id", sort=False)
    return grouped[field].agg(",".join), grouped["record_id"].first()


def _add_keys_and_stats(out: pd.DataFrame, r: pd.DataFrame) -> None:
    """Matching keys follow the golden name/company; counts and first/last seen per customer."""
    name_src = out["src_name"]
    by_rec = r.set_index("record_id")
    for key, src in (("name_key", name_src), ("name_pinyin", name_src), ("company_key", out["src_company"])):
        out[key] = src.map(by_rec[key]) if len(by_rec) else None
    g = r.groupby("customer_id", sort=False)
    out["n_records"] = g.size().reindex(out.index)
    out["channels"] = g["channel"].agg(lambda s: ",".join(sorted(set(s)))).reindex(out.index)
    out["first_seen"] = g["ingested_at"].min().reindex(out.index)
    out["last_seen"] = g["ingested_at"].max().reindex(out.index)


def conflicts(r: pd.DataFrame) -> pd.Series:
    """Customers whose trusted sources disagree on a field: JSON {field: {value: [record_ids]}}."""
    trusted = r[r["_trust"] >= CONFLICT_MIN_TRUST]
    found: dict[str, dict] = {}
    for field in CONFLICT_FIELDS:
        sub = trusted.loc[trusted[field].notna(), ["customer_id", field, "record_id"]]
        n = sub.groupby("customer_id")[field].nunique()
        for cid in n[n > 1].index:
            rows = sub[sub["customer_id"] == cid]
            found.setdefault(cid, {})[field] = rows.groupby(field)["record_id"].agg(list).to_dict()
    return pd.Series({cid: json.dumps(v, ensure_ascii=False) for cid, v in found.items()}, dtype=object)
