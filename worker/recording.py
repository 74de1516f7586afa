"""How a scheduled job runs: a failure never reaches the scheduler, every run is timed, and
runs that did work or failed are recorded in ``job_runs`` (the Jobs page)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

from data.db import Database
from data.models import JobRun
from logs import JOB, FailureStreak

__all__ = ["JobRecorder", "watched"]

log = logging.getLogger(__name__)
JOB_SECONDS = Histogram("pdm_job_duration_seconds", "Scheduler job durations", ["job"])
JOB_FAILURES = Counter("pdm_job_failures_total", "Scheduler job runs that raised", ["job"])


def watched(
    name: str, body: Callable[[], int | None]
) -> Callable[[], tuple[int, Exception | None]]:
    """Wrap a job so a failure never stops the scheduler nor floods the log: counted in
    ``pdm_job_failures_total``; its first failure logged with the traceback, then a line
    a minute while it keeps failing, then one when it recovers. The wrapper answers
    (items, the failure or None)."""
    streak = FailureStreak(log, f"job {name}")

    def job() -> tuple[int, Exception | None]:
        try:
            items = body() or 0
        except Exception as exc:  # noqa: BLE001 - a job failure must not stop the scheduler
            JOB_FAILURES.labels(name).inc()
            streak.failed(exc)
            return 0, exc
        streak.succeeded()
        return items, None

    return job


class JobRecorder:
    """Records job runs in the database the jobs work on."""

    def __init__(self, db: Database, *, worker: str = "") -> None:
        self.db, self.worker = db, worker  # the worker id each run is recorded with
        # while that database is down, say so once, not every run
        self._recording = FailureStreak(log, "recording job runs", traceback=False)

    def recorded(self, name: str, body: Callable[[], int]) -> Callable[[], None]:
        """Wrap a job: time it, and record runs that did something or failed."""
        run_watched = watched(name, body)

        def job() -> None:
            started, t0 = datetime.now(UTC), time.perf_counter()
            run = JOB.set(f"{name}-{uuid.uuid4().hex[:8]}")  # every log line of this run
            try:
                items, failure = run_watched()
            finally:
                JOB.reset(run)
            error = f"{type(failure).__name__}: {failure}"[:2000] if failure else ""
            seconds = time.perf_counter() - t0
            JOB_SECONDS.labels(name).observe(seconds)
            if items or error:
                self._record(
                    JobRun(
                        job=name,
                        started_at=started,
                        duration_ms=seconds * 1000,
                        ok=not error,
                        items=items,
                        error=error,
                        worker=self.worker,
                    )
                )

        return job

    def _record(self, run: JobRun) -> None:
        try:
            with self.db.session() as session:
                session.add(run)
        except Exception as exc:  # noqa: BLE001 - bookkeeping must never break the job
            self._recording.failed(exc)
        else:
            self._recording.succeeded()
