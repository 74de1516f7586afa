"""The drain's bounds, with a small in-memory writer standing in for the database."""

from __future__ import annotations

import queue
import threading

from ingest.writer import ByteBudget, Drainer, InboundMessage, WriteResult


class _Writer:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def write(self, messages: list[InboundMessage]) -> WriteResult:
        self.batches.append(len(messages))
        return WriteResult(inserted=len(messages))


def _message(i: int, size: int) -> InboundMessage:
    return InboundMessage(b"pdm/m/telemetry", b"x" * size, i, 1, 0.0)


def test_batches_are_bounded_by_bytes_and_a_backlog_drains_in_one_run():
    inbox: queue.Queue[InboundMessage] = queue.Queue()
    budget = ByteBudget(10_000_000)
    acked: list[int] = []
    writer = _Writer()
    drainer = Drainer(
        inbox,
        writer,
        lambda m: acked.append(m.mid),
        batch_max=1000,
        batch_bytes=10_000,
        budget=budget,
    )
    closed = threading.Event()
    for i in range(50):
        assert budget.acquire(1_000, closed)
        inbox.put(_message(i, 1_000))
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
