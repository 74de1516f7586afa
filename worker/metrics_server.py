"""/metrics, /healthz and /readyz for a worker that runs without the web app."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["serve_worker_metrics"]


def serve_worker_metrics(
    port: int,
    readiness: Callable[[], dict[str, bool]],
    *,
    host: str = "127.0.0.1",
    token: str = "",
    storage: Callable[[], dict[str, str]] | None = None,
) -> ThreadingHTTPServer:
    """A worker without a web app still exposes /metrics and /readyz: on loopback unless
    ``host`` says otherwise, and /metrics only to a bearer of ``token`` when one is set
    (the web's /metrics token); /healthz and /readyz stay open for health checks."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/metrics" and not _bearer(self.headers.get("Authorization"), token):
                self._send(403, b'{"error": "forbidden"}', "application/json")
            elif self.path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif self.path in ("/healthz", "/readyz"):
                checks = readiness() if self.path == "/readyz" else {}
                ok = all(checks.values())
                answer: dict[str, object] = {"ready": ok, "checks": checks}
                if self.path == "/readyz" and storage is not None:
                    answer["storage"] = storage()
                body = json.dumps(answer).encode()
                self._send(200 if ok else 503, body, "application/json")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


def _bearer(header: str | None, token: str) -> bool:
    """No token set: anyone who reaches the port; else ``Authorization: Bearer <token>``."""
    given = (header or "").removeprefix("Bearer ").strip()
    return not token or hmac.compare_digest(given.encode(), token.encode())
