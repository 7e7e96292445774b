"""custinfo's command line: a thin layer over the library. Parses options, calls the API, prints."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

try:  # typer >= 0.26 ships its own copy of click
    from typer.exceptions import Abort, Exit
    from typer.exceptions import TyperException as UsageProblem
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import Abort, Exit
    from click.exceptions import ClickException as UsageProblem

from .. import __version__
from ..errors import EXIT_OK, EXIT_USAGE, CustinfoError
from .state import STATE, err, event, lift_global_options

app = typer.Typer(
    name="custinfo",
    help="Collect, clean, deduplicate and protect customer records from many channels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
report_app = typer.Typer(
    help="Reports: summary, quality, duplicates, channels, profile, changes, conflicts.", no_args_is_help=True
)
export_app = typer.Typer(
    help="Export the store: records, customers, contacts, subject.", no_args_is_help=True
)
review_app = typer.Typer(
    help="Review uncertain matches in Excel and import the decisions.", no_args_is_help=True
)
app.add_typer(report_app, name="report")
app.add_typer(export_app, name="export")
app.add_typer(review_app, name="review")

StoreOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--store",
        envvar="CUSTINFO_STORE",
        metavar="DIR",
        help="store directory [default: $CUSTINFO_STORE, else ./custinfo_store]",
    ),
]
ChannelOpt = Annotated[
    Optional[str], typer.Option("--channel", help="collection channel; configs/NAME.yaml refines reading")
]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="another config file (YAML)")]
FormatOpt = Annotated[Optional[str], typer.Option("--format", "-f", help="table|json|csv|markdown|xlsx|html")]
OutOpt = Annotated[
    Optional[str], typer.Option("--output", "-o", help="write to FILE (format from extension; - = stdout)")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custinfo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks on errors")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only results and errors")] = False,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text|json: json = one JSON line per event on stderr")
    ] = "text",
    role: Annotated[
        Optional[str],
        typer.Option("--role", envvar="CUSTINFO_ROLE", help="who is asking: decides what is masked"),
    ] = None,
    unmask: Annotated[
        bool, typer.Option("--unmask", help="show masked values (only roles allowed to; logged)")
    ] = False,
) -> None:
    """custinfo: collect, clean, deduplicate and protect customer records.

    Shared options (--debug, --quiet, --log-format, --role, --unmask) may be given before or after
    the command.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point: map errors to one line and an exit code (0 ok, 1 data, 2 usage/input, 3 store)."""
    args = lift_global_options(list(sys.argv[1:] if argv is None else argv))
    from ..memory import map_large_allocations
    from . import commands  # noqa: F401  (registers the commands)

    map_large_allocations()  # large buffers unmapped when freed: the heap of a big ingest stays small

    try:
        app(args=args, prog_name="custinfo", standalone_mode=False)
        return EXIT_OK
    except CustinfoError as exc:
        return _fail(exc.one_line(), exc.exit_code, exc.as_dict())
    except Exit as exc:
        return exc.exit_code
    except UsageProblem as exc:
        return _fail(exc.format_message(), EXIT_USAGE, {"error": "UsageError"})
    except Abort:
        return _fail("aborted", 130, {"error": "Abort"})
    except KeyboardInterrupt:
        return _fail("interrupted; the store is unchanged unless a commit had finished", 130, {})
    except Exception as exc:  # a bug: one line, the traceback only with --debug
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
            4,
            {"error": type(exc).__name__},
        )


def _fail(message: str, code: int, data: dict) -> int:
    if STATE.debug:
        traceback.print_exc()
    if STATE.log_format == "json":
        event("error", exit_code=code, **{k: v for k, v in data.items() if k != "exit_code"}, message=message)
    else:
        err.print(f"custinfo: error: {message}", markup=False)
    return code


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
