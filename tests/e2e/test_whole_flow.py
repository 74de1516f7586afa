"""In Chromium, a technician's whole day on one ticket: a simulated fault opens it, the
technician finds it on My tickets, reads the SOP, ticks steps, comments, attaches a photo,
starts work, takes a part from stock, resolves it as a real failure with its cause, the
action taken and the parts used (asking for more than is in stock first: refused, nothing
taken), and the stock and the ticket's history show all of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser import click, eventually, login, pattern, readings, shot, texts
from factories import WebApp, clear_tickets
from images import tiny_png
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import delete, select, update

from data.models import (
    Alarm,
    AuditLog,
    Downtime,
    Machine,
    Part,
    Sop,
    SopVersion,
    Ticket,
    TicketStatus,
)
from maintenance.alarming.threshold_rules import evaluate_rules
from web.views.resolve_dialog import DETAIL_DIALOG, TICKET_RESOLVE_OUTCOME
from web.views.ticket import (
    TICKET_COMMENT_SUBMIT,
    TICKET_COMMENT_TEXT,
    TICKET_HISTORY,
    ticket_detail_action,
    ticket_step,
)
from web.views.ticket_files import TICKET_FILES_UPLOAD
from web.views.ticket_parts import (
    TICKET_PARTS_QTY,
    TICKET_PARTS_SELECT,
    TICKET_PARTS_SUBMIT,
    TICKET_PARTS_USED,
)

pytestmark = pytest.mark.e2e
D = DETAIL_DIALOG
_PARTS = ("FLOW-6205", "FLOW-SEAL")


@pytest.fixture
def flow_parts(web: WebApp):
    """A bearing (4 in stock) and a seal (2) for motors; gone afterwards, with the tickets
    that used them, so the shared app's stock warns nobody."""

    def drop() -> None:
        with web.db.session() as s:
            clear_tickets(s)
            s.execute(delete(Part).where(Part.number.in_(_PARTS)))

    drop()
    with web.db.session() as s:
        parts = [
            Part(number="FLOW-6205", name="Bearing 6205", stock=4, min_stock=1),
            Part(number="FLOW-SEAL", name="Shaft seal 25x40", stock=2, min_stock=1),
        ]
        for part in parts:
            part.machine_types = ["motor"]
        s.add_all(parts)
        s.flush()
        ids_ = tuple(p.id for p in parts)
    yield ids_
    drop()


def _stock(web: WebApp, *part_ids: int) -> tuple[int, ...]:
    with web.db.session() as s:
        return tuple(s.get(Part, i).stock for i in part_ids)


def _pick(dash_duo, row: int, part_id: int, quantity: int) -> None:
    """Choose a part and its quantity in one row of the resolve dialog's parts picker."""
    select = pattern(D.part_field(row, "part"))
    dash_duo.wait_for_contains_text(select, "FLOW-SEAL", timeout=10)
    Select(dash_duo.find_element(select)).select_by_value(str(part_id))
    qty = dash_duo.find_element(pattern(D.part_field(row, "qty")))
    qty.clear()
    qty.send_keys(str(quantity))


def _fault_opens_a_ticket(web: WebApp) -> int:
    with web.db.session() as s:
        clear_tickets(s)
        motor = s.scalar(select(Machine.id).where(Machine.name == "motor-01"))
        s.execute(  # earlier tests' alarms on motor-01 would hold the code: start clean
            update(Alarm)
            .where(Alarm.machine_id == motor, Alarm.cleared_at.is_(None))
            .values(cleared_at=datetime.now(UTC))
        )
    readings(web, "motor-01", {"vibration": 4.4}, seconds=10)  # warning limit 3.6 mm/s
    with web.db.session() as s:
        evaluate_rules(
            session=s,
            now=datetime.now(UTC),
            window=timedelta(seconds=8),
            clear_after=timedelta(seconds=60),
        )
        return s.scalar(
            select(Ticket.id).where(Ticket.machine_id == motor, Ticket.code == "VIB_HIGH")
        )


