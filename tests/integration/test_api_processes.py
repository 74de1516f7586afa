"""Two real ``python app.py web`` processes on one PostgreSQL hold an API token to one rate
limit between them: the count is in the database, not in either process."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from app_processes import Proc, app_env
from services import free_port, wait_port
from sqlalchemy import select

from data.db import Database
from data.models import Role, User
from maintenance.people.api_tokens import create_token

LIMIT = 6


def _status(url: str, secret: str) -> int:
    ask = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(ask, timeout=10) as answer:  # noqa: S310 - loopback only
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def _token(url: str, name: str) -> str:
    db = Database(url)
    try:
        with db.session() as s:
            admin = s.scalar(select(User.id).where(User.username == "admin"))
            return create_token(
                session=s, name=name, role=Role.VIEWER, expires_at=None, created_by=int(admin or 0)
            ).secret
    finally:
        db.dispose()


def test_two_web_processes_share_a_tokens_rate_limit(postgres, mosquitto, tmp_path: Path):
    url = postgres.new_database()
    env = app_env(url, mosquitto.url, PDM_API_RATE_PER_MINUTE=str(LIMIT))
    ports = [free_port(), free_port()]
    webs = [
        Proc(
            ["app.py", "web", "--port", str(port)],
            env | {"PDM_VAR_DIR": str(tmp_path / f"var{n}")},
            tmp_path / f"web{n}.log",
        )
        for n, port in enumerate(ports)
    ]
    try:
        for port in ports:
            wait_port(port, timeout=90)
        for attempt in range(2):  # a run across the turn of a minute counts two windows
            secret = _token(url, f"shared-{attempt}")
            minute = datetime.now(UTC).replace(second=0, microsecond=0)
            codes = [
                _status(f"http://127.0.0.1:{ports[n % 2]}/api/v1/models", secret)
                for n in range(2 * LIMIT)
            ]
            if datetime.now(UTC).replace(second=0, microsecond=0) == minute:
                break
        # alternating between the processes: each served 3, then both refuse
        assert codes == [200] * LIMIT + [429] * LIMIT, codes
    finally:
        for web in webs:
            assert web.terminate() == 0
