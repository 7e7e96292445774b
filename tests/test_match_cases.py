"""The matching engine on the cases custinfo exists for: same person across channels, look-alikes apart."""

from __future__ import annotations

import pandas as pd
import pytest

from custinfo.match import Matcher, load_settings
from custinfo.normalize.frame import normalize_frame


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_settings())


def raw_frame(rows: list[dict]) -> pd.DataFrame:
    """Raw channel rows (source fields) -> normalized frame with record_id r1, r2, ..."""
    raw = pd.DataFrame(rows)
    out = normalize_frame(raw.drop(columns=["record_id"], errors="ignore"))
    out.insert(
        0, "record_id", raw["record_id"] if "record_id" in raw else [f"r{i + 1}" for i in range(len(raw))]
    )
    return out


BYSTANDERS = [  # unrelated people, so that a data set is more than the pair under test
    {"record_id": "b1", "name": "赵敏", "mobile": "13911112222", "city": "上海"},
    {"record_id": "b2", "name": "孙立", "mobile": "13722223333", "email": "sunli@163.com"},
    {"record_id": "b3", "name": "周杰", "mobile": "13633334444", "address": "广州市天河区体育西路1号"},
    {"record_id": "b4", "name": "吴芳", "mobile": "13544445555", "birth_date": "1990-05-06"},
]


def clusters_of(res) -> dict[str, str]:
    return dict(zip(res.clusters["record_id"], res.clusters["cluster_id"], strict=True))


def test_same_person_across_channels_merges(matcher):
    df = raw_frame(
        [
            {"record_id": "web", "name": "张伟", "mobile": "13800138000", "city": "北京"},
            {
                "record_id": "call",
                "name": "張偉 (先生)",
                "phone": "+86 138-0013-8000",
                "email": "zhangwei@qq.com",
            },
            {
                "record_id": "crm",
                "name": "Zhang Wei",
                "email": "ZhangWei@qq.com",
                "company": "华为技术有限公司",
            },
            *BYSTANDERS,
        ]
    )
    c = clusters_of(matcher.dedupe(df))
    assert c["web"] == c["call"] == c["crm"]
    assert len({c[b["record_id"]] for b in BYSTANDERS}) == len(BYSTANDERS)
    assert c["web"] not in {c[b["record_id"]] for b in BYSTANDERS}


def test_two_wang_wei_in_one_city_with_different_phones_stay_apart(matcher):
    df = raw_frame(
        [
            {"record_id": "w1", "name": "王伟", "mobile": "13912345678", "city": "北京", "gender": "男"},
            {"record_id": "w2", "name": "王伟", "mobile": "13687654321", "city": "北京", "gender": "男"},
            *BYSTANDERS,
        ]
    )
    c = clusters_of(matcher.dedupe(df))
    assert c["w1"] != c["w2"]


def test_colleagues_sharing_a_switchboard_stay_apart(matcher):
    card = {
        "company": "上海华信自动化设备有限公司",
        "address": "上海市浦东新区世纪大道100号国际大厦15层",
        "phone": "021-58881234",
    }
    df = raw_frame(
        [
            {"record_id": "c1", "name": "李娜", **card},
            {"record_id": "c2", "name": "王强", **card, "mobile": "13811110001"},
            {"record_id": "c3", "name": "陈静", **card},
            {"record_id": "c4", "name": "刘洋", **card, "mobile": "13811110002"},
            {"record_id": "c5", "name": "王强", "mobile": "13811110001", "email": "wq@163.com"},  # c2 again
            *BYSTANDERS,
        ]
    )
    c = clusters_of(matcher.dedupe(df))
    assert len({c["c1"], c["c2"], c["c3"], c["c4"]}) == 4
    assert c["c2"] == c["c5"]


def test_family_sharing_landline_and_address_stays_apart(matcher):
    home = {"phone": "020-87654321", "address": "广州市越秀区中山路88号3单元201室"}
    df = raw_frame(
        [
            {"record_id": "f1", "name": "陈建国", **home, "gender": "男", "birth_date": "1962-03-01"},
            {"record_id": "f2", "name": "刘秀英", **home, "gender": "女"},
            {"record_id": "f3", "name": "陈晓东", **home, "birth_date": "1990-11-20"},
            {"record_id": "f4", "name": "陈建国", "mobile": "13922223333", **home},  # the father again
            *BYSTANDERS,
        ]
    )
    c = clusters_of(matcher.dedupe(df))
    assert len({c["f1"], c["f2"], c["f3"]}) == 3
    assert c["f1"] == c["f4"]


