"""The worker role: MQTT ingest and the drain, rules and scoring jobs on one APScheduler."""

from __future__ import annotations

import hmac
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select

from config import Settings
from data.db import Database
from data.fleet import MachineSpec, ensure_fleet, machine_names
from data.models import JobRun, Reading, Role
from data.readings import bucketed_readings
from data.rollup import REDO, floor_bucket, roll_up, roll_up_dirty, rolled_until
from ingest.client import IngestClient
from ingest.payload import PayloadLimits
from ingest.writer import BatchWriter, ByteBudget, Drainer, InboundMessage
from logs import JOB, FailureStreak
from maintenance.accounts import ensure_demo_accounts
from maintenance.app_settings import Overrides
from maintenance.delivery import deliver_due
from maintenance.downtime import track_stops
from maintenance.escalation import escalate_overdue, limits_from
from maintenance.jobs import pending_requests
from maintenance.plans import open_planned_tickets
from maintenance.predictions import (
    apply_predictions,
    in_wall_time,
    store_predictions,
)
from maintenance.reports import (
    last_full_week,
    list_reports,
    refresh_weekly_reports,
    store_weekly_report,
)
from maintenance.retention import apply_retention, sync_timescale_policies
from maintenance.rules import evaluate_rules
from maintenance.sops import load_shipped_sops
from ml.alarm_policy import PredictionPolicy
from ml.live_context import LifeContext
from ml.registry import active_versions
from ml.scoring import FleetScorer, assemble
from simulator.fleet import demo_fleet

__all__ = ["Worker", "seed_demo", "serve_worker_metrics"]

log = logging.getLogger(__name__)
JOB_SECONDS = Histogram("pdm_job_duration_seconds", "Scheduler job durations", ["job"])
JOB_FAILURES = Counter("pdm_job_failures_total", "Scheduler job runs that raised", ["job"])
PREDICTIONS = Counter("pdm_predictions_total", "Machine scorings written")
ML_MODE = Gauge(
    "pdm_ml_mode", "1 for the mode in force: models, or threshold rules alone", ["mode"]
)


