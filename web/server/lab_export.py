"""The lab's explore view as files, for a notebook: ``/lab/export.csv`` and
``/lab/export.parquet`` with the view's selection as query parameters (``machines``,
``sensors``: comma-separated; ``start``, ``end``: ISO 8601; ``step``: seconds; ``horizon_h``:
hours of recorded time, 0 or absent for the model's) and ``what``:

- ``series`` (default): machine, sensor, time (bucket start, UTC), value (mean), min, max, n;
- ``features``: one row per window: machine, type, start, end, label, hours_to_failure,
  the engineered features, pc1, pc2;
- ``scores``: machine, time, failure_probability, anomaly_score, anomaly (per bucket, max).

Behind login (the guard) and a role check here: engineers and admins, 403 for the rest."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pandas as pd
from flask import Blueprint, Response, abort, request

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action, allowed
from ml.lab.explore import Selection, explore, grid_for, score_step, scores, series
from web.server.auth import identity
from web.server.downloads import attachment

__all__ = [
    "MAX_MACHINES",
    "MAX_SPAN",
    "SelectionError",
    "clock",
    "lab_export_blueprint",
    "parse_selection",
]

MAX_MACHINES = 50
MAX_SPAN = timedelta(days=366)  # the scores of a range are read row by row: keep it sane
_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
_WHAT = ("series", "features", "scores")


class SelectionError(ValueError):
    """A query string that does not name a valid selection."""


def clock(settings: Settings) -> dict[str, float]:
    """The models' step in wall seconds and physics seconds per wall second (60 for data
    from the embedded demo's 60x simulator, as ``cli.train --source db`` reads it)."""
    return {
        "model_step_s": settings.live_step_s,
        "time_scale": settings.ml_step_s / settings.live_step_s,
    }


def parse_selection(args: Mapping[str, str]) -> Selection:
    """A Selection from query parameters; SelectionError says what is wrong."""
    machines = tuple(m for m in args.get("machines", "").split(",") if m)
    sensors = tuple(s for s in args.get("sensors", "").split(",") if s)
    if not machines or not sensors:
        raise SelectionError("name at least one machine and one sensor")
    if len(machines) > MAX_MACHINES:
        raise SelectionError(f"at most {MAX_MACHINES} machines")
    try:
        start, end = _when(args.get("start", "")), _when(args.get("end", ""))
        step = int(args.get("step") or 0)
        horizon = float(args.get("horizon_h") or 0)
    except ValueError as err:
        raise SelectionError(f"bad parameter: {err}") from err
    if not start < end or step < 0 or not 0 <= horizon <= 24 * 365:
        raise SelectionError("start must come before end; step and horizon not negative")
    if end - start > MAX_SPAN:
        raise SelectionError(f"at most {MAX_SPAN.days} days")
    return Selection(machines, sensors, start, end, step, horizon)


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def lab_export_blueprint(db: Database, settings: Settings) -> Blueprint:
    bp = Blueprint("lab_export", __name__)

    @bp.route("/lab/export.<fmt>")
    def export(fmt: str) -> Response:
        user = identity()
        if user is None or not allowed(user.role, Action.LAB_USE):
            abort(403)
        what = request.args.get("what", "series")
        if fmt not in _TYPES or what not in _WHAT:
            abort(404)
        try:
            selection = parse_selection(request.args)
        except SelectionError as err:
            return Response(str(err), 400, mimetype="text/plain")
        with db.session() as s:
            frame, grid = _frame(s, selection, what, clock(settings))
        name = f"lab-{what}-{grid.start:%Y%m%dT%H%M}-{grid.end:%Y%m%dT%H%M}.{fmt}"
        return _file(name, _encode(frame, fmt), fmt)

    return bp


def _frame(session: object, selection: Selection, what: str, scale: dict) -> tuple:
    if what == "series":
        grid, frame = series(session=session, selection=selection, **scale)
        return frame, grid
    if what == "features":
        found = explore(session=session, selection=selection, **scale)
        return found.windows, found.grid
    grid = grid_for(session=session, selection=selection, **scale)
    frame = scores(
        session=session,
        machines=list(selection.machines),
        start=grid.start,
        end=grid.end,
        step_s=score_step(grid),
    )
    return frame, grid


def _encode(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ").encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _file(name: str, body: bytes, fmt: str) -> Response:
    return attachment(name, body, _TYPES[fmt])
