"""Read an export file (CSV/TSV/TXT, .xlsx/.xlsm, .xls, or `-` for stdin) into sheets of text.

Every cell comes back as a python str or None: phones and IDs are not numbers, and the
normalizers downstream want the text the user saw. Row numbers are the ones the user sees
in Excel or a text editor, so an error or a quarantined row can be found in the file.

Header detection (text and Excel alike): unless `header_row` is given, the first
`max_header_scan` non-blank rows are scored by how many of their cells are known column
names (`is_known_header`); the best row wins, the first one on a tie. When no row has a
known name, the first non-blank row with at least two distinct values is the header (so a
title line such as "客户名单 2024" above the header is not taken for it), or simply the
first non-blank row for a one-column file. Rows above the header are skipped.

Excel specifics:
- a merged header cell names every column it spans; a two-row header (a merged group cell
  such as "联系方式" above "手机" / "邮箱") gives "Group Sub", or just "Sub" when the
  sub-header is a known name. A merged title row spanning the whole table is never a group;
- a value merged over several *data* rows (a company cell spanning its contacts) applies to
  each of those rows; data cells merged across columns are not copied sideways;
- every visible worksheet that holds data is read (a hidden one only when named in
  `sheets`: it is usually an old copy or a lookup list). When some sheets have a
  recognisable header (at least one known name) the sheets without one (lookup lists,
  notes, pivot sheets) are skipped; when none has, all non-empty sheets are returned and
  the caller decides.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import io
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..store.tables import ARROW_TEXT
from .encoding import decode_text
from .excel import RawSheet, is_excel_bytes, read_workbook

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
DELIMITERS = [",", "\t", ";", "|"]
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 200
_SEP_LINE = re.compile(r"sep=([^\r\n])\r?\n", re.IGNORECASE)
_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# Invisible characters Excel, web forms and copy-paste leave in header names.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u180e\u00ad"), None)


@dataclass
class SheetData:
    """One table read from a file: a text file, or one worksheet of a workbook."""

    file: str  # base name of the file ('stdin' for '-')
    sheet: str | None  # sheet name for Excel, None for text files
    header: list[str]  # cleaned, unique header names, in column order
    frame: pd.DataFrame  # columns == header; every value a python str or None; object dtype (with
    # read_file(arrow_text=True) a large text file's columns may be Arrow-backed str, missing = NaN)
    row_numbers: np.ndarray  # int64, the 1-based row (line) of each frame row in the file
    header_row: int  # 1-based row of the header (the lower row of a two-row header)
    encoding: str | None  # encoding used for a text file, None for Excel


@dataclass(frozen=True)
class _HeaderOptions:
    header_row: int | None
    is_known: Callable[[str], bool]
    max_scan: int


def read_file(path: str | Path, *, encoding: str | None = None, header_row: int | None = None,
              sheets: list[str] | None = None, is_known_header: Callable[[str], bool] = lambda h: False,
              max_header_scan: int = 20, name: str | None = None,
              arrow_text: bool = False) -> list[SheetData]:
    """Read one export file into one SheetData per table it holds.

    `path` may be '-' for stdin. The format is told by the content (zip, OLE2 or text),
    then by the extension. `encoding` forces the text encoding, `header_row` (1-based)
    the header row, `sheets` the worksheets to read. `name` is the file name to show in
    SheetData.file and in errors (e.g. when stdin was spooled to a temporary file).

    Raises InputError, with the file, the row when it applies and a hint, for a missing,
    empty, damaged, encrypted or undecodable file, and for a row with more fields than the
    header.

    `arrow_text=True` leaves the columns of a text file parsed by pyarrow as Arrow-backed text
    (missing = NaN) instead of python strings: a caller that works in chunks makes the python
    strings of one chunk at a time (a million rows as python strings take about 1 GB).
    """
    is_stdin = str(path) == "-"
    shown = name or ("stdin" if is_stdin else str(path))
    base = name or ("stdin" if is_stdin else Path(path).name)
    data = _read_stdin(shown) if is_stdin else _read_bytes(Path(path), shown)
    if not data:
        raise InputError("the file is empty (0 bytes)", file=shown,
                         hint="export the data again; the export may have failed")
    opts = _HeaderOptions(header_row, is_known_header, max_header_scan)
    suffix = "" if is_stdin else Path(path).suffix.lower()
    if is_excel_bytes(data) or suffix in EXCEL_SUFFIXES:
        return _read_excel(data, shown=shown, base=base, opts=opts, sheets=sheets)
    if suffix == ".xls" and data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise InputError("this .xls is a web page (HTML or XML), not an Excel workbook", file=shown,
                         hint="open it in Excel and save it as .xlsx, or export as CSV")
    # A .xls that is plain text is a common "export to Excel" shortcut: read it as text.
    return [_read_text(data, shown=shown, base=base, encoding=encoding, opts=opts, suffix=suffix,
                       arrow_text=arrow_text)]


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=shown, hint="check the path and the file name") from None
    except IsADirectoryError:
        raise InputError("this is a directory, not a file", file=shown,
                         hint="name the files inside it, e.g. exports/*.csv") from None
    except PermissionError:
        raise InputError("permission denied", file=shown, hint="check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=shown) from None


def _read_stdin(shown: str) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError("no standard input to read", file=shown,
                         hint="pipe a file in: custinfo ingest - < file.csv")
    return stream.read()


# ---------------------------------------------------------------------------------------
# Header names and header detection


def clean_header(value: str | None) -> str:
    """Strip, collapse whitespace (line breaks too) and drop BOM / zero-width characters."""
    if not value:
        return ""
    return " ".join(value.translate(_INVISIBLE).split())


def unique_names(names: Sequence[str]) -> list[str]:
    """Make names unique: a repeated 'Phone' becomes 'Phone_2', then 'Phone_3'."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, k = name, 2
        while candidate in seen:
            candidate, k = f"{name}_{k}", k + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _known_count(row: Sequence[str | None], is_known: Callable[[str], bool]) -> int:
    return sum(1 for cell in row if cell and is_known(clean_header(cell)))


