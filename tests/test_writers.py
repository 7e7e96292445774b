"""Files written for people and spreadsheets: formula injection, text cells, encodings,
permissions. Read back the way the user's tool would (openpyxl for Excel, bytes for CSV)."""
from __future__ import annotations

import json
import os
import stat

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custinfo.errors import CustinfoError
from custinfo.report.model import Chart, Report, Table
from custinfo.report.writers import (
    display_width,
    is_formula_risk,
    neutralize_formula,
    safe_sheet_title,
    write_frame,
    write_report,
)

HYPERLINK = '=HYPERLINK("http://x","click")'
E164 = "+8613800138000"


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame({
        "name": [HYPERLINK, "张三", "@SUM(A1)", "-2+3", "\tTAB"],
        "phone": [E164, "13800138000", None, "+86 (10) 1234-5678", "010-12345678"],
        "id_number": ["110101199003071234", "44030119851231002X", None, None, "0012345"],
    })


def _sheet(path):
    return openpyxl.load_workbook(path).active


def _column(sheet, header: str) -> list:
    headers = [c.value for c in sheet[1]]
    col = headers.index(header) + 1
    return [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]


# --- formula injection ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [HYPERLINK, "@SUM(A1)", "+cmd|' /C calc'!A0", "-1+A1", "\t=1",
                                   "\r=1", " =1+1", "+SUM(1)", "-"+"HYPERLINK(1)"])
def test_values_a_spreadsheet_would_run_are_risky(value):
    assert is_formula_risk(value)
    assert neutralize_formula(value) == "'" + value


@pytest.mark.parametrize("value", [E164, "+86 138 0013 8000", "+86 (10) 1234-5678", "-12.5", "-",
                                   "--", "张三", "a=b", "", "13800138000"])
def test_phones_signed_numbers_and_plain_text_stay_intact(value):
    assert not is_formula_risk(value)
    assert neutralize_formula(value) == value


@given(st.text())
def test_neutralized_text_is_never_risky_and_neutralizing_is_idempotent(text):
    once = neutralize_formula(text)
    assert not is_formula_risk(once)
    assert neutralize_formula(once) == once


