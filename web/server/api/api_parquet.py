"""Raw readings as a Parquet file written while it is sent: one row group per batch of rows,
each handed to the response as soon as pyarrow has written it, the footer last. A 30-day
export never sits in memory whole, as with the CSV."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["READINGS_SCHEMA", "parquet_stream"]

READINGS_SCHEMA = pa.schema(
    [
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("sensor", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
    ]
)
ROW_GROUP = 50_000  # ≈ 1 MB of Python objects at a time; big enough for Parquet to compress


class _Chunks:
    """A write-only file for pyarrow that keeps what was written until it is taken."""

    closed = False

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def parquet_stream(
    rows: Iterable[tuple[int, datetime, float]], names: dict[int, str], batch: int = ROW_GROUP
) -> Iterator[bytes]:
    """``(sensor_id, ts, value)`` rows as the bytes of a Parquet file (ts, sensor, value),
    a row group per ``batch`` rows; an empty range is a valid file with no rows."""
    sink = _Chunks()
    writer = pq.ParquetWriter(sink, READINGS_SCHEMA, compression="zstd")
    source = iter(rows)
    try:
        while part := list(islice(source, batch)):
            sensor_ids, stamps, values = zip(*part, strict=True)
            table = pa.Table.from_arrays(
                [
                    pa.array(stamps, type=pa.timestamp("us", tz="UTC")),
                    pa.array([names[s] for s in sensor_ids], type=pa.string()),
                    pa.array(values, type=pa.float64()),
                ],
                schema=READINGS_SCHEMA,
            )
            writer.write_table(table, row_group_size=batch)
            yield sink.take()
    finally:
        writer.close()
    yield sink.take()
