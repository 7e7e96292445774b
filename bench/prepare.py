"""Read, map and normalize alone: `prepare_file` of the scale benchmark's channel exports.

The first phases of `custinfo ingest` (what bench/scale.py reports as read, map and normalize),
without the store: every `*_full.csv` of a bench/scale.py cache folder prepared in one
`chunk_workers` block, as the pipeline does. Prints one JSON line per worker count: wall seconds,
CPU seconds of this process and of the worker processes, records, peak RSS of this process and of
the largest worker, and the 1-minute load average at the start and the end (other jobs on the
machine stretch wall time, not CPU time).

    .venv/bin/python bench/prepare.py /tmp/custinfo-bench-cache/scale_1000000_1 --workers 2,1

Each worker count runs in a fresh interpreter, so caches and peak RSS start from nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_all(folder: Path, workers: int) -> dict:
    from custinfo.config import load_config
    from custinfo.ingest import pipeline, prepare

    files = [folder / f for f in json.loads((folder / "files.json").read_text())["full"]]
    policy = pipeline._security_policy()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = []
    with prepare.chunk_workers(workers):
        for f in files:
            channel = pipeline.infer_channel(f)
            config = load_config(None, channel)
            config.channel = channel
            out.append(prepare.prepare_file(f, config, allowed=policy.allowed_fields(channel)))
    wall = time.perf_counter() - t0
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"workers": workers, "seconds": round(wall, 1), "cpu_seconds": round(me.ru_utime + me.ru_stime, 1),
            "worker_cpu_seconds": round(kids.ru_utime + kids.ru_stime, 1),
            "records": sum(len(p.records) for p in out), "quarantined": sum(len(p.quarantine) for p in out),
            "peak_rss_mb": me.ru_maxrss >> 10, "worker_peak_rss_mb": kids.ru_maxrss >> 10,
            "load_start": round(load, 1), "load_end": round(os.getloadavg()[0], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="a bench/scale.py cache folder (with files.json)")
    ap.add_argument("--workers", default="2,1,0",
                    help="comma-separated worker counts (0 = in this process), one run each")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(prepare_all(args.folder, args.one)), flush=True)
        return
    for w in (int(x) for x in args.workers.split(",")):
        subprocess.run([sys.executable, __file__, str(args.folder), "--one", str(w)], check=True)


if __name__ == "__main__":
    main()
