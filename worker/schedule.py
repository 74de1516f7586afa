"""The table of recorded jobs: each one's name (the Jobs page's), its body, when it runs and
the settings it reads. The worker registers every row on its scheduler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from config import Settings
from worker.context import JobContext
from worker.drain_job import drain
from worker.housekeeping import retention, rollup
from worker.lab_jobs import lab, retrain
from worker.live_scoring import score
from worker.report_jobs import refresh_reports, weekly_report
from worker.rule_jobs import rules
from worker.ticket_jobs import escalate, notify, open_plans

__all__ = ["SCHEDULE", "Cron", "Every", "ScheduledJob"]


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
    """One recorded job; ``reads`` names the settings its body reads (``*`` patterns allowed)
    beyond its trigger's, through ``JobContext.overrides`` (changed in the app) or not."""

    name: str
    body: Callable[[JobContext], int]
    when: Every | Cron
    reads: tuple[str, ...] = ()


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("drain", drain, Every("drain_interval_s")),
    ScheduledJob(
        "score",
        score,
        Every("score_interval_s"),
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
        "rules", rules, Every("rules_interval_s"), reads=("rules_window_s", "alarm_clear_after_s")
    ),
    # Mondays, and once soon after start: a worker that was down on Monday catches up
    ScheduledJob(
        "weekly_report", weekly_report, Cron(day_of_week="mon", hour=0, minute=5, first_after_s=15)
    ),
    ScheduledJob("report_refresh", refresh_reports, Every(300, first_after_s=45)),
    ScheduledJob(
        "retention",
        retention,
        Cron(hour=2, minute=30),
        reads=("retention_raw_days", "retention_rollup_days", "timescale_compress_after_days"),
    ),
    ScheduledJob("rollup", rollup, Every(60, first_after_s=20)),
    ScheduledJob("escalation", escalate, Every(60), reads=("escalate_*_min",)),
    ScheduledJob("notify", notify, Every(10), reads=("smtp_*", "public_url")),
    ScheduledJob("plans", open_plans, Every(300, first_after_s=30)),
    # the model lab's training and backtest runs, one at a time, in the background
    ScheduledJob(
        "lab",
        lab,
        Every(2),
        reads=("lab_auto_promote", "*_step_s", "models_dir", "var_dir", "failure_threshold"),
    ),
    ScheduledJob(
        "retrain", retrain, Cron(day_of_week="mon", hour=3), reads=("lab_retrain_weekly",)
    ),
)
