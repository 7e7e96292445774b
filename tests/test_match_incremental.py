"""Matching a new batch against existing customers: customers stay whole, joins and merges are reported."""

from __future__ import annotations

import pandas as pd
import pytest
from records import normalized as frame

from custinfo.match import Matcher, load_settings


@pytest.fixture(scope="module")
def existing() -> pd.DataFrame:
    return frame(
        [
            {"record_id": "e1", "customer_id": "C1", "name": "张伟", "mobile": "13800138000", "city": "北京"},
            # C1 also holds a record that looks nothing like the newcomer below: it must not be split off
            {
                "record_id": "e2",
                "customer_id": "C1",
                "name": "張偉",
                "email": "zw@qq.com",
                "address": "北京市朝阳区建国路88号",
            },
            {
                "record_id": "e3",
                "customer_id": "C2",
                "name": "李娜",
                "mobile": "13900139000",
                "email": "lina@163.com",
            },
            {"record_id": "e4", "customer_id": "C3", "name": "王芳", "mobile": "13700137000"},
            {
                "record_id": "e5",
                "customer_id": "C4",
                "name": "李娜",
                "email": "lina.work@hx.com",
                "company": "华信科技",
            },
        ]
    )


@pytest.fixture(scope="module")
def result(existing):
    new = frame(
        [
            {"record_id": "n1", "name": "张伟", "mobile": "+86 138-0013-8000"},  # joins C1
            {"record_id": "n2", "name": "赵敏", "mobile": "13611112222"},  # a new customer
            {
                "record_id": "n3",
                "name": "赵敏",
                "mobile": "136 1111 2222",
                "city": "上海",
            },  # same new customer
            {
                "record_id": "n4",
                "name": "李娜",
                "mobile": "13900139000",
                "email": "lina.work@hx.com",
            },  # C2 + C4
        ]
    )
    return Matcher(load_settings()).match_incremental(new, existing)


def groups_by_record(res) -> dict[str, int]:
    return dict(zip(res.assign["record_id"], res.assign["group"], strict=True))


def test_assign_lists_only_the_new_records(result):
    assert sorted(result.assign["record_id"]) == ["n1", "n2", "n3", "n4"]


def test_new_record_joins_its_existing_customer(result):
    g = groups_by_record(result)
    assert result.group_customers[g["n1"]] == ["C1"]


def test_new_records_of_one_new_customer_share_a_group_with_no_customer(result):
    g = groups_by_record(result)
    assert g["n2"] == g["n3"]
    assert result.group_customers[g["n2"]] == []


def test_evidence_joining_two_existing_customers_is_reported_as_a_merge(result):
    g = groups_by_record(result)
    assert result.group_customers[g["n4"]] == ["C2", "C4"]
    assert result.stats["merges"] == 1


def test_existing_customers_are_never_split(existing):
    # e2 of C1 shares nothing with the newcomer, yet C1 joins as a whole, once
    new = frame([{"record_id": "n9", "name": "张伟", "mobile": "13800138000"}])
    res = Matcher(load_settings()).match_incremental(new, existing)
    assert res.group_customers == {0: ["C1"]}


def test_cannot_link_keeps_a_new_record_out_of_a_customer(existing):
    new = frame([{"record_id": "n9", "name": "张伟", "mobile": "13800138000"}])
    res = Matcher(load_settings()).match_incremental(new, existing, cannot_link=[("n9", "e2")])
    assert res.group_customers == {0: []}


def test_must_link_joins_a_new_record_to_a_customer(existing):
    new = frame([{"record_id": "n9", "name": "Someone Else", "email": "x@example.com"}])
    res = Matcher(load_settings()).match_incremental(new, existing, must_link=[("n9", "e4")])
    assert res.group_customers == {0: ["C3"]}


def test_existing_records_need_a_customer_id(existing):
    from custinfo.errors import InputError

    with pytest.raises(InputError, match="customer_id"):
        Matcher(load_settings()).match_incremental(
            existing.drop(columns=["customer_id"]), existing.drop(columns=["customer_id"])
        )


@pytest.mark.parametrize("how", ["match_incremental", "resolve"])
def test_a_record_id_in_the_batch_and_the_store_is_refused_by_name(existing, how):
    from custinfo.errors import InputError

    new = frame([{"record_id": "e3", "name": "李娜", "mobile": "13900139000"}])
    with pytest.raises(InputError, match="repeated: e3"):
        getattr(Matcher(load_settings()), how)(new, existing)


def test_resolve_names_each_re_clustered_record_by_its_id(existing):
    """resolve keeps ids as Arrow text in its own record order: the clusters must carry the right ids."""
    new = frame([{"record_id": "n1", "name": "张伟", "mobile": "+86 138-0013-8000"}])
    # stored out of id order (not a mere reversal, which is its own inverse)
    res = Matcher(load_settings()).resolve(new, existing.iloc[[2, 0, 1, 3, 4]].reset_index(drop=True))
    cl = res.clusters.set_index("record_id")
    assert set(cl.index) == {"n1", "e1", "e2", "e3", "e4", "e5"}
    assert cl.loc["e1", "customer_id"] == "C1" and cl.loc["e5", "customer_id"] == "C4"
    assert cl.loc["n1", "group"] == cl.loc["e1", "group"] != cl.loc["e3", "group"]  # the same mobile


def test_resolve_treats_a_batch_of_a_tenth_of_the_records_as_small(existing, monkeypatch):
    """A small batch (<= 10% of the records matched) lets DuckDB use engine.memory_limit_small_batch;
    a first ingest (or any large batch) keeps engine.memory_limit, which bounds its peak."""
    seen = []
    real = Matcher._connect

    def spy(self, small_batch=False):
        seen.append(small_batch)
        return real(self, small_batch)

    monkeypatch.setattr(Matcher, "_connect", spy)
    stored = pd.concat([existing, existing.assign(record_id=existing["record_id"] + "b")], ignore_index=True)
    new = frame([{"record_id": "n1", "name": "张伟", "mobile": "+86 138-0013-8000"}])
    Matcher(load_settings()).resolve(new, stored)  # 1 of 11 records
    Matcher(load_settings()).resolve(new, existing)  # 1 of 6
    Matcher(load_settings()).resolve(stored.drop(columns="customer_id"), stored.iloc[:0])  # a first ingest
    assert seen == [True, False, False]


def test_repeated_ids_are_found_by_sorting_and_named_once_each():
    import pyarrow as pa

    from custinfo.errors import InputError
    from custinfo.match.incremental import refuse_repeated_ids

    refuse_repeated_ids(pa.array(["b", "a", "c"]), sort=True)  # all distinct: nothing raised
    refuse_repeated_ids(pa.array([], pa.string()), sort=True)
    with pytest.raises(InputError, match=r"repeated: a, c$"):
        refuse_repeated_ids(pa.array(["c", "a", "b", "a", "c", "a"]), sort=True)
