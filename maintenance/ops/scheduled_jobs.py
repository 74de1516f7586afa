"""The worker's scheduled jobs as people see them: what each does, its recent runs, and
"run now" requests the worker picks up (the web process has no scheduler of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, JobRequest, JobRun, utcnow
from data.timescale import aggregates_in_use

__all__ = [
    "DONE_BY_AGGREGATES",
    "JOBS",
    "ONLY_WITH_AGGREGATES",
    "JobSummary",
    "pending_requests",
    "request_run",
    "job_summaries",
    "not_scheduled",
]

# job id -> (what it does, when)
JOBS = {
    "drain": ("Store received sensor messages, then acknowledge them", "every 0.5 s"),
    "rules": ("Threshold rules, alarms, tickets; stops seen in rpm data", "every 2 s"),
    "score": ("Score every machine with the active models", "every 5 s"),
    "weekly_report": ("Store last week's breakdown report (CSV and PDF)", "Mondays 00:05 UTC"),
    "report_refresh": (
        "Rebuild stored weekly reports whose week's data changed (backfill, late data)",
        "every 5 min",
    ),
    "notify": (
        "Deliver notifications (email, Slack, webhooks), retrying failures with backoff",
        "every 10 s",
    ),
    "retention": (
        "Remove raw readings past the retention setting once their ten-minute rollups are "
        "complete, and rollups past theirs",
        "daily 02:30 UTC",
    ),
    "rollup": (
        "Ten-minute rollups of the readings, late readings included (not on TimescaleDB, "
        "whose continuous aggregates do it)",
        "every 60 s",
    ),
    "policies": (
        "Run TimescaleDB's policies (aggregate refreshes, compression, retention) that its "
        "own job runner failed; nothing while it runs them",
        "every 60 s",
    ),
    "escalation": ("Escalate tickets not started in time to the managers", "every 60 s"),
    "plans": ("Open planned tickets for preventive maintenance that is coming due", "every 5 min"),
    "lab": ("Run the model lab's queued training and backtest runs, one at a time", "every 2 s"),
    "retrain": (
        "Retrain both models on the plant's history with the technicians' verdicts and "
        "backtest the candidate",
        "Mondays 03:00 UTC",
    ),
    "drift": (
        "Compare live readings and predictions with the active models' training reference",
        "every 5 min",
    ),
}
# not scheduled where TimescaleDB's continuous aggregates do their work
# (data.timescale.aggregates_in_use), nor listed on the Jobs page there
DONE_BY_AGGREGATES = frozenset({"rollup"})
# scheduled and listed only there
ONLY_WITH_AGGREGATES = frozenset({"policies"})


def not_scheduled(aggregates: bool) -> frozenset[str]:
    """The jobs neither scheduled nor listed, with TimescaleDB's aggregates in use or not."""
    return DONE_BY_AGGREGATES if aggregates else ONLY_WITH_AGGREGATES


@dataclass(frozen=True, slots=True)
class JobSummary:
    job: str
    what: str
    when: str
    last_started: datetime | None
    last_ms: float | None
    last_ok: bool | None
    last_items: int | None
    last_error: str
    last_worker: str  # the worker that ran it ("" before workers were named)
    runs_24h: int
    failures_24h: int
    requested: bool  # a run-now is waiting for the worker


def job_summaries(*, session: Session, now: datetime | None = None) -> list[JobSummary]:
    now = now or utcnow()
    last_ids = select(func.max(JobRun.id)).group_by(JobRun.job)
    last = {r.job: r for r in session.scalars(select(JobRun).where(JobRun.id.in_(last_ids)))}
    day = dict(
        session.execute(
            select(JobRun.job, func.count())
            .where(JobRun.started_at >= now - timedelta(days=1))
            .group_by(JobRun.job)
        ).all()
    )
    failed = dict(
        session.execute(
            select(JobRun.job, func.count())
            .where(JobRun.started_at >= now - timedelta(days=1), JobRun.ok.is_(False))
            .group_by(JobRun.job)
        ).all()
    )
    waiting = set(session.scalars(select(JobRequest.job).where(JobRequest.started_at.is_(None))))
    skipped = not_scheduled(aggregates_in_use(session.get_bind()))
    out = []
    for job, (what, when) in JOBS.items():
        if job in skipped:
            continue
        run = last.get(job)
        out.append(
            JobSummary(
                job,
                what,
                when,
                run.started_at if run else None,
                run.duration_ms if run else None,
                run.ok if run else None,
                run.items if run else None,
                run.error if run else "",
                run.worker if run else "",
                int(day.get(job, 0)),
                int(failed.get(job, 0)),
                job in waiting,
            )
        )
    return out


def request_run(*, session: Session, job: str, user_id: int) -> bool:
    """Ask the worker to run ``job`` now (audited); False if unknown or already asked."""
    if job not in JOBS or job in not_scheduled(aggregates_in_use(session.get_bind())):
        return False
    waiting = session.scalar(
        select(JobRequest.id).where(JobRequest.job == job, JobRequest.started_at.is_(None))
    )
    if waiting is not None:
        return False
    session.add(JobRequest(job=job, requested_by=user_id))
    session.add(
        AuditLog(user_id=user_id, action="job.run_now", entity="job", entity_id=job, after={})
    )
    return True


def pending_requests(*, session: Session) -> list[JobRequest]:
    """Requests the worker has not started yet, oldest first; the caller marks them."""
    stmt = select(JobRequest).where(JobRequest.started_at.is_(None)).order_by(JobRequest.id)
    return list(session.scalars(stmt))
