"""Resolving with the cause, the action taken and the spare parts used, all in one
transaction (both databases); the resolve dialog's callback refusing field by field; the
low-stock warning in the app shell, for managers only."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import WebApp, add_user, clear_tickets
from pypdf import PdfReader
from sqlalchemy import delete, func, select

from config import load_settings
from data.db import Database
from data.models import (
    AuditLog,
    Machine,
    Part,
    Priority,
    Role,
    Ticket,
    TicketPart,
    TicketStatus,
    User,
)
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.accounts import UserInfo
from maintenance.repair.resolution import resolve_ticket
from maintenance.repair.work_record import work_record_pdf
from maintenance.stock.spare_parts import PartError, save_part
from maintenance.ticketing.ticket_flow import TransitionError, change_status, open_ticket
from web.views import resolve_dialog
from web.views.resolve_dialog import (
    RESOLVE_ACTION,
    RESOLVE_CAUSE,
    RESOLVE_DOWN_END,
    RESOLVE_DOWN_START,
    RESOLVE_MODAL,
    RESOLVE_OUTCOME,
    RESOLVE_PARTS_ERROR,
    RESOLVE_SUBMIT,
    RESOLVE_TICKET,
)
from web.views.resolve_form import Answers, check_form
from web.views.shell import LOW_STOCK, RED_TICK, SHELL_CALLBACK, SHELL_OUTPUTS, URL
from web.views.tickets import TICKETS_REFRESH

NOW = datetime.now(UTC).replace(microsecond=0)


def _setup(db: Database, tmp_path) -> tuple[UserInfo, int, int, int]:
    """A technician with a started ticket on pump-01, a bearing (5) and a seal (1)."""
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    manager = UserInfo(add_user(db, "rs-manager", Role.MANAGER), "rs-manager", Role.MANAGER)
    tech = UserInfo(add_user(db, "rs-tech", Role.TECHNICIAN), "rs-tech", Role.TECHNICIAN)
    with db.session() as s:
        pump = s.scalar(select(Machine).where(Machine.name == "pump-01"))
        bearing = save_part(
            session=s,
            user=manager,
            number="B-6204",
            name="Bearing",
            stock=5,
            min_stock=1,
            machine_types=[pump.type],
        ).id
        seal = save_part(session=s, user=manager, number="S-1", name="Seal", stock=1, min_stock=0)
        ticket = open_ticket(
            session=s, machine_id=pump.id, code="VIB_HIGH", title="t", priority=Priority.HIGH
        )
        ticket.technician_id = tech.id
        s.flush()
        ticket_id = ticket.id
    with db.session() as s:
        change_status(session=s, ticket_id=ticket_id, to=TicketStatus.IN_PROGRESS, user=tech)
    return tech, ticket_id, bearing, seal.id


def _stored(db: Database, ticket_id: int, bearing: int, seal: int) -> tuple:
    """Stock of both parts, the ticket's status, cause and action, parts rows, part audits."""
    with db.session() as s:
        t = s.get(Ticket, ticket_id)
        used = s.scalar(select(func.count()).select_from(TicketPart))
        audits = s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "ticket.part")
        )
        stock = (s.get(Part, bearing).stock, s.get(Part, seal).stock)
        return stock, t.status, t.cause, t.action_taken, used, audits


def test_resolving_takes_two_parts_and_stores_cause_and_action(db, tmp_path):
    tech, ticket_id, bearing, seal = _setup(db, tmp_path)
    with db.session() as s:
        resolve_ticket(
            session=s,
            ticket_id=ticket_id,
            user=tech,
            failure_confirmed=True,
            cause="  Outboard bearing worn ",
            action_taken="Replaced bearing and seal",
            parts=[(bearing, 2), (seal, 1)],
            downtime=(NOW - timedelta(hours=2), NOW - timedelta(hours=1)),
        )
    stored = _stored(db, ticket_id, bearing, seal)
    assert stored == (
        (3, 0),
        TicketStatus.RESOLVED,
        "Outboard bearing worn",
        "Replaced bearing and seal",
        2,
        2,
    )
    with db.session() as s:
        entry = s.scalar(
            select(AuditLog)
            .where(AuditLog.action == "ticket.status", AuditLog.entity_id == str(ticket_id))
            .order_by(AuditLog.id.desc())
        )
        assert entry.after["cause"] == "Outboard bearing worn"
        assert entry.after["action_taken"] == "Replaced bearing and seal"
        assert entry.after["failure_confirmed"] is True
        record = "\n".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(work_record_pdf(s, ticket_id))).pages
        )
    assert "Cause Outboard bearing worn" in record
    assert "Action taken Replaced bearing and seal" in record
    assert "B-6204 Bearing: 2 pcs" in record and "S-1 Seal: 1 pcs" in record


