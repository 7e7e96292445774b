"""A report in the terminal (`--format table`): headline figures, charts as bars of blocks,
every table as a rich table cut at `max_rows` with a "… N more rows" line.

Data is shown as text, never as rich markup, so a customer called ``[red]x[/red]`` reads as
that. Markdown lives in `custinfo.report.writers.format_markdown`; this module is the only
place that knows about rich.
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from custinfo.report.model import Chart, Report, Table, format_value, humanize

MAX_ROWS = 20
CHART_BARS = 10
BAR_WIDTH = 30


def print_report(report: Report, console: Console, *, max_rows: int = MAX_ROWS, charts: bool = True) -> None:
    """Print the report: title and time, headline figures, charts (bar/hbar/pie), tables."""
    console.print(Text(report.title, style="bold"))
    console.print(Text(f"generated {report.generated_at} · report {report.name}", style="dim"))
    if report.summary:
        console.print(summary_table(report))
    if charts:
        for chart in report.charts:
            console.print(chart_panel(chart, report.table(chart.table)))
    for table in report.tables:
        console.print(rich_table(table, max_rows=max_rows))
        if len(table.frame) > max_rows:
            console.print(
                Text(
                    f"… {len(table.frame) - max_rows:,} more rows "
                    "(--format csv, xlsx or html shows them all)",
                    style="dim",
                )
            )
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))


def summary_table(report: Report) -> RichTable:
    """The headline figures as a two-column grid, numbers right-aligned."""
    grid = RichTable(
        show_header=False, box=None, padding=(0, 2), title="Summary", title_justify="left", title_style="bold"
    )
    grid.add_column("figure", style="cyan")
    grid.add_column("value", justify="right")
    for key, value in report.summary.items():
        grid.add_row(Text(humanize(key)), Text(format_value(value, report.summary_format(key))))
    return grid


def rich_table(table: Table, *, max_rows: int = MAX_ROWS) -> RichTable:
    """One report table: formatted values, numeric columns right-aligned, note as caption."""
    frame = table.data()
    out = RichTable(
        title=table.title,
        title_justify="left",
        title_style="bold",
        caption=table.note,
        caption_justify="left",
    )
    formats = []
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column].dtype) and not pd.api.types.is_bool_dtype(
            frame[column].dtype
        )
        out.add_column(Text(column), justify="right" if numeric else "left", overflow="fold")
        formats.append(table.column_format(column))
    for row in frame.head(max_rows).itertuples(index=False, name=None):
        out.add_row(*(Text(format_value(v, f)) for v, f in zip(row, formats, strict=True)))
    return out


def chart_panel(chart: Chart, table: Table) -> Panel:
    """A chart as horizontal bars of block characters (stacked charts show their total)."""
    frame = table.data().head(CHART_BARS)
    values = pd.DataFrame({y: pd.to_numeric(frame[y], errors="coerce") for y in chart.y_columns})
    totals = values.clip(lower=0).sum(axis=1) if chart.kind == "stacked" else values.iloc[:, 0]
    fmt = table.column_format(chart.y_columns[0])
    top = float(totals.abs().max()) if len(totals) and totals.notna().any() else 0.0
    grand = float(totals.clip(lower=0).sum()) if chart.kind == "pie" else 0.0
    labels = [format_value(v) or "(blank)" for v in frame[chart.x].tolist()]
    width = max((Text(label).cell_len for label in labels), default=0)
    lines = []
    for label, value in zip(labels, totals.tolist(), strict=True):
        value = 0.0 if pd.isna(value) else float(value)
        n = round(abs(value) / top * BAR_WIDTH) if top else 0
        line = Text(label + " " * (width - Text(label).cell_len) + " ")
        line.append("█" * n, style="blue")
        line.append(f" {format_value(value, fmt)}")
        if grand:
            line.append(f" ({format_value(value / grand, 'percent')})", style="dim")
        lines.append(line)
    more = len(table.frame) - len(frame)
    if more > 0:
        lines.append(Text(f"… {more:,} more", style="dim"))
    title = chart.title + (
        " (total of " + ", ".join(chart.y_columns) + ")" if chart.kind == "stacked" else ""
    )
    return Panel(Group(*lines), title=Text(title), title_align="left", expand=False)
