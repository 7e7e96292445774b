"""The stored records an ingest reads: the few columns matching reads, of every stored record, and
the other columns only for the records of the customers the batch touches (all that fold reads).

Matching a batch against a million stored records reads 19 of their 34 kept columns; reading all
34 for every record cost Parquet decoding and conversion of columns (names, companies, titles,
consents, ...) that only survivorship reads, for the few percent of records it folds.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreError
from ..merge.fold import text_in
from ..merge.survivorship import text_array
from ..store.store import Store, object_frame, text_frame
from ..store.tables import ARROW_TEXT, INT_COLUMNS, TABLES


@dataclass
class ForMatching:
    """What matching reads of the store: the stored records (`stored_records`) and their cached match
    keys in the same order (None when the cache does not cover them all: see match/keycache.py)."""

    records: pd.DataFrame
    keys: object | None = None  # match.keycache.MatchKeys


def for_matching(store: Store, manifest: dict, columns: list[str]) -> ForMatching:
    from ..match.keycache import aligned  # the matching engine's package: imported late, it is heavy

    recs = _stored_table(store, manifest, columns)
    made = store.fingerprints("match_keys", manifest)  # none: a store of the older layout
    keys = aligned(store.arrow("match_keys", manifest=manifest), recs["record_id"], made) if made else None
    return ForMatching(text_frame(recs), keys)


def stored_records(store: Store, manifest: dict, columns: list[str]) -> pd.DataFrame:
    """The stored records that have a customer, in `columns` plus `customer_id` (last), in the
    table's order. Text stays in Arrow-backed columns (a million records as python strings took GBs
    and seconds)."""
    return text_frame(_stored_table(store, manifest, columns))


def _stored_table(store: Store, manifest: dict, columns: list[str]) -> pa.Table:
    cols = [c for c in dict.fromkeys(["record_id", *columns]) if c in TABLES["records"]]
    recs = store.arrow("records", manifest=manifest, columns=cols)
    members = store.arrow("membership", manifest=manifest, sort=False)
    pos = pc.index_in(recs["record_id"], value_set=members["record_id"])
    recs = recs.append_column("customer_id", members["customer_id"].take(pos))
    if pos.null_count:  # a filter copies every column even when it keeps every row (0.45 s at 1M)
        recs = recs.filter(pc.is_valid(pos))
    return recs


def touched_records(store: Store, manifest: dict, matched: pd.DataFrame, customers: set,
                    columns: list[str]) -> pd.DataFrame:
    """The records of `customers` in `columns` plus `customer_id` (last), as python objects (the form
    fold and survivorship expect), in the table's order. `matched` (from `stored_records`) gives
    the rows and the columns it holds; the other columns are read for these records alone."""
    known = set(matched.columns) | set(TABLES["records"])
    order = [c for c in dict.fromkeys([*columns, "customer_id"]) if c in known]
    rest = [c for c in order if c not in matched.columns]
    keep = _of_customers(matched, customers)[1]
    if not pc.sum(keep).as_py():
        # empty, Arrow-backed: an empty object-typed frame would turn every Arrow-backed column of
        # the batch into python objects where the two are concatenated
        empty = {c: pd.Series([], dtype="Int64" if c in INT_COLUMNS else ARROW_TEXT) for c in rest}
        return matched.iloc[:0].assign(**empty)[order].reset_index(drop=True)
    # filtered in Arrow: pandas' filter of the million Arrow-backed rows took twice as long (0.16 CPU s)
    tbl = pa.Table.from_pandas(matched, preserve_index=False).filter(keep)
    if rest:
        ids = tbl["record_id"].combine_chunks().cast(pa.string())
        more = store.arrow("records", manifest=manifest, columns=["record_id", *rest],
                           where=("record_id", ids))
        at = pc.index_in(ids, value_set=more["record_id"].combine_chunks().cast(pa.string()))
        if at.null_count:  # every record of membership is in records (both change only together)
            raise StoreError("records of the customers this batch touches are missing from the records table",
                             file=str(store.path),
                             hint="run `custinfo verify`; restore the store from a backup")
        for c in rest:
            tbl = tbl.append_column(c, more[c].take(at))
    return object_frame(tbl.select(order))


def customer_sizes(matched: pd.DataFrame, customers: set) -> pd.Series:
    """How many stored records each of `customers` has (customer id -> count), counted in Arrow on
    `matched` (from `stored_records`: every stored record with a customer)."""
    if not customers:
        return pd.Series([], dtype="int64")
    cust, mine = _of_customers(matched, customers)
    counts = pc.value_counts(cust.filter(mine))
    return pd.Series(counts.field("counts").to_numpy(zero_copy_only=False),
                     index=counts.field("values").to_numpy(zero_copy_only=False))


def _of_customers(matched: pd.DataFrame, customers: set) -> tuple[pa.Array, pa.Array]:
    """The customer id of every record of `matched` (Arrow text) and whether it is one of `customers`.
    In Arrow: pandas' isin of a million Arrow strings made python objects of them (0.4-0.6 CPU s)."""
    cust = text_array(matched["customer_id"])
    return cust, text_in(cust, customers)
