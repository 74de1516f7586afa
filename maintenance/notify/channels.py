"""Notification channels: where notifications go, created and changed by admins (audited;
a webhook's secret never goes into the audit log)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AuditLog, NotificationChannel
from maintenance.notify.outbox import EVENTS

__all__ = [
    "KINDS",
    "ChannelError",
    "ChannelRow",
    "get_channel",
    "list_channels",
    "mask",
    "save_channel",
    "set_channel_active",
]

KINDS = ("email", "slack", "webhook")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ChannelError(ValueError):
    """Refused input; ``field`` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: int
    name: str
    kind: str
    target: str
    secret: str  # masked
    events: list[str]
    active: bool


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    if not secret:
        return ""
    return "•" * 8 + (secret[-2:] if len(secret) >= 12 else "")


def list_channels(*, session: Session) -> list[ChannelRow]:
    """Every channel, by name, secrets masked."""
    stmt = select(NotificationChannel).order_by(NotificationChannel.name)
    return [_row(c) for c in session.scalars(stmt)]


def get_channel(*, session: Session, channel_id: int) -> ChannelRow:
    """One channel, secret masked."""
    channel = session.get(NotificationChannel, channel_id)
    if channel is None:
        raise ChannelError("That channel no longer exists.")
    return _row(channel)


def save_channel(
    *,
    session: Session,
    actor_id: int,
    channel_id: int | None,
    name: str,
    kind: str,
    target: str,
    secret: str,
    events: list[str],
) -> ChannelRow:
    """Create (``channel_id`` None) or change a channel; an empty ``secret`` keeps the old
    one when editing."""
    name, target, secret = name.strip(), target.strip(), secret.strip()
    _check(session, channel_id, name, kind, target, events)
    channel = session.get(NotificationChannel, channel_id) if channel_id else None
    if channel_id and channel is None:
        raise ChannelError("That channel no longer exists.")
    if kind == "webhook" and not (secret or (channel.secret if channel else "")):
        raise ChannelError("A webhook needs a secret to sign its messages.", "secret")
    before = _audited(channel) if channel else None
    if channel is None:
        channel = NotificationChannel(name=name, kind=kind, target=target, secret="", events=[])
        session.add(channel)
    channel.name, channel.kind, channel.target = name, kind, target
    channel.events = [e for e in EVENTS if e in events]
    channel.secret = (secret or channel.secret) if kind == "webhook" else ""
    session.flush()
    _audit(session, actor_id, "channel.update" if before else "channel.create", channel, before)
    return _row(channel)


def set_channel_active(
    *, session: Session, actor_id: int, channel_id: int, active: bool
) -> ChannelRow:
    """Deactivate (no more notifications) or reactivate a channel."""
    channel = session.get(NotificationChannel, channel_id)
    if channel is None:
        raise ChannelError("That channel no longer exists.")
    before = _audited(channel)
    channel.active = active
    action = "channel.reactivate" if active else "channel.deactivate"
    _audit(session, actor_id, action, channel, before)
    return _row(channel)


def _check(
    session: Session, channel_id: int | None, name: str, kind: str, target: str, events: list[str]
) -> None:
    if not name or len(name) > 64:
        raise ChannelError("Give the channel a name of 1 to 64 characters.", "name")
    taken = session.scalar(select(NotificationChannel.id).where(NotificationChannel.name == name))
    if taken is not None and taken != channel_id:
        raise ChannelError(f"A channel named {name!r} exists already.", "name")
    if kind not in KINDS:
        raise ChannelError("Choose email, Slack or webhook.", "kind")
    if kind == "email" and not _EMAIL.match(target):
        raise ChannelError("Enter an email address like team@plant.example.", "target")
    if kind != "email" and not _is_url(target):
        raise ChannelError("Enter an http:// or https:// URL with a host.", "target")
    if not any(e in EVENTS for e in events):
        raise ChannelError("Choose at least one event.", "events")


def _is_url(target: str) -> bool:
    if len(target) > 2000 or any(c.isspace() for c in target):
        return False
    try:
        parts = urlsplit(target)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def _row(c: NotificationChannel) -> ChannelRow:
    return ChannelRow(c.id, c.name, c.kind, c.target, mask(c.secret), list(c.events), c.active)


def _audited(c: NotificationChannel) -> dict[str, object]:
    """What the audit log keeps of a channel: whether it has a secret, never the secret."""
    return {
        "name": c.name,
        "kind": c.kind,
        "target": c.target,
        "events": list(c.events or []),
        "active": c.active,
        "has_secret": bool(c.secret),
    }


def _audit(
    session: Session,
    actor_id: int,
    action: str,
    channel: NotificationChannel,
    before: dict[str, object] | None,
) -> None:
    session.add(
        AuditLog(
            user_id=actor_id,
            action=action,
            entity="channel",
            entity_id=str(channel.id),
            before=before,
            after=_audited(channel),
        )
    )
