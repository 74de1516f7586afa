"""Backtest downloads for engineers and admins: the comparison as a CSV report (metrics side
by side, then every alarm each model would have raised) and the scored windows as Parquet,
so a notebook can continue where the lab stops. Behind login (the guard) and a role check."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from flask import Blueprint, Response, abort, send_file

from data.db import Database
from data.models import LabRun, LabRunStatus
from maintenance.people.permissions import Action, allowed
from ml.alarm_metrics import replay_alarms
from ml.alarm_policy import CLEAR_RATIO
from ml.lab.scored import ScoredSet
from web.server.auth import identity
from web.server.downloads import attachment

__all__ = ["backtest_blueprint"]

_METRICS = (
    "failures",
    "caught",
    "recall",
    "raised",
    "true_alarms",
    "false_alarms",
    "precision",
    "machine_weeks",
    "false_alarms_per_machine_week",
    "median_lead_h",
)


def backtest_csv(run: LabRun, scored: ScoredSet) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    metrics = run.result.get("metrics", {})
    models = list(metrics)
    w.writerow(["backtest", run.id, "data", run.result.get("data", "")])
    w.writerow(["threshold", run.result.get("threshold")])
    for name in models:
        versions = run.result.get("versions", {}).get(name, {})
        w.writerow(
            [name, f"anomaly v{versions.get('anomaly')}", f"failure v{versions.get('failure')}"]
        )
    w.writerow([])
    w.writerow(["metric", *models])
    for key in _METRICS:
        w.writerow([key, *(metrics[m].get(key) for m in models)])
    w.writerow([])
    w.writerow(["model", "unit", "alarm_raised_utc", "failure_within_horizon"])
    threshold = float(run.result.get("threshold") or 0.8)
    horizon_s = float(scored.meta.get("horizon_h", 6.0)) * 3600
    fails = scored.failures
    for name in models:
        at = float(run.result.get("thresholds", {}).get(name, threshold))
        part = scored.of(name)
        resets = {u: f["failure"].to_numpy(float) for u, f in fails.groupby("unit")}
        raises = replay_alarms(
            part["unit"].astype(str).to_numpy(),
            part["end"].to_numpy(float),
            part["prob"].to_numpy(float),
            resets=resets,
            threshold=at,
            clear_below=at * CLEAR_RATIO,
        )
        for unit, times in sorted(raises.items()):
            unit_fails = np.sort(fails.loc[fails["unit"] == unit, "failure"].to_numpy(float))
            for t in times:
                ahead = unit_fails[(unit_fails >= t) & (unit_fails - t <= horizon_s)]
                when = datetime.fromtimestamp(t, UTC).isoformat()
                w.writerow([name, unit, when, "yes" if len(ahead) else "no"])
    return out.getvalue()


def backtest_blueprint(db: Database) -> Blueprint:
    bp = Blueprint("backtests", __name__)

    def _load(run_id: int) -> tuple[LabRun, ScoredSet]:
        user = identity()
        if user is None or not allowed(user.role, Action.LAB_USE):
            abort(403)
        with db.session() as s:
            run = s.get(LabRun, run_id)
            if run is None or run.status is not LabRunStatus.DONE or not run.output_dir:
                abort(404)
            s.expunge(run)
        root = Path(run.output_dir)
        if not (root / "scores.parquet").exists():
            abort(404)
        return run, ScoredSet.load(root)

    @bp.route("/lab/backtest/<int:run_id>.csv")
    def report(run_id: int) -> Response:
        run, scored = _load(run_id)
        return attachment(f"backtest-{run_id}.csv", backtest_csv(run, scored), "text/csv")

    @bp.route("/lab/backtest/<int:run_id>/scores.parquet")
    def scores(run_id: int) -> Response:
        run, _ = _load(run_id)
        return send_file(
            Path(run.output_dir) / "scores.parquet",
            mimetype="application/vnd.apache.parquet",
            as_attachment=True,
            download_name=f"backtest-{run_id}-scores.parquet",
        )

    return bp
