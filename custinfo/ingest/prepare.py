"""Turn one export file into candidate records: read, map headers, normalize, quarantine.

Nothing here touches the store, so a bad file fails before anything is written.
"""
from __future__ import annotations

import hashlib
import inspect
import multiprocessing
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import Config
from ..errors import ConfigError, InputError
from ..normalize import NormalizeOptions, normalize_frame
from ..store.tables import ARROW_TEXT
from .mapping import map_headers, require_identifying, to_source_frame
from .readers import read_file


@dataclass
class PreparedFile:
    """One file, read and normalized, ready to be matched and stored."""

    path: str
    name: str
    sha256: str
    records: pd.DataFrame  # RECORD columns minus ids (record_id, batch_id, ingested_at)
    quarantine: pd.DataFrame  # source_file, source_sheet, source_row, reason, raw
    sheets: list[str] = field(default_factory=list)
    header_maps: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    channel: str | None = None
    dropped_columns: list[str] = field(default_factory=list)  # outside the channel's allowlist

    @property
    def rows(self) -> int:
        return len(self.records) + len(self.quarantine)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spool_stdin() -> Path:
    """Copy stdin to a private temp file so it can be hashed and read like any file."""
    tmp = tempfile.NamedTemporaryFile(prefix="custinfo-stdin-", suffix=".csv", delete=False)
    with tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp)
    return Path(tmp.name)


def prepare_file(path: str | Path, config: Config, *, encoding: str | None = None,
                 display_name: str | None = None, allowed: frozenset[str] | None = None) -> PreparedFile:
    """Read one file and return its usable records and its quarantined rows."""
    mapped = map_file(path, config, encoding=encoding, display_name=display_name, allowed=allowed)
    return mapped.prepared([_sheet_records(sd, hm, mapped.opts, config, mapped.name)
                            for sd, hm in mapped.tables])


@dataclass
class MappedFile:
    """A file read and its tables header-mapped, rows not yet normalized (prepare_file's first half;
    the Spark engine normalizes the rows of a large file in slices, elsewhere)."""

    path: Path
    name: str
    sha256: str
    config: Config
    opts: NormalizeOptions
    tables: list[tuple]  # (SheetData, HeaderMap) of each table used, in order
    used: list[str]
    maps: dict
    warnings: list[str]
    dropped: list[str]

    def prepared(self, done: list[tuple[pd.DataFrame, pd.DataFrame]]) -> PreparedFile:
        """The PreparedFile, given the (records, quarantine) of each table, in table order."""
        return PreparedFile(str(self.path), self.name, self.sha256,
                            pd.concat([r for r, _ in done], ignore_index=True),
                            pd.concat([q for _, q in done], ignore_index=True), self.used, self.maps,
                            self.warnings, self.config.channel, sorted(set(self.dropped)))


def map_file(path: str | Path, config: Config, *, encoding: str | None = None,
             display_name: str | None = None, allowed: frozenset[str] | None = None) -> MappedFile:
    """Read one file and map the headers of its tables; raise as prepare_file does."""
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise InputError("file not found", file=str(path), hint="check the path and the file name")
    if _active is not None and path.stat().st_size >= POOL_START_BYTES:
        _active.start()  # the workers import custinfo while this process reads the file
    sheets = read_file(path, encoding=encoding or config.read.encoding, header_row=config.read.header_row,
                       sheets=config.read.sheets, is_known_header=config.header_test(),
                       max_header_scan=config.read.max_header_scan, name=name, arrow_text=True)
    opts = NormalizeOptions(default_region=config.default_region, date_order=config.date_order,
                            excel_epoch=config.excel_epoch)
    tables, used, maps, warnings, dropped = [], [], {}, [], []
    for sd in sheets:
        hm = map_headers(sd.header, config)
        if allowed is not None:
            dropped += apply_allowlist(hm, allowed)
        label = f"{name}" + (f" [{sd.sheet}]" if sd.sheet else "")
        try:
            require_identifying(hm, label, sd.header)
        except InputError as exc:
            if len(sheets) == 1:
                raise
            warnings.append(f"sheet skipped: {exc.one_line()}")
            continue
        used.append(sd.sheet or "")
        maps[sd.sheet or ""] = hm.as_dict()
        tables.append((sd, hm))
    if not tables:
        raise InputError("no sheet has a name, phone or email column", file=name,
                         hint="map the headers under `columns:` in configs/<channel>.yaml")
    return MappedFile(path, name, file_sha256(path), config, opts, tables, used, maps, warnings, dropped)


