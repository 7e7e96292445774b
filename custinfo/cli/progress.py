"""A rich progress display for long work, shown only on a terminal and never with --quiet."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .state import STATE, err


@contextmanager
def progress_callback(title: str):
    """Yield a `progress(phase, done, total)` callback, or None when no display is wanted."""
    if STATE.quiet or STATE.log_format == "json" or not sys.stderr.isatty():
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title}: {phase}", completed=done, total=total or None)

        yield progress