@pytest.mark.parametrize(
    ("parts", "downtime", "refusal"),
    [
        ([(1, 2), (2, 2)], None, "Only 1 pcs of S-1"),  # the seal: one in stock
        ([(1, 2)], (NOW - timedelta(hours=1), NOW + timedelta(hours=3)), "in the future"),
        ([(1, 2)], (NOW - timedelta(days=120), NOW - timedelta(days=119)), "90 days"),
    ],
    ids=["too-little-stock", "running-in-the-future", "stop-too-old"],
)
def test_a_refused_resolution_stores_nothing_and_takes_nothing(
    db, tmp_path, parts, downtime, refusal
):
    tech, ticket_id, bearing, seal = _setup(db, tmp_path)
    by_index = {1: bearing, 2: seal}
    items = [(by_index[i], n) for i, n in parts]
    # caught inside the session, which then commits: the resolution itself left nothing
    with db.session() as s, pytest.raises((PartError, TransitionError), match=refusal):
        resolve_ticket(
            session=s,
            ticket_id=ticket_id,
            user=tech,
            failure_confirmed=True,
            cause="Bearing worn",
            action_taken="Replaced",
            parts=items,
            downtime=downtime,
        )
    assert _stored(db, ticket_id, bearing, seal) == ((5, 1), TicketStatus.IN_PROGRESS, "", "", 0, 0)


def test_empty_cause_or_action_is_refused_with_field_messages(db, tmp_path):
    tech, ticket_id, bearing, seal = _setup(db, tmp_path)
    form = check_form(Answers("false_alarm", " ", None, part_ids=[str(bearing)], quantities=[0]))
    assert not form.ok
    assert form.errors["cause"] == "Describe the cause (at least 3 characters)."
    assert form.errors["action"] == "Describe the action taken (at least 3 characters)."
    assert form.errors["parts"] == "Give each part used a whole quantity of at least 1."
    assert form.errors["outcome"] == ""
    fine = check_form(
        Answers(
            "false_alarm",
            "Loose guard",
            "Tightened it",
            part_ids=[None, str(seal)],
            quantities=[1, "1"],
        )
    )
    assert fine.ok and fine.parts == [(seal, 1)] and fine.downtime is None
    # the domain refuses as well, whoever calls it
    with db.session() as s, pytest.raises(TransitionError, match="what caused it"):
        resolve_ticket(
            session=s,
            ticket_id=ticket_id,
            user=tech,
            failure_confirmed=False,
            cause="",
            action_taken="Tightened it",
            parts=[(bearing, 1)],
        )
    assert _stored(db, ticket_id, bearing, seal) == ((5, 1), TicketStatus.IN_PROGRESS, "", "", 0, 0)


# ---- through the web app's callbacks (the shared session-wide app) -----------------------


def _request(web: WebApp, trigger: str, values: dict, rows: list[tuple[object, object]]) -> dict:
    """The request the browser sends for the callback fired by ``trigger``; ``rows`` are
    the parts picker's (part, quantity) rows."""
    key, spec = next(
        (k, spec) for k, spec in web.app.callback_map.items() if spec["inputs"][0]["id"] == trigger
    )

    def dep(d: dict) -> dict | list:
        if not d["id"].startswith("{"):
            return {"id": d["id"], "property": d["property"], "value": values.get(d["id"])}
        wildcard = json.loads(d["id"])
        column = 0 if wildcard["field"] == "part" else 1
        return [
            {"id": wildcard | {"row": n}, "property": d["property"], "value": row[column]}
            for n, row in enumerate(rows)
        ]

    outputs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
    return {
        "output": key,
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in outputs],
        "inputs": [{"id": trigger, "property": spec["inputs"][0]["property"], "value": 1}],
        "state": [dep(d) for d in spec["state"]],
        "changedPropIds": [f"{trigger}.{spec['inputs'][0]['property']}"],
    }


