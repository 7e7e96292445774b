"""other_id end to end: a file with FEBRL's headers (soc_sec_id) through `custinfo dedupe`, and the
store keeping the column, golden record included."""

from __future__ import annotations

import pandas as pd

from custinfo.dedupe import dedupe_files

FEBRL_HEADER = (
    "given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth,soc_sec_id\n"
)
AU_CHANNEL = "channel: febrl\nnormalize:\n  default_region: AU\n"


def test_dedupe_of_a_febrl_file_keeps_soc_sec_id_and_links_on_it(tmp_path):
    """soc_sec_id used to map to national_id and be dropped as an invalid Chinese ID: the duplicate
    below (name typos, no address, a birth date typo, soc_sec_id one edit off) was then left alone."""
    f = tmp_path / "febrl.csv"
    f.write_text(
        FEBRL_HEADER
        + "madeleine,ryan,12,kerr place,,kambah,2902,act,19700817,6988048\n"
        + "madelyne,rayn,,,,,2902,,19700871,6988084\n"
        + "joshua,white,3,mckay street,,yass,2582,nsw,19610402,4201388\n"
        + "emily,nguyen,17,hodgson crescent,,ainslie,2602,act,19880919,9135076\n"
        + "liam,brown,8,florey drive,,macgregor,2615,act,19750111,2837452\n",
        encoding="utf-8",
    )
    cfg = tmp_path / "febrl.yaml"
    cfg.write_text(AU_CHANNEL, encoding="utf-8")
    out = dedupe_files([f], config_file=cfg)
    ids = out.rows["cluster_id"].tolist()
    assert ids[0] == ids[1] and len(set(ids)) == 4
    golden = out.golden.set_index("cluster_id")
    assert golden.loc[ids[0], "other_id"] in {"6988048", "6988084"}
    assert pd.isna(golden.loc[ids[0], "national_id"])


def test_store_written_before_other_id_existed_stays_readable_and_ingestable(tmp_path, monkeypatch):
    """A store whose records and customers tables have no other_id column (written by the previous
    version) is read with the column as null, takes new records carrying it, and keeps its customers."""
    from custinfo.ingest.pipeline import ingest
    from custinfo.store import tables
    from custinfo.store.store import Store
    from custinfo.store.verify import verify_store

    s = tmp_path / "store"
    old = tmp_path / "web_form_old.csv"
    old.write_text("姓名,手机,城市\n张伟,13800138000,北京\n李娜,13912345678,上海\n", encoding="utf-8")
    new = tmp_path / "web_form_new.csv"
    new.write_text("姓名,手机,护照号\n张伟,13800138000,E12345678\nAnna Schmidt,,C4X9K2T71\n",
                   encoding="utf-8")
    added = ("other_id", "src_other_id")
    before = {name: [c for c in tables.TABLES[name] if c not in added] for name in ("records", "customers")}
    with monkeypatch.context() as m:
        for name, cols in before.items():
            m.setitem(tables.TABLES, name, cols)
        ingest([old], store=s)
    from deltalake import DeltaTable

    assert "other_id" not in {f.name for f in DeltaTable(str(s / "records")).schema().fields}
    store = Store(s)
    recs = store.frame("records")
    assert "other_id" in recs.columns and recs["other_id"].isna().all()
    assert "other_id" in store.frame("customers").columns
    zhang = store.frame("customers").query("name == '张伟'")["customer_id"].iloc[0]

    ingest([new], store=s)
    recs = store.frame("records")
    assert sorted(zip(recs["name"], recs["other_id"].fillna(""), strict=True)) == [
        ("Anna Schmidt", "C4X9K2T71"), ("张伟", ""), ("张伟", "E12345678"), ("李娜", "")]
    cust = store.frame("customers").set_index("customer_id")
    assert cust.loc[zhang, "other_id"] == "E12345678"  # the old customer, joined by its mobile
    assert verify_store(store)["problems"] == []


def test_show_history_and_export_mask_a_passport_number_for_an_analyst(tmp_path):
    """other_id is secret wherever a customer is shown: the golden field and history in `show` /
    `history`, the records export; an admin sees it only with --unmask."""
    import os
    import subprocess
    import sys

    from custinfo.ingest.pipeline import ingest
    from custinfo.store.store import Store

    f = tmp_path / "visitors.csv"
    f.write_text("Name,Mobile,Passport No\nAnna Schmidt,+49 151 23456789,C4X9K2T71\n", encoding="utf-8")
    s = tmp_path / "store"
    ingest([f], store=s, channel="trade_show_intl")
    cid = Store(s).frame("customers")["customer_id"].iloc[0]

    def cli(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "CUSTINFO_ROLE"}
        code = "import sys; from custinfo.cli.main import main; sys.exit(main())"
        return subprocess.run([sys.executable, "-c", code, *args, "--store", str(s)], capture_output=True,
                              text=True, env=env)

    for args in (("show", cid, "--role", "analyst"), ("history", cid, "--role", "analyst"),
                 ("export", "records", "-o", "-", "--role", "analyst")):
        r = cli(*args)
        assert r.returncode == 0, r.stderr
        assert "C4X9K2T71" not in r.stdout, args
    r = cli("export", "records", "-o", "-", "--role", "admin", "--unmask")
    assert r.returncode == 0 and "C4X9K2T71" in r.stdout, r.stderr


def test_quality_report_counts_other_id_completeness_per_channel(tmp_path):
    """`report quality` listed every canonical identifier but other_id, so a channel full of passport
    numbers looked as if it carried no identity document at all."""
    from custinfo.ingest.pipeline import ingest
    from custinfo.report.quality import quality
    from custinfo.store.store import Store

    f = tmp_path / "visitors.csv"
    f.write_text("Name,Mobile,Passport No\nAnna Schmidt,+49 151 23456789,C4X9K2T71\n"
                 "Lee Min,+49 151 23456780,\n", encoding="utf-8")
    s = tmp_path / "store"
    ingest([f], store=s, channel="trade_show_intl")
    rep = quality(Store(s))
    completeness = next(t for t in rep.tables if t.name == "completeness").frame
    assert completeness.set_index("channel").loc["trade_show_intl", "other_id"] == 0.5
