"""The commands. Each parses its options, calls one library function and shows the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from ..errors import EXIT_DATA
from ..store.store import Store
from .main import ChannelOpt, ConfigOpt, FormatOpt, OutOpt, StoreOpt, app, export_app, report_app, review_app
from .output import emit_report, print_frame, print_json
from .progress import progress_callback
from .state import STATE, access, event, out

EngineOpt = Annotated[str, typer.Option("--engine", help="where the work runs: local (one process) or spark")]
SparkMasterOpt = Annotated[
    Optional[str],
    typer.Option(
        "--spark-master",
        help="Spark master URL for --engine spark (default: $SPARK_MASTER, spark-defaults.conf, local)",
    ),
]


@app.command()
def ingest(
    files: Annotated[list[str], typer.Argument(help="CSV/TSV/TXT/XLSX/XLS exports; - reads stdin")],
    channel: ChannelOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="ingest files even if the same content was ingested")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="read and check, write nothing")] = False,
    encoding: Annotated[
        Optional[str], typer.Option("--encoding", help="text encoding (default: detect)")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 when rows were quarantined")] = False,
    fmt: FormatOpt = None,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
) -> None:
    """Read exports, normalize, match against the store, merge, commit atomically."""
    from ..ingest.pipeline import ingest as do_ingest

    with progress_callback("ingest") as progress:
        res = do_ingest(
            files,
            store=Store(store),
            channel=channel,
            config_file=config,
            force=force,
            dry_run=dry_run,
            encoding=encoding,
            progress=progress,
            engine=engine,
            spark_master=spark_master,
        )
    for f in res.files:
        for w in f.warnings:
            event("warning", f"{f.file}: {w}", file=f.file, warning=w)
        event(
            "file",
            f"{f.file}: {f.status}, {f.records} records, {f.quarantined} quarantined",
            file=f.file,
            status=f.status,
            rows=f.rows,
            records=f.records,
            quarantined=f.quarantined,
        )
    if res.batch_id:
        access(Store(store).path, "ingest").audit(
            records=res.records,
            batch=res.batch_id,
            files=[f.file for f in res.files if f.status == "ingested"],
        )
    event("summary", **res.as_dict())
    if fmt == "json":
        print_json(res.as_dict())
    elif not STATE.quiet and STATE.log_format != "json":
        verb = "would ingest" if res.dry_run else "ingested"
        out.print(
            f"{verb} {res.records} records from {sum(f.status != 'skipped' for f in res.files)} file(s)"
            f" ({res.quarantined} quarantined, {sum(f.status == 'skipped' for f in res.files)} skipped"
            f" as already ingested); customers: {res.new_customers} new, {res.joined_existing} updated,"
            f" {res.merges} merged" + (f"; batch {res.batch_id}" if res.batch_id else "")
        )
    if strict and res.quarantined:
        raise typer.Exit(EXIT_DATA)


def _report_command(name: str, doc: str):
    def command(
        store: StoreOpt = None,
        fmt: FormatOpt = None,
        output: OutOpt = None,
        as_of: Annotated[Optional[str], typer.Option("--as-of", help="the store as it was at DATE")] = None,
        since: Annotated[
            Optional[str], typer.Option("--since", help="changes since DATE (changes report)")
        ] = None,
    ) -> None:
        from ..report import build_report

        kw = {"since": since} if name == "changes" else {}
        gate = access(Store(store).path, f"report {name}")
        report = build_report(name, store=Store(store), as_of=as_of, **kw)
        _mask_report(report, gate)
        gate.audit(details=None, report=name)
        emit_report(report, fmt, output)

    command.__doc__ = doc
    report_app.command(name)(command)


for _name, _doc in [
    ("summary", "Records per channel and file, customers, quarantined rows."),
    ("quality", "Completeness and validity of each field per channel and file; quarantine reasons."),
    ("duplicates", "Clusters, their sizes, duplicate rate per channel and file."),
    ("channels", "Per channel: records, new customers brought, share already known; overlap matrix."),
    ("profile", "Gender, age bands, provinces, cities, companies, titles."),
    ("changes", "What changed in golden records (use --since DATE)."),
    ("conflicts", "Where trusted sources disagree, and the value chosen."),
]:
    _report_command(_name, _doc)


def _mask_report(report, gate) -> None:
    """Reports carry names and values in some tables: mask them like any other output."""
    for t in report.tables:
        if "field" in t.frame.columns and {"old_value", "new_value"} & set(t.frame.columns):
            t.frame = gate.mask_long(t.frame, "field", ["old_value", "new_value"])
        elif "field" in t.frame.columns and "chosen" in t.frame.columns:
            t.frame = gate.mask_long(t.frame, "field", ["chosen", "values"])
        t.frame = gate.mask(t.frame)


def _export(kind: str, store, output, as_of, channel, since, where, columns, encoding, purpose=None) -> None:
    from ..report.exports import export_frame, filter_consent
    from ..report.writers import write_frame

    gate = access(Store(store).path, f"export {kind}")
    df = export_frame(
        Store(store),
        kind,
        as_of=as_of,
        channel=channel,
        since=since,
        where=where,
        columns=[c.strip() for c in columns.split(",")] if columns else None,
    )
    left_out = 0
    if purpose:
        df, left_out = filter_consent(Store(store), df, purpose, gate.policy)
    write_frame(gate.mask(df), output, encoding=encoding)
    gate.audit(
        records=len(df),
        customers=int(df["customer_id"].nunique()) if "customer_id" in df else None,
        output=str(output),
        purpose=purpose,
    )
    note = f"; {left_out} customer(s) left out without consent for {purpose}" if purpose else ""
    event(
        "export",
        f"wrote {len(df)} {kind} to {output}{note}",
        kind=kind,
        rows=len(df),
        output=output,
        left_out_without_consent=left_out if purpose else None,
    )


def _export_command(kind: str, doc: str):
    def command(
        output: Annotated[
            str, typer.Option("--output", "-o", help="FILE (.csv .xlsx .parquet .jsonl); - = CSV on stdout")
        ],
        store: StoreOpt = None,
        as_of: Annotated[
            Optional[str], typer.Option("--as-of", help="the store as it was at DATE (time travel)")
        ] = None,
        channel: ChannelOpt = None,
        since: Annotated[
            Optional[str], typer.Option("--since", help="only what was ingested since DATE")
        ] = None,
        where: Annotated[
            Optional[list[str]], typer.Option("--where", help="FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT")
        ] = None,
        columns: Annotated[
            Optional[str], typer.Option("--columns", help="comma-separated columns to keep")
        ] = None,
        encoding: Annotated[
            str, typer.Option("--encoding", help="CSV encoding; utf-8-sig opens in Excel")
        ] = "utf-8-sig",
        purpose: Annotated[
            Optional[str],
            typer.Option(
                "--purpose", help="leave out customers without consent for it (marketing, email, sms, call)"
            ),
        ] = None,
    ) -> None:
        _export(kind, store, output, as_of, channel, since, where, columns, encoding, purpose)

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
        raise StoreError(
            f"{len(res['problems'])} invariant violation(s)",
            file=str(Store(store).path),
            hint="see the list above; restore from a backup or report a bug",
        )


__all__ = ["print_frame", "Path"]


@app.command()
def show(
    customer_id: Annotated[str, typer.Argument(help="customer id (old ids redirect) or record id")],
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """One customer: the golden record, where each value came from, and its source records."""
    from ..merge.lookup import show_customer

    gate = access(Store(store).path, "show")
    data = show_customer(Store(store), customer_id)
    data["golden"] = gate.mask_record(data["golden"])
    data["records"] = gate.mask(pd.DataFrame(data["records"])).to_dict("records") if data["records"] else []
    data["conflicts"] = {
        f: (v if gate.may_see(f) else {"(masked)": sum(v.values(), [])}) for f, v in data["conflicts"].items()
    }
    gate.audit(customers=[data["customer_id"]])
    if fmt == "json":
        print_json(data)
        return
    if data["redirected_from"]:
        out.print(f"{data['redirected_from']} was merged into {data['customer_id']}")
    rows = [
        {
            "field": f,
            "value": v,
            **(
                {k: str(data["provenance"][f][k]) for k in ("channel", "source_file", "source_row")}
                if f in data["provenance"]
                else {}
            ),
        }
        for f, v in data["golden"].items()
        if v is not None
    ]
    print_frame(pd.DataFrame(rows), title=f"customer {data['customer_id']}")
    for f, vals in data["conflicts"].items():
        out.print(
            f"conflict on {f}: " + "; ".join(f"{v} ({', '.join(r)})" for v, r in vals.items()), markup=False
        )
    print_frame(pd.DataFrame(data["records"]), title="source records")


@app.command()
def history(
    customer_id: Annotated[str, typer.Argument(help="customer id or record id")],
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Each change of each golden field: old value, new value, time, and the source that caused it."""
    from ..merge.lookup import customer_history

    gate = access(Store(store).path, "history")
    df = gate.mask_long(customer_history(Store(store), customer_id), "field", ["old_value", "new_value"])
    gate.audit(customers=sorted(set(df["customer_id"])) or [customer_id])
    if fmt == "json":
        print_json(df.to_dict("records"))
    else:
        print_frame(df.drop(columns=["batch_id"]), title=f"history of {customer_id}", limit=500)


