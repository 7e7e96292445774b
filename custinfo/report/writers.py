"""Write frames and reports to files people and machines open: csv, xlsx, parquet, json(l),
markdown and html.

Rules that hold for every file written here:

* **Owner-only.** Files are created 0600 and any directory created for them 0700 (issue 8);
  a file is written to a temporary name beside the target and renamed into place, so a failed
  export never leaves half a file behind.
* **Excel-proof CSV.** UTF-8 with a BOM by default, so Excel on Chinese Windows opens it;
  another encoding on request (``gbk``); a cell that the encoding cannot hold is an error
  naming the row and column, never a silent ``?``. ``-`` writes to stdout, without a BOM.
* **Formula injection.** In csv and xlsx a text cell that starts with ``=``, ``@``, tab or CR
  is prefixed with a single quote (OWASP). A cell that starts with ``+`` or ``-`` is prefixed
  too, unless the rest holds only digits, spaces and ``. , ( ) / + -``: such a value (an
  E.164 phone ``+8613800138000``, ``-12.5``, ``+86 (10) 1234-5678``) cannot name a function,
  a cell or a DDE link, so it is harmless and stays as it is. Leading spaces are skipped
  before the test (`` =1+1`` is neutralized too). Column names get the same treatment.
  JSON, JSONL, parquet, markdown and html carry values unchanged (html escapes them).
* **XLSX as Excel should show it.** Text stays text (phones, IDs and digit strings never turn
  into 1.38E+10); a numeric column whose name says it is an identifier (phone, id, 身份证,
  手机, 编号 ...) or that holds an 11-digit or longer integer is written as text too; bold
  frozen header with an autofilter; column widths from the content, CJK counted double;
  datetime columns, and text columns holding only ISO dates, become real dates with a date
  format. Characters XML cannot hold become U+FFFD; cells are cut at Excel's 32,767 characters.

A report (`write_report`) as csv is its tables: one table is written as it is; several are
stacked into one file with a leading ``table`` column naming the table of each row (the union
of their columns, blank where a table has no such column). A report with no tables writes its
summary as ``metric,value`` rows. The headline summary is in every other format.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from custinfo.errors import CustinfoError
from custinfo.report.model import Chart, Report, Table, format_value, frame_records, humanize, is_missing
from custinfo.security.perms import DIR_MODE, FILE_MODE

FRAME_FORMATS = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
REPORT_FORMATS = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
_TEXT_FORMATS = {"csv", "json", "jsonl", "markdown", "html"}  # may go to stdout

XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL = 32_767
_WIDTH_SAMPLE = 1000
_MIN_WIDTH, _MAX_WIDTH = 6, 50

_ALWAYS_RISKY = ("=", "@", "\t", "\r")
_RISKY_FIRST = frozenset("=@\t\r+- ")
_SIGNED_INERT = re.compile(r"[+-][0-9 .,()/+\-]*")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ID_NAME = re.compile(  # the whole name, so that counts like `valid_phone` stay numbers
    r"(phone|mobile|cellphone|tel|telephone|fax)\d*|id|.+_id|id_?(no|number|card)|qq|wechat|"
    r"zip(code)?|post_?code|postal_code|(bank_)?card(_no)?|account(_no)?|"
    r"(手机|电话|固话)(号|号码)?\d*|(身份证|证件)(号|号码)?|编号|(银行)?卡号|账号|邮编|邮政编码|"
    r"qq号|微信号?",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"[+\-]?[\d\s().\-/]*\d[\d\s().\-/]*")  # Excel would make it a number
_LONG_INTEGER = 10**10  # 11 digits: Excel's General format shows these as 1.38E+10


# --- formula injection ----------------------------------------------------------------------


def is_formula_risk(value: str) -> bool:
    """True when a spreadsheet could read `value` as a formula (see the module docstring)."""
    text = value.lstrip(" ")
    if not text:
        return False
    if text.startswith(_ALWAYS_RISKY):
        return True
    return text[0] in "+-" and not _SIGNED_INERT.fullmatch(text)


def neutralize_formula(value: str) -> str:
    """`value` prefixed with a single quote if a spreadsheet could run it as a formula."""
    return "'" + value if is_formula_risk(value) else value


def _neutralize_series(series: pd.Series) -> pd.Series:
    """Neutralize every risky string in a column; other values pass unchanged."""
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return series
    first = _RISKY_FIRST  # a cheap test of the first character spares the full check
    risky = [isinstance(v, str) and v[:1] in first and is_formula_risk(v) for v in series.tolist()]
    if not any(risky):
        return series
    safe = series.copy()  # assign only the risky cells: `map` would turn ints+NaN into floats
    safe[risky] = ["'" + v for v in series[risky].tolist()]
    return safe


def _neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` safe to open in a spreadsheet: cells and column names neutralized."""
    safe = frame.copy()
    for i in range(safe.shape[1]):
        safe.isetitem(i, _neutralize_series(safe.iloc[:, i]))
    safe.columns = [neutralize_formula(str(c)) for c in safe.columns]
    return safe


