"""Types checked: mypy over the files and at the strictness `[tool.mypy]` in pyproject.toml
names (data, ingest, ml, maintenance, simulator, worker, cli, config, logs) finds nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_is_clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)  # the configured files are relative to the project
    # a fresh cache (about 12 s): a cache left by an older tree, with modules since moved,
    # can crash mypy itself
    config = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path)]
    # mypy raises the interpreter's recursion limit for good; tests run after it in this
    # process (the payload parser's "nested too deeply") must see the usual limit
    limit = sys.getrecursionlimit()
    try:
        stdout, stderr, status = api.run(config)
    finally:
        sys.setrecursionlimit(limit)
    assert status == 0, stdout + stderr
