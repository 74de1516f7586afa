"""Through Mosquitto with the shipped size limit (deploy/mosquitto.conf): a 2 MiB message
reaches the worker and is dead-lettered and counted as too large, from MQTT 5 and MQTT
3.1.1 senders alike (the broker used to drop it after acknowledging it); a reading behind
a UTF-8 byte-order mark is stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from factories import (
    TestPublisher,
    dead_reasons,
    make_settings,
    reading,
    readings_count,
    wait_until,
)
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import REGISTRY
from services import MosquittoServer

from data.db import Database, upgrade_schema
from maintenance.ops.demo_seed import seed_demo
from worker import Worker

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"


def _shipped_size_limits() -> str:
    lines = SHIPPED.read_text().splitlines()
    kept = [
        line for line in lines if line.split(" ")[0] in ("message_size_limit", "max_packet_size")
    ]
    assert kept, "deploy/mosquitto.conf sets no size limit"
    return "\n".join(kept) + "\n"


@pytest.fixture
def worker_behind_shipped_limits(postgres, tmp_path: Path) -> Iterator[Worker]:
    broker = MosquittoServer(extra=_shipped_size_limits()).start()
    settings = make_settings(tmp_path, database_url=postgres.new_database(), mqtt_url=broker.url)
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    seed_demo(settings, db)
    worker = Worker(settings, db)
    worker.start()
    assert worker.client.wait_connected(15), "ingest client never connected"
    yield worker
    worker.stop()
    db.dispose()
    broker.cleanup()


def _too_large() -> float:
    sample = {"reason": "payload_too_large"}
    return REGISTRY.get_sample_value("pdm_dead_letters_total", sample) or 0.0


def _send_311(worker: Worker, payload: bytes) -> bool:
    """An MQTT 3.1.1 gateway's QoS 1 publish; True when the broker acknowledged it."""
    target = worker.settings.mqtt
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="pdm-test-311", protocol=mqtt.MQTTv311
    )
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        info = client.publish("pdm/motor-01/telemetry", payload, qos=1)
        info.wait_for_publish(30)
        return info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def test_a_2_mib_message_is_dead_lettered_and_counted_and_a_bom_reading_stored(
    worker_behind_shipped_limits: Worker,
):
    worker = worker_behind_shipped_limits
    db = worker.db
    counted = _too_large()
    now = time.time()
    big = json.dumps(
        {"readings": [reading("temperature", 55.0, now)], "note": "x" * (2 * 1024 * 1024)}
    ).encode()
    publisher = TestPublisher(worker.settings)  # MQTT 5
    try:
        publisher.send(big)  # acknowledged by the broker (it asserts so)
        publisher.send(b"\xef\xbb\xbf" + json.dumps(reading("temperature", 61.5, now)).encode())
    finally:
        publisher.close()
    assert _send_311(worker, big)
    assert wait_until(lambda: dead_reasons(db).count("payload_too_large") == 2, timeout=30), (
        dead_reasons(db)
    )
    assert wait_until(lambda: readings_count(db) == 1, timeout=30), dead_reasons(db)
    assert _too_large() - counted == 2
    assert "invalid_json" not in dead_reasons(db)
