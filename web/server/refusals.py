"""Refusals answer as refusals, never as a crash, each logged as one line without a traceback
and counted in ``pdm_web_refusals_total`` (by kind).

A Flask route answers a role refusal (``AccessDenied``) 403 and malformed input (``BadInput``)
400, an asset Dash does not serve 404. A Dash callback's refusal must reach the page, and
Dash's renderer drops any answer that is not 2xx without showing anything: so a refusal
raised inside a callback (``refused_callback``, the app's ``on_error``) answers 200 with no
output changed and the shell's alert (``web.views.shell.REFUSAL``) open with the message,
sent as Dash's side update (what ``dash.set_props`` sends). ``callback_checks.py`` answers
an input value that is not of its kind the same way (``shown_refusal``)."""

from __future__ import annotations

import json
import logging

from dash import set_props
from dash.exceptions import DependencyException, InvalidCallbackReturnValue
from flask import Flask, Response, jsonify, request
from prometheus_client import Counter

from web.server.auth import AccessDenied, identity
from web.server.input_kinds import BadInput
from web.views.shell import REFUSAL

__all__ = ["install_refusals", "refused_callback", "shown_refusal", "REFUSALS"]

log = logging.getLogger(__name__)
REFUSALS = Counter(
    "pdm_web_refusals_total",
    "Requests refused without a crash: forbidden (the role), bad_input (a value or a shape)",
    ["kind"],
)


def install_refusals(server: Flask) -> None:
    """Register the answers to refusals raised anywhere in a request."""
    server.register_error_handler(AccessDenied, _forbidden)
    server.register_error_handler(BadInput, _bad_input)
    # Dash raises this for a component-suite path it never registered ("..%2F" included)
    server.register_error_handler(DependencyException, _no_such_asset)
    # a callback's answer that does not fit the outputs the request listed: only a request
    # no page sends gets here (the browser lists what it shows)
    server.register_error_handler(InvalidCallbackReturnValue, _outputs_mismatch)


def refused_callback(exc: Exception) -> None:
    """Dash's ``on_error`` for every callback: a refusal is logged and counted like a
    route's, and shown on the page (no output changes); anything else rises as before."""
    if isinstance(exc, AccessDenied):
        _log_forbidden(exc)
        set_props(REFUSAL, _alert(str(exc)))
    elif isinstance(exc, BadInput):
        _log_bad_input(exc)
        set_props(REFUSAL, _alert(f"Not accepted: {exc}."))
    else:
        raise exc


def shown_refusal(message: str) -> Response:
    """A callback's answer that changes none of its outputs and opens the shell's alert
    with ``message``: how a refusal reaches the page."""
    body = {"multi": True, "response": {}, "sideUpdate": {REFUSAL: _alert(message)}}
    return Response(json.dumps(body), 200, mimetype="application/json")


def _alert(message: str) -> dict:
    return {"is_open": True, "children": message}


def _forbidden(exc: AccessDenied) -> tuple[Response, int]:
    _log_forbidden(exc)
    return jsonify({"error": str(exc)}), 403


def _log_forbidden(exc: AccessDenied) -> None:
    user = identity()
    REFUSALS.labels("forbidden").inc()
    log.info(
        "refused %s %s%s: %s (%s)",
        request.method,
        request.path,
        _callback(),
        exc,
        f"{user.username}, {user.role.value}" if user else "anonymous",
    )


def _bad_input(exc: BadInput) -> tuple[Response, int]:
    _log_bad_input(exc)
    return jsonify({"error": str(exc)}), 400


def _log_bad_input(exc: BadInput) -> None:
    REFUSALS.labels("bad_input").inc()
    log.warning("bad input %s %s%s: %s", request.method, request.path, _callback(), exc)


def _outputs_mismatch(exc: InvalidCallbackReturnValue) -> tuple[Response, int]:
    REFUSALS.labels("bad_input").inc()
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
