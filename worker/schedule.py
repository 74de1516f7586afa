"""The table of recorded jobs: each one's name (the Jobs page's), its body, when it runs,
whether it runs once per fleet or on every worker, and the settings it reads. The worker
registers every row on its scheduler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from config import Settings
from worker.context import JobContext
from worker.drain_job import drain
from worker.drift_job import drift
from worker.housekeeping import policies, retention, rollup
from worker.lab_jobs import lab, retrain
from worker.live_scoring import score
from worker.report_jobs import refresh_reports, weekly_report
from worker.rule_jobs import rules
from worker.ticket_jobs import escalate, notify, open_plans

__all__ = ["FLEET_JOBS", "SCHEDULE", "Cron", "Every", "ScheduledJob", "Scope"]

# "fleet": once per period across all workers, by the worker holding the job's lease
# (worker.lease_keeper); "worker": on every worker, each on its own share (its MQTT messages,
# the lab runs and notifications it claims with FOR UPDATE SKIP LOCKED)
Scope = Literal["fleet", "worker"]


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``seconds``: a number, or the name of the setting that holds it; the first run
    ``first_after_s`` after start when given, else one interval after start."""

    seconds: float | str
    first_after_s: int | None = None

    def arguments(self, settings: Settings, now: datetime) -> dict[str, object]:
        """APScheduler's ``add_job`` arguments for this trigger."""
        seconds = self.seconds
        if isinstance(seconds, str):
            seconds = getattr(settings, seconds)
        return {"trigger": "interval", "seconds": seconds, **_first(self.first_after_s, now)}


@dataclass(frozen=True, slots=True)
class Cron:
    """At ``hour``:``minute`` UTC (on ``day_of_week`` only, when given); also once
    ``first_after_s`` after start when given."""

    hour: int
    minute: int = 0
    day_of_week: str | None = None
    first_after_s: int | None = None

    def arguments(self, settings: Settings, now: datetime) -> dict[str, object]:
        """APScheduler's ``add_job`` arguments for this trigger."""
        day = {"day_of_week": self.day_of_week} if self.day_of_week else {}
        at = {"hour": self.hour, "minute": self.minute}
        return {"trigger": "cron", **day, **at, **_first(self.first_after_s, now)}


def _first(after_s: int | None, now: datetime) -> dict[str, object]:
    return {} if after_s is None else {"next_run_time": now + timedelta(seconds=after_s)}


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """One recorded job; ``scope``: once per fleet or on every worker; ``reads`` names the
    settings its body reads (``*`` patterns allowed) beyond its trigger's, through
    ``JobContext.overrides`` (changed in the app) or not."""

    name: str
    body: Callable[[JobContext], int]
    when: Every | Cron
    scope: Scope
    reads: tuple[str, ...] = ()


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("drain", drain, Every("drain_interval_s"), "worker"),
    ScheduledJob(
        "score",
        score,
        Every("score_interval_s"),
        "fleet",
        reads=(
            "live_step_s",
            "live_time_scale",
            "ml_step_s",
            "failure_threshold",
            "failure_clear_below",
            "anomaly_threshold",
            "alarm_clear_after_s",
        ),
    ),
    ScheduledJob(
        "rules",
        rules,
        Every("rules_interval_s"),
        "fleet",
        reads=("rules_window_s", "alarm_clear_after_s"),
    ),
    # Mondays, and once soon after start: a worker that was down on Monday catches up
    ScheduledJob(
        "weekly_report",
        weekly_report,
        Cron(day_of_week="mon", hour=0, minute=5, first_after_s=15),
        "fleet",
    ),
    ScheduledJob("report_refresh", refresh_reports, Every(300, first_after_s=45), "fleet"),
    ScheduledJob(
        "retention",
        retention,
        Cron(hour=2, minute=30),
        "fleet",
        reads=("retention_raw_days", "retention_rollup_days", "timescale_compress_after_days"),
    ),
    # (not where TimescaleDB's aggregates do it: maintenance.ops.scheduled_jobs.DONE_BY_AGGREGATES)
    ScheduledJob("rollup", rollup, Every(60, first_after_s=20), "fleet"),
    # (only there: maintenance.ops.scheduled_jobs.ONLY_WITH_AGGREGATES)
    ScheduledJob("policies", policies, Every(60, first_after_s=40), "fleet"),
    ScheduledJob("escalation", escalate, Every(60), "fleet", reads=("escalate_*_min",)),
    ScheduledJob("notify", notify, Every(10), "worker", reads=("smtp_*", "public_url")),
    ScheduledJob("plans", open_plans, Every(300, first_after_s=30), "fleet"),
    # the model lab's training and backtest runs, one at a time, in the background
    ScheduledJob(
        "lab",
        lab,
        Every(2),
        "worker",
        reads=("lab_auto_promote", "*_step_s", "models_dir", "var_dir", "failure_threshold"),
    ),
    ScheduledJob(
        "retrain",
        retrain,
        Cron(day_of_week="mon", hour=3),
        "fleet",
        reads=("lab_retrain_weekly",),
    ),
    # the active models against their training reference (docs/ml.md "Model health")
    ScheduledJob(
        "drift",
        drift,
        Every("drift_interval_s", first_after_s=60),
        "fleet",
        reads=("drift_*", "live_step_s", "live_time_scale"),
    ),
)

FLEET_JOBS = tuple(job.name for job in SCHEDULE if job.scope == "fleet")
