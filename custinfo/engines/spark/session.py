"""The Spark session custinfo runs on: the one already active (spark-submit, a notebook), else one
started here from `--spark-master`, `$SPARK_MASTER` or spark-defaults.conf, and stopped afterwards.

Local mode is kept small (the box is shared): shuffle partitions from the number of cores, the UI
off, a capped driver memory; every setting can be overridden the usual Spark ways
(`spark-defaults.conf`, `PYSPARK_SUBMIT_ARGS="--conf k=v pyspark-shell"`, spark-submit `--conf`).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from ...errors import CustinfoError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PYSPARK_MISSING = "--engine spark needs pyspark: pip install 'custinfo[spark]'"

# Local mode only: a fast-starting JVM (C1 JIT, serial GC) and a driver sized for a laptop-class box.
_LOCAL_DEFAULTS = {
    "spark.driver.memory": "2g",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
_ALWAYS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "20000",
    "spark.sql.adaptive.enabled": "true",
}


def require_pyspark() -> None:
    """A usage error (exit 2) with the install command when pyspark is not installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise CustinfoError(PYSPARK_MISSING) from exc


def _configured_elsewhere() -> bool:
    """Spark settings given the usual ways (submit args, spark-defaults.conf): custinfo adds none."""
    conf_dir = os.environ.get("SPARK_CONF_DIR") or os.path.join(
        os.environ.get("SPARK_HOME", "/nonexistent"), "conf"
    )
    return bool(os.environ.get("PYSPARK_SUBMIT_ARGS")) or os.path.exists(
        os.path.join(conf_dir, "spark-defaults.conf")
    )


def _is_local(master: str | None) -> bool:
    """Whether custinfo should size the session itself: local mode it starts on its own."""
    return master.startswith("local") if master else not _configured_elsewhere()


def build_session(master: str | None = None) -> SparkSession:
    """A new session for `master` (None: $SPARK_MASTER, spark-defaults.conf, else Spark's default,
    local[*]); sized by custinfo only in a local mode that nothing else configures."""
    from pyspark.sql import SparkSession

    master = master or os.environ.get("SPARK_MASTER") or None
    conf = dict(_ALWAYS)
    if _is_local(master):
        # executors are this machine's Python processes: run them on custinfo's interpreter
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf.update(_LOCAL_DEFAULTS)
        conf["spark.sql.shuffle.partitions"] = str(2 * (os.cpu_count() or 1))
    builder = SparkSession.builder.appName("custinfo")
    if master:
        builder = builder.master(master)
    for k, v in conf.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def spark_session(master: str | None = None) -> Iterator[SparkSession]:
    """The active session if there is one (left running), else a new one stopped on exit."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    spark = build_session(master)
    try:
        yield spark
    finally:
        spark.stop()
