"""Numbers as numbers: alarms keep their reading, limit, unit, failure probability and
remaining life in typed columns (as raised and as last updated), the banner reads the
latest of them, texts carry no numbers that go stale, and a breach shows the digits that
tell it apart from its limit. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from config import load_settings
from data.db import _MIGRATIONS, Database, upgrade_schema
from data.fleet_queries import sensor_directory
from data.models import Alarm, AlarmSource, Prediction, Role, Ticket
from data.readings import insert_readings
from maintenance.alarming.banner import red_warnings
from maintenance.alarming.prediction_alarms import apply_predictions, store_predictions
from maintenance.alarming.raise_clear import list_alarms
from maintenance.alarming.threshold_rules import evaluate_rules
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.accounts import UserInfo
from maintenance.repair.ticket_detail import ticket_detail
from ml.alarm_policy import PredictionPolicy
from ml.scoring import MachineScore

WINDOW, CLEAR = timedelta(seconds=5), timedelta(minutes=1)


def _seed(db: Database, tmp_path) -> None:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)


def _score(probability: float, rul_h: float, anomaly: float = 0.2) -> MachineScore:
    return MachineScore(1, anomaly, anomaly >= 0.7, probability, rul_h, ["vibration"])


def _scoring(db: Database, score: MachineScore, at: datetime, **policy: object) -> None:
    """One scoring tick as the worker runs it: store the prediction, then apply it."""
    with db.session() as s:
        store_predictions(session=s, scores=[score], now=at, versions={"failure": 1})
        apply_predictions(session=s, scores=[score], now=at, policy=PredictionPolicy(**policy))


def _vibration(db: Database, value: float, at: datetime) -> None:
    """motor-01's vibration (warning 3.6, critical 5.4 mm/s) held at ``value``, rules run."""
    with db.session() as s:
        vibration = sensor_directory(session=s)[("motor-01", "vibration")]
        rows = [(vibration, at - timedelta(seconds=i), value) for i in range(3)]
        insert_readings(session=s, rows=rows)
        evaluate_rules(session=s, now=at, window=WINDOW, clear_after=CLEAR)


def test_a_prediction_alarm_keeps_its_numbers_and_the_banner_follows_the_latest(db, tmp_path):
    _seed(db, tmp_path)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=20)
    _scoring(db, _score(0.85, 0.07), t0)
    with db.session() as s:
        [w] = red_warnings(session=s)
        title = s.scalar(select(Ticket.title))
        alarm = s.scalars(select(Alarm)).one()
        assert (alarm.raised_value, alarm.value, alarm.limit_value, alarm.unit) == (
            0.85,
            0.85,
            0.8,
            None,
        )
        assert (alarm.raised_failure_probability, alarm.raised_rul_hours) == (0.85, 0.07)
        message = alarm.message
    assert (w.failure_probability, w.rul_hours, w.predicted_at) == (0.85, 0.07, t0)
    for said in (title, message):  # true for as long as the alarm lives
        assert said == "motor-01: failure predicted (probability over the 80% threshold)"

    later = t0 + timedelta(seconds=10)
    _scoring(db, _score(0.99, 0.02), later)
    with db.session() as s:
        [w] = red_warnings(session=s)
        alarm = s.scalars(select(Alarm)).one()
        assert (alarm.value, alarm.failure_probability, alarm.rul_hours) == (0.99, 0.99, 0.02)
        assert (alarm.raised_value, alarm.raised_rul_hours) == (0.85, 0.07)  # as raised
        [row] = list_alarms(session=s, since=t0 - timedelta(minutes=1))
        assert s.scalar(select(Prediction.failure_probability).order_by(Prediction.id)) == 0.85
    assert (w.failure_probability, w.rul_hours, w.predicted_at) == (0.99, 0.02, later)
    assert row.reading == "99% (threshold 80%)"

    # under the clearing level the alarm is not held, yet the banner still says the latest
    _scoring(db, _score(0.4, 0.5), later + timedelta(seconds=10))
    with db.session() as s:
        [w] = red_warnings(session=s)
    assert (w.failure_probability, w.rul_hours) == (0.4, 0.5)


def test_an_anomaly_alarm_keeps_its_score_threshold_and_the_prediction(db, tmp_path):
    _seed(db, tmp_path)
    _scoring(db, _score(0.3, 5.0, anomaly=0.91), datetime.now(UTC), anomaly_sustained=1)
    with db.session() as s:
        alarm = s.scalars(select(Alarm)).one()
        [row] = list_alarms(session=s, since=datetime.now(UTC) - timedelta(minutes=1))
    assert alarm.source is AlarmSource.ANOMALY
    assert (alarm.value, alarm.limit_value, alarm.unit) == (0.91, 0.7, None)
    assert (alarm.failure_probability, alarm.rul_hours) == (0.3, 5.0)
    assert row.reading == "0.91 (threshold 0.7)"


def test_a_rule_alarm_keeps_its_reading_limit_and_unit(db, tmp_path):
    _seed(db, tmp_path)
    now = datetime.now(UTC)
    _vibration(db, 4.0, now)  # a warning: over 3.6
    with db.session() as s:
        alarm = s.scalars(select(Alarm)).one()
        assert alarm.raised_value == pytest.approx(4.0)
        assert (alarm.limit_value, alarm.unit) == (3.6, "mm/s")
    _vibration(db, 5.43, now + timedelta(seconds=10))  # worse: over the critical 5.4
    with db.session() as s:
        alarm = s.scalars(select(Alarm)).one()
        [row] = list_alarms(session=s, since=now - timedelta(minutes=1))
        manager = UserInfo(0, "manager", Role.MANAGER, 1)
        info = ticket_detail(session=s, ticket_id=alarm.ticket_id, user=manager).alarm
        assert (alarm.value, alarm.limit_value) == (pytest.approx(5.43), 5.4)
        assert alarm.raised_value == pytest.approx(4.0)
        assert alarm.failure_probability is None
    assert alarm.message == "motor-01: vibration 5.43 mm/s above critical limit 5.40"
    assert row.reading == info.reading == "5.43 mm/s (limit 5.40)"  # never 5.4 and 5.4
    assert info.raised_reading == "4.0 mm/s"


def test_an_alarm_from_before_the_typed_numbers_keeps_null_and_shows_its_message(db):
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with db.engine.begin() as conn:  # the release before 0012, with a live prediction alarm
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        for row in (
            "machines (id, name, type, location, line, created_at)"
            " VALUES (1, 'm', 'pump', '', '', '2026-01-01')",
            "alarms (id, machine_id, code, severity, source, message, value, raised_at,"
            " last_seen_at) VALUES (1, 1, 'PRED_FAILURE', 'CRITICAL', 'prediction',"
            " 'm: failure predicted, probability 87%', 0.87, '2026-01-01', '2026-01-01')",
        ):
            conn.execute(text(f"INSERT INTO {row}"))
    upgrade_schema(db.engine)
    with db.session() as s:
        alarm = s.get(Alarm, 1)
        typed = (alarm.raised_value, alarm.limit_value, alarm.unit, alarm.failure_probability)
        assert typed == (None, None, None, None) and alarm.value == 0.87
        [w] = red_warnings(session=s)
        [row] = list_alarms(session=s, since=datetime(2025, 1, 1, tzinfo=UTC))
    assert (w.failure_probability, w.message) == (None, "m: failure predicted, probability 87%")
    assert row.reading == "87%"  # the number it kept; no limit to show
