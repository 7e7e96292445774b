"""Open Excel workbooks (.xlsx/.xlsm/.xls) and turn every cell into the text a user sees.

python-calamine reads the cells (it is several times faster than openpyxl and gives merged
ranges without loading the sheet into an object model). Numbers come back from it as floats,
dates as date/datetime objects; `cell_text` turns each into text so that a mobile number
Excel stored as a number reads `13800138000`, never `1.38e10` or `13800138000.0`.

Header detection lives in `readers.py`; this module only knows workbooks and cells.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import InputError
from .xlsx_formats import apply_pads, zero_pad_cells

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

_INF = float("inf")
_RESAVE_HINT = "open it in Excel and save it again as .xlsx"
_PASSWORD_HINT = "remove the password in Excel (File > Info > Protect Workbook) and save again"


@dataclass
class RawSheet:
    """One worksheet as text. rows[i][j] is the cell at Excel row i+1, column j+1."""

    name: str
    rows: list[list[str | None]]
    # (first_row, first_col, last_row, last_col), 0-based and inclusive, as in `rows`.
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


def is_excel_bytes(data: bytes) -> bool:
    """True when the bytes are a zip (xlsx) or an OLE2 compound file (xls, encrypted xlsx)."""
    return data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC, OLE_MAGIC))


def read_workbook(data: bytes, *, file: str, sheets: list[str] | None = None) -> Iterator[RawSheet]:
    """Every visible worksheet of the workbook (or the ones named in `sheets`), in workbook order.

    One sheet at a time, so that a workbook of several large sheets never holds them all as
    python objects at once. Raises InputError for a file that is not a workbook, is
    damaged, or is encrypted.
    """
    if data.startswith(OLE_MAGIC):
        _refuse_encrypted_or_foreign_ole(data, file)
    elif not data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        raise InputError("not a valid Excel file (it is not a zip archive)", file=file,
                         hint=_RESAVE_HINT + "; if it is really a CSV, give it a .csv name")
    else:
        _refuse_foreign_zip(data, file)
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        worksheets = [m for m in wb.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        names = [m.name for m in worksheets]
        visible = [m.name for m in worksheets if m.visible == python_calamine.SheetVisibleEnum.Visible]
    except BaseException as exc:  # calamine raises its own types, and pyo3 panics
        _reraise_interrupts(exc)
        raise _damaged(file, exc) from None
    # Hidden sheets are what the user does not see (old copies, lookup lists): only when named.
    wanted = _select_sheets(names, sheets, file) if sheets else visible
    pads = _zero_pads(data, wanted)
    for name in wanted:
        try:
            sheet = wb.get_sheet_by_name(name)
            values = sheet.to_python(skip_empty_area=False) if sheet.start is not None else []
            merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
        except BaseException as exc:
            _reraise_interrupts(exc)
            raise _damaged(file, exc, sheet=name) from None
        del sheet  # frees calamine's copy of the cells before we make ours
        rows = _rows_as_text(values)
        if name in pads:
            apply_pads(rows, pads[name])
        yield RawSheet(name, rows, merges)


def _zero_pads(data: bytes, names: list[str]) -> dict:
    """Cells of .xlsx sheets whose number format pads with zeros (`000000`); {} for .xls or on doubt."""
    if not data.startswith(ZIP_MAGIC):
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zero_pad_cells(zf, names)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, AttributeError):
        return {}  # the cells are still read; only the padding is not restored


def _rows_as_text(values: list[list[object]]) -> list[list[str | None]]:
    """Convert in place, row by row, so the raw and the text copy of a row never coexist long."""
    for i, row in enumerate(values):
        # Text and empty cells are most of a sheet: handle them inline, without a call per cell.
        values[i] = [(v if v and not v.isspace() else None) if type(v) is str else cell_text(v) for v in row]
    return values  # type: ignore[return-value]


def _select_sheets(names: list[str], wanted: list[str], file: str) -> list[str]:
    by_folded = {n.strip().casefold(): n for n in names}
    out = []
    for w in wanted:
        name = w if w in names else by_folded.get(str(w).strip().casefold())
        if name is None:
            raise InputError(f"no sheet named {w!r}", file=file,
                             hint="sheets in this file: " + ", ".join(repr(n) for n in names))
        out.append(name)
    return out


def _refuse_foreign_zip(data: bytes, file: str) -> None:
    """A damaged zip, or a zip that holds something else than a workbook (zipped CSVs)."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InputError(f"the workbook is damaged (a broken zip archive: {exc})", file=file,
                         hint=_RESAVE_HINT + "; if it was downloaded, download it again") from None
    if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:  # xlsx, xlsb, ods
        raise InputError("a zip archive, not an Excel workbook", file=file,
                         hint="unzip it and read the files inside")


