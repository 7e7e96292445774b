"""Ingest reads the stored records in a thread while it prepares the files. Those records are of the
store as it was when the read started: if another writer commits meanwhile, they must not be used."""
from pathlib import Path

import pandas as pd

import custinfo.ingest.pipeline as pipeline
import custinfo.ingest.prefetch as prefetch
from custinfo.ingest.pipeline import ingest
from custinfo.ingest.prefetch import StoredRecords
from custinfo.store.store import Store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
VOLATILE = ["updated_at", "changed_at", "first_seen", "last_seen", "at", "_v", "ingested_at"]


def _membership(store: Path) -> pd.DataFrame:
    s = Store(store)
    recs = s.frame("records", columns=["record_id", "source_file", "source_row"])
    df = recs.merge(s.frame("membership")[["record_id", "customer_id"]], on="record_id")
    return df.drop(columns="record_id").sort_values(["source_file", "source_row"]).reset_index(drop=True)


def test_records_read_ahead_are_those_read_at_the_transaction(tmp_path):
    store = Store(tmp_path / "s")
    ingest([SAMPLES / "web_form.csv"], store=store)
    base = store.manifest()
    ahead = StoredRecords(store, pipeline._read_for_matching, min_records=1)
    got = ahead.result(base)
    assert got is not None and len(got.records) > 50
    again = pipeline._read_for_matching(store, base)
    pd.testing.assert_frame_equal(got.records, again.records)
    assert got.keys is not None and got.keys.values.equals(again.keys.values)


def test_read_ahead_is_not_used_after_another_commit(tmp_path):
    store = Store(tmp_path / "s")
    ingest([SAMPLES / "web_form.csv"], store=store)
    ahead = StoredRecords(store, pipeline._read_for_matching, min_records=1)
    ingest([SAMPLES / "crm.xlsx"], store=store)
    assert ahead.result(store.manifest()) is None


def test_nothing_is_read_ahead_of_an_empty_store(tmp_path):
    calls = []
    ahead = StoredRecords(Store(tmp_path / "none"), lambda s, m: calls.append(m), min_records=0)
    assert ahead.result(Store(tmp_path / "none").manifest()) is None and not calls


def test_a_small_store_is_not_read_ahead(tmp_path):
    """A few thousand records are read in milliseconds: no thread (an error exit would wait for it)."""
    store = Store(tmp_path / "s")
    ingest([SAMPLES / "web_form.csv"], store=store)
    calls = []
    ahead = StoredRecords(store, lambda s, m: calls.append(m))
    assert ahead.result(store.manifest()) is None and not calls
    assert StoredRecords(store, lambda s, m: "read", min_records=100).result(store.manifest()) == "read"


def test_an_ingest_failing_on_its_files_waits_for_the_read_ahead(tmp_path, monkeypatch):
    """No thread may be left reading the store while the process ends with the file's error."""
    import threading
    import time

    from custinfo.errors import InputError

    ingest([SAMPLES / "web_form.csv"], store=tmp_path / "s")
    monkeypatch.setattr(prefetch, "READ_AHEAD_MIN_RECORDS", 1)
    done = threading.Event()
    real = pipeline._read_for_matching

    def slow_read(store, manifest):
        time.sleep(0.5)
        out = real(store, manifest)
        done.set()
        return out

    monkeypatch.setattr(pipeline, "_read_for_matching", slow_read)
    bad = Path(__file__).resolve().parent / "data" / "fake_xls_is_html.xls"
    try:
        ingest([bad], store=tmp_path / "s")
    except InputError:
        pass
    assert done.is_set()


def test_a_commit_while_the_files_are_prepared_makes_ingest_read_the_store_again(tmp_path, monkeypatch):
    """Another writer's batch lands between the read-ahead and this ingest's transaction: the customers
    must be those of ingesting the three batches one after another (its records are matched too)."""
    first, other, mine = SAMPLES / "web_form.csv", SAMPLES / "crm.xlsx", SAMPLES / "call_center.csv"
    ingest([first], store=tmp_path / "seq")
    ingest([other], store=tmp_path / "seq")
    ingest([mine], store=tmp_path / "seq")

    ingest([first], store=tmp_path / "race")
    monkeypatch.setattr(prefetch, "READ_AHEAD_MIN_RECORDS", 1)  # the samples are a small store
    real = pipeline._prepare_all

    def prepare_while_another_writer_commits(*a, **kw):
        monkeypatch.setattr(pipeline, "_prepare_all", real)
        ingest([other], store=tmp_path / "race")
        return real(*a, **kw)

    monkeypatch.setattr(pipeline, "_prepare_all", prepare_while_another_writer_commits)
    ingest([mine], store=tmp_path / "race")
    pd.testing.assert_frame_equal(_membership(tmp_path / "race"), _membership(tmp_path / "seq"))
