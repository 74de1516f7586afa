"""Numbers as numbers: the banner reads the latest prediction's columns, alarm and ticket
texts carry no numbers that go stale, and a breach shows the digits that tell it apart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import demo_database
from sqlalchemy import select

from data.db import Database
from data.fleet import sensor_directory
from data.models import Alarm, Prediction, Ticket
from data.readings import insert_readings
from maintenance.banner import red_warnings
from maintenance.predictions import apply_predictions, store_predictions
from maintenance.rules import evaluate_rules
from ml.alarm_policy import PredictionPolicy
from ml.scoring import MachineScore


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    _, database = demo_database(tmp_path)
    yield database
    database.dispose()


def _score(probability: float, rul_h: float) -> MachineScore:
    return MachineScore(1, 0.2, False, probability, rul_h, ["vibration"])


def test_the_banner_follows_the_latest_prediction_not_the_moment_of_the_alarm(db):
    t0 = datetime.now(UTC) - timedelta(seconds=20)
    with db.session() as s:
        first = [_score(0.85, 0.07)]
        store_predictions(session=s, scores=first, now=t0, versions={"failure": 1})
        apply_predictions(session=s, scores=first, now=t0, policy=PredictionPolicy())
    with db.session() as s:
        [w] = red_warnings(session=s)
        title = s.scalar(select(Ticket.title))
        message = s.scalar(select(Alarm.message))
    assert (w.failure_probability, w.rul_hours) == (0.85, 0.07)
    for text in (title, message):  # true for as long as the alarm lives
        assert text == "motor-01: failure predicted (probability over the 80% threshold)"
    later = t0 + timedelta(seconds=10)
    with db.session() as s:
        store_predictions(session=s, scores=[_score(0.99, 0.02)], now=later, versions={})
    with db.session() as s:
        [w] = red_warnings(session=s)
    assert (w.failure_probability, w.rul_hours, w.predicted_at) == (0.99, 0.02, later)
    with db.session() as s:
        assert s.scalar(select(Prediction.failure_probability).order_by(Prediction.id)) == 0.85


def test_a_breach_shows_the_digits_that_set_it_apart_from_its_limit(db):
    now = datetime.now(UTC)
    with db.session() as s:
        vibration = sensor_directory(session=s)[("motor-01", "vibration")]
        rows = [(vibration, now - timedelta(seconds=i), 5.43) for i in range(3)]
        insert_readings(session=s, rows=rows)  # motor-01's critical limit is 5.4 mm/s
        evaluate_rules(
            session=s, now=now, window=timedelta(seconds=5), clear_after=timedelta(minutes=1)
        )
    with db.session() as s:
        message = s.scalar(select(Alarm.message))
    assert message == "motor-01: vibration 5.43 mm/s above critical limit 5.40"
