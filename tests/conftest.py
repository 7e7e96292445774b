"""Fixtures shared by the test modules."""
import os
import shutil

import pytest


# The modules that take longest (seconds of one worker, measured on 2026-12-07: 78, 75, 71, 55, 46, 40,
# 32, 29), handed out first. `make test` gives whole files to the workers in collection order
# (`--dist loadfile --no-loadscope-reorder`); xdist's own order, most tests first, put the Spark
# modules (a few tests of a minute each) last, and one worker ran them for minutes after the other
# had finished (7 minutes in CI for 590 s of tests on two workers).
LONG_MODULES = (
    "test_spark_engine.py",
    "test_ingest.py",
    "test_spark_cluster.py",
    "test_customers.py",
    "test_crash_safety.py",
    "test_cli.py",
    "test_protection.py",
    "test_existing_records.py",
)


def pytest_collection_modifyitems(items):
    first = {name: i for i, name in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: first.get(item.path.name, len(first)))  # stable: files keep their order


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 cores, 2 shuffle partitions) per test process, shared by the Spark
    modules (a JVM start each took 10 s or more); skipped without pyspark or Java."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed (pip install 'custinfo[spark]')")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("Spark needs a Java 17+ runtime and none is on PATH")
    from custinfo.engines.spark.session import build_session

    session = build_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
