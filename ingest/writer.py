"""The drain: validate queued messages, commit their rows idempotently, then ack them.

The drain is a pipeline of two stages: this job's thread parses the next batch
(``BatchWriter.prepare``) while one committer thread writes the previous one
(``BatchWriter.commit``: binary COPY, merge, commit), so Python's work and PostgreSQL's
overlap. A batch is acked only after its own commit, batches commit and are acked in
arrival order, and the job returns only once its commit is over.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from data.db import Database
from data.fleet_queries import sensor_directory, sensor_kinds
from data.readings import (
    ReadingColumns,
    insert_dead_letters,
    insert_reading_columns,
    insert_readings,
)
from data.value_steps import StepTable
from ingest import metrics
from ingest.broker_log import broker_refusal, is_broker_log
from ingest.payload import (
    PayloadLimits,
    RawReading,
    Rejection,
    fast_bounds,
    parse_known,
    parse_message,
    topic_machine,
    valid_sensor_name,
)
from logs import FailureStreak

__all__ = [
    "InboundMessage",
    "WriteResult",
    "PreparedBatch",
    "BatchWriter",
    "Drainer",
    "ByteBudget",
]

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


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch parsed and mapped to sensor ids, outside any transaction."""

    columns: ReadingColumns
    dead: list[dict[str, object]]


class BatchWriter:
    """Turns a batch of messages into committed rows in one transaction."""

    def __init__(
        self,
        db: Database,
        *,
        prefix: str,
        limits: PayloadLimits,
        directory_max_age_s: float = 30.0,
        resolution: Mapping[str, float] | None = None,
    ) -> None:
        """``resolution``: sensor kind -> the resolution its values are stored at
        (``PDM_STORE_RESOLUTION``, ``data.value_steps``); other kinds are stored as sent."""
        self._db, self._prefix, self._limits = db, prefix, limits
        self._resolution = dict(resolution or {})
        self._steps = StepTable({})
        self._sensors: dict[tuple[str, str], int] = {}
        # the same directory per machine, only names the parser accepts (``parse_known``)
        self._machine_sensors: dict[str, dict[str, int]] = {}
        self._topics: dict[bytes, str | None] = {}  # topic -> its machine, when well-formed
        # a new machine or sensor is found at once (an unknown name reloads the directory);
        # the age bound makes a retired machine's readings refused within this time too
        self._max_age, self._loaded_at = directory_max_age_s, 0.0

    def prepare(self, messages: list[InboundMessage]) -> PreparedBatch:
        """Parse, validate and map a batch to rows and dead letters, outside the transaction
        (raises SQLAlchemyError when the sensor directory cannot be read). Messages of the
        documented shape take ``parse_known``; any other, ``parse_message``."""
        now = datetime.now(UTC)
        if time.monotonic() - self._loaded_at > self._max_age or not self._sensors:
            self._load_directory()
        bounds = fast_bounds(self._limits, now)
        sids: list[int] = []
        stamps: list[float] = []
        values: list[float] = []
        slow: list[tuple[InboundMessage, Any]] = []
        for m in messages:
            if is_broker_log(m.topic):
                slow.append((m, broker_refusal(m.payload)))
                continue
            known = self._machine_sensors.get(self._machine(m.topic) or "")
            columns = parse_known(m.payload, known, self._limits, bounds) if known else None
            if columns is None:
                parsed = parse_message(
                    m.topic, m.payload, prefix=self._prefix, limits=self._limits, now=now
                )
                slow.append((m, parsed))
            else:
                sids += columns[0]
                stamps += columns[1]
                values += columns[2]
        if self._has_unknown(slow):
            self._load_directory()
        rows, dead = self._rows_and_dead(slow)
        built = ReadingColumns.build(sids, stamps, values, rows, steps=self._steps)
        return PreparedBatch(built, dead)

    def commit(self, prepared: PreparedBatch) -> WriteResult:
        """Insert a prepared batch and its dead letters in one transaction and commit;
        raises SQLAlchemyError when the database fails (nothing is stored then)."""
        with self._db.session() as session:
            inserted = insert_reading_columns(session=session, columns=prepared.columns)
            insert_dead_letters(session=session, letters=prepared.dead)
        for letter in prepared.dead:
            metrics.DEAD_LETTERS.labels(letter["reason"]).inc()
        return WriteResult(inserted, len(prepared.columns) - inserted, len(prepared.dead))

    def _load_directory(self) -> None:
        with self._db.session() as session:
            self._set_directory(session)

    def _set_directory(self, session: Session) -> None:
        self._sensors, self._loaded_at = sensor_directory(session=session), time.monotonic()
        if self._resolution:
            kinds = sensor_kinds(session=session)
            self._steps = StepTable.of_kinds(kinds, self._resolution)
        by_machine: dict[str, dict[str, int]] = {}
        for (machine, sensor), sid in self._sensors.items():
            if valid_sensor_name(sensor):
                by_machine.setdefault(machine, {})[sensor] = sid
        self._machine_sensors = by_machine

    def _machine(self, topic: bytes) -> str | None:
        try:
            return self._topics[topic]
        except KeyError:
            if len(self._topics) > 100_000:  # topics come from outside: keep this bounded
                self._topics.clear()
            machine = self._topics[topic] = topic_machine(topic, self._prefix)
            return machine

    def write(self, messages: list[InboundMessage]) -> WriteResult:
        """Validate, insert and commit, every message through ``parse_message``, in one
        step (HTTP ingest, and the drain with ``pipeline=False``: the drain as it was);
        raises SQLAlchemyError when the database fails."""
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
                self._set_directory(session)
            rows, dead = self._rows_and_dead(parsed)
            if self._steps:
                rows = [(sid, ts, self._steps.value(sid, v)) for sid, ts, v in rows]
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


