"""Options every command shares (--debug, --quiet, --log-format, --role), and event logging.

They may be written anywhere on the command line (`custinfo ingest f.csv --quiet` or
`custinfo --quiet ingest f.csv`): main() lifts them out before typer parses the rest.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.console import Console

FLAG_OPTIONS = {"--debug": "debug", "--quiet": "quiet", "-q": "quiet", "--unmask": "unmask"}
VALUE_OPTIONS = {"--log-format": "log_format", "--role": "role"}


@dataclass
class State:
    debug: bool = False
    quiet: bool = False
    log_format: str = "text"
    role: str | None = None
    unmask: bool = False


STATE = State()
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def lift_global_options(argv: list[str]) -> list[str]:
    """Set STATE from the shared options wherever they are, and return the other arguments."""
    rest, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        key, _, inline = a.partition("=")
        if a in FLAG_OPTIONS:
            setattr(STATE, FLAG_OPTIONS[a], True)
        elif key in VALUE_OPTIONS and (inline or i + 1 < len(argv)):
            value = inline if inline else argv[i + 1]
            i += 0 if inline else 1
            setattr(STATE, VALUE_OPTIONS[key], value)
        else:
            rest.append(a)
        i += 1
    if STATE.role is None:
        STATE.role = os.environ.get("CUSTINFO_ROLE") or None
    return _store_after_command(rest)


def _store_after_command(argv: list[str]) -> list[str]:
    """`custinfo --store DIR ingest F` works as `custinfo ingest F --store DIR`: the option belongs to
    each command, so one written before the command name is moved behind it."""
    head, i = [], 0
    while i < len(argv) and argv[i].partition("=")[0] == "--store":
        take = 1 if "=" in argv[i] else 2
        head += argv[i : i + take]
        i += take
    if not head:
        return argv
    rest = argv[i:]
    cut = rest.index("--") if "--" in rest else len(rest)
    return rest[:cut] + head + rest[cut:]


def access(store_path, command: str):
    """The role, masking and audit log of this command (see custinfo.access)."""
    from ..access import Access

    return Access(store_path, STATE.role, STATE.unmask, command)


def event(name: str, message: str = "", **fields) -> None:
    """One log event on stderr: a JSON line with --log-format json, else a short text line."""
    if STATE.log_format == "json":
        rec = {"ts": datetime.now(timezone.utc).isoformat(timespec="seconds"), "event": name, **fields}
        if message:
            rec["message"] = message
        sys.stderr.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        sys.stderr.flush()
    elif not STATE.quiet and message:
        err.print(message)


def is_terminal() -> bool:
    return sys.stdout.isatty()
