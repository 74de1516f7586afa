"""A real ingest worker with fault injection, for the crash tests (never used in production).

It is the product's ``Worker``; only the seams around the drain are wrapped, driven by:
  PDM_TEST_KILL_POINT  mid_batch | before_commit | after_commit | while_preparing | none
  PDM_TEST_KILL_BATCH  kill itself with SIGKILL during this drain batch (1-based; from it on
                       for while_preparing)
  PDM_TEST_LOG         append one JSON line per committed batch: inserted, duplicates, dead

The drain commits a batch (``BatchWriter.commit``, in its committer thread) while it parses
the next (``BatchWriter.prepare``): ``while_preparing`` dies in that parse, with the batch
being committed in flight and the one parsed not yet committed.
"""

from __future__ import annotations

import json
import os
import signal
import threading
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
_state: dict[str, object] = {"batch": 0, "committing": None}  # the committing thread


def _die(point: str) -> None:
    if point == POINT and _state["batch"] == BATCH:
        os.kill(os.getpid(), signal.SIGKILL)


def _install() -> None:
    original_commit = writer_module.BatchWriter.commit
    original_prepare = writer_module.BatchWriter.prepare
    original_insert = writer_module.insert_reading_columns

    def commit(self, prepared):  # noqa: ANN001, ANN202 - same signature as the product's
        _state["batch"] = int(_state["batch"]) + 1  # type: ignore[call-overload]
        _state["committing"] = threading.get_ident()
        try:
            result = original_commit(self, prepared)
        finally:
            _state["committing"] = None
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
        # the pipeline: another batch commits meanwhile (the first time from the Nth batch
        # on: whether messages wait behind a commit depends on the stream's timing)
        committing, batch = _state["committing"], int(_state["batch"])  # type: ignore[call-overload]
        if POINT == "while_preparing" and committing is not None and batch >= BATCH:
            os.kill(os.getpid(), signal.SIGKILL)
        return original_prepare(self, messages)

    def insert(**kwargs):  # noqa: ANN003, ANN202
        inserted = original_insert(**kwargs)
        _die("mid_batch")  # rows written inside the open transaction
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