class _Writer(Protocol):
    def prepare(self, messages: list[InboundMessage]) -> Any: ...
    def commit(self, prepared: Any) -> WriteResult: ...
    def write(self, messages: list[InboundMessage]) -> WriteResult: ...


@dataclass(slots=True)
class _Batch:
    messages: list[InboundMessage]
    size: int  # payload bytes
    prepared: Any = None  # the writer's PreparedBatch once parsed


class Drainer:
    """Scheduled job body: keeps each batch until it is committed, then acks in order.

    ``pipeline`` (the default): while one batch commits in the committer thread, the next
    is parsed in the caller's; at most two batches are held, both within the byte budget.
    ``pipeline=False``: parse, commit, ack, one batch after the other (the drain before
    the pipeline; ``PDM_DRAIN_PIPELINE=false``, a benchmark's baseline).

    A batch that fails to commit stays here, with the one parsed behind it, and is retried
    with exponential backoff (parsed again: the sensor directory may have changed);
    nothing of either is acked, so the broker still holds every message of them.
    """

    def __init__(
        self,
        inbox: queue.Queue[InboundMessage],
        writer: _Writer,
        ack: Callable[[InboundMessage], None],
        *,
        batch_max: int,
        batch_bytes: int = 4 * 1024 * 1024,
        budget: ByteBudget | None = None,
        pipeline: bool = True,
    ) -> None:
        self._batch_bytes, self._budget = batch_bytes, budget
        self._inbox, self._writer, self._ack, self._batch_max = inbox, writer, ack, batch_max
        self._pipeline = pipeline
        self._batches: deque[_Batch] = deque()  # oldest first: the head commits next
        self._committer: ThreadPoolExecutor | None = None
        self._interrupted = threading.Event()  # stopping: ``run`` returns after its batch
        self._retry_at = 0.0
        self._backoff = 0.0
        self.db_ok = True
        # an outage retries every few seconds: said once, then a line a minute, then "back"
        self._outage = FailureStreak(log, "committing ingested messages", traceback=False)

    def run_once(self) -> WriteResult:
        """Commit and ack one batch (parsing the next meanwhile); returns what it did
        (zeros when idle or backing off)."""
        if time.monotonic() < self._retry_at:
            return WriteResult()
        if not self._batches:
            self._take()
        metrics.QUEUE_DEPTH.set(self._inbox.qsize() + self.pending)
        if not self._batches:
            return WriteResult()
        head = self._batches[0]
        started = time.perf_counter()
        try:
            result = self._write(head)
        except SQLAlchemyError as exc:
            self._fail(exc)
            return WriteResult()
        for message in head.messages:  # arrival order, as MQTT requires
            self._ack(message)
        if self._budget is not None:
            self._budget.release(head.size)
        self._batches.popleft()
        self._succeed(result, time.perf_counter() - started)
        return result

    def run(self, budget_s: float) -> int:
        """Scheduled job body: batch after batch while a backlog remains, for at most
        ``budget_s`` seconds; returns readings inserted. A batch parsed ahead stays for
        the next run (unacked, within the byte budget)."""
        deadline, total = time.monotonic() + budget_s, 0
        while True:
            result = self.run_once()
            total += result.inserted
            backing_off = time.monotonic() < self._retry_at
            idle = not self._batches and self._inbox.empty()
            late = time.monotonic() >= deadline or self._interrupted.is_set()
            if backing_off or idle or late:
                return total

    def interrupt(self) -> None:
        """Stopping: a ``run`` under way returns after its current batch (what remains is
        for ``drain_all``), so the scheduler's shutdown does not wait out its budget."""
        self._interrupted.set()

    def drain_all(self) -> int:
        """Write everything queued (used on graceful stop); returns readings inserted."""
        total = 0
        while True:
            self._retry_at = 0.0
            result = self.run_once()
            total += result.inserted
            if not self._batches and self._inbox.empty():
                return total
            if not self.db_ok:
                return total

    @property
    def pending(self) -> int:
        """Messages taken from the inbox, not yet committed and acked."""
        return sum(len(b.messages) for b in self._batches)

    def _write(self, head: _Batch) -> WriteResult:
        if not self._pipeline:
            return self._writer.write(head.messages)
        if head.prepared is None:
            head.prepared = self._prepare(head)
        future: Future[WriteResult] = self._executor().submit(self._commit, head.prepared)
        try:
            self._prepare_next()  # here, while the head commits in the committer thread
        finally:
            waiting = time.perf_counter()
            wait_for([future])  # never return with a commit still running
            metrics.COMMIT_WAIT_SECONDS.inc(time.perf_counter() - waiting)
        return future.result()

    def _prepare(self, batch: _Batch) -> Any:
        started = time.perf_counter()
        try:
            return self._writer.prepare(batch.messages)
        finally:
            metrics.PARSE_SECONDS.inc(time.perf_counter() - started)

    def _commit(self, prepared: Any) -> WriteResult:
        started = time.perf_counter()
        try:
            return self._writer.commit(prepared)
        finally:
            metrics.COMMIT_SECONDS.inc(time.perf_counter() - started)

    def _prepare_next(self) -> None:
        if len(self._batches) < 2:
            self._take()
        if len(self._batches) < 2 or self._batches[1].prepared is not None:
            return
        try:
            self._batches[1].prepared = self._prepare(self._batches[1])
        except SQLAlchemyError:  # parsed again as the head, where a failure backs off
            log.debug("could not prepare the next batch yet", exc_info=True)

    def _executor(self) -> ThreadPoolExecutor:
        if self._committer is None:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="pdm-commit")
        return self._committer

    def _take(self) -> None:
        """A new batch from the inbox, bounded by messages and payload bytes."""
        messages: list[InboundMessage] = []
        size = 0
        while len(messages) < self._batch_max and size < self._batch_bytes:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                break
            messages.append(message)
            size += len(message.payload)
        if messages:
            self._batches.append(_Batch(messages, size))

    def _fail(self, exc: Exception) -> None:
        self.db_ok = False
        metrics.DB_WRITE_FAILURES.inc()
        self._backoff = min(max(self._backoff * 2, 0.5), 10.0)
        self._retry_at = time.monotonic() + self._backoff
        for batch in self._batches:  # parsed again on retry: the directory may have changed
            batch.prepared = None
        self._outage.failed(exc)  # the batches stay, unacked, and are retried with backoff

    def _succeed(self, result: WriteResult, seconds: float) -> None:
        self._outage.succeeded()
        self.db_ok, self._backoff = True, 0.0
        metrics.READINGS_INGESTED.inc(result.inserted)
        metrics.READINGS_DUPLICATE.inc(result.duplicates)
        metrics.DRAIN_SECONDS.observe(seconds)
