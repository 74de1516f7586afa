"""Builders that tests share: settings, seeded fleets, users, a test publisher."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from config import Settings, load_settings
from data.db import Database, upgrade_schema
from data.models import DeadLetter, Machine, Reading, Role, Sensor, User
from data.readings import insert_readings
from ingest.broker import EmbeddedBroker
from maintenance.people.accounts import hash_password

_ids = itertools.count(1)


@dataclass
class Stack:
    name: str
    settings: Settings
    db: Database
    broker: EmbeddedBroker | None = None  # the embedded stack's own amqtt; None on Mosquitto


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Fast settings for tests: short intervals, a unique MQTT client id, 3 demo machines."""
    base: dict[str, Any] = {
        "var_dir": tmp_path / "var",
        "demo_machines": 3,
        "drain_interval_s": 0.1,
        "rules_interval_s": 0.5,
        "rules_window_s": 3.0,
        "alarm_clear_after_s": 5.0,
        "mqtt_client_id": f"pdm-test-{uuid.uuid4().hex[:8]}",
        "secret_key": "t" * 40,
        "mqtt_session_expiry_s": 120,
    }
    return load_settings(**(base | overrides))


def add_user(db: Database, name: str, role: Role, password: str = "pw-for-tests") -> int:
    with db.session() as s:
        user = User(username=name, password_hash=hash_password(password), role=role)
        s.add(user)
        s.flush()
        return user.id


def active_model(session: Any, kind: str, artefact: Path, metrics: dict | None = None) -> int:
    """Register a model version of ``kind`` pointing at ``artefact`` (no training) and make
    it the active one; its version."""
    from ml.registry import promote, register

    model = register(
        session=session,
        kind=kind,
        artefact=artefact,
        params={},
        features=[],
        metrics=metrics or {},
        train_from=None,
        train_to=None,
    )
    promote(session=session, kind=kind, version=model.version)
    return model.version


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def dead_reasons(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(DeadLetter.reason).order_by(DeadLetter.id)))


def wait_until(predicate: Any, timeout: float = 60.0, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until true; tests assert on the result, never on elapsed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def readings_count(db: Database) -> int:
    return count(db, Reading)


def reading(sensor: str, value: Any, ts: Any = None) -> dict[str, Any]:
    return {"sensor": sensor, "ts": time.time() if ts is None else ts, "value": value}


class TestPublisher:
    """A plain paho publisher that waits for every PUBACK (what a sensor gateway does)."""

    __test__ = False

    def __init__(self, settings: Settings) -> None:
        target = settings.mqtt
        self.prefix = settings.mqtt_topic_prefix
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pdm-test-pub-{next(_ids)}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5 if settings.mqtt_v5 else mqtt.MQTTv311,
        )
        self.client.connect(target.host, target.port)
        self.client.loop_start()

    def send(
        self,
        payload: bytes | dict[str, Any],
        machine: str = "motor-01",
        topic: str | bytes | None = None,
    ) -> None:
        body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        info = self.client.publish(topic or f"{self.prefix}/{machine}/telemetry", body, qos=1)
        info.wait_for_publish(30)
        assert info.is_published(), "broker did not acknowledge the publish"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


@dataclass
class WebApp:
    app: Any  # dash.Dash
    db: Database
    settings: Settings

    def password(self, user: str) -> str:
        return {
            "admin": "admin-pw-1",
            "manager": "manager-pw-1",
            "engineer": "engineer-pw-1",
            "technician": "tech-pw-1",
            "viewer": "viewer-pw-1",
        }[user]

    def client(self, user: str | None = None) -> Any:
        """A Flask test client, logged in as ``user`` through the real login form."""
        client = self.app.server.test_client()
        if user is not None:
            page = client.get("/login").get_data(as_text=True)
            token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            response = client.post(
                "/login", data={"csrf": token, "username": user, "password": self.password(user)}
            )
            assert response.status_code == 302, f"login as {user} failed"
        return client


def sign_in(client: Any, username: str, password: str, **environ: Any) -> Any:
    """Post the real sign-in form (its CSRF token first) with a Flask test client;
    ``environ``: e.g. ``environ_base={"REMOTE_ADDR": ...}`` for another client address."""
    page = client.get("/login", **environ).get_data(as_text=True)
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": token, "username": username, "password": password}
    return client.post("/login", data=form, **environ)