def _refuse_encrypted_or_foreign_ole(data: bytes, file: str) -> None:
    """An OLE2 file is either a legacy .xls or an encrypted .xlsx wrapped in OLE2."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        streams = {"/".join(s) for s in ole.listdir(streams=True, storages=False)}
    except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
        raise _damaged(file, exc) from None
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        raise InputError("the workbook is password-protected", file=file, hint=_PASSWORD_HINT)
    if not ({"Workbook", "Book"} & streams):
        raise InputError("not an Excel workbook (an Office file of another kind)", file=file,
                         hint=_RESAVE_HINT)
    try:
        import msoffcrypto

        encrypted = msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted()
    except Exception:  # noqa: BLE001 - let the reader decide whether it can read it
        encrypted = False
    if encrypted:
        raise InputError("the workbook is password-protected", file=file, hint=_PASSWORD_HINT)


def _damaged(file: str, exc: BaseException, sheet: str | None = None) -> InputError:
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    where = f" (sheet {sheet!r})" if sheet else ""
    return InputError(f"the workbook is damaged or not an Excel file{where}: {detail}",
                      file=file, hint=_RESAVE_HINT)


def _reraise_interrupts(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError)):
        raise exc


# ---------------------------------------------------------------------------------------
# Cells as text


def cell_text(v: object) -> str | None:
    """The text of one cell value as calamine returns it; None for an empty cell."""
    t = type(v)
    if t is str:
        return v if v and not v.isspace() else None  # type: ignore[union-attr]
    if t is float:
        return number_text(v)  # type: ignore[arg-type]
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is int:
        return str(v)
    if t is dt.datetime:
        return _round_to_second(v).isoformat(timespec="seconds")  # type: ignore[arg-type]
    if t is dt.date:
        return v.isoformat()  # type: ignore[union-attr]
    if t is dt.time:
        full = _round_to_second(dt.datetime.combine(dt.date(2000, 1, 1), v))  # type: ignore[arg-type]
        return full.time().isoformat(timespec="seconds")
    if t is dt.timedelta:
        secs = round(v.total_seconds())  # type: ignore[union-attr]
        sign, secs = ("-" if secs < 0 else ""), abs(secs)
        return f"{sign}{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    if v is None:
        return None
    text = str(v)
    return text if text.strip() else None


def number_text(x: float) -> str:
    """A number as Excel shows it in a General cell, except that whole numbers keep all digits.

    - whole numbers below 10**15 (mobiles, customer numbers, amounts): all their digits,
      `13800138000`, because the file holds them exactly;
    - whole numbers from 10**15 up (18-digit ID numbers, bank cards typed into a General
      cell): Excel kept only 15 significant digits, so the last ones are already lost. We
      return what Excel shows, `1.10105E+17`, so the loss is visible to the normalizer
      instead of a plausible-looking number ending in 000;
    - other numbers: the shortest text that reads back as the same float, at most 15
      significant digits (Excel's precision), so 0.1+0.2 reads `0.3`.
    """
    if x.is_integer():  # False for nan and inf
        if -1e15 < x < 1e15:
            return str(int(x))
        return excel_scientific(x)
    if x != x or x in (_INF, -_INF):
        return str(x)
    short = repr(x)
    excel = format(x, ".15g")
    return short if float(excel) == x else excel


def excel_scientific(x: float) -> str:
    """Excel's General format for a number too long for the cell: 6 significant digits."""
    mantissa, exponent = f"{x:.5E}".split("E")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    e = int(exponent)
    return f"{mantissa}E{'+' if e >= 0 else '-'}{abs(e):02d}"


def _round_to_second(value: dt.datetime) -> dt.datetime:
    # Excel stores times as fractions of a day; 10:30 can come back as 10:29:59.999.
    if value.microsecond >= 500_000:
        value += dt.timedelta(seconds=1)
    return value.replace(microsecond=0)
