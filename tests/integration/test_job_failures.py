"""A worker job that fails again and again: counted every time, logged once with its
traceback, recorded on the Jobs page every time, and its recovery said once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from factories import count, make_settings
from prometheus_client import REGISTRY

from data.db import Database, upgrade_schema
from data.models import JobRun
from worker import Worker
from worker.recording import watched


def _failures(job: str) -> float:
    return REGISTRY.get_sample_value("pdm_job_failures_total", {"job": job}) or 0.0


def test_a_job_failing_forty_times_logs_two_lines(
    tmp_path: Path, amqtt_port: int, caplog: pytest.LogCaptureFixture
):
    settings = make_settings(tmp_path, embedded_mqtt_port=amqtt_port)
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    worker = Worker(settings, db)  # not started: the job is run by hand
    left = {"failures": 40}

    def flaky() -> int:
        if left["failures"]:
            left["failures"] -= 1
            raise ConnectionError("database down")
        return 3

    job = worker.recorder.recorded("flaky", flaky)
    counted = _failures("flaky")
    with caplog.at_level(logging.INFO, logger="worker"):
        for _ in range(41):
            job()  # never raises: the scheduler would log its own traceback
    lines = [r for r in caplog.records if r.name == "worker.recording"]
    assert [r.getMessage().split(" since ")[0] for r in lines] == [
        "job flaky failed: ConnectionError: database down",
        "job flaky recovered after 40 failures",
    ]
    assert lines[0].exc_info is not None and lines[1].exc_info is None
    assert _failures("flaky") - counted == 40
    assert count(db, JobRun) == 41  # the Jobs page still lists every failed run
    db.dispose()


def test_the_requests_job_never_lets_a_failure_reach_the_scheduler():
    def broken() -> None:
        raise ConnectionError("database down")

    items, failure = watched("requests-test", broken)()  # how the worker wraps "requests"
    assert items == 0 and isinstance(failure, ConnectionError)