def _show_decision(res, fmt, store=None, command: str = "") -> None:
    if store is not None:
        access(Store(store).path, command).audit(
            customers=list(getattr(res, "customers", []) or []), records=getattr(res, "records_removed", None)
        )
    if fmt == "json":
        print_json(res.as_dict())
    elif not STATE.quiet:
        out.print(res.message)


@app.command()
def link(
    a: Annotated[str, typer.Argument(help="record or customer id")],
    b: Annotated[str, typer.Argument(help="record or customer id")],
    store: StoreOpt = None,
    note: Annotated[str, typer.Option(help="why")] = "",
    fmt: FormatOpt = None,
) -> None:
    """Must-link: A and B are the same customer, now and in every later ingest."""
    from ..merge.decisions import link as do_link

    _show_decision(do_link(Store(store), a, b, note), fmt, store, "link")


@app.command()
def unlink(
    a: Annotated[str, typer.Argument(help="record or customer id")],
    b: Annotated[str, typer.Argument(help="record or customer id")],
    store: StoreOpt = None,
    note: Annotated[str, typer.Option(help="why")] = "",
    fmt: FormatOpt = None,
) -> None:
    """Cannot-link: A and B are different customers, now and in every later ingest."""
    from ..merge.decisions import unlink as do_unlink

    _show_decision(do_unlink(Store(store), a, b, note), fmt, store, "unlink")


