"""The app factory: a Flask server with login, ops routes and the Dash pages on top."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable
from pathlib import Path

import dash
import flask_bootstrap
from dash import html
from flask import Blueprint
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings
from data.db import Database
from web.server.api import IngestPort, api_server, install_api
from web.server.attachments import attachments_blueprint, install_upload_limit
from web.server.auth import identity, init_auth
from web.server.backtest_report import backtest_blueprint
from web.server.callback_checks import install_callback_checks
from web.server.downloads import downloads_blueprint
from web.server.first_paint import page_container
from web.server.lab_export import lab_export_blueprint
from web.server.lean_validation import install_lean_validation
from web.server.ops import install_request_ids, ops_blueprint
from web.server.page_access import install_page_access
from web.server.refusals import install_refusals, refused_callback
from web.server.security import install_same_origin_check, install_security_headers
from web.views.shell import frame

__all__ = ["create_app"]

_CSS = "/vendor/bootstrap5/css/bootstrap.min.css"
_ASSETS = Path(__file__).resolve().parent.parent / "assets"  # web/assets: the pages' CSS
_PAGES = (
    "pages.fleet",
    "pages.machine",
    "pages.alarms",
    "pages.tickets",
    "pages.reports",
    "pages.audit",
    "pages.ticket",
    "pages.sops",
    "pages.admin_settings",
    "pages.admin_jobs",
    "pages.admin_users",
    "pages.admin_machines",
    "pages.admin_notifications",
    "pages.admin_tokens",
    "pages.parts",
    "pages.plans",
    "pages.lab",
    "pages.account",
    "pages.model_health",
)
_CALLBACKS = (
    "callbacks.shell",
    "callbacks.fleet",
    "callbacks.machine",
    "callbacks.alarms",
    "callbacks.tickets",
    "callbacks.reports",
    "callbacks.audit",
    "callbacks.ticket",
    "callbacks.ticket_assign",
    "callbacks.ticket_attachments",
    "callbacks.sops",
    "callbacks.admin",
    "callbacks.admin_users",
    "callbacks.admin_machines",
    "callbacks.admin_notifications",
    "callbacks.admin_tokens",
    "callbacks.parts",
    "callbacks.ticket_parts",
    "callbacks.plans",
    "callbacks.lab_explore",
    "callbacks.lab_tune",
    "callbacks.lab_models",
    "callbacks.account",
    "callbacks.model_health",
)


def create_app(
    settings: Settings,
    db: Database,
    readiness: Callable[[], dict[str, bool]],
    ingest: IngestPort | None = None,
) -> dash.Dash:
    """Build the whole web app; ``app.server`` is the Flask WSGI object. ``ingest`` stores
    readings posted to the API (the composition root hands in ingest's writer)."""
    server = api_server(__name__)  # a Flask that also describes /api/v1 (OpenAPI 3.1)
    server.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    server.register_blueprint(
        Blueprint(
            "vendor",
            __name__,
            static_folder=str(Path(flask_bootstrap.__file__).parent / "static"),
            static_url_path="/vendor",
        )
    )
    if settings.proxy_hops:  # the client's address from X-Forwarded-For, as many hops back
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    install_request_ids(server)  # first: the guard's own log lines carry the id
    install_same_origin_check(server)
    init_auth(server, db, _CSS, settings)
    install_refusals(server)  # a role refusal is a 403, never a 500 with a traceback
    server.register_blueprint(ops_blueprint(readiness, db.storage, settings.metrics_token))
    server.register_blueprint(downloads_blueprint(db))
    server.register_blueprint(lab_export_blueprint(db, settings))
    server.register_blueprint(backtest_blueprint(db))
    server.register_blueprint(attachments_blueprint(db, settings))
    install_upload_limit(server, settings)  # after the guard: it needs the user
    install_api(server, db, settings, ingest)  # /api/v1: tokens, not sessions

    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(_ASSETS),
        external_stylesheets=[_CSS],
        title="Predictive maintenance",
        update_title=None,
        on_error=refused_callback,  # a refusal inside any callback: shown on the page
    )
    for module in _PAGES:  # each calls dash.register_page on import
        importlib.import_module(module)
    app.layout = _layout
    install_page_access(server)  # a page outside the role: the no-access page, 403
    for module in _CALLBACKS:
        importlib.import_module(module).register(app, db, settings)
    install_callback_checks(app)  # every callback request fits its callback, or 400
    install_security_headers(server, app, https=settings.env == "production")
    install_lean_validation(server, app)  # ~110 KB less in every page's HTML
    # Everything built so far (Dash's registry, layouts, imported libraries) lives as long
    # as the process: moved out of the garbage collector's reach, full collections stop
    # scanning it. Without this, one request in ten paid ~100 ms of collection
    # (fleet overview p95 227 ms -> 109 ms, docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    return app


def _layout() -> html.Div:
    """The frame for the signed-in user's role, built at every page load, with the page
    the browser opened already in it (web/server/first_paint.py)."""
    user = identity()
    if user is None:
        return frame(None)
    return frame(user.role, user.username, page_container())
