"""``/api/v1`` on the app's own Flask server: the server class (flask-openapi3's ``OpenAPI``,
a Flask subclass that collects the typed operations), the token guard, the resources and
their documentation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask_openapi3 import Info, OpenAPI
from werkzeug.exceptions import HTTPException

from config import Settings
from data.db import Database
from web.server.api.api_alarms import alarms_api
from web.server.api.api_attachments import attachments_api, install_attachment_limit
from web.server.api.api_common import api_error
from web.server.api.api_docs import DOC_PATHS, docs_blueprint
from web.server.api.api_guard import API_PREFIX, RateLimit, install_token_guard
from web.server.api.api_ingest import IngestCounts, IngestPort, ingest_api
from web.server.api.api_insights import insights_api
from web.server.api.api_machines import machines_api
from web.server.api.api_problems import Problem, ProblemError, problem, validation_problem
from web.server.api.api_readings import readings_api
from web.server.api.api_tickets import tickets_api

__all__ = ["IngestCounts", "IngestPort", "api_server", "install_api"]


def api_server(import_name: str) -> OpenAPI:
    """The Flask server of the whole app, able to describe the API's typed operations."""
    return OpenAPI(
        import_name,
        info=Info(
            title="Predictive maintenance API",
            version="1.0.0",
            description="Machines, readings, alarms, tickets, predictions and reports for "
            "the plant's other systems. Every call needs an API token (admins create them "
            "on the API tokens page), sent as the header Authorization: Bearer TOKEN. "
            "See docs/api.md.",
        ),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        doc_ui=False,  # served by web/server/api/api_docs.py, without inline scripts
        validation_error_status=400,
        validation_error_model=Problem,
        validation_error_callback=validation_problem,
    )


def install_api(
    server: OpenAPI, db: Database, settings: Settings, ingest: IngestPort | None
) -> None:
    """Attach the token guard, every resource of /api/v1 and the docs to ``server``."""
    install_token_guard(server, db, RateLimit(settings.api_rate_per_minute), DOC_PATHS)
    install_attachment_limit(server, settings)  # after the guard: it reads the caller
    for api in _resources(db, settings, ingest):
        server.register_api(api)
    server.register_blueprint(docs_blueprint(server))
    server.register_blueprint(_not_found())
    server.register_error_handler(ProblemError, api_error)
    server.register_error_handler(HTTPException, _http_error)


def _resources(db: Database, settings: Settings, ingest: IngestPort | None) -> list[Any]:
    return [
        machines_api(db),
        readings_api(db),
        ingest_api(ingest),
        alarms_api(db),
        tickets_api(db),
        attachments_api(db, settings),
        insights_api(db),
    ]


def _http_error(exc: HTTPException) -> Any:
    """Routing refusals (405, 404) under /api/v1 as problems; elsewhere unchanged."""
    if request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX:
        return api_error(exc)
    return exc


def _not_found() -> Blueprint:
    """Any other path under /api/v1 is a 404 problem, not a Dash page (after the guard)."""
    bp = Blueprint("api_unknown", __name__)

    @bp.route(API_PREFIX, defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @bp.route(f"{API_PREFIX}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(rest: str) -> Response:
        return problem(404, f"No such API resource: /{rest}" if rest else "See /api/v1/docs.")

    return bp
