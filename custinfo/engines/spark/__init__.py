"""The Spark engine (`--engine spark`): custinfo's ingest/dedupe with reading, normalizing,
blocking, scoring and the components of clustering run as Spark jobs (local mode, or a cluster
through the usual Spark configuration), and the commit to the Delta store done on the driver by the
same store code as the local engine.

Modules: session (start/reuse a SparkSession), frames (Arrow <-> pandas), read (each input file
read and mapped in a task, the rows of a large one normalized in slices by other tasks), normalize
(normalize_frame in tasks), blocking (candidate pairs as joins), compare (comparison levels in
tasks), components (connected components of clustering as Spark jobs), backend (the seams of the
local pipeline pointed at Spark).
"""

from .backend import spark_backend
from .session import PYSPARK_MISSING, require_pyspark, spark_session

__all__ = ["PYSPARK_MISSING", "require_pyspark", "spark_backend", "spark_session"]