def test_csv_neutralizes_hyperlink_formula_in_name(tmp_path, people):
    out = write_frame(people, tmp_path / "people.csv")
    back = pd.read_csv(out, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert back.loc[0, "name"] == "'" + HYPERLINK
    assert back.loc[2, "name"] == "'@SUM(A1)"
    assert back.loc[4, "name"] == "'\tTAB"


def test_csv_keeps_e164_phone_intact(tmp_path, people):
    out = write_frame(people, tmp_path / "people.csv")
    back = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert back.loc[0, "phone"] == E164
    assert back.loc[3, "phone"] == "+86 (10) 1234-5678"


def test_csv_neutralizes_a_formula_in_a_column_name(tmp_path):
    out = write_frame(pd.DataFrame({"=cmd|'/C calc'!A0": ["x"]}), tmp_path / "h.csv")
    assert out.read_text(encoding="utf-8-sig").startswith("'=cmd|")


def test_csv_neutralizing_keeps_integers_in_mixed_columns(tmp_path):
    frame = pd.DataFrame({"k": ["a", "b", "c"], "v": pd.Series([1, None, "=1+1"], dtype=object)})
    out = write_frame(frame, tmp_path / "m.csv")
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["k,v", "a,1", "b,", "c,'=1+1"]


def test_xlsx_formula_in_name_is_a_text_cell_not_a_formula(tmp_path, people):
    cell = _column(_sheet(write_frame(people, tmp_path / "p.xlsx")), "name")[0]
    assert cell.data_type == "s"
    assert cell.value == "'" + HYPERLINK


def test_xlsx_keeps_e164_phone_as_text(tmp_path, people):
    cell = _column(_sheet(write_frame(people, tmp_path / "p.xlsx")), "phone")[0]
    assert (cell.value, cell.data_type) == (E164, "s")


# --- xlsx as Excel should show it -----------------------------------------------------------

def test_xlsx_long_digit_strings_are_text_cells(tmp_path, people):
    cells = _column(_sheet(write_frame(people, tmp_path / "p.xlsx")), "id_number")
    assert cells[0].value == "110101199003071234"
    assert cells[0].data_type == "s" and cells[0].number_format == "@"
    assert cells[4].value == "0012345"  # the leading zeros survive


def test_xlsx_phones_stored_as_numbers_become_text_without_decimal(tmp_path):
    frame = pd.DataFrame({"mobile": [13800138000.0, None], "amount": [12345678901, 5],
                          "valid_phone": [3, 4]})
    sheet = _sheet(write_frame(frame, tmp_path / "n.xlsx"))
    assert [(c.value, c.data_type) for c in _column(sheet, "mobile")][0] == ("13800138000", "s")
    assert _column(sheet, "amount")[0].data_type == "s"  # 11 digits: Excel would show 1.2E+10
    assert [c.value for c in _column(sheet, "valid_phone")] == [3, 4]  # a count stays a number
    assert _column(sheet, "valid_phone")[0].data_type == "n"


def test_xlsx_text_columns_option_forces_text(tmp_path):
    frame = pd.DataFrame({"zip": [100080, 518000]})
    sheet = _sheet(write_frame(frame, tmp_path / "z.xlsx", text_columns={"zip"}))
    assert [c.value for c in _column(sheet, "zip")] == ["100080", "518000"]


def test_xlsx_header_is_bold_frozen_and_filtered(tmp_path, people):
    sheet = _sheet(write_frame(people, tmp_path / "p.xlsx", sheet_name="客户"))
    assert sheet.title == "客户"
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C6"


def test_xlsx_cjk_text_gets_a_wider_column_than_ascii_of_same_length(tmp_path):
    frame = pd.DataFrame({"a": ["上海市浦东新区张江高科技园区"], "b": ["abcdefghijklmn"]})
    sheet = _sheet(write_frame(frame, tmp_path / "w.xlsx"))
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["B"].width
    assert display_width("上海") == 4


def test_xlsx_iso_date_text_and_datetimes_become_real_dates(tmp_path):
    frame = pd.DataFrame({"birth_date": ["1990-03-07", None],
                          "ingested_at": pd.to_datetime(["2024-05-01 10:30", "2024-05-02 08:00"])})
    sheet = _sheet(write_frame(frame, tmp_path / "d.xlsx"))
    birth = _column(sheet, "birth_date")[0]
    assert birth.is_date and birth.number_format == "yyyy-mm-dd"
    assert birth.value.date().isoformat() == "1990-03-07"
    seen = _column(sheet, "ingested_at")[0]
    assert seen.is_date and seen.number_format == "yyyy-mm-dd hh:mm:ss"


def test_xlsx_timezone_aware_datetimes_keep_wall_time(tmp_path):
    frame = pd.DataFrame({"at": pd.to_datetime(["2024-05-01 10:30"]).tz_localize("Asia/Shanghai")})
    cell = _column(_sheet(write_frame(frame, tmp_path / "tz.xlsx")), "at")[0]
    assert cell.value.hour == 10


def test_xlsx_date_column_keeps_unparsable_values_as_text(tmp_path):
    frame = pd.DataFrame({"seen": ["2024-01-02", "unknown"]})
    cells = _column(_sheet(write_frame(frame, tmp_path / "d.xlsx", date_columns={"seen"})), "seen")
    assert cells[0].is_date
    assert (cells[1].value, cells[1].data_type) == ("unknown", "s")


def test_xlsx_control_characters_do_not_break_the_file(tmp_path):
    frame = pd.DataFrame({"note": ["bell\x07here", "x" * 40_000]})
    cells = _column(_sheet(write_frame(frame, tmp_path / "c.xlsx")), "note")
    assert cells[0].value == "bell\ufffdhere"
    assert len(cells[1].value) == 32_767


def test_sheet_titles_are_made_valid_and_unique():
    assert safe_sheet_title("a/b:c?") == "a_b_c_"
    assert safe_sheet_title("x" * 40, ["x" * 31]) == "x" * 29 + "_2"


# --- encodings and stdout -------------------------------------------------------------------

def test_csv_default_has_utf8_bom_for_excel(tmp_path):
    out = write_frame(pd.DataFrame({"姓名": ["张三"]}), tmp_path / "bom.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_csv_gbk_round_trips_chinese(tmp_path):
    frame = pd.DataFrame({"姓名": ["张三", "欧阳娜娜"], "城市": ["深圳", "上海"]})
    out = write_frame(frame, tmp_path / "gbk.csv", encoding="gbk")
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="gbk", dtype=str)
    assert back.columns.tolist() == ["姓名", "城市"]
    assert back.values.tolist() == frame.values.tolist()


def test_csv_gbk_unencodable_cell_names_row_and_column_and_leaves_no_file(tmp_path):
    frame = pd.DataFrame({"name": ["张三", "Ann 😀"]})
    with pytest.raises(CustinfoError) as err:
        write_frame(frame, tmp_path / "bad.csv", encoding="gbk")
    assert (err.value.row, err.value.key) == (2, "name")
    assert "gb18030" in err.value.hint
    assert list(tmp_path.iterdir()) == []


def test_dash_writes_csv_without_bom_to_stdout(capsys):
    assert write_frame(pd.DataFrame({"phone": [E164]}), "-") is None
    assert capsys.readouterr().out == f"phone\n{E164}\n"


def test_xlsx_to_stdout_is_refused_with_a_hint():
    with pytest.raises(CustinfoError, match="stdout") as err:
        write_frame(pd.DataFrame({"a": [1]}), "-", fmt="xlsx")
    assert "-o" in err.value.hint


def test_unknown_extension_says_which_to_use(tmp_path):
    with pytest.raises(CustinfoError) as err:
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "out.txt")
    assert ".xlsx" in err.value.hint


