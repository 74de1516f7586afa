"""The ticket detail and SOP library callbacks check the role on the server: a viewer (who may
read) cannot tick a step, comment or edit an SOP by posting to Dash's endpoint directly."""

from __future__ import annotations

import json

import pytest
from factories import WebApp, clear_tickets
from sqlalchemy import delete, func, select, update

from data.models import (
    Downtime,
    Priority,
    Sop,
    SopVersion,
    TicketComment,
    TicketStep,
)
from maintenance.ticketing.ticket_flow import open_ticket
from web.views.sops import SOPS_BASE, SOPS_CODE, SOPS_FEEDBACK, SOPS_REFRESH, SOPS_SAVE, SOPS_TEXT
from web.views.ticket import (
    TICKET_ACTIVITY,
    TICKET_COMMENT_SUBMIT,
    TICKET_COMMENT_TEXT,
    TICKET_ID,
    TICKET_REFRESH,
    TICKET_STEP,
    ticket_step,
)


def _prop(component_id: dict | str, prop: str) -> str:
    key = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return f"{key if isinstance(component_id, dict) else component_id}.{prop}"


def _request(web: WebApp, output_part: str, inputs: list, state: list, changed: str) -> dict:
    """A request shaped like the browser's for the callback whose outputs name ``output_part``
    (or, for a callback without outputs, whose inputs do)."""
    key = next(
        k
        for k, spec in web.app.callback_map.items()
        if output_part in k
        or (spec.get("no_output") and any(output_part in d["id"] for d in spec["inputs"]))
    )
    body = {"output": key, "inputs": inputs, "state": state, "changedPropIds": [changed]}
    if web.app.callback_map[key].get("no_output"):
        return body  # the browser sends no outputs for it
    declared = web.app.callback_map[key]["output"]
    declared = declared if isinstance(declared, list) else [declared]
    outputs = [{"id": o.component_id, "property": o.component_property} for o in declared]
    return {**body, "outputs": outputs}


def _ticket(web: WebApp) -> tuple[int, int]:
    """A VIB_HIGH ticket for the only technician, and the SOP version it is worked on."""
    with web.db.session() as s:
        s.execute(update(Downtime).values(ticket_id=None))
        clear_tickets(s)
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
        )
        version_id = s.scalar(
            select(SopVersion.id)
            .join(Sop, Sop.id == SopVersion.sop_id)
            .where(Sop.code == "VIB_HIGH", SopVersion.version == Sop.current_version)
        )
        return ticket.id, version_id


def _tick(web: WebApp, ticket_id: int, version_id: int) -> dict:
    step = ticket_step(version_id, 0)
    return _request(
        web,
        f'"type":"{TICKET_STEP}"',
        [[{"id": step, "property": "value", "value": [0]}]],
        [
            {"id": TICKET_ID, "property": "data", "value": ticket_id},
            {"id": TICKET_ACTIVITY, "property": "data", "value": 0},
            {"id": TICKET_REFRESH, "property": "data", "value": 0},
        ],
        _prop(step, "value"),
    )


def _comment(web: WebApp, ticket_id: int, text: str) -> dict:
    return _request(
        web,
        f"{TICKET_COMMENT_TEXT}.invalid",
        [{"id": TICKET_COMMENT_SUBMIT, "property": "n_clicks", "value": 1}],
        [
            {"id": TICKET_COMMENT_TEXT, "property": "value", "value": text},
            {"id": TICKET_ID, "property": "data", "value": ticket_id},
            {"id": TICKET_ACTIVITY, "property": "data", "value": 0},
        ],
        _prop(TICKET_COMMENT_SUBMIT, "n_clicks"),
    )


def _count(web: WebApp, model: type, ticket_id: int) -> int:
    with web.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.ticket_id == ticket_id))


@pytest.mark.parametrize(("user", "allowed"), [("viewer", False), ("technician", True)])
def test_ticking_a_step_checks_the_role_on_the_server(web: WebApp, user: str, allowed: bool):
    ticket_id, version_id = _ticket(web)
    response = web.client(user).post(
        "/_dash-update-component", json=_tick(web, ticket_id, version_id)
    )
    assert response.status_code == 200
    if allowed:
        assert _count(web, TicketStep, ticket_id) == 1
    else:
        assert "Your role may not do this." in response.get_data(as_text=True)
        assert _count(web, TicketStep, ticket_id) == 0


@pytest.mark.parametrize(("user", "allowed"), [("viewer", False), ("technician", True)])
def test_commenting_checks_the_role_on_the_server(web: WebApp, user: str, allowed: bool):
    ticket_id, _ = _ticket(web)
    response = web.client(user).post(
        "/_dash-update-component", json=_comment(web, ticket_id, "<script>x</script>")
    )
    assert response.status_code == 200
    assert _count(web, TicketComment, ticket_id) == (1 if allowed else 0)
    if not allowed:
        assert "Your role may not do this." in response.get_data(as_text=True)


def test_a_manager_may_not_comment_an_overlong_text(web: WebApp):
    ticket_id, _ = _ticket(web)
    response = web.client("manager").post(
        "/_dash-update-component", json=_comment(web, ticket_id, "x" * 2001)
    )
    assert "at most 2,000 characters" in response.get_data(as_text=True)
    assert _count(web, TicketComment, ticket_id) == 0


@pytest.mark.parametrize(
    ("user", "allowed"), [("viewer", False), ("manager", False), ("admin", True)]
)
def test_only_engineers_and_admins_save_sops(web: WebApp, user: str, allowed: bool):
    body = _request(
        web,
        f"{SOPS_FEEDBACK}.children",
        [{"id": SOPS_SAVE, "property": "n_clicks", "value": 1}],
        [
            {"id": SOPS_CODE, "property": "data", "value": "ACCESS_TEST"},
            {"id": SOPS_TEXT, "property": "value", "value": "# T\n\n## Steps\n1. Do it\n"},
            {"id": SOPS_BASE, "property": "data", "value": None},
            {"id": SOPS_REFRESH, "property": "data", "value": 0},
        ],
        _prop(SOPS_SAVE, "n_clicks"),
    )
    response = web.client(user).post("/_dash-update-component", json=body)
    assert response.status_code == 200
    with web.db.session() as s:
        sop = s.scalar(select(Sop).where(Sop.code == "ACCESS_TEST"))
        assert (sop is not None) is allowed
        if sop is not None:
            s.execute(delete(SopVersion).where(SopVersion.sop_id == sop.id))
            s.delete(sop)
    if not allowed:
        assert "Your role may not do this." in response.get_data(as_text=True)
