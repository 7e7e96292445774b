"""Excel shows 010020 for the number 10020 formatted `000000`; calamine returns 10020. The reader
must give the text the user sees, or postcodes and zero-led numbers lose their leading zeros."""

import openpyxl
import pytest

from custinfo.ingest.readers import read_file


def _book(path, cells):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户 & 名单"  # a name that needs escaping in workbook.xml
    ws.append(["姓名", "邮编", "工号", "金额"])
    for row in cells:
        ws.append([v for v, _ in row])
        for col, (_, fmt) in enumerate(row, start=1):
            if fmt:
                ws.cell(ws.max_row, col).number_format = fmt
    wb.save(path)
    return path


def _rows(path):
    (sheet,) = read_file(path)
    return sheet.frame.to_dict("records")


def test_zero_padded_postcode_keeps_its_leading_zero(tmp_path):
    p = _book(tmp_path / "a.xlsx", [[("王小明", None), (10020, "000000"), (123, "000000"), (100, None)]])
    assert _rows(p) == [{"姓名": "王小明", "邮编": "010020", "工号": "000123", "金额": "100"}]


def test_general_numbers_are_not_padded(tmp_path):
    p = _book(tmp_path / "b.xlsx", [[("李娜", None), (10020, None), (7, "0"), (5, "0.00")]])
    assert _rows(p) == [{"姓名": "李娜", "邮编": "10020", "工号": "7", "金额": "5"}]


def test_text_cells_and_long_numbers_under_a_padding_format_are_left_alone(tmp_path):
    p = _book(tmp_path / "c.xlsx", [[("张伟", None), ("A-17", "000000"), (12345678, "000000"), (1, None)]])
    assert _rows(p) == [{"姓名": "张伟", "邮编": "A-17", "工号": "12345678", "金额": "1"}]


@pytest.mark.parametrize("fmt", ['000000;"-"', '"0"00000'])
def test_padding_formats_with_sections_or_quoted_zeros(tmp_path, fmt):
    p = _book(tmp_path / "d.xlsx", [[("赵敏", None), (10020, fmt), (None, None), (None, None)]])
    assert _rows(p)[0]["邮编"] == "010020"
