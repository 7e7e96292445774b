"""Dates and datetimes: ISO output from whatever a spreadsheet or a web form produced.

Accepted: ``1990-01-02``, ``1990/1/2``, ``1990.1.2``, ``19900102``, ``1990年1月2日``, ``2 Jan 1990``,
``Jan 2, 1990``, ``02/01/1990`` (day/month order from the channel: YMD, DMY or MDY), Excel serial
numbers in the 1900 or 1904 system, and datetimes with a time zone (``2023-05-06T14:30:00+08:00``,
``2023/5/6 下午2:30``). Impossible dates (``1990-02-30``, a birth date in the future) give
``invalid_date``; a year-last date whose day and month cannot be told apart under the YMD order
gives ``ambiguous_date``. Both leave the value empty.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from .text import clean_text

DATE_ORDERS = ("YMD", "DMY", "MDY")
_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for m in names}
_TIME = (r"(?:(?:t|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d{1,9})?)?)?"
         r"\s*(?P<tz>z|(?:utc|gmt)?\s*[+-]\d{1,2}(?::?\d{2})?|utc|gmt)?")
_YEAR_FIRST = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})" + _TIME)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2}))?")
_YEAR_LAST = re.compile(r"(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})" + _TIME)
_DAY_MONTH = re.compile(
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*(?P<mon>[a-z]{3,9})\.?[\s\-/.,]*(?P<y>\d{4}|\d{2})" + _TIME)
_MONTH_DAY = re.compile(r"(?P<mon>[a-z]{3,9})\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s*(?P<y>\d{4})" + _TIME)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CN_UNITS = str.maketrans({"年": "-", "月": "-", "日": " ", "号": " ", "时": ":", "点": ":", "分": ":",
                           "秒": " "})
_PM = re.compile(r"下午|晚上|傍晚|\bpm\b|p\.m\.")
_AM = re.compile(r"上午|早上|凌晨|中午|\bam\b|a\.m\.")


@dataclass(frozen=True)
class DateResult:
    """An ISO date or datetime string, or None with the reason in ``issues``."""

    value: str | None
    issues: tuple[str, ...] = ()


class _BadDate(ValueError):
    def __init__(self, code: str = "invalid_date") -> None:
        super().__init__(code)
        self.code = code


def normalize_date(text: object, order: str = "YMD", excel_epoch: int = 1900) -> DateResult:
    """A calendar date (birth date) as ``YYYY-MM-DD``; any time part is dropped; never raises."""
    s = clean_text(text)
    if s is None:
        return DateResult(None)
    return _date_cached(s, order, excel_epoch, dt.date.today())


@lru_cache(maxsize=100_000)
def _date_cached(s: str, order: str, epoch: int, today: dt.date) -> DateResult:
    try:
        day, _, _ = _parse(s, order, epoch)
    except _BadDate as bad:
        return DateResult(None, (bad.code,))
    if not dt.date(1900, 1, 1) <= day <= today:
        return DateResult(None, ("invalid_date",))
    return DateResult(day.isoformat())


def normalize_datetime(text: object, order: str = "YMD", excel_epoch: int = 1900) -> DateResult:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SS`` (plus ``+08:00`` if an offset was given), or a date."""
    s = clean_text(text)
    if s is None:
        return DateResult(None)
    return _datetime_cached(s, order, excel_epoch, dt.date.today())


@lru_cache(maxsize=100_000)
def _datetime_cached(s: str, order: str, epoch: int, today: dt.date) -> DateResult:
    try:
        day, clock, offset = _parse(s, order, epoch)
    except _BadDate as bad:
        return DateResult(None, (bad.code,))
    if not dt.date(1900, 1, 1) <= day <= today + dt.timedelta(days=1):
        return DateResult(None, ("invalid_date",))
    if clock is None:
        return DateResult(day.isoformat())
    return DateResult(f"{day.isoformat()}T{clock.isoformat()}{offset or ''}")


