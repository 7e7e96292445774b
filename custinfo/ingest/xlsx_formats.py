"""Zero-padding number formats of .xlsx cells, which python-calamine does not report.

A postcode `010020` or an employee number `000123` typed into Excel is often stored as the number
10020 with the custom format `000000`, so the user sees the zeros and the file does not hold them.
calamine returns the number; this module finds, from the workbook's XML, the cells whose format pads
with zeros and how wide, so the reader can show the text the user sees.

Cheap in the common case: `styles.xml` is read first and, when no style pads with zeros, no sheet
XML is touched. Otherwise the sheet's XML is scanned with a regular expression for the few style
indexes that pad (no XML object model).
"""
from __future__ import annotations

import re
import zipfile
from posixpath import join, normpath

_NUMFMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')
_CELLXFS = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.S)
_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_XF_NUMFMT = re.compile(rb'numFmtId="(\d+)"')
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bs="(\d+)"')
_ZEROS = re.compile(r'^(?:"0+"|\\0|0)+(?:;.*)?$')

Pads = dict[tuple[int, int], int]  # (row, col), 0-based -> width to pad to


def zero_pad_cells(zf: zipfile.ZipFile, sheet_names: list[str]) -> dict[str, Pads]:
    """For each named sheet with zero-padding formats: the cells they apply to and their widths."""
    try:
        styles = _padding_styles(zf.read("xl/styles.xml"))
    except KeyError:
        return {}
    if not styles:
        return {}
    paths = _sheet_paths(zf)
    out: dict[str, Pads] = {}
    for name in sheet_names:
        path = paths.get(name)
        if path is None or path not in zf.namelist():
            continue
        pads = _scan_cells(zf.read(path), styles)
        if pads:
            out[name] = pads
    return out


def _padding_styles(xml: bytes) -> dict[int, int]:
    """Cell style index -> width, for styles whose number format is zeros only (`000000`)."""
    widths = {}
    for fid, code in _NUMFMT.findall(xml):
        fmt = code.decode("utf-8", "replace").replace("&quot;", '"')
        if _ZEROS.match(fmt):
            width = fmt.split(";")[0].count("0")
            if width >= 2:
                widths[int(fid)] = width
    if not widths:
        return {}
    block = _CELLXFS.search(xml)
    styles = {}
    for i, attrs in enumerate(_XF.findall(block.group(1)) if block else []):
        m = _XF_NUMFMT.search(attrs)
        if m and int(m.group(1)) in widths:
            styles[i] = widths[int(m.group(1))]
    return styles


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML inside the zip."""
    try:
        book, rels = zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    target = {}
    for attrs in _REL.findall(rels):
        a = dict(_ATTR.findall(attrs))
        t = a.get(b"Target", b"").decode("utf-8", "replace")
        target[a.get(b"Id", b"")] = t.lstrip("/") if t.startswith("/") else normpath(join("xl", t))
    out = {}
    for attrs in _SHEET.findall(book):
        a = {k.split(b":")[-1]: v for k, v in _ATTR.findall(attrs)}
        name = _unescape(a.get(b"name", b"").decode("utf-8", "replace"))
        rid = a.get(b"id")
        if rid in target:
            out[name] = target[rid]
    return out


def _scan_cells(xml: bytes, styles: dict[int, int]) -> Pads:
    wanted = {str(s).encode(): w for s, w in styles.items()}
    pads: Pads = {}
    for col, row, s in _CELL.findall(xml):
        width = wanted.get(s)
        if width:
            pads[(int(row) - 1, _col_index(col))] = width
    return pads


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def apply_pads(rows: list[list[str | None]], pads: Pads) -> int:
    """Pad the digit-only texts of `pads`' cells with leading zeros; return how many changed."""
    changed = 0
    for (r, c), width in pads.items():
        if r < len(rows) and c < len(rows[r]):
            v = rows[r][c]
            if v is not None and v.isdigit() and v.isascii() and len(v) < width:
                rows[r][c] = v.zfill(width)
                changed += 1
    return changed
