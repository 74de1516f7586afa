"""Readiness of a web-only process: the database answers and the broker accepts TCP."""

from __future__ import annotations

import socket
from collections.abc import Callable

from config import Settings
from data.db import Database


def web_readiness(settings: Settings, db: Database) -> Callable[[], dict[str, bool]]:
    target = settings.mqtt

    def check() -> dict[str, bool]:
        try:
            with socket.create_connection((target.host, target.port), timeout=1.0):
                broker = True
        except OSError:
            broker = False
        return {"database": db.ping(), "broker": broker}

    return check
