"""The worker's own metrics port: loopback unless told otherwise, and /metrics only with the
metrics token when one is set (as the web's /metrics)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from factories import make_settings
from services import free_port

from app import prepare, start_backend
from worker import serve_worker_metrics


def _get(url: str, token: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:  # noqa: S310
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _listening_on(port: int) -> set[str]:
    """The addresses a TCP port listens on, from the kernel's table (hex, e.g. 0100007F)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(address)
    return found


def test_the_worker_metrics_port_is_loopback_and_needs_the_token(tmp_path: Path, amqtt_port: int):
    port = free_port()
    settings = make_settings(
        tmp_path,
        embedded_mqtt_port=amqtt_port,
        worker_metrics_port=port,
        metrics_token="scrape-token",
        demo_machines=0,
        ml_autotrain=False,
    )
    db = prepare(settings)
    stops, _ = start_backend("worker", settings, db)
    try:
        assert _listening_on(port) == {"0100007F"}  # 127.0.0.1, not 0.0.0.0
        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/metrics")[0] == 403
        assert _get(f"{base}/metrics", "wrong-token")[0] == 403
        status, text = _get(f"{base}/metrics", "scrape-token")
        assert status == 200 and "pdm_job_duration_seconds" in text
        status, text = _get(f"{base}/readyz")  # health checks need no token
        assert status in (200, 503)
        assert json.loads(text)["storage"]["backend"] == "sqlite"  # which storage is in use
    finally:
        for stop in reversed(stops):
            stop()
        db.dispose()


def test_without_a_token_the_metrics_are_open_on_the_address_chosen():
    port = free_port()
    server = serve_worker_metrics(port, lambda: {"database": True}, host="0.0.0.0")  # noqa: S104
    try:
        assert _listening_on(port) == {"00000000"}
        assert _get(f"http://127.0.0.1:{port}/metrics")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/readyz") == (
            200,
            '{"ready": true, "checks": {"database": true}}',
        )
    finally:
        server.shutdown()
        server.server_close()
