"""The model lab's explore view against a real database (SQLite and PostgreSQL): windows
labelled from recorded breakdowns and technicians' verdicts, features, distributions, the
PCA, the active model's baseline, and the exports read back and compared with the readings."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import WebApp, active_model, add_user, make_settings
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from callbacks.lab_explore import outputs
from data.db import Database
from data.fleet_queries import MachineSpec, SensorSpec, ensure_fleet, sensor_directory
from data.models import (
    Downtime,
    DowntimeKind,
    Machine,
    Priority,
    Reading,
    Role,
    Sensor,
    Ticket,
    TicketStatus,
)
from data.readings import insert_readings
from data.rollup import roll_up
from ml.features import Baseline, feature_names
from ml.lab.explore import MAX_CELLS, MAX_STEPS, MAX_WINDOWS, Selection, explore, plan, series
from web.server.auth import init_auth
from web.server.lab_export import lab_export_blueprint
from web.views.lab_explore import EXPLORE_RAW
from web.views.lab_explore_summary import export_href

START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=2)
F1 = START + timedelta(hours=30)  # press-01 breaks down (a recorded breakdown) …
R1 = F1 + timedelta(hours=2)  # … and runs again
F2 = START + timedelta(hours=40)  # pump-01: a technician's "real failure", no breakdown
FALSE_ALARM = START + timedelta(hours=10)  # pump-01: a ticket resolved as a false alarm
FAULT = timedelta(hours=4)  # vibration and temperature climb this long before a failure
KINDS = ("temperature", "vibration", "rpm")
MACHINES = ("press-01", "pump-01")
HOURS6 = 6 * 3600.0
SCALE = {"model_step_s": 60.0, "time_scale": 1.0}


def _sensors() -> tuple[SensorSpec, ...]:
    return (
        SensorSpec("temperature", "temperature", "°C", warn_high=80),
        SensorSpec("vibration", "vibration", "mm/s", warn_high=6),
        SensorSpec("rpm", "rpm", "rpm", crit_low=500),
    )


def _value(kind: str, t: datetime, rng: np.random.Generator, failure: datetime | None) -> float:
    wear = 0.0
    if failure is not None and failure - FAULT <= t < failure:
        wear = (t - (failure - FAULT)) / FAULT
    base = {"temperature": 60.0 + 10 * wear, "vibration": 2.0 + 3 * wear, "rpm": 1480.0}[kind]
    spread = {"temperature": 0.5, "vibration": 0.1, "rpm": 5.0}[kind]
    return round(base + spread * float(rng.standard_normal()), 4)


def _seed(db: Database) -> None:
    """Two machines, one reading per sensor and minute for two days, a breakdown, a
    confirmed verdict without a breakdown, and a false alarm."""
    rng = np.random.default_rng(5)
    specs = [
        MachineSpec("press-01", "press", "hall 1", "A", _sensors()),
        MachineSpec("pump-01", "pump", "hall 1", "A", _sensors()),
    ]
    with db.session() as s:
        ensure_fleet(session=s, machines=specs)
        ids = sensor_directory(session=s)
        rows = []
        for i in range(int((END - START) / timedelta(minutes=1))):
            t = START + timedelta(minutes=i)
            for machine, failure in (("press-01", F1), ("pump-01", F2)):
                for kind in KINDS:
                    value = _value(kind, t, rng, failure)
                    if machine == "press-01" and F1 <= t < R1:  # stopped
                        value = {"temperature": 35.0, "vibration": 0.05, "rpm": 0.0}[kind]
                    rows.append((ids[(machine, kind)], t, value))
        insert_readings(session=s, rows=rows)
        press, pump = (s.scalar(select(Machine.id).where(Machine.name == n)) for n in MACHINES)
        confirmed = _ticket(press, F1 - timedelta(hours=1), F1 + timedelta(minutes=10), True)
        s.add_all([confirmed, _ticket(pump, F2 - timedelta(hours=1), F2, True)])
        s.add(_ticket(pump, FALSE_ALARM, FALSE_ALARM + timedelta(minutes=20), False))
        s.flush()
        s.add(
            Downtime(
                machine_id=press,
                kind=DowntimeKind.BREAKDOWN,
                started_at=F1,
                ended_at=R1,
                ticket_id=confirmed.id,
                source="ticket",
            )
        )


def _ticket(machine_id: int, created: datetime, started: datetime, confirmed: bool) -> Ticket:
    return Ticket(
        machine_id=machine_id,
        code="VIB_HIGH",
        title="vibration",
        priority=Priority.HIGH,
        status=TicketStatus.RESOLVED,
        created_at=created,
        started_at=started,
        resolved_at=started + timedelta(hours=1),
        failure_confirmed=confirmed,
    )


@pytest.fixture
def fleet(db: Database) -> Database:
    _seed(db)
    return db


def _selection(start: datetime = START, end: datetime = END, step: int = 0) -> Selection:
    return Selection(MACHINES, KINDS, start, end, step, 6.0)


def _expected(machine: str, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The label, worked out from the seeded events alone."""
    failures = {"press-01": [(F1, R1)], "pump-01": [(F2, F2)]}[machine]
    settle = timedelta(hours=1)
    if any(start < r + settle and end > f for f, r in failures):
        return "down"
    ahead = [(f - end).total_seconds() for f, _ in failures if end <= f]
    return "pre-failure" if ahead and min(ahead) <= HOURS6 else "healthy"


