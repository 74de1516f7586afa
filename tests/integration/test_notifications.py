"""Notifications on both databases: queued with the ticket change (outbox), delivered to a
real SMTP server (aiosmtpd) and a real local HTTP receiver, retried with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from factories import add_user, make_settings
from http_receiver import Receiver
from services import free_port
from sqlalchemy import select, update

from data.db import Database
from data.models import (
    AlarmSource,
    Machine,
    Notification,
    NotificationChannel,
    Priority,
    Role,
    Severity,
    Ticket,
    TicketStatus,
    User,
)
from maintenance.alarming.raise_clear import raise_alarm
from maintenance.notify.channels import ChannelError, save_channel
from maintenance.notify.delivery import BACKOFF, MAX_ATTEMPTS, deliver_due
from maintenance.notify.outbox import enqueue_test
from maintenance.people.accounts import UserInfo
from maintenance.ticketing.escalation import escalate_overdue
from maintenance.ticketing.ticket_flow import change_status, open_ticket


@pytest.fixture
def now() -> datetime:
    """When delivery runs: minutes after this test's changes queue their rows (rows are due
    from their creation, which uses the clock)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def _world(db: Database, email: str | None = "tech@plant.example") -> tuple[int, int, int]:
    """A machine, a technician (with ``email``) and an admin; their ids."""
    tech = add_user(db, "tech-n", Role.TECHNICIAN)
    admin = add_user(db, "admin-n", Role.ADMIN)
    with db.session() as s:
        s.execute(update(User).where(User.id == tech).values(email=email))
        machine = Machine(name="press-n1", type="press", location="Hall 1", line="L1")
        s.add(machine)
        s.flush()
        return machine.id, tech, admin


def _channel(db: Database, admin: int, name: str, kind: str, target: str, **kw) -> int:
    with db.session() as s:
        return save_channel(
            session=s,
            actor_id=admin,
            channel_id=None,
            name=name,
            kind=kind,
            target=target,
            secret=kw.get("secret", ""),
            events=kw.get("events", ["assigned", "escalated", "resolved"]),
        ).id


def _open(db: Database, machine: int) -> int:
    with db.session() as s:
        ticket = open_ticket(
            session=s,
            machine_id=machine,
            code="vibration",
            title="Vibration high",
            priority=Priority.HIGH,
        )
        return ticket.id


def _outbox(db: Database) -> list[Notification]:
    with db.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def _settings(tmp_path, **kw):
    return make_settings(tmp_path, public_url="https://pdm.plant.example", **kw)


def test_assignment_and_resolution_are_queued_with_the_change(db, tmp_path, receiver):
    machine, tech, admin = _world(db)
    _channel(db, admin, "ops-slack", "slack", receiver.url + "/slack", events=["resolved"])
    _channel(db, admin, "ops-hook", "webhook", receiver.url + "/hook", secret="s" * 16)
    ticket = _open(db, machine)
    rows = _outbox(db)
    assert sorted((r.event, r.channel_id is None, r.recipient) for r in rows) == [
        ("assigned", False, ""),  # the webhook wants it, Slack only resolutions
        ("assigned", True, "tech@plant.example"),
    ]
    assert rows[0].payload | {"ticket_id": None} == {
        "ticket_id": None,
        "machine": "press-n1",
        "code": "vibration",
        "title": "Vibration high",
        "priority": "HIGH",
        "status": "OPEN",
        "assignee": "tech-n",
        "link": f"/ticket/{ticket}",
    }
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
    assert receiver.requests == []  # nothing sent inline

    user = UserInfo(tech, "tech-n", Role.TECHNICIAN)
    with db.session() as s:
        change_status(session=s, ticket_id=ticket, to=TicketStatus.IN_PROGRESS, user=user)
        change_status(
            session=s,
            ticket_id=ticket,
            to=TicketStatus.RESOLVED,
            user=user,
            resolution="bearing",
            failure_confirmed=True,
        )
    resolved = [r for r in _outbox(db) if r.event == "resolved"]
    assert len(resolved) == 2 and {r.payload["status"] for r in resolved} == {"RESOLVED"}


