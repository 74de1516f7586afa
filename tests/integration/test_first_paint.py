"""The layout of a full page load holds the page the browser opened (web/server/first_paint.py):
the page container filled as Dash's router fills it, with the path's variables, the query
and the page's title, a page outside the role as the no-access page; without the page's
address, Dash's empty container as before (the router draws the page). Parts of a page drawn
by its first callbacks call nothing more when they appear."""

from __future__ import annotations

from factories import WebApp

from web.views.machine import MACHINE_NAME
from web.views.shell import NO_ACCESS
from web.views.sops import SOPS_CODE
from web.views.ticket import TICKET_DETAIL_ACTION, TICKET_STEP


def _container(web: WebApp, user: str, referrer: str | None) -> dict:
    client = web.client(user)
    client.get("/")
    headers = {"Referer": referrer} if referrer else {}
    layout = client.get("/_dash-layout", headers=headers)
    assert layout.status_code == 200
    found: dict[str, dict] = {}

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict) and "props" in node:
            if isinstance(node["props"].get("id"), str):
                found[node["props"]["id"]] = node
            for value in node["props"].values():
                walk(value)

    walk(layout.get_json())
    return found


def test_the_first_layout_holds_the_opened_page_as_the_router_draws_it(web: WebApp):
    base = "http://localhost"
    ids = _container(web, "manager", f"{base}/machine/motor-01")
    location = ids["_pages_location"]["props"]
    assert (location["pathname"], location["search"], location["hash"]) == (
        "/machine/motor-01",
        "",
        "",
    )
    assert location["href"] == f"{base}/machine/motor-01"
    assert ids[MACHINE_NAME]["props"]["data"] == "motor-01"  # the path's variable
    assert ids["_pages_store"]["props"]["data"] == {"title": "Machine · Predictive maintenance"}

    ids = _container(web, "engineer", f"{base}/sops?code=VIB_HIGH")  # the query, as kwargs
    assert ids[SOPS_CODE]["props"]["data"] == "VIB_HIGH"
    assert ids["_pages_location"]["props"]["search"] == "?code=VIB_HIGH"

    ids = _container(web, "viewer", f"{base}/audit")  # outside the role: no access
    assert NO_ACCESS in ids and "_pages_location" in ids


def test_without_the_page_address_the_router_draws_the_page(web: WebApp):
    for referrer in (None, "http://localhost/no-such-page", "http://localhost/login"):
        ids = _container(web, "manager", referrer)
        assert "pathname" not in ids["_pages_location"]["props"]
        assert ids["_pages_content"]["props"].get("children") is None


def test_the_ticket_pages_drawn_checklist_and_buttons_call_nothing(web: WebApp):
    """Dash calls a callback whose inputs appear in a newly drawn part of the page unless all
    its outputs were drawn with them: the step and button callbacks declare none (they use
    set_props), so a ticket page's load makes no round trip that answers "nothing to do"."""
    for kind in (TICKET_STEP, TICKET_DETAIL_ACTION):
        specs = [
            spec
            for spec in web.app.callback_map.values()
            if any(f'"type":"{kind}"' in dep["id"] for dep in spec["inputs"])
        ]
        assert specs, kind
        assert all(spec.get("no_output") for spec in specs), kind
