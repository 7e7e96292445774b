"""Properties of the single-value normalizers: never raise on any text, idempotent on their output,
and the vectorized fast paths agree with the per-value functions."""
from __future__ import annotations

import phonenumbers
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from custinfo.normalize import addresses as addr
from custinfo.normalize import fast
from custinfo.normalize.companies import normalize_company
from custinfo.normalize.dates import normalize_date, normalize_datetime
from custinfo.normalize.emails import normalize_email
from custinfo.normalize.flags import normalize_flag
from custinfo.normalize.gender import normalize_gender
from custinfo.normalize.identifiers import (
    normalize_notes,
    normalize_qq,
    normalize_reference,
    normalize_wechat,
)
from custinfo.normalize.names import name_columns, normalize_name
from custinfo.normalize.national_id import check_char, normalize_national_id
from custinfo.normalize.other_id import normalize_other_id
from custinfo.normalize.phones import normalize_phone
from custinfo.normalize.titles import normalize_title

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Agreement tests draw lists of values; fewer examples keep the suite fast.
BATCH = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text, plus text built from the characters each field actually meets.
PHONEISH = st.text(alphabet="0123456789０１２３４５６７８９ +-()（）.转分机extx#/,;、或\n", max_size=40)
EMAILISH = st.text(alphabet="abcxyzABC019._-+@＠。 ,;qcomn<>:张", max_size=40)
DATEISH = st.text(alphabet="0123456789-/.年月日时分 :T+Zapm下午上", max_size=30)
NAMEISH = st.text(alphabet="张王李曾單偉伟小明 ·,.()（）先生女士MrsDZhangWeixian'-\u200b\u3000", max_size=20)
ADDRESSISH = st.text(alphabet="广东省深圳市南山区中山路上海徐汇北京朝阳沪 1234号#-,", max_size=30)
ANY = st.one_of(st.text(max_size=60), st.none())


@FAST
@given(st.one_of(ANY, NAMEISH))
def test_name_never_raises_and_is_idempotent(text) -> None:
    first = normalize_name(text)
    again = normalize_name(first.name)
    assert (again.name, again.key, again.pinyin) == (first.name, first.key, first.pinyin)


@FAST
@given(st.one_of(ANY, PHONEISH), st.sampled_from(["CN", "HK", "US"]))
def test_phone_never_raises_and_is_idempotent(text, region) -> None:
    first = normalize_phone(text, region)
    again = normalize_phone(",".join(first.phones), region)
    assert again.phones == first.phones
    assert again.phone == first.phone
    assert first.phone is None or first.phone in first.phones


@FAST
@given(st.one_of(ANY, EMAILISH))
def test_email_never_raises_and_is_idempotent(text) -> None:
    first = normalize_email(text)
    again = normalize_email(",".join(first.emails))
    assert again.emails == first.emails
    assert "email_typo_fixed" not in again.issues


@FAST
@given(st.one_of(ANY, DATEISH), st.sampled_from(["YMD", "DMY", "MDY"]), st.sampled_from([1900, 1904]))
def test_dates_never_raise_and_are_idempotent(text, order, epoch) -> None:
    for func in (normalize_date, normalize_datetime):
        first = func(text, order, epoch).value
        assert func(first, order, epoch).value == first


@FAST
@given(st.one_of(ANY, st.text(alphabet="0123456789Xx.E+ -'", max_size=22)))
def test_national_id_never_raises_and_is_idempotent(text) -> None:
    first = normalize_national_id(text)
    assert normalize_national_id(first.value).value == first.value
    assert first.value is None or check_char(first.value[:17]) == first.value[17]


OTHERIDISH = st.text(alphabet="0123456789AEGXxe.+ -'()（）:：Ｅ１护照号No#/", max_size=26)


@FAST
@given(st.one_of(ANY, OTHERIDISH))
def test_other_id_never_raises_and_is_idempotent(text) -> None:
    first = normalize_other_id(text)
    assert normalize_other_id(first.value).value == first.value
    v = first.value
    assert v is None or (v.isascii() and v.isalnum() and v.upper() == v)


@FAST
@given(st.one_of(ANY, OTHERIDISH))
def test_document_in_the_national_id_column_is_kept_as_other_id_idempotently(text) -> None:
    first = normalize_national_id(text)
    assert first.value is None or first.other is None
    if first.other is not None:
        assert "id_not_resident_id" in first.issues
        assert normalize_other_id(first.other).value == first.other
        assert normalize_national_id(first.other).other == first.other


@FAST
@given(ANY)
def test_simple_fields_never_raise_and_are_idempotent(text) -> None:
    g = normalize_gender(text).value
    assert normalize_gender(g).value == g
    for opt_out in (False, True):
        flag = normalize_flag(text, opt_out=opt_out).value
        assert normalize_flag(flag, opt_out=opt_out).value == flag
    qq = normalize_qq(text)[0]
    assert normalize_qq(qq)[0] == qq
    for func in (normalize_wechat, normalize_reference, normalize_notes):
        value = func(text)
        assert func(value) == value


