"""In Chromium, the ticket page as a technician works it (issue 14): the SOP counter follows
each tick; a refused upload (.html, .svg) says why and takes the previous "Attached …" away;
photos show as thumbnails; the resolve dialog proposes the stop seen in the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser import click, eventually, login, pattern, shot, visit
from factories import WebApp, clear_tickets
from images import tiny_png
from services import free_port
from sqlalchemy import delete, select

from data.models import Downtime, DowntimeKind, Priority, Sop, SopVersion, TicketStatus, User
from maintenance.ticketing.ticket_flow import open_ticket
from web.views.resolve_dialog import TICKET_RESOLVE_DOWN_END, TICKET_RESOLVE_DOWN_START
from web.views.ticket import TICKET_STEPS_NOTE, ticket_detail_action, ticket_step
from web.views.ticket_files import TICKET_FILES_UPLOAD

pytestmark = pytest.mark.e2e


def _ticket(web: WebApp, status: TicketStatus = TicketStatus.OPEN) -> tuple[int, int]:
    """A VIB_HIGH ticket on motor-01 assigned to the demo technician, and its SOP version."""
    with web.db.session() as s:
        clear_tickets(s)
        tech = s.scalar(select(User.id).where(User.username == "technician"))
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
        )
        ticket.technician_id, ticket.status = tech, status
        version = s.scalar(
            select(SopVersion.id)
            .join(Sop, Sop.id == SopVersion.sop_id)
            .where(Sop.code == "VIB_HIGH", SopVersion.version == Sop.current_version)
        )
        return ticket.id, version


def _open(dash_duo, web: WebApp, ticket_id: int) -> None:  # noqa: ANN001
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "technician")
    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_text_to_equal("#ticket-sop-title", "Vibration above limit", timeout=15)


def _upload(dash_duo, path: Path) -> None:  # noqa: ANN001
    dash_duo.find_element(f"#{TICKET_FILES_UPLOAD} input[type=file]").send_keys(str(path))


def test_the_step_counter_follows_each_tick(dash_duo, web: WebApp):
    ticket_id, version = _ticket(web)
    _open(dash_duo, web, ticket_id)
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "0 of 10 steps done", timeout=10)
    click(dash_duo, pattern(ticket_step(version, 0)) + " input")
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "1 of 10 steps done", timeout=10)
    click(dash_duo, pattern(ticket_step(version, 3)) + " input")
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "2 of 10 steps done", timeout=10)
    click(dash_duo, pattern(ticket_step(version, 0)) + " input")  # unticked: one fewer
    dash_duo.wait_for_contains_text(f"#{TICKET_STEPS_NOTE}", "1 of 10 steps done", timeout=10)
    shot(dash_duo, "ticket-steps-counter")


def test_refused_uploads_say_why_and_photos_show_as_thumbnails(
    dash_duo, web: WebApp, tmp_path: Path
):
    ticket_id, _ = _ticket(web)
    photo = tmp_path / "bearing.png"
    photo.write_bytes(tiny_png(64, 48))
    page = tmp_path / "notes.html"
    page.write_text("<html><body><script>alert(1)</script></body></html>")
    drawing = tmp_path / "sketch.svg"
    drawing.write_text('<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>')
    _open(dash_duo, web, ticket_id)

    _upload(dash_duo, photo)
    dash_duo.wait_for_contains_text("#ticket-files-ok", "Attached bearing.png", timeout=10)
    thumb = dash_duo.wait_for_element("img.ticket-thumb", timeout=10)
    assert "/attachments/" in thumb.get_attribute("src")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", thumb
    )
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    assert dash_duo.driver.execute_script(loaded, thumb) == 64  # the photo itself, drawn
    shot(dash_duo, "ticket-files-thumbnail")

    for refused in (page, drawing):
        _upload(dash_duo, refused)
        dash_duo.wait_for_contains_text("#ticket-files-error", refused.name, timeout=10)
        assert "not a photo" in dash_duo.find_element("#ticket-files-error").text
        assert not dash_duo.driver.find_elements("css selector", "#ticket-files-ok")
    shot(dash_duo, "ticket-files-refused-svg")


def _local(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_the_resolve_dialog_proposes_the_detected_stop(dash_duo, web: WebApp):
    ticket_id, _ = _ticket(web, TicketStatus.IN_PROGRESS)
    stopped = (datetime.now(UTC) - timedelta(seconds=100)).replace(microsecond=0)
    ran_again = stopped + timedelta(seconds=42)
    with web.db.session() as s:
        s.execute(delete(Downtime))
        s.add(
            Downtime(
                machine_id=1,
                kind=DowntimeKind.BREAKDOWN,
                started_at=stopped,
                ended_at=ran_again,
                source="detected",
                note="rpm fell to zero",
            )
        )
    try:
        _open(dash_duo, web, ticket_id)
        click(dash_duo, pattern(ticket_detail_action("resolve")))
        start = dash_duo.wait_for_element(f"#{TICKET_RESOLVE_DOWN_START}", timeout=10)
        end = dash_duo.find_element(f"#{TICKET_RESOLVE_DOWN_END}")
        # Chromium drops ":00" seconds from a datetime-local value, so compare as times
        expected = stopped.replace(tzinfo=None)
        eventually(lambda: _local(start.get_attribute("value")) == expected, timeout=10)
        assert _local(end.get_attribute("value")) == ran_again.replace(tzinfo=None)
        shot(dash_duo, "resolve-detected-stop")
    finally:
        with web.db.session() as s:
            s.execute(delete(Downtime))
