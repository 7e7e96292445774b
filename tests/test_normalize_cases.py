"""Every row of tests/data/normalize_cases.csv: one input, one field, the value a careful analyst expects."""
from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from custinfo.normalize import NormalizeOptions, normalize_frame
from custinfo.normalize import addresses as addr
from custinfo.normalize.companies import normalize_company
from custinfo.normalize.dates import normalize_date, normalize_datetime
from custinfo.normalize.emails import normalize_email
from custinfo.normalize.flags import normalize_flag
from custinfo.normalize.gender import normalize_gender
from custinfo.normalize.identifiers import normalize_qq, normalize_wechat
from custinfo.normalize.names import normalize_name
from custinfo.normalize.national_id import normalize_national_id
from custinfo.normalize.other_id import normalize_other_id
from custinfo.normalize.phones import normalize_phone
from custinfo.normalize.titles import normalize_title

CASES = Path(__file__).parent / "data" / "normalize_cases.csv"


def _date_args(option: str) -> dict:
    if option in ("1900", "1904"):
        return {"excel_epoch": int(option)}
    return {"order": option} if option else {}


def _joined(values) -> str | None:
    return ",".join(values) or None


def _issues(values) -> str | None:
    return ";".join(values) or None


def _address(text: str, _: str) -> str:
    p = addr.parse_address(text)
    return "|".join(x or "" for x in (p.province, p.city, p.district, p.rest))


def _address_key(text: str, _: str) -> str | None:
    return normalize_frame(pd.DataFrame({"address": [text]}))["address_key"].iloc[0]


def _city(text: str, province: str) -> str | None:
    return addr.standard_city(text, province or None)


def _district(text: str, where: str) -> str | None:
    province, _, city = where.partition("/")
    return addr.standard_district(text, province or None, city or None)


FIELDS: dict[str, Callable[[str, str], object]] = {
    "name": lambda t, o: normalize_name(t).name,
    "name_gender": lambda t, o: normalize_name(t).gender_hint,
    "name_key": lambda t, o: normalize_name(t).key,
    "name_pinyin": lambda t, o: normalize_name(t).pinyin,
    "phones": lambda t, o: _joined(normalize_phone(t, o or "CN").phones),
    "phone": lambda t, o: normalize_phone(t, o or "CN").phone,
    "phone_issues": lambda t, o: _issues(normalize_phone(t, o or "CN").issues),
    "emails": lambda t, o: _joined(normalize_email(t).emails),
    "email": lambda t, o: normalize_email(t).email,
    "email_issues": lambda t, o: _issues(normalize_email(t).issues),
    "birth_date": lambda t, o: normalize_date(t, **_date_args(o)).value,
    "date_issues": lambda t, o: _issues(normalize_date(t, **_date_args(o)).issues),
    "created_at": lambda t, o: normalize_datetime(t, **_date_args(o)).value,
    "gender": lambda t, o: normalize_gender(t).value,
    "gender_issues": lambda t, o: _issues(normalize_gender(t).issues),
    "national_id": lambda t, o: normalize_national_id(t).value,
    "id_issues": lambda t, o: _issues(normalize_national_id(t).issues),
    "id_birth": lambda t, o: normalize_national_id(t).birth_date,
    "id_gender": lambda t, o: normalize_national_id(t).gender,
    "id_other": lambda t, o: normalize_national_id(t).other,
    "other_id": lambda t, o: normalize_other_id(t).value,
    "other_id_issues": lambda t, o: _issues(normalize_other_id(t).issues),
    "province": lambda t, o: addr.standard_province(t),
    "city": _city,
    "district": _district,
    "address": _address,
    "address_key": _address_key,
    "postcode": lambda t, o: addr.normalize_postcode(t, o or "CN")[0],
    "company": lambda t, o: normalize_company(t).name,
    "company_key": lambda t, o: normalize_company(t).key,
    "title": lambda t, o: normalize_title(t).title,
    "title_key": lambda t, o: normalize_title(t).key,
    "consent": lambda t, o: normalize_flag(t).value,
    "opt_out": lambda t, o: normalize_flag(t, opt_out=True).value,
    "qq": lambda t, o: normalize_qq(t)[0],
    "wechat": lambda t, o: normalize_wechat(t),
}


def _load() -> list:
    with open(CASES, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [pytest.param(r["field"], r["input"], r["expected"], r["option"],
                         id=f"{r['field']}:{r['input'][:30]!r}:{r['option']}") for r in rows]


def test_case_file_has_at_least_200_cases_and_known_fields() -> None:
    params = _load()
    assert len(params) >= 200
    assert {p.values[0] for p in params} <= set(FIELDS)


@pytest.mark.parametrize(("field", "text", "expected", "option"), _load())
def test_normalize_case(field: str, text: str, expected: str, option: str) -> None:
    got = FIELDS[field](text, option)
    assert got == (expected or None)


def test_options_reject_unknown_date_order() -> None:
    with pytest.raises(ValueError, match="date_order"):
        NormalizeOptions(date_order="DYM")


def test_char_pinyin_is_pypinyins_reading_of_every_chinese_character() -> None:
    # names.py reads pypinyin's table instead of importing pypinyin (whose phrase dictionary costs
    # ~0.25 s of every process start); the readings must stay those pypinyin gives.
    from pypinyin import lazy_pinyin

    from custinfo.normalize import names
    from custinfo.normalize.text import is_cjk_char

    chars = [chr(cp) for cp in range(0x3400, 0xFB00) if is_cjk_char(chr(cp))]
    assert len(chars) > 27_000
    got = [names._char_pinyin(ch) for ch in chars]
    expected = [lazy_pinyin(ch)[0] for ch in chars]
    assert [(c, g) for c, g, e in zip(chars, got, expected, strict=True) if g != e] == []
    assert names._char_pinyin("吕") == "lv" and names._char_pinyin("a") == ""


def test_cpca_imported_without_pkg_resources_has_the_same_table() -> None:
    # addresses.import_cpca lets cpca read its table through a stand-in for pkg_resources (whose
    # import costs ~0.1 s): the table must be the one a plain `import cpca` reads.
    import subprocess
    import sys

    dump = ("import json, sys; {imp}; print('pkg_resources' in sys.modules); "
            "print(json.dumps(sorted((k, v.name, v.adcode, v.longitude, v.latitude, v.rank) "
            "for k, v in cpca.ad_2_addr_dict.items())))")
    plain = subprocess.run([sys.executable, "-c", dump.format(imp="import cpca")],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    ours = subprocess.run([sys.executable, "-c", dump.format(
        imp="from custinfo.normalize.addresses import import_cpca; cpca = import_cpca()")],
        capture_output=True, text=True, check=True).stdout.split("\n")
    assert ours[0] == "False"  # the stand-in is gone and the real one was never loaded
    assert len(ours[1]) > 100_000 and ours[1] == plain[1]
