"""The canonical store: Delta Lake tables plus a manifest that makes one command one atomic commit.

Delta commits are atomic per table, not across tables. A command therefore writes its new table
versions first (each as soon as it is staged, so its rows need not stay in memory) and then
publishes a manifest (`_manifest/NNNNNNNN.json`, created with an atomic link) that pins the version
of every table. Readers only ever read the pinned versions, so a command killed halfway leaves the
store exactly as it was; the next writer (or the failing command itself, when it fails with an
exception) rolls any table that got ahead of the manifest back to its pinned version.

`customers` and `membership` are keyed logs (LOG_TABLES): an ingest appends the new rows of the
customers it touched, each tagged with the store version that wrote it (column `_v`), instead of
rewriting a table of a million rows; the current row of a key is its newest. Readers of the store
see only current rows. Once the rows appended since a table was last written whole exceed
COMPACT_SHARE of it, the next upsert writes it whole again (dropping the superseded rows); any
overwrite (link, split, forget, purge) does the same. A table of the older layout (no `_v`: every
upsert rewrote it) reads as it is and is rewritten whole, with `_v`, by its first upsert.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from ..errors import StoreError
from .lock import StoreLock
from .parquet_files import commit_files
from .tables import ARROW_TEXT, INT_COLUMNS, TABLES

MANIFEST_DIR = "_manifest"
# No column statistics in the Delta log: min/max stats would copy phone numbers and names into the
# log, where erasure (rewrite + vacuum of data files) could not reach them.
TABLE_CONFIG = {"delta.dataSkippingNumIndexedCols": "0"}
# key of each table kept as a log of row versions (see the module docstring)
LOG_TABLES = {"customers": "customer_id", "membership": "record_id"}
LOG_SEQ = "_v"  # the store (manifest) version that wrote the row; null in rows of the older layout
COMPACT_SHARE = 0.5


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


def text_frame(tbl: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with Arrow-backed text (pandas 3's str dtype, asked for by name: pandas 2 would
    make a python object of every string, ~2 GB and seconds for a million records of 35 columns) and
    Int64 for the integer columns."""
    df = tbl.to_pandas(types_mapper={pa.string(): ARROW_TEXT, pa.large_string(): ARROW_TEXT}.get)
    for c in INT_COLUMNS.intersection(df.columns):
        df[c] = df[c].astype("Int64")
    return df


