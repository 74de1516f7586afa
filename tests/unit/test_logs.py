"""Log lines as JSON carry the request or job they belong to."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from logs import _NOISY, JOB, REQUEST_ID, JsonFormatter, setup_logging


@pytest.fixture
def root_logger() -> Iterator[None]:
    """setup_logging replaces the root logger's handlers with one on this test's stderr:
    put back what was there, or every later test in the process logs into a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in _NOISY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in noisy.items():
        logging.getLogger(name).setLevel(was)


def test_json_lines_carry_the_job_and_request(capsys, root_logger):
    setup_logging("json", "INFO")
    log = logging.getLogger("pdm.test")
    token = JOB.set("score-1a2b3c4d")
    try:
        log.info("scored %d machines", 6)
    finally:
        JOB.reset(token)
    token = REQUEST_ID.set("req-42")
    try:
        try:
            raise ValueError("bad")
        except ValueError:
            log.exception("failed")
    finally:
        REQUEST_ID.reset(token)
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["msg"] == "scored 6 machines" and first["job"] == "score-1a2b3c4d"
    assert "request_id" not in first
    assert second["request_id"] == "req-42" and second["level"] == "ERROR"
    assert "ValueError: bad" in second["exc"]


def test_formatter_keeps_non_ascii_text():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("Temperatur 80 °C",), None)
    assert json.loads(JsonFormatter().format(record))["msg"] == "Temperatur 80 °C"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeating_failure_is_told_once_then_a_line_a_minute_then_its_recovery(caplog):
    from logs import FailureStreak

    clock = _Clock()
    streak = FailureStreak(logging.getLogger("pdm.test"), "job rules", clock=clock)
    with caplog.at_level(logging.INFO, logger="pdm.test"):
        for _ in range(150):  # failing every 2 s for 5 minutes (the database is down)
            streak.failed(ConnectionError("server closed the connection"))
            clock.now += 2.0
        streak.succeeded()
        streak.succeeded()  # a second success says nothing more
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 + 4 + 1, lines
    assert lines[0] == "job rules failed: ConnectionError: server closed the connection"
    assert caplog.records[0].exc_info is not None  # the first one carries its traceback
    assert all(r.exc_info is None for r in caplog.records[1:])
    assert lines[1].startswith("job rules still failing: 31 times since ")
    assert lines[-1].startswith("job rules recovered after 150 failures since ")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pdm.test"):
        streak.failed(ValueError("again"))  # a new outage is a new story
    assert caplog.records[0].getMessage() == "job rules failed: ValueError: again"
