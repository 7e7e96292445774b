"""Readers: every awkward file in tests/data/ comes back as text with the row numbers a user sees."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custinfo.errors import InputError
from custinfo.ingest import readers
from custinfo.ingest.encoding import decode_text
from custinfo.ingest.excel import cell_text, number_text
from custinfo.ingest.readers import clean_header, read_file, sniff_delimiter, unique_names

DATA = Path(__file__).parent / "data"

KNOWN = {
    "姓名", "客户姓名", "Name", "手机", "手机号码", "手機", "Mobile", "电话", "联系电话", "Phone",
    "邮箱", "Email", "電子郵件", "公司", "工作单位", "公司名稱", "Company", "职位", "地址", "Address",
    "备注", "Notes", "客户编号", "身份证号", "邮编", "座机", "出生日期", "登记时间",
}


def known(header: str) -> bool:
    return header in KNOWN


def read(name: str, **kw) -> list[readers.SheetData]:
    kw.setdefault("is_known_header", known)
    return read_file(DATA / name, **kw)


def read_one(name: str, **kw) -> readers.SheetData:
    sheets = read(name, **kw)
    assert len(sheets) == 1, [s.sheet for s in sheets]
    return sheets[0]


def records(sd: readers.SheetData) -> list[dict]:
    return sd.frame.to_dict("records")


def input_error(name: str, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        read(name, **kw)
    return info.value


# ---------------------------------------------------------------------------------------
# The contract, for every file that reads


REFUSED = {
    "empty_file.csv", "blank_lines_only.csv", "ragged_row_too_many_fields.csv", "undecodable_bytes.csv",
    "fake_xls_is_html.xls", "corrupt_not_a_zip.xlsx", "truncated_zip.xlsx", "password_protected.xlsx",
    "unclosed_quote_swallows_the_rest.csv", "zipped_csv_named_xlsx.xlsx",
}
READABLE = sorted(p.name for p in DATA.iterdir()
                  if p.suffix in {".csv", ".tsv", ".txt", ".dat", ".xlsx", ".xls"} and p.name not in REFUSED)


@pytest.mark.parametrize("name", READABLE)
def test_every_cell_is_a_python_str_or_none_in_an_object_frame(name):
    try:
        sheets = read(name)
    except InputError as exc:  # another module's bad-input fixture; each of ours has its own test
        pytest.skip(exc.one_line())
    for sd in sheets:
        assert list(sd.frame.columns) == sd.header
        assert len(set(sd.header)) == len(sd.header)
        assert all(dtype is np.dtype(object) for dtype in sd.frame.dtypes)
        assert all(v is None or (type(v) is str and v.strip()) for v in sd.frame.to_numpy().ravel())
        assert sd.row_numbers.dtype == np.int64 and len(sd.row_numbers) == len(sd.frame)
        assert list(sd.row_numbers) == sorted(set(sd.row_numbers))
        assert all(r > sd.header_row for r in sd.row_numbers)
        assert sd.file == name


# ---------------------------------------------------------------------------------------
# Text encodings


def test_bom_never_in_header_name():
    sd = read_one("utf8_bom_header.csv")
    assert sd.header == ["姓名", "手机", "邮箱", "公司"]
    assert sd.encoding == "utf-8-sig"
    assert not any("\ufeff" in h for h in sd.header)


def test_bom_never_in_header_name_even_with_forced_utf8():
    sd = read_one("utf8_bom_header.csv", encoding="utf-8")
    assert sd.header[0] == "姓名"


def test_gbk_file_is_detected_and_keeps_characters_outside_gb2312():
    sd = read_one("gbk_chinese_headers.csv")
    assert sd.encoding == "gb18030"
    assert sd.header == ["客户姓名", "手机号码", "联系电话", "工作单位", "备注"]
    assert records(sd)[0]["客户姓名"] == "王喆"


def test_big5_file_is_read_as_big5_not_as_gb18030():
    sd = read_one("big5_traditional.csv")
    assert sd.encoding == "big5"
    assert records(sd)[0]["姓名"] == "陳志明"
    assert records(sd)[0]["手機"] == "0912345678"  # the leading zero stays


def test_excel_unicode_text_export_utf16_tab_delimited_is_read():
    sd = read_one("excel_unicode_text_utf16.txt")
    assert sd.encoding == "utf-16-le"
    assert sd.header == ["姓名", "手机", "公司"]
    assert records(sd)[1]["手机"] == "13900139000"


def test_forced_encoding_overrides_detection():
    sd = read_one("undecodable_bytes.csv", encoding="latin-1")
    assert sd.encoding == "latin-1"
    assert records(sd)[1]["Company"] == "Café Ltd"


def test_undecodable_bytes_with_forced_encoding_names_file_line_and_encoding_option():
    err = input_error("undecodable_bytes.csv", encoding="utf-8")
    assert err.file.endswith("undecodable_bytes.csv")
    assert err.row == 3
    assert "--encoding" in err.hint
    assert "utf-8" in err.message


def test_undecodable_bytes_without_encoding_names_the_line_of_the_bad_byte():
    err = input_error("undecodable_bytes.csv")
    assert err.row == 3 and "--encoding" in err.hint


def test_utf16_without_bom_is_recognised_by_its_nul_bytes():
    sd = read_one("utf16_without_bom.txt")
    assert sd.encoding == "utf-16-le"
    assert records(sd) == [{"Name": "张伟", "Mobile": "13800138000"}]


@pytest.mark.parametrize("text, encoding", [
    ("姓名,手机\n张伟,13800138000\n", "gbk"),
    ("备注\n老客户\n", "gbk"),
    ("姓名,手機\n陳志明,0912345678\n", "big5"),
    ("電話\n林\n", "big5"),
    ("名稱\n黃國華\n", "big5"),
])
def test_short_chinese_texts_are_decoded_right(text, encoding):
    decoded, used = decode_text(text.encode(encoding))
    assert decoded == text
    assert used == ("gb18030" if encoding == "gbk" else "big5")


def test_unknown_encoding_name_is_an_input_error():
    err = input_error("utf8_bom_header.csv", encoding="no-such-codec")
    assert "no-such-codec" in err.message


def test_utf16_undecodable_line_is_counted_in_characters_not_bytes():
    data = "\ufeffa\tb\n1\t2\n".encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate on line 3
    with pytest.raises(InputError) as info:
        decode_text(data[2:], encoding="utf-16-le")
    assert info.value.row == 3


# ---------------------------------------------------------------------------------------
# Delimiters, quoting, ragged rows


@pytest.mark.parametrize("name, first", [
    ("semicolon_delimited.csv", {"Name": "Anna Schmidt", "Mobile": "+49 151 23456789",
                                 "Email": "anna@example.com", "Amount": "12,50"}),
    ("tab_delimited.tsv", {"Name": "Zhang Wei", "Mobile": "13800138000", "Company": "Star, Inc.",
                           "Address": "1 Main St, Springfield"}),
    ("pipe_delimited.txt", {"Name": "Zhang Wei", "Mobile": "13800138000", "Email": "zw@example.com"}),
    ("unknown_extension_semicolon.dat", {"Name": "Zhang Wei", "Mobile": "13800138000"}),
    ("fake_xls_is_tab_text.xls", {"姓名": "张伟", "手机": "13800138000"}),
])
def test_delimiter_is_sniffed(name, first):
    assert records(read_one(name))[0] == first


def test_excel_sep_line_declares_the_delimiter_and_is_not_a_row():
    sd = read_one("excel_sep_line_declares_delimiter.csv", is_known_header=lambda h: False)
    assert sd.header == ["Name", "Mobile", "Company"] and sd.header_row == 2
    assert records(sd)[0]["Company"] == "Star, Inc." and list(sd.row_numbers) == [3, 4]


def test_sniffer_ignores_a_title_line_and_commas_inside_tab_separated_values():
    text = "Customer list, March\nName\tCity\tNote\nA\tX, Y\tp, q\nB\tZ, W\tr, s\n"
    assert sniff_delimiter(text) == "\t"
    assert sniff_delimiter("phone\n138\n139\n") == ","


def test_quoted_multiline_notes_row_numbers_are_the_line_where_the_record_starts():
    sd = read_one("quoted_multiline_notes.csv")
    assert list(sd.row_numbers) == [2, 4, 5, 8]
    rows = records(sd)
    assert rows[0]["Notes"].splitlines() == ["Called twice.", "Wants a callback, after 5pm."]
    assert rows[1]["Notes"] == 'Said "no" to the offer'
    assert rows[3]["Name"] == "Zhao Lei"


def test_multiline_values_stay_on_the_fast_path(monkeypatch):
    monkeypatch.setattr(readers, "_read_text_exact", lambda *a, **k: pytest.fail("slow path used"))
    assert list(read_one("quoted_multiline_notes.csv").row_numbers) == [2, 4, 5, 8]


def test_header_cell_with_a_line_break_is_one_name_and_rows_keep_their_lines(tmp_path):
    path = tmp_path / "alt_enter_header.csv"
    path.write_text('Name,"Mobile\n(main)",Notes\nZhang Wei,13800138000,"a\nb"\n\nLi Na,13900139000,c\n')
    sd = read_file(path)[0]
    assert sd.header == ["Name", "Mobile (main)", "Notes"] and sd.header_row == 1
    assert list(sd.row_numbers) == [3, 6]


def test_row_with_too_many_fields_names_the_row_and_hints_at_quoting():
    err = input_error("ragged_row_too_many_fields.csv")
    assert err.row == 3
    assert "4 fields" in err.message and "has 3" in err.message
    assert "quote" in err.hint and "comma" in err.hint


def test_quote_that_never_closes_is_an_input_error_instead_of_swallowing_rows():
    err = input_error("unclosed_quote_swallows_the_rest.csv")
    assert err.row == 3 and "never closed" in err.message


def test_rows_with_too_few_fields_are_padded_with_none():
    sd = read_one("ragged_row_too_few_fields.csv")
    assert records(sd)[1] == {"Name": "Li Na", "Mobile": "13900139000", "Email": None, "Company": None}
    assert records(sd)[2]["Mobile"] is None
    assert list(sd.row_numbers) == [2, 3, 4]


def test_empty_trailing_fields_on_data_rows_are_not_an_error(monkeypatch):
    monkeypatch.setattr(readers, "_read_text_exact", lambda *a, **k: pytest.fail("slow path used"))
    sd = read_one("trailing_delimiters_on_data_rows.csv")
    assert sd.header == ["Name", "Mobile", "Email"]
    assert len(sd.frame) == 2 and list(sd.row_numbers) == [2, 3]


def test_every_row_wider_than_the_header_names_the_first_row_with_text_in_the_extra_field(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("Name,Mobile\nZhang Wei,13800138000,\nLi Na,13900139000,x\nWang Fang,137,y\n")
    with pytest.raises(InputError) as info:
        read_file(path)
    assert info.value.row == 3 and "3 fields" in info.value.message and "1 more row" in info.value.message


def test_old_mac_line_endings_count_as_lines():
    assert list(read_one("old_mac_line_endings.csv").row_numbers) == [2, 3]


# ---------------------------------------------------------------------------------------
# Header detection and row numbers in text files


def test_title_and_note_lines_above_the_header_are_skipped_and_row_numbers_stay_true():
    sd = read_one("gbk_title_row.csv")
    assert sd.header_row == 4
    assert sd.header == ["姓名", "手机", "电话", "公司"]
    assert list(sd.row_numbers) == [5, 7]
    assert [r["姓名"] for r in records(sd)] == ["张伟", "李娜"]


def test_title_line_is_not_taken_for_the_header_even_without_known_names():
    sd = read_file(DATA / "gbk_title_row.csv")
    assert sd[0].header_row == 4


def test_blank_and_whitespace_only_rows_are_skipped_but_row_numbers_stay_true():
    sd = read_one("blank_and_whitespace_rows.csv")
    assert list(sd.row_numbers) == [3, 6]
    assert [r["Name"] for r in records(sd)] == ["Zhang Wei", "Li Na"]


def test_header_row_is_the_one_with_most_known_names_and_ties_go_to_the_first(tmp_path):
    path = tmp_path / "two_candidates.csv"
    path.write_text("Name,Foo,Bar\nName,Mobile,Email\nZhang Wei,13800138000,zw@example.com\n")
    assert read_file(path, is_known_header=known)[0].header_row == 2
    path.write_text("Name,Foo\nMobile,Bar\nZhang Wei,13800138000\n")
    assert read_file(path, is_known_header=known)[0].header_row == 1


def test_is_known_header_sees_cleaned_names(tmp_path):
    seen = []
    path = tmp_path / "spaces.csv"
    path.write_text("  Full\u200b   Name ,Mobile\nZhang Wei,13800138000\n")
    read_file(path, is_known_header=lambda h: seen.append(h) or False)
    assert "Full Name" in seen


def test_explicit_header_row_is_used():
    sd = read_one("gbk_title_row.csv", header_row=4, is_known_header=lambda h: False)
    assert sd.header == ["姓名", "手机", "电话", "公司"] and list(sd.row_numbers) == [5, 7]


def test_explicit_header_row_that_is_blank_is_an_input_error():
    err = input_error("gbk_title_row.csv", header_row=3)
    assert err.row == 3 and "header_row" in err.hint


def test_header_names_are_cleaned_deduplicated_and_blank_ones_named_by_position():
    sd = read_one("duplicate_and_blank_header_names.csv")
    assert sd.header == ["电话", "电话_2", "column_3", "邮箱", "备 注", "电话_3"]


@pytest.mark.parametrize("raw, clean", [
    ("\ufeff姓名", "姓名"), ("手机\n号码", "手机 号码"), ("\u3000E-mail\u00a0 ", "E-mail"),
    ("Full\u200bName", "FullName"), ("   ", ""), (None, ""),
])
def test_header_names_are_stripped_of_bom_zero_width_and_extra_whitespace(raw, clean):
    assert clean_header(raw) == clean


def test_duplicate_names_get_numbered_suffixes_that_do_not_collide():
    assert unique_names(["a", "a_2", "a", "a"]) == ["a", "a_2", "a_3", "a_4"]


def test_values_that_look_like_nulls_or_numbers_stay_as_written(tmp_path):
    path = tmp_path / "nullish.csv"
    path.write_text("Name,Mobile,Code\nNA,007,null\nN/A,13800138000.0,NaN\n")
    assert records(read_file(path)[0]) == [
        {"Name": "NA", "Mobile": "007", "Code": "null"},
        {"Name": "N/A", "Mobile": "13800138000.0", "Code": "NaN"}]


def test_only_header_gives_an_empty_frame_with_the_header():
    sd = read_one("only_header.csv")
    assert sd.header == ["Name", "Mobile", "Email"]
    assert len(sd.frame) == 0 and len(sd.row_numbers) == 0


TRICKY = (
    "Customer export\r\n"
    "\r\n"
    "Name,Mobile,Email,Notes,\r\n"
    'Zhang Wei,13800138000,zw@example.com,"a, b",\r\n'
    "\r\n"
    "  ,   ,,,\r\n"
    'Li Na,  13900139000 ,,"say ""hi""",\r\n'
    "NA,null,, ,\r\n"
    "\r\n"
)


