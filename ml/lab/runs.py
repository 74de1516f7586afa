"""Model-lab runs: training and backtests queued from the page (or by the weekly job) and run
by the worker in the background, writing progress, stage and the loss curve as they go.

- **train**: a labelled history (simulated, the plant's own, or both) → both models → two
  candidates in the registry.
- **backtest**: a candidate pair and the active pair replayed over the same labelled history
  (held out: another seed, or a chosen period of the plant); every window's scores stored as
  Parquet (``ml.lab.scored``), alarm metrics side by side.
- **retrain**: the weekly job: train on the plant (+ simulator) with the technicians'
  verdicts, backtest against the active pair, promote only when a setting allows it and the
  candidate beats the active pair.

Nothing is promoted through the lab, the CLI or the jobs without a finished backtest of
that exact pair on record (``ml.lab.backtest.promote_pair``). What a run may be asked is in
``ml.lab.params``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from data.db import Database
from data.models import AuditLog, LabRun, LabRunStatus
from ml.dataset import RunToFailure, simulate_history
from ml.lab.backtest import backtest_pair, beats, load_pair, model_version, promote_pair
from ml.lab.params import SOURCES, LabError, check_params, describe, train_params
from ml.registry import active_versions

__all__ = ["queue_run", "run_next", "fail_interrupted", "execute", "lab_data", "record_backtest"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- queue


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


def run_next(db: Database, settings: Settings) -> int:
    """The worker's job: claim the oldest queued run and run it to the end (1 if one ran)."""
    with db.session() as session:
        run_id = session.scalar(
            select(LabRun.id)
            .where(LabRun.status == LabRunStatus.QUEUED)
            .order_by(LabRun.created_at, LabRun.id)
            .limit(1)
        )
        if run_id is None:
            return 0
        claimed = session.execute(
            update(LabRun)
            .where(LabRun.id == run_id, LabRun.status == LabRunStatus.QUEUED)
            .values(status=LabRunStatus.RUNNING, started_at=datetime.now(UTC), stage="starting")
        ).rowcount
    if not claimed:
        return 0  # another worker took it
    execute(db, settings, run_id)
    return 1


def fail_interrupted(db: Database) -> int:
    """At worker start: runs left running by a worker that stopped mid-way are failed with
    that reason (their page would otherwise show them running for ever)."""
    with db.session() as session:
        return session.execute(
            update(LabRun)
            .where(LabRun.status == LabRunStatus.RUNNING)
            .values(
                status=LabRunStatus.FAILED,
                stage="failed",
                error="interrupted: the worker stopped during this run; start it again",
                finished_at=datetime.now(UTC),
            )
        ).rowcount


