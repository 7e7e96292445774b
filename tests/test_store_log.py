"""customers and membership as logs of row versions, end to end: a store written by the code before
them keeps working, and erasure still reaches every superseded row."""
from pathlib import Path

import pandas as pd

from custinfo.ingest.pipeline import ingest
from custinfo.store import store as store_mod
from custinfo.store.erase import forget
from custinfo.store.store import Store
from custinfo.store.verify import verify_store

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TIMES = ["updated_at", "first_seen", "last_seen"]


def _state(path) -> tuple[dict, pd.DataFrame]:
    s = Store(path)
    members = s.frame("membership").set_index("record_id")["customer_id"].to_dict()
    return members, s.frame("customers").drop(columns=TIMES).sort_values("customer_id").reset_index(drop=True)


def test_ingest_into_a_store_of_the_older_layout_gives_the_same_customers(tmp_path, monkeypatch):
    files = [SAMPLES / "web_form.csv", SAMPLES / "call_center.csv"]
    old = tmp_path / "old"
    with monkeypatch.context() as m:  # the first batch written as the code before log tables wrote it
        m.setattr(store_mod, "LOG_TABLES", {})
        ingest(files[:1], store=old)
    ingest(files[1:], store=old)
    new = tmp_path / "new"
    for f in files:
        ingest([f], store=new)
    assert verify_store(Store(old))["problems"] == []
    (m_old, c_old), (m_new, c_new) = _state(old), _state(new)
    assert m_old == m_new
    pd.testing.assert_frame_equal(c_old, c_new)


def test_forget_erases_the_superseded_rows_of_the_log_tables(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("姓名,手机,邮箱\n欧阳娜娜,13712345678,nana.ouyang@example.com\n王伟,13800138000,\n",
                     encoding="utf-8")
    second = tmp_path / "b.csv"  # the same person again: her customer row is superseded, not rewritten
    second.write_text("姓名,手机,邮箱\n欧阳娜娜,13712345678,nana.second@example.com\n", encoding="utf-8")
    path = tmp_path / "store"
    ingest([first], store=path)
    ingest([second], store=path)
    s = Store(path)
    from deltalake import DeltaTable
    assert DeltaTable(str(path / "customers")).to_pyarrow_table().num_rows == 3  # 2 customers, 1 superseded row
    cid = s.frame("customers").query("name == '欧阳娜娜'")["customer_id"].iloc[0]
    forget(s, cid)
    blob = b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())
    for needle in ("欧阳娜娜", "13712345678", "nana.ouyang@example.com", "nana.second@example.com"):
        assert needle.encode() not in blob, needle
    assert verify_store(s)["problems"] == [] and list(s.frame("customers")["name"]) == ["王伟"]
