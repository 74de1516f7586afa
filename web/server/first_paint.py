"""The page a full load opens, drawn with the frame in the layout Dash asks for first.

Dash's pages start empty: the layout (``/_dash-layout``) holds the frame and an empty page
container; once drawn, the container's ``dcc.Location`` reports the browser's path, which
calls Dash's page router (one more request), whose answer is the page, drawn in a second
pass, whose callbacks then start (a third round). The layout request comes from the page
itself, so its ``Referer`` (sent for same-origin requests, web/server/security.py) names
the path: the container is filled here as the router would fill it, with the Location
already at that path and search, so the router is not called and the page's callbacks start
with the frame's. Without a usable Referer, Dash's empty container as before.

What is drawn is decided as the router decides it (web/server/page_access.py): a page
outside the role is the no-access page.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import dash
from dash import dcc, html
from dash._pages import _parse_query_string, _path_to_page  # what the router itself uses
from dash.dash import _ID_CONTENT, _ID_DUMMY, _ID_LOCATION, _ID_STORE
from dash.development.base_component import Component
from flask import request

from web.server.page_access import may
from web.views.shell import no_access

__all__ = ["page_container"]

_log = logging.getLogger(__name__)


def page_container() -> Component:
    """Dash's page container, with the page the browser opened in it when known."""
    referrer = request.referrer
    if not referrer or not request.path.endswith("/_dash-layout"):  # e.g. Dash's own checks
        return dash.page_container
    url = urlsplit(referrer)
    page, variables = _path_to_page(dash.get_app().strip_relative_path(url.path))
    if not page or not callable(page.get("layout")):
        return dash.page_container  # not a page: Dash's router answers (its 404)
    search = f"?{url.query}" if url.query else ""
    try:
        if may(page["action"]):
            content = page["layout"](**(variables or {}), **_parse_query_string(search))
        else:
            content = no_access()
        title = page["title"]
        title = title(**(variables or {})) if callable(title) else title
    except Exception:  # the router will draw it, and say what went wrong there
        _log.exception("drawing %s with the frame failed", url.path)
        return dash.page_container
    return html.Div(
        [
            dcc.Location(
                id=_ID_LOCATION,
                refresh="callback-nav",
                pathname=url.path,
                search=search,
                hash="",
                href=referrer,
            ),
            html.Div(content, id=_ID_CONTENT, disable_n_clicks=True),
            dcc.Store(id=_ID_STORE, data={"title": title}),
            html.Div(id=_ID_DUMMY, disable_n_clicks=True),
        ]
    )
