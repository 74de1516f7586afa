"""Ticket attachments and the work record, on SQLite and PostgreSQL and through the web app:
type by content, size limit, stored in the database (never a served folder, never one
machine's disk), SHA-256, who may upload and download, files of earlier releases copied from
the disk into the database, and a PDF work record that names who did what and when."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pytest
from factories import WebApp, add_user, clear_tickets, make_settings
from images import tiny_png
from pypdf import PdfReader
from sqlalchemy import select, update

from data.db import Database
from data.fleet_queries import MachineSpec, SensorSpec, ensure_fleet
from data.models import (
    Attachment,
    AttachmentBlob,
    AuditLog,
    Part,
    Priority,
    Role,
    Ticket,
    TicketPart,
    TicketStatus,
    User,
)
from maintenance.people.accounts import UserInfo
from maintenance.procedures.sop_library import load_shipped_sops
from maintenance.repair.attachment_store import (
    AttachmentError,
    attachments_dir,
    import_disk_attachments,
    open_attachment,
    store_attachment,
)
from maintenance.repair.ticket_detail import ticket_detail
from maintenance.repair.ticket_work import add_comment, set_step
from maintenance.repair.work_record import work_record_pdf
from maintenance.ticketing.ticket_flow import change_status, open_ticket

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200))
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _user(db: Database, name: str, role: Role) -> UserInfo:
    return UserInfo(add_user(db, name, role), name, role)


def _ticket(db: Database, technician_id: int | None) -> int:
    with db.session() as s:
        spec = MachineSpec(
            "motor-01",
            "motor",
            "Hall A",
            "Line 1",
            (SensorSpec("vibration", "vibration", "mm/s", warn_high=3.6, crit_high=5.4),),
        )
        ensure_fleet(session=s, machines=[spec])
        ticket = open_ticket(
            session=s,
            machine_id=1,
            code="VIB_HIGH",
            title="motor-01: shaking",
            priority=Priority.HIGH,
        )
        ticket.technician_id = technician_id
        return ticket.id


def _store(db: Database, settings, ticket_id: int, user: UserInfo, name: str, data: bytes) -> int:
    with db.session() as s:
        return store_attachment(
            session=s, settings=settings, ticket_id=ticket_id, user=user, filename=name, data=data
        ).id


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("pump.jpg", JPEG, "image/jpeg"),
        ("pump.png", tiny_png(), "image/png"),
        ("manual.pdf", PDF, "application/pdf"),
        ("photo.bin", tiny_png(), "image/png"),  # the name does not matter, the content does
    ],
)
def test_photos_and_pdfs_are_accepted_by_content(
    db: Database, tmp_path: Path, name: str, data: bytes, content_type: str
):
    settings = make_settings(tmp_path)
    tech = _user(db, "tech", Role.TECHNICIAN)
    ticket_id = _ticket(db, tech.id)
    attachment_id = _store(db, settings, ticket_id, tech, f"C:\\Users\\me\\{name}", data)
    with db.session() as s:
        a = s.get(Attachment, attachment_id)
        assert (a.filename, a.content_type, a.size) == (name, content_type, len(data))
        assert a.sha256 == hashlib.sha256(data).hexdigest()
        assert a.uploaded_by == tech.id
        stored = s.get(AttachmentBlob, a.id)
        assert stored is not None and stored.data == data  # in the database
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "ticket.attach"))
        assert audit.user_id == tech.id and audit.after["sha256"] == a.sha256
    # nothing on this machine's disk: another web process reads the same database
    assert not (settings.var_dir / "attachments").exists()
    assert len(a.stored_name) == 32 and int(a.stored_name, 16) >= 0  # never the user's name
    assert name not in a.stored_name


def test_wrong_content_and_too_large_files_are_refused(db: Database, tmp_path: Path):
    settings = make_settings(tmp_path, attachment_max_mb=0.001)  # 1048 bytes
    tech = _user(db, "tech", Role.TECHNICIAN)
    ticket_id = _ticket(db, tech.id)
    cases = [
        ("photo.jpg", b"just some text pretending to be a photo", "not a photo"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not a photo"),
        ("big.png", tiny_png() + bytes(2000), "the limit is"),
        ("empty.pdf", b"", "is empty"),
    ]
    for name, data, message in cases:
        with pytest.raises(AttachmentError, match=message), db.session() as s:
            store_attachment(
                session=s,
                settings=settings,
                ticket_id=ticket_id,
                user=tech,
                filename=name,
                data=data,
            )
    with db.session() as s:
        assert s.scalars(select(Attachment)).all() == []
        assert s.scalars(select(AttachmentBlob)).all() == []


def test_only_people_on_the_ticket_may_attach_and_download(db: Database, tmp_path: Path):
    settings = make_settings(tmp_path)
    owner = _user(db, "tech", Role.TECHNICIAN)
    other = _user(db, "tech2", Role.TECHNICIAN)
    viewer = _user(db, "watcher", Role.VIEWER)
    manager = _user(db, "boss", Role.MANAGER)
    engineer = _user(db, "eng", Role.ENGINEER)
    ticket_id = _ticket(db, owner.id)
    attachment_id = _store(db, settings, ticket_id, owner, "pump.png", tiny_png())
    for refused in (other, viewer):
        with pytest.raises(AttachmentError), db.session() as s:
            open_attachment(session=s, settings=settings, attachment_id=attachment_id, user=refused)
        with pytest.raises(AttachmentError, match="assigned to you"), db.session() as s:
            store_attachment(
                session=s,
                settings=settings,
                ticket_id=ticket_id,
                user=refused,
                filename="x.png",
                data=tiny_png(),
            )
    for allowed in (owner, manager, engineer):
        with db.session() as s:
            found = open_attachment(
                session=s, settings=settings, attachment_id=attachment_id, user=allowed
            )
        assert found.data == tiny_png() and found.content_type == "image/png"


def _stored_the_old_way(db: Database, settings, ticket_id: int, user: UserInfo, data: bytes):
    """A file as an earlier release stored it: its row, its bytes on this machine's disk."""
    folder = attachments_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with db.session() as s:
        a = Attachment(
            ticket_id=ticket_id,
            filename="old.png",
            stored_name=uuid.uuid4().hex,
            content_type="image/png",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user.id,
        )
        s.add(a)
        s.flush()
        (folder / a.stored_name).write_bytes(data)
        return a.id, folder / a.stored_name