def test_fast_and_exact_text_paths_give_the_same_result():
    data = TRICKY.encode("utf-8")
    opts = readers._HeaderOptions(None, known, 20)
    fast = readers._read_text_fast(data, TRICKY, "utf-8", ",", shown="t.csv", base="t.csv", opts=opts)
    exact = readers._read_text_exact(TRICKY, "utf-8", ",", shown="t.csv", base="t.csv", opts=opts)
    assert fast is not None
    assert fast.header == exact.header == ["Name", "Mobile", "Email", "Notes"]
    assert fast.header_row == exact.header_row == 3
    assert list(fast.row_numbers) == list(exact.row_numbers) == [4, 7, 8]
    assert records(fast) == records(exact)
    assert records(fast)[1] == {"Name": "Li Na", "Mobile": "  13900139000 ", "Email": None,
                                "Notes": 'say "hi"'}


def test_a_plain_csv_takes_the_fast_path(tmp_path, monkeypatch):
    path = tmp_path / "plain.csv"
    path.write_text("Name,Mobile\n" + "".join(f"P{i},1380013{i:04d}\n" for i in range(2000)))
    monkeypatch.setattr(readers, "_read_text_exact", lambda *a, **k: pytest.fail("slow path used"))
    sd = read_file(path)[0]
    assert len(sd.frame) == 2000 and sd.row_numbers[-1] == 2001


