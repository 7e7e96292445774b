"""The command line: thin over the library, one-line errors, documented exit codes, every format."""

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custinfo.ingest.pipeline import ingest

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"


def cli(*args, stdin=None):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from custinfo.cli.main import main; sys.exit(main())",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        input=stdin,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = tmp_path_factory.mktemp("cli") / "store"
    ingest([SAMPLES / "web_form.csv", SAMPLES / "call_center.csv"], store=s)
    return s


def test_version_and_help():
    assert cli("--version").stdout.startswith("custinfo ")
    out = cli("--help").stdout
    for cmd in (
        "ingest",
        "normalize",
        "dedupe",
        "explain",
        "train",
        "report",
        "export",
        "show",
        "history",
        "link",
        "unlink",
        "split",
        "retire",
        "review",
        "forget",
        "purge",
        "audit",
        "verify",
    ):
        assert cmd in out, cmd


def test_usage_error_exits_2_with_one_line():
    r = cli("report", "nosuchreport")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_normalize_keeps_every_row_in_order_with_issues(tmp_path):
    out = tmp_path / "n.csv"
    r = cli("normalize", SAMPLES / "web_form.csv", "-o", out)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    raw = pd.read_csv(SAMPLES / "web_form.csv", dtype=str, encoding="utf-8-sig")
    assert len(df) == len(raw) and list(df["source_row"].astype(int)) == list(range(2, len(raw) + 2))
    assert df["issues"].fillna("").str.contains("email_typo_fixed").any()
    assert "raw:姓名" in df.columns and (df["phone"].dropna().str.startswith("+")).all()


def test_dedupe_writes_rows_golden_and_review(tmp_path):
    rows, golden, review = tmp_path / "rows.csv", tmp_path / "golden.xlsx", tmp_path / "review.xlsx"
    r = cli("dedupe", SAMPLES / "trade_show.xlsx", "-o", rows, "--golden", golden, "--review", review)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(rows, dtype=str, encoding="utf-8-sig")
    assert {"cluster_id", "cluster_size", "match_score", "姓名"} <= set(df.columns)
    assert df["cluster_id"].nunique() < len(df)  # the sample plants duplicate cards
    g = pd.read_excel(golden, dtype=str, engine="openpyxl")
    assert len(g) == df["cluster_id"].nunique()
    assert openpyxl.load_workbook(review).sheetnames


def test_report_json_html_and_xlsx(store, tmp_path):
    r = cli("report", "channels", "--format", "json", "--store", store)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["report"] == "channels"
    html = tmp_path / "q.html"
    assert cli("report", "quality", "-o", html, "--store", store).returncode == 0
    text = html.read_text(encoding="utf-8")
    assert "<svg" in text and "http://" not in text.replace("http://www.w3.org", "")
    assert cli("report", "profile", "-o", tmp_path / "p.xlsx", "--store", store).returncode == 0


def test_exported_xlsx_keeps_phones_as_text(store, tmp_path):
    out = tmp_path / "records.xlsx"
    r = cli("export", "records", "-o", out, "--store", store, "--role", "analyst")
    assert r.returncode == 0, r.stderr
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    col = header.index("phone") + 1
    cells = [ws.cell(row=i, column=col) for i in range(2, 30) if ws.cell(row=i, column=col).value]
    assert cells and all(c.data_type == "s" and str(c.value).startswith("+86") for c in cells)


def test_show_history_explain_and_verify(store):
    import io

    recs = pd.read_csv(io.StringIO(cli("export", "records", "-o", "-", "--store", store).stdout), dtype=str)
    cid, a, b = recs["customer_id"].iloc[0], recs["record_id"].iloc[0], recs["record_id"].iloc[1]
    assert cli("show", cid, "--store", store, "--format", "json").returncode == 0
    assert cli("history", cid, "--store", store).returncode == 0
    r = cli("explain", a, b, "--store", store, "--format", "json")
    assert r.returncode == 0 and "match_probability" in json.loads(r.stdout)
    assert cli("verify", "--store", store).returncode == 0
    r = cli("show", "C99999999", "--store", store)
    assert r.returncode == 2 and "no customer or record" in r.stderr


def test_log_format_json_gives_one_json_line_per_event(tmp_path):
    r = cli("ingest", SAMPLES / "crm.xlsx", "--store", tmp_path / "s", "--log-format", "json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stderr.splitlines()]
    assert events[-1]["event"] == "summary" and events[-1]["records"] > 0


def test_store_option_before_the_command_name_is_accepted():
    """`custinfo --store DIR ingest F` failed with "No such option: --store" though the README
    promises the shared options before or after the command name."""
    from custinfo.cli.state import lift_global_options

    assert lift_global_options(["--store", "S", "ingest", "a.csv"]) == ["ingest", "a.csv", "--store", "S"]
    assert lift_global_options(["--store=S", "report", "summary"]) == ["report", "summary", "--store=S"]
    assert lift_global_options(["--store", "S", "forget", "--", "-x"]) == [
        "forget",
        "--store",
        "S",
        "--",
        "-x",
    ]
    assert lift_global_options(["ingest", "a.csv", "--store", "S"]) == ["ingest", "a.csv", "--store", "S"]
