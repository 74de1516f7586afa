"""Components and rows of the API tokens page (no database access here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from data.models import Role
from maintenance.people.api_tokens import TokenRow
from maintenance.people.permissions import Scope

__all__ = ["ROLE_OPTIONS", "SCOPE_OPTIONS", "secret_card", "token_note", "token_rows"]

# ids of this page's components
TOKENS_GRID = "tokens-grid"
TOKENS_NAME = "tokens-name"
TOKENS_ROLE = "tokens-role"
TOKENS_SCOPES = "tokens-scopes"
TOKENS_DAYS = "tokens-days"
TOKENS_CREATE = "tokens-create"
TOKENS_REVOKE = "tokens-revoke"
TOKENS_SECRET = "tokens-secret"
TOKENS_FEEDBACK = "tokens-feedback"
TOKENS_REFRESH = "tokens-refresh"
TOKENS_SECRET_TEXT = "tokens-secret-text"
ROLE_OPTIONS = [{"label": r.value, "value": r.value} for r in Role]
SCOPE_OPTIONS = [{"label": s.value, "value": s.value} for s in Scope]


def _when(ts: datetime | None) -> str:
    return f"{ts:%Y-%m-%d %H:%M}" if ts else ""


def token_rows(rows: list[TokenRow], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.id),  # AG Grid row ids are strings
            "name": r.name,
            "account": f"api:{r.name}",
            "prefix": r.prefix + "…",
            "role": r.role.value,
            "scopes": ", ".join(sorted(r.scopes)) if r.scopes is not None else "all of its role",
            "state": r.state(now),
            "created": f"{_when(r.created_at)} by {r.created_by or '?'}",
            "expires": _when(r.expires_at) or "never",
            "last_used": _when(r.last_used_at) or "not yet",
        }
        for r in rows
    ]


def token_note(text: str, color: str) -> dbc.Alert:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2", id="tokens-alert")


def secret_card(name: str, secret: str) -> dbc.Alert:
    """The new token's secret, shown this once: only its hash is kept."""
    return dbc.Alert(
        [
            html.Div(
                f"Token “{name}” created. Copy it now: it is not shown again.", className="mb-2"
            ),
            html.Code(secret, id=TOKENS_SECRET_TEXT, className="user-select-all fs-6"),
            html.Div(
                "Send it as: Authorization: Bearer <token> (see /api/v1/docs).",
                className="small text-muted mt-2",
            ),
        ],
        color="success",
        className="py-2",
    )
