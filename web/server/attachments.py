"""Ticket files and work records: ``/attachments/<id>`` and ``/ticket/<id>/record.pdf``,
behind login (the guard) and the ticket's permission here; and the request-size limit that
lets an upload through Dash's callback endpoint while every other request stays small."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, request

from config import Settings
from data.db import Database
from data.models import Ticket
from maintenance.people.permissions import Action, allowed
from maintenance.repair.attachment_store import (
    AttachmentError,
    attachments_dir,
    open_attachment,
)
from maintenance.repair.work_record import may_read_record, work_record_pdf
from web.server.auth import identity

__all__ = [
    "attachments_blueprint",
    "file_download",
    "install_upload_limit",
    "upload_request_limit",
]

SMALL_REQUEST = 2 * 1024 * 1024
_DASH_UPDATE = "/_dash-update-component"


def upload_request_limit(settings: Settings) -> int:
    """Largest Dash request carrying an upload: base64 is 4/3 of the file, plus the rest."""
    return settings.attachment_max_bytes * 4 // 3 + 1024 * 1024


def install_upload_limit(server: Flask, settings: Settings) -> None:
    """Requests stay under 2 MiB, except Dash callbacks of users who may upload files
    (the upload arrives there as base64); the decoded size is checked again on storing."""
    server.config["MAX_CONTENT_LENGTH"] = SMALL_REQUEST
    big = max(SMALL_REQUEST, upload_request_limit(settings))

    @server.before_request
    def _limit() -> None:
        user = identity()
        role = user.role if user else None
        if request.path == _DASH_UPDATE and allowed(role, Action.TICKET_ATTACH):
            request.max_content_length = big


def attachments_blueprint(db: Database, settings: Settings) -> Blueprint:
    bp = Blueprint("attachments", __name__)

    @bp.route("/attachments/<int:attachment_id>")
    def download(attachment_id: int) -> Response:
        user = identity()
        if user is None:
            abort(403)
        try:
            with db.session() as s:
                found = open_attachment(
                    session=s, settings=settings, attachment_id=attachment_id, user=user
                )
        except AttachmentError:
            abort(404)  # the same answer whether it exists or not: ids are not probed
        return file_download(found.filename, found.data, found.content_type)

    @bp.route("/ticket/<int:ticket_id>/record.pdf")
    def record(ticket_id: int) -> Response:
        user = identity()
        if user is None:
            abort(403)
        with db.session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                abort(404)
            if not may_read_record(ticket=ticket, user=user):
                abort(403)
            legacy = attachments_dir(settings)  # files of earlier releases not copied in yet
            body = work_record_pdf(s, ticket_id, photos=True, legacy_dir=legacy) or b""
        return file_download(f"work-record-ticket-{ticket_id}.pdf", body, "application/pdf")

    return bp


def _ascii_name(name: str) -> str:
    safe = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in name
    )
    return safe or "file"


def file_download(name: str, body: bytes, content_type: str) -> Response:
    """A stored file as a private download under an ASCII name, never sniffed by a browser."""
    return Response(
        body,
        mimetype=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_ascii_name(name)}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
