"""An ingest leaves out of fold the customers it re-clusters exactly as they were (one group holds all
their records and nothing else): their rows are not read, folded or written, and the store comes out
as if they had been folded."""
from pathlib import Path

import pandas as pd

from custinfo.ingest import pipeline
from custinfo.ingest.pipeline import ingest
from custinfo.merge.fold import Assignment, unchanged_customers
from custinfo.store.store import Store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _assignment(groups: dict, before: dict) -> Assignment:
    return Assignment(group=pd.Series(groups), before=pd.Series(before, dtype=object),
                      score=pd.Series(1.0, index=list(groups)), unmet={"C2"})


def test_only_a_customer_whole_and_alone_in_its_group_is_unchanged():
    a = _assignment(
        {"r1": 0, "r2": 0,  # C1 whole, alone: unchanged
         "r3": 1, "n1": 1,  # C2 joined by a new record
         "r4": 2, "r5": 3,  # C3 split in two groups of its own records
         "r6": 4, "r7": 4,  # C4 and C5 merged
         "r8": 5},  # C6 alone, but it has a record the neighbourhood left out (stored size 2)
        {"r1": "C1", "r2": "C1", "r3": "C2", "r4": "C3", "r5": "C3", "r6": "C4", "r7": "C5", "r8": "C6"})
    sizes = {"C1": 2, "C2": 1, "C3": 2, "C4": 1, "C5": 1, "C6": 2}
    asked = []

    def stored_sizes(customers):
        asked.append(customers)
        return pd.Series({c: sizes[c] for c in customers})

    assert unchanged_customers(a, stored_sizes) == {"C1"}
    assert asked == [{"C1", "C3", "C6"}]  # only the customers of groups holding nothing else
    rest = a.without({"C1"})
    assert list(rest.group.index) == ["r3", "n1", "r4", "r5", "r6", "r7", "r8"]
    assert "r1" not in rest.before.index and "r1" not in rest.score.index
    assert rest.customers == {"C2", "C3", "C4", "C5", "C6"}
    assert a.without(set()) is a


def _state(store: Path) -> dict:
    s = Store(store)
    out = {}
    for t in ("membership", "customers", "history", "redirects"):
        df = s.frame(t)
        # when it happened differs between the two runs: the times, and the batch ids made of them
        df = df[[c for c in df.columns if not (c.endswith("_at") or c in ("at", "batch_id", "first_seen",
                                                                         "last_seen"))]]
        cols = sorted(df.columns)
        out[t] = df[cols].astype(str).sort_values(cols).reset_index(drop=True)
    return out


def test_leaving_unchanged_customers_out_of_fold_changes_nothing_in_the_store(tmp_path, monkeypatch):
    files = [SAMPLES / "web_form.csv", SAMPLES / "call_center.csv", SAMPLES / "crm.xlsx"]
    seen = []
    real = pipeline.unchanged_customers

    def spy(assignment, sizes):
        got = real(assignment, sizes)
        seen.append(len(got))
        return got

    monkeypatch.setattr(pipeline, "unchanged_customers", spy)
    for f in files:
        ingest([f], store=Store(tmp_path / "narrowed"))
    assert sum(seen) > 0, "the samples should re-cluster some customers as they were"
    monkeypatch.setattr(pipeline, "unchanged_customers", lambda assignment, sizes: set())
    for f in files:
        ingest([f], store=Store(tmp_path / "all"))
    a, b = _state(tmp_path / "narrowed"), _state(tmp_path / "all")
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)