def test_files_of_an_earlier_release_on_disk_are_copied_into_the_database_once(
    db: Database, tmp_path: Path
):
    settings = make_settings(tmp_path)
    tech = _user(db, "tech", Role.TECHNICIAN)
    ticket_id = _ticket(db, tech.id)
    old_id, old_path = _stored_the_old_way(db, settings, ticket_id, tech, tiny_png())
    bad_id, bad_path = _stored_the_old_way(db, settings, ticket_id, tech, tiny_png(3, 3))
    bad_path.write_bytes(tiny_png(6, 6))  # not what its SHA-256 says
    new_id = _store(db, settings, ticket_id, tech, "new.png", tiny_png(5, 5))
    with db.session() as s:  # before the copy: read from this machine's disk
        found = open_attachment(session=s, settings=settings, attachment_id=old_id, user=tech)
    assert found.data == tiny_png()

    assert import_disk_attachments(settings, db) == 1
    assert import_disk_attachments(settings, db) == 0  # idempotent: every start runs it
    with db.session() as s:
        blobs = {b.attachment_id: b.data for b in s.scalars(select(AttachmentBlob))}
    assert blobs == {old_id: tiny_png(), new_id: tiny_png(5, 5)}  # the mismatch left alone
    assert bad_id not in blobs and bad_path.read_bytes() == tiny_png(6, 6)
    old_path.unlink()  # the disk copy is kept by the import; now only the database has it
    with db.session() as s:
        found = open_attachment(session=s, settings=settings, attachment_id=old_id, user=tech)
        photos = _pdf_images(work_record_pdf(s, ticket_id, photos=True))
    assert found.data == tiny_png()
    assert photos == 2  # the copied photo and the new one; the mismatched file is on disk only


def _pdf_images(body: bytes | None) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(body or b"")).pages)


def _worked_ticket(db: Database, tech: UserInfo, manager: UserInfo) -> int:
    """A ticket started, two steps ticked, a part used, a comment, resolved."""
    with db.session() as s:
        load_shipped_sops(session=s)
    ticket_id = _ticket(db, tech.id)
    with db.session() as s:
        version = ticket_detail(session=s, ticket_id=ticket_id, user=tech).checklist.version_id
        change_status(session=s, ticket_id=ticket_id, to=TicketStatus.IN_PROGRESS, user=tech)
    with db.session() as s:
        set_step(
            session=s, ticket_id=ticket_id, sop_version_id=version, step=0, done=True, user=tech
        )
        set_step(
            session=s, ticket_id=ticket_id, sop_version_id=version, step=1, done=True, user=manager
        )
        add_comment(session=s, ticket_id=ticket_id, body="Bearing worn, replaced", user=tech)
        part = Part(number="BRG-6205", name="Ball bearing 6205", stock=5)
        s.add(part)
        s.flush()
        s.add(TicketPart(ticket_id=ticket_id, part_id=part.id, quantity=2, used_by=tech.id))
    with db.session() as s:
        change_status(
            session=s,
            ticket_id=ticket_id,
            to=TicketStatus.RESOLVED,
            user=tech,
            resolution="Worn bearing",
            failure_confirmed=True,
        )
    return ticket_id


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_work_record_names_who_did_what_and_when(db: Database, tmp_path: Path):
    tech = _user(db, "tech-anna", Role.TECHNICIAN)
    manager = _user(db, "boss-bert", Role.MANAGER)
    ticket_id = _worked_ticket(db, tech, manager)
    _store(db, make_settings(tmp_path), ticket_id, tech, "bearing.png", tiny_png())
    with db.session() as s:
        text = _pdf_text(work_record_pdf(s, ticket_id))
        ticks = s.scalar(select(AuditLog.ts).where(AuditLog.action == "ticket.step"))
    assert f"ticket #{ticket_id}" in text and "motor-01" in text
    assert "status open -> in progress" in text
    assert "status in progress -> resolved, real failure" in text
    assert "[x] 1." in text and "[x] 2." in text
    step_lines = [line for line in text.splitlines() if "[x]" in line]
    assert "tech-anna" in step_lines[0] and "boss-bert" in step_lines[1]
    assert f"{ticks:%Y-%m-%d}" in step_lines[0]
    assert "BRG-6205 Ball bearing 6205: 2 pcs" in text
    assert "Bearing worn, replaced" in text
    assert "bearing.png" in text and hashlib.sha256(tiny_png()).hexdigest()[:16] in text
    assert "real failure confirmed" in text and "Worn bearing" in text


