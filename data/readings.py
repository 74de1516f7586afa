"""Bulk, idempotent writes of readings and dead letters, and the reads that graphs share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, and_, cast, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from data.bulk_readings import copy_into_readings, copy_rows
from data.models import DeadLetter, Machine, Reading, Sensor
from data.rollup import ROLLUP_S, late_horizon, mark_late, mark_late_buckets
from data.value_steps import StepTable

__all__ = [
    "ReadingColumns",
    "epoch_microseconds",
    "insert_reading_columns",
    "insert_readings",
    "insert_dead_letters",
    "readings_since",
    "bucket_start",
    "bucketed_readings",
    "time_bucket",
    "sensor_means",
    "SQLITE_TS_FORMAT",
]

# SQLAlchemy's own storage format for DateTime on SQLite: raw inserts must match it
# exactly, or the primary key (sensor_id, ts) would not catch a redelivered reading.
SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

# PostgreSQL: binary COPY into a per-connection staging table, then one idempotent INSERT.
# Measured (docs/benchmarks.md): ~1.6x the earlier INSERT … SELECT unnest(arrays), whose
# array-to-text conversion ran in pure Python.
_PG_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS pdm_staging "
    "(sensor_id int4, ts timestamptz, value float8) ON COMMIT DELETE ROWS"
)
_PG_COPY = "COPY pdm_staging (sensor_id, ts, value) FROM STDIN (FORMAT BINARY)"
_PG_MERGE = (
    "INSERT INTO readings (sensor_id, ts, value) SELECT sensor_id, ts, value FROM pdm_staging "
    "ON CONFLICT DO NOTHING"
)
_SQLITE_INSERT = "INSERT OR IGNORE INTO readings (sensor_id, ts, value) VALUES (?, ?, ?)"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def epoch_microseconds(seconds: np.ndarray) -> np.ndarray:
    """Unix epoch seconds (float64) to integer microseconds, rounded exactly as
    ``datetime.fromtimestamp(s, UTC)`` rounds them (whole seconds plus the fraction's
    microseconds, half to even), so a reading stored through either is the same key."""
    fraction, whole = np.modf(seconds)
    return whole.astype(np.int64) * 1_000_000 + np.rint(fraction * 1e6).astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class ReadingColumns:
    """Rows for ``insert_reading_columns``, column by column, with their binary COPY built
    when they are (outside the transaction: the drain builds the next batch's while the
    previous one commits). ``ts_us``: microseconds since the Unix epoch, UTC."""

    sensor_ids: np.ndarray  # int64
    ts_us: np.ndarray  # int64
    values: np.ndarray  # float64
    copy_data: bytes  # PostgreSQL binary COPY of the rows, header and trailer included

    @classmethod
    def build(
        cls,
        sensor_ids: Sequence[int],
        epoch_seconds: Sequence[float],
        values: Sequence[float],
        rows: Sequence[tuple[int, datetime, float]] = (),
        steps: StepTable | None = None,
    ) -> ReadingColumns:
        """Readings given as epoch seconds, then ``rows`` with datetimes (each exact); the
        values on their sensors' ``steps`` when given (``data.value_steps``)."""
        ts_us = epoch_microseconds(np.asarray(epoch_seconds, dtype=np.float64))
        sids = np.asarray(sensor_ids, dtype=np.int64)
        vals = np.asarray(values, dtype=np.float64)
        if rows:
            ts_us = np.concatenate(
                [ts_us, np.array([(ts - _EPOCH) // _US for _, ts, _ in rows], dtype=np.int64)]
            )
            sids = np.concatenate([sids, np.array([r[0] for r in rows], dtype=np.int64)])
            vals = np.concatenate([vals, np.array([r[2] for r in rows], dtype=np.float64)])
        if steps:
            vals = steps.apply(sids, vals)
        return cls(sids, ts_us, vals, copy_rows(sids, ts_us, vals))

    def __len__(self) -> int:
        return len(self.sensor_ids)

    def rows(self) -> list[tuple[int, datetime, float]]:
        """As ``insert_readings`` takes them."""
        return [
            (int(sid), _EPOCH + timedelta(microseconds=int(us)), float(value))
            for sid, us, value in zip(self.sensor_ids, self.ts_us, self.values, strict=True)
        ]

    def late_buckets(self, now: datetime) -> set[datetime]:
        """``floor_bucket`` of every reading older than ``late_horizon(now)``."""
        horizon = (late_horizon(now) - _EPOCH) // _US
        late = self.ts_us[self.ts_us < horizon]
        if not late.size:
            return set()
        starts = np.unique(late // (ROLLUP_S * 1_000_000)) * ROLLUP_S
        return {datetime.fromtimestamp(int(s), UTC) for s in starts}


def insert_reading_columns(*, session: Session, columns: ReadingColumns) -> int:
    """``insert_readings`` for prepared columns: on PostgreSQL their binary COPY is sent
    as it is (no Python work per row inside the transaction), straight into ``readings``
    unless one of them is stored already (``data.bulk_readings.copy_into_readings``: then
    merged with ``ON CONFLICT DO NOTHING``); returns rows inserted."""
    if not len(columns):
        return 0
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return insert_readings(session=session, rows=columns.rows())
    dbapi = conn.connection.dbapi_connection
    inserted = _raised_as_dbapi_error(
        "COPY readings", partial(copy_into_readings, dbapi, columns.copy_data)
    )
    if inserted:  # late readings: their ten-minute rollups must be recomputed
        mark_late_buckets(session, columns.late_buckets(datetime.now(UTC)))
    return inserted


def insert_readings(*, session: Session, rows: Sequence[tuple[int, datetime, float]]) -> int:
    """Insert (sensor_id, ts, value) rows, skipping ones already stored; returns rows inserted."""
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        dbapi = conn.connection.dbapi_connection
        inserted = _raised_as_dbapi_error(_PG_COPY, partial(_copy_merge, dbapi, rows))
    elif conn.dialect.name == "sqlite":
        params = [
            (sid, ts.astimezone(UTC).strftime(SQLITE_TS_FORMAT), value) for sid, ts, value in rows
        ]
        inserted = int(conn.exec_driver_sql(_SQLITE_INSERT, params).rowcount)
    else:
        raise NotImplementedError(f"no bulk insert for {conn.dialect.name}")
    if inserted:  # late readings: their ten-minute rollups must be recomputed
        mark_late(session, [ts for _, ts, _ in rows], datetime.now(UTC))
    return inserted


def _raised_as_dbapi_error(statement: str, call: Callable[[], int]) -> int:
    """``call()``, with psycopg's errors wrapped as SQLAlchemy wraps them (callers expect a
    ``DBAPIError``; these paths use the raw psycopg cursor for COPY)."""
    import psycopg  # lazy: only the PostgreSQL path uses it

    try:
        return call()
    except psycopg.Error as err:
        raise DBAPIError.instance(statement, None, err, psycopg.Error) from err


def _copy_merge(dbapi: object, rows: Sequence[tuple[int, datetime, float]]) -> int:
    """COPY ``rows`` into the staging table, then merge; returns rows inserted."""
    # psycopg's own cursor (a context manager with COPY), which SQLAlchemy hands over untyped
    with dbapi.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute(_PG_STAGING)
        with cur.copy(_PG_COPY) as copy:
            copy.set_types(["int4", "timestamptz", "float8"])
            for row in rows:
                copy.write_row(row)
        cur.execute(_PG_MERGE)
        inserted = cur.rowcount
        cur.execute("TRUNCATE pdm_staging")  # a batch may share its transaction with more
        return int(inserted)


def insert_dead_letters(*, session: Session, letters: Sequence[dict[str, object]]) -> None:
    """Store refused messages (topic, payload, reason, detail) for inspection."""
    if letters:
        session.execute(insert(DeadLetter), list(letters))


def readings_since(
    *, session: Session, machine_ids: Sequence[int], kinds: Sequence[str], since: datetime
) -> pd.DataFrame:
    """Readings of the given machines and sensor kinds newer than ``since``, oldest first."""
    stmt = (
        select(Sensor.machine_id, Sensor.kind, Reading.ts, Reading.value)
        .join(Sensor, Sensor.id == Reading.sensor_id)
        .where(and_(Sensor.machine_id.in_(machine_ids), Sensor.kind.in_(kinds), Reading.ts > since))
        .order_by(Reading.ts)
    )
    rows = [tuple(r) for r in session.execute(stmt)]  # (a frame from Row objects is slow)
    return pd.DataFrame(rows, columns=["machine_id", "kind", "ts", "value"])


def bucket_start(bucket: int, step_s: float) -> datetime:
    """When the ``step_s``-second bucket number ``bucket`` (``time_bucket``'s) begins."""
    return datetime.fromtimestamp(bucket * step_s, UTC)


def time_bucket(session: Session, column: Any, step_s: float) -> Any:
    """The number of the ``step_s``-second bucket a timestamp column falls in (epoch
    seconds // step), computed in SQL on either database."""
    if session.get_bind().dialect.name == "postgresql":  # 64-bit: steps may be under 1 s
        return cast(func.floor(func.extract("epoch", column) / step_s), BigInteger)
    # SQLite: julianday counts days since noon, 24 November 4714 BC
    # (0.5 ms added: julianday's float arithmetic puts x.000 s at x - 1e-6)
    seconds = (func.julianday(column) - 2440587.5) * 86400.0 + 0.0005
    return cast(seconds / step_s, Integer)


def bucketed_readings(
    *,
    session: Session,
    since: datetime,
    step_s: float,
    shard: tuple[int, int] | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Per machine in service, sensor kind and time bucket of ``step_s`` seconds since
    ``since`` (and before ``until``): the mean value, averaged in the database so few rows
    travel.
    ``shard`` (k, K): only the machines with machine_id % K == k.
    Columns: machine_id, type, kind, bucket (epoch seconds // step), value."""
    bucket = time_bucket(session, Reading.ts, step_s)
    stmt = (
        select(
            Sensor.machine_id,
            Machine.type,
            Sensor.kind,
            bucket.label("bucket"),
            func.avg(Reading.value),
        )
        .join(Sensor, Sensor.id == Reading.sensor_id)
        .join(Machine, Machine.id == Sensor.machine_id)
        .where(Reading.ts >= since, Machine.retired_at.is_(None))
        .group_by(Sensor.machine_id, Machine.type, Sensor.kind, bucket)
    )
    if shard is not None:
        stmt = stmt.where(Sensor.machine_id % shard[1] == shard[0])
    if until is not None:
        stmt = stmt.where(Reading.ts < until)
    frame = pd.DataFrame(
        session.execute(stmt).all(), columns=["machine_id", "type", "kind", "bucket", "value"]
    )
    frame["bucket"] = frame["bucket"].astype("int64")
    return frame


def sensor_means(
    *, session: Session, machine_id: int, start: datetime, end: datetime
) -> dict[str, float]:
    """Each sensor's mean reading of one machine in [start, end): {sensor kind: mean}."""
    rows = session.execute(
        select(Sensor.kind, func.avg(Reading.value))
        .join(Reading, Reading.sensor_id == Sensor.id)
        .where(Sensor.machine_id == machine_id, Reading.ts >= start, Reading.ts < end)
        .group_by(Sensor.kind)
    )
    return {kind: float(mean) for kind, mean in rows if mean is not None}
