"""Normalize a whole frame of source columns into the canonical normalized columns.

Every field is normalized once per distinct value (``pd.factorize``, then mapped back), so a
million rows with the usual repetition cost a fraction of a million calls; cpca runs once per
frame on the distinct addresses that need parsing, OpenCC once per frame on the distinct names.

Issue codes (the ``issues`` column holds the sorted, distinct codes of a row joined by ``;``):

- ``invalid_phone``: a phone cell holds something that is not a valid number; it is kept raw
  by the caller and left out of ``phone``/``phones``.
- ``phone_from_float``: a number Excel stored as a float (``13800138000.0``) was recovered.
- ``phone_destroyed_by_excel``: a float that lost digits (``1.38001E+10``); not recoverable.
- ``invalid_email``: an address fails the syntax check; left out of ``email``/``emails``.
- ``email_typo_fixed``: a big provider's misspelt domain was repaired (``qq.con`` -> ``qq.com``).
- ``invalid_date``: birth_date or created_at is not a real date (or a birth date in the future).
- ``ambiguous_date``: ``02/01/1990`` under the YMD order: day and month cannot be told apart.
- ``id_invalid``: the national ID has the wrong length, characters, province or birth date.
- ``id_checksum``: the national ID's mod 11-2 check character is wrong.
- ``id_destroyed_by_excel``: the ID went through a spreadsheet as a number (``1.10105E+17``).
- ``id_birth_mismatch``: birth_date differs from the birth date in the national ID.
- ``gender_id_conflict``: gender differs from the gender encoded in the national ID.
- ``invalid_gender``: the gender cell is not a recognised way of writing a gender.
- ``invalid_postcode``: a Chinese postcode that is not six digits.
- ``invalid_qq``: a QQ number that is not 5 to 12 digits.
- ``invalid_flag``: a consent/opt-out cell that is not a recognised yes or no.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import addresses as addr
from .companies import normalize_company
from .dates import DATE_ORDERS, normalize_date, normalize_datetime
from .emails import normalize_email
from .flags import normalize_flag
from .gender import normalize_gender
from .identifiers import normalize_notes, normalize_qq, normalize_reference, normalize_wechat
from .names import join_name_parts, normalize_names
from .national_id import normalize_national_id
from .phones import PhoneResult, merge_phone_results, normalize_phone
from .text import clean_text, has_cjk
from .titles import normalize_title

OUTPUT_COLUMNS: list[str] = [
    "name", "name_key", "name_pinyin", "gender", "birth_date", "phone", "phones", "email", "emails",
    "company", "company_key", "title", "title_key", "country", "province", "city", "district",
    "address", "address_key", "postcode", "national_id", "created_at", "notes", "qq", "wechat",
    "customer_ref", "consent_email", "consent_marketing", "opt_out", "issues",
]

ISSUE_CODES: dict[str, str] = {
    "invalid_phone": "a phone value is not a valid number; kept raw, not in phone/phones",
    "phone_from_float": "a phone number stored by Excel as a float was recovered",
    "phone_destroyed_by_excel": "a phone number Excel turned into a float lost digits",
    "invalid_email": "an email address fails the syntax check; not in email/emails",
    "email_typo_fixed": "a misspelt provider domain was repaired (qq.con -> qq.com)",
    "invalid_date": "birth_date or created_at is not a real (or plausible) date",
    "ambiguous_date": "day and month of a year-last date cannot be told apart (set date_order)",
    "id_invalid": "national ID has a wrong length, characters, province or birth date",
    "id_checksum": "national ID check character (ISO 7064 mod 11-2) is wrong",
    "id_destroyed_by_excel": "national ID went through Excel as a number and lost digits",
    "id_birth_mismatch": "birth_date differs from the birth date in the national ID",
    "gender_id_conflict": "gender differs from the gender in the national ID",
    "invalid_gender": "gender value not recognised",
    "invalid_postcode": "a Chinese postcode that is not six digits",
    "invalid_qq": "QQ number is not 5 to 12 digits",
    "invalid_flag": "consent or opt-out value is not a recognised yes/no",
}


@dataclass
class NormalizeOptions:
    """Per-channel settings: phone region, day/month order of dates, Excel's date system."""

    default_region: str = "CN"
    date_order: str = "YMD"
    excel_epoch: int = 1900

    def __post_init__(self) -> None:
        self.default_region = (self.default_region or "CN").upper()
        if self.date_order not in DATE_ORDERS:
            raise ValueError(f"date_order must be one of {', '.join(DATE_ORDERS)}, not {self.date_order!r}")
        if self.excel_epoch not in (1900, 1904):
            raise ValueError(f"excel_epoch must be 1900 or 1904, not {self.excel_epoch!r}")


