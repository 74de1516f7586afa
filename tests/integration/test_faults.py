"""Crash and outage tests against real Mosquitto and PostgreSQL: a reading the broker
acknowledged to its publisher ends up stored exactly once, whatever happens to the worker,
the broker or the database."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from factories import RecordingPublisher, make_settings, stored_readings, wait_until
from services import MosquittoServer, PostgresServer, free_port

from config import Settings
from data.db import Database, upgrade_schema
from maintenance.ops.demo_seed import seed_demo

ROOT = Path(__file__).resolve().parents[2]


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    values = {
        "PDM_DATABASE_URL": settings.effective_database_url,
        "PDM_MQTT_URL": settings.mqtt_url,
        "PDM_MQTT_CLIENT_ID": settings.mqtt_client_id,
        "PDM_VAR_DIR": str(settings.var_dir),
        "PDM_SECRET_KEY": "f" * 40,
        "PDM_DRAIN_INTERVAL_S": "0.1",
        "PDM_DEMO_MACHINES": "3",
        "PDM_MQTT_SESSION_EXPIRY_S": "3600",
        "PDM_MQTT_RECEIVE_MAXIMUM": "500",
        "PDM_ML_AUTOTRAIN": "false",
        "PDM_WORKER_METRICS_PORT": str(free_port()),
    }
    return os.environ | values | extra


_SPAWNED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_leftover_processes():
    yield
    while _SPAWNED:
        proc = _SPAWNED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    _SPAWNED.append(proc)
    return proc


def _start_ready(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a worker and wait until it is connected and subscribed (its session exists)."""
    proc = _spawn(args, env, log)
    port = int(env["PDM_WORKER_METRICS_PORT"])
    assert wait_until(lambda: _readyz(port)[0] == 200, timeout=60), log.read_text()[-3000:]
    return proc


def _setup(tmp_path: Path, pg_url: str, mqtt_url: str) -> tuple[Settings, Database]:
    settings = make_settings(tmp_path, database_url=pg_url, mqtt_url=mqtt_url)
    db = Database(pg_url)
    upgrade_schema(db.engine)
    seed_demo(settings, db)
    return settings, db


def _account(publisher: RecordingPublisher, db: Database) -> dict[str, int]:
    """lost: acked but not stored; duplicates: stored twice; unknown: stored, never sent."""
    stored = stored_readings(db)
    counts = Counter(stored)
    acked = publisher.acked_readings()
    sent = {r for i in range(publisher.total) for r in publisher.readings_of(i)}
    return {
        "acked": len(acked),
        "unrouted": len(publisher.unrouted),
        "stored": len(stored),
        "lost": len(acked - set(stored)),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "unknown": len(set(stored) - sent),
    }


def _batches(log: Path) -> list[dict[str, int]]:
    """The committed batches the fault workers logged."""
    return [b for b in _log_lines(log) if "killed" not in b]


def _kills(log: Path) -> list[str]:
    """The points at which the fault workers killed themselves, in order."""
    return [b["killed"] for b in _log_lines(log) if "killed" in b]


def _log_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _wait_all_stored(publisher: RecordingPublisher, db: Database, timeout: float = 120) -> None:
    def complete() -> bool:
        return publisher.done() and _account(publisher, db)["lost"] == 0

    assert wait_until(complete, timeout=timeout, interval=0.5), _account(publisher, db)


