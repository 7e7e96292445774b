"""The audit log is append-only and tamper-evident: edits, deletions, reordering and truncation show."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import stat

import pytest

from custinfo.security.audit import BREAK_COMMAND, GENESIS, AuditLog, canonical_json, entry_hash


def filled(tmp_path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path)
    for i in range(n):
        log.append("show", "analyst", customers=[f"C{i}"], records=i + 1, details={"i": i})
    return log


def lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(log: AuditLog, new_lines: list[str]) -> None:
    log.path.write_text("".join(new_lines), encoding="utf-8")


def test_entry_holds_who_when_what_and_chains_to_the_previous(tmp_path):
    log = filled(tmp_path, 2)
    first, second = log.entries()
    assert first["seq"] == 1 and first["prev_hash"] == GENESIS
    assert second["prev_hash"] == first["hash"] == entry_hash(first)
    assert {"ts", "user", "role", "pid", "command", "customers", "records", "details"} <= set(first)
    assert first["ts"].endswith("Z") and first["role"] == "analyst" and first["pid"] == os.getpid()
    assert first["customers"] == {"count": 1, "ids": ["C0"], "truncated": False}


def test_clean_log_verifies(tmp_path):
    res = filled(tmp_path).verify()
    assert res.ok and res.entries == 5 and res.problems == []
    assert res.to_dict()["head"]["seq"] == 5


def test_empty_store_verifies(tmp_path):
    assert AuditLog(tmp_path).verify().ok


def test_customer_list_is_capped_but_counted(tmp_path):
    log = AuditLog(tmp_path)
    e = log.append("export contacts", "marketing", customers=[f"C{i}" for i in range(250)], records=250)
    assert e["customers"]["count"] == 250 and len(e["customers"]["ids"]) == 100
    assert e["customers"]["truncated"]
    assert log.append("report", "viewer", customers=1234)["customers"] == {"count": 1234, "ids": []}


def test_edited_line_is_detected(tmp_path):
    log = filled(tmp_path)
    ls = lines(log)
    entry = json.loads(ls[2])
    entry["role"] = "admin"
    ls[2] = canonical_json(entry) + "\n"
    rewrite(log, ls)
    res = log.verify()
    assert not res.ok and (3, "hash does not match the content: the entry was edited") in res.problems


def test_edit_with_recomputed_hash_breaks_the_chain(tmp_path):
    log = filled(tmp_path)
    ls = lines(log)
    entry = json.loads(ls[2])
    entry["records"] = 0
    entry["hash"] = entry_hash(entry)
    ls[2] = canonical_json(entry) + "\n"
    rewrite(log, ls)
    res = log.verify()
    assert not res.ok and [s for s, _ in res.problems] == [4]


def test_deleted_middle_line_is_detected(tmp_path):
    log = filled(tmp_path)
    ls = lines(log)
    del ls[1]
    rewrite(log, ls)
    res = log.verify()
    assert not res.ok
    assert any(seq == 3 and "missing entries" in what for seq, what in res.problems)


def test_reordered_lines_are_detected(tmp_path):
    log = filled(tmp_path)
    ls = lines(log)
    ls[1], ls[2] = ls[2], ls[1]
    rewrite(log, ls)
    assert not log.verify().ok


def test_truncated_tail_is_detected_through_the_head_file(tmp_path):
    log = filled(tmp_path)
    rewrite(log, lines(log)[:-2])
    res = log.verify()
    assert not res.ok and res.entries == 3
    assert any("cut off the end" in what for _, what in res.problems)


def test_append_after_truncation_keeps_the_evidence_in_the_chain(tmp_path):
    log = filled(tmp_path)
    rewrite(log, lines(log)[:-2])
    log.append("show", "viewer")
    res = log.verify()
    assert not res.ok and any("truncated" in what for _, what in res.problems)
    brk = log.entries(command=BREAK_COMMAND)
    assert brk and brk[0]["details"]["head_seq"] == 5 and brk[0]["details"]["log_seq"] == 3


def test_missing_head_file_is_reported(tmp_path):
    log = filled(tmp_path)
    log.head_path.unlink()
    assert not log.verify().ok


def test_torn_last_line_from_a_crash_is_cut_on_next_append(tmp_path):
    log = filled(tmp_path, 3)
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('{"seq": 4, "ts": "2024')  # the process died mid-write, before the head moved
    assert not log.verify().ok
    log.append("show", "viewer")
    res = log.verify()
    assert res.ok and res.entries == 4


def test_head_one_behind_after_crash_is_accepted(tmp_path):
    log = filled(tmp_path, 3)
    head = log.head_path.read_text()
    log.append("show", "viewer")
    log.head_path.write_text(head)  # as if the process died between the line and the head
    assert log.verify().ok


def test_log_and_head_are_owner_only(tmp_path):
    log = filled(tmp_path, 1)
    assert stat.S_IMODE(os.stat(log.dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(log.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(log.head_path).st_mode) == 0o600


def test_entries_filter_by_command_and_time(tmp_path):
    log = filled(tmp_path, 2)
    log.append("export contacts", "marketing", records=7)
    assert [e["command"] for e in log.entries(command="export*")] == ["export contacts"]
    assert len(log.entries(command="show")) == 2
    assert log.entries(since="2999-01-01T00:00:00Z") == []
    assert len(log.entries(since=log.entries()[1]["ts"])) == 2


def _append_many(store: str, n: int) -> None:
    log = AuditLog(store)
    for i in range(n):
        log.append("ingest", "analyst", records=i)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_concurrent_appends_from_processes_keep_one_chain(tmp_path):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), 25)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    res = AuditLog(tmp_path).verify()
    assert res.ok and res.entries == 100
    assert [e["seq"] for e in AuditLog(tmp_path).entries()] == list(range(1, 101))