class Worker:
    """Ingest client + drain, rules and score jobs; runs that did work go to job_runs."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        self.inbox: queue.Queue[InboundMessage] = queue.Queue(maxsize=settings.ingest_queue_max)
        self.budget = ByteBudget(settings.ingest_queue_bytes)
        self.client = IngestClient(settings, self.inbox, self.budget)
        limits = PayloadLimits(
            max_bytes=settings.max_payload_bytes,
            max_future_skew=timedelta(seconds=settings.max_future_skew_s),
            max_age=timedelta(days=settings.max_reading_age_days),
        )
        writer = BatchWriter(db, prefix=settings.mqtt_topic_prefix, limits=limits)
        self.drainer = Drainer(
            self.inbox,
            writer,
            self.client.ack,
            batch_max=settings.drain_batch_max,
            batch_bytes=settings.drain_batch_bytes,
            budget=self.budget,
        )
        self.overrides = Overrides(settings, db)  # settings changed in the app, no restart
        # job runs go to the same database: while it is down, say so once, not every run
        self._recording = FailureStreak(log, "recording job runs", traceback=False)
        self._scorer: FleetScorer | None = None
        self._life_context: LifeContext | None = None
        self._versions: dict[str, int] | None = None
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )

    def _schedule(self) -> list[tuple[str, Callable[[], int], dict]]:
        """Every recorded job: its name (the Jobs page's), its body, and when it runs."""
        s = self.settings

        def soon(seconds: int) -> datetime:
            return datetime.now(UTC) + timedelta(seconds=seconds)

        def every(seconds: float, **more: object) -> dict:
            return {"trigger": "interval", "seconds": seconds, **more}

        def cron(**at: object) -> dict:
            return {"trigger": "cron", **at}

        return [
            ("drain", self._drain, every(s.drain_interval_s)),
            ("score", self._score, every(s.score_interval_s)),
            ("rules", self._rules, every(s.rules_interval_s)),
            # Mondays, and once soon after start: a worker that was down on Monday catches up
            (
                "weekly_report",
                self._weekly_report,
                cron(day_of_week="mon", hour=0, minute=5, next_run_time=soon(15)),
            ),
            ("report_refresh", self._refresh_reports, every(300, next_run_time=soon(45))),
            ("retention", self._retention, cron(hour=2, minute=30)),
            ("rollup", self._rollup, every(60, next_run_time=soon(20))),
            ("escalation", self._escalate, every(60)),
            ("notify", self._notify, every(10)),
            ("plans", self._plans, every(300, next_run_time=soon(30))),
            # the model lab's training and backtest runs, one at a time, in the background
            ("lab", self._lab, every(2)),
            ("retrain", self._retrain, cron(day_of_week="mon", hour=3)),
        ]

    def start(self) -> None:
        from ml.lab.queue import fail_interrupted

        self.client.start()
        s = self.overrides.current()
        sync_timescale_policies(
            db=self.db,
            raw_days=s.retention_raw_days,
            compress_after_days=s.timescale_compress_after_days,
        )
        if interrupted := fail_interrupted(self.db):
            log.warning("%d model-lab run(s) were interrupted by the last stop", interrupted)
        for name, body, when in self._schedule():
            self.scheduler.add_job(self._recorded(name, body), id=name, name=name, **when)
        self.scheduler.add_job(
            self._watched("requests", self._run_requested),
            "interval",
            seconds=2,
            id="requests",
            name="requests",
        )
        self.scheduler.start()

    def stop(self) -> None:
        """Graceful: stop the jobs, commit and ack what was received, then disconnect."""
        if not self.scheduler.running:
            return  # never started, or already stopped
        self.scheduler.shutdown(wait=True)
        self.client.close_inbox()
        self.drainer.drain_all()
        self.client.stop()

    def readiness(self) -> dict[str, bool]:
        return {
            "database": self.drainer.db_ok and self.db.ping(),
            "broker": self.client.connected,
            "scheduler": self.scheduler.running,
        }

    def _drain(self) -> int:
        # keep going while a backlog remains, but leave room for the next tick
        return self.drainer.run(budget_s=max(self.settings.drain_interval_s * 0.8, 0.05))

    def _rules(self) -> int:
        s = self.overrides.current()
        with self.db.session() as session:
            outcome = evaluate_rules(
                session=session,
                now=datetime.now(UTC),
                window=timedelta(seconds=s.rules_window_s),
                clear_after=timedelta(seconds=s.alarm_clear_after_s),
            )
            stops = track_stops(
                session=session, now=datetime.now(UTC), window=timedelta(seconds=s.rules_window_s)
            )
        changes = len(outcome.raised) + len(outcome.escalated) + len(outcome.cleared)
        return changes + len(stops.opened) + len(stops.closed)

    def _weekly_report(self) -> int:
        """Store last week's breakdown report if it is not stored yet (idempotent)."""
        week_start, _ = last_full_week(datetime.now(UTC))
        with self.db.session() as session:
            before = {r.id for r in list_reports(session=session)}
            report = store_weekly_report(session=session, week_start=week_start)
            return int(report.id not in before)

    def _refresh_reports(self) -> int:
        """Rebuild stored weekly reports whose week's data changed since they were built."""
        with self.db.session() as session:
            return refresh_weekly_reports(session=session)

    def _escalate(self) -> int:
        """Escalate tickets nobody started within their priority's limit."""
        limits = limits_from(self.overrides.current())
        with self.db.session() as session:
            return len(escalate_overdue(session, datetime.now(UTC), limits))

    def _retention(self) -> int:
        s = self.overrides.current()
        outcome = apply_retention(
            db=self.db,
            now=datetime.now(UTC),
            raw_days=s.retention_raw_days,
            rollup_days=s.retention_rollup_days,
            compress_after_days=s.timescale_compress_after_days,
            progress=lambda done, total: log.info("retention: day %d of %d rolled up", done, total),
        )
        return outcome.readings_removed + outcome.rollups_removed

    def _rollup(self) -> int:
        """Ten-minute rollups: redo the last half hour; catch up a week per run when behind
        (after an upgrade, or a worker that was away)."""
        now = floor_bucket(datetime.now(UTC))
        with self.db.session() as session:
            since = rolled_until(session) or session.scalar(select(func.min(Reading.ts)))
            if since is None:
                return 0
            start = min(floor_bucket(since), now - REDO)
            stop = min(start + timedelta(days=7), now)
            roll_up(session, start, stop)
            late = roll_up_dirty(session)  # buckets that got late readings
        return 1 + late

    def _notify(self) -> int:
        """Deliver due notifications (email, Slack, webhooks) with retries and backoff."""
        return deliver_due(db=self.db, settings=self.settings, now=datetime.now(UTC)).total

    def _lab(self) -> int:
        from maintenance.model_lab import lab_setup
        from ml.lab.runs import run_next

        return run_next(self.db, lab_setup(self.settings, self.db))

    def _retrain(self) -> int:
        """Queue the weekly retrain (the lab job runs it): the plant's history with the
        technicians' verdicts, plus simulated history, backtested against the active pair."""
        if not self.settings.lab_retrain_weekly:
            return 0
        from ml.lab.queue import queue_run

        with self.db.session() as session:
            queue_run(
                session=session,
                kind="retrain",
                params={"source": "plant+simulator", "days": 14.0, "machines": 12},
                user_id=None,
            )
        return 1

    def _plans(self) -> int:
        """Preventive maintenance: open planned tickets that are within their lead time."""
        with self.db.session() as session:
            return len(open_planned_tickets(session, datetime.now(UTC)))

    def _run_requested(self) -> None:
        """Admins' "run now" from the Jobs page: start the job at once, mark the request."""
        with self.db.session() as session:
            for request in pending_requests(session=session):
                request.started_at = datetime.now(UTC)
                if self.scheduler.get_job(request.job) is not None:
                    self.scheduler.modify_job(request.job, next_run_time=datetime.now(UTC))
                    log.info("job %s run now (requested)", request.job)

    def _score(self) -> int:
        """Score every machine with enough recent data; predictions drive alarms."""
        scorer = self._current_scorer()
        if scorer is None:
            return 0
        now = datetime.now(UTC)
        step = self.settings.live_step_s
        with self.db.session() as session:
            frame = bucketed_readings(
                session=session,
                step_s=step,
                since=now - timedelta(seconds=step * (scorer.window + 2)),
            )
        x3, types, ids = assemble(
            frame,
            window=scorer.window,
            sensors=scorer.sensors,
            end_bucket=int(now.timestamp() // step) - 1,
        )
        with self.db.session() as session:
            context = self._life(scorer)(session, ids, scorer.sensors, now)
        scores = scorer.score(x3, types, ids, self._names(ids), context)
        scores = in_wall_time(scores=scores, time_scale=self.settings.live_time_scale)
        with self.db.session() as session:
            store_predictions(session=session, scores=scores, now=now, versions=scorer.versions)
            apply_predictions(session=session, scores=scores, now=now, policy=self._policy())
        PREDICTIONS.inc(len(scores))
        return len(scores)

    def _policy(self) -> PredictionPolicy:
        s = self.overrides.current()
        return PredictionPolicy(
            failure_threshold=s.failure_threshold,
            failure_clear_below=s.failure_clear_below,
            anomaly_threshold=s.anomaly_threshold,
            clear_after=timedelta(seconds=s.alarm_clear_after_s),
        )

    def _names(self, ids: np.ndarray) -> np.ndarray:
        """Machine names for the ids, so each machine is judged against its own baseline."""
        with self.db.session() as session:
            names = machine_names(session=session)
        return np.array([names.get(int(i), "") for i in ids])

    def _life(self, scorer: FleetScorer) -> LifeContext:
        """The machines' current lives, as the active models' window sees them."""
        window_s = scorer.window * self.settings.live_step_s
        if self._life_context is None or self._life_context.window_s != window_s:
            scale = self.settings.ml_step_s / self.settings.live_step_s
            self._life_context = LifeContext(window_s=window_s, scale=scale)
        return self._life_context

    def _current_scorer(self) -> FleetScorer | None:
        """The active models, reloaded when the registry's active versions change."""
        with self.db.session() as session:
            versions = active_versions(session=session)
            if versions != self._versions:
                self._scorer = FleetScorer.from_registry(session) if versions else None
                self._versions = versions
                log.info("scoring with %s", versions or "threshold rules only (no active model)")
        ML_MODE.labels("models").set(1 if self._scorer else 0)
        ML_MODE.labels("rules").set(0 if self._scorer else 1)
        return self._scorer

    def _watched(
        self, name: str, body: Callable[[], int | None]
    ) -> Callable[[], tuple[int, Exception | None]]:
        """Wrap a job so a failure never stops the scheduler nor floods the log: counted in
        ``pdm_job_failures_total``; its first failure logged with the traceback, then a line
        a minute while it keeps failing, then one when it recovers. The wrapper answers
        (items, the failure or None)."""
        streak = FailureStreak(log, f"job {name}")

        def job() -> tuple[int, Exception | None]:
            try:
                items = body() or 0
            except Exception as exc:  # noqa: BLE001 - a job failure must not stop the scheduler
                JOB_FAILURES.labels(name).inc()
                streak.failed(exc)
                return 0, exc
            streak.succeeded()
            return items, None

        return job

    def _recorded(self, name: str, body: Callable[[], int]) -> Callable[[], None]:
        """Wrap a job: time it, and record runs that did something or failed."""
        watched = self._watched(name, body)

        def job() -> None:
            started, t0 = datetime.now(UTC), time.perf_counter()
            run = JOB.set(f"{name}-{uuid.uuid4().hex[:8]}")  # every log line of this run
            try:
                items, failure = watched()
            finally:
                JOB.reset(run)
            error = f"{type(failure).__name__}: {failure}"[:2000] if failure else ""
            seconds = time.perf_counter() - t0
            JOB_SECONDS.labels(name).observe(seconds)
            if items or error:
                self._record(
                    JobRun(
                        job=name,
                        started_at=started,
                        duration_ms=seconds * 1000,
                        ok=not error,
                        items=items,
                        error=error,
                    )
                )

        return job

    def _record(self, run: JobRun) -> None:
        try:
            with self.db.session() as session:
                session.add(run)
        except Exception as exc:  # noqa: BLE001 - bookkeeping must never break the job
            self._recording.failed(exc)
        else:
            self._recording.succeeded()


def seed_demo(settings: Settings, db: Database) -> dict[str, str]:
    """Create the demo fleet (if any) and one account per role, and load the shipped SOPs
    that are missing; returns new {user: password}."""
    specs = [MachineSpec.like(m) for m in demo_fleet(settings.demo_machines)]
    given = {
        Role.ADMIN: settings.admin_password,
        Role.MANAGER: settings.manager_password,
        Role.TECHNICIAN: settings.technician_password,
        Role.VIEWER: settings.viewer_password,
    }
    with db.session() as session:
        ensure_fleet(session=session, machines=specs)
        load_shipped_sops(session=session)
        return ensure_demo_accounts(session=session, given={r: p for r, p in given.items() if p})


def serve_worker_metrics(
    port: int,
    readiness: Callable[[], dict[str, bool]],
    *,
    host: str = "127.0.0.1",
    token: str = "",
) -> ThreadingHTTPServer:
    """A worker without a web app still exposes /metrics and /readyz: on loopback unless
    ``host`` says otherwise, and /metrics only to a bearer of ``token`` when one is set
    (the web's /metrics token); /healthz and /readyz stay open for health checks."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/metrics" and not _bearer(self.headers.get("Authorization"), token):
                self._send(403, b'{"error": "forbidden"}', "application/json")
            elif self.path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif self.path in ("/healthz", "/readyz"):
                checks = readiness() if self.path == "/readyz" else {}
                ok = all(checks.values())
                body = json.dumps({"ready": ok, "checks": checks}).encode()
                self._send(200 if ok else 503, body, "application/json")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


def _bearer(header: str | None, token: str) -> bool:
    """No token set: anyone who reaches the port; else ``Authorization: Bearer <token>``."""
    given = (header or "").removeprefix("Bearer ").strip()
    return not token or hmac.compare_digest(given.encode(), token.encode())