def test_a_rolled_back_change_queues_nothing(db):
    machine, _tech, _admin = _world(db)
    with pytest.raises(RuntimeError), db.session() as s:
        open_ticket(session=s, machine_id=machine, code="x", title="t", priority=Priority.LOW)
        raise RuntimeError("the change fails")
    assert _outbox(db) == []


def test_email_slack_and_signed_webhook_are_delivered(db, tmp_path, mailbox, receiver, now):
    machine, _tech, admin = _world(db)
    _channel(db, admin, "team-mail", "email", "team@plant.example")
    _channel(db, admin, "ops-slack", "slack", receiver.url + "/slack")
    _channel(db, admin, "ops-hook", "webhook", receiver.url + "/hook", secret="hook-secret-42")
    ticket = _open(db, machine)
    counts = deliver_due(db=db, settings=_settings(tmp_path, **mailbox.settings()), now=now)
    assert (counts.sent, counts.retrying, counts.failed) == (4, 0, 0)

    tech_mail = mailbox.wait_for("tech@plant.example")
    assert f"Ticket #{ticket} assigned" in tech_mail["Subject"]
    body = tech_mail.get_body(preferencelist=("plain",)).get_content()
    assert f"https://pdm.plant.example/ticket/{ticket}" in body
    assert mailbox.sent_to("team@plant.example") == 1

    by_path = {path: (headers, raw) for path, headers, raw in receiver.requests}
    slack = json.loads(by_path["/slack"][1])
    assert list(slack) == ["text"] and f"Ticket #{ticket} assigned" in slack["text"]
    headers, raw = by_path["/hook"]
    expected = hmac.new(b"hook-secret-42", raw, hashlib.sha256).hexdigest()
    assert headers["X-PDM-Signature"] == f"sha256={expected}"
    assert headers["X-PDM-Event"] == "assigned"
    hook = json.loads(raw)
    assert headers["X-PDM-Delivery"] == str(hook["delivery"])
    assert hook["ticket_id"] == ticket and hook["assignee"] == "tech-n"
    assert hook["link"] == f"https://pdm.plant.example/ticket/{ticket}"
    assert all(r.status == "sent" and r.sent_at == now and r.attempts == 1 for r in _outbox(db))
    assert deliver_due(db=db, settings=_settings(tmp_path), now=now).total == 0  # once only


def test_a_failing_receiver_is_retried_with_backoff(db, tmp_path, now):
    machine, _tech, admin = _world(db, email=None)
    flaky = Receiver([500, 500])
    try:
        _channel(db, admin, "flaky", "webhook", flaky.url + "/hook", secret="k" * 12)
        _open(db, machine)
        settings = _settings(tmp_path)
        assert deliver_due(db=db, settings=settings, now=now).retrying == 1
        (row,) = _outbox(db)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "500" in row.last_error and row.next_attempt_at == now + BACKOFF[0]
        # not due yet: nothing is sent
        assert deliver_due(db=db, settings=settings, now=now + BACKOFF[0] / 2).total == 0
        later = now + BACKOFF[0]
        assert deliver_due(db=db, settings=settings, now=later).retrying == 1
        (row,) = _outbox(db)
        assert row.attempts == 2 and row.next_attempt_at == later + BACKOFF[1]
        done = deliver_due(db=db, settings=settings, now=later + BACKOFF[1])
        assert done.sent == 1
        (row,) = _outbox(db)
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
        assert len(flaky.requests) == 3
        assert len({h["X-PDM-Delivery"] for _, h, _ in flaky.requests}) == 1  # same delivery
    finally:
        flaky.stop()


