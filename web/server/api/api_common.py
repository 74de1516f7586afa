"""What every resource module of the API shares: its blueprint's shape, the refusals every
operation documents, JSON answers, and one error handler that turns anything raised into a
problem (a bug into a logged 500 problem, never an HTML page)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, json
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException

from web.server.api.api_guard import API_PREFIX
from web.server.api.api_problems import Problem, ProblemError, problem, problem_for_http

__all__ = [
    "STANDARD_RESPONSES",
    "UPDATE_RESPONSES",
    "IfMatch",
    "api_blueprint",
    "api_error",
    "json_response",
]

log = logging.getLogger(__name__)

# documented on every operation (the spec's post-processing gives them problem+json)
STANDARD_RESPONSES: dict[int, Any] = {401: Problem, 403: Problem, 404: Problem, 429: Problem}
SECURITY = [{"bearer": []}]
# and on every update: a stale If-Match (412), none (428), a refused transition (409)
UPDATE_RESPONSES: dict[int, Any] = {409: Problem, 412: Problem, 428: Problem}


class IfMatch(BaseModel):
    """The version an update was based on: the ETag its GET answered."""

    if_match: str | None = Field(
        None, alias="If-Match", description="the ETag read before; required on updates"
    )


def api_blueprint(name: str, tag: Tag) -> APIBlueprint:
    """A resource's blueprint under /api/v1, token-secured, its errors answered as problems."""
    bp = APIBlueprint(name, __name__, url_prefix=API_PREFIX, abp_tags=[tag], abp_security=SECURITY)
    bp.register_error_handler(Exception, api_error)
    return bp


def api_error(exc: Exception) -> Response:
    """Any exception raised by an API view, as a problem."""
    if isinstance(exc, ProblemError):
        return problem(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, HTTPException):
        if exc.response is not None:  # flask-openapi3's validation answer, made already
            return exc.response
        return problem_for_http(exc)
    log.exception("api error on %s", API_PREFIX)
    return problem(500, "Something went wrong on the server; it has been logged.")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    answer = Response(json.dumps(body), status, mimetype="application/json")
    answer.headers.update(headers or {})
    return answer
