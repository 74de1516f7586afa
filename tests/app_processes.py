"""The app's real processes for tests (``python app.py worker``, ``web``, ``-m simulator``)
and a plain HTTP GET that never raises, for their health and metrics endpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "Proc", "app_env", "http_get"]


def app_env(database_url: str, mqtt_url: str, **settings: str) -> dict[str, str]:
    """The environment of an app process on the test servers: this one's, the database and
    broker, a production-length secret, a known admin password, no demo training; then
    ``settings`` (``PDM_…`` names) over them."""
    return (
        os.environ
        | {
            "PDM_DATABASE_URL": database_url,
            "PDM_MQTT_URL": mqtt_url,
            "PDM_SECRET_KEY": "p" * 40,
            "PDM_ADMIN_PASSWORD": "admin-pw-9",
            "PDM_ML_AUTOTRAIN": "false",
        }
        | settings
    )


def http_get(url: str) -> tuple[int, bytes]:
    """(status, body); (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError:
        return 0, b""


class Proc:
    """``python <args>`` from the repository root, its output in ``log``."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.popen = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def terminate(self, timeout: float = 30) -> int:
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            raise AssertionError(f"no stop on SIGTERM: {self.log.read_text()[-2000:]}") from None

    def kill(self) -> None:
        """kill -9: no clean stop, leases and claims left to expire."""
        self.popen.kill()
        self.popen.wait(10)
