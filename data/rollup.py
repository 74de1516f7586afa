"""Ten-minute rollups of readings (count, mean, min, max per sensor), kept in
``readings_10m`` by the worker's ``rollup`` job, by the backfill and by retention, on SQLite
and plain PostgreSQL; on TimescaleDB (state ``active``) its continuous aggregates hold the
same buckets (ten-minute and hourly, real-time) and the table only keeps what was rolled up
before the database was converted. ``rollup_spans`` says where a range's buckets come from,
so callers never ask which database they run on.

Long ranges on the machine page read them instead of millions of raw rows; once retention
removes raw readings they are what remains. A bucket is recomputed from raw readings
whenever it is rolled up again (upsert), so a late reading corrects it, as long as it
arrives before the job has moved on (the job redoes the last ``REDO``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    TableClause,
    cast,
    column,
    delete,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from data.models import Reading, ReadingRollup, RollupDirty
from data.timescale import AGGREGATES, aggregates_in_use

__all__ = [
    "ROLLUP_S",
    "REDO",
    "RollupSpan",
    "floor_bucket",
    "first_dirty",
    "late_horizon",
    "mark_late",
    "mark_late_buckets",
    "roll_up",
    "roll_up_dirty",
    "roll_up_due",
    "rolled_until",
    "rollup_spans",
]

ROLLUP_S = 600
REDO = timedelta(minutes=30)


def floor_bucket(t: datetime) -> datetime:
    seconds = int(t.timestamp()) // ROLLUP_S * ROLLUP_S
    return datetime.fromtimestamp(seconds, UTC)


def _bucket_start(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.to_timestamp(
            func.floor(func.extract("epoch", Reading.ts) / ROLLUP_S) * ROLLUP_S
        )
    # SQLite keeps the app's timestamps as text 'YYYY-MM-DD HH:MM:SS.ffffff'
    # (integer division written out: SQLAlchemy's "/" is true division)
    minute = cast(func.strftime("%M", Reading.ts), Integer).op("/")(10).op("*")(10)
    concat = func.strftime("%Y-%m-%d %H:", Reading.ts).op("||")(func.printf("%02d", minute))
    return concat.op("||")(literal_column("':00.000000'"))


def roll_up(session: Session, start: datetime, stop: datetime) -> None:
    """(Re)compute every ten-minute bucket of [start, stop) from the raw readings."""
    start, stop = floor_bucket(start), floor_bucket(stop)
    if stop <= start:
        return
    dialect = session.get_bind().dialect.name
    bucket = _bucket_start(dialect)
    rows = (
        select(
            Reading.sensor_id,
            bucket.label("bucket"),
            func.count(),
            func.avg(Reading.value),
            func.min(Reading.value),
            func.max(Reading.value),
        )
        .where(Reading.ts >= start, Reading.ts < stop)
        .group_by(Reading.sensor_id, bucket)
    )
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(ReadingRollup).from_select(
        ["sensor_id", "bucket", "n", "mean", "min", "max"], rows
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["sensor_id", "bucket"],
        set_={c: stmt.excluded[c] for c in ("n", "mean", "min", "max")},
    )
    session.execute(stmt)
    session.execute(  # those buckets are fresh now, whatever marked them
        delete(RollupDirty)
        .where(RollupDirty.bucket >= start, RollupDirty.bucket < stop)
        .execution_options(synchronize_session=False)  # one DELETE, as on the table
    )


def roll_up_due(session: Session, now: datetime, *, catch_up: timedelta) -> int:
    """The rollup job's run: redo the last ``REDO``; when behind (after an upgrade, or a
    worker that was away) catch up at most ``catch_up`` per run; then the buckets that got
    late readings. Returns 0 when there are no readings, else 1 + the late buckets redone."""
    now = floor_bucket(now)
    since = rolled_until(session) or session.scalar(select(func.min(Reading.ts)))
    if since is None:
        return 0
    start = min(floor_bucket(since), now - REDO)
    roll_up(session, start, min(start + catch_up, now))
    return 1 + roll_up_dirty(session)


def rolled_until(session: Session) -> datetime | None:
    """Where the rollups end: every bucket before this one is complete."""
    last = session.scalar(select(func.max(ReadingRollup.bucket)))
    return last + timedelta(seconds=ROLLUP_S) if last is not None else None


def mark_late(session: Session, stamps: list[datetime], now: datetime) -> int:
    """Remember the buckets of readings older than the job's redo window (it would not
    see them again); returns how many buckets were marked (none on TimescaleDB)."""
    horizon = late_horizon(now)
    return mark_late_buckets(session, {floor_bucket(t) for t in stamps if t < horizon})


def late_horizon(now: datetime) -> datetime:
    """Readings older than this are late: the rollup job will not look at them again."""
    return now - REDO + timedelta(minutes=5)


def mark_late_buckets(session: Session, late: set[datetime]) -> int:
    """``mark_late`` for buckets already found (``floor_bucket`` of each late reading)."""
    if not late or aggregates_in_use(session.connection()):
        return 0  # (TimescaleDB's aggregates log their own invalidations)
    maker = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        maker(RollupDirty).on_conflict_do_nothing(), [{"bucket": b} for b in sorted(late)]
    )
    return len(late)


def roll_up_dirty(session: Session, limit: int = 1000) -> int:
    """Recompute the marked buckets (oldest first, at most ``limit``) and unmark them."""
    buckets = list(
        session.scalars(select(RollupDirty.bucket).order_by(RollupDirty.bucket).limit(limit))
    )
    for bucket in buckets:  # (each roll_up unmarks its bucket)
        roll_up(session, bucket, bucket + timedelta(seconds=ROLLUP_S))
    return len(buckets)


def first_dirty(session: Session, start: datetime) -> datetime | None:
    """The earliest bucket from ``start`` on whose rollup is out of date."""
    return session.scalar(
        select(func.min(RollupDirty.bucket)).where(RollupDirty.bucket >= floor_bucket(start))
    )


@dataclass(frozen=True, slots=True)
class RollupSpan:
    """Buckets to read from ``table`` (columns sensor_id, bucket, n, mean, min, max; its
    buckets ``seconds`` wide) for [start, end)."""

    table: TableClause
    seconds: int
    start: datetime
    end: datetime


def _bucket_table(name: str) -> TableClause:
    return table(name, *(column(c) for c in ("sensor_id", "bucket", "n", "mean", "min", "max")))


_LEGACY = _bucket_table(ReadingRollup.__tablename__)


def rollup_spans(
    session: Session, sensor_ids: list[int], start: datetime, end: datetime, step: int
) -> tuple[list[RollupSpan], datetime]:
    """Where the buckets of ``step`` seconds (whole ten minutes) of [start, end) come from:
    spans of bucket tables, then raw readings from the returned time on (``end``: none).

    TimescaleDB: its continuous aggregate (the hourly one when ``step`` is whole hours),
    real-time, so no raw tail; before its first bucket, what ``readings_10m`` kept from before
    the conversion. Elsewhere: ``readings_10m`` up to where it is complete (and before the
    first bucket late readings made stale), raw readings after."""
    if aggregates_in_use(session.connection()):
        name = next(n for n, (s, _, _) in reversed(AGGREGATES.items()) if step % s == 0)
        cagg = RollupSpan(_bucket_table(name), AGGREGATES[name][0], start, end)
        begins = _aggregates_begin(session, cagg.table, sensor_ids, start)
        if begins is None or begins <= start:
            return [cagg], end
        legacy = RollupSpan(_LEGACY, ROLLUP_S, start, min(begins, end))
        return [legacy, RollupSpan(cagg.table, cagg.seconds, legacy.end, end)], end
    watermark = rolled_until(session)
    dirty = first_dirty(session, start) if watermark is not None else None
    if watermark is not None and dirty is not None:
        # late readings not rolled up yet: read from there raw
        watermark = min(watermark, dirty)
    if watermark is None or watermark <= start:
        return [], start
    raw_from = min(watermark, end)
    return [RollupSpan(_LEGACY, ROLLUP_S, start, raw_from)], raw_from


def _aggregates_begin(
    session: Session, cagg: TableClause, sensor_ids: list[int], start: datetime
) -> datetime | None:
    """The aggregate's first bucket from ``start`` on, when ``readings_10m`` (kept from
    before the conversion) has buckets there; None when it has none (one index probe)."""
    legacy = session.scalar(
        select(_LEGACY.c.bucket)
        .where(_LEGACY.c.sensor_id.in_(sensor_ids), _LEGACY.c.bucket >= floor_bucket(start))
        .limit(1)
    )
    if legacy is None:
        return None
    first = session.scalar(
        select(func.min(cagg.c.bucket)).where(
            cagg.c.sensor_id.in_(sensor_ids), cagg.c.bucket >= floor_bucket(start)
        )
    )
    return first if first is not None else datetime.max.replace(tzinfo=UTC)
