"""Two real ``python app.py web`` processes, each with its own ``var_dir`` (two machines), on
one PostgreSQL: a file uploaded through one is downloaded through the other, and a file an
earlier release kept on one machine's disk is copied into the database by that machine's
start and then served by both."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import requests
from app_processes import Proc, app_env
from factories import make_settings
from images import tiny_png
from services import free_port, wait_port
from sqlalchemy import select

from data.db import Database, upgrade_schema
from data.models import Attachment, AttachmentBlob, Priority, Role, User
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.api_tokens import create_token
from maintenance.ticketing.ticket_flow import open_ticket

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _prepared(url: str, tmp_path: Path, legacy_var: Path) -> tuple[int, str, int]:
    """Schema, demo fleet, a ticket, an admin token, and one file stored the old way: its
    row, and its bytes under ``legacy_var/attachments`` only. (ticket, token, file id)"""
    db = Database(url)
    try:
        upgrade_schema(db.engine)
        seed_demo(make_settings(tmp_path / "seed", database_url=url), db)
        stored_name = uuid.uuid4().hex
        (legacy_var / "attachments").mkdir(parents=True)
        (legacy_var / "attachments" / stored_name).write_bytes(PDF)
        with db.session() as s:
            admin = s.scalar(select(User.id).where(User.username == "admin"))
            ticket = open_ticket(
                session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
            )
            s.flush()
            old = Attachment(
                ticket_id=ticket.id,
                filename="old-manual.pdf",
                stored_name=stored_name,
                content_type="application/pdf",
                size=len(PDF),
                sha256=hashlib.sha256(PDF).hexdigest(),
                uploaded_by=admin,
            )
            s.add(old)
            s.flush()
            token = create_token(
                session=s, name="files", role=Role.ADMIN, expires_at=None, created_by=int(admin)
            ).secret
            return ticket.id, token, old.id
    finally:
        db.dispose()


def test_a_file_uploaded_to_one_web_process_is_downloaded_from_another(
    postgres, mosquitto, tmp_path: Path
):
    url = postgres.new_database()
    var = [tmp_path / "machine0", tmp_path / "machine1"]
    ticket_id, token, old_id = _prepared(url, tmp_path, legacy_var=var[1])
    env = app_env(url, mosquitto.url)
    ports = [free_port(), free_port()]
    webs = [
        Proc(
            ["app.py", "web", "--port", str(port)],
            env | {"PDM_VAR_DIR": str(var[n])},
            tmp_path / f"web{n}.log",
        )
        for n, port in enumerate(ports)
    ]
    api = [f"http://127.0.0.1:{port}/api/v1" for port in ports]
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for port in ports:
            wait_port(port, timeout=90)
        photo = tiny_png(64, 48)
        sent = requests.post(
            f"{api[0]}/tickets/{ticket_id}/attachments",
            headers=auth,
            files={"file": ("bearing.png", photo, "image/png")},
            timeout=30,
        )
        assert sent.status_code == 201, sent.text
        new_id = sent.json()["id"]
        got = requests.get(f"{api[1]}/attachments/{new_id}", headers=auth, timeout=30)
        assert got.status_code == 200 and got.content == photo
        assert got.headers["Content-Type"] == "image/png"
        # the file of the earlier release, on machine 1's disk: copied in by its start
        for base in api:
            old = requests.get(f"{base}/attachments/{old_id}", headers=auth, timeout=30)
            assert old.status_code == 200 and old.content == PDF, base
        listed = requests.get(
            f"{api[0]}/tickets/{ticket_id}/attachments", headers=auth, timeout=30
        ).json()
        assert [f["filename"] for f in listed["items"]] == ["old-manual.pdf", "bearing.png"]
    finally:
        for web in webs:
            assert web.terminate() == 0
    assert not (var[0] / "attachments").exists()  # nothing on either machine's disk
    assert [p.name for p in (var[1] / "attachments").iterdir()]  # the old copy is kept
    db = Database(url)
    try:
        with db.session() as s:
            blobs = {b.attachment_id: b.data for b in s.scalars(select(AttachmentBlob))}
        assert blobs == {old_id: PDF, new_id: photo}
    finally:
        db.dispose()
