"""Photos and PDFs on a ticket: type from the content (never the name or the browser's
claim), size capped by the settings, stored in the database (``attachment_blobs``, which every
web process and worker reads; never a served folder), SHA-256 recorded, and read back only by
people allowed on the ticket. Files stored on a machine's disk by earlier releases
(``var_dir/attachments``) are copied into the database at every process's start
(``import_disk_attachments``, idempotent) and read from the disk until then.

Who may attach and download: admins, managers and engineers (they follow every repair), and
the technician who works the ticket (``may_change``: the assigned one, or any technician
while it is unassigned). Viewers and other technicians may not.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from data.db import Database
from data.models import Attachment, AttachmentBlob, AuditLog, Ticket, User
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.ticketing.ticket_flow import may_change

__all__ = [
    "AttachmentError",
    "AttachmentRow",
    "StoredFile",
    "sniff_type",
    "may_handle_files",
    "store_attachment",
    "open_attachment",
    "list_attachments",
    "ticket_files",
    "attachments_dir",
    "import_disk_attachments",
    "ticket_photos",
    "PHOTO_TYPES",
]

log = logging.getLogger(__name__)

_MAX_NAME = 255
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")  # what sniff_type calls a photo


class AttachmentError(ValueError):
    """An upload or download that is refused; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    content_type: str
    data: bytes


def sniff_type(data: bytes) -> str | None:
    """The content type from the file's first bytes: JPEG, PNG, WebP or PDF, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def may_handle_files(*, ticket: Ticket, user: UserInfo) -> bool:
    """Whether ``user`` may attach files to ``ticket`` and download its files."""
    return allowed(user.role, Action.TICKET_FILES_ANY) or may_change(ticket=ticket, user=user)


def attachments_dir(settings: Settings) -> Path:
    """Where earlier releases kept the files: under var_dir, on one machine's disk only."""
    return settings.var_dir / "attachments"


def _allowed_ticket(session: Session, ticket_id: int, user: UserInfo) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise AttachmentError(f"Ticket #{ticket_id} does not exist.")
    if not may_handle_files(ticket=ticket, user=user):
        raise AttachmentError("You may only handle files of tickets assigned to you.")
    return ticket


def _check_upload(settings: Settings, filename: str, data: bytes) -> str:
    limit = settings.attachment_max_bytes
    if not data:
        raise AttachmentError(f"{filename or 'The file'} is empty.")
    if len(data) > limit:
        raise AttachmentError(
            f"{filename or 'The file'} is {len(data) / 1048576:.1f} MB; "
            f"the limit is {limit / 1048576:.1f} MB."
        )
    content_type = sniff_type(data)
    if content_type is None:
        raise AttachmentError(
            f"{filename or 'The file'} is not a photo (JPEG, PNG, WebP) or a PDF "
            "(checked by its content, not its name)."
        )
    return content_type


def _clean_name(filename: str) -> str:
    """The uploaded name for display only: its last path part, printable, bounded."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-_MAX_NAME:] or "file"


def store_attachment(
    *,
    session: Session,
    settings: Settings,
    ticket_id: int,
    user: UserInfo,
    filename: str,
    data: bytes,
) -> Attachment:
    """Check, store and audit one file on a ticket; raises ``AttachmentError`` if refused."""
    ticket = _allowed_ticket(session, ticket_id, user)
    content_type = _check_upload(settings, filename, data)
    attachment = Attachment(
        ticket_id=ticket.id,
        filename=_clean_name(filename),
        stored_name=uuid.uuid4().hex,  # the name on disk of earlier releases; unique still
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user.id,
    )
    session.add(attachment)
    session.flush()
    session.add(AttachmentBlob(attachment_id=attachment.id, data=data))  # one transaction
    session.add(
        AuditLog(
            user_id=user.id,
            action="ticket.attach",
            entity="ticket",
            entity_id=str(ticket.id),
            after={
                "attachment": attachment.id,
                "filename": attachment.filename,
                "sha256": attachment.sha256,
                "size": attachment.size,
            },
        )
    )
    return attachment


def open_attachment(
    *, session: Session, settings: Settings, attachment_id: int, user: UserInfo
) -> StoredFile:
    """The file for a download, if ``user`` may see its ticket; ``AttachmentError`` if not."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise AttachmentError("No such file.")
    _allowed_ticket(session, attachment.ticket_id, user)
    data = _content(session, attachment, attachments_dir(settings))
    if data is None:
        raise AttachmentError("The file is missing from storage.")
    return StoredFile(attachment.filename, attachment.content_type, data)