def _parse(s: str, order: str, epoch: int) -> tuple[dt.date, dt.time | None, str | None]:
    s = s.lower().translate(_CN_UNITS)
    pm, am = bool(_PM.search(s)), bool(_AM.search(s))
    s = _AM.sub(" ", _PM.sub(" ", s))
    s = re.sub(r"\s+", " ", s).strip(" :-")
    s = re.sub(r"(\d)- (\d)", r"\1-\2", s)  # "1990-1-2 " after 年月日
    if _NUMBER.fullmatch(s):
        return _from_number(s, epoch)
    for pattern in (_YEAR_FIRST, _YEAR_LAST, _DAY_MONTH, _MONTH_DAY):
        m = pattern.fullmatch(s)
        if m:
            day = _date_of(m, order)
            return day, _time_of(m, pm, am), _offset_of(m.group("tz"))
    raise _BadDate()


def _date_of(m: re.Match, order: str) -> dt.date:
    groups = m.groupdict()
    year = _full_year(groups["y"])
    if "mon" in groups:
        month = _MONTHS.get(groups["mon"])
        if month is None:
            raise _BadDate()
        return _make_date(year, month, int(groups["d"]))
    if "a" in groups:
        a, b = int(groups["a"]), int(groups["b"])
        month, day = _month_day(a, b, order)
        return _make_date(year, month, day)
    return _make_date(year, int(groups["m"]), int(groups["d"]))


def _month_day(a: int, b: int, order: str) -> tuple[int, int]:
    """Month and day of a year-last date ``a/b/yyyy`` under the channel's order."""
    if order == "DMY":
        return b, a
    if order == "MDY":
        return a, b
    if a > 12 >= b:
        return b, a
    if b > 12 >= a:
        return a, b
    if a == b:
        return a, b
    raise _BadDate("ambiguous_date")


def _full_year(y: str) -> int:
    if len(y) == 4:
        return int(y)
    yy = int(y)
    this = dt.date.today().year
    return 2000 + yy if 2000 + yy <= this else 1900 + yy


def _make_date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _BadDate() from None


def _time_of(m: re.Match, pm: bool, am: bool) -> dt.time | None:
    if not m.groupdict().get("H"):
        return None
    hour, minute, second = int(m.group("H")), int(m.group("M")), int(m.group("S") or 0)
    if pm and hour < 12:
        hour += 12
    elif am and hour == 12:
        hour = 0
    try:
        return dt.time(hour, minute, second)
    except ValueError:
        raise _BadDate() from None


def _offset_of(tz: str | None) -> str | None:
    if not tz:
        return None
    tz = tz.replace(" ", "").replace("utc", "").replace("gmt", "")
    if tz in ("", "z"):
        return "+00:00"
    sign, rest = tz[0], tz[1:].replace(":", "")
    hours, minutes = (rest[:-2], rest[-2:]) if len(rest) > 2 else (rest, "00")
    if int(hours) > 14 or int(minutes) > 59:
        raise _BadDate()
    return f"{sign}{int(hours):02d}:{minutes}"


def _from_number(s: str, epoch: int) -> tuple[dt.date, dt.time | None, str | None]:
    """``19900102``, ``20230506143000``, or an Excel serial day number (``32874`` = 1990-01-01)."""
    whole = s.split(".")[0]
    m = _COMPACT.fullmatch(whole if re.fullmatch(r"\d+\.0+", s) else s)
    if m:
        day = _make_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        return day, _time_of(m, False, False), None
    if len(whole) == 4 and 1800 <= int(whole) <= 2100:
        raise _BadDate()  # a bare year is not a date
    return excel_serial_to_datetime(float(s), epoch)


def excel_serial_to_datetime(serial: float, epoch: int = 1900) -> tuple[dt.date, dt.time | None, None]:
    """Excel's day number -> date (and time if it has a fraction), in the 1900 or 1904 system."""
    if not 1 <= serial < 2958466:
        raise _BadDate()
    days = int(serial)
    if epoch == 1904:
        base = dt.date(1904, 1, 1)
    elif days == 60:
        raise _BadDate()  # 1900-02-29: Lotus's leap-year bug, a day that never existed
    else:
        base = dt.date(1899, 12, 31) if days < 60 else dt.date(1899, 12, 30)
    day = base + dt.timedelta(days=days)
    seconds = round((serial - days) * 86400)
    if seconds == 0:
        return day, None, None
    if seconds >= 86400:
        return day + dt.timedelta(days=1), dt.time(0, 0, 0), None
    return day, dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60), None
