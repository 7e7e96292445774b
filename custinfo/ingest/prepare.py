"""Turn one export file into candidate records: read, map headers, normalize, quarantine.

Nothing here touches the store, so a bad file fails before anything is written.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import InputError
from ..normalize import NormalizeOptions, normalize_frame
from .mapping import map_headers, require_identifying, to_source_frame
from .readers import read_file


@dataclass
class PreparedFile:
    """One file, read and normalized, ready to be matched and stored."""

    path: str
    name: str
    sha256: str
    records: pd.DataFrame  # RECORD columns minus ids (record_id, batch_id, ingested_at)
    quarantine: pd.DataFrame  # source_file, source_sheet, source_row, reason, raw
    sheets: list[str] = field(default_factory=list)
    header_maps: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    channel: str | None = None
    dropped_columns: list[str] = field(default_factory=list)  # outside the channel's allowlist

    @property
    def rows(self) -> int:
        return len(self.records) + len(self.quarantine)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spool_stdin() -> Path:
    """Copy stdin to a private temp file so it can be hashed and read like any file."""
    tmp = tempfile.NamedTemporaryFile(prefix="custinfo-stdin-", suffix=".csv", delete=False)
    with tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp)
    return Path(tmp.name)


def prepare_file(path: str | Path, config: Config, *, encoding: str | None = None,
                 display_name: str | None = None, allowed: frozenset[str] | None = None) -> PreparedFile:
    """Read one file and return its usable records and its quarantined rows."""
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise InputError("file not found", file=str(path), hint="check the path and the file name")
    sheets = read_file(path, encoding=encoding or config.read.encoding, header_row=config.read.header_row,
                       sheets=config.read.sheets, is_known_header=config.is_known_header,
                       max_header_scan=config.read.max_header_scan, name=name)
    opts = NormalizeOptions(default_region=config.default_region, date_order=config.date_order,
                            excel_epoch=config.excel_epoch)
    recs, quars, used, maps, warnings, dropped = [], [], [], {}, [], []
    for sd in sheets:
        hm = map_headers(sd.header, config)
        if allowed is not None:
            dropped += apply_allowlist(hm, allowed)
        label = f"{name}" + (f" [{sd.sheet}]" if sd.sheet else "")
        try:
            require_identifying(hm, label, sd.header)
        except InputError as exc:
            if len(sheets) == 1:
                raise
            warnings.append(f"sheet skipped: {exc.one_line()}")
            continue
        used.append(sd.sheet or "")
        maps[sd.sheet or ""] = hm.as_dict()
        r, q = _sheet_records(sd, hm, opts, config, name)
        recs.append(r)
        quars.append(q)
    if not recs:
        raise InputError("no sheet has a name, phone or email column", file=name,
                         hint="map the headers under `columns:` in configs/<channel>.yaml")
    return PreparedFile(str(path), name, file_sha256(path), pd.concat(recs, ignore_index=True),
                        pd.concat(quars, ignore_index=True), used, maps, warnings, config.channel,
                        sorted(set(dropped)))


def apply_allowlist(hm, allowed: frozenset[str]) -> list[str]:
    """Minimum necessary: drop every column whose field is not allowed, and every unmapped column.
    Returns the headers dropped, so the ingest report can count them (nothing is lost silently)."""
    dropped = list(hm.unmapped)
    hm.unmapped = []
    for fld in list(hm.fields):
        if fld not in allowed:
            dropped += hm.fields.pop(fld)
    return dropped


# Rows mapped and normalized at a time: python-object strings exist for one chunk only; the records
# of a file are kept as Arrow-backed text (a million records as objects took ~4.5 GB).
CHUNK_ROWS = 100_000


def _sheet_records(sd, hm, opts: NormalizeOptions, config: Config, name: str):
    recs, quars = [], []
    for start in range(0, max(len(sd.frame), 1), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        r, q = _chunk_records(sd.frame.iloc[rows], sd.row_numbers[rows], sd.sheet, hm, opts, config, name)
        recs.append(arrow_text(r))
        quars.append(q)
    return pd.concat(recs, ignore_index=True), pd.concat(quars, ignore_index=True)


# pandas 3's default "str" dtype, spelled out: under pandas 2.x `astype("str")` gives python strings
# and turns None into the text 'None'.
ARROW_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def arrow_text(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its object columns as Arrow-backed text (missing = NaN); other columns as they are."""
    return df.astype({c: ARROW_TEXT for c in df.columns if df[c].dtype == object})


def _chunk_records(frame: pd.DataFrame, row_numbers, sheet, hm, opts: NormalizeOptions, config: Config,
                   name: str):
    src, raw, extra = to_source_frame(frame, hm)
    norm = normalize_frame(src, opts)
    meta = pd.DataFrame({"channel": config.channel, "source_file": name, "source_sheet": sheet,
                         "source_row": row_numbers.astype("int64")}, index=src.index)
    full = pd.concat([meta, norm], axis=1)
    full["raw"], full["extra"] = raw.values, extra.values
    usable = pd.Series(False, index=full.index)
    for fld in config.required_any:
        col = {"phone": "phones", "email": "emails"}.get(fld, fld)
        if col in full:
            usable |= full[col].notna()
    bad = full[~usable]
    quarantine = pd.DataFrame({
        "channel": bad["channel"], "source_file": bad["source_file"], "source_sheet": bad["source_sheet"],
        "source_row": bad["source_row"], "reason": _reasons(bad, config.required_any), "raw": bad["raw"]})
    return full[usable].reset_index(drop=True), quarantine.reset_index(drop=True)


def _reasons(bad: pd.DataFrame, required: list[str]) -> list[str]:
    base = "no usable " + " / ".join(required)
    out = []
    for raw, issues in zip(bad["raw"], bad["issues"]):
        if raw is None:
            out.append("empty row: " + base)
        elif issues:
            out.append(f"{base} ({issues})")
        else:
            out.append(base)
    return out
