"""Sign-in failures are kept in the database: a web process started again (or a second one
on the same database) still refuses the address that used up its tries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from services import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]


def _web(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "app.py", "web", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_port(port, timeout=60)
    return process


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(30)


def _sign_in(base: str, password: str) -> int:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30).text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": token, "username": "viewer", "password": password}
    return http.post(f"{base}/login", data=form, allow_redirects=False, timeout=30).status_code


def test_failed_sign_ins_survive_a_restart_of_the_web_process(tmp_path: Path):
    env = os.environ | {
        "PDM_VAR_DIR": str(tmp_path / "var"),
        "PDM_DEMO_MACHINES": "0",
        "PDM_SECRET_KEY": "r" * 40,
        "PDM_VIEWER_PASSWORD": "viewer-pw-1",
        "PDM_LOGIN_FAILURES_PER_ACCOUNT": "3",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "web.log"
    first = _web(env, port, log)
    try:
        assert [_sign_in(base, f"wrong-{i}") for i in range(3)] == [401, 401, 401]
    finally:
        _stop(first)
    again = _web(env, port, log)
    try:
        assert _sign_in(base, "viewer-pw-1") == 429, log.read_text()[-2000:]
    finally:
        _stop(again)
