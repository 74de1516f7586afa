"""PDFs print what was written: DejaVu embedded ("≈" is not "?"), the work record holds the
ticket's photos, and the downtime chart's legend covers no bar."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import demo_database
from images import tiny_png
from pypdf import PdfReader
from sqlalchemy import select

from config import Settings
from data.db import Database
from data.models import Priority, Role, TicketComment, User
from maintenance.people.accounts import UserInfo
from maintenance.repair.attachment_store import store_attachment
from maintenance.repair.work_record import work_record_pdf
from maintenance.reporting.report_data import MachineRow, Stats
from maintenance.reporting.report_pdf import _downtime_chart, _png
from maintenance.ticketing.ticket_flow import open_ticket

WRITTEN = "Vibration ≈ 5.43 mm/s – “bearing” checked, 40 °C"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    settings, database = demo_database(tmp_path)
    yield settings, database
    database.dispose()


def _ticket_with_photo(settings: Settings, db: Database) -> int:
    with db.session() as s:
        admin = s.scalar(select(User).where(User.role == Role.ADMIN))
        who = UserInfo(admin.id, admin.username, admin.role)
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title=WRITTEN, priority=Priority.HIGH
        )
        s.add(TicketComment(ticket_id=ticket.id, user_id=admin.id, body=WRITTEN))
        s.flush()
        store_attachment(
            session=s,
            settings=settings,
            ticket_id=ticket.id,
            user=who,
            filename="bearing.png",
            data=tiny_png(64, 48),
        )
        return ticket.id


def test_the_work_record_prints_unicode_and_holds_the_photos(demo):
    settings, db = demo
    ticket_id = _ticket_with_photo(settings, db)
    with db.session() as s:
        with_photos = PdfReader(io.BytesIO(work_record_pdf(s, ticket_id, photos=True)))
        without = PdfReader(io.BytesIO(work_record_pdf(s, ticket_id)))
    text = "\n".join(p.extract_text() for p in with_photos.pages)
    assert text.count(WRITTEN) == 2 and "?" not in text  # the core fonts printed "≈" as "?"
    assert "Photos" in text and "bearing.png" in text
    assert sum(len(p.images) for p in with_photos.pages) == 1
    assert sum(len(p.images) for p in without.pages) == 0
    assert not (settings.var_dir / "attachments").exists()  # the photo came from the database


def test_the_downtime_legend_covers_no_bar():
    machines = [MachineRow("motor-01", "motor", Stats(breakdowns=1, breakdown_h=3.0))]
    fig = _downtime_chart(machines)
    _png(fig, 186, 40)  # drawn at its size in the PDF
    renderer = fig.canvas.get_renderer()
    legend = next(iter(fig.legends)).get_window_extent(renderer)
    for bar in fig.axes[0].patches:
        assert not legend.overlaps(bar.get_window_extent(renderer))
