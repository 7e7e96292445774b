"""Kill `custinfo ingest` with SIGKILL at random moments: no record is ever lost or duplicated,
`custinfo verify` passes after every kill, and a re-ingest completes the work."""

import csv
import random
import signal
import subprocess
import sys
import time

import pytest

from custinfo.store.store import Store
from custinfo.store.verify import verify_store

KILLS = 20
NFILES = 6
ROWS = 200


def _write_csv(path, n, seed):
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "手机", "邮箱", "城市"])
        for i in range(n):
            w.writerow(
                [f"客户{seed}_{i}", f"139{rnd.randrange(10**8):08d}", f"u{seed}_{i}@example.com", "上海"]
            )


def _ingest_cmd(store, path):
    return [
        sys.executable,
        "-c",
        "import sys; from custinfo.cli.main import main; sys.exit(main())",
        "ingest",
        str(path),
        "--store",
        str(store),
        "--quiet",
    ]


def _counts(store):
    s = Store(store)
    return len(s.frame("records", columns=["record_id"])), len(s.frame("batches", columns=["batch_id"]))


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_or_duplicates(tmp_path):
    store = tmp_path / "store"
    files = []
    for k in range(NFILES):
        p = tmp_path / f"export_{k}.csv"
        _write_csv(p, ROWS, k)
        files.append(p)
    t0 = time.monotonic()
    assert subprocess.run(_ingest_cmd(store, files[0])).returncode == 0
    full = time.monotonic() - t0
    rnd = random.Random(7)
    done = {files[0]}
    kills = 0
    pending = files[1:]
    while kills < KILLS or pending:
        target = pending[0] if pending else files[0]
        before = _counts(store)
        p = subprocess.Popen(_ingest_cmd(store, target))
        if kills < KILLS:
            time.sleep(rnd.uniform(0.05, full))
            p.send_signal(signal.SIGKILL)
        p.wait()
        kills += kills < KILLS
        after = _counts(store)
        res = verify_store(Store(store))
        assert res["problems"] == [], res["problems"]
        if target in done:
            assert after == before  # a re-ingest of a known file never adds anything
        elif after != before:
            assert after[0] == before[0] + ROWS and after[1] == before[1] + 1  # all or nothing
            done.add(target)
            pending.remove(target)
    recs, batches = _counts(store)
    assert recs == NFILES * ROWS and batches == NFILES
    ids = Store(store).frame("records", columns=["record_id", "source_file", "source_row"])
    assert not ids.duplicated(["source_file", "source_row"]).any()
