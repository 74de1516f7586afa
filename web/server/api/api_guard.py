"""Who calls ``/api/v1``: a bearer token, never a browser session. Each request's token is
checked against the database (a revoked token is refused on its next request), the caller
kept in ``g.api_caller``, its requests counted against a per-token rate limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from flask import Flask, Response, g, request

from data.db import Database
from maintenance.people.accounts import UserInfo
from maintenance.people.api_tokens import TokenCaller, authenticate_token
from maintenance.people.permissions import Action, allowed
from web.server.api.api_problems import ProblemError, problem

__all__ = ["API_PREFIX", "RateLimit", "caller", "install_token_guard", "require_api"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


class RateLimit:
    """A fixed one-minute window per token, in this process: enough to stop one runaway
    integration from starving the others (each web process counts its own requests)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[int, int]] = {}  # token id -> (minute, count)

    def retry_after(self, token_id: int, now: float | None = None) -> int:
        """0 if this request may go on (and counts it), else seconds until it may."""
        now = time.time() if now is None else now
        minute = int(now // 60)
        with self._lock:
            seen, used = self._windows.get(token_id, (minute, 0))
            used = used + 1 if seen == minute else 1
            self._windows[token_id] = (minute, used)
        if used <= self.per_minute:
            return 0
        return max(1, int((minute + 1) * 60 - now))


def caller() -> TokenCaller:
    """The token calling this request (the guard has checked it)."""
    return g.api_caller


def require_api(action: Action) -> UserInfo:
    """The token's account if its role may do ``action``; else a 403 problem."""
    who = caller()
    if not allowed(who.user.role, action):
        raise ProblemError(403, f"This token's role ({who.user.role.value}) may not {action}.")
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
        with db.session() as s:
            found = authenticate_token(session=s, secret=secret.strip())
        if found is None:
            return problem(401, "This token is unknown, revoked or expired.")
        wait = limit.retry_after(found.token_id)
        if wait:
            detail = f"More than {limit.per_minute} requests a minute from this token."
            return problem(429, detail, headers={"Retry-After": str(wait)})
        g.api_caller = found
        log.info("api %s %s by token %s", request.method, path, found.name)
        return None