def test_windows_are_labelled_from_breakdowns_and_verdicts(fleet: Database):
    with fleet.session() as s:
        ex = explore(session=s, selection=_selection(), **SCALE)
    assert ex.grid.horizon_s == HOURS6
    assert set(ex.windows["machine"]) == set(MACHINES)
    expected = [_expected(w.machine, w.start, w.end) for w in ex.windows.itertuples()]
    assert ex.windows["label"].tolist() == expected
    assert set(expected) == {"healthy", "pre-failure", "down"}
    # the confirmed ticket behind press-01's breakdown is that breakdown, not a second one
    sources = ex.failures.groupby("machine")["source"].apply(list).to_dict()
    assert sources == {"press-01": ["breakdown (ticket)"], "pump-01": [sources["pump-01"][0]]}
    assert sources["pump-01"][0].startswith("verdict (ticket #")
    assert ex.false_alarms["machine"].tolist() == ["pump-01"]
    assert ex.false_alarms["time"].iat[0] == pd.Timestamp(FALSE_ALARM)
    # hours to failure: a window ending 2 h before press-01's breakdown says 2 h
    press = ex.windows[(ex.windows["machine"] == "press-01") & (ex.windows["end"] <= F1)]
    gap = (pd.Timestamp(F1) - press["end"]) / pd.Timedelta(hours=1)
    assert np.allclose(press["hours_to_failure"], gap)


def test_features_distributions_and_projection(fleet: Database):
    with fleet.session() as s:
        ex = explore(session=s, selection=_selection(), **SCALE)
    names = feature_names(KINDS)
    assert ex.features == names
    running = ex.windows[ex.windows["label"] != "down"]
    assert np.isfinite(running[names].to_numpy()).all()
    # the fault shows: pre-failure windows vibrate more than healthy ones
    by_label = running.groupby("label")["vibration_level"].mean()
    assert by_label["pre-failure"] > by_label["healthy"] + 1
    # distributions: both classes for every feature, each class's shares summing to one
    assert set(ex.distributions["feature"]) == set(names)
    sums = ex.distributions.groupby(["feature", "label"])["share"].sum()
    assert set(sums.index.get_level_values("label")) == {"healthy", "pre-failure"}
    assert np.allclose(sums.to_numpy(), 1.0)
    # PCA: two coordinates for every running window, none for down ones
    assert running[["pc1", "pc2"]].notna().all().all()
    assert ex.windows.loc[ex.windows["label"] == "down", ["pc1", "pc2"]].isna().all().all()
    one, two = ex.explained
    assert 0 < two <= one and one + two <= 1 + 1e-9
    assert "healthy windows" in ex.baseline


def test_empty_states_say_what_is_missing(fleet: Database):
    quiet = Selection(("pump-01",), KINDS, START, START + timedelta(hours=12), 0, 6.0)
    before = Selection(MACHINES, KINDS, START - timedelta(days=3), START - timedelta(days=2))
    with fleet.session() as s:
        healthy_only = explore(session=s, selection=quiet, **SCALE)
        nothing = explore(session=s, selection=before, **SCALE)
    assert set(healthy_only.windows["label"]) == {"healthy"}
    note = outputs(healthy_only, quiet, None, 0.8, SCALE["time_scale"])[3]
    assert note.id == "lab-explore-one-class"
    assert "No failures labelled in this range" in note.children
    assert nothing.series.empty and nothing.windows.empty
    summary = outputs(nothing, before, None, 0.8, SCALE["time_scale"])[6]
    assert summary.children == "No readings for these machines in this range."