def _choose_header(rows: Sequence[Sequence[str | None]], numbers: Sequence[int], opts: _HeaderOptions,
                   file: str, sheet: str | None = None) -> int:
    """Index into `rows` of the header row. `numbers` are the rows' 1-based row numbers."""
    where = f" of sheet {sheet!r}" if sheet else ""
    if opts.header_row is not None:
        for i, number in enumerate(numbers):
            if number == opts.header_row:
                if any(rows[i]):
                    return i
                break
        raise InputError(f"header row {opts.header_row}{where} is empty or not the start of a row",
                         file=file, row=opts.header_row,
                         hint="check `header_row` in the channel config (rows count from 1)")
    candidates = [i for i, row in enumerate(rows) if any(row)][: max(opts.max_scan, 1)]
    scores = [_known_count(rows[i], opts.is_known) for i in candidates]
    if scores and max(scores) > 0:
        return candidates[scores.index(max(scores))]
    widths = [len({cell for cell in rows[i] if cell}) for i in candidates]
    need = min(2, max(widths))
    return next(i for i, w in zip(candidates, widths, strict=True) if w >= need)


def _header_names(rows: Sequence[Sequence[str | None]], idx: int, group: int | None,
                  group_cols: set[int], is_known: Callable[[str], bool]) -> list[str]:
    """Cleaned header names (possibly empty) of row `idx`, combined with a group row above."""
    subs = [clean_header(c) for c in rows[idx]]
    if group is None:
        return subs
    out = []
    for j, sub in enumerate(subs):
        grp = clean_header(rows[group][j]) if j < len(rows[group]) else ""
        if j in group_cols and sub and grp and grp != sub and not is_known(sub):
            out.append(f"{grp} {sub}")
        else:
            out.append(sub or grp)
    return out


# ---------------------------------------------------------------------------------------
# Building the frame


