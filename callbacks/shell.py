"""The app shell: who is logged in, shown in the navigation bar."""

from __future__ import annotations

import dash
from dash import Input, Output

from data.db import Database
from data.models import Role
from web import ids
from web.auth import require


def register(app: dash.Dash, _db: Database) -> None:
    @app.callback(Output(ids.NAV_USER, "children"), Input(ids.URL, "pathname"))
    def who(_path: str) -> str:
        user = require(tuple(Role))
        return f"{user.username} ({user.role.value})"
