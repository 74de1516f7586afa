"""compose.yaml is valid, names only settings the code has, and demands its secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config import Settings

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
