"""Login, logout and the deny-by-default guard in front of every route.

Only the login page, "Forgot password?" and its emailed reset links (web/server/password_reset.py),
the health probes, the stylesheet and one Dash callback (the shell's session state,
``PUBLIC_CALLBACKS``) are open; everything else, including Dash's own ``_dash-*`` routes and
every other callback, needs a logged-in user. Role checks for
writes happen again inside each callback (``require``).
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from config import Settings
from data.db import Database
from data.models import Role, utcnow
from maintenance.people.accounts import UserInfo, authenticate
from maintenance.people.permissions import Action, allowed
from maintenance.people.sign_in_limits import (
    Refusal,
    SignInLimits,
    check_try,
    forget_failures,
    record_failure,
)
from maintenance.people.user_sessions import (
    SessionLimits,
    end_session,
    session_user,
    start_session,
)
from web.server.password_reset import CSRF_KEY as _CSRF_KEY  # one form token for both
from web.server.password_reset import password_blueprint
from web.views.shell import SESSION_STATE_CALLBACK

__all__ = [
    "init_auth",
    "identity",
    "current_session_id",
    "session_limits",
    "sign_in_limits",
    "require",
    "PUBLIC_ENDPOINTS",
    "PUBLIC_CALLBACKS",
    "AccessDenied",
]

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "ops.healthz",
        "ops.readyz",
        "vendor.static",
        "password.forgot",  # web/server/password_reset.py: "Forgot password?" and the emailed link
        "password.reset",
        # the API's description (web/server/api/api_docs.py): every call still needs a token
        "api_docs.spec",
        "api_docs.docs",
        "api_docs.init",
        "api_docs.asset",
    }
)
# Dash callbacks that run without a session. Only the shell's session state: its one job is
# to tell an open page that its session has ended (signed out elsewhere, password changed,
# "sign out everywhere", timed out), which it cannot learn while signed in. It reveals
# nothing but "signed in or not", takes nothing but an Interval tick (callback_checks.py
# refuses any other input), and changes nothing. Every other callback needs a session here
# and its role inside (``require``).
PUBLIC_CALLBACKS = frozenset({SESSION_STATE_CALLBACK})
_DASH_CALLBACK = "/_dash-update-component"  # Dash names the endpoint by its path
# routes that check their own credentials (a Prometheus scraper has a token, not a session)
SELF_GUARDED = frozenset({"ops.metrics"})

_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Predictive maintenance</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ css }}"></head>
<body class="bg-light">
<main class="container" style="max-width: 420px; margin-top: 12vh">
 <h1 class="h4 mb-1">Predictive maintenance</h1>
 <p class="text-muted mb-4">Sign in to watch the fleet and work your tickets.</p>
 <form method="post" class="card card-body shadow-sm" novalidate>
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <div class="mb-3"><label class="form-label" for="username">User name</label>
   <input class="form-control{{ ' is-invalid' if error }}" id="username" name="username"
          value="{{ username }}" autocomplete="username" autofocus required></div>
  <div class="mb-3"><label class="form-label" for="password">Password</label>
   <input class="form-control{{ ' is-invalid' if error }}" id="password" name="password"
          type="password" autocomplete="current-password" required>
   {% if error %}<div class="invalid-feedback" id="login-error">{{ error }}</div>{% endif %}
  </div>
  <button class="btn btn-primary w-100" id="login-submit" type="submit">Sign in</button>
 </form>
 <p class="mt-3 small"><a href="/forgot" id="forgot-link">Forgot password?</a></p>
</main></body></html>"""


class AccessDenied(Exception):
    """Raised inside a callback when the user's role may not do this."""


class _LoginUser(UserMixin):
    def __init__(self, info: UserInfo, token: str, session_id: int | None = None) -> None:
        self.info = info
        # the cookie names a row of user_sessions (maintenance/people/user_sessions.py) by
        # its random token: ending that row refuses every copy of the cookie at once
        self.id = token
        self.session_id = session_id


def identity() -> UserInfo | None:
    """The logged-in user of this request, taken from the server-side session."""
    if current_user and current_user.is_authenticated:
        return current_user.info
    return None


def current_session_id() -> int | None:
    """The ``user_sessions`` id of this request's session (its owner's list marks it)."""
    if current_user and current_user.is_authenticated:
        return current_user.session_id
    return None


def session_limits(settings: Settings) -> SessionLimits:
    """The idle and absolute timeouts the settings give."""
    return SessionLimits(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )


def sign_in_limits(settings: Settings, kind: str = "sign_in") -> SignInLimits:
    """The throttle the settings give, for sign-ins or (``kind`` "forgot") reset requests."""
    return SignInLimits(
        per_account_address=settings.login_failures_per_account,
        per_address=settings.login_failures_per_address,
        window=timedelta(minutes=settings.login_window_minutes),
        delay_after=settings.login_delay_after if kind == "sign_in" else 0,
        delay_max=timedelta(seconds=settings.login_delay_max_seconds),
        kind=kind,
    )


def require(action: Action) -> UserInfo:
    """The current user if their role may do ``action``; raises ``AccessDenied`` otherwise."""
    user = identity()
    if user is None or not allowed(user.role, action):
        raise AccessDenied("Your role may not do this.")
    return user


