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
``ml.lab.params``; the queue is ``ml.lab.queue``. What a run needs from outside the model
layer (folders, the alarm threshold in force, simulated histories) comes in a ``LabSetup``
built by ``maintenance.ops.model_lab``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import overload

import numpy as np
import pandas as pd

from data.db import Database
from data.models import LabRun, LabRunStatus
from ml import registry
from ml.dataset import RunToFailure
from ml.lab.backtest import backtest_pair, beats, load_pair, promote_pair
from ml.lab.params import SOURCES, LabError, describe, train_params
from ml.lab.plant_history import history_from_db
from ml.lab.progress import Reporter, Scaled
from ml.lab.queue import claim_next, queue_run
from ml.registry import active_versions
from ml.train_register import train_and_register

__all__ = [
    "LabSetup",
    "run_next",
    "execute",
    "lab_data",
    "record_backtest",
    "backtest_and_promote",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabSetup:
    """What a lab run needs from outside the model layer."""

    models_dir: Path  # where trained artefacts are written
    results_dir: Path  # a backtest's scored windows go to results_dir/run-<id>
    live_step_s: float  # the plant's recorded step
    time_scale: float  # model seconds per recorded second
    auto_promote: bool  # the weekly retrain may activate a pair that beats the active one
    # the failure alarm's threshold in force with a model whose training chose the given one
    failure_threshold: Callable[[float], float]
    simulate: Callable[[int, float, int], RunToFailure]  # (machines, days, seed) → history


def run_next(db: Database, setup: LabSetup, *, worker: str = "") -> int:
    """The worker's job: claim the oldest queued run for ``worker`` and run it to the end
    (1 if one ran)."""
    run_id = claim_next(db, worker=worker)
    if run_id is None:
        return 0
    execute(db, setup, run_id)
    return 1


def execute(db: Database, setup: LabSetup, run_id: int, data: RunToFailure | None = None) -> None:
    """Run one claimed run; failures are recorded on the row, never raised to the worker.
    ``data``: for a backtest, the history to replay instead of the one its params name."""
    with db.session() as session:
        run = session.get_one(LabRun, run_id)
        kind, params, user_id = run.kind, dict(run.params), run.created_by
        pair = {"anomaly": run.anomaly_version, "failure": run.failure_version}
    report = Reporter(db, run_id)
    try:
        if kind == "train":
            result, pair = _train(db, setup, params, report)
            out = ""
        elif kind == "backtest":
            result, out = _backtest(db, setup, run_id, params, pair, report, data)
        else:
            result, pair, out = _retrain(db, setup, run_id, params, report)
    except Exception as exc:  # noqa: BLE001 - a failed run is a row with its error
        log.exception("lab run %s (%s) failed", run_id, kind)
        with db.session() as session:
            run = session.get_one(LabRun, run_id)
            run.status, run.error = LabRunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
            run.finished_at, run.stage = datetime.now(UTC), "failed"
        return
    with db.session() as session:
        run = session.get_one(LabRun, run_id)
        run.status, run.result, run.output_dir = LabRunStatus.DONE, _clean(result), out
        run.anomaly_version, run.failure_version = pair["anomaly"], pair["failure"]
        run.progress, run.stage, run.finished_at = 1.0, "done", datetime.now(UTC)
    if kind == "retrain" and result.get("promoted"):
        with db.session() as session:
            promote_pair(session=session, pair=pair, user_id=user_id)
        log.info("weekly retrain %s promoted %s: it beat the active pair", run_id, pair)


# --------------------------------------------------------------------------- data


def lab_data(db: Database, setup: LabSetup, params: dict) -> RunToFailure:
    """The labelled history a run learns from or is replayed on."""
    source = params["source"]
    if source not in SOURCES:
        raise LabError(f"{describe(params)} can only be backtested where it was supplied")
    parts = []
    if source in ("plant", "plant+simulator"):
        with db.session() as session:
            try:
                parts.append(
                    history_from_db(
                        session=session,
                        days=float(params["days"]),
                        step_s=setup.live_step_s,
                        time_scale=setup.time_scale,
                        labels=True,
                    )
                )
            except ValueError:
                if source == "plant":
                    raise
    if source in ("simulator", "plant+simulator"):
        sim = setup.simulate(int(params["machines"]), float(params["days"]), int(params["seed"]))
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


def _train(
    db: Database, setup: LabSetup, params: dict, report: Reporter | Scaled
) -> tuple[dict, dict]:
    report("preparing data", 0.01, force=True)
    data = lab_data(db, setup, params)
    data = replace(data, sensors=tuple(params["features"]))
    verdicts = 0 if data.verdicts is None else len(data.verdicts)

    def progress(stage: str, fraction: float) -> None:
        report(stage, 0.05 + 0.9 * fraction)

    versions = train_and_register(
        db=db,
        models_dir=setup.models_dir,
        data=data,
        params=train_params(params),
        progress=progress,
        on_epoch=report.epoch,
        extra_metrics={"verdicts_used": verdicts, "source": params["source"]},
    )
    with db.session() as session:
        registered = registry.version(session, "failure", versions["failure"])
        assert registered is not None  # train_and_register registered it
        family = registered.metrics.get("family")
        choice = registered.metrics.get("family_choice")  # auto: each family's held-out error
        columns = registered.metrics.get("tree_columns")  # what the forests see
    result = {
        "versions": versions,
        "family": family,
        "family_choice": choice,
        "tree_columns": columns,
        "units": int(data.readings["unit"].nunique()),
        "failures": int(len(data.failures)),
        "verdicts_used": verdicts,
        "curve": report.curve,
    }
    return result, versions


# --------------------------------------------------------------------------- backtest


def _backtest(
    db: Database,
    setup: LabSetup,
    run_id: int,
    params: dict,
    pair: dict,
    report: Reporter | Scaled,
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
    data = data if data is not None else lab_data(db, setup, params)
    # each pair at the threshold that would be in force were it active: the plant's, or the
    # one its training chose
    thresholds = {
        name: float(setup.failure_threshold(trained.params.alarm_threshold))
        for name, trained in models.items()
    }
    metrics, scored = backtest_pair(models, versions, data, threshold=thresholds, progress=report)
    scored.meta.update(source=describe(params), run_id=run_id)
    root = setup.results_dir / f"run-{run_id}"
    scored.save(root)
    report("writing results", 0.95, force=True)
    result = {
        "metrics": metrics,
        "versions": versions,
        "beats_active": beats(metrics["candidate"], metrics.get("active")),
        "data": describe(params),
        "threshold": thresholds["candidate"],
        "thresholds": thresholds,
    }
    return result, str(root)


def record_backtest(
    db: Database,
    setup: LabSetup,
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
    execute(db, setup, run_id, data)
    with db.session() as session:
        run = session.get_one(LabRun, run_id)
        session.expunge(run)
        return run


def backtest_and_promote(
    db: Database,
    setup: LabSetup,
    pair: dict,
    *,
    held_out: RunToFailure | None = None,
    label: str = "",
) -> None:
    """The CLI's and the demo's promotion: backtest the pair and keep that backtest on record,
    then activate it. On ``held_out`` (units of the same source kept out of training, named by
    ``label``) when given, else on a held-out simulated fleet."""
    if held_out is not None:
        params = {"source": "supplied", "label": label or "supplied data"}
        record_backtest(db, setup, pair, params, data=held_out)
    else:
        record_backtest(db, setup, pair, {"machines": 6, "days": 3.0, "seed": 4242})
    with db.session() as session:
        promote_pair(session=session, pair=pair, user_id=None)


# --------------------------------------------------------------------------- weekly retrain


def _retrain(
    db: Database,
    setup: LabSetup,
    run_id: int,
    params: dict,
    report: Reporter,
) -> tuple[dict, dict, str]:
    training, pair = _train(db, setup, params, Scaled(report, 0.7, 0.0))
    held_out = {**params, "seed": int(params["seed"]) + 1000}
    bt, out = _backtest(db, setup, run_id, held_out, pair, Scaled(report, 0.3, 0.7))
    # promoted by execute() once this run, its own backtest, is on record
    promote = bool(setup.auto_promote and bt["beats_active"])
    return {**training, **bt, "promoted": promote}, pair, out


@overload
def _clean(value: dict) -> dict: ...
@overload
def _clean(value: object) -> object: ...
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
