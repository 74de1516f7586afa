"""Outgoing email over SMTP (the standard library's smtplib); without a configured server
a password-reset link is written to the log instead, so a demo can still reset."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from config import Settings
from maintenance.people.reset_tokens import ResetLink

__all__ = ["reset_mail", "send_mail", "send_reset_link"]

log = logging.getLogger(__name__)


def send_reset_link(*, settings: Settings, link: ResetLink, url: str) -> bool:
    """Email the link; True when sent, False when no SMTP server is configured (logged)."""
    if not settings.smtp_host:
        log.warning(
            "PDM_SMTP_HOST is not set, so no email: password-reset link for %s <%s>: %s",
            link.username,
            link.email,
            url,
        )
        return False
    subject, body = reset_mail(link=link, url=url)
    send_mail(settings=settings, to=link.email, subject=subject, body=body)
    log.info("password-reset link sent to %s <%s>", link.username, link.email)
    return True


def reset_mail(*, link: ResetLink, url: str) -> tuple[str, str]:
    """Subject and plain-text body of the reset email."""
    body = (
        f"Hello {link.username},\n\n"
        "someone (hopefully you) asked to set a new password for your account on the "
        "predictive-maintenance platform. Open this link to choose one:\n\n"
        f"{url}\n\n"
        f"The link works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC. Setting a new "
        "password signs your account out everywhere.\n\n"
        "If you did not ask for this, ignore this email: your password stays as it is.\n"
    )
    return "Reset your password", body


def send_mail(*, settings: Settings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
