"""Golden records across ingests: stable ids, redirects after merges, decisions that persist,
history of changed values, and the commands people use to look at one customer."""

import dataclasses

import pytest

import custinfo.ingest.pipeline as pipeline
import custinfo.match as match
from custinfo.errors import CustinfoError
from custinfo.ingest.pipeline import ingest
from custinfo.merge.decisions import link, retire, split, unlink
from custinfo.merge.fold import REDECIDED_REASON
from custinfo.merge.lookup import customer_history, show_customer
from custinfo.report import build_report
from custinfo.report.exports import export_frame
from custinfo.store.store import Store
from custinfo.store.verify import verify_store


def csv(path, header, *rows):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def cid_of(store, name):
    r = export_frame(Store(store), "records")
    return set(r.loc[r["name"] == name, "customer_id"])


@pytest.fixture()
def resolve_mode(request, monkeypatch):
    """Small stores are re-clustered whole on every ingest, big ones only around the batch: the tests
    marked `both_modes` run both ways (the second as if the store were big)."""
    if request.param == "neighbourhood":
        import dataclasses

        import custinfo.match as match

        load = match.load_settings
        monkeypatch.setattr(
            match, "load_settings", lambda *a: dataclasses.replace(load(*a), resolve_all_up_to=0)
        )
    return request.param


both_modes = pytest.mark.parametrize("resolve_mode", ["whole store", "neighbourhood"], indirect=True)


@pytest.fixture()
def store(tmp_path):
    s = tmp_path / "store"
    ingest(
        [
            csv(
                tmp_path / "a.csv",
                "姓名,手机,邮箱,地址",
                "张伟,13800138000,zw@example.com,北京市朝阳区建国路1号",
                "李娜,13900139000,ln@example.com,上海市浦东新区张江路5号",
            )
        ],
        store=s,
        channel="web_form",
    )
    return s


@both_modes
def test_existing_customer_keeps_id_when_new_record_joins(store, tmp_path, resolve_mode):
    before = cid_of(store, "张伟")
    ingest(
        [csv(tmp_path / "b.csv", "客户姓名,来电号码", "張偉 (先生),+86 138-0013-8000")],
        store=store,
        channel="call_center",
    )
    r = export_frame(Store(store), "records")
    assert set(r.loc[r["phone"] == "+8613800138000", "customer_id"]) == before
    assert verify_store(Store(store))["problems"] == []


@both_modes
def test_unrelated_ingest_changes_no_id(store, tmp_path, resolve_mode):
    recs = export_frame(Store(store), "records")
    ids = dict(zip(recs["record_id"], recs["customer_id"], strict=True))
    ingest([csv(tmp_path / "c.csv", "姓名,手机", "赵六,13700137000")], store=store)
    after = export_frame(Store(store), "records")
    assert all(after.set_index("record_id").loc[k, "customer_id"] == v for k, v in ids.items())
    new = after[after["name"] == "赵六"]["customer_id"].iloc[0]
    assert new not in ids.values()  # never reused


@pytest.fixture()
def fold_results(monkeypatch):
    """Every FoldResult the ingests of a test produce."""
    out, real = [], pipeline.fold

    def spy(*a, **kw):
        out.append(real(*a, **kw))
        return out[-1]

    monkeypatch.setattr(pipeline, "fold", spy)
    return out


@both_modes
def test_unrelated_ingest_changes_only_the_new_customers_row(store, tmp_path, fold_results, resolve_mode):
    before = Store(store).frame("customers").set_index("customer_id")
    ingest([csv(tmp_path / "c.csv", "姓名,手机", "赵六,13700137000")], store=store)
    new = cid_of(store, "赵六").pop()
    assert fold_results[-1].changed_customers == {new}
    after = Store(store).frame("customers").set_index("customer_id")
    assert after.loc[before.index, "updated_at"].equals(before["updated_at"])


