"""Security headers on every response, with a Content-Security-Policy Dash works under.

Dash's own inline script (the renderer start) is allowed by its hash; every other script
must come from this server, and no script may evaluate a string ('unsafe-eval' is not
given): the bundles served (Plotly.js 4.1.1 from the plotly package, Dash's renderer, dcc,
dash-bootstrap-components, dash-ag-grid) call ``Function(...)`` only in fallbacks a modern
browser never takes (``globalThis`` exists, ``Function.prototype.bind`` exists), and the
grids' string rules (``cellClassRules``, ``getRowId``) are parsed by dash-ag-grid, not
evaluated (tests/e2e/test_csp_browser.py). Dash and Plotly set inline styles, so styles need
'unsafe-inline'. No CDN anywhere: everything is served from this origin."""

from __future__ import annotations

from urllib.parse import urlsplit

import dash
from flask import Flask, Response, request

__all__ = ["content_security_policy", "install_same_origin_check", "install_security_headers"]

_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def content_security_policy(script_hashes: list[str]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install_security_headers(server: Flask, app: dash.Dash, *, https: bool) -> None:
    """Set the headers on every response. The policy is computed per response (hashing a
    few short strings): Dash adds inline scripts, such as the pages' clientside title
    callback, lazily while it serves its first pages, and the hashes must cover them all."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    @server.after_request
    def _secure(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy", content_security_policy(app.csp_hashes())
        )
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def install_same_origin_check(server: Flask) -> None:
    """Refuse state-changing requests sent from another site's page (cross-site request
    forgery): a browser names the page's origin in ``Origin`` (or ``Referer``); it must be
    this server. Requests with neither header do not come from a browser page."""

    @server.before_request
    def _same_origin() -> Response | None:
        if request.method not in _STATE_CHANGING:
            return None
        if request.path.startswith("/api/v1/"):
            return None  # a bearer token, which no browser sends by itself: nothing to forge
        source = request.headers.get("Origin") or request.headers.get("Referer")
        if not source:
            return None
        if urlsplit(source).netloc != request.host:
            return Response(
                '{"error": "cross-site request refused"}', 403, mimetype="application/json"
            )
        return None
