"""Regenerate the awkward input files in tests/data/, each named for what is odd about it.

    .venv/bin/python tests/data/make_fixtures.py

All people, phones and addresses are made up (13800138000 and friends). The files are
committed; run this only to change or add one. Writing `legacy.xls` needs `xlwt` (not a
project dependency: `pip install --target /tmp/xlwt xlwt` and PYTHONPATH=/tmp/xlwt); without
it the committed legacy.xls is kept. `password_protected.xlsx` differs on every run (random
salt), the other workbooks are byte-for-byte reproducible.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def write_bytes(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def write_text(name: str, text: str, encoding: str, newline: str = "\r\n") -> None:
    write_bytes(name, text.replace("\n", newline).encode(encoding))


# ---------------------------------------------------------------------------------------
# Text files


def text_fixtures() -> None:
    write_text("utf8_bom_header.csv",
               "姓名,手机,邮箱,公司\n"
               "张伟,13800138000,zhangwei@example.com,北京星辰科技有限公司\n"
               "李娜,13900139000,lina@example.com,上海云海贸易有限公司\n"
               "王芳,13700137000,,\n", "utf-8-sig")
    # 喆 is outside GB2312: GBK exports carry such characters.
    write_text("gbk_chinese_headers.csv",
               "客户姓名,手机号码,联系电话,工作单位,备注\n"
               "王喆,13800138000,010-62345678,北京星辰科技有限公司,老客户\n"
               "刘洋,13911112222,021-55556666,上海云海贸易有限公司,\n"
               "陈静,15000001111,,广州南方物流有限公司,展会认识\n", "gbk")
    write_text("big5_traditional.csv",
               "姓名,手機,電子郵件,公司名稱,地址\n"
               "陳志明,0912345678,chen@example.com,台北華碩資訊股份有限公司,台北市信義區市府路1號\n"
               "林美玲,0922333444,lin@example.com,高雄港灣貿易有限公司,高雄市前鎮區中華五路2號\n"
               "黃國華,0933555666,,新竹科學園區電子公司,新竹市東區光復路3號\n", "big5")
    write_text("gbk_title_row.csv",
               "客户名单（2024年3月导出）\n"
               "说明：手机号为11位，座机带区号\n"
               "\n"
               "姓名,手机,电话,公司\n"
               "张伟,13800138000,010-62345678,北京星辰科技有限公司\n"
               "\n"
               "李娜,13900139000,,上海云海贸易有限公司\n", "gbk")
    write_text("semicolon_delimited.csv",
               "Name;Mobile;Email;Amount\n"
               "Anna Schmidt;+49 151 23456789;anna@example.com;12,50\n"
               "Jan de Vries;+31 6 12345678;jan@example.com;100,00\n", "utf-8")
    write_text("tab_delimited.tsv",
               "Name\tMobile\tCompany\tAddress\n"
               "Zhang Wei\t13800138000\tStar, Inc.\t1 Main St, Springfield\n"
               "Li Na\t13900139000\tCloud Sea Ltd\t2 High St, Shelbyville\n", "utf-8", "\n")
    write_text("pipe_delimited.txt",
               "Name|Mobile|Email\n"
               "Zhang Wei|13800138000|zw@example.com\n"
               "Li Na|13900139000|ln@example.com\n", "utf-8", "\n")
    # Excel's "Save as Unicode Text": UTF-16 LE with a BOM, tab-delimited.
    write_bytes("excel_unicode_text_utf16.txt",
                "\ufeff姓名\t手机\t公司\r\n张伟\t13800138000\t北京星辰科技有限公司\r\n"
                "李娜\t13900139000\t上海云海贸易有限公司\r\n".encode("utf-16-le"))
    write_text("quoted_multiline_notes.csv",
               'Name,Mobile,Notes\n'
               'Zhang Wei,13800138000,"Called twice.\nWants a callback, after 5pm."\n'
               'Li Na,13900139000,"Said ""no"" to the offer"\n'
               'Wang Fang,13700137000,"Line one\nLine two\nLine three"\n'
               'Zhao Lei,13600136000,short\n', "utf-8")
    write_text("ragged_row_too_many_fields.csv",
               "Name,Mobile,Company\n"
               "Zhang Wei,13800138000,Star Ltd\n"
               "Li Na,13900139000,Acme, Inc\n"
               "Wang Fang,13700137000,Cloud Ltd\n", "utf-8")
    write_text("ragged_row_too_few_fields.csv",
               "Name,Mobile,Email,Company\n"
               "Zhang Wei,13800138000,zw@example.com,Star Ltd\n"
               "Li Na,13900139000\n"
               "Wang Fang\n", "utf-8")
    write_text("trailing_delimiters_on_data_rows.csv",
               "Name,Mobile,Email\n"
               "Zhang Wei,13800138000,zw@example.com,,\n"
               "Li Na,13900139000,ln@example.com,,\n", "utf-8")
    write_bytes("empty_file.csv", b"")
    write_text("blank_lines_only.csv", "\n\n   \n,,\n", "utf-8")
    write_text("only_header.csv", "Name,Mobile,Email\n", "utf-8")
    write_text("duplicate_and_blank_header_names.csv",
               "电话,电话,,\u200b邮箱\u200b, 备  注 ,电话\n"
               "010-62345678,010-62345679,x,zw@example.com,VIP,010-1\n", "utf-8")
    # A UTF-8 file with one Latin-1 byte on line 3 ("Café" saved by another tool).
    write_bytes("undecodable_bytes.csv",
                "Name,Mobile,Company\nZhang Wei,13800138000,Star Ltd\n".encode()
                + b"Li Na,13900139000,Caf\xe9 Ltd\n")
    write_text("blank_and_whitespace_rows.csv",
               "Name,Mobile\n\nZhang Wei,13800138000\n   ,  \n\nLi Na,13900139000\n\n\n", "utf-8")
    write_bytes("old_mac_line_endings.csv", b"Name,Mobile\rZhang Wei,13800138000\rLi Na,13900139000\r")
    write_text("excel_sep_line_declares_delimiter.csv",
               "sep=;\nName;Mobile;Company\nZhang Wei;13800138000;Star, Inc.\nLi Na;13900139000;Cloud, Ltd\n",
               "utf-8")
    write_text("unknown_extension_semicolon.dat",
               "Name;Mobile\nZhang Wei;13800138000\nLi Na;13900139000\n", "utf-8")
    # Web systems often "export to Excel" as tab-separated text or an HTML table named .xls.
    write_text("fake_xls_is_tab_text.xls",
               "姓名\t手机\n张伟\t13800138000\n", "gbk")
    write_text("fake_xls_is_html.xls",
               "<html><body><table><tr><td>姓名</td><td>手机</td></tr>"
               "<tr><td>张伟</td><td>13800138000</td></tr></table></body></html>\n", "utf-8")
    write_text("unclosed_quote_swallows_the_rest.csv",
               "Name,Mobile,Notes\n"
               "Zhang Wei,13800138000,ok\n"
               'Li Na,13900139000,"call back\n'
               "Wang Fang,13700137000,ok\n"
               "Zhao Lei,13600136000,ok\n", "utf-8")
    write_bytes("utf16_without_bom.txt", "Name\tMobile\r\n张伟\t13800138000\r\n".encode("utf-16-le"))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr(zipfile.ZipInfo("customers.csv", FIXED_TIME), "Name,Mobile\nZhang Wei,13800138000\n")
    write_bytes("zipped_csv_named_xlsx.xlsx", zipped.getvalue())
    write_bytes("corrupt_not_a_zip.xlsx", b"This is not a workbook: the download was an error page.\n")


# ---------------------------------------------------------------------------------------
# Workbooks


def save(wb: openpyxl.Workbook, name: str) -> bytes:
    """Save with fixed timestamps so regenerating does not change the bytes."""
    wb.properties.creator = "custinfo tests"
    wb.properties.created = wb.properties.modified = dt.datetime(2024, 1, 1)
    raw = io.BytesIO()
    wb.save(raw)
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), body, zipfile.ZIP_DEFLATED)
    data = fixed.getvalue()
    if name:
        write_bytes(name, data)
    return data


def title_row_above_header() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名片"
    ws["A1"] = "2024 上海国际展会名片录入"
    ws.merge_cells("A1:F1")
    ws["A2"] = "录入人：小王　日期：2024-03-05"
    ws.append(["姓名", "公司", "职位", "手机", "邮箱", "备注"])
    ws.append(["张伟", "北京星辰科技有限公司", "销售经理", 13800138000, "zhangwei@example.com", None])
    ws.append(["李娜", "上海云海贸易有限公司", "采购", "13900139000/13911112222", None, "两个手机"])
    ws.append([None, None, None, None, None, None])
    ws.append(["王芳", "广州南方物流有限公司", None, 13700137000, "wf@example.com", "展位 A12"])
    save(wb, "title_row_above_header.xlsx")


def two_sheets_one_empty() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["姓名", "手机", "邮箱"])
    ws.append(["张伟", 13800138000, "zhangwei@example.com"])
    ws.append(["李娜", 13900139000, "lina@example.com"])
    wb.create_sheet("Sheet2")
    save(wb, "two_sheets_one_empty.xlsx")


def second_sheet_is_lookup_list() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["姓名", "手机", "渠道"])
    ws.append(["张伟", 13800138000, "展会"])
    lookup = wb.create_sheet("下拉选项")
    for value in ["展会", "官网", "电话营销", "转介绍"]:
        lookup.append([value])
    save(wb, "second_sheet_is_lookup_list.xlsx")


def hidden_sheet_with_old_copy() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["姓名", "手机"])
    ws.append(["张伟", 13800138000])
    old = wb.create_sheet("旧版备份")
    old.append(["姓名", "手机"])
    old.append(["张伟", 13800138001])
    old.sheet_state = "hidden"
    save(wb, "hidden_sheet_with_old_copy.xlsx")


def merged_header_cells() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["姓名", "电话", None, "邮箱"])
    ws.merge_cells("B1:C1")
    ws.append(["张伟", 13800138000, "010-62345678", "zhangwei@example.com"])
    ws.append(["李娜", 13900139000, None, "lina@example.com"])
    save(wb, "merged_header_cells.xlsx")


def two_row_header_merged_group() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "联系人"
    ws.append(["姓名", "公司", "联系方式", None, None, "备注"])
    ws.append([None, None, "手机", "邮箱", "微信号", None])
    for rng in ("A1:A2", "B1:B2", "C1:E1", "F1:F2"):
        ws.merge_cells(rng)
    ws.append(["张伟", "北京星辰科技有限公司", 13800138000, "zhangwei@example.com", "zw_wx", "老客户"])
    ws.append(["李娜", "上海云海贸易有限公司", 13900139000, None, None, None])
    save(wb, "two_row_header_merged_group.xlsx")


def mobile_stored_as_number() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["客户编号", "姓名", "手机", "身份证号", "邮编", "座机", "消费金额", "是否会员"])
    # The ID card number was typed into a General cell: Excel kept 15 digits.
    ws.append([1001, "张伟", 13800138000, 110105199001011234, 100080, "010-62345678", 12.5, True])
    ws.append([1002, "李娜", 13900139000, "110105199202023456", 200000, None, 100.0, False])
    ws.append([1003, "王芳", 8613700137000, 3.2e17, 510000, None, 0.1 + 0.2, None])
    save(wb, "mobile_stored_as_number.xlsx")


def excel_dates() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "登记"
    ws.append(["姓名", "出生日期", "登记时间", "来电时刻", "日期（文本）"])
    ws.append(["张伟", dt.date(1990, 1, 1), dt.datetime(2024, 3, 5, 14, 30, 0), dt.time(9, 15), "2024/03/05"])
    ws.append(["李娜", dt.date(1985, 12, 31), dt.datetime(2024, 3, 6, 0, 0, 0), dt.time(23, 59, 59),
               "2024-3-6"])
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = "yyyy-mm-dd"
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].number_format = "yyyy-mm-dd hh:mm:ss"
    save(wb, "excel_dates.xlsx")


def table_starts_at_c3() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws["C3"], ws["D3"], ws["E3"] = "Name", "Mobile", "Email"
    ws["C4"], ws["D4"], ws["E4"] = "Zhang Wei", 13800138000, "zw@example.com"
    ws["C6"], ws["D6"], ws["E6"] = "Li Na", 13900139000, "ln@example.com"
    save(wb, "table_starts_at_c3.xlsx")


def company_merged_over_contact_rows() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["公司", "姓名", "手机"])
    ws.append(["北京星辰科技有限公司", "张伟", 13800138000])
    ws.append([None, "李娜", 13900139000])
    ws.append([None, "王芳", 13700137000])
    ws.append(["上海云海贸易有限公司", "赵磊", 13600136000])
    ws.merge_cells("A2:A4")
    save(wb, "company_merged_over_contact_rows.xlsx")


def broken_workbooks() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "手机"])
    ws.append(["张伟", 13800138000])
    data = save(wb, "")
    write_bytes("truncated_zip.xlsx", data[: len(data) // 2])
    import msoffcrypto.format.ooxml

    encrypted = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(data)).encrypt("secret", encrypted)
    write_bytes("password_protected.xlsx", encrypted.getvalue())


def legacy_xls() -> None:
    try:
        import xlwt
    except ImportError:
        print("xlwt not installed: keeping the committed legacy.xls")  # noqa: T201
        return
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("客户")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for j, name in enumerate(["姓名", "手机", "邮箱", "登记日期"]):
        sheet.write(0, j, name)
    rows = [("张伟", 13800138000, "zhangwei@example.com", dt.date(2024, 3, 5)),
            ("李娜", 13900139000, "lina@example.com", dt.date(2024, 3, 6))]
    for i, (name, mobile, email, day) in enumerate(rows, start=1):
        sheet.write(i, 0, name)
        sheet.write(i, 1, mobile)
        sheet.write(i, 2, email)
        sheet.write(i, 3, day, date_style)
    book.save(str(HERE / "legacy.xls"))


def main() -> None:
    text_fixtures()
    title_row_above_header()
    two_sheets_one_empty()
    second_sheet_is_lookup_list()
    merged_header_cells()
    hidden_sheet_with_old_copy()
    two_row_header_merged_group()
    mobile_stored_as_number()
    excel_dates()
    table_starts_at_c3()
    company_merged_over_contact_rows()
    broken_workbooks()
    legacy_xls()


if __name__ == "__main__":
    main()
