"""Scale benchmark: exported files -> committed store, at 100k and 1M records, then 10k incremental.

For each size, bench/gen_people.py draws people with duplicates across five channels (person_id is
the truth); each channel is written as its own export the way that channel writes it (web_form:
UTF-8 with BOM and Chinese headers; call_center: GBK; crm: English headers; trade_show: title and
notes rows above the header; purchased_list: GBK, mixed headers). The last 10k records are held out as the
incremental batch (same people, so they must join existing customers). Files are cached under
$CUSTINFO_BENCH_CACHE (default /tmp/custinfo-bench-cache).

Each run is a fresh interpreter: `custinfo.ingest.pipeline.ingest` of all channel files into a fresh
store, then a second process ingests the 10k files into that store. Peak RSS = ru_maxrss (the largest
single process); peak tree = the largest sum of the PSS of the process and its normalizing workers,
sampled every 0.2 s (the job's footprint). Time per phase comes from wrapping the pipeline's steps
(read, map, normalize, load existing records and the touched customers' rows, match, fold, write);
F1 is pairwise over the final membership, counted per cluster.

    .venv/bin/python bench/scale.py --sizes 100k,1M            # prints, appends to bench/RESULTS.md
    .venv/bin/python bench/scale.py --sizes 100k --profile /tmp/prof  # also a cProfile of each run
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
CACHE = Path(os.environ.get("CUSTINFO_BENCH_CACHE", "/tmp/custinfo-bench-cache"))
N_INCREMENTAL = 10_000

# channel -> (file encoding, title row above the header or None, {generator column: header})
EXPORTS = {
    "web_form": ("utf-8-sig", None, {"name": "姓名", "mobile": "手机号", "email": "邮箱", "gender": "性别",
                                     "birth_date": "出生日期", "city": "所在城市", "address": "详细地址"}),
    "call_center": ("gbk", None, {"name": "客户姓名", "phone": "来电号码", "email": "邮箱", "address": "地址"}),
    "crm": ("utf-8", None, {"name": "Name", "mobile": "Mobile", "email": "Email", "birth_date": "Date of Birth",
                            "national_id": "ID number", "gender": "Gender", "city": "City", "company": "Company",
                            "title": "Job Title"}),
    "trade_show": ("utf-8-sig", "2025 上海国际展会 名片登记\n录入：展会组 请勿修改表头", {"name": "姓名", "company": "公司名称", "title": "职位",
                                                        "phone": "电话", "mobile": "手机", "email": "邮箱",
                                                        "address": "地址"}),
    "purchased_list": ("gbk", None, {"name": "Name", "mobile": "Phone", "birth_date": "出生日期", "gender": "性别",
                                     "national_id": "身份证号", "province": "省份", "city": "City",
                                     "address": "地址"}),
}


def parse_size(text: str) -> int:
    t = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1], 1)
    return int(float(t[:-1] if t[-1] in "km" else t) * mult)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


# ---- data ----------------------------------------------------------------------------------------

def write_exports(df: pd.DataFrame, folder: Path, tag: str) -> tuple[list[Path], pd.DataFrame]:
    """One CSV per channel; returns the files and the truth (source_file, source_row, person_id)."""
    files, truth = [], []
    for ch, (enc, title, cols) in EXPORTS.items():
        part = df[df["channel"] == ch]
        if not len(part):
            continue
        out = part[list(cols)].rename(columns=cols)
        path = folder / f"{ch}_{tag}.csv"
        with open(path, "w", encoding=enc, errors="replace", newline="") as fh:
            if title:
                fh.write(title + "\n")
            out.to_csv(fh, index=False, lineterminator="\r\n" if enc == "gbk" else "\n")
        # the row number as seen in an editor: the first data row follows the header
        first_row = 2 + (title.count("\n") + 1 if title else 0)
        truth.append(pd.DataFrame({"source_file": path.name, "source_row": np.arange(len(part)) + first_row,
                                   "person_id": part["person_id"].to_numpy()}))
        files.append(path)
    return files, pd.concat(truth, ignore_index=True)


def exports(n: int, seed: int) -> Path:
    """Generate (once) n + 10k records; write the n as full exports and the last 10k as increments."""
    folder = CACHE / f"scale_{n}_{seed}"
    if (folder / "done").exists():
        return folder
    from gen_people import generate

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    df = generate(n + N_INCREMENTAL, seed)
    full, inc = df.iloc[:-N_INCREMENTAL], df.iloc[-N_INCREMENTAL:]
    ffiles, ftruth = write_exports(full, folder, "full")
    ifiles, itruth = write_exports(inc, folder, "inc")
    pd.concat([ftruth, itruth], ignore_index=True).to_parquet(folder / "truth.parquet", index=False)
    (folder / "files.json").write_text(json.dumps({"full": [p.name for p in ffiles], "inc": [p.name for p in ifiles]}))
    (folder / "done").write_text("")
    print(f"generated {len(df)} records in {time.perf_counter() - t0:.0f}s -> {folder}", flush=True)
    return folder


def pairwise_prf(pred: np.ndarray, truth: np.ndarray) -> dict:
    """Pairwise precision/recall/F1 of a clustering against true labels (pairs counted per cluster)."""
    df = pd.DataFrame({"p": pd.factorize(pred)[0], "t": pd.factorize(truth)[0]})

    def pairs(sizes: pd.Series) -> int:
        s = sizes.to_numpy(dtype=np.int64)
        return int((s * (s - 1) // 2).sum())

    tp, pp, tt = pairs(df.groupby(["p", "t"]).size()), pairs(df.groupby("p").size()), pairs(df.groupby("t").size())
    p = tp / pp if pp else 1.0
    r = tp / tt if tt else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


# ---- worker: one ingest in this process ----------------------------------------------------------

class PhaseTimer:
    """Wraps pipeline steps in place and sums their wall time per phase."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, int] = {}  # the process's peak RSS when each phase last ended

    def wrap(self, owner, attr: str, phase: str) -> None:
        fn = getattr(owner, attr)

        @functools.wraps(fn)  # seen through by prepare, which keeps its worker processes then
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - t0
                self.peak_mb[phase] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        setattr(owner, attr, timed)


