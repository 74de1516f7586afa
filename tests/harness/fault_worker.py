"""A real ingest worker with fault injection, for the crash tests (never used in production).

It is the product's ``Worker``; only the seams around the drain are wrapped, driven by:
  PDM_TEST_KILL_POINT  mid_batch | before_commit | after_commit | none
  PDM_TEST_KILL_BATCH  kill itself with SIGKILL during this drain batch (1-based)
  PDM_TEST_LOG         append one JSON line per committed batch: inserted, duplicates, dead
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
_state = {"batch": 0, "in_drain": False}


def _die(point: str) -> None:
    if point == POINT and _state["batch"] == BATCH:
        os.kill(os.getpid(), signal.SIGKILL)


def _install() -> None:
    original_write = writer_module.BatchWriter.write
    original_insert = writer_module.insert_readings

    def write(self, messages):  # noqa: ANN001, ANN202 - same signature as the product's
        _state["batch"] += 1
        _state["in_drain"] = True
        try:
            result = original_write(self, messages)
        finally:
            _state["in_drain"] = False
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

    def insert(**kwargs):  # noqa: ANN003, ANN202
        inserted = original_insert(**kwargs)
        _die("mid_batch")  # rows written inside the open transaction
        return inserted

    @event.listens_for(Session, "before_commit")
    def before_commit(_session: Session) -> None:
        if _state["in_drain"]:
            _die("before_commit")

    writer_module.BatchWriter.write = write
    writer_module.insert_readings = insert


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
