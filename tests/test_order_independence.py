"""The customers must not depend on the order the channels' files arrive in: ingesting the four sample
channels one file at a time, in any order, groups the records exactly as ingesting them all at once
(issue 6). Records are named by file, sheet and row, which do not depend on the order."""
from pathlib import Path

import pytest

from custinfo.ingest.pipeline import ingest
from custinfo.store.store import Store
from custinfo.store.verify import verify_store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CHANNELS = ["web_form.csv", "call_center.csv", "trade_show.xlsx", "crm.xlsx"]


def partition(store: Path) -> set[frozenset]:
    s = Store(store)
    recs = s.frame("records", columns=["record_id", "source_file", "source_sheet", "source_row"])
    recs = recs.merge(s.frame("membership"), on="record_id")
    key = recs["source_file"] + "|" + recs["source_sheet"].fillna("") + "|" + recs["source_row"].astype(str)
    return {frozenset(g) for _, g in key.groupby(recs["customer_id"])}


@pytest.fixture(scope="module")
def all_at_once(tmp_path_factory):
    store = tmp_path_factory.mktemp("all_at_once")
    ingest([SAMPLES / f for f in CHANNELS], store=Store(store))
    return partition(store)


@pytest.mark.parametrize("order", [CHANNELS[::-1], [CHANNELS[i] for i in (2, 0, 3, 1)]],
                         ids=["reversed", "trade show first"])
def test_one_file_at_a_time_in_any_order_groups_records_as_all_at_once(order, all_at_once, tmp_path):
    for f in order:
        ingest([SAMPLES / f], store=Store(tmp_path))
    got = partition(tmp_path)
    assert sum(map(len, got)) == sum(map(len, all_at_once))
    assert got == all_at_once, f"{len(got ^ all_at_once)} clusters differ"
    assert verify_store(Store(tmp_path))["problems"] == []
