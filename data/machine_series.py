"""One machine's history at any range, reduced in the database so few rows travel.

A range is cut into at most ``max_points`` time buckets; each bucket carries the min,
max and mean of its readings, so a one-second vibration spike survives on a 90-day
chart (it becomes the bucket's max) while the browser receives a few thousand points.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import ColumnElement, Executable, Integer, and_, cast, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from data.models import (
    Alarm,
    Downtime,
    Machine,
    Prediction,
    Reading,
    Sensor,
    Ticket,
)
from data.readings import time_bucket
from data.rollup import ROLLUP_S, RollupSpan, rollup_spans

__all__ = [
    "MachineEvent",
    "SensorInfo",
    "bucket_seconds",
    "fleet_sparklines",
    "machine_by_name",
    "machine_events",
    "machine_sensors",
    "prediction_history",
    "raw_readings",
    "sensor_history",
]


@dataclass(frozen=True, slots=True)
class SensorInfo:
    id: int
    key: str
    kind: str
    unit: str
    warn_low: float | None
    warn_high: float | None
    crit_low: float | None
    crit_high: float | None


@dataclass(frozen=True, slots=True)
class MachineEvent:
    """One line of a machine's timeline: an alarm, a ticket or a downtime period."""

    kind: str  # alarm | ticket | downtime
    start: datetime
    end: datetime | None
    title: str
    detail: str
    severity: str  # danger | warning | info | secondary: how to colour it
    sensor_id: int | None = None
    ref: int | None = None  # alarm / ticket / downtime id
    value: float | None = None  # the reading or probability that raised an alarm


def bucket_seconds(start: datetime, end: datetime, max_points: int) -> int:
    """The bucket width that cuts [start, end) into at most ``max_points`` buckets."""
    return max(1, math.ceil((end - start).total_seconds() / max_points))


def machine_sensors(*, session: Session, machine_id: int) -> list[SensorInfo]:
    stmt = select(Sensor).where(Sensor.machine_id == machine_id).order_by(Sensor.id)
    return [
        SensorInfo(s.id, s.key, s.kind, s.unit, s.warn_low, s.warn_high, s.crit_low, s.crit_high)
        for s in session.scalars(stmt)
    ]


def _epoch_to_ts(buckets: pd.Series, step_s: int) -> pd.Series:
    """The middle of each bucket, as UTC timestamps."""
    return pd.to_datetime((buckets.astype("int64") * step_s + step_s / 2) * 1e9, utc=True)


def sensor_history(
    *,
    session: Session,
    sensor_ids: list[int],
    start: datetime,
    end: datetime,
    max_points: int = 1500,
) -> pd.DataFrame:
    """Per sensor and bucket: ts (bucket middle), mean, lo, hi, n. Oldest first.

    Buckets of ten minutes or more are built from stored buckets (the width rounded up to
    whole ten minutes; ``data.rollup.rollup_spans`` says which: the ten-minute rollups and
    raw readings after them, or TimescaleDB's continuous aggregates): a 30-day range reads
    about 4,300 bucket rows per sensor instead of 2.6 million readings at 1 Hz."""
    step = bucket_seconds(start, end, max_points)
    raw_from = start
    parts = []
    if step >= ROLLUP_S:
        step = -(-step // ROLLUP_S) * ROLLUP_S
        spans, raw_from = rollup_spans(session, sensor_ids, start, end, step)
        parts += [_rows(session, _span_buckets(sensor_ids, span, step, session)) for span in spans]
    if raw_from < end:
        parts.append(_rows(session, _raw_buckets(sensor_ids, raw_from, end, step, session)))
    frame = _merge(parts)
    frame["ts"] = _epoch_to_ts(frame["bucket"], step) if not frame.empty else []
    return frame.drop(columns="bucket").reset_index(drop=True)


_COLUMNS = ["sensor_id", "bucket", "mean", "lo", "hi", "n"]


def _rows(session: Session, stmt: Executable) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=_COLUMNS)


