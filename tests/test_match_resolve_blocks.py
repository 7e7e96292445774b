"""Pieces of `Matcher.resolve` made faster must give what the plain forms give: the blocks of every
record (`block_keys` + `pairs_within`) against blocking in incremental mode, and the canonical record
order against a sort of (source file, record id) in python."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from custinfo.match import load_settings
from custinfo.match.blocking import BlockingOptions, block, block_keys, pairs_within
from custinfo.match.engine import Matcher
from custinfo.match.incremental import build_keys, canonical_ranks, index_difference
from custinfo.store.tables import ARROW_TEXT


def crowded_records(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """Few names, phones, birth dates and cities: blocks over the caps, refined in one, two or three
    steps, some still too big after all of them (windowed)."""
    rng = np.random.default_rng(seed)
    names = ["王伟", "李娜", "张敏", "刘洋"]
    pinyin = {"王伟": "wang wei", "李娜": "li na", "张敏": "zhang min", "刘洋": "liu yang"}
    rows = []
    for i in range(n):
        name = names[rng.integers(len(names))]
        rows.append({
            "record_id": f"r{i:04d}",
            "name": name, "name_key": name, "name_pinyin": pinyin[name],
            "phone": f"+8621588812{rng.integers(3):02d}", "phones": None,
            "birth_date": f"1980-01-{rng.integers(1, 4):02d}",
            "city": ["上海", "北京", None][rng.integers(3)],
            "postcode": [None, "200000"][rng.integers(2)],
            "address_key": f"上海市浦东新区{rng.integers(4)}号",
        })
    df = pd.DataFrame(rows)
    df["phones"] = df["phone"]
    return df


def _pairs(con, table: str) -> set[tuple[int, int, int]]:
    return set(con.execute(f"SELECT l, r, rules FROM {table}").fetchall())


@pytest.mark.parametrize("seed_share", [0.05, 0.3, 1.0])
def test_pairs_of_the_kept_blocks_are_those_of_blocking_with_the_seed_as_new(seed_share):
    """block_keys refines only the records of blocks over the cap (in a table of their own): the pairs
    it gives any seed set must stay those of blocking every record with the seed marked new."""
    s = dataclasses.replace(load_settings(), max_block_size=20, window=4)
    df = crowded_records()
    m = Matcher(s)
    con = m._connect()
    n = len(df)
    m._register(con, [(df, False, np.full(n, -1, dtype=np.int32))], sorted({
        "name", "name_key", "name_pinyin", "phone", "phones", "birth_date", "city", "postcode",
        "address_key", "province", "district", "email", "emails", "company_key", "national_id", "other_id",
    }))
    build_keys(con, s)
    seed = np.sort(np.random.default_rng(1).choice(n, size=max(1, int(n * seed_share)), replace=False))
    con.register("seed_arrow", pa.table({"idx": seed.astype(np.int32)}))
    con.execute("CREATE TEMP TABLE seed_idx AS SELECT idx FROM seed_arrow")
    con.execute("CREATE VIEW recs AS SELECT * FROM recs_keys")
    block_keys(con, s, s.window)
    plan_kept = pairs_within(con, s, "seed_idx")
    con.execute("ALTER TABLE pairs RENAME TO pairs_kept")
    con.execute("DROP VIEW recs")
    con.execute("""CREATE VIEW recs AS SELECT * REPLACE (idx IN (SELECT idx FROM seed_idx) AS is_new)
        FROM recs_keys""")
    plan_all = block(con, s, BlockingOptions("incremental", s.max_block_size, s.window))
    assert sum(p["refined_blocks"] for p in plan_all) > 0 and any(p["capped_blocks"] for p in plan_all)
    assert _pairs(con, "pairs_kept") == _pairs(con, "pairs")
    for a, b in zip(plan_kept, plan_all, strict=True):
        assert a["refined_blocks"] == b["refined_blocks"] and a["pairs"] == b["pairs"]
    con.close()


def _chunked_text(values: list, pieces: int) -> pd.Series:
    """Arrow-backed text split into several chunks, as a frame read from Parquet holds it."""
    cuts = np.array_split(np.arange(len(values)), pieces)
    arr = pa.chunked_array([pa.array([values[i] for i in c], pa.string()) for c in cuts], pa.string())
    return pd.Series(pd.arrays.ArrowStringArray(arr)).astype(ARROW_TEXT)


def test_canonical_ranks_order_by_file_then_id_whatever_the_chunks_and_frames():
    """The ranks come from a dictionary of the files and a sort of the ids (chunked Arrow text was
    converted value by value before): the order must stay python's sort of (file, id)."""
    rng = np.random.default_rng(7)
    ids = [f"R{rng.integers(3):06d}-{i:07d}" for i in range(500)] + ["é", "Z", "a", "张", "10", "9"]
    files = [rng.choice(["crm.csv", "web.xlsx", "Ä.csv", ""]) for _ in ids]
    files[3] = None  # a record without a source file sorts with ""
    new = pd.DataFrame({"record_id": ids[:120], "source_file": files[:120]})
    old = pd.DataFrame(
        {"record_id": _chunked_text(ids[120:], 5), "source_file": _chunked_text(files[120:], 3)}
    )
    ranks = np.concatenate(canonical_ranks([new, old]))
    key = [(f or "", r) for f, r in zip(files, ids, strict=True)]
    expect = np.empty(len(key), dtype=np.int64)
    expect[sorted(range(len(key)), key=key.__getitem__)] = np.arange(len(key))
    assert np.array_equal(ranks, expect)
    only_ids = canonical_ranks([pd.DataFrame({"record_id": ids})])[0]
    assert np.array_equal(only_ids, np.argsort(np.argsort(np.array(ids, dtype=object), kind="stable")))


