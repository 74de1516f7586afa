"""How long a dead shared-subscription member's messages wait (``python -m bench.takeover
--dead-member``).

Three real workers on one MQTT 5 shared subscription (Mosquitto, PostgreSQL with commit
timestamps) store a steady stream of single-reading QoS 1 messages, each reading stamped
with its publish time. Mid-stream one worker is killed with kill -9 and started again,
under the same client id, ``restart_after_s`` later. Each stored reading's wait is its
commit time (``pg_xact_commit_timestamp(xmin)``) minus its publish time; readings never
stored are lost. One case per session expiry: 0 (the session ends with the connection)
and a persistent session (the product's default keeps it 7 days).
"""

from __future__ import annotations

import logging
import os
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from .readings import fleet
from .servers import PhaseDatabase, phase_database
from .worker_proc import WorkerProcess

__all__ = ["DeadMember", "measure_dead_member", "render_dead_member"]

log = logging.getLogger(__name__)
WORKERS = 3
RATE = 200  # messages (one reading each) per second
SLOW_S = 1.0  # a reading that waited longer than this was held by the dead member


@dataclass(frozen=True, slots=True)
class DeadMember:
    expiry_s: int
    restart_after_s: float
    published: int
    stored: int
    waited: int  # readings committed more than SLOW_S after their publish
    p50_s: float
    max_s: float
    killed_share: int  # readings the killed worker had counted before it died
    back_s: float  # from the kill until the restarted member was ready


def _start(db: PhaseDatabase, port: int, workdir: Path, name: str, expiry: int) -> WorkerProcess:
    worker = WorkerProcess(
        database_url=db.url,
        mqtt_port=port,
        var_dir=workdir / name,
        tuning={
            "PDM_WORKER_NAME": name,
            "PDM_MQTT_PROTOCOL": "5",
            "PDM_MQTT_SHARED_GROUP": "members",
            "PDM_MQTT_CLIENT_ID": f"pdm-{name}",  # the same after a restart
            "PDM_MQTT_SESSION_EXPIRY_S": str(expiry),
        },
    )
    worker.start()
    return worker


def _publish(port: int, seconds: float, at_s: dict[float, Callable[[], None]]) -> int:
    """Publish RATE single-reading messages a second for ``seconds``, round-robin over the
    machines; start each ``at_s`` callback in a thread once that many seconds have passed."""
    machines = fleet(3)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"pdm-bench-pub-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv5,
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    pending = sorted(at_s)
    start, sent = time.time(), 0
    try:
        while (elapsed := time.time() - start) < seconds:
            while pending and elapsed >= pending[0]:
                threading.Thread(target=at_s[pending.pop(0)], daemon=True).start()
            machine = machines[sent % len(machines)]
            ts = time.time()
            body = f'{{"sensor":"temperature","ts":{ts!r},"value":{sent % 50 + 20}}}'
            client.publish(f"pdm/{machine.name}/telemetry", body, qos=1).wait_for_publish(10)
            sent += 1
            time.sleep(max(0.0, start + sent / RATE - time.time()))
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


def _stored(db: PhaseDatabase) -> tuple[int, list[float]]:
    with psycopg.connect(db.dsn) as conn:
        waits = [
            float(w)
            for (w,) in conn.execute(
                "SELECT EXTRACT(EPOCH FROM pg_xact_commit_timestamp(xmin) - ts) FROM readings"
            )
        ]
    return len(waits), waits


def one_case(
    pg: object, port: int, workdir: Path, expiry: int, restart_after_s: float, seconds: float
) -> DeadMember:
    with phase_database(pg, fleet(3)) as db:  # type: ignore[arg-type]
        workers = {f"m{i}": _start(db, port, workdir, f"m{i}-{expiry}", expiry) for i in (1, 2, 3)}
        killed: dict[str, float] = {}

        def kill() -> None:
            victim = workers["m2"]
            killed["share"] = victim.ingested()
            killed["at"] = time.monotonic()
            os.kill(victim.pid, signal.SIGKILL)
            victim.stop()

        def restart() -> None:
            workers["m2"] = _start(db, port, workdir, f"m2-{expiry}", expiry)
            killed["back"] = time.monotonic() - killed["at"]

        kill_at = seconds / 3
        try:
            sent = _publish(port, seconds, {kill_at: kill, kill_at + restart_after_s: restart})
            # until everything arrived, or nothing more did for 15 s
            last, since = -1, time.monotonic()
            while time.monotonic() - since < 15:
                stored, _ = _stored(db)
                if stored >= sent:
                    break
                if stored != last:
                    last, since = stored, time.monotonic()
                time.sleep(1)
        finally:
            for worker in workers.values():
                worker.stop()
        stored, waits = _stored(db)
    slow = [w for w in waits if w > SLOW_S]
    return DeadMember(
        expiry_s=expiry,
        restart_after_s=restart_after_s,
        published=sent,
        stored=stored,
        waited=len(slow),
        p50_s=statistics.median(waits) if waits else 0.0,
        max_s=max(waits) if waits else 0.0,
        killed_share=int(killed.get("share", 0)),
        back_s=killed.get("back", float("nan")),
    )


def measure_dead_member(
    pg: object, port: int, workdir: Path, restart_after_s: float, seconds: float
) -> list[DeadMember]:
    return [one_case(pg, port, workdir, expiry, restart_after_s, seconds) for expiry in (0, 3600)]


def render_dead_member(rows: list[DeadMember]) -> str:
    lines = [
        "| session expiry | killed member restarted after | ready after | published | stored | lost"
        f" | waited > {SLOW_S:g} s | wait p50 | longest wait |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.expiry_s} s | {r.restart_after_s:g} s | {r.back_s:.1f} s | {r.published:,} |"
            f" {r.stored:,} |"
            f" {r.published - r.stored:,} | {r.waited:,} | {r.p50_s:.3f} s | {r.max_s:.2f} s |"
        )
    return "\n".join(lines)