@app.command()
def split(
    customer_id: Annotated[str, typer.Argument(help="customer id")],
    store: StoreOpt = None,
    records: Annotated[
        Optional[str], typer.Option("--records", help="comma-separated record ids to move out")
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Undo a wrong merge (by default the last one), keeping the pieces apart for good."""
    from ..merge.decisions import split as do_split

    _show_decision(
        do_split(Store(store), customer_id, records.split(",") if records else None), fmt, store, "split"
    )


@app.command()
def retire(
    inactive_since: Annotated[str, typer.Option("--inactive-since", help="DATE (YYYY-MM-DD)")],
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Mark customers with no new record since DATE as inactive (kept, not deleted)."""
    from ..merge.decisions import retire as do_retire

    _show_decision(do_retire(Store(store), inactive_since), fmt, store, "retire")


@app.command()
def normalize(
    file: Annotated[str, typer.Argument(help="CSV/TSV/TXT/XLSX export; - reads stdin")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="FILE (.csv .xlsx .parquet .jsonl); - = CSV on stdout")
    ],
    channel: ChannelOpt = None,
    config: ConfigOpt = None,
    encoding: Annotated[
        Optional[str], typer.Option("--encoding", help="text encoding (default: detect)")
    ] = None,
) -> None:
    """Map and normalize a file without a store; an `issues` column says what is wrong in each row."""
    from ..ingest.normalize_file import normalize_file
    from ..report.writers import write_frame

    path = _stdin_to_file(file)
    df = normalize_file(path, channel=channel, config_file=config, encoding=encoding)
    write_frame(df, output, encoding="utf-8-sig")
    n_issues = int(df["issues"].notna().sum())
    event(
        "normalize",
        f"wrote {len(df)} rows to {output} ({n_issues} with issues)",
        rows=len(df),
        rows_with_issues=n_issues,
        output=output,
    )


def _stdin_to_file(file: str) -> str:
    if file != "-":
        return file
    from ..ingest.prepare import spool_stdin

    return str(spool_stdin())


@app.command()
def dedupe(
    files: Annotated[list[str], typer.Argument(help="CSV/XLSX lists (e.g. name cards)")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="every row + cluster_id, cluster_size, match_score")
    ],
    golden: Annotated[
        Optional[str], typer.Option("--golden", help="FILE: one merged row per customer")
    ] = None,
    review: Annotated[
        Optional[str], typer.Option("--review", help="FILE.xlsx: uncertain pairs side by side")
    ] = None,
    channel: ChannelOpt = None,
    config: ConfigOpt = None,
    encoding: Annotated[
        Optional[str], typer.Option("--encoding", help="text encoding (default: detect)")
    ] = None,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = None,
) -> None:
    """One-off deduplication of a list, no store needed."""
    from ..dedupe import dedupe_files
    from ..report.writers import write_frame

    res = dedupe_files(
        [_stdin_to_file(f) for f in files],
        channel=channel,
        config_file=config,
        encoding=encoding,
        engine=engine,
        spark_master=spark_master,
    )
    write_frame(res.rows, output)
    if golden:
        write_frame(res.golden, golden)
    if review:
        write_frame(res.review, review, sheet_name="review")
    s = res.stats
    event(
        "dedupe",
        f"{s['rows']} rows -> {s['clusters']} customers ({s['duplicate_rows']} duplicates);"
        f" {s['review_pairs']} pairs to review",
        **s,
    )


