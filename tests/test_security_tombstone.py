"""Tombstones catch an erased person coming back in an old export, without holding who they were."""
from __future__ import annotations

import hashlib
import hmac
import os
import stat

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custinfo.security.tombstone import (
    Tombstones,
    load_salt,
    norm_email,
    norm_national_id,
    norm_phone,
    norm_series,
    tombstone_keys,
)

PHONE = "+8613812345678"
EMAIL = "li.na@example.com"
ID = "11010519491231002X"


def forget_li_na(store) -> Tombstones:
    t = Tombstones(store)
    t.add(t.keys_for(phone=PHONE, email=EMAIL, national_id=ID, name_key="li na"),
          reason="erasure request #7", customer_id="C000123")
    return t


def old_export() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["李娜", "王伟", "Li Na"],
        "phone": ["13812345678", "+8613900001111", None],
        "phones": ["13812345678", "+8613900001111", "+8613700002222, +8613812345678"],
        "email": [None, "wang@example.com", "LI.NA@Example.com"],
        "national_id": [None, None, None],
    })


def test_reingested_row_of_a_forgotten_person_matches(tmp_path):
    t = forget_li_na(tmp_path)
    assert t.matches(old_export()).tolist() == [True, False, True]
    found = t.match_frame(old_export())
    assert found["customer_id"].tolist() == ["C000123", "C000123"]


def test_name_alone_does_not_match(tmp_path):
    t = forget_li_na(tmp_path)
    df = pd.DataFrame({"name_key": ["li na"], "phone": ["+8613000000000"]})
    assert not t.matches(df).any()


def test_tombstone_file_holds_no_form_of_the_phone_email_or_id(tmp_path):
    forget_li_na(tmp_path)
    blob = b"".join(p.read_bytes() for p in (tmp_path / "secret").iterdir())
    forms = [PHONE, PHONE[1:], PHONE[3:], "138-1234-5678", "138 1234 5678", EMAIL, "li.na", ID, "李娜",
             "li na"]
    forms += [hashlib.sha256(f.encode()).hexdigest() for f in (PHONE, PHONE[3:], EMAIL, ID)]
    forms += [hashlib.md5(f.encode()).hexdigest() for f in (PHONE, PHONE[3:], EMAIL, ID)]
    for form in forms:
        assert form.encode() not in blob, form
    assert PHONE[3:].encode("utf-16-le") not in blob


def test_keys_are_hmac_sha256_with_the_store_salt(tmp_path):
    salt = load_salt(tmp_path)
    (key,) = tombstone_keys(phone="138 1234 5678", salt=salt)
    assert key == "phone:" + hmac.new(salt, f"phone:{PHONE}".encode(), "sha256").hexdigest()


def test_keys_need_a_salt():
    with pytest.raises(TypeError):
        tombstone_keys(phone=PHONE)


def test_two_stores_give_different_keys_for_the_same_person(tmp_path):
    a = Tombstones(tmp_path / "a").keys_for(phone=PHONE)
    b = Tombstones(tmp_path / "b").keys_for(phone=PHONE)
    assert a != b


def test_salt_is_created_once_and_owner_only(tmp_path):
    first = load_salt(tmp_path)
    assert load_salt(tmp_path) == first and len(first) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "secret").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "secret" / "salt").st_mode) == 0o600


def test_tombstone_file_is_owner_only_and_adding_twice_adds_nothing(tmp_path):
    t = forget_li_na(tmp_path)
    assert stat.S_IMODE(os.stat(t.path).st_mode) == 0o600
    assert t.add(t.keys_for(phone=PHONE), reason="again") == 0
    assert len(t.entries()) == 4


def test_no_tombstones_means_nothing_matches_and_no_salt_needed(tmp_path):
    t = Tombstones(tmp_path)
    assert not t.matches(old_export()).any()
    assert not (tmp_path / "secret").exists()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20),
                          st.from_regex(r"(\+?86)?[ -]?1[3-9][0-9]{9}", fullmatch=True)), max_size=8))
def test_vectorized_normalization_agrees_with_the_scalar_one(values):
    s = pd.Series(values, dtype=object)
    for kind, fn in (("phone", norm_phone), ("email", norm_email), ("national_id", norm_national_id)):
        got = norm_series(kind, s).tolist()
        want = [fn(v) if isinstance(v, str) else None for v in values]
        assert [None if pd.isna(g) else g for g in got] == want


def test_forgotten_passport_number_matches_however_it_was_written(tmp_path):
    """A person known only by a passport or foreign number (other_id) is caught in an old export too."""
    t = Tombstones(tmp_path)
    t.add(t.keys_for(other_id="E12345678"), reason="erasure request #8", customer_id="C000124")
    df = pd.DataFrame({"other_id": ["E12345678", "G12345678", None], "national_id": [None] * 3})
    assert t.matches(df).tolist() == [True, False, False]
    assert t.keys_for(other_id="e1234-5678") == t.keys_for(other_id="E12345678")
    assert b"12345678" not in t.path.read_bytes()
