"""compose.yaml is valid, names only settings the code has, and demands its secrets."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from app import web_processes
from config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "PDM_SECRET_KEY": "s" * 40,
    "POSTGRES_PASSWORD": "pg",
    "MQTT_PASSWORD": "mq",
    "PDM_ADMIN_PASSWORD": "admin",
}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, (
        "docker-compose is needed to validate compose.yaml (apt-get install docker-compose)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [binary, "-f", str(ROOT / "compose.yaml"), "config"],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_compose_file_is_valid_with_its_secrets_set():
    result = _config(SECRETS)
    assert result.returncode == 0, result.stderr
    for service in ("timescaledb", "mosquitto", "web", "worker", "simulator"):
        assert re.search(rf"^  {service}:$", result.stdout, re.M), service
    assert result.stdout.count("healthcheck:") == 5


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(missing: str):
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = _config(env)
    assert result.returncode != 0 and missing in result.stderr


def test_every_pdm_variable_in_compose_is_a_setting():
    names = set(re.findall(r"\b(PDM_[A-Z_]+)\s*:", (ROOT / "compose.yaml").read_text()))
    fields = {f"PDM_{name.upper()}" for name in Settings.model_fields}
    assert names and names <= fields, names - fields


def _service(config: str, name: str) -> str:
    """One service's block of ``docker-compose config``'s normalised output."""
    found = re.search(rf"^  {name}:\n((?:    .*\n|      .*\n)+)", config, re.M)
    assert found, name
    return found.group(1)


def test_workers_scale_out_by_construction():
    """``docker-compose up --scale worker=3``: no replica has a fixed published port, name or
    host name, and its MQTT client id and worker name come from its own host name."""
    result = _config(SECRETS)
    assert result.returncode == 0, result.stderr
    worker = _service(result.stdout, "worker")
    for fixed in ("ports:", "container_name:", "hostname:"):
        assert fixed not in worker
    env = dict(re.findall(r"^      (PDM_[A-Z_]+): '?([^'\n]*)'?$", worker, re.M))
    assert "{host}" in env["PDM_MQTT_CLIENT_ID"] and "{host}" in env["PDM_WORKER_NAME"]
    assert env["PDM_MQTT_SHARED_GROUP"]  # the replicas share the stream
    settings = load_settings(
        mqtt_client_id=env["PDM_MQTT_CLIENT_ID"], worker_name=env["PDM_WORKER_NAME"]
    )
    host = socket.gethostname()
    assert settings.effective_mqtt_client_id == f"pdm-ingest-{host}"
    assert settings.worker_id == host


def test_every_worker_and_the_web_app_read_the_same_models_and_lab_results():
    """A model trained by one worker is scored by all and shown by the web app: the folders
    the code writes them to (under the image's PDM_VAR_DIR) are one shared volume each."""
    result = _config(SECRETS)
    var_dir = re.search(r"PDM_VAR_DIR=(\S+)", (ROOT / "Dockerfile").read_text())
    assert result.returncode == 0 and var_dir, result.stderr
    settings = load_settings(var_dir=var_dir.group(1))
    folders = {str(settings.effective_models_dir), str(settings.var_dir / "lab")}
    for service in ("worker", "web"):
        mounts = re.findall(r"^    - (\w+):(\S+?)(?::rw)?$", _service(result.stdout, service), re.M)
        assert {path for _volume, path in mounts} >= folders, service
    assert re.search(r"^volumes:\n(?:  .*\n)*  models: \{\}", result.stdout, re.M)


def test_the_broker_starts_with_the_one_size_limit(tmp_path: Path):
    """The broker's start command (run here with its paths pointed at a folder and the
    broker itself replaced by ``cat``; yaml comes with amqtt) writes the shipped
    configuration with, last, ``max_packet_size`` = ``PDM_MAX_PAYLOAD_BYTES`` + 64 KiB:
    Mosquitto keeps the last value given."""
    result = _config(SECRETS | {"PDM_MAX_PAYLOAD_BYTES": "100000"})
    assert result.returncode == 0, result.stderr
    command = yaml.safe_load(result.stdout)["services"]["mosquitto"]["command"]
    script = shlex.split(command.replace("$$", "$"))[2]  # sh -c "<script>"
    (tmp_path / "config").mkdir()
    (tmp_path / "data").mkdir()  # the broker's volume
    (tmp_path / "config" / "mosquitto.conf").write_text(
        (ROOT / "deploy/mosquitto.conf").read_text()
    )
    script = (
        script.replace("/mosquitto/", f"{tmp_path}/")
        .replace("mosquitto_passwd", "true")
        .replace("exec mosquitto -c", "exec cat")
    )
    run = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": os.environ["PATH"], "MQTT_PASSWORD": "mq", "PDM_MAX_PAYLOAD_BYTES": "100000"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    limits = [line for line in run.stdout.splitlines() if line.startswith("max_packet_size")]
    assert limits[-1] == f"max_packet_size {100000 + 65536}"
    assert "log_dest topic" in run.stdout.splitlines()


def test_the_web_service_runs_several_processes_on_postgresql():
    """compose's web service: ``app.py web`` on PostgreSQL with PDM_WEB_PROCESSES, so the
    app's own rule (app.py ``web_processes``) gives it that many gunicorn workers."""
    result = _config(SECRETS)
    assert result.returncode == 0, result.stderr
    web = yaml.safe_load(result.stdout)["services"]["web"]
    env = web["environment"]
    assert web["command"][:3] == ["python", "app.py", "web"]
    settings = load_settings(
        web_processes=env["PDM_WEB_PROCESSES"], database_url=env["PDM_DATABASE_URL"]
    )
    assert web_processes(settings, "web") == 3
