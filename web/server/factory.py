"""The app factory: a Flask server with login, ops routes and the Dash pages on top."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import flask_bootstrap
from dash import dcc, html
from flask import Blueprint, Flask

from config import Settings
from data.db import Database
from maintenance.people.permissions import allowed
from web.server.attachments import attachments_blueprint, install_upload_limit
from web.server.auth import identity, init_auth
from web.server.backtest_report import backtest_blueprint
from web.server.callback_checks import install_callback_checks
from web.server.downloads import downloads_blueprint
from web.server.lab_export import lab_export_blueprint
from web.server.ops import install_request_ids, ops_blueprint
from web.server.refusals import install_refusals
from web.server.security import install_same_origin_check, install_security_headers
from web.views.shell import LOW_STOCK, NAV_USER, RED_BANNER, RED_TICK, SIGN_OUT, URL

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
    "pages.parts",
    "pages.plans",
    "pages.lab",
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
    "callbacks.parts",
    "callbacks.ticket_parts",
    "callbacks.plans",
    "callbacks.lab_explore",
    "callbacks.lab_tune",
    "callbacks.lab_models",
)


def create_app(
    settings: Settings, db: Database, readiness: Callable[[], dict[str, bool]]
) -> dash.Dash:
    """Build the whole web app; ``app.server`` is the Flask WSGI object."""
    server = Flask(__name__)
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
    install_request_ids(server)  # first: the guard's own log lines carry the id
    install_same_origin_check(server)
    init_auth(server, db, _CSS, settings)
    install_refusals(server)  # a role refusal is a 403, never a 500 with a traceback
    server.register_blueprint(ops_blueprint(readiness, settings.metrics_token))
    server.register_blueprint(downloads_blueprint(db))
    server.register_blueprint(lab_export_blueprint(db, settings))
    server.register_blueprint(backtest_blueprint(db))
    server.register_blueprint(attachments_blueprint(db, settings))
    install_upload_limit(server, settings)  # after the guard: it needs the user

    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(_ASSETS),
        external_stylesheets=[_CSS],
        title="Predictive maintenance",
        update_title=None,
    )
    for module in _PAGES:  # each calls dash.register_page on import
        importlib.import_module(module)
    app.layout = _shell
    for module in _CALLBACKS:
        importlib.import_module(module).register(app, db, settings)
    install_callback_checks(app)  # every callback request fits its callback, or 400
    install_security_headers(server, app, https=settings.env == "production")
    # Everything built so far (Dash's registry, layouts, imported libraries) lives as long
    # as the process: moved out of the garbage collector's reach, full collections stop
    # scanning it. Without this, one request in ten paid ~100 ms of collection
    # (fleet overview p95 227 ms -> 109 ms, docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    return app


def _shell() -> html.Div:
    """The frame around every page; the menu lists only the pages the user's role may see
    (the pages' callbacks check the role again on the server)."""
    user = identity()
    role = user.role if user else None
    pages = [
        page
        for page in dash.page_registry.values()
        if page.get("nav", True) and allowed(role, page["action"])
    ]
    items: list = [
        dbc.NavItem(
            dbc.NavLink(
                page["name"], href=page["relative_path"], active="exact", className="text-nowrap"
            )
        )
        for page in pages
        if not page.get("admin_menu")
    ]
    admin = [page for page in pages if page.get("admin_menu")]
    if admin:  # the pages for running the platform, one menu: the bar stays on one line
        items.append(
            dbc.DropdownMenu(
                [dbc.DropdownMenuItem(p["name"], href=p["relative_path"]) for p in admin],
                label="Admin",
                nav=True,
                in_navbar=True,
                id="nav-admin",
            )
        )
    nav = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("⚙ Predictive maintenance", href="/"),
                dbc.Nav(items, navbar=True, className="me-auto"),
                html.Span(id=NAV_USER, className="navbar-text text-light me-3 text-nowrap"),
                html.Form(  # a plain form POST: signing out is a change, never a link
                    html.Button(
                        "Sign out",
                        type="submit",
                        id=SIGN_OUT,
                        className="btn btn-outline-light btn-sm text-nowrap",
                    ),
                    method="POST",
                    action="/logout",
                    className="m-0",
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )
    banner = html.Div(id=RED_BANNER, className="px-3")
    return html.Div(
        [
            dcc.Location(id=URL),
            nav,
            banner,
            html.Div(id=LOW_STOCK, className="px-3"),
            dcc.Interval(id=RED_TICK, interval=3000),
            dbc.Container(dash.page_container, fluid=True),
        ]
    )
