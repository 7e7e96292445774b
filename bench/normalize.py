"""Benchmark normalize_frame on generated customer rows (1M by default, fixed seed).

The rows look like real exports: about 400k distinct people, each appearing one or more times
(a few very often), their phones, emails and dates written in the many ways channels write them,
with a few percent of typos, Excel floats and invalid values.

    python bench/normalize.py [--rows 1000000] [--people 400000] [--seed 7]

Prints rows/s for names + phones + emails and for the whole frame, with the CPU seconds of each
measurement beside its wall seconds (other jobs on the machine stretch the wall time, not the CPU
time), and the 1-minute load average at the start and the end.
"""
from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import time

import numpy as np
import pandas as pd

from custinfo.normalize import normalize_frame
from custinfo.normalize.national_id import check_char

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
                "曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志"
             "红玉兰小文斌宇浩然欣怡梓涵子轩雨萱")
TRAD = str.maketrans("张刘陈杨黄赵吴马许韩冯邓叶苏伟丽军杰涛华国红兰轩",
                     "張劉陳楊黃趙吳馬許韓馮鄧葉蘇偉麗軍傑濤華國紅蘭軒")
PINYIN = {"王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "黄": "huang",
          "赵": "zhao", "吴": "wu", "周": "zhou"}
ADDRESSES = [
    "广东省深圳市南山区科技园路{n}号", "深圳南山区高新南一道{n}号", "上海市徐汇区漕溪北路{n}号",
    "北京市朝阳区建国路{n}号", "浙江省杭州市西湖区文三路{n}号", "江苏省南京市鼓楼区中山路{n}号",
    "广州市天河区天河路{n}号", "四川省成都市武侯区人民南路{n}号", "湖北省武汉市洪山区珞喻路{n}号",
    "福建省厦门市思明区湖滨南路{n}号", "重庆渝中区解放碑民族路{n}号", "天津市和平区南京路{n}号",
]
COMPANIES = ["深圳市腾飞科技有限公司", "腾飞科技（深圳）", "华信贸易有限公司", "上海宏达实业股份有限公司",
             "北京长城电子有限责任公司", "Acme Trading Co., Ltd.", "杭州云帆网络科技有限公司", None]
TITLES = ["总经理", "GM", "销售经理", "采购经理", "经理", "工程师", "Sales Manager", "董事长", None, None]


def people(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Distinct people with their true values."""
    sur = rng.choice(SURNAMES, n)
    g1, g2 = rng.choice(GIVEN, n), rng.choice(GIVEN, n)
    two = rng.random(n) < 0.3
    names = np.where(two, np.char.add(sur, g1), np.char.add(np.char.add(sur, g1), g2))
    prefixes = rng.choice(["138", "139", "135", "136", "150", "151", "186", "188", "177", "199"], n)
    mobiles = np.char.add(prefixes, np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))
    handles = np.char.add(rng.choice(["zhang", "wang", "li", "chen", "liu", "amy", "tom", "jack"], n),
                          rng.integers(1, 10**6, n).astype(str))
    domains = rng.choice(["qq.com", "163.com", "126.com", "gmail.com", "sina.com", "hotmail.com"], n,
                         p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    emails = np.char.add(np.char.add(handles, "@"), domains)
    births = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), unit="D")
    male = rng.random(n) < 0.5
    streets = rng.integers(0, len(ADDRESSES), n)
    numbers, rooms = rng.integers(1, 300, n), rng.integers(101, 2999, n)
    with_room = rng.random(n) < 0.6  # most people give a flat number: addresses are mostly distinct
    address = [ADDRESSES[s].format(n=k) + (f"{r // 100}栋{r}室" if w else "")
               for s, k, r, w in zip(streets, numbers, rooms, with_room, strict=True)]
    return pd.DataFrame({"name": names, "mobile": mobiles, "email": emails, "birth": births, "male": male,
                         "address": address})


def national_id(birth: pd.Timestamp, male: bool, seq: int) -> str:
    body = f"440305{birth:%Y%m%d}{seq % 100:02d}{(seq % 5) * 2 + (1 if male else 0)}"
    return body + check_char(body)


def variants(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Render each row's true values the way messy channels write them."""
    n = len(rows)
    r = rng.random((8, n))
    name = rows["name"].to_numpy().astype(object)
    name = np.where(r[0] < 0.05, np.char.translate(name.astype(str), TRAD), name)
    name = np.where((r[0] > 0.97), [" ".join(s) for s in name.astype(str)], name)
    mob = rows["mobile"].to_numpy().astype(str)
    phone = np.select(
        [r[1] < 0.70, r[1] < 0.78, r[1] < 0.84, r[1] < 0.88, r[1] < 0.92, r[1] < 0.95, r[1] < 0.98],
        [mob, np.char.add("+86 ", mob), [f"{m[:3]} {m[3:7]} {m[7:]}" for m in mob], np.char.add(mob, ".0"),
         [f"{m}/010-{m[3:11]}" for m in mob], np.char.add("86-", mob), [f"0592-{m[4:11]}" for m in mob]],
        np.char.add(mob, "1"))  # 2% one digit too many: invalid
    email = rows["email"].to_numpy().astype(str)
    email = np.select([r[2] < 0.85, r[2] < 0.92, r[2] < 0.96], [email, np.char.upper(email),
                      np.char.replace(email, ".com", ".con")], np.char.replace(email, "@", " @ "))
    births = rows["birth"]
    birth = np.select([r[3] < 0.5, r[3] < 0.8, r[3] < 0.9],
                      [births.dt.strftime(f).to_numpy(object)
                       for f in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日")],
                      ((births - pd.Timestamp("1899-12-30")).dt.days).astype(str).to_numpy(object))
    created = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 600, n), unit="s")
    ids = [national_id(b, m, i) if k < 0.4 else None
           for i, (b, m, k) in enumerate(zip(births, rows["male"], r[4], strict=True))]
    return pd.DataFrame({
        "name": name, "mobile": phone, "email": np.where(r[5] < 0.1, None, email),
        "gender": np.where(r[6] < 0.3, None, np.where(rows["male"], "男", "女")),
        "birth_date": np.where(r[7] < 0.2, None, birth), "national_id": ids,
        "address": rows["address"].to_numpy(),
        "company": rng.choice(np.array(COMPANIES, dtype=object), n),
        "title": rng.choice(np.array(TITLES, dtype=object), n),
        "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
        "consent_email": rng.choice(np.array(["是", "否", "Y", "N", None], dtype=object), n),
    }).astype(object).where(lambda d: d.notna(), None)