class _Frame:
    """The source frame, its distinct values, and the output columns and issues being built."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.n = len(df)
        self.out: dict[str, np.ndarray] = {}
        self.issues: list[np.ndarray] = []

    def has(self, column: str) -> bool:
        return column in self.df.columns

    def codes(self, column: str) -> tuple[np.ndarray, list]:
        """Factorized column: codes (-1 for missing) and the distinct values."""
        if not self.has(column):
            return np.full(self.n, -1, dtype=np.int64), []
        values = self.df[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            values = values.astype(object).where(values.notna(), None)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), list(uniques)

    def add_issues(self, arr: np.ndarray) -> None:
        self.issues.append(arr)


def _obj(values: Sequence) -> np.ndarray:
    """Object array with one element per value (tuples stay whole), plus a trailing None."""
    arr = np.empty(len(values) + 1, dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    arr[-1] = None
    return arr


def _take(results: Sequence, codes: np.ndarray, get: Callable) -> np.ndarray:
    """Per-row values: ``get(result)`` of each distinct value, spread back by its codes."""
    return _obj([get(r) for r in results])[codes]


def _joined(codes_tuple: tuple[str, ...]) -> str | None:
    return ";".join(codes_tuple) if codes_tuple else None


def _combine(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct combinations of several code arrays: (combo code per row, first row of each combo)."""
    combo = np.asarray(pd.factorize(codes[0])[0], dtype=np.int64)
    for c in codes[1:]:
        key = combo * (int(c.max(initial=-1)) + 2) + (c + 1)
        combo = np.asarray(pd.factorize(key)[0], dtype=np.int64)
    first = np.zeros(int(combo.max(initial=-1)) + 1, dtype=np.int64)
    first[combo[::-1]] = np.arange(len(combo))[::-1]
    return combo, first


def _apply(f: _Frame, column: str, func: Callable, getters: dict[str, Callable],
           issues: Callable | None = None) -> list:
    """Normalize one source column through ``func`` per distinct value into output columns."""
    codes, values = f.codes(column)
    results = [func(v) for v in values]
    for out_col, get in getters.items():
        f.out[out_col] = _take(results, codes, get)
    if issues is not None:
        f.add_issues(_take(results, codes, lambda r: _joined(issues(r))))
    return [results, codes]


def _missing(a: np.ndarray) -> np.ndarray:
    return np.equal(a, None)


def _names(f: _Frame) -> np.ndarray:
    """name, name_key, name_pinyin; returns the gender implied by a dropped honorific."""
    codes, values = f.codes("name")
    results = normalize_names(values)
    hint = _take(results, codes, lambda r: r.gender_hint)
    if f.has("first_name") or f.has("last_name"):
        empty = _missing(_take(results, codes, lambda r: r.name))
        fc, fv = f.codes("first_name")
        lc, lv = f.codes("last_name")
        combo, first = _combine(fc[empty], lc[empty])
        joined = [join_name_parts(_at(fv, fc[empty][i]), _at(lv, lc[empty][i])) for i in first]
        codes = codes.copy()
        codes[empty] = len(results) + combo
        results = results + normalize_names(joined)
    f.out["name"] = _take(results, codes, lambda r: r.name)
    f.out["name_key"] = _take(results, codes, lambda r: r.key)
    f.out["name_pinyin"] = _take(results, codes, lambda r: r.pinyin)
    return hint


def _at(values: list, code: int) -> object:
    return values[code] if code >= 0 else None


def _phones(f: _Frame, opts: NormalizeOptions) -> np.ndarray:
    """phone, phones (from mobile and phone); returns the country of the preferred number."""
    per = []
    for column in ("mobile", "phone"):
        if f.has(column):
            codes, values = f.codes(column)
            per.append((codes, [normalize_phone(v, opts.default_region) for v in values]))
    if not per:
        return _obj([])[np.full(f.n, -1)]
    codes, results = per[0]
    if len(per) == 2:
        (ca, ra), (cb, rb) = per
        codes, first = _combine(ca, cb)
        results = [_merge(_at(ra, ca[i]), _at(rb, cb[i])) for i in first]
    f.out["phone"] = _take(results, codes, lambda r: r.phone)
    f.out["phones"] = _take(results, codes, lambda r: ",".join(r.phones) or None)
    f.add_issues(_take(results, codes, lambda r: _joined(r.issues)))
    return _take(results, codes, lambda r: r.country)


