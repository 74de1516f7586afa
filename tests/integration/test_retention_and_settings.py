"""Retention rolls old readings up into hours and removes them, and the machine page still
draws them; settings changed in the app are validated, audited and applied without a
restart; admins' run-now requests wait for the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import active_model, add_user
from sqlalchemy import func, select

from config import load_settings
from data.db import Database
from data.fleet_queries import sensor_directory
from data.machine_series import sensor_history
from data.models import AuditLog, Reading, ReadingRollup, Role
from data.readings import insert_readings
from data.rollup import roll_up, roll_up_dirty
from maintenance.ops.app_settings import (
    Overrides,
    SettingError,
    change_setting,
    reset_setting,
    setting_rows,
)
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.retention import apply_retention
from maintenance.ops.scheduled_jobs import job_summaries, pending_requests, request_run

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _sensor(db: Database, tmp_path) -> int:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=1), db)
    with db.session() as s:
        return sensor_directory(session=s)[("motor-01", "vibration")]


def test_old_readings_become_rollups_and_still_draw_with_their_spikes(db, tmp_path):
    sensor = _sensor(db, tmp_path)
    old = NOW - timedelta(days=12)
    rows = [(sensor, old + timedelta(minutes=m), 2.0) for m in range(60)]  # one hour
    rows.append((sensor, old + timedelta(minutes=30, seconds=30), 9.5))  # a spike
    rows += [(sensor, NOW - timedelta(minutes=m), 1.8) for m in range(1, 30)]  # recent
    with db.session() as s:
        insert_readings(session=s, rows=rows)
    seen = []
    outcome = apply_retention(
        db=db, now=NOW, raw_days=10, rollup_days=0, progress=lambda d, t: seen.append((d, t))
    )
    assert outcome.readings_removed == 61
    assert seen and seen[-1][0] == seen[-1][1]  # progress counted every day to the end
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == 29  # recent stay
        tens = s.scalars(select(ReadingRollup).order_by(ReadingRollup.bucket)).all()
        assert [r.n for r in tens] == [10, 10, 10, 11, 10, 10]
        assert tens[0].bucket == old and tens[3].max == 9.5
        assert tens[0].mean == pytest.approx(2.0)
        drawn = sensor_history(
            session=s, sensor_ids=[sensor], start=NOW - timedelta(days=30), end=NOW
        )
    assert drawn["hi"].max() == 9.5  # the spike survives retention and the reduction
    assert drawn["ts"].min() < NOW - timedelta(days=11)
    assert drawn["n"].sum() == 61 + 29  # rollups before, raw readings after: all counted
    again = apply_retention(db=db, now=NOW, raw_days=10, rollup_days=0)
    assert again.readings_removed == 0  # nothing left to do
    pruned = apply_retention(db=db, now=NOW, raw_days=10, rollup_days=11)
    assert pruned.rollups_removed == 6


def test_long_ranges_read_rollups_and_match_the_raw_readings(db, tmp_path):
    sensor = _sensor(db, tmp_path)
    rows = [
        (sensor, NOW - timedelta(days=20) + timedelta(seconds=37 * i), float(i % 13))
        for i in range(40000)
    ]
    with db.session() as s:
        insert_readings(session=s, rows=rows)
        raw = sensor_history(
            session=s, sensor_ids=[sensor], start=NOW - timedelta(days=30), end=NOW
        )
        roll_up(s, NOW - timedelta(days=30), NOW - timedelta(days=10))
    with db.session() as s:
        mixed = sensor_history(
            session=s, sensor_ids=[sensor], start=NOW - timedelta(days=30), end=NOW
        )
    assert len(mixed) == len(raw) and mixed["n"].sum() == raw["n"].sum() == 40000
    assert mixed["mean"].to_numpy() == pytest.approx(raw["mean"].to_numpy())
    assert (mixed["hi"].to_numpy() == raw["hi"].to_numpy()).all()


def test_a_setting_changed_in_the_app_applies_without_restart(db, tmp_path):
    settings = load_settings(var_dir=tmp_path)
    admin = add_user(db, "root", Role.ADMIN)
    live = Overrides(settings, db, ttl_s=0)
    assert live.current().failure_threshold == settings.failure_threshold
    with db.session() as s:
        assert change_setting(
            session=s, settings=settings, key="failure_threshold", raw="0.9", user_id=admin
        ) == pytest.approx(0.9)
    assert live.current().failure_threshold == pytest.approx(0.9)
    for key, raw, message in (
        ("failure_threshold", "lots", "number"),
        ("failure_threshold", "1.5", "Between"),
        ("failure_clear_below", "0.95", "below the failure alarm threshold"),
        ("retention_raw_days", "2.5", "whole number"),
        ("secret_key", "x", "cannot be changed"),
    ):
        with db.session() as s, pytest.raises(SettingError, match=message):
            change_setting(session=s, settings=settings, key=key, raw=raw, user_id=admin)
    with db.session() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "setting.change")).all()
        assert [(a.entity_id, a.before, a.after) for a in audit] == [
            ("failure_threshold", {"value": 0.8}, {"value": 0.9})
        ]
        assert reset_setting(session=s, settings=settings, key="failure_threshold", user_id=admin)
    assert live.current().failure_threshold == settings.failure_threshold


def test_the_active_models_chosen_alarm_threshold_holds_unless_the_plant_set_one(db, tmp_path):
    settings = load_settings(var_dir=tmp_path)
    admin = add_user(db, "root", Role.ADMIN)
    live = Overrides(settings, db, ttl_s=0)
    assert live.current().failure_threshold == pytest.approx(0.8)  # no model: the product's
    with db.session() as s:  # as training records it
        active_model(s, "failure", tmp_path, {"family": "tree", "alarm_threshold": 0.9})
    assert live.current().failure_threshold == pytest.approx(0.9)
    with db.session() as s:
        row = next(
            r for r in setting_rows(session=s, settings=settings) if r.key == "failure_threshold"
        )
    assert row.chosen_by_model and not row.overridden and row.value == pytest.approx(0.9)
    # a backtest replays a candidate at its own choice while nothing is set
    assert live.failure_threshold_with(0.85) == pytest.approx(0.85)
    # the environment's value wins over the model's
    pinned = Overrides(load_settings(var_dir=tmp_path, failure_threshold=0.7), db, ttl_s=0)
    assert pinned.current().failure_threshold == pytest.approx(0.7)
    assert pinned.failure_threshold_with(0.9) == pytest.approx(0.7)
    # and so does the app's, until reset
    with db.session() as s:
        change_setting(
            session=s, settings=settings, key="failure_threshold", raw="0.82", user_id=admin
        )
    assert live.current().failure_threshold == pytest.approx(0.82)
    assert live.failure_threshold_with(0.9) == pytest.approx(0.82)
    with db.session() as s:
        assert reset_setting(session=s, settings=settings, key="failure_threshold", user_id=admin)
        reset = s.scalars(select(AuditLog).where(AuditLog.action == "setting.reset")).one()
        assert reset.after == {"value": pytest.approx(0.9)}  # back to the model's, and said so
    assert live.current().failure_threshold == pytest.approx(0.9)


def test_run_now_waits_once_for_the_worker(db, tmp_path):
    admin = add_user(db, "root", Role.ADMIN)
    with db.session() as s:
        assert request_run(session=s, job="retention", user_id=admin)
        assert not request_run(session=s, job="retention", user_id=admin)  # already waiting
        assert not request_run(session=s, job="nonsense", user_id=admin)
    with db.session() as s:
        assert {j.job: j.requested for j in job_summaries(session=s)}["retention"]
        [waiting] = pending_requests(session=s)
        waiting.started_at = NOW
    with db.session() as s:
        assert pending_requests(session=s) == []


def test_late_readings_are_drawn_before_and_after_their_rollup_is_redone(db, tmp_path):
    sensor = _sensor(db, tmp_path)
    recent = [(sensor, NOW - timedelta(minutes=m), 1.0) for m in range(1, 60)]
    with db.session() as s:
        insert_readings(session=s, rows=recent)
        roll_up(s, NOW - timedelta(days=30), NOW)  # the rollups are up to date
    late = [(sensor, NOW - timedelta(days=12, minutes=m), 7.0) for m in range(30)]
    with db.session() as s:  # a gateway catches up with readings from 12 days ago
        insert_readings(session=s, rows=late)
    month = {"sensor_ids": [sensor], "start": NOW - timedelta(days=30), "end": NOW}
    with db.session() as s:
        before = sensor_history(session=s, **month)
        assert roll_up_dirty(s) > 0
    with db.session() as s:
        after = sensor_history(session=s, **month)
        assert roll_up_dirty(s) == 0
    for drawn in (before, after):  # read raw while marked, from the redone rollups after
        assert drawn["n"].sum() == 59 + 30 and drawn["hi"].max() == 7.0
