"""Pages outside a role's rights: a plain "You don't have access to this page" with a way
back, answered with HTTP 403 when the URL is opened directly.

Every page registers the ``action`` that opens it (maintenance/people/permissions.py). Two
places ask the table: the page router (a page's layout is swapped for the no-access page, so
none of its components, and none of its callbacks, ever reach the browser) and the Flask
response for a page URL (the same HTML as any page, status 403). Callbacks keep their own
checks (``require``); this only decides what is drawn.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

import dash
from dash.exceptions import MissingCallbackContextException
from flask import Flask, Response, request

from maintenance.people.permissions import Action, allowed
from web.server.auth import identity
from web.views.shell import no_access

__all__ = ["install_page_access", "may", "page_for_path"]

_NOT_PAGES = ("/_dash", "/_reload", "/assets/", "/vendor/", "/api/", "/download")


def page_for_path(path: str) -> dict[str, Any] | None:
    """The registered page a browser path opens, or None."""
    path = "/" + path.strip("/")
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            parts = re.split(r"<[^>/]+>", "/" + template.strip("/"))
            if re.fullmatch("[^/]+".join(map(re.escape, parts)), path):
                return page
        elif path == "/" + page["path"].strip("/"):
            return page
    return None


def may(action: Action) -> bool:
    """Whether the signed-in user's role may do ``action``: for a layout deciding which
    controls to draw (a control the role may not use is not shown)."""
    user = identity()
    return user is not None and allowed(user.role, action)


def _may_open(page: dict[str, Any]) -> bool:
    return may(page["action"])


def _in_callback() -> bool:
    """Whether this runs inside a Dash callback (the page router) rather than Dash's one-time
    check of every page's layout, which must see every page whole."""
    try:
        dash.ctx.triggered_id  # noqa: B018 - raises outside a callback
    except (MissingCallbackContextException, LookupError):  # no context at all: LookupError
        return False
    return True


def _guarded(page: dict[str, Any]) -> Callable[..., Any]:
    layout = page["layout"]

    @wraps(layout)
    def guarded(**kwargs: Any) -> Any:
        if _in_callback() and not _may_open(page):
            return no_access()
        return layout(**kwargs)

    return guarded


def install_page_access(server: Flask) -> None:
    """Guard every registered page's layout, and answer 403 for a page URL the signed-in
    user's role may not open (call after the pages are registered)."""
    for page in dash.page_registry.values():
        if callable(page["layout"]):
            page["layout"] = _guarded(page)

    @server.after_request
    def forbid_pages(response: Response) -> Response:
        if (
            request.method != "GET"
            or response.status_code != 200
            or request.path.startswith(_NOT_PAGES)
            or identity() is None
        ):
            return response
        page = page_for_path(request.path)
        if page is not None and not _may_open(page):
            response.status_code = 403
        return response
