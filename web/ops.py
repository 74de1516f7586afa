"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from data.models import Role
from web.auth import identity

__all__ = ["ops_blueprint"]

Readiness = Callable[[], dict[str, bool]]


def ops_blueprint(readiness: Readiness, metrics_token: str) -> Blueprint:
    """``/healthz`` and ``/readyz`` are open; ``/metrics`` needs a token or an admin/manager."""
    bp = Blueprint("ops", __name__)

    @bp.route("/healthz")
    def healthz() -> object:
        return jsonify({"status": "ok"})

    @bp.route("/readyz")
    def readyz() -> object:
        checks = readiness()
        ready = all(checks.values())
        return jsonify({"ready": ready, "checks": checks}), (200 if ready else 503)

    @bp.route("/metrics")
    def metrics() -> object:
        if not _may_scrape(metrics_token):
            return Response('{"error": "forbidden"}', 403, mimetype="application/json")
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return bp


def _may_scrape(token: str) -> bool:
    user = identity()
    if user is not None and user.role in (Role.ADMIN, Role.MANAGER):
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given, token)
