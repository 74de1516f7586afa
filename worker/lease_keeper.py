"""One worker among several: the leases of the fleet-wide jobs it holds, renewed by a
heartbeat thread every third of their lifetime, and its presence lease. A fleet job runs
on a worker only while that worker's lease on it is valid; when the holder dies its leases
expire and the next heartbeat of another worker takes them (docs/reliability.md).

SQLite and the embedded broker are for one worker: a second worker on the same SQLite
database refuses to start (``OneWorkerOnly``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from prometheus_client import Gauge

from data.db import Database
from data.leases import presence, release, take
from logs import FailureStreak

__all__ = ["LEASES_HELD", "LeaseKeeper", "OneWorkerOnly"]

log = logging.getLogger(__name__)
LEASES_HELD = Gauge(
    "pdm_lease_held", "1 for each fleet-wide job's lease this worker holds", ["lease", "worker"]
)


class OneWorkerOnly(RuntimeError):
    """Another worker runs on this SQLite database: SQLite is for one worker."""


class LeaseKeeper:
    """Takes and renews this worker's leases in the background; ``holds`` answers from
    memory, valid until the last renewal's lifetime has passed by this process's clock."""

    def __init__(self, db: Database, *, worker: str, names: Iterable[str], ttl_s: float) -> None:
        self.db, self.worker, self.ttl_s = db, worker, ttl_s
        self.names = tuple(names)
        self.renew_s = ttl_s / 3
        self._held: frozenset[str] = frozenset()
        self._valid_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._streak = FailureStreak(log, "renewing leases", traceback=False)

    def start(self) -> None:
        """Take what is free now, then keep renewing in the background."""
        self.beat()
        if self.db.dialect == "sqlite":
            self._only_worker()
        self._thread = threading.Thread(target=self._run, name="leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing and release every lease: the others take them at their next beat."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.renew_s + 5)
        self._set(frozenset(), 0.0)
        try:
            with self.db.session() as session:
                release(session=session, holder=self.worker)
        except Exception as exc:  # noqa: BLE001 - they expire by themselves anyway
            log.warning("releasing leases failed (they expire in %.0fs): %s", self.ttl_s, exc)

    def holds(self, name: str) -> bool:
        return name in self._held and time.monotonic() < self._valid_until

    @property
    def held(self) -> frozenset[str]:
        return self._held if time.monotonic() < self._valid_until else frozenset()

    def only_when_held(self, name: str, body: Callable[[], None]) -> Callable[[], None]:
        """``body`` run only on the worker holding ``name``'s lease."""

        def job() -> None:
            if self.holds(name):
                body()

        return job

    def beat(self) -> None:
        """Take or renew the leases; on a database failure keep what is still valid."""
        started = time.monotonic()
        try:
            with self.db.session() as session:
                held = take(
                    session=session,
                    names=(*self.names, presence(self.worker)),
                    holder=self.worker,
                    ttl_s=self.ttl_s,
                )
        except Exception as exc:  # noqa: BLE001 - the next beat tries again
            self._streak.failed(exc)
            return
        self._streak.succeeded()
        # a tenth of the lifetime to spare: never act on a lease the database gave away
        self._set(frozenset(held & set(self.names)), started + self.ttl_s * 0.9)

    def _set(self, held: frozenset[str], valid_until: float) -> None:
        if held != self._held:
            log.info("worker %s holds leases: %s", self.worker, ", ".join(sorted(held)) or "none")
        self._held, self._valid_until = held, valid_until
        for name in self.names:
            LEASES_HELD.labels(name, self.worker).set(1 if name in held else 0)

    def _run(self) -> None:
        while not self._stop.wait(self.renew_s):
            self.beat()

    def _only_worker(self) -> None:
        """SQLite: wait out a crashed predecessor's leases, refuse if a live worker keeps them."""
        deadline = time.monotonic() + self.ttl_s + self.renew_s
        while set(self.names) - self._held:
            if time.monotonic() > deadline:
                raise OneWorkerOnly(
                    "another worker is running on this SQLite database: SQLite (and the "
                    "embedded MQTT broker) run one worker only. For several workers use "
                    "PostgreSQL (PDM_DATABASE_URL), Mosquitto (PDM_MQTT_URL) and "
                    "PDM_MQTT_SHARED_GROUP."
                )
            time.sleep(self.renew_s / 3)
            self.beat()