def _assemble(raw_names: Sequence[str], columns: Sequence[np.ndarray], row_numbers: np.ndarray, *,
              file: str, sheet: str | None, header_row: int, encoding: str | None) -> SheetData:
    """Name the columns, drop the ones with neither a name nor a value, build the frame."""
    names, arrays = [], []
    for j, (raw, col) in enumerate(zip(raw_names, columns, strict=True)):
        arrow = isinstance(col, pd.api.extensions.ExtensionArray)
        if not raw and (col.isna().all() if arrow else not any(v is not None for v in col)):
            continue  # an unnamed column with nothing in it (e.g. trailing delimiters)
        names.append(raw or f"column_{j + 1}")
        arrays.append(col)
    names = unique_names(names)
    arrow = any(isinstance(a, pd.api.extensions.ExtensionArray) for a in arrays)
    frame = pd.DataFrame(dict(zip(names, arrays, strict=True)), columns=names, dtype=None if arrow else object)
    return SheetData(file=file, sheet=sheet, header=names, frame=frame,
                     row_numbers=np.asarray(row_numbers, dtype=np.int64), header_row=header_row,
                     encoding=encoding)


def _columns_from_rows(rows: Sequence[Sequence[str | None]], width: int) -> list[np.ndarray]:
    """Transpose equal-width rows into one object array per column."""
    if not rows:
        return [np.empty(0, dtype=object) for _ in range(width)]
    out = []
    for col in zip(*rows, strict=True):
        arr = np.empty(len(col), dtype=object)
        arr[:] = col
        out.append(arr)
    return out


# ---------------------------------------------------------------------------------------
# Excel


def _read_excel(data: bytes, *, shown: str, base: str, opts: _HeaderOptions,
                sheets: list[str] | None) -> list[SheetData]:
    found: list[tuple[SheetData, int]] = []
    errors: list[InputError] = []
    for raw in read_workbook(data, file=shown, sheets=sheets):
        try:
            got = _sheet_from_grid(raw, shown=shown, base=base, opts=opts)
        except InputError as exc:
            if sheets:
                raise
            errors.append(exc)  # e.g. a configured header row that is blank in this sheet
            continue
        if got is not None:
            found.append(got)
    if not found:
        if errors:
            raise errors[0]
        raise InputError("the workbook has no data in any sheet", file=shown,
                         hint="check that this is the right file, or name the sheets to read")
    if not sheets and any(known for _, known in found):
        found = [(sd, known) for sd, known in found if known]
    return [sd for sd, _ in found]


def _sheet_from_grid(raw: RawSheet, *, shown: str, base: str,
                     opts: _HeaderOptions) -> tuple[SheetData, int] | None:
    """The sheet's table and the number of known names in its header; None if empty."""
    rows = raw.rows
    nonblank = [i for i, row in enumerate(rows) if any(row)]
    if not nonblank:
        return None
    width = max(len(r) for r in rows)
    # Look for the header in a copy where merged cells fill their whole range.
    if opts.header_row is not None:
        end = opts.header_row + 1
    else:
        scan = nonblank[: max(opts.max_scan, 1)]
        end = scan[-1] + 2
    head = [list(r) for r in rows[:end]]
    _fill_merges(head, raw.merges, full=True)
    idx = _choose_header(head, range(1, len(head) + 1), opts, shown, raw.name)
    idx, group, group_cols = _two_row_header(head, idx, raw.merges, opts.is_known)

    _fill_merges(rows, [m for m in raw.merges if m[0] <= idx], full=True)
    _fill_merges(rows, [m for m in raw.merges if m[0] > idx], full=False)
    names = _header_names(rows, idx, group, group_cols, opts.is_known)
    names += [""] * (width - len(names))
    data_idx = [i for i in range(idx + 1, len(rows)) if any(rows[i])]
    data = [_pad(rows[i], width) for i in data_idx]
    sd = _assemble(names, _columns_from_rows(data, width), np.asarray(data_idx, dtype=np.int64) + 1,
                   file=base, sheet=raw.name, header_row=idx + 1, encoding=None)
    known = sum(1 for n in names if n and opts.is_known(n))
    return sd, known


def _pad(row: list[str | None], width: int) -> list[str | None]:
    return row if len(row) == width else row + [None] * (width - len(row))


