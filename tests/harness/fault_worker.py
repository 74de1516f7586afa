"""A real ingest worker with fault injection, for the crash tests (never used in production).

It is the product's ``Worker``; only the seams around the drain are wrapped, driven by:
  PDM_TEST_KILL_POINT  mid_batch | before_commit | after_commit | while_preparing | none
  PDM_TEST_KILL_BATCH  kill itself with SIGKILL during this drain batch (1-based; from it on
                       for while_preparing)
  PDM_TEST_LOG         append one JSON line per committed batch (inserted, duplicates, dead)
                       and one before killing itself (killed: the point, batch)

The drain commits a batch (``BatchWriter.commit``, in its committer thread) while it parses
the next (``BatchWriter.prepare``): ``while_preparing`` dies at the end of that parse, with the
batch being committed in flight (its rows written, not committed) and the one parsed not yet
committed. That overlap needs a second batch waiting while the head commits, which a steady
stream below one batch a drain never leaves, so from the Nth batch on this mode holds each
parse and each commit open for a moment (``HOLD_S``): messages pile up behind the head, and
the commit is still running when the parse behind it ends.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

import ingest.writer as writer_module
from config import load_settings
from data.db import Database
from worker import Worker, serve_worker_metrics

POINT = os.environ.get("PDM_TEST_KILL_POINT", "none")
BATCH = int(os.environ.get("PDM_TEST_KILL_BATCH", "0"))
LOG = Path(os.environ["PDM_TEST_LOG"])
HOLD_S = 0.5  # while_preparing: how long a parse and a commit are held open
_state: dict[str, object] = {"batch": 0, "committing": None}  # the committing thread
_commit_in_flight = threading.Event()


def _batch() -> int:
    return int(_state["batch"])  # type: ignore[call-overload]


def _kill(point: str) -> None:
    with LOG.open("a") as log:  # the test checks each worker died where it was told to
        log.write(json.dumps({"killed": point, "batch": _state["batch"]}) + "\n")
    os.kill(os.getpid(), signal.SIGKILL)


def _die(point: str) -> None:
    if point == POINT and _state["batch"] == BATCH:
        _kill(point)


def _install() -> None:
    original_commit = writer_module.BatchWriter.commit
    original_prepare = writer_module.BatchWriter.prepare
    original_insert = writer_module.insert_reading_columns

    def commit(self, prepared):  # noqa: ANN001, ANN202 - same signature as the product's
        _state["batch"] = _batch() + 1
        _state["committing"] = threading.get_ident()
        _commit_in_flight.set()
        try:
            result = original_commit(self, prepared)
        finally:
            _state["committing"] = None
            _commit_in_flight.clear()
        with LOG.open("a") as log:
            log.write(
                json.dumps(
                    {
                        "inserted": result.inserted,
                        "duplicates": result.duplicates,
                        "dead": result.dead,
                    }
                )
                + "\n"
            )
        _die("after_commit")  # committed, not yet acknowledged
        return result

    def prepare(self, messages):  # noqa: ANN001, ANN202
        prepared = original_prepare(self, messages)
        # batch N's head is parsed after batch N-1 committed; the batch behind it while N commits
        if POINT != "while_preparing" or _batch() < BATCH - 1:
            return prepared
        # the head waits in vain (nothing commits before it is parsed) and messages pile up
        # behind it; the batch behind it finds the head's commit running, held open
        if _commit_in_flight.wait(HOLD_S) and _batch() >= BATCH:
            _kill("while_preparing")
        return prepared

    def insert(**kwargs):  # noqa: ANN003, ANN202
        inserted = original_insert(**kwargs)
        _die("mid_batch")  # rows written inside the open transaction
        if POINT == "while_preparing" and _batch() >= BATCH:
            time.sleep(HOLD_S)  # the parse behind this commit ends while it is in flight
        return inserted

    @event.listens_for(Session, "before_commit")
    def before_commit(_session: Session) -> None:
        if _state["committing"] == threading.get_ident():  # the batch's own transaction
            _die("before_commit")

    writer_module.BatchWriter.commit = commit
    writer_module.BatchWriter.prepare = prepare
    writer_module.insert_reading_columns = insert


def main() -> None:
    _install()
    settings = load_settings()
    worker = Worker(settings, Database(settings.effective_database_url))
    worker.start()
    if settings.worker_metrics_port:
        serve_worker_metrics(settings.worker_metrics_port, worker.readiness)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main()
