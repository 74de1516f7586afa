"""``/api/v1/tickets/{id}/attachments`` and ``/api/v1/attachments/{id}``: a ticket's photos
and PDFs over the API through the ticket page's own store (``maintenance.repair.
attachment_store``): the type sniffed from the content, the size limit of the settings, the
same per-ticket rule on who may attach and download, the upload audited under the token."""

from __future__ import annotations

from datetime import datetime

import werkzeug.datastructures
from flask import Flask, Response, request
from flask_openapi3 import APIBlueprint, FileStorage, Tag
from pydantic import BaseModel, Field, field_validator

from config import Settings
from data.db import Database
from data.models import Ticket
from maintenance.people.permissions import Action, allowed
from maintenance.repair.attachment_store import (
    AttachmentError,
    AttachmentRow,
    list_attachments,
    may_handle_files,
    open_attachment,
    store_attachment,
    ticket_files,
)
from web.server.api.api_common import STANDARD_RESPONSES, api_blueprint, json_response
from web.server.api.api_guard import caller, require_api
from web.server.api.api_problems import FieldProblem, Problem, ProblemError
from web.server.attachments import file_download

__all__ = ["attachments_api", "install_attachment_limit"]

_UPLOAD = "api_attachments.upload"  # the endpoint that may take a file's size
_MULTIPART_SLACK = 64 * 1024  # the form's boundaries and headers around the file


class TicketFilesPath(BaseModel):
    ticket_id: int = Field(ge=1, le=2**31 - 1)


class AttachmentPath(BaseModel):
    attachment_id: int = Field(ge=1, le=2**31 - 1)


class Upload(BaseModel):
    file: FileStorage = Field(description="a photo (JPEG, PNG, WebP) or a PDF")

    @field_validator("file")
    @classmethod
    def _a_file_part(cls, value: object) -> object:
        # flask-openapi3 passes a same-named text field through as a string
        if not isinstance(value, werkzeug.datastructures.FileStorage):
            raise ValueError("send the file as a file part of multipart/form-data")
        return value


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class AttachmentList(BaseModel):
    items: list[AttachmentOut]
    may_download: bool = Field(description="whether this token may download them and add more")


def _out(r: AttachmentRow) -> AttachmentOut:
    return AttachmentOut.model_validate(r, from_attributes=True)


def install_attachment_limit(server: Flask, settings: Settings) -> None:
    """An upload may be as big as the settings allow (other requests keep the server's
    small limit), only for tokens whose role may attach: after the token guard."""
    big = settings.attachment_max_bytes + _MULTIPART_SLACK

    @server.before_request
    def _api_upload_limit() -> None:
        if request.endpoint != _UPLOAD:
            return
        who = caller()
        if allowed(who.user.role, Action.TICKET_ATTACH, who.scopes):
            request.max_content_length = big


def attachments_api(db: Database, settings: Settings) -> APIBlueprint:
    bp = api_blueprint("api_attachments", Tag(name="attachments", description="ticket files"))

    @bp.get(
        "/tickets/<int:ticket_id>/attachments",
        responses={200: AttachmentList, **STANDARD_RESPONSES},
    )
    def list_files(path: TicketFilesPath) -> Response:
        """A ticket's photos and PDFs, oldest first, with who uploaded them."""
        user = require_api(Action.TICKET_VIEW)
        with db.session() as s:
            if s.get(Ticket, path.ticket_id) is None:
                raise ProblemError(404, f"No ticket {path.ticket_id}.")
            rows, may = ticket_files(session=s, ticket_id=path.ticket_id, user=user)
        out = AttachmentList(items=[_out(r) for r in rows], may_download=may)
        return json_response(out.model_dump(mode="json"))

    @bp.post(
        "/tickets/<int:ticket_id>/attachments",
        responses={201: AttachmentOut, 400: Problem, 413: Problem, **STANDARD_RESPONSES},
    )
    def upload(path: TicketFilesPath, form: Upload) -> Response:
        """Attach a photo or PDF (multipart field ``file``), checked by its content and
        size as on the ticket page; audited under the token's name."""
        user = require_api(Action.TICKET_ATTACH)
        data = form.file.read(settings.attachment_max_bytes + 1)
        with db.session() as s:
            ticket = s.get(Ticket, path.ticket_id)
            if ticket is None:
                raise ProblemError(404, f"No ticket {path.ticket_id}.")
            if not may_handle_files(ticket=ticket, user=user):
                raise ProblemError(403, "This token may not handle this ticket's files.")
            try:
                stored = store_attachment(
                    session=s,
                    settings=settings,
                    ticket_id=ticket.id,
                    user=user,
                    filename=form.file.filename or "",
                    data=data,
                )
            except AttachmentError as err:
                bad = FieldProblem(field="file", message=str(err))
                raise ProblemError(400, "The file was refused.", errors=[bad]) from None
            s.flush()
            rows = list_attachments(session=s, ticket_id=ticket.id)
            out = _out(next(r for r in rows if r.id == stored.id))
        return json_response(out.model_dump(mode="json"), 201)

    @bp.get(
        "/attachments/<int:attachment_id>",
        responses={
            200: {
                "description": "the file, as its sniffed type",
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}}
                    for t in ("image/jpeg", "image/png", "image/webp", "application/pdf")
                },
            },
            **STANDARD_RESPONSES,
        },
    )
    def download(path: AttachmentPath) -> Response:
        """One file, for tokens that may handle its ticket's files (404 otherwise: ids are
        not probed)."""
        user = require_api(Action.TICKET_VIEW)
        try:
            with db.session() as s:
                found = open_attachment(
                    session=s, settings=settings, attachment_id=path.attachment_id, user=user
                )
        except AttachmentError:
            raise ProblemError(404, f"No file {path.attachment_id} for this token.") from None
        return file_download(found.filename, found.data, found.content_type)

    return bp