def _merge(a: PhoneResult | None, b: PhoneResult | None) -> PhoneResult:
    if a is None or b is None:
        return a or b or PhoneResult()
    return merge_phone_results(a, b)


def _emails(f: _Frame) -> None:
    _apply(f, "email", normalize_email,
           {"email": lambda r: r.email, "emails": lambda r: ",".join(r.emails) or None},
           issues=lambda r: r.issues)


def _work(f: _Frame) -> None:
    _apply(f, "company", normalize_company, {"company": lambda r: r.name, "company_key": lambda r: r.key})
    _apply(f, "title", normalize_title, {"title": lambda r: r.title, "title_key": lambda r: r.key})


def _dates(f: _Frame, opts: NormalizeOptions) -> None:
    order, epoch = opts.date_order, opts.excel_epoch
    _apply(f, "birth_date", lambda v: normalize_date(v, order, epoch), {"birth_date": lambda r: r.value},
           issues=lambda r: r.issues)
    _apply(f, "created_at", lambda v: normalize_datetime(v, order, epoch), {"created_at": lambda r: r.value},
           issues=lambda r: r.issues)


def _identity(f: _Frame, hint: np.ndarray) -> None:
    """national_id; gender and birth_date checked against it and filled from it when empty."""
    _apply(f, "gender", normalize_gender, {"gender": lambda r: r.value}, issues=lambda r: r.issues)
    results, codes = _apply(f, "national_id", normalize_national_id, {"national_id": lambda r: r.value},
                            issues=lambda r: r.issues)
    id_gender = _take(results, codes, lambda r: r.gender)
    id_birth = _take(results, codes, lambda r: r.birth_date)
    gender = np.where(_missing(f.out["gender"]), hint, f.out["gender"])
    f.add_issues(_conflicts(gender, id_gender, "gender_id_conflict"))
    f.out["gender"] = np.where(_missing(gender), id_gender, gender)
    birth = f.out["birth_date"]
    f.add_issues(_conflicts(birth, id_birth, "id_birth_mismatch"))
    f.out["birth_date"] = np.where(_missing(birth), id_birth, birth)


def _conflicts(stated: np.ndarray, from_id: np.ndarray, code: str) -> np.ndarray:
    both = ~_missing(stated) & ~_missing(from_id)
    differ = both & np.not_equal(stated, from_id)
    return np.where(differ, code, None).astype(object)