# --- files: permissions, atomic replace, formats --------------------------------------------


def _make_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents, each owner-only (0700).

    Unlike `security.perms.secure_mkdir`, an existing directory is left as it is: the user's
    Desktop must not turn 0700 because an export was written there."""
    missing: list[Path] = []
    for parent in [directory, *directory.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, DIR_MODE)
            os.chmod(path, DIR_MODE)


@contextlib.contextmanager
def _atomic_output(out: Path) -> Iterator[Path]:
    """Yield a 0600 temporary path beside `out`; on success it replaces `out`.
    An OS error (no permission, disk full) becomes a one-line error naming the file."""
    tmp: Path | None = None
    try:
        _make_dirs(out.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, out)
    except BaseException as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CustinfoError(
                f"cannot write the file: {exc.strerror or exc}",
                file=str(out),
                hint="check the folder exists and is writable, or choose another path",
            ) from exc
        raise


def _resolve_format(out: str | Path, fmt: str | None, known: dict[str, str]) -> str:
    """The format to write: `fmt` if given, else from the extension of `out` ('-' -> csv)."""
    choices = sorted(set(known.values()))
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        fmt = {"md": "markdown", "ndjson": "jsonl", "htm": "html"}.get(fmt, fmt)
        if fmt not in choices:
            raise CustinfoError(
                f"cannot write format {fmt!r}", key="format", hint=f"use one of {', '.join(choices)}"
            )
        return fmt
    if str(out) == "-":
        return "csv"
    fmt = known.get(Path(out).suffix.lower())
    if fmt is None:
        raise CustinfoError(
            "cannot tell the output format from the file name",
            file=str(out),
            hint=f"name the file {' or '.join(sorted(known))}, or give the format",
        )
    return fmt


def _write_text_output(
    out: str | Path, write: Callable[[IO[str]], None], encoding: str = "utf-8"
) -> Path | None:
    """Run `write` on a text stream for `out`: stdout for '-', else an owner-only file."""
    if str(out) == "-":
        return _write_stdout(write, encoding)
    path = Path(out)
    with _atomic_output(path) as tmp, open(tmp, "w", encoding=encoding, newline="") as handle:
        write(handle)
    return path


def _write_stdout(write: Callable[[IO[str]], None], encoding: str) -> None:
    """Stdout gets no BOM; an explicit non-UTF-8 encoding is honoured byte for byte."""
    codec = encoding.lower().replace("_", "-")
    if codec in ("utf-8", "utf8", "utf-8-sig", "utf8-sig") or not hasattr(sys.stdout, "buffer"):
        write(sys.stdout)
        sys.stdout.flush()
        return None
    buffer = io.StringIO()
    write(buffer)
    sys.stdout.flush()
    sys.stdout.buffer.write(buffer.getvalue().encode(encoding))
    sys.stdout.buffer.flush()
    return None


def _no_binary_to_stdout(out: str | Path, fmt: str) -> None:
    if str(out) == "-" and fmt not in _TEXT_FORMATS:
        raise CustinfoError(
            f"{fmt} cannot be written to stdout", key="output", hint=f"give a file name, e.g. -o result.{fmt}"
        )


# --- write_frame ----------------------------------------------------------------------------


def write_frame(
    df: pd.DataFrame,
    out: str | Path,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8-sig",
    text_columns: set[str] | None = None,
    date_columns: set[str] | None = None,
    sheet_name: str = "data",
) -> Path | None:
    """Write one frame as csv, xlsx, parquet, jsonl or json; return the path (None: stdout).

    `fmt` defaults to the extension of `out`; `out == '-'` writes CSV (no BOM) to stdout.
    `encoding` applies to csv. `text_columns` are written as text cells in xlsx (and as
    strings in parquet) whatever their dtype; `date_columns` become real dates in xlsx and
    timestamps in parquet where every value parses. See the module docstring for the rules.
    """
    fmt = _resolve_format(out, fmt, FRAME_FORMATS)
    _no_binary_to_stdout(out, fmt)
    text_columns = set(text_columns or ())
    date_columns = set(date_columns or ())
    if fmt == "csv":
        return write_csv(df, out, encoding=encoding)
    if fmt in ("json", "jsonl"):
        return _write_text_output(out, lambda h: _dump_records(df, h, lines=fmt == "jsonl"))
    path = Path(out)
    if fmt == "parquet":
        frame = _parquet_ready(df, text_columns, date_columns)
        with _atomic_output(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path
    _check_xlsx_rows(len(df), out)
    workbook = Workbook(write_only=True)
    write_sheet(workbook, df, sheet_name, text_columns=text_columns, date_columns=date_columns)
    return _save_workbook(workbook, path)


def write_csv(df: pd.DataFrame, out: str | Path, *, encoding: str = "utf-8-sig") -> Path | None:
    """Write `df` as formula-safe CSV (no index); an unencodable cell is a one-line error."""
    safe = _neutralize_frame(df)

    def write(handle: IO[str]) -> None:
        try:
            safe.to_csv(handle, index=False)
        except UnicodeEncodeError as exc:
            raise _unencodable_error(safe, encoding, out) from exc

    if str(out) == "-":
        try:
            return _write_stdout(write, encoding)
        except UnicodeEncodeError as exc:
            raise _unencodable_error(safe, encoding, out) from exc
    return _write_text_output(out, write, encoding=encoding)


def _unencodable_error(frame: pd.DataFrame, encoding: str, out: str | Path) -> CustinfoError:
    """Name the first cell (or column name) that `encoding` cannot hold."""
    for col in frame.columns:
        try:
            str(col).encode(encoding)
        except UnicodeEncodeError:
            return CustinfoError(
                f"column name {col!r} cannot be written in {encoding}",
                file=str(out),
                key=str(col),
                hint=_ENCODING_HINT,
            )
    for row_no, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        for col, value in zip(frame.columns, row, strict=True):
            try:
                str(value).encode(encoding)
            except UnicodeEncodeError:
                return CustinfoError(
                    f"{value!r} cannot be written in {encoding}",
                    file=str(out),
                    row=row_no,
                    key=str(col),
                    hint=_ENCODING_HINT,
                )
    return CustinfoError(f"the data cannot be written in {encoding}", file=str(out), hint=_ENCODING_HINT)


_ENCODING_HINT = "use --encoding gb18030 (all of Unicode, GBK-compatible) or the default utf-8-sig"


def _dump_records(df: pd.DataFrame, handle: IO[str], *, lines: bool) -> None:
    """Rows as JSON objects: one per line (jsonl) or a JSON array (json), UTF-8 unescaped."""
    records = frame_records(df)
    if lines:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    handle.write("[\n")
    handle.write(",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in records))
    handle.write("\n]\n" if records else "]\n")


def _parquet_ready(df: pd.DataFrame, text_columns: set[str], date_columns: set[str]) -> pd.DataFrame:
    """Cast text columns to strings, fully parsable date columns to timestamps, and mixed
    object columns (which pyarrow refuses) to strings, keeping missing values missing."""
    frame = df.copy()
    for i, col in enumerate(frame.columns):
        series = frame.iloc[:, i]
        if str(col) in date_columns:
            parsed = _parse_dates(series)
            if parsed is not None and parsed.notna().sum() == series.notna().sum():
                frame.isetitem(i, parsed)
                continue
        mixed = series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in (
            "string",
            "empty",
            "integer",
            "floating",
            "boolean",
            "datetime",
            "date",
            "decimal",
        )
        if str(col) in text_columns or mixed:
            frame.isetitem(i, series.map(_as_text).astype("string"))
    return frame


def _as_text(value: Any) -> str | None:
    """A cell as text: integral numbers without '.0' (phones read as floats), missing -> None."""
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "item") and not isinstance(value, str):
        return _as_text(value.item())
    return str(value)


# --- xlsx -----------------------------------------------------------------------------------

_BODY_FONT = {"name": "Calibri", "size": 11}  # without a name LibreOffice falls back to a serif
_HEADER_FONT = Font(bold=True, **_BODY_FONT)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="8EA9DB"))
_NUMBER_FORMATS = {"percent": "0.0%", "int": "#,##0", "float": "#,##0.00", "text": "@"}


def _check_xlsx_rows(n_rows: int, out: str | Path) -> None:
    if n_rows + 1 > XLSX_MAX_ROWS:
        raise CustinfoError(
            f"{n_rows:,} rows do not fit in one Excel sheet ({XLSX_MAX_ROWS - 1:,} at most)",
            file=str(out),
            hint="write .csv or .parquet, or filter the rows",
        )


def _save_workbook(workbook: Workbook, path: Path) -> Path:
    with _atomic_output(path) as tmp:
        workbook.save(tmp)
    return path


def safe_sheet_title(title: str, taken: Iterable[str] = ()) -> str:
    """A valid, unused sheet title: no []:*?/\\ , at most 31 characters."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(title)).strip("'") or "sheet"
    base = base[:31]
    taken_lower = {t.lower() for t in taken}
    candidate, n = base, 1
    while candidate.lower() in taken_lower or candidate.lower() == "history":
        n += 1
        suffix = f"_{n}"
        candidate = base[: 31 - len(suffix)] + suffix
    return candidate


