"""What a failure or a planned stop leaves behind in the backfilled history: the rule alarms
that would have been raised, a resolved, failure-confirmed ticket and a breakdown downtime;
a planned downtime for a stop. Written through the ORM in the machine's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from config import Settings
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Priority,
    Severity,
    Ticket,
    TicketStatus,
)
from simulator.bulk_history import Fault, Grid, Plan
from simulator.fleet_physics import FaultEpisode
from simulator.limit_crossings import Crossing

__all__ = ["CLEAR_AFTER_S", "RULE_WINDOW_S", "SOURCE", "HistoryEvents"]

SOURCE = "backfill"
# the rules job's defaults: mean over this window, clear this long after the condition ends
RULE_WINDOW_S = float(Settings.model_fields["rules_window_s"].default)
CLEAR_AFTER_S = float(Settings.model_fields["alarm_clear_after_s"].default)
_CODES = {
    "temperature": "TEMP",
    "vibration": "VIB",
    "rpm": "RPM",
}  # maintenance.alarming.threshold_rules codes
_RESOLUTIONS = {
    "bearing_wear": "Replaced the worn drive-end bearing and regreased; vibration back to normal.",
    "cooling_fault": "Cleared the clogged cooler and refilled coolant; temperature back to normal.",
    "imbalance": "Rebalanced the rotor and retightened the coupling; vibration back to normal.",
}


class HistoryEvents:
    """The records of one machine's failures and planned stops; ``first`` spreads the
    tickets over the ``technicians``."""

    def __init__(
        self,
        session: Session,
        *,
        grid: Grid,
        plan: Plan,
        machine_id: int,
        sensor_ids: dict[str, int],
        technicians: tuple[int, ...],
        rng: np.random.Generator,
        first: int,
    ) -> None:
        self.session, self.grid, self.plan = session, grid, plan
        self.machine_id, self.sensor_ids, self.technicians = machine_id, sensor_ids, technicians
        self.rng = rng
        self.count = first

    def failure(self, fault: Fault, hits: list[Crossing]) -> FaultEpisode:
        """Rule alarms as raised, a resolved failure-confirmed ticket, a breakdown downtime."""
        at = self.grid.at
        failed, repaired = at(fault.failure), at(fault.repaired)
        alarms = [self._alarm(hit, repaired) for hit in hits]
        self.session.add_all(alarms)
        self.session.flush()
        ticket = self._ticket(fault, alarms[0] if alarms else None)
        self.session.add(ticket)
        self.session.flush()
        self.session.add(
            Downtime(
                machine_id=self.machine_id,
                kind=DowntimeKind.BREAKDOWN,
                started_at=failed,
                ended_at=repaired,
                ticket_id=ticket.id,
                source=SOURCE,
                note=f"Breakdown: {fault.mode.replace('_', ' ')}",
                created_at=repaired,
            )
        )
        return FaultEpisode(self.plan.machine.name, fault.mode, at(fault.onset), failed, repaired)

    def stop(self, start: int, end: int) -> None:
        self.session.add(
            Downtime(
                machine_id=self.machine_id,
                kind=DowntimeKind.PLANNED,
                started_at=self.grid.at(start),
                ended_at=self.grid.at(end),
                source=SOURCE,
                note="Planned maintenance: inspection and lubrication",
                created_at=self.grid.at(start),
            )
        )

    def _alarm(self, hit: Crossing, repaired: datetime) -> Alarm:
        sensor = hit.sensor
        severity = Severity.CRITICAL if hit.critical else Severity.WARNING
        side = "above" if hit.side == "HIGH" else "below"
        name = self.plan.machine.name
        return Alarm(
            machine_id=self.machine_id,
            sensor_id=self.sensor_ids[sensor.key],
            code=f"{_CODES.get(sensor.kind, sensor.kind.upper()[:8])}_{hit.side}",
            severity=severity,
            source=AlarmSource.RULE,
            message=f"{name}: {sensor.kind} {hit.value:.1f} {sensor.unit} {side} "
            f"{severity.value.lower()} limit {hit.limit:g}",
            value=hit.value,
            raised_value=hit.value,
            limit_value=hit.limit,
            unit=sensor.unit,
            values_at=self.grid.at(hit.last_seen),
            raised_at=self.grid.at(hit.raised),
            last_seen_at=self.grid.at(hit.last_seen),
            cleared_at=repaired + timedelta(seconds=CLEAR_AFTER_S),
        )

    def _ticket(self, fault: Fault, alarm: Alarm | None) -> Ticket:
        failed, repaired = self.grid.at(fault.failure), self.grid.at(fault.repaired)
        response = timedelta(seconds=round(float(self.rng.uniform(600, 1800))))
        technician = (
            self.technicians[self.count % len(self.technicians)] if self.technicians else None
        )
        self.count += 1
        critical = alarm is None or alarm.severity is Severity.CRITICAL
        return Ticket(
            machine_id=self.machine_id,
            alarm_id=alarm.id if alarm else None,
            code=alarm.code if alarm else "BREAKDOWN",
            title=alarm.message if alarm else f"{self.plan.machine.name}: breakdown",
            priority=Priority.CRITICAL if critical else Priority.HIGH,
            status=TicketStatus.RESOLVED,
            technician_id=technician,
            assignment_reason="generated history (backfill)",
            created_at=alarm.raised_at if alarm else failed,
            started_at=min(failed + response, repaired),
            resolved_at=repaired,
            resolution=_RESOLUTIONS[fault.mode],
            failure_confirmed=True,
        )
