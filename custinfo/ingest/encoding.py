"""Decode the bytes of a text export: BOM, then strict UTF-8, then GB18030, then Big5.

Chinese channel exports come in three encodings in practice: UTF-8 (with or without a BOM,
from web forms and modern tools), GBK (Excel "Save as CSV" on a mainland Windows machine;
GB18030 is its superset, so we decode with that) and Big5 (Taiwan, Hong Kong). Excel's
"Unicode Text" export is UTF-16 LE with a BOM.

GB18030 accepts almost every Big5 byte sequence (as unrelated, rare characters), so "try
GB18030, then Big5" alone would never choose Big5. When a file decodes both ways we keep the
reading whose characters are the *common* ones of that script (GB2312 for simplified
Chinese, Big5 level 1 for traditional): real text is made of common characters, and
mis-decoded text is not.
"""
from __future__ import annotations

import codecs

from ..errors import InputError

# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE BOM.
_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]

_SAMPLE_BYTES = 256 * 1024
_ENCODING_HINT = ("pass --encoding (e.g. utf-8, gb18030, big5, latin-1) "
                  "or set `encoding:` in the channel config")


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark announces and the BOM's length, or None."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def decode_text(data: bytes, *, encoding: str | None = None, file: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). A leading BOM is never part of the text.

    With `encoding` given it is used as is (a BOM of the same family is still removed);
    bytes it cannot decode raise InputError naming the line. Without it the encoding is
    detected as described in the module docstring.
    """
    if encoding:
        return _decode_forced(data, encoding, file), encoding
    found = bom_encoding(data)
    if found:
        name, size = found
        return _decode_forced(data[size:], name, file), name
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    for name in _cjk_candidates(data):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise InputError(
        "cannot tell the text encoding: not UTF-8, GB18030 or Big5",
        file=file, row=_line_of(data, utf8_error.start), hint=_ENCODING_HINT)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as NUL bytes beside every ASCII character; text never has NULs."""
    sample = data[:4096]
    nuls = sample.count(0)
    if len(sample) < 4 or nuls == 0 or nuls * 10 < len(sample):
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return "utf-16-le" if odd > even else "utf-16-be"


def _decode_forced(data: bytes, encoding: str, file: str | None) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", file=file, hint=_ENCODING_HINT) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 4].hex(" ")
        raise InputError(
            f"bytes {bad} cannot be decoded as {encoding}", file=file,
            row=_line_of(data, exc.start, encoding),
            hint="the file is in another encoding: " + _ENCODING_HINT) from None
    return text[1:] if text.startswith("\ufeff") else text


def _line_of(data: bytes, offset: int, encoding: str = "utf-8") -> int:
    """1-based line number of the byte at `offset`."""
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        return data[:offset].decode(encoding, errors="replace").count("\n") + 1
    return data.count(b"\n", 0, offset) + 1


def _cjk_candidates(data: bytes) -> list[str]:
    """GB18030 first, unless a sample reads clearly better as Big5."""
    sample = data[:_SAMPLE_BYTES]
    if len(data) > _SAMPLE_BYTES:  # don't cut a character in two
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    gb = _decoded_or_none(sample, "gb18030")
    big5_codec, big5 = "big5", _decoded_or_none(sample, "big5")
    if big5 is None:  # Windows' Big5 (cp950) has a few more characters
        big5_codec, big5 = "cp950", _decoded_or_none(sample, "cp950")
    if big5 is not None and (gb is None or
                             _common_share(big5, _is_common_big5) > _common_share(gb, _is_common_gb)):
        return [big5_codec, "cp950", "gb18030"]
    return ["gb18030", "big5", "cp950"]


def _decoded_or_none(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _is_common_gb(ch: str) -> bool:
    try:
        return len(ch.encode("gb2312")) == 2
    except UnicodeEncodeError:
        return False


def _is_common_big5(ch: str) -> bool:
    # Big5 level 1 (the 5,401 frequent characters) has lead bytes 0xA4-0xC6.
    try:
        raw = ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and 0xA4 <= raw[0] <= 0xC6


def _common_share(text: str, is_common) -> float:
    wide = [ch for ch in text if ord(ch) > 0x2E7F][:20000]
    if not wide:
        return 0.0
    return sum(1 for ch in wide if is_common(ch)) / len(wide)