def display_width(text: str) -> int:
    """Columns `text` takes in a grid: East Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Column:
    """One frame column made ready for a sheet: cell values, a number format, a width."""

    def __init__(self, name: str, values: list[Any], number_format: str | None, width: float):
        self.name = name
        self.values = values
        self.number_format = number_format
        self.width = width


def write_sheet(
    workbook: Workbook,
    df: pd.DataFrame,
    title: str,
    *,
    text_columns: set[str] | None = None,
    date_columns: set[str] | None = None,
    formats: dict[str, str] | None = None,
) -> WriteOnlyWorksheet:
    """Add `df` as a sheet of a write-only workbook: header, widths, freeze, autofilter.

    `formats` maps columns to 'percent' | 'int' | 'float' | 'text' number formats.
    Returns the sheet (charts may still be added to it before the workbook is saved).
    """
    sheet = workbook.create_sheet(safe_sheet_title(title, workbook.sheetnames))
    columns = [
        _prepare_column(
            str(name),
            df.iloc[:, i],
            text_columns or set(),
            date_columns or set(),
            (formats or {}).get(str(name)),
        )
        for i, name in enumerate(df.columns)
    ]
    for i, column in enumerate(columns, start=1):
        dim = sheet.column_dimensions[get_column_letter(i)]
        dim.width = column.width
        if column.number_format == "@":
            dim.number_format = "@"  # cells the analyst adds later stay text too
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(df) + 1}"
    _print_setup(sheet, sum(c.width for c in columns), header_rows="1:1")
    sheet.append([_header_cell(sheet, c.name) for c in columns])
    _append_rows(sheet, columns, len(df))
    return sheet


def _print_setup(sheet: WriteOnlyWorksheet, total_width: float, header_rows: str | None) -> None:
    """Print on A4 one page wide (landscape when the columns are wide), header on every page."""
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if total_width > 100 else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    if header_rows:
        sheet.print_title_rows = header_rows


def _header_cell(sheet: WriteOnlyWorksheet, name: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_xlsx_text(name))
    cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_BORDER
    cell.alignment = Alignment(vertical="center")
    return cell


def _append_rows(sheet: WriteOnlyWorksheet, columns: list[_Column], n_rows: int) -> None:
    """Stream the rows; one styled cell per formatted column is reused for every row
    (write-only sheets serialise a row as soon as it is appended)."""
    styled: list[WriteOnlyCell | None] = []
    for column in columns:
        cell = None
        if column.number_format:
            cell = WriteOnlyCell(sheet)
            cell.number_format = column.number_format
        styled.append(cell)
    for r in range(n_rows):
        row: list[Any] = []
        for column, cell in zip(columns, styled, strict=True):
            value = column.values[r]
            if (
                cell is None
                or value is None
                or (isinstance(value, str) and column.number_format not in ("@", None))
            ):
                row.append(value)  # a text fallback in a date column keeps General format
            else:
                cell.value = value
                row.append(cell)
        sheet.append(row)


def _prepare_column(
    name: str, series: pd.Series, text_columns: set[str], date_columns: set[str], fmt: str | None
) -> _Column:
    """Decide how a column is written: as dates, as text, or as numbers/booleans."""
    if (
        name in date_columns
        or pd.api.types.is_datetime64_any_dtype(series.dtype)
        or (_is_iso_date_column(series))
    ):
        dated = _date_column(name, series)
        if dated is not None:
            return dated
    if name in text_columns or fmt == "text" or _numeric_identifier(name, series):
        values = [_xlsx_text(_as_text(v)) for v in series.tolist()]
        return _Column(name, values, "@", _width(name, values))
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        values = [_xlsx_value(v) for v in series.tolist()]
        return _Column(name, values, _text_format(values), _width(name, values))
    values = [_xlsx_value(v) for v in series.tolist()]
    number_format = _NUMBER_FORMATS.get(fmt or "")
    shown = values if number_format != "0.0%" else [format_value(v, "percent") for v in values]
    return _Column(name, values, number_format, _width(name, shown))


def _text_format(values: list[Any]) -> str | None:
    """'@' for a text column holding digit strings, so that an analyst who edits a phone or
    ID in Excel keeps text; other text cells stay unstyled (styling every cell is slow)."""
    if any(v is not None and not isinstance(v, str) for v in values):
        return None
    return "@" if any(v is not None and _DIGITS.fullmatch(v) for v in values) else None


def _numeric_identifier(name: str, series: pd.Series) -> bool:
    """A numeric column that holds identifiers: named like one, or with 11+ digit integers."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    present = series.dropna()
    if present.empty:
        return False
    integral = bool((present % 1 == 0).all())
    named = bool(_ID_NAME.fullmatch(name.strip()))
    return integral and (named or bool((present.abs() >= _LONG_INTEGER).any()))


