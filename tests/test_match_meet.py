"""Which existing customers a batch re-clusters in a big store (incremental.meet_at): those with a
pair of some weight with a new record, not every customer that merely shares a block with one."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from records import normalized as frame

from custinfo.errors import ConfigError
from custinfo.match import Matcher, load_settings
from custinfo.match.score import weight_of
from custinfo.match.settings import settings_from_dict

EXISTING = [
    {"record_id": "e1", "customer_id": "C1", "name": "张伟", "mobile": "13800138000", "city": "北京",
     "birth_date": "1980-01-01"},
    {"record_id": "e1b", "customer_id": "C1", "name": "张伟", "mobile": "13800138000",
     "email": "zhangwei@qq.com"},
    # the same name, nothing else alike: a candidate pair of the name block, far below the review band
    {"record_id": "e2", "customer_id": "C2", "name": "张伟", "mobile": "13911112222", "city": "广州",
     "birth_date": "1975-05-05"},
    {"record_id": "e2b", "customer_id": "C2", "name": "张伟", "mobile": "13911112222", "city": "广州",
     "company": "华信科技"},
    {"record_id": "e3", "customer_id": "C3", "name": "李娜", "mobile": "13700137000", "city": "上海"},
]
NEW = [{"record_id": "n1", "name": "张伟", "mobile": "+86 138-0013-8000", "city": "北京"}]


def resolve(meet_at: float):
    # every store is "big" (resolve_all_up_to=0): only the batch's neighbourhood is re-clustered
    s = dataclasses.replace(load_settings(), resolve_all_up_to=0, meet_at=meet_at)
    return Matcher(s).resolve(frame(NEW), frame(EXISTING))


def weights(res) -> dict[frozenset, float]:
    f = res.scored.frame()
    pairs = zip(f["record_id_l"], f["record_id_r"], f["match_weight"], strict=True)
    return {frozenset((a, b)): w for a, b, w in pairs}


def test_a_customer_met_only_by_a_weak_candidate_pair_is_left_as_stored():
    res = resolve(0.01)
    cl = res.clusters.set_index("record_id")
    assert set(cl.index) == {"n1", "e1", "e1b"}  # all of C1 (a strong pair), nothing of C2
    assert cl.loc["n1", "group"] == cl.loc["e1", "group"] == cl.loc["e1b", "group"]
    assert frozenset({"n1", "e2"}) not in weights(res)  # nor is its pair among those scored


def test_meet_at_zero_re_clusters_every_customer_a_candidate_pair_meets():
    cl = resolve(0.0).clusters.set_index("record_id")
    assert {"n1", "e1", "e1b", "e2", "e2b"} <= set(cl.index)  # C2 too: it shares the name block
    assert cl.loc["n1", "group"] == cl.loc["e1", "group"] != cl.loc["e2", "group"]


def test_the_weak_pair_is_weak_under_either_setting():
    """Guards the fixture: the pair left out above is far below meet_at, not a borderline one."""
    w = weights(resolve(0.0))
    assert max(w[frozenset({"n1", "e2"})], w[frozenset({"n1", "e2b"})]) < weight_of(0.002)  # p < 0.002
    assert w[frozenset({"n1", "e1"})] >= weight_of(0.9)


@pytest.mark.parametrize(("meet_at", "expected"), [(0.99, 0.3), (0.01, 0.01), (0.0, None)])
def test_meet_at_never_leaves_out_a_pair_of_the_review_band(meet_at, expected):
    s = dataclasses.replace(load_settings(), meet_at=meet_at, review_low=0.3, threshold=0.9)
    got = Matcher(s)._meet_weight()
    assert got == (None if expected is None else pytest.approx(weight_of(expected)))


def test_meet_at_outside_zero_to_one_is_reported_with_the_key():
    with pytest.raises(ConfigError, match="incremental.meet_at"):
        settings_from_dict({"incremental": {"meet_at": 1.5}})


def test_the_same_customers_are_joined_with_meet_at_as_without(tmp_path):
    """The new records of a generated batch join the same stored customers whether weakly met
    customers are re-clustered or not (10k into 1M: 10,000 of 10,000)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from gen_people import generate

    from custinfo.normalize.frame import normalize_frame

    raw = generate(3000, 5)
    df = normalize_frame(raw.drop(columns=["record_id", "person_id", "channel"]))
    df["record_id"] = [f"r{i:05d}" for i in range(len(df))]
    s = dataclasses.replace(load_settings(), resolve_all_up_to=0)
    old = df.iloc[300:].reset_index(drop=True)
    first = Matcher(s).dedupe(old).clusters.set_index("record_id")["cluster_id"]
    old["customer_id"] = [f"C{g}" for g in first.loc[old["record_id"]]]
    new = df.iloc[:300].reset_index(drop=True)

    sizes = {}

    def joined(meet_at):
        res = Matcher(dataclasses.replace(s, meet_at=meet_at)).resolve(new, old)
        cl = res.clusters
        sizes[meet_at] = res.stats["resolved_records"]
        stored = cl.dropna(subset=["customer_id"]).groupby("group")["customer_id"].apply(frozenset).to_dict()
        mine = cl[cl["record_id"].isin(set(new["record_id"]))]
        return {r: stored.get(g, frozenset()) for r, g in zip(mine["record_id"], mine["group"], strict=True)}

    with_meet, every = joined(0.01), joined(0.0)
    assert len(with_meet) == len(new)
    assert with_meet == every
    assert sizes[0.01] < sizes[0.0]  # while fewer stored records were re-clustered
    assert pd.Series([len(v) for v in every.values()]).gt(0).sum() > 50  # the batch does join customers
