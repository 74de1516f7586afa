"""A worker leaving the shared group for good (a scale-down), against real Mosquitto and
PostgreSQL: two workers share the telemetry with persistent sessions while a known stream is
published; one of them, which has fallen behind (the broker holds a backlog of its share in
its session), stops in the middle while the stream goes on.

- **Leave** (SIGUSR1, ``Worker.leave``): every reading stored, none delivered twice, the
  backlog taken by the leaving member after its unsubscribe, the readings published after
  the leave stored by the remaining worker, and the broker holds no session for the member
  that left.
- **Plain stop** (SIGTERM, ``Worker.stop``), the control: the stopped member's session stays
  and the broker queues its share of the rest of the stream there; nothing of it reaches
  the other worker until ``python app.py worker --leave`` (``Worker.leave_stopped``) takes
  up that session under the same client id, stores the share and ends the session.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from app_processes import Proc, http_get
from factories import TestPublisher, make_settings, readings_count, wait_until
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import REGISTRY
from services import free_port
from sqlalchemy import func, select

from config import Settings
from data.db import Database, upgrade_schema
from data.models import Reading
from maintenance.ops.demo_seed import seed_demo
from worker import Worker

MESSAGES = 1500  # one reading each, unique (sensor, ts)
STOP_AT = 300  # the member stops once this many were published
TAIL = 200  # published after the stop returned, whenever that is
MACHINES = ("motor-01", "pump-01", "compressor-01")


@dataclass
class Group:
    settings: dict[str, Settings]  # member → its settings (client id, persistent session)
    workers: dict[str, Worker]
    db: Database


def _settings(tmp_path: Path, url: str, mqtt_url: str, group: str, name: str) -> Settings:
    # member a falls behind: a small receive window drained every 2 s, so the broker queues
    # most of its share in its session, which it must still take (and ack) when it leaves
    slow = {"mqtt_receive_maximum": 5, "drain_interval_s": 2.0} if name == "a" else {}
    return make_settings(
        tmp_path / name,
        database_url=url,
        mqtt_url=mqtt_url,
        mqtt_protocol="5",
        mqtt_shared_group=group,
        mqtt_session_expiry_s=600,  # persistent, the product's way (its default is 7 days)
        mqtt_client_id=f"pdm-{group}-{name}",
        worker_name=f"{group}-{name}",
        **slow,
    )


def _start(settings: Settings) -> Worker:
    worker = Worker(settings, Database(settings.effective_database_url))
    worker.start()
    assert worker.client.wait_connected(15), "ingest client never connected"
    return worker


@pytest.fixture
def group(postgres, mosquitto, tmp_path: Path) -> Iterator[Group]:
    url = postgres.new_database()
    name = f"leave{uuid.uuid4().hex[:6]}"
    settings = {m: _settings(tmp_path, url, mosquitto.url, name, m) for m in ("a", "b")}
    db = Database(url)
    upgrade_schema(db.engine)
    seed_demo(settings["a"], db)
    workers = {m: _start(s) for m, s in settings.items()}
    yield Group(settings, workers, db)
    for worker in workers.values():
        worker.stop()  # a no-op for the one already stopped
        worker.db.dispose()
    db.dispose()


class Stream:
    """Publishes the known stream in a thread, without pausing for the stop: ``sent`` is
    how many messages the broker has acknowledged so far."""

    def __init__(self, settings: Settings) -> None:
        self.sent = 0
        self.at_stop = threading.Event()  # STOP_AT messages are out
        self.stopped = threading.Event()  # the member's stop returned
        self._settings = settings
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        publisher = TestPublisher(self._settings)
        base = time.time() - 60
        try:
            for i in range(MESSAGES):
                reading = {"sensor": "temperature", "ts": base + i * 0.01, "value": 20 + i % 50}
                publisher.send(reading, machine=MACHINES[i % len(MACHINES)])
                self.sent = i + 1
                if self.sent == STOP_AT:
                    self.at_stop.set()
                if self.sent == MESSAGES - TAIL:  # the last ones only after the stop returned,
                    self.stopped.wait(120)  # however long it takes on a busy machine
                time.sleep(0.005)
        finally:
            publisher.close()

    def join(self) -> None:
        self._thread.join(120)
        assert self.sent == MESSAGES


def _stream_with_a_stop(group: Group, stop: str) -> int:
    """Stop member a ("leave" or "stop") while the stream goes on; returns how many
    messages had been published when its stop returned."""
    stream = Stream(group.settings["b"])
    assert stream.at_stop.wait(60)
    getattr(group.workers["a"], stop)()
    stopped_at = stream.sent
    stream.stopped.set()
    stream.join()
    assert STOP_AT <= stopped_at < MESSAGES, stopped_at  # some published after the stop
    return stopped_at


def _distinct(db: Database) -> int:
    with db.session() as s:
        query = select(func.count()).select_from(
            select(Reading.sensor_id, Reading.ts).distinct().subquery()
        )
        return int(s.scalar(query) or 0)


def _duplicates() -> float:
    return REGISTRY.get_sample_value("pdm_readings_duplicate_total") or 0.0


def _session_present(settings: Settings) -> bool:
    """Connect under the member's client id without a clean start: does the broker still
    hold a session for it? (Then discard it: session expiry 0 on the disconnect.)"""
    present = threading.Event()
    done = threading.Event()

    def on_connect(_c: object, _u: object, flags: object, _r: object, _p: object) -> None:
        if getattr(flags, "session_present", False):
            present.set()
        done.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=settings.effective_mqtt_client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,  # never ack what a kept session may deliver
    )
    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect(settings.mqtt.host, settings.mqtt.port, clean_start=False, properties=props)
    client.loop_start()
    try:
        assert done.wait(15), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return present.is_set()


def test_a_member_that_leaves_hands_its_share_to_the_others_at_once(group):
    duplicates_before = _duplicates()
    _stream_with_a_stop(group, "leave")
    # everything, the readings published after the leave included, without waiting for
    # the session's expiry (600 s): the broker no longer counts the member in the group
    all_stored = wait_until(lambda: readings_count(group.db) == MESSAGES, timeout=120)
    assert all_stored, readings_count(group.db)
    assert _distinct(group.db) == MESSAGES  # 0 lost
    assert _duplicates() == duplicates_before  # 0 delivered twice
    assert not _session_present(group.settings["a"])  # the broker discarded the session


def test_a_plain_stop_keeps_the_members_share_queued_until_its_session_is_taken_up(group):
    stopped_at = _stream_with_a_stop(group, "stop")
    # the remaining worker stores its own share of the rest; the stopped member's share
    # (one message in two of those published after its stop) stays queued in its session

    def settled() -> bool:
        first = readings_count(group.db)
        time.sleep(1.0)
        return readings_count(group.db) == first

    assert wait_until(settled, timeout=60), readings_count(group.db)
    share = (MESSAGES - stopped_at) // 2 - 1  # the round robin's half, give or take one
    missing = MESSAGES - readings_count(group.db)
    assert missing >= share, (missing, stopped_at)  # the defect a leave fixes

    # python app.py worker --leave under the stopped member's client id: its share stored
    again = Worker(group.settings["a"], Database(group.settings["a"].effective_database_url))
    try:
        stored = again.leave_stopped()
    finally:
        again.db.dispose()
    assert stored >= share, (stored, missing)
    # each reading stored once (a resumed session may deliver again a message the stopped
    # member had committed: at least once from the broker, once in the table by its key)
    assert readings_count(group.db) == _distinct(group.db) == MESSAGES
    assert not _session_present(group.settings["a"])


def test_the_operators_commands_sigusr1_leaves_and_worker_leave_ends_a_stopped_members_session(
    postgres, mosquitto, tmp_path
):
    """The real processes: ``kill -USR1`` makes a running ``app.py worker`` leave and exit 0;
    after a SIGTERM (session kept) ``app.py worker --leave`` under its client id ends it."""
    group = f"ops{uuid.uuid4().hex[:6]}"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PDM_")}
    env = inherited | {
        "PDM_DATABASE_URL": postgres.new_database(),
        "PDM_MQTT_URL": mosquitto.url,
        "PDM_MQTT_PROTOCOL": "5",
        "PDM_MQTT_SHARED_GROUP": group,
        "PDM_MQTT_SESSION_EXPIRY_S": "600",
        "PDM_DEMO_MACHINES": "3",
        "PDM_SECRET_KEY": "f" * 40,
        "PDM_ML_AUTOTRAIN": "false",
        "PDM_VAR_DIR": str(tmp_path / "var"),
    }
    members = {}
    for name in ("left", "stopped"):
        member_env = env | {
            "PDM_MQTT_CLIENT_ID": f"pdm-{group}-{name}",
            "PDM_WORKER_NAME": name,
            "PDM_WORKER_METRICS_PORT": str(free_port()),
        }
        members[name] = (member_env, Proc(["app.py", "worker"], member_env, tmp_path / name))
    for member_env, proc in members.values():
        ready = f"http://127.0.0.1:{member_env['PDM_WORKER_METRICS_PORT']}/readyz"
        assert wait_until(lambda u=ready: http_get(u)[0] == 200, timeout=120), proc.log.read_text()
    settings = {
        name: make_settings(
            tmp_path, mqtt_url=mosquitto.url, mqtt_client_id=member_env["PDM_MQTT_CLIENT_ID"]
        )
        for name, (member_env, _) in members.items()
    }

    left = members["left"][1]
    left.popen.send_signal(signal.SIGUSR1)
    assert left.popen.wait(60) == 0, left.log.read_text()[-2000:]
    assert "left the shared group" in left.log.read_text()
    assert not _session_present(settings["left"])

    stopped_env, stopped = members["stopped"]
    assert stopped.terminate() == 0
    assert "left the shared group" not in stopped.log.read_text()
    one_shot = Proc(["app.py", "worker", "--leave"], stopped_env, tmp_path / "one-shot")
    assert one_shot.popen.wait(120) == 0, one_shot.log.read_text()[-2000:]
    assert f"left the shared group as pdm-{group}-stopped" in one_shot.log.read_text()
    assert not _session_present(settings["stopped"])
