"""Survivorship: one golden record per customer from all of its source records.

For each golden field the candidate values (non-empty normalized values: an invalid phone or email
never reaches the normalized column, so validity is built in) are ranked by the rules configured
for that field, in order:

- `trust`:        the channel's trust (configs: data bought from third parties ranks below our own);
- `frequency`:    how many of the customer's records carry the value;
- `recency`:      the newest record (created_at, else ingested_at);
- `completeness`: the longer value (e.g. a full address over a partial one).

Ties go to the smaller record_id. Multi-valued fields (phones, emails) keep every distinct value, best
first. Every golden value carries the record_id it came from (`src_<field>`), the per-field provenance.

Computed column by column over all the records at once, in Arrow and numpy: every rule is a
non-negative integer (smaller is better), the rules of a field are packed into as few int64 keys as
fit, and one sort per field puts each customer's best value first. No python runs per record or per
customer (only per customer whose trusted sources conflict).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..memory import release_memory
from ..store.tables import GOLDEN_FIELDS

DEFAULT_RULES = ["trust", "frequency", "recency", "completeness"]
MULTI_VALUED = {"phones": "phone", "emails": "email"}
# other_id is not among them: one person may hold several documents (a passport and a social
# security number) in that column, so two values are no disagreement.
CONFLICT_FIELDS = ("birth_date", "gender", "national_id")
CONFLICT_MIN_TRUST = 0.5
RULES = {"trust", "frequency", "recency", "completeness"}
GOLDEN_COLUMNS = (["customer_id"] + [c for f in GOLDEN_FIELDS for c in (f, f"src_{f}")]
                  + ["name_key", "name_pinyin", "company_key", "n_records", "channels", "first_seen",
                     "last_seen", "conflicts"])


def rules_for(field: str, config: dict) -> list[str]:
    """The ranking rules of one field: `survivorship.<field>`, else `survivorship.default`."""
    rules = config.get(field) or config.get("default") or DEFAULT_RULES
    return [r for r in rules if r in RULES]


def golden_records(records: pd.DataFrame, trust: dict[str, float],
                   config: dict | None = None) -> pd.DataFrame:
    """Golden records of every customer present in `records` (which carry `customer_id`), in the order
    the customers first appear, as python objects (None for missing)."""
    if not len(records):
        return pd.DataFrame(columns=GOLDEN_COLUMNS, dtype=object)
    rows, cols = _golden(records, trust, config or {})
    order = pa.array(pd.unique(rows.cust))  # customers in the order they first appear
    out = {name: arr.take(order).to_numpy(zero_copy_only=False) for name, arr in cols.items()}
    out["n_records"] = out["n_records"].astype(object)  # python ints, as the other columns hold objects
    return pd.DataFrame(out, dtype=object)


def golden_columns(records: pd.DataFrame, trust: dict[str, float],
                   config: dict | None = None) -> dict[str, pa.Array]:
    """The golden records' columns (GOLDEN_COLUMNS) as Arrow arrays, one row per customer, in
    customer_id order. No python objects: what a large batch (a first ingest) uses."""
    if not len(records):
        return {c: pa.array([], pa.int64() if c == "n_records" else pa.string()) for c in GOLDEN_COLUMNS}
    return _golden(records, trust, config or {})[1]


def _golden(records: pd.DataFrame, trust: dict[str, float],
            config: dict) -> tuple[_Rows, dict[str, pa.Array]]:
    rows = _Rows.of(records, trust)
    # Arrow's pool keeps what a step freed: handed back after each step, the working copies of one
    # field are not resident under those of the next (the peak of a first 1M ingest is set here)
    release_memory()
    out: dict[str, pa.Array] = {"customer_id": rows.customer_ids}
    best: dict[str, np.ndarray] = {}
    for field in GOLDEN_FIELDS:
        values = text_array(records[field]) if field in records.columns else \
            pa.nulls(len(records), pa.string())
        if field in MULTI_VALUED:
            joined, top = _multi(rows, values, rules_for(MULTI_VALUED[field], config))
            out[field] = joined
        else:
            top = _best_rows(rows, values, rules_for(field, config))
            out[field] = _at(values, top)
        best[field] = top
        out[f"src_{field}"] = _at(rows.record_ids, top)
        del values
        release_memory()
    # A golden `phone`/`email` is the best of the multi-valued list: keep them in step.
    for single, multi in (("phone", "phones"), ("email", "emails")):
        first = pc.list_element(pc.split_pattern(out[multi], ","), 0)
        out[single] = pc.coalesce(out[single], first)
    for key, field in (("name_key", "name"), ("name_pinyin", "name"), ("company_key", "company")):
        out[key] = _at(text_array(records[key]), best[field]) if key in records.columns else \
            pa.nulls(rows.n_customers, pa.string())
    release_memory()
    out["n_records"] = pa.array(np.bincount(rows.cust, minlength=rows.n_customers).astype(np.int64))
    out["channels"] = _channels(rows, text_array(records["channel"]))
    release_memory()
    seen = text_array(records["ingested_at"])
    first, last = _extreme_rows(rows, seen)
    out["first_seen"], out["last_seen"] = _at(seen, first), _at(seen, last)
    del seen
    release_memory()
    out["conflicts"] = _conflicts(rows, records)
    return rows, out


@dataclass
class _Rows:
    """What every field's ranking reads of the records: integer codes, smaller = better."""

    cust: np.ndarray  # customer code per record (rank of customer_id)
    n_customers: int
    customer_ids: pa.Array  # customer_id per code
    record_ids: pa.Array
    trust: np.ndarray  # channel trust per record (float)
    trust_rank: np.ndarray  # 0 = the most trusted channel
    recency_rank: np.ndarray  # 0 = the newest record
    record_rank: np.ndarray  # rank of record_id (ties between equal values go to the smaller id)

    @classmethod
    def of(cls, records: pd.DataFrame, trust: dict[str, float]) -> _Rows:
        ids = text_array(records["customer_id"])
        cust, customer_ids = _dense_rank(ids)
        record_ids = text_array(records["record_id"])
        default = float(trust.get("default", 0.6))
        channels = pc.dictionary_encode(text_array(records["channel"]))  # a lookup per channel, not per row
        per_channel = np.array([float(trust.get(c, default)) for c in channels.dictionary.to_pylist()]
                               + [default])
        t = per_channel[channels.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
        _, t_code = np.unique(-t, return_inverse=True)
        recency = pc.coalesce(text_array(records["created_at"]) if "created_at" in records.columns else
                              pa.nulls(len(records), pa.string()), text_array(records["ingested_at"]), "")
        r_code, r_values = _dense_rank(recency)
        return cls(cust, len(customer_ids), customer_ids, record_ids, t, t_code.ravel().astype(np.int64),
                   len(r_values) - 1 - r_code, _dense_rank(record_ids)[0])


def text_array(values: pd.Series) -> pa.Array:
    """A column as one Arrow string array (missing = null), whether it holds python objects or Arrow text
    (values that are not text: their str())."""
    try:
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only text: as the old python code saw it, str()
        objs = values.to_numpy(dtype=object)
        arr = pa.array([None if pd.isna(v) else str(v) for v in objs], type=pa.string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _dense_rank(arr: pa.Array, few: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Code of every value (0.. in sorted order, equal values equal codes) and the sorted distinct values.
    `few`: the values repeat a lot (the ingest times of a batch): only the distinct ones are sorted."""
    if not len(arr):
        return np.empty(0, dtype=np.int64), arr
    if few:
        enc = pc.dictionary_encode(arr)
        order = pc.sort_indices(enc.dictionary).to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank[enc.indices.to_numpy(zero_copy_only=False)], enc.dictionary.take(pa.array(order))
    code = pc.rank(arr, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64) - 1
    row = np.empty(int(code.max()) + 1, dtype=np.int64)  # a row holding each code: no second sort
    row[code] = np.arange(len(code))
    return code, arr.take(pa.array(row))


def _at(values: pa.Array, rows: np.ndarray) -> pa.Array:
    """values[rows], null where rows is -1."""
    return values.take(pa.array(rows, mask=rows < 0))


def _sorted_first(groups: np.ndarray, keys: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Order of the rows by group, then by `keys` (each array of non-negative ints below its bound,
    most important first); and the positions in that order where each group starts."""
    packed, cur, bound = [], groups.astype(np.int64), int(groups.max(initial=0)) + 1
    for arr, b in keys:
        if bound * b < 2**62:
            cur, bound = cur * b + arr, bound * b
        else:
            packed.append(cur)
            cur, bound = arr.astype(np.int64), b
    packed.append(cur)
    order = np.argsort(packed[0], kind="stable") if len(packed) == 1 else np.lexsort(packed[::-1])
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.empty(0, dtype=np.int64)
    return order, starts


def _rule_keys(rows: _Rows, idx: np.ndarray, values: pa.Array, pair: np.ndarray, rules: list[str]):
    """The rules as (key, bound) for the rows `idx` holding `values` (`pair`: their (customer, value)
    codes)."""
    keys = []
    for rule in rules:
        if rule == "trust":
            k = rows.trust_rank[idx]
        elif rule == "recency":
            k = rows.recency_rank[idx]
        elif rule == "frequency":
            counts = np.bincount(pair)
            k = counts.max(initial=0) - counts[pair]
        else:  # completeness: the longer value first
            n = pc.utf8_length(values).to_numpy(zero_copy_only=False).astype(np.int64)
            k = n.max(initial=0) - n
        keys.append((k.astype(np.int64), int(k.max(initial=0)) + 1))
    keys.append((rows.record_rank[idx], int(rows.record_rank.max(initial=0)) + 1))
    return keys


def _pairs(cust: np.ndarray, values: pa.Array) -> np.ndarray:
    """A code per distinct (customer, value)."""
    v = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.factorize(cust * (int(v.max(initial=0)) + 1) + v)[0]


def _best_rows(rows: _Rows, values: pa.Array, rules: list[str]) -> np.ndarray:
    """Per customer code, the row of its best value of a single-valued field (-1: none)."""
    idx = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
    mine = values.take(pa.array(idx))
    cust = rows.cust[idx]
    pair = _pairs(cust, mine) if "frequency" in rules else None
    order, starts = _sorted_first(cust, _rule_keys(rows, idx, mine, pair, rules))
    return _row_per_customer(rows.n_customers, cust[order[starts]], idx[order[starts]])


def _row_per_customer(n: int, cust: np.ndarray, row: np.ndarray) -> np.ndarray:
    """An array over the n customer codes: `row` at `cust`, -1 elsewhere."""
    out = np.full(n, -1, dtype=np.int64)
    out[cust] = row
    return out


def _multi(rows: _Rows, values: pa.Array, rules: list[str]) -> tuple[pa.Array, np.ndarray]:
    """Per customer code, every distinct value of a comma-separated field, best first, joined; and the
    row of the best one (-1: none)."""
    parts = pc.split_pattern(values, ",")
    flat = pc.list_flatten(parts)
    parent = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = np.flatnonzero(pc.not_equal(flat, "").to_numpy(zero_copy_only=False))
    flat, idx = flat.take(pa.array(keep)), parent[keep]
    cust = rows.cust[idx]
    pair = _pairs(cust, flat)
    order, starts = _sorted_first(cust, _rule_keys(rows, idx, flat, pair, rules))
    # each (customer, value) once, at its best row
    first_of_pair = np.zeros(len(order), dtype=bool)
    _, at = np.unique(pair[order], return_index=True)
    first_of_pair[at] = True
    kept = order[first_of_pair]
    top = _row_per_customer(rows.n_customers, cust[order[starts]], idx[order[starts]])
    return _join_per_customer(rows.n_customers, cust[kept], flat.take(pa.array(kept))), top


def _join_per_customer(n: int, cust: np.ndarray, values: pa.Array, sep: str = ",") -> pa.Array:
    """`values` joined with `sep` per customer code (rows of a code contiguous, in the order given);
    null for codes without any."""
    if not len(cust):
        return pa.nulls(n, pa.string())
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    offsets = pa.array(np.r_[starts, len(cust)].astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, values), sep)
    where = np.full(n, -1, dtype=np.int64)
    where[cust[starts]] = np.arange(len(starts))
    return _at(joined, where)


def _channels(rows: _Rows, channel: pa.Array) -> pa.Array:
    """Each customer's distinct channels, sorted, joined with ','."""
    valid = np.flatnonzero(channel.is_valid().to_numpy(zero_copy_only=False))
    code, names = _dense_rank(channel.take(pa.array(valid)), few=True)  # a few channels
    width = len(names) + 1
    key = rows.cust[valid] * width + code
    if rows.n_customers * width <= 64 * max(len(key), 1):  # distinct (customer, channel), sorted
        seen = np.zeros(rows.n_customers * width, dtype=bool)
        seen[key] = True
        key = np.flatnonzero(seen)
    else:
        key = np.unique(key)
    return _join_per_customer(rows.n_customers, key // width, names.take(pa.array(key % width)))


def _extreme_rows(rows: _Rows, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per customer code, the rows of its smallest and of its largest value (-1: none), missing values
    skipped."""
    idx = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
    code, distinct = _dense_rank(values.take(pa.array(idx)), few=True)
    order, starts = _sorted_first(rows.cust[idx], [(code, len(distinct) + 1)])
    ends = np.r_[starts[1:], len(order)][: len(starts)] - 1  # (none when no value at all)
    cust = rows.cust[idx[order[starts]]]
    return (_row_per_customer(rows.n_customers, cust, idx[order[starts]]),
            _row_per_customer(rows.n_customers, cust, idx[order[ends]]))


def _conflicts(rows: _Rows, records: pd.DataFrame) -> pa.Array:
    """Per customer code, the JSON of `conflicts` for customers whose trusted sources disagree."""
    trusted = rows.trust >= CONFLICT_MIN_TRUST
    suspects = np.zeros(rows.n_customers, dtype=bool)
    for field in CONFLICT_FIELDS:
        if field not in records.columns:
            continue
        values = text_array(records[field])
        idx = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False) & trusted)
        cust = rows.cust[idx]
        distinct = np.unique(_pairs(cust, values.take(pa.array(idx))), return_index=True)[1]
        suspects |= np.bincount(cust[distinct], minlength=rows.n_customers) > 1
        del values
        release_memory()
    out = np.full(rows.n_customers, None, dtype=object)
    if suspects.any():  # python only for the (few) customers in conflict
        mine = suspects[rows.cust]
        fields = [f for f in CONFLICT_FIELDS if f in records.columns]
        sub = records.loc[mine, ["customer_id", "record_id", *fields]]
        sub = sub.assign(_trust=rows.trust[mine])
        found = conflicts(sub)
        ids = pa.array(found.index.to_numpy(dtype=object), pa.string())
        code = pc.index_in(ids, value_set=rows.customer_ids)
        out[code.to_numpy(zero_copy_only=False).astype(np.int64)] = found.to_numpy(dtype=object)
    return pa.array(out, type=pa.string())


def conflicts(r: pd.DataFrame) -> pd.Series:
    """Customers whose trusted sources disagree on a field: JSON {field: {value: [record_ids]}}."""
    trusted = r[r["_trust"] >= CONFLICT_MIN_TRUST]
    found: dict[str, dict] = {}
    for field in CONFLICT_FIELDS:
        if field not in trusted.columns:
            continue
        sub = trusted.loc[trusted[field].notna(), ["customer_id", field, "record_id"]]
        n = sub.groupby("customer_id")[field].nunique()
        # only the (few) customers in conflict, grouped once rather than scanned once each
        sub = sub[sub["customer_id"].isin(n.index[n > 1])]
        for cid, rows in sub.groupby("customer_id", sort=True):
            found.setdefault(cid, {})[field] = rows.groupby(field)["record_id"].agg(list).to_dict()
    return pd.Series({cid: json.dumps(v, ensure_ascii=False) for cid, v in found.items()}, dtype=object)