class _Reporter:
    """Writes a run's progress to its row, at most every half second (the last one always)."""

    def __init__(self, db: Database, run_id: int) -> None:
        self.db, self.run_id, self.last = db, run_id, 0.0
        self.curve: list[dict] = []

    def __call__(self, stage: str, fraction: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5 and fraction < 1:
            return
        self.last = now
        with self.db.session() as session:
            session.execute(
                update(LabRun)
                .where(LabRun.id == self.run_id)
                .values(stage=stage[:200], progress=round(min(max(fraction, 0.0), 1.0), 4))
            )

    def epoch(self, epoch: int, logs: dict) -> None:
        self.curve.append({"epoch": epoch + 1, **{k: round(float(v), 5) for k, v in logs.items()}})
        with self.db.session() as session:
            session.execute(
                update(LabRun).where(LabRun.id == self.run_id).values(curve=list(self.curve))
            )


def execute(
    db: Database, settings: Settings, run_id: int, data: RunToFailure | None = None
) -> None:
    """Run one claimed run; failures are recorded on the row, never raised to the worker.
    ``data``: for a backtest, the history to replay instead of the one its params name."""
    with db.session() as session:
        run = session.get(LabRun, run_id)
        kind, params, user_id = run.kind, dict(run.params), run.created_by
        pair = {"anomaly": run.anomaly_version, "failure": run.failure_version}
    report = _Reporter(db, run_id)
    try:
        if kind == "train":
            result, pair = _train(db, settings, params, report)
            out = ""
        elif kind == "backtest":
            result, out = _backtest(db, settings, run_id, params, pair, report, data)
        else:
            result, pair, out = _retrain(db, settings, run_id, params, report)
    except Exception as exc:  # noqa: BLE001 - a failed run is a row with its error
        log.exception("lab run %s (%s) failed", run_id, kind)
        with db.session() as session:
            run = session.get(LabRun, run_id)
            run.status, run.error = LabRunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
            run.finished_at, run.stage = datetime.now(UTC), "failed"
        return
    with db.session() as session:
        run = session.get(LabRun, run_id)
        run.status, run.result, run.output_dir = LabRunStatus.DONE, _clean(result), out
        run.anomaly_version, run.failure_version = pair["anomaly"], pair["failure"]
        run.progress, run.stage, run.finished_at = 1.0, "done", datetime.now(UTC)
    if kind == "retrain" and result.get("promoted"):
        with db.session() as session:
            promote_pair(session=session, pair=pair, user_id=user_id)
        log.info("weekly retrain %s promoted %s: it beat the active pair", run_id, pair)


# --------------------------------------------------------------------------- data


def lab_data(db: Database, settings: Settings, params: dict) -> RunToFailure:
    """The labelled history a run learns from or is replayed on."""
    source = params["source"]
    if source not in SOURCES:
        raise LabError(f"{describe(params)} can only be backtested where it was supplied")
    parts = []
    if source in ("plant", "plant+simulator"):
        from ml.history import history_from_db

        with db.session() as session:
            try:
                parts.append(
                    history_from_db(
                        session=session,
                        days=float(params["days"]),
                        step_s=settings.live_step_s,
                        time_scale=settings.ml_step_s / settings.live_step_s,
                        labels=True,
                    )
                )
            except ValueError:
                if source == "plant":
                    raise
    if source in ("simulator", "plant+simulator"):
        sim = simulate_history(
            machines=int(params["machines"]), days=float(params["days"]), seed=int(params["seed"])
        )
        if parts:  # beside the plant: simulated units keep their own names
            sim.readings["unit"] = "sim-" + sim.readings["unit"]
            sim.failures["unit"] = "sim-" + sim.failures["unit"]
        parts.append(sim)
    if len(parts) == 1:
        return parts[0]
    verdicts = [p.verdicts for p in parts if p.verdicts is not None]
    return RunToFailure(
        pd.concat([p.readings for p in parts], ignore_index=True),
        pd.concat([p.failures for p in parts], ignore_index=True),
        verdicts=pd.concat(verdicts, ignore_index=True) if verdicts else None,
    )


# --------------------------------------------------------------------------- train


def _train(db: Database, settings: Settings, params: dict, report: _Reporter) -> tuple[dict, dict]:
    from ml.train import train_and_register

    report("preparing data", 0.01, force=True)
    data = lab_data(db, settings, params)
    data = replace(data, sensors=tuple(params["features"]))
    verdicts = 0 if data.verdicts is None else len(data.verdicts)

    def progress(stage: str, fraction: float) -> None:
        report(stage, 0.05 + 0.9 * fraction)

    versions = train_and_register(
        db=db,
        models_dir=settings.effective_models_dir,
        data=data,
        params=train_params(params),
        promote_now=False,
        progress=progress,
        on_epoch=report.epoch,
        extra_metrics={"verdicts_used": verdicts, "source": params["source"]},
    )
    with db.session() as session:
        family = model_version(session, "failure", versions["failure"]).metrics.get("family")
    result = {
        "versions": versions,
        "family": family,
        "units": int(data.readings["unit"].nunique()),
        "failures": int(len(data.failures)),
        "verdicts_used": verdicts,
        "curve": report.curve,
    }
    return result, versions


# --------------------------------------------------------------------------- backtest


def _backtest(
    db: Database,
    settings: Settings,
    run_id: int,
    params: dict,
    pair: dict,
    report: _Reporter,
    data: RunToFailure | None = None,
) -> tuple[dict, str]:
    report("preparing data", 0.02, force=True)
    with db.session() as session:
        models = {"candidate": load_pair(session, pair)}
        versions = {"candidate": dict(pair)}
        current = active_versions(session=session)
        if set(current) == {"anomaly", "failure"} and current != pair:
            models["active"] = load_pair(session, current)
            versions["active"] = dict(current)
    data = data if data is not None else lab_data(db, settings, params)
    threshold = _threshold(db, settings)
    metrics, scored = backtest_pair(models, versions, data, threshold=threshold, progress=report)
    scored.meta.update(source=describe(params), run_id=run_id)
    root = settings.var_dir / "lab" / f"run-{run_id}"
    scored.save(root)
    report("writing results", 0.95, force=True)
    result = {
        "metrics": metrics,
        "versions": versions,
        "beats_active": beats(metrics["candidate"], metrics.get("active")),
        "data": describe(params),
        "threshold": threshold,
    }
    return result, str(root)


def _threshold(db: Database, settings: Settings) -> float:
    from maintenance.app_settings import Overrides

    return float(Overrides(settings, db).current().failure_threshold)


def record_backtest(
    db: Database,
    settings: Settings,
    pair: dict,
    params: dict | None = None,
    *,
    user_id: int | None = None,
    data: RunToFailure | None = None,
) -> LabRun:
    """Run a backtest of ``pair`` now, in this process, and keep it on record (the CLI's and
    the demo's ``--promote`` path); on ``data`` when given (held-out units of supplied data)."""
    with db.session() as session:
        run = queue_run(
            session=session,
            kind="backtest",
            params=params or {},
            user_id=user_id,
            anomaly_version=pair["anomaly"],
            failure_version=pair["failure"],
        )
        run.status, run.started_at = LabRunStatus.RUNNING, datetime.now(UTC)
        run_id = run.id
    execute(db, settings, run_id, data)
    with db.session() as session:
        run = session.get(LabRun, run_id)
        session.expunge(run)
        return run


# --------------------------------------------------------------------------- promotion


# --------------------------------------------------------------------------- weekly retrain


def _retrain(
    db: Database,
    settings: Settings,
    run_id: int,
    params: dict,
    report: _Reporter,
) -> tuple[dict, dict, str]:
    def stage(share: float, offset: float) -> _Scaled:
        return _Scaled(report, share, offset)

    training, pair = _train(db, settings, params, stage(0.7, 0.0))
    held_out = {**params, "seed": int(params["seed"]) + 1000}
    bt, out = _backtest(db, settings, run_id, held_out, pair, stage(0.3, 0.7))
    # promoted by execute() once this run, its own backtest, is on record
    promote = bool(settings.lab_auto_promote and bt["beats_active"])
    return {**training, **bt, "promoted": promote}, pair, out


class _Scaled:
    """A reporter for one part of a longer run (progress offset + share)."""

    def __init__(self, report: _Reporter, share: float, offset: float) -> None:
        self.report, self.share, self.offset = report, share, offset
        self.curve = report.curve

    def __call__(self, stage: str, fraction: float, *, force: bool = False) -> None:
        self.report(stage, self.offset + self.share * fraction, force=force)

    def epoch(self, epoch: int, logs: dict) -> None:
        self.report.epoch(epoch, logs)


def _clean(value: object) -> object:
    """JSON-safe: NaN and inf become None, numpy numbers plain ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
