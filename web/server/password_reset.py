""" "Forgot password?" and the reset page: server-rendered like the login page, with CSRF.

The forgot form answers the same whether or not the account exists, and sends the email
from a background thread so the answer takes as long either way."""

from __future__ import annotations

import hmac
import logging
import math
import secrets
import smtplib
import threading

from flask import Blueprint, Response, abort, render_template_string, request, session
from flask_login import logout_user

from config import Settings
from data.db import Database
from data.models import utcnow
from maintenance.notify.smtp_mail import send_reset_link
from maintenance.people.reset_tokens import ResetLink, request_reset, reset_password, reset_username
from maintenance.people.sign_in_limits import SignInLimits, check_try, record_failure
from maintenance.people.user_admin import MIN_PASSWORD, UserError

CSRF_KEY = "_csrf"  # the session's form token, shared with the login page (auth.py)

__all__ = ["password_blueprint", "reset_url", "deliver_reset_link"]

log = logging.getLogger(__name__)

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Predictive maintenance</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ css }}"></head>
<body class="bg-light">
<main class="container" style="max-width: 420px; margin-top: 12vh">
 <h1 class="h4 mb-1">{{ title }}</h1>
"""
_FOOT = """{% if not done %}
 <p class="mt-3 small"><a href="/login" id="back-to-login">Back to sign in</a></p>
{% endif %}
</main></body></html>"""

_FORGOT_PAGE = (
    _HEAD
    + """{% if sent %}
 <div class="alert alert-info" id="forgot-sent">If an account has this user name or email
  address, a link to set a new password is on its way to its email address. The link works
  once, for {{ minutes }} minutes.</div>
{% else %}
 <p class="text-muted mb-4">Enter your user name or email address. We send a link to set
  a new password to the account's email address.</p>
 <form method="post" class="card card-body shadow-sm" novalidate>
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <div class="mb-3"><label class="form-label" for="forgot-login">User name or email</label>
   <input class="form-control{{ ' is-invalid' if error }}" id="forgot-login" name="login"
          value="{{ login }}" autocomplete="username" autofocus required>
   {% if error %}<div class="invalid-feedback" id="forgot-error">{{ error }}</div>{% endif %}
  </div>
  <button class="btn btn-primary w-100" id="forgot-submit" type="submit">Send reset link</button>
 </form>
{% endif %}"""
    + _FOOT
)

_RESET_PAGE = (
    _HEAD
    + """{% if done %}
 <div class="alert alert-success" id="reset-done">The password of {{ username }} is changed,
  and the account is signed out everywhere. Sign in with the new password.</div>
 <a class="btn btn-primary w-100" href="/login" id="reset-login">Sign in</a>
{% elif not username %}
 <div class="alert alert-warning" id="reset-invalid">{{ errors.token }}</div>
 <a href="/forgot" id="reset-again">Ask for a new link</a>
{% else %}
 <p class="text-muted mb-4">Choose a new password for <strong>{{ username }}</strong>: at
  least {{ min_length }} characters, not the user name.</p>
 <form method="post" class="card card-body shadow-sm" novalidate>
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <input type="text" name="username" value="{{ username }}" autocomplete="username" hidden>
  <div class="mb-3"><label class="form-label" for="reset-password">New password</label>
   <input class="form-control{{ ' is-invalid' if errors.password }}" id="reset-password"
          name="password" type="password" autocomplete="new-password" autofocus required>
   <div class="invalid-feedback" id="reset-password-error">{{ errors.password }}</div></div>
  <div class="mb-3"><label class="form-label" for="reset-confirm">Repeat it</label>
   <input class="form-control{{ ' is-invalid' if errors.confirm }}" id="reset-confirm"
          name="confirm" type="password" autocomplete="new-password" required>
   <div class="invalid-feedback" id="reset-confirm-error">{{ errors.confirm }}</div></div>
  <button class="btn btn-primary w-100" id="reset-submit" type="submit">Set password</button>
 </form>
{% endif %}"""
    + _FOOT
)


def reset_url(settings: Settings, token: str) -> str:
    """The link in the email: PDM_PUBLIC_URL, or the host this request came to."""
    base = settings.public_url.rstrip("/") or request.host_url.rstrip("/")
    return f"{base}/reset/{token}"


def deliver_reset_link(settings: Settings, link: ResetLink) -> str:
    """Email the link now (an admin's action); says what happened, for the admin."""
    try:
        sent = send_reset_link(settings=settings, link=link, url=reset_url(settings, link.token))
    except (OSError, smtplib.SMTPException) as err:
        log.exception("could not send the password-reset email to %s", link.username)
        return f"The email to {link.email} could not be sent ({err}); try again later."
    if sent:
        return f"A reset link was sent to {link.email}."
    return "No mail server is configured: the reset link was written to the server log."


def _deliver_quietly(settings: Settings, link: ResetLink, url: str) -> None:
    try:
        send_reset_link(settings=settings, link=link, url=url)
    except Exception:  # noqa: BLE001 - a mail failure must not reach the anonymous user
        log.exception("could not send the password-reset email to %s", link.username)


def _csrf() -> str:
    session[CSRF_KEY] = session.get(CSRF_KEY) or secrets.token_urlsafe(24)
    return session[CSRF_KEY]


def _check_csrf() -> None:
    if not hmac.compare_digest(request.form.get("csrf", ""), session.get(CSRF_KEY, "-")):
        abort(400, "form expired; reload the page")


def _page(template: str, status: int = 200, **values: object) -> Response:
    response = Response(render_template_string(template, **values), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def password_blueprint(
    db: Database, css_url: str, limits: SignInLimits, settings: Settings
) -> Blueprint:
    """``limits``: how many reset requests per name and address and per address (counted
    in the database like failed sign-ins, kind "forgot")."""
    bp = Blueprint("password", __name__)
    minutes = settings.password_reset_minutes

    @bp.route("/forgot", methods=["GET", "POST"])
    def forgot() -> Response:
        values = {"title": "Forgot your password?", "css": css_url, "minutes": minutes}
        if request.method == "GET":
            return _page(_FORGOT_PAGE, csrf=_csrf(), **values)
        _check_csrf()
        login = request.form.get("login", "").strip()[:254]
        if not login:
            error = "Enter your user name or email address."
            return _page(_FORGOT_PAGE, 400, csrf=_csrf(), error=error, **values)
        asked = {"account": login.lower()[:64], "address": request.remote_addr or "unknown"}
        with db.session() as s:
            if why := check_try(session=s, limits=limits, now=utcnow(), **asked):
                wait = math.ceil(why.retry_after / 60)
                error = f"Too many requests. Wait {wait} minutes, then try again."
                page = _page(_FORGOT_PAGE, 429, csrf=_csrf(), error=error, **values)
                page.headers["Retry-After"] = str(why.retry_after)
                return page
            # every request counts, whether or not the account exists
            record_failure(session=s, limits=limits, now=utcnow(), **asked)
            link = request_reset(session=s, login=login, minutes=minutes)
        if link is not None:
            url = reset_url(settings, link.token)
            threading.Thread(target=_deliver_quietly, args=(settings, link, url)).start()
        return _page(_FORGOT_PAGE, sent=True, **values)

    @bp.route("/reset/<token>", methods=["GET", "POST"])
    def reset(token: str) -> Response:
        values = {"title": "Set a new password", "css": css_url, "min_length": MIN_PASSWORD}
        with db.session() as s:
            username = reset_username(session=s, token=token)
        if username is None:
            errors = {"token": "This reset link is invalid, used or expired: ask for a new one."}
            return _page(_RESET_PAGE, 404, errors=errors, **values)
        if request.method == "GET":
            return _page(_RESET_PAGE, csrf=_csrf(), username=username, errors={}, **values)
        _check_csrf()
        form = request.form
        try:
            with db.session() as s:
                reset_password(
                    session=s,
                    token=token,
                    password=form.get("password", ""),
                    confirm=form.get("confirm", ""),
                )
        except UserError as err:  # "token": used up meanwhile, shown like an unknown one
            shown = None if err.field == "token" else username
            page_values = {"csrf": _csrf(), "username": shown, "errors": {err.field: str(err)}}
            return _page(_RESET_PAGE, 400, **page_values, **values)
        logout_user()
        session.clear()
        return _page(_RESET_PAGE, done=True, username=username, **values)

    return bp
