"""The Report model and what people see of it: JSON-safe data, HTML, markdown, rich."""
from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from custinfo.cli.render import print_report
from custinfo.report.html import chart_svg, render_html
from custinfo.report.model import Chart, Report, Table, format_value, timestamp
from custinfo.report.writers import format_markdown

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def report() -> Report:
    per = pd.DataFrame({"channel": ["官网注册", "微信小程序", "门店"],
                        "new_customers": np.array([1200, 800, 15], dtype=np.int64),
                        "already_known": [300, 500, 5], "known_share": [0.2, 0.3846, 0.25]})
    overlap = pd.DataFrame([[10, 2], [2, 7]], index=pd.Index(["官网注册", "门店"], name="channel"),
                           columns=["官网注册", "门店"])
    names = pd.DataFrame({"name": [SCRIPT, "[red]x[/red]", "a|b"], "seen": pd.to_datetime(
        ["2024-05-01 00:00", None, "2024-05-03 10:00"]), "score": [0.5, np.nan, 1.25]})
    return Report(
        name="channels", title="渠道 Channel yield", generated_at="2024-05-01T10:00:00+08:00",
        summary={"records": np.int64(2820), "duplicate_rate": 0.125, "by_gender": {"女": 3}},
        tables=[Table("channels", "Per channel", per, note="first seen"),
                Table("overlap", "Overlap", overlap), Table("names", "Names", names)],
        charts=[Chart("channels", "stacked", "channel", ["new_customers", "already_known"], "New"),
                Chart("channels", "hbar", "channel", "known_share", "Known"),
                Chart("channels", "bar", "channel", "new_customers", "Bars"),
                Chart("channels", "pie", "channel", "new_customers", "Pie")],
        notes=["synthetic"],
    )


# --- model ----------------------------------------------------------------------------------

def test_to_dict_has_the_documented_keys_and_is_json_safe(report):
    data = report.to_dict()
    assert list(data) == ["report", "title", "generated_at", "summary", "tables", "notes"]
    assert json.loads(json.dumps(data)) == data
    assert data["summary"] == {"records": 2820, "duplicate_rate": 0.125, "by_gender": {"女": 3}}
    assert data["tables"]["channels"][0] == {"channel": "官网注册", "new_customers": 1200,
                                             "already_known": 300, "known_share": 0.2}


def test_to_dict_turns_missing_values_into_null_and_times_into_iso(report):
    rows = report.to_dict()["tables"]["names"]
    assert rows[1]["seen"] is None and rows[1]["score"] is None
    assert rows[0]["seen"] == "2024-05-01T00:00:00"


def test_a_named_index_becomes_the_first_column(report):
    rows = report.to_dict()["tables"]["overlap"]
    assert rows[0] == {"channel": "官网注册", "官网注册": 10, "门店": 2}


def test_inconsistent_report_lists_every_problem():
    table = Table("t", "T", pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError) as err:
        Report("r", "R", timestamp(), {}, [table, table],
               [Chart("t", "bar", "a", "nope", "c1"), Chart("missing", "donut", "a", "a", "c2")])
    message = str(err.value)
    for problem in ("used more than once", "no column 'nope'", "no table named 'missing'",
                    "'donut' is not one of"):
        assert problem in message


def test_timestamp_is_iso_with_offset_to_the_second():
    text = timestamp(dt.datetime(2024, 5, 1, 10, 0, 3, 999, tzinfo=dt.timezone.utc))
    assert text == "2024-05-01T10:00:03+00:00"


@pytest.mark.parametrize("value, fmt, shown", [
    (1234567, None, "1,234,567"), (np.int64(42), None, "42"), (0.1234, "percent", "12.3%"),
    (0.00042, "percent", "0.04%"), (3.0, None, "3"), (12.345, None, "12.35"), (0.01234, None, "0.0123"),
    (2024, "text", "2024"), (None, None, ""), (np.nan, None, ""), (pd.NaT, None, ""),
    (pd.Timestamp("2024-05-01"), None, "2024-05-01"), (dt.date(2024, 5, 1), None, "2024-05-01"),
    (True, None, "yes"), ("张三", None, "张三"),
])
def test_format_value_reads_well(value, fmt, shown):
    assert format_value(value, fmt) == shown