def _fill_merges(rows: list[list[str | None]], merges: Sequence[tuple[int, int, int, int]], *,
                 full: bool) -> None:
    """Give the cells of each merged range the value of its top-left cell.

    full=False copies the value down the first column only: a value merged over several
    data rows belongs to each row, but one merged across columns is not a value per column.
    """
    for r0, c0, r1, c1 in merges:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        if value is None:
            continue
        last_col = c1 if full else c0
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(last_col, len(row) - 1) + 1):
                row[c] = value


def _two_row_header(rows: list[list[str | None]], idx: int, merges: Sequence[tuple[int, int, int, int]],
                    is_known: Callable[[str], bool]) -> tuple[int, int | None, set[int]]:
    """(header row, group row above it or None, columns under a merged group cell).

    Two shapes are recognised. The scorer picked the group row itself (its merged group
    cells tie with the sub-headers): move down when the next row is clearly a header
    row too. Or it picked the sub-header row and the row above holds merged group cells.
    """
    def horizontal_in(r: int) -> list[tuple[int, int, int, int]]:
        return [m for m in merges if m[0] <= r == m[2] and m[3] > m[1]]

    if idx + 1 < len(rows):
        groups = [m for m in horizontal_in(idx) if m[0] == idx]
        spans_both = any(m[0] == idx and m[2] == idx + 1 for m in merges)
        subs_known = groups and all(
            rows[idx + 1][c] and is_known(clean_header(rows[idx + 1][c]))
            for m in groups for c in range(m[1], m[3] + 1) if c < len(rows[idx + 1]))
        if groups and (spans_both or subs_known) and not _is_title(rows, idx, groups):
            return idx + 1, idx, {c for m in groups for c in range(m[1], m[3] + 1)}
    if idx > 0:
        groups = horizontal_in(idx - 1)
        if groups and not _is_title(rows, idx - 1, groups, header=rows[idx]):
            return idx, idx - 1, {c for m in groups for c in range(m[1], m[3] + 1)}
    return idx, None, set()


def _is_title(rows: list[list[str | None]], r: int, groups: list[tuple[int, int, int, int]],
              header: Sequence[str | None] | None = None) -> bool:
    """A merged title spans the whole table, or is the row's only cell, at its left edge."""
    cols = [j for j, v in enumerate(header if header is not None else rows[r + 1]) if v]
    if not cols:
        return True
    first, last = cols[0], cols[-1]
    if any(m[1] <= first and m[3] >= last for m in groups):
        return True
    in_groups = {c for m in groups for c in range(m[1], m[3] + 1)}
    others = [j for j, v in enumerate(rows[r]) if v and j not in in_groups]
    return len(groups) == 1 and not others and groups[0][1] <= first


# ---------------------------------------------------------------------------------------
# Text


def sniff_delimiter(text: str, prefer: str | None = None) -> str:
    """The delimiter under which the most lines of the first rows belong to rows of one width (≥ 2).

    Counting lines rather than rows keeps a wrong delimiter from winning by cutting quoted
    multi-line values into many short rows. Title and note lines above the header weigh the
    same for every candidate. Ties go to the most fields, then to `prefer` (from the
    extension), then to the order , TAB ; |. A file with one column gets ','.
    """
    truncated = len(text) > _SNIFF_CHARS
    sample = text[:_SNIFF_CHARS]
    best, best_key = ",", (0, 0, False)
    for delim in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim, quotechar='"', strict=False)
        rows: list[tuple[int, int]] = []  # (fields, lines spanned)
        previous = 0
        try:
            for fields in reader:
                rows.append((len(fields), reader.line_num - previous))
                previous = reader.line_num
                if len(rows) > _SNIFF_ROWS:
                    break
        except csv.Error:
            continue
        if (truncated or len(rows) > _SNIFF_ROWS) and rows:
            rows.pop()  # the last row may have been cut in two
        lines_by_width: Counter[int] = Counter()
        for width, span in rows:
            if width >= 2:  # a row of empty fields (",,,") counts: it has the table's width
                lines_by_width[width] += span
        if not lines_by_width:
            continue
        width, lines = max(lines_by_width.items(), key=lambda item: (item[1], item[0]))
        key = (lines, width, delim == prefer)
        if key > best_key:
            best, best_key = delim, key
    return best


