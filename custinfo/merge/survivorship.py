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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..store.tables import GOLDEN_FIELDS

DEFAULT_RULES = ["trust", "frequency", "recency", "completeness"]
MULTI_VALUED = {"phones": "phone", "emails": "email"}
# other_id is not among them: one person may hold several documents (a passport and a social
# security number) in that column, so two values are no disagreement.
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
    codes, channels = pd.factorize(r["channel"].to_numpy(dtype=object))  # a lookup per channel, not per row
    per_channel = np.array([float(trust.get(c, default_trust)) for c in channels] + [default_trust])
    r["_trust"] = per_channel[codes]
    r["_recency"] = r["created_at"].fillna(r["ingested_at"]).fillna("")
    # Order-preserving integer codes, made once: the per-field rankings then sort numbers, not strings.
    for col in ("customer_id", "record_id", "_recency"):
        r[f"_o{col}"] = pd.factorize(r[col].to_numpy(dtype=object), sort=True)[0]
    # Indexed by the integer customer codes while the fields are filled: reindexing on a string
    # index hashed every customer id again for each of the 38 columns (20 s per million records).
    out = pd.DataFrame({"customer_id": pd.unique(r["customer_id"])},
                       index=pd.unique(r["_ocustomer_id"].to_numpy()))
    for field in GOLDEN_FIELDS:
        if field in MULTI_VALUED:
            vals, src = _multi(r, field, rules_for(MULTI_VALUED[field], config))
        else:
            vals, src = _single(r, field, rules_for(field, config))
        out[field] = vals.reindex(out.index)
        out[f"src_{field}"] = src.reindex(out.index)
    out = out.set_index("customer_id", drop=False)
    # A golden `phone`/`email` is the best of the multi-valued list: keep them in step.
    for single, multi in (("phone", "phones"), ("email", "emails")):
        out[single] = out[single].where(out[single].notna(), out[multi].str.split(",").str[0])
    _add_keys_and_stats(out, r)
    out["conflicts"] = conflicts(r).reindex(out.index)
    return out.reset_index(drop=True).astype(object).where(lambda d: d.notna(), None)


_RANK_COLUMNS = ["customer_id", "record_id", "_trust", "_ocustomer_id", "_orecord_id", "_o_recency"]


def _ranked(sub: pd.DataFrame, field: str, rules: list[str]) -> pd.DataFrame:
    """`sub`'s rows ordered by customer, then best value first by `rules`, ties by record_id."""
    cust = sub["_ocustomer_id"].to_numpy(dtype=np.int64)
    keys = [cust]  # major key first; np.lexsort wants it last, and is stable like sort_values(kind="stable")
    for rule in rules:
        if rule == "trust":
            keys.append(-sub["_trust"].to_numpy(dtype=float))
        elif rule == "recency":
            keys.append(-sub["_o_recency"].to_numpy(dtype=np.int64))
        elif rule == "frequency":
            value = pd.factorize(sub[field].to_numpy(dtype=object))[0].astype(np.int64)
            _, inverse, counts = np.unique(cust * (int(value.max(initial=0)) + 1) + value, return_inverse=True,
                                           return_counts=True)
            keys.append(-counts[inverse.ravel()])
        elif rule == "completeness":
            keys.append(-np.fromiter(map(len, sub[field].to_numpy(dtype=object)), dtype=np.int64, count=len(sub)))
    keys.append(sub["_orecord_id"].to_numpy(dtype=np.int64))
    return sub.iloc[np.lexsort(keys[::-1])]


def _single(r: pd.DataFrame, field: str, rules: list[str]) -> tuple[pd.Series, pd.Series]:
    sub = r.loc[r[field].notna(), _RANK_COLUMNS + [field]]
    best = _ranked(sub, field, rules).drop_duplicates("_ocustomer_id").set_index("_ocustomer_id")
    return best[field], best["record_id"]


