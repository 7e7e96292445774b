"""Where the heavy work of `ingest` and `dedupe` runs: `local` (one process, DuckDB) or `spark`.

The pipeline, the matching settings and model, and the store are the same for every engine; an
engine only decides where reading, normalizing, blocking and scoring are executed.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..errors import CustinfoError

ENGINES = ("local", "spark")


def check_engine(engine: str) -> str:
    """The engine name, or a usage error naming the choices."""
    if engine not in ENGINES:
        raise CustinfoError(
            f"unknown engine {engine!r}", key="--engine", hint="use one of: " + ", ".join(ENGINES)
        )
    return engine


@contextmanager
def engine_context(engine: str, master: str | None = None) -> Iterator[None]:
    """Run the enclosed pipeline on `engine` (nothing to set up for `local`)."""
    if check_engine(engine) == "local":
        yield
        return
    from .spark import spark_backend

    with spark_backend(master):
        yield