def _read_text(data: bytes, *, shown: str, base: str, encoding: str | None, opts: _HeaderOptions,
               suffix: str, arrow_text: bool = False) -> SheetData:
    text, used = decode_text(data, encoding=encoding, file=shown)
    if not text.strip():
        raise InputError("the file has no rows (only blank lines)", file=shown,
                         hint="export the data again; the export may have failed")
    declared = _SEP_LINE.match(text)  # Excel's "sep=;" first line; it is skipped like a title
    prefer = "\t" if suffix in (".tsv", ".tab") else None
    delim = declared.group(1) if declared else sniff_delimiter(text, prefer=prefer)
    fast = _read_text_fast(data, text, used, delim, shown=shown, base=base, opts=opts, arrow_text=arrow_text)
    if fast is not None:
        return fast
    return _read_text_exact(text, used, delim, shown=shown, base=base, opts=opts)


def _cells(fields: list[str]) -> list[str | None]:
    return [f if f and not f.isspace() else None for f in fields]


def _lines(text: str):
    """The lines of `text` with their line ends, split on LF, CRLF or CR (as newline='')."""
    return (m.group() for m in _LINE.finditer(text))


def _records(text: str, delim: str, file: str):
    """(line where the record starts, its cells) for each record, blank lines included."""
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))  # long free-text notes
    consumed = [0]  # characters of `text` handed to the csv reader so far

    def lines():
        # Lazily, not through io.StringIO: the header scan must not copy a 200 MB text.
        for m in _LINE.finditer(text):
            consumed[0] = m.end()
            yield m.group()

    reader = csv.reader(lines(), delimiter=delim, quotechar='"', doublequote=True, strict=False)
    previous, record_start = 0, 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _unsplittable(exc, previous + 1, file) from None
        if (reader.line_num - previous > 1 and consumed[0] == len(text)
                and text.count('"', record_start) % 2):
            raise _never_closed(previous + 1, file)
        yield previous + 1, _cells(fields)
        previous, record_start = reader.line_num, consumed[0]


def _all_records(text: str, delim: str, file: str) -> tuple[list[list[str | None]], list[int]]:
    """Every record and the line where it starts, blank lines included: `_records`, made fast.

    One tight loop over a csv reader (no generator, no call per record); a large file
    with multi-line values comes this way.
    """
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"',
                        doublequote=True, strict=False)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    previous = 0
    try:
        for fields in reader:
            numbers.append(previous + 1)
            rows.append([f if f and not f.isspace() else None for f in fields])
            previous = reader.line_num
    except csv.Error as exc:
        raise _unsplittable(exc, previous + 1, file) from None
    if numbers and previous > numbers[-1]:  # the last record spans lines: did a quote never close?
        start = 0
        if numbers[-1] > 1:
            breaks = _BREAK.finditer(text)
            for _ in range(numbers[-1] - 1):
                start = next(breaks).end()
        if text.count('"', start) % 2:
            raise _never_closed(numbers[-1], file)
    return rows, numbers


def _unsplittable(exc: csv.Error, line: int, file: str) -> InputError:
    return InputError(f"cannot split this row into fields: {exc}", file=file, row=line,
                      hint="check the quoting on that row")


def _never_closed(line: int, file: str) -> InputError:
    # The csv module would swallow the rest of the file into the open quote: rows would be lost.
    return InputError("a quoted value that starts on this row is never closed", file=file,
                      row=line, hint='add the missing closing double quote (")')


def _head_records(text: str, delim: str, opts: _HeaderOptions,
                  file: str) -> tuple[list[list[str | None]], list[int]]:
    """The records that can hold the header: enough non-blank ones, and the configured row."""
    rows, numbers, nonblank = [], [], 0
    for line, cells in _records(text, delim, file):
        rows.append(cells)
        numbers.append(line)
        nonblank += any(cells)
        if opts.header_row is None and nonblank >= opts.max_scan:
            break
        if opts.header_row is not None and line >= opts.header_row:
            break
    return rows, numbers