def test_a_dead_url_fails_after_the_last_attempt_without_blocking_others(
    db, tmp_path, receiver, now
):
    machine, _tech, admin = _world(db, email=None)
    dead = f"http://127.0.0.1:{free_port()}/nobody"  # nothing listens there
    _channel(db, admin, "dead", "slack", dead)
    _channel(db, admin, "alive", "slack", receiver.url + "/alive")
    _open(db, machine)
    settings, at = _settings(tmp_path), now
    for attempt in range(MAX_ATTEMPTS):
        counts = deliver_due(db=db, settings=settings, now=at)
        assert counts.sent == (1 if attempt == 0 else 0)
        at += BACKOFF[attempt] if attempt < len(BACKOFF) else timedelta(0)
    with db.session() as s:
        names = dict(s.execute(select(NotificationChannel.id, NotificationChannel.name)).all())
    outcome = {names[r.channel_id]: r for r in _outbox(db)}
    assert outcome["alive"].status == "sent" and outcome["alive"].attempts == 1
    assert outcome["dead"].status == "failed" and outcome["dead"].attempts == MAX_ATTEMPTS
    assert "URLError" in outcome["dead"].last_error
    assert deliver_due(db=db, settings=settings, now=at + timedelta(days=1)).total == 0
    assert len(receiver.requests) == 1


def test_test_message_and_channel_checks(db, tmp_path, receiver, now):
    _machine, _tech, admin = _world(db, email=None)
    with pytest.raises(ChannelError) as bad:
        _channel(db, admin, "x", "webhook", "ftp://example.com/x", secret="k" * 12)
    assert bad.value.field == "target"
    with pytest.raises(ChannelError) as bad:
        _channel(db, admin, "x", "webhook", receiver.url)
    assert bad.value.field == "secret"
    with pytest.raises(ChannelError) as bad:
        _channel(db, admin, "x", "email", "not-an-address")
    assert bad.value.field == "target"
    channel = _channel(db, admin, "hook", "webhook", receiver.url, secret="k" * 12)
    with db.session() as s:
        enqueue_test(session=s, channel_id=channel)
    assert deliver_due(db=db, settings=_settings(tmp_path), now=now).sent == 1
    (_path, headers, raw) = receiver.requests[0]
    assert headers["X-PDM-Event"] == "test" and json.loads(raw)["event"] == "test"
    with db.session() as s:
        from data.models import AuditLog

        audits = list(s.scalars(select(AuditLog).where(AuditLog.entity == "channel")))
    assert [a.action for a in audits] == ["channel.create"]
    assert "k" * 12 not in json.dumps([a.after for a in audits])


def test_a_worse_alarm_joining_a_ticket_tells_the_assignee_and_restarts_its_clock(db):
    """The ticket was HIGH for 20 minutes; a critical alarm of the same machine joins it:
    the technician and the channels that want it hear "worsened", and the 15-minute limit
    for CRITICAL counts from then, not from when the ticket was opened."""
    machine, _tech, admin = _world(db)
    _channel(
        db,
        admin,
        "ops-hook",
        "webhook",
        "http://127.0.0.1:9/hook",
        events=["worsened"],
        secret="s" * 16,
    )
    limits = {
        Priority.CRITICAL: timedelta(minutes=15),
        Priority.HIGH: timedelta(hours=2),
        Priority.LOW: timedelta(days=1),
    }

    def alarm(code: str, severity: Severity) -> int | None:
        with db.session() as s:
            return raise_alarm(
                session=s,
                machine_id=machine,
                code=code,
                severity=severity,
                source=AlarmSource.RULE,
                message=f"press-n1: {code}",
                value=None,
                now=datetime.now(UTC),
            )[1]

    ticket = alarm("TEMP_HIGH", Severity.WARNING)
    with db.session() as s:
        s.get(Ticket, ticket).created_at = datetime.now(UTC) - timedelta(minutes=20)
    assert [r.event for r in _outbox(db)] == ["assigned"]  # the email; the hook wants less
    assert alarm("VIB_HIGH", Severity.CRITICAL) is None  # joined
    worsened = [r for r in _outbox(db) if r.event == "worsened"]
    assert sorted((r.channel_id is None, r.recipient) for r in worsened) == [
        (False, ""),
        (True, "tech@plant.example"),
    ]
    assert {r.payload["priority"] for r in worsened} == {"CRITICAL"}
    soon = datetime.now(UTC) + timedelta(minutes=1)
    with db.session() as s:
        assert escalate_overdue(s, soon, limits) == []  # 21 min old, but critical for 1
    with db.session() as s:
        assert escalate_overdue(s, soon + timedelta(minutes=15), limits) == [ticket]