def _merge(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame; a bucket split between rollups and raw readings is joined (mean by n)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=_COLUMNS)
    if len(parts) == 1:
        return parts[0]
    frame = pd.concat(parts, ignore_index=True)
    frame["total"] = frame["mean"] * frame["n"]
    joined = frame.groupby(["sensor_id", "bucket"], as_index=False).agg(
        total=("total", "sum"), lo=("lo", "min"), hi=("hi", "max"), n=("n", "sum")
    )
    joined["mean"] = joined["total"] / joined["n"]
    return joined[_COLUMNS]


def _raw_buckets(
    sensor_ids: list[int], start: datetime, end: datetime, step: int, session: Session
) -> Executable:
    bucket = time_bucket(session, Reading.ts, step).label("bucket")
    return (
        select(
            Reading.sensor_id,
            bucket,
            func.avg(Reading.value),
            func.min(Reading.value),
            func.max(Reading.value),
            func.count(),
        )
        .where(Reading.sensor_id.in_(sensor_ids), Reading.ts >= start, Reading.ts < end)
        .group_by(Reading.sensor_id, bucket)
        .order_by(Reading.sensor_id, bucket)
    )


def _span_buckets(
    sensor_ids: list[int], span: RollupSpan, step: int, session: Session
) -> Executable:
    """The same buckets from stored ones (mean weighted by count)."""
    t = span.table.c
    bucket = time_bucket(session, t.bucket, step).label("bucket")
    n = func.sum(t.n)
    return (
        select(t.sensor_id, bucket, func.sum(t.mean * t.n) / n, func.min(t.min), func.max(t.max), n)
        .where(
            t.sensor_id.in_(sensor_ids),
            t.bucket >= _floor(span.start, span.seconds),
            t.bucket < span.end,
        )
        .group_by(t.sensor_id, bucket)
        .order_by(t.sensor_id, bucket)
    )


def _floor(t: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(t.timestamp()) // seconds * seconds, UTC)


def prediction_history(
    *, session: Session, machine_id: int, start: datetime, end: datetime, max_points: int = 1500
) -> pd.DataFrame:
    """Per bucket: ts, the highest failure probability and anomaly score, and whether
    any scoring in it flagged an anomaly (so one anomalous tick is never averaged away)."""
    step = bucket_seconds(start, end, max_points)
    bucket = time_bucket(session, Prediction.ts, step).label("bucket")
    stmt = (
        select(
            bucket,
            func.max(Prediction.failure_probability),
            func.max(Prediction.anomaly_score),
            func.max(cast(Prediction.is_anomaly, Integer)),
        )
        .where(Prediction.machine_id == machine_id, Prediction.ts >= start, Prediction.ts < end)
        .group_by(bucket)
        .order_by(bucket)
    )
    frame = pd.DataFrame(
        session.execute(stmt).all(),
        columns=["bucket", "failure_probability", "anomaly_score", "anomaly"],
    )
    frame["ts"] = _epoch_to_ts(frame["bucket"], step) if not frame.empty else []
    frame["anomaly"] = frame["anomaly"].fillna(0).astype(bool)
    return frame.drop(columns="bucket")


def fleet_sparklines(
    *,
    session: Session,
    machine_ids: list[int],
    kinds: tuple[str, ...],
    start: datetime,
    step_s: int,
) -> pd.DataFrame:
    """Bucket means of a few sensor kinds for many machines, sorted for slicing:
    machine_id, kind, ms (the bucket's middle in epoch milliseconds), value."""
    bucket = time_bucket(session, Reading.ts, step_s).label("bucket")
    stmt = (
        select(Sensor.machine_id, Sensor.kind, bucket, func.avg(Reading.value))
        .join(Sensor, Sensor.id == Reading.sensor_id)
        .where(Sensor.machine_id.in_(machine_ids), Sensor.kind.in_(kinds), Reading.ts >= start)
        .group_by(Sensor.machine_id, Sensor.kind, bucket)
        .order_by(Sensor.machine_id, Sensor.kind, bucket)
    )
    frame = pd.DataFrame(
        [tuple(r) for r in session.execute(stmt)], columns=["machine_id", "kind", "bucket", "value"]
    )  # (plain tuples: building the frame from Row objects costs four times as much)
    frame["ms"] = frame["bucket"].astype("int64") * step_s * 1000 + step_s * 500
    return frame.drop(columns="bucket")


def machine_events(
    *, session: Session, machine_id: int, start: datetime, end: datetime, limit: int = 200
) -> list[MachineEvent]:
    """Alarms, tickets and downtime overlapping [start, end), newest first."""

    def overlaps(
        begin: QueryableAttribute[datetime], finish: QueryableAttribute[datetime | None]
    ) -> ColumnElement[bool]:
        return and_(begin < end, or_(finish.is_(None), finish >= start))

    alarms = session.scalars(
        select(Alarm)
        .where(Alarm.machine_id == machine_id, overlaps(Alarm.raised_at, Alarm.cleared_at))
        .order_by(Alarm.raised_at.desc())
        .limit(limit)
    )
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.machine_id == machine_id, overlaps(Ticket.created_at, Ticket.resolved_at))
        .order_by(Ticket.created_at.desc())
        .limit(limit)
    )
    downtime = session.scalars(
        select(Downtime)
        .where(Downtime.machine_id == machine_id, overlaps(Downtime.started_at, Downtime.ended_at))
        .order_by(Downtime.started_at.desc())
        .limit(limit)
    )
    events = [_alarm_event(a) for a in alarms]
    events += [_ticket_event(t) for t in tickets]
    events += [_downtime_event(d) for d in downtime]
    events.sort(key=lambda e: e.start, reverse=True)
    return events[:limit]