def _read_text_exact(text: str, used: str, delim: str, *, shown: str, base: str,
                     opts: _HeaderOptions) -> SheetData:
    """Parse with the csv module, tracking the line where each record starts.

    Used when the fast path can't be sure of row numbers (multi-line values with unclean
    quoting, old Mac line ends) or when rows have a different number of fields than the header.
    """
    with _gc_paused():
        return _read_text_exact_rows(text, used, delim, shown=shown, base=base, opts=opts)


@contextlib.contextmanager
def _gc_paused():
    """Millions of small lists trigger the cycle collector over and over; none of them are cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_text_exact_rows(text: str, used: str, delim: str, *, shown: str, base: str,
                          opts: _HeaderOptions) -> SheetData:
    rows, numbers = _all_records(text, delim, shown)
    if not any(any(r) for r in rows):
        raise InputError("the file has no rows (only blank lines or delimiters)", file=shown,
                         hint="export the data again; the export may have failed")
    idx = _choose_header(rows, numbers, opts, shown)
    names = [clean_header(c) for c in rows[idx]]
    width = len(names)
    data, lines, too_long = [], [], []
    for k in range(idx + 1, len(rows)):
        cells = rows[k]
        if not any(cells):
            continue
        if len(cells) > width:
            if any(cells[width:]):
                too_long.append((numbers[k], len(cells)))
                continue
            cells = cells[:width]
        data.append(_pad(cells, width))
        lines.append(numbers[k])
    if too_long:
        line, count = too_long[0]
        raise _too_many_fields(line, count, numbers[idx], width, len(too_long) - 1, delim, shown)
    return _assemble(names, _columns_from_rows(data, width), np.asarray(lines, dtype=np.int64),
                     file=base, sheet=None, header_row=numbers[idx], encoding=used)


def _read_text_fast(data: bytes, text: str, used: str, delim: str, *, shown: str, base: str,
                    opts: _HeaderOptions, arrow_text: bool = False) -> SheetData | None:
    """Parse with pyarrow; None when the exact path is needed.

    Row numbers come from the positions of the line breaks that end records: every line
    break when no quoted value spans lines, else the ones after an even number of quotes,
    which is exact when the quoting is clean (checked). Lines must end in LF or CRLF.
    """
    buf = _utf8_bytes(data, text, used)
    arr = np.frombuffer(buf, dtype=np.uint8)
    layout = _record_layout(arr, delim)
    if layout is None:
        return None
    starts, lines, lengths, multiline = layout
    head_rows, head_numbers = _head_records(text, delim, opts, shown)
    if not any(any(r) for r in head_rows):
        return None  # let the exact path report the empty file
    idx = _choose_header(head_rows, head_numbers, opts, shown)
    header_line = head_numbers[idx]
    names = [clean_header(c) for c in head_rows[idx]]
    width = len(names)
    h = int(np.searchsorted(lines, header_line))
    if h >= len(lines) or lines[h] != header_line:
        return None  # the csv module and the layout disagree: trust the csv module
    row_numbers = lines[h + 1:][lengths[h + 1:] > 0]
    if not len(row_numbers):  # only the header (pyarrow refuses an empty input)
        return _assemble(names, _columns_from_rows([], width), row_numbers, file=base, sheet=None,
                         header_row=header_line, encoding=used)
    offset = int(starts[h + 1])
    table = _arrow_table(buf, offset, width, delim, expected_rows=len(row_numbers), multiline=multiline)
    if table is None:
        return None
    if table.num_columns > width:
        _refuse_extra_fields(table, width, row_numbers, header_line, delim, shown)
        table = table.select(range(width))
    columns, row_numbers = _without_blank_rows(table, row_numbers)
    convert = _arrow_text_array if arrow_text else _object_array
    return _assemble(names, [convert(c) for c in columns], row_numbers, file=base, sheet=None,
                     header_row=header_line, encoding=used)


def _utf8_bytes(data: bytes, text: str, encoding: str) -> bytes:
    """The text as UTF-8 bytes without a BOM, reusing the file's own bytes when they are that."""
    codec = codecs.lookup(encoding).name
    if codec == "utf-8" and not data.startswith(codecs.BOM_UTF8):
        return data
    if codec == "utf-8-sig":
        return data[len(codecs.BOM_UTF8):]
    return text.encode("utf-8")