def _multi(r: pd.DataFrame, field: str, rules: list[str]) -> tuple[pd.Series, pd.Series]:
    sub = r.loc[r[field].notna(), _RANK_COLUMNS + [field]]
    # split and explode in Arrow: a python split per row was most of this function's time
    parts = pc.split_pattern(pa.array(sub[field].to_numpy(dtype=object), type=pa.string()), ",")
    values = pc.list_flatten(parts)
    # assign, not ex[field] = ...: setting a column of the row selection warned (SettingWithCopyWarning
    # on stderr under pandas 2, in the middle of an ingest's output)
    ex = sub.drop(columns=[field]).iloc[pc.list_parent_indices(parts).to_numpy()]
    ex = ex.assign(**{field: values.to_numpy(zero_copy_only=False)})
    ex = ex[(ex[field] != "").to_numpy()]
    ranked = _ranked(ex, field, rules).drop_duplicates(["customer_id", field])
    return _join_runs(ranked["_ocustomer_id"], ranked[field]), \
        ranked.drop_duplicates("_ocustomer_id").set_index("_ocustomer_id")["record_id"]


def _join_runs(keys: pd.Series, values: pd.Series, sep: str = ",") -> pd.Series:
    """`values` joined with `sep` per run of equal `keys` (rows of a key must be contiguous), in row
    order, indexed by key. One Arrow list join instead of a Python call per customer."""
    k = keys.to_numpy()
    if not len(k):
        return pd.Series([], dtype=object)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    offsets = pa.array(np.r_[starts, len(k)].astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pa.array(values.to_numpy(dtype=object), type=pa.string()))
    return pd.Series(pc.binary_join(lists, sep).to_numpy(zero_copy_only=False), index=k[starts], dtype=object)


def _add_keys_and_stats(out: pd.DataFrame, r: pd.DataFrame) -> None:
    """Matching keys follow the golden name/company; counts and first/last seen per customer."""
    name_src = out["src_name"]
    by_rec = r.set_index("record_id")
    for key, src in (("name_key", name_src), ("name_pinyin", name_src), ("company_key", out["src_company"])):
        out[key] = src.map(by_rec[key]) if len(by_rec) else None
    # Vectorized: per-customer Python lambdas and min/max over Arrow strings took 20 s per 100k records.
    cid = r["customer_id"].to_numpy(dtype=object)
    out["n_records"] = pd.Series(cid).value_counts().reindex(out.index)
    ch = pd.DataFrame({"c": cid, "ch": r["channel"].to_numpy(dtype=object)}).drop_duplicates()
    ch = ch.sort_values(["c", "ch"], kind="stable")
    out["channels"] = _join_runs(ch["c"], ch["ch"]).reindex(out.index)
    codes, uniques = pd.factorize(r["ingested_at"].to_numpy(dtype=object), sort=True)
    t = np.where(codes >= 0, codes, np.nan)  # a missing time is skipped, as min/max skip it
    seen = pd.DataFrame({"c": cid, "t": t}).groupby("c", sort=False)["t"].agg(["min", "max"])
    uniques = np.asarray(uniques, dtype=object)
    for col, agg in (("first_seen", "min"), ("last_seen", "max")):
        idx = seen[agg].reindex(out.index).to_numpy()
        out[col] = [uniques[int(i)] if i == i and i >= 0 else None for i in idx]


def conflicts(r: pd.DataFrame) -> pd.Series:
    """Customers whose trusted sources disagree on a field: JSON {field: {value: [record_ids]}}."""
    trusted = r[r["_trust"] >= CONFLICT_MIN_TRUST]
    found: dict[str, dict] = {}
    for field in CONFLICT_FIELDS:
        sub = trusted.loc[trusted[field].notna(), ["customer_id", field, "record_id"]]
        n = sub.groupby("customer_id")[field].nunique()
        # only the (few) customers in conflict, grouped once rather than scanned once each
        sub = sub[sub["customer_id"].isin(n.index[n > 1])]
        for cid, rows in sub.groupby("customer_id", sort=True):
            found.setdefault(cid, {})[field] = rows.groupby(field)["record_id"].agg(list).to_dict()
    return pd.Series({cid: json.dumps(v, ensure_ascii=False) for cid, v in found.items()}, dtype=object)
