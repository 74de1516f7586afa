"""Errors as RFC 9457 problem details (``application/problem+json``): one shape for every
refusal of ``/api/v1``, with the offending fields listed on a validation error."""

from __future__ import annotations

import json
import logging

from flask import Response, g, request
from pydantic import BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException

__all__ = [
    "FieldProblem",
    "Problem",
    "ProblemError",
    "problem",
    "problem_for_http",
    "validation_problem",
]

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    """One input that was refused: where it is and why."""

    field: str = Field(description="dotted location, e.g. query.start or body.sensors.0.unit")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: ``type`` is about:blank, ``title`` the HTTP status phrase."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    request_id: str = ""
    errors: list[FieldProblem] = Field(default_factory=list)


class ProblemError(Exception):
    """Raised anywhere under /api/v1 to answer with a problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.errors, self.headers = errors or [], headers or {}


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The response for a problem; 4xx are logged as one line, without a traceback."""
    body = Problem(
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.path,
        request_id=g.get("request_id", ""),
        errors=errors or [],
    )
    log.info("api %s %s -> %d: %s", request.method, request.path, status, detail)
    answer = Response(body.model_dump_json(), status, mimetype=PROBLEM_JSON)
    if status == 401:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="pdm-api"'
    answer.headers.update(headers or {})
    return answer


def validation_problem(exc: ValidationError) -> Response:
    """flask-openapi3's validation callback: 400 with every refused field."""
    errors = [
        FieldProblem(field=".".join(str(p) for p in e["loc"]) or "body", message=e["msg"])
        for e in json.loads(exc.json())
    ]
    return problem(400, "The request does not fit the API's schema.", errors=errors)


def problem_for_http(exc: HTTPException) -> Response:
    """Werkzeug's own refusals (404, 405, 413, ...) as problems."""
    return problem(exc.code or 500, exc.description or "")
