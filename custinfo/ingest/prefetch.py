"""The stored records an ingest matches against, read while the batch's files are read and normalized.

Reading a million stored records (Parquet decode, the membership join, the conversion to pandas) takes
~2 s that do not depend on the batch, and most of it runs in Arrow's C++ without the GIL: started in a
thread before the files are prepared, it overlaps their (python) normalizing on the second core.

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


class StoredRecords:
    """A read of the stored records (`read(store, manifest)`) started now, in one background thread."""

    def __init__(self, store: Store, read: Callable[[Store, dict], pd.DataFrame]):
        self.version: int | None = None
        self._future: Future | None = None
        try:
            manifest = store.manifest()
        except StoreError:  # reported by the transaction, after the files' own errors, as before
            return
        if manifest["tables"].get("records") is None:  # an empty store: nothing to read ahead
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
