"""Security headers on every response, with a Content-Security-Policy Dash works under.

Dash's own inline script (the renderer start) is allowed by its hash; every other script
must come from this server. Plotly.js compiles some functions at run time, so scripts
need 'unsafe-eval'; Dash and Plotly set inline styles, so styles need 'unsafe-inline'.
No CDN anywhere: everything is served from this origin."""

from __future__ import annotations

import dash
from flask import Flask, Response

__all__ = ["install_security_headers", "content_security_policy"]


def content_security_policy(script_hashes: list[str]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'", *script_hashes],
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
