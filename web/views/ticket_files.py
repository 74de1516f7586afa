"""The ticket page's files card: the upload box and the list of photos and PDFs."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.repair.attachment_store import AttachmentRow

__all__ = ["files_body", "file_list", "record_link", "upload_alert"]

# ids of this page's components
TICKET_FILES = "ticket-files"
TICKET_FILES_UPLOAD = "ticket-files-upload"
TICKET_FILES_FORM = "ticket-files-form"  # the upload box: shown to who may upload
TICKET_FILES_FEEDBACK = "ticket-files-feedback"
TICKET_FILES_REFRESH = "ticket-files-refresh"
TICKET_RECORD_LINK = "ticket-record-link"
TICKET_FILES_OK = "ticket-files-ok"
TICKET_NO_FILES = "ticket-no-files"

_KIND = {
    "image/jpeg": "photo",
    "image/png": "photo",
    "image/webp": "photo",
    "application/pdf": "PDF",
}


def files_body() -> list:
    """The card's layout: the same for everyone; who may upload is decided by callback."""
    return [
        dcc.Store(id=TICKET_FILES_REFRESH, data=0),
        html.Div(id=TICKET_FILES),
        html.Div(
            # no "accept": the browser would drop any other file without a word; the server
            # looks at the content and says why it refuses one
            dcc.Upload(
                html.Div(["Drop a photo or PDF here, or ", html.A("choose a file", href="#")]),
                id=TICKET_FILES_UPLOAD,
                multiple=False,
                className="border border-2 rounded p-3 mt-2 text-center text-muted small",
                style={"borderStyle": "dashed", "cursor": "pointer"},
            ),
            id=TICKET_FILES_FORM,
            hidden=True,
        ),
        html.Div(id=TICKET_FILES_FEEDBACK),
    ]


def record_link() -> html.A:
    return html.A(
        "Work record (PDF)",
        id=TICKET_RECORD_LINK,
        href="#",
        className="btn btn-outline-secondary btn-sm",
        target="_blank",
        rel="noopener",
    )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _thumbnail(r: AttachmentRow) -> html.A:
    """A photo as a small picture that opens the photo itself."""
    return html.A(
        html.Img(
            src=f"/attachments/{r.id}",
            alt=r.filename,
            className="ticket-thumb rounded border me-2",
            style={"height": "64px", "width": "64px", "objectFit": "cover"},
        ),
        href=f"/attachments/{r.id}",
        title=r.filename,
    )


def _row(r: AttachmentRow, may_download: bool) -> html.Li:
    name = (
        html.A(r.filename, href=f"/attachments/{r.id}", className="ticket-file-link")
        if may_download
        else html.Span(r.filename)
    )
    photo = may_download and _KIND.get(r.content_type) == "photo"
    return html.Li(
        [
            _thumbnail(r) if photo else None,
            name,
            html.Span(
                f" · {_KIND.get(r.content_type, r.content_type)}, {_size(r.size)}"
                f" · {r.uploaded_by} · {r.uploaded_at:%Y-%m-%d %H:%M} UTC",
                className="text-muted",
            ),
        ],
        className="ticket-file small py-1 d-flex align-items-center flex-wrap",
    )


def file_list(rows: list[AttachmentRow], may_download: bool, limit_mb: float) -> list:
    hint = html.Div(
        f"Photos (JPEG, PNG, WebP) or PDFs, up to {limit_mb:g} MB each.",
        className="form-text",
    )
    hints = [hint] if may_download else []
    if not rows:
        return [html.P("No files yet.", className="text-muted small", id=TICKET_NO_FILES), *hints]
    items = html.Ul([_row(r, may_download) for r in rows], className="list-unstyled mb-1")
    if not may_download:
        hints = [
            html.Div(
                "Only the people working on this ticket may download its files.",
                className="form-text",
            )
        ]
    return [items, *hints]


def upload_alert(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(
        text,
        color="success" if ok else "danger",
        id=TICKET_FILES_OK if ok else "ticket-files-error",
        className="py-2 small mt-2 mb-0",
        dismissable=True,
    )