# --- other formats --------------------------------------------------------------------------

def test_jsonl_keeps_chinese_and_missing_values(tmp_path):
    frame = pd.DataFrame({"name": ["张三", None], "n": [1, 2]})
    out = write_frame(frame, tmp_path / "p.jsonl")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert "张三" in lines[0]
    assert [json.loads(x) for x in lines] == [{"name": "张三", "n": 1}, {"name": None, "n": 2}]


def test_json_is_an_array_of_rows(tmp_path):
    out = write_frame(pd.DataFrame({"a": [1, 2]}), tmp_path / "p.json")
    assert json.loads(out.read_text(encoding="utf-8")) == [{"a": 1}, {"a": 2}]


def test_parquet_writes_text_columns_as_strings_and_mixed_columns_safely(tmp_path):
    frame = pd.DataFrame({"zip": [100080, 518000], "mixed": pd.Series([1, "a"], dtype=object)})
    back = pd.read_parquet(write_frame(frame, tmp_path / "p.parquet", text_columns={"zip"}))
    assert back["zip"].tolist() == ["100080", "518000"]
    assert back["mixed"].tolist() == ["1", "a"]


# --- permissions (issue 8) ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a.csv", "a.xlsx", "a.parquet", "a.jsonl", "a.json"])
def test_files_are_owner_only_and_new_directories_0700(tmp_path, name):
    out = write_frame(pd.DataFrame({"a": [1]}), tmp_path / "new" / "deeper" / name)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "deeper").st_mode) == 0o700


def test_overwriting_a_world_readable_file_makes_it_owner_only(tmp_path):
    target = tmp_path / "old.csv"
    target.write_text("old")
    target.chmod(0o644)
    write_frame(pd.DataFrame({"a": [1]}), target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "markdown", "html"])
def test_report_files_are_owner_only(tmp_path, fmt):
    report = Report("r", "R", "2024-01-01T00:00:00", {"n": 1},
                    [Table("t", "T", pd.DataFrame({"a": [1]}))])
    out = write_report(report, tmp_path / f"r.{fmt}", fmt)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


# --- reports --------------------------------------------------------------------------------

@pytest.fixture
def report() -> Report:
    per = pd.DataFrame({"channel": ["官网", "门店"], "records": [120, 80], "known_share": [0.25, 0.5]})
    files = pd.DataFrame({"file": ["a.csv"], "name": [HYPERLINK]})
    return Report("channels", "Channel yield", "2024-05-01T10:00:00+08:00",
                  {"records": 200, "duplicate_rate": 0.125},
                  [Table("channels", "Per channel", per), Table("files", "Per file", files)],
                  [Chart("channels", "bar", "channel", "records", "Records")])


def test_report_json_equals_to_dict(tmp_path, report):
    out = write_report(report, tmp_path / "r.json")
    assert json.loads(out.read_text(encoding="utf-8")) == report.to_dict()


def test_report_csv_of_one_table_is_that_table(tmp_path, report):
    report.tables = report.tables[:1]
    back = pd.read_csv(write_report(report, tmp_path / "r.csv"), encoding="utf-8-sig")
    assert list(back.columns) == ["channel", "records", "known_share"]
    assert back["records"].tolist() == [120, 80]


