"""Types checked: mypy over the files and at the strictness `[tool.mypy]` in pyproject.toml
names (data, ingest, ml, maintenance, simulator, worker, cli, config, logs) finds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the configured files are relative to the project
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, stdout + stderr