# ---------------------------------------------------------------------------------------
# Bad text input


def test_missing_file_is_an_input_error_naming_it():
    err = input_error("no_such_file.csv")
    assert err.file.endswith("no_such_file.csv") and "not found" in err.message


def test_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="directory"):
        read_file(tmp_path)


def test_empty_file_is_an_input_error():
    err = input_error("empty_file.csv")
    assert "empty" in err.message and err.hint


def test_file_of_blank_lines_is_an_input_error():
    assert "no rows" in input_error("blank_lines_only.csv").message


def test_html_page_saved_as_xls_is_an_input_error():
    err = input_error("fake_xls_is_html.xls")
    assert "HTML" in err.message and ".xlsx" in err.hint


# ---------------------------------------------------------------------------------------
# stdin


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_dash_reads_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin((DATA / "gbk_chinese_headers.csv").read_bytes()))
    sd = read_file("-", is_known_header=known)[0]
    assert sd.file == "stdin" and sd.encoding == "gb18030"
    assert records(sd)[0]["客户姓名"] == "王喆"


def test_dash_reads_a_workbook_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin((DATA / "mobile_stored_as_number.xlsx").read_bytes()))
    sd = read_file("-", is_known_header=known)[0]
    assert sd.file == "stdin" and sd.sheet == "客户"
    assert records(sd)[0]["手机"] == "13800138000"