def test_sigkill_at_every_point_loses_nothing_and_stores_nothing_twice(
    postgres, mosquitto, tmp_path
):
    settings, db = _setup(tmp_path, postgres.new_database(), mosquitto.url)
    batch_log = tmp_path / "batches.jsonl"
    harness = ["-m", "tests.harness.fault_worker"]
    # the worker's persistent session must exist before the stream starts: MQTT keeps
    # messages only for subscriptions that exist when they are published
    first = _start_ready(harness, _env(settings, PDM_TEST_LOG=str(batch_log)), tmp_path / "w.log")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    # the stream runs until the last kill: a worker told to die at its Nth batch only gets
    # there while messages keep coming (a fixed-length stream could end first on a slow machine)
    publisher = RecordingPublisher(settings, messages=60_000, rate=400).start()
    kills = [
        "mid_batch",
        "after_commit",
        "before_commit",
        "random",
        "after_commit",
        "while_preparing",
        "mid_batch",
        "before_commit",
    ]
    harness = ["-m", "tests.harness.fault_worker"]
    try:
        for point in kills:
            env = _env(
                settings,
                PDM_TEST_LOG=str(batch_log),
                PDM_TEST_KILL_POINT="none" if point == "random" else point,
                PDM_TEST_KILL_BATCH=str(random.randint(2, 6)),
            )
            proc = _spawn(harness, env, tmp_path / "worker.log")
            if point == "random":
                time.sleep(random.uniform(1.0, 2.0))
                proc.send_signal(signal.SIGKILL)
            assert proc.wait(180) == -signal.SIGKILL, (
                point,
                env["PDM_TEST_KILL_BATCH"],
                (tmp_path / "worker.log").read_text()[-3000:],
            )
        publisher.stop_stream()
        final = _spawn(
            harness, _env(settings, PDM_TEST_LOG=str(batch_log)), tmp_path / "worker.log"
        )
        _wait_all_stored(publisher, db)
        final.send_signal(signal.SIGTERM)
        assert final.wait(30) == 0
    finally:
        publisher.close()
    result = _account(publisher, db)
    redeliveries = sum(b["duplicates"] for b in _batches(batch_log))
    print(f"\nSIGKILL x{len(kills)}: {result}, redeliveries suppressed: {redeliveries}")
    assert _kills(batch_log) == [p for p in kills if p != "random"]  # each where it was told
    assert publisher.total >= 3000  # the kills happened under a real stream
    assert (result["acked"], result["unrouted"]) == (3 * publisher.total, 0)
    assert (result["lost"], result["duplicates"], result["unknown"]) == (0, 0, 0)
    assert redeliveries > 0, "no redelivery happened: the test did not exercise the crash path"


def test_sigterm_drains_commits_and_acks_before_exit(postgres, mosquitto, tmp_path):
    settings, db = _setup(tmp_path, postgres.new_database(), mosquitto.url)
    env = _env(settings)
    metrics_port = int(env["PDM_WORKER_METRICS_PORT"])
    worker = _start_ready(["app.py", "worker"], env, tmp_path / "worker.log")
    publisher = RecordingPublisher(settings, messages=4000, rate=400).start()
    try:
        time.sleep(4)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        stopped_at = _account(publisher, db)
        worker = _start_ready(["app.py", "worker"], env, tmp_path / "worker.log")
        _wait_all_stored(publisher, db)
        duplicates = _metric(metrics_port, "pdm_readings_duplicate_total")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        publisher.close()
    result = _account(publisher, db)
    print(
        f"\nSIGTERM: stored {stopped_at['stored']} before the stop; {result}; "
        f"redelivered readings after restart: {duplicates:.0f}"
    )
    assert stopped_at["stored"] > 0 and result["unrouted"] == 0
    assert (result["lost"], result["duplicates"]) == (0, 0)
    assert duplicates <= 0.01 * result["acked"]  # near zero: only what arrived mid-shutdown


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:  # noqa: S310
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def _readyz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as r:  # noqa: S310
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    except OSError:
        return 0, {}


