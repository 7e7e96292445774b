"""Fixtures shared by the test modules."""
import os
import shutil

import pytest


@pytest.fixture(scope="module")
def spark():
    """A local Spark session (2 cores, 2 shuffle partitions) per module; skipped without pyspark or Java."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed (pip install 'custinfo[spark]')")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("Spark needs a Java 17+ runtime and none is on PATH")
    from custinfo.engines.spark.session import build_session

    session = build_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
