"""How the CLI shows results: a report or a frame, as a rich table or in a machine format."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from rich.table import Table as RichTable

from ..errors import CustinfoError
from .state import STATE, out

FORMATS = ("table", "json", "csv", "markdown", "xlsx", "html")
_EXT = {
    ".json": "json",
    ".csv": "csv",
    ".md": "markdown",
    ".xlsx": "xlsx",
    ".html": "html",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
    ".txt": "table",
}


def pick_format(fmt: str | None, output: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise CustinfoError(
                f"unknown format '{fmt}'", key="--format", hint=f"use one of: {', '.join(FORMATS)}"
            )
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext not in _EXT:
            raise CustinfoError(
                f"cannot tell the format of '{output}' from its extension",
                key="-o",
                hint="use .csv, .xlsx, .json, .md, .html or give --format",
            )
        return _EXT[ext]
    return "table"


def emit_report(report, fmt: str | None, output: str | None) -> None:
    """Print or write a report in the chosen format."""
    from ..report.writers import write_report

    fmt = pick_format(fmt, output)
    if fmt == "table" and (not output or output == "-"):
        from .render import print_report

        print_report(report, out)
        return
    if fmt == "json" and (not output or output == "-"):
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if fmt in ("xlsx",) and (not output or output == "-"):
        raise CustinfoError("xlsx cannot go to the terminal", key="--format", hint="add -o FILE.xlsx")
    write_report(report, output or "-", fmt)
    if output and output != "-" and not STATE.quiet:
        out.print(f"wrote {output}")


def print_frame(df: pd.DataFrame, title: str | None = None, limit: int = 50) -> None:
    t = RichTable(title=title, show_lines=False)
    for c in df.columns:
        t.add_column(str(c), overflow="fold")
    for row in df.head(limit).itertuples(index=False):
        t.add_row(*["" if v is None or v != v else str(v) for v in row])
    out.print(t)
    if len(df) > limit:
        out.print(f"… {len(df) - limit} more rows")


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
