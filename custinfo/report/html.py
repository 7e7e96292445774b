"""A report as ONE self-contained HTML page a manager can open offline, mail, and print.

Everything is inline: CSS in a <style> block, charts as inline SVG drawn here (no JavaScript,
no fonts or images fetched, and a Content-Security-Policy that forbids fetching anything).
Every piece of data is HTML-escaped. Fonts come from the reader's system through a CJK-aware
stack (PingFang / Microsoft YaHei / Noto Sans CJK ...). Tables longer than `max_rows` show
their first rows and say how many more the csv/xlsx export holds.
"""

from __future__ import annotations

import math
import re
from html import escape

import pandas as pd

from custinfo import __version__
from custinfo.report.model import Chart, Report, Table, format_value, humanize

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
CHART_WIDTH = 520  # about the drawn width of a chart in a two-column grid, so 12px stays 12px
MAX_CATEGORIES = 20  # bars per chart; the table below it has every row
PIE_SLICES = 7  # the largest slices; the rest are summed as "Other"
FONT_SIZE = 12

_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")

CSS = """
:root { color-scheme: light; --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --soft:#f5f7fa;
  --accent:#4e79a7; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.5; font-size: 14px;
  font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    "Helvetica Neue", Arial, sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; }
.meta { color: var(--muted); margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--soft);
  break-inside: avoid; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; }
.card .value.small { font-size: 13px; font-weight: 400; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px;
  margin-top: 20px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 6px; }
figure svg { width: 100%; height: auto; display: block; font-family: inherit; }
.chart-note, .note, .more { color: var(--muted); font-size: 12px; margin: 4px 0; }
nav { font-size: 13px; margin-top: 16px; color: var(--muted); }
nav a { color: var(--accent); margin-right: 12px; text-decoration: none; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 10px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
th { background: #e9eff5; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  padding-top: 8px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  .charts { grid-template-columns: 1fr 1fr; }
  .table-wrap { overflow: visible; border: none; }
  table { font-size: 10px; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


def render_html(report: Report, *, max_rows: int = 500, lang: str | None = None) -> str:
    """The whole report as one self-contained HTML document (a str)."""
    lang = lang or _guess_lang(report)
    body = [
        _header(report),
        _cards(report),
        _charts(report),
        _nav(report),
        *(_table_section(t, max_rows) for t in report.tables),
        _footer(report),
    ]
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">\n"
        f'<meta name="generator" content="custinfo {escape(__version__)}">\n'
        f"<title>{escape(report.title)}</title>\n<style>{CSS}</style>\n</head>\n"
        "<body>\n<main>\n" + "\n".join(part for part in body if part) + "\n</main>\n</body>\n</html>\n"
    )


def _guess_lang(report: Report) -> str:
    titles = " ".join([report.title, *(t.title for t in report.tables)])
    return "zh-CN" if _CJK.search(titles) else "en"


def _friendly_time(iso: str) -> str:
    """'2024-05-01T10:22:03+08:00' -> '2024-05-01 10:22 (UTC+08:00)'; other text unchanged."""
    try:
        stamp = pd.Timestamp(iso)
    except (ValueError, TypeError):
        return iso
    text = stamp.strftime("%Y-%m-%d %H:%M")
    offset = stamp.strftime("%z")
    return f"{text} (UTC{offset[:3]}:{offset[3:]})" if offset else text


def _header(report: Report) -> str:
    return (
        f"<header><h1>{escape(report.title)}</h1>"
        f'<p class="meta">Generated {escape(_friendly_time(report.generated_at))} · '
        f"report <code>{escape(report.name)}</code></p></header>"
    )


def _cards(report: Report) -> str:
    if not report.summary:
        return ""
    cards = []
    for key, value in report.summary.items():
        shown = format_value(value, report.summary_format(key)) or "—"
        small = " small" if isinstance(value, dict | list | tuple | set) or len(shown) > 24 else ""
        cards.append(
            f'<div class="card"><div class="label">{escape(humanize(key))}</div>'
            f'<div class="value{small}">{escape(shown)}</div></div>'
        )
    return '<section class="cards">' + "".join(cards) + "</section>"


def _charts(report: Report) -> str:
    if not report.charts:
        return ""
    figures = []
    for chart in report.charts:
        table = report.table(chart.table)
        svg, note = chart_svg(chart, table)
        note_html = f'<p class="chart-note">{escape(note)}</p>' if note else ""
        figures.append(f"<figure><figcaption>{escape(chart.title)}</figcaption>{svg}{note_html}</figure>")
    return '<section class="charts">' + "".join(figures) + "</section>"


def _anchor(table: Table) -> str:
    return "t-" + re.sub(r"[^0-9A-Za-z_-]+", "-", table.name).strip("-")


def _nav(report: Report) -> str:
    if len(report.tables) < 3:
        return ""
    links = "".join(f'<a href="#{escape(_anchor(t))}">{escape(t.title)}</a>' for t in report.tables)
    return f"<nav>Tables: {links}</nav>"


def _table_section(table: Table, max_rows: int) -> str:
    """A heading, the note, and the table (first `max_rows` rows) with numbers right-aligned."""
    frame = table.data()
    columns = list(frame.columns)
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype)
        for c in columns
    ]
    formats = [table.column_format(c) for c in columns]
    head = "".join(
        f"<th{' class=num' if n else ''}>{escape(c)}</th>" for c, n in zip(columns, numeric, strict=True)
    )
    rows = []
    for row in frame.head(max_rows).itertuples(index=False, name=None):
        cells = "".join(
            f"<td{' class=num' if n else ''}>{escape(format_value(v, f))}</td>"
            for v, n, f in zip(row, numeric, formats, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    if not rows:
        rows.append(f'<tr><td class="empty" colspan="{max(len(columns), 1)}">no rows</td></tr>')
    more = ""
    if len(frame) > max_rows:
        more = (
            f'<p class="more">… {len(frame) - max_rows:,} more rows not shown here; '
            "the csv or xlsx export of this report has them all.</p>"
        )
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f'<section id="{escape(_anchor(table))}"><h2>{escape(table.title)}</h2>{note}'
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}</section>"
    )


def _footer(report: Report) -> str:
    notes = ""
    if report.notes:
        notes = "<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>"
    return (
        f"{notes}<footer>custinfo {escape(__version__)} · report {escape(report.name)} · "
        f"generated {escape(report.generated_at)}</footer>"
    )


# --- charts as inline SVG -------------------------------------------------------------------


def text_px(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width: CJK and full-width characters are about 1em, others 0.6em."""
    return sum(size if _CJK.match(ch) else size * 0.6 for ch in text)