def test_a_database_outage_is_logged_once_per_job_not_every_run(mosquitto, tmp_path):
    """20 s without PostgreSQL while messages arrive: each failing job says so once with its
    traceback, then (a line a minute while it lasts) once when it recovers."""
    pg = PostgresServer().start()
    settings, db = _setup(tmp_path, pg.new_database(), mosquitto.url)
    env = _env(settings, PDM_LOG_FORMAT="json")
    metrics_port = int(env["PDM_WORKER_METRICS_PORT"])
    log = tmp_path / "worker.log"
    worker = _start_ready(["app.py", "worker"], env, log)
    publisher = RecordingPublisher(settings, messages=3000, rate=100).start()  # drain fails too
    try:
        time.sleep(3)
        before = len(log.read_text().splitlines())
        pg.ctl("stop", "-m", "immediate")
        time.sleep(20)
        pg.ctl("start")
        assert wait_until(lambda: _readyz(metrics_port)[0] == 200, timeout=60)
        time.sleep(6)  # every job has run again since, and said it recovered
        lines = log.read_text().splitlines()[before:]
    finally:
        publisher.close()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        db.dispose()
        pg.stop()
    records = [json.loads(line) for line in lines]
    failed = Counter(r["msg"].split(" failed: ")[0] for r in records if " failed: " in r["msg"])
    recovered = {r["msg"].split(" recovered after ")[0] for r in records if "recovered" in r["msg"]}
    print(f"\n20 s database outage: {len(records)} log records, failing: {dict(failed)}")
    assert "job rules" in failed and "committing ingested messages" in failed
    assert set(failed.values()) == {1}  # each said once…
    # …and its recovery once (jobs that run once a minute or less say it at their next run)
    assert {"job rules", "job requests", "job lab", "committing ingested messages"} <= recovered
    assert recovered <= set(failed)
    assert sum("exc" in r for r in records) <= len(failed)  # a traceback at most once each
    assert len(records) < 50


def test_graceful_broker_restart_mid_stream_loses_nothing(postgres, tmp_path):
    broker = MosquittoServer(persistence=True).start()
    settings, db = _setup(tmp_path, postgres.new_database(), broker.url)
    env = _env(settings)
    metrics_port = int(env["PDM_WORKER_METRICS_PORT"])
    worker = _start_ready(["app.py", "worker"], env, tmp_path / "worker.log")
    publisher = RecordingPublisher(settings, messages=4000, rate=400).start()
    try:
        time.sleep(3)
        broker.stop()  # SIGTERM: Mosquitto saves sessions and queued messages
        assert wait_until(
            lambda: _readyz(metrics_port)[1].get("checks", {}).get("broker") is False, timeout=20
        )
        time.sleep(2)
        broker.start()
        assert wait_until(lambda: _readyz(metrics_port)[0] == 200, timeout=60)
        _wait_all_stored(publisher, db)
    finally:
        publisher.close()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        broker.cleanup()
    result = _account(publisher, db)
    print(f"\nbroker restart: {result}")
    assert (result["acked"], result["unrouted"]) == (3 * 4000, 0)
    assert (result["lost"], result["duplicates"]) == (0, 0)


def test_database_outage_is_waited_out_without_loss(mosquitto, tmp_path):
    pg = PostgresServer().start()
    settings, db = _setup(tmp_path, pg.new_database(), mosquitto.url)
    env = _env(settings)
    metrics_port = int(env["PDM_WORKER_METRICS_PORT"])
    worker = _start_ready(["app.py", "worker"], env, tmp_path / "worker.log")
    publisher = RecordingPublisher(settings, messages=4000, rate=400).start()
    try:
        time.sleep(2)
        pg.ctl("stop", "-m", "immediate")
        assert wait_until(
            lambda: _readyz(metrics_port)[1].get("checks", {}).get("database") is False, timeout=20
        )
        time.sleep(4)
        assert worker.poll() is None, "worker died during the outage"
        pg.ctl("start")
        assert wait_until(lambda: _readyz(metrics_port)[0] == 200, timeout=60)
        _wait_all_stored(publisher, db)
    finally:
        publisher.close()
        worker.send_signal(signal.SIGTERM)
        exit_code = worker.wait(30)
        db.dispose()
    result = _account(publisher, Database(settings.effective_database_url))
    pg.stop()
    print(f"\ndatabase outage: {result}")
    assert exit_code == 0
    assert (result["acked"], result["unrouted"]) == (3 * 4000, 0)
    assert (result["lost"], result["duplicates"]) == (0, 0)
