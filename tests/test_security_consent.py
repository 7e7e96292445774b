"""Consent columns and notes become consent records; the latest record per customer and purpose wins."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custinfo.security.consent import consent_records, has_consent, yes_no
from custinfo.security.policy import load_security

POLICY = load_security(Path(__file__).resolve().parents[1] / "configs" / "security.yaml")


def rows(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"record_id": [f"R{i}" for i in range(n)], "customer_id": [f"C{i}" for i in range(n)]}
    return pd.DataFrame({**base, **cols})


def records(df: pd.DataFrame) -> pd.DataFrame:
    return consent_records(df, "web_form", "web.csv", "B1", POLICY)


def test_marketing_consent_column_yes_grants_and_no_refuses():
    c = records(rows(consent_marketing=["Y", "N", None], created_at=["2024-01-02"] * 3))
    assert c[["record_id", "purpose", "granted"]].values.tolist() == [
        ["R0", "marketing", True], ["R1", "marketing", False]]
    assert (c["channel"] == "web_form").all() and (c["source_file"] == "web.csv").all()
    assert (c["batch_id"] == "B1").all()
    assert c["at"].iloc[0] == pd.Timestamp("2024-01-02", tz="UTC")


def test_opt_out_yes_refuses_every_purpose_and_no_records_nothing():
    c = records(rows(opt_out=["Y", "N"]))
    assert sorted(c["purpose"]) == ["call", "email", "marketing", "sms"]
    assert set(c["record_id"]) == {"R0"} and not c["granted"].any()


@pytest.mark.parametrize("note,purposes", [
    ("客户要求退订", {"marketing", "email", "sms"}),
    ("不接受营销短信", {"marketing"}),
    ("请勿扰", {"marketing", "call", "sms"}),
    ("Please UNSUBSCRIBE me", {"marketing", "email"}),
    ("do not call after 6pm", {"call"}),
])
def test_notes_phrases_refuse_their_purposes(note, purposes):
    c = records(rows(notes=[note, "老客户，满意"]))
    assert set(c["purpose"]) == purposes and set(c["record_id"]) == {"R0"}
    assert not c["granted"].any() and c["basis"].str.startswith("notes:").all()


def test_refusal_in_notes_beats_a_ticked_box_in_the_same_row():
    c = records(rows(consent_marketing=["Y"], notes=["电话里说不接受营销"]))
    (rec,) = c.itertuples()
    assert not rec.granted
    assert rec.basis == "column:consent_marketing,notes:不接受营销"


def test_latest_record_per_customer_and_purpose_wins():
    df = pd.DataFrame({"record_id": ["R1", "R2", "R3"], "customer_id": ["C1", "C1", "C2"],
                       "consent_marketing": ["N", "Y", "Y"],
                       "created_at": ["2023-05-01", "2024-05-01", "2024-01-01"]})
    c = records(df)
    assert has_consent(c, ["C1", "C2"], "marketing", policy=POLICY).to_dict() == {"C1": True, "C2": True}
    later = records(pd.DataFrame({"record_id": ["R4"], "customer_id": ["C1"], "opt_out": ["Y"],
                                  "created_at": ["2024-06-01"]}))
    both = pd.concat([c, later])
    assert has_consent(both, ["C1", "C2"], "marketing", policy=POLICY).to_dict() == {"C1": False, "C2": True}


def test_refusal_wins_a_tie_at_the_same_instant():
    df = pd.DataFrame({"record_id": ["R1", "R2"], "customer_id": ["C1", "C1"],
                       "consent_marketing": ["Y", "N"], "created_at": ["2024-05-01"] * 2})
    assert not has_consent(records(df), ["C1"], "marketing").iloc[0]


def test_no_record_means_no_marketing_consent_but_service_contact_allowed():
    empty = records(rows(name=["x"]))
    assert empty.empty
    assert has_consent(empty, ["C9"], "marketing", policy=POLICY).tolist() == [False]
    assert has_consent(empty, ["C9"], "call", policy=POLICY).tolist() == [True]
    assert has_consent(empty, ["C9"], "marketing", default=True).tolist() == [True]


def test_several_purposes_must_all_be_consented():
    c = records(rows(consent_marketing=["Y"], consent_email=["N"]))
    assert has_consent(c, ["C0"], ["marketing", "email"]).tolist() == [False]
    assert has_consent(c, ["C0"], "marketing").tolist() == [True]


def test_unknown_purpose_is_an_error():
    with pytest.raises(ValueError):
        has_consent(records(rows(name=["x"])), ["C0"], "telepathy")


def test_row_without_dates_gets_ingest_time_or_now():
    c = records(rows(consent_email=["Y"], ingested_at=["2024-03-04T05:06:07Z"]))
    assert c["at"].iloc[0] == pd.Timestamp("2024-03-04T05:06:07Z")
    c = records(rows(consent_email=["Y"]))
    assert c["at"].iloc[0] > pd.Timestamp("2020-01-01", tz="UTC")


@pytest.mark.parametrize("value,want", [("Y", True), ("n", False), ("是", True), ("否", False), ("1", True),
                                        ("", None), (None, None), ("maybe", None)])
def test_yes_no_values(value, want):
    assert yes_no(value) is want


def test_customer_id_column_only_when_the_rows_have_one():
    with_ids = records(rows(consent_email=["Y"]))
    assert list(with_ids.columns[:2]) == ["record_id", "customer_id"]
    df = pd.DataFrame({"record_id": ["R1"], "consent_email": ["Y"]})
    without = consent_records(df, "crm", "c.csv", "B")
    assert "customer_id" not in without.columns and without["record_id"].tolist() == ["R1"]


def test_each_row_keeps_its_own_time_when_times_are_parsed_once_per_distinct_value():
    # times are parsed per distinct value (a batch has one ingested_at): the lookup back to the rows
    # must not shift them, with repeated values, missing created_at and a non-default index
    df = rows(consent_marketing=["Y", "N", "Y", "Y"],
              created_at=["2024-03-01", None, "2024-03-01", "not a date"],
              ingested_at=["2025-01-01T00:00:00Z"] * 4).set_axis([7, 3, 9, 1])
    out = records(df).set_index("record_id")["at"]
    assert out["R0"] == out["R2"] == pd.Timestamp("2024-03-01", tz="UTC")
    assert out["R1"] == out["R3"] == pd.Timestamp("2025-01-01", tz="UTC")


def _consents_of_every_row(new: pd.DataFrame) -> pd.DataFrame:
    """What ingest's _consents gave before it left out the rows without a consent value or note."""
    groups = new.groupby(["channel", "source_file"])
    parts = [consent_records(g, ch, f, "B1", POLICY) for (ch, f), g in groups]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    out["at"] = out["at"].astype(str)
    out["granted"] = out["granted"].map({True: "true", False: "false"})
    return out