def test_rate_columns_and_keys_show_as_percent_and_years_as_text(report):
    assert report.table("channels").column_format("known_share") == "percent"
    assert report.summary_format("duplicate_rate") == "percent"
    assert Table("y", "Y", pd.DataFrame({"year": [2024]})).column_format("year") == "text"
    assert report.table("channels").column_format("new_customers") is None


# --- html -----------------------------------------------------------------------------------

def test_html_is_self_contained(report):
    page = render_html(report)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_html_escapes_script_in_data(report):
    page = render_html(report)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_html_has_title_time_cards_charts_and_tables(report):
    page = render_html(report)
    assert "<title>渠道 Channel yield</title>" in page and 'lang="zh-CN"' in page
    assert "2024-05-01 10:00 (UTC+08:00)" in page
    assert ">Duplicate rate<" in page and ">12.5%<" in page and ">2,820<" in page
    assert page.count("<svg") == 4
    assert page.count("<table>") == 3
    assert "first seen" in page


def test_html_escapes_titles_and_chart_labels():
    frame = pd.DataFrame({"k": ["<b>x</b>"], "v": [1]})
    report = Report("r", "<i>t</i>", timestamp(), {"<k>": "<v>"}, [Table("t", "<u>T</u>", frame)],
                    [Chart("t", "hbar", "k", "v", "<em>c</em>")])
    page = render_html(report)
    for raw in ("<b>x</b>", "<i>t</i>", "<u>T</u>", "<em>c</em>", "<k>", "<v>"):
        assert raw not in page


def test_html_long_table_is_cut_with_a_note():
    frame = pd.DataFrame({"n": range(30)})
    report = Report("r", "R", timestamp(), {}, [Table("t", "T", frame)])
    page = render_html(report, max_rows=10)
    assert page.count("<tr>") == 11  # header + 10 rows
    assert "20 more rows" in page


def test_html_handles_empty_tables_and_charts():
    frame = pd.DataFrame({"k": pd.Series([], dtype=str), "v": pd.Series([], dtype=int)})
    report = Report("r", "R", timestamp(), {}, [Table("t", "T", frame)],
                    [Chart("t", "pie", "k", "v", "c")])
    page = render_html(report)
    assert "no rows" in page and "no data" in page


def test_pie_sums_the_small_slices_as_other():
    frame = pd.DataFrame({"k": [f"p{i}" for i in range(12)], "v": range(12, 0, -1)})
    svg, _ = chart_svg(Chart("t", "pie", "k", "v", "c"), Table("t", "T", frame))
    assert "Other (5)" in svg


def test_bar_chart_with_many_rows_says_how_many_it_shows():
    frame = pd.DataFrame({"k": [f"p{i}" for i in range(50)], "v": range(50)})
    svg, note = chart_svg(Chart("t", "bar", "k", "v", "c"), Table("t", "T", frame))
    assert note is not None and "20 of 50" in note
    assert svg.count("<rect") == 20


# --- markdown -------------------------------------------------------------------------------

def test_markdown_has_summary_every_table_and_notes(report):
    text = format_markdown(report)
    assert text.startswith("# 渠道 Channel yield\n")
    assert "| Duplicate rate | 12.5% |" in text
    for title in ("## Per channel", "## Overlap", "## Names"):
        assert title in text
    assert "| channel | new_customers | already_known | known_share |" in text
    assert "| 官网注册 | 1,200 | 300 | 20.0% |" in text
    assert "- synthetic" in text


def test_markdown_escapes_pipes_and_html_in_cells(report):
    text = format_markdown(report)
    assert "a\\|b" in text
    assert SCRIPT not in text


# --- rich -----------------------------------------------------------------------------------

def _printed(report: Report, **kw) -> str:
    console = Console(record=True, width=140, color_system=None)
    print_report(report, console, **kw)
    return console.export_text()


def test_terminal_shows_summary_tables_and_charts(report):
    text = _printed(report)
    assert "渠道 Channel yield" in text
    assert "Duplicate rate" in text and "12.5%" in text
    assert "Per channel" in text and "38.5%" in text
    assert "█" in text


def test_terminal_cuts_long_tables_and_says_how_many_rows_are_left():
    frame = pd.DataFrame({"n": range(25)})
    text = _printed(Report("r", "R", timestamp(), {}, [Table("t", "T", frame)]), max_rows=10)
    assert "… 15 more rows" in text


def test_terminal_shows_markup_in_data_literally(report):
    assert "[red]x[/red]" in _printed(report)