def _content(session: Session, attachment: Attachment, legacy: Path | None) -> bytes | None:
    """The bytes from the database; from this machine's disk (``legacy``) for a file of an
    earlier release not imported yet; None when neither has it."""
    blob = session.get(AttachmentBlob, attachment.id)
    if blob is not None:
        return blob.data
    path = legacy / attachment.stored_name if legacy is not None else None
    return path.read_bytes() if path is not None and path.is_file() else None


def ticket_photos(
    *, session: Session, ticket_id: int, legacy: Path | None = None
) -> list[tuple[str, bytes]]:
    """The ticket's photos (name, bytes), oldest first (the work record prints them)."""
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.ticket_id == ticket_id, Attachment.content_type.in_(PHOTO_TYPES))
        .order_by(Attachment.uploaded_at, Attachment.id)
    )
    found = [(a.filename, _content(session, a, legacy)) for a in rows]
    return [(name, data) for name, data in found if data is not None]


def import_disk_attachments(settings: Settings, db: Database) -> int:
    """Copy the files an earlier release stored on this machine's disk into the database;
    run at every start, by every process (each machine has its own ``var_dir``). Idempotent
    and safe for processes starting together: a file already in the database is skipped, a
    file whose SHA-256 differs from the recorded one is left alone (and said so), and the
    disk copies are never deleted. Returns how many files were copied."""
    folder = attachments_dir(settings)
    if not folder.is_dir():
        return 0
    with db.session() as session:
        missing = session.execute(
            select(Attachment.id, Attachment.stored_name, Attachment.sha256).where(
                ~select(AttachmentBlob.attachment_id)
                .where(AttachmentBlob.attachment_id == Attachment.id)
                .exists()
            )
        ).all()
    copied = 0
    for attachment_id, stored_name, sha256 in missing:
        path = folder / stored_name
        if not path.is_file():
            continue  # another machine's file: that machine's processes copy it
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            log.warning(
                "attachment %d: %s does not match its SHA-256; not copied", attachment_id, path
            )
            continue
        try:
            with db.session() as session:
                session.add(AttachmentBlob(attachment_id=attachment_id, data=data))
        except IntegrityError:
            continue  # a process starting at the same time copied it first
        copied += 1
    if copied:
        log.info("copied %d attachment(s) from %s into the database", copied, folder)
    return copied


def list_attachments(*, session: Session, ticket_id: int) -> list[AttachmentRow]:
    """The ticket's files, oldest first, with who uploaded them."""
    return [
        AttachmentRow(
            a.id, a.filename, a.content_type, a.size, a.sha256, name or "?", a.uploaded_at
        )
        for a, name in session.execute(
            select(Attachment, User.username)
            .outerjoin(User, User.id == Attachment.uploaded_by)
            .where(Attachment.ticket_id == ticket_id)
            .order_by(Attachment.uploaded_at, Attachment.id)
        )
    ]


def ticket_files(
    *, session: Session, ticket_id: int, user: UserInfo
) -> tuple[list[AttachmentRow], bool]:
    """The ticket's files and whether ``user`` may download them and add more."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return [], False
    allowed = may_handle_files(ticket=ticket, user=user)
    return list_attachments(session=session, ticket_id=ticket_id), allowed
