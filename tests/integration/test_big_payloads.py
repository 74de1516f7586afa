"""Through Mosquitto with the shipped size limit (deploy/mosquitto.conf): one limit,
``PDM_MAX_PAYLOAD_BYTES``. A 2 MiB message is refused by the broker, from an MQTT 5 sender
with the reason code "Packet too large" (when its socket lets it read it) and from an MQTT
3.1.1 sender without the PUBACK it used to get, and the refusal is counted: the broker's
notice on its log topic becomes a dead letter ``payload_too_large`` naming the sender,
counted in /metrics. A message over the payload limit but within the packet's headroom
reaches the worker, which dead-letters it with its payload. A reading behind a UTF-8
byte-order mark is stored."""

from __future__ import annotations

import json
import threading
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
from sqlalchemy import select

from data.db import Database, upgrade_schema
from data.models import DeadLetter
from ingest.broker_log import PACKET_OVERHEAD
from maintenance.ops.demo_seed import seed_demo
from worker import Worker

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"
LOG_TOPIC = "$SYS/broker/log/N"


def _shipped_size_limits() -> str:
    """The shipped lines that decide what is refused and what is told: the size limits and
    the broker's log on its topic."""
    lines = SHIPPED.read_text().splitlines()
    kept = [
        line
        for line in lines
        if line.split(" ")[0] in ("message_size_limit", "max_packet_size")
        or line == "log_dest topic"
    ]
    assert "log_dest topic" in kept, "deploy/mosquitto.conf does not publish its log"
    assert any(k.startswith("max_packet_size") for k in kept), "no max_packet_size shipped"
    return "\n".join(kept) + "\n"


def test_the_shipped_packet_limit_is_the_payload_limit_plus_its_headroom(tmp_path: Path):
    limit = make_settings(tmp_path).max_payload_bytes
    assert f"max_packet_size {limit + PACKET_OVERHEAD}" in _shipped_size_limits()
    compose = (SHIPPED.parents[1] / "compose.yaml").read_text()
    assert f"$$(($$PDM_MAX_PAYLOAD_BYTES + {PACKET_OVERHEAD}))" in compose


@pytest.fixture
def broker() -> Iterator[MosquittoServer]:
    server = MosquittoServer(extra=_shipped_size_limits()).start()
    yield server
    server.cleanup()


def _worker(broker: MosquittoServer, tmp_path: Path, database_url: str, name: str) -> Worker:
    settings = make_settings(
        tmp_path / name,
        database_url=database_url,
        mqtt_url=broker.url,
        mqtt_broker_log_topic=LOG_TOPIC,
        mqtt_shared_group="pdm",
        worker_name=name,
    )
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    seed_demo(settings, db)
    worker = Worker(settings, db)
    worker.start()
    assert worker.client.wait_connected(15), "ingest client never connected"
    return worker


@pytest.fixture
def workers(postgres, broker: MosquittoServer, tmp_path: Path) -> Iterator[list[Worker]]:
    """Two workers sharing the telemetry (MQTT 5 shared subscription) and one database."""
    url = postgres.new_database()
    started = [_worker(broker, tmp_path, url, name) for name in ("worker-a", "worker-b")]
    yield started
    for worker in started:
        worker.stop()
        worker.db.dispose()


def _logged_refusals(broker: MosquittoServer) -> int:
    """What the broker itself wrote to its log file: the count to match."""
    text = (broker.dir / "mosquitto.log").read_text(errors="replace")
    return text.count("disconnected due to oversize packet.")


def _too_large() -> float:
    sample = {"reason": "payload_too_large"}
    return REGISTRY.get_sample_value("pdm_dead_letters_total", sample) or 0.0


def _broker_refusals() -> float:
    return REGISTRY.get_sample_value("pdm_mqtt_broker_refusals_total") or 0.0


