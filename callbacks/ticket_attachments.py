"""Ticket page files: list them, upload one (base64 through Dash, decoded and checked on the
server), and point the work-record link at the ticket. Roles are checked here, the ticket's
permission again in maintenance.repair.attachment_store."""

from __future__ import annotations

import base64
import binascii

import dash
from dash import Input, Output, State

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action
from maintenance.repair.attachment_store import (
    AttachmentError,
    store_attachment,
    ticket_files,
)
from web.server.auth import AccessDenied, require
from web.views.ticket import TICKET_ACTIVITY, TICKET_ID
from web.views.ticket_files import (
    TICKET_FILES,
    TICKET_FILES_FEEDBACK,
    TICKET_FILES_FORM,
    TICKET_FILES_REFRESH,
    TICKET_FILES_UPLOAD,
    TICKET_RECORD_LINK,
    file_list,
    upload_alert,
)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(TICKET_FILES, "children"),
        Output(TICKET_FILES_FORM, "hidden"),
        Output(TICKET_FILES_UPLOAD, "max_size"),
        Output(TICKET_RECORD_LINK, "href"),
        Input(TICKET_ID, "data"),
        Input(TICKET_FILES_REFRESH, "data"),
    )
    def show(ticket_id: int | None, _refresh: int) -> tuple:
        user = require(Action.TICKET_VIEW)
        with db.session() as s:
            rows, allowed = ticket_files(session=s, ticket_id=ticket_id or 0, user=user)
        body = file_list(rows, allowed, settings.attachment_max_mb)
        return (
            body,
            not allowed,
            settings.attachment_max_bytes,
            f"/ticket/{ticket_id or 0}/record.pdf",
        )

    @app.callback(
        Output(TICKET_FILES_FEEDBACK, "children"),
        Output(TICKET_FILES_REFRESH, "data"),
        Output(TICKET_FILES_UPLOAD, "contents"),
        Output(TICKET_ACTIVITY, "data", allow_duplicate=True),  # the history shows it
        Input(TICKET_FILES_UPLOAD, "contents"),
        State(TICKET_FILES_UPLOAD, "filename"),
        State(TICKET_ID, "data"),
        State(TICKET_FILES_REFRESH, "data"),
        State(TICKET_ACTIVITY, "data"),
        prevent_initial_call=True,
    )
    def upload(
        contents: str | None, filename: str | None, ticket_id: int | None, n: int, seen: int
    ) -> tuple:
        if not contents or not ticket_id:
            raise dash.exceptions.PreventUpdate  # the box was cleared after an upload
        name = filename or "file"
        try:
            user = require(Action.TICKET_ATTACH)
            data = _decode(contents, settings.attachment_max_bytes, name)
            with db.session() as s:
                store_attachment(
                    session=s,
                    settings=settings,
                    ticket_id=ticket_id,
                    user=user,
                    filename=name,
                    data=data,
                )
        except (AccessDenied, AttachmentError) as exc:
            return upload_alert(str(exc), ok=False), dash.no_update, None, dash.no_update
        return upload_alert(f"Attached {name}.", ok=True), (n or 0) + 1, None, (seen or 0) + 1


def _decode(contents: str, limit: int, name: str) -> bytes:
    """The file's bytes from a data URL; the declared type is ignored (the content decides)."""
    _, _, encoded = contents.partition(",")
    if len(encoded) * 3 // 4 > limit + 3:  # refuse before decoding a huge string
        raise AttachmentError(f"{name} is larger than the limit of {limit / 1048576:.1f} MB.")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AttachmentError(f"{name} could not be read; try again.") from exc