def test_every_part_stays_bounded(fleet: Database):
    many = tuple(f"m{i}" for i in range(20))
    grid = plan(
        Selection(many, KINDS, END - timedelta(days=30), END), model_step_s=1.0, time_scale=60
    )
    assert grid.steps <= MAX_STEPS and 20 * 3 * grid.steps <= MAX_CELLS and grid.raised
    assert grid.horizon_s == pytest.approx(HOURS6 / 60)  # 6 model hours at 60x: 6 min
    with fleet.session() as s:
        ex = explore(session=s, selection=_selection(step=60), **SCALE)
    assert ex.grid.steps <= MAX_STEPS
    assert 0 < len(ex.windows) <= MAX_WINDOWS
    assert ex.series.groupby(["machine", "sensor"]).size().max() <= MAX_STEPS


def test_series_are_bucket_means_from_readings_or_rollups(fleet: Database):
    day = Selection(("press-01",), ("vibration",), START, START + timedelta(days=1), 600)
    with fleet.session() as s:
        grid, raw = series(session=s, selection=day, **SCALE)
    with fleet.session() as s:
        roll_up(s, START, END)
    with fleet.session() as s:
        _, rolled = series(session=s, selection=day, **SCALE)
    expected = _readings(fleet, "press-01", "vibration", START, START + timedelta(days=1))
    expected = expected.groupby(expected["time"].dt.floor("600s"))["value"].agg(
        ["mean", "min", "max", "count"]
    )
    assert grid.step_s == 600 and len(raw) == len(expected) == 144
    for frame in (raw, rolled):
        assert np.allclose(frame["value"], expected["mean"])
        assert frame["min"].tolist() == expected["min"].tolist()
        assert frame["n"].tolist() == expected["count"].tolist() == [10] * 144
        assert frame["time"].tolist() == expected.index.tolist()


def _readings(db: Database, machine: str, kind: str, start: datetime, end: datetime):
    with db.session() as s:
        rows = s.execute(
            select(Reading.ts, Reading.value)
            .join(Sensor, Sensor.id == Reading.sensor_id)
            .join(Machine, Machine.id == Sensor.machine_id)
            .where(Machine.name == machine, Sensor.kind == kind)
            .where(Reading.ts >= start, Reading.ts < end)
            .order_by(Reading.ts)
        ).all()
    frame = pd.DataFrame(rows, columns=["time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def test_the_active_models_baseline_window_and_horizon_are_used(fleet: Database, tmp_path: Path):
    baseline = Baseline(KINDS, {"press": [50.0, 1.0, 1400.0]}, {"press": [2.0, 0.5, 10.0]})
    artefact = tmp_path / "anomaly"
    artefact.mkdir()
    meta = {"baseline": baseline.to_json(), "params": {"window": 20, "horizon_h": 3.0}}
    (artefact / "baseline.json").write_text(json.dumps(meta))
    with fleet.session() as s:
        active_model(s, "anomaly", artefact)
    one_day = Selection(("press-01",), KINDS, START, START + timedelta(hours=12))
    with fleet.session() as s:
        ex = explore(session=s, selection=one_day, **SCALE)
    assert ex.baseline == "the active anomaly model v1"
    assert (ex.grid.step_s, ex.grid.window, ex.grid.horizon_s) == (60, 20, 3 * 3600.0)
    first = ex.windows.iloc[0]
    raw = _readings(fleet, "press-01", "temperature", first["start"], first["end"])
    assert len(raw) == 20
    assert first["temperature_level"] == pytest.approx((raw["value"].mean() - 50.0) / 2.0)


# --- exports: the real login, guard and role check, on a plain Flask server ---------------


@pytest.fixture
def server(fleet: Database, tmp_path: Path) -> Flask:
    # recorded at physics speed: one model step (60 s) is one minute of readings
    settings = make_settings(tmp_path, database_url=fleet.url, ml_time_scale=1.0)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="t" * 40)
    init_auth(app, fleet, "/x.css", settings)
    app.register_blueprint(lab_export_blueprint(fleet, settings))
    add_user(fleet, "eng", Role.ENGINEER, "eng-pw")
    add_user(fleet, "tech", Role.TECHNICIAN, "tech-pw")
    return app


def _client(app: Flask, user: str | None) -> FlaskClient:
    client = app.test_client()
    if user:
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login", data={"csrf": token, "username": user, "password": f"{user}-pw"}
        )
        assert answer.status_code == 302
    return client