def test_empty_stdin_is_an_input_error_naming_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    with pytest.raises(InputError) as info:
        read_file("-")
    assert info.value.file == "stdin"


def test_name_overrides_the_file_name_shown(tmp_path):
    path = tmp_path / "custinfo-stdin-x1y2.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError) as info:
        read_file(path, name="stdin")
    assert info.value.file == "stdin"


# ---------------------------------------------------------------------------------------
# Excel cells as text


def test_mobile_stored_as_number_comes_back_as_digits():
    rows = records(read_one("mobile_stored_as_number.xlsx"))
    assert [r["手机"] for r in rows] == ["13800138000", "13900139000", "8613700137000"]
    assert [r["客户编号"] for r in rows] == ["1001", "1002", "1003"]
    assert [r["邮编"] for r in rows] == ["100080", "200000", "510000"]


def test_long_id_stored_as_number_comes_back_as_excel_shows_it():
    rows = records(read_one("mobile_stored_as_number.xlsx"))
    # Excel kept 15 digits of 110105199001011234: what it shows is all that is left.
    assert rows[0]["身份证号"] == "1.10105E+17"
    assert rows[1]["身份证号"] == "110105199202023456"  # stored as text: intact
    assert rows[2]["身份证号"] == "3.2E+17"


def test_other_excel_values_become_text():
    rows = records(read_one("mobile_stored_as_number.xlsx"))
    assert [r["消费金额"] for r in rows] == ["12.5", "100", "0.3"]
    assert [r["是否会员"] for r in rows] == ["TRUE", "FALSE", None]
    assert rows[0]["座机"] == "010-62345678"


