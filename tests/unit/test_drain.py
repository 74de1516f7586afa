"""The drain's bounds and its pipeline (the next batch parsed while the previous one
commits), with a small in-memory writer standing in for the database."""

from __future__ import annotations

import queue
import threading

import pytest
from sqlalchemy.exc import OperationalError

from ingest.writer import ByteBudget, Drainer, InboundMessage, WriteResult


class _Writer:
    """Records what was prepared, committed and written; ``fail`` commits raise."""

    def __init__(self, fail: int = 0) -> None:
        self.batches: list[int] = []  # sizes of the batches committed, in order
        self.committed: list[int] = []  # message ids whose batch committed
        self.prepared: list[list[int]] = []  # message ids of each prepare call
        self.writes = 0
        self.fail = fail

    def prepare(self, messages: list[InboundMessage]) -> list[int]:
        mids = [m.mid for m in messages]
        self.prepared.append(mids)
        return mids

    def commit(self, mids: list[int]) -> WriteResult:
        if self.fail:
            self.fail -= 1
            raise OperationalError("COMMIT", {}, Exception("the database went away"))
        self.batches.append(len(mids))
        self.committed += mids
        return WriteResult(inserted=len(mids))

    def write(self, messages: list[InboundMessage]) -> WriteResult:
        self.writes += 1
        return self.commit(self.prepare(messages))


def _message(i: int, size: int) -> InboundMessage:
    return InboundMessage(b"pdm/m/telemetry", b"x" * size, i, 1, 0.0)


def _drainer(
    writer: _Writer,
    acked: list[int],
    budget: ByteBudget,
    *,
    batch_max: int = 10,
    batch_bytes: int = 1_000_000,
    messages: int = 30,
    size: int = 100,
    **kw: object,
) -> Drainer:
    """A drainer with ``messages`` queued messages of ``size`` bytes, each acquired from
    ``budget`` as the receiver does; acks go to ``acked``."""
    inbox: queue.Queue[InboundMessage] = queue.Queue()
    drainer = Drainer(
        inbox,
        writer,
        lambda m: acked.append(m.mid),
        batch_max=batch_max,
        batch_bytes=batch_bytes,
        budget=budget,
        **kw,  # type: ignore[arg-type]
    )
    closed = threading.Event()
    for i in range(messages):
        assert budget.acquire(size, closed)
        inbox.put(_message(i, size))
    return drainer


def test_batches_are_bounded_by_bytes_and_a_backlog_drains_in_one_run():
    budget = ByteBudget(10_000_000)
    acked: list[int] = []
    writer = _Writer()
    drainer = _drainer(
        writer, acked, budget, batch_max=1000, batch_bytes=10_000, messages=50, size=1_000
    )
    assert drainer.run(budget_s=5.0) == 50
    assert writer.batches == [10, 10, 10, 10, 10]  # 10 kB per batch
    assert acked == list(range(50)) and budget.used == 0