def _send_refused(worker: Worker, payload: bytes, protocol: int, name: str) -> tuple:
    """A gateway's QoS 1 publish that the broker refuses: (acknowledged?, the reason of the
    disconnect). Stopped at the first disconnect (paho would reconnect and resend)."""
    target = worker.settings.mqtt
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=protocol)
    dropped, reasons = threading.Event(), []

    def on_disconnect(_c, _u, _f, reason, _p) -> None:  # noqa: ANN001
        reasons.append(str(reason))
        dropped.set()

    client.on_disconnect = on_disconnect
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        info = client.publish("pdm/motor-01/telemetry", payload, qos=1)
        assert dropped.wait(30), "the broker kept the connection"
        return info.is_published(), reasons
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_2_mib_message_is_refused_by_the_broker_and_counted_and_a_bom_reading_stored(
    workers: list[Worker], broker: MosquittoServer
):
    worker = workers[0]
    db = worker.db
    counted, told = _too_large(), _broker_refusals()
    now = time.time()
    big = json.dumps(
        {"readings": [reading("temperature", 55.0, now)], "note": "x" * (2 * 1024 * 1024)}
    ).encode()
    acked5, why5 = _send_refused(worker, big, mqtt.MQTTv5, "gateway-v5")
    acked3, _ = _send_refused(worker, big, mqtt.MQTTv311, "gateway-v311")
    # MQTT 5: disconnected with the reason code "Packet too large", unless the broker's close
    # reset the sender's socket (still writing the 2 MiB) before paho read the DISCONNECT:
    # then paho says "Unspecified error". The broker's log, asserted below, names the sender.
    assert not acked5 and why5[0] in {"Packet too large", "Unspecified error"}, why5
    assert not acked3  # MQTT 3.1.1: no PUBACK, so the gateway keeps it and retries

    # over the payload limit, within the packet's headroom: the worker refuses it itself
    over = worker.settings.max_payload_bytes + 1024
    publisher = TestPublisher(worker.settings)  # MQTT 5
    try:
        publisher.send(json.dumps({"note": "y" * over}).encode())  # acknowledged
        publisher.send(b"\xef\xbb\xbf" + json.dumps(reading("temperature", 61.5, now)).encode())
    finally:
        publisher.close()

    def letters() -> list[tuple[str, str, int]]:
        with db.session() as s:
            rows = s.execute(
                select(DeadLetter.topic, DeadLetter.detail, DeadLetter.payload).where(
                    DeadLetter.reason == "payload_too_large"
                )
            )
            return [(t, d, len(p)) for t, d, p in rows]

    def senders_named() -> set[str]:
        return {n for n in ("gateway-v5", "gateway-v311") for _t, d, _p in letters() if n in d}

    assert wait_until(lambda: senders_named() == {"gateway-v5", "gateway-v311"}, timeout=30), (
        letters()
    )
    assert wait_until(lambda: readings_count(db) == 1, timeout=30), dead_reasons(db)

    def refused() -> list[str]:
        return [t for t, d, _p in letters() if d.startswith("refused by the broker")]

    # each refusal the broker logged is one dead letter and one count, though both workers
    # received every log line (paho may have resent before the sender stopped: one each)
    assert wait_until(lambda: len(refused()) == _logged_refusals(broker), timeout=10)
    assert set(refused()) == {LOG_TOPIC}
    assert _broker_refusals() - told == len(refused()) == _logged_refusals(broker) >= 2

    def by_worker() -> list[int]:
        return [p for t, _d, p in letters() if t == "pdm/motor-01/telemetry"]

    # the two workers share the telemetry: the over-limit message may be the other worker's,
    # which stores its dead letter in its own time, not before the reading that followed it
    assert wait_until(lambda: len(by_worker()) == 1, timeout=30), letters()
    assert by_worker()[0] > 0  # with (the start of) its payload
    assert _too_large() - counted == len(refused()) + 1
    assert "invalid_json" not in dead_reasons(db)