def _is_iso_date_column(series: pd.Series) -> bool:
    """A text column whose every present value is an ISO date or date-time."""
    if not pd.api.types.is_string_dtype(series.dtype):
        return False
    present = series.dropna()
    if present.empty or pd.api.types.infer_dtype(present, skipna=True) != "string":
        return False
    return bool(present.astype("string").str.fullmatch(_ISO_DATE).all())


def _parse_dates(series: pd.Series) -> pd.Series | None:
    """Naive datetimes (wall time kept for tz-aware values); None when parsing is impossible."""
    try:
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            parsed = series
        else:
            parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        if not pd.api.types.is_datetime64_any_dtype(parsed.dtype):
            return None
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        return parsed
    except (ValueError, TypeError, OverflowError):
        return None


def _date_column(name: str, series: pd.Series) -> _Column | None:
    """Real Excel dates; a value that does not parse (or is before 1900) stays as text."""
    parsed = _parse_dates(series)
    if parsed is None or parsed.notna().sum() == 0:
        return None
    present = parsed.dropna()
    date_only = bool((present == present.dt.normalize()).all())
    values: list[Any] = []
    for original, stamp in zip(series.tolist(), parsed.tolist(), strict=True):
        if is_missing(stamp) or stamp.year < 1900:
            values.append(None if is_missing(original) else _xlsx_text(str(original)))
        else:
            values.append(stamp.date() if date_only else stamp.to_pydatetime())
    number_format = "yyyy-mm-dd" if date_only else "yyyy-mm-dd hh:mm:ss"
    shown_width = 10 if date_only else 19
    width = max(shown_width + 2, display_width(name) + 4)
    return _Column(name, values, number_format, min(width, _MAX_WIDTH))