@pytest.mark.parametrize("value, text", [
    (13800138000.0, "13800138000"),
    (100.0, "100"),
    (-5.0, "-5"),
    (0.0, "0"),
    (12.5, "12.5"),
    (0.1 + 0.2, "0.3"),
    (1.5e-07, "1.5e-07"),
    (999999999999999.0, "999999999999999"),
    (1e15, "1E+15"),
    (110105199001011234.0, "1.10105E+17"),
    (-6.2e20, "-6.2E+20"),
])
def test_numbers_read_as_excel_shows_them_but_whole_numbers_keep_their_digits(value, text):
    assert number_text(value) == text


@pytest.mark.parametrize("value, text", [
    ("", None), ("   ", None), (" x ", " x "), (True, "TRUE"), (False, "FALSE"), (42, "42"), (None, None),
    (dt.date(2024, 3, 5), "2024-03-05"),
    (dt.datetime(2024, 3, 5, 14, 30), "2024-03-05T14:30:00"),
    (dt.datetime(2024, 3, 5, 10, 29, 59, 999000), "2024-03-05T10:30:00"),
    (dt.time(9, 15), "09:15:00"),
    (dt.timedelta(hours=26, minutes=5), "26:05:00"),
])
def test_cell_values_become_text(value, text):
    assert cell_text(value) == text


def test_excel_dates_become_iso():
    rows = records(read_one("excel_dates.xlsx"))
    assert [r["出生日期"] for r in rows] == ["1990-01-01", "1985-12-31"]
    assert rows[0]["登记时间"] == "2024-03-05T14:30:00"
    assert rows[1]["登记时间"] in ("2024-03-06", "2024-03-06T00:00:00")
    assert [r["来电时刻"] for r in rows] == ["09:15:00", "23:59:59"]
    assert rows[0]["日期（文本）"] == "2024/03/05"  # text stays text


