"""The web app served by several processes: gunicorn, one master and ``web_processes`` forked
workers (gthread, 8 threads each, like the single waitress process), all on one port.

The app is built once, in the master, before the fork (``preload_app``): the workers share
its memory copy-on-write, which ``gc.freeze()`` at the end of the app factory keeps shared
(the collector never touches, so never copies, what was built). Each worker then drops the
database connections it inherited and opens its own (``post_fork``). Nothing a request
needs is kept in one worker's memory: sessions, the sign-in throttle, the API rate limit and
attachments are rows of the database (docs/architecture.md, "Several web processes").

Every response says which worker served it (``X-Served-By: web-<pid>``), for the operator
reading a trace and for the test that a session holds across workers. ``/metrics`` adds up
every worker's counters: prometheus_client's multiprocess mode, one file per worker in a
folder of the master's (``share_metrics``, called before prometheus_client is imported).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from data.db import Database

__all__ = ["serve_processes", "share_metrics", "THREADS", "METRICS_DIR"]

THREADS = 8  # per worker, as waitress serves one process (app.py)
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own name for the folder
_log = logging.getLogger(__name__)

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _served_by(app: Wsgi) -> Wsgi:
    """``app`` with an ``X-Served-By`` header naming the worker process in every answer."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        served_by = ("X-Served-By", f"web-{os.getpid()}")

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, served_by], exc_info)

        return app(environ, start)

    return wrapped


class _Gunicorn(BaseApplication):
    """gunicorn with its settings given here, not read from the command line or a file."""

    def __init__(self, app: Wsgi, options: dict[str, Any]) -> None:
        self.options, self.application = options, app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Wsgi:
        return self.application


def share_metrics() -> None:
    """Make this process's metrics, and its forks', files in a new folder that ``/metrics``
    adds up. Must run before prometheus_client is imported (it picks its mode then)."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("share_metrics() after prometheus_client was imported")
    os.environ[METRICS_DIR] = tempfile.mkdtemp(prefix="pdm-web-metrics-")


def serve_processes(app: Wsgi, *, host: str, port: int, processes: int, db: Database) -> None:
    """Serve ``app`` on ``host:port`` with ``processes`` gunicorn workers until SIGTERM or
    Ctrl-C (gunicorn's master then stops its workers gracefully and exits)."""

    def post_fork(_server: object, _worker: object) -> None:
        # the master's pooled connections belong to the master: never use them here
        db.engine.dispose(close=False)

    def child_exit(_server: object, worker: Any) -> None:
        if METRICS_DIR in os.environ:  # its counters stay counted, its gauges go
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)

    master = os.getpid()
    db.engine.dispose()  # nothing of the master's start stays open across the fork
    _log.info("serving the web app with %d processes of %d threads", processes, THREADS)
    try:
        _run(app, host, port, processes, post_fork, child_exit)
    finally:
        if os.getpid() == master and METRICS_DIR in os.environ:  # a worker's exit passes here too
            shutil.rmtree(os.environ[METRICS_DIR], ignore_errors=True)


def _run(app: Wsgi, host: str, port: int, processes: int, *hooks: Callable[..., None]) -> None:
    post_fork, child_exit = hooks
    _Gunicorn(
        _served_by(app),
        {
            "bind": f"{host}:{port}",
            "workers": processes,
            "worker_class": "gthread",
            "threads": THREADS,
            "preload_app": True,
            "post_fork": post_fork,
            "child_exit": child_exit,
            "graceful_timeout": 20,
            "timeout": 60,  # a worker whose threads all hang this long is replaced
            "loglevel": "warning",
            "accesslog": None,
        },
    ).run()
