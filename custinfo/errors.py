"""Errors as data: one base class, a few kinds, each mapped to an exit code by the CLI.

Every error carries where it happened (file, row, field/key) and a hint saying what to do,
so the CLI can print one line and exit with the documented code.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_DATA = 1  # the data had problems the user asked to be strict about
EXIT_USAGE = 2  # usage, config or input error
EXIT_STORE = 3  # store busy, corrupt, or an invariant failed


class CustinfoError(Exception):
    """Base of every error custinfo raises on purpose."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 key: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.key = key
        self.hint = hint

    def one_line(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.key:
            where.append(str(self.key))
        text = (": ".join([", ".join(where), self.message]) if where else self.message)
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message, "file": self.file,
                "row": self.row, "key": self.key, "hint": self.hint, "exit_code": self.exit_code}

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.one_line()


class ConfigError(CustinfoError):
    """A config file is invalid. `problems` lists every problem found, not just the first."""

    def __init__(self, message: str, problems: list[str] | None = None, **kw):
        super().__init__(message, **kw)
        self.problems = problems or []

    def one_line(self) -> str:
        base = super().one_line()
        if self.problems:
            return base + "; " + "; ".join(self.problems)
        return base


class InputError(CustinfoError):
    """An input file cannot be read or used as it is."""


class StoreError(CustinfoError):
    """The store is busy, corrupt, or an invariant does not hold."""

    exit_code = EXIT_STORE


class StoreBusyError(StoreError):
    """Another process holds the store's writer lock."""


class NotFoundError(CustinfoError):
    """A customer, record or file named by the user does not exist."""