def _landing(user: UserInfo, target: str) -> str:
    """Where a sign-in lands: the page asked for, else a technician's own tickets."""
    if target == "/" and user.role is Role.TECHNICIAN:
        return "/tickets"
    return target


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never redirect a user off to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def init_auth(server: Flask, db: Database, css_url: str, settings: Settings) -> None:
    """Attach flask-login, the login blueprint and the guard to ``server``."""
    manager = LoginManager()
    manager.session_protection = "strong"
    manager.init_app(server)

    limits = session_limits(settings)

    @manager.user_loader
    def _load(token: str) -> _LoginUser | None:
        # every request: the session must be open on the server and its user active
        with db.session() as s:
            found = session_user(session=s, token=token, limits=limits, now=utcnow())
        return _LoginUser(found[0], token, found[1]) if found else None

    # sign-ins and reset requests are both counted in the database (sign_in_failures)
    server.register_blueprint(_login_blueprint(db, css_url, settings))
    server.register_blueprint(
        password_blueprint(db, css_url, sign_in_limits(settings, "forgot"), settings)
    )
    server.before_request(_guard)


def _guard() -> Response | None:
    if request.path == "/api/v1" or request.path.startswith("/api/v1/"):
        return None  # the API's own guard (web/server/api/api_guard.py): tokens, never sessions
    if request.endpoint in PUBLIC_ENDPOINTS | SELF_GUARDED or identity() is not None:
        return None
    if _public_callback():
        return None
    if request.method == "GET" and not request.path.startswith(("/_dash", "/api")):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return Response('{"error": "login required"}', 401, mimetype="application/json")


def _public_callback() -> bool:
    """A request for one of ``PUBLIC_CALLBACKS`` (its shape is checked next, by
    callback_checks.py, like every callback's)."""
    if request.method != "POST" or request.endpoint != _DASH_CALLBACK:
        return False
    body = request.get_json(silent=True)
    return isinstance(body, dict) and body.get("output") in PUBLIC_CALLBACKS


def _login_blueprint(db: Database, css_url: str, settings: Settings) -> Blueprint:
    bp = Blueprint("auth", __name__)
    limits = sign_in_limits(settings)

    def page(error: str, username: str, status: int) -> Response:
        session[_CSRF_KEY] = session.get(_CSRF_KEY) or secrets.token_urlsafe(24)
        html = render_template_string(
            _LOGIN_PAGE, css=css_url, csrf=session[_CSRF_KEY], error=error, username=username
        )
        return Response(html, status)

    def refused(why: Refusal, username: str) -> Response:
        """Too many failed sign-ins: the same page, a clear message with the wait, nothing
        else. The wait is in Retry-After (seconds)."""
        if why.by == "slowed":
            error = (
                "This account had many failed sign-ins: each try must wait a little. "
                f"Try again in {why.retry_after} seconds."
            )
        else:
            minutes = math.ceil(why.retry_after / 60)
            error = f"Too many failed sign-ins. Wait {minutes} minutes, then try again."
        answer = page(error, username if why.by == "slowed" else "", 429)
        answer.headers["Retry-After"] = str(why.retry_after)
        return answer

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> object:
        if request.method != "POST":
            return page("", "", 200)
        if not hmac.compare_digest(request.form.get("csrf", ""), session.get(_CSRF_KEY, "-")):
            abort(400, "form expired; reload the page")
        username = request.form.get("username", "").strip()[:64]
        tried = {"account": username.lower(), "address": request.remote_addr or "unknown"}
        with db.session() as s:
            if why := check_try(session=s, limits=limits, now=utcnow(), **tried):
                return refused(why, username)  # the password is not even checked
            info = authenticate(
                session=s, username=username, password=request.form.get("password", "")
            )
            if info is None:
                record_failure(session=s, limits=limits, now=utcnow(), **tried)
                token = ""
            else:
                forget_failures(session=s, **tried)
                token = start_session(
                    session=s,
                    user_id=info.id,
                    address=tried["address"],
                    user_agent=request.headers.get("User-Agent", ""),
                    now=utcnow(),
                )
        if info is None:
            return page("Unknown user name or wrong password.", username, 401)
        session.clear()
        login_user(_LoginUser(info, token))
        return redirect(_landing(info, safe_next(request.args.get("next"))))

    # POST only (the same-origin check covers it): a link or image on any page cannot sign
    # anyone out. Signing out ends this session on the server, not just the cookie; the
    # user's other sessions stay. (GET is routed here only to refuse it: Dash's page route
    # would otherwise answer it.)
    @bp.route("/logout", methods=["GET", "POST"])
    def logout() -> object:
        if request.method != "POST":
            return Response("Sign out with the menu's button.", 405, headers={"Allow": "POST"})
        if identity() is not None:
            with db.session() as s:
                end_session(session=s, token=current_user.get_id(), now=utcnow())
        logout_user()
        session.clear()
        return redirect(url_for("auth.login"))

    @bp.route("/api/me")
    def me() -> object:
        user = identity()
        return jsonify({"username": user.username, "role": user.role.value}) if user else ("", 401)

    return bp