def work(folder: str, which: str, store: str, profile: str | None) -> dict:
    from custinfo.ingest import pipeline, prepare
    from custinfo.memory import map_large_allocations
    from custinfo.merge import assign as assign_mod
    from custinfo.store import store as store_mod

    map_large_allocations()  # as the command line does
    timer = PhaseTimer()
    timer.wrap(prepare, "read_file", "read")
    timer.wrap(prepare, "to_source_frame", "map")
    timer.wrap(prepare, "normalize_frame", "normalize")
    timer.wrap(prepare, "normalize_in_workers", "normalize")  # large files: map + normalize in workers
    timer.wrap(pipeline, "_existing_records", "load")
    timer.wrap(store_mod.Store, "rows", "load")  # the stored rows of the customers a batch touches
    timer.wrap(assign_mod, "assign", "match")
    timer.wrap(pipeline, "fold", "fold")
    timer.wrap(store_mod.Transaction, "_write", "write")  # each table is written as it is staged
    timer.wrap(store_mod.Transaction, "commit", "write")
    files = [str(Path(folder) / f) for f in json.loads((Path(folder) / "files.json").read_text())[which]]
    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    res = pipeline.ingest(files, store=store)
    wall = time.perf_counter() - t0
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    phases = {k: round(v, 1) for k, v in timer.seconds.items()}
    phases["other"] = round(wall - sum(timer.seconds.values()), 1)
    return {"records": res.records, "quarantined": res.quarantined, "new_customers": res.new_customers,
            "joined_existing": res.joined_existing, "merges": res.merges, "seconds": round(wall, 1),
            "phases": phases, "peak_mb_after": timer.peak_mb}


