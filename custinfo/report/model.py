"""What a report is, independent of how it is shown.

A `Report` holds headline figures (`summary`), named tables (pandas frames) and chart
descriptions. Every output format (rich table, json, csv, markdown, xlsx, html) is rendered
from this one object, so they all carry the same content; `Report.to_dict()` is exactly what
`--format json` prints and what the Python API hands back as data.

Human-facing renderers (markdown, html, rich) format values with `format_value`: a column or
summary key may name its format explicitly (`Table.formats`, `Report.formats`); otherwise a
float column named like a rate or share (``duplicate_rate``, ``share``, ``重复率``, ``占比``)
whose values all lie in [0, 1] is shown as a percentage. Machine formats (json, csv) always
carry the raw values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

CHART_KINDS = ("bar", "hbar", "pie", "stacked")
VALUE_FORMATS = ("percent", "int", "float", "text")

_YEAR_NAME = re.compile(r"(^|_)(year|yr)$|^年$|年份$", re.IGNORECASE)
_RATE_NAME = re.compile(r"(^|_)(rate|share|ratio|pct)$|率$|占比$|比例$", re.IGNORECASE)


def timestamp(now: dt.datetime | None = None) -> str:
    """The local time as an ISO 8601 string with offset, to the second (for `generated_at`)."""
    now = now or dt.datetime.now().astimezone()
    return now.replace(microsecond=0).isoformat()


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA (but not for lists or other containers)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def json_safe(value: Any) -> Any:
    """Turn a value from a frame or a summary into something `json.dumps` accepts.

    Missing values and non-finite floats become None; numpy scalars become Python ones;
    dates and times become ISO strings; containers are converted recursively.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        return [json_safe(v) for v in value]
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta | np.timedelta64):
        return str(pd.Timedelta(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str | int | float):
        return value
    return str(value)


def column_json(series: pd.Series) -> list[Any]:
    """A column as JSON-safe values; plain str/int/bool/finite floats skip the slow path."""
    if pd.api.types.is_datetime64_dtype(series.dtype):  # tz-naive: format in one numpy call
        return _iso_naive(series)
    plain = (str, int, bool)
    return [
        v if type(v) in plain or v is None or (type(v) is float and math.isfinite(v)) else json_safe(v)
        for v in series.tolist()
    ]


def _iso_naive(series: pd.Series) -> list[str | None]:
    """ISO strings for naive datetimes, to the second unless a value has a fraction."""
    values = series.to_numpy(dtype="datetime64[us]")
    present = values[~np.isnat(values)]
    unit = "s" if (present.astype("datetime64[s]") == present).all() else "us"
    text = np.datetime_as_string(values, unit=unit).tolist()
    return [None if t == "NaT" else t for t in text]


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as JSON-safe dicts, column names as strings."""
    columns = [str(c) for c in frame.columns]
    values = [column_json(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return (
        [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
        if values
        else [{} for _ in range(len(frame))]
    )


def _flat_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a frame a meaningful index back as columns and string column names."""
    index = frame.index
    if not (isinstance(index, pd.RangeIndex) and index.name is None and index.start == 0 and index.step == 1):
        frame = frame.reset_index()
    if isinstance(frame.columns, pd.MultiIndex):
        names = [" / ".join(str(p) for p in col if str(p) != "") for col in frame.columns]
    else:
        names = [str(c) for c in frame.columns]
    if names != list(frame.columns):
        frame = frame.set_axis(names, axis=1)
    return frame


@dataclass
class Table:
    """One named table of a report.

    `formats` maps a column to how people should see it: 'percent', 'int', 'float' or 'text'
    (json and csv keep the raw value). A meaningful index (named, or not 0..n-1) is turned
    back into leading columns by `data()`, so an overlap matrix keeps its row labels.
    """

    name: str
    title: str
    frame: pd.DataFrame
    note: str | None = None
    formats: dict[str, str] = field(default_factory=dict)

    def data(self) -> pd.DataFrame:
        """The frame as every writer sees it: index as columns, column names as strings."""
        return _flat_columns(self.frame)

    def column_format(self, column: str) -> str | None:
        """The display format of a column: explicit, else 'percent' for a rate column."""
        if column in self.formats:
            return self.formats[column]
        frame = self.data()
        if column in frame.columns and looks_like_rate(column, frame[column]):
            return "percent"
        if _YEAR_NAME.search(column):
            return "text"
        return None


@dataclass
class Chart:
    """A chart of one table: `x` holds the categories, `y` the value column(s).

    kind: 'bar' (vertical bars), 'hbar' (horizontal bars), 'pie' (shares of a whole) or
    'stacked' (horizontal bars stacked from several `y` columns).
    """

    table: str
    kind: str
    x: str
    y: str | list[str]
    title: str

    @property
    def y_columns(self) -> list[str]:
        """The value columns as a list, whether one or several were given."""
        return [self.y] if isinstance(self.y, str) else list(self.y)


@dataclass
class Report:
    """A report: headline figures, tables, charts of those tables, and notes.

    `formats` gives the display format of summary keys, like `Table.formats`.
    Construction checks that every chart names an existing table and columns.
    """

    name: str
    title: str
    generated_at: str
    summary: dict[str, Any]
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError(f"report {self.name!r} is inconsistent: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """Every inconsistency in the report (duplicate tables, charts of missing columns)."""
        problems: list[str] = []
        names = [t.name for t in self.tables]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"table name {dup!r} is used more than once")
        by_name = {t.name: t for t in self.tables}
        for chart in self.charts:
            if chart.kind not in CHART_KINDS:
                problems.append(
                    f"chart {chart.title!r}: kind {chart.kind!r} is not one of {', '.join(CHART_KINDS)}"
                )
            table = by_name.get(chart.table)
            if table is None:
                problems.append(f"chart {chart.title!r}: no table named {chart.table!r}")
                continue
            columns = set(table.data().columns)
            for col in [chart.x, *chart.y_columns]:
                if col not in columns:
                    problems.append(f"chart {chart.title!r}: table {chart.table!r} has no column {col!r}")
        formats = [("summary", k, f) for k, f in self.formats.items()]
        formats += [(f"table {t.name!r}", k, f) for t in self.tables for k, f in t.formats.items()]
        for where, key, fmt in formats:
            if fmt not in VALUE_FORMATS:
                problems.append(
                    f"{where}: format {fmt!r} of {key!r} is not one of {', '.join(VALUE_FORMATS)}"
                )
        return problems

    def table(self, name: str) -> Table:
        """The table called `name` (KeyError naming the tables there are if missing)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(
            f"report {self.name!r} has no table {name!r}; it has "
            f"{', '.join(t.name for t in self.tables) or 'none'}"
        )

    def summary_format(self, key: str) -> str | None:
        """The display format of a headline figure: explicit, else 'percent' for a rate."""
        if key in self.formats:
            return self.formats[key]
        value = self.summary.get(key)
        if isinstance(value, float) and _RATE_NAME.search(key) and 0 <= value <= 1:
            return "percent"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data: what `--format json` prints and the API returns."""
        return {
            "report": self.name,
            "title": self.title,
            "generated_at": self.generated_at,
            "summary": json_safe(self.summary),
            "tables": {t.name: frame_records(t.data()) for t in self.tables},
            "notes": list(self.notes),
        }


def looks_like_rate(name: str, values: pd.Series) -> bool:
    """A float column named like a rate/share whose values all lie in [0, 1]."""
    if not _RATE_NAME.search(str(name)) or not pd.api.types.is_float_dtype(values.dtype):
        return False
    present = values.dropna()
    return bool(len(present)) and bool(((present >= 0) & (present <= 1)).all())


def humanize(key: str) -> str:
    """A summary key as a label: 'new_customers' -> 'New customers'; CJK keys unchanged."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def format_value(value: Any, fmt: str | None = None) -> str:
    """A value as people should read it in a table or a card ('' when missing).

    Numbers get thousands separators (a year column should say 'text', which `Table`
    does for columns named year/年份); floats get a precision that suits their size;
    'percent' multiplies by 100; dates drop a midnight time.
    """
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(format_value(v) for v in value)
    if is_missing(value):
        return ""
    if fmt == "text":
        return str(value)
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer | float | np.floating | Decimal):
        return _format_number(value, fmt)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _format_number(value: Any, fmt: str | None) -> str:
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if fmt == "percent":
        pct = number * 100
        return f"{pct:.2f}%" if 0 < abs(pct) < 1 else f"{pct:.1f}%"
    if fmt == "float":
        return f"{number:,.2f}"
    if isinstance(value, int | np.integer) or fmt == "int" or number.is_integer():
        whole = int(value) if isinstance(value, int | np.integer) else round(number)
        return f"{whole:,}"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 100:
        return f"{number:.1f}"
    if abs(number) >= 1:
        return f"{number:.2f}"
    return f"{number:.3g}"
