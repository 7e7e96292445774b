"""Configs are validated up front and every problem is reported at once, with its key."""

import pytest

from custinfo.config import fold_header, load_config
from custinfo.errors import ConfigError, InputError
from custinfo.ingest.mapping import map_headers, require_identifying


def test_all_config_problems_reported_at_once(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "read:\n  encoding: klingon\n  header_row: zero\nnormalize:\n  date_order: DYM\n"
        "trust:\n  web_form: 7\ncolumns:\n  Handy: mobile_phone\nbogus: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    text = exc.value.one_line()
    for key in (
        "read.encoding",
        "read.header_row",
        "normalize.date_order",
        "trust.web_form",
        "columns.Handy",
        "bogus",
    ):
        assert key in text
    assert len(exc.value.problems) == 6


def test_broken_yaml_names_the_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("read:\n  encoding: [utf-8\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    assert "line" in exc.value.one_line()


def test_headers_fold_case_spaces_and_punctuation():
    assert fold_header(" E-Mail: ") == fold_header("email")
    assert fold_header("Full_Name") == fold_header("full name")
    assert fold_header("手机号码：") == fold_header("手机号码")


def test_chinese_and_english_aliases_map_to_fields():
    cfg = load_config()
    hm = map_headers(
        ["客户姓名", "手机号码", "办公电话", "E-mail", "工作单位", "Job Title", "微信", "奇怪的列"], cfg
    )
    assert hm.fields["name"] == ["客户姓名"] and hm.fields["mobile"] == ["手机号码"]
    assert hm.fields["phone"] == ["办公电话"] and hm.fields["email"] == ["E-mail"]
    assert hm.fields["company"] == ["工作单位"] and hm.fields["title"] == ["Job Title"]
    assert hm.fields["wechat"] == ["微信"] and hm.unmapped == ["奇怪的列"]


def test_channel_columns_override_aliases(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("columns:\n  Handynummer: mobile\n", encoding="utf-8")
    cfg = load_config(cfg_file)
    assert map_headers(["Handynummer"], cfg).fields == {"mobile": ["Handynummer"]}


def test_sheet_without_name_phone_or_email_is_rejected_with_hint():
    cfg = load_config()
    hm = map_headers(["产品", "数量"], cfg)
    with pytest.raises(InputError) as exc:
        require_identifying(hm, "orders.csv", ["产品", "数量"])
    assert "orders.csv" in exc.value.one_line() and "columns:" in exc.value.one_line()


def test_header_test_answers_as_is_known_header():
    # header detection asks it of every scanned cell, with the channel's index built once
    config = load_config(None, "trade_show")
    test = config.header_test()
    for text in ["姓名", " 手机 ", "Mobile_Phone", "公司名称", "2025 上海国际展会 名片登记", "", "备注：", "xyz"]:
        assert test(text) == config.is_known_header(text), text
    assert test("姓名") and not test("xyz")
