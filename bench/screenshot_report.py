"""See a report's HTML the way a person does: render a sample report, open it in headless
Debian chromium, save a screenshot to bench/out/report.png.

    .venv/bin/python bench/screenshot_report.py [--out-dir bench/out] [--height 1600] [--pdf]

--pdf also prints the page to bench/out/report.pdf (A4, as a manager's printer would).

Needs /usr/bin/chromium (apt-get install -y chromium) and a CJK font
(apt-get install -y fonts-noto-cjk), or Chinese text shows as boxes. Not part of the tests.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from custinfo.report.model import Chart, Report, Table, timestamp
from custinfo.report.writers import write_report

CHANNELS = ["官网注册", "微信小程序", "线下门店", "展会名片", "电话营销", "合作伙伴", "抖音直播",
            "淘宝店铺"]
PROVINCES = ["广东", "浙江", "江苏", "北京", "上海", "四川", "山东", "湖北", "福建", "河南", "其他"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def sample_report(seed: int = 7) -> Report:
    """A channels-like report with synthetic figures, every chart kind, and awkward text."""
    rng = np.random.default_rng(seed)
    records = rng.integers(800, 24_000, len(CHANNELS))
    known = (records * rng.uniform(0.15, 0.65, len(CHANNELS))).astype(int)
    per = pd.DataFrame({"channel": CHANNELS, "records": records, "new_customers": records - known,
                        "already_known": known, "known_share": (known / records).round(4)})
    per = per.sort_values("new_customers", ascending=False, ignore_index=True)
    overlap = pd.DataFrame(rng.integers(0, 900, (4, 4)), index=pd.Index(CHANNELS[:4], name="channel"),
                           columns=CHANNELS[:4])
    provinces = pd.DataFrame({"province": PROVINCES,
                              "customers": sorted(rng.integers(200, 9000, len(PROVINCES)),
                                                  reverse=True)})
    gender = pd.DataFrame({"gender": ["女", "男", "未知"], "customers": [41_230, 38_904, 2_113]})
    quality = pd.DataFrame({"file": ["2024Q1 官网.xlsx", "wechat_export_0315.csv", "门店登记表.xls"],
                            "valid_mobile_rate": [0.982, 0.911, 0.764],
                            "valid_email_rate": [0.935, 0.402, 0.118],
                            "example_bad_name": ['<script>alert("x")</script>',
                                                 '=HYPERLINK("http://x","click")', "+8613800138000"]})
    summary = {"records": int(records.sum()), "customers": int((records - known).sum()),
               "multi_channel_customers": 12_873, "duplicate_rate": 0.2731, "quarantined": 418,
               "top_channel": per.loc[0, "channel"]}
    return Report(
        name="channels", title="渠道获客分析 · Channel yield", generated_at=timestamp(),
        summary=summary,
        tables=[Table("channels", "每个渠道 Per channel", per,
                      note="new_customers: customers first seen in this channel."),
                Table("overlap", "渠道重叠 Customers seen in both channels", overlap),
                Table("provinces", "省份 Provinces", provinces),
                Table("gender", "性别 Gender", gender),
                Table("quality", "数据质量 Quality per file", quality)],
        charts=[Chart("channels", "stacked", "channel", ["new_customers", "already_known"],
                      "新客户与已知记录 New vs already known"),
                Chart("channels", "hbar", "channel", "known_share", "已知占比 Share already known"),
                Chart("provinces", "bar", "province", "customers", "客户省份 Customers by province"),
                Chart("gender", "pie", "gender", "customers", "性别 Gender")],
        notes=["Synthetic figures for the screenshot bench; no real customer is in them."],
    )


def find_chromium() -> str:
    """The chromium binary, or exit with what to install."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium not found: apt-get update && apt-get install -y chromium fonts-noto-cjk")


def run_chromium(html: Path, *args: str) -> float:
    """Open `html` in headless chromium with a throwaway profile; return the seconds it took."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [find_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args,
               html.resolve().as_uri()]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def screenshot(html: Path, png: Path, width: int, height: int) -> float:
    """Render `html` into `png` at the given window size; return the seconds it took."""
    png.unlink(missing_ok=True)
    elapsed = run_chromium(html, f"--screenshot={png}", f"--window-size={width},{height}")
    if not png.exists():
        sys.exit("chromium did not write the screenshot")
    return elapsed


def print_pdf(html: Path, pdf: Path) -> float:
    """Print `html` to `pdf` with the page's print stylesheet; return the seconds it took."""
    pdf.unlink(missing_ok=True)
    elapsed = run_chromium(html, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    if not pdf.exists():
        sys.exit("chromium did not write the pdf")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    parser.add_argument("--pdf", action="store_true", help="also print to report.pdf")
    args = parser.parse_args()
    html = args.out_dir / "report.html"
    write_report(sample_report(), html)
    print(f"html   {html} ({html.stat().st_size:,} bytes)")
    png = args.out_dir / "report.png"
    seconds = screenshot(html, png, args.width, args.height)
    print(f"png    {png} ({png.stat().st_size:,} bytes, chromium {seconds:.1f}s)")
    if args.pdf:
        pdf = args.out_dir / "report.pdf"
        seconds = print_pdf(html, pdf)
        print(f"pdf    {pdf} ({pdf.stat().st_size:,} bytes, chromium {seconds:.1f}s)")


if __name__ == "__main__":
    main()
