"""The app shell: the frame around every page (menu filtered by role, the user and sign-out,
the red banner, the low-stock warning, the "session has ended" alert, the alert of a refused
request), its ids and the builders of its banner lines."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from data.models import Role
from maintenance.alarming.banner import RedWarning
from maintenance.people.permissions import allowed
from maintenance.rendering.human_units import format_duration, format_remaining
from maintenance.stock.spare_parts import PartRow

URL = "app-url"
NAV_USER = "nav-user"
SIGN_OUT = "sign-out"  # the menu's sign-out button (a form POST to /logout)
RED_BANNER = "red-banner"
RED_TICK = "red-tick"
ALARM_ACK = "alarm-ack"
LOW_STOCK = "low-stock"  # under the menu, for managers: parts at or below their minimum
LOW_STOCK_WARNING = "low-stock-warning"
PAGE = "page-body"  # the page under the frame (Dash's page container)
SESSION_TICK = "session-tick"  # asks the server whether this browser is still signed in
SESSION_ENDED = "session-ended"  # the alert "Your session has ended." (hidden while signed in)
SESSION_SIGN_IN = "session-sign-in"  # its link: the sign-in page, back to this path after
# what a refused callback request says ("Your role may not do this.", an input that is not
# accepted): set by web/server/refusals.py, the answer to any callback's refusal
REFUSAL = "refusal-message"
# What the session-state callback (callbacks/shell.py) sets when the session has ended: the
# alert opens; the shell's timers stop and the page goes, so that nothing keeps asking the
# server for what it must refuse. The one callback open without a session (web/server/auth.py).
SESSION_STATE_OUTPUTS = (
    (SESSION_ENDED, "is_open"),
    (RED_TICK, "disabled"),
    (SESSION_TICK, "disabled"),
    (PAGE, "children"),
)
# What the shell's callback of every page load and every tick sets (callbacks/shell.py):
# the red banner, the low-stock warning, the session-ended alert's way back to this page, and
# the user's name and role in the menu bar (an admin may have changed the role meanwhile)
SHELL_OUTPUTS = (
    (RED_BANNER, "children"),
    (LOW_STOCK, "children"),
    (SESSION_SIGN_IN, "href"),
    (NAV_USER, "children"),
)


def callback_name(outputs: tuple[tuple[str, str], ...]) -> str:
    """The name Dash gives a callback of several outputs (its key in ``app.callback_map``)."""
    return "..{}..".format("...".join(f"{i}.{p}" for i, p in outputs))


SESSION_STATE_CALLBACK = callback_name(SESSION_STATE_OUTPUTS)
SHELL_CALLBACK = callback_name(SHELL_OUTPUTS)


def alarm_ack(alarm_id: int) -> dict[str, object]:
    return {"type": ALARM_ACK, "alarm": alarm_id}


def user_label(username: str | None, role: str | None) -> str | None:
    """The menu bar's "name (role)"."""
    return f"{username} ({role})" if username and role else None


def sign_in_link(path: str | None) -> str:
    """The sign-in page, landing back on ``path`` (the sign-in keeps only same-site paths)."""
    return "/login?" + urlencode({"next": path or "/"})


