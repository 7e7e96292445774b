"""Golden records across ingests: stable ids, redirects after merges, decisions that persist,
history of changed values, and the commands people use to look at one customer."""
import pandas as pd
import pytest

from custinfo.errors import CustinfoError
from custinfo.ingest.pipeline import ingest
from custinfo.merge.decisions import link, retire, split, unlink
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
def store(tmp_path):
    s = tmp_path / "store"
    ingest([csv(tmp_path / "a.csv", "姓名,手机,邮箱,地址",
                "张伟,13800138000,zw@example.com,北京市朝阳区建国路1号",
                "李娜,13900139000,ln@example.com,上海市浦东新区张江路5号")], store=s, channel="web_form")
    return s


def test_existing_customer_keeps_id_when_new_record_joins(store, tmp_path):
    before = cid_of(store, "张伟")
    ingest([csv(tmp_path / "b.csv", "客户姓名,来电号码", "張偉 (先生),+86 138-0013-8000")], store=store,
           channel="call_center")
    r = export_frame(Store(store), "records")
    assert set(r.loc[r["phone"] == "+8613800138000", "customer_id"]) == before
    assert verify_store(Store(store))["problems"] == []


def test_unrelated_ingest_changes_no_id(store, tmp_path):
    ids = dict(zip(*export_frame(Store(store), "records")[["record_id", "customer_id"]].T.values))
    ingest([csv(tmp_path / "c.csv", "姓名,手机", "赵六,13700137000")], store=store)
    after = export_frame(Store(store), "records")
    assert all(after.set_index("record_id").loc[k, "customer_id"] == v for k, v in ids.items())
    new = after[after["name"] == "赵六"]["customer_id"].iloc[0]
    assert new not in ids.values()  # never reused


def test_evidence_joining_two_customers_merges_and_redirects(store, tmp_path):
    zw, ln = cid_of(store, "张伟").pop(), cid_of(store, "李娜").pop()
    link(Store(store), zw, ln, note="test")
    survivor, gone = sorted((zw, ln))
    shown = show_customer(Store(store), gone)
    assert shown["customer_id"] == survivor and shown["redirected_from"] == gone
    assert verify_store(Store(store))["problems"] == []


def test_unlink_splits_and_survives_reingest(store, tmp_path):
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


def test_link_survives_reingest(store, tmp_path):
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
    ingest([csv(tmp_path / "moved.csv", "姓名,手机,地址,提交时间",
                "张伟,13800138000,北京市海淀区中关村大街27号,2030-01-01 10:00:00")], store=store, channel="crm")
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
    ingest([csv(tmp_path / "b1.csv", "姓名,手机,出生日期", "张伟,13800138000,1990-01-02")], store=store, channel="crm")
    ingest([csv(tmp_path / "b2.csv", "姓名,手机,出生日期", "张伟,13800138000,1991-03-04")], store=store,
           channel="call_center")
    rep = build_report("conflicts", store=store).to_dict()["tables"]["conflicts"]
    assert rep and rep[0]["field"] == "birth_date" and "1990-01-02" in rep[0]["values"]


def test_retire_marks_stale_customers_inactive_not_deleted(store):
    res = retire(Store(store), "2999-01-01")
    cust = Store(store).frame("customers")
    assert set(cust["status"]) == {"inactive"} and len(res.customers) == 2
    assert verify_store(Store(store))["problems"] == []