class RecordingPublisher:
    """Publishes a numbered stream of QoS 1 messages (3 readings each) from a thread and
    records every reading whose message the broker acknowledged."""

    def __init__(
        self,
        settings: Settings,
        *,
        messages: int,
        rate: float,
        machines: tuple[str, ...] = ("motor-01", "pump-01", "compressor-01"),
    ) -> None:
        import threading

        self.settings, self.total, self.rate, self.machines = settings, messages, rate, machines
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        assert messages < 65_535, "message ids would wrap"
        self._mids: dict[int, int] = {}
        self._acked: set[int] = set()
        self.unrouted: set[int] = set()
        self._lock = threading.Lock()
        self._room = threading.BoundedSemaphore(1000)
        self._stop = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pdm-rec-pub-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if settings.mqtt_v5 else mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.on_publish = self._on_publish
        self.thread = threading.Thread(target=self._run, daemon=True)

    def readings_of(self, index: int) -> list[tuple[str, str, datetime]]:
        machine = self.machines[index % len(self.machines)]
        ts = self.base + timedelta(milliseconds=index)
        return [(machine, key, ts) for key in ("temperature", "vibration", "rpm")]

    def _payload(self, index: int) -> bytes:
        values = {"temperature": 50.0 + index % 7, "vibration": 1.5, "rpm": 1500.0}
        return json.dumps(
            {
                "readings": [
                    {"sensor": key, "ts": ts.isoformat(), "value": values[key]}
                    for _, key, ts in self.readings_of(index)
                ]
            }
        ).encode()

    def start(self) -> RecordingPublisher:
        target = self.settings.mqtt
        self.client.connect(target.host, target.port)
        self.client.loop_start()
        self.thread.start()
        return self

    def _run(self) -> None:
        start = time.monotonic()
        for index in range(self.total):
            if self._stop.is_set():
                self.total = index  # what was published is the whole stream
                return
            self._room.acquire()
            topic = f"{self.settings.mqtt_topic_prefix}/{self.readings_of(index)[0][0]}/telemetry"
            info = self.client.publish(topic, self._payload(index), qos=1)
            with self._lock:  # message ids stay unique: fewer than 65,535 messages per run
                self._mids[info.mid] = index
            delay = start + (index + 1) / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _on_publish(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        # never wait for our lock here: paho may hold its own while calling back.
        # MQTT 5 "no matching subscribers" (16) is a PUBACK for a message nobody will get.
        if getattr(_rc, "value", _rc) == 16:
            self.unrouted.add(mid)
        else:
            self._acked.add(mid)  # set.add is atomic under the GIL
        self._room.release()

    def stop_stream(self) -> None:
        """End the stream early (``messages`` is then a cap); ``total`` becomes what was sent."""
        self._stop.set()
        self.thread.join()

    def done(self) -> bool:
        return not self.thread.is_alive() and len(self.acked_indices()) == self.total

    def acked_indices(self) -> set[int]:
        with self._lock:
            return {self._mids[m] for m in list(self._acked) if m in self._mids}

    def acked_readings(self) -> set[tuple[str, str, datetime]]:
        return {r for i in self.acked_indices() for r in self.readings_of(i)}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def stored_readings(db: Database) -> list[tuple[str, str, datetime]]:
    """Every stored reading as (machine, sensor key, ts), duplicates included."""
    from data.models import Machine, Sensor

    with db.session() as s:
        rows = s.execute(
            select(Machine.name, Sensor.key, Reading.ts)
            .join(Sensor, Sensor.id == Reading.sensor_id)
            .join(Machine, Machine.id == Sensor.machine_id)
        ).all()
    return [tuple(r) for r in rows]


def raw_publish(host: str, port: int, topic: bytes, payload: bytes) -> bool:
    """Publish QoS 1 with a hand-built MQTT 3.1.1 packet, so the topic may be any bytes
    (paho refuses to encode invalid UTF-8). True when the broker answered with a PUBACK."""
    import socket
    import struct

    def packet(kind: int, body: bytes) -> bytes:
        length, encoded = len(body), b""
        while True:
            byte, length = length % 128, length // 128
            encoded += bytes([byte | (0x80 if length else 0)])
            if not length:
                return bytes([kind]) + encoded + body

    def string(b: bytes) -> bytes:
        return struct.pack("!H", len(b)) + b

    client_id = f"raw-{uuid.uuid4().hex[:8]}".encode()
    connect = string(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", 30) + string(client_id)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(packet(0x10, connect))
        if sock.recv(4)[:1] != b"\x20":
            return False
        sock.sendall(packet(0x32, string(topic) + struct.pack("!H", 1) + payload))
        try:
            return sock.recv(4)[:1] == b"\x40"
        except OSError:
            return False


def clear_tickets(session: Any) -> None:
    """Remove every ticket of a shared test app, and what points at it (breakdown periods
    recorded from resolutions keep their time but lose the link). Their audit entries go
    too: SQLite reuses the ids, and a new ticket would show an old one's history."""
    from sqlalchemy import delete, update

    from data.models import Alarm, AuditLog, Downtime, Notification, Ticket

    session.execute(update(Downtime).where(Downtime.ticket_id.is_not(None)).values(ticket_id=None))
    session.execute(update(Alarm).where(Alarm.ticket_id.is_not(None)).values(ticket_id=None))
    session.execute(delete(Notification).where(Notification.ticket_id.is_not(None)))
    session.execute(delete(Ticket))
    session.execute(delete(AuditLog).where(AuditLog.entity == "ticket"))


def wear_history(
    *, units: int, seed: int, ids: str = "text", step_s: float = 600.0
) -> tuple[Any, Any]:
    """A tiny run-to-failure set that is not the simulator's: presses of an unknown type
    wear out in 20–40 hours (wear and temperature rise ever faster, then failure). Returns
    (readings, failures) in long format; ``ids`` "text", "int" or "mixed" unit ids."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows, fails = [], []
    for k in range(units):
        unit: Any = {"text": f"press-{k}", "int": k, "mixed": k if k % 2 else f"p{k}"}[ids]
        life_h = rng.uniform(20, 40)
        t = np.arange(0, life_h * 3600, step_s)
        x = t / (life_h * 3600)
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=int(rng.integers(0, 500)))
        frame = pd.DataFrame(
            {
                "unit": unit,
                "type": "press",
                "time": [start + timedelta(seconds=float(s)) for s in t],
                "wear": 1 + 4 * x**3 + rng.normal(0, 0.15, len(t)),
                "temp": 40 + 8 * x**4 + rng.normal(0, 0.6, len(t)),
                "load": 0.7 + 0.1 * np.sin(t / 7200) + rng.normal(0, 0.05, len(t)),
            }
        )
        rows.append(frame)
        fails.append({"unit": unit, "failure": start + timedelta(hours=life_h)})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(fails)


def valve_history(*, units: int, seed: int, step_s: float = 300.0) -> tuple[Any, Any]:
    """A tiny run-to-failure set of valves that switch: each stands open or closed for 1-5 h
    (``opened`` is 1 or 0); its chamber pressure is high while open and falls as a leak
    grows, which only the open position shows; failure when the leak has grown enough, in
    20-40 hours. A window's plain mean pressure moves more with how long the valve stood
    open than with the leak. Returns (readings, failures) in long format."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows, fails = [], []
    for k in range(units):
        life_h = rng.uniform(20, 40)
        t = np.arange(0, life_h * 3600, step_s)
        dwell = rng.uniform(1, 5, size=len(t)).cumsum() * 3600  # each standing's end
        opened = (np.searchsorted(dwell, t) % 2).astype(float)
        leak = t / (life_h * 3600)
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=int(rng.integers(0, 500)))
        frame = pd.DataFrame(
            {
                "unit": f"valve-{k}",
                "type": "valve",
                "time": [start + timedelta(seconds=float(s)) for s in t],
                "opened": opened,
                "pressure": 0.2 + opened * (3 - 1.5 * leak) + rng.normal(0, 0.05, len(t)),
                "flow": 0.1 + 0.8 * opened + rng.normal(0, 0.05, len(t)),
            }
        )
        rows.append(frame)
        fails.append({"unit": f"valve-{k}", "failure": start + timedelta(hours=life_h)})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(fails)


def write_history(folder: Path, readings: Any, failures: Any) -> tuple[Path, Path]:
    """The two CSV files of a long-format history."""
    folder.mkdir(parents=True, exist_ok=True)
    r, f = folder / "readings.csv", folder / "failures.csv"
    readings.to_csv(r, index=False)
    failures.to_csv(f, index=False)
    return r, f


def demo_database(tmp_path: Path, **overrides: Any) -> tuple[Settings, Database]:
    """Settings and a migrated SQLite database holding the demo fleet (3 machines) and
    accounts: for tests of what pages and reports show, without a web server."""
    from data.db import upgrade_schema
    from maintenance.ops.demo_seed import seed_demo

    settings = make_settings(tmp_path, **overrides)
    database = Database(settings.effective_database_url)
    upgrade_schema(database.engine)
    seed_demo(settings, database)
    return settings, database


@dataclass
class ApiApp:
    """The /api/v1 routes alone on a Flask server (no Dash pages), on any database."""

    server: Any  # flask_openapi3.OpenAPI
    db: Database
    settings: Settings

    def token(self, role: Role, name: str | None = None, **extra: Any) -> str:
        """A new API token's secret, made by the seeded admin."""
        from maintenance.people.api_tokens import create_token

        with self.db.session() as s:
            admin = s.scalar(select(User.id).where(User.username == "admin"))
            made = create_token(
                session=s,
                name=name or f"{role.value}-{uuid.uuid4().hex[:6]}",
                role=role,
                expires_at=extra.get("expires_at"),
                created_by=int(admin or 0),
                scopes=extra.get("scopes"),
            )
        return made.secret

    def client(self, secret: str | None = None) -> Any:
        client = self.server.test_client()
        if secret is not None:
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return client


def api_app(tmp_path: Path, db: Database, **overrides: Any) -> ApiApp:
    """The API on ``db`` with the demo fleet and accounts, ingest handed in as app.py does."""
    from ingest.http_ingest import HttpIngest
    from maintenance.ops.demo_seed import seed_demo
    from web.server.api import api_server, install_api
    from web.server.ops import install_request_ids

    settings = make_settings(tmp_path, admin_password="admin-pw-1", **overrides)
    seed_demo(settings, db)
    server = api_server(__name__)
    install_request_ids(server)
    install_api(server, db, settings, HttpIngest(settings, db))
    return ApiApp(server, db, settings)


def migrated(url: str) -> Database:
    """A database at ``url`` with the schema brought up to date."""
    db = Database(url)
    upgrade_schema(db.engine)
    return db


GRID_KINDS = ("rpm", "temperature", "vibration")


def fleet_with_sensors(db: Database, names: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Machines (name, type) with the three ``GRID_KINDS`` sensors; {name: {kind: sensor id}}."""
    with db.session() as s:
        for name, kind in names:
            machine = Machine(name=name, type=kind, location="here", line="one")
            machine.sensors = [Sensor(key=k, kind=k, unit="u") for k in GRID_KINDS]
            s.add(machine)
    with db.session() as s:
        rows = s.execute(select(Machine.name, Sensor.kind, Sensor.id).join(Sensor)).all()
    out: dict[str, dict[str, int]] = {}
    for name, kind, sensor in rows:
        out.setdefault(name, {})[kind] = sensor
    return out


def seed_buckets(
    db: Database, sensors: list[int], first: int, last: int, seed: int, step_s: float = 60.0
) -> int:
    """Two readings per sensor and ``step_s`` bucket in [first, last] (one bucket in seven
    left empty per sensor); returns how many were stored."""
    rng = np.random.default_rng(seed)
    rows = []
    for sensor in sensors:
        for bucket in range(first, last + 1):
            if rng.random() < 1 / 7:
                continue
            for second in (5.0, 35.5):
                at = datetime.fromtimestamp(bucket * step_s + second * step_s / 60.0, UTC)
                rows.append((sensor, at, float(rng.normal(sensor, 1.0))))
    with db.session() as s:
        return insert_readings(session=s, rows=rows)
