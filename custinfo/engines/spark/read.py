"""Reading on Spark: every input file read, header-mapped and normalized by custinfo's own
`prepare_file` inside a Spark task (one task per file), instead of by the driver.

The files travel as paths, so the executors must be able to read them (shared storage on a
cluster; in local mode they are this machine's files). What comes back per file is what the local
engine makes of it: its records (Arrow-backed text) and quarantined rows, sheets, header maps and
warnings. Results are fetched one file at a time (`toLocalIterator`), in the order of the paths.
An error a reader raises (bad encoding, no identifying column...) is sent back as the exception
itself and raised on the driver, the first in path order, so the one-line message and the exit
code are the local engine's. Standard input (`-`) exists on the driver only: it is read there.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from ...errors import CustinfoError


def _shippable(exc: Exception) -> Exception:
    """The exception if it survives pickling (custinfo's errors do), else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - whatever made it unpicklable, the driver gets its text
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _read_task(jobs):
    """The task: (position, path as given, absolute path, config, encoding, allowed) ->
    (position, PreparedFile, None) or (position, None, the error), both naming the path as given."""
    from custinfo.ingest.prepare import prepare_file

    for i, given, path, config, encoding, allowed in jobs:
        try:
            prepared = prepare_file(path, config, encoding=encoding, allowed=allowed)
            prepared.path = given
            yield i, prepared, None
        except Exception as exc:  # noqa: BLE001 - raised again on the driver, in path order
            if getattr(exc, "file", None) == path:
                exc.file = given
            yield i, None, _shippable(exc)


def prepare_on_spark(spark, jobs: list[tuple], read_here, progress=None) -> list:
    """PreparedFile of every job (position, path, config, encoding, allowed), in job order.

    Paths are read in Spark tasks; `read_here(job)` reads a job on the driver (standard input).
    The first error in job order is raised once every file has been tried.
    """
    remote = [j for j in jobs if str(j[1]) != "-"]
    out: dict[int, tuple] = {}
    total = len(jobs)
    for j in jobs:
        if str(j[1]) == "-":
            try:
                out[j[0]] = (read_here(j), None)
            except CustinfoError as exc:
                out[j[0]] = (None, exc)
    if remote:
        rdd = spark.sparkContext.parallelize(
            [(i, str(p), str(Path(p).absolute()), c, e, a) for i, p, c, e, a in remote], len(remote)
        )
        for done, (i, prepared, exc) in enumerate(rdd.mapPartitions(_read_task).toLocalIterator()):
            if progress:
                progress("read", done, total)
            out[i] = (prepared, exc)
    result = []
    for i, *_ in jobs:
        prepared, exc = out[i]
        if exc is not None:
            raise exc
        result.append(prepared)
    return result
