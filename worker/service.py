"""The worker role: MQTT ingest, and one APScheduler running the jobs of ``worker.schedule``:
every worker runs the per-worker jobs, the fleet-wide ones run where their lease is held."""

from __future__ import annotations

import logging
import queue
import time
from datetime import UTC, datetime
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler

from config import Settings
from data.db import Database
from data.timescale import aggregates_in_use
from ingest import broker_log
from ingest.client import IngestClient
from ingest.http_ingest import payload_limits
from ingest.writer import BatchWriter, ByteBudget, Drainer, InboundMessage
from maintenance.ops.app_settings import Overrides
from maintenance.ops.retention import sync_timescale_policies
from maintenance.ops.scheduled_jobs import not_scheduled, pending_requests
from ml.lab.queue import fail_interrupted
from worker.context import JobContext
from worker.lease_keeper import LeaseKeeper
from worker.recording import JobRecorder, watched
from worker.schedule import FLEET_JOBS, SCHEDULE

__all__ = ["Worker"]

log = logging.getLogger(__name__)
QUIET_S = 1.0  # leaving: nothing more arrived for this long after the unsubscribe
SETTLE_MAX_S = 60.0  # leaving: give up waiting for quiet after this long (a flooding broker)


class Worker:
    """Ingest client + drain, and the scheduled jobs; runs that did work go to job_runs."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        self.inbox: queue.Queue[InboundMessage] = queue.Queue(maxsize=settings.ingest_queue_max)
        self.budget = ByteBudget(settings.ingest_queue_bytes)
        # the broker's refusals reach every worker; the one holding this lease records them
        self.client = IngestClient(
            settings, self.inbox, self.budget, lambda: self.leases.holds(broker_log.LEASE)
        )
        limits = payload_limits(settings)  # the same for HTTP (ingest/http_ingest.py)
        writer = BatchWriter(
            db,
            prefix=settings.mqtt_topic_prefix,
            limits=limits,
            resolution=settings.store_resolution,
        )
        self.drainer = Drainer(
            self.inbox,
            writer,
            self.client.ack,
            batch_max=settings.drain_batch_max,
            batch_bytes=settings.drain_batch_bytes,
            budget=self.budget,
            pipeline=settings.drain_pipeline,
        )
        overrides = Overrides(settings, db)  # settings changed in the app, no restart
        self.context = JobContext(settings, db, overrides, self.drainer)
        self.worker_id = settings.worker_id
        self.recorder = JobRecorder(db, worker=self.worker_id)
        self.leases = LeaseKeeper(
            db,
            worker=self.worker_id,
            names=(*FLEET_JOBS, broker_log.LEASE),
            ttl_s=settings.lease_ttl_s,
        )
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )

    def start(self) -> None:
        self.leases.start()  # first: a second worker on SQLite refuses before it subscribes
        if self.settings.mqtt_shared_group and not self.settings.mqtt_v5:
            log.warning(
                "PDM_MQTT_SHARED_GROUP needs MQTT 5 (Mosquitto): this worker receives every "
                "message; several workers need PDM_MQTT_URL and PDM_MQTT_PROTOCOL=5"
            )
        self.client.start()
        s = self.context.overrides.current()
        sync_timescale_policies(
            db=self.db,
            raw_days=s.retention_raw_days,
            compress_after_days=s.timescale_compress_after_days,
        )
        if interrupted := fail_interrupted(self.db, worker=self.worker_id):
            log.warning("%d model-lab run(s) were interrupted by the last stop", interrupted)
        now = datetime.now(UTC)
        skipped = not_scheduled(aggregates_in_use(self.db.engine))
        for job in SCHEDULE:
            if job.name in skipped:
                log.info("job %s not scheduled: not for this storage", job.name)
                continue
            body = self.recorder.recorded(job.name, partial(job.body, self.context))
            if job.scope == "fleet":
                body = self.leases.only_when_held(job.name, body)
            when = job.when.arguments(self.settings, now)
            self.scheduler.add_job(body, id=job.name, name=job.name, **when)
        self.scheduler.add_job(
            watched("requests", self._run_requested),
            "interval",
            seconds=2,
            id="requests",
            name="requests",
        )
        self.scheduler.start()

    def stop(self) -> None:
        """Graceful: stop the jobs, commit and ack what was received, then disconnect keeping
        the MQTT session (a restart under the same client id takes up its share again)."""
        if not self.scheduler.running:
            return  # never started, or already stopped
        self.drainer.interrupt()  # a drain run returns after its batch: drain_all does the rest
        self.scheduler.shutdown(wait=True)
        self.leases.stop()  # the others take the fleet jobs at their next beat
        self.client.close_inbox()
        self.drainer.drain_all()
        self.client.stop()

    def leave(self) -> None:
        """Stop for good (a scale-down): leave the shared group first, store and ack what the
        broker had already given this member, then end the session (docs/reliability.md)."""
        if not self.scheduler.running:
            return
        log.info("leaving the shared group: unsubscribing, then ending the MQTT session")
        self.drainer.interrupt()
        self.scheduler.shutdown(wait=True)  # the drain job too: the loop below drains
        self.leases.stop()
        self._unsubscribe_and_settle()
        self._end_session()

    def leave_stopped(self, connect_timeout: float = 30.0) -> int:
        """``python app.py worker --leave``: take up the session of a member already stopped
        under this client id (its queued share comes with it), store it, then end the
        session. No job runs and no lease is taken. Returns the readings stored."""
        self.client.start()
        if not self.client.wait_connected(connect_timeout):
            self.client.stop()
            raise ConnectionError("the MQTT broker did not answer: the session is kept")
        return self._unsubscribe_and_settle() + self._end_session()

    def _unsubscribe_and_settle(self) -> int:
        """Unsubscribe, then drain until nothing more arrived for QUIET_S after the last
        message and the last ack: the broker sends what it had queued for this member as the
        acks free its receive window."""
        if not self.client.unsubscribe(timeout=10):
            log.warning("the broker did not confirm the unsubscribe within 10 s")
        stored, deadline = 0, time.monotonic() + SETTLE_MAX_S
        acked_at = time.monotonic()
        while time.monotonic() < deadline:
            busy = not self.inbox.empty() or self.drainer.pending
            stored += self.drainer.run_once().inserted
            if busy:  # acks just went out: the broker may send what it queued behind them
                acked_at = time.monotonic()
            idle = self.inbox.empty() and not self.drainer.pending
            last = max(acked_at, self.client.last_message_at)
            if idle and time.monotonic() - last >= QUIET_S:
                return stored
            time.sleep(0.05)
        log.warning("still receiving %.0f s after the unsubscribe; ending anyway", SETTLE_MAX_S)
        return stored

    def _end_session(self) -> int:
        self.client.close_inbox()
        stored = self.drainer.drain_all()
        if self.drainer.pending or not self.drainer.db_ok:  # never discard what is unstored
            log.error("the database did not take the last messages: the MQTT session is kept")
            self.client.stop()
            return stored
        self.client.stop(end_session=True)
        log.info("left the shared group; the broker discarded this member's session")
        return stored

    def readiness(self) -> dict[str, bool]:
        return {
            "database": self.drainer.db_ok and self.db.ping(),
            "broker": self.client.connected,
            "scheduler": self.scheduler.running,
        }

    def _run_requested(self) -> None:
        """Admins' "run now" from the Jobs page: start the job at once, mark the request;
        a fleet-wide job's request is left to the worker holding its lease."""
        with self.db.session() as session:
            for request in pending_requests(session=session):
                if request.job in FLEET_JOBS and not self.leases.holds(request.job):
                    continue
                request.started_at = datetime.now(UTC)
                if self.scheduler.get_job(request.job) is not None:
                    self.scheduler.modify_job(request.job, next_run_time=datetime.now(UTC))
                    log.info("job %s run now (requested)", request.job)
