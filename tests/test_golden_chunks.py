"""Golden records of a large batch are built as Arrow columns, never as python objects (a first ingest
of a million records held them all as python objects and set the ingest's peak memory): the stored
customers, golden values, provenance and history must be exactly those of the python-object path."""
from pathlib import Path

import pandas as pd

from custinfo.ingest.pipeline import ingest
from custinfo.merge import fold
from custinfo.store.store import Store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FILES = ["web_form.csv", "call_center.csv", "trade_show.xlsx", "crm.xlsx", "purchased_list.csv"]
VOLATILE = ["updated_at", "changed_at", "first_seen", "last_seen", "batch_id", "_v"]


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    s = Store(store)
    out = {}
    for name, key in (("customers", ["customer_id"]), ("history", ["customer_id", "field", "reason"])):
        df = s.frame(name)
        df = df.drop(columns=[c for c in VOLATILE if c in df.columns])
        out[name] = df.sort_values(key + list(df.columns.difference(key)), kind="stable").reset_index(drop=True)
    return out


def test_golden_records_built_as_arrow_columns_equal_the_python_object_ones(tmp_path, monkeypatch):
    ingest([SAMPLES / f for f in FILES], store=tmp_path / "whole")
    monkeypatch.setattr(fold, "GOLDEN_ARROW_RECORDS", 60)  # ~1000 records -> the Arrow path
    seen = []
    real = fold.golden_columns
    monkeypatch.setattr(fold, "golden_columns", lambda recs, *a: seen.append(len(recs)) or real(recs, *a))
    monkeypatch.setattr(fold, "golden_records", None)  # not called
    ingest([SAMPLES / f for f in FILES], store=tmp_path / "sliced")
    assert len(seen) == 1 and seen[0] > 900
    whole, sliced = _tables(tmp_path / "whole"), _tables(tmp_path / "sliced")
    for name in whole:
        pd.testing.assert_frame_equal(sliced[name], whole[name], check_dtype=False)


def test_customers_sorted_one_column_at_a_time_equal_sort_values():
    # _replace_rows sorts the new customers column by column (sort_values copied all ~50 columns of
    # half a million golden records at once, the peak of a first 1M ingest): same rows, same dtypes
    from custinfo.store.tables import ARROW_TEXT

    df = pd.DataFrame({"customer_id": ["C3", "C1", "C2", "C1"], "name": pd.Series(["c", "a", None, "a2"], dtype=ARROW_TEXT),
                       "n": pd.array([3, 1, None, 4], dtype="Int64"), "o": ["x", None, "z", "w"],
                       "f": [0.3, 0.1, 0.2, 0.4]})
    want = df.sort_values("customer_id", kind="stable").reset_index(drop=True)
    got = fold._sort_in_place(df.copy(), "customer_id")
    pd.testing.assert_frame_equal(got, want)
    already = want.copy()
    assert fold._sort_in_place(already, "customer_id") is already  # sorted: left as it is


def test_arrow_golden_records_come_out_in_customer_id_order(tmp_path, monkeypatch):
    # the sort of the new customers that follows (half a million rows of ~50 columns on a first 1M
    # ingest, the peak of its memory) is skipped when the golden records are already in id order
    monkeypatch.setattr(fold, "GOLDEN_ARROW_RECORDS", 60)
    made, sorts = [], []
    real_golden, real_sort = fold._golden_table, fold._sort_in_place
    monkeypatch.setattr(fold, "_golden_table", lambda *a: made.append(real_golden(*a)) or made[-1])
    monkeypatch.setattr(fold, "_sort_in_place",
                        lambda df, key: sorts.append(df[key].is_monotonic_increasing) or real_sort(df, key))
    ingest([SAMPLES / f for f in FILES], store=tmp_path / "s")
    ids = made[0]["customer_id"].tolist()
    assert len(ids) > 100 and ids == sorted(ids)
    assert sorts == [True]


def test_stacked_rows_equal_concat_as_python_objects():
    # fold stacks frames of python objects and Arrow text into one block (pd.concat checked each
    # value of a mixed column for NA in python): the same values, None for missing, Int64 integers
    import numpy as np

    from custinfo.store.tables import ARROW_TEXT

    a = pd.DataFrame({"customer_id": ["C3", "C1"], "name": ["x", None],
                      "n_records": pd.array([1, None], dtype="Int64"), "only_a": ["p", "q"]})
    b = pd.DataFrame({"customer_id": pd.Series(["C2", "C1"], dtype=ARROW_TEXT),
                      "name": pd.Series([None, "y"], dtype=ARROW_TEXT), "n_records": [2, 5]})
    def objects(values):  # python objects under pandas 3 too (it would infer its str dtype)
        return pd.Series(values, dtype=object)

    want = pd.DataFrame({"customer_id": objects(["C3", "C1", "C2", "C1"]),
                         "name": objects(["x", None, None, "y"]),
                         "n_records": pd.array([1, None, 2, 5], dtype="Int64"),
                         "only_a": objects(["p", "q", None, None])})
    pd.testing.assert_frame_equal(fold._stack(a, b), want)
    order = np.array([1, 3, 2, 0])
    pd.testing.assert_frame_equal(fold._stack(a, b, order=order), want.iloc[order].reset_index(drop=True))


def test_records_with_their_customer_leave_the_callers_frame_as_it_was():
    recs = pd.DataFrame({"record_id": ["r1", "r2", "r3"], "name": ["a", "b", "c"],
                         "customer_id": ["X", "X", "X"]}, index=[5, 6, 7])
    members = pd.DataFrame({"record_id": ["r3", "r1"], "customer_id": ["C1", "C2"]})
    before = recs.copy()
    got = fold._with_customer(recs, members)
    assert got.to_dict("list") == {"record_id": ["r1", "r3"], "name": ["a", "c"], "customer_id": ["C2", "C1"]}
    assert isinstance(got.index, pd.RangeIndex)
    plain = recs.drop(columns=["customer_id"])
    got = fold._with_customer(plain, pd.DataFrame({"record_id": ["r3", "r2", "r1"],
                                                   "customer_id": ["C1", "C3", "C9"]}))
    assert got["customer_id"].tolist() == ["C9", "C3", "C1"] and got.index.tolist() == [0, 1, 2]
    assert list(got.columns) == ["record_id", "name", "customer_id"]
    assert list(plain.columns) == ["record_id", "name"] and plain.index.tolist() == [5, 6, 7]
    pd.testing.assert_frame_equal(recs, before)


def test_in_set_is_isin_for_text_in_arrow():
    # fold's membership tests on a million customer ids run in Arrow (pandas' isin hashed python strings)
    from custinfo.store.tables import ARROW_TEXT

    ids = ["C1", None, "C3", "C2"]
    for values in (pd.Series(ids, dtype=object), pd.Series(ids, dtype=ARROW_TEXT),
                   pd.Series([], dtype=object)):
        for keys in ({"C1", "C2"}, set(), {"C9"}):
            assert fold.in_set(values, keys).tolist() == values.isin(keys).tolist()