def generate(rows: int, n_people: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = people(n_people, rng)
    # Zipf-like repetition: most people once or twice, a few in many channels' files.
    pick = np.minimum(rng.zipf(1.3, rows) - 1, n_people - 1)
    pick = np.where(rng.random(rows) < 0.6, rng.integers(0, n_people, rows), pick)
    return variants(base.iloc[pick].reset_index(drop=True), rng)


def clear_caches() -> None:
    """Forget every per-value cache of the normalizers so each measurement starts cold."""
    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper) and obj.__module__.startswith("custinfo"):
            obj.cache_clear()


CPU: list[float] = []  # CPU seconds of the last measurement


def timed(df: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    clear_caches()
    t, c = time.perf_counter(), time.process_time()
    out = normalize_frame(df)
    CPU[:] = [time.process_time() - c]
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--people", type=int, default=400_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t = time.perf_counter()
    df = generate(args.rows, args.people, args.seed)
    print(f"generated {len(df):,} rows in {time.perf_counter() - t:.1f}s "
          f"({df['name'].nunique():,} distinct names, {df['mobile'].nunique():,} phones, "
          f"{df['email'].nunique():,} emails)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, pandas {pd.__version__}")
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    normalize_frame(df.head(1000))  # imports, OpenCC, pypinyin and cpca tables: not per-row work
    secs, _ = timed(df[["name", "mobile", "email"]])
    print(f"names+phones+emails: {secs:.1f}s ({CPU[0]:.1f} CPU s)  {len(df) / secs:,.0f} rows/s")
    secs, out = timed(df)
    print(f"whole frame ({df.shape[1]} columns): {secs:.1f}s ({CPU[0]:.1f} CPU s)  {len(df) / secs:,.0f} rows/s")
    for cols in (["name"], ["mobile"], ["email"], ["birth_date"], ["national_id", "gender"], ["address"],
                 ["company", "title"], ["created_at"]):
        step, _ = timed(df[cols])
        print(f"  {'+'.join(cols):18s} {step:5.1f}s ({CPU[0]:5.1f} CPU s)  {len(df) / step:>10,.0f} rows/s")
    flagged = out["issues"].notna().mean()
    print(f"rows with issues: {flagged:.1%}; top: "
          + ", ".join(f"{k} {v:,}" for k, v in out["issues"].str.split(";").explode().value_counts()
                      .head(6).items()))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