def test_series_export_round_trips_as_csv_and_parquet(server: Flask, fleet: Database):
    day = Selection(MACHINES, ("temperature", "rpm"), START, START + timedelta(days=1), 60)
    grid = plan(day, **SCALE)
    client = _client(server, "eng")
    csv = client.get(export_href(day, grid, "csv"))
    parquet = client.get(export_href(day, grid, "parquet"))
    assert csv.status_code == parquet.status_code == 200
    assert csv.headers["Content-Disposition"].startswith("attachment;")
    from_csv = pd.read_csv(io.BytesIO(csv.data), parse_dates=["time"])
    from_parquet = pd.read_parquet(io.BytesIO(parquet.data))
    assert list(from_csv.columns) == ["machine", "sensor", "time", "value", "min", "max", "n"]
    assert len(from_csv) == len(from_parquet) == 2 * 2 * 1440
    for machine in MACHINES:
        for kind in ("temperature", "rpm"):
            stored = _readings(fleet, machine, kind, START, START + timedelta(days=1))
            for frame in (from_csv, from_parquet):
                mine = frame[(frame["machine"] == machine) & (frame["sensor"] == kind)]
                # one reading per one-minute bucket: the export is the readings themselves
                assert mine["time"].tolist() == stored["time"].tolist()
                assert np.allclose(mine["value"], stored["value"])


def test_features_export_is_the_views_windows(server: Flask, fleet: Database):
    selection = _selection()
    with fleet.session() as s:
        ex = explore(session=s, selection=selection, **SCALE)
    href = export_href(selection, ex.grid, "parquet", "features")
    frame = pd.read_parquet(io.BytesIO(_client(server, "eng").get(href).data))
    assert list(frame.columns) == list(ex.windows.columns)
    assert frame["label"].tolist() == ex.windows["label"].tolist()
    assert np.allclose(frame["vibration_level"], ex.windows["vibration_level"])
    csv = _client(server, "eng").get(href.replace(".parquet", ".csv")).data
    assert len(pd.read_csv(io.BytesIO(csv))) == len(ex.windows)


def test_export_is_refused_without_login_or_the_role(server: Flask):
    href = export_href(_selection(), plan(_selection(), **SCALE), "csv")
    anonymous = _client(server, None).get(href)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=")
    assert _client(server, "tech").get(href).status_code == 403
    assert _client(server, "tech").get(href.replace(".csv", ".parquet")).status_code == 403
    engineer = _client(server, "eng")
    assert engineer.get("/lab/export.csv?machines=press-01").status_code == 400
    assert engineer.get(href.replace(".csv", ".xlsx")).status_code == 404
    assert engineer.get(href).status_code == 200


# --- the real app (the shared web fixture): the blueprint and the callbacks are guarded ----


def _draw_request(web: WebApp, machines: list[str]) -> dict:
    key = next(k for k in web.app.callback_map if f"{EXPLORE_RAW}.figure" in k)
    spec = web.app.callback_map[key]
    values = {"value": None, "start_date": None, "end_date": None}
    inputs = [
        {"id": d["id"], "property": d["property"], "value": values[d["property"]]}
        for d in spec["inputs"]
    ]
    inputs[0]["value"], inputs[1]["value"] = machines, list(KINDS)
    inputs[2]["value"] = "6h"
    return {
        "output": key,
        "outputs": [
            {"id": o.component_id, "property": o.component_property} for o in spec["output"]
        ],
        "inputs": inputs,
        "state": [{"id": d["id"], "property": d["property"], "value": None} for d in spec["state"]],
        "changedPropIds": [f"{inputs[0]['id']}.value"],
    }


def test_the_app_serves_the_view_and_its_export_to_lab_roles_only(web: WebApp):
    with web.db.session() as s:
        name = s.scalar(select(Machine.name).order_by(Machine.name).limit(1))
    body = _draw_request(web, [name])
    refused = web.client("technician").post("/_dash-update-component", json=body)
    assert "Your role may not do this." in refused.get_data(as_text=True)
    answer = web.client("admin").post("/_dash-update-component", json=body)
    assert answer.status_code == 200
    assert "Your role may not do this." not in answer.get_data(as_text=True)
    day = "start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z"
    href = f"/lab/export.csv?machines={name}&sensors=rpm&{day}"
    assert web.client().get(href).headers["Location"].startswith("/login?next=")
    assert web.client("technician").get(href).status_code == 403
    assert web.client("viewer").get(href).status_code == 403
    assert web.client("manager").get(href).status_code == 403
    download = web.client("admin").get(href)
    assert download.status_code == 200
    assert download.get_data(as_text=True).splitlines()[0] == "machine,sensor,time,value,min,max,n"