def frame(
    role: Role | None, username: str | None = None, page: Component | None = None
) -> html.Div:
    """The frame around every page; the menu lists only the pages the user's role may see
    (the pages' callbacks check the role again on the server) and the user's name, drawn
    here rather than by a callback: it cannot change while the page is open. ``page``: the
    page container (Dash's empty one unless given)."""
    pages = [
        page
        for page in dash.page_registry.values()
        if page.get("nav", True) and allowed(role, page["action"])
    ]
    items: list = [
        dbc.NavItem(
            dbc.NavLink(
                page["name"], href=page["relative_path"], active="exact", className="text-nowrap"
            )
        )
        for page in pages
        if not page.get("admin_menu")
    ]
    admin = [page for page in pages if page.get("admin_menu")]
    if admin:  # the pages for running the platform, one menu: the bar stays on one line
        items.append(
            dbc.DropdownMenu(
                [dbc.DropdownMenuItem(p["name"], href=p["relative_path"]) for p in admin],
                label="Admin",
                nav=True,
                in_navbar=True,
                id="nav-admin",
            )
        )
    nav = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("⚙ Predictive maintenance", href="/"),
                dbc.Nav(items, navbar=True, className="me-auto"),
                html.A(  # the user's name: their account and signed-in sessions
                    user_label(username, role.value if role else None),
                    id=NAV_USER,
                    href="/account",
                    title="Your account and signed-in sessions",
                    className="navbar-text text-light me-3 text-nowrap",
                ),
                html.Form(  # a plain form POST: signing out is a change, never a link
                    html.Button(
                        "Sign out",
                        type="submit",
                        id=SIGN_OUT,
                        className="btn btn-outline-light btn-sm text-nowrap",
                    ),
                    method="POST",
                    action="/logout",
                    className="m-0",
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )
    banner = html.Div(id=RED_BANNER, className="px-3")
    ended = dbc.Alert(  # opened by the session-state callback once the session has ended
        [
            html.Span("Your session has ended.", className="me-2"),
            html.A("Sign in", id=SESSION_SIGN_IN, href="/login", className="alert-link"),
        ],
        id=SESSION_ENDED,
        is_open=False,
        color="warning",
        className="mx-3",
    )
    refusal = dbc.Alert(  # opened, with its text, by a refused callback request
        id=REFUSAL, is_open=False, dismissable=True, color="danger", className="mx-3"
    )
    return html.Div(
        [
            dcc.Location(id=URL),
            nav,
            ended,
            refusal,
            banner,
            html.Div(id=LOW_STOCK, className="px-3"),
            dcc.Interval(id=RED_TICK, interval=3000),
            dcc.Interval(id=SESSION_TICK, interval=3000),
            dbc.Container(page or dash.page_container, id=PAGE, fluid=True),
        ]
    )


def low_stock_alert(low: list[PartRow]) -> dbc.Alert:
    """Under the menu, for the people who reorder: how many parts are at or below minimum."""
    count = f"{len(low)} part" + ("" if len(low) == 1 else "s")
    names = ", ".join(p.number for p in low[:3]) + (", …" if len(low) > 3 else "")
    return dbc.Alert(
        [
            html.Strong(f"⚠ Low stock: {count}"),
            html.Span(f"at or below minimum: {names}."),
            html.A("Reorder on the Parts page", href="/parts", className="alert-link"),
        ],
        color="warning",
        className="py-1 px-2 mb-2 small d-inline-flex flex-wrap gap-2",
        id=LOW_STOCK_WARNING,
    )


def red_warning(w: RedWarning, *, can_ack: bool) -> dbc.Alert:
    """One line of the red banner: the machine, what is wrong now, links, acknowledge."""
    ack = (
        dbc.Button(
            "Acknowledge", id=alarm_ack(w.alarm_id), color="light", size="sm", className="ms-3"
        )
        if can_ack
        else None
    )
    headline = (
        f"⚠ {w.machine} has stopped."
        if w.kind == "stopped"
        else f"⚠ {w.machine} is predicted to fail."
    )
    return dbc.Alert(
        [
            html.Strong(headline, className="me-2"),
            html.Span(_detail(w), className="me-2 red-warning-detail"),
            html.A(f"Open {w.machine}", href=f"/machine/{w.machine}", className="alert-link me-2"),
            html.A("See its tickets", href="/tickets", className="alert-link"),
            ack,
        ],
        color="danger",
        className="mb-2 d-flex align-items-center red-warning",
        id=f"red-warning-{w.alarm_id}",
    )


def _detail(w: RedWarning) -> str:
    """What the warning is about now: how long the machine has stood, or the latest
    prediction's numbers (the alarm's typed columns, fresh every scoring); an alarm older
    than those columns shows its text."""
    now = datetime.now(UTC)
    if w.kind == "stopped":
        if w.since is None:  # seen in its readings, the stop alarm not raised yet
            return "Standing still."
        return f"Standing still for {format_duration((now - w.since).total_seconds())}."
    if w.failure_probability is None or w.predicted_at is None:
        return w.message or "Failure probability over the alarm threshold."
    rul = f" · remaining life {format_remaining(w.rul_hours)}" if w.rul_hours is not None else ""
    age = format_duration(round((now - w.predicted_at).total_seconds()))
    return f"Failure probability {w.failure_probability:.0%}{rul} (predicted {age} ago)."


NO_ACCESS = "no-access"


def no_access() -> html.Div:
    """The page a role may not open: said plainly, with a way back (the server answers 403)."""
    return html.Div(
        [
            html.H2("You don't have access to this page", className="h4"),
            html.P(
                "Your role does not include this page. If you need it for your work, ask an "
                "administrator.",
                className="text-muted",
            ),
            html.A("← Back to the fleet", href="/", className="btn btn-primary btn-sm"),
        ],
        id=NO_ACCESS,
        className="py-4",
    )
