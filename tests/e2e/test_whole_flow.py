"""In Chromium, a technician's whole day on one ticket: a simulated fault opens it, the
technician finds it on My tickets, reads the SOP, ticks steps, comments, attaches a photo,
starts work, takes a part from stock, resolves it as a real failure, and the stock and the
ticket's history show all of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser import click, login, pattern, readings, shot, texts
from factories import WebApp, clear_tickets
from images import tiny_png
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import delete, select, update

from data.models import Alarm, Downtime, Machine, Part, Sop, SopVersion, Ticket, TicketStatus
from maintenance.rules import evaluate_rules
from web import ids

pytestmark = pytest.mark.e2e


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
    dash_duo, web: WebApp, tmp_path: Path
):
    with web.db.session() as s:
        s.execute(delete(Part).where(Part.number == "FLOW-6205"))
        part = Part(
            number="FLOW-6205", name="Bearing 6205", stock=4, min_stock=1, machine_types=["motor"]
        )
        s.add(part)
        s.flush()
        part_id = part.id
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
        click(dash_duo, pattern(ids.ticket_step(version, step)) + " input")
        dash_duo.wait_for_contains_text(
            f"#{ids.TICKET_HISTORY}", f"Ticked step {step + 1}", timeout=10
        )
    dash_duo.find_element(f"#{ids.TICKET_COMMENT_TEXT}").send_keys("Outboard bearing rough.")
    click(dash_duo, f"#{ids.TICKET_COMMENT_SUBMIT}")
    dash_duo.wait_for_contains_text(".ticket-comment-body", "Outboard bearing rough.", timeout=10)
    upload = dash_duo.find_element(f"#{ids.TICKET_FILES_UPLOAD} input[type=file]")
    upload.send_keys(str(photo))
    dash_duo.wait_for_contains_text(f"#{ids.TICKET_HISTORY}", "Attached bearing.png", timeout=15)

    click(dash_duo, pattern(ids.ticket_detail_action("start")))
    dash_duo.wait_for_text_to_equal("#ticket-status", "IN PROGRESS", timeout=10)
    picker = f"#{ids.TICKET_PARTS_SELECT}"
    dash_duo.wait_for_contains_text(picker, "FLOW-6205", timeout=10)
    Select(dash_duo.find_element(picker)).select_by_value(str(part_id))
    quantity = dash_duo.find_element(f"#{ids.TICKET_PARTS_QTY}")
    quantity.clear()
    quantity.send_keys("1")
    click(dash_duo, f"#{ids.TICKET_PARTS_SUBMIT}")
    dash_duo.wait_for_contains_text(f"#{ids.TICKET_PARTS_USED}", "1 pcs FLOW-6205", timeout=10)

    click(dash_duo, pattern(ids.ticket_detail_action("resolve")))
    dash_duo.wait_for_element(
        f"label[for='_dbcprivate_radioitems_{ids.TICKET_RESOLVE_OUTCOME}_input_failure']",
        timeout=10,
    ).click()
    dash_duo.find_element(f"#{ids.TICKET_RESOLVE_NOTE}").send_keys(
        "Bearing worn: replaced, vibration 1.9 mm/s after"
    )
    dash_duo.find_element(f"#{ids.TICKET_RESOLVE_SUBMIT}").click()
    dash_duo.wait_for_text_to_equal("#ticket-status", "RESOLVED", timeout=10)

    dash_duo.driver.refresh()  # the history as anyone opening the ticket now reads it
    dash_duo.wait_for_contains_text(f"#{ids.TICKET_HISTORY}", "real failure", timeout=15)
    history = " | ".join(texts(dash_duo, f"#{ids.TICKET_HISTORY} li"))
    for entry in (
        "Ticked step 1",
        "Ticked step 2",
        "Commented: “Outboard bearing rough.",
        "Attached bearing.png",
        "Status OPEN → IN PROGRESS",
        "Used 1 × FLOW-6205 from stock",
        "Status IN PROGRESS → RESOLVED, real failure",
    ):
        assert entry in history, entry
    assert "technician · " in history
    shot(dash_duo, "whole-flow-resolved")
    with web.db.session() as s:
        assert s.get(Part, part_id).stock == 3  # taken from stock
        ticket = s.get(Ticket, ticket_id)
        assert ticket.status is TicketStatus.RESOLVED and ticket.failure_confirmed is True
        stop = s.scalar(select(Downtime).where(Downtime.ticket_id == ticket_id))
        assert stop is not None and stop.ended_at is not None  # the breakdown, for reports
