"""Who calls ``/api/v1``: a bearer token, never a browser session. Each request's token is
checked against the database (a revoked token is refused on its next request), the caller
kept in ``g.api_caller``, its requests counted against a per-token rate limit in the
database (every web process counts the same requests)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, g, request

from data.db import Database
from data.models import utcnow
from maintenance.people.accounts import UserInfo
from maintenance.people.api_tokens import TokenCaller, authenticate_token, count_request
from maintenance.people.permissions import Action, allowed
from web.server.api.api_problems import ProblemError, problem

__all__ = ["API_PREFIX", "RateLimit", "caller", "install_token_guard", "require_api"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A fixed one-minute window per token, counted in the database: enough to stop one
    runaway integration from starving the others, whichever web process it reaches."""

    per_minute: int

    def retry_after(self, requests: int, now: datetime) -> int:
        """0 if the minute's ``requests``-th request may go on, else seconds until it may."""
        if requests <= self.per_minute:
            return 0
        return max(1, math.ceil(60 - now.timestamp() % 60))


def caller() -> TokenCaller:
    """The token calling this request (the guard has checked it)."""
    return g.api_caller


def require_api(action: Action) -> UserInfo:
    """The token's account if its role, and its scopes if it has any, allow ``action``;
    else a 403 problem naming which refused."""
    who = caller()
    if not allowed(who.user.role, action):
        raise ProblemError(403, f"This token's role ({who.user.role.value}) may not {action}.")
    if not allowed(who.user.role, action, who.scopes):
        granted = ", ".join(sorted(who.scopes or ())) or "none"
        raise ProblemError(403, f"This token's scopes ({granted}) do not allow {action}.")
    return who.user


def install_token_guard(
    server: Flask, db: Database, limit: RateLimit, open_paths: Iterable[str]
) -> None:
    """Every request under /api/v1 but ``open_paths`` (the spec and its docs) needs a token."""
    public = frozenset(open_paths)

    @server.before_request
    def _token_guard() -> Response | None:
        path = request.path
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")) or path in public:
            return None
        if path.startswith(API_PREFIX + "/docs/"):
            return None  # the interactive docs' own scripts and styles
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return problem(401, "Send an API token: Authorization: Bearer <token>.")
        now = utcnow()
        with db.session() as s:
            found = authenticate_token(session=s, secret=secret.strip(), now=now)
            used = count_request(session=s, token_id=found.token_id, now=now) if found else 0
        if found is None:
            return problem(401, "This token is unknown, revoked or expired.")
        wait = limit.retry_after(used, now)
        if wait:
            detail = f"More than {limit.per_minute} requests a minute from this token."
            return problem(429, detail, headers={"Retry-After": str(wait)})
        g.api_caller = found
        log.info("api %s %s by token %s", request.method, path, found.name)
        return None
