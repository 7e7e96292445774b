"""Masking shows each role only what it may see; --unmask only for a role that may."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custinfo.errors import EXIT_USAGE, CustinfoError
from custinfo.security.masking import (
    MASKERS,
    mask_address,
    mask_bank_card,
    mask_date,
    mask_email,
    mask_frame,
    mask_name,
    mask_national_id,
    mask_phone,
    mask_value,
)
from custinfo.security.policy import load_security
from custinfo.security.roles import PermissionDeniedError

POLICY = load_security(Path(__file__).resolve().parents[1] / "configs" / "security.yaml")
ID = "11010519491231002X"
CARD = "6222021234567890128"  # Luhn-valid, synthetic


def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": ["r1", "r2"],
        "name": ["张伟", "Zhang Wei"],
        "phone": ["+8613800138000", None],
        "phones": ["+8613800138000,+8613900139000", ""],
        "email": ["zhang@qq.com", "wei.zhang@example.com"],
        "national_id": [ID, None],
        "birth_date": ["1990-03-07", None],
        "province": ["广东省", None],
        "city": ["深圳市", None],
        "address": ["广东省深圳市南山区科技园1号", "Flat 3, 12 High Street, London"],
        "company": ["深圳某某科技有限公司", "Acme Ltd"],
        "notes": [f"身份证 {ID}，老客户", "call after 6pm"],
        "raw": [json.dumps({"name": "张伟", "mobile": "13800138000", "national_id": ID}, ensure_ascii=False),
                None],
        "extra": [json.dumps({"会员卡": CARD, "备注2": "喜欢红色"}, ensure_ascii=False), None],
    })


# -- the examples of the issue, exactly ------------------------------------------------------
def test_cn_mobile_masked_as_138_stars_8000():
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_phone("13800138000") == "138****8000"


def test_national_id_keeps_first_and_last_four():
    assert mask_national_id("110101199001011234") == "1101**********1234"


def test_email_keeps_first_letter_and_domain():
    assert mask_email("zhang@qq.com") == "z***@qq.com"


def test_chinese_name_keeps_surname():
    assert mask_name("张伟") == "张*"
    assert mask_name("王小明") == "王**"


def test_latin_name_keeps_initials():
    assert mask_name("Zhang Wei") == "Z*** W***"


def test_address_keeps_province_and_city():
    assert mask_address("广东省深圳市南山区科技园1号") == "广东省深圳市****"
    assert mask_address("北京市朝阳区建国路88号") == "北京市****"
    assert mask_address("Flat 3, 12 High Street, London") == "****, London"


def test_birth_date_keeps_year_only():
    assert mask_date("1990-03-07") == "1990-**-**"


def test_bank_card_keeps_first_and_last_four():
    assert mask_bank_card("6222021234561234") == "6222****1234"


def test_foreign_phone_keeps_country_code_and_last_four():
    assert mask_phone("+442079460958") == "+44 207***0958"


def test_multi_valued_phones_masked_item_by_item():
    assert mask_value("phone", "+8613800138000,+8613900139000") == "138****8000,139****9000"
    assert mask_value("email", "a1@x.com; b2@y.org") == "a***@x.com; b***@y.org"


def test_blank_values_pass_through():
    assert mask_value("phone", None) is None
    assert mask_value("name", "") == ""


# -- properties ------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_every_mask_never_raises_on_text(text):
    for kind in MASKERS:
        assert isinstance(mask_value(kind, text), str)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\+?[0-9 ()\-]{0,24}", fullmatch=True))
def test_phone_mask_never_reveals_more_than_ten_digits_and_hides_three(text):
    digits = re.sub(r"\D", "", text)
    shown = re.sub(r"\D", "", mask_phone(text))
    assert len(shown) <= 10
    if len(digits) >= 8:
        assert len(digits) - len(shown) >= 3


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "0086", "+86 "]))
def test_cn_mobile_in_any_form_shows_seven_digits(mobile, prefix):
    assert mask_phone(prefix + mobile) == f"{mobile[:3]}****{mobile[-4:]}"


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_id_mask_shows_at_most_eight_characters(value):
    masked = mask_national_id(value)
    assert len(masked.replace("*", "")) == 8 and masked.count("*") == 10


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9._]{2,20}@[a-z0-9]{1,10}\.com", fullmatch=True))
def test_email_mask_hides_the_local_part(address):
    local = address.split("@")[0]
    assert not mask_email(address).startswith(local)


# -- whole frames by role --------------------------------------------------------------------
def test_viewer_sees_no_personal_value():
    out, report = mask_frame(customers(), POLICY, "viewer")
    text = out.to_csv()
    for secret in ("13800138000", "zhang@qq.com", "张伟", "Zhang Wei", ID, CARD, "科技园", "03-07"):
        assert secret not in text
    assert out.loc[0, "phone"] == "138****8000"
    assert out.loc[0, "national_id"] == "1101**********002X"
    assert out.loc[0, "company"] == "深圳某某科技有限公司"
    assert report.role == "viewer" and report.masked["email"] == 2


def test_masking_does_not_change_the_input_frame():
    df = customers()
    mask_frame(df, POLICY, "viewer")
    pd.testing.assert_frame_equal(df, customers())


def test_marketing_sees_contact_points_but_not_birth_date_or_id():
    out, _ = mask_frame(customers(), POLICY, "marketing")
    assert out.loc[0, "phone"] == "+8613800138000" and out.loc[0, "name"] == "张伟"
    assert out.loc[0, "birth_date"] == "1990-**-**"
    assert out.loc[0, "national_id"] == "1101**********002X"


def test_analyst_sees_notes_but_secrets_inside_are_redacted():
    out, report = mask_frame(customers(), POLICY, "analyst")
    assert out.loc[0, "notes"] == "身份证 1101**********002X，老客户"
    assert report.redacted["notes"] == 1
    extra = json.loads(out.loc[0, "extra"])
    assert extra == {"会员卡": "6222****0128", "备注2": "喜欢红色"}
    raw = json.loads(out.loc[0, "raw"])
    assert raw["mobile"] == "13800138000" and raw["national_id"] == "1101**********002X"


def test_viewer_gets_raw_masked_key_by_key_and_unknown_extra_hidden():
    out, _ = mask_frame(customers(), POLICY, "viewer")
    assert json.loads(out.loc[0, "raw"]) == {"name": "张*", "mobile": "138****8000",
                                             "national_id": "1101**********002X"}
    assert json.loads(out.loc[0, "extra"]) == {"会员卡": "***", "备注2": "***"}


def test_unmask_refused_for_viewer_with_hint_naming_who_may():
    with pytest.raises(PermissionDeniedError) as exc:
        mask_frame(customers(), POLICY, "viewer", unmask=True)
    assert isinstance(exc.value, CustinfoError) and exc.value.exit_code == EXIT_USAGE
    assert "admin" in exc.value.hint


def test_admin_unmask_shows_secrets():
    out, report = mask_frame(customers(), POLICY, "admin", unmask=True)
    pd.testing.assert_frame_equal(out, customers())
    assert report.unmask and not report.masked and not report.redacted


def test_admin_without_unmask_still_masks_secret_fields():
    out, _ = mask_frame(customers(), POLICY, "admin")
    assert out.loc[0, "national_id"] == "1101**********002X"
    assert out.loc[0, "email"] == "zhang@qq.com"


def test_unknown_columns_are_general_but_secrets_inside_redacted():
    df = pd.DataFrame({"segment": ["VIP"], "会员备注": [f"卡 {CARD}"]})
    out, report = mask_frame(df, POLICY, "viewer")
    assert out.loc[0, "segment"] == "VIP" and CARD not in out.loc[0, "会员备注"]
    assert report.to_dict()["secrets_redacted"] == 1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.none(), st.text(max_size=12),
    st.from_regex(r"(\+86|0086|86)?1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"[a-z.,;]{1,6}@[a-z@]{1,6}\.com", fullmatch=True),
    st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True),
    st.from_regex(r"(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.text(alphabet="张王李小明伟娜 \u3000", min_size=1, max_size=5),
), max_size=10), st.sampled_from(["phone", "email", "national_id", "date", "name", "hide"]))
def test_vectorized_masks_give_exactly_what_the_scalar_masks_give(values, kind):
    from custinfo.security.masking import _mask_column

    df = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    got, _ = _mask_column(df, "c", kind)
    want = [mask_value(kind, v) for v in values]
    assert [None if v is None or v is pd.NA or v != v else v for v in got] == want


def test_passport_and_foreign_id_numbers_are_secret_and_masked_like_a_national_id():
    """other_id (passport, foreign social security number) is as secret as a resident ID: an analyst
    and an admin without --unmask see it masked, the raw JSON key too; only --unmask shows it."""
    df = pd.DataFrame({"other_id": ["E12345678", "6988048"],
                       "raw": [json.dumps({"other_id": "E 1234 5678"}), None]})
    assert POLICY.level_of("other_id") == "secret"
    for role in ("viewer", "marketing", "analyst", "admin"):
        out, report = mask_frame(df, POLICY, role)
        assert out["other_id"].tolist() == ["E1*****78", "*******"], role
        assert "E 1234 5678" not in out.loc[0, "raw"] and report.masked["other_id"] == 2
    out, _ = mask_frame(df, POLICY, "admin", unmask=True)
    assert out["other_id"].tolist() == ["E12345678", "6988048"]
