"""The Jobs page's table says each last run's outcome in words that read right."""

from __future__ import annotations

from datetime import UTC, datetime

from callbacks.admin import _jobs_table
from maintenance.ops.scheduled_jobs import JobSummary


def _ran(job: str, items: int) -> JobSummary:
    return JobSummary(
        job=job,
        what="what it does",
        when="every 60 s",
        last_started=datetime.now(UTC),
        last_ms=12.0,
        last_ok=True,
        last_items=items,
        last_error="",
        last_worker="vm:1",
        runs_24h=3,
        failures_24h=0,
        requested=False,
    )


def test_a_run_of_one_item_says_item_and_of_several_items():
    table = str(_jobs_table([_ran("rules", 1), _ran("drain", 18)], can_run=False))
    assert "'ok, 1 item'" in table and "ok, 1 items" not in table
    assert "'ok, 18 items'" in table
