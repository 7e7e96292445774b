"""Matching benchmark: custinfo vs Splink 5 on generated Chinese multi-channel records.

For each size: generate raw records with bench/gen_people.py (cached), normalize them with
custinfo.normalize.normalize_frame (cached), then run each engine in a fresh subprocess and report
wall time, peak RSS (the child's ru_maxrss), pairs compared, and pairwise precision/recall/F1 of the
final clusters against the true person ids. Also times an incremental match of 10k new records
against the rest. Results go to stdout and to a marked section of bench/RESULTS.md.

    .venv/bin/python bench/match.py                       # 100k, custinfo and Splink
    .venv/bin/python bench/match.py --sizes 100000 1000000 --no-splink
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
CACHE = Path(os.environ.get("CUSTINFO_BENCH_CACHE", "/tmp/custinfo-bench-cache"))
TRUTH_COLUMNS = ["record_id", "person_id", "channel"]


def prepared(n: int, seed: int) -> Path:
    """Normalized records with truth, generated and normalized once per (n, seed)."""
    path = CACHE / f"people_{n}_{seed}.parquet"
    if path.exists():
        return path
    from gen_people import generate

    from custinfo.normalize.frame import normalize_frame

    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    raw = generate(n, seed)
    t1 = time.perf_counter()
    norm = normalize_frame(raw.drop(columns=TRUTH_COLUMNS))
    t2 = time.perf_counter()
    for c in reversed(TRUTH_COLUMNS):
        norm.insert(0, c, raw[c].to_numpy())
    norm.to_parquet(path, index=False)
    print(
        f"prepared {len(norm)} records: generate {t1 - t0:.0f}s, normalize {t2 - t1:.0f}s -> {path}",
        flush=True,
    )
    return path


def pairwise_prf(pred: np.ndarray, truth: np.ndarray) -> dict:
    """Pairwise precision/recall/F1 of a clustering against true labels (no pair enumeration)."""
    df = pd.DataFrame({"p": pd.factorize(pred)[0], "t": pd.factorize(truth)[0]})

    def pairs(sizes: pd.Series) -> int:
        s = sizes.to_numpy(dtype=np.int64)
        return int((s * (s - 1) // 2).sum())

    tp, pp, tt = (
        pairs(df.groupby(["p", "t"]).size()),
        pairs(df.groupby("p").size()),
        pairs(df.groupby("t").size()),
    )
    p = tp / pp if pp else 1.0
    r = tp / tt if tt else 1.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "true_pairs": tt,
        "predicted_pairs": pp,
    }


# ---- workers (run in a subprocess so that peak memory is the engine's own) ---------------------


def read_prepared(path: str) -> pd.DataFrame:
    """The prepared records with Arrow-backed text: the matcher reads Arrow strings as they are, while a
    million records as python strings take 1.5 GB before matching starts (ingest reads the store as Arrow)."""
    return pd.read_parquet(path, dtype_backend="pyarrow")


def work_custinfo(path: str) -> dict:
    from custinfo.match import Matcher, load_settings

    df = read_prepared(path)
    truth = df["person_id"].to_numpy()
    df = df.drop(columns=["person_id", "channel"])
    t0 = time.perf_counter()
    c0 = _cpu()
    res = Matcher(load_settings()).dedupe(df)
    secs, cpu = time.perf_counter() - t0, _cpu() - c0
    cl = res.clusters.set_index("record_id")["cluster_id"].reindex(df["record_id"]).to_numpy()
    return {
        "seconds": round(secs, 1),
        "cpu_seconds": round(cpu, 1),
        "pairs_compared": int(res.stats["pairs"]),
        **pairwise_prf(cl, truth),
        "plan": [
            {k: p[k] for k in ("rule", "pairs", "new_pairs", "largest_block", "capped_blocks")}
            for p in res.plan
        ],
    }


def _existing_and_new(path: str, n_new: int):
    """The matcher, the prepared frame (with person_id), all but the last n_new records deduplicated
    into customers (column customer_id), and the last n_new records."""
    from custinfo.match import Matcher, load_settings

    df = read_prepared(path)
    m = Matcher(load_settings())
    recs = df.drop(columns=["person_id", "channel"])
    old, new = recs.iloc[:-n_new].copy(), recs.iloc[-n_new:].copy()
    base = m.dedupe(old).clusters.set_index("record_id")["cluster_id"]
    old["customer_id"] = base.reindex(old["record_id"]).to_numpy()
    return m, df, old, new


def work_incremental(path: str, n_new: int = 10_000) -> dict:
    """Dedupe all but n_new records, then match the n_new against them as existing customers."""
    m, df, old, new = _existing_and_new(path, n_new)
    truth = df["person_id"].to_numpy()
    t0 = time.perf_counter()
    c0 = _cpu()
    res = m.match_incremental(new, old)
    secs, cpu = time.perf_counter() - t0, _cpu() - c0
    label = pd.Series(old["customer_id"].to_numpy(), index=old["record_id"])
    g = res.assign.set_index("record_id")["group"].reindex(new["record_id"])
    joined = {k: v[0] for k, v in res.group_customers.items() if len(v) == 1}
    new_label = [joined.get(int(x), f"new{x}") for x in g.to_numpy()]
    # merges of several customers count as joining the first; a fair, slightly pessimistic reading
    new_label = [
        res.group_customers[int(x)][0] if len(res.group_customers[int(x)]) > 1 else lab
        for x, lab in zip(g.to_numpy(), new_label, strict=True)
    ]
    all_labels = np.r_[label.to_numpy(), np.array(new_label, dtype=object)]
    return {
        "seconds": round(secs, 1),
        "cpu_seconds": round(cpu, 1),
        "new_records": n_new,
        "existing_records": len(old),
        "pairs_compared": int(res.stats["pairs"]),
        "merges": int(res.stats["merges"]),
        **pairwise_prf(all_labels, truth),
    }


def work_resolve(path: str, n_new: int = 10_000) -> dict:
    """What an ingest of n_new records into a store of the rest does: dedupe all but n_new, then
    `Matcher.resolve` (re-clustering the neighbourhood of the new records) as merge/assign.py calls it."""
    m, df, old, new = _existing_and_new(path, n_new)
    truth = pd.Series(df["person_id"].to_numpy(), index=df["record_id"].to_numpy())
    t0 = time.perf_counter()
    c0 = _cpu()
    res = m.resolve(new, old)
    secs, cpu = time.perf_counter() - t0, _cpu() - c0
    # records outside the neighbourhood keep their customer; groups of the neighbourhood are new labels
    label = pd.Series(old["customer_id"].to_numpy(dtype=object), index=old["record_id"].to_numpy())
    label = label.reindex(truth.index)
    cl = res.clusters
    label.loc[cl["record_id"].to_numpy()] = ("g" + cl["group"].astype(str)).to_numpy()
    return {
        "seconds": round(secs, 1),
        "cpu_seconds": round(cpu, 1),
        "new_records": n_new,
        "existing_records": len(old),
        "resolved_records": int(res.stats["resolved_records"]),
        "pairs_compared": int(res.stats["pairs"]),
        **pairwise_prf(label.to_numpy(), truth.to_numpy()),
    }


def _cpu() -> float:
    """CPU seconds of this process so far (all its threads: DuckDB's too)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def splink_people_settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_key", [0.9, 0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("name_pinyin").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("gender"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("address_key", [2, 5]),
            cl.JaroWinklerAtThresholds("company_key", [0.9]),
            cl.ExactMatch("national_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("phone"),
            block_on("email"),
            block_on("name_pinyin", "city"),
            block_on("national_id"),
            block_on("birth_date", "name_key"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def run_splink(
    df: pd.DataFrame,
    settings,
    train_rules: list,
    prior_rules: list,
    threshold: float,
    link_frames: list[pd.DataFrame] | None = None,
    timing: dict | None = None,
) -> pd.DataFrame:
    """Tutorial-style Splink 5 run: prior from deterministic rules, u by sampling, EM, predict, cluster.

    With `timing`, its `seconds` is set to the time of the run, then `pairs_compared` to the pairs
    Splink's blocking rules produce (counted after the timed run; estimated on a 10% sample of the
    records on each side above 200k records)."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    # without a limit DuckDB takes 80% of the machine's memory
    con.execute(f"SET memory_limit = '{os.environ.get('SPLINK_MEMORY', '4GB')}'")
    db = DuckDBAPI(connection=con)
    frames = [db.register(f) for f in link_frames] if link_frames else db.register(df)
    linker = Linker(frames, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(prior_rules, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in train_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold)
    out = clusters.as_pandas_dataframe()
    if timing is not None:
        from splink.blocking_analysis import count_comparisons_from_blocking_rules

        timing["seconds"] = time.perf_counter() - timing["start"]
        if "cpu_start" in timing:
            timing["cpu_seconds"] = _cpu() - timing["cpu_start"]
        n = sum(len(f) for f in link_frames) if link_frames else len(df)
        counts = count_comparisons_from_blocking_rules(
            frames,
            blocking_rules=settings.blocking_rules_to_generate_predictions,
            link_type=settings.link_type,
            unique_id_column_name=settings.unique_id_column_name,
            record_sample_proportion=1.0 if n <= 200_000 else 0.1,
        )
        timing["pairs_compared"] = int(counts[-1]["cumulative_comparison_count"])
    return out


def work_splink(path: str, em_on_city: bool = False) -> dict:
    """Splink 5 on the generated records. Its EM runs on pairs blocked on phone, then on name_pinyin
    (as its tutorials block on the name); at 1M records, where common Chinese names repeat thousands of
    times, that is 76M pairs, so `em_on_city` blocks the second EM on name_pinyin and city (5.4M)."""
    from splink import block_on

    df = pd.read_parquet(path)
    truth = df.set_index("record_id")["person_id"]
    cols = [
        "record_id",
        "name_key",
        "name_pinyin",
        "phone",
        "email",
        "birth_date",
        "gender",
        "city",
        "address_key",
        "company_key",
        "national_id",
    ]
    df = df[cols].astype(object).where(df[cols].notna(), None)
    timing = {"start": time.perf_counter(), "cpu_start": _cpu()}
    cl = run_splink(
        df,
        splink_people_settings(),
        [block_on("phone"), block_on("name_pinyin", "city") if em_on_city else block_on("name_pinyin")],
        [block_on("phone"), block_on("email"), block_on("name_key", "birth_date")],
        0.9,
        timing=timing,
    )
    cl = cl.set_index("record_id")["cluster_id"].reindex(truth.index).to_numpy()
    return {
        "seconds": round(timing["seconds"], 1),
        "cpu_seconds": round(timing["cpu_seconds"], 1),
        "pairs_compared": timing["pairs_compared"],
        **pairwise_prf(cl, truth.to_numpy()),
    }


def splink_febrl_settings(link: bool):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
        ],
    )


def run_splink_febrl(ds: int, data, truth: set) -> dict:
    """Splink 5 on FEBRL with a model written the way its FEBRL tutorial does."""
    import itertools

    from splink import block_on

    def prep(raw: pd.DataFrame) -> pd.DataFrame:
        d = raw.reset_index()
        d = d.astype(object).where(d.notna(), None)
        for c in d.columns:
            d[c] = d[c].map(lambda v: str(v).strip() if v is not None else None)
        return d

    timing = {"start": time.perf_counter()}
    prior = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
    train = [block_on("date_of_birth"), block_on("surname"), block_on("postcode")]
    if ds == 4:
        a, b = prep(data[0]), prep(data[1])
        cl = run_splink(
            None, splink_febrl_settings(True), train, prior, 0.9, link_frames=[a, b], timing=timing
        )
        ids_a = set(a["rec_id"])
    else:
        cl = run_splink(prep(data), splink_febrl_settings(False), train, prior, 0.9, timing=timing)
    secs = timing["seconds"]
    pred = set()
    for _, ids in cl.groupby("cluster_id")["rec_id"]:
        pred.update(tuple(sorted(p)) for p in itertools.combinations(ids.tolist(), 2))
    if ds == 4:
        pred = {p for p in pred if (p[0] in ids_a) != (p[1] in ids_a)}
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth)
    return {
        "engine": "splink 5",
        "seconds": round(secs, 2),
        "pairs_compared": timing["pairs_compared"],
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "tp": tp,
        "fp": len(pred - truth),
        "fn": len(truth - pred),
    }


# ---- driver --------------------------------------------------------------------------------------


def run_worker(kind: str, path: Path, timeout: float | None = None) -> dict:
    """Run a worker in a fresh interpreter; add its wall time and peak RSS. A worker still running
    after `timeout` seconds is stopped and reported as not finished (with its peak RSS so far)."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", kind, "--input", str(path), "--out", str(out)]
    )
    while True:  # os.wait4 (not proc.wait) so that the child's peak RSS is read as it is reaped
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - t0 >= timeout:
            proc.terminate()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    if timeout is not None and wall >= timeout:
        return {
            "engine": kind,
            "seconds": f"> {timeout:.0f} (stopped)",
            "error": f"did not finish in {timeout:.0f} s",
            "process_seconds": round(wall, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024),
        }
    if status != 0:
        return {"engine": kind, "error": f"exit status {status}"}
    res = json.loads(out.read_text())
    out.unlink()
    return {
        "engine": kind,
        **res,
        "process_seconds": round(wall, 1),
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load": round(os.getloadavg()[0], 1),  # as this worker ended, not when the whole run did
    }


def record(rows: list[dict]) -> None:
    """Update the matching section of bench/RESULTS.md: rows of this run replace those of the same
    size and engine, others are kept (the figures are stored as JSON in a comment of the section)."""
    path = HERE / "RESULTS.md"
    begin, end, tag = "<!-- match:begin -->", "<!-- match:end -->", "<!-- match:rows "
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    old: list[dict] = []
    if tag in text:
        old = json.loads(text[text.index(tag) + len(tag) : text.index(" -->", text.index(tag))])
    done = {(r["size"], r["engine"]) for r in rows}
    merged = [r for r in old if (r["size"], r["engine"]) not in done] + [
        {"date": str(dt.date.today()), "load": round(os.getloadavg()[0], 1), **r} for r in rows
    ]
    merged.sort(key=lambda r: (r["size"], r["engine"]))
    block = "\n".join([begin, *_table(merged), tag + json.dumps(merged, ensure_ascii=False) + " -->", end])
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def _table(rows: list[dict]) -> list[str]:
    cols = ["size", "engine", "seconds", "cpu_seconds", "peak_rss_mb", "pairs_compared", "precision"]
    cols += ["recall", "f1", "date", "load"]
    return [
        "## Matching (bench/match.py)",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, {round(psutil_total_gb())} GB, Python "
        f"{platform.python_version()}. Generated Chinese multi-channel records (bench/gen_people.py), "
        "normalized by normalize_frame. `seconds` = matching only (records already normalized), "
        "`cpu_seconds` = CPU time (user + system, all threads) of the same span; "
        "`peak_rss_mb` = the whole worker process, input frame included (custinfo's frame read with "
        "Arrow-backed text, as ingest reads the store; Splink's as python objects, as its API takes them); "
        "`incremental` = 10k new records against the rest as existing customers (`match_incremental`); "
        "`resolve` = the same 10k re-clustered with their neighbourhood (`Matcher.resolve`, what ingest "
        "runs), the rest deduplicated beforehand; `load` = the machine's 1-minute load average (other "
        "jobs share it). Pairwise P/R/F1 of the final clusters against the true persons. Memory caps: "
        "custinfo's DuckDB `engine.memory_limit` of configs/match.yaml, Splink's DuckDB `SPLINK_MEMORY` "
        "(default 4GB). `splink` = its model as in work_splink (EM on pairs blocked on phone, then on "
        "name_pinyin); `splink_em_city` = the same with the second EM blocked on name_pinyin and city. "
        "Splink's `seconds` = training, prediction and clustering; its `pairs_compared` = pairs its "
        "prediction blocking rules produce (estimated on a 10% sample above 200k records).",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
        *("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows),
    ]


def psutil_total_gb() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--record", action="store_true", help="write the figures to bench/RESULTS.md")
    ap.add_argument(
        "--engines",
        nargs="*",
        choices=["custinfo", "incremental", "resolve", "splink", "splink_em_city"],
        help="run only these (splink_em_city: Splink with EM blocked on name and city, not name alone; "
        "resolve: 10k new records re-clustered with their neighbourhood, as an ingest does)",
    )
    ap.add_argument("--timeout", type=float, default=3600, help="stop a Splink run after this many seconds")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fn = {
            "custinfo": work_custinfo,
            "splink": work_splink,
            "splink_em_city": lambda path: work_splink(path, em_on_city=True),
            "incremental": work_incremental,
            "resolve": work_resolve,
        }[args.worker]
        Path(args.out).write_text(json.dumps(fn(args.input)))
        return
    rows = []
    for n in args.sizes:
        path = prepared(n, args.seed)
        kinds = args.engines or (
            ["custinfo"]
            + ([] if args.no_incremental else ["incremental"])
            + ([] if args.no_splink else ["splink"])
        )
        for kind in kinds:
            row = {"size": n, **run_worker(kind, path, args.timeout if kind.startswith("splink") else None)}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    cols = [
        "size",
        "engine",
        "seconds",
        "cpu_seconds",
        "process_seconds",
        "peak_rss_mb",
        "pairs_compared",
        "precision",
        "recall",
        "f1",
    ]
    print(pd.DataFrame(rows).reindex(columns=cols).to_string(index=False))
    if args.record:
        record(rows)


if __name__ == "__main__":
    main()