def _xlsx_text(value: str | None) -> str | None:
    """Text made safe for a cell: XML-illegal characters replaced, length capped, neutralized."""
    if value is None:
        return None
    text = _ILLEGAL_XML.sub("\ufffd", value)[:XLSX_MAX_CELL]
    return neutralize_formula(text)


def _xlsx_value(value: Any) -> Any:
    """A cell value openpyxl accepts unchanged: Python scalars, text made safe, NaN -> empty."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return _xlsx_text(value)
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        value = value.item()
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    return _xlsx_text(str(value))


def _width(name: str, values: list[Any]) -> float:
    """Column width from the header (plus room for the filter arrow) and a sample of values."""
    widest = display_width(name) + 3
    for value in values[:_WIDTH_SAMPLE]:
        if value is not None:
            text = value if isinstance(value, str) else format_value(value)
            widest = max(widest, max(display_width(line) for line in text.split("\n")))
    return float(min(max(widest + 2, _MIN_WIDTH), _MAX_WIDTH))


# --- reports --------------------------------------------------------------------------------


def write_report(
    report: Report, out: str | Path, fmt: str | None = None, *, encoding: str = "utf-8-sig"
) -> Path | None:
    """Write a report as csv, xlsx, json, markdown or html; return the path (None: stdout).

    `fmt` defaults to the extension of `out` ('-' is stdout, csv unless `fmt` says otherwise).
    json is exactly `report.to_dict()`. See the module docstring for what csv holds.
    """
    fmt = _resolve_format(out, fmt, REPORT_FORMATS)
    _no_binary_to_stdout(out, fmt)
    if fmt == "csv":
        return write_csv(report_csv_frame(report), out, encoding=encoding)
    if fmt == "json":
        text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
        return _write_text_output(out, lambda h: h.write(text))
    if fmt == "markdown":
        text = format_markdown(report)
        return _write_text_output(out, lambda h: h.write(text))
    if fmt == "html":
        from custinfo.report.html import render_html

        text = render_html(report)
        return _write_text_output(out, lambda h: h.write(text))
    return _write_report_xlsx(report, Path(out))


def report_csv_frame(report: Report) -> pd.DataFrame:
    """The one frame a report's csv holds (see the module docstring)."""
    if not report.tables:
        return pd.DataFrame(
            {
                "metric": list(report.summary),
                "value": [
                    format_value(v) if isinstance(v, dict | list) else v for v in report.summary.values()
                ],
            }
        )
    if len(report.tables) == 1:
        return report.tables[0].data()
    parts = []
    for table in report.tables:
        frame = table.data().astype(object)
        frame.insert(0, "table", table.name)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True, sort=False)


