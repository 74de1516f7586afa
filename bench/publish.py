"""Publishers that are not what is measured.

``publish_files`` runs ``mosquitto_pub -l`` (C, one message per line) over prepared
files, several at once: it fills Mosquitto's queue far faster than any consumer here
empties it. ``PacedPublisher`` sends batched messages at a fixed rate with the publish
time as each reading's timestamp, for the lag measurement.
"""

from __future__ import annotations

import logging
import random
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulator.fleet_physics import MachineDef

from .readings import Reading, batched_line, nominal_value

__all__ = ["publish_files", "PacedPublisher"]

log = logging.getLogger(__name__)


def publish_files(
    files: Sequence[tuple[str, Path]], *, port: int, prefix: str = "pdm", parallel: int = 4
) -> float:
    """Send every file with ``mosquitto_pub -l -q 1``, ``parallel`` at a time; returns seconds.

    Each file holds at most 60,000 lines: mosquitto_pub 2.0.11 in ``-l`` mode disconnects
    early once its message ids wrap past 65,535.
    """
    log.debug("publishing %d files, %d at a time", len(files), parallel)
    started = time.perf_counter()
    todo = list(files)
    running: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        while todo or running:
            while todo and len(running) < parallel:
                machine, path = todo.pop(0)
                running.append((_mosquitto_pub(port, f"{prefix}/{machine}/telemetry", path), path))
            running = _reap(running)
            time.sleep(0.01)
    finally:
        for proc, _ in running:
            proc.kill()
            proc.wait()
    return time.perf_counter() - started


def _mosquitto_pub(port: int, topic: str, path: Path) -> subprocess.Popen[bytes]:
    with path.open("rb") as stdin:
        return subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-M", "1000"]
            + ["-l", "-t", topic],
            stdin=stdin,
            stderr=subprocess.PIPE,
        )


def _reap(
    running: list[tuple[subprocess.Popen[bytes], Path]],
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    still = []
    for proc, path in running:
        code = proc.poll()
        if code is None:
            still.append((proc, path))
        elif code != 0:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"mosquitto_pub failed on {path.name} ({code}): {err.strip()}")
    return still


class PacedPublisher:
    """QoS 1 batched messages at a steady rate; each reading's ts is its publish time."""

    def __init__(self, port: int, machines: Sequence[MachineDef], *, per_message: int) -> None:
        self._machines, self._per_message = list(machines), per_message
        self._last_ts: dict[tuple[str, str], float] = {}
        self._room = threading.BoundedSemaphore(10_000)  # far below paho's 65,535 limit
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pdm-bench-paced")
        self._client.max_inflight_messages_set(1000)
        self._client.on_publish = lambda *_a: self._room.release()
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        self._rng = random.Random(11)

    def run(self, readings_per_s: float, seconds: float, prefix: str = "pdm") -> int:
        """Publish for ``seconds`` at ``readings_per_s``; returns readings published."""
        messages_per_s = readings_per_s / self._per_message
        total = int(messages_per_s * seconds)
        started = time.monotonic()
        sent = 0
        while sent < total:
            due = min(total, int((time.monotonic() - started) * messages_per_s) + 1)
            while sent < due:
                machine = self._machines[sent % len(self._machines)]
                payload = batched_line(self._readings(machine)).encode()
                if not self._room.acquire(timeout=30):
                    raise RuntimeError("paced publisher: broker stopped acknowledging")
                self._client.publish(f"{prefix}/{machine.name}/telemetry", payload, qos=1)
                sent += 1
            time.sleep(max(0.0, started + (sent / messages_per_s) - time.monotonic()))
        return sent * self._per_message

    def close(self) -> None:
        deadline = time.monotonic() + 30
        while self._client.want_write() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._client.disconnect()
        self._client.loop_stop()

    def _readings(self, machine: MachineDef) -> list[Reading]:
        """``per_message`` readings of one machine stamped now (unique per sensor)."""
        out = []
        keys = [s.key for s in machine.sensors]
        for i in range(self._per_message):
            key = keys[i % len(keys)]
            last = self._last_ts.get((machine.name, key), 0.0)
            ts = max(round(time.time(), 5), round(last + 1e-5, 5))
            self._last_ts[(machine.name, key)] = ts
            out.append(Reading(machine.name, key, ts, nominal_value(machine, key, self._rng)))
        return out