def quality(folder: Path, store: str) -> dict:
    from custinfo.store.store import Store

    s = Store(store)
    recs = s.frame("records", columns=["record_id", "source_file", "source_row"])
    mem = s.frame("membership")
    truth = pd.read_parquet(folder / "truth.parquet")
    recs["source_row"] = recs["source_row"].astype("int64")
    df = recs.merge(mem, on="record_id").merge(truth, on=["source_file", "source_row"], how="inner")
    return {"customers": int(df["customer_id"].nunique()), "people": int(df["person_id"].nunique()),
            **pairwise_prf(df["customer_id"].to_numpy(), df["person_id"].to_numpy())}


def run(folder: Path, which: str, store: str, profile: str | None) -> dict:
    """One ingest in a fresh interpreter; its wall time, phases and peak RSS."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    cmd = [sys.executable, __file__, "--worker", which, "--input", str(folder), "--store", store, "--out", str(out)]
    if profile:
        cmd += ["--profile", profile]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    tree = TreeMemory(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    tree.stop()
    if status != 0:
        raise SystemExit(f"worker {which} failed with status {status}")
    res = json.loads(out.read_text())
    out.unlink()
    # CPU seconds say what the run costs when other jobs share the cores (wall time then stretches)
    return {**res, "process_seconds": round(wall, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "peak_tree_mb": tree.peak_mb}


class TreeMemory:
    """Peak memory of a process with its children (the normalizing workers), sampled every 0.2 s.

    ru_maxrss is the peak of the largest single process; the job's footprint is the sum of the tree's
    proportional set sizes (PSS: shared library pages divided among the processes that map them)."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak_mb, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        while not self._done.wait(0.2):
            try:
                procs = [psutil.Process(self.pid)]
                procs += procs[0].children(recursive=True)
            except psutil.Error:
                continue
            self.peak_mb = max(self.peak_mb, round(sum(_pss_kb(p.pid) for p in procs) / 1024))


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
    except OSError:  # the process ended between listing and reading
        return 0


# ---- driver --------------------------------------------------------------------------------------

def calibrate() -> dict:
    """Seconds this box takes for one fixed workload of each kind the pipeline runs: python string
    work (normalizing), a numpy sort, a DuckDB group-by and join on both cores. The same code on this
    VM ran 15-40% slower from one hour to the next: these figures, recorded with each run, tell a
    slower box from slower code. Each part takes ~0.3-1 s; the best of three is kept."""
    import duckdb

    def python_part() -> None:
        words = [f"Zhang San {i} 北京市朝阳区 {i % 977}" for i in range(200_000)]
        sum(len(w.lower().replace(" ", "").strip()) for w in words)

    def numpy_part() -> None:
        np.argsort(np.random.default_rng(0).random(4_000_000), kind="stable")

    def duckdb_part() -> None:
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET enable_progress_bar = false")
            con.sql("""WITH t AS (SELECT i, i % 100003 AS k, md5(CAST(i AS VARCHAR)) AS v
                                    FROM range(2000000) r(i)),
                          g AS (SELECT k, count(DISTINCT v) AS n FROM t GROUP BY k)
                     SELECT sum(n) FROM t JOIN g USING (k)""").fetchall()
        finally:
            con.close()

    out = {}
    for name, part in (("python", python_part), ("numpy", numpy_part), ("duckdb", duckdb_part)):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            part()
            times.append(time.perf_counter() - t0)
        out[name] = round(min(times), 2)
    return out


def calibration_text(before: dict, after: dict | None = None) -> str:
    def one(c: dict) -> str:
        return ", ".join(f"{k} {v} s" for k, v in c.items())

    text = f"Box speed check (bench/scale.py calibrate; lower = faster box): {one(before)} before the runs"
    return text + (f"; {one(after)} after." if after else ".")


def machine() -> str:
    import psutil

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # other work on the box skews the figures
    return (f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}, "
            f"load average {load} when recorded")


