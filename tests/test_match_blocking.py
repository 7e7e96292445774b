"""Blocking plan, the giant-block guard, training, and two-list linkage."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from custinfo.match import Matcher, MatchModel, load_settings


def person(rid: str, name: str, pinyin: str, **kw) -> dict:
    """A normalized record written by hand (name_key = name, name_pinyin as normalize writes it)."""
    row = {"record_id": rid, "name": name, "name_key": name, "name_pinyin": pinyin}
    row.update(kw)
    if "phone" in row and "phones" not in row:
        row["phones"] = row["phone"]
    if "email" in row and "emails" not in row:
        row["emails"] = row["email"]
    return row


GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def switchboard_office(n: int = 150) -> pd.DataFrame:
    """n colleagues behind one switchboard; the first of them appears twice."""
    rows = []
    for i in range(n):
        name = SURNAMES[i % 20] + GIVEN[i // 20] + "文"  # distinct names, distinct letters
        pinyin = "a" * (i % 10 + 1) + "b" * (i // 10 + 1) + " wen"
        rows.append(person(f"s{i}", name, pinyin, phone="+862158881234", company_key="华信自动化"))
    rows.append(
        person(
            "s0-again", rows[0]["name"], rows[0]["name_pinyin"], phone="+862158881234", email="first@hx.com"
        )
    )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def office_result():
    s = load_settings()
    return Matcher(dataclasses.replace(s, max_block_size=20)).dedupe(switchboard_office())


def test_plan_reports_pairs_per_blocking_rule(office_result):
    plan = {p["rule"]: p for p in office_result.plan}
    assert set(plan) == {r.name for r in load_settings().blocking_rules}
    assert all(
        {"pairs", "new_pairs", "blocks", "largest_block", "capped_blocks", "refined_blocks"} <= set(p)
        for p in plan.values()
    )
    assert sum(p["new_pairs"] for p in plan.values()) == office_result.stats["pairs"]


def test_giant_block_is_split_by_the_refine_key_not_dropped(office_result):
    phone = next(p for p in office_result.plan if p["rule"] == "phone")
    assert phone["refined_blocks"] >= 1
    assert phone["pairs"] < 150 * 149 // 2 / 5  # far fewer than all pairs behind the switchboard
    c = dict(zip(office_result.clusters["record_id"], office_result.clusters["cluster_id"], strict=True))
    assert c["s0"] == c["s0-again"]  # the person's two cards still meet
    assert office_result.clusters["cluster_size"].max() == 2


def test_block_still_too_big_after_refining_is_windowed_and_reported():
    rows = [person(f"p{i}", "王伟", "wang wei", phone="+862158881234") for i in range(60)]
    s = dataclasses.replace(load_settings(), max_block_size=10, window=5)
    res = Matcher(s).dedupe(pd.DataFrame(rows))
    phone = next(p for p in res.plan if p["rule"] == "phone")
    assert phone["capped_blocks"] >= 1
    assert 0 < phone["pairs"] <= 60 * 5


def people_with_duplicates(n: int = 300) -> pd.DataFrame:
    rows = []
    for i in range(n):
        name = SURNAMES[i % 20] + GIVEN[(i // 20) % len(GIVEN)] + "文"
        base = dict(
            phone=f"+86138{i:08d}",
            birth_date=f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}",
            city=["北京市", "上海市", "广州市"][i % 3],
        )
        pinyin = "a" * (i % 20 + 1) + "b" * (i // 20 + 1) + " wen"
        rows.append(person(f"a{i}", name, pinyin, **base))
        if i % 2 == 0:
            rows.append(person(f"b{i}", name, pinyin, email=f"user{i}@qq.com", **base))
    return pd.DataFrame(rows)


def test_training_estimates_m_by_em_and_the_model_is_usable(tmp_path):
    df = people_with_duplicates()
    m = Matcher(load_settings())
    model = m.train(df)
    assert model.info["trained"] and model.info["rules"]
    assert 0 < model.params["birth_date"]["exact"]["m"] <= 1
    model.save(tmp_path / "model.json")
    trained = Matcher(m.settings, model=MatchModel.load(tmp_path / "model.json"))
    c = dict(zip(*trained.dedupe(df).clusters[["record_id", "cluster_id"]].T.values, strict=True))
    assert all(c[f"a{i}"] == c[f"b{i}"] for i in range(0, 300, 2))
    assert len(set(c.values())) == 300


def test_link_compares_only_across_the_two_lists():
    left = pd.DataFrame(
        [
            person("l1", "张伟", "wei zhang", phone="+8613800138000"),
            person("l2", "张伟", "wei zhang", phone="+8613800138000"),
        ]
    )
    right = pd.DataFrame([person("r1", "张伟", "wei zhang", phone="+8613800138000")])
    res = Matcher(load_settings()).link(left, right)
    assert set(zip(res.pairs["record_id_l"], res.pairs["record_id_r"], strict=True)) == {
        ("l1", "r1"),
        ("l2", "r1"),
    }
