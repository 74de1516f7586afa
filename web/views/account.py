"""The account page's ids and its list of the user's signed-in sessions."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import html

from maintenance.people.user_sessions import SessionRow
from maintenance.rendering.human_units import format_duration

ACCOUNT_WHO = "account-who"
ACCOUNT_SESSIONS = "account-sessions"
ACCOUNT_END = "account-end"  # pattern: {"type": ACCOUNT_END, "session": id}
ACCOUNT_END_OTHERS = "account-end-others"
ACCOUNT_FEEDBACK = "account-feedback"
ACCOUNT_REFRESH = "account-refresh"


def end_button(session_id: int) -> dict[str, object]:
    return {"type": ACCOUNT_END, "session": session_id}


def browser(user_agent: str) -> str:
    """A person's name for the browser a user agent string names."""
    agent = user_agent or ""
    for marker, name in (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ):
        if marker in agent:
            system = next(
                (
                    s
                    for s in ("Windows", "Android", "iPhone", "iPad", "Mac OS", "Linux")
                    if s in agent
                ),
                "",
            )
            return f"{name} on {system.replace('Mac OS', 'macOS')}" if system else name
    return agent[:60] or "unknown browser"


def sessions_table(rows: list[SessionRow], current: int | None, now: datetime) -> html.Div:
    """The open sessions, this browser's marked; each other one with its End button."""
    if not rows:
        return html.P("No open session.", className="text-muted")
    head = html.Thead(
        html.Tr([html.Th(t) for t in ("Browser", "Address", "Signed in", "Last seen", "")])
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(browser(r.user_agent), title=r.user_agent),
                    html.Td(r.address),
                    html.Td(r.created_at.strftime("%Y-%m-%d %H:%M UTC")),
                    html.Td(_ago(now, r.last_seen_at)),
                    html.Td(
                        dbc.Badge("this browser", color="success")
                        if r.id == current
                        else dbc.Button(
                            "End", id=end_button(r.id), color="outline-danger", size="sm"
                        )
                    ),
                ]
            )
            for r in rows
        ]
    )
    return dbc.Table([head, body], hover=True, size="sm", className="align-middle mb-0")


def _ago(now: datetime, then: datetime) -> str:
    seconds = (now - then).total_seconds()
    return "just now" if seconds < 60 else f"{format_duration(seconds)} ago"
