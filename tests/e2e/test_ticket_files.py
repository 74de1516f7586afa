"""In Chromium: the technician attaches a photo to their ticket, sees it listed, downloads it
and opens the work record; a file that only claims to be a photo is refused with a message;
a viewer sees the list but no upload box and no download links."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from browser import browser_session, login, shot, texts, visit
from factories import WebApp, clear_tickets
from images import tiny_png
from pypdf import PdfReader
from services import free_port
from sqlalchemy import select

from data.models import Priority, User
from maintenance.people.accounts import UserInfo
from maintenance.repair.attachment_store import store_attachment
from maintenance.ticketing.ticket_flow import open_ticket
from web.views.ticket import TICKET_HISTORY
from web.views.ticket_files import TICKET_FILES_FORM, TICKET_FILES_UPLOAD, TICKET_RECORD_LINK

pytestmark = pytest.mark.e2e


def _ticket(web: WebApp) -> int:
    with web.db.session() as s:
        clear_tickets(s)
        tech = s.scalar(select(User.id).where(User.username == "technician"))
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
        )
        ticket.technician_id = tech
        return ticket.id


def _upload(dash_duo, path: Path) -> None:
    field = dash_duo.find_element(f"#{TICKET_FILES_UPLOAD} input[type=file]")
    field.send_keys(str(path))


def _shot_files(dash_duo, name: str) -> None:
    dash_duo.driver.execute_script(
        "document.getElementById('ticket-files-card')"
        ".scrollIntoView({block: 'center', behavior: 'instant'})"
    )
    shot(dash_duo, name)


def test_technician_attaches_a_photo_and_downloads_it(dash_duo, web: WebApp, tmp_path: Path):
    ticket_id = _ticket(web)
    photo = tmp_path / "bearing.png"
    photo.write_bytes(tiny_png(64, 48))
    fake = tmp_path / "fake.jpg"
    fake.write_text("not really a photo")
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "technician")
    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_element("#ticket-no-files", timeout=15)
    assert dash_duo.find_element(f"#{TICKET_FILES_FORM}").is_displayed()
    _shot_files(dash_duo, "ticket-files-empty")

    _upload(dash_duo, fake)
    dash_duo.wait_for_contains_text("#ticket-files-error", "not a photo", timeout=10)
    _shot_files(dash_duo, "ticket-files-refused")

    _upload(dash_duo, photo)
    dash_duo.wait_for_contains_text("#ticket-files-ok", "Attached bearing.png", timeout=10)
    dash_duo.wait_for_element(".ticket-file-link", timeout=10)
    listed = texts(dash_duo, ".ticket-file")
    assert len(listed) == 1 and "bearing.png" in listed[0] and "technician" in listed[0]
    dash_duo.wait_for_contains_text(f"#{TICKET_HISTORY}", "Attached bearing.png", timeout=10)
    _shot_files(dash_duo, "ticket-files-listed")

    link = dash_duo.find_element(".ticket-file-link").get_attribute("href")
    http = browser_session(dash_duo)
    response = http.get(link, timeout=10)
    assert response.status_code == 200 and response.content == tiny_png(64, 48)
    assert response.headers["Content-Type"] == "image/png"
    record = dash_duo.find_element(f"#{TICKET_RECORD_LINK}").get_attribute("href")
    assert record.endswith(f"/ticket/{ticket_id}/record.pdf")
    pdf = http.get(record, timeout=10)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"ticket #{ticket_id}" in text and "bearing.png" in text


def test_viewer_sees_files_but_cannot_upload_or_download(dash_duo, web: WebApp, tmp_path: Path):
    ticket_id = _ticket(web)
    with web.db.session() as s:
        tech = s.scalar(select(User).where(User.username == "technician"))
        store_attachment(
            session=s,
            settings=web.settings,
            ticket_id=ticket_id,
            user=UserInfo(tech.id, tech.username, tech.role),
            filename="pump.png",
            data=tiny_png(),
        )
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "viewer")
    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_contains_text(".ticket-file", "pump.png", timeout=15)
    assert dash_duo.find_elements(".ticket-file-link") == []
    _shot_files(dash_duo, "ticket-files-viewer")
    upload = dash_duo.find_element(f"#{TICKET_FILES_FORM}")
    assert not upload.is_displayed()
    with web.db.session() as s:
        clear_tickets(s)