def record(rows: list[dict], note: str, speed: str = "") -> str:
    """Append this run's figures to bench/RESULTS.md as a dated section."""
    phases = ["read", "map", "normalize", "load", "match", "fold", "write", "other"]
    lines = [f"### Scale run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} (bench/scale.py)", "",
             f"{machine()}. {note}".strip(), *(["", speed] if speed else []), "",
             "| size | run | records | seconds | CPU s | records/s | peak RSS MB | peak tree MB | "
             + " | ".join(phases) + " | precision | recall | F1 |", "|" + "---|" * (11 + len(phases))]
    for r in rows:
        ph = r["phases"]
        lines.append(f"| {r['size']} | {r['run']} | {r['records']} | {r['seconds']} | {r.get('cpu_seconds', '')} | "
                     f"{r['rate']} | "
                     f"{r['peak_rss_mb']} | {r.get('peak_tree_mb', '')} | " + " | ".join(str(ph.get(p, "")) for p in phases)
                     + f" | {r['precision']} | {r['recall']} | {r['f1']} |")
    full = {r["size"]: r["seconds"] for r in rows if r["run"] == "full"}
    if "100k" in full and "1M" in full:
        lines += ["", f"100k -> 1M time ratio: {full['1M'] / full['100k']:.1f} (10.0 = linear)"]
        cpu = {r["size"]: r.get("cpu_seconds") for r in rows if r["run"] == "full"}
        if cpu.get("100k") and cpu.get("1M"):
            lines[-1] += f"; CPU time ratio: {cpu['1M'] / cpu['100k']:.1f}"
    text = "\n".join(lines) + "\n"
    path = HERE / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if "## Scale (bench/scale.py)" not in old:
        old = old.rstrip("\n") + "\n\n## Scale (bench/scale.py)\n\nFiles -> committed store with "\
            "`custinfo.ingest.pipeline.ingest`; `full` = all channel exports into a fresh store, `+10k` = "\
            "10k more records (the same people) into that store. Phases in seconds: read (decode + parse), "\
            "map (headers -> fields, raw/extra JSON), normalize, load (existing records for matching), "\
            "match, fold (golden records, history), write (Delta tables + manifest).\n"
    # at the end of the Scale section, before the next section (other benchmarks own those)
    head, _, rest = old.partition("## Scale (bench/scale.py)")
    cut = rest.find("\n## ")
    body, tail = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    path.write_text(head + "## Scale (bench/scale.py)" + body.rstrip("\n") + "\n\n" + text + tail,
                    encoding="utf-8")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100k,1M", help="comma-separated: 100k,1M,5M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", help="folder for cProfile dumps of every run")
    ap.add_argument("--no-record", action="store_true", help="print only; leave bench/RESULTS.md alone")
    ap.add_argument("--note", default="", help="a sentence recorded with the figures")
    ap.add_argument("--keep-store", help="copy the store after the full ingest here (for experiments)")
    ap.add_argument("--calibrate", action="store_true", help="only time the fixed workload of calibrate()")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        Path(args.out).write_text(json.dumps(work(args.input, args.worker, args.store, args.profile)))
        return
    before = calibrate()
    print(calibration_text(before), flush=True)
    if args.calibrate:
        return
    rows = []
    for n in [parse_size(s) for s in args.sizes.split(",")]:
        folder = exports(n, args.seed)
        store = tempfile.mkdtemp(prefix=f"custinfo-scale-{label(n)}-")
        try:
            for which, name in (("full", "full"), ("inc", "+10k")):
                prof = str(Path(args.profile) / f"{label(n)}_{which}.prof") if args.profile else None
                if prof:
                    Path(args.profile).mkdir(parents=True, exist_ok=True)
                r = run(folder, which, store, prof)
                if which == "full" and args.keep_store:
                    shutil.copytree(store, Path(args.keep_store) / label(n), dirs_exist_ok=True)
                r.update(size=label(n), run=name, rate=round(r["records"] / r["seconds"]) if r["seconds"] else 0,
                         **quality(folder, store))
                rows.append(r)
                print(json.dumps(r, ensure_ascii=False), flush=True)
        finally:
            shutil.rmtree(store, ignore_errors=True)
    speed = calibration_text(before, calibrate())
    print(speed)
    if args.no_record:
        return
    print(record(rows, args.note, speed))


if __name__ == "__main__":
    main()
