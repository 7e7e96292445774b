"""`--engine spark` must find the same customers as the local engine: same records, same partition
of records into customers, same golden records, on a fresh store and on an incremental ingest;
and `dedupe --engine spark` must write what the local engine writes."""

import sys
from pathlib import Path

import pandas as pd
import pytest

from custinfo.cli.main import main
from custinfo.ingest.pipeline import ingest
from custinfo.store.store import Store

SAMPLES = Path(__file__).parent.parent / "samples"
FIRST = ["web_form.csv", "call_center.csv", "trade_show.xlsx"]
LATER = ["crm.xlsx", "purchased_list.csv"]  # an incremental ingest into the store the first made
TIMES = ["first_seen", "last_seen", "updated_at"]  # when the command ran, not what it found


def _ingest_samples(store: Path, engine: str) -> None:
    for batch in (FIRST, LATER):
        ingest([SAMPLES / f for f in batch], store=store, engine=engine)


def _customers_of(store: Path) -> set[frozenset]:
    members = Store(store).frame("membership")
    return {frozenset(g) for g in members.groupby("customer_id")["record_id"].apply(list)}


def _golden(store: Path) -> pd.DataFrame:
    cust = Store(store).frame("customers").drop(columns=TIMES)
    return cust.sort_values("customer_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def spark_steps():
    """What the Spark ingest did: components calls, files the driver read itself (must be none)."""
    return {"components": [], "driver_read": []}


@pytest.fixture(scope="module")
def stores(tmp_path_factory, spark, spark_steps):
    from custinfo.engines.spark import backend
    from custinfo.ingest import pipeline, prepare

    root = tmp_path_factory.mktemp("engines")
    _ingest_samples(root / "local", "local")
    real_components, real_prepare = backend.spark_components, prepare.prepare_file
    real_read = prepare.read_file

    def components(*args):
        spark_steps["components"].append(args[1])
        return real_components(*args)

    def prepare_here(path, *args, **kwargs):  # the Spark tasks' processes do not see this patch
        spark_steps["driver_read"].append(str(path))
        return real_prepare(path, *args, **kwargs)

    def read_here(path, *args, **kwargs):  # any reading of a file by the driver (map_file's too)
        spark_steps["driver_read"].append(str(path))
        return real_read(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "spark_components", components)
        mp.setattr(prepare, "read_file", read_here)
        mp.setattr(prepare, "prepare_file", prepare_here)
        mp.setattr(pipeline, "prepare_file", prepare_here)  # the name the driver's reading calls
        _ingest_samples(root / "spark", "spark")
    return root / "local", root / "spark"


def _records(store: Path) -> pd.DataFrame:
    recs = Store(store).frame("records").drop(columns=["ingested_at"])
    return recs.sort_values("record_id").reset_index(drop=True)


def test_spark_ingest_stores_the_same_normalized_records(stores):
    local, spark = stores
    pd.testing.assert_frame_equal(_records(spark), _records(local))


def test_spark_ingest_puts_the_same_records_in_the_same_customers(stores):
    local, spark = stores
    found = _customers_of(spark)
    assert found == _customers_of(local)
    assert any(len(c) > 1 for c in found)  # the samples hold duplicates: the check is not vacuous


def test_spark_ingest_reads_the_files_in_spark_tasks_not_on_the_driver(stores, spark_steps):
    assert spark_steps["driver_read"] == []


def test_spark_ingest_takes_its_clusters_components_from_spark(stores, spark_steps):
    assert spark_steps["components"], "cluster() never asked Spark for connected components"


def test_spark_ingest_quarantines_the_same_rows(stores):
    local, spark = stores

    def quarantine(store):
        q = Store(store).frame("quarantine").drop(columns=["batch_id"])
        return q.sort_values(list(q.columns)).reset_index(drop=True)

    pd.testing.assert_frame_equal(quarantine(spark), quarantine(local))
    assert len(quarantine(local)) > 0  # the samples hold unusable rows: the check is not vacuous


def test_spark_ingest_builds_the_same_golden_records(stores):
    local, spark = stores
    pd.testing.assert_frame_equal(_golden(spark), _golden(local))


def test_spark_dedupe_writes_what_local_dedupe_writes(tmp_path, spark):
    files = [str(SAMPLES / f) for f in ("web_form.csv", "crm.xlsx")]
    for engine in ("local", "spark"):
        args = [
            "--quiet",
            "dedupe",
            *files,
            "-o",
            str(tmp_path / f"{engine}.csv"),
            "--golden",
            str(tmp_path / f"{engine}_golden.csv"),
            "--engine",
            engine,
        ]
        assert main(args) == 0
    for name in ("{}.csv", "{}_golden.csv"):
        local = pd.read_csv(tmp_path / name.format("local"), dtype=str)
        spark_out = pd.read_csv(tmp_path / name.format("spark"), dtype=str)
        pd.testing.assert_frame_equal(spark_out, local)
    assert pd.read_csv(tmp_path / "spark.csv")["cluster_size"].max() > 1


def test_engine_spark_without_pyspark_is_a_one_line_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    code = main(
        ["dedupe", str(SAMPLES / "web_form.csv"), "-o", str(tmp_path / "out.csv"), "--engine", "spark"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.splitlines() == [
        "custinfo: error: --engine spark needs pyspark: pip install 'custinfo[spark]'"
    ]
    assert not (tmp_path / "out.csv").exists()


def test_unknown_engine_is_a_usage_error(tmp_path):
    assert (
        main(["dedupe", str(SAMPLES / "web_form.csv"), "-o", str(tmp_path / "o.csv"), "--engine", "hadoop"])
        == 2
    )


def test_every_step_the_spark_engine_takes_over_still_exists_under_its_name():
    """The engine swaps these module attributes for Spark versions; if one were renamed, Spark would
    quietly stop doing that step (results stay equal, so the equality tests would not notice)."""
    from custinfo.engines.spark.backend import _targets

    for mod, name, _ in _targets():
        assert callable(getattr(mod, name, None)), f"{mod.__name__}.{name} is gone"
