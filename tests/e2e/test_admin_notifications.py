"""In Chromium, an admin adds a webhook channel (a bad URL is refused next to the field),
sends a test message, and after a delivery run sees it in the log, signed; a manager may
only look. An email channel without a mail server is saved with a warning, and its test
is refused with the reason."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from browser import click, login, shot, sign_out, visit
from factories import WebApp, wait_until
from http_receiver import Receiver
from services import free_port
from sqlalchemy import delete, select

from data.models import Notification, NotificationChannel
from maintenance.notify.delivery import deliver_due
from web.views.admin_notifications import (
    NOTIFY_CHANNELS_GRID,
    NOTIFY_FEEDBACK,
    NOTIFY_FORM_TITLE,
    NOTIFY_KIND,
    NOTIFY_LOG_GRID,
    NOTIFY_NAME,
    NOTIFY_NOTE,
    NOTIFY_SAVE,
    NOTIFY_SECRET,
    NOTIFY_TARGET,
    NOTIFY_TEST,
    notify_error,
)

pytestmark = pytest.mark.e2e
NAME = "ops-webhook-e2e"


def _type(dash_duo, selector: str, text: str) -> None:
    element = dash_duo.find_element(selector)
    dash_duo.clear_input(element)
    element.send_keys(text)


def _remove_channel(web: WebApp, name: str = NAME) -> None:
    """Leave the shared app without this channel (other tests open tickets)."""
    with web.db.session() as s:
        found = s.scalar(select(NotificationChannel.id).where(NotificationChannel.name == name))
        if found is not None:
            s.execute(delete(Notification).where(Notification.channel_id == found))
            s.execute(delete(NotificationChannel).where(NotificationChannel.id == found))


def test_admin_adds_a_webhook_sends_a_test_and_sees_the_delivery(dash_duo, web: WebApp):
    receiver = Receiver()
    try:
        _add_and_test(dash_duo, web, receiver)
    finally:
        receiver.stop()
        _remove_channel(web)


def _add_and_test(dash_duo, web: WebApp, receiver: Receiver) -> None:
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "admin")
    visit(dash_duo, "/admin/notifications")
    dash_duo.wait_for_text_to_equal(f"#{NOTIFY_FORM_TITLE}", "New channel", timeout=15)
    shot(dash_duo, "admin-notifications")

    _type(dash_duo, f"#{NOTIFY_NAME}", NAME)
    dash_duo.find_element(f"#{NOTIFY_KIND} option[value='webhook']").click()
    _type(dash_duo, f"#{NOTIFY_TARGET}", "ftp://hooks.example/x")
    _type(dash_duo, f"#{NOTIFY_SECRET}", "e2e-hook-secret")
    click(dash_duo, f"#{NOTIFY_SAVE}")
    target_error = f"#{notify_error('target')}"
    dash_duo.wait_for_contains_text(target_error, "http:// or https:// URL", timeout=10)
    assert "is-invalid" in dash_duo.find_element(f"#{NOTIFY_TARGET}").get_attribute("class")
    shot(dash_duo, "admin-notifications-error")
    with web.db.session() as s:
        assert s.scalar(select(NotificationChannel).where(NotificationChannel.name == NAME)) is None

    _type(dash_duo, f"#{NOTIFY_TARGET}", receiver.url + "/hook")
    click(dash_duo, f"#{NOTIFY_SAVE}")
    dash_duo.wait_for_contains_text(f"#{NOTIFY_FEEDBACK}", f"Saved channel {NAME}", timeout=10)
    dash_duo.wait_for_contains_text(f"#{NOTIFY_CHANNELS_GRID}", NAME, timeout=10)
    dash_duo.wait_for_contains_text(f"#{NOTIFY_FORM_TITLE}", f"Channel {NAME}", timeout=10)
    grid_text = dash_duo.find_element(f"#{NOTIFY_CHANNELS_GRID}").text
    assert "e2e-hook-secret" not in grid_text and "••••" in grid_text  # masked

    click(dash_duo, f"#{NOTIFY_TEST}")
    dash_duo.wait_for_contains_text(f"#{NOTIFY_FEEDBACK}", "queued", timeout=10)
    dash_duo.wait_for_contains_text(f"#{NOTIFY_LOG_GRID}", "pending", timeout=10)
    shot(dash_duo, "admin-notifications-queued")

    # the worker's job, run here: the test message is posted, signed
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert deliver_due(db=web.db, settings=web.settings, now=later).sent >= 1
    (_path, headers, raw) = receiver.requests[0]
    expected = hmac.new(b"e2e-hook-secret", raw, hashlib.sha256).hexdigest()
    assert headers["X-PDM-Signature"] == f"sha256={expected}"
    assert json.loads(raw)["event"] == "test"

    visit(dash_duo, "/admin/notifications")
    log = f"#{NOTIFY_LOG_GRID}"
    dash_duo.wait_for_contains_text(log, NAME, timeout=15)
    assert wait_until(lambda: "sent" in dash_duo.find_element(log).text, timeout=15)
    shot(dash_duo, "admin-notifications-sent")

    sign_out(dash_duo)
    login(dash_duo, web, "manager")
    visit(dash_duo, "/admin/notifications")
    dash_duo.wait_for_contains_text(f"#{NOTIFY_NOTE}", "only admins", timeout=15)
    assert dash_duo.find_element(f"#{NOTIFY_SAVE}").get_attribute("disabled")
    shot(dash_duo, "admin-notifications-manager")


def test_an_email_channel_without_a_mail_server_is_saved_with_a_warning_and_not_tested(
    dash_duo, web: WebApp
):
    assert not web.settings.smtp_host  # the test app has no mail server
    name = "ops-email-e2e"
    try:
        dash_duo.start_server(web.app, navigate=False, port=free_port())
        login(dash_duo, web, "admin")
        visit(dash_duo, "/admin/notifications")
        dash_duo.wait_for_text_to_equal(f"#{NOTIFY_FORM_TITLE}", "New channel", timeout=15)
        _type(dash_duo, f"#{NOTIFY_NAME}", name)
        _type(dash_duo, f"#{NOTIFY_TARGET}", "team@plant.example")
        click(dash_duo, f"#{NOTIFY_SAVE}")
        feedback = f"#{NOTIFY_FEEDBACK}"
        dash_duo.wait_for_contains_text(feedback, f"Saved channel {name}", timeout=10)
        assert "PDM_SMTP_HOST is not set" in dash_duo.find_element(feedback).text
        dash_duo.wait_for_contains_text(f"#{NOTIFY_FORM_TITLE}", f"Channel {name}", timeout=10)
        click(dash_duo, f"#{NOTIFY_TEST}")
        dash_duo.wait_for_contains_text(feedback, "a test email cannot be sent", timeout=10)
        shot(dash_duo, "admin-notifications-no-mail-server")
        with web.db.session() as s:  # nothing queued for it
            mine = select(NotificationChannel.id).where(NotificationChannel.name == name)
            queued = select(Notification.id).where(Notification.channel_id == s.scalar(mine))
            assert s.scalar(queued) is None
    finally:
        _remove_channel(web, name)
