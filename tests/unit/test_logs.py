"""Log lines as JSON carry the request or job they belong to."""

from __future__ import annotations

import json
import logging

from logs import JOB, REQUEST_ID, JsonFormatter, setup_logging


def test_json_lines_carry_the_job_and_request(capsys):
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
    setup_logging("text", "INFO")


def test_formatter_keeps_non_ascii_text():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("Temperatur 80 °C",), None)
    assert json.loads(JsonFormatter().format(record))["msg"] == "Temperatur 80 °C"