# ---------------------------------------------------------------------------------------
# Excel layout: title rows, sheets, merged cells


def test_row_numbers_match_what_excel_shows_below_title_row():
    sd = read_one("title_row_above_header.xlsx")
    assert sd.sheet == "名片" and sd.header_row == 3
    assert sd.header == ["姓名", "公司", "职位", "手机", "邮箱", "备注"]
    assert list(sd.row_numbers) == [4, 5, 7]  # row 6 is blank
    assert records(sd)[1]["手机"] == "13900139000/13911112222"


def test_merged_title_row_is_not_the_header_even_without_known_names():
    sd = read_file(DATA / "title_row_above_header.xlsx")[0]
    assert sd.header_row == 3 and sd.header[0] == "姓名"


def test_explicit_header_row_in_a_workbook_is_used():
    sd = read_one("title_row_above_header.xlsx", header_row=3, is_known_header=lambda h: False)
    assert sd.header[:2] == ["姓名", "公司"] and list(sd.row_numbers) == [4, 5, 7]


def test_explicit_header_row_past_the_end_of_the_sheet_is_an_input_error():
    err = input_error("two_sheets_one_empty.xlsx", header_row=50)
    assert err.row == 50 and "header_row" in err.hint


def test_table_that_starts_at_c3_keeps_excel_row_numbers_and_drops_empty_columns():
    sd = read_one("table_starts_at_c3.xlsx")
    assert sd.header == ["Name", "Mobile", "Email"]
    assert sd.header_row == 3 and list(sd.row_numbers) == [4, 6]


def test_empty_sheet_is_skipped():
    sheets = read("two_sheets_one_empty.xlsx")
    assert [s.sheet for s in sheets] == ["客户"]


def test_sheet_without_a_known_header_is_skipped_when_another_sheet_has_one():
    assert [s.sheet for s in read("second_sheet_is_lookup_list.xlsx")] == ["客户"]


def test_all_sheets_with_data_are_returned_when_none_has_a_known_header():
    sheets = read("second_sheet_is_lookup_list.xlsx", is_known_header=lambda h: False)
    assert [s.sheet for s in sheets] == ["客户", "下拉选项"]


def test_sheets_option_reads_only_the_named_sheets():
    sheets = read("second_sheet_is_lookup_list.xlsx", sheets=["下拉选项"])
    assert [s.sheet for s in sheets] == ["下拉选项"]
    assert records(sheets[0])[0] == {"展会": "官网"}


def test_unknown_sheet_name_is_an_input_error_listing_the_sheets():
    err = input_error("two_sheets_one_empty.xlsx", sheets=["Customers"])
    assert "Customers" in err.message and "'客户'" in err.hint


def test_hidden_sheet_is_skipped_unless_named():
    assert [s.sheet for s in read("hidden_sheet_with_old_copy.xlsx")] == ["客户"]
    named = read("hidden_sheet_with_old_copy.xlsx", sheets=["旧版备份"])
    assert records(named[0]) == [{"姓名": "张伟", "手机": "13800138001"}]


def test_merged_header_cell_names_each_column_it_spans():
    sd = read_one("merged_header_cells.xlsx")
    assert sd.header == ["姓名", "电话", "电话_2", "邮箱"]
    assert records(sd)[0]["电话_2"] == "010-62345678"


def test_two_row_header_combines_group_and_sub_header_unless_the_sub_header_is_known():
    sd = read_one("two_row_header_merged_group.xlsx")
    assert sd.header == ["姓名", "公司", "手机", "邮箱", "联系方式 微信号", "备注"]
    assert sd.header_row == 2 and list(sd.row_numbers) == [3, 4]
    assert records(sd)[0]["联系方式 微信号"] == "zw_wx"


def test_two_row_header_without_known_names_prefixes_every_grouped_column():
    sd = read_file(DATA / "two_row_header_merged_group.xlsx")[0]
    assert sd.header == ["姓名", "公司", "联系方式 手机", "联系方式 邮箱", "联系方式 微信号", "备注"]


