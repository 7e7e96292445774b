"""Record ids are made in Arrow (a million python strings stayed alive beside the batch through
matching and folding): they must be exactly the ids the f-string made."""
import pyarrow as pa
import pyarrow.compute as pc

from custinfo.ingest.ids import record_ids
from custinfo.store.tables import ARROW_TEXT


def test_record_ids_made_in_arrow_equal_the_formatted_ones():
    got = record_ids(42, 12_345)
    assert got.dtype == ARROW_TEXT
    assert got.tolist() == [f"R{42:06d}-{i:07d}" for i in range(1, 12_346)]
    assert record_ids(1, 0).tolist() == []


def test_row_numbers_past_seven_digits_widen_as_the_format_does():
    # utf8_lpad pads to 7 and never cuts, like f"{i:07d}" (a batch of ten million rows)
    num = pc.utf8_lpad(pc.cast(pa.array([9_999_999, 10_000_000]), pa.string()), width=7, padding="0")
    assert num.to_pylist() == [f"{9_999_999:07d}", f"{10_000_000:07d}"]
