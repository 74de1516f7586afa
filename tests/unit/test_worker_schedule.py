"""The worker's schedule table: one row per recorded job, each naming settings that exist,
and the Jobs page describes every scheduled job, and no other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch

from config import Settings
from maintenance.ops.scheduled_jobs import JOBS
from worker.schedule import FLEET_JOBS, SCHEDULE, Cron, Every

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _settings_names() -> set[str]:
    properties = {n for n in dir(Settings) if isinstance(getattr(Settings, n, None), property)}
    return set(Settings.model_fields) | properties


def test_every_job_is_scheduled_once_and_the_jobs_page_describes_no_other():
    names = [job.name for job in SCHEDULE]
    assert len(names) == len(set(names))
    assert set(JOBS) == set(names)


def test_the_settings_a_job_reads_exist():
    known = _settings_names()
    for job in SCHEDULE:
        interval = [job.when.seconds] if isinstance(job.when, Every) else []
        for pattern in [*job.reads, *(s for s in interval if isinstance(s, str))]:
            assert any(fnmatch(name, pattern) for name in known), (job.name, pattern)


def test_triggers_read_their_interval_from_the_settings():
    settings = Settings(drain_interval_s=0.25)
    assert Every("drain_interval_s").arguments(settings, NOW) == {
        "trigger": "interval",
        "seconds": 0.25,
    }
    assert Every(60, first_after_s=20).arguments(settings, NOW)["next_run_time"] == NOW + (
        timedelta(seconds=20)
    )
    assert Cron(hour=3, day_of_week="mon").arguments(settings, NOW) == {
        "trigger": "cron",
        "day_of_week": "mon",
        "hour": 3,
        "minute": 0,
    }


def test_every_job_runs_once_per_fleet_unless_it_works_on_its_own_share():
    """Per worker: the MQTT messages it received (drain), and the lab runs and notifications
    it claims; everything else once per fleet, by the holder of the job's lease."""
    scopes = {job.name: job.scope for job in SCHEDULE}
    assert set(scopes.values()) == {"fleet", "worker"}
    assert {name for name, scope in scopes.items() if scope == "worker"} == {
        "drain",
        "lab",
        "notify",
    }
    assert set(FLEET_JOBS) == {name for name, scope in scopes.items() if scope == "fleet"}
