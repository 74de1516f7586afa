"""In Chromium: a manager sees an escalated ticket, reassigns it on its page to another
technician and sees the new assignee; a technician gets no reassign control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from browser import click, login, shot, texts, visit
from factories import WebApp, add_user, clear_tickets
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import select

from data.models import Priority, Role, Ticket, User
from maintenance.ticketing.escalation import escalate_overdue, limits_from
from maintenance.ticketing.ticket_flow import open_ticket
from web.views.ticket import TICKET_HISTORY
from web.views.ticket_assign import (
    TICKET_ASSIGN_FORM,
    TICKET_ASSIGN_SELECT,
    TICKET_ASSIGN_SUBMIT,
    ticket_escalated,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def escalated_ticket(web: WebApp):
    """An escalated CRITICAL ticket of the demo technician, and a second (spare) technician
    who is inactive again afterwards, so other tests' tickets still go to the demo one."""
    with web.db.session() as s:
        clear_tickets(s)
        spare = s.scalar(select(User.id).where(User.username == "tech-reassign"))
    spare = spare or add_user(web.db, "tech-reassign", Role.TECHNICIAN)
    opened = datetime.now(UTC) - timedelta(minutes=20)
    with web.db.session() as s:
        ticket = open_ticket(
            session=s,
            machine_id=1,  # motor-01: the demo technician is the motor specialist
            code="VIB_HIGH",
            title="motor-01: vibration above the critical limit",
            priority=Priority.CRITICAL,
            now=opened,
        )
        ticket_id = ticket.id
        escalate_overdue(s, datetime.now(UTC), limits_from(web.settings))
        s.get(User, spare).active = True
    yield ticket_id, spare
    with web.db.session() as s:
        clear_tickets(s)
        s.get(User, spare).active = False


def test_manager_reassigns_an_escalated_ticket(dash_duo, web: WebApp, escalated_ticket):
    ticket_id, spare = escalated_ticket
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "manager")
    visit(dash_duo, "/tickets")
    dash_duo.wait_for_text_to_equal(f"#{ticket_escalated(ticket_id)}", "Escalated", timeout=15)
    shot(dash_duo, "tickets-escalated")

    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_text_to_equal("#ticket-technician", "technician", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#{ticket_escalated(ticket_id)}", "Escalated")
    dash_duo.wait_for_element(f"#{TICKET_ASSIGN_SELECT}")
    dash_duo.wait_for_contains_text(f"#{TICKET_ASSIGN_SELECT}", "tech-reassign")
    shot(dash_duo, "ticket-reassign-before")
    Select(dash_duo.find_element(f"#{TICKET_ASSIGN_SELECT}")).select_by_value(str(spare))
    click(dash_duo, f"#{TICKET_ASSIGN_SUBMIT}")
    dash_duo.wait_for_contains_text(
        "#ticket-assign-done", f"Ticket #{ticket_id} is now assigned to tech-reassign."
    )
    dash_duo.wait_for_text_to_equal("#ticket-technician", "tech-reassign", timeout=15)
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "Reassigned from technician")
    assert any("Escalated to the managers" in t for t in texts(dash_duo, f"#{TICKET_HISTORY}"))
    shot(dash_duo, "ticket-reassign-after")
    with web.db.session() as s:
        assert s.scalar(select(Ticket.technician_id).where(Ticket.id == ticket_id)) == spare


def test_technician_has_no_reassign_control(dash_duo, web: WebApp, escalated_ticket):
    ticket_id, _ = escalated_ticket
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "technician")
    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_text_to_equal("#ticket-technician", "technician", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#{ticket_escalated(ticket_id)}", "Escalated")
    assert not dash_duo.find_element(f"#{TICKET_ASSIGN_FORM}").is_displayed()
    shot(dash_duo, "ticket-reassign-technician")
