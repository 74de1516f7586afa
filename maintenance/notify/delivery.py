"""Deliver the outbox: email over SMTP, Slack-compatible and signed generic webhooks over
HTTP (the standard library), retried with backoff; every attempt's outcome is stored on its
row. Network calls happen outside any database transaction. Several workers deliver at once:
each claims its batch (``FOR UPDATE SKIP LOCKED``, then ``claimed_by``) so a notification is
sent by one of them; a claim of a worker no longer alive is void."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from config import Settings
from data.db import Database
from data.leases import live_workers
from data.models import Notification, NotificationChannel
from maintenance.notify.smtp_mail import send_mail

__all__ = ["BACKOFF", "MAX_ATTEMPTS", "DeliveryCounts", "deliver_due", "message_text", "signature"]

log = logging.getLogger(__name__)

# wait after the 1st, 2nd, 3rd, 4th failed attempt; the 5th failure is final
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
HTTP_TIMEOUT_S = 5.0
BATCH = 100


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True, slots=True)
class _Job:
    """One due notification, read out of the session so sending holds no transaction."""

    id: int
    event: str
    payload: dict
    kind: str  # email | slack | webhook
    target: str
    secret: str
    active: bool


def deliver_due(*, db: Database, settings: Settings, now: datetime) -> DeliveryCounts:
    """Try every pending notification due at ``now`` once; a failing one never stops the
    others."""
    sent = retrying = failed = 0
    for job in _claim_due(db, now, settings.worker_id):
        error = _attempt(job, settings)
        outcome = _record(db, job.id, error, now)
        sent += outcome == "sent"
        retrying += outcome == "pending"
        failed += outcome == "failed"
    return DeliveryCounts(sent, retrying, failed)


def message_text(event: str, payload: dict) -> str:
    """One line for people: Slack text and the email subject start from it."""
    if payload.get("ticket_id") is None:
        return str(payload.get("title", event))
    who = payload.get("assignee") or "nobody"
    return (
        f"Ticket #{payload['ticket_id']} {event}: {payload.get('machine')} "
        f"{payload.get('code')} — {payload.get('title')} "
        f"(priority {payload.get('priority')}, {payload.get('status')}, assigned to {who}) "
        f"{payload.get('link', '')}"
    ).strip()


def signature(secret: str, body: bytes) -> str:
    """The X-PDM-Signature header value: HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _claim_due(db: Database, now: datetime, worker: str) -> list[_Job]:
    """Claim for ``worker`` the due notifications no other live worker is sending."""
    with db.session() as s:
        unclaimed = or_(
            Notification.claimed_by.is_(None), Notification.claimed_by.not_in(live_workers(s))
        )
        stmt = (
            select(Notification, NotificationChannel)
            .outerjoin(NotificationChannel, NotificationChannel.id == Notification.channel_id)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .where(unclaimed)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=Notification)
        )
        jobs = []
        for n, c in s.execute(stmt):
            n.claimed_by = worker
            jobs.append(
                _Job(
                    n.id,
                    n.event,
                    dict(n.payload or {}),
                    c.kind if c else "email",
                    c.target if c else n.recipient,
                    c.secret if c else "",
                    c.active if c else True,
                )
            )
        return jobs


def _attempt(job: _Job, settings: Settings) -> str:
    """Send once; the error message, or "" when delivered."""
    if not job.active:
        return "the channel is deactivated"
    payload = _with_link(job.payload, settings.public_url)
    try:
        if job.kind == "email":
            _email(job, payload, settings)
        elif job.kind == "slack":
            _post(job.target, json.dumps({"text": message_text(job.event, payload)}).encode(), {})
        elif job.kind == "webhook":
            _webhook(job, payload)
        else:
            return f"unknown channel kind {job.kind!r}"
    except Exception as exc:  # noqa: BLE001 - any failure is this notification's outcome
        log.warning("notification %d (%s) failed: %s", job.id, job.kind, exc)
        return f"{type(exc).__name__}: {exc}"[:1000]
    return ""


def _email(job: _Job, payload: dict, settings: Settings) -> None:
    if not settings.smtp_host:
        raise RuntimeError("PDM_SMTP_HOST is not set")
    text = message_text(job.event, payload)
    subject = text.split(" — ")[0] if payload.get("ticket_id") is not None else text
    send_mail(settings=settings, to=job.target, subject=f"[PdM] {subject}", body=text + "\n")


def _webhook(job: _Job, payload: dict) -> None:
    body = json.dumps({"event": job.event, "delivery": job.id, **payload}).encode()
    headers = {
        "X-PDM-Signature": signature(job.secret, body),
        "X-PDM-Event": job.event,
        "X-PDM-Delivery": str(job.id),
    }
    _post(job.target, body, headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST JSON; any answer but 2xx raises (urllib raises HTTPError on 4xx and 5xx)."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("only http and https URLs are posted to")  # urllib also opens file:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "pdm-notify/1", **headers},
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310 - http(s) only, checked when saved
        response.read(1024)


def _with_link(payload: dict, public_url: str) -> dict:
    link = payload.get("link")
    if public_url and isinstance(link, str) and link.startswith("/"):
        return {**payload, "link": public_url.rstrip("/") + link}
    return payload


def _record(db: Database, notification_id: int, error: str, now: datetime) -> str:
    with db.session() as s:
        row = s.get(Notification, notification_id)
        if row is None:
            return "gone"
        row.attempts += 1
        row.claimed_by = None  # sent, failed, or free for any worker when next due
        if not error:
            row.status, row.sent_at, row.last_error = "sent", now, ""
        elif row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = "failed", error
        else:
            row.last_error = error
            row.next_attempt_at = now + BACKOFF[row.attempts - 1]
        return row.status
