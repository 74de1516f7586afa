"""How many processes serve the web app: ``PDM_WEB_PROCESSES`` for the web role on
PostgreSQL, one otherwise (the all-in-one role's threads are not forked; SQLite is one
file), and a log line says why when more were asked for."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app import web_processes
from config import Settings

PG = "postgresql+psycopg://pdm:pw@db:5432/pdm"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(var_dir=tmp_path, secret_key="k" * 40, **values)


def test_the_web_role_on_postgresql_gets_the_processes_asked_for(tmp_path: Path):
    assert web_processes(_settings(tmp_path, database_url=PG, web_processes=3), "web") == 3
    assert web_processes(_settings(tmp_path, database_url=PG), "web") == 1  # the default


@pytest.mark.parametrize(
    ("role", "url", "why"),
    [("all", PG, "needs the web role"), ("web", "", "needs PostgreSQL")],
)
def test_one_process_otherwise_and_the_log_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, role: str, url: str, why: str
):
    settings = _settings(tmp_path, database_url=url, web_processes=4)
    with caplog.at_level(logging.WARNING, logger="pdm"):
        assert web_processes(settings, role) == 1
    assert why in caplog.text


def test_zero_processes_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="web_processes"):
        _settings(tmp_path, web_processes=0)