def test_a_fault_becomes_a_resolved_ticket_with_its_sop_photo_and_part(
    dash_duo, web: WebApp, tmp_path: Path, flow_parts: tuple[int, int]
):
    part_id, seal_id = flow_parts
    with web.db.session() as s:
        version = s.scalar(
            select(SopVersion.id)
            .join(Sop, Sop.id == SopVersion.sop_id)
            .where(Sop.code == "VIB_HIGH", SopVersion.version == Sop.current_version)
        )
    ticket_id = _fault_opens_a_ticket(web)
    assert ticket_id is not None, "the rule did not open a ticket"
    photo = tmp_path / "bearing.png"
    photo.write_bytes(tiny_png(64, 48))

    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "technician")  # lands on My tickets
    dash_duo.wait_for_element(f"#ticket-link-{ticket_id}", timeout=15).click()
    dash_duo.wait_for_text_to_equal("#ticket-sop-title", "Vibration above limit", timeout=15)

    for step in (0, 1):
        click(dash_duo, pattern(ticket_step(version, step)) + " input")
        dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", f"Ticked step {step + 1}", timeout=10)
    dash_duo.find_element(f"#{TICKET_COMMENT_TEXT}").send_keys("Outboard bearing rough.")
    click(dash_duo, f"#{TICKET_COMMENT_SUBMIT}")
    dash_duo.wait_for_contains_text(".ticket-comment-body", "Outboard bearing rough.", timeout=10)
    upload = dash_duo.find_element(f"#{TICKET_FILES_UPLOAD} input[type=file]")
    upload.send_keys(str(photo))
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "Attached bearing.png", timeout=15)

    click(dash_duo, pattern(ticket_detail_action("start")))
    dash_duo.wait_for_text_to_equal("#ticket-status", "IN PROGRESS", timeout=10)
    picker = f"#{TICKET_PARTS_SELECT}"
    dash_duo.wait_for_contains_text(picker, "FLOW-6205", timeout=10)
    Select(dash_duo.find_element(picker)).select_by_value(str(part_id))
    quantity = dash_duo.find_element(f"#{TICKET_PARTS_QTY}")
    quantity.clear()
    quantity.send_keys("1")
    click(dash_duo, f"#{TICKET_PARTS_SUBMIT}")
    dash_duo.wait_for_contains_text(f"#{TICKET_PARTS_USED}", "1 pcs FLOW-6205", timeout=10)

    assert _stock(web, part_id, seal_id) == (3, 2)

    # resolve: outcome, cause, action and the parts used, in the dialog
    click(dash_duo, pattern(ticket_detail_action("resolve")))
    dash_duo.wait_for_element(
        f"label[for='_dbcprivate_radioitems_{TICKET_RESOLVE_OUTCOME}_input_failure']",
        timeout=10,
    ).click()
    dash_duo.find_element(f"#{D.cause}").send_keys("Outboard bearing worn")
    dash_duo.find_element(f"#{D.action}").send_keys(
        "Replaced bearing and seal, vibration 1.9 mm/s after"
    )
    _pick(dash_duo, 0, part_id, 1)
    click(dash_duo, f"#{D.parts_add}")
    _pick(dash_duo, 1, seal_id, 3)  # only 2 in stock
    click(dash_duo, f"#{D.parts_add}")  # one row too many: removed again
    click(dash_duo, pattern(D.part_field(2, "remove")))
    eventually(lambda: dash_duo.find_elements(pattern(D.part_field(2, "part"))) == [])
    click(dash_duo, f"#{D.submit}")
    dash_duo.wait_for_contains_text(f"#{D.parts_error}", "Only 2 pcs of FLOW-SEAL", timeout=10)
    shot(dash_duo, "whole-flow-resolve-parts-refused")
    assert _stock(web, part_id, seal_id) == (3, 2)  # refused: nothing taken, nothing stored
    with web.db.session() as s:
        assert s.get(Ticket, ticket_id).status is TicketStatus.IN_PROGRESS
    qty = dash_duo.find_element(pattern(D.part_field(1, "qty")))
    qty.clear()
    qty.send_keys("2")
    shot(dash_duo, "whole-flow-resolve-dialog")
    click(dash_duo, f"#{D.submit}")
    dash_duo.wait_for_text_to_equal("#ticket-status", "RESOLVED", timeout=10)
    dash_duo.wait_for_contains_text("#ticket-cause", "Outboard bearing worn", timeout=10)
    dash_duo.wait_for_contains_text("#ticket-action-taken", "Replaced bearing and seal")
    dash_duo.wait_for_contains_text(f"#{TICKET_PARTS_USED}", "2 pcs FLOW-SEAL", timeout=10)

    dash_duo.driver.refresh()  # the history as anyone opening the ticket now reads it
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "real failure", timeout=15)
    history = " | ".join(texts(dash_duo, f"#{TICKET_HISTORY} li"))
    for entry in (
        "Ticked step 1",
        "Ticked step 2",
        "Commented: “Outboard bearing rough.",
        "Attached bearing.png",
        "Status OPEN → IN PROGRESS",
        "Used 1 × FLOW-6205 from stock",
        "Used 2 × FLOW-SEAL from stock",
        "Status IN PROGRESS → RESOLVED, real failure · cause: Outboard bearing worn",
    ):
        assert entry in history, entry
    assert history.count("Used 1 × FLOW-6205 from stock") == 2  # the card, then the dialog
    assert "technician · " in history
    shot(dash_duo, "whole-flow-resolved")
    assert _stock(web, part_id, seal_id) == (2, 0)  # taken from stock
    with web.db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket.status is TicketStatus.RESOLVED and ticket.failure_confirmed is True
        assert ticket.cause == "Outboard bearing worn"
        assert ticket.action_taken == "Replaced bearing and seal, vibration 1.9 mm/s after"
        entry = s.scalar(
            select(AuditLog)
            .where(AuditLog.action == "ticket.status", AuditLog.entity_id == str(ticket_id))
            .order_by(AuditLog.id.desc())
        )
        assert entry.after["cause"] == "Outboard bearing worn"
        stop = s.scalar(select(Downtime).where(Downtime.ticket_id == ticket_id))
        assert stop is not None and stop.ended_at is not None  # the breakdown, for reports