def test_ingest_consents_read_only_rows_that_say_something_and_give_the_same_records():
    from custinfo.ingest.pipeline import _consents
    from custinfo.store.tables import ARROW_TEXT

    n = 12
    new = pd.DataFrame({
        "record_id": [f"R{i:02d}" for i in range(n)], "channel": ["crm", "web_form"] * 6,
        "source_file": ["a.csv"] * 4 + ["b.csv"] * 8, "name": [f"N{i}" for i in range(n)],
        "created_at": [None, "2024-01-02", "2023-05-06T10:00:00", None] * 3,
        "ingested_at": ["2026-12-07T09:00:00+00:00"] * n,
        "consent_marketing": [None, "Y", None, None, "N", None, None, None, None, "Y", None, None],
        "consent_email": [None] * 7 + ["N"] + [None] * 4, "opt_out": [None] * 10 + ["Y", None],
        "notes": [None, None, "客户要求退订", None, None, "unsubscribe please", None, None, "hello", None,
                  None, "勿扰"],
    }).astype(ARROW_TEXT)  # as ingest holds them
    got = _consents(new, "B1", POLICY)
    assert len(got) > 5
    pd.testing.assert_frame_equal(got, _consents_of_every_row(new))
    quiet = new.assign(consent_marketing=None, consent_email=None, opt_out=None, notes=None)
    quiet = quiet.astype(ARROW_TEXT)
    assert _consents(quiet, "B1", POLICY).empty and _consents_of_every_row(quiet).empty
