"""`ingest --engine spark` reads the files in Spark tasks: a file the readers refuse must still stop
the command with the local engine's one-line error (naming the file and row) and exit code, the
first bad file in the order given winning, with nothing written."""

from pathlib import Path

import pytest

from custinfo.cli.main import main

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture(scope="module")
def no_contact(tmp_path_factory):
    f = tmp_path_factory.mktemp("in") / "orders_no_contact_columns.csv"
    f.write_text("产品,数量\n螺丝,3\n", encoding="utf-8")
    return f


def _both_engines(tmp_path, capsys, *args):
    """(exit code, stderr lines, store written?) of `ingest ARGS` per engine."""
    out = {}
    for engine in ("local", "spark"):
        store = tmp_path / engine
        code = main(["--quiet", "ingest", *map(str, args), "--store", str(store), "--engine", engine])
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        out[engine] = (code, err, (store / "_manifest").exists())
    return out


def test_spark_reader_error_is_the_local_one_line_error_naming_the_row(spark, tmp_path, capsys):
    got = _both_engines(
        tmp_path, capsys, SAMPLES / "web_form.csv", DATA / "gbk_chinese_headers.csv", "--encoding", "utf-8"
    )
    code, err, written = got["local"]
    assert code == 2 and len(err) == 1 and "row" in err[0] and "gbk_chinese_headers.csv" in err[0]
    assert not written
    assert got["spark"] == got["local"]


def test_spark_reports_the_first_bad_file_in_the_order_given(spark, tmp_path, capsys, no_contact):
    """Files are read in parallel: the error raised is still the one the local engine meets first."""
    missing = Path("no/such/export.csv")  # relative, as typed: named as given, not as an executor's path
    got = _both_engines(tmp_path, capsys, SAMPLES / "web_form.csv", no_contact, missing)
    code, err, _ = got["local"]
    assert code == 2 and "no name, phone or email column" in err[0]
    assert got["spark"] == got["local"]
    got = _both_engines(tmp_path, capsys, missing, no_contact)
    hint = "(hint: check the path and the file name)"
    assert got["local"][1] == [f"custinfo: error: {missing}: file not found {hint}"]
    assert got["spark"] == got["local"]


def test_the_spark_seams_take_the_arguments_of_the_functions_they_replace():
    """A parameter added to `_prepare_each` or `connected_components` must reach the Spark version
    too: otherwise `--engine spark` fails (or ignores it) while every local test passes."""
    import inspect

    from custinfo.engines.spark.backend import _SparkSeams
    from custinfo.ingest import pipeline
    from custinfo.match import cluster

    for local, seam in [
        (pipeline._prepare_each, _SparkSeams.prepare_each),
        (cluster.connected_components, _SparkSeams.components),
    ]:
        expected = list(inspect.signature(local).parameters)
        assert list(inspect.signature(seam).parameters)[1:] == expected, local.__name__


ALL_SAMPLES = ["web_form.csv", "call_center.csv", "trade_show.xlsx", "crm.xlsx", "purchased_list.csv"]


def _jobs(names):
    """prepare_on_spark's jobs for sample files, as the engine makes them (config, allowed fields)."""
    from custinfo.config import load_config
    from custinfo.ingest.pipeline import _security_policy, infer_channel

    policy, jobs = _security_policy(), []
    for i, name in enumerate(names):
        channel = infer_channel(name)
        config = load_config(None, channel if channel != "default" else None)
        config.channel = channel
        jobs.append((i, SAMPLES / name, config, None, policy.allowed_fields(channel)))
    return jobs


def _slice_tasks(spark, monkeypatch):
    """Counts the Spark tasks that normalized at least one slice (a spy on the normalizing task)."""
    from custinfo.engines.spark import read

    real, tasks = read._normalize_task, spark.sparkContext.accumulator(0)

    def spy(items):
        items = list(items)
        if any(item[0] == "slice" for _, item in items):
            tasks.add(1)
        return real(iter(items))

    monkeypatch.setattr(read, "_normalize_task", spy)
    return tasks


def _assert_same_prepared(got, want):
    import pandas as pd

    pd.testing.assert_frame_equal(got.records, want.records)  # same rows, values, dtypes, order
    pd.testing.assert_frame_equal(got.quarantine, want.quarantine)
    fields = ("path", "name", "sha256", "sheets", "header_maps", "warnings", "channel", "dropped_columns")
    assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]


def test_spark_normalizes_a_large_file_in_several_tasks_as_local_does(spark, monkeypatch):
    """Since f5f7121 a file was read, mapped AND normalized in one task: one big export kept one core
    busy however large the cluster. Above SPLIT_ROWS the file's rows must be normalized in slices
    by several tasks, and still give the local records and quarantine, in the local order."""
    from custinfo.engines.spark import read
    from custinfo.ingest import prepare

    jobs = _jobs(["web_form.csv"])  # 264 rows, 4 of them quarantined
    local = prepare.prepare_file(jobs[0][1], jobs[0][2], allowed=jobs[0][4])
    monkeypatch.setattr(read, "SPLIT_ROWS", 100)
    monkeypatch.setattr(read, "SLICE_MIN_ROWS", 20)
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 40)  # 8 slices of 33 rows
    tasks = _slice_tasks(spark, monkeypatch)
    [got] = read.prepare_on_spark(spark, jobs, read_here=None)
    assert tasks.value > 1
    assert len(local.quarantine) == 4
    _assert_same_prepared(got, local)


def test_spark_gives_the_local_files_whether_they_are_cut_in_slices_or_not(spark, monkeypatch):
    """Small files (normalized where they are read) and cut ones (sheets of a workbook, files without
    quarantined rows) in one call: each the local engine's PreparedFile, in the order given."""
    from custinfo.engines.spark import read
    from custinfo.ingest import prepare

    jobs = _jobs(ALL_SAMPLES)
    local = [prepare.prepare_file(p, c, allowed=a) for _, p, c, _, a in jobs]
    monkeypatch.setattr(read, "SPLIT_ROWS", 200)  # web_form, call_center, trade_show (2 sheets), crm
    monkeypatch.setattr(read, "SLICE_MIN_ROWS", 30)
    tasks = _slice_tasks(spark, monkeypatch)
    got = read.prepare_on_spark(spark, jobs, read_here=None)
    assert tasks.value > 1
    for g, want in zip(got, local, strict=True):
        _assert_same_prepared(g, want)
