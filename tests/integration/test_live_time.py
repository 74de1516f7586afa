"""Remaining life is said in the time people live in: the models count model hours, which
the demo's simulator runs 60 times faster than the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from factories import demo_database
from sqlalchemy import select

from data.db import Database
from data.fleet_queries import sensor_directory
from data.models import Prediction
from data.readings import insert_readings
from maintenance.machine_status.machine_state import machine_cards
from ml.scoring import MachineScore
from web.views.fleet import clock_note, risk_line
from worker import Worker, live_scoring
from worker.live_scoring import score


class _FourHoursLeft:
    """A scorer that says every machine has 4.2 model hours left."""

    window, sensors, versions = 5, ("temperature", "vibration", "rpm"), {"failure": 1}

    def score(self, x3: np.ndarray, types: np.ndarray, ids: np.ndarray, *_: object) -> list:
        return [MachineScore(1, None, False, 0.5, 4.2, [])]


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Worker, Database]]:
    settings, db = demo_database(tmp_path)  # the embedded demo: simulator at 60x
    w = Worker(settings, db)
    monkeypatch.setattr(live_scoring, "current_scorer", lambda _ctx: _FourHoursLeft())
    yield w, db
    db.dispose()


def test_remaining_life_is_stored_and_shown_in_wall_clock_time(worker):
    w, db = worker
    assert w.settings.live_time_scale == 60
    with db.session() as s:  # running: its risk is shown
        rpm = sensor_directory(session=s)[("motor-01", "rpm")]
        insert_readings(session=s, rows=[(rpm, datetime.now(UTC), 1480.0)])
    score(w.context)
    with db.session() as s:
        stored = s.scalar(select(Prediction.rul_hours))
        card = next(c for c in machine_cards(session=s) if c.id == 1)
    assert stored == pytest.approx(4.2 / 60)  # 4.2 model hours are 4.2 minutes here
    assert "remaining life ≈ 4 min" in risk_line(card)
    assert clock_note(60) is not None and clock_note(1) is None
