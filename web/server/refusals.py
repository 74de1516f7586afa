"""Refusals answer as refusals, never as a crash: a role that may not do something gets 403
(from any callback or route that lets ``AccessDenied`` rise), malformed input 400
(``BadInput``), an asset Dash does not serve 404; each logged as one line without a
traceback."""

from __future__ import annotations

import logging

from dash.exceptions import DependencyException, InvalidCallbackReturnValue
from flask import Flask, Response, jsonify, request

from web.server.auth import AccessDenied, identity
from web.server.input_kinds import BadInput

__all__ = ["install_refusals"]

log = logging.getLogger(__name__)


def install_refusals(server: Flask) -> None:
    """Register the answers to refusals raised anywhere in a request."""
    server.register_error_handler(AccessDenied, _forbidden)
    server.register_error_handler(BadInput, _bad_input)
    # Dash raises this for a component-suite path it never registered ("..%2F" included)
    server.register_error_handler(DependencyException, _no_such_asset)
    # a callback's answer that does not fit the outputs the request listed: only a request
    # no page sends gets here (the browser lists what it shows)
    server.register_error_handler(InvalidCallbackReturnValue, _outputs_mismatch)


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


def _bad_input(exc: BadInput) -> tuple[Response, int]:
    log.warning("bad input %s %s%s: %s", request.method, request.path, _callback(), exc)
    return jsonify({"error": str(exc)}), 400


def _outputs_mismatch(exc: InvalidCallbackReturnValue) -> tuple[Response, int]:
    log.warning("outputs do not match %s: %s", _callback(), str(exc).splitlines()[0][:200])
    return jsonify({"error": "the outputs do not match the page"}), 400


def _no_such_asset(_exc: DependencyException) -> tuple[Response, int]:
    log.info("no such asset: %s", request.path[:200])
    return jsonify({"error": "not found"}), 404


def _callback() -> str:
    """For a Dash callback, which one (its outputs), so the line says what was refused."""
    body = request.get_json(silent=True) if request.is_json else None
    output = body.get("output") if isinstance(body, dict) else None
    return f" [{output[:120]}]" if isinstance(output, str) else ""
