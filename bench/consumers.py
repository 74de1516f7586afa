"""The two reference consumers, each run in its own process like the worker.

``receive``: a paho subscriber that only parses and counts single-reading QoS 1
messages (no database): the ceiling of one Python MQTT consumer.
``naive``: what a plain tutorial does: one INSERT and one COMMIT per MQTT message.

    python -m bench.consumers receive --port 1883 --expect 100000
    python -m bench.consumers naive --port 1883 --expect 20000 --dsn postgresql://…

Each prints ``ready`` once subscribed, then one JSON line: count, first, last (epoch
seconds of the first and last message handled).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

__all__ = ["Counter", "main"]

TOPIC = "pdm/+/telemetry"


class Counter:
    """Counts handled messages and signals when the expected number is reached."""

    def __init__(self, expect: int) -> None:
        self.expect, self.count = expect, 0
        self.first = self.last = 0.0
        self.done = threading.Event()

    def tick(self) -> None:
        now = time.time()
        if not self.count:
            self.first = now
        self.count += 1
        self.last = now
        if self.count >= self.expect:
            self.done.set()


def _receive_client(counter: Counter, receive_maximum: int) -> tuple[mqtt.Client, dict]:
    """MQTT 5 like the worker, same Receive Maximum; paho acks each message itself."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="pdm-bench-receive", protocol=mqtt.MQTTv5
    )

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        json.loads(msg.payload)
        counter.tick()

    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = receive_maximum
    return client, {"clean_start": True, "properties": props}


def _naive_client(counter: Counter, dsn: str) -> tuple[mqtt.Client, dict]:
    """paho's defaults (MQTT 3.1.1), psycopg, INSERT + COMMIT inside on_message."""
    conn = psycopg.connect(dsn)
    sensors = {
        (machine, key): sid
        for machine, key, sid in conn.execute(
            "SELECT m.name, s.key, s.id FROM sensors s JOIN machines m ON m.id = s.machine_id"
        )
    }
    conn.commit()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pdm-bench-naive")

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        doc = json.loads(msg.payload)
        machine = msg.topic.split("/")[1]
        conn.execute(
            "INSERT INTO readings (sensor_id, ts, value) VALUES (%s, %s, %s)",
            (
                sensors[(machine, doc["sensor"])],
                datetime.fromtimestamp(doc["ts"], UTC),
                doc["value"],
            ),
        )
        conn.commit()
        counter.tick()

    client.on_message = on_message
    return client, {}


def run(
    client: mqtt.Client, connect_kwargs: dict, port: int, counter: Counter, idle_s: float
) -> None:
    """Subscribe, say ``ready``, and wait until all expected messages (or silence)."""
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_connect = lambda c, *_a: c.subscribe(TOPIC, qos=1)
    client.connect("127.0.0.1", port, **connect_kwargs)
    client.loop_start()
    try:
        if not subscribed.wait(15):
            raise TimeoutError("no SUBACK from the broker")
        print("ready", flush=True)
        seen = -1
        while not counter.done.wait(idle_s):
            if counter.count == seen:
                break  # nothing for idle_s: report what arrived
            seen = counter.count
    finally:
        client.disconnect()
        client.loop_stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.consumers")
    p.add_argument("kind", choices=("receive", "naive"))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--dsn", help="naive: libpq URL of the database")
    p.add_argument("--receive-maximum", type=int, default=2000)
    p.add_argument("--idle-s", type=float, default=20.0)
    args = p.parse_args(argv)
    counter = Counter(args.expect)
    if args.kind == "receive":
        client, kwargs = _receive_client(counter, args.receive_maximum)
    else:
        client, kwargs = _naive_client(counter, args.dsn)
    run(client, kwargs, args.port, counter, args.idle_s)
    print(json.dumps({"count": counter.count, "first": counter.first, "last": counter.last}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
