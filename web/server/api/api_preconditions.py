"""``ETag`` and ``If-Match``: an update names the version it read, so two systems never
overwrite each other silently (412 when it changed since, 428 when the version is missing)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import request

from web.server.api.api_problems import ProblemError

__all__ = ["check_if_match", "etag_of"]


def etag_of(values: Any) -> str:
    """A strong entity tag of a resource's representation (its JSON, keys sorted)."""
    text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def check_if_match(current: str) -> None:
    """Go on only when the request's ``If-Match`` names ``current`` (or ``*``)."""
    given = request.headers.get("If-Match")
    if not given:
        raise ProblemError(428, "Send If-Match with the ETag of the version you read.")
    tags = {t.strip().removeprefix("W/") for t in given.split(",")}
    if "*" not in tags and current not in tags:
        raise ProblemError(
            412,
            "It changed since you read it: read it again, then retry.",
            headers={"ETag": current},
        )