@FAST
@given(st.one_of(ANY, st.text(alphabet="深圳市腾飞科技有限公司（）() Co.,LtdInc集团騰飛", max_size=30)))
def test_company_and_title_never_raise_and_are_idempotent(text) -> None:
    company = normalize_company(text)
    assert normalize_company(company.name) == company
    title = normalize_title(text)
    assert normalize_title(title.title) == title


@FAST
@given(st.one_of(ANY, ADDRESSISH))
def test_address_parts_never_raise_and_are_idempotent(text) -> None:
    cleaned = addr.clean_address(text)
    assert addr.clean_address(cleaned) == cleaned
    province = addr.standard_province(text)
    assert addr.standard_province(province) == province
    place = addr.parse_address(text)
    assert place == addr.parse_address(cleaned)
    postcode = addr.normalize_postcode(text, "CN")[0]
    assert addr.normalize_postcode(postcode, "CN")[0] == postcode


def _pn(text: str) -> tuple[str | None, bool]:
    try:
        num = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None, False
    if not phonenumbers.is_valid_number(num):
        return None, False
    kind = phonenumbers.number_type(num)
    mobile = kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164), mobile


CN_NUMBERS = st.one_of(
    st.from_regex(r"\A(\+86|0086|86)?1[0-9]{10}\Z"),
    st.from_regex(r"\A(\+86|0086|0)?[1-9][0-9]{6,11}\Z"),
    st.from_regex(r"\A0[1-9][0-9]{1,2}-[0-9]{7,8}\Z"),
)


@BATCH
@given(st.lists(CN_NUMBERS, min_size=1, max_size=20))
@example(["10000000000", "88622000000"])  # found by CI: a Taiwan landline written without "+"
def test_phone_fast_path_agrees_with_phonenumbers(numbers) -> None:
    e164, mobile, _ = fast.cn_phones(numbers)
    for text, got, is_mobile in zip(numbers, e164, mobile, strict=True):
        if got is not None:
            assert (got, bool(is_mobile)) == _pn(text), text
        want = _pn(text)[0] or _pn_holder(text)
        assert normalize_phone(text).phones == ((want,) if want else ()), text


def _pn_holder(text: str) -> str | None:
    """normalize_phone's documented rule for digits that are no CN number but start with the code of
    Hong Kong, Macau or Taiwan without "+" (88622000000 is +886 2 2000 0000), which the plain
    phonenumbers oracle reads as CN and rejects."""
    if text.startswith(("+", "00")) or not text.startswith(("852", "853", "886")):
        return None
    return _pn("+" + text)[0]


@BATCH
@given(st.lists(st.one_of(EMAILISH, st.from_regex(r"\A[a-zA-Z0-9._%+-]{1,20}@[a-z0-9-]{1,10}\.[a-z]{2,4}\Z")),
                min_size=1, max_size=20))
def test_email_fast_path_agrees_with_normalize_email(values) -> None:
    for text, got in zip(values, fast.emails(values), strict=True):
        if got is not None:
            assert normalize_email(text).emails == (got,), text


@BATCH
@given(st.lists(st.one_of(DATEISH, st.dates().map(str), st.datetimes().map(str),
                          st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
                          st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
                          st.dates().map(lambda d: d.strftime("%Y%m%d"))), min_size=1, max_size=20))
@example(["1983/9/9", "1990.1.2", "1990-1/2", "1990年1月2日", "19900102", "2023-2-30", "19901302",
          "1899/12/31", "1990年01月02日"])
def test_date_fast_paths_agree_with_normalize_date(values) -> None:
    for text, got in zip(values, fast.iso_dates(values), strict=True):
        if got is not None:
            assert normalize_date(text).value == got, text
    for text, got in zip(values, fast.iso_datetimes(values), strict=True):
        if got is not None:
            assert normalize_datetime(text).value == got, text


@BATCH
@given(st.lists(st.from_regex(r"\A[1-9][0-9]{16}\Z").map(lambda b: b + check_char(b)) | st.from_regex(
    r"\A[0-9]{17}[0-9X]\Z"), min_size=1, max_size=20))
def test_national_id_fast_path_agrees_with_normalize_national_id(values) -> None:
    for text, got in zip(values, fast.national_ids(values), strict=True):
        assert normalize_national_id(text).value == got, text


@BATCH
@given(st.lists(st.one_of(NAMEISH, st.text(alphabet="张王李曾单欧阳长孙乐偉娜", min_size=1, max_size=5)),
                min_size=1, max_size=20))
def test_name_batch_agrees_with_normalize_name(values) -> None:
    cols = name_columns(values)
    for i, text in enumerate(values):
        one = normalize_name(text)
        assert cols["name"][i] == one.name
        assert (cols["name_key"][i], cols["name_pinyin"][i]) == (one.key, one.pinyin)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=16))
def test_latin_name_fast_paths_give_what_the_general_forms_give(word):
    """The ASCII shortcuts of name folding and title case (most Latin names take them) must not change
    a single name: they skip NFD and a regex per word, nothing else."""
    from custinfo.normalize import names

    assert names._fold_latin(word) == names._fold_any(word)
    assert names._title_word(word) == names._title_any(word)