def _record_layout(arr: np.ndarray, delim: str):
    """(start offset, start line, length without the line end) of every record, and whether
    any record spans lines; None when that can't be told from the bytes alone.

    A line break ends a record unless it sits inside quotes: after an odd number of quote
    characters. That count is only meaningful when quotes open at a field's start, close at
    its end and are doubled inside, so a file with multi-line values must pass that check.
    Lone CRs (old Mac files) are left to the exact path.
    """
    newlines = np.flatnonzero(arr == 10)
    returns = np.count_nonzero(arr == 13)
    if returns and returns != np.count_nonzero(arr[newlines[newlines > 0] - 1] == 13):
        return None
    quotes = np.flatnonzero(arr == 34)
    inside = np.zeros(len(newlines), dtype=bool)
    if quotes.size:
        if quotes.size % 2:
            return None
        inside = (np.searchsorted(quotes, newlines) & 1).astype(bool)
        if inside.any() and not _clean_quoting(arr, quotes, ord(delim)):
            return None
    ends = np.concatenate((newlines[~inside], [len(arr)]))
    starts = np.concatenate(([0], newlines[~inside] + 1))
    lines = np.concatenate(([1], np.flatnonzero(~inside) + 2)).astype(np.int64)
    lengths = ends - starts
    nonempty = lengths > 0
    has_cr = np.zeros(len(lengths), dtype=bool)
    has_cr[nonempty] = arr[ends[nonempty] - 1] == 13
    return starts, lines, lengths - has_cr, bool(inside.any())


