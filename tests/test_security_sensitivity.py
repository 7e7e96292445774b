"""ID and bank card numbers are found wherever they are typed, and phone numbers are not flagged."""
from __future__ import annotations

import datetime as dt
import time

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from custinfo.security.sensitivity import (
    find_secrets,
    is_bank_card,
    is_valid_cn_id,
    luhn_ok,
    redact_secrets,
    scan_frame,
)

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _W, strict=True)) % 11]


def make_id(area: str = "110105", born: dt.date = dt.date(1949, 12, 31), seq: str = "002") -> str:
    first17 = f"{area}{born:%Y%m%d}{seq}"
    return first17 + check_char(first17)


def make_card(body: str) -> str:
    """``body`` plus the Luhn check digit."""
    return next(body + c for c in "0123456789" if luhn_ok(body + c))


ids = st.builds(
    make_id,
    area=st.sampled_from(["110105", "310101", "440305", "510104", "650102"]),
    born=st.dates(dt.date(1930, 1, 1), dt.date(2015, 12, 31)),
    seq=st.from_regex(r"[0-9]{3}", fullmatch=True),
)
cards = st.builds(make_card, st.from_regex(r"62[0-9]{13,16}", fullmatch=True))
# text around a secret: anything but digits next to it (a digit would make it a longer number)
filler = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=30)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


def test_valid_id_with_x_check_character():
    assert make_id() == "11010519491231002X"
    assert is_valid_cn_id("11010519491231002X")
    assert is_valid_cn_id("11010519491231002x")


def test_id_with_wrong_check_digit_or_impossible_date_is_not_an_id():
    assert not is_valid_cn_id("110105194912310021")
    bad_date = "110105" + "19490230" + "002"
    assert not is_valid_cn_id(bad_date + check_char(bad_date))
    assert not is_valid_cn_id("990105194912310020")  # no province 99


def test_bank_card_luhn_and_length():
    card = make_card("622202123456789")
    assert is_bank_card(card)
    assert is_bank_card(f"{card[:4]} {card[4:8]} {card[8:12]} {card[12:]}")
    assert not is_bank_card(card[:-1] + str((int(card[-1]) + 1) % 10))
    assert not is_bank_card(make_card("62220212345"))  # 12 digits: too short


def test_phone_numbers_are_never_bank_cards():
    assert not is_bank_card("13800138000")
    assert not is_bank_card("+8613800138000")
    assert not is_bank_card("008613800138000")


def test_id_and_card_found_in_chinese_notes():
    card = make_card("622848001234567")
    notes = f"客户身份证{make_id()}，工资卡{card[:4]}-{card[4:8]}-{card[8:12]}-{card[12:]}，电话13800138000"
    kinds = [f.kind for f in find_secrets(notes)]
    assert kinds == ["national_id", "bank_card"]


def test_redact_masks_secrets_and_leaves_phone_alone():
    notes = f"ID {make_id()} tel 13800138000"
    assert redact_secrets(notes) == "ID 1101**********002X tel 13800138000"
    assert redact_secrets(notes, style="label") == "ID [national_id] tel 13800138000"


def test_id_written_in_6_8_4_groups_is_found():
    i = make_id()
    text = f"证件: {i[:6]} {i[6:14]} {i[14:]}"
    (f,) = find_secrets(text)
    assert f.kind == "national_id" and text[f.start:f.end] == f"{i[:6]} {i[6:14]} {i[14:]}"


def test_id_typed_with_fullwidth_digits_is_found_and_redacted():
    fullwidth = make_id().translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    df = pd.DataFrame({"notes": [f"身份证{fullwidth}"]})
    assert scan_frame(df)["kind"].tolist() == ["national_id"]
    assert redact_secrets(df.loc[0, "notes"]) == "身份证1101**********002X"


def test_digit_longer_than_an_id_is_not_an_id():
    assert find_secrets("order " + make_id()[:17] + "12") == []


@settings(max_examples=200, deadline=None)
@given(before=filler, secret=st.one_of(ids, cards), after=filler)
def test_every_valid_id_or_card_embedded_in_text_is_found(before, secret, after):
    text = before + " " + secret + " " + after
    spans = [text[f.start:f.end] for f in find_secrets(text)]
    assert secret in spans


@settings(max_examples=200, deadline=None)
@given(st.lists(mobiles, min_size=1, max_size=4), st.sampled_from([" ", ", ", "/", " ; "]),
       st.booleans())
def test_lists_of_mobile_numbers_are_not_flagged(phones, sep, grouped):
    if grouped:
        phones = [f"{p[:3]} {p[3:7]} {p[7:]}" for p in phones]
    assert find_secrets(sep.join(phones)) == []


@settings(max_examples=100, deadline=None)
@given(before=filler, secret=st.one_of(ids, cards), after=filler)
def test_redacted_text_no_longer_holds_the_secret(before, secret, after):
    out = redact_secrets(before + " " + secret + " " + after)
    assert secret not in out
    assert find_secrets(out) == []


def test_scan_frame_reports_row_column_kind():
    df = pd.DataFrame({"notes": ["nothing here", f"id {make_id()}", None],
                       "extra": ['{"会员卡": "x"}', "{}", '{"卡": "' + make_card("622202123456789") + '"}'],
                       "n": [1, 2, 3]})
    found = scan_frame(df, ["notes", "extra", "n", "missing"])
    assert found[["row", "column", "kind"]].values.tolist() == [
        [1, "notes", "national_id"], [2, "extra", "bank_card"]]


def test_scan_frame_million_rows_is_fast():
    base = ["客户很满意，电话13800138000", "order 2023-11-01 #12345", None, "回访 3 次"]
    df = pd.DataFrame({"notes": base * 250_000})
    df.loc[777_777, "notes"] = f"身份证 {make_id()}"
    t0 = time.perf_counter()
    found = scan_frame(df, ["notes"])
    assert found["row"].tolist() == [777_777]
    assert time.perf_counter() - t0 < 15  # one vectorized pass; typically ~1 s


def test_ascii_table_maps_every_unicode_decimal_digit() -> None:
    # built with one regex scan instead of asking unicodedata about every code point: the same table
    import unicodedata

    from custinfo.security import sensitivity

    expected = {cp: str(unicodedata.decimal(chr(cp))) for cp in range(0x80, 0x30000)
                if unicodedata.category(chr(cp)) == "Nd"}
    expected.update({ord("Ｘ"): "X", ord("ｘ"): "x", ord("－"): "-", ord("\u3000"): " "})
    assert sensitivity._ascii_table() == expected
    assert sensitivity.ascii_digits("１２３٤५") == "12345"
