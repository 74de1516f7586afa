"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import os
import re
import time
import uuid
from collections.abc import Callable

from flask import Blueprint, Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from logs import REQUEST_ID
from maintenance.people.permissions import Action, allowed
from web.server.auth import identity

__all__ = ["install_request_ids", "ops_blueprint"]

Readiness = Callable[[], dict[str, bool]]
Storage = Callable[[], dict[str, str]]


def ops_blueprint(readiness: Readiness, storage: Storage, metrics_token: str) -> Blueprint:
    """``/healthz`` and ``/readyz`` are open (``/readyz`` also says which storage is in use:
    ``data.db.Database.storage``); ``/metrics`` needs a token or an admin/manager."""
    bp = Blueprint("ops", __name__)

    @bp.route("/healthz")
    def healthz() -> object:
        return jsonify({"status": "ok"})

    @bp.route("/readyz")
    def readyz() -> object:
        checks = readiness()
        ready = all(checks.values())
        body = {"ready": ready, "checks": checks, "storage": storage()}
        return jsonify(body), (200 if ready else 503)

    @bp.route("/metrics")
    def metrics() -> object:
        if not _may_scrape(metrics_token):
            return Response('{"error": "forbidden"}', 403, mimetype="application/json")
        return Response(_exposition(), mimetype=CONTENT_TYPE_LATEST)

    return bp


def _exposition() -> bytes:
    """This process's metrics; with several web processes (web/server/web_processes.py),
    every process's, added up from the folder they write them to."""
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not shared:
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=shared)
    return generate_latest(registry)


def _may_scrape(token: str) -> bool:
    user = identity()
    if user is not None and allowed(user.role, Action.METRICS_READ):
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given, token)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HTTP_SECONDS = Histogram(
    "pdm_http_request_seconds",
    "Web requests by route (Dash callbacks as one route) and status class",
    ["method", "route", "status"],
)


def _route() -> str:
    """A low-cardinality name: the URL rule, never the raw path (ids would explode it)."""
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    return rule if not rule.startswith("/<path:") else "dash-page"


def install_request_ids(server: Flask) -> None:
    """Every request gets an id (the caller's ``X-Request-ID`` if sane, else a new one):
    in each log line it causes and in the response's ``X-Request-ID`` header."""

    @server.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_token = REQUEST_ID.set(g.request_id)

    @server.after_request
    def _finish(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        if "request_started" in g:
            HTTP_SECONDS.labels(
                request.method, _route(), str(response.status_code)[0] + "xx"
            ).observe(time.perf_counter() - g.request_started)
        return response

    @server.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        if "request_token" in g:
            REQUEST_ID.reset(g.request_token)