def _address_codes(f: _Frame) -> tuple[np.ndarray, list]:
    """Distinct cleaned addresses: ``address``, or address_1/address_2/street_number put together."""
    codes, values = f.codes("address")
    cleaned = [addr.clean_address(v) for v in values]
    per_row = _obj(cleaned)[codes]
    parts = [c for c in ("address_1", "street_number", "address_2") if f.has(c)]
    if parts:
        empty = _missing(per_row)
        part_codes = [f.codes(c) for c in parts]
        combo, first = _combine(*(pc[empty] for pc, _ in part_codes))
        built = [addr.clean_address(_join_address([_at(v, pc[empty][i]) for pc, v in part_codes]))
                 for i in first]
        per_row[empty] = _obj(built)[combo]
    codes, uniques = pd.factorize(per_row, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _join_address(parts: list[object]) -> str | None:
    """address_1 + street_number + address_2: run together in Chinese, comma-separated otherwise."""
    texts = [t for t in (clean_text(p) for p in parts) if t]
    if not texts:
        return None
    if has_cjk("".join(texts)):
        return "".join(texts)
    street, number, extra = (clean_text(p) for p in parts) if len(parts) == 3 else (None, None, None)
    if street and number:  # western order: "12 Baker Street"
        texts = [f"{number} {street}"] + ([extra] if extra else [])
    return ", ".join(texts)


def _places(f: _Frame, opts: NormalizeOptions, phone_country: np.ndarray) -> None:
    """province, city, district, address, address_key, country, postcode."""
    ac, av = _address_codes(f)
    columns = [f.codes(c) for c in ("province", "city", "district")]
    combo, first = _combine(*(c for c, _ in columns), ac)
    given = [[_at(v, c[i]) for c, v in columns] + [_at(av, ac[i])] for i in first]
    standard = [_standard_admin(p, c, d) for p, c, d, _ in given]
    todo = [g[3] for g, s in zip(given, standard) if g[3] and None in s]
    parsed = addr.parse_addresses(todo)
    places = [_fill_place(s, g[3], parsed.get(g[3] or "")) for g, s in zip(given, standard)]
    for column in ("province", "city", "district"):
        f.out[column] = _take(places, combo, lambda p, c=column: getattr(p, c))
    f.out["address"] = _take(given, combo, lambda g: g[3])
    f.out["address_key"] = _take(list(zip(places, given)), combo, lambda pg: addr.address_key(pg[0], pg[1][3]))
    address_country = _take(places, combo, lambda p: p.country)
    country = np.where(_missing(phone_country), address_country, phone_country)
    f.out["country"] = np.where(_missing(country), opts.default_region, country).astype(object)
    _postcodes(f)


def _standard_admin(p: object, c: object, d: object) -> tuple[str | None, str | None, str | None]:
    """Standard names of the given province/city/district columns (cleaned text if unknown)."""
    province = addr.standard_province(p) or clean_text(p)
    city = addr.standard_city(c, province) or clean_text(c)
    district = addr.standard_district(d, province, city) or clean_text(d)
    return province, city, district


def _fill_place(given: tuple, address: str | None, parsed: addr.Place | None) -> addr.Place:
    """Fill the empty levels from the parsed address, never against what the columns say."""
    province, city, district = given
    if parsed is not None:
        if province is None:
            province = parsed.province
        if city is None and parsed.province == province:
            city = parsed.city
        if district is None and parsed.city == city and parsed.province == province:
            district = parsed.district
    if city is None and province in addr.MUNICIPALITY_NAMES:
        city = province
    rest = addr.strip_admin_prefix(address, province, city, district) if address else None
    return addr.Place(province, city, district, rest, addr.country_of(province))


def _postcodes(f: _Frame) -> None:
    codes, values = f.codes("postcode")
    country = f.out["country"]
    combo, first = _combine(codes, np.asarray(pd.factorize(country)[0], dtype=np.int64))
    results = [addr.normalize_postcode(_at(values, codes[i]), country[i]) for i in first]
    f.out["postcode"] = _take(results, combo, lambda r: r[0])
    f.add_issues(_take(results, combo, lambda r: _joined(r[1])))


def _others(f: _Frame) -> None:
    _apply(f, "notes", normalize_notes, {"notes": lambda r: r})
    _apply(f, "qq", normalize_qq, {"qq": lambda r: r[0]}, issues=lambda r: r[1])
    _apply(f, "wechat", normalize_wechat, {"wechat": lambda r: r})
    _apply(f, "customer_ref", normalize_reference, {"customer_ref": lambda r: r})
    for column in ("consent_email", "consent_marketing", "opt_out"):
        _apply(f, column, lambda v, c=column: normalize_flag(v, opt_out=c == "opt_out"),
               {column: lambda r: r.value}, issues=lambda r: r.issues)


def _issues_column(f: _Frame) -> np.ndarray:
    """Sorted distinct issue codes per row, computed once per distinct combination of issue cells."""
    if not f.issues:
        return _obj([])[np.full(f.n, -1)]
    factorized = [pd.factorize(a, use_na_sentinel=True) for a in f.issues]
    combo, first = _combine(*(np.asarray(c, dtype=np.int64) for c, _ in factorized))
    merged = []
    for i in first:
        found = {code for c, u in factorized if c[i] >= 0 for code in u[c[i]].split(";")}
        merged.append(";".join(sorted(found)) or None)
    return _obj(merged)[combo]


def normalize_frame(df: pd.DataFrame, opts: NormalizeOptions | None = None) -> pd.DataFrame:
    """Normalize the source columns of ``df`` into ``OUTPUT_COLUMNS``.

    Returns a new object-dtype frame with the same index and order, missing values as None.
    Invalid phones, emails, IDs and dates are left out of their columns and named in ``issues``;
    the caller keeps the raw values.
    """
    opts = opts or NormalizeOptions()
    f = _Frame(df)
    hint = _names(f)
    phone_country = _phones(f, opts)
    _emails(f)
    _work(f)
    _dates(f, opts)
    _identity(f, hint)
    _places(f, opts, phone_country)
    _others(f)
    f.out["issues"] = _issues_column(f)
    empty = _obj([])[np.full(f.n, -1)]
    data = {c: f.out.get(c, empty) for c in OUTPUT_COLUMNS}
    return pd.DataFrame(data, index=df.index, dtype=object, columns=OUTPUT_COLUMNS)
