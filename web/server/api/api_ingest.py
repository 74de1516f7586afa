"""``POST /api/v1/telemetry/{machine}``: readings from a gateway or historian that cannot
speak MQTT. The body is the MQTT payload (docs/payloads.md), one reading or a batch; it
goes through ingest's own parser and writer (handed in as ``IngestPort``): the same
idempotency, the same dead letters, and a 202 only once committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from flask import Response, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from maintenance.people.permissions import Action
from web.server.api.api_common import STANDARD_RESPONSES, api_blueprint, json_response
from web.server.api.api_guard import require_api
from web.server.api.api_problems import ProblemError

__all__ = ["IngestCounts", "IngestPort", "ingest_api"]

log = logging.getLogger(__name__)


class IngestCounts(Protocol):
    """What ingest's writer did with one message (``ingest.writer.WriteResult``)."""

    @property
    def inserted(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def dead(self) -> int: ...


# handed in by the composition root (web may not import ingest): the machine's name and the
# message's bytes in, committed counts out; raises SQLAlchemyError when the database fails
IngestPort = Callable[[str, bytes], IngestCounts]


class MachineName(BaseModel):
    machine: str = Field(max_length=200, description="the machine's name, as in the MQTT topic")


class Accepted(BaseModel):
    stored: int = Field(description="new readings committed")
    duplicate: int = Field(description="readings already stored (same sensor and time)")
    rejected: int = Field(description="dead letters: the message or readings refused")


_EXAMPLE = {
    "readings": [
        {"sensor": "temperature", "ts": "2026-11-23T10:00:00Z", "value": 71.3},
        {"sensor": "vibration", "ts": 1795428000.25, "value": 2.4},
    ]
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The MQTT payload (docs/payloads.md): one reading "
        '{"sensor", "ts", "value"} or {"readings": [...]} (up to 10,000). ts: ISO 8601 '
        "with zone, or epoch seconds. Checked by ingest's parser, not by the schema: what "
        "it refuses becomes a dead letter, counted in 'rejected'.",
        "content": {"application/json": {"schema": {"type": "object"}, "example": _EXAMPLE}},
    }
}


def ingest_api(ingest: IngestPort | None) -> APIBlueprint:
    bp = api_blueprint("api_ingest", Tag(name="telemetry", description="readings in"))

    @bp.post(
        "/telemetry/<machine>",
        responses={202: Accepted, 503: None, **STANDARD_RESPONSES},
        openapi_extensions=_BODY,
    )
    def post_readings(path: MachineName) -> Response:
        """Store readings as MQTT would; 202 with what was stored, duplicate and refused."""
        require_api(Action.READINGS_INGEST)
        if ingest is None:
            raise ProblemError(503, "This process does not ingest readings.")
        try:
            result = ingest(path.machine, request.get_data(cache=False))
        except SQLAlchemyError:
            log.warning("HTTP ingest for %s: the database failed", path.machine[:80])
            raise ProblemError(
                503, "The database failed; nothing was stored: retry.", headers={"Retry-After": "5"}
            ) from None
        counts = Accepted(stored=result.inserted, duplicate=result.duplicates, rejected=result.dead)
        return json_response(counts.model_dump(), 202)

    return bp
