"""The canonical store: Delta Lake tables plus a manifest that makes one command one atomic commit.

Delta commits are atomic per table, not across tables. A command therefore writes its new table
versions first and then publishes a manifest (`_manifest/NNNNNNNN.json`, created with an atomic
link) that pins the version of every table. Readers only ever read the pinned versions, so a
command killed halfway leaves the store exactly as it was; the next writer rolls any table that
got ahead of the manifest back to its pinned version before it writes.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from ..errors import StoreError
from .lock import StoreLock
from .tables import INT_COLUMNS, TABLES

MANIFEST_DIR = "_manifest"
# No column statistics in the Delta log: min/max stats would copy phone numbers and names into the
# log, where erasure (rewrite + vacuum of data files) could not reach them.
TABLE_CONFIG = {"delta.dataSkippingNumIndexedCols": "0"}


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def default_store_path() -> Path:
    return Path(os.environ.get("CUSTINFO_STORE") or "./custinfo_store")


def arrow_table(name: str, df: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table with the table's columns and types (strings, ints)."""
    cols = TABLES[name]
    arrays, fields = [], []
    for c in cols:
        values = df[c] if c in df.columns else pd.Series([None] * len(df), dtype=object)
        if c in INT_COLUMNS:
            typ = pa.int64()
            arr = pa.array(pd.to_numeric(values, errors="coerce").astype("Int64"), type=typ)
        else:
            typ = pa.string()
            arr = _string_array(values)
        arrays.append(arr)
        fields.append(pa.field(c, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _string_array(values: pd.Series) -> pa.Array:
    """Strings with None/NaN as null; values that are not text are written as str(value)."""
    try:  # text columns (nearly all) convert in C; a per-value loop took ~5 s per million rows
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
            return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return pa.array([None if v is None or v != v else str(v) for v in values], type=pa.string())


def object_frame(tbl: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with python objects (str/None) for text and Int64 for the integer columns."""
    df = tbl.to_pandas()
    for c in df.columns:
        if c in INT_COLUMNS:
            df[c] = df[c].astype("Int64")
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def rows_of(tbl: pa.Table, key: str, values) -> pd.DataFrame:
    """The rows of `tbl` whose `key` is one of `values`, as python objects."""
    wanted = pa.array(sorted({str(v) for v in values}), type=pa.string())
    return object_frame(tbl.filter(pc.is_in(tbl[key], value_set=wanted)))


def upserted(base: pa.Table, rows: pa.Table, key: str) -> pa.Table:
    """`base` with its rows whose `key` appears in `rows` replaced by `rows`, sorted by `key`."""
    keep = base.filter(pc.invert(pc.is_in(base[key], value_set=rows[key])))
    out = pa.concat_tables([keep.select(rows.column_names).cast(rows.schema), rows])
    return out.sort_by(key)


class Store:
    """A custinfo store directory. Reading needs no lock; writing goes through `transaction()`."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_store_path()

    # ---- manifest -------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.path / MANIFEST_DIR).is_dir()

    def manifests(self) -> list[dict]:
        mdir = self.path / MANIFEST_DIR
        if not mdir.is_dir():
            return []
        out = []
        for p in sorted(mdir.glob("[0-9]*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (OSError, ValueError) as exc:
                raise StoreError(f"manifest {p.name} is unreadable ({exc})", file=str(self.path),
                                 hint="run `custinfo verify`; restore the store from a backup") from exc
        return out

    def manifest(self, as_of: str | datetime | None = None) -> dict:
        """The newest manifest, or the newest committed at or before `as_of`."""
        ms = self.manifests()
        if as_of is not None:
            cut = _as_datetime(as_of)
            ms = [m for m in ms if _as_datetime(m["committed_at"]) <= cut]
            if not ms:
                raise StoreError(f"the store has no state as of {as_of}", file=str(self.path),
                                 hint="pick a later date; `custinfo report changes` lists commit times")
        return ms[-1] if ms else {"version": 0, "tables": {}, "counters": {}}

    # ---- reading --------------------------------------------------------------------------
    def table_version(self, name: str, manifest: dict | None = None) -> int | None:
        return (manifest or self.manifest())["tables"].get(name)

    def arrow(self, name: str, *, manifest: dict | None = None, columns: list[str] | None = None) -> pa.Table:
        """A table as pinned by the manifest (empty, with the right columns, if never written)."""
        version = self.table_version(name, manifest)
        if version is None:
            empty = arrow_table(name, pd.DataFrame(columns=TABLES[name]))
            return empty.select(columns) if columns else empty
        try:
            dt = DeltaTable(str(self.path / name), version=version)
            return dt.to_pyarrow_table(columns=columns)
        except Exception as exc:  # deltalake raises several kinds; all mean the same to the user
            raise StoreError(f"table {name} version {version} is unreadable ({exc})", file=str(self.path),
                             hint="run `custinfo verify`; restore the store from a backup") from exc

    def frame(self, name: str, *, manifest: dict | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """A table as a pandas frame of python objects (str/int/None)."""
        return object_frame(self.arrow(name, manifest=manifest, columns=columns))

    def rows(self, name: str, key: str, values, *, manifest: dict | None = None,
             columns: list[str] | None = None) -> pd.DataFrame:
        """The rows whose `key` is one of `values`, as python objects; the filter runs in Arrow, so
        only those rows are ever converted (a few thousand customers of a million, on each ingest)."""
        return rows_of(self.arrow(name, manifest=manifest, columns=columns), key, values)

    # ---- writing --------------------------------------------------------------------------
    @contextmanager
    def transaction(self, command: str = "") -> Iterator["Transaction"]:
        """Lock the store, roll back any half-written command, and yield a Transaction.

        Nothing is visible to readers until `Transaction.commit()` publishes the manifest.
        """
        old_umask = os.umask(0o077)  # store files are owner-only (0600/0700)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with StoreLock(self.path):
                (self.path / MANIFEST_DIR).mkdir(exist_ok=True)
                self.recover()
                yield Transaction(self, command)
        finally:
            os.umask(old_umask)

    def recover(self) -> list[str]:
        """Roll every table back to the version the newest manifest pins. Call with the lock held."""
        pinned = self.manifest()["tables"]
        actions = []
        for name in TABLES:
            tdir = self.path / name
            if not (tdir / "_delta_log").is_dir():
                if tdir.exists() and name not in pinned:
                    shutil.rmtree(tdir)
                continue
            if name not in pinned:
                shutil.rmtree(tdir)
                actions.append(f"removed half-created table {name}")
                continue
            dt = DeltaTable(str(tdir))
            if dt.version() > pinned[name]:
                dt.restore(pinned[name])
                actions.append(f"rolled {name} back to version {pinned[name]}")
        return actions


class Transaction:
    """Stages table writes; `commit()` writes them and publishes one manifest."""

    def __init__(self, store: Store, command: str):
        self.store = store
        self.command = command
        self.base = store.manifest()
        self.counters = dict(self.base.get("counters", {}))
        self._ops: list[tuple[str, str, pa.Table, str | None]] = []
        self._base_tables: dict[str, pa.Table] = {}  # read once for rows() and the upsert at commit

    def rows(self, name: str, key: str, values) -> pd.DataFrame:
        """`Store.rows` of the base version; the table is kept for an upsert of the same table."""
        return rows_of(self._base(name), key, values)

    def _base(self, name: str) -> pa.Table:
        if name not in self._base_tables:
            self._base_tables[name] = self.store.arrow(name, manifest=self.base)
        return self._base_tables[name]

    def append(self, name: str, df: pd.DataFrame) -> None:
        if len(df):
            self._ops.append((name, "append", arrow_table(name, df), None))

    def overwrite(self, name: str, df: pd.DataFrame) -> None:
        self._ops.append((name, "overwrite", arrow_table(name, df), None))

    def upsert(self, name: str, df: pd.DataFrame, key: str) -> None:
        """Rows of `df` replace the table's rows with the same `key`; every other row is kept.

        Only the changed rows go through pandas -> Arrow; the rest of the table is copied in Arrow.
        """
        if len(df):
            self._ops.append((name, "upsert", arrow_table(name, df), key))

    def next_id(self, counter: str, n: int = 1) -> int:
        """Reserve n ids from a counter that only ever grows (ids are never reused)."""
        start = int(self.counters.get(counter, 0)) + 1
        self.counters[counter] = start + n - 1
        return start

    def commit(self, info: dict | None = None) -> dict:
        tables = dict(self.base["tables"])
        while self._ops:  # each staged table is dropped once written: they are not all held to the end
            name, mode, tbl, key = self._ops.pop(0)
            uri = str(self.store.path / name)
            exists = name in tables
            if mode == "upsert":  # the pinned version is the newest one: recover() rolled back the rest
                if exists:
                    tbl = upserted(self._base(name), tbl, key)
                    del self._base_tables[name]
                mode = "overwrite"
            write_deltalake(uri, tbl, mode=mode if exists else "overwrite",
                            schema_mode="merge" if exists and mode == "append" else None,
                            configuration=None if exists else TABLE_CONFIG)
            tables[name] = DeltaTable(uri).version()
        manifest = {"version": int(self.base["version"]) + 1, "committed_at": utcnow(),
                    "command": self.command, "tables": tables, "counters": self.counters,
                    "info": info or {}}
        _publish(self.store.path / MANIFEST_DIR, manifest)
        return manifest


def _publish(mdir: Path, manifest: dict) -> None:
    """Create the manifest file atomically: write a temp file, fsync, hard-link to its final name."""
    final = mdir / f"{manifest['version']:08d}.json"
    tmp = mdir / f".tmp-{os.getpid()}-{manifest['version']}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, final)
    except FileExistsError as exc:
        raise StoreError(f"manifest {final.name} already exists: another writer committed",
                         file=str(mdir.parent), hint="run the command again") from exc
    finally:
        tmp.unlink(missing_ok=True)
    dfd = os.open(mdir, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _as_datetime(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if len(text) == 10:  # a bare date means the end of that day
            text += "T23:59:59.999999"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt
