"""Builders that tests share: settings, seeded fleets, users, a test publisher."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from config import Settings, load_settings
from data.db import Database
from data.models import DeadLetter, Reading, Role, User
from maintenance.accounts import hash_password

_ids = itertools.count(1)


@dataclass
class Stack:
    name: str
    settings: Settings
    db: Database


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
