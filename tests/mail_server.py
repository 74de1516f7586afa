"""A real SMTP server on a free loopback port (aiosmtpd) that keeps every message it gets."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from services import free_port


class _Collect:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.box.lock:
            self.box.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class Mailbox:
    """Start it, point ``PDM_SMTP_HOST``/``PDM_SMTP_PORT`` at ``host``/``port``, read mail."""

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self._controller = Controller(_Collect(self), hostname=self.host, port=self.port)

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def settings(self) -> dict[str, Any]:
        """Settings overrides that send mail here."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False}

    def wait_for(self, to: str, timeout: float = 15.0) -> EmailMessage:
        """The newest message to ``to``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if m["To"] == to]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} within {timeout} s")

    def sent_to(self, to: str) -> int:
        with self.lock:
            return sum(1 for m in self.messages if m["To"] == to)


def reset_link(message: EmailMessage) -> str:
    """The password-reset link in a message's plain-text body."""
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"https?://\S+/reset/[A-Za-z0-9_-]+", body)
    assert found, body
    return found.group(0)
