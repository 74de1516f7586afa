"""The real processes, as compose runs them: ``python -m simulator`` publishing to Mosquitto,
``python app.py worker`` storing into PostgreSQL, ``python app.py web`` serving; each stops
cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_processes import Proc
from app_processes import http_get as _get
from factories import readings_count, wait_until
from services import free_port, wait_port

from data.db import Database


@pytest.fixture
def env(postgres, mosquitto, tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {
        "PDM_DATABASE_URL": postgres.new_database(),
        "PDM_MQTT_URL": mosquitto.url,
        "PDM_VAR_DIR": str(tmp_path / "var"),
        "PDM_DEMO_MACHINES": "3",
        "PDM_MQTT_CLIENT_ID": f"pdm-proc-{os.getpid()}-{free_port()}",
        "PDM_SECRET_KEY": "p" * 40,
        "PDM_DRAIN_INTERVAL_S": "0.2",
        "PDM_WORKER_METRICS_PORT": str(free_port()),
        "PDM_ADMIN_PASSWORD": "admin-pw-9",
        "PDM_ML_AUTOTRAIN": "false",
    }
    yield os.environ | values


def _simulator(
    env: dict[str, str], log: Path, *, speed: int, interval: float, extra: tuple[str, ...] = ()
) -> Proc:
    """``python -m simulator`` publishing three machines to the test Mosquitto (MQTT 5)."""
    args = [
        "-m",
        "simulator",
        "--mqtt-url",
        env["PDM_MQTT_URL"],
        "--mqtt-v5",
        "--machines",
        "3",
        "--speed",
        str(speed),
        "--interval",
        str(interval),
        *extra,
    ]
    return Proc(args, env, log)


def test_worker_and_simulator_processes_fill_postgres_and_stop_cleanly(env, tmp_path):
    worker = Proc(["app.py", "worker"], env, tmp_path / "worker.log")
    ready = f"http://127.0.0.1:{env['PDM_WORKER_METRICS_PORT']}/readyz"
    assert wait_until(lambda: _get(ready)[0] == 200, timeout=60), worker.log.read_text()
    assert json.loads(_get(ready)[1])["checks"] == {
        "database": True,
        "broker": True,
        "scheduler": True,
    }

    truth = tmp_path / "truth.json"
    sim = _simulator(
        env,
        tmp_path / "sim.log",
        speed=600,
        interval=0.2,
        extra=("--first-fault-after", "1", "--truth", str(truth)),
    )
    db = Database(env["PDM_DATABASE_URL"])
    try:
        assert wait_until(lambda: readings_count(db) >= 90, timeout=60), sim.log.read_text()
        metrics = _get(ready.replace("readyz", "metrics"))[1].decode()
        assert "pdm_readings_ingested_total" in metrics
        assert sim.terminate() == 0
        episodes = json.loads(truth.read_text())
        assert episodes and episodes[0]["machine"] == "motor-01"
        assert worker.terminate() == 0
        assert "Traceback" not in worker.log.read_text()
    finally:
        db.dispose()


def test_web_process_serves_login_health_and_readiness(env, tmp_path):
    port = free_port()
    web = Proc(["app.py", "web", "--port", str(port)], env, tmp_path / "web.log")
    try:
        wait_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/healthz")[0] == 200
        status, body = _get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["checks"] == {"database": True, "broker": True}
        assert json.loads(body)["storage"]["backend"] == "postgresql"
        status, page = _get(f"{base}/login")
        assert status == 200 and b"Sign in" in page
        assert _get(f"{base}/_dash-layout")[0] == 401
    finally:
        assert web.terminate() == 0


@pytest.mark.timeout(600)  # its own waits add up to 450 s (the suite's limit is 300 s)
def test_first_start_of_a_demo_worker_trains_models_and_scores_the_fleet(env, tmp_path):
    env = env | {
        "PDM_ML_AUTOTRAIN": "true",
        "PDM_ML_TIME_SCALE": "240",
        "PDM_SCORE_INTERVAL_S": "1",
    }
    worker = Proc(["app.py", "worker"], env, tmp_path / "worker.log")
    sim = _simulator(env, tmp_path / "sim.log", speed=240, interval=0.25)
    db = Database(env["PDM_DATABASE_URL"])
    try:
        # a generous wait, not a speed target (bench.scoring times the training): ~40 s on
        # a quiet 2-core machine, over 2 min when other test processes share it
        assert wait_until(
            lambda: _active_models(db) == {"anomaly": 1, "failure": 1}, timeout=360
        ), worker.log.read_text()[-3000:]
        assert wait_until(lambda: _predicted_machines(db) == 3, timeout=90), worker.log.read_text()[
            -3000:
        ]
        assert "training:" in worker.log.read_text()  # the progress bar was shown
    finally:
        sim.terminate()
        assert worker.terminate() == 0
        db.dispose()


def _active_models(db: Database) -> dict[str, int]:
    from sqlalchemy.exc import ProgrammingError

    from ml.registry import active_versions

    try:
        with db.session() as s:
            return active_versions(session=s)
    except ProgrammingError:  # the worker has not created the schema yet
        return {}


def _predicted_machines(db: Database) -> int:
    from sqlalchemy import distinct, func, select

    from data.models import Prediction

    with db.session() as s:
        return int(s.scalar(select(func.count(distinct(Prediction.machine_id)))) or 0)
