"""The drain: validate queued messages, commit their rows idempotently, then ack them."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from data.db import Database
from data.fleet_queries import sensor_directory
from data.readings import insert_dead_letters, insert_readings
from ingest import metrics
from ingest.broker_log import broker_refusal, is_broker_log
from ingest.payload import PayloadLimits, RawReading, Rejection, parse_message
from logs import FailureStreak

__all__ = ["InboundMessage", "WriteResult", "BatchWriter", "Drainer", "ByteBudget"]

log = logging.getLogger(__name__)
_DEAD_PAYLOAD_MAX = 4096


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """What ``on_message`` copies out of paho before handing over to the drain."""

    topic: bytes
    payload: bytes
    mid: int
    qos: int
    received: float  # time.time() when it arrived


@dataclass(frozen=True, slots=True)
class WriteResult:
    inserted: int = 0
    duplicates: int = 0
    dead: int = 0


class BatchWriter:
    """Turns a batch of messages into committed rows in one transaction."""

    def __init__(
        self,
        db: Database,
        *,
        prefix: str,
        limits: PayloadLimits,
        directory_max_age_s: float = 30.0,
    ) -> None:
        self._db, self._prefix, self._limits = db, prefix, limits
        self._sensors: dict[tuple[str, str], int] = {}
        # a new machine or sensor is found at once (an unknown name reloads the directory);
        # the age bound makes a retired machine's readings refused within this time too
        self._max_age, self._loaded_at = directory_max_age_s, 0.0

    def write(self, messages: list[InboundMessage]) -> WriteResult:
        """Validate, insert and commit; raises SQLAlchemyError when the database fails."""
        now = datetime.now(UTC)
        parsed = [
            (
                m,
                broker_refusal(m.payload)
                if is_broker_log(m.topic)
                else parse_message(
                    m.topic, m.payload, prefix=self._prefix, limits=self._limits, now=now
                ),
            )
            for m in messages
        ]
        with self._db.session() as session:
            stale = time.monotonic() - self._loaded_at > self._max_age
            if stale or not self._sensors or self._has_unknown(parsed):
                self._sensors = sensor_directory(session=session)
                self._loaded_at = time.monotonic()
            rows, dead = self._rows_and_dead(parsed)
            inserted = insert_readings(session=session, rows=rows)
            insert_dead_letters(session=session, letters=dead)
        for letter in dead:
            metrics.DEAD_LETTERS.labels(letter["reason"]).inc()
        return WriteResult(inserted, len(rows) - inserted, len(dead))

    def _has_unknown(self, parsed: list) -> bool:
        return any(
            (r.machine, r.sensor) not in self._sensors for _, p in parsed for r in p.readings
        )

    def _rows_and_dead(self, parsed: list) -> tuple[list, list[dict[str, object]]]:
        rows: list[tuple[int, datetime, float]] = []
        dead: list[dict[str, object]] = []
        for message, result in parsed:
            for r in result.rejections:
                dead.append(_dead_letter(message, r))
            for reading in result.readings:
                sid = self._sensors.get((reading.machine, reading.sensor))
                if sid is None:
                    dead.append(_dead_letter(message, self._unknown(reading)))
                else:
                    rows.append((sid, reading.ts, reading.value))
        return rows, dead

    def _unknown(self, reading: RawReading) -> Rejection:
        if not any(machine == reading.machine for machine, _ in self._sensors):
            return Rejection("unknown_machine", f"no machine named '{reading.machine}'")
        return Rejection(
            "unknown_sensor", f"machine '{reading.machine}' has no sensor '{reading.sensor}'"
        )


def _dead_letter(message: InboundMessage, rejection: Rejection) -> dict[str, object]:
    where = f"reading {rejection.index}: " if rejection.index is not None else ""
    return {
        "received_at": datetime.fromtimestamp(message.received, UTC),
        "topic": message.topic.decode("utf-8", errors="replace")[:1024],
        "payload": (rejection.fragment or message.payload)[:_DEAD_PAYLOAD_MAX],
        "reason": rejection.reason,
        "detail": where + rejection.detail,
    }


class ByteBudget:
    """Bounds the payload bytes received but not yet committed and acked: a message count
    alone would let 100-reading messages fill memory (the ingest benchmark saw 1.2 GB)."""

    def __init__(self, limit: int) -> None:
        self._limit, self._used = limit, 0
        self._cond = threading.Condition()

    def acquire(self, size: int, closed: threading.Event) -> bool:
        """Wait for room (one message always fits); False when ``closed`` is set meanwhile."""
        with self._cond:
            while self._used and self._used + size > self._limit:
                if closed.is_set():
                    return False
                self._cond.wait(0.5)
            self._used += size
            return True

    def release(self, size: int) -> None:
        with self._cond:
            self._used = max(0, self._used - size)
            self._cond.notify_all()

    @property
    def used(self) -> int:
        return self._used


class Drainer:
    """Scheduled job body: keeps the current batch until it is committed, then acks in order.

    A batch that fails to commit stays here and is retried with exponential backoff;
    nothing is acked, so the broker still holds every message of it.
    """

    def __init__(
        self,
        inbox: queue.Queue[InboundMessage],
        writer: BatchWriter,
        ack: Callable[[InboundMessage], None],
        *,
        batch_max: int,
        batch_bytes: int = 4 * 1024 * 1024,
        budget: ByteBudget | None = None,
    ) -> None:
        self._batch_bytes, self._budget = batch_bytes, budget
        self._inbox, self._writer, self._ack, self._batch_max = inbox, writer, ack, batch_max
        self._pending: list[InboundMessage] = []
        self._retry_at = 0.0
        self._backoff = 0.0
        self.db_ok = True
        # an outage retries every few seconds: said once, then a line a minute, then "back"
        self._outage = FailureStreak(log, "committing ingested messages", traceback=False)

    def run_once(self) -> WriteResult:
        """Write and ack one batch; returns what it did (zeros when idle or backing off)."""
        if time.monotonic() < self._retry_at:
            return WriteResult()
        self._fill()
        metrics.QUEUE_DEPTH.set(self._inbox.qsize() + len(self._pending))
        if not self._pending:
            return WriteResult()
        started = time.perf_counter()
        try:
            result = self._writer.write(self._pending)
        except SQLAlchemyError as exc:
            self._fail(exc)
            return WriteResult()
        for message in self._pending:  # arrival order, as MQTT requires
            self._ack(message)
        if self._budget is not None:
            self._budget.release(sum(len(m.payload) for m in self._pending))
        self._pending = []
        self._succeed(result, time.perf_counter() - started)
        return result

    def run(self, budget_s: float) -> int:
        """Scheduled job body: batch after batch while a backlog remains, for at most
        ``budget_s`` seconds; returns readings inserted."""
        deadline, total = time.monotonic() + budget_s, 0
        while True:
            result = self.run_once()
            total += result.inserted
            if self._pending or self._inbox.empty() or time.monotonic() >= deadline:
                return total

    def drain_all(self) -> int:
        """Write everything queued (used on graceful stop); returns readings inserted."""
        total = 0
        while True:
            self._retry_at = 0.0
            result = self.run_once()
            total += result.inserted
            if not self._pending and self._inbox.empty():
                return total
            if not self.db_ok:
                return total

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _fill(self) -> None:
        size = sum(len(m.payload) for m in self._pending)
        while len(self._pending) < self._batch_max and size < self._batch_bytes:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return
            self._pending.append(message)
            size += len(message.payload)

    def _fail(self, exc: Exception) -> None:
        self.db_ok = False
        metrics.DB_WRITE_FAILURES.inc()
        self._backoff = min(max(self._backoff * 2, 0.5), 10.0)
        self._retry_at = time.monotonic() + self._backoff
        self._outage.failed(exc)  # the batch stays, unacked, and is retried with backoff

    def _succeed(self, result: WriteResult, seconds: float) -> None:
        self._outage.succeeded()
        self.db_ok, self._backoff = True, 0.0
        metrics.READINGS_INGESTED.inc(result.inserted)
        metrics.READINGS_DUPLICATE.inc(result.duplicates)
        metrics.DRAIN_SECONDS.observe(seconds)
