"""A machine's state, derived in one place from its data, alarms, downtime and predictions:
no data yet, running (ok, warning, critical), stopped, or in maintenance. The fleet tiles,
the machine page, the KPIs and the red banner all read it from here.

- **maintenance**: an open planned downtime period (a stop during a maintenance window).
- **stopped**: an open breakdown period, an active critical stop alarm (``RPM_LOW``), or a
  newest rpm reading at or below the sensor's critical-low limit. A stopped machine is not
  scored (``ml.scoring``), so its last failure risk is stale and is not shown.
- **no_data**: the machine has never sent a reading.
- otherwise **critical** / **warning** by its worst active alarm, else **ok**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from data.fleet_queries import (
    latest_predictions,
    latest_values,
    machines_in_service,
    machines_with_data,
    open_downtime,
    uncleared_alarms,
)
from data.models import Alarm, Downtime, DowntimeKind, Machine, Prediction, Severity

__all__ = ["STOP_CODE", "RUNNING", "MachineCard", "derive_state", "machine_cards", "state_of"]

STOP_CODE = "RPM_LOW"  # critical below the rpm's critical-low limit: the machine stands
RUNNING = frozenset({"ok", "warning", "critical"})  # states in which a failure risk means something
_RANK = {"stopped": 0, "critical": 1, "warning": 2, "maintenance": 3, "no_data": 4, "ok": 5}


@dataclass(frozen=True, slots=True)
class MachineCard:
    """What the fleet overview and the machine page show of one machine."""

    id: int
    name: str
    type: str
    location: str
    status: str  # no_data | ok | warning | critical | stopped | maintenance
    active_alarms: int
    alarm_text: str
    warn_high: dict[str, float]  # sensor kind -> warning limit, for the graphs' limit lines
    failure_probability: float | None = None  # from the latest prediction, if any
    rul_hours: float | None = None  # wall-clock hours
    since: datetime | None = None  # stopped or in maintenance since, when known

    @property
    def running(self) -> bool:
        return self.status in RUNNING


def derive_state(
    *,
    has_data: bool,
    alarms: Sequence[Alarm],
    downtime: Downtime | None,
    rpm: float | None,
    rpm_crit_low: float | None,
) -> tuple[str, datetime | None]:
    """The state of one machine and since when (None when not known), from its facts."""
    if downtime is not None:
        planned = downtime.kind is DowntimeKind.PLANNED
        return ("maintenance" if planned else "stopped"), downtime.started_at
    stop = next((a for a in alarms if _is_stop(a)), None)
    if stop is not None:
        return "stopped", stop.raised_at
    if rpm is not None and rpm_crit_low is not None and rpm <= rpm_crit_low:
        return "stopped", None
    if not has_data:
        return "no_data", None
    if any(a.severity is Severity.CRITICAL for a in alarms):
        return "critical", None
    return ("warning" if alarms else "ok"), None


def _is_stop(alarm: Alarm) -> bool:
    return alarm.code == STOP_CODE and alarm.severity is Severity.CRITICAL


def machine_cards(*, session: Session) -> list[MachineCard]:
    """Every machine in service with its state, stopped and riskiest first."""
    facts = _Facts(session)
    cards = [facts.card(m) for m in machines_in_service(session=session)]
    return sorted(cards, key=lambda c: (_RANK[c.status], -(c.failure_probability or 0), c.name))


def state_of(*, session: Session, machine_id: int) -> MachineCard | None:
    """One machine's card (the machine page's state line); None if not in service."""
    return next((c for c in machine_cards(session=session) if c.id == machine_id), None)


class _Facts:
    """The fleet's facts, read in a handful of queries."""

    def __init__(self, session: Session) -> None:
        self.predictions: dict[int, Prediction] = latest_predictions(session=session)
        self.alarms = uncleared_alarms(session=session)
        self.downtime = open_downtime(session=session)
        self.with_data = machines_with_data(session=session)
        self.rpm = latest_values(session=session, kind="rpm")

    def card(self, m: Machine) -> MachineCard:
        active = self.alarms.get(m.id, [])
        crit_low = next((s.crit_low for s in m.sensors if s.kind == "rpm"), None)
        status, since = derive_state(
            has_data=m.id in self.with_data,
            alarms=active,
            downtime=self.downtime.get(m.id),
            rpm=self.rpm.get(m.id),
            rpm_crit_low=crit_low,
        )
        p = self.predictions.get(m.id) if status in RUNNING else None  # stale when not running
        return MachineCard(
            m.id,
            m.name,
            m.type,
            m.location,
            status,
            len(active),
            "; ".join(f"{a.code} ({a.severity.value.lower()})" for a in active),
            {s.kind: s.warn_high for s in m.sensors if s.warn_high is not None},
            p.failure_probability if p else None,
            p.rul_hours if p else None,
            since,
        )
