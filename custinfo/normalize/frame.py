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
- ``id_not_resident_id``: the national ID column holds another identity document (a passport, a
  foreign social security number: no shape of a resident ID at all); kept, cleaned, as ``other_id``.
- ``other_id_invalid``: an other_id value (passport, social security number...) is not 6 to 24
  letters and digits with a digit in it; not stored.
- ``id_birth_mismatch``: birth_date differs from the birth date in the national ID.
- ``gender_id_conflict``: gender differs from the gender encoded in the national ID.
- ``invalid_gender``: the gender cell is not a recognised way of writing a gender.
- ``invalid_postcode``: a Chinese postcode that is not six digits.
- ``invalid_qq``: a QQ number that is not 5 to 12 digits.
- ``invalid_flag``: a consent/opt-out cell that is not a recognised yes or no.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import fast
from .companies import normalize_company
from .dates import DATE_ORDERS, normalize_date, normalize_datetime
from .emails import normalize_email
from .flags import normalize_flag
from .gender import normalize_gender
from .identifiers import normalize_notes, normalize_qq, normalize_reference, normalize_wechat
from .names import join_name_parts, name_columns
from .national_id import normalize_national_id
from .other_id import normalize_other_id
from .phones import PhoneResult, normalize_phone
from .place_columns import place_step
from .table import (
    SourceFrame,
    Table,
    at,
    combine,
    fill_slow,
    joined,
    merge_issue_columns,
    missing,
    objs,
    spread,
    table_of,
)
from .titles import normalize_title

