"""The commands. Each parses its options, calls one library function and shows the result."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import EXIT_DATA
from ..store.store import Store
from .main import ChannelOpt, ConfigOpt, FormatOpt, OutOpt, StoreOpt, app, export_app, report_app
from .output import emit_report, print_frame, print_json
from .progress import progress_callback
from .state import STATE, event, out


@app.command()
def ingest(
    files: Annotated[list[str], typer.Argument(help="CSV/TSV/TXT/XLSX/XLS exports; - reads stdin")],
    channel: ChannelOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
    force: Annotated[bool, typer.Option("--force", help="ingest files even if the same content was ingested")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="read and check, write nothing")] = False,
    encoding: Annotated[Optional[str], typer.Option("--encoding", help="text encoding (default: detect)")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when rows were quarantined")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Read exports, normalize, match against the store, merge, commit atomically."""
    from ..ingest.pipeline import ingest as do_ingest

    with progress_callback("ingest") as progress:
        res = do_ingest(files, store=Store(store), channel=channel, config_file=config, force=force,
                        dry_run=dry_run, encoding=encoding, progress=progress)
    for f in res.files:
        for w in f.warnings:
            event("warning", f"{f.file}: {w}", file=f.file, warning=w)
        event("file", f"{f.file}: {f.status}, {f.records} records, {f.quarantined} quarantined",
              file=f.file, status=f.status, rows=f.rows, records=f.records, quarantined=f.quarantined)
    event("summary", **res.as_dict())
    if fmt == "json":
        print_json(res.as_dict())
    elif not STATE.quiet and STATE.log_format != "json":
        verb = "would ingest" if res.dry_run else "ingested"
        out.print(f"{verb} {res.records} records from {sum(f.status != 'skipped' for f in res.files)} file(s)"
                  f" ({res.quarantined} quarantined, {sum(f.status == 'skipped' for f in res.files)} skipped"
                  f" as already ingested); customers: {res.new_customers} new, {res.joined_existing} updated,"
                  f" {res.merges} merged" + (f"; batch {res.batch_id}" if res.batch_id else ""))
    if strict and res.quarantined:
        raise typer.Exit(EXIT_DATA)


@report_app.command("summary")
def report_summary(store: StoreOpt = None, fmt: FormatOpt = None, output: OutOpt = None) -> None:
    """Records per channel and file, customers, quarantined rows."""
    from ..report.summary import summary

    emit_report(summary(Store(store)), fmt, output)


def _export(kind: str, store, output, as_of, channel, since, where, columns, encoding) -> None:
    from ..report.exports import export_frame
    from ..report.writers import write_frame

    df = export_frame(Store(store), kind, as_of=as_of, channel=channel, since=since, where=where,
                      columns=[c.strip() for c in columns.split(",")] if columns else None)
    write_frame(df, output, encoding=encoding)
    event("export", f"wrote {len(df)} {kind} to {output}", kind=kind, rows=len(df), output=output)


def _export_command(kind: str, doc: str):
    def command(
        output: Annotated[str, typer.Option("--output", "-o", help="FILE (.csv .xlsx .parquet .jsonl); - = CSV on stdout")],
        store: StoreOpt = None,
        as_of: Annotated[Optional[str], typer.Option("--as-of", help="the store as it was at DATE (time travel)")] = None,
        channel: ChannelOpt = None,
        since: Annotated[Optional[str], typer.Option("--since", help="only what was ingested since DATE")] = None,
        where: Annotated[Optional[list[str]], typer.Option("--where", help="FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT")] = None,
        columns: Annotated[Optional[str], typer.Option("--columns", help="comma-separated columns to keep")] = None,
        encoding: Annotated[str, typer.Option("--encoding", help="CSV encoding; utf-8-sig opens in Excel")] = "utf-8-sig",
    ) -> None:
        _export(kind, store, output, as_of, channel, since, where, columns, encoding)

    command.__doc__ = doc
    export_app.command(kind)(command)


_export_command("records", "Every source record with its customer_id, normalized and raw values.")
_export_command("customers", "One golden record per customer, with provenance.")
_export_command("contacts", "A mailing/calling list: one row per customer with the best phone and email.")


@app.command()
def verify(store: StoreOpt = None, fmt: FormatOpt = None) -> None:
    """Check the store's invariants; exit 3 with the list of violations."""
    from ..errors import StoreError
    from ..store.verify import verify_store

    res = verify_store(Store(store))
    if fmt == "json":
        print_json(res)
    else:
        for p in res["problems"]:
            out.print(f"violation: {p}", markup=False)
        if not res["problems"] and not STATE.quiet:
            out.print(f"ok: {res['checks']} checks passed on store version {res['version']}")
    if res["problems"]:
        raise StoreError(f"{len(res['problems'])} invariant violation(s)", file=str(Store(store).path),
                         hint="see the list above; restore from a backup or report a bug")


__all__ = ["print_frame", "Path"]