def test_cannot_link_keeps_two_records_apart(matcher):
    df = raw_frame(
        [
            {"record_id": "a", "name": "张伟", "mobile": "13800138000"},
            {"record_id": "b", "name": "张伟", "mobile": "13800138000"},
            {"record_id": "c", "name": "张伟", "mobile": "13800138000", "email": "zw@qq.com"},
            *BYSTANDERS,
        ]
    )
    res = matcher.dedupe(df, cannot_link=[("a", "c")])
    c = clusters_of(res)
    assert c["a"] != c["c"]
    assert c["b"] in (c["a"], c["c"])


def test_must_link_joins_records_that_do_not_look_alike(matcher):
    df = raw_frame(
        [
            {"record_id": "x", "name": "张伟", "mobile": "13800138000"},
            {"record_id": "y", "name": "David Zhang", "email": "david@example.com"},
            *BYSTANDERS,
        ]
    )
    res = matcher.dedupe(df, must_link=[("x", "y")])
    c = clusters_of(res)
    assert c["x"] == c["y"]
    assert res.clusters.set_index("record_id").loc["x", "cluster_size"] == 2


def test_must_link_across_a_cannot_link_is_refused_and_reported(matcher):
    df = raw_frame(
        [
            {"record_id": "x", "name": "张伟", "mobile": "13800138000"},
            {"record_id": "y", "name": "李娜", "mobile": "13900139000"},
            {"record_id": "z", "name": "王芳", "mobile": "13700137000"},
            *BYSTANDERS,
        ]
    )
    res = matcher.dedupe(df, must_link=[("x", "y"), ("y", "z")], cannot_link=[("x", "z")])
    c = clusters_of(res)
    assert c["x"] == c["y"] and c["x"] != c["z"]
    assert [(d["a"], d["b"], d["kind"]) for d in res.conflicts] == [("y", "z", "must_link")]


def test_singletons_have_no_match_score_and_members_have_one(matcher):
    df = raw_frame(
        [
            {"record_id": "a", "name": "张伟", "mobile": "13800138000"},
            {"record_id": "b", "name": "張偉", "mobile": "+86 138 0013 8000"},
            *BYSTANDERS,
        ]
    )
    cl = matcher.dedupe(df).clusters.set_index("record_id")
    assert cl.loc["a", "match_score"] > 0.9 and cl.loc["a", "cluster_size"] == 2
    assert pd.isna(cl.loc["b1", "match_score"]) and cl.loc["b1", "cluster_size"] == 1


def test_explain_returns_each_comparison_level_and_weights(matcher):
    df = raw_frame(
        [
            {"record_id": "a", "name": "张伟", "mobile": "13800138000", "birth_date": "1985-03-02"},
            {
                "record_id": "b",
                "name": "張偉 (先生)",
                "phone": "+86 138-0013-8000",
                "birth_date": "1985-03-02",
            },
            *BYSTANDERS,
        ]
    )
    ex = matcher.explain(df.iloc[0], df.iloc[1], context=df)
    levels = {c["comparison"]: c for c in ex["comparisons"]}
    assert levels["phone"]["level"] == "same mobile" and levels["phone"]["weight"] > 10
    assert levels["birth_date"]["level"] == "exact"
    assert levels["name"]["level"] == "exact" and levels["name"]["values"]["name_key"] == ["张伟", "张伟"]
    assert levels["email"]["level"] == "missing" and levels["email"]["weight"] == 0
    total = ex["prior_weight"] + sum(c["weight"] + c["tf_adjustment"] for c in ex["comparisons"])
    assert ex["total_weight"] == pytest.approx(total)
    assert ex["match_probability"] > 0.99 and ex["rules_broken"] == []


def test_explain_names_the_rule_that_keeps_colleagues_apart(matcher):
    card = {"company": "华信科技", "phone": "021-58881234", "address": "上海市浦东新区世纪大道100号15层"}
    df = raw_frame(
        [
            {"record_id": "a", "name": "李娜", **card},
            {"record_id": "b", "name": "王强", **card},
            {"record_id": "c", "name": "陈静", **card},
            *BYSTANDERS,
        ]
    )
    ex = matcher.explain(df.iloc[0], df.iloc[1], context=df)
    assert "different names need a personal identifier" in ex["rules_broken"]
    assert ex["link_probability"] < 0.9