def _alarm_event(a: Alarm) -> MachineEvent:
    state = "cleared" if a.cleared_at else "active"
    if a.silenced:
        state += ", silenced"
    if a.acknowledged_at:
        state += ", acknowledged"
    return MachineEvent(
        "alarm",
        a.raised_at,
        a.cleared_at,
        f"{a.code} ({a.source.value})",
        f"{a.message} [{state}]",
        "danger" if a.severity.value == "CRITICAL" and not a.silenced else "warning",
        sensor_id=a.sensor_id,
        ref=a.id,
        value=a.value if a.raised_value is None else a.raised_value,  # older alarms: latest
    )


def _ticket_event(t: Ticket) -> MachineEvent:
    verdict = {True: "failure confirmed", False: "false alarm", None: ""}[t.failure_confirmed]
    detail = f"{t.status.value.replace('_', ' ').lower()}" + (f", {verdict}" if verdict else "")
    return MachineEvent(
        "ticket", t.created_at, t.resolved_at, f"Ticket #{t.id} {t.code}", detail, "info", ref=t.id
    )


def _downtime_event(d: Downtime) -> MachineEvent:
    """Its note as the detail; how long it lasted is the view's to say (start and end)."""
    return MachineEvent(
        "downtime",
        d.started_at,
        d.ended_at,
        f"{d.kind.value.capitalize()} downtime",
        d.note,
        "secondary" if d.kind.value == "planned" else "danger",
        ref=d.id,
    )


def raw_readings(
    *, session: Session, sensor_ids: list[int], start: datetime, end: datetime, chunk: int = 5000
) -> Iterator[tuple[int, datetime, float]]:
    """Every reading of the sensors in [start, end) as (sensor_id, ts, value), by time then
    sensor, fetched ``chunk`` rows at a time (a 30-day export never sits in memory whole)."""
    stmt = (
        select(Reading.sensor_id, Reading.ts, Reading.value)
        .where(Reading.sensor_id.in_(sensor_ids), Reading.ts >= start, Reading.ts < end)
        .order_by(Reading.ts, Reading.sensor_id)
        .execution_options(yield_per=chunk)
    )
    for row in session.execute(stmt):
        yield row.sensor_id, row.ts, row.value


def machine_by_name(*, session: Session, name: str) -> Machine | None:
    return session.scalar(select(Machine).where(Machine.name == name))
