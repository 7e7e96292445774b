"""`custinfo normalize FILE`: a file mapped to the canonical columns and normalized, without a store.

One output row per input row, in order (quarantine-worthy rows included, flagged in `issues`),
with the location of the row and the original columns kept as `raw:<header>`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import Config, load_config
from ..normalize import NormalizeOptions, normalize_frame
from .mapping import map_headers, require_identifying, to_source_frame
from .readers import SheetData, read_file


def read_sheets(path: str | Path, config: Config, encoding: str | None = None) -> list[SheetData]:
    """The sheets of a file, read with the channel's read options."""
    return read_file(path, encoding=encoding or config.read.encoding, header_row=config.read.header_row,
                     sheets=config.read.sheets, is_known_header=config.header_test(),
                     max_header_scan=config.read.max_header_scan)


def normalize_sheet(sd: SheetData, config: Config, *, keep_raw: bool = True) -> pd.DataFrame:
    """One sheet's rows, located, mapped and normalized."""
    hm = map_headers(sd.header, config)
    require_identifying(hm, sd.file + (f" [{sd.sheet}]" if sd.sheet else ""), sd.header)
    src, _, extra = to_source_frame(sd.frame, hm)
    opts = NormalizeOptions(default_region=config.default_region, date_order=config.date_order,
                            excel_epoch=config.excel_epoch)
    norm = normalize_frame(src, opts)
    meta = pd.DataFrame({"source_file": sd.file, "source_sheet": sd.sheet,
                         "source_row": sd.row_numbers.astype("int64")}, index=norm.index)
    parts = [meta, norm]
    if keep_raw:
        parts.append(sd.frame.add_prefix("raw:"))
    else:
        parts.append(pd.DataFrame({"extra": extra}, index=norm.index))
    return pd.concat(parts, axis=1)


def normalize_file(path: str | Path, *, channel: str | None = None, config_file: str | Path | None = None,
                   encoding: str | None = None) -> pd.DataFrame:
    """Every row of every data sheet of the file, normalized, in order."""
    config = load_config(config_file, channel)
    frames = [normalize_sheet(sd, config) for sd in read_sheets(path, config, encoding)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
