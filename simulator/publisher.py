"""Publish simulated samples over MQTT (QoS 1), never more than a capped number in flight.

paho's message ids wrap at 65,535: a publisher that runs ahead of its PUBACKs gets
``MQTT_ERR_QUEUE_SIZE`` and the reading is lost, so ``publish`` waits for room instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulator.fleet_physics import FleetSimulator

__all__ = ["MqttPublisher", "run", "message_for"]

log = logging.getLogger(__name__)


class MqttPublisher:
    """A QoS 1 publisher with back-pressure; counts what the broker acknowledged."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str = "pdm-simulator",
        v5: bool = False,
        max_in_flight: int = 1000,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self._room = threading.BoundedSemaphore(max_in_flight)
        self.acked = 0
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        )
        if parts.username:
            self._client.username_pw_set(parts.username, parts.password)
        self._client.max_inflight_messages_set(max_in_flight)
        self._client.on_publish = self._on_publish
        self._client.on_connect = lambda *_a: log.info("simulator connected to MQTT")

    def connect(self) -> None:
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()

    def close(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self._client.want_write() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes, timeout: float = 30.0) -> bool:
        """Queue one QoS 1 message, waiting while too many are unacknowledged."""
        if not self._room.acquire(timeout=timeout):
            log.warning("publish back-pressure: broker has not acked for %.0fs", timeout)
            return False
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            self._room.release()
            log.warning("publish refused by paho: %s", mqtt.error_string(info.rc))
            return False
        return True

    def _on_publish(self, *_args: object) -> None:
        self.acked += 1
        with contextlib.suppress(ValueError):  # more acks than publishes after a resend
            self._room.release()


def message_for(values: dict[str, float], ts: float) -> bytes:
    """One batched telemetry payload for one machine at one instant."""
    return json.dumps(
        {
            "readings": [
                {"sensor": key, "ts": round(ts, 3), "value": value} for key, value in values.items()
            ]
        }
    ).encode()


def run(
    sim: FleetSimulator,
    publisher: MqttPublisher,
    *,
    prefix: str,
    interval_s: float,
    stop: threading.Event,
) -> None:
    """Sample every ``interval_s`` wall seconds and publish until ``stop`` is set."""
    next_tick = time.time()
    while not stop.is_set():
        now = time.time()
        for machine, values in sim.sample(now).items():
            publisher.publish(f"{prefix}/{machine}/telemetry", message_for(values, now))
        next_tick += interval_s
        stop.wait(max(0.0, next_tick - time.time()))