def apply_allowlist(hm, allowed: frozenset[str]) -> list[str]:
    """Minimum necessary: drop every column whose field is not allowed, and every unmapped column.
    Returns the headers dropped, so the ingest report can count them (nothing is lost silently)."""
    dropped = list(hm.unmapped)
    hm.unmapped = []
    for fld in list(hm.fields):
        if fld not in allowed:
            dropped += hm.fields.pop(fld)
    return dropped


# Rows mapped and normalized at a time: python-object strings exist for one chunk only; the records
# of a file are kept as Arrow-backed text (a million records as objects took ~4.5 GB). 50k rows
# take the same CPU time as 100k (measured on the scale files) and less than half the memory.
CHUNK_ROWS = 50_000
# A sheet of at least this many rows is mapped and normalized by worker processes when a pool is
# open (`chunk_workers`); smaller ones cost less than handing them over. A file of this size
# starts the pool before it is read.
POOL_MIN_ROWS = 50_000
POOL_START_BYTES = 4 << 20


def _sheet_records(sd, hm, opts: NormalizeOptions, config: Config, name: str):
    n = len(sd.frame)
    workers = _active.n if _active is not None and n >= POOL_MIN_ROWS and _local_seams() else 0
    jobs = chunk_jobs(sd, hm, opts, config, name, workers)
    done = normalize_in_workers(_active, jobs) if workers else [_chunk_job(*job) for job in jobs]
    return join_chunks(done)