def test_uncertain_pairs_lie_in_the_review_band(matcher):
    df = raw_frame(
        [
            {"record_id": "a", "name": "欧阳娜娜", "city": "成都"},
            {"record_id": "b", "name": "欧阳娜娜", "city": "成都", "mobile": "13512345678"},
            *BYSTANDERS,
        ]
    )
    res = matcher.dedupe(df)
    unc = res.uncertain(0.3, 0.9)
    assert ((unc["match_probability"] >= 0.3) & (unc["match_probability"] <= 0.9)).all()
    # name and city alone never link (namesakes), so the pair waits for a person
    assert {("a", "b")} == set(zip(unc["record_id_l"], unc["record_id_r"], strict=True))
    assert clusters_of(res)["a"] != clusters_of(res)["b"]


def test_records_without_record_id_are_refused(matcher):
    from custinfo.errors import InputError

    with pytest.raises(InputError, match="record_id"):
        matcher.dedupe(pd.DataFrame({"name": ["张伟"]}))


def test_duplicate_record_ids_are_refused(matcher):
    from custinfo.errors import InputError

    with pytest.raises(InputError, match="unique"):
        matcher.dedupe(pd.DataFrame({"record_id": ["a", "a"], "name": ["张伟", "李娜"]}))


def test_address_lines_written_in_another_order_agree(matcher):
    """`17 Horsley Crescent, Annesley` = `17 Annesley, Horsley Crescent` (address lines swapped)."""
    base = {"name": "William Shepherd", "city": "Clayton", "postcode": "2203"}
    df = raw_frame(
        [
            {
                "record_id": "a",
                **base,
                "street_number": "17",
                "address_1": "Horsley Crescent",
                "address_2": "Annesley",
            },
            {
                "record_id": "b",
                **base,
                "street_number": "17",
                "address_1": "Annesley",
                "address_2": "Horsley Crescent",
            },
            {
                "record_id": "c",
                "name": "Jack Stubbs",
                "street_number": "150",
                "address_1": "Heard Street",
                "city": "St Agnes",
            },
            *BYSTANDERS,
        ]
    )
    ex = matcher.explain(df.iloc[0], df.iloc[1], context=df)
    levels = {c["comparison"]: c["level"] for c in ex["comparisons"]}
    assert levels["address"] == "same words in another order"
    c = clusters_of(matcher.dedupe(df))
    assert c["a"] == c["b"] != c["c"]


def test_address_tail_drops_a_city_written_with_a_space():
    """address_key runs `Sandy Bay` together: the tail after it must still be the street alone."""
    import duckdb
    import pyarrow as pa

    from custinfo.match.features import build_records

    df = raw_frame(
        [
            {
                "name": "Zachary Lodge",
                "street_number": "28",
                "address_1": "Monaro Highway",
                "city": "Sandy Bay",
            },
            {
                "name": "Zachary Lodge",
                "street_number": "28",
                "address_1": "Monaro Highway",
                "city": "Malvern East",
            },
        ]
    )
    con = duckdb.connect()
    cols = ["address_key", "province", "city", "district", "name_pinyin", "name_key"]
    src = pa.table(
        {
            "idx": [0, 1],
            "is_new": [True, True],
            "grp": [0, 0],
            **{c: pa.array(df[c].tolist(), pa.string()) for c in cols},
        }
    )
    con.register("src", src)
    build_records(con, "src", {"address_tail"}, set(), mobile_pattern="^$", shared_min_names=3)
    tails = [r[0] for r in con.sql("SELECT address_tail FROM recs ORDER BY idx").fetchall()]
    assert tails[0] == tails[1] and tails[0].startswith("28")


def test_surname_only_record_joins_the_person_whose_mobile_it_gives(matcher):
    """`王先生` (only the surname left) with 王伟's mobile is 王伟; on the family landline he stays apart."""
    home = {"phone": "020-87654321", "address": "广州市越秀区中山路88号3单元201室"}
    df = raw_frame(
        [
            {"record_id": "w", "name": "王伟", "mobile": "13912345678", **home},
            {"record_id": "f", "name": "王芳", **home},
            {"record_id": "g", "name": "王建国", **home},
            {"record_id": "mr", "name": "王先生", "mobile": "139 1234 5678"},
            {"record_id": "mr2", "name": "王先生", **home},
            *BYSTANDERS,
        ]
    )
    c = clusters_of(matcher.dedupe(df))
    assert c["mr"] == c["w"]
    assert len({c["w"], c["f"], c["g"]}) == 3
    assert c["mr2"] not in {c["w"], c["f"], c["g"]}  # which of the family? nothing says