def test_a_full_budget_holds_the_receiver_back_until_closed():
    budget = ByteBudget(1_000)
    closed = threading.Event()
    assert budget.acquire(800, closed)
    results: list[bool] = []
    waiter = threading.Thread(target=lambda: results.append(budget.acquire(500, closed)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # waiting for room
    budget.release(800)
    waiter.join(2)
    assert results == [True]
    closed.set()  # the client is stopping: no more waiting, the broker keeps the message
    assert budget.acquire(10_000, closed) is False
    assert budget.used == 500


def test_the_next_batch_is_parsed_while_the_previous_one_commits():
    class Overlap(_Writer):
        """Each commit waits for the next batch to be prepared meanwhile (bounded wait)."""

        def __init__(self) -> None:
            super().__init__()
            self.prepared_at: list[threading.Event] = [threading.Event() for _ in range(4)]
            self.saw_overlap: list[bool] = []

        def prepare(self, messages: list[InboundMessage]) -> list[int]:
            self.prepared_at[len(self.prepared)].set()
            return super().prepare(messages)

        def commit(self, mids: list[int]) -> WriteResult:
            following = len(self.batches) + 1  # index of the batch behind this one
            if following < 3:  # a third batch has one behind it only if more arrive
                self.saw_overlap.append(self.prepared_at[following].wait(10))
            return super().commit(mids)

    writer, acked, budget = Overlap(), [], ByteBudget(1_000_000)
    drainer = _drainer(writer, acked, budget)
    assert drainer.run(budget_s=60) == 30
    assert writer.saw_overlap == [True, True]  # batch 2 parsed during 1's commit, 3 during 2's
    assert writer.prepared == [list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    assert acked == list(range(30)) and budget.used == 0


def test_messages_are_acked_only_after_their_own_batch_committed():
    writer, acked, budget = _Writer(), [], ByteBudget(1_000_000)

    def ack(message: InboundMessage) -> None:
        assert message.mid in writer.committed, f"message {message.mid} acked before commit"
        acked.append(message.mid)

    inbox: queue.Queue[InboundMessage] = queue.Queue()
    drainer = Drainer(inbox, writer, ack, batch_max=10, budget=budget)
    closed = threading.Event()
    for i in range(25):
        assert budget.acquire(100, closed)
        inbox.put(_message(i, 100))
    assert drainer.run(budget_s=60) == 25
    assert acked == list(range(25)) and writer.batches == [10, 10, 5]


def test_a_failed_batch_and_the_one_parsed_behind_it_are_kept_unacked_and_retried_in_order():
    writer, acked, budget = _Writer(fail=1), [], ByteBudget(1_000_000)
    drainer = _drainer(writer, acked, budget)
    assert drainer.run(budget_s=60) == 0  # the first commit fails: backing off
    assert acked == [] and writer.committed == [] and not drainer.db_ok
    assert drainer.pending == 20  # the failed batch and the next one, parsed meanwhile
    assert budget.used == 3_000  # nothing released: nothing acked
    assert drainer.drain_all() == 30
    assert writer.batches == [10, 10, 10] and acked == list(range(30))
    # each batch parsed again after the failure (the sensor directory may have changed)
    assert writer.prepared[:2] == [list(range(10)), list(range(10, 20))]
    assert writer.prepared[2:] == [list(range(10)), list(range(10, 20)), list(range(20, 30))]
    assert budget.used == 0 and drainer.db_ok


def test_a_run_that_ends_mid_pipeline_leaves_the_parsed_batch_unacked_for_the_next():
    writer, acked, budget = _Writer(), [], ByteBudget(1_000_000)
    drainer = _drainer(writer, acked, budget)
    assert drainer.run(budget_s=0) == 10  # one batch; the next parsed, not committed
    assert acked == list(range(10)) and writer.committed == list(range(10))
    assert drainer.pending == 10 and budget.used == 2_000
    assert drainer.drain_all() == 20  # a graceful stop stores and acks the rest, in order
    assert acked == list(range(30)) and writer.committed == acked
    assert drainer.pending == 0 and budget.used == 0


@pytest.mark.parametrize("pipeline", [True, False])
def test_without_the_pipeline_each_batch_is_written_in_one_step(pipeline: bool):
    writer, acked, budget = _Writer(), [], ByteBudget(1_000_000)
    drainer = _drainer(writer, acked, budget, pipeline=pipeline)
    assert drainer.run(budget_s=60) == 30
    assert writer.writes == (0 if pipeline else 3)
    assert writer.batches == [10, 10, 10] and acked == list(range(30))


def test_an_interrupted_run_returns_after_its_batch_and_drain_all_stores_the_rest():
    class Interrupting(_Writer):
        def commit(self, mids: list[int]) -> WriteResult:
            drainer.interrupt()  # the worker is stopping while this batch commits
            return super().commit(mids)

    writer, acked, budget = Interrupting(), [], ByteBudget(1_000_000)
    drainer = _drainer(writer, acked, budget)
    assert drainer.run(budget_s=3600) == 10  # not the whole backlog: one batch, then return
    assert acked == list(range(10)) and drainer.pending == 10
    assert drainer.drain_all() == 20
    assert acked == list(range(30)) and budget.used == 0
