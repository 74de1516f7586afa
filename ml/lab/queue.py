"""The model lab's queue: runs asked for by the page (or the weekly job) wait as ``lab_runs``
rows until the worker claims the oldest; a run left running by a stopped worker is failed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from data.db import Database
from data.models import AuditLog, LabRun, LabRunStatus
from ml.lab.backtest import model_version
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
            if model_version(session, k, v) is None:
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


def claim_next(db: Database) -> int | None:
    """Mark the oldest queued run running and return its id (None: nothing queued, or
    another worker took it first)."""
    with db.session() as session:
        run_id = session.scalar(
            select(LabRun.id)
            .where(LabRun.status == LabRunStatus.QUEUED)
            .order_by(LabRun.created_at, LabRun.id)
            .limit(1)
        )
        if run_id is None:
            return None
        claim = (
            update(LabRun)
            .where(LabRun.id == run_id, LabRun.status == LabRunStatus.QUEUED)
            .values(status=LabRunStatus.RUNNING, started_at=datetime.now(UTC), stage="starting")
        )
        # an UPDATE gives a CursorResult, typed as a plain Result (sqlalchemy#12913)
        claimed = cast(CursorResult[Any], session.execute(claim)).rowcount
    return run_id if claimed else None


def fail_interrupted(db: Database) -> int:
    """At worker start: runs left running by a worker that stopped mid-way are failed with
    that reason (their page would otherwise show them running for ever)."""
    with db.session() as session:
        fail = (
            update(LabRun)
            .where(LabRun.status == LabRunStatus.RUNNING)
            .values(
                status=LabRunStatus.FAILED,
                stage="failed",
                error="interrupted: the worker stopped during this run; start it again",
                finished_at=datetime.now(UTC),
            )
        )
        # an UPDATE gives a CursorResult, typed as a plain Result (sqlalchemy#12913)
        return cast(CursorResult[Any], session.execute(fail)).rowcount
