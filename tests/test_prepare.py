"""prepare_file in chunks and in worker processes: the same records as one pass in this process."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custinfo.config import load_config
from custinfo.errors import ConfigError
from custinfo.ingest import prepare
from custinfo.ingest.readers import read_file

SAMPLES = Path(__file__).parent.parent / "samples"
DATA = Path(__file__).parent / "data"


def _prepared(path: Path, channel: str, workers: int):
    config = load_config(None, channel)
    config.channel = channel
    with prepare.chunk_workers(workers):
        return prepare.prepare_file(path, config)


def test_chunks_normalized_in_spawned_workers_give_the_same_records_as_one_process(monkeypatch):
    # small chunks and no size threshold, so the samples go through the pool in several pieces
    monkeypatch.setattr(prepare, "POOL_MIN_ROWS", 1)
    monkeypatch.setattr(prepare, "POOL_START_BYTES", 0)
    monkeypatch.setattr(prepare._Workers, "broken", lambda self: pytest.fail("the pool did not run"))
    pooled_chunks = []
    real = prepare.normalize_in_workers
    monkeypatch.setattr(prepare, "normalize_in_workers",
                        lambda workers, jobs: pooled_chunks.append(len(jobs)) or real(workers, jobs))
    for name in ("web_form.csv", "call_center.csv"):
        channel = name.removesuffix(".csv")
        whole = _prepared(SAMPLES / name, channel, 0)
        monkeypatch.setattr(prepare, "CHUNK_ROWS", 40)
        serial = _prepared(SAMPLES / name, channel, 0)
        pooled = _prepared(SAMPLES / name, channel, 2)
        monkeypatch.setattr(prepare, "CHUNK_ROWS", 100_000)
        for other in (serial, pooled):
            pd.testing.assert_frame_equal(other.records, whole.records)
            pd.testing.assert_frame_equal(other.quarantine, whole.quarantine)
    assert len(pooled_chunks) == 2 and min(pooled_chunks) >= 4


def test_a_normalize_seam_pointed_elsewhere_is_not_bypassed_by_the_workers(monkeypatch):
    # the Spark engine swaps prepare.normalize_frame: worker processes would run the local one instead
    monkeypatch.setattr(prepare, "POOL_MIN_ROWS", 1)
    calls = []
    local = prepare.normalize_frame

    def elsewhere(df, opts=None):
        calls.append(len(df))
        return local(df, opts)

    monkeypatch.setattr(prepare, "normalize_frame", elsewhere)
    out = _prepared(SAMPLES / "web_form.csv", "web_form", 2)
    assert sum(calls) == out.rows


def test_unusable_worker_count_is_a_config_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CUSTINFO_WORKERS", "two")
    with pytest.raises(ConfigError, match="CUSTINFO_WORKERS"):
        prepare.default_workers()
    monkeypatch.setenv("CUSTINFO_WORKERS", "-1")
    with pytest.raises(ConfigError, match="CUSTINFO_WORKERS"):
        prepare.default_workers()
    monkeypatch.setenv("CUSTINFO_WORKERS", "1")
    assert prepare.default_workers() == 1


def test_one_worker_is_a_pool_of_one_so_normalizing_leaves_nothing_in_the_matching_process(monkeypatch):
    """A busy box gets one worker, not none: normalizing in the process that goes on to match left
    ~300 MB there (a 1M first ingest peaked at 1980-2066 MB, against 1713 MB with one worker)."""
    monkeypatch.setattr(prepare.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(prepare.os, "getloadavg", lambda: (4.5, 4.5, 4.5))
    monkeypatch.delenv("CUSTINFO_WORKERS", raising=False)
    with prepare.chunk_workers():
        assert prepare._active is not None and prepare._active.n == 1
    monkeypatch.setenv("CUSTINFO_WORKERS", "0")  # asked for: everything in this process
    with prepare.chunk_workers():
        assert prepare._active is None


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir()
                                        if p.suffix in {".csv", ".tsv", ".txt", ".dat", ".xls"}))
def test_arrow_text_reading_gives_the_values_python_strings_would(name):
    try:
        plain = read_file(DATA / name)
    except Exception as exc:  # files that must fail fail the same way
        with pytest.raises(type(exc)):
            read_file(DATA / name, arrow_text=True)
        return
    arrow = read_file(DATA / name, arrow_text=True)
    for a, b in zip(plain, arrow, strict=True):
        assert (a.header, a.header_row, list(a.row_numbers)) == (b.header, b.header_row, list(b.row_numbers))
        as_objects = b.frame.astype(object).where(b.frame.notna(), None)
        pd.testing.assert_frame_equal(as_objects, a.frame)


def test_default_worker_count_leaves_busy_cpus_alone(monkeypatch):
    monkeypatch.delenv("CUSTINFO_WORKERS", raising=False)
    monkeypatch.setattr(prepare.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(prepare.os, "getloadavg", lambda: (1.2, 0.3, 0.3))  # this ingest's own load
    assert prepare.default_workers() == 2
    monkeypatch.setattr(prepare.os, "getloadavg", lambda: (4.5, 4.5, 4.5))
    assert prepare.default_workers() == 1
