"""Components and rows of the notifications page (no database access here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc

from maintenance.notify.channels import ChannelRow
from maintenance.notify.outbox import EVENTS, DeliveryRow

__all__ = ["FORM_FIELDS", "channel_rows", "empty_form", "filled_form", "log_rows", "note"]

# ids of this page's components
NOTIFY_CHANNELS_GRID = "notify-channels-grid"
NOTIFY_LOG_GRID = "notify-log-grid"
NOTIFY_NOTE = "notify-note"
NOTIFY_FEEDBACK = "notify-feedback"
NOTIFY_REFRESH = "notify-refresh"
NOTIFY_CHANNEL_ID = "notify-channel-id"
NOTIFY_FORM_TITLE = "notify-form-title"
NOTIFY_NAME = "notify-name"
NOTIFY_KIND = "notify-kind"
NOTIFY_TARGET = "notify-target"
NOTIFY_SECRET = "notify-secret"
NOTIFY_EVENTS = "notify-events"
NOTIFY_NEW = "notify-new"
NOTIFY_SAVE = "notify-save"
NOTIFY_ACTIVE = "notify-active"
NOTIFY_TEST = "notify-test"
NOTIFY_TICK = "notify-tick"


def notify_error(field: str) -> str:
    return f"notify-{field}-error"


FORM_FIELDS = ("name", "kind", "target", "secret")


def note(text: str, color: str, note_id: str = "notify-alert") -> dbc.Alert:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2", id=note_id)


def channel_rows(rows: list[ChannelRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.id),  # AG Grid row ids are strings
            "name": r.name,
            "kind": r.kind,
            "target": r.target,
            "secret": r.secret or "—",
            "events": ", ".join(r.events),
            "status": "active" if r.active else "deactivated",
        }
        for r in rows
    ]


def _when(ts: datetime | None) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S}" if ts else ""


def log_rows(rows: list[DeliveryRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.id),  # AG Grid row ids are strings
            "when": _when(r.created_at),
            "channel": r.channel,
            "event": r.event,
            "ticket": f"#{r.ticket_id}" if r.ticket_id else "",
            "status": r.status,
            "attempts": r.attempts,
            "next": _when(r.sent_at if r.status == "sent" else r.next_attempt_at)
            if r.status != "failed"
            else "gave up",
            "last_error": r.last_error,
        }
        for r in rows
    ]


def empty_form() -> tuple:
    """Form values for a new channel: name, kind, target, secret, events, channel id,
    title, test disabled, active disabled, active label."""
    return "", "email", "", "", list(EVENTS), None, "New channel", True, True, "Deactivate"


def filled_form(row: ChannelRow, writer: bool) -> tuple:
    """The form showing ``row`` (the secret field stays empty: it is never sent back)."""
    return (
        row.name,
        row.kind,
        row.target,
        "",
        list(row.events),
        row.id,
        f"Channel {row.name}" + (f" (secret {row.secret})" if row.secret else ""),
        not writer or not row.active,
        not writer,
        "Deactivate" if row.active else "Reactivate",
    )
