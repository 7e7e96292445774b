"""Match keys kept in the store: the dearest features of blocking, computed once per record.

Every ingest blocks the new records against all stored ones, so it keys every stored record again.
Three of those keys cost most of that: `name_letters` and `name_initials` (letters and initials of
the pinyin, sorted) and `address_tail` (the address key without its leading province / city /
district names). They depend on the record alone, and the tail on the admin names of all records.
The store keeps them (table `match_keys`, one row per record), and in its manifest two fingerprints:

- `names_fp`: of the SQL that makes the two name keys. Code that makes them otherwise reads none.
- `tail_fp`: of the SQL of the tail and of the admin-name regex it used. A batch that brings a
  province, city or district name no stored record had changes the regex, so every tail is made
  again (as keying everything at once would strip it).

Matching takes a cached value only where its fingerprint is current and every stored record has a
row; otherwise it computes the column for every record, and the ingest writes the table whole again.
The table is a cache: `forget` and `purge` remove its rows with the records (it holds derived
personal data), and a store without it (an older layout) gets it written whole by its next ingest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from .features import _PER_VALUE, _STAGE1

CACHED = ("name_letters", "name_initials", "address_tail")
NAMES = ("name_letters", "name_initials")


@dataclass(frozen=True)
class MatchKeys:
    """Cached keys of the existing records: `values` has the CACHED columns, one row per record, in
    the order of the existing records given to the matcher."""

    values: pa.Table
    names_fp: str
    tail_fp: str


@dataclass(frozen=True)
class KeysUpdate:
    """What an ingest writes to `match_keys`: the rows (record_id and CACHED) of its new records, or of
    every record when `whole` (some cached column could not be used), made as `fingerprints` say."""

    table: pa.Table
    whole: bool
    fingerprints: dict


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def names_fingerprint() -> str:
    return _digest(*(f"{c}:{_STAGE1[c][0]}:{_PER_VALUE.get(c, '')}" for c in NAMES))


def tail_fingerprint(regex: str) -> str:
    return _digest(_STAGE1["address_tail"][0], _PER_VALUE["address_tail"], regex)


def usable(keys: MatchKeys | None, regex: str) -> list[str]:
    """The CACHED columns whose stored values hold for this data (fingerprints current)."""
    if keys is None:
        return []
    names = list(NAMES) if keys.names_fp == names_fingerprint() else []
    tail = ["address_tail"] if keys.tail_fp == tail_fingerprint(regex) else []
    return names + tail


def aligned(stored: pa.Table, record_ids: pa.Array | pa.ChunkedArray, fingerprints: dict) -> MatchKeys | None:
    """The stored keys (table `match_keys`, made as `fingerprints` say) in the order of `record_ids`,
    or None when some record has no row (then nothing cached is used)."""
    if not stored.num_rows or len(record_ids) == 0 or not fingerprints:
        return None
    ids = stored["record_id"]
    if ids.equals(record_ids if isinstance(record_ids, pa.ChunkedArray) else pa.chunked_array([record_ids])):
        values = stored.select(list(CACHED))  # in the records' order, as ingests write them
    else:
        at = pc.index_in(record_ids, value_set=ids.combine_chunks())
        if at.null_count:
            return None
        values = stored.select(list(CACHED)).take(at)
    values = values.cast(pa.schema([pa.field(c, pa.string()) for c in CACHED]))  # as the matcher's columns
    made = (fingerprints.get("names_fp", ""), fingerprints.get("tail_fp", ""))
    return MatchKeys(values, *made)