@both_modes
def test_customer_the_batch_never_meets_is_only_redecided_in_a_whole_store_and_says_why(
    tmp_path, monkeypatch, resolve_mode
):
    real = match.load_settings
    monkeypatch.setattr(
        match,
        "load_settings",
        lambda *a, **kw: dataclasses.replace(real(*a, **kw), threshold=1e-9, consistency=-1e9, rules=()),
    )
    s = tmp_path / "store"
    ingest(
        [csv(tmp_path / "a.csv", "姓名,手机", "张伟,13800138000", "李娜,13800138000")],
        store=s,
        channel="web_form",
    )
    (cid,) = cid_of(s, "张伟") | cid_of(s, "李娜")
    monkeypatch.setattr(match, "load_settings", real)
    ingest([csv(tmp_path / "c.csv", "姓名,手机", "赵六,13700137000")], store=s)
    if resolve_mode == "neighbourhood":
        assert cid_of(s, "张伟") | cid_of(s, "李娜") == {cid}
    else:
        assert len(cid_of(s, "张伟") | cid_of(s, "李娜")) == 2
        h = customer_history(Store(s), cid)
        assert set(h.loc[h["field"] == "*", "reason"]) - {"created"} == {REDECIDED_REASON}
    assert verify_store(Store(s))["problems"] == []


@both_modes
def test_customer_split_by_new_evidence_keeps_its_id_on_the_larger_part(
    tmp_path, monkeypatch, fold_results, resolve_mode
):
    # a customer merged under looser settings: one phone, two different people
    real = match.load_settings
    monkeypatch.setattr(
        match,
        "load_settings",
        lambda *a, **kw: dataclasses.replace(real(*a, **kw), threshold=1e-9, consistency=-1e9, rules=()),
    )
    s = tmp_path / "store"
    ingest(
        [
            csv(
                tmp_path / "a.csv",
                "姓名,手机,邮箱",
                "张伟,13800138000,zw@example.com",
                "张伟,13800138000,",
                "李娜,13800138000,ln@example.com",
            )
        ],
        store=s,
        channel="web_form",
    )
    (cid,) = cid_of(s, "张伟") | cid_of(s, "李娜")
    monkeypatch.setattr(match, "load_settings", real)
    ingest([csv(tmp_path / "b.csv", "客户姓名,来电号码", "張偉,13800138000")], store=s, channel="call_center")
    assert cid_of(s, "张伟") == {cid}  # the larger part keeps the id
    (other,) = cid_of(s, "李娜")
    assert other != cid
    for c in (cid, other):
        h = customer_history(Store(s), c)
        moved = h[h["reason"] == "split by new evidence"]
        assert list(zip(moved["old_value"], moved["new_value"], strict=True)) == [(cid, other)]
    assert {cid, other} <= fold_results[-1].changed_customers
    assert verify_store(Store(s))["problems"] == []


@both_modes
def test_new_record_joining_two_customers_merges_them_into_the_oldest_and_redirects(tmp_path, resolve_mode):
    s = tmp_path / "store"
    ingest([csv(tmp_path / "a.csv", "姓名,手机", "张伟,13800138000")], store=s, channel="web_form")
    ingest([csv(tmp_path / "b.csv", "姓名,邮箱", "张伟,zw@example.com")], store=s, channel="crm")
    (old,), (young,) = (
        set(export_frame(Store(s), "records").query(f"source_file == '{f}'")["customer_id"])
        for f in ("a.csv", "b.csv")
    )
    assert old < young
    ingest([csv(tmp_path / "c.csv", "姓名,手机,邮箱", "张伟,13800138000,zw@example.com")], store=s)
    assert set(export_frame(Store(s), "records")["customer_id"]) == {old}
    shown = show_customer(Store(s), young)
    assert shown["customer_id"] == old and shown["redirected_from"] == young
    assert verify_store(Store(s))["problems"] == []


def test_evidence_joining_two_customers_merges_and_redirects(store, tmp_path):
    zw, ln = cid_of(store, "张伟").pop(), cid_of(store, "李娜").pop()
    link(Store(store), zw, ln, note="test")
    survivor, gone = sorted((zw, ln))
    shown = show_customer(Store(store), gone)
    assert shown["customer_id"] == survivor and shown["redirected_from"] == gone
    assert verify_store(Store(store))["problems"] == []


