"""The dashboard under measurement: the real Dash app on a PostgreSQL database seeded by the
backfill, and a Flask test client logged in as a manager that posts callback requests to
``/_dash-update-component`` the way the browser does.

The time of one request is what the server spends on it: the login and role check, the
queries, building the figure or components, and Dash's JSON serialisation.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

from config import load_settings
from data.db import Database, upgrade_schema
from data.models import Machine, Reading, Role, Sensor, User
from data.readings import insert_readings
from maintenance.people.accounts import ensure_demo_accounts, hash_password
from web.views.fleet import (
    FLEET_CURSOR,
    FLEET_GRAPH,
    FLEET_GRID,
    FLEET_LOCATION,
    FLEET_TICK,
    FLEET_TYPE,
)
from web.views.machine import (
    MACHINE_CURSOR,
    MACHINE_GRAPH,
    MACHINE_NAME,
    MACHINE_RANGE,
    MACHINE_TICK,
)

__all__ = [
    "BENCH_USER",
    "Call",
    "Endpoint",
    "LiveFeed",
    "Seeded",
    "SensorRef",
    "outputs_of",
    "request_body",
    "seed",
    "sensors_of",
    "vacuum_analyze",
    "web_client",
]

DASH_UPDATE = "/_dash-update-component"
BENCH_USER = "bench-manager"  # created (or its password reset) in the database measured
ALL_FILTER = "__all__"  # the fleet page's "All" choice (web.views.fleet.ANY)


@dataclass(frozen=True, slots=True)
class Call:
    """One answered callback request: server time and the body as sent to the browser."""

    seconds: float
    body: bytes

    def response(self) -> dict[str, Any]:
        return json.loads(self.body)["response"]


def outputs_of(key: str) -> list[tuple[str, str]]:
    """(component id, property) of each output named by a key of ``app.callback_map``
    (``..a.x...b.y..`` for several outputs; a property may carry Dash's ``@hash``)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [(part.rsplit(".", 1)[0], part.rsplit(".", 1)[1]) for part in parts]


def request_body(
    key: str,
    inputs: Sequence[tuple[str, str, Any]],
    state: Sequence[tuple[str, str, Any]] = (),
    matches: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The JSON the browser posts for callback ``key``: an ``ALL`` wildcard output becomes
    the list of the components it matches (``matches``: the wildcard's concrete values)."""
    outputs: list[Any] = []
    for component, prop in outputs_of(key):
        if component.startswith("{"):
            pattern = json.loads(component)
            outputs.append([{"id": pattern | m, "property": prop} for m in matches])
        else:
            outputs.append({"id": component, "property": prop})
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [{"id": c, "property": p, "value": v} for c, p, v in inputs],
        "state": [{"id": c, "property": p, "value": v} for c, p, v in state],
        "changedPropIds": [f"{c}.{p}" for c, p, _ in inputs],
    }


class Endpoint:
    """The Dash update endpoint of one app, seen by one logged-in test client."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app, self.client = app, client

    def key(self, fragment: str) -> str:
        return next(k for k in self.app.callback_map if fragment in k)

    def post(self, body: dict[str, Any]) -> Call:
        data = json.dumps(body)  # encoded before the clock starts: the browser does this
        started = time.perf_counter()
        answer = self.client.post(DASH_UPDATE, data=data, content_type="application/json")
        seconds = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"{body['output'][:60]}: HTTP {answer.status_code}")
        return Call(seconds, answer.get_data())

    def draw(self, name: str, range_key: str) -> Call:
        key = self.key(f"{MACHINE_GRAPH}.figure")
        inputs = [(MACHINE_RANGE, "value", range_key)]
        return self.post(request_body(key, inputs, [(MACHINE_NAME, "data", name)]))

    def live(self, name: str, range_key: str, cursor: str, n: int) -> Call:
        key = self.key(f"{MACHINE_GRAPH}.extendData")
        state = [
            (MACHINE_RANGE, "value", range_key),
            (MACHINE_NAME, "data", name),
            (MACHINE_CURSOR, "data", cursor),
        ]
        return self.post(request_body(key, [(MACHINE_TICK, "n_intervals", n)], state))

    def build(self) -> Call:
        key = self.key(f"{FLEET_GRID}.children")
        inputs = [(FLEET_TYPE, "value", ALL_FILTER), (FLEET_LOCATION, "value", ALL_FILTER)]
        return self.post(request_body(key, inputs))

    def tick(self, machine_ids: Sequence[int], cursor: str, n: int) -> Call:
        key = self.key(f'"type":"{FLEET_GRAPH}"}}.extendData')
        state = [
            (FLEET_CURSOR, "data", cursor),
            (FLEET_TYPE, "value", ALL_FILTER),
            (FLEET_LOCATION, "value", ALL_FILTER),
        ]
        matches = [{"machine": m} for m in machine_ids]
        return self.post(request_body(key, [(FLEET_TICK, "n_intervals", n)], state, matches))


def web_client(db: Database, url: str, var_dir: Path) -> Endpoint:
    """The whole web app as ``app.py web`` builds it, and a client logged in as a manager
    (``BENCH_USER``) through the real login form."""
    from web.server.factory import create_app  # imports Dash and every page: only when measuring

    password = _bench_account(db)
    settings = load_settings(
        var_dir=var_dir, database_url=url, secret_key=secrets.token_urlsafe(48), simulator=False
    )
    app = create_app(settings, db, lambda: {"database": db.ping()})
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"csrf": token, "username": BENCH_USER, "password": password}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login as {BENCH_USER} failed: HTTP {answer.status_code}")
    client.get("/")  # the first page view also registers Dash's page-router callbacks
    return Endpoint(app, client)


def _bench_account(db: Database) -> str:
    password = secrets.token_urlsafe(16)
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == BENCH_USER))
        if user is None:
            user = User(username=BENCH_USER, password_hash="", role=Role.MANAGER)
            s.add(user)
        user.password_hash, user.role, user.active = hash_password(password), Role.MANAGER, True
    return password


@dataclass(frozen=True, slots=True)
class Seeded:
    machines: int
    days: float
    readings: int
    failures: int
    seconds: float


def seed(url: str, *, machines: int, days: float, progress: bool) -> Seeded:
    """Backfill demo-fleet history ending now, one reading per sensor every 10 s, in a fresh
    process: the generator's memory never counts in the peak RSS measured here."""
    db = Database(url)
    try:
        upgrade_schema(db.engine)
        with db.session() as s:  # technicians, so the generated tickets get assigned
            ensure_demo_accounts(session=s, given={})
    finally:
        db.dispose()
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_backfill, url, machines, days, progress).result()


def _backfill(url: str, machines: int, days: float, progress: bool) -> Seeded:
    from worker.backfill import backfill

    db = Database(url)
    try:
        r = backfill(db=db, machines=machines, days=days, interval_s=10, seed=7, progress=progress)
    finally:
        db.dispose()
    return Seeded(machines, days, r.readings, r.failures, r.seconds)


def vacuum_analyze(url: str) -> float:
    """``VACUUM (ANALYZE) readings``, as autovacuum would after a bulk load; seconds taken."""
    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) readings")
    return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class SensorRef:
    machine_id: int
    machine: str
    sensor_id: int
    kind: str


