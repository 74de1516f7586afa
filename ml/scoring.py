"""Batched fleet scoring: the last W steps of every machine through both models at once.

Machines of a type the active models never learned are not scored: normalised by the
other types' healthy levels their readings look like a failure (a new type of fan scored
99 % over the failure threshold until a retrain), so the threshold rules guard them until a
training includes their type, and the model-health page says "No reference for type …"."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from ml.anomaly import AnomalyModel
from ml.features import Baseline, window_features
from ml.inputs import AnyFailureModel, Context, failure_scores, load_failure_model
from ml.registry import active

__all__ = ["MachineScore", "FleetScorer", "assemble"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MachineScore:
    machine_id: int
    anomaly_score: float | None
    is_anomaly: bool
    failure_probability: float | None
    rul_hours: float | None
    top_sensors: list[str]


def assemble(
    frame: pd.DataFrame,
    *,
    window: int,
    sensors: tuple[str, ...],
    end_bucket: int,
    min_coverage: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucketed readings -> (x3 (n, W, S), types, machine ids), gaps filled forward then
    backward; a machine with less than ``min_coverage`` of its buckets is left out.
    Machines in (machine id, type) order; rows of one machine, bucket and sensor averaged.
    One array for the fleet, no per-machine pivot (300 pivots took 1.5 s of a tick)."""
    buckets = np.arange(end_bucket - window + 1, end_bucket + 1)
    frame = frame[frame["bucket"].isin(buckets) & frame["kind"].isin(sensors)]
    if frame.empty:
        return np.zeros((0, window, len(sensors))), np.array([], dtype=str), np.array([], int)
    groups = frame.groupby(["machine_id", "type"], sort=True)
    machine = groups.ngroup().to_numpy()
    keys = groups.size().index
    step = frame["bucket"].to_numpy(np.int64) - int(buckets[0])
    sensor = pd.Categorical(frame["kind"], categories=list(sensors)).codes
    shape = (len(keys), window, len(sensors))
    sums, counts = np.zeros(shape), np.zeros(shape)
    np.add.at(sums, (machine, step, sensor), frame["value"].to_numpy(float))
    np.add.at(counts, (machine, step, sensor), 1.0)
    with np.errstate(invalid="ignore"):
        x3 = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
    covered = (counts > 0).all(axis=2).mean(axis=1) >= min_coverage
    x3 = _fill_backward(_fill_forward(x3[covered]))
    ids = np.array([k[0] for k in keys], dtype=np.int64)[covered]
    types = np.array([k[1] for k in keys])[covered]
    return x3, types, ids


def _fill_forward(x3: np.ndarray) -> np.ndarray:
    """Each NaN along the steps (axis 1) takes the last value before it, if any."""
    steps = np.arange(x3.shape[1])[None, :, None]
    last = np.where(np.isnan(x3), 0, steps)
    np.maximum.accumulate(last, axis=1, out=last)
    return np.take_along_axis(x3, last, axis=1)


def _fill_backward(x3: np.ndarray) -> np.ndarray:
    """Each NaN left (before a sensor's first value) takes the first value after it."""
    return _fill_forward(x3[:, ::-1, :])[:, ::-1, :]


class FleetScorer:
    """The active models, loaded once; ``score`` takes the whole fleet in one call each."""

    def __init__(
        self,
        *,
        anomaly: AnomalyModel | None,
        failure: AnyFailureModel | None,
        meta: dict,
        versions: dict[str, int],
    ) -> None:
        self.anomaly, self.failure, self.versions = anomaly, failure, versions
        self.baseline = Baseline.from_json(meta["baseline"])
        self.type_names: list[str] = meta["type_names"]
        self.window: int = meta["params"]["window"]
        self.step_s: float = meta["params"]["step_s"]
        self._unknown_told: set[str] = set()  # types left unscored, logged once each

    @property
    def sensors(self) -> tuple[str, ...]:
        return self.baseline.sensors

    def _running(self, x3: np.ndarray, types: np.ndarray, units: np.ndarray | None) -> np.ndarray:
        if "rpm" not in self.sensors or len(x3) == 0:
            return np.ones(len(x3), bool)
        rpm = self.sensors.index("rpm")
        healthy_rpm, _ = self.baseline.arrays(types, units)
        return x3[:, -3:, rpm].mean(axis=1) >= 0.5 * healthy_rpm[:, 0, rpm]

    def _known(self, types: np.ndarray) -> np.ndarray:
        learned = list(self.baseline.mean)
        known = np.isin(types, learned)
        for kind in sorted(set(types[~known].tolist()) - self._unknown_told):
            self._unknown_told.add(kind)
            log.warning(
                "machines of type %r are not scored: the active models learned %s only; "
                "threshold rules guard them until a training includes the type",
                kind,
                ", ".join(learned),
            )
        return known

    @classmethod
    def from_registry(cls, session: Session) -> FleetScorer | None:
        """The active models, or None when no model is active (rule mode)."""
        anomaly_row = active(session=session, kind="anomaly")
        failure_row = active(session=session, kind="failure")
        if anomaly_row is None and failure_row is None:
            return None
        rows = [r for r in (anomaly_row, failure_row) if r is not None]
        meta = json.loads((Path(rows[0].artefact) / "baseline.json").read_text())
        return cls(
            anomaly=AnomalyModel.load(Path(anomaly_row.artefact)) if anomaly_row else None,
            failure=load_failure_model(Path(failure_row.artefact)) if failure_row else None,
            meta=meta,
            versions={r.kind: r.version for r in rows},
        )

    def score(
        self,
        x3: np.ndarray,
        types: np.ndarray,
        ids: np.ndarray,
        units: np.ndarray | None = None,
        context: Context | None = None,
    ) -> list[MachineScore]:
        """Scores of the running machines of the types the models learned: one that stands
        still has already failed (the rpm rules say so) and its frozen readings would only
        look like an imminent failure; one of a new type is left to the threshold rules.
        ``context``: each machine's current life (``ml.inputs``); unknown: age 0, no drift."""
        running = self._running(x3, types, units) & self._known(types)
        context = context or Context(np.zeros(len(x3)))
        x3, types, ids = x3[running], types[running], ids[running]
        context = context.take(running)
        units = units[running] if units is not None else None
        if len(x3) == 0:
            return []
        anomaly = (
            self.anomaly.score(window_features(x3, types, self.baseline, units), types)
            if self.anomaly
            else None
        )
        prob, rul = (
            failure_scores(self.failure, x3, types, context, self.baseline, self.type_names, units)
            if self.failure
            else (None, None)
        )
        return [
            MachineScore(
                int(ids[i]),
                float(anomaly.score[i]) if anomaly else None,
                bool(anomaly.is_anomaly[i]) if anomaly else False,
                float(prob[i]) if prob is not None else None,
                float(rul[i]) if rul is not None else None,
                anomaly.top_sensors[i] if anomaly else [],
            )
            for i in range(len(ids))
        ]