def fit_text(text: str, max_px: float, size: float = FONT_SIZE) -> str:
    """`text` cut with an ellipsis so that it fits in `max_px`."""
    if text_px(text, size) <= max_px:
        return text
    while text and text_px(text + "…", size) > max_px:
        text = text[:-1]
    return text + "…"


def chart_svg(chart: Chart, table: Table) -> tuple[str, str | None]:
    """The SVG of a chart of `table`, and a note (e.g. how many categories were left out)."""
    frame = table.data()
    labels = [format_value(v) or "(blank)" for v in frame[chart.x].tolist()]
    series = {
        y: pd.to_numeric(frame[y], errors="coerce").fillna(0.0).astype(float).tolist()
        for y in chart.y_columns
    }
    fmt = table.column_format(chart.y_columns[0])
    if not labels:
        return _empty_svg(), None
    if chart.kind == "pie":
        return _pie_svg(labels, series[chart.y_columns[0]], fmt), None
    note = None
    if len(labels) > MAX_CATEGORIES:
        note = f"First {MAX_CATEGORIES} of {len(labels):,} rows shown; the table has them all."
        labels = labels[:MAX_CATEGORIES]
        series = {k: v[:MAX_CATEGORIES] for k, v in series.items()}
    if chart.kind == "stacked":
        return _stacked_svg(labels, series, fmt), note
    values = series[chart.y_columns[0]]
    if chart.kind == "bar" and _vertical_fits(labels):
        return _column_svg(labels, values, fmt), note
    return _hbar_svg(labels, values, fmt), note


def _svg(width: float, height: float, body: list[str], label: str = "chart") -> str:
    return (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}" '
        f'font-size="{FONT_SIZE}">' + "".join(body) + "</svg>"
    )


def _text(
    x: float, y: float, text: str, anchor: str = "start", fill: str = "#1f2933", extra: str = ""
) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>{escape(text)}</text>'


