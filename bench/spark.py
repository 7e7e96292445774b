"""Spark engine benchmark: the same exports -> a fresh store with `--engine local` and `--engine spark`.

Uses bench/scale.py's generated exports (five channel files, duplicates, ground truth), so the figures
sit beside the scale runs. Each ingest runs in a fresh interpreter; the parent samples the RSS of the
whole process tree (the Spark JVM and its Python workers included) every 0.2 s. Phases: for local,
normalize / match / fold / write as bench/scale.py wraps them; for spark, the Spark steps (normalize,
blocking, comparison levels, each including its Spark job) and what stays on the driver.
Then an incremental ingest of the 10k held-out records with the same engine, and F1 against the truth.

    .venv/bin/python bench/spark.py --size 100k            # prints, appends to bench/RESULTS.md
    .venv/bin/python bench/spark.py --size 20k --no-record
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import scale  # noqa: E402  (bench/scale.py: exports, truth, timers)

SECTION = "## Spark engine (bench/spark.py)"


def work(folder: str, which: str, store: str, engine: str) -> dict:
    """One ingest in this process, timed per phase."""
    from custinfo.ingest import pipeline, prepare
    from custinfo.merge import assign as assign_mod
    from custinfo.store import store as store_mod

    timer = scale.PhaseTimer()
    if engine == "spark":
        from custinfo.engines.spark import backend

        timer.wrap(backend._SparkSeams, "prepare_each", "read")  # read + map + normalize, in Spark tasks
        timer.wrap(backend._SparkSeams, "normalize", "normalize")
        timer.wrap(backend._SparkSeams, "block", "block")
        timer.wrap(backend._SparkSeams, "compute_gammas", "compare")
        timer.wrap(backend._SparkSeams, "components", "components")
    else:
        from custinfo.match import cluster as cluster_mod

        timer.wrap(prepare, "normalize_frame", "normalize")
        timer.wrap(cluster_mod, "connected_components", "components")
    timer.wrap(assign_mod, "assign", "match")
    timer.wrap(pipeline, "fold", "fold")
    # Tables are written as they are staged (Transaction._write, since 9b0500e); commit() only
    # publishes the manifest, so timing it alone read 0.0 s. As bench/scale.py does:
    timer.wrap(store_mod.Transaction, "_write", "write")
    timer.wrap(store_mod.Transaction, "commit", "write")
    files = [str(Path(folder) / f) for f in json.loads((Path(folder) / "files.json").read_text())[which]]
    t0 = time.perf_counter()
    if engine == "spark":
        from custinfo.engines.spark.session import spark_session

        t1 = time.perf_counter()
        with spark_session() as spark:
            spark.range(1).count()  # the JVM's start, counted apart from the ingest
            started = time.perf_counter() - t1
            t0 = time.perf_counter()
            res = pipeline.ingest(files, store=store, engine="spark")
            wall = time.perf_counter() - t0
    else:
        started = 0.0
        res = pipeline.ingest(files, store=store)
        wall = time.perf_counter() - t0
    phases = {k: round(v, 1) for k, v in timer.seconds.items()}
    return {
        "records": res.records,
        "seconds": round(wall, 1),
        "session_seconds": round(started, 1),
        "phases": phases,
    }


def _tree_rss(pid: int, cpu: dict[int, float]) -> int:
    """RSS of the process tree; records each process's CPU seconds so far in `cpu` (by pid)."""
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
            t = q.cpu_times()
            cpu[q.pid] = max(cpu.get(q.pid, 0.0), t.user + t.system)
        except psutil.NoSuchProcess:
            pass
    return total


def run(folder: Path, which: str, store: str, engine: str) -> dict:
    """One ingest in a fresh interpreter; wall time, phases, peak RSS of its process tree."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        which,
        "--input",
        str(folder),
        "--store",
        store,
        "--engine",
        engine,
        "--out",
        str(out),
    ]
    load = round(os.getloadavg()[0], 1)  # other work on the shared box slows every figure
    proc = subprocess.Popen(cmd)
    peak, done, cpu = [0], threading.Event(), {}

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid, cpu))
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    status = proc.wait()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    if status != 0:
        raise SystemExit(f"worker {engine} {which} failed with status {status}")
    res = json.loads(out.read_text())
    out.unlink()
    return {
        **res,
        "process_seconds": round(wall, 1),
        "cpu_seconds": round(sum(cpu.values()), 1),  # sampled every 0.2 s: the last instants are missed
        "peak_rss_mb": round(peak[0] / 2**20),
        "load": load,
        "load_end": round(os.getloadavg()[0], 1),
    }


def customers(store: str) -> set[frozenset]:
    from custinfo.store.store import Store

    m = Store(store).frame("membership")
    return {frozenset(g) for g in m.groupby("customer_id")["record_id"].apply(list)}


def record(rows: list[dict], n: int, same: dict[str, bool], note: str) -> None:
    lines = [
        f"### Spark run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, {scale.label(n)} records",
        "",
        f"{scale.machine()}. Spark local mode (pyspark {_pyspark_version()}). {note}".strip(),
        "",
        "| engine | run | records | ingest s | process s | CPU s (tree) | Spark start s | peak RSS MB (tree) "
        "| phases s | customers | F1 | load (1 min) at start, end |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ph = ", ".join(f"{k} {v}" for k, v in r["phases"].items())
        lines.append(
            f"| {r['engine']} | {r['run']} | {r['records']} | {r['seconds']} | {r['process_seconds']} | "
            f"{r['cpu_seconds']} | {r['session_seconds']} | {r['peak_rss_mb']} | {ph} | {r['customers']} "
            f"| {r['f1']} | {r['load']}, {r['load_end']} |"
        )
    lines += [
        "",
        "Same partition of records into customers as local: "
        + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in same.items()),
        "",
    ]
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n"
    head, _, tail = text.partition(SECTION + "\n\n")
    nxt = tail.find("\n## ")
    body, rest = (tail, "") if nxt < 0 else (tail[: nxt + 1], tail[nxt + 1 :])
    path.write_text(head + SECTION + "\n\n" + body + "\n".join(lines) + "\n" + rest, encoding="utf-8")


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engines", default="local,spark")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--note", default="")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        Path(a.out).write_text(json.dumps(work(a.input, a.worker, a.store, a.engine)))
        return
    n = scale.parse_size(a.size)
    folder = scale.exports(n, a.seed)
    tmp = Path(tempfile.mkdtemp(prefix="custinfo-spark-bench-"))
    rows, parts = [], {}
    for engine in a.engines.split(","):
        store = str(tmp / engine)
        for which in ["full"] + ([] if a.no_incremental else ["inc"]):
            r = run(folder, which, store, engine)
            q = scale.quality(folder, store)
            r.update(
                engine=engine, run="full" if which == "full" else "+10k", customers=q["customers"], f1=q["f1"]
            )
            print(json.dumps(r), flush=True)
            rows.append(r)
            parts[(engine, which)] = customers(store)
    same = {
        ("full" if w == "full" else "+10k"): parts[("spark", w)] == parts[("local", w)]
        for (e, w) in parts
        if e == "spark" and ("local", w) in parts
    }
    print("same customers as local:", same)
    if not a.no_record:
        record(rows, n, same, a.note)


if __name__ == "__main__":
    main()
