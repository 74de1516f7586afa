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
that exact pair on record (``promote_pair``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from data.db import Database
from data.models import AuditLog, LabRun, LabRunStatus, ModelVersion
from ml.dataset import RunToFailure, simulate_history
from ml.lab.scored import ScoredSet, threshold_metrics
from ml.pipeline import Params, Trained, build_windows
from ml.registry import active_versions, promote

__all__ = [
    "LabError",
    "queue_run",
    "run_next",
    "fail_interrupted",
    "execute",
    "backtest_pair",
    "record_backtest",
    "promote_pair",
    "has_backtest",
    "beats",
    "TRAIN_DEFAULTS",
    "BACKTEST_DEFAULTS",
]

log = logging.getLogger(__name__)

KINDS = ("train", "backtest", "retrain")
SOURCES = ("simulator", "plant", "plant+simulator")
TRAIN_DEFAULTS = {
    "source": "simulator",
    "machines": 12,
    "days": 6.0,
    "seed": 1,
    "window": 60,
    "horizon_h": 6.0,
    "epochs": 4,
    "contamination": "auto",
    "features": ["temperature", "vibration", "rpm"],
}
BACKTEST_DEFAULTS = {"source": "simulator", "machines": 8, "days": 5.0, "seed": 99}
_LIMITS = {"machines": (1, 200), "days": (0.5, 90.0), "window": (10, 240), "epochs": (1, 50)}


class LabError(ValueError):
    """A run's parameters are not acceptable; ``field`` names the control."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --------------------------------------------------------------------------- queue


def check_params(kind: str, params: dict) -> dict:
    """Defaults filled in and every value checked; raises LabError naming the field."""
    if kind not in KINDS:
        raise LabError(f"unknown run kind {kind!r}")
    merged = {**(TRAIN_DEFAULTS if kind != "backtest" else BACKTEST_DEFAULTS), **params}
    if merged.get("source") not in SOURCES:
        raise LabError("Choose a data source.", "source")
    for key, (low, high) in _LIMITS.items():
        if key not in merged:
            continue
        try:
            value = float(merged[key])
        except (TypeError, ValueError):
            raise LabError(f"{key.capitalize()} must be a number.", key) from None
        if not low <= value <= high or (key != "days" and value != int(value)):
            raise LabError(f"{key.capitalize()} must be between {low:g} and {high:g}.", key)
        merged[key] = value if key == "days" else int(value)
    if kind != "backtest":
        contamination = merged.get("contamination", "auto")
        if contamination != "auto":
            try:
                contamination = float(contamination)
            except (TypeError, ValueError):
                raise LabError("Contamination is 'auto' or a share.", "contamination") from None
            if not 0 < contamination <= 0.5:
                raise LabError("Contamination must be above 0 and at most 0.5.", "contamination")
        merged["contamination"] = contamination
        if (
            not set(merged["features"]) <= {"temperature", "vibration", "rpm"}
            or not merged["features"]
        ):
            raise LabError("Pick at least one sensor to learn from.", "features")
        merged["features"] = [
            s for s in ("temperature", "vibration", "rpm") if s in merged["features"]
        ]
        horizon = float(merged["horizon_h"])
        if not 0.5 <= horizon <= 48:
            raise LabError("The horizon must be between 0.5 and 48 hours.", "horizon_h")
    return merged


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
            if _version(session, k, v) is None:
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


def _version(session: Session, kind: str, version: int) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version)
    )


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


def execute(db: Database, settings: Settings, run_id: int) -> None:
    """Run one claimed run; failures are recorded on the row, never raised to the worker."""
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
            result, out = _backtest(db, settings, run_id, params, pair, report)
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


def _params(p: dict) -> Params:
    return Params(
        window=int(p["window"]),
        horizon_h=float(p["horizon_h"]),
        epochs=int(p["epochs"]),
        contamination=p.get("contamination", "auto"),
        stride=10 if float(p["days"]) * int(p.get("machines", 1)) <= 200 else 5,
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
        params=_params(params),
        promote_now=False,
        progress=progress,
        on_epoch=report.epoch,
        extra_metrics={"verdicts_used": verdicts, "source": params["source"]},
    )
    result = {
        "versions": versions,
        "units": int(data.readings["unit"].nunique()),
        "failures": int(len(data.failures)),
        "verdicts_used": verdicts,
        "curve": report.curve,
    }
    return result, versions


# --------------------------------------------------------------------------- backtest


def _load_pair(session: Session, pair: dict) -> Trained:
    from ml.evaluate import load_trained

    failure = _version(session, "failure", pair["failure"])
    anomaly = _version(session, "anomaly", pair["anomaly"])
    if failure is None or anomaly is None:
        raise LabError("the models of this run are no longer in the registry")
    trained = load_trained(Path(failure.artefact).parent)
    if Path(anomaly.artefact).parent != Path(failure.artefact).parent:
        from ml.anomaly import AnomalyModel

        trained.anomaly = AnomalyModel.load(Path(anomaly.artefact))
    return trained


def backtest_pair(
    models: dict[str, Trained],
    versions: dict[str, dict],
    data: RunToFailure,
    *,
    threshold: float = 0.8,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[dict, ScoredSet]:
    """Score every window of ``data`` with each named model pair and replay the alarms:
    ({name: metrics}, the scores). Windows follow the first model's window and horizon."""
    from ml.evaluate import score_windows

    first = next(iter(models.values()))
    frames, metrics = [], {}
    w = build_windows(data, first.params, stride=5)
    for i, (name, trained) in enumerate(models.items()):
        if progress:
            progress(f"scoring {name}", 0.1 + 0.8 * i / len(models))
        if tuple(trained.baseline.sensors) != tuple(data.sensors):
            view = replace(data, sensors=tuple(trained.baseline.sensors))
            wm = build_windows(view, replace(trained.params, window=first.params.window), stride=5)
        else:
            wm = w
        s = score_windows(trained, wm, rules_steps=20, progress=False)
        frames.append(
            pd.DataFrame(
                {
                    "model": name,
                    "anomaly_version": versions[name]["anomaly"],
                    "failure_version": versions[name]["failure"],
                    "unit": wm.units.astype(str),
                    "type": wm.types.astype(str),
                    "end": wm.ends,
                    "prob": s.prob,
                    "anomaly": s.anomaly,
                    "rul_h": s.rul_h,
                    "ttf_h": wm.ttf_h,
                    "faulty": wm.faulty,
                }
            )
        )
    failures = data.failures.assign(
        unit=data.failures["unit"].astype(str),
        failure=_seconds(data.failures["failure"]),
        repaired=_seconds(data.failures["repaired"]),
    )[["unit", "failure", "repaired"]]
    scores = pd.concat(frames, ignore_index=True)
    horizon = first.params.horizon_h
    data_end = float(scores["end"].max())
    for name, part in scores.groupby("model", sort=False):
        metrics[str(name)] = threshold_metrics(
            part, failures, horizon_h=horizon, threshold=threshold, data_end=data_end
        )
    start, end = data.span()
    meta = {
        "horizon_h": horizon,
        "data_start": start.timestamp(),
        "data_end": data_end,
        "units": int(data.readings["unit"].nunique()),
        "failures": int(len(failures)),
        "threshold": threshold,
        "versions": versions,
    }
    return metrics, ScoredSet(scores, failures, meta)


def _seconds(times: pd.Series) -> np.ndarray:
    from ml.features import epoch_seconds

    return epoch_seconds(pd.to_datetime(times, utc=True))


def beats(candidate: dict, active: dict | None) -> bool:
    """The candidate is better: catches at least as many failures (recall) and raises no more
    false alarms per machine-week, and is strictly better in one of the two."""
    if active is None:
        return True

    def value(m: dict, key: str, missing: float) -> float:
        v = m.get(key)
        return missing if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    rc, ra = value(candidate, "recall", 0.0), value(active, "recall", 0.0)
    fc = value(candidate, "false_alarms_per_machine_week", math.inf)
    fa = value(active, "false_alarms_per_machine_week", math.inf)
    return rc >= ra and fc <= fa and (rc > ra or fc < fa)


def _backtest(
    db: Database,
    settings: Settings,
    run_id: int,
    params: dict,
    pair: dict,
    report: _Reporter,
) -> tuple[dict, str]:
    report("preparing data", 0.02, force=True)
    with db.session() as session:
        models = {"candidate": _load_pair(session, pair)}
        versions = {"candidate": dict(pair)}
        current = active_versions(session=session)
        if set(current) == {"anomaly", "failure"} and current != pair:
            models["active"] = _load_pair(session, current)
            versions["active"] = dict(current)
    data = lab_data(db, settings, params)
    threshold = _threshold(db, settings)
    metrics, scored = backtest_pair(models, versions, data, threshold=threshold, progress=report)
    scored.meta.update(source=_describe(params), run_id=run_id)
    root = settings.var_dir / "lab" / f"run-{run_id}"
    scored.save(root)
    report("writing results", 0.95, force=True)
    result = {
        "metrics": metrics,
        "versions": versions,
        "beats_active": beats(metrics["candidate"], metrics.get("active")),
        "data": _describe(params),
        "threshold": threshold,
    }
    return result, str(root)


def _threshold(db: Database, settings: Settings) -> float:
    from maintenance.app_settings import Overrides

    return float(Overrides(settings, db).current().failure_threshold)


def _describe(params: dict) -> str:
    source = {"simulator": "simulated", "plant": "plant", "plant+simulator": "plant + simulated"}
    text = f"{source[params['source']]}: "
    if params["source"] == "plant":
        return text + f"last {params['days']:g} days"
    return text + f"{params['machines']} machines × {params['days']:g} days, seed {params['seed']}"


def record_backtest(
    db: Database,
    settings: Settings,
    pair: dict,
    params: dict | None = None,
    *,
    user_id: int | None = None,
) -> LabRun:
    """Run a backtest of ``pair`` now, in this process, and keep it on record (the CLI's and
    the demo's ``--promote`` path)."""
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
    execute(db, settings, run_id)
    with db.session() as session:
        run = session.get(LabRun, run_id)
        session.expunge(run)
        return run


# --------------------------------------------------------------------------- promotion


def has_backtest(session: Session, pair: dict) -> LabRun | None:
    return session.scalar(
        select(LabRun)
        .where(
            LabRun.kind.in_(("backtest", "retrain")),
            LabRun.status == LabRunStatus.DONE,
            LabRun.anomaly_version == pair["anomaly"],
            LabRun.failure_version == pair["failure"],
            LabRun.output_dir != "",
        )
        .order_by(LabRun.finished_at.desc())
        .limit(1)
    )


def promote_pair(*, session: Session, pair: dict, user_id: int | None) -> LabRun:
    """Activate a candidate pair: refused unless a backtest of exactly this pair is on record."""
    run = has_backtest(session, pair)
    if run is None:
        raise LabError(
            f"No backtest of anomaly v{pair['anomaly']} + failure v{pair['failure']} is on "
            "record: backtest it first.",
            "candidate",
        )
    for kind in ("anomaly", "failure"):
        promote(session=session, kind=kind, version=int(pair[kind]), user_id=user_id)
    return run


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
