"""The Spark engine (`--engine spark`): custinfo's ingest/dedupe with normalizing, blocking and
scoring run as Spark jobs (local mode, or a cluster through the usual Spark configuration), and
the commit to the Delta store done on the driver by the same store code as the local engine.

Modules: session (start/reuse a SparkSession), frames (Arrow <-> pandas), normalize (normalize_frame
in tasks), blocking (candidate pairs as joins), compare (comparison levels in tasks), backend (the
seams of the local pipeline that are pointed at Spark).
"""

from .backend import spark_backend
from .session import PYSPARK_MISSING, require_pyspark, spark_session

__all__ = ["PYSPARK_MISSING", "require_pyspark", "spark_backend", "spark_session"]
