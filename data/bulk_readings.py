"""Bulk, idempotent writes of generated readings, for the backfill: numpy arrays in, rows out;
and where a machine's stored readings lie (what a backfill must not write over).

PostgreSQL gets one binary ``COPY`` per call, its bytes built by numpy (no Python loop per
row), straight into ``readings`` inside a savepoint; if that collides with rows already there,
the call falls back to a staging table and ``INSERT … ON CONFLICT DO NOTHING``. SQLite gets
``INSERT OR IGNORE`` with ``executemany``. Neither commits: the caller's unit of work does.
The SQL of the writes matches ``data.models.Reading``.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Reading

__all__ = ["write_readings", "copy_rows", "copy_into_readings", "sqlite_stamps", "stored_bounds"]

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01: binary timestamptz counts microseconds from it
_PG_ROW = np.dtype(  # one tuple of binary COPY: field count, then (length, big-endian value)s
    [
        ("fields", ">i2"),
        ("sid_len", ">i4"),
        ("sid", ">i4"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
        ("value_len", ">i4"),
        ("value", ">f8"),
    ]
)
_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_PG_TRAILER = b"\xff\xff"
_PG_COPY = "COPY {} (sensor_id, ts, value) FROM STDIN (FORMAT BINARY)"
_PG_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS pdm_backfill_staging "
    "(sensor_id int4, ts timestamptz, value float8) ON COMMIT DELETE ROWS"
)
_PG_MERGE = (
    "INSERT INTO readings (sensor_id, ts, value) SELECT sensor_id, ts, value "
    "FROM pdm_backfill_staging ON CONFLICT DO NOTHING"
)
_SQLITE_INSERT = "INSERT OR IGNORE INTO readings (sensor_id, ts, value) VALUES (?, ?, ?)"


def write_readings(
    *, session: Session, sensor_ids: list[int], ts_us: np.ndarray, values: np.ndarray
) -> int:
    """Insert ``values[i, j]`` of sensor ``sensor_ids[i]`` at epoch microseconds ``ts_us[j]``,
    skipping rows already stored; returns rows inserted. Does not commit."""
    if values.size == 0:
        return 0
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        return copy_into_readings(dbapi, _pg_binary(sensor_ids, ts_us, values))
    if conn.dialect.name == "sqlite":
        return _sqlite_write(dbapi, sensor_ids, ts_us, values)
    raise NotImplementedError(f"no bulk insert for {conn.dialect.name}")


def _pg_binary(sensor_ids: list[int], ts_us: np.ndarray, values: np.ndarray) -> bytes:
    """The grid's rows as a whole binary COPY stream, built by numpy rather than row by row."""
    return copy_rows(
        np.repeat(np.asarray(sensor_ids, dtype=np.int32), ts_us.size),
        np.tile(ts_us, len(sensor_ids)),
        values.ravel(),
    )


def copy_rows(sensor_ids: np.ndarray, ts_us: np.ndarray, values: np.ndarray) -> bytes:
    """Rows given column by column (sensor id, epoch microseconds, value) as one binary
    COPY stream for ``copy_into_readings``, built by numpy."""
    rows = np.empty(values.size, _PG_ROW)
    rows["fields"], rows["sid_len"], rows["ts_len"], rows["value_len"] = 3, 4, 8, 8
    rows["sid"], rows["ts"], rows["value"] = sensor_ids, ts_us - _PG_EPOCH_US, values
    return _PG_SIGNATURE + rows.tobytes() + _PG_TRAILER


def copy_into_readings(dbapi: object, data: bytes) -> int:
    """One binary COPY stream (``copy_rows``) straight into ``readings`` inside a savepoint
    (no staging, no per-row conflict check); if a row is stored already, rolled back and
    merged through a staging table with ``ON CONFLICT DO NOTHING``. Returns rows inserted;
    psycopg's own cursor (PostgreSQL only)."""
    import psycopg  # lazy: only the PostgreSQL path uses it

    rows = (len(data) - len(_PG_SIGNATURE) - len(_PG_TRAILER)) // _PG_ROW.itemsize
    with dbapi.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SAVEPOINT pdm_backfill")
        try:
            with cur.copy(_PG_COPY.format("readings")) as copy:
                copy.write(data)
        except psycopg.errors.UniqueViolation:
            # someone wrote into the gap since we looked (live ingest), or a message came
            # again (a redelivery): keep what is stored, add the rest
            cur.execute("ROLLBACK TO SAVEPOINT pdm_backfill")
            cur.execute(_PG_STAGING)
            with cur.copy(_PG_COPY.format("pdm_backfill_staging")) as copy:
                copy.write(data)
            cur.execute(_PG_MERGE)
            rows = cur.rowcount
            cur.execute("TRUNCATE pdm_backfill_staging")
        cur.execute("RELEASE SAVEPOINT pdm_backfill")
        return int(rows)


def _sqlite_write(
    dbapi: object, sensor_ids: list[int], ts_us: np.ndarray, values: np.ndarray
) -> int:
    stamps = sqlite_stamps(ts_us)
    rows = itertools.chain.from_iterable(
        zip(itertools.repeat(sid), stamps, series.tolist(), strict=False)
        for sid, series in zip(sensor_ids, values, strict=True)
    )
    cur = dbapi.cursor()  # type: ignore[attr-defined]
    try:
        cur.executemany(_SQLITE_INSERT, rows)
        return int(cur.rowcount)
    finally:
        cur.close()


def sqlite_stamps(ts_us: np.ndarray) -> list[str]:
    """Epoch microseconds as SQLAlchemy stores DateTime on SQLite (``SQLITE_TS_FORMAT`` in
    data/readings.py, "YYYY-MM-DD HH:MM:SS.ffffff"): the primary key compares this text."""
    text = np.datetime_as_string(ts_us.astype("datetime64[us]"), unit="us").tolist()
    return [s.replace("T", " ") for s in text]


def stored_bounds(
    *, session: Session, sensor_ids: list[int], start: datetime, end: datetime
) -> tuple[datetime, datetime] | None:
    """The first and last stored reading of these sensors within [start, end], if any."""
    lo: datetime | None = None
    hi: datetime | None = None
    for sid in sensor_ids:  # one sensor at a time: min/max come straight off the primary key
        first, last = session.execute(
            select(func.min(Reading.ts), func.max(Reading.ts)).where(
                Reading.sensor_id == sid, Reading.ts >= start, Reading.ts <= end
            )
        ).one()
        if first is not None:
            lo, hi = min(lo or first, first), max(hi or last, last)
    return None if lo is None or hi is None else (lo, hi)