def sensors_of(db: Database) -> list[SensorRef]:
    """Every sensor of the machines in service, machines in creation order."""
    stmt = (
        select(Machine.id, Machine.name, Sensor.id, Sensor.kind)
        .join(Sensor, Sensor.machine_id == Machine.id)
        .where(Machine.retired_at.is_(None))
        .order_by(Machine.id, Sensor.id)
    )
    with db.session() as s:
        return [SensorRef(*row) for row in s.execute(stmt)]


# what the live simulator publishes, rounded as it rounds them (simulator/fleet_physics.py)
_LEVEL = {"temperature": (62.0, 0.4, 2), "vibration": (2.0, 0.1, 3), "rpm": (1480.0, 4.0, 1)}


class LiveFeed:
    """Fresh readings between ticks, one per sensor and second of a clock that advances one
    tick interval per tick (whatever the benchmark's own pace), as the live demo's
    simulator publishes them (one reading per second per sensor)."""

    def __init__(self, db: Database) -> None:
        with db.session() as s:  # after anything stored: an earlier run's clock ran ahead
            newest = s.scalar(select(func.max(Reading.ts)))
        now = datetime.now(UTC)
        self.db, self.clock = db, max(now, newest) if newest else now
        self.rng = random.Random(7)

    def advance(self, sensors: Sequence[SensorRef], seconds: int) -> int:
        """Store ``seconds`` new readings per sensor, ending at the advanced clock."""
        stamps = [self.clock + timedelta(seconds=i + 1) for i in range(seconds)]
        self.clock = stamps[-1]
        rows = [(s.sensor_id, ts, self._value(s.kind)) for ts in stamps for s in sensors]
        with self.db.session() as session:
            return insert_readings(session=session, rows=rows)

    def _value(self, kind: str) -> float:
        mean, sd, digits = _LEVEL.get(kind, (1.0, 0.1, 3))
        return round(self.rng.gauss(mean, sd), digits)
