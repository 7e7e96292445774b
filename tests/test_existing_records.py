"""Ingest reads the stored records in two steps: the columns matching reads, of every record, and
the other columns only for the records of the customers the batch touches. The customers, golden
records, membership and history must be exactly those of reading every column of every record."""
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import custinfo.ingest.pipeline as pipeline
import custinfo.match as match
import custinfo.merge.assign as assign_mod
from custinfo.ingest.pipeline import ingest
from custinfo.store.store import Store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FIRST = ["web_form.csv", "crm.xlsx"]
THEN = ["call_center.csv", "trade_show.xlsx", "purchased_list.csv"]
VOLATILE = ["updated_at", "changed_at", "first_seen", "last_seen", "at", "_v"]
KEYS = {"customers": ["customer_id"], "membership": ["record_id"], "redirects": ["old_id"],
        "history": ["customer_id", "field", "reason", "record_id"]}


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    s = Store(store)
    out = {}
    for name, key in KEYS.items():
        df = s.frame(name)
        df = df.drop(columns=[c for c in VOLATILE if c in df.columns])
        out[name] = df.sort_values(key + list(df.columns.difference(key)), kind="stable").reset_index(drop=True)
    return out


def _ingest_twice(store: Path) -> dict[str, pd.DataFrame]:
    ingest([SAMPLES / f for f in FIRST], store=store)
    ingest([SAMPLES / f for f in THEN], store=store)
    return _tables(store)


@pytest.mark.parametrize("whole_store", [True, False], ids=["whole store", "neighbourhood"])
def test_matching_on_a_few_columns_of_the_stored_records_folds_the_same_customers(
    tmp_path, monkeypatch, whole_store
):
    if not whole_store:  # re-cluster only around the batch: fold then reads some customers' records
        load = match.load_settings
        monkeypatch.setattr(match, "load_settings", lambda *a: dataclasses.replace(load(*a), resolve_all_up_to=0))
    seen, real_assign = [], pipeline._existing_records

    def spy(*a, **kw):
        seen.append(real_assign(*a, **kw))
        return seen[-1]

    monkeypatch.setattr(pipeline, "_existing_records", spy)
    reduced = _ingest_twice(tmp_path / "reduced")
    stored = set(seen[-1].records.columns)
    assert "record_id" in stored and "customer_id" in stored and len(seen[-1].records) > 100
    assert not {"name", "company", "title", "channel", "source_row"} & stored  # fold's columns: not read for all

    # every column of every stored record, as before
    monkeypatch.setattr(assign_mod, "matching_columns", pipeline._stored_columns)
    full = _ingest_twice(tmp_path / "full")
    assert {"name", "company", "title"} <= set(seen[-1].records.columns)
    for name in KEYS:
        pd.testing.assert_frame_equal(reduced[name], full[name])
    assert len(full["customers"]) > 100 and len(full["history"])


def test_touched_rows_picked_with_duckdb_fold_the_same_customers(tmp_path, monkeypatch):
    # the touched customers' rows and their records' other columns, read with DuckDB (a few rows of a
    # large table) or filtered from the whole table in pyarrow: the same store after two ingests
    from custinfo.store import store as store_mod
    load = match.load_settings  # re-cluster only around the batch, so a part of the store is read
    monkeypatch.setattr(match, "load_settings", lambda *a: dataclasses.replace(load(*a), resolve_all_up_to=0))
    picked, real = [], store_mod._picked_rows
    monkeypatch.setattr(store_mod, "_picked_rows", lambda *a: picked.append(real(*a)) or picked[-1])
    monkeypatch.setattr(store_mod, "PICK_SHARE", 1.0)
    duck = _ingest_twice(tmp_path / "duck")
    assert {t.num_rows for t, _ in filter(None, picked)} - {0}  # DuckDB read rows, and not only none
    monkeypatch.setattr(store_mod, "PICK_SHARE", -1.0)
    whole = _ingest_twice(tmp_path / "whole")
    for name in KEYS:
        pd.testing.assert_frame_equal(duck[name], whole[name])


def test_a_stored_record_without_a_customer_is_not_matched_against(tmp_path, monkeypatch):
    """stored_records skips its row filter when every record has a customer: one without must
    still be left out (not matched with a missing customer_id)."""
    from custinfo.ingest.existing import stored_records

    ingest([SAMPLES / "web_form.csv"], store=tmp_path)
    store = Store(tmp_path)
    full = stored_records(store, store.manifest(), ["name"])
    real = Store.arrow

    def fewer_members(self, name, **kw):
        tbl = real(self, name, **kw)
        return tbl.slice(1) if name == "membership" else tbl

    monkeypatch.setattr(Store, "arrow", fewer_members)
    got = stored_records(store, store.manifest(), ["name"])
    assert len(got) == len(full) - 1
    assert got["customer_id"].notna().all()