def object_frame(tbl: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with python objects (str/None) for text and Int64 for the integer columns.

    The text columns fill one 2-D block, which the frame takes as it is: a frame built from a dict of
    columns copied them all into one block again (a third of the time, for the ~40k customers an
    ingest of 10k records touches)."""
    names = tbl.column_names
    text = [i for i, col in enumerate(tbl.columns) if names[i] not in INT_COLUMNS and _is_text(col.type)]
    block = np.empty((len(text), tbl.num_rows), dtype=object)
    for row, i in enumerate(text):
        # python strings and None straight from Arrow: pandas' astype(object).where(notna) took as long
        # again (and pandas 3 would make its own text dtype of the strings)
        block[row] = tbl.column(i).to_numpy(zero_copy_only=False)
    df = pd.DataFrame(block.T, columns=[names[i] for i in text], dtype=object, copy=False)  # pandas 3: no str
    for i in sorted(set(range(len(names))) - set(text)):  # in column order: each lands at its place
        values = tbl.column(i).to_pandas()
        df.insert(i, names[i], values.astype("Int64") if names[i] in INT_COLUMNS
                  else values.astype(object).where(values.notna(), None))
    return df


def current_mask(tbl: pa.Table, key: str, floor: int | None = None) -> pa.Array | None:
    """Of a log table's rows, those that are their key's newest version (None: all of them are).

    The rows with the lowest `_v` are the table's last whole write (distinct keys); rows appended
    since are few. Among those the newest per key is kept (a stable sort, newest first, then each
    key's first row), and a row of the whole write is kept unless its key was appended since.
    `floor`: the lowest `_v` of the whole table, when `tbl` holds every row of some keys only.
    """
    if LOG_SEQ not in tbl.column_names or tbl.num_rows == 0:
        return None
    seq = tbl[LOG_SEQ].fill_null(0)  # rows of the older layout are older than any tagged row
    span = pc.min_max(seq)
    low = span["min"] if floor is None else pa.scalar(floor, span["min"].type)
    if low == span["max"]:  # one write: keys are unique
        return None
    later = np.flatnonzero(pc.greater(seq, low).to_numpy(zero_copy_only=False))
    order = pc.array_sort_indices(seq.take(later), order="descending")
    keys = tbl[key].take(later).take(order).combine_chunks()
    newest = later[order.take(pc.index_in(pc.unique(keys), value_set=keys)).to_numpy()]
    mask = np.invert(pc.is_in(tbl[key], value_set=keys).to_numpy(zero_copy_only=False))
    mask[newest] = True
    return pa.array(mask)


# A read of the rows whose column is one of some values (`where`) scans the table with DuckDB when they
# are at most this share of it: DuckDB decodes the other columns of the matching rows only, where
# pyarrow decoded every row (a +10k ingest into a 1M store reads 39k of 511k customers: 0.7 CPU s
# instead of 1.0, and its 85k of 1M records' other columns: 0.3 instead of 0.45).
PICK_SHARE = 0.25


def _picked_rows(dt: DeltaTable, columns: list[str], where: tuple[str, pa.Array],
                 logged: bool) -> tuple[pa.Table, int | None] | None:
    """The rows of `dt` whose column `where[0]` is one of `where[1]`, in `columns` (those of them the
    data files hold), in the table's order (files as the Delta log lists them, rows as written), with the
    lowest `_v` of the whole table when `logged`; None when they are over PICK_SHARE of the rows."""
    col, values = where
    probe = read_files(dt, [col, LOG_SEQ] if logged else [col])  # one or two narrow columns
    hits = pc.sum(pc.is_in(probe[col], value_set=values)).as_py() or 0
    files = dt.file_uris()
    if not files or hits > PICK_SHARE * probe.num_rows:
        return None
    floor = pc.min(probe[LOG_SEQ].fill_null(0)).as_py() if logged else None
    import duckdb  # late: the store is read by commands that never scan this way

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")  # it would draw on stdout, which may carry JSON
        con.register("wanted", pa.table({"v": values}))
        scan = "read_parquet($files, filename = true, file_row_number = true, union_by_name = true)"
        described = con.sql(f"DESCRIBE SELECT * FROM {scan}", params={"files": files}).fetchall()
        present = {row[0] for row in described}
        picked = ", ".join(f'"{c}"' for c in columns if c in present)
        tbl = con.sql(f'SELECT {picked}, filename, file_row_number FROM {scan} '
                      f'WHERE "{col}" IN (SELECT v FROM wanted)', params={"files": files}).to_arrow_table()
    finally:
        con.close()
    if tbl.num_rows != hits:  # the two readers must agree on which rows hold the values
        raise StoreError(f"{dt.table_uri}: DuckDB read {tbl.num_rows} rows where pyarrow saw {hits}",
                         hint="run `custinfo verify`")
    at = pc.index_in(tbl["filename"], value_set=pa.array(files))
    tbl = sorted_by(tbl.append_column("_file", at), ["_file", "file_row_number"])
    return _plain_types(tbl.drop_columns(["filename", "file_row_number", "_file"])), floor


def read_files(dt: DeltaTable, columns: list[str] | None) -> pa.Table:
    """The rows of a table version's data files (files as the Delta log lists them, rows as written),
    read by pyarrow's own Parquet dataset.

    deltalake's `to_pyarrow_table` reads through a filesystem handler written in Python, whose calls
    from Arrow's IO threads could still be running when the interpreter exited: a script that read
    the store and ended at once aborted ("terminate called without an active exception", exit 134)
    in 5 of 10 runs on the samples' store. The tables use no deletion vectors, column mapping or
    partitions, so their current rows are exactly those of their data files."""
    files = dt.file_uris()
    if not files:
        return pa.table({f.name: pa.array([], _plain_type(f.type)) for f in _delta_fields(dt)
                         if columns is None or f.name in columns})
    import pyarrow.dataset as ds  # late: most commands never scan this way
    import pyarrow.parquet as pq

    # files of older versions may lack a column added since (other_id, _v): read as nulls
    declared = pa.schema([pa.field(f.name, _plain_type(f.type)) for f in _delta_fields(dt)])
    schema = pa.unify_schemas([declared, *(pq.read_schema(f) for f in files)], promote_options="permissive")
    tbl = ds.dataset(files, schema=schema, format="parquet").to_table(columns=columns)
    return _plain_types(tbl)


def _delta_fields(dt: DeltaTable) -> list[pa.Field]:
    return list(pa.schema(dt.schema().to_arrow()))


def _plain_type(t: pa.DataType) -> pa.DataType:
    return pa.string() if _is_text(t) else pa.int64() if pa.types.is_integer(t) else t


def sorted_by(tbl: pa.Table, keys: list[str]) -> pa.Table:
    """`tbl` sorted by `keys` (ascending, stable), without taking every column when it is in order
    already (as DuckDB's rows and a table written whole mostly are: 53 columns of 39k customers)."""
    order = pc.sort_indices(tbl, sort_keys=[(k, "ascending") for k in keys]).to_numpy()
    return tbl if np.array_equal(order, np.arange(tbl.num_rows)) else tbl.take(order)


def _plain_types(tbl: pa.Table) -> pa.Table:
    """Text as string, integers as int64: the types the store's tables are read as."""
    fields = [pa.field(f.name, _plain_type(f.type)) for f in tbl.schema]
    return tbl if tbl.schema.equals(pa.schema(fields)) else tbl.cast(pa.schema(fields))


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def with_missing(name: str, tbl: pa.Table, wanted: list[str]) -> pa.Table:
    """`tbl` with the columns of `wanted` it lacks added as nulls: a table written before a column
    existed (e.g. other_id), or a version pinned from then, reads as if the column were empty."""
    for c in wanted:
        if c not in tbl.column_names and c in TABLES[name]:
            typ = column_type(c)
            tbl = tbl.append_column(pa.field(c, typ), pa.nulls(tbl.num_rows, typ))
    return tbl


def column_type(column: str) -> pa.DataType:
    """The Arrow type a store column is written and read as: int64 for counts, text for the rest."""
    return pa.int64() if column in INT_COLUMNS else pa.string()


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

    def arrow(self, name: str, *, manifest: dict | None = None, columns: list[str] | None = None,
              sort: bool = True, where: tuple[str, pa.Array] | None = None) -> pa.Table:
        """A table as pinned by the manifest (empty, with the right columns, if never written).

        A log table gives the current row of each key (sorted by the key unless `sort=False`).
        `where=(column, values)` keeps the rows whose column is one of the values, in one filter
        with the log's (a few thousand rows of a million are the only ones copied)."""
        version = self.table_version(name, manifest)
        if version is None:
            empty = arrow_table(name, pd.DataFrame(columns=TABLES[name]))
            return empty.select(columns) if columns else empty
        key = LOG_TABLES.get(name)
        try:
            dt = DeltaTable(str(self.path / name), version=version)
            have = {f.name for f in dt.schema().fields}
            logged = key is not None and LOG_SEQ in have
            extra = ([key, LOG_SEQ] if logged else []) + ([where[0]] if where is not None else [])
            read = list(dict.fromkeys([*columns, *extra])) if columns else None
            wanted = [c for c in read if c in have] if read else [f.name for f in dt.schema().fields]
            # a log's rows can be picked by their key alone: the versions of a key all carry it
            picked = _picked_rows(dt, wanted, where, logged) \
                if where is not None and (not logged or where[0] == key) else None
            tbl, floor = picked or (read_files(dt, wanted if read else None), None)
        except Exception as exc:  # deltalake raises several kinds; all mean the same to the user
            raise StoreError(f"table {name} version {version} is unreadable ({exc})", file=str(self.path),
                             hint="run `custinfo verify`; restore the store from a backup") from exc
        tbl = with_missing(name, tbl, read or TABLES[name])
        mask = current_mask(tbl, key, floor) if logged else None
        if where is not None:
            hit = pc.is_in(tbl[where[0]], value_set=where[1])
            mask = hit if mask is None else pc.and_(mask, hit)
        if mask is not None:
            tbl = tbl.filter(mask)
        if logged:
            if sort and mask is not None:
                tbl = sorted_by(tbl, [key])  # in key order, as a table written whole is
            tbl = tbl.drop_columns([LOG_SEQ])
        return tbl.select(columns) if columns else tbl

    def fingerprints(self, name: str, manifest: dict | None = None) -> dict:
        """How the rows of a table were made, as its last writer said (empty if it said nothing)."""
        return dict((manifest or self.manifest()).get("fingerprints", {}).get(name, {}))

    def frame(self, name: str, *, manifest: dict | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """A table as a pandas frame of python objects (str/int/None)."""
        return object_frame(self.arrow(name, manifest=manifest, columns=columns))

    def rows(self, name: str, key: str, values, *, manifest: dict | None = None,
             columns: list[str] | None = None) -> pd.DataFrame:
        """The rows whose `key` is one of `values`, as python objects; the filter runs in Arrow, so
        only those rows are ever converted (a few thousand customers of a million, on each ingest)."""
        wanted = pa.array(sorted({str(v) for v in values}), type=pa.string())
        return object_frame(self.arrow(name, manifest=manifest, columns=columns, where=(key, wanted)))

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
                try:
                    yield Transaction(self, command)
                except BaseException:
                    self._recover_quietly()  # tables written before the failure go back at once
                    raise
        finally:
            os.umask(old_umask)

    def _recover_quietly(self) -> None:
        try:
            self.recover()
        except Exception:  # noqa: BLE001 - the next writer rolls back anyway; keep the first error
            pass

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
    """Writes table versions as they are staged; `commit()` publishes them in one manifest.

    Each staged table is converted to Arrow and written at once, so the caller may drop its frame
    (a first ingest of a million records does not hold every table in memory until the end).
    Nothing written is visible before the manifest; an exception rolls the writes back.
    """

    def __init__(self, store: Store, command: str):
        self.store = store
        self.command = command
        self.base = store.manifest()
        self.version = int(self.base["version"]) + 1
        self.counters = dict(self.base.get("counters", {}))
        self.tables = dict(self.base["tables"])
        # log table -> {"rows": rows when last written whole, "appended": rows appended since}
        self.logs = {k: dict(v) for k, v in self.base.get("logs", {}).items()}
        # table -> how its rows were made (e.g. match_keys: the fingerprints of keycache.py), kept
        # by every later commit until a writer of the table says otherwise
        self.fingerprints = {k: dict(v) for k, v in self.base.get("fingerprints", {}).items()}
        self._logged_now: set[str] = set()  # log tables this transaction appended to already

    def rows(self, name: str, key: str, values) -> pd.DataFrame:
        """`Store.rows` of the base version."""
        return self.store.rows(name, key, values, manifest=self.base)

    def append(self, name: str, df: pd.DataFrame) -> None:
        if len(df):
            self._write(name, arrow_table(name, df), "append")

    def overwrite(self, name: str, df: pd.DataFrame) -> None:
        self._whole(name, arrow_table(name, df))

    def put(self, name: str, tbl: pa.Table, whole: bool = False, fingerprints: dict | None = None) -> None:
        """Append Arrow rows (or write the table whole): for rows made in Arrow, not in pandas.
        `fingerprints`: how the rows were made, kept in the manifest (`Store.fingerprints`)."""
        if fingerprints is not None:
            self.fingerprints[name] = dict(fingerprints)
        cols = TABLES[name]
        schema = pa.schema([pa.field(c, column_type(c)) for c in cols])
        tbl = with_missing(name, tbl, cols).select(cols).cast(schema)
        if whole:
            self._whole(name, tbl)
        elif tbl.num_rows:
            self._write(name, tbl, "append")

    def upsert(self, name: str, df: pd.DataFrame, key: str) -> None:
        """Rows of `df` replace the table's rows with the same `key`; every other row is kept.

        A log table (LOG_TABLES) gets just these rows appended; other tables, a log table due for
        compaction, or one still in the older layout are read once and written whole.
        """
        if not len(df):
            return
        rows = arrow_table(name, df)
        log = self.logs.get(name)
        if name in LOG_TABLES and key == LOG_TABLES[name] and log is not None and name not in self._logged_now \
                and log["appended"] + rows.num_rows <= COMPACT_SHARE * max(log["rows"], 1):
            log["appended"] += rows.num_rows
            self._logged_now.add(name)
            self._write(name, self._tagged(rows), "append")
            return
        if name in self.tables:  # the pinned version is the newest one: recover() rolled back the rest
            base = self.store.arrow(name, manifest={**self.base, "tables": self.tables}, sort=False)
            rows = upserted(base, rows, key)
        self._whole(name, rows)

    def _whole(self, name: str, tbl: pa.Table) -> None:
        """Write the table whole; a log table starts a new log (every row tagged with this version)."""
        if name in LOG_TABLES:
            tbl = self._tagged(tbl)
            self.logs[name] = {"rows": tbl.num_rows, "appended": 0}
            self._logged_now.add(name)
        self._write(name, tbl, "overwrite")

    def _tagged(self, tbl: pa.Table) -> pa.Table:
        return tbl.append_column(LOG_SEQ, pa.array(np.full(tbl.num_rows, self.version, dtype=np.int64)))

    def _write(self, name: str, tbl: pa.Table, mode: str) -> None:
        uri = str(self.store.path / name)
        exists = name in self.tables
        mode, config = (mode, None) if exists else ("overwrite", TABLE_CONFIG)
        if not commit_files(uri, tbl, mode, config):  # pyarrow's writer: a fraction of the memory
            # schema_mode="merge": a table of an older layout gains the columns added since (e.g. `_v`)
            write_deltalake(uri, tbl, mode=mode, schema_mode="merge" if exists else None, configuration=config)
        self.tables[name] = DeltaTable(uri).version()

    def next_id(self, counter: str, n: int = 1) -> int:
        """Reserve n ids from a counter that only ever grows (ids are never reused)."""
        start = int(self.counters.get(counter, 0)) + 1
        self.counters[counter] = start + n - 1
        return start

    def commit(self, info: dict | None = None) -> dict:
        manifest = {"version": self.version, "committed_at": utcnow(),
                    "command": self.command, "tables": self.tables, "counters": self.counters,
                    "info": info or {}}
        if self.logs:
            manifest["logs"] = self.logs
        if self.fingerprints:
            manifest["fingerprints"] = self.fingerprints
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