OUTPUT_COLUMNS: list[str] = [
    "name", "name_key", "name_pinyin", "gender", "birth_date", "phone", "phones", "email", "emails",
    "company", "company_key", "title", "title_key", "country", "province", "city", "district",
    "address", "address_key", "postcode", "national_id", "other_id", "created_at", "notes", "qq",
    "wechat", "customer_ref", "consent_email", "consent_marketing", "opt_out", "issues",
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
    "id_not_resident_id": "the national ID column holds another identity document; kept as other_id",
    "other_id_invalid": "other_id (passport, social security number...) is not 6-24 letters and digits",
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


def _apply(f: SourceFrame, column: str, func: Callable, getters: dict[str, Callable],
           issues: Callable | None = None) -> Table:
    """Run ``func`` once per distinct value of ``column``; getters name the output columns."""
    if not f.has(column):
        return {}
    codes, values = f.codes(column)
    if issues is not None:
        getters = {**getters, "issues": lambda r: joined(issues(r))}
    rows = spread(table_of([func(v) for v in values], getters), codes)
    for name, arr in rows.items():
        if name == "issues":
            f.add_issues(arr)
        else:
            f.out[name] = arr
    return rows


def _names(f: SourceFrame) -> np.ndarray | None:
    """name, name_key, name_pinyin; returns the gender implied by a dropped honorific."""
    if not any(f.has(c) for c in ("name", "first_name", "last_name")):
        return None
    codes, values = f.codes("name")
    table = {k: objs(v) for k, v in name_columns(values).items()}
    if f.has("first_name") or f.has("last_name"):
        empty = missing(spread(table, codes)["name"])
        fc, fv = f.codes("first_name")
        lc, lv = f.codes("last_name")
        combo, first = combine(fc[empty], lc[empty])
        joined_names = [join_name_parts(at(fv, fc[empty][i]), at(lv, lc[empty][i])) for i in first]
        extra = name_columns(joined_names)
        hint = spread(table, codes)["gender_hint"]
        table = {k: np.concatenate([table[k], objs(extra[k])]) for k in table}
        codes = codes.copy()
        codes[empty] = len(values) + combo
    else:
        hint = None
    rows = spread(table, codes)
    for column in ("name", "name_key", "name_pinyin"):
        f.out[column] = rows[column]
    return rows["gender_hint"] if hint is None else hint


_PHONE_FIELDS: dict[str, Callable[[PhoneResult], object]] = {
    "phones": lambda r: ",".join(r.phones) or None,
    "mobile": lambda r: next((p for p, m in zip(r.phones, r.mobiles, strict=True) if m), None),
    "mobile_country": lambda r: next((g for g, m in zip(r.regions, r.mobiles, strict=True) if m), None),
    "first": lambda r: r.phones[0] if r.phones else None,
    "first_country": lambda r: r.regions[0] if r.regions else None,
    "issues": lambda r: joined(r.issues),
}


def _phone_table(values: list, region: str) -> Table:
    """Per distinct phone cell: all numbers, first mobile, first number (with countries), issues."""
    e164, is_mobile, floated = fast.cn_phones(values, region)
    found = ~missing(e164)
    table = {
        "phones": e164.copy(), "mobile": np.where(is_mobile, e164, None).astype(object),
        "mobile_country": np.where(is_mobile, "CN", None).astype(object), "first": e164.copy(),
        "first_country": np.where(found, "CN", None).astype(object),
        "issues": np.where(floated, "phone_from_float", None).astype(object),
    }
    return fill_slow(table, ~found, values, lambda v: normalize_phone(v, region), _PHONE_FIELDS)


def _merge_phone_tables(ta: Table, ca: np.ndarray, tb: Table, cb: np.ndarray) -> tuple[Table, np.ndarray]:
    """One table for distinct (mobile, phone) pairs: mobile's numbers first, then phone's."""
    combo, first = combine(ca, cb)
    a, b = spread(ta, ca[first]), spread(tb, cb[first])
    has_a = ca[first] >= 0
    table = {k: np.where(has_a, a[k], b[k]).astype(object) for k in a}
    for i in np.flatnonzero(has_a & (cb[first] >= 0)):
        numbers = [p for s in (a["phones"][i], b["phones"][i]) if s for p in s.split(",")]
        table["phones"][i] = ",".join(dict.fromkeys(numbers)) or None
        for key in ("mobile", "first"):
            if a[key][i] is None:
                table[key][i], table[f"{key}_country"][i] = b[key][i], b[f"{key}_country"][i]
        codes = {c for s in (a["issues"][i], b["issues"][i]) if s for c in s.split(";")}
        table["issues"][i] = ";".join(sorted(codes)) or None
    return table, combo


def _phones(f: SourceFrame, opts: NormalizeOptions) -> np.ndarray:
    """phone, phones (from mobile and phone); returns the country of the preferred number."""
    tables = [(_phone_table(values, opts.default_region), codes)
              for codes, values in (f.codes(c) for c in ("mobile", "phone") if f.has(c))]
    if not tables:
        return f.nones()
    table, codes = tables[0] if len(tables) == 1 else _merge_phone_tables(*tables[0], *tables[1])
    rows = spread(table, codes)
    has_mobile = ~missing(rows["mobile"])
    f.out["phone"] = np.where(has_mobile, rows["mobile"], rows["first"]).astype(object)
    f.out["phones"] = rows["phones"]
    f.add_issues(rows["issues"])
    return np.where(has_mobile, rows["mobile_country"], rows["first_country"]).astype(object)


def _fast_then_slow(f: SourceFrame, column: str, fast_values: Callable, slow: Callable,
                    getters: dict[str, Callable]) -> tuple[Table, np.ndarray]:
    """Values the fast path accepts are final; the rest go through ``slow`` one by one.

    Returns the per-value table (``value`` plus the other getters) and the row codes; the
    ``issues`` getter's column is already added to the frame's issues.
    """
    codes, values = f.codes(column)
    done = fast_values(values) if values else np.array([], dtype=object)
    table = {k: (done.copy() if k in ("value", "emails") else np.full(len(values), None, dtype=object))
             for k in getters}
    fill_slow(table, missing(done), values, slow, getters)
    f.add_issues(spread({"issues": table.pop("issues")}, codes)["issues"])
    return table, codes


def _emails(f: SourceFrame) -> None:
    if not f.has("email"):
        return
    table, codes = _fast_then_slow(f, "email", fast.emails, normalize_email, {
        "value": lambda r: r.email, "emails": lambda r: ",".join(r.emails) or None,
        "issues": lambda r: joined(r.issues)})
    rows = spread(table, codes)
    f.out["email"], f.out["emails"] = rows["value"], rows["emails"]


_VALUE_ISSUES = {"value": lambda r: r.value, "issues": lambda r: joined(r.issues)}


def _dates(f: SourceFrame, opts: NormalizeOptions) -> None:
    order, epoch = opts.date_order, opts.excel_epoch
    if f.has("birth_date"):
        table, codes = _fast_then_slow(f, "birth_date", fast.iso_dates,
                                       lambda v: normalize_date(v, order, epoch), _VALUE_ISSUES)
        f.out["birth_date"] = spread(table, codes)["value"]
    tomorrow = dt.date.today() + dt.timedelta(days=1)

    def stamps(values: list) -> np.ndarray:
        """Fast path for created_at: a naive ISO datetime, else an ISO date."""
        out = fast.iso_datetimes(values)
        rest = np.flatnonzero(missing(out))
        if len(rest):
            out[rest] = fast.iso_dates([values[i] for i in rest], latest=tomorrow)
        return out

    if f.has("created_at"):
        table, codes = _fast_then_slow(f, "created_at", stamps,
                                       lambda v: normalize_datetime(v, order, epoch), _VALUE_ISSUES)
        f.out["created_at"] = spread(table, codes)["value"]


def _identity(f: SourceFrame, hint: np.ndarray) -> None:
    """national_id and other_id; gender and birth_date checked against the national ID and filled
    from it when empty. A document that is not a resident ID, found in the national_id column, goes
    to other_id unless the row has an other_id column value of its own."""
    _apply(f, "gender", normalize_gender, {"gender": lambda r: r.value}, issues=lambda r: r.issues)
    gender = f.out.get("gender")
    if hint is not None:
        gender = hint if gender is None else np.where(missing(gender), hint, gender).astype(object)
        f.out["gender"] = gender
    _apply(f, "other_id", normalize_other_id, {"other_id": lambda r: r.value}, issues=lambda r: r.issues)
    if not f.has("national_id"):
        return
    table, codes = _fast_then_slow(f, "national_id", fast.national_ids, normalize_national_id,
                                   {**_VALUE_ISSUES, "other": lambda r: r.other})
    ids = table["value"]
    table["birth"] = objs([f"{v[6:10]}-{v[10:12]}-{v[12:14]}" if v else None for v in ids])
    table["gender"] = objs([("M" if int(v[16]) % 2 else "F") if v else None for v in ids])
    rows = spread(table, codes)
    f.out["national_id"] = rows["value"]
    other = f.out.get("other_id")
    f.out["other_id"] = rows["other"] if other is None else np.where(missing(other), rows["other"], other)
    gender = f.nones() if gender is None else gender
    f.add_issues(_conflicts(gender, rows["gender"], "gender_id_conflict"))
    f.out["gender"] = np.where(missing(gender), rows["gender"], gender).astype(object)
    birth = f.out.get("birth_date", f.nones())
    f.add_issues(_conflicts(birth, rows["birth"], "id_birth_mismatch"))
    f.out["birth_date"] = np.where(missing(birth), rows["birth"], birth).astype(object)


def _conflicts(stated: np.ndarray, from_id: np.ndarray, code: str) -> np.ndarray:
    differ = ~missing(stated) & ~missing(from_id) & np.not_equal(stated, from_id)
    return np.where(differ, code, None).astype(object)


def _work(f: SourceFrame) -> None:
    _apply(f, "company", normalize_company, {"company": lambda r: r.name, "company_key": lambda r: r.key})
    _apply(f, "title", normalize_title, {"title": lambda r: r.title, "title_key": lambda r: r.key})


def _others(f: SourceFrame) -> None:
    _apply(f, "notes", normalize_notes, {"notes": lambda r: r})
    _apply(f, "qq", normalize_qq, {"qq": lambda r: r[0]}, issues=lambda r: r[1])
    _apply(f, "wechat", normalize_wechat, {"wechat": lambda r: r})
    _apply(f, "customer_ref", normalize_reference, {"customer_ref": lambda r: r})
    for column in ("consent_email", "consent_marketing", "opt_out"):
        _apply(f, column, lambda v, c=column: normalize_flag(v, opt_out=c == "opt_out"),
               {column: lambda r: r.value}, issues=lambda r: r.issues)


def normalize_frame(df: pd.DataFrame, opts: NormalizeOptions | None = None) -> pd.DataFrame:
    """Normalize the source columns of ``df`` into ``OUTPUT_COLUMNS``.

    Returns a new object-dtype frame with the same index and order, missing values as None.
    Invalid phones, emails, IDs and dates are left out of their columns and named in ``issues``;
    the caller keeps the raw values.
    """
    opts = opts or NormalizeOptions()
    f = SourceFrame(df)
    hint = _names(f)
    phone_country = _phones(f, opts)
    _emails(f)
    _work(f)
    _dates(f, opts)
    _identity(f, hint)
    place_step(f, opts.default_region, phone_country)
    _others(f)
    f.out["issues"] = merge_issue_columns(f.issues, f.n)
    data = {c: f.out.get(c, f.nones()) for c in OUTPUT_COLUMNS}
    return pd.DataFrame(data, index=df.index, dtype=object, columns=OUTPUT_COLUMNS)