def test_value_merged_over_several_data_rows_applies_to_each_row():
    sd = read_one("company_merged_over_contact_rows.xlsx")
    assert [r["公司"] for r in records(sd)] == ["北京星辰科技有限公司"] * 3 + ["上海云海贸易有限公司"]


def test_legacy_xls_is_read():
    sd = read_one("legacy.xls")
    assert sd.header == ["姓名", "手机", "邮箱", "登记日期"]
    assert records(sd)[0] == {"姓名": "张伟", "手机": "13800138000", "邮箱": "zhangwei@example.com",
                              "登记日期": "2024-03-05"}


# ---------------------------------------------------------------------------------------
# Bad workbooks


def test_corrupt_xlsx_that_is_not_a_zip_is_an_input_error():
    err = input_error("corrupt_not_a_zip.xlsx")
    assert "zip" in err.message and "save" in err.hint


def test_truncated_xlsx_is_an_input_error():
    err = input_error("truncated_zip.xlsx")
    assert "damaged" in err.message and "save" in err.hint


def test_zip_that_is_not_a_workbook_is_an_input_error():
    err = input_error("zipped_csv_named_xlsx.xlsx")
    assert "not an Excel workbook" in err.message and "unzip" in err.hint


def test_password_protected_xlsx_is_an_input_error_with_a_hint():
    err = input_error("password_protected.xlsx")
    assert "password" in err.message and "remove the password" in err.hint
    assert err.file.endswith("password_protected.xlsx")


# ---------------------------------------------------------------------------------------
# Any table the csv module writes reads back, at its true lines


_CELL = st.text(alphabet=st.sampled_from(list('ab 张,;|"\t\n\r')), max_size=5)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), max_size=8),
       delim=st.sampled_from([",", ";", "\t", "|"]), terminator=st.sampled_from(["\r\n", "\n"]),
       bom=st.booleans(), quote_all=st.booleans())
def test_any_table_written_by_the_csv_module_reads_back_at_its_true_lines(rows, delim, terminator, bom,
                                                                         quote_all):
    if terminator == "\n" and any("\r" in c for row in rows for c in row):
        quote_all = True  # csv.writer leaves a lone CR unquoted then: the file would be ambiguous
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delim, lineterminator=terminator,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(["Name", "Mobile", "Email"])
    expected, lines = [], []
    for row in rows:
        start = len(_LINE_BREAK.findall(out.getvalue())) + 1
        writer.writerow(row)
        cells = [c if c.strip() else None for c in row]
        if any(cells):
            expected.append(dict(zip(["Name", "Mobile", "Email"], cells, strict=True)))
            lines.append(start)
    text = out.getvalue()
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    opts = readers._HeaderOptions(None, known, 20)

    sd = readers._read_text(data, shown="t.csv", base="t.csv", encoding=None, opts=opts, suffix=".csv")
    assert sd.header == ["Name", "Mobile", "Email"]
    assert records(sd) == expected
    assert list(sd.row_numbers) == lines
    exact = readers._read_text_exact(text, "utf-8", delim, shown="t.csv", base="t.csv", opts=opts)
    assert records(exact) == expected and list(exact.row_numbers) == lines
    if "\r" not in text.replace("\r\n", ""):  # only lone CRs need the exact path
        fast = readers._read_text_fast(text.encode(), text, "utf-8", delim, shown="t.csv", base="t.csv",
                                       opts=opts)
        assert fast is not None
        assert records(fast) == expected and list(fast.row_numbers) == lines


def test_arrow_reads_a_copy_so_an_error_exit_does_not_abort_with_terminate_called():
    """CI saw `custinfo ingest ragged.csv` exit -6 ("terminate called without an active exception")
    instead of 2: Arrow's threads let go of the Python bytes (PyBuffer) after read_csv had returned,
    while the interpreter was exiting. Arrow now reads its own copy, so the bytes are not exported."""
    from custinfo.ingest.readers import _arrow_owned, _arrow_table

    text = bytearray("姓名,手机\n张三,13800138000\n李四,13900139000\n".encode())
    offset = text.index(b"\n") + 1
    rows = _arrow_owned(text, offset)
    text.extend(b"x")  # a bytearray still exported to Arrow could not be resized (BufferError)
    assert rows.to_pybytes() == bytes(text[offset:-1])
    table = _arrow_table(text[:-1], offset, 2, ",", expected_rows=2)
    assert table.column(0).to_pylist() == ["张三", "李四"]