def test_report_csv_of_several_tables_names_the_table_of_each_row(tmp_path, report):
    back = pd.read_csv(write_report(report, tmp_path / "r.csv"), encoding="utf-8-sig", dtype=str)
    assert back["table"].tolist() == ["channels", "channels", "files"]
    assert back.loc[2, "name"] == "'" + HYPERLINK
    assert back.loc[0, "records"] == "120"


def test_report_without_tables_writes_its_summary_as_csv(tmp_path):
    report = Report("s", "S", "2024-01-01T00:00:00", {"records": 3}, [])
    text = write_report(report, tmp_path / "s.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["metric,value", "records,3"]


def test_report_xlsx_has_a_summary_sheet_and_one_sheet_per_table(tmp_path, report):
    book = openpyxl.load_workbook(write_report(report, tmp_path / "r.xlsx"))
    assert book.sheetnames == ["summary", "channels", "files"]
    summary = {r[0]: r[1] for r in book["summary"].iter_rows(min_row=4, max_row=5, values_only=True)}
    assert summary == {"Records": 200, "Duplicate rate": 0.125}
    assert book["summary"]["B5"].number_format == "0.0%"
    share = book["channels"]["C2"]
    assert (share.value, share.number_format) == (0.25, "0.0%")
    name = book["files"]["B2"]
    assert (name.value, name.data_type) == ("'" + HYPERLINK, "s")
    assert len(book["channels"]._charts) == 1


def test_report_markdown_file_has_every_table(tmp_path, report):
    text = write_report(report, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "## Per channel" in text and "## Per file" in text
    assert "| channel | records | known_share |" in text


def test_report_html_to_stdout(capsys, report):
    write_report(report, "-", "html")
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "markdown", "html"])
def test_report_with_awkward_dtypes_writes_in_every_format(tmp_path, fmt):
    ages = pd.cut(pd.Series([23, 35, 61]), bins=[0, 30, 50, 120])
    frame = pd.DataFrame({
        "band": ages.astype("category"), "interval": ages, "n": pd.array([1, None, 3], dtype="Int64"),
        "flag": pd.array([True, None, False], dtype="boolean"), "empty": [None, None, None],
        "at": pd.to_datetime(["2024-01-01", None, "2024-01-03"]).tz_localize("UTC"),
        "rate": [0.1, float("nan"), float("inf")]})
    empty = pd.DataFrame({"k": pd.Series([], dtype=str)})
    report = Report("odd", "Odd", "2024-01-01T00:00:00", {"n": pd.NA, "when": pd.Timestamp("2024-01-01")},
                    [Table("odd", "Odd", frame), Table("empty", "Empty", empty)],
                    [Chart("odd", "bar", "band", "n", "by band"), Chart("odd", "pie", "band", "n", "pie")])
    out = write_report(report, tmp_path / f"odd.{fmt}", fmt)
    assert out.stat().st_size > 0


def test_unwritable_folder_is_a_one_line_error_naming_the_file(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root ignores permissions
        pytest.skip("running as root")
    with pytest.raises(CustinfoError) as err:
        write_frame(pd.DataFrame({"a": [1]}), locked / "out.csv")
    assert err.value.file == str(locked / "out.csv")


def test_a_file_in_the_way_of_the_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(CustinfoError) as err:
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "blocker" / "out.csv")
    assert "cannot write" in err.value.message


def test_report_xlsx_counts_have_thousands_separators_and_sheets_print_one_page_wide(tmp_path, report):
    book = openpyxl.load_workbook(write_report(report, tmp_path / "r.xlsx"))
    sheet = book["channels"]
    assert sheet["B2"].number_format == "#,##0"
    assert book["summary"]["B4"].number_format == "#,##0"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"  # the header repeats on every printed page


def test_export_xlsx_keeps_general_format_for_numbers(tmp_path):
    sheet = _sheet(write_frame(pd.DataFrame({"records": [12345]}), tmp_path / "e.xlsx"))
    assert sheet["A2"].number_format == "General"


def test_an_existing_output_folder_keeps_its_permissions(tmp_path):
    shared = tmp_path / "Desktop"
    shared.mkdir()
    shared.chmod(0o755)
    write_frame(pd.DataFrame({"a": [1]}), shared / "out.csv")
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755


def test_files_are_owner_only_even_with_umask_zero(tmp_path):
    old = os.umask(0)
    try:
        out = write_frame(pd.DataFrame({"a": [1]}), tmp_path / "new" / "a.xlsx")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
