"""One writer at a time.

The lock is an fcntl lock on `<store>/.lock`: the kernel releases it when the holder dies, so a
lock left by a killed process can never block the next run. The file also records who holds it
(pid, since), for the "store is busy" message.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from ..errors import StoreBusyError


class StoreLock:
    """Exclusive writer lock on a store directory; use as a context manager."""

    def __init__(self, store_dir: Path):
        self.path = Path(store_dir) / ".lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise StoreBusyError(
                f"store is busy (pid {holder.get('pid', '?')}, since {holder.get('since', '?')})",
                file=str(self.path.parent),
                hint="wait for the other custinfo command to finish, then run this one again",
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    @staticmethod
    def _holder(fd: int) -> dict:
        try:
            return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        except (ValueError, OSError):
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "StoreLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