def _write_report_xlsx(report: Report, path: Path) -> Path:
    """A summary sheet (title, time, headline figures, contents, notes), then a sheet per table
    with its charts beside the data."""
    for table in report.tables:
        _check_xlsx_rows(len(table.frame), path)
    workbook = Workbook(write_only=True)
    sheet_names = _summary_sheet(workbook, report)
    for table, sheet_name in zip(report.tables, sheet_names, strict=True):
        frame = table.data()
        formats = {c: f for c in frame.columns if (f := _report_column_format(table, frame, c))}
        sheet = write_sheet(workbook, frame, sheet_name, formats=formats)
        charts = [c for c in report.charts if c.table == table.name]
        for position, chart in enumerate(charts):
            _add_xlsx_chart(sheet, frame, chart, position)
    return _save_workbook(workbook, path)


def _report_column_format(table: Table, frame: pd.DataFrame, column: str) -> str | None:
    """The table's format for a column; integer counts default to thousands separators
    (report tables hold figures for people; exports keep Excel's General format)."""
    fmt = table.column_format(column)
    dtype = frame[column].dtype
    if fmt is None and pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return "int"
    return fmt


def _summary_sheet(workbook: Workbook, report: Report) -> list[str]:
    """Write the summary sheet; return the sheet titles the tables will get."""
    sheet = workbook.create_sheet("summary")
    taken = ["summary"]
    names = []
    for table in report.tables:
        names.append(safe_sheet_title(table.name, taken))
        taken.append(names[-1])
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 40
    sheet.column_dimensions["C"].width = 12
    sheet.column_dimensions["D"].width = 60
    _print_setup(sheet, 144, header_rows=None)
    bold = Font(bold=True, **_BODY_FONT)
    title = WriteOnlyCell(sheet, value=_xlsx_text(report.title))
    title.font = Font(bold=True, name="Calibri", size=14)
    sheet.append([title])
    sheet.append([_xlsx_text(f"generated {report.generated_at} · report {report.name}")])
    sheet.append([])
    for key, value in report.summary.items():
        label = WriteOnlyCell(sheet, value=_xlsx_text(humanize(key)))
        label.font = bold
        sheet.append([label, _summary_cell(sheet, value, report.summary_format(key))])
    if report.tables:
        sheet.append([])
        sheet.append([_header_cell(sheet, h) for h in ("sheet", "table", "rows", "note")])
        for table, name in zip(report.tables, names, strict=True):
            link = WriteOnlyCell(sheet, value=_xlsx_text(name))
            link.hyperlink = Hyperlink(ref="A1", location=f"'{name}'!A1")  # in-book jump
            link.font = Font(color="0563C1", underline="single", **_BODY_FONT)
            sheet.append([link, _xlsx_text(table.title), len(table.frame), _xlsx_text(table.note)])
    if report.notes:
        sheet.append([])
        sheet.append([_header_cell(sheet, "notes")])
        for note in report.notes:
            sheet.append([_xlsx_text(note)])
    return names