def febrl_like(rows: list[dict]) -> pd.DataFrame:
    """FEBRL-style rows (first/last name, address lines, suburb, postcode, dob, soc_sec_id as other_id)."""
    from custinfo.normalize import NormalizeOptions

    raw = pd.DataFrame(rows)
    out = normalize_frame(raw.drop(columns=["record_id"]), NormalizeOptions(default_region="AU"))
    out.insert(0, "record_id", raw["record_id"])
    return out


AU_BYSTANDERS = [
    {"record_id": f"p{i}", "first_name": g, "last_name": s, "address": f"{i} {st}", "city": sub,
     "postcode": pc, "birth_date": dob, "other_id": sid}
    for i, (g, s, st, sub, pc, dob, sid) in enumerate([
        ("joshua", "white", "mckay street", "yass", "2582", "19610402", "4201388"),
        ("emily", "nguyen", "hodgson crescent", "ainslie", "2602", "19880919", "9135076"),
        ("liam", "brown", "florey drive", "macgregor", "2615", "19750111", "2837452"),
        ("olivia", "taylor", "ryrie street", "campbell", "2612", "19920605", "6350921"),
        ("noah", "martin", "bourke street", "goulburn", "2580", "19830314", "5518264"),
    ], start=1)
]


def test_passport_or_social_security_number_with_one_typo_links_febrl_duplicates(matcher):
    """FEBRL duplicates carry typos in names and in soc_sec_id: the number one edit away is still strong
    evidence (as it is for a national ID), so a record with two name typos, a birth date typo and no
    address joins its original."""
    df = febrl_like([
        {"record_id": "org", "first_name": "madeleine", "last_name": "ryan", "address": "12 kerr place",
         "city": "kambah", "postcode": "2902", "birth_date": "19700817", "other_id": "6988048"},
        {"record_id": "dup", "first_name": "madelyne", "last_name": "rayn", "postcode": "2902",
         "birth_date": "19700871", "other_id": "6988084"},
        *AU_BYSTANDERS,
    ])
    assert df["other_id"].tolist()[:2] == ["6988048", "6988084"]
    c = clusters_of(matcher.dedupe(df))
    assert c["org"] == c["dup"]
    # the number is what links them: without it the name typos, postcode and a birth date typo do not
    c = clusters_of(matcher.dedupe(df.assign(other_id=None)))
    assert c["org"] != c["dup"]
    assert len({c[b["record_id"]] for b in AU_BYSTANDERS} | {c["org"]}) == len(AU_BYSTANDERS) + 1
    ex = matcher.explain(df.iloc[0], df.iloc[1], context=df)
    level = {x["comparison"]: x for x in ex["comparisons"]}["other_id"]
    assert level["level"] == "one typo" and level["weight"] > 8


def test_different_other_ids_count_against_a_pair_without_vetoing_it(matcher):
    """Unlike two different valid resident IDs, two different passports/social security numbers are
    weighed (a typo beyond one edit happens) but are no veto: the same person with the same mobile,
    email and birth date still links."""
    df = raw_frame([
        {"record_id": "a", "name": "Li Na", "mobile": "13800138000", "email": "lina@example.com",
         "birth_date": "1990-03-07", "other_id": "E12345678"},
        {"record_id": "b", "name": "Li Na", "mobile": "13800138000", "email": "lina@example.com",
         "birth_date": "1990-03-07", "other_id": "G87654321"},
        *BYSTANDERS,
    ])
    res = matcher.dedupe(df)
    ex = matcher.explain(df.iloc[0], df.iloc[1], context=df)
    level = {x["comparison"]: x for x in ex["comparisons"]}["other_id"]
    assert level["level"] == "else" and level["weight"] < -3
    assert clusters_of(res)["a"] == clusters_of(res)["b"]


def test_other_id_alone_does_not_link_to_an_unrelated_chinese_record(matcher):
    """A record whose only identifier is another document never meets a Chinese resident ID: the two
    columns are compared apart, so a 7-digit number can never look like one typo of an 18-digit ID."""
    df = raw_frame([
        {"record_id": "a", "name": "张伟", "national_id": "110105199003071239"},
        {"record_id": "b", "name": "张伟", "other_id": "1101051"},
        *BYSTANDERS,
    ])
    c = clusters_of(matcher.dedupe(df))
    assert c["a"] != c["b"]