@review_app.command("export")
def review_export(
    output: Annotated[str, typer.Option("--output", "-o", help="FILE.xlsx")], store: StoreOpt = None
) -> None:
    """Write the uncertain pairs, side by side, with a same/different/skip drop-down."""
    from ..merge.review import export_review

    gate = access(Store(store).path, "review export")
    if not gate.may_see("name"):
        from ..errors import CustinfoError

        raise CustinfoError(
            f"role '{gate.role.name}' may not see the personal data a review needs",
            key="--role",
            hint="run it as a role that sees confidential data, e.g. --role analyst",
        )
    n = export_review(Store(store), output)
    gate.audit(records=n, output=output)
    event("review_export", f"wrote {n} pair(s) to review to {output}", pairs=n, output=output)


@review_app.command("import")
def review_import(
    file: Annotated[str, typer.Argument(help="the filled-in review workbook")],
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Apply the decisions as must-link / cannot-link and re-cluster the customers they touch."""
    from ..merge.review import import_review

    gate = access(Store(store).path, "review import")
    res = import_review(Store(store), file)
    gate.audit(customers=sorted({x for a in res.applied for x in (a["record_a"], a["record_b"])}), file=file)
    for p in res.problems:
        event("review_problem", p, problem=p)
    if fmt == "json":
        print_json(res.as_dict())
    elif not STATE.quiet:
        for a in res.applied:
            out.print(f"row {a['row']}: {a['decision']}: {a['result']}", markup=False)
        out.print(
            f"{len(res.applied)} decision(s) applied, {res.unchanged} already in place, "
            f"{res.skipped} skipped,"
            f" {len(res.problems)} problem row(s)"
        )


@app.command()
def forget(
    customer_id: Annotated[Optional[str], typer.Argument(help="customer id")] = None,
    phone: Annotated[Optional[str], typer.Option("--phone", help="forget whoever has this phone")] = None,
    email: Annotated[Optional[str], typer.Option("--email", help="forget whoever has this email")] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Erase a person from every table and every older file; keep only a salted-hash tombstone."""
    from ..store.erase import forget as do_forget

    gate = access(Store(store).path, "forget")
    receipt = do_forget(Store(store), customer_id, phone=phone, email=email)
    gate.audit(customers=receipt.customers, records=receipt.records_removed, tables=receipt.rows_removed)
    _print_receipt(receipt, fmt)


@app.command()
def purge(
    older_than: Annotated[
        Optional[str], typer.Option("--older-than", help="DURATION like 3y, 18m, 90d")
    ] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Remove records past retention (default from configs/security.yaml), as safely as forget."""
    from ..config import load_raw
    from ..errors import CustinfoError
    from ..store.erase import purge as do_purge

    if older_than is None:
        older_than = (load_raw()[0].get("security") or {}).get("retention")
        if not older_than:
            raise CustinfoError(
                "no retention period given",
                key="--older-than",
                hint="pass --older-than 3y or set `retention:` in configs/security.yaml",
            )
    gate = access(Store(store).path, "purge")
    receipt = do_purge(Store(store), str(older_than))
    gate.audit(customers=receipt.customers, records=receipt.records_removed, older_than=str(older_than))
    _print_receipt(receipt, fmt)


def _print_receipt(receipt, fmt) -> None:
    if fmt == "json":
        print_json(receipt.as_dict())
        return
    d = receipt.as_dict()
    out.print(
        f"{d['action']} receipt ({d['at']}): {len(d['customers'])} customer(s), "
        f"{d['records_removed']} record(s)"
        f" removed; rows removed per table: {d['rows_removed']}; {d['files_vacuumed']} old file(s) vacuumed;"
        f" {d['tombstones']} tombstone key(s) kept",
        markup=False,
    )


@export_app.command("subject")
def export_subject(
    customer_id: Annotated[str, typer.Argument(help="customer id")],
    output: Annotated[str, typer.Option("--output", "-o", help="FILE.json; - = stdout")],
    store: StoreOpt = None,
) -> None:
    """Everything held about one person (their right to a copy), with provenance, as one JSON file."""
    import json

    from ..merge.lookup import subject_data
    from ..security import secure_open

    gate = access(Store(store).path, "export subject")
    if not (gate.may_see("name") and gate.may_see("national_id")):
        from ..errors import CustinfoError

        raise CustinfoError(
            f"role '{gate.role.name}' may not export everything held about a person",
            key="--role",
            hint="a data subject request is answered by a role that sees all levels: --role admin --unmask",
        )
    data = subject_data(Store(store), customer_id)
    gate.audit(customers=[data["customer_id"]], records=len(data["records"]), output=output)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output == "-":
        print_json(data)
    else:
        with secure_open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        event("export", f"wrote everything held about {data['customer_id']} to {output}", output=output)


@app.command()
def audit(
    store: StoreOpt = None,
    since: Annotated[Optional[str], typer.Option("--since", help="DATE")] = None,
    command: Annotated[Optional[str], typer.Option("--command", help="only this command")] = None,
    fmt: FormatOpt = None,
) -> None:
    """List the tamper-evident audit log and verify its hash chain (exit 3 if it was altered)."""
    from ..errors import StoreError
    from ..security import AuditLog

    log = AuditLog(Store(store).path)
    entries = log.entries(since=since, command=command)
    check = log.verify()
    if fmt == "json":
        print_json({"entries": entries, "verify": check.to_dict()})
    else:
        rows = [
            {
                "seq": e["seq"],
                "ts": e["ts"],
                "user": e["user"],
                "role": e["role"],
                "command": e["command"],
                "customers": e.get("customers"),
                "records": e.get("records"),
            }
            for e in entries
        ]
        print_frame(pd.DataFrame(rows), title="audit log", limit=1000)
    if not check.ok:
        raise StoreError(
            "audit log does not verify: " + "; ".join(f"entry {s}: {w}" for s, w in check.problems[:5]),
            file=str(log.path),
            hint="the log was edited, truncated or reordered; keep this copy as evidence",
        )
    if fmt != "json" and not STATE.quiet:
        out.print(f"audit log verified: {check.entries} entries, hash chain intact")


@app.command()
def explain(
    a: Annotated[str, typer.Argument(help="record id (or row number with --file)")],
    b: Annotated[str, typer.Argument(help="record id (or row number with --file)")],
    file: Annotated[
        Optional[str], typer.Option("--file", help="explain two rows of this file instead of the store")
    ] = None,
    store: StoreOpt = None,
    channel: ChannelOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Why two records match or not: each comparison's level, values and weight, and the total."""
    from ..match import Matcher, load_settings
    from ..merge.assign import load_model

    if file:
        from ..ingest.normalize_file import normalize_file

        df = normalize_file(file, channel=channel)
        recs = {str(r): row for r, row in zip(df["source_row"], df.to_dict("records"), strict=True)}
        context, model = df, None
    else:
        df = Store(store).frame("records")
        recs = {r["record_id"]: r for r in df.to_dict("records")}
        context, model = df, load_model(Store(store).path)
    missing = [x for x in (a, b) if x not in recs]
    if missing:
        from ..errors import NotFoundError

        raise NotFoundError(
            f"no record '{missing[0]}'",
            key="A/B",
            hint="give record ids from `custinfo export records`, or row numbers with --file",
        )
    res = Matcher(load_settings(), model=model).explain(recs[a], recs[b], context=context)
    gate = access(None if file else Store(store).path, "explain")
    gate.audit(records=2)
    if fmt == "json":
        print_json(res)
        return
    comps = res.get("comparisons", [])
    rows = [
        {
            k: (
                gate.mask(pd.DataFrame({c.get("name", ""): [v]})).iloc[0, 0]
                if k in ("left", "right")
                else round(v, 3)
                if isinstance(v, float)
                else v
            )
            for k, v in c.items()
            if not isinstance(v, (dict, list))
        }
        for c in comps
    ]
    print_frame(pd.DataFrame(rows), title=f"{a} vs {b}", limit=100)
    out.print(" ".join(f"{k}: {v}" for k, v in res.items() if not isinstance(v, (dict, list))), markup=False)


@app.command()
def train(store: StoreOpt = None, fmt: FormatOpt = None) -> None:
    """Refine the match model on the store's records (EM, no labels) and save it for later ingests."""
    from ..match import Matcher, load_settings
    from ..merge.assign import MODEL_FILE

    st = Store(store)
    df = st.frame("records")
    if not len(df):
        from ..errors import CustinfoError

        raise CustinfoError(
            "the store has no records to learn from", file=str(st.path), hint="ingest files first"
        )
    model = Matcher(load_settings()).train(df)
    model.save(st.path / MODEL_FILE)
    access(st.path, "train").audit(records=len(df))
    if fmt == "json":
        print_json(model.info)
    elif not STATE.quiet:
        out.print(
            f"trained on {len(df)} records; model saved to {st.path / MODEL_FILE}; later ingests use it"
        )
