"""The store's match keys (match/keycache.py): a cache of the dearest blocking keys of every record.

A cached key must never change a customer: the keys stored are those keying every record at once
makes, a cached value is used only while its fingerprint holds, and erasing a person erases theirs."""
import dataclasses
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from records import normalized

import custinfo.match as match
import custinfo.match.engine as engine
import custinfo.match.keycache as keycache
from custinfo.ingest.pipeline import ingest
from custinfo.match import Matcher, load_settings
from custinfo.match.keycache import CACHED, MatchKeys, aligned, names_fingerprint, usable
from custinfo.merge.lookup import subject_data
from custinfo.store.erase import forget
from custinfo.store.store import Store
from custinfo.store.verify import verify_store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FILES = ["web_form.csv", "crm.xlsx", "call_center.csv"]


@pytest.fixture
def neighbourhood(monkeypatch):
    """Re-cluster only around each batch (the path of large stores), so that cached keys are read."""
    load = match.load_settings
    monkeypatch.setattr(match, "load_settings", lambda *a: dataclasses.replace(load(*a), resolve_all_up_to=0))


def _keyed_at_once(store: Store) -> tuple[pd.DataFrame, dict]:
    """The keys of every stored record made by matching them all as one new batch."""
    recs = store.frame("records")
    res = Matcher(load_settings()).resolve(recs, recs.iloc[:0].assign(customer_id=[]))
    return _sorted(res.keys.table.to_pandas()), res.keys.fingerprints


def _stored(store: Store) -> tuple[pd.DataFrame, dict]:
    return _sorted(store.frame("match_keys")), store.fingerprints("match_keys")


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """In record order, as python objects (pandas 3 gives Arrow's strings the `str` dtype)."""
    df = df.sort_values("record_id", ignore_index=True)[["record_id", *CACHED]].astype(object)
    return df.where(df.notna(), None)


def _check_equal(got: tuple[pd.DataFrame, dict], want: tuple[pd.DataFrame, dict]) -> None:
    pd.testing.assert_frame_equal(got[0], want[0])
    assert got[1] == want[1] and all(want[1].values())


def _partition(store: Store) -> set[frozenset]:
    mem = store.frame("membership")
    return {frozenset(g) for _, g in mem.groupby("customer_id")["record_id"]}


def test_the_stored_match_keys_are_those_keying_every_record_at_once_makes(
    tmp_path, neighbourhood, monkeypatch
):
    used = []
    real = engine.usable
    monkeypatch.setattr(engine, "usable", lambda *a: used.append(real(*a)) or used[-1])
    store = Store(tmp_path / "s")
    for f in FILES:
        ingest([SAMPLES / f], store=store)
    assert used and all(used), "the later ingests read no cached key"
    _check_equal(_stored(store), _keyed_at_once(store))
    _check_in_read_order(store)


def _check_in_read_order(store: Store) -> None:
    """The keys are stored in the order the records are read: found at their own rows, not looked up."""
    keys = store.arrow("match_keys", columns=["record_id"])["record_id"].combine_chunks()
    assert keys.equals(store.arrow("records", columns=["record_id"])["record_id"].combine_chunks())


def test_cached_keys_group_the_records_as_keying_them_again_does(tmp_path, neighbourhood, monkeypatch):
    cached = Store(tmp_path / "cached")
    for f in FILES[:2]:  # the second ingest takes the first one's keys from the store
        ingest([SAMPLES / f], store=cached)
    monkeypatch.setattr(keycache, "aligned", lambda *a: None)  # as if the store had no cache
    again = Store(tmp_path / "again")
    for f in FILES[:2]:
        ingest([SAMPLES / f], store=again)
    assert _partition(cached) == _partition(again)


def _tails(keys: pa.Table) -> dict:
    return dict(zip(keys["record_id"].to_pylist(), keys["address_tail"].to_pylist(), strict=True))


def test_a_batch_naming_a_city_no_stored_record_named_makes_every_address_tail_again():
    # the stored record's address starts with Sandy Bay, which no record names as its city: the tail
    # keeps it. A batch naming the city adds it to the admin names: the stored tail must lose it too.
    stored = normalized([{"record_id": "e1", "customer_id": "C1", "name": "Wei Zhang",
                      "mobile": "13800138000", "address": "Sandy Bay 28 Monaro Highway"},
                     {"record_id": "e2", "customer_id": "C2", "name": "Na Li", "city": "Hobart",
                      "address": "Hobart 3 Beach Road"}])
    m = Matcher(load_settings())
    first = m.resolve(stored.drop(columns="customer_id"), stored.iloc[:0])
    keys = MatchKeys(first.keys.table.select(list(CACHED)), **first.keys.fingerprints)
    tail = _tails(first.keys.table)
    assert tail == {"e1": "sandybay28monarohighway", "e2": "3beachroad"}
    new = normalized([{"record_id": "n1", "name": "Fang Wang", "city": "Sandy Bay",
                   "address": "Sandy Bay 1 Long Point"}])
    res = m.resolve(new, stored, keys=keys)
    assert res.keys.whole
    tail = _tails(res.keys.table)
    assert tail == {"e1": "28monarohighway", "e2": "3beachroad", "n1": "1longpoint"}
    again = m.resolve(new, stored)  # no cache: the same keys, the same groups
    assert res.keys.table.equals(again.keys.table)
    pd.testing.assert_frame_equal(res.clusters, again.clusters)
    # a batch naming no new place keeps every cached key and stores its own records' alone
    other = normalized([{"record_id": "n2", "name": "Fang Wang", "city": "Hobart",
                     "address": "Hobart 5 Beach Road"}])
    same = m.resolve(other, stored, keys=keys)
    assert not same.keys.whole and same.keys.table["record_id"].to_pylist() == ["n2"]


