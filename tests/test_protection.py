"""Protection end to end: masking by role, consent, audit trail, allowlist, and erasure that leaves
no byte of the person anywhere in the store."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from custinfo.ingest.pipeline import ingest
from custinfo.security import AuditLog
from custinfo.store.erase import forget, purge
from custinfo.store.store import Store
from custinfo.store.verify import verify_store

PERSON = {"name": "欧阳娜娜", "phone": "13712345678", "email": "nana.ouyang@example.com"}


def cli(*args, env=None):
    e = {**os.environ, **(env or {})}
    e.pop("CUSTINFO_ROLE", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-c", "import sys; from custinfo.cli.main import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        env=e,
    )


@pytest.fixture()
def export_file(tmp_path):
    f = tmp_path / "web_export.csv"
    f.write_text(
        "姓名,手机,邮箱,城市,备注,是否接受营销\n"
        f"{PERSON['name']},{PERSON['phone']},{PERSON['email']},上海,,是\n"
        "王伟,13800138000,wangwei@example.com,北京,身份证110101199003071233 请回电,否\n"
        "李静,13900139000,lijing@example.com,广州,退订,\n",
        encoding="utf-8",
    )
    return f


@pytest.fixture()
def store(tmp_path, export_file):
    s = tmp_path / "store"
    ingest([export_file], store=s, channel="web_form")
    return s


def all_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())


def test_forget_leaves_no_byte_of_the_person_in_the_store(store, export_file):
    before = all_bytes(store)
    assert PERSON["phone"].encode() in before  # the test would prove nothing otherwise
    cid = Store(store).frame("customers").query("name == @PERSON['name']")["customer_id"].iloc[0]
    receipt = forget(Store(store), cid)
    assert receipt.records_removed == 1 and receipt.tombstones >= 2
    blob = all_bytes(store)
    for needle in (PERSON["name"], PERSON["phone"], "+86" + PERSON["phone"], PERSON["email"]):
        assert needle.encode("utf-8") not in blob, needle
        assert needle.encode("gbk") not in blob if needle.isascii() is False else True
    assert verify_store(Store(store))["problems"] == []
    assert len(Store(store).frame("records")) == 2  # the others are untouched


def test_forgotten_person_is_not_brought_back_by_an_old_export(store, export_file):
    forget(Store(store), phone=PERSON["phone"])
    res = ingest([export_file], store=store, force=True)
    assert res.files[0].skipped_forgotten == 1
    names = set(Store(store).frame("records")["name"])
    assert PERSON["name"] not in names


def test_purge_removes_records_past_retention(store):
    receipt = purge(Store(store), "0d")
    assert receipt.records_removed == 3 and len(Store(store).frame("records")) == 0
    assert PERSON["phone"].encode() not in all_bytes(store)
    assert verify_store(Store(store))["problems"] == []


def test_default_role_sees_masked_contacts(store, tmp_path):
    out = tmp_path / "contacts.csv"
    r = cli("export", "contacts", "-o", str(out), "--store", str(store))
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert PERSON["phone"] not in text and "137****5678" in text and "欧*" in text or "欧**" in text


def test_unmask_refused_for_viewer_and_logged_for_admin(store, tmp_path):
    r = cli("export", "records", "-o", str(tmp_path / "x.csv"), "--store", str(store), "--unmask")
    assert r.returncode == 2 and "may not use --unmask" in r.stderr
    r = cli(
        "export",
        "records",
        "-o",
        str(tmp_path / "y.csv"),
        "--store",
        str(store),
        "--unmask",
        "--role",
        "admin",
    )
    assert r.returncode == 0, r.stderr
    assert PERSON["phone"] in (tmp_path / "y.csv").read_text(encoding="utf-8-sig")
    last = AuditLog(store).entries()[-1]
    assert (
        last["command"] == "export records" and last["role"] == "admin" and last["details"]["unmask"] is True
    )


def test_secret_in_free_text_is_redacted_for_analyst(store, tmp_path):
    out = tmp_path / "r.csv"
    r = cli("export", "records", "-o", str(out), "--store", str(store), "--role", "analyst")
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert "110101199003071233" not in text and "13800138000" in text


def test_marketing_export_leaves_out_customers_without_consent(store, tmp_path):
    out = tmp_path / "m.csv"
    r = cli(
        "export",
        "contacts",
        "--purpose",
        "marketing",
        "-o",
        str(out),
        "--store",
        str(store),
        "--role",
        "marketing",
    )
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert PERSON["phone"] in text and "13800138000" not in text and "13900139000" not in text
    assert "2 customer(s) left out" in r.stderr


def test_every_command_on_personal_data_is_audited_and_chain_verifies(store, tmp_path):
    cli("export", "customers", "-o", str(tmp_path / "c.csv"), "--store", str(store))
    cli("report", "summary", "--store", str(store))
    r = cli("audit", "--store", str(store), "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [e["command"] for e in data["entries"]][-2:] == ["export customers", "report summary"]
    assert data["verify"]["ok"]
    log = Path(store) / "audit" / "audit.jsonl"
    lines = log.read_text().splitlines()
    lines[0] = (
        lines[0].replace('"export customers"', '"export contacts"')
        if "export customers" in lines[0]
        else lines[0][:-2] + " }"
    )
    log.write_text("\n".join(lines) + "\n")
    r = cli("audit", "--store", str(store))
    assert r.returncode == 3 and "does not verify" in r.stderr


def test_allowlist_drops_columns_and_counts_them(tmp_path):
    f = tmp_path / "trade_show_cards.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026 博览会名片"])  # the trade_show config expects the header on row 3
    ws.append(["整理人：市场部"])
    ws.append(["姓名", "手机", "公司", "出生日期", "身份证号"])
    ws.append(["赵敏", "13511112222", "腾飞科技", "1990-01-01", "110101199003071233"])
    wb.save(f)
    res = ingest([f], store=tmp_path / "s", channel="trade_show")
    assert set(res.files[0].dropped_columns) == {"出生日期", "身份证号"}
    rec = Store(tmp_path / "s").frame("records").iloc[0]
    assert rec["birth_date"] is None and rec["national_id"] is None and "110101" not in (rec["raw"] or "")


def test_forget_erases_a_passport_number_and_its_tombstone_skips_the_old_export(tmp_path):
    """other_id is a `forget` needle (no byte left, history and quarantine included) and a tombstone
    kind: an old export holding the person's passport number, under another name, is skipped."""
    f = tmp_path / "visitors.csv"
    f.write_text("Name,Passport No,Email,City\n"
                 "Anna Schmidt,C4X9K2T71,anna.s@example.de,Berlin\n"
                 "Lee Kim,M12345678,lee.kim@example.kr,Seoul\n", encoding="utf-8")
    s = tmp_path / "store"
    ingest([f], store=s, channel="trade_show_intl")
    recs = Store(s).frame("records")
    assert sorted(recs["other_id"]) == ["C4X9K2T71", "M12345678"]
    cid = Store(s).frame("customers").query("other_id == 'C4X9K2T71'")["customer_id"].iloc[0]
    receipt = forget(Store(s), cid)
    assert receipt.tombstones >= 2
    assert b"C4X9K2T71" not in all_bytes(s)
    again = tmp_path / "visitors_old.csv"
    again.write_text("Name,Passport No\nA. Schmidt,c4x9-k2t71\n", encoding="utf-8")
    res = ingest([again], store=s, channel="trade_show_intl")
    assert res.files[0].skipped_forgotten == 1
    assert verify_store(Store(s))["problems"] == []
