"""The breakdown report's numbers for any range; the definitions are in
``maintenance.reporting.breakdown_report``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from data.models import Alarm, Downtime, DowntimeKind, Machine, utcnow

__all__ = [
    "Stats",
    "MachineRow",
    "TypeRow",
    "WeekRow",
    "AlarmRow",
    "ReportData",
    "build_report",
    "as_utc",
    "week_start_of",
    "WEEK",
]

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Stats:
    """Hours and counts of one machine, one type or the fleet; the KPIs derive from them."""

    breakdowns: int = 0
    breakdown_h: float = 0.0
    planned_h: float = 0.0
    scheduled_h: float = 0.0
    down_h: float = 0.0  # down for any reason, overlaps merged
    repairs: int = 0  # counted breakdowns that have ended
    repair_h: float = 0.0

    def __add__(self, other: Stats) -> Stats:
        return Stats(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def operating_h(self) -> float:
        return max(0.0, self.scheduled_h - self.down_h)

    @property
    def availability(self) -> float | None:
        if self.scheduled_h <= 0:
            return None
        return max(0.0, 1.0 - self.breakdown_h / self.scheduled_h)

    @property
    def mtbf_h(self) -> float | None:
        return self.operating_h / self.breakdowns if self.breakdowns else None

    @property
    def mttr_h(self) -> float | None:
        return self.repair_h / self.repairs if self.repairs else None


@dataclass(frozen=True, slots=True)
class MachineRow:
    name: str
    type: str
    stats: Stats


@dataclass(frozen=True, slots=True)
class TypeRow:
    type: str
    machines: int
    stats: Stats


@dataclass(frozen=True, slots=True)
class WeekRow:
    week_start: date  # a Monday
    breakdowns: int

    @property
    def label(self) -> str:
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class AlarmRow:
    source: str
    severity: str
    alarms: int  # silenced ones included
    silenced: int


@dataclass(frozen=True, slots=True)
class ReportData:
    start: datetime
    end: datetime
    generated_at: datetime
    total: Stats
    weeks: tuple[WeekRow, ...]
    machines: tuple[MachineRow, ...]  # by name
    types: tuple[TypeRow, ...]  # by type
    alarms: tuple[AlarmRow, ...]  # by source, then severity

    def summary(self) -> dict[str, Any]:
        """The headline numbers as JSON-ready values (stored with each report)."""
        t = self.total
        return {
            "breakdowns": t.breakdowns,
            "breakdown_h": round(t.breakdown_h, 3),
            "planned_h": round(t.planned_h, 3),
            "availability": _round(t.availability, 4),
            "mtbf_h": _round(t.mtbf_h, 3),
            "mttr_h": _round(t.mttr_h, 3),
            "machines": len(self.machines),
            "alarms": sum(a.alarms for a in self.alarms),
            "alarms_silenced": sum(a.silenced for a in self.alarms),
        }


def build_report(
    *, session: Session, start: datetime, end: datetime, now: datetime | None = None
) -> ReportData:
    """Breakdowns, downtime, MTBF, MTTR, availability and alarms for [start, end)."""
    start, end, now = as_utc(start), as_utc(end), as_utc(now or utcnow())
    if start >= end:
        raise ValueError("the report's start must come before its end")
    horizon = min(end, now)
    overlaps = and_(
        Downtime.started_at < end, or_(Downtime.ended_at.is_(None), Downtime.ended_at >= start)
    )
    periods: dict[int, list[Downtime]] = defaultdict(list)
    for p in session.scalars(select(Downtime).where(overlaps)):
        periods[p.machine_id].append(p)
    in_service = and_(
        Machine.created_at < end, or_(Machine.retired_at.is_(None), Machine.retired_at > start)
    )
    machines = session.scalars(
        select(Machine).where(or_(in_service, Machine.id.in_(periods))).order_by(Machine.name)
    ).all()
    rows = tuple(
        MachineRow(m.name, m.type, _machine_stats(m, periods[m.id], start, end, horizon))
        for m in machines
    )
    return ReportData(
        start=start,
        end=end,
        generated_at=now,
        total=sum((r.stats for r in rows), Stats()),
        weeks=_weeks([p for ps in periods.values() for p in ps], start, end),
        machines=rows,
        types=_types(rows),
        alarms=_alarms(session, start, end),
    )


def _machine_stats(
    m: Machine, periods: Sequence[Downtime], start: datetime, end: datetime, horizon: datetime
) -> Stats:
    service_to = min(horizon, m.retired_at) if m.retired_at else horizon
    breakdowns = [p for p in periods if p.kind is DowntimeKind.BREAKDOWN]
    counted = [p for p in breakdowns if start <= p.started_at < end]
    repaired = [p for p in counted if p.ended_at is not None]
    clip = {p.id: (max(p.started_at, start), min(p.ended_at or horizon, horizon)) for p in periods}
    return Stats(
        breakdowns=len(counted),
        breakdown_h=_union_hours(clip[p.id] for p in breakdowns),
        planned_h=_union_hours(clip[p.id] for p in periods if p.kind is DowntimeKind.PLANNED),
        scheduled_h=max(0.0, _hours(service_to - max(start, m.created_at))),
        down_h=_union_hours(clip.values()),
        repairs=len(repaired),
        repair_h=sum(_hours(p.ended_at - p.started_at) for p in repaired if p.ended_at),
    )


def _union_hours(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Hours covered by the intervals, overlaps counted once."""
    total, reach = timedelta(0), None
    for lo, hi in sorted(i for i in intervals if i[1] > i[0]):
        if reach is None or lo > reach:
            total, reach = total + (hi - lo), hi
        elif hi > reach:
            total, reach = total + (hi - reach), hi
    return _hours(total)


def _weeks(periods: Sequence[Downtime], start: datetime, end: datetime) -> tuple[WeekRow, ...]:
    counts: dict[date, int] = defaultdict(int)
    for p in periods:
        if p.kind is DowntimeKind.BREAKDOWN and start <= p.started_at < end:
            counts[week_start_of(p.started_at).date()] += 1
    weeks, monday = [], week_start_of(start)
    while monday < end:
        weeks.append(WeekRow(monday.date(), counts[monday.date()]))
        monday += WEEK
    return tuple(weeks)


def _types(rows: Sequence[MachineRow]) -> tuple[TypeRow, ...]:
    by_type: dict[str, list[Stats]] = defaultdict(list)
    for r in rows:
        by_type[r.type].append(r.stats)
    return tuple(TypeRow(t, len(s), sum(s, Stats())) for t, s in sorted(by_type.items()))


def _alarms(session: Session, start: datetime, end: datetime) -> tuple[AlarmRow, ...]:
    silenced = func.sum(case((Alarm.silenced.is_(True), 1), else_=0))
    stmt = (
        select(Alarm.source, Alarm.severity, func.count(Alarm.id), silenced)
        .where(Alarm.raised_at >= start, Alarm.raised_at < end)
        .group_by(Alarm.source, Alarm.severity)
        .order_by(Alarm.source, Alarm.severity)
    )
    return tuple(
        AlarmRow(src.value, sev.value, n, int(s or 0)) for src, sev, n, s in session.execute(stmt)
    )


def as_utc(t: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused."""
    if t.tzinfo is None:
        raise ValueError("naive datetime given; use UTC-aware datetimes")
    return t.astimezone(UTC)


def week_start_of(t: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding ``t``."""
    day = as_utc(t).date()
    return datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time(), UTC)


def _hours(d: timedelta) -> float:
    return d.total_seconds() / 3600


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)
