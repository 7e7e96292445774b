"""Handing freed memory back to the operating system between the phases of a large ingest.

CPython, NumPy and pandas allocate through glibc's malloc, which keeps freed memory in its arenas
for reuse. After a phase that made and dropped millions of small objects (normalizing, golden
records) that memory stays resident, and the next phase, whose buffers come from other allocators
(DuckDB's, Arrow's), adds its own on top: the process's peak is the sum. `malloc_trim(0)` returns the
free pages of every arena; Arrow's pool releases what it caches. Both are no-ops where unavailable.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # pragma: no cover - no glibc (e.g. musl)
        return None


def release_memory() -> None:
    """Give free heap pages back to the OS (glibc) and empty Arrow's cache of freed buffers."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - an allocator without the call: nothing to release
        pass


_M_MMAP_THRESHOLD = -3  # mallopt parameter (glibc malloc.h)
MMAP_THRESHOLD = 1 << 20


def map_large_allocations(threshold: int = MMAP_THRESHOLD) -> bool:
    """Serve allocations of `threshold` bytes or more from mappings of their own, unmapped when freed.

    glibc raises its mmap threshold each time a mapped block is freed (up to 32 MB), so the large,
    short-lived buffers of a pandas/numpy phase end up on the heap, where a long-lived object
    allocated after them keeps the pages resident (malloc_trim cannot return them). A fixed threshold
    turns that dynamic behaviour off for the whole process, so the command line sets it, not the
    library. Returns whether it was set (False where glibc is not there).
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)))
