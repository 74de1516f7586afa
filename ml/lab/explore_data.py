"""The reads behind the lab's explore view: each one bucketed or limited in the database, so
what travels to Python is bounded whatever the range."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from data.machine_series import sensor_history
from data.models import Alarm, Machine, Prediction, Sensor
from data.readings import time_bucket
from ml.features import Baseline
from ml.registry import active

__all__ = [
    "ModelBaseline",
    "alarm_rows",
    "bucket_series",
    "machine_catalogue",
    "machine_ids",
    "model_baseline",
    "score_series",
    "sensor_order",
    "sensor_refs",
    "SERIES_COLUMNS",
]

log = logging.getLogger(__name__)

SERIES_COLUMNS = ["machine", "sensor", "time", "value", "min", "max", "n"]
_SENSOR_ORDER = {"temperature": 0, "vibration": 1, "rpm": 2}


def sensor_order(kinds: Iterable[str]) -> list[str]:
    """Sensor kinds in the models' order (temperature, vibration, rpm), then by name."""
    return sorted(set(kinds), key=lambda k: (_SENSOR_ORDER.get(k, 9), k))


def machine_catalogue(*, session: Session) -> list[tuple[str, str, list[str]]]:
    """Every machine in service with its type and sensor kinds, by name."""
    stmt = (
        select(Machine.name, Machine.type, Sensor.kind)
        .join(Sensor, Sensor.machine_id == Machine.id)
        .where(Machine.retired_at.is_(None))
        .order_by(Machine.name)
    )
    found: dict[str, tuple[str, set[str]]] = {}
    for name, kind_of_machine, kind in session.execute(stmt):
        found.setdefault(name, (kind_of_machine, set()))[1].add(kind)
    return [(n, t, sensor_order(k)) for n, (t, k) in found.items()]


def machine_ids(*, session: Session, names: list[str]) -> dict[int, str]:
    """{id: name} of the named machines that exist."""
    stmt = select(Machine.id, Machine.name).where(Machine.name.in_(names))
    return dict(session.execute(stmt).all())


def sensor_refs(*, session: Session, machines: list[str], kinds: list[str]) -> pd.DataFrame:
    """sensor_id, machine_id, machine, type, sensor (kind) of the chosen machines and kinds."""
    stmt = (
        select(Sensor.id, Machine.id, Machine.name, Machine.type, Sensor.kind)
        .join(Machine, Machine.id == Sensor.machine_id)
        .where(Machine.name.in_(machines), Sensor.kind.in_(kinds))
        .order_by(Machine.name, Sensor.id)
    )
    columns = ["sensor_id", "machine_id", "machine", "type", "sensor"]
    return pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=columns)


def bucket_series(
    *, session: Session, refs: pd.DataFrame, start: datetime, end: datetime, step_s: int
) -> pd.DataFrame:
    """Mean, min, max and count of each (machine, sensor kind) per ``step_s`` bucket of
    [start, end), which must be whole buckets; ``time`` is the bucket's start. Steps of ten
    minutes or more come from the ten-minute rollups (``data.machine_series.sensor_history``)."""
    if refs.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    points = round((end - start).total_seconds() / step_s)
    raw = sensor_history(
        session=session,
        sensor_ids=refs["sensor_id"].tolist(),
        start=start,
        end=end,
        max_points=points,
    )
    if raw.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    named = raw.merge(refs[["sensor_id", "machine", "sensor"]], on="sensor_id")
    named["time"] = named["ts"] - pd.Timedelta(seconds=step_s / 2)
    named["total"] = named["mean"] * named["n"]
    # two sensors of one kind on a machine: one series, their readings pooled
    out = named.groupby(["machine", "sensor", "time"], as_index=False).agg(
        total=("total", "sum"), min=("lo", "min"), max=("hi", "max"), n=("n", "sum")
    )
    out["value"] = out["total"] / out["n"]
    out["n"] = out["n"].astype("int64")
    return out[SERIES_COLUMNS].sort_values(["machine", "sensor", "time"], ignore_index=True)


def score_series(
    *, session: Session, machine_ids: dict[int, str], start: datetime, end: datetime, step_s: int
) -> pd.DataFrame:
    """Per machine and ``step_s`` bucket: the highest failure probability and anomaly score
    the models gave (a peak is never averaged away). Columns: machine, time (bucket start),
    failure_probability, anomaly_score, anomaly (any scoring flagged one)."""
    columns = ["machine", "time", "failure_probability", "anomaly_score", "anomaly"]
    if not machine_ids:
        return pd.DataFrame(columns=columns)
    bucket = time_bucket(session, Prediction.ts, step_s).label("bucket")
    stmt = (
        select(
            Prediction.machine_id,
            bucket,
            func.max(Prediction.failure_probability),
            func.max(Prediction.anomaly_score),
            func.max(cast(Prediction.is_anomaly, Integer)),
        )
        .where(
            Prediction.machine_id.in_(list(machine_ids)),
            Prediction.ts >= start,
            Prediction.ts < end,
        )
        .group_by(Prediction.machine_id, bucket)
        .order_by(Prediction.machine_id, bucket)
    )
    rows = [tuple(r) for r in session.execute(stmt)]
    frame = pd.DataFrame(rows, columns=["machine_id", "bucket", *columns[2:]])
    frame["machine"] = frame["machine_id"].map(machine_ids)
    seconds = frame["bucket"].astype("int64") * step_s
    frame["time"] = pd.to_datetime(seconds, unit="s", utc=True)
    frame["anomaly"] = frame["anomaly"].fillna(0).astype(bool)
    return frame[columns]


def alarm_rows(
    *,
    session: Session,
    machine_ids: dict[int, str],
    start: datetime,
    end: datetime,
    limit: int = 500,
) -> pd.DataFrame:
    """Alarms raised in [start, end) on the machines, newest first, at most ``limit``:
    machine, time, code, severity, source, message."""
    columns = ["machine", "time", "code", "severity", "source", "message"]
    stmt = (
        select(
            Alarm.machine_id,
            Alarm.raised_at,
            Alarm.code,
            Alarm.severity,
            Alarm.source,
            Alarm.message,
        )
        .where(
            Alarm.machine_id.in_(list(machine_ids)), Alarm.raised_at >= start, Alarm.raised_at < end
        )
        .order_by(Alarm.raised_at.desc())
        .limit(limit)
    )
    rows = [
        (machine_ids[m], t, code, sev.value, src.value, msg)
        for m, t, code, sev, src, msg in session.execute(stmt)
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


class ModelBaseline:
    """The active model's healthy baseline and parameters (read from its artefact's
    ``baseline.json``; the models themselves are not loaded)."""

    def __init__(self, baseline: Baseline, params: dict, label: str) -> None:
        self.baseline, self.params, self.label = baseline, params, label


def model_baseline(*, session: Session) -> ModelBaseline | None:
    """The active anomaly model's baseline (else the failure model's); None without one or
    when its artefact cannot be read."""
    for kind in ("anomaly", "failure"):
        model = active(session=session, kind=kind)
        if model is None:
            continue
        try:
            meta = json.loads((Path(model.artefact) / "baseline.json").read_text())
            baseline = Baseline.from_json(meta["baseline"])
        except (OSError, KeyError, ValueError):
            log.warning("cannot read the baseline of %s v%s", kind, model.version)
            continue
        return ModelBaseline(baseline, meta.get("params", {}), f"{kind} model v{model.version}")
    return None