# ---- through the web app (the shared session-wide app) --------------------------------


def _web_user(web: WebApp, name: str, role: Role) -> int:
    """A user who never signs in, kept inactive so assignment never picks them."""
    with web.db.session() as s:
        found = s.scalar(select(User.id).where(User.username == name))
    user_id = found or add_user(web.db, name, role)
    with web.db.session() as s:
        s.execute(update(User).where(User.id == user_id).values(active=False))
    return user_id


def _web_ticket(web: WebApp, technician: str) -> tuple[int, UserInfo]:
    with web.db.session() as s:
        clear_tickets(s)
        user = s.scalar(select(User).where(User.username == technician))
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
        )
        ticket.technician_id = user.id
        return ticket.id, UserInfo(user.id, user.username, user.role)


def test_download_route_serves_the_owner_and_refuses_others(web: WebApp):
    ticket_id, tech = _web_ticket(web, "technician")
    attachment_id = _store(web.db, web.settings, ticket_id, tech, "pump.png", tiny_png())
    response = web.client("technician").get(f"/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == tiny_png()
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'attachment; filename="pump.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert web.client("manager").get(f"/attachments/{attachment_id}").status_code == 200
    assert web.client("viewer").get(f"/attachments/{attachment_id}").status_code == 404
    assert web.client().get(f"/attachments/{attachment_id}").status_code in (302, 401)
    # a ticket of another technician: the demo technician may not download its file
    _web_user(web, "tech-elsewhere", Role.TECHNICIAN)
    other_ticket, other = _web_ticket(web, "tech-elsewhere")
    theirs = _store(web.db, web.settings, other_ticket, other, "theirs.pdf", PDF)
    assert web.client("technician").get(f"/attachments/{theirs}").status_code == 404
    assert web.client("admin").get(f"/attachments/{theirs}").status_code == 200
    with web.db.session() as s:
        clear_tickets(s)
        assert s.scalars(select(Attachment)).all() == []  # they go with their ticket
        assert s.scalars(select(AttachmentBlob)).all() == []  # and their contents


def test_work_record_route_is_a_pdf_for_readers_only(web: WebApp):
    _web_user(web, "tech-elsewhere", Role.TECHNICIAN)
    ticket_id, owner = _web_ticket(web, "tech-elsewhere")
    _store(web.db, web.settings, ticket_id, owner, "bearing.png", tiny_png(32, 24))
    path = f"/ticket/{ticket_id}/record.pdf"
    for user in ("viewer", "manager", "admin"):
        response = web.client(user).get(path)
        assert response.status_code == 200, user
        assert response.headers["Content-Type"] == "application/pdf"
        assert f"ticket #{ticket_id}" in _pdf_text(response.data)
        assert _pdf_images(response.data) == 1  # the photo, from the database
    assert web.client("technician").get(path).status_code == 403  # not their ticket
    assert web.client("viewer").get("/ticket/999999/record.pdf").status_code == 404
    with web.db.session() as s:
        s.execute(update(Ticket).where(Ticket.id == ticket_id).values(technician_id=None))
        clear_tickets(s)


def test_requests_stay_small_except_uploads_of_people_who_may_upload(web: WebApp):
    big = b"x" * (3 * 1024 * 1024)  # over the 2 MiB of an ordinary request
    headers = {"Content-Type": "application/json"}
    assert (
        web.client("viewer").post("/_dash-update-component", data=big, headers=headers).status_code
        == 413
    )
    # a technician's callback request may be large enough for an upload (it is then
    # refused as bad JSON, not as too large)
    response = web.client("technician").post("/_dash-update-component", data=big, headers=headers)
    assert response.status_code != 413
    limit = web.settings.attachment_max_bytes * 4 // 3 + 1024 * 1024
    huge = b"x" * (limit + 1)
    response = web.client("technician").post("/_dash-update-component", data=huge, headers=headers)
    assert response.status_code == 413
    assert web.client("technician").post("/login", data=big).status_code == 413
