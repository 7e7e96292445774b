"""Golden records are ranked column by column (integer keys packed into int64, one sort per field):
the winner of every field, its provenance and the per-customer statistics must be those of ranking each
customer's records one by one with the rules as documented, whatever the values, ties and gaps."""
import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from custinfo.merge import survivorship
from custinfo.merge.survivorship import (
    CONFLICT_FIELDS,
    CONFLICT_MIN_TRUST,
    GOLDEN_COLUMNS,
    MULTI_VALUED,
    golden_columns,
    golden_records,
    rules_for,
)
from custinfo.store.tables import ARROW_TEXT, GOLDEN_FIELDS

TRUST = {"crm": 0.9, "web": 0.7, "bought": 0.3, "default": 0.6}
SINGLE = ["name", "gender", "birth_date", "company", "national_id", "address"]


def _ranked(rows: list[dict], value, rules: list[str]) -> list[dict]:
    """rows best first: stable sorts from the least important key (record_id) to the most important."""
    count = {}
    for r in rows:
        count[value(r)] = count.get(value(r), 0) + 1
    out = sorted(rows, key=lambda r: r["record_id"])
    for rule in reversed(rules):
        if rule == "trust":
            out.sort(key=lambda r: TRUST.get(r["channel"], TRUST["default"]), reverse=True)
        elif rule == "frequency":
            out.sort(key=lambda r: count[value(r)], reverse=True)
        elif rule == "recency":
            out.sort(key=lambda r: r["created_at"] or r["ingested_at"] or "", reverse=True)
        else:
            out.sort(key=lambda r: len(value(r)), reverse=True)
    return out


def _reference(records: pd.DataFrame, config: dict) -> dict[str, dict]:
    """Golden values per customer, one customer and one field at a time."""
    out = {}
    for cid, group in records.groupby("customer_id", sort=False):
        rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in group.to_dict("records")]
        g = {}
        for field in GOLDEN_FIELDS:
            if field in MULTI_VALUED:
                parts = [dict(r, _v=p) for r in rows if r.get(field) for p in r[field].split(",") if p]
                best = _ranked(parts, lambda r: r["_v"], rules_for(MULTI_VALUED[field], config))
                seen = list(dict.fromkeys(r["_v"] for r in best))
                g[field] = ",".join(seen) or None
                g[f"src_{field}"] = best[0]["record_id"] if best else None
            else:
                cands = [r for r in rows if r.get(field) is not None]
                best = _ranked(cands, lambda r, f=field: r[f], rules_for(field, config))
                g[field], g[f"src_{field}"] = (best[0][field], best[0]["record_id"]) if best else (None, None)
        for single, multi in (("phone", "phones"), ("email", "emails")):
            if g[single] is None and g[multi]:
                g[single] = g[multi].split(",")[0]
        g["n_records"] = len(rows)
        g["channels"] = ",".join(sorted({r["channel"] for r in rows}))
        seen_at = [r["ingested_at"] for r in rows if r["ingested_at"] is not None]
        g["first_seen"], g["last_seen"] = (min(seen_at), max(seen_at)) if seen_at else (None, None)
        trusted = [r for r in rows if TRUST.get(r["channel"], TRUST["default"]) >= CONFLICT_MIN_TRUST]
        found = {}
        for field in CONFLICT_FIELDS:
            by_value = {}
            for r in trusted:
                if r[field] is not None:
                    by_value.setdefault(r[field], []).append(r["record_id"])
            if len(by_value) > 1:
                found[field] = dict(sorted(by_value.items()))
        g["conflicts"] = json.dumps(found, ensure_ascii=False) if found else None
        out[cid] = g
    return out


def _records(draw_rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(draw_rows)
    df["record_id"] = [f"R{i:03d}" for i in range(len(df))][::-1]  # ids not in row order
    return df


values = st.sampled_from([None, "a", "ab", "b", "abc", "張", "张伟", ""])
lists = st.sampled_from([None, "", "1", "1,2", "2,1", "3", "1,,3", "2"])
stamp = st.sampled_from([None, "2024-01-01", "2024-02-01", "2023-12-31 10:00"])
row = st.fixed_dictionaries({
    "customer_id": st.sampled_from(["C1", "C2", "C3", "C10"]),
    "channel": st.sampled_from(["crm", "web", "bought", "other"]),
    "created_at": stamp, "ingested_at": stamp,
    **{f: values for f in SINGLE}, "phones": lists, "emails": lists, "phone": values,
})
rules = st.lists(st.sampled_from(["trust", "frequency", "recency", "completeness"]), unique=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=1, max_size=30), rules)
def test_column_ranking_picks_what_ranking_each_customer_one_by_one_picks(rows, default_rules):
    records = _records(rows)
    config = {"default": default_rules} if default_rules else {}
    want = _reference(records, config)
    got = golden_records(records, TRUST, config)
    assert list(got.columns) == GOLDEN_COLUMNS
    assert got["customer_id"].tolist() == list(want)  # in the order the customers first appear
    for g in got.to_dict("records"):
        expected = want[g["customer_id"]]
        assert {k: g[k] for k in expected} == expected, g["customer_id"]


def test_arrow_text_and_python_objects_give_the_same_golden_records():
    rows = [{"customer_id": "C2", "channel": "web", "created_at": None, "ingested_at": "2024-01-01",
             "name": "张伟", "phones": "1,2", "birth_date": "1990-01-02"},
            {"customer_id": "C1", "channel": "crm", "created_at": "2024-02-01", "ingested_at": "2024-01-01",
             "name": None, "phones": "2", "birth_date": "1990-01-03"},
            {"customer_id": "C2", "channel": "crm", "created_at": None, "ingested_at": None,
             "name": "張偉", "phones": None, "birth_date": "1990-01-03"}]
    objects = _records(rows)
    arrow = objects.astype(ARROW_TEXT)
    a, b = golden_records(objects, TRUST), golden_records(arrow, TRUST)
    pd.testing.assert_frame_equal(a, b)
    cols = golden_columns(arrow, TRUST)
    assert list(cols) == GOLDEN_COLUMNS
    assert cols["customer_id"].to_pylist() == ["C1", "C2"]  # customer id order
    assert cols["name"].to_pylist() == [None, "張偉"]  # C1 has no name; crm is trusted above web
    assert cols["n_records"].to_pylist() == [1, 2]
    want = {"birth_date": {"1990-01-02": ["R002"], "1990-01-03": ["R000"]}}
    assert json.loads(cols["conflicts"].to_pylist()[1]) == want


def test_no_records_give_no_golden_records_with_every_column():
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in ["customer_id", "record_id", "channel",
                                                                  "created_at", "ingested_at"]})
    assert list(golden_records(empty, TRUST).columns) == GOLDEN_COLUMNS
    assert all(len(a) == 0 for a in golden_columns(empty, TRUST).values())


def test_rule_keys_wider_than_one_int64_are_sorted_as_several():
    # a customer code, four rules and the record rank can need more than 62 bits: the keys are then
    # packed into several int64 and sorted together, not overflowed
    import numpy as np

    groups = np.array([1, 0, 1, 0])
    big = 2**40
    keys = [(np.array([5, big - 1, 5, 0]), big), (np.array([3, 2, 1, 0]), big)]
    order, starts = survivorship._sorted_first(groups, keys)
    assert order.tolist() == [3, 1, 2, 0] and starts.tolist() == [0, 2]