def chunk_jobs(sd, hm, opts: NormalizeOptions, config: Config, name: str, workers: int = 1,
               chunk_rows: int | None = None) -> list[tuple]:
    """The `_chunk_job` arguments of each chunk of a table's rows (at most `chunk_rows`, default
    CHUNK_ROWS), in order; for `workers` > 1, a multiple of the workers, so that they finish together."""
    n = len(sd.frame)
    size = chunk_rows or CHUNK_ROWS
    if workers > 1 and n:
        chunks = -(-n // size)
        size = -(-n // (-(-chunks // workers) * workers))
    return [(sd.frame.iloc[start:start + size], sd.row_numbers[start:start + size], sd.sheet, hm, opts,
             config, name) for start in range(0, max(n, 1), size)]


def join_chunks(done: list[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A table's (records, quarantine) from those of its chunks, in order."""
    # Chunks without quarantined rows are left out: under pandas 3 an empty chunk's text columns are
    # objects and would turn the others' str columns into objects (chunked != one pass).
    quarantined = [q for _, q in done if len(q)] or [done[0][1]]
    return (pd.concat([r for r, _ in done], ignore_index=True),
            pd.concat(quarantined, ignore_index=True))


def _chunk_job(frame, row_numbers, sheet, hm, opts, config, name):
    """One chunk's records as Arrow-backed text and its quarantined rows (run in a worker or here)."""
    r, q = _chunk_records(frame, row_numbers, sheet, hm, opts, config, name)
    return arrow_text(r), q


def normalize_in_workers(workers: _Workers, jobs: list[tuple]) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """`_chunk_job` of each job in the worker processes, in order.

    A pool that cannot run (a script that starts an ingest at import time cannot be re-imported by
    a spawned worker) is dropped and the chunks are done here: the result is the same.
    """
    pool = workers.start()
    if pool is not None:
        try:
            return list(pool.map(_chunk_job, *zip(*jobs, strict=True)))
        except BrokenProcessPool:
            workers.broken()
    return [_chunk_job(*job) for job in jobs]


# map and normalize as imported here: worker processes run these, so a pool is used only while no
# one has pointed the seams elsewhere (the Spark engine does; a timer made with functools.wraps
# is seen through).
_LOCAL_SEAMS = (to_source_frame, normalize_frame)


def _local_seams() -> bool:
    return (inspect.unwrap(to_source_frame), inspect.unwrap(normalize_frame)) == _LOCAL_SEAMS


def default_workers() -> int:
    """Worker processes that normalize large files: $CUSTINFO_WORKERS if set (0 = this process does);
    else one per CPU this process may use that other jobs leave idle (by the 1-minute load average),
    at least 1 and at most 4.

    Even one worker is worth its start-up: what normalizing leaves behind (caches, freed memory the
    allocator keeps) stays out of the process that goes on to match. A first ingest of 1M records
    on a busy box (one process normalizing) peaked at 1980-2066 MB in this process, and at 1713 MB
    with one worker (127.5 s against 135.5 s, one run each, 2026-12-07).

    Extra processes cost their start-up and caches of their own (on 477k rows of the scale files:
    14.5 CPU s in one process, 16.3 with one worker, 19 with two). On a quiet machine the second
    core pays that back (1M rows: 18.4 s wall with two workers, 31.6 s in one process, load 1.0-1.6);
    on a busy one the processes share the same CPU time and are slower.
    """
    env = os.environ.get("CUSTINFO_WORKERS", "").strip()
    if env:
        if not env.isdigit():
            raise ConfigError(f"CUSTINFO_WORKERS must be a whole number of processes, not {env!r}",
                              key="CUSTINFO_WORKERS", hint="set it to 0 to normalize in this process")
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    try:
        idle = cpus - os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this system
        idle = cpus
    return max(1, min(cpus, 4, round(idle) + 1))


class _Workers:
    """Worker processes (spawned) that map and normalize chunks; started on the first large file."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pool: ProcessPoolExecutor | None = None
        self.failed = False

    def start(self) -> ProcessPoolExecutor | None:
        if self.pool is None and not self.failed:
            self.pool = ProcessPoolExecutor(self.n, mp_context=multiprocessing.get_context("spawn"))
            for _ in range(self.n):
                self.pool.submit(_warm_up)
        return self.pool

    def broken(self) -> None:
        self.close()
        self.failed = True

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


_active: _Workers | None = None


def _warm_up() -> None:
    """Load what normalizing loads on first use (OpenCC, cpca, pypinyin tables)."""
    normalize_frame(pd.DataFrame({"name": ["张三", "Zhang San"], "address": ["北京市朝阳区建国路1号", None],
                                  "mobile": ["13800138000", None]}))


@contextmanager
def chunk_workers(n: int | None = None):
    """Within the block, prepare_file maps and normalizes large sheets in `n` worker processes
    (default `default_workers()`; 0 = in this process), one pool for all the files; the pool ends
    with the block, so its memory is given back before matching. Nested blocks share the outer pool."""
    global _active
    if _active is not None:
        yield
        return
    n = default_workers() if n is None else n
    _active = _Workers(n) if n > 0 else None
    try:
        yield
    finally:
        workers, _active = _active, None
        if workers is not None:
            workers.close()


def arrow_text(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its object columns as Arrow-backed text (missing = NaN); other columns as they are."""
    return df.astype({c: ARROW_TEXT for c in df.columns if df[c].dtype == object})


def _chunk_records(frame: pd.DataFrame, row_numbers, sheet, hm, opts: NormalizeOptions, config: Config,
                   name: str):
    src, raw, extra = to_source_frame(frame, hm)
    norm = normalize_frame(src, opts)
    meta = pd.DataFrame({"channel": config.channel, "source_file": name, "source_sheet": sheet,
                         "source_row": row_numbers.astype("int64")}, index=src.index)
    full = pd.concat([meta, norm], axis=1)
    full["raw"], full["extra"] = raw.values, extra.values
    usable = pd.Series(False, index=full.index)
    for fld in config.required_any:
        col = {"phone": "phones", "email": "emails"}.get(fld, fld)
        if col in full:
            usable |= full[col].notna()
    bad = full[~usable]
    quarantine = pd.DataFrame({
        "channel": bad["channel"], "source_file": bad["source_file"], "source_sheet": bad["source_sheet"],
        "source_row": bad["source_row"], "reason": _reasons(bad, config.required_any), "raw": bad["raw"]})
    return full[usable].reset_index(drop=True), quarantine.reset_index(drop=True)


def _reasons(bad: pd.DataFrame, required: list[str]) -> list[str]:
    base = "no usable " + " / ".join(required)
    out = []
    for raw, issues in zip(bad["raw"], bad["issues"]):
        if raw is None:
            out.append("empty row: " + base)
        elif issues:
            out.append(f"{base} ({issues})")
        else:
            out.append(base)
    return out
