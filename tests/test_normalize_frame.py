"""normalize_frame: the contract ingest codes against (shape, order, columns, None not NaN) and the
row-level rules that need several columns at once."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custinfo.normalize.frame as frame_module
from custinfo.normalize import ISSUE_CODES, OUTPUT_COLUMNS, NormalizeOptions, normalize_frame
from custinfo.normalize.emails import normalize_email
from custinfo.normalize.phones import normalize_phone
from custinfo.normalize_columns import NORMALIZED_COLUMNS

ID_M = "110105199003071239"  # born 1990-03-07, male
ID_F = "440305198511200044"  # born 1985-11-20, female


def one(**cols) -> pd.Series:
    """Normalize a single row given as keyword columns."""
    return normalize_frame(pd.DataFrame({k: [v] for k, v in cols.items()})).iloc[0]


def messy() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["張偉", None, "王小明（先生）", np.nan],
        "first_name": [None, "Wei", None, "小明"],
        "last_name": [None, "Zhang", None, "王"],
        "mobile": ["13800138000", "+86 139 0013 9000", None, "abc"],
        "phone": ["010-12345678转123", None, "0592-1234567", ""],
        "email": ["A@QQ.con", None, "bad@", "x@163.com; y@126.com"],
        "birth_date": ["1990年1月2日", None, "32874", "1990-02-30"],
        "address": ["广东深圳南山科技园路1号", None, "沪徐汇区漕溪北路88号", None],
        "consent_email": ["是", "退订", "√", "maybe"],
        "notes": ["line 1\nline 2", None, "", "  "],
    }, index=[10, 11, 12, 13])


def test_output_has_exactly_the_contract_columns_in_order() -> None:
    out = normalize_frame(messy())
    assert list(out.columns) == OUTPUT_COLUMNS
    assert OUTPUT_COLUMNS == NORMALIZED_COLUMNS


def test_output_keeps_length_order_and_index() -> None:
    df = messy()
    out = normalize_frame(df)
    assert out.index.equals(df.index)
    assert out["name"].tolist()[:3] == ["張偉", "Wei Zhang", "王小明"]


def test_output_is_object_dtype_with_none_never_nan_or_empty_string() -> None:
    out = normalize_frame(messy())
    assert all(dtype == np.dtype(object) for dtype in out.dtypes)
    for value in out.to_numpy().ravel():
        assert value is None or (isinstance(value, str) and value != "")


def test_input_frame_is_not_modified() -> None:
    df = messy()
    before = df.copy()
    normalize_frame(df)
    pd.testing.assert_frame_equal(df, before)


def test_empty_frame_and_frame_without_known_columns() -> None:
    assert normalize_frame(pd.DataFrame({"name": []})).shape == (0, len(OUTPUT_COLUMNS))
    out = normalize_frame(pd.DataFrame({"unknown": ["x", "y"]}))
    assert out["country"].tolist() == ["CN", "CN"]
    assert out.drop(columns="country").isna().all().all()


def test_numeric_columns_are_read_as_text() -> None:
    out = normalize_frame(pd.DataFrame({"mobile": [13800138000.0], "qq": [12345678]}))
    assert out.loc[0, "phone"] == "+8613800138000"
    assert out.loc[0, "qq"] == "12345678"
    assert out.loc[0, "issues"] == "phone_from_float"


def test_first_mobile_wins_over_an_earlier_landline() -> None:
    row = one(mobile="010-12345678", phone="13800138000/0592-1234567")
    assert row["phone"] == "+8613800138000"
    assert row["phones"] == "+861012345678,+8613800138000,+865921234567"


def test_same_number_in_mobile_and_phone_is_listed_once() -> None:
    row = one(mobile="13800138000", phone="+86 138 0013 8000")
    assert row["phones"] == "+8613800138000"


def test_invalid_phone_is_left_out_and_flagged() -> None:
    row = one(mobile="12345", phone="13800138000")
    assert row["phones"] == "+8613800138000"
    assert row["issues"] == "invalid_phone"


def test_first_and_last_name_build_the_name_when_name_is_empty() -> None:
    out = normalize_frame(pd.DataFrame({"name": ["", None, "李娜"], "first_name": ["小明", "Wei", "x"],
                                        "last_name": ["王", "Zhang", "y"]}))
    assert out["name"].tolist() == ["王小明", "Wei Zhang", "李娜"]
    assert out["name_pinyin"].tolist() == ["ming wang xiao", "wei zhang", "li na"]


def test_address_parts_build_the_address() -> None:
    out = normalize_frame(pd.DataFrame({"address_1": ["广东省深圳市南山区科技园路", "Baker Street"],
                                        "street_number": ["1号", "221B"], "address_2": [None, "London"]}))
    assert out["address"].tolist() == ["广东省深圳市南山区科技园路1号", "221B Baker Street, London"]
    assert out.loc[0, "district"] == "南山区"


def test_province_city_columns_are_standardized_and_filled_from_address() -> None:
    row = one(province="粤", city="深圳", address="南山区科技园路1号")
    assert (row["province"], row["city"], row["district"]) == ("广东省", "深圳市", "南山区")
    assert row["address_key"] == "广东省深圳市南山区科技园路1号"


def test_address_never_overrides_a_given_province() -> None:
    row = one(province="浙江", address="广东省深圳市南山区科技园路1号")
    assert row["province"] == "浙江省"
    assert row["city"] is None


def test_ambiguous_district_is_resolved_by_the_province_column() -> None:
    assert one(address="朝阳区建国路88号")["province"] is None
    row = one(province="北京", address="朝阳区建国路88号")
    assert (row["province"], row["city"], row["district"]) == ("北京市", "北京市", "朝阳区")


def test_gender_and_birth_date_come_from_the_id_when_missing() -> None:
    row = one(national_id=ID_M)
    assert (row["gender"], row["birth_date"], row["national_id"]) == ("M", "1990-03-07", ID_M)
    assert row["issues"] is None


def test_gender_conflicting_with_id_keeps_stated_value_and_is_flagged() -> None:
    row = one(national_id=ID_M, gender="女", birth_date="1990-03-08")
    assert (row["gender"], row["birth_date"]) == ("F", "1990-03-08")
    assert row["issues"] == "gender_id_conflict;id_birth_mismatch"


def test_honorific_in_name_gives_gender_when_gender_is_empty() -> None:
    assert one(name="李女士")["gender"] == "F"
    assert one(name="李女士", gender="男")["gender"] == "M"


def test_id_destroyed_by_excel_is_never_stored() -> None:
    row = one(national_id="1.10105E+17")
    assert row["national_id"] is None
    assert row["issues"] == "id_destroyed_by_excel"


def test_passport_in_the_national_id_column_is_kept_as_other_id_not_dropped() -> None:
    row = one(national_id="E 1234 5678")
    assert (row["national_id"], row["other_id"], row["issues"]) == (None, "E12345678", "id_not_resident_id")
    assert row["gender"] is None and row["birth_date"] is None  # nothing is read out of another document


def test_wrong_resident_id_is_not_stored_as_other_id() -> None:
    """A wrong number is never stored: an 18-digit ID with a bad check digit is a broken resident ID."""
    row = one(national_id="110105199003071238")
    assert (row["national_id"], row["other_id"], row["issues"]) == (None, None, "id_checksum")
    row = one(national_id="1.10105E+17")
    assert (row["other_id"], row["issues"]) == (None, "id_destroyed_by_excel")


def test_other_id_column_is_cleaned_not_validated_as_a_resident_id() -> None:
    row = one(other_id="698-8048", national_id=ID_M)
    assert (row["other_id"], row["national_id"], row["issues"]) == ("6988048", ID_M, None)
    assert one(other_id="000000")["issues"] == "other_id_invalid"


def test_other_id_column_wins_over_a_document_found_in_the_national_id_column() -> None:
    out = normalize_frame(pd.DataFrame({"other_id": ["6988048", None], "national_id": ["E12345678"] * 2}))
    assert out["other_id"].tolist() == ["6988048", "E12345678"]
    assert out["national_id"].tolist() == [None, None]


def test_country_comes_from_phone_then_address_then_default_region() -> None:
    assert one(mobile="+852 9123 4567", address="上海市徐汇区")["country"] == "HK"
    assert one(address="香港九龙弥敦道1号")["country"] == "HK"
    assert one(name="x")["country"] == "CN"
    out = normalize_frame(pd.DataFrame({"phone": ["91234567"]}), NormalizeOptions(default_region="HK"))
    assert (out.loc[0, "phone"], out.loc[0, "country"]) == ("+85291234567", "HK")


def test_options_date_order_and_excel_epoch() -> None:
    df = pd.DataFrame({"birth_date": ["02/01/1990", "31412"]})
    assert normalize_frame(df, NormalizeOptions(date_order="DMY"))["birth_date"].tolist()[0] == "1990-01-02"
    assert normalize_frame(df, NormalizeOptions(date_order="MDY"))["birth_date"].tolist()[0] == "1990-02-01"
    assert normalize_frame(df, NormalizeOptions(excel_epoch=1904))["birth_date"].tolist()[1] == "1990-01-01"


def test_consent_and_opt_out_read_unsubscribe_words_by_field() -> None:
    row = one(consent_email="退订", consent_marketing="√", opt_out="退订")
    assert (row["consent_email"], row["consent_marketing"], row["opt_out"]) == ("N", "Y", "Y")


def test_issues_are_sorted_distinct_and_documented() -> None:
    out = normalize_frame(messy())
    assert out.loc[13, "issues"] == "invalid_date;invalid_flag;invalid_phone"
    seen = {c for v in out["issues"].dropna() for c in v.split(";")}
    assert seen <= set(ISSUE_CODES)
    doc = frame_module.__doc__ or ""
    assert set(re.findall(r"``([a-z_]+)``:", doc)) == set(ISSUE_CODES)


def test_every_issue_code_used_in_the_library_is_documented() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(frame_module.__file__).parent.glob("*.py"))
    used = set(re.findall(r'"((?:invalid|id|phone|email|gender|ambiguous)_[a-z_]+)"', source))
    used -= {"gender_hint"}  # a field name, not an issue code
    assert used <= set(ISSUE_CODES), used - set(ISSUE_CODES)


def test_normalizing_the_output_again_changes_nothing() -> None:
    out = normalize_frame(messy())
    again = normalize_frame(out.drop(columns=["phone", "email"]).rename(
        columns={"phones": "phone", "emails": "email"}))
    for column in ("name", "name_key", "name_pinyin", "phones", "emails", "birth_date", "province", "city",
                   "district", "address", "address_key", "consent_email", "notes"):
        assert again[column].tolist() == out[column].tolist(), column


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), st.sampled_from(["13800138000", "010-12345678", "12345", "a@qq.con",
                                                       "13800138000.0", "+852 9123 4567"]),
                          st.text(alphabet="0123456789+-@.qcom /", max_size=20)), min_size=1, max_size=30))
def test_frame_agrees_with_single_value_normalizers(values) -> None:
    out = normalize_frame(pd.DataFrame({"mobile": values, "email": values}))
    for value, phones, emails in zip(values, out["phones"], out["emails"], strict=True):
        assert phones == (",".join(normalize_phone(value).phones) or None)
        assert emails == (",".join(normalize_email(value).emails) or None)


def test_parsed_address_heads_remembered_across_calls_give_what_one_call_gives(monkeypatch) -> None:
    # parse_addresses remembers the place of each head (the text before the first digit) across
    # calls: split into calls in any order, with the memory empty or full, the places are the same.
    from custinfo.normalize import addresses as addr

    texts = ["北京市朝阳区建国路1号", "朝阳区建国路2号", "深圳南山科技园路3号", "中山路5号",
             "廣東省深圳市福田區北京路123號", "上海徐汇虹漕路461号58号楼", "泉州市洛江区万安塘西工业区",
             "朝阳区建国路7号", "深圳南山科技园路9号"]
    monkeypatch.setattr(addr, "_HEADS", {})
    monkeypatch.setattr(addr, "_HEADS_MAX", 0)  # nothing remembered: the plain one-call result
    whole = addr.parse_addresses(texts)
    monkeypatch.setattr(addr, "_HEADS_MAX", 1 << 17)
    for split in (texts[::-1], texts[:3], texts[3:], texts):
        assert addr.parse_addresses(split) == {t: whole[t] for t in split}
    assert len(addr._HEADS) >= 5
