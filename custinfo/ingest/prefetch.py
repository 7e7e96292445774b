"""The stored records an ingest matches against, read while the batch's files are read and normalized.

Reading a million stored records (Parquet decode, the membership join, the conversion to pandas) takes
~2 s that do not depend on the batch, and most of it runs in Arrow's C++ without the GIL: started in a
thread before the files are prepared, it overlaps their (python) normalizing on the second core.

Only a store of READ_AHEAD_MIN_RECORDS records or more is read ahead: a smaller one is read in a
fraction of a second, not worth a thread (nor an error exit waiting for it).

The read is pinned to the manifest current when it starts. The ingest uses it only if that is still
the version its transaction starts from (another writer may commit while the files are prepared);
otherwise it reads again, as it did before.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pandas as pd

from ..errors import StoreError
from ..store.store import Store


READ_AHEAD_MIN_RECORDS = 50_000


class StoredRecords:
    """A read of the stored records (`read(store, manifest)`) started now, in one background thread."""

    def __init__(self, store: Store, read: Callable[[Store, dict], pd.DataFrame],
                 min_records: int | None = None):
        self.version: int | None = None
        self._future: Future | None = None
        try:
            manifest = store.manifest()
        except StoreError:  # reported by the transaction, after the files' own errors, as before
            return
        n = _records(manifest)
        if not n or n < (READ_AHEAD_MIN_RECORDS if min_records is None else min_records):
            return
        self.version = manifest["version"]
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custinfo-read-ahead")
        self._future = pool.submit(read, store, manifest)
        pool.shutdown(wait=False)  # the thread ends with its one read

    def result(self, manifest: dict) -> pd.DataFrame | None:
        """The records read ahead if they are those of `manifest`, else None (read them again).

        A read that failed raises its error here, as reading them at this point would have."""
        if self._future is None or manifest["version"] != self.version:
            return None
        return self._future.result()

    def wait(self) -> None:
        """Let the read finish (its outcome unused): an ingest failing on its files waits here, so no
        thread is left reading while the process ends."""
        if self._future is not None:
            self._future.exception()


def _records(manifest: dict) -> int:
    """About how many records the store holds: the rows of membership's log (as last written whole,
    and appended since; 0 when the manifest has no log: stores of an older layout)."""
    if manifest["tables"].get("records") is None:
        return 0
    log = manifest.get("logs", {}).get("membership", {})
    return int(log.get("rows") or 0) + int(log.get("appended") or 0)
