"""The store: one command is one commit; a half-written command is invisible and rolled back."""
import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pyarrow as pa
import pytest

from custinfo.errors import StoreBusyError
from custinfo.store.lock import StoreLock
from custinfo.store.store import Store


def _batch(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"batch_id": [tag] * n, "file": [f"{tag}.csv"] * n, "file_sha256": [f"{tag}{i}" for i in range(n)],
                         "records": list(range(n))})


def test_commit_publishes_all_tables_at_once(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.append("batches", _batch(2, "a"))
        txn.overwrite("membership", pd.DataFrame({"record_id": ["r1"], "customer_id": ["c1"]}))
        m = txn.commit()
    assert m["version"] == 1
    assert len(s.frame("batches")) == 2
    assert list(s.frame("membership")["customer_id"]) == ["c1"]


def test_uncommitted_table_writes_are_invisible_and_rolled_back(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.append("batches", _batch(1, "a"))
        txn.commit()
    # A writer that dies after writing a table version but before the manifest:
    from deltalake import write_deltalake
    from custinfo.store.store import arrow_table
    write_deltalake(str(s.path / "batches"), arrow_table("batches", _batch(5, "crash")), mode="append")
    write_deltalake(str(s.path / "history"), arrow_table("history", pd.DataFrame({"customer_id": ["x"]})),
                    mode="overwrite")
    assert len(s.frame("batches")) == 1  # readers see the pinned version only
    with s.transaction("t2") as txn:  # the next writer rolls back first
        txn.append("batches", _batch(1, "b"))
        txn.commit()
    assert sorted(s.frame("batches")["batch_id"]) == ["a", "b"]
    assert len(s.frame("history")) == 0


def test_second_writer_gets_store_busy_with_pid(tmp_path):
    (tmp_path / "st").mkdir()
    with StoreLock(tmp_path / "st"):
        with pytest.raises(StoreBusyError) as exc:
            StoreLock(tmp_path / "st").acquire()
    assert f"pid {os.getpid()}" in exc.value.one_line()


def test_lock_of_killed_process_does_not_block(tmp_path):
    store = tmp_path / "st"
    store.mkdir()
    code = textwrap.dedent(f"""
        import time, sys
        from custinfo.store.lock import StoreLock
        StoreLock({str(store)!r}).acquire()
        print("locked", flush=True)
        time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    with pytest.raises(StoreBusyError):
        StoreLock(store).acquire()
    p.send_signal(signal.SIGKILL)
    p.wait()
    with StoreLock(store):
        pass


def test_as_of_reads_the_store_as_it_was(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.append("batches", _batch(1, "a"))
        first = txn.commit()
    with s.transaction("t") as txn:
        txn.append("batches", _batch(1, "b"))
        txn.commit()
    old = s.manifest(first["committed_at"])
    assert list(s.frame("batches", manifest=old)["batch_id"]) == ["a"]


def test_store_files_are_owner_only(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.append("batches", _batch(1, "a"))
        txn.commit()
    for root, dirs, files in os.walk(s.path):
        for d in dirs:
            assert os.stat(os.path.join(root, d)).st_mode & 0o077 == 0, d
        for f in files:
            assert os.stat(os.path.join(root, f)).st_mode & 0o077 == 0, f


def test_upsert_replaces_rows_with_the_same_key_and_keeps_the_others(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.upsert("membership", pd.DataFrame({"record_id": ["r3", "r1", "r2"], "customer_id": ["c3", "c1", "c2"]}),
                   key="record_id")
        txn.commit()
    with s.transaction("t2") as txn:  # r2 moves to c1, r4 is new; r1 and r3 are not named and must stay
        txn.upsert("membership", pd.DataFrame({"record_id": ["r4", "r2"], "customer_id": ["c4", "c1"]}),
                   key="record_id")
        txn.commit()
    got = s.frame("membership")
    assert list(got["record_id"]) == ["r1", "r2", "r3", "r4"]  # sorted by the key
    assert list(got["customer_id"]) == ["c1", "c1", "c3", "c4"]


def test_upsert_of_a_killed_writer_is_rolled_back(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.upsert("customers", pd.DataFrame({"customer_id": ["c1", "c2"], "name": ["a", "b"]}), key="customer_id")
        txn.commit()
    from deltalake import write_deltalake
    from custinfo.store.store import arrow_table
    # the table written, the manifest not: as if killed between the two (a whole write and a log append)
    write_deltalake(str(s.path / "customers"), arrow_table("customers", pd.DataFrame({"customer_id": ["c1"]})),
                    mode="overwrite", schema_mode="overwrite")
    crash = arrow_table("customers", pd.DataFrame({"customer_id": ["c2"], "name": ["x"]}))
    write_deltalake(str(s.path / "customers"), crash.append_column("_v", pa.array([9], pa.int64())),
                    mode="append", schema_mode="merge")
    with s.transaction("t2") as txn:
        txn.upsert("customers", pd.DataFrame({"customer_id": ["c3"], "name": ["c"]}), key="customer_id")
        txn.commit()
    assert list(s.frame("customers")["name"]) == ["a", "b", "c"]


def test_rows_reads_only_the_rows_with_the_given_keys(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.upsert("membership", pd.DataFrame({"record_id": ["r1", "r2", "r3"], "customer_id": ["c1", "c2", "c1"]}),
                   key="record_id")
        txn.commit()
    got = s.rows("membership", "customer_id", {"c1", "c9"})
    assert sorted(got["record_id"]) == ["r1", "r3"]
    assert len(s.rows("membership", "customer_id", set())) == 0


def test_rows_in_a_transaction_see_the_base_version_and_upsert_keeps_unread_rows(tmp_path):
    s = Store(tmp_path / "st")
    with s.transaction("t") as txn:
        txn.upsert("customers", pd.DataFrame({"customer_id": ["c1", "c2"], "name": ["a", "b"]}), key="customer_id")
        txn.commit()
    with s.transaction("t2") as txn:
        got = txn.rows("customers", "customer_id", {"c2"})
        assert list(got["name"]) == ["b"]
        txn.upsert("customers", got.assign(name="B"), key="customer_id")
        txn.commit()
    assert list(s.frame("customers")["name"]) == ["a", "B"]


def _raw_rows(s: Store, name: str) -> int:
    """Rows in the table's newest Delta version, superseded ones included."""
    from deltalake import DeltaTable
    return DeltaTable(str(s.path / name)).to_pyarrow_table().num_rows


def _upsert(s: Store, rows: dict, name: str = "membership", key: str = "record_id") -> dict:
    with s.transaction("t") as txn:
        txn.upsert(name, pd.DataFrame(rows), key=key)
        return txn.commit()


def test_upsert_of_a_log_table_appends_only_the_changed_rows_instead_of_rewriting_it(tmp_path):
    s = Store(tmp_path / "st")
    _upsert(s, {"record_id": [f"r{i}" for i in range(10)], "customer_id": ["c0"] * 10})
    _upsert(s, {"record_id": ["r3", "r10"], "customer_id": ["c1", "c1"]})
    assert _raw_rows(s, "membership") == 12  # the 10 rows written first are not rewritten
    got = s.frame("membership")
    assert list(got["record_id"]) == sorted(f"r{i}" for i in range(11))
    assert got.set_index("record_id")["customer_id"].to_dict() == {**{f"r{i}": "c0" for i in range(10)},
                                                                   "r3": "c1", "r10": "c1"}
    assert list(s.rows("membership", "customer_id", {"c0"})["record_id"]) == sorted(
        f"r{i}" for i in range(10) if i != 3)  # the superseded row of r3 is not read as c0's
    _upsert(s, {"record_id": ["r3"], "customer_id": ["c2"]})  # appended again: the newest version wins
    assert s.frame("membership").set_index("record_id")["customer_id"]["r3"] == "c2"
    assert list(s.rows("membership", "customer_id", {"c1"})["record_id"]) == ["r10"]


def test_log_table_is_written_whole_once_superseded_rows_pile_up(tmp_path):
    s = Store(tmp_path / "st")
    _upsert(s, {"record_id": ["r1", "r2", "r3", "r4"], "customer_id": ["c1"] * 4})
    _upsert(s, {"record_id": ["r1"], "customer_id": ["c2"]})
    _upsert(s, {"record_id": ["r2"], "customer_id": ["c2"]})
    assert _raw_rows(s, "membership") == 6
    _upsert(s, {"record_id": ["r3"], "customer_id": ["c2"]})  # 3 appended rows > half of 4: compacted
    assert _raw_rows(s, "membership") == 4
    assert list(s.frame("membership")["customer_id"]) == ["c2", "c2", "c2", "c1"]
    _upsert(s, {"record_id": ["r4"], "customer_id": ["c3"]})  # a new log starts after the whole write
    assert _raw_rows(s, "membership") == 5


def test_as_of_reads_a_log_table_as_it_was(tmp_path):
    s = Store(tmp_path / "st")
    first = _upsert(s, {"customer_id": ["c1", "c2", "c3"], "name": ["a", "b", "c"]}, "customers", "customer_id")
    _upsert(s, {"customer_id": ["c2"], "name": ["B"]}, "customers", "customer_id")
    assert list(s.frame("customers")["name"]) == ["a", "B", "c"]
    assert list(s.frame("customers", manifest=s.manifest(first["committed_at"]))["name"]) == ["a", "b", "c"]


def test_store_of_the_older_layout_is_read_and_its_first_upsert_rewrites_it_with_versions(tmp_path, monkeypatch):
    from custinfo.store import store as store_mod
    s = Store(tmp_path / "st")
    with monkeypatch.context() as m:  # the code before log tables: every upsert rewrote the table
        m.setattr(store_mod, "LOG_TABLES", {})
        _upsert(s, {"record_id": ["r2", "r1"], "customer_id": ["c1", "c1"]})
        _upsert(s, {"record_id": ["r1"], "customer_id": ["c2"]})
    from deltalake import DeltaTable
    assert "_v" not in {f.name for f in DeltaTable(str(s.path / "membership")).schema().fields}
    assert list(s.frame("membership")["customer_id"]) == ["c2", "c1"]
    _upsert(s, {"record_id": ["r3"], "customer_id": ["c3"]})
    assert _raw_rows(s, "membership") == 3 and "logs" in s.manifest()
    _upsert(s, {"record_id": ["r2"], "customer_id": ["c3"]})  # from now on an append
    assert _raw_rows(s, "membership") == 4
    assert s.frame("membership").set_index("record_id")["customer_id"].to_dict() == {"r1": "c2", "r2": "c3",
                                                                                     "r3": "c3"}


def test_a_command_that_fails_rolls_back_the_tables_it_wrote(tmp_path):
    s = Store(tmp_path / "st")
    _upsert(s, {"record_id": ["r1"], "customer_id": ["c1"]})
    with pytest.raises(RuntimeError), s.transaction("t") as txn:
        txn.append("batches", _batch(1, "a"))
        txn.upsert("membership", pd.DataFrame({"record_id": ["r1"], "customer_id": ["c9"]}), key="record_id")
        raise RuntimeError("the matcher failed")
    assert _raw_rows(s, "membership") == 1 and not (s.path / "batches").exists()
    assert list(s.frame("membership")["customer_id"]) == ["c1"]


def test_rows_picked_with_duckdb_equal_the_rows_pyarrow_filters(tmp_path, monkeypatch):
    # a read of a few rows (`where`) scans the table with DuckDB: the same rows, columns, types and
    # order as filtering the whole table in pyarrow, through appended versions in several files
    from custinfo.store import store as store_mod
    s = Store(tmp_path / "st")
    first = _upsert(s, {"customer_id": [f"c{i:02d}" for i in range(40)], "name": [f"n{i}" for i in range(40)],
                        "n_records": list(range(40))}, "customers", "customer_id")
    _upsert(s, {"customer_id": ["c03", "c07", "c40"], "name": ["N3", None, "n40"], "n_records": [None, 7, 1]},
            "customers", "customer_id")
    _upsert(s, {"customer_id": ["c03", "c40"], "name": ["NN3", "N40"]}, "customers", "customer_id")
    for part in range(3):
        with s.transaction("t") as txn:
            txn.append("records", pd.DataFrame({"record_id": [f"r{part}{i}" for i in range(9, -1, -1)],
                                                "name": [None if i % 3 else f"x{i}" for i in range(10)],
                                                "source_row": [i if i % 4 else None for i in range(10)]}))
            txn.commit()
    picked = []
    real = store_mod._picked_rows
    monkeypatch.setattr(store_mod, "_picked_rows", lambda *a: picked.append(real(*a)) or picked[-1])

    def both(name, col, values, **kw):
        wanted = pa.array(sorted(values), pa.string())
        monkeypatch.setattr(store_mod, "PICK_SHARE", 1.0)
        duck = s.arrow(name, where=(col, wanted), **kw)
        assert picked[-1] is not None  # DuckDB read them
        monkeypatch.setattr(store_mod, "PICK_SHARE", -1.0)
        assert s.arrow(name, where=(col, wanted), **kw) == duck and picked[-1] is None
        return duck

    got = both("customers", "customer_id", {"c03", "c07", "c40", "c39", "zz"})
    assert got["name"].to_pylist() == ["NN3", None, "n39", "N40"]
    assert got.schema.field("n_records").type == pa.int64()
    assert both("customers", "customer_id", {"c03"}, manifest=first)["name"].to_pylist() == ["n3"]
    assert both("customers", "customer_id", set()).num_rows == 0
    got = both("records", "record_id", {"r05", "r17", "r10", "r29"},
               columns=["source_row", "record_id", "name"])
    # the table's order: files as the Delta log lists them (newest first), rows as written
    assert got.column_names == ["source_row", "record_id", "name"] and got["record_id"].to_pylist() == [
        "r29", "r17", "r10", "r05"]


def test_object_frame_gives_python_text_with_none_and_int64_integers():
    from custinfo.store.store import object_frame
    tbl = pa.table({"customer_id": ["c1", None, "c3"], "n_records": pa.array([1, None, 3], pa.int64()),
                    "score": [1.5, None, 2.0], "name": pa.array(["a", "b", None], pa.large_string())})
    df = object_frame(tbl)
    assert list(df.columns) == tbl.column_names and isinstance(df.index, pd.RangeIndex)
    assert df["customer_id"].dtype == object and df["customer_id"].tolist() == ["c1", None, "c3"]
    assert df["name"].tolist() == ["a", "b", None]
    assert str(df["n_records"].dtype) == "Int64" and df["n_records"].isna().tolist() == [False, True, False]
    assert df["score"].dtype == object and df["score"].tolist() == [1.5, None, 2.0]
    assert object_frame(tbl.slice(0, 0)).shape == (0, 4)
    assert list(object_frame(tbl.select(["n_records"])).columns) == ["n_records"]


def test_a_script_that_reads_the_store_and_ends_at_once_exits_cleanly(tmp_path):
    # deltalake's reader called a python filesystem handler from Arrow's IO threads, which could
    # still run while the interpreter exited: abort, "terminate called without an active exception",
    # exit 134 (5 of 10 such runs on the samples' store)
    from pathlib import Path

    from custinfo.ingest.pipeline import ingest

    store = tmp_path / "s"
    ingest([Path(__file__).resolve().parent.parent / "samples" / "web_form.csv"], store=Store(store))
    code = f"from custinfo.store.store import Store; print(Store({str(store)!r}).arrow('records').num_rows)"
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(6)]
    assert [r.returncode for r in runs] == [0] * 6, [r.stderr[-200:] for r in runs if r.returncode]