@both_modes
def test_unlink_splits_and_survives_reingest(store, tmp_path, resolve_mode):
    f = csv(tmp_path / "dup.csv", "姓名,手机", "张伟,13800138000")
    ingest([f], store=store)
    recs = export_frame(Store(store), "records")
    zw = recs[recs["phone"] == "+8613800138000"]
    assert zw["customer_id"].nunique() == 1 and len(zw) == 2
    a, b = sorted(zw["record_id"])
    unlink(Store(store), a, b)
    recs = export_frame(Store(store), "records").set_index("record_id")
    assert recs.loc[a, "customer_id"] != recs.loc[b, "customer_id"]
    ingest([f], store=store, force=True)  # the same evidence again must not undo the decision
    recs = export_frame(Store(store), "records").set_index("record_id")
    assert recs.loc[a, "customer_id"] != recs.loc[b, "customer_id"]
    assert verify_store(Store(store))["problems"] == []


@both_modes
def test_link_survives_reingest(store, tmp_path, resolve_mode):
    zw, ln = cid_of(store, "张伟").pop(), cid_of(store, "李娜").pop()
    link(Store(store), zw, ln)
    ingest([csv(tmp_path / "more.csv", "姓名,手机", "李娜,13900139000")], store=store)
    recs = export_frame(Store(store), "records")
    assert recs["customer_id"].nunique() == 1


def test_split_undoes_last_merge(store):
    zw, ln = cid_of(store, "张伟").pop(), cid_of(store, "李娜").pop()
    link(Store(store), zw, ln)
    res = split(Store(store), min(zw, ln))
    recs = export_frame(Store(store), "records")
    assert recs["customer_id"].nunique() == 2 and res.changed
    assert verify_store(Store(store))["problems"] == []


def test_split_with_nothing_to_split_says_how(store):
    with pytest.raises(CustinfoError) as exc:
        split(Store(store), cid_of(store, "李娜").pop())
    assert "--records" in exc.value.one_line()


def test_changed_address_is_in_history_with_its_source(store, tmp_path):
    cid = cid_of(store, "张伟").pop()
    ingest(
        [
            csv(
                tmp_path / "moved.csv",
                "姓名,手机,地址,提交时间",
                "张伟,13800138000,北京市海淀区中关村大街27号,2030-01-01 10:00:00",
            )
        ],
        store=store,
        channel="crm",
    )
    h = customer_history(Store(store), cid)
    addr = h[h["field"] == "address"]
    assert len(addr) == 1
    row = addr.iloc[0]
    assert row["old_value"] == "北京市朝阳区建国路1号" and "中关村" in row["new_value"]
    assert row["source_file"] == "moved.csv" and row["source_row"] == 2 and row["channel"] == "crm"
    changes = build_report("changes", store=store).to_dict()["tables"]["changes"]
    assert any(c["field"] == "address" for c in changes)


def test_golden_provenance_names_record_file_and_row(store):
    shown = show_customer(Store(store), cid_of(store, "李娜").pop())
    p = shown["provenance"]["phone"]
    assert p["source_file"] == "a.csv" and p["source_row"] == 3 and p["channel"] == "web_form"


def test_conflicting_birth_dates_are_kept_and_reported(store, tmp_path):
    ingest(
        [csv(tmp_path / "b1.csv", "姓名,手机,出生日期", "张伟,13800138000,1990-01-02")],
        store=store,
        channel="crm",
    )
    ingest(
        [csv(tmp_path / "b2.csv", "姓名,手机,出生日期", "张伟,13800138000,1991-03-04")],
        store=store,
        channel="call_center",
    )
    rep = build_report("conflicts", store=store).to_dict()["tables"]["conflicts"]
    assert rep and rep[0]["field"] == "birth_date" and "1990-01-02" in rep[0]["values"]


def test_retire_marks_stale_customers_inactive_not_deleted(store):
    res = retire(Store(store), "2999-01-01")
    cust = Store(store).frame("customers")
    assert set(cust["status"]) == {"inactive"} and len(res.customers) == 2
    assert verify_store(Store(store))["problems"] == []
