"""Logging for every process: plain text for people, or one JSON object per line for a log
pipeline (``PDM_LOG_FORMAT=json``), each line carrying the request or job it belongs to."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

__all__ = ["JOB", "REQUEST_ID", "FailureStreak", "JsonFormatter", "setup_logging"]

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
JOB: ContextVar[str] = ContextVar("job", default="")
_NOISY = ("apscheduler", "amqtt", "transitions", "waitress.queue", "alembic")


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.job = JOB.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "job"):
            if getattr(record, key, ""):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_Context())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


class FailureStreak:
    """A failure that repeats (a job while the database is down) told once, not every
    time: the first failure with its traceback, then at most one line per ``every`` seconds
    saying how often it failed since, and one line when it works again. One per job: a
    job never runs twice at once."""

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        every: float = 60.0,
        traceback: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log, self._what, self._every, self._traceback = log, what, every, traceback
        self._clock = clock
        self.failures, self._since, self._told = 0, "", 0.0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        now, reason = self._clock(), f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        if self.failures == 1:
            self._since, self._told = datetime.now(UTC).strftime("%H:%M:%S UTC"), now
            self._log.error(
                "%s failed: %s", self._what, reason, exc_info=exc if self._traceback else None
            )
        elif now - self._told >= self._every:
            self._told = now
            self._log.error(
                "%s still failing: %d times since %s (last: %s)",
                self._what,
                self.failures,
                self._since,
                reason,
            )

    def succeeded(self) -> None:
        if self.failures:
            self._log.warning(
                "%s recovered after %d failures since %s", self._what, self.failures, self._since
            )
        self.failures = 0