def test_index_difference_is_setdiff1d_of_sorted_distinct_indexes():
    # the mask replaced np.setdiff1d, which sorted a million indexes twice on a first ingest
    rng = np.random.default_rng(7)
    for n in (0, 1, 10, 1000):
        a = np.unique(rng.integers(0, max(n, 1), size=n // 2)) if n else np.empty(0, dtype=np.int64)
        b = np.unique(rng.integers(0, max(n, 1), size=n // 3)) if n else np.empty(0, dtype=np.int64)
        assert index_difference(n, a, b).tolist() == np.setdiff1d(a, b).tolist()
    everything = np.arange(50)
    assert len(index_difference(50, everything, everything)) == 0


def test_a_neighbourhood_strips_from_its_address_tails_the_city_only_other_records_name():
    """Resolve featurizes a neighbourhood of the records it keyed: its address tails must be those of
    featurizing every record at once, where the admin names come from all of them (a city written
    only by a record outside the neighbourhood was left at the head of the tail)."""
    from custinfo.match.compare import tf_columns
    from custinfo.match.features import needed_columns
    from custinfo.match.incremental import build_features

    s = load_settings()
    rows = [
        {"record_id": "a", "name_key": "王伟", "name_pinyin": "wang wei", "city": None,
         "address_key": "sandybay28monarohighway"},
        {"record_id": "b", "name_key": "李娜", "name_pinyin": "li na", "city": "Sandy Bay",
         "address_key": "sandybay3beachroad"},
        {"record_id": "c", "name_key": "张敏", "name_pinyin": "zhang min", "city": "Hobart",
         "address_key": "hobart9elizabethstreet"},
    ]
    df = pd.DataFrame(rows)
    tails = {}
    for keep in ([0, 1, 2], [0]):
        m = Matcher(s)
        con = m._connect()
        m._register(con, [(df, False, np.full(len(df), -1, dtype=np.int32))],
                    needed_columns(s.columns | tf_columns(s))[0])
        build_keys(con, s)
        build_features(con, s, np.array(keep))
        tails[len(keep)] = dict(con.sql("SELECT idx, address_tail FROM recs_feat").fetchall())
        con.close()
    assert tails[3][0] == "28monarohighway"
    assert tails[1][0] == tails[3][0]


def test_featurizing_every_record_counts_the_same_statistics_as_counting_them_on_the_keys():
    """A first ingest featurizes every record and counts names per phone/email/address and term
    frequencies on those records themselves; they must be what counting them on every record's keys
    (as a neighbourhood does) gives."""
    from custinfo.match.compare import tf_columns
    from custinfo.match.features import build_records, needed_columns
    from custinfo.match.incremental import build_features

    s = load_settings()
    df = crowded_records()
    df.loc[::2, ["phone", "phones"]] = [[f"+86139{i:08d}"] * 2 for i in range(0, len(df), 2)]  # private
    n = len(df)
    built = {}
    for way in ("every", "keys"):
        m = Matcher(s)
        con = m._connect()
        m._register(con, [(df, False, np.full(n, -1, dtype=np.int32))],
                    needed_columns(s.columns | tf_columns(s))[0])
        build_keys(con, s)
        if way == "every":
            build_features(con, s, np.arange(n))
            table = "recs_feat"
        else:
            build_records(con, "src", s.columns, tf_columns(s), mobile_pattern=s.mobile_pattern,
                          shared_min_names=s.shared_min_names, tf_source="src", stats_source="recs_keys")
            table = "recs"
        frame = con.sql(f"SELECT * FROM {table} ORDER BY idx").fetchdf()
        built[way] = frame.map(lambda v: sorted(v) if isinstance(v, (list, np.ndarray)) else v)
        con.close()
    every = built["every"]
    assert every["phones_private"].isna().any() and every["phones_private"].notna().any()
    assert (every["address_key_names"] > 1).any()
    pd.testing.assert_frame_equal(built["every"], built["keys"])
