"""Reading on Spark: every input file read and header-mapped inside a Spark task (one task per
file, `map_file`), and its rows normalized in slices spread over the executors, by custinfo's own
code (`prepare.chunk_jobs`, `_chunk_job`, `join_chunks`: the chunks of the local engine).

A file of fewer than SPLIT_ROWS rows is normalized in its reading task: one task, no hand-over.
A larger one is cut into slices (at most CHUNK_ROWS rows, at least SLICE_MIN_ROWS, as many as
the session has cores when the rows allow), which a shuffle spreads round-robin over the
normalizing tasks; the driver puts each file's chunks back in order, so records and quarantine
are the local engine's, row for row.

The files travel as paths, so the executors must be able to read them (shared storage on a
cluster; in local mode they are this machine's files). Results are computed by all tasks at once,
kept on the executors' disks, and fetched one partition at a time (`toLocalIterator`).
An error a reader raises (bad encoding, no identifying column...) is sent back as the exception
itself and raised on the driver, the first in path order, so the one-line message and the exit
code are the local engine's. Standard input (`-`) exists on the driver only: it is read there.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path

from ...errors import CustinfoError

SPLIT_ROWS = 50_000  # a file of fewer rows is normalized in its reading task (prepare.POOL_MIN_ROWS)
SLICE_MIN_ROWS = 10_000  # no smaller slices: per-value caches and a task's start must pay
MIN_PARTITIONS = 8  # normalizing tasks at least: a partition is what the driver fetches at a time


@dataclasses.dataclass(frozen=True)
class Split:
    """How a file is cut, decided on the driver (the tasks do not see its module's attributes)."""

    min_rows: int  # files of fewer rows are not cut
    slice_min: int  # the smallest slice
    chunk_rows: int  # the largest slice
    cores: int  # the session's default parallelism

    def workers(self, n: int) -> int:
        """`chunk_jobs`'s workers for a table of n rows: its slices come in a multiple of these."""
        return max(1, min(self.cores, math.ceil(n / self.slice_min)))


def _shippable(exc: Exception) -> Exception:
    """The exception if it survives pickling (custinfo's errors do), else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - whatever made it unpicklable, the driver gets its text
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _packed(obj) -> bytes:
    """An item's payload, pickled once by the task that makes it: the tasks that only pass it on
    (a small file's records go through the normalizing stage) then move bytes, not frames."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _read_one(i: int, given: str, path: str, config, encoding, allowed, split: Split) -> list[tuple]:
    """A file's items, keyed (position, sequence): ("file", PreparedFile) when normalized here, else
    ("head", MappedFile without its rows, chunks per table) and one ("slice", `_chunk_job` args)
    per chunk; the PreparedFile, MappedFile and args pickled (`_packed`)."""
    from custinfo.ingest.prepare import _sheet_records, chunk_jobs, map_file

    mapped = map_file(path, config, encoding=encoding, allowed=allowed)
    if sum(len(sd.frame) for sd, _ in mapped.tables) < split.min_rows:
        prepared = mapped.prepared(
            [_sheet_records(sd, hm, mapped.opts, config, mapped.name) for sd, hm in mapped.tables]
        )
        prepared.path = given
        return [((i, 0), ("file", _packed(prepared)))]
    per_table = [
        chunk_jobs(sd, hm, mapped.opts, config, mapped.name, split.workers(len(sd.frame)), split.chunk_rows)
        for sd, hm in mapped.tables
    ]
    jobs = [job for table in per_table for job in table]
    counts = [len(table) for table in per_table]
    head = dataclasses.replace(mapped, path=given, tables=[])
    return [((i, 0), ("head", _packed(head), counts))] + [
        ((i, k + 1), ("slice", _packed(job))) for k, job in enumerate(jobs)
    ]


def _read_task(split: Split):
    """The reading task: (position, path as given, absolute path, config, encoding, allowed) ->
    the file's items, or ((position, 0), ("error", the error)), naming the path as given."""

    def run(jobs):
        for i, given, path, config, encoding, allowed in jobs:
            try:
                items = _read_one(i, given, path, config, encoding, allowed, split)
            except Exception as exc:  # noqa: BLE001 - raised again on the driver, in path order
                if getattr(exc, "file", None) == path:
                    exc.file = given
                items = [((i, 0), ("error", _shippable(exc)))]
            yield from items

    return run


def _slot(key: tuple[int, int]) -> int:
    """The normalizing partition of an item (mod their number): a file's slices round-robin."""
    return key[0] + key[1]


def _normalize_task(items):
    """The normalizing task: each slice -> ("done", (records, quarantine)); other items as they come."""
    from custinfo.ingest.prepare import _chunk_job

    for key, item in items:
        if item[0] == "slice":
            try:
                item = ("done", _packed(_chunk_job(*pickle.loads(item[1]))))
            except Exception as exc:  # noqa: BLE001 - raised again on the driver, in path order
                item = ("error", _shippable(exc))
        yield key, item


class _Gathered:
    """The items of the tasks, per file, as they arrive (in no particular order)."""

    def __init__(self):
        self.head: dict[int, tuple] = {}
        self.parts: dict[int, dict[int, tuple]] = {}

    def add(self, key: tuple[int, int], item: tuple) -> bool:
        """Keep an item; whether its file is now complete."""
        i, seq = key
        if seq == 0:
            self.head[i] = item
        else:
            self.parts.setdefault(i, {})[seq] = item
        head = self.head.get(i)
        return head is not None and (head[0] != "head" or len(self.parts.get(i, ())) == sum(head[2]))

    def result(self, i: int):
        """(PreparedFile, None) or (None, the error) of file i; its pickled items are let go."""
        from custinfo.ingest.prepare import join_chunks

        kind, value, *counts = self.head.pop(i)
        if kind == "error":
            return None, value
        if kind != "head":  # a file normalized where it was read (pickled), or on the driver
            return (pickle.loads(value) if kind == "file" else value), None
        got = self.parts.pop(i, {})
        parts = [got[seq] for seq in sorted(got)]
        for part_kind, part in parts:
            if part_kind == "error":
                return None, part
        done, tables = [pickle.loads(part) for _, part in parts], []
        for n in counts[0]:
            tables.append(join_chunks(done[:n]))
            done = done[n:]
        return pickle.loads(value).prepared(tables), None


def _split(spark) -> Split:
    from custinfo.ingest import prepare

    return Split(SPLIT_ROWS, SLICE_MIN_ROWS, prepare.CHUNK_ROWS, spark.sparkContext.defaultParallelism)


def _run_remote(spark, remote: list[tuple], gathered: _Gathered, progress, total: int) -> None:
    """Read, map and normalize the files of `remote` in Spark tasks, into `gathered`."""
    from pyspark import StorageLevel

    sc, split = spark.sparkContext, _split(spark)
    jobs = [(i, str(p), str(Path(p).absolute()), c, e, a) for i, p, c, e, a in remote]
    parts = max(split.cores, MIN_PARTITIONS)
    rdd = (
        sc.parallelize(jobs, len(jobs))
        .mapPartitions(_read_task(split))
        .partitionBy(parts, _slot)
        .mapPartitions(_normalize_task)
        .persist(StorageLevel.DISK_ONLY)
    )
    try:
        rdd._jrdd.count()  # every partition at once (toLocalIterator runs one job per partition)
        done = total - len(remote)
        for key, item in rdd.toLocalIterator():
            if gathered.add(key, item):
                done += 1
                if progress:
                    progress("read", done, total)
    finally:
        rdd.unpersist()


def prepare_on_spark(spark, jobs: list[tuple], read_here, progress=None) -> list:
    """PreparedFile of every job (position, path, config, encoding, allowed), in job order.

    Paths are read in Spark tasks; `read_here(job)` reads a job on the driver (standard input).
    The first error in job order is raised once every file has been tried.
    """
    remote = [j for j in jobs if str(j[1]) != "-"]
    gathered = _Gathered()
    for j in jobs:
        if str(j[1]) == "-":
            try:
                gathered.add((j[0], 0), ("here", read_here(j)))
            except CustinfoError as exc:
                gathered.add((j[0], 0), ("error", exc))
    if remote:
        _run_remote(spark, remote, gathered, progress, len(jobs))
    result = []
    for i, *_ in jobs:
        prepared, exc = gathered.result(i)
        if exc is not None:
            raise exc
        result.append(prepared)
    return result
