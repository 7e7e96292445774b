"""Arrow <-> pandas for the frames that cross between the driver and Spark tasks.

custinfo's frames hold Python str or None in object columns (pandas 3 would otherwise turn text
into its own string dtype, with NaN for missing), so conversions here are explicit both ways.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def text_table(df: pd.DataFrame, row: np.ndarray | None = None) -> pa.Table:
    """`df` (text or None cells) as an Arrow table of strings, with a leading `_row` when given."""
    cols: dict[str, pa.Array] = {}
    if row is not None:
        cols["_row"] = pa.array(row, type=pa.int64())
    for c in df.columns:
        cols[str(c)] = pa.array(df[c].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    return pa.table(cols)


def object_frame(tbl: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """An Arrow table as a pandas frame of object columns (str/None for text), RangeIndex."""
    data = {}
    for name, col in zip(tbl.column_names, tbl.columns, strict=True):
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            data[name] = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
        else:
            data[name] = col.to_numpy(zero_copy_only=False)
    return pd.DataFrame(data, index=pd.RangeIndex(tbl.num_rows))


def spark_frame(spark, tbl: pa.Table, partitions: int | None = None):
    """An Arrow table as a Spark DataFrame (optionally spread over `partitions`)."""
    sdf = spark.createDataFrame(tbl)
    return sdf.repartition(partitions) if partitions else sdf