def test_keys_made_another_way_or_missing_a_record_are_not_used():
    ids = pa.array(["a", "b", "c"])
    values = {c: pa.array(["x", "y", "z"]) for c in CACHED}
    stored = pa.table({"record_id": pa.array(["c", "a", "b"]), **values})
    made = {"names_fp": names_fingerprint(), "tail_fp": "t"}
    got = aligned(stored, ids, made)
    assert got.values["name_letters"].to_pylist() == ["y", "z", "x"]  # in the order asked for
    assert usable(got, "^$") == ["name_letters", "name_initials"]  # the tail was made with another regex
    assert aligned(stored, pa.array(["a", "b", "d"]), made) is None  # a record without keys
    assert aligned(stored, ids, {}) is None  # a store that does not say how they were made
    assert usable(aligned(stored, ids, {"names_fp": "old", "tail_fp": "t"}), "^$") == []


def test_a_store_without_match_keys_gets_every_record_s_keys_at_its_next_ingest(
    tmp_path, neighbourhood, monkeypatch
):
    from custinfo.store.store import Transaction

    store = Store(tmp_path / "s")
    real = Transaction.put
    monkeypatch.setattr(Transaction, "put", lambda *a, **k: None)  # a store of the older layout
    ingest([SAMPLES / FILES[0]], store=store)
    assert "match_keys" not in store.manifest()["tables"]
    monkeypatch.setattr(Transaction, "put", real)
    ingest([SAMPLES / FILES[1]], store=store)
    _check_equal(_stored(store), _keyed_at_once(store))
    ingest([SAMPLES / FILES[2]], store=store)  # appended after a table written whole
    _check_in_read_order(store)


def test_forget_erases_the_match_keys_of_the_forgotten_records(tmp_path):
    store = Store(tmp_path / "s")
    ingest([SAMPLES / f for f in FILES[:2]], store=store)
    mem = store.frame("membership")
    who = mem["customer_id"].value_counts().index[0]  # a customer with the most records
    theirs = set(mem.loc[mem["customer_id"] == who, "record_id"])
    told = subject_data(store, who)["match_keys"]  # an access request shows them too
    assert {k["record_id"] for k in told} == theirs and all(k["name_letters"] for k in told)
    before, made = len(store.frame("match_keys")), store.fingerprints("match_keys")
    forget(store, who)
    keys = store.frame("match_keys")
    assert not theirs & set(keys["record_id"]) and len(keys) == before - len(theirs)
    assert store.fingerprints("match_keys") == made and made  # the rest still made as they were
    _check_in_read_order(store)
    assert verify_store(store)["problems"] == []


def test_verify_reports_match_keys_of_records_no_longer_stored(tmp_path):
    store = Store(tmp_path / "s")
    ingest([SAMPLES / FILES[0]], store=store)
    ghost = pa.table({"record_id": ["R999999-0000001"], **{c: ["x"] for c in CACHED}})
    with store.transaction("test") as txn:  # what an erasure that missed the table would leave
        txn.put("match_keys", ghost)
        txn.commit()
    problems = verify_store(store)["problems"]
    assert any("match_keys holds keys of 1 record(s) no longer stored" in p for p in problems)


def test_the_admin_name_regex_is_the_same_in_every_process():
    # it was joined in set order, which python's hash seed changes: every ingest process made other
    # text for the same names, so no stored address tail was ever taken as current
    import os
    import subprocess
    import sys

    code = ("import duckdb, pyarrow as pa; from custinfo.match.features import _admin_regex; "
            "c = duckdb.connect(); t = pa.table({'province': ['北京市', '上海市', '江苏省', '浙江省'], "
            "'city': ['北京', '上海', '南京市', '杭州市'], "
            "'district': ['朝阳区', '浦东新区', '玄武区', 'Sandy Bay']}); "
            "c.register('src', t); print(_admin_regex(c, 'src'))")
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(out) == 1


def test_the_store_table_holds_every_cached_key():
    from custinfo.store.tables import TABLES

    assert TABLES["match_keys"] == ["record_id", *CACHED]
