"""Bulk, idempotent writes of readings and dead letters, and the reads that graphs share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from data.models import DeadLetter, Reading, Sensor

__all__ = ["insert_readings", "insert_dead_letters", "readings_since", "SQLITE_TS_FORMAT"]

# SQLAlchemy's own storage format for DateTime on SQLite: raw inserts must match it
# exactly, or the primary key (sensor_id, ts) would not catch a redelivered reading.
SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

_PG_INSERT = (
    "INSERT INTO readings (sensor_id, ts, value) "
    "SELECT * FROM unnest(%(s)s::int[], %(t)s::timestamptz[], %(v)s::float8[]) "
    "ON CONFLICT DO NOTHING"
)
_SQLITE_INSERT = "INSERT OR IGNORE INTO readings (sensor_id, ts, value) VALUES (?, ?, ?)"


def insert_readings(*, session: Session, rows: Sequence[tuple[int, datetime, float]]) -> int:
    """Insert (sensor_id, ts, value) rows, skipping ones already stored; returns rows inserted."""
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        sensor_ids, stamps, values = (list(col) for col in zip(*rows, strict=True))
        result = conn.exec_driver_sql(_PG_INSERT, {"s": sensor_ids, "t": stamps, "v": values})
        return int(result.rowcount)
    if conn.dialect.name == "sqlite":
        params = [
            (sid, ts.astimezone(UTC).strftime(SQLITE_TS_FORMAT), value) for sid, ts, value in rows
        ]
        return int(conn.exec_driver_sql(_SQLITE_INSERT, params).rowcount)
    raise NotImplementedError(f"no bulk insert for {conn.dialect.name}")


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
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["machine_id", "kind", "ts", "value"])