def _empty_svg() -> str:
    return _svg(CHART_WIDTH, 60, [_text(CHART_WIDTH / 2, 34, "no data", "middle", "#616e7c")])


def _vertical_fits(labels: list[str]) -> bool:
    """Vertical bars only when every label fits under its bar; else horizontal bars read better."""
    if len(labels) > 12:
        return False
    slot = (CHART_WIDTH - 60) / len(labels)
    return all(text_px(label) <= slot - 4 for label in labels)


def _domain(values: list[float]) -> tuple[float, float]:
    lo, hi = min(0.0, *values), max(0.0, *values)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _hbar_svg(labels: list[str], values: list[float], fmt: str | None) -> str:
    """One bar per row, labels on the left, values at the end of each bar."""
    row_h, top = 24, 6
    label_w = min(max(text_px(label) for label in labels) + 16, CHART_WIDTH * 0.35)
    value_w = max(text_px(format_value(v, fmt)) for v in values) + 12
    plot_w = CHART_WIDTH - label_w - value_w
    lo, hi = _domain(values)
    scale = plot_w / (hi - lo)
    zero = label_w + (0 - lo) * scale
    body = [
        f'<line x1="{zero:.1f}" y1="{top}" x2="{zero:.1f}" y2="{top + row_h * len(labels)}" '
        'stroke="#9aa5b1"/>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row_h
        x0, x1 = sorted((zero, zero + value * scale))
        body.append(
            f"<g><title>{escape(label)}: {escape(format_value(value, fmt))}</title>"
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{row_h - 8}" rx="2" fill="{PALETTE[0]}"/></g>'
        )
        body.append(_text(label_w - 8, y + row_h / 2 + 4, fit_text(label, label_w - 12), "end"))
        body.append(_text(max(x1, zero) + 4, y + row_h / 2 + 4, format_value(value, fmt), fill="#3e4c59"))
    return _svg(CHART_WIDTH, top * 2 + row_h * len(labels), body)


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round ticks from at or below lo to at or above hi, 1, 2, 2.5 or 5 x 10^k apart."""
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [i * step for i in range(first, last + 1)]


def _column_svg(labels: list[str], values: list[float], fmt: str | None) -> str:
    """Vertical bars with light gridlines, values above, labels below."""
    height, top, bottom, left = 260, 18, 28, 52
    plot_h, plot_w = height - top - bottom, CHART_WIDTH - left - 8
    ticks = _ticks(*_domain(values))
    lo, hi = ticks[0], ticks[-1]
    scale = plot_h / (hi - lo)
    zero = top + hi * scale
    body = []
    for tick in ticks:
        y = top + (hi - tick) * scale
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{CHART_WIDTH - 8}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        body.append(_text(left - 6, y + 4, format_value(tick, fmt), "end", "#616e7c"))
    slot = plot_w / len(labels)
    bar_w = min(slot * 0.7, 64)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cx = left + slot * (i + 0.5)
        y0, y1 = sorted((zero, zero - value * scale))
        body.append(
            f"<g><title>{escape(label)}: {escape(format_value(value, fmt))}</title>"
            f'<rect x="{cx - bar_w / 2:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" '
            f'height="{max(y1 - y0, 0.5):.1f}" rx="2" fill="{PALETTE[0]}"/></g>'
        )
        body.append(_text(cx, y0 - 4, format_value(value, fmt), "middle", "#3e4c59"))
        body.append(_text(cx, height - bottom + 16, fit_text(label, slot - 4), "middle"))
    body.append(
        f'<line x1="{left}" y1="{zero:.1f}" x2="{CHART_WIDTH - 8}" y2="{zero:.1f}" stroke="#9aa5b1"/>'
    )
    return _svg(CHART_WIDTH, height, body)


def _legend(names: list[str], y: float, x: float = 0) -> list[str]:
    """Colour swatches and names in a row."""
    body = []
    for i, name in enumerate(names):
        body.append(
            f'<rect x="{x:.1f}" y="{y - 10}" width="12" height="12" rx="2" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        body.append(_text(x + 16, y, name))
        x += 16 + text_px(name) + 18
    return body


def _stacked_svg(labels: list[str], series: dict[str, list[float]], fmt: str | None) -> str:
    """Horizontal bars made of one segment per series (negative values count as 0), total at
    the end, a legend on top."""
    names = list(series)
    totals = [sum(max(series[n][i], 0.0) for n in names) for i in range(len(labels))]
    row_h, top = 24, 28
    label_w = min(max(text_px(label) for label in labels) + 16, CHART_WIDTH * 0.35)
    value_w = max(text_px(format_value(t, fmt)) for t in totals) + 12
    plot_w = CHART_WIDTH - label_w - value_w
    scale = plot_w / (max(totals) or 1.0)
    body = _legend([humanize(n) for n in names], 14)
    for i, label in enumerate(labels):
        y, x = top + i * row_h, label_w
        for k, name in enumerate(names):
            value = max(series[name][i], 0.0)
            width = value * scale
            body.append(
                f"<g><title>{escape(label)} · {escape(humanize(name))}: "
                f"{escape(format_value(value, fmt))}</title>"
                f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"/></g>'
            )
            x += width
        body.append(_text(label_w - 8, y + row_h / 2 + 4, fit_text(label, label_w - 12), "end"))
        body.append(_text(x + 4, y + row_h / 2 + 4, format_value(totals[i], fmt), fill="#3e4c59"))
    return _svg(CHART_WIDTH, top + row_h * len(labels) + 6, body)


def _pie_slices(labels: list[str], values: list[float]) -> list[tuple[str, float]]:
    """The largest positive slices, the rest summed as 'Other'."""
    pairs = sorted(
        ((label, v) for label, v in zip(labels, values, strict=True) if v > 0),
        key=lambda p: p[1],
        reverse=True,
    )
    if len(pairs) > PIE_SLICES + 1:
        rest = sum(v for _, v in pairs[PIE_SLICES:])
        pairs = pairs[:PIE_SLICES] + [(f"Other ({len(pairs) - PIE_SLICES})", rest)]
    return pairs


def _pie_svg(labels: list[str], values: list[float], fmt: str | None) -> str:
    """A donut of the shares, with a legend giving each value and its percentage."""
    slices = _pie_slices(labels, values)
    total = sum(v for _, v in slices)
    if total <= 0:
        return _empty_svg()
    cx, cy, r, inner = 110, 110, 96, 54
    height = max(220, 24 * len(slices) + 20)
    body, angle = [], -math.pi / 2
    for i, (label, value) in enumerate(slices):
        sweep = 2 * math.pi * value / total
        body.append(
            f"<g><title>{escape(label)}: {escape(format_value(value, fmt))}</title>"
            f"{_donut_segment(cx, cy, r, inner, angle, sweep, PALETTE[i % len(PALETTE)])}"
            "</g>"
        )
        angle += sweep
    body.append(
        _text(cx, cy + 6, format_value(total, fmt), "middle", extra=' font-size="16" font-weight="600"')
    )
    x0 = 2 * cx + 24
    for i, (label, value) in enumerate(slices):
        y = 24 + i * 24
        body.append(
            f'<rect x="{x0}" y="{y - 10}" width="12" height="12" rx="2" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        body.append(_text(x0 + 18, y, fit_text(label, CHART_WIDTH - x0 - 150)))
        share = format_value(value / total, "percent")
        body.append(_text(CHART_WIDTH - 8, y, f"{format_value(value, fmt)} · {share}", "end", "#3e4c59"))
    return _svg(CHART_WIDTH, height, body)


def _donut_segment(
    cx: float, cy: float, r: float, inner: float, start: float, sweep: float, color: str
) -> str:
    """An SVG path for one ring segment (a full ring when `sweep` is the whole circle)."""
    if sweep >= 2 * math.pi - 1e-9:
        return (
            f'<circle cx="{cx}" cy="{cy}" r="{(r + inner) / 2}" fill="none" stroke="{color}" '
            f'stroke-width="{r - inner}"/>'
        )
    end = start + sweep
    large = 1 if sweep > math.pi else 0

    def point(radius: float, a: float) -> str:
        return f"{cx + radius * math.cos(a):.2f} {cy + radius * math.sin(a):.2f}"

    return (
        f'<path d="M {point(r, start)} A {r} {r} 0 {large} 1 {point(r, end)} '
        f'L {point(inner, end)} A {inner} {inner} 0 {large} 0 {point(inner, start)} Z" '
        f'fill="{color}" stroke="#fff" stroke-width="1"/>'
    )