def _clean_quoting(arr: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """Every opening quote starts a field and every closing quote ends one ("" pairs allowed)."""
    n = len(arr)
    before = np.where(quotes > 0, arr[np.maximum(quotes - 1, 0)], 10)
    after = np.where(quotes < n - 1, arr[np.minimum(quotes + 1, n - 1)], 10)

    def edge(b: np.ndarray) -> np.ndarray:
        return (b == delim) | (b == 10) | (b == 13) | (b == 34)

    opening = np.arange(len(quotes)) % 2 == 0
    return bool(np.all(np.where(opening, edge(before), edge(after))))


def _arrow_table(buf: bytes, offset: int, width: int, delim: str, *, expected_rows: int,
                 multiline: bool = False):
    """All rows after the header as string columns, or None when the rows are not all alike.

    Rows wider than the header are allowed when every row has the same width: exports
    that end each data row with a delimiter. Their extra fields are checked by the caller.
    """
    rows = _arrow_owned(buf, offset)
    table, problems = _arrow_parse(rows, width, delim, multiline)
    if table is not None and problems:
        widths = {getattr(p, "actual_columns", 0) for p in problems}
        if min(widths) <= width:
            return None  # short rows: the exact path pads them
        table, problems = _arrow_parse(rows, max(widths), delim, multiline)
    if table is None or problems or table.num_rows != expected_rows:
        return None
    return table


def _arrow_owned(buf: bytes, offset: int):
    """buf[offset:] copied into memory that Arrow allocated (a memcpy: ~10 ms for 20 MB).

    Arrow must hold no Python object while it reads. Its threads let go of what they hold a
    moment after read_csv has returned, and letting go of a Python object takes the GIL. If the
    interpreter is exiting by then (an error exit right after a read), Python ends that thread
    with pthread_exit through Arrow's C++ frames, which aborts the process: "terminate called
    without an active exception", exit -6 instead of the error's exit code.
    """
    import pyarrow as pa

    out = pa.allocate_buffer(len(buf) - offset)
    np.frombuffer(out, dtype=np.uint8)[:] = np.frombuffer(buf, dtype=np.uint8, offset=offset)
    return out


def _arrow_parse(rows, width: int, delim: str, multiline: bool):
    """The rows (an Arrow buffer, see _arrow_owned) as `width` string columns, and the rows of
    another width (pyarrow's InvalidRow) that were left out.

    Read on this thread (use_threads=False): the handler of invalid rows is a Python callable,
    and a threaded read lets go of it on one of Arrow's threads (see _arrow_owned). Reading the
    largest bench file (23 MB, 265k rows) takes 0.11-0.16 s so and took 0.07-0.11 s threaded.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{j}" for j in range(width)]
    problems: list[object] = []

    def on_invalid(row: object) -> str:
        problems.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(rows),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True,
                                             newlines_in_values=multiline, ignore_empty_lines=True,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                 null_values=[""], strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True))
    except pa.ArrowException:
        return None, problems
    return table, problems


def _refuse_extra_fields(table, width: int, row_numbers: np.ndarray, header_line: int, delim: str,
                         shown: str) -> None:
    """Fields past the header's are fine when empty (a trailing delimiter); not when they hold text."""
    import pyarrow.compute as pc

    filled = None
    for j in range(width, table.num_columns):
        col = table.column(j)
        has_text = pc.and_kleene(pc.is_valid(col), pc.invert(pc.utf8_is_space(col)))
        filled = has_text if filled is None else pc.or_kleene(filled, has_text)
    count = pc.sum(filled).as_py() or 0
    if count:
        first = pc.index(filled, True).as_py()
        raise _too_many_fields(int(row_numbers[first]), table.num_columns, header_line, width, count - 1,
                               delim, shown)


def _too_many_fields(line: int, fields: int, header_line: int, width: int, more: int, delim: str,
                     shown: str) -> InputError:
    also = f" ({more} more rows like it)" if more else ""
    return InputError(
        f"this row has {fields} fields but the header (row {header_line}) has {width}{also}",
        file=shown, row=line,
        hint=f"the file is {_DELIMITER_NAMES.get(delim, repr(delim))}-delimited: a value containing "
             f"the delimiter must be in double quotes; check that row's quoting")


def _without_blank_rows(table, row_numbers: np.ndarray):
    """The columns with whitespace-only cells as nulls, and without the rows that are all null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns, blank = [], None
    for col in table.columns:
        spaces = pc.utf8_is_space(col)
        if pc.any(spaces).as_py():
            col = pc.if_else(spaces, pa.scalar(None, pa.string()), col)
        nulls = pc.is_null(col)
        blank = nulls if blank is None else pc.and_(blank, nulls)
        columns.append(col)
    if blank is not None and pc.any(blank).as_py():
        keep = pc.invert(blank)
        columns = [pc.filter(c, keep) for c in columns]
        row_numbers = row_numbers[keep.to_numpy(zero_copy_only=False)]
    return columns, row_numbers


def _arrow_text_array(col) -> pd.api.extensions.ExtensionArray:
    """An arrow string column as pandas Arrow-backed text (no python strings made)."""
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return ARROW_TEXT.__from_arrow__(col.cast(pa.large_string()))


def _object_array(col) -> np.ndarray:
    """An arrow string column as a numpy object array of python str / None.

    Making python strings is most of the cost of a large file. Columns that repeat their
    values (province, city, gender, company) make each distinct string once and share it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    if n >= 1000:
        probe = col.slice(0, 10_000)
        if pc.count_distinct(probe, mode="all").as_py() * 2 < len(probe):
            whole = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            encoded = pc.dictionary_encode(whole)  # one array, so one dictionary
            uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
            lookup = np.empty(len(uniques) + 1, dtype=object)  # the last slot stays None for nulls
            lookup[:-1] = uniques
            return lookup.take(encoded.indices.fill_null(len(uniques)).to_numpy(zero_copy_only=False))
    arr = col.to_numpy(zero_copy_only=False)
    if arr.dtype != object:  # pragma: no cover - depends on the pyarrow version
        arr = arr.astype(object)
    return arr
