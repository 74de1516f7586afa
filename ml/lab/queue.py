"""The model lab's queue: runs asked for by the page (or the weekly job) wait as ``lab_runs``
rows until a worker claims the oldest (``FOR UPDATE SKIP LOCKED``: several workers never
take the same run); a run is owned by the worker that claimed it, and failed only when that
worker restarts or is no longer alive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from data.db import Database
from data.leases import live_workers
from data.models import AuditLog, LabRun, LabRunStatus
from ml import registry
from ml.lab.params import LabError, check_params

__all__ = ["queue_run", "claim_next", "fail_interrupted"]


def queue_run(
    *,
    session: Session,
    kind: str,
    params: dict,
    user_id: int | None,
    anomaly_version: int | None = None,
    failure_version: int | None = None,
) -> LabRun:
    """Queue a run for the worker (audited); the page follows its row."""
    if kind == "backtest":
        if failure_version is None or anomaly_version is None:
            raise LabError("Pick a candidate to backtest.", "candidate")
        for k, v in (("anomaly", anomaly_version), ("failure", failure_version)):
            if registry.version(session, k, v) is None:
                raise LabError(f"There is no {k} model v{v}.", "candidate")
    run = LabRun(
        kind=kind,
        params=check_params(kind, params),
        created_by=user_id,
        anomaly_version=anomaly_version,
        failure_version=failure_version,
    )
    session.add(run)
    session.flush()
    session.add(
        AuditLog(
            user_id=user_id,
            action=f"lab.{kind}",
            entity="lab_run",
            entity_id=str(run.id),
            after={"params": run.params, "anomaly": anomaly_version, "failure": failure_version},
        )
    )
    return run


def claim_next(db: Database, *, worker: str = "") -> int | None:
    """Mark the oldest queued run running, claimed by ``worker``, and return its id (None:
    nothing queued that another worker has not locked)."""
    with db.session() as session:
        run = session.scalar(
            select(LabRun)
            .where(LabRun.status == LabRunStatus.QUEUED)
            .order_by(LabRun.created_at, LabRun.id)
            .limit(1)
            .with_for_update(skip_locked=True)  # SQLite: one writer at a time anyway
        )
        if run is None:
            return None
        run.status, run.started_at, run.stage = LabRunStatus.RUNNING, datetime.now(UTC), "starting"
        run.claimed_by = worker
        return run.id


def fail_interrupted(db: Database, *, worker: str) -> int:
    """Runs left running by ``worker`` before its restart, or by a worker no longer alive,
    are failed with that reason (their page would otherwise show them running for ever);
    another live worker's runs are left alone."""
    with db.session() as session:
        orphaned = or_(
            LabRun.claimed_by.is_(None),
            LabRun.claimed_by == worker,
            LabRun.claimed_by.not_in(live_workers(session)),
        )
        fail = (
            update(LabRun)
            .where(LabRun.status == LabRunStatus.RUNNING, orphaned)
            .values(
                status=LabRunStatus.FAILED,
                stage="failed",
                error="interrupted: the worker stopped during this run; start it again",
                finished_at=datetime.now(UTC),
            )
        )
        # an UPDATE gives a CursorResult, typed as a plain Result (sqlalchemy#12913)
        return cast(CursorResult[Any], session.execute(fail)).rowcount