def _resolve(web: WebApp, client, ticket_id: int, rows: list, **answers: str) -> dict:
    values = {
        RESOLVE_TICKET: ticket_id,
        TICKETS_REFRESH: 0,
        RESOLVE_OUTCOME: "failure",
        RESOLVE_DOWN_START: (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        RESOLVE_DOWN_END: NOW.strftime("%Y-%m-%dT%H:%M"),
    }
    values |= {getattr(resolve_dialog, f"RESOLVE_{k.upper()}"): v for k, v in answers.items()}
    response = client.post(
        "/_dash-update-component", json=_request(web, RESOLVE_SUBMIT, values, rows)
    )
    assert response.status_code == 200
    return response.get_json()["response"]


@pytest.fixture
def web_ticket(web: WebApp):
    """A started ticket of the demo technician on motor-01 and a part for motors (3 in
    stock); gone afterwards."""
    with web.db.session() as s:
        clear_tickets(s)
        s.execute(delete(Part).where(Part.number == "RS-WEB"))
        motor = s.scalar(select(Machine).where(Machine.name == "motor-01"))
        part = Part(number="RS-WEB", name="Coupling insert", stock=3, min_stock=0)
        part.machine_types = [motor.type]
        s.add(part)
        ticket = open_ticket(
            session=s, machine_id=motor.id, code="VIB_HIGH", title="t", priority=Priority.HIGH
        )
        ticket.technician_id = s.scalar(select(User.id).where(User.username == "technician"))
        ticket.status = TicketStatus.IN_PROGRESS
        s.flush()
        made = ticket.id, part.id
    yield made
    with web.db.session() as s:
        clear_tickets(s)
        s.execute(delete(Part).where(Part.number == "RS-WEB"))


def test_the_dialog_refuses_field_by_field_then_resolves_with_its_parts(web: WebApp, web_ticket):
    ticket_id, part_id = web_ticket
    client = web.client("technician")

    empty = _resolve(web, client, ticket_id, [(str(part_id), 1)], cause="", action=" ")
    assert empty[RESOLVE_CAUSE]["invalid"] is True
    assert "Describe the cause" in empty[f"{RESOLVE_CAUSE}-error"]["children"]
    assert empty[RESOLVE_ACTION]["invalid"] is True
    assert "Describe the action taken" in empty[f"{RESOLVE_ACTION}-error"]["children"]
    assert RESOLVE_MODAL not in empty  # the dialog stays open, as filled in

    answers = {"cause": "Coupling insert cracked", "action": "Replaced the insert"}
    short = _resolve(web, client, ticket_id, [(str(part_id), 4)], **answers)
    assert "Only 3 pcs of RS-WEB" in short[RESOLVE_PARTS_ERROR]["children"]
    with web.db.session() as s:
        assert s.get(Part, part_id).stock == 3
        assert s.get(Ticket, ticket_id).status is TicketStatus.IN_PROGRESS

    done = _resolve(web, client, ticket_id, [(None, 1), (str(part_id), 2)], **answers)
    assert done[RESOLVE_MODAL]["is_open"] is False
    assert done[RESOLVE_PARTS_ERROR]["children"] == ""
    with web.db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert (ticket.status, ticket.cause, ticket.action_taken) == (
            TicketStatus.RESOLVED,
            "Coupling insert cracked",
            "Replaced the insert",
        )
        assert s.get(Part, part_id).stock == 1


def test_low_stock_warning_is_for_managers_and_admins(web: WebApp):
    with web.db.session() as s:
        s.execute(delete(Part).where(Part.number == "RS-LOW"))
        s.add(Part(number="RS-LOW", name="Fuse", stock=0, min_stock=2))
    request = {
        "output": SHELL_CALLBACK,
        "outputs": [{"id": c, "property": p} for c, p in SHELL_OUTPUTS],
        "inputs": [
            {"id": RED_TICK, "property": "n_intervals", "value": 1},
            {"id": URL, "property": "pathname", "value": "/alarms"},
        ],
        "changedPropIds": [f"{RED_TICK}.n_intervals"],
    }
    try:
        cases = (("manager", True), ("admin", True), ("technician", False), ("viewer", False))
        for user, sees in cases:
            answer = web.client(user).post("/_dash-update-component", json=request)
            warning = answer.get_json()["response"][LOW_STOCK]["children"]
            assert (warning is not None) is sees, user
            if sees:
                text = json.dumps(warning)
                assert "Low stock:" in text and "RS-LOW" in text and '"/parts"' in text
    finally:
        with web.db.session() as s:
            s.execute(delete(Part).where(Part.number == "RS-LOW"))
