"""Refusals answer as refusals, never as a crash: a role that may not do something gets 403
(from any callback or route that lets ``AccessDenied`` rise), each logged as one line
without a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request

from web.auth import AccessDenied, identity

__all__ = ["install_refusals"]

log = logging.getLogger(__name__)


def install_refusals(server: Flask) -> None:
    """Register the answers to refusals raised anywhere in a request."""
    server.register_error_handler(AccessDenied, _forbidden)


def _forbidden(exc: AccessDenied) -> tuple[Response, int]:
    user = identity()
    log.info(
        "refused %s %s%s: %s (%s)",
        request.method,
        request.path,
        _callback(),
        exc,
        f"{user.username}, {user.role.value}" if user else "anonymous",
    )
    return jsonify({"error": str(exc)}), 403


def _callback() -> str:
    """For a Dash callback, which one (its outputs), so the line says what was refused."""
    body = request.get_json(silent=True) if request.is_json else None
    output = body.get("output") if isinstance(body, dict) else None
    return f" [{output[:120]}]" if isinstance(output, str) else ""