def _summary_cell(sheet: WriteOnlyWorksheet, value: Any, fmt: str | None) -> Any:
    if isinstance(value, dict | list | tuple | set):
        return _xlsx_text(format_value(value))
    cell_value = _xlsx_value(value)
    if fmt is None and isinstance(cell_value, int) and not isinstance(cell_value, bool):
        fmt = "int"
    if fmt in _NUMBER_FORMATS and isinstance(cell_value, int | float) and fmt != "text":
        cell = WriteOnlyCell(sheet, value=cell_value)
        cell.number_format = _NUMBER_FORMATS[fmt]
        return cell
    return cell_value


_XLSX_CHART_ROWS = 30


def _add_xlsx_chart(sheet: WriteOnlyWorksheet, frame: pd.DataFrame, chart: Chart, position: int) -> None:
    """A native Excel chart of the first rows of the table, to the right of the data
    (`position` stacks several charts of one table below each other)."""
    from openpyxl.chart import BarChart, PieChart, Reference

    columns = list(frame.columns)
    n = min(len(frame), _XLSX_CHART_ROWS)
    if n == 0:
        return
    x_col = columns.index(chart.x) + 1
    cats = Reference(sheet, min_col=x_col, min_row=2, max_row=n + 1)
    if chart.kind == "pie":
        xl_chart = PieChart()
    else:
        xl_chart = BarChart()
        xl_chart.type = "col" if chart.kind == "bar" else "bar"
        if chart.kind == "stacked":
            xl_chart.grouping, xl_chart.overlap = "stacked", 100
        if chart.kind != "bar":
            xl_chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
        xl_chart.x_axis.delete = xl_chart.y_axis.delete = False  # openpyxl 3.1 hides axes
    for y in chart.y_columns:
        y_col = columns.index(y) + 1
        xl_chart.add_data(Reference(sheet, min_col=y_col, min_row=1, max_row=n + 1), titles_from_data=True)
    xl_chart.set_categories(cats)
    more = f" (first {n} of {len(frame)})" if len(frame) > n else ""
    xl_chart.title = chart.title + more
    xl_chart.height, xl_chart.width = 9, 16
    if len(chart.y_columns) == 1 and chart.kind != "pie":
        xl_chart.legend = None
    anchor_col = get_column_letter(len(columns) + 2)
    sheet.add_chart(xl_chart, f"{anchor_col}{2 + position * 20}")


# --- markdown -------------------------------------------------------------------------------


def _md_text(text: str) -> str:
    """Text whose angle brackets cannot become HTML when the markdown is rendered."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _md_cell(text: str) -> str:
    """A table cell: pipes escaped, line breaks as <br> so the row stays one line."""
    text = _md_text(text.replace("\\", "\\\\").replace("|", "\\|"))
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def markdown_table(table: Table) -> str:
    """One table as a GitHub-flavoured markdown table, numbers right-aligned, formatted."""
    frame = table.data()
    if frame.shape[1] == 0:
        return "_(no columns)_"
    formats = [table.column_format(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c].dtype) for c in frame.columns]
    lines = [
        "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    for row in frame.itertuples(index=False, name=None):
        cells = [_md_cell(format_value(v, f)) for v, f in zip(row, formats, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    if frame.empty:
        lines.append("| " + " | ".join("" for _ in frame.columns) + " |")
    return "\n".join(lines)


def format_markdown(report: Report) -> str:
    """The report as markdown: title, time, headline figures, every table in full, notes."""
    parts = [f"# {_md_text(report.title)}", "", f"_Generated {report.generated_at} · report `{report.name}`_"]
    if report.summary:
        parts += ["", "| Figure | Value |", "|---|---:|"]
        for key, value in report.summary.items():
            shown = format_value(value, report.summary_format(key))
            parts.append(f"| {_md_cell(humanize(key))} | {_md_cell(shown)} |")
    for table in report.tables:
        parts += ["", f"## {_md_text(table.title)}", ""]
        if table.note:
            parts += [f"_{_md_text(table.note)}_", ""]
        parts.append(markdown_table(table))
    if report.notes:
        parts += ["", "## Notes", ""] + [f"- {_md_text(note)}" for note in report.notes]
    return "\n".join(parts) + "\n"
