"""Append-only, tamper-evident audit log: who used which personal data, when, with what command.

``<store>/audit/audit.jsonl`` holds one JSON object per line. Each entry carries ``prev_hash`` (the
hash of the entry before it) and ``hash`` = sha256 of the canonical JSON of the entry without
``hash``; so editing, deleting or reordering lines breaks the chain. Cutting lines off the end
leaves a valid chain, so the hash and seq of the last entry are also kept in ``<store>/audit/head``:
a log shorter than its head was truncated. (Someone able to rewrite both files and recompute every
hash can still forge history; copy the head elsewhere, e.g. into the nightly job's log, to anchor it.)

Appends take an exclusive ``fcntl`` lock, write one line, fsync, then replace ``head`` atomically.
A crash between the two leaves the head one entry behind; that is accepted and healed by the next
append. A log found shorter than its head is never silently continued: the next append first writes
an ``audit.break`` entry recording what the head said, so the evidence stays in the chain.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import hashlib
import json
import numbers
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .perms import secure_mkdir, secure_open

GENESIS = "0" * 64
MAX_LISTED_CUSTOMERS = 100
BREAK_COMMAND = "audit.break"


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept) used for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(entry: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``entry`` without its ``hash`` key (``prev_hash`` included)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers; fall back to the uid
        return f"uid:{os.getuid()}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class VerifyResult:
    """Outcome of :meth:`AuditLog.verify`: ``problems`` lists (seq or None, what is wrong)."""

    ok: bool
    entries: int
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    head: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": self.head,
                "problems": [{"seq": s, "problem": w} for s, w in self.problems]}


class AuditLog:
    """The audit log of one store directory."""

    def __init__(self, store_dir: str | os.PathLike[str]):
        self.store_dir = Path(store_dir)
        self.dir = self.store_dir / "audit"
        self.path = self.dir / "audit.jsonl"
        self.head_path = self.dir / "head"

    # -- writing -----------------------------------------------------------------------------
    def append(self, command: str, role: str, customers: Iterable[str] | int | None = None,
               records: int | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append one entry and return it. ``customers``: ids (listed up to 100) or just a count."""
        secure_mkdir(self.dir)
        with secure_open(self.path, "ab") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                last = self._repair_and_last(fh)
                last = self._record_break_if_truncated(fh, last, role)
                entry = self._make_entry(last, command, role, customers, records, details)
                self._write(fh, entry)
                return entry
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _make_entry(self, last: dict[str, Any] | None, command: str, role: str,
                    customers: Iterable[str] | int | None, records: int | None,
                    details: dict[str, Any] | None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": (last["seq"] + 1) if last else 1,
            "ts": _now(),
            "user": _user(),
            "role": role,
            "pid": os.getpid(),
            "command": command,
            "customers": _customers_field(customers),
            "records": int(records) if records is not None else None,
            "details": details or {},
            "prev_hash": last["hash"] if last else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        return entry

    def _write(self, fh: Any, entry: dict[str, Any]) -> None:
        fh.write((canonical_json(entry) + "\n").encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
        self._write_head(entry)

    def _write_head(self, entry: dict[str, Any]) -> None:
        tmp = self.head_path.with_name(f"head.{os.getpid()}.tmp")
        with secure_open(tmp, "w") as h:
            h.write(canonical_json({"seq": entry["seq"], "hash": entry["hash"]}) + "\n")
            h.flush()
            os.fsync(h.fileno())
        os.replace(tmp, self.head_path)
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _repair_and_last(self, fh: Any) -> dict[str, Any] | None:
        """Last complete entry; a torn last line (crash mid-write, never acknowledged) is cut off."""
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return None
        tail, tail_start = _read_tail(self.path, size)
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            new_size = tail_start + cut + 1 if cut >= 0 else 0
            if not _torn_fragment(tail[cut + 1:]):  # a whole entry that lost its newline
                fh.write(b"\n")
                return _parse_last(tail)
            os.ftruncate(fh.fileno(), new_size)
            if new_size == 0:
                return None
            tail, _ = _read_tail(self.path, new_size)
        return _parse_last(tail)

    def _record_break_if_truncated(self, fh: Any, last: dict[str, Any] | None,
                                   role: str) -> dict[str, Any] | None:
        head = self.read_head()
        last_seq = last["seq"] if last else 0
        if head is None or head.get("seq", 0) <= last_seq:
            return last
        brk = self._make_entry(last, BREAK_COMMAND, role, None, None, {
            "problem": "the log is shorter than its head: entries were removed from the end",
            "head_seq": head.get("seq"), "head_hash": head.get("hash"), "log_seq": last_seq})
        self._write(fh, brk)
        return brk

    # -- reading -----------------------------------------------------------------------------
    def read_head(self) -> dict[str, Any] | None:
        """The head file ({seq, hash}) or None when it does not exist or cannot be read."""
        try:
            data = json.loads(self.head_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _snapshot(self) -> tuple[list[str], dict[str, Any] | None]:
        """The log's lines and the head, read under a shared lock: never a half-done append."""
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return [], self.read_head()
        with fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
            try:
                data = fh.read()
                head = self.read_head()
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return data.decode("utf-8", errors="replace").splitlines(keepends=True), head

    def entries(self, since: dt.datetime | str | None = None,
                command: str | None = None) -> list[dict[str, Any]]:
        """Entries in order, optionally only those at/after ``since`` and of ``command``
        (an exact name, or a prefix ending in ``*`` such as ``export*``)."""
        cutoff = _as_utc(since) if since is not None else None
        out = []
        for line in self._snapshot()[0]:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if not isinstance(e, dict):
                continue
            if command and not _command_matches(str(e.get("command")), command):
                continue
            if cutoff is not None and (_parse_ts(e.get("ts")) or cutoff) < cutoff:
                continue
            out.append(e)
        return out

    def verify(self) -> VerifyResult:
        """Check every hash, the chain, seq order and the head; list every problem found."""
        problems: list[tuple[int | None, str]] = []
        prev_hash, prev_seq, count, last = GENESIS, 0, 0, None
        lines, head = self._snapshot()
        for lineno, line in enumerate(lines, start=1):
            entry = _parse_line(line, lineno, problems)
            if entry is None:
                continue
            count += 1
            seq = entry.get("seq")
            _check_entry(entry, seq, prev_seq, prev_hash, problems)
            prev_hash, prev_seq, last = entry.get("hash"), seq if isinstance(seq, int) else prev_seq, entry
        _check_head(head, last, problems)
        return VerifyResult(ok=not problems, entries=count, problems=problems, head=head)


def _customers_field(customers: Iterable[str] | int | None) -> dict[str, Any]:
    if customers is None:
        return {"count": 0, "ids": []}
    if isinstance(customers, numbers.Integral):  # numpy integers too
        return {"count": int(customers), "ids": []}
    ids = [str(c) for c in customers]
    return {"count": len(ids), "ids": ids[:MAX_LISTED_CUSTOMERS],
            "truncated": len(ids) > MAX_LISTED_CUSTOMERS}


def _read_tail(path: Path, size: int, chunk: int = 65536) -> tuple[bytes, int]:
    """The last bytes of the file (enough to hold at least one full line) and their offset."""
    with open(path, "rb") as fh:
        start = max(0, size - chunk)
        while True:
            fh.seek(start)
            data = fh.read(size - start)
            if start == 0 or data.count(b"\n") >= 2:
                return data, start
            start = max(0, start - chunk)


def _torn_fragment(fragment: bytes) -> bool:
    """A trailing piece without newline that is not a complete entry: left by a crash mid-write."""
    try:
        json.loads(fragment.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return True
    return False


def _parse_last(tail: bytes) -> dict[str, Any] | None:
    for raw in reversed(tail.splitlines()):
        if raw.strip():
            try:
                e = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return None
            return e if isinstance(e, dict) and isinstance(e.get("seq"), int) else None
    return None


def _parse_line(line: str, lineno: int, problems: list[tuple[int | None, str]]) -> dict[str, Any] | None:
    if not line.endswith("\n"):
        problems.append((None, f"line {lineno}: incomplete last line (a write was interrupted)"))
    if not line.strip():
        problems.append((None, f"line {lineno}: blank line"))
        return None
    try:
        e = json.loads(line)
    except ValueError:
        problems.append((None, f"line {lineno}: not valid JSON (edited or damaged)"))
        return None
    if not isinstance(e, dict):
        problems.append((None, f"line {lineno}: not an audit entry"))
        return None
    return e


def _check_entry(entry: dict[str, Any], seq: Any, prev_seq: int, prev_hash: Any,
                 problems: list[tuple[int | None, str]]) -> None:
    s = seq if isinstance(seq, int) else None
    if s is None:
        problems.append((None, "entry without a seq number"))
    elif s != prev_seq + 1:
        what = "missing entries before it" if s > prev_seq + 1 else "out of order or repeated"
        problems.append((s, f"seq {s} follows seq {prev_seq}: {what}"))
    if entry.get("hash") != entry_hash(entry):
        problems.append((s, "hash does not match the content: the entry was edited"))
    if entry.get("prev_hash") != prev_hash:
        problems.append((s, "prev_hash does not match the entry before: entries deleted, inserted or moved"))
    if entry.get("command") == BREAK_COMMAND:
        d = entry.get("details") or {}
        problems.append((s, f"the log had been truncated: head said seq {d.get('head_seq')}, "
                            f"the log ended at seq {d.get('log_seq')}"))


def _check_head(head: dict[str, Any] | None, last: dict[str, Any] | None,
                problems: list[tuple[int | None, str]]) -> None:
    if last is None:
        if head is not None and head.get("seq"):
            problems.append((head.get("seq"), "the log is empty or missing but its head says "
                                              "entries existed"))
        return
    if head is None:
        problems.append((None, "audit/head is missing: truncation of the tail cannot be ruled out"))
        return
    hs, ls = head.get("seq"), last.get("seq")
    if not isinstance(hs, int) or not isinstance(ls, int):
        problems.append((None, "audit/head is not readable"))
    elif hs > ls:
        problems.append((ls, f"the log ends at seq {ls} but its head says seq {hs}: entries cut off the end"))
    elif hs == ls and head.get("hash") != last.get("hash"):
        problems.append((ls, "the last entry does not match audit/head: it was replaced"))
    elif hs < ls - 1 or (hs == ls - 1 and last.get("prev_hash") != head.get("hash")):
        problems.append((ls, f"audit/head (seq {hs}) does not match the log (ends at seq {ls})"))


def _as_utc(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        d = value
    else:
        d = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return d.replace(tzinfo=dt.timezone.utc) if d.tzinfo is None else d.astimezone(dt.timezone.utc)


def _parse_ts(value: Any) -> dt.datetime | None:
    try:
        return _as_utc(str(value))
    except ValueError:
        return None


def _command_matches(name: str, pattern: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
